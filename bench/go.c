/* go: launch an empty coroutine and close its handle right away.
   One op = go() + hclose(). */
#include "bench.h"

static coroutine void nothing(void) {
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 10000000);
    long long t0 = bench_ns();
    for(long i = 0; i < n; i++) {
        int cr = go(nothing());
        BENCH_CHECK(cr >= 0);
        int rc = hclose(cr);
        BENCH_CHECK(rc == 0);
    }
    long long t1 = bench_ns();
    bench_report("go+hclose", n, t0, t1);
    return 0;
}
