#!/bin/sh
# Micro-benchmarks for libdill-compatible libraries.
#
# Usage:
#   bench/run.sh LIBDIR [INCDIR]                 # one library
#   bench/run.sh [LABEL=]LIBDIR[:INCDIR] ...     # one column per library
#
# Example (ours vs upstream, one run):
#   bench/run.sh ours=target/release:include upstream=/opt/libdill/lib
#
# LIBDIR is a directory holding libdill.so (and any libdill.so.* it needs,
# there or beside the file libdill.so links to: build/2.14 for our 2.14).
# INCDIR holds the matching libdill.h (2.6 or 2.14: bench.h bridges the
# calls that differ); it defaults to LIBDIR/../include.
# This script never builds or downloads any library: point it at one.
#
# For every library each program in this directory is built with
#   cc -O2 -I$INCDIR -L$LIBDIR -ldill -Wl,-rpath,$LIBDIR
# and three figures are reported per benchmark (a program that does not
# build against a library, e.g. one without sockets, is reported as n/a):
#   instr/op  (Ir(3N) - Ir(N)) / 2N, Ir counted by valgrind --tool=callgrind
#             (start-up and tear-down cancel out in the difference)
#   sys/op    (S(3N) - S(N)) / 2N, S the syscalls counted by strace -c -f
#   ns/op     best wall time per op of $REPEAT plain runs with a larger N
# Throughput benchmarks also get MB/s (from the best ns/op) below the table.
# The socket benchmarks use 127.0.0.1 and UNIX socket pairs only; the one
# with 2000 clients raises its own RLIMIT_NOFILE soft limit to the hard one.
#
# Environment:
#   BUILD=dir    build directory (default /tmp/dill-bench)
#   CC=cc        compiler;  CFLAGS  extra compiler flags
#   REPEAT=7     wall-clock runs per benchmark (the minimum is reported)
#   PIN=cpu      run the wall-clock runs under "taskset -c cpu" (less noise)
#   SCALE=1      multiplier (may be fractional) for the wall-clock counts
#   NO_IR=1      skip the callgrind measurements
#   NO_WALL=1    skip the wall-clock measurements
#   NO_SYS=1     skip the syscall counts (also skipped without strace)
#   ONLY="a b"   run only these benchmarks (names in the first column below)

set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-/tmp/dill-bench}
CC=${CC:-cc}
CFLAGS=${CFLAGS:-}
REPEAT=${REPEAT:-7}
PIN=${PIN:-}
SCALE=${SCALE:-1}
NO_IR=${NO_IR:-}
NO_WALL=${NO_WALL:-}
NO_SYS=${NO_SYS:-}
ONLY=${ONLY:-}

# name | program | extra argument | N for callgrind ("-": none) |
#   N for wall clock | bytes per op (throughput benchmarks only)
BENCHES="
yield|yield||10000|5000000
go+hclose|go||10000|2000000
chan-roundtrip|chan||10000|1000000
choose-roundtrip|choose||10000|1000000
choose-both-sides|choose|both|10000|1000000
chmake+go+hdone+3xhclose|chmake||10000|500000
whispers|whispers||1000|10000
ipc-pair-64KiB-chunk|ipc_bw||200|16384|65536
tcp-pingpong-64B|tcp_pingpong||2000|50000
tcp-2000-clients-x50|tcp_clients|2000|-|100000
pfx-roundtrip-64B|pfx_rtt||2000|100000
pfx-64KiB-msg|pfx_bw||200|16384|65536
crlf-roundtrip-32B|crlf_pingpong||2000|300000
http-head-exchange|http_exchange||500|50000
ipc-pair-16KiB-plain|tls_bw|plain|200|65536|16384
ipc-pair-16KiB-tls13|tls_bw|tls|200|16384|16384
tls13-handshake-p256|tls_hs||20|500
ws-pingpong-64B|ws_pingpong||2000|50000
ws-64KiB-client-to-server|ws_bw||5|300|65536
ws-64KiB-server-to-client|ws_bw|server|200|16384|65536
"
PROGS="yield go chan choose chmake whispers ipc_bw tcp_pingpong tcp_clients pfx_rtt pfx_bw crlf_pingpong http_exchange tls_bw tls_hs ws_pingpong ws_bw"

