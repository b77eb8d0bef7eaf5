/* chan: main sends an int to an echo coroutine, which sends it back.
   One op = chsend() + chrecv() of the reply (a full round trip). */
#include "bench.h"

static coroutine void echo(int ch) {
    int v;
    while(chrecv(ch, &v, sizeof(v), -1) == 0) {
        if(chsend(ch, &v, sizeof(v), -1) != 0) break;
    }
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 5000000);
    int ch[2];
    BENCH_CHECK(chmake(ch) == 0);
    long long t0 = bench_ns();
    int cr = go(echo(ch[0]));
    BENCH_CHECK(cr >= 0);
    int v = 0;
    for(long i = 0; i < n; i++) {
        int rc = chsend(ch[1], &v, sizeof(v), -1);
        BENCH_CHECK(rc == 0);
        rc = chrecv(ch[1], &v, sizeof(v), -1);
        BENCH_CHECK(rc == 0);
        v++;
    }
    BENCH_CHECK(v == n);
    BENCH_CHECK(hclose(cr) == 0);
    long long t1 = bench_ns();
    hclose(ch[1]);
    hclose(ch[0]);
    bench_report("chan roundtrip", n, t0, t1);
    return 0;
}
