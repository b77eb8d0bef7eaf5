/* 2.14 happyeyeballs_connect (RFC 8305): connections by numeric name and
   by "localhost" to an IPv4 or an IPv6 listener on the same port number,
   data both ways over the connection it makes, refusal everywhere, an
   address that never answers (a listener whose accept queue is full drops
   the SYNs) against deadlines and cancellation, bad arguments, and no
   descriptor left open.

   IPv6 parts need ::1; those that go through "localhost" need a hosts file
   that names it with both 127.0.0.1 and ::1. Either missing, they are
   skipped with a note. (The race itself, with every address on IPv4
   loopback, is tested in src/net/happyeyeballs_tests.rs.) */
#include <arpa/inet.h>
#include <dirent.h>
#include <libdill.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "../check.h"

/* Closes a socket the runtime may have waited on. */
static void raw_close(int fd) {
    fdclean(fd);
    close(fd);
}

static int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int n = 0;
    while(readdir(d)) n++;
    closedir(d);
    return n;
}

/* A plain POSIX listener on ip:port (port 0: any), -1 if that address
   cannot be had. With full set, its accept queue is filled (backlog 0,
   connections never accepted) so that further SYNs are dropped: an
   address that never answers. Returns the port in *port. */
static int raw_listener(int family, const char *ip, int *port, int full) {
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, ip, *port, family == AF_INET ? IPADDR_IPV4 : IPADDR_IPV6));
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if(fd < 0) return -1;
    if(bind(fd, ipaddr_sockaddr(&a), ipaddr_len(&a)) < 0) {close(fd); return -1;}
    CHECK_OK(listen(fd, full ? 0 : 16));
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    CHECK_OK(getsockname(fd, (struct sockaddr*)&ss, &len));
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in*)&ss)->sin_port :
        ((struct sockaddr_in6*)&ss)->sin6_port);
    return fd;
}

/* Connections that fill a full listener's queue. */
#define FILL 8
struct blackhole {int l; int fill[FILL]; int n;};

static int blackhole(struct blackhole *b, int family, const char *ip, int *port) {
    b->l = raw_listener(family, ip, port, 1);
    if(b->l < 0) return -1;
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, ip, *port, family == AF_INET ? IPADDR_IPV4 : IPADDR_IPV6));
    for(b->n = 0; b->n < FILL; b->n++) {
        int c = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        CHECK(c >= 0);
        b->fill[b->n] = c;
        int rc = connect(c, ipaddr_sockaddr(&a), ipaddr_len(&a));
        CHECK(rc == 0 || errno == EINPROGRESS);
        struct pollfd p = {c, POLLOUT, 0};
        if(poll(&p, 1, 200) == 0) {b->n++; return 0;}
    }
    CHECK(!"the accept queue does not fill");
    return -1;
}

static void blackhole_close(struct blackhole *b) {
    for(int i = 0; i != b->n; i++) close(b->fill[i]);
    raw_close(b->l);
}

/* Accepts one connection on raw listener l and echoes 5 bytes back;
   stores the peer's family. */
static int accepted_family;
static coroutine void echo_once(int l) {
    CHECK_OK(fdin(l, -1));
    int fd = accept(l, NULL, NULL);
    CHECK(fd >= 0);
    int s = tcp_fromfd(fd);
    CHECK(s >= 0);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    CHECK_OK(getsockname(fd, (struct sockaddr*)&ss, &len));
    accepted_family = ss.ss_family;
    char buf[5];
    CHECK_OK(brecv(s, buf, 5, -1));
    CHECK_OK(bsend(s, buf, 5, -1));
    CHECK_ERR(brecv(s, buf, 1, -1), EPIPE);
    CHECK_OK(tcp_close(s, -1));
}

/* happyeyeballs_connect(name, port) must reach listener l (of family):
   a round trip, then an orderly close. */
static void connect_to(int l, const char *name, int port, int family) {
    accepted_family = -1;
    int h = go(echo_once(l));
    CHECK(h >= 0);
    int s = happyeyeballs_connect(name, port, now() + 5000);
    CHECK(s >= 0);
    char buf[5];
    CHECK_OK(bsend(s, "hello", 5, -1));
    CHECK_OK(brecv(s, buf, 5, -1));
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_OK(tcp_done(s, -1));
    CHECK_OK(tcp_close(s, -1));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK(accepted_family == family);
}

/* A port number free on both 127.0.0.1 and ::1; -1 without IPv6. */
static int dual_port(void) {
    for(int i = 0; i != 100; i++) {
        int port = 0;
        int l6 = raw_listener(AF_INET6, "::1", &port, 0);
        if(l6 < 0) return -1;
        int l4 = raw_listener(AF_INET, "127.0.0.1", &port, 0);
        close(l6);
        if(l4 >= 0) {close(l4); return port;}
    }
    CHECK(!"no port free on both families");
    return -1;
}

static coroutine void canceled_connect(const char *name, int port, int *err) {
    int s = happyeyeballs_connect(name, port, -1);
    *err = s < 0 ? errno : 0;
}

static coroutine void connect_after_cancel(const char *name, int port, int *err) {
    CHECK_ERR(msleep(-1), ECANCELED);
    int s = happyeyeballs_connect(name, port, -1);
    *err = s < 0 ? errno : 0;
}