die() { echo "run.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

. "$HERE/libspec.sh"

# Old form "run.sh LIBDIR INCDIR": second argument is a header directory.
if [ $# -eq 2 ] && [ -f "$2/libdill.h" ] && ! has_so "$2"; then
    case "$1" in *:*) die "give INCDIR either as LIBDIR:INCDIR or as 2nd arg";; esac
    set -- "$1:$2"
fi

if [ -z "$NO_IR" ] && ! command -v valgrind >/dev/null 2>&1; then
    echo "run.sh: valgrind not found, skipping instr/op" >&2
    NO_IR=1
fi

if [ -z "$NO_SYS" ] && ! command -v strace >/dev/null 2>&1; then
    echo "run.sh: strace not found, skipping sys/op" >&2
    NO_SYS=1
fi

# ---- parse library specs -------------------------------------------------
parse_specs "$@"

# ---- build ---------------------------------------------------------------
i=1
while [ $i -le $NLIB ]; do
    eval "libdir=\$LIB_$i incdir=\$INC_$i"
    out=$BUILD/$i
    rm -rf "$out"
    mkdir -p "$out/bin" "$out/vglib"
    rpath=$(rpath_of "$libdir")
    for p in $PROGS; do
        # shellcheck disable=SC2086
        $CC -O2 $CFLAGS -I"$incdir" -o "$out/bin/$p" "$HERE/$p.c" \
            -L"$libdir" -ldill -Wl,-rpath,"$rpath" -Wl,--enable-new-dtags \
            2>"$out/bin/$p.err" || {
                echo "run.sh: $p.c does not build against $libdir" \
                    "(see $out/bin/$p.err); reported as n/a" >&2
                rm -f "$out/bin/$p"
            }
    done
    # Valgrind 3.19 aborts on some DWARF 5 debug info, so callgrind runs use
    # a debug-stripped copy of the library (same code, same instruction
    # count), selected with LD_LIBRARY_PATH (which overrides RUNPATH).
    for d in $(echo "$rpath" | tr : ' '); do
        for f in "$d"/libdill.so*; do
            [ -e "$out/vglib/${f##*/}" ] && continue
            cp -L "$f" "$out/vglib/"
            objcopy --strip-debug "$out/vglib/${f##*/}" 2>/dev/null || true
        done
    done
    i=$((i + 1))
done

# ---- measure -------------------------------------------------------------
# Ir total of one run, or "ERR" (also when the program failed: one that
# aborts at the same point with N and 3N would otherwise count 0 per op).
ir_of() {
    f=$BUILD/callgrind.err
    LD_LIBRARY_PATH="$1" valgrind --tool=callgrind \
        --callgrind-out-file=/dev/null "$2" $3 $4 2>"$f" >/dev/null || { echo ERR; return; }
    r=$(sed -n 's/.*Collected : *\([0-9][0-9]*\).*/\1/p' "$f")
    echo "${r:-ERR}"
}

# Syscalls of one run (every thread), or "ERR".
sys_of() {
    f=$BUILD/strace.out
    strace -f -c -o "$f" "$1" $2 $3 >/dev/null 2>&1 || { echo ERR; return; }
    r=$(awk '$NF == "total" { print $4 }' "$f")
    echo "${r:-ERR}"
}

# Best ns/op of $REPEAT runs, or "ERR".
wall_of() {
    best=ERR
    k=0
    while [ $k -lt "$REPEAT" ]; do
        v=$($PINCMD "$1" $2 $3 2>/dev/null | sed -n 's/.*, *\([0-9.][0-9.]*\) ns\/op.*/\1/p') || v=
        [ -n "$v" ] || { echo ERR; return; }
        best=$(awk -v a="$best" -v b="$v" 'BEGIN{print (a=="ERR"||b+0<a+0)?b:a}')
        k=$((k + 1))
    done
    echo "$best"
}

PINCMD=
[ -z "$PIN" ] || PINCMD="taskset -c $PIN"

RES=$BUILD/results
: > "$RES"
echo "$BENCHES" | while IFS='|' read -r name prog extra nir nwall bytes; do
    [ -n "$name" ] || continue
    if [ -n "$ONLY" ]; then
        case " $ONLY " in *" $name "*) ;; *) continue;; esac
    fi
    nwall=$(awk -v n="$nwall" -v s="$SCALE" 'BEGIN{n=int(n*s); print n<1?1:n}')
    line=$name
    i=1
    while [ $i -le $NLIB ]; do
        out=$BUILD/$i
        if [ ! -x "$out/bin/$prog" ]; then
            line="$line|n/a|n/a|n/a"
            i=$((i + 1))
            continue
        fi
        ipo=-
        if [ -z "$NO_IR" ] && [ "$nir" != - ]; then
            a=$(ir_of "$out/vglib" "$out/bin/$prog" "$nir" "$extra")
            b=$(ir_of "$out/vglib" "$out/bin/$prog" $((3 * nir)) "$extra")
            if [ "$a" = ERR ] || [ "$b" = ERR ]; then ipo=ERR; else
                ipo=$(awk -v a="$a" -v b="$b" -v n="$nir" \
                    'BEGIN{printf "%.0f", (b - a) / (2 * n)}')
            fi
        fi
        spo=-
        if [ -z "$NO_SYS" ] && [ "$nir" != - ]; then
            a=$(sys_of "$out/bin/$prog" "$nir" "$extra")
            b=$(sys_of "$out/bin/$prog" $((3 * nir)) "$extra")
            if [ "$a" = ERR ] || [ "$b" = ERR ]; then spo=ERR; else
                spo=$(awk -v a="$a" -v b="$b" -v n="$nir" \
                    'BEGIN{printf "%.2f", (b - a) / (2 * n)}')
            fi
        fi
        ns=-
        if [ -z "$NO_WALL" ]; then
            ns=$(wall_of "$out/bin/$prog" "$nwall" "$extra")
            [ "$ns" = ERR ] || ns=$(awk -v v="$ns" 'BEGIN{printf "%.1f", v}')
        fi
        line="$line|$ipo|$spo|$ns"
        i=$((i + 1))
    done
    echo "$line|${bytes:-}" >> "$RES"
    echo "  done: $name" >&2
