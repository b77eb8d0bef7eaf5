/* TCP replies written in pieces arrive at once. A server that answers
   each request with two bsends (a head, then a body, as an HTTP server on
   http_detach does) must not wait for the client's delayed ACK between
   them: with Nagle's algorithm on, each exchange takes about 40 ms on
   Linux; our sockets send at once (TCP_NODELAY), on both the accepted and
   the connecting side. */
#include <libdill.h>

#include "sockutil.h"

#define ROUNDS 20

static coroutine void server(int ls) {
    int s = tcp_accept(ls, NULL, now() + 10000);
    CHECK(s >= 0);
    char req[4];
    for(int i = 0; i < ROUNDS; i++) {
        CHECK_OK(brecv(s, req, sizeof(req), now() + 10000));
        CHECK_OK(bsend(s, "head", 4, -1));
        CHECK_OK(bsend(s, "body", 4, -1));
    }
    CHECK_OK(tcp_close(s, now() + 10000));
}

/* The client writes its requests in two pieces too. */
static void client(int port, int split) {
    struct ipaddr a;
    loop4(&a, port);
    int s = tcp_connect(&a, now() + 10000);
    CHECK(s >= 0);
    int64_t start = now();
    for(int i = 0; i < ROUNDS; i++) {
        if(split) {
            CHECK_OK(bsend(s, "re", 2, -1));
            CHECK_OK(bsend(s, "q!", 2, -1));
        } else {
            CHECK_OK(bsend(s, "req!", 4, -1));
        }
        char rep[8];
        CHECK_OK(brecv(s, rep, sizeof(rep), now() + 10000));
        CHECK(memcmp(rep, "headbody", 8) == 0);
    }
    int64_t took = now() - start;
    /* 20 delayed ACKs would be 800 ms; a loaded machine still answers 20
       loopback exchanges well within 400. */
    if(took >= 400) {
        fprintf(stderr, "%d exchanges took %lld ms (split=%d)\n", ROUNDS,
            (long long)took, split);
        abort();
    }
    CHECK_OK(tcp_close(s, now() + 10000));
}

int main(void) {
    for(int split = 0; split < 2; split++) {
        struct ipaddr a;
        loop4(&a, 0);
        int ls = tcp_listen(&a, 10);
        CHECK(ls >= 0);
        int srv = go(server(ls));
        CHECK(srv >= 0);
        client(ipaddr_port(&a), split);
        CHECK_OK(bundle_wait(srv, now() + 10000));
        CHECK_OK(hclose(srv));
        CHECK_OK(hclose(ls));
    }
    return 0;
}
