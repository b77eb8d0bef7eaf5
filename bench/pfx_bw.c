/* pfx_bw: 64 KiB PFX messages one way over an ipc_pair: main msends, a
   coroutine mrecvs. argv[1] = number of messages (16384 = 1 GiB). One op
   = one message sent and received. */
#include "bench.h"

#define MSG 65536

static coroutine void sink(int s, long n) {
    static unsigned char buf[MSG];
    for(long i = 0; i < n; i++) {
        if(mrecv(s, buf, MSG, -1) != MSG) {
            fprintf(stderr, "pfx_bw: mrecv failed (errno=%d)\n", errno);
            exit(1);
        }
        /* Each message starts with its number: nothing lost or reordered. */
        if(buf[0] != (unsigned char)i) {
            fprintf(stderr, "pfx_bw: message %ld out of order\n", i);
            exit(1);
        }
    }
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 16384);
    static unsigned char buf[MSG];
    int h[2];
    BENCH_CHECK(ipc_pair(h) == 0);
    int s0 = pfx_attach(h[0]);
    int s1 = pfx_attach(h[1]);
    BENCH_CHECK(s0 >= 0 && s1 >= 0);
    long long t0 = bench_ns();
    int cr = go(sink(s1, n));
    BENCH_CHECK(cr >= 0);
    for(long i = 0; i < n; i++) {
        buf[0] = (unsigned char)i;
        BENCH_CHECK(msend(s0, buf, MSG, -1) == 0);
    }
    BENCH_CHECK(bundle_wait(cr, -1) == 0);
    long long t1 = bench_ns();
    BENCH_CHECK(hclose(cr) == 0);
    BENCH_CHECK(hclose(s0) == 0);
    BENCH_CHECK(hclose(s1) == 0);
    printf("pfx_bw: %ld ops, %.1f ns/op (%.0f MB/s)\n", n,
        (double)(t1 - t0) / (double)n,
        (double)MSG * (double)n / ((double)(t1 - t0) / 1e9) / 1e6);
    return 0;
}
