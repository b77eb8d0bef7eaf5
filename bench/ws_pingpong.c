/* ws_pingpong: 64-byte binary messages bounced over an ipc_pair between a
   WebSocket client (main: masked frames) and an echo coroutine on the
   server side (unmasked frames), WS_NOHTTP. One op = one round trip
   (msend + mrecv on each side). */
#include <string.h>

#include "bench.h"

#define MSG 64

static coroutine void echo(int s) {
    char buf[MSG];
    while(mrecv(s, buf, MSG, -1) == MSG) {
        if(msend(s, buf, MSG, -1) != 0) break;
    }
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 100000);
    int p[2];
    BENCH_CHECK(ipc_pair(p) == 0);
    int c = ws_attach_client(p[0], WS_NOHTTP | WS_BINARY, NULL, NULL, -1);
    BENCH_CHECK(c >= 0);
    int s = ws_attach_server(p[1], WS_NOHTTP | WS_BINARY, NULL, 0, NULL, 0, -1);
    BENCH_CHECK(s >= 0);
    int cr = go(echo(s));
    BENCH_CHECK(cr >= 0);
    char buf[MSG];
    memset(buf, 'x', sizeof(buf));
    for(int i = 0; i < 100; i++) {
        BENCH_CHECK(msend(c, buf, MSG, -1) == 0);
        BENCH_CHECK(mrecv(c, buf, MSG, -1) == MSG);
    }
    long long t0 = bench_ns();
    for(long i = 0; i < n; i++) {
        buf[0] = (char)i;
        BENCH_CHECK(msend(c, buf, MSG, -1) == 0);
        BENCH_CHECK(mrecv(c, buf, MSG, -1) == MSG);
        BENCH_CHECK(buf[0] == (char)i);
    }
    long long t1 = bench_ns();
    BENCH_CHECK(hclose(cr) == 0);
    BENCH_CHECK(hclose(c) == 0);
    BENCH_CHECK(hclose(s) == 0);
    bench_report("ws_pingpong", n, t0, t1);
    return 0;
}
