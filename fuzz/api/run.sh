#!/bin/sh
# Runs apifuzz over a range of seeds, JOBS at a time.
#   run.sh BIN FIRST COUNT JOBS LOGDIR [WRAPPER...]
# FUZZ_FLAGS is passed to every run (e.g. -s). A failing seed leaves its
# output in LOGDIR/seed-N.log and is listed; the exit status is 1 if any
# seed failed. LOGDIR/stats gets one line per passing seed.
set -u
bin=$1 first=$2 count=$3 jobs=$4 logdir=$5
shift 5
mkdir -p "$logdir"
rm -f "$logdir"/seed-*.log "$logdir"/stats
export logdir FUZZ_FLAGS="${FUZZ_FLAGS:-}"
seq "$first" $((first + count - 1)) | xargs -P "$jobs" -I{} sh -c '
    seed=$1; shift
    log="$logdir/seed-$seed.log"
    if APIFUZZ_STATS=1 "$@" $FUZZ_FLAGS "$seed" > "$log.tmp" 2>&1; then
        grep "calls" "$log.tmp" >> "$logdir/stats"; rm -f "$log.tmp"
    else
        echo "exit status $?" >> "$log.tmp"; mv "$log.tmp" "$log"
        echo "FAIL seed $seed: $(grep -m1 "FAIL\|==[0-9]*== [A-Z]\|panick\|Assertion" "$log" || tail -n1 "$log")"
    fi' sh {} "$@" "$bin"
nfail=$(ls "$logdir" | grep -c "^seed-.*\.log$")
calls=$(awk "{s += \$3} END {print s + 0}" "$logdir/stats" 2>/dev/null || echo 0)
echo "apifuzz: $count seeds from $first ($FUZZ_FLAGS): $nfail failed, $calls calls checked in the passing ones"
[ "$nfail" = 0 ]
