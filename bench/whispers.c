/* whispers: a chain of M coroutines joined by M+1 channels.  Each one
   receives a number from its right neighbour and passes number+1 to its
   left neighbour.  When the number has travelled the whole chain, every
   coroutine handle and channel end is closed.  argv[1] = M.
   One op = one link of the chain: chmake + go + one receive + one send
   + hclose of the coroutine and of both ends of its channel. */
#include "bench.h"

static coroutine void whisper(int left, int right) {
    int v;
    if(chrecv(right, &v, sizeof(v), -1) != 0) return;
    v++;
    chsend(left, &v, sizeof(v), -1);
}

int main(int argc, char *argv[]) {
    long m = bench_count(argc, argv, 10000);
    int *hs = malloc(sizeof(int) * 3 * (size_t)m);
    BENCH_CHECK(hs != NULL);
    long long t0 = bench_ns();
    int first[2];
    BENCH_CHECK(chmake(first) == 0);
    int left = first[1];      /* send end for the next coroutine */
    for(long i = 0; i < m; i++) {
        int ch[2];
        BENCH_CHECK(chmake(ch) == 0);
        int cr = go(whisper(left, ch[0]));
        BENCH_CHECK(cr >= 0);
        hs[3 * i] = cr;
        hs[3 * i + 1] = ch[0];
        hs[3 * i + 2] = ch[1];
        left = ch[1];
    }
    int v = 1;
    BENCH_CHECK(chsend(left, &v, sizeof(v), -1) == 0);
    int res = 0;
    BENCH_CHECK(chrecv(first[0], &res, sizeof(res), -1) == 0);
    BENCH_CHECK(res == m + 1);
    for(long i = 0; i < 3 * m; i++)
        BENCH_CHECK(hclose(hs[i]) == 0);
    BENCH_CHECK(hclose(first[0]) == 0);
    BENCH_CHECK(hclose(first[1]) == 0);
    long long t1 = bench_ns();
    free(hs);
    bench_report("whispers", m, t0, t1);
    return 0;
}
