/* ipc_bw: bulk transfer over an ipc_pair. main bsends 64 KiB chunks, a
   coroutine brecvs them 64 KiB at a time. argv[1] = number of chunks
   (16384 = 1 GiB). One op = one 64 KiB chunk sent and received. */
#include "bench.h"

#define CHUNK 65536

static coroutine void sink(int s, long n) {
    static unsigned char buf[CHUNK];
    for(long i = 0; i < n; i++) {
        if(brecv(s, buf, CHUNK, -1) != 0) return;
        /* Each chunk starts with its number: nothing lost or reordered. */
        if(buf[0] != (unsigned char)i) {
            fprintf(stderr, "ipc_bw: chunk %ld out of order\n", i);
            exit(1);
        }
    }
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 16384);
    static unsigned char buf[CHUNK];
    int s[2];
    BENCH_CHECK(ipc_pair(s) == 0);
    long long t0 = bench_ns();
    int cr = go(sink(s[1], n));
    BENCH_CHECK(cr >= 0);
    for(long i = 0; i < n; i++) {
        buf[0] = (unsigned char)i;
        BENCH_CHECK(bsend(s[0], buf, CHUNK, -1) == 0);
    }
    /* The last chunks may still be in flight: wait for the sink. */
    BENCH_CHECK(bundle_wait(cr, -1) == 0);
    long long t1 = bench_ns();
    BENCH_CHECK(hclose(cr) == 0);
    BENCH_CHECK(hclose(s[0]) == 0);
    BENCH_CHECK(hclose(s[1]) == 0);
    printf("ipc_bw: %ld ops, %.1f ns/op (%.0f MB/s)\n", n,
        (double)(t1 - t0) / (double)n,
        (double)CHUNK * (double)n / ((double)(t1 - t0) / 1e9) / 1e6);
    return 0;
}
