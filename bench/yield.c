/* yield: main and one coroutine hand control back and forth with yield().
   One op = one yield() call (i.e. one context switch). */
#include "bench.h"

static coroutine void spinner(long n) {
    for(long i = 0; i < n; i++)
        yield();
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 10000000);
    long half = n / 2;
    long long t0 = bench_ns();
    int cr = go(spinner(n - half));
    BENCH_CHECK(cr >= 0);
    for(long i = 0; i < half; i++)
        yield();
    int rc = hclose(cr);
    BENCH_CHECK(rc == 0);
    long long t1 = bench_ns();
    bench_report("yield", n, t0, t1);
    return 0;
}
