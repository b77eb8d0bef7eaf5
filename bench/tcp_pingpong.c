/* tcp_pingpong: 64-byte messages bounced over a TCP connection on
   127.0.0.1 between main (client) and an echo coroutine (server) of the
   same thread. One op = one round trip (bsend + brecv on each side). */
#include <string.h>

#include "bench.h"

#define MSG 64

static coroutine void echo(int ls) {
    int s = tcp_accept(ls, NULL, -1);
    if(s < 0) return;
    char buf[MSG];
    while(brecv(s, buf, MSG, -1) == 0) {
        if(bsend(s, buf, MSG, -1) != 0) break;
    }
    hclose(s);
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 100000);
    struct ipaddr addr;
    BENCH_CHECK(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4) == 0);
    int ls = tcp_listen(&addr, 10);
    BENCH_CHECK(ls >= 0);
    int cr = go(echo(ls));
    BENCH_CHECK(cr >= 0);
    int s = tcp_connect(&addr, -1);
    BENCH_CHECK(s >= 0);
    char buf[MSG];
    memset(buf, 'x', sizeof(buf));
    /* Connection set up and warm before the clock starts. */
    for(int i = 0; i < 100; i++) {
        BENCH_CHECK(bsend(s, buf, MSG, -1) == 0);
        BENCH_CHECK(brecv(s, buf, MSG, -1) == 0);
    }
    long long t0 = bench_ns();
    for(long i = 0; i < n; i++) {
        buf[0] = (char)i;
        BENCH_CHECK(bsend(s, buf, MSG, -1) == 0);
        BENCH_CHECK(brecv(s, buf, MSG, -1) == 0);
        BENCH_CHECK(buf[0] == (char)i);
    }
    long long t1 = bench_ns();
    BENCH_CHECK(hclose(s) == 0);
    BENCH_CHECK(hclose(cr) == 0);
    BENCH_CHECK(hclose(ls) == 0);
    bench_report("tcp_pingpong", n, t0, t1);
    return 0;
}
