/* pfx_rtt: 64-byte PFX messages bounced over an ipc_pair between main and
   an echo coroutine of the same thread. One op = one round trip (msend +
   mrecv on each side). */
#include <string.h>

#include "bench.h"

#define MSG 64

static coroutine void echo(int s) {
    char buf[MSG];
    while(mrecv(s, buf, MSG, -1) == MSG) {
        if(msend(s, buf, MSG, -1) != 0) break;
    }
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 100000);
    int h[2];
    BENCH_CHECK(ipc_pair(h) == 0);
    int s0 = pfx_attach(h[0]);
    int s1 = pfx_attach(h[1]);
    BENCH_CHECK(s0 >= 0 && s1 >= 0);
    int cr = go(echo(s1));
    BENCH_CHECK(cr >= 0);
    char buf[MSG];
    memset(buf, 'x', sizeof(buf));
    for(int i = 0; i < 100; i++) {
        BENCH_CHECK(msend(s0, buf, MSG, -1) == 0);
        BENCH_CHECK(mrecv(s0, buf, MSG, -1) == MSG);
    }
    long long t0 = bench_ns();
    for(long i = 0; i < n; i++) {
        buf[0] = (char)i;
        BENCH_CHECK(msend(s0, buf, MSG, -1) == 0);
        BENCH_CHECK(mrecv(s0, buf, MSG, -1) == MSG);
        BENCH_CHECK(buf[0] == (char)i);
    }
    long long t1 = bench_ns();
    BENCH_CHECK(hclose(cr) == 0);
    BENCH_CHECK(hclose(s0) == 0);
    BENCH_CHECK(hclose(s1) == 0);
    bench_report("pfx_rtt", n, t0, t1);
    return 0;
}
