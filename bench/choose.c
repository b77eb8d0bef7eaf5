/* choose: the chan.c round trip, but main does its send and its receive
   with choose() on a single clause.  The echo coroutine uses plain
   chrecv()/chsend() by default (this is the "choose round trip" figure);
   with argv[2] == "both" it uses single-clause choose() as well.
   One op = one round trip. */
#include <string.h>
#include "bench.h"

static coroutine void echo_plain(int ch) {
    int v;
    while(chrecv(ch, &v, sizeof(v), -1) == 0) {
        if(chsend(ch, &v, sizeof(v), -1) != 0) break;
    }
}

static coroutine void echo_choose(int ch) {
    int v;
    struct chclause in[1] = {{CHRECV, ch, &v, sizeof(v)}};
    struct chclause out[1] = {{CHSEND, ch, &v, sizeof(v)}};
    while(choose(in, 1, -1) == 0) {
        if(choose(out, 1, -1) != 0) break;
    }
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 5000000);
    int both = argc > 2 && strcmp(argv[2], "both") == 0;
    int ch[2];
    BENCH_CHECK(chmake(ch) == 0);
    long long t0 = bench_ns();
    int cr = both ? go(echo_choose(ch[0])) : go(echo_plain(ch[0]));
    BENCH_CHECK(cr >= 0);
    int v = 0;
    struct chclause out[1] = {{CHSEND, ch[1], &v, sizeof(v)}};
    struct chclause in[1] = {{CHRECV, ch[1], &v, sizeof(v)}};
    for(long i = 0; i < n; i++) {
        int rc = choose(out, 1, -1);
        BENCH_CHECK(rc == 0);
        rc = choose(in, 1, -1);
        BENCH_CHECK(rc == 0);
        v++;
    }
    BENCH_CHECK(v == n);
    BENCH_CHECK(hclose(cr) == 0);
    long long t1 = bench_ns();
    hclose(ch[1]);
    hclose(ch[0]);
    bench_report(both ? "choose roundtrip (both sides)" : "choose roundtrip",
        n, t0, t1);
    return 0;
}