int main(void) {
    /* The runtime's own descriptors (its poller) are there before we count. */
    int port = 0;
    int l = raw_listener(AF_INET, "127.0.0.1", &port, 0);
    CHECK_ERR(fdin(l, 0), ETIMEDOUT);
    raw_close(l);
    int fds = open_fds();

    /* Bad arguments. */
    CHECK_ERR(happyeyeballs_connect(NULL, 80, -1), EINVAL);
    CHECK_ERR(happyeyeballs_connect("127.0.0.1", 0, -1), EINVAL);
    CHECK_ERR(happyeyeballs_connect("127.0.0.1", -1, -1), EINVAL);
    CHECK_ERR(happyeyeballs_connect("127.0.0.1", 65536, -1), EINVAL);
    /* Names with no address. */
    CHECK_ERR(happyeyeballs_connect("name.invalid", 80, -1), EADDRNOTAVAIL);
    CHECK_ERR(happyeyeballs_connect("", 80, -1), EADDRNOTAVAIL);

    /* What does the hosts file say of localhost? */
    struct ipaddr as[4];
    int n4 = ipaddr_remotes(as, 4, "localhost", 80, IPADDR_IPV4, -1);
    int n6 = ipaddr_remotes(as, 4, "localhost", 80, IPADDR_IPV6, -1);
    CHECK(n4 >= 0 && n6 >= 0);
    int have6 = dual_port() > 0;
    int dual = have6 && n4 > 0 && n6 > 0;
    if(!have6) printf("note: no IPv6 loopback (::1): the IPv6 parts are skipped\n");
    else if(!dual) printf("note: localhost is not both 127.0.0.1 and ::1 here: its dual-stack parts are skipped\n");

    /* IPv4: numeric, and localhost if it has an IPv4 address. */
    port = 0;
    l = raw_listener(AF_INET, "127.0.0.1", &port, 0);
    CHECK(l >= 0);
    connect_to(l, "127.0.0.1", port, AF_INET);
    if(n4 > 0) connect_to(l, "localhost", port, AF_INET);
    raw_close(l);

    if(have6) {
        /* Only an IPv6 listener: ::1, and localhost (IPv6 first). */
        port = dual_port();
        l = raw_listener(AF_INET6, "::1", &port, 0);
        CHECK(l >= 0);
        connect_to(l, "::1", port, AF_INET6);
        if(n6 > 0) connect_to(l, "localhost", port, AF_INET6);
        raw_close(l);
        /* Only an IPv4 listener on the same port number: localhost's ::1
           refuses at once and 127.0.0.1 is tried without waiting. */
        if(dual) {
            l = raw_listener(AF_INET, "127.0.0.1", &port, 0);
            CHECK(l >= 0);
            int64_t start = now();
            connect_to(l, "localhost", port, AF_INET);
            CHECK_ELAPSED(start, 0, 200);
            /* ::1 never answers: 127.0.0.1 is tried 300 ms later, and wins. */
            struct blackhole b;
            CHECK_OK(blackhole(&b, AF_INET6, "::1", &port));
            start = now();
            connect_to(l, "localhost", port, AF_INET);
            CHECK_ELAPSED(start, 290, 900);
            blackhole_close(&b);
            raw_close(l);
        }
    }

    /* Refused everywhere: at once, not a delay per address. */
    port = have6 ? dual_port() : 0;
    if(!port) {
        l = raw_listener(AF_INET, "127.0.0.1", &port, 0);
        raw_close(l);
    }
    int64_t start = now();
    CHECK_ERR(happyeyeballs_connect("127.0.0.1", port, -1), ECONNREFUSED);
    CHECK_ERR(happyeyeballs_connect("localhost", port, -1), ECONNREFUSED);
    if(have6) CHECK_ERR(happyeyeballs_connect("::1", port, -1), ECONNREFUSED);
    CHECK_ELAPSED(start, 0, 200);

    /* An address that never answers, against deadlines. */
    port = 0;
    struct blackhole b;
    CHECK_OK(blackhole(&b, AF_INET, "127.0.0.1", &port));
    start = now();
    CHECK_ERR(happyeyeballs_connect("127.0.0.1", port, now() + 100), ETIMEDOUT);
    CHECK_ELAPSED(start, 95, 600);
    start = now();
    CHECK_ERR(happyeyeballs_connect("127.0.0.1", port, 0), ETIMEDOUT);
    CHECK_ERR(happyeyeballs_connect("127.0.0.1", port, now() - 1000), ETIMEDOUT);
    CHECK_ELAPSED(start, 0, 100);

    /* Canceled while connecting: ECANCELED, its sockets closed. (What
       the coroutine stores is static: to the compiler, a call that
       returned can change no local of ours.) */
    static int err;
    err = -1;
    int h = go(canceled_connect("127.0.0.1", port, &err));
    CHECK(h >= 0);
    CHECK_OK(msleep(now() + 50));
    CHECK(err == -1);
    CHECK_OK(hclose(h));
    CHECK(err == ECANCELED);
    /* Called in a coroutine already canceled: ECANCELED at once. */
    err = -1;
    h = go(connect_after_cancel("127.0.0.1", port, &err));
    CHECK(h >= 0);
    CHECK_OK(msleep(now() + 10));
    start = now();
    CHECK_OK(hclose(h));
    CHECK(err == ECANCELED);
    CHECK_ELAPSED(start, 0, 100);
    blackhole_close(&b);

    CHECK(open_fds() == fds);
    printf("ok: %d descriptors open before and after\n", fds);
    return 0;
}
