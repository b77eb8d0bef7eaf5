/* crlf_pingpong: a 32-byte line each way over CRLF sockets on an
   ipc_pair, both ends driven by main (the pair's buffers hold a line, so
   nothing waits: this is the protocol's own cost). One op = one round
   trip: msend + mrecv on each side. */
#include <string.h>

#include "bench.h"

#define MSG 32

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 1000000);
    int h[2];
    BENCH_CHECK(ipc_pair(h) == 0);
    int a = crlf_attach(h[0]);
    int b = crlf_attach(h[1]);
    BENCH_CHECK(a >= 0 && b >= 0);
    char buf[MSG], in[MSG + 8];
    memset(buf, 'x', sizeof(buf));
    for(int i = 0; i < 100; i++) {
        BENCH_CHECK(msend(a, buf, MSG, -1) == 0);
        BENCH_CHECK(mrecv(b, in, sizeof(in), -1) == MSG);
        BENCH_CHECK(msend(b, in, MSG, -1) == 0);
        BENCH_CHECK(mrecv(a, in, sizeof(in), -1) == MSG);
    }
    long long t0 = bench_ns();
    for(long i = 0; i < n; i++) {
        buf[0] = (char)('a' + i % 26);
        BENCH_CHECK(msend(a, buf, MSG, -1) == 0);
        BENCH_CHECK(mrecv(b, in, sizeof(in), -1) == MSG);
        BENCH_CHECK(msend(b, in, MSG, -1) == 0);
        BENCH_CHECK(mrecv(a, in, sizeof(in), -1) == MSG);
        BENCH_CHECK(in[0] == buf[0]);
    }
    long long t1 = bench_ns();
    BENCH_CHECK(hclose(a) == 0);
    BENCH_CHECK(hclose(b) == 0);
    bench_report("crlf_pingpong", n, t0, t1);
    return 0;
}