done

# ---- report (B/A columns: second library relative to the first) ----
echo
i=1
while [ $i -le $NLIB ]; do
    eval "echo \"\$LABEL_$i: \$LIB_$i (headers: \$INC_$i)\""
    i=$((i + 1))
done
echo
labels=
i=1
while [ $i -le $NLIB ]; do
    eval "labels=\"\$labels \$LABEL_$i\""
    i=$((i + 1))
done
awk -F'|' -v nlib="$NLIB" -v labels="$labels" '
function ratio(a, b) {
    return (a + 0 > 0 && b ~ /^[0-9.]+$/) ? sprintf("%.2f", b / a) : "-"
}
BEGIN {
    split(labels, lab, " ")
    printf "%-26s", "benchmark"
    for (i = 1; i <= nlib; i++)
        printf " %14s %8s %10s", substr(lab[i], 1, 8) " instr/op", "sys/op", "ns/op"
    if (nlib == 2) printf " %9s %7s %7s", "instr B/A", "sys B/A", "ns B/A"
    printf "\n"
}
{
    printf "%-26s", $1
    for (i = 1; i <= nlib; i++)
        printf " %14s %8s %10s", $(3*i-1), $(3*i), $(3*i+1)
    if (nlib == 2)
        printf " %9s %7s %7s", ratio($2, $5), ratio($3, $6), ratio($4, $7)
    printf "\n"
}' "$RES"

# Throughput of the benchmarks that move bulk data (last field: bytes/op).
awk -F'|' -v nlib="$NLIB" -v labels="$labels" '
BEGIN { split(labels, lab, " "); first = 1 }
$(3 * nlib + 2) != "" {
    if (first) { printf "\nthroughput (from the best ns/op):\n"; first = 0 }
    printf "%-26s", $1
    for (i = 1; i <= nlib; i++) {
        ns = $(3 * i + 1)
        if (ns ~ /^[0-9.]+$/ && ns + 0 > 0)
            printf " %8s %7.0f MB/s", substr(lab[i], 1, 8), $(3 * nlib + 2) / ns * 1000
        else
            printf " %8s %12s", substr(lab[i], 1, 8), ns
    }
    printf "\n"
}' "$RES"
