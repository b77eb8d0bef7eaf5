/* chmake: full lifecycle of a channel plus a coroutine waiting on it.
   One op = chmake() + go() (coroutine blocks in chrecv) + hdone() (2.14: chdone) on the
   other end (wakes it with EPIPE) + hclose() of coroutine and both ends. */
#include "bench.h"

static coroutine void waiter(int ch) {
    int v;
    int rc = chrecv(ch, &v, sizeof(v), -1);
    (void)rc; /* expected: -1, errno == EPIPE */
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 2000000);
    long long t0 = bench_ns();
    for(long i = 0; i < n; i++) {
        int ch[2];
        int rc = chmake(ch);
        BENCH_CHECK(rc == 0);
        int cr = go(waiter(ch[0]));
        BENCH_CHECK(cr >= 0);
        rc = bench_chdone(ch[1]);
        BENCH_CHECK(rc == 0);
        BENCH_CHECK(hclose(cr) == 0);
        BENCH_CHECK(hclose(ch[1]) == 0);
        BENCH_CHECK(hclose(ch[0]) == 0);
    }
    long long t1 = bench_ns();
    bench_report("chmake+go+hdone+3xhclose", n, t0, t1);
    return 0;
}
