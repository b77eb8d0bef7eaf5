/* http_exchange: one HTTP head each way over an ipc_pair, both ends
   driven by main. One op = http_attach on both ends; request line, 3
   fields and hdone (2.14: http_done) from the client; http_recvrequest, 3 http_recvfield
   and the closing EPIPE on the server; status line and hdone back;
   http_recvstatus and EPIPE on the client; http_detach on both ends. */
#include <string.h>

#include "bench.h"

static void exchange(int h[2]) {
    char a1[64], a2[64];
    int c = http_attach(h[0]);
    int s = http_attach(h[1]);
    BENCH_CHECK(c >= 0 && s >= 0);
    BENCH_CHECK(http_sendrequest(c, "GET", "/index.html", -1) == 0);
    BENCH_CHECK(http_sendfield(c, "Host", "www.example.org", -1) == 0);
    BENCH_CHECK(http_sendfield(c, "User-Agent", "bench/1.0", -1) == 0);
    BENCH_CHECK(http_sendfield(c, "Accept", "*/*", -1) == 0);
    BENCH_CHECK(bench_http_done(c, -1) == 0);
    BENCH_CHECK(http_recvrequest(s, a1, sizeof(a1), a2, sizeof(a2), -1) == 0);
    for(int i = 0; i < 3; i++)
        BENCH_CHECK(http_recvfield(s, a1, sizeof(a1), a2, sizeof(a2), -1) == 0);
    BENCH_CHECK(http_recvfield(s, a1, sizeof(a1), a2, sizeof(a2), -1) == -1 && errno == EPIPE);
    BENCH_CHECK(http_sendstatus(s, 200, "OK", -1) == 0);
    BENCH_CHECK(bench_http_done(s, -1) == 0);
    BENCH_CHECK(http_recvstatus(c, a1, sizeof(a1), -1) == 200);
    BENCH_CHECK(http_recvfield(c, a1, sizeof(a1), a2, sizeof(a2), -1) == -1 && errno == EPIPE);
    h[1] = http_detach(s, -1);
    h[0] = http_detach(c, -1);
    BENCH_CHECK(h[0] >= 0 && h[1] >= 0);
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 100000);
    int h[2];
    BENCH_CHECK(ipc_pair(h) == 0);
    for(int i = 0; i < 100; i++) exchange(h);
    long long t0 = bench_ns();
    for(long i = 0; i < n; i++) exchange(h);
    long long t1 = bench_ns();
    BENCH_CHECK(hclose(h[0]) == 0);
    BENCH_CHECK(hclose(h[1]) == 0);
    bench_report("http_exchange", n, t0, t1);
    return 0;
}
