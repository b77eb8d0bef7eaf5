/* ws_bw: 64 KiB binary messages one way over an ipc_pair, WS_NOHTTP.
   argv[1] = number of messages; argv[2] = "server" to send from the
   server side (unmasked frames) instead of the client (masked). One op =
   one message sent and received. */
#include <string.h>

#include "bench.h"

#define MSG 65536

static coroutine void sink(int s, long n) {
    static unsigned char buf[MSG];
    for(long i = 0; i < n; i++) {
        if(mrecv(s, buf, MSG, -1) != MSG) return;
        if(buf[0] != (unsigned char)i || buf[MSG - 1] != 0x5a) {
            fprintf(stderr, "ws_bw: message %ld damaged\n", i);
            exit(1);
        }
    }
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 16384);
    int from_server = argc > 2 && strcmp(argv[2], "server") == 0;
    static unsigned char buf[MSG];
    memset(buf, 0x5a, sizeof(buf));
    int p[2];
    BENCH_CHECK(ipc_pair(p) == 0);
    int c = ws_attach_client(p[0], WS_NOHTTP | WS_BINARY, NULL, NULL, -1);
    BENCH_CHECK(c >= 0);
    int s = ws_attach_server(p[1], WS_NOHTTP | WS_BINARY, NULL, 0, NULL, 0, -1);
    BENCH_CHECK(s >= 0);
    int tx = from_server ? s : c, rx = from_server ? c : s;
    long long t0 = bench_ns();
    int cr = go(sink(rx, n));
    BENCH_CHECK(cr >= 0);
    for(long i = 0; i < n; i++) {
        buf[0] = (unsigned char)i;
        BENCH_CHECK(msend(tx, buf, MSG, -1) == 0);
    }
    BENCH_CHECK(bundle_wait(cr, -1) == 0);
    long long t1 = bench_ns();
    BENCH_CHECK(hclose(cr) == 0);
    BENCH_CHECK(hclose(c) == 0);
    BENCH_CHECK(hclose(s) == 0);
    printf("ws_bw: %ld ops, %.1f ns/op (%.0f MB/s)\n", n,
        (double)(t1 - t0) / (double)n,
        (double)MSG * (double)n / ((double)(t1 - t0) / 1e9) / 1e6);
    return 0;
}
