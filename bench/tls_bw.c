/* tls_bw: bulk transfer of 16 KiB chunks over an ipc_pair, through TLS
   (argv[2] = "tls": TLS 1.3, ECDSA P-256 certificate, one record per
   chunk) or plain ("plain"), so that both are measured alike in one run.
   main sends, a coroutine receives. argv[1] = number of chunks. One op =
   one 16 KiB chunk sent and received; the handshake is not timed.
   Certificates: $DILL_TEST_CERTS (made by `make bench`). */
#include <string.h>

#include "bench.h"

#define CHUNK 16384

static char cert[512], key[512];

static coroutine void sink(int s, long n, int tls) {
    static unsigned char buf[CHUNK];
    if(tls) {
        s = tls_attach_client(s, -1);
        BENCH_CHECK(s >= 0);
    }
    for(long i = 0; i < n; i++) {
        if(brecv(s, buf, CHUNK, -1) != 0) return;
        /* Each chunk starts with its number: nothing lost or reordered. */
        if(buf[0] != (unsigned char)i || buf[CHUNK - 1] != (unsigned char)~i) {
            fprintf(stderr, "tls_bw: chunk %ld out of order\n", i);
            exit(1);
        }
    }
    BENCH_CHECK(hclose(s) == 0);
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 65536);
    int tls = argc > 2 && strcmp(argv[2], "tls") == 0;
    const char *dir = getenv("DILL_TEST_CERTS");
    BENCH_CHECK(!tls || dir);
    if(tls) {
        snprintf(cert, sizeof(cert), "%s/ec.pem", dir);
        snprintf(key, sizeof(key), "%s/ec.key", dir);
    }
    static unsigned char buf[CHUNK];
    int p[2];
    BENCH_CHECK(ipc_pair(p) == 0);
    int cr = go(sink(p[1], n, tls));
    BENCH_CHECK(cr >= 0);
    int s = p[0];
    if(tls) {
        s = tls_attach_server(s, cert, key, -1);
        BENCH_CHECK(s >= 0);
    }
    long long t0 = bench_ns();
    for(long i = 0; i < n; i++) {
        buf[0] = (unsigned char)i;
        buf[CHUNK - 1] = (unsigned char)~i;
        BENCH_CHECK(bsend(s, buf, CHUNK, -1) == 0);
    }
    BENCH_CHECK(bundle_wait(cr, -1) == 0);
    long long t1 = bench_ns();
    BENCH_CHECK(hclose(cr) == 0);
    BENCH_CHECK(hclose(s) == 0);
    printf("tls_bw (%s): %ld ops, %.1f ns/op (%.0f MB/s)\n", tls ? "tls" : "plain", n,
        (double)(t1 - t0) / (double)n,
        (double)CHUNK * (double)n / ((double)(t1 - t0) / 1e9) / 1e6);
    return 0;
}
