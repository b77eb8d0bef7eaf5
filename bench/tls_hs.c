/* tls_hs: full TLS 1.3 handshakes with an ECDSA P-256 certificate, client
   and server in one process over a fresh ipc_pair each (so one op costs
   both sides' work), followed by one byte each way and hclose. argv[1] =
   number of handshakes. Certificates: $DILL_TEST_CERTS. */
#include "bench.h"

static char cert[512], key[512];

static coroutine void client(int u) {
    int s = tls_attach_client(u, -1);
    BENCH_CHECK(s >= 0);
    char c = 'x';
    BENCH_CHECK(bsend(s, &c, 1, -1) == 0);
    BENCH_CHECK(brecv(s, &c, 1, -1) == 0);
    BENCH_CHECK(hclose(s) == 0);
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 2000);
    const char *dir = getenv("DILL_TEST_CERTS");
    BENCH_CHECK(dir);
    snprintf(cert, sizeof(cert), "%s/ec.pem", dir);
    snprintf(key, sizeof(key), "%s/ec.key", dir);
    long long t0 = bench_ns();
    for(long i = 0; i < n; i++) {
        int p[2];
        BENCH_CHECK(ipc_pair(p) == 0);
        int cr = go(client(p[1]));
        BENCH_CHECK(cr >= 0);
        int s = tls_attach_server(p[0], cert, key, -1);
        BENCH_CHECK(s >= 0);
        char c;
        BENCH_CHECK(brecv(s, &c, 1, -1) == 0);
        BENCH_CHECK(bsend(s, &c, 1, -1) == 0);
        BENCH_CHECK(bundle_wait(cr, -1) == 0);
        BENCH_CHECK(hclose(cr) == 0);
        BENCH_CHECK(hclose(s) == 0);
    }
    long long t1 = bench_ns();
    printf("tls_hs: %ld ops, %.1f ns/op (%.0f handshakes/s)\n", n,
        (double)(t1 - t0) / (double)n, (double)n / ((double)(t1 - t0) / 1e9));
    return 0;
}
