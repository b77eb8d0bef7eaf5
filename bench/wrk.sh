#!/bin/sh
# An HTTP/1.1 server (bench/http_server.c) under wrk, one column per library.
#
# Usage:
#   bench/wrk.sh [LABEL=]LIBDIR[:INCDIR] ...
#
# Example (ours vs upstream 2.6, one run):
#   LEAK=upstream bench/wrk.sh ours=build:include upstream=/opt/libdill/lib
#
# For every library the server is built as in bench/run.sh and, for each
# connection count, started on 127.0.0.1 (pinned to CPU 0, wrk to CPU 1
# when the machine has two or more), warmed up by a 1 s wrk run, then
# loaded by `wrk -t1 -c CONNS -d DURATION --latency`. Reported per run:
#   req/s     wrk's Requests/sec
#   p99       wrk's 99th percentile latency
#   errors    wrk's socket errors + non-2xx responses + the server's own
#             count of failed requests (printed on SIGTERM)
#   fds, RSS  growth of the server's open fds and VmRSS (KiB) from after
#             the warm-up to after the run, once its connections closed
# and, from the second library on, its req/s over the first one's.
#
# Environment:
#   CONNS="1 64 512"  connection counts;  DURATION=10  seconds per run
#   LEAK="label ..."  libraries whose server leaves a connection's HTTP
#                     handle open instead of closing it (the original 2.6
#                     aborts in hclose of an HTTP socket: see http_server.c)
#   RT=1              run server and wrk as real-time tasks (chrt -f 10;
#                     root): builds or other work on the machine then
#                     cannot take their CPUs mid-run (at nice 19 they still
#                     cut our req/s by half or more here); a task that
#                     saturates its CPU is then throttled by the kernel for
#                     50 ms a second, which shows in p99
#   BUILD=dir         build directory (default /tmp/dill-wrk)
#   CC=cc             compiler
# wrk comes from the distribution: installed with apt-get when missing.

set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-/tmp/dill-wrk}
CC=${CC:-cc}
CONNS=${CONNS:-1 64 512}
DURATION=${DURATION:-10}
LEAK=${LEAK:-}

die() { echo "wrk.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

if ! command -v wrk >/dev/null 2>&1; then
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null ||
        die "wrk is missing and apt-get could not install it"
fi

SRV_CPU=
WRK_CPU=
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
    SRV_CPU="taskset -c 0"
    WRK_CPU="taskset -c 1"
fi
if [ -n "${RT:-}" ]; then
    SRV_CPU="chrt -f 10 $SRV_CPU"
    WRK_CPU="chrt -f 10 $WRK_CPU"
fi

mkdir -p "$BUILD"
. "$HERE/libspec.sh"
parse_specs "$@"
i=1
while [ $i -le $NLIB ]; do
    eval "label=\$LABEL_$i libdir=\$LIB_$i incdir=\$INC_$i"
    $CC -O2 -I"$incdir" -o "$BUILD/server$i" "$HERE/http_server.c" \
        -L"$libdir" -ldill -Wl,-rpath,"$(rpath_of "$libdir")" -Wl,--enable-new-dtags ||
        die "http_server.c does not build against $libdir"
    mode=
    for l in $LEAK; do [ "$l" = "$label" ] && mode=leak; done
    eval "MODE_$i=\$mode"
    i=$((i + 1))
done

fds() { ls "/proc/$1/fd" | wc -l; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# The value after the first field matching $1 in wrk's output.
pick() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }

# One run: prints "req/s p99 errors fds-growth rss-growth", or "died" and
# the server's last words when it did not live through the run.
run() {
    bin=$1 mode=$2 conns=$3
    out=$BUILD/server.out
    $SRV_CPU "$bin" 0 $mode > "$out" 2>"$BUILD/server.err" &
    pid=$!
    port=
    k=0
    while [ -z "$port" ] && [ $k -lt 50 ]; do
        sleep 0.1
        port=$(sed -n 's/^port //p' "$out")
        k=$((k + 1))
    done
    [ -n "$port" ] || { kill "$pid"; die "server did not start"; }
    url=http://127.0.0.1:$port/
    $WRK_CPU wrk -t1 -c"$conns" -d1s "$url" > /dev/null 2>&1
    sleep 0.5
    fd0=$(fds "$pid") rss0=$(rss "$pid")
    $WRK_CPU wrk -t1 -c"$conns" -d"$DURATION"s --latency "$url" > "$BUILD/wrk.out" 2>&1
    sleep 0.5
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" || true
        echo "died $(tail -n 1 "$BUILD/server.err")"
        return
    fi
    fd1=$(fds "$pid") rss1=$(rss "$pid")
    kill -TERM "$pid"
    wait "$pid" || die "server exited with $? (see $BUILD/server.err)"
    w=$BUILD/wrk.out
    reqs=$(pick Requests/sec: "$w")
    p99=$(pick 99% "$w")
    sockerr=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$w")
    non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$w")
    srverr=$(sed -n 's/^errors //p' "$out")
    errs=$(echo "$sockerr ${non2xx:-0} ${srverr:-0}" | awk '{ s = 0; for(i = 1; i <= NF; i++) s += $i; print s }')
    echo "${reqs:-ERR} ${p99:-ERR} $errs $((fd1 - fd0)) $((rss1 - rss0))"
}

printf '%-6s' conns
i=1
while [ $i -le $NLIB ]; do
    eval "l=\$LABEL_$i"
    printf ' | %-10s %9s %9s %6s %4s %6s' "$l" req/s p99 errors fds RSS
    [ $i -eq 1 ] || printf ' %6s' ratio
    i=$((i + 1))
done
echo
for c in $CONNS; do
    printf '%-6s' "$c"
    base=
    i=1
    while [ $i -le $NLIB ]; do
        eval "mode=\$MODE_$i"
        set -- $(run "$BUILD/server$i" "$mode" "$c")
        if [ "$1" = died ]; then
            shift
            printf ' | %-10s %-37s' "" "died: $*"
            [ $i -eq 1 ] && base=0
            [ $i -eq 1 ] || printf ' %6s' -
            i=$((i + 1))
            continue
        fi
        printf ' | %-10s %9s %9s %6s %+4d %+6d' "" "$1" "$2" "$3" "$4" "$5"
        if [ $i -eq 1 ]; then
            base=$1
        else
            awk -v a="$base" -v b="$1" 'BEGIN { if(a > 0) printf " %6.3g", b / a; else printf " %6s", "-" }'
        fi
        i=$((i + 1))
    done
    echo
done
