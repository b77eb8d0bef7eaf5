/* http_server: an HTTP/1.1 server for load generators such as wrk. One
   coroutine per connection: tcp_accept, then per request http_attach on
   the connection (not http_attach_mem: the original 2.6's http_detach
   frees the caller's memory), the request line and fields up to the empty line,
   a 200 status with Content-Length, http_detach and the 13-byte body on
   the TCP socket; the connection is kept alive until the client closes it
   (or sends "Connection: close").

   argv[1] = port on 127.0.0.1 (0 or absent: any free port). Prints
   "port N" on stdout once listening, then serves until SIGTERM/SIGINT and
   prints "errors N", the requests that failed.

   argv[2] = "leak": when a connection ends, its HTTP handle is left open.
   The original 2.6 aborts in hclose of an HTTP socket (its CRLF layer
   frees memory it did not allocate) and in an http_detach that fails, so
   on it there is no way to close a connection whose client went away; a
   server on it can only leak the handle (and the fd). */
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bench.h"

#define BODY "Hello, world!"

static volatile sig_atomic_t stop;
static long errors;
static int leak;

/* A connection that ended with the HTTP socket attached. */
static void end(int h) {
    if(!leak) hclose(h);
}

static void on_signal(int sig) { (void)sig; stop = 1; }

/* The client went away (wrk closes its connections with requests in
   flight when its time is up) or the server is shutting down: the end of
   a connection, not a failed request. */
static int gone(void) {
    return errno == EPIPE || errno == ECONNRESET || errno == ECANCELED;
}

static coroutine void connection(int s) {
    while(1) {
        int h = http_attach(s);
        if(h < 0) { errors++; break; }
        char cmd[16], res[256];
        if(http_recvrequest(h, cmd, sizeof(cmd), res, sizeof(res), -1) != 0) {
            if(!gone()) errors++;
            end(h);
            return;
        }
        int keep = 1;
        while(1) {
            char name[64], value[256];
            if(http_recvfield(h, name, sizeof(name), value, sizeof(value), -1) != 0) {
                /* EPIPE: the empty line that ends the fields. */
                if(errno != EPIPE) { if(!gone()) errors++; end(h); return; }
                break;
            }
            if(strcasecmp(name, "Connection") == 0 && strcasecmp(value, "close") == 0)
                keep = 0;
        }
        if(http_sendstatus(h, 200, "OK", -1) != 0 ||
           http_sendfield(h, "Content-Length", "13", -1) != 0 ||
           bench_http_done(h, -1) != 0) {
            if(!gone()) errors++;
            end(h);
            return;
        }
        s = http_detach(h, -1);
        if(s < 0) { errors++; return; }
        if(bsend(s, BODY, sizeof(BODY) - 1, -1) != 0) {
            if(!gone()) errors++;
            break;
        }
        if(!keep) break;
    }
    hclose(s);
}

int main(int argc, char *argv[]) {
    int port = argc > 1 ? atoi(argv[1]) : 0;
    leak = argc > 2 && strcmp(argv[2], "leak") == 0;
    struct ipaddr addr;
    BENCH_CHECK(ipaddr_local(&addr, "127.0.0.1", port, IPADDR_IPV4) == 0);
    int ls = tcp_listen(&addr, 1024);
    BENCH_CHECK(ls >= 0);
    printf("port %d\n", ipaddr_port(&addr));
    fflush(stdout);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int conns = bundle();
    BENCH_CHECK(conns >= 0);
    while(!stop) {
        /* A deadline so that a signal between accepts ends the loop. */
        int s = tcp_accept(ls, NULL, now() + 200);
        if(s < 0) {
            if(errno == ETIMEDOUT || errno == EINTR) continue;
            if(errno == EMFILE || errno == ENFILE) { msleep(now() + 10); continue; }
            fprintf(stderr, "http_server: tcp_accept: errno %d\n", errno);
            return 1;
        }
        if(bundle_go(conns, connection(s)) != 0) {
            errors++;
            hclose(s);
        }
    }
    hclose(conns);
    hclose(ls);
    printf("errors %ld\n", errors);
    return 0;
}
