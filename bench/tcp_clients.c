/* tcp_clients: many concurrent TCP clients against a coroutine-per-
   connection echo server, all in one thread. argv[1] = total number of
   round trips, argv[2] = number of clients (default 2000); each client
   connects, does argv[1]/argv[2] round trips of 64 bytes and closes.
   One op = one round trip; the time includes connecting and closing.
   Needs two descriptors per client: the soft RLIMIT_NOFILE is raised to
   the hard limit. */
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

#define MSG 64

static coroutine void handler(int s) {
    char buf[MSG];
    while(brecv(s, buf, MSG, -1) == 0) {
        if(bsend(s, buf, MSG, -1) != 0) break;
    }
    hclose(s);
}

static coroutine void acceptor(int ls, int handlers) {
    while(1) {
        int s = tcp_accept(ls, NULL, -1);
        if(s < 0) {
            if(errno == ECANCELED) return;
            fprintf(stderr, "tcp_clients: tcp_accept: errno %d\n", errno);
            exit(1);
        }
        if(bundle_go(handlers, handler(s)) != 0) {
            fprintf(stderr, "tcp_clients: go: errno %d\n", errno);
            exit(1);
        }
    }
}

static long done_trips;

static coroutine void client(struct ipaddr addr, long trips, int id) {
    int s = tcp_connect(&addr, -1);
    if(s < 0) {
        fprintf(stderr, "tcp_clients: tcp_connect: errno %d\n", errno);
        exit(1);
    }
    char buf[MSG];
    memset(buf, id, sizeof(buf));
    for(long i = 0; i < trips; i++) {
        buf[0] = (char)i;
        if(bsend(s, buf, MSG, -1) != 0 || brecv(s, buf, MSG, -1) != 0 ||
              buf[0] != (char)i || buf[1] != (char)id) {
            fprintf(stderr, "tcp_clients: round trip failed: errno %d\n",
                errno);
            exit(1);
        }
        done_trips++;
    }
    hclose(s);
}

int main(int argc, char *argv[]) {
    long n = bench_count(argc, argv, 100000);
    long nclients = argc > 2 ? atol(argv[2]) : 2000;
    BENCH_CHECK(nclients > 0 && n % nclients == 0);
    struct rlimit rl;
    BENCH_CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rl.rlim_cur = rl.rlim_max;
    BENCH_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    BENCH_CHECK(rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > (rlim_t)(2 * nclients + 64));

    struct ipaddr addr;
    BENCH_CHECK(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4) == 0);
    int ls = tcp_listen(&addr, 4096);
    BENCH_CHECK(ls >= 0);
    int handlers = bundle();
    BENCH_CHECK(handlers >= 0);
    int acc = go(acceptor(ls, handlers));
    BENCH_CHECK(acc >= 0);

    long long t0 = bench_ns();
    int clients = bundle();
    BENCH_CHECK(clients >= 0);
    for(long i = 0; i < nclients; i++)
        BENCH_CHECK(bundle_go(clients, client(addr, n / nclients,
            (int)(i & 0x7f))) == 0);
    BENCH_CHECK(bundle_wait(clients, -1) == 0);
    long long t1 = bench_ns();
    BENCH_CHECK(done_trips == n);

    BENCH_CHECK(hclose(clients) == 0);
    BENCH_CHECK(hclose(acc) == 0);
    BENCH_CHECK(hclose(handlers) == 0);
    BENCH_CHECK(hclose(ls) == 0);
    printf("tcp_clients: %ld ops, %.1f ns/op (%ld clients x %ld round "
        "trips, total %.1f ms)\n", n, (double)(t1 - t0) / (double)n,
        nclients, n / nclients, (double)(t1 - t0) / 1e6);
    return 0;
}
