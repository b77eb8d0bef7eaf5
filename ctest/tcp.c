/* TCP: tcp_listen(_mem), tcp_accept(_mem), tcp_connect(_mem), tcp_close,
   hdone, and bsend/brecv(l) over loopback connections: errors, deadlines,
   cancelation, orderly and forced shutdown, large transfers.

   The first sub-test ("deadlines win") closes a connection whose peer never
   stops sending: tcp_close(s, now() + 200) must give up with ETIMEDOUT after
   about 200 ms. libdill 2.6 spins in its drain loop forever there, so on
   the original library this sub-test fails (its child is killed). */
#include <libdill.h>
#include <pthread.h>

#include "sockutil.h"

/* Result of an operation run in a coroutine. */
struct outcome {
    int done;
    long rc;
    int err;
};

static void outcome_check(const struct outcome *o, long rc, int err) {
    if(!o->done || o->rc != rc || (rc == -1 && o->err != err)) {
        fprintf(stderr, "coroutine outcome: done=%d rc=%ld errno=%d (%s), "
            "expected rc=%ld errno=%d (%s)\n", o->done, o->rc, o->err,
            strerror(o->err), rc, err, strerror(err));
        abort();
    }
}

/* Listener on 127.0.0.1 with a port picked by the system; the port is
   written back into *a by tcp_listen. */
static int listen4(struct ipaddr *a, int backlog) {
    loop4(a, 0);
    int ls = tcp_listen(a, backlog);
    CHECK(ls >= 0);
    CHECK(ipaddr_port(a) > 0);
    return ls;
}

/* ------------------------------------------------------------------------ */
/* Deadlines win: a peer (another thread) floods us while we tcp_close.     */
/* ------------------------------------------------------------------------ */

static void *flood(void *arg) {
    int fd = *(int*)arg;
    static char junk[65536];
    while(send(fd, junk, sizeof(junk), MSG_NOSIGNAL) > 0) {}
    return NULL;
}

/* The descriptor behind our end of the raw connection 'peer', if it is
   'candidate' (the lowest free number before the accept), else -1. */
static int our_fd(int candidate, int peer) {
    struct sockaddr_in mine, theirs;
    socklen_t l1 = sizeof(mine), l2 = sizeof(theirs);
    if(getpeername(candidate, (struct sockaddr*)&mine, &l1) != 0) return -1;
    if(getsockname(peer, (struct sockaddr*)&theirs, &l2) != 0) return -1;
    return mine.sin_port == theirs.sin_port ? candidate : -1;
}

static void deadline_wins(void *unused) {
    struct ipaddr a;
    int ls = listen4(&a, 10);
    static int fd;
    fd = raw_tcp_connect(&a);
    int big = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    int next = dup(0);
    CHECK(next >= 0);
    CHECK_OK(close(next));
    int s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    /* Large buffers on both ends, so that the data in flight outlasts
       the deadline by far (a drain loop that only looks at the clock when
       the socket runs dry is then caught reliably). The library's own
       descriptor is found without its help; if it cannot be, the test
       still runs, just less sharply. */
    int mine = our_fd(next, fd);
    if(mine >= 0) setsockopt(mine, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    pthread_t th;
    CHECK_OK(pthread_create(&th, NULL, flood, &fd));
    /* Let the flood fill our receive buffer first. */
    CHECK_OK(msleep(now() + 100));
    int64_t t0 = now();
    CHECK_ERR(tcp_close(s, now() + 200), ETIMEDOUT);
    CHECK_TOOK(t0, 200);
    /* The handle is gone even though the close failed. */
    CHECK_HANDLE_GONE(s);
    CHECK_OK(hclose(ls));
}

/* ------------------------------------------------------------------------ */
/* Listener basics and argument errors.                                     */
/* ------------------------------------------------------------------------ */

static void test_listener(void) {
    struct ipaddr a, b;
    int ls = listen4(&a, 10);
    int port = ipaddr_port(&a);

    /* The port is taken, on the same and on the wildcard address. */
    loop4(&b, port);
    CHECK_ERR(tcp_listen(&b, 10), EADDRINUSE);
    CHECK_OK(ipaddr_local(&b, NULL, port, IPADDR_IPV4));
    CHECK_ERR(tcp_listen(&b, 10), EADDRINUSE);
    /* An address this machine does not have (TEST-NET-3, no packet is
       sent: bind fails locally). */
    CHECK_OK(ipaddr_local(&b, "203.0.113.77", 0, IPADDR_IPV4));
    CHECK_ERR(tcp_listen(&b, 10), EADDRNOTAVAIL);

    /* Nothing is connecting: accept times out. */
    int64_t t0 = now();
    CHECK_ERR(tcp_accept(ls, NULL, 0), ETIMEDOUT);
    CHECK_QUICK(t0);
    t0 = now();
    CHECK_ERR(tcp_accept(ls, NULL, now() + 60), ETIMEDOUT);
    CHECK_TOOK(t0, 60);
    /* ...and the listener still works afterwards. */
    int c = raw_tcp_connect(&a);
    struct ipaddr peer;
    int s = tcp_accept(ls, &peer, now() + 1000);
    CHECK(s >= 0);
    char str[IPADDR_MAXSTRLEN];
    CHECK(ipaddr_family(&peer) == AF_INET);
    CHECK(strcmp(ipaddr_str(&peer, str), "127.0.0.1") == 0);
    {
        struct sockaddr_in sin;
        socklen_t len = sizeof(sin);
        CHECK_OK(getsockname(c, (struct sockaddr*)&sin, &len));
        CHECK(ipaddr_port(&peer) == ntohs(sin.sin_port));
    }
    CHECK_OK(close(c));
    CHECK_OK(hclose(s));

    /* A listener is not a byte stream, nor a message socket. */
    char buf[4];
    CHECK_ERR(bsend(ls, "x", 1, 0), ENOTSUP);
    CHECK_ERR(brecv(ls, buf, 1, 0), ENOTSUP);
    CHECK_ERR(msend(ls, "x", 1, 0), ENOTSUP);
    CHECK_ERR(mrecv(ls, buf, 1, 0), ENOTSUP);

    /* tcp_close on a listener is plain hclose. */
    CHECK_OK(tcp_close(ls, 0));
    CHECK_ERR(hclose(ls), EBADF);
    CHECK_ERR(tcp_accept(ls, NULL, 0), EBADF);
    /* The port can be listened on again. */
    loop4(&b, port);
    ls = tcp_listen(&b, 10);
    CHECK(ls >= 0);
    CHECK(ipaddr_port(&b) == port);
    CHECK_OK(hclose(ls));

    /* Invalid handles and handles of the wrong kind. */
    GUARDED(g, TCP_SIZE);
    CHECK_ERR(tcp_accept(-1, NULL, 0), EBADF);
    CHECK_ERR(tcp_accept(12345, NULL, 0), EBADF);
    CHECK_ERR(tcp_accept_mem(12345, NULL, g.mem, 0), EBADF);
    CHECK_ERR(tcp_close(-1, 0), EBADF);
    CHECK_ERR(tcp_close(12345, 0), EBADF);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(tcp_accept(ch[0], NULL, 0), ENOTSUP);
    CHECK_ERR(tcp_accept_mem(ch[0], NULL, g.mem, 0), ENOTSUP);
    CHECK_ERR(tcp_close(ch[0], 0), ENOTSUP);
    CHECK_ERR(bsend(ch[0], "x", 1, 0), ENOTSUP);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    int pr[2];
    CHECK_OK(ipc_pair(pr));
    CHECK_ERR(tcp_accept(pr[0], NULL, 0), ENOTSUP);
    CHECK_ERR(tcp_close(pr[0], 0), ENOTSUP);
    CHECK_OK(hclose(pr[0]));
    CHECK_OK(hclose(pr[1]));

    /* NULL memory. */
    ls = listen4(&a, 10);
    CHECK_ERR(tcp_listen_mem(&b, 10, NULL), EINVAL);
    CHECK_ERR(tcp_accept_mem(ls, NULL, NULL, 0), EINVAL);
    CHECK_ERR(tcp_connect_mem(&a, NULL, now() + 1000), EINVAL);
    CHECK_OK(hclose(ls));
}

/* ------------------------------------------------------------------------ */
/* Connect errors.                                                          */
/* ------------------------------------------------------------------------ */

static struct outcome blocked;

static coroutine void connect_forever(struct ipaddr a) {
    errno = 0;
    blocked.rc = tcp_connect(&a, -1);
    blocked.err = errno;
    blocked.done = 1;
}

/* Fills the accept queue of the listener at a until one more connection
   attempt hangs (its SYN is dropped). Returns the number of raw sockets
   stored in fds, or -1 if attempts never hang on this system. */
static int fill_accept_queue(const struct ipaddr *a, int *fds, int max) {
    for(int n = 0; n < max; n++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(fd >= 0);
        CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
        int rc = connect(fd, ipaddr_sockaddr(a), ipaddr_len(a));
        CHECK(rc == 0 || errno == EINPROGRESS);
        fds[n] = fd;
        struct pollfd p = {fd, POLLOUT, 0};
        if(rc != 0 && poll(&p, 1, 100) == 0) return n + 1;
    }
    for(int n = 0; n < max; n++) close(fds[n]);
    return -1;
}

static void test_connect_errors(void) {
    /* Refused: a port that was just released. */
    struct ipaddr a;
    int ls = listen4(&a, 10);
    CHECK_OK(hclose(ls));
    int64_t t0 = now();
    CHECK_ERR(tcp_connect(&a, now() + 1000), ECONNREFUSED);
    CHECK_QUICK(t0);
    GUARDED(g, TCP_SIZE);
    GUARD_SET(g);
    CHECK_ERR(tcp_connect_mem(&a, g.mem, now() + 1000), ECONNREFUSED);
    GUARD_CHECK(g);

    /* A listener whose queue is full does not answer: the connect attempt
       times out, or is canceled. */
    ls = listen4(&a, 1);
    int fds[64];
    int n = fill_accept_queue(&a, fds, 64);
    if(n < 0) {
        NOTE("connects to a full accept queue succeed here (is the "
            "backlog argument of tcp_listen honoured?); connect "
            "timeout/cancel not tested");
    }
    else {
        t0 = now();
        CHECK_ERR(tcp_connect(&a, now() + 80), ETIMEDOUT);
        CHECK_TOOK(t0, 80);
        t0 = now();
        CHECK_ERR(tcp_connect(&a, 0), ETIMEDOUT);
        CHECK_QUICK(t0);
        memset(&blocked, 0, sizeof(blocked));
        int cr = go(connect_forever(a));
        CHECK(cr >= 0);
        CHECK_OK(msleep(now() + 50));
        CHECK(!blocked.done);
        t0 = now();
        CHECK_OK(hclose(cr));
        CHECK_QUICK(t0);
        outcome_check(&blocked, -1, ECANCELED);
        for(int i = 0; i < n; i++) CHECK_OK(close(fds[i]));
    }
    CHECK_OK(hclose(ls));
}

/* ------------------------------------------------------------------------ */
/* Exchange, half-close and EPIPE.                                          */
/* ------------------------------------------------------------------------ */

static coroutine void halfclose_client(struct ipaddr a) {
    int s = tcp_connect(&a, now() + 1000);
    CHECK(s >= 0);
    char buf[8];
    CHECK_OK(brecv(s, buf, 5, now() + 1000));
    CHECK(memcmp(buf, "hello", 5) == 0);
    /* The server called hdone: end of stream, for good. */
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), EPIPE);
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), EPIPE);
    /* Our direction is still open. */
    CHECK_OK(bsend(s, "world", 5, now() + 1000));
    /* The server already finished its side: tcp_close completes. */
    CHECK_OK(tcp_close(s, now() + 1000));
}

static void test_halfclose(void) {
    struct ipaddr a;
    int ls = listen4(&a, 10);
    int cr;
    SPAWN(cr, halfclose_client(a));
    int s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "hello", 5, now() + 1000));
    CHECK_OK(hdone(s, now() + 1000));
    /* No sending after hdone, and hdone only once. */
    CHECK_ERR(bsend(s, "x", 1, now() + 1000), EPIPE);
    struct iolist iol = {"x", 1, NULL, 0};
    CHECK_ERR(bsendl(s, &iol, &iol, now() + 1000), EPIPE);
    CHECK_ERR(hdone(s, now() + 1000), EPIPE);
    /* Receiving still works. */
    char buf[8];
    CHECK_OK(brecv(s, buf, 5, now() + 1000));
    CHECK(memcmp(buf, "world", 5) == 0);
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), EPIPE);
    CHECK_OK(tcp_close(s, now() + 1000));
    JOIN(cr);
    CHECK_OK(hclose(ls));
}

/* The peer closes while we wait for more than it sent: EPIPE, not a
   partial read. */
static coroutine void short_writer(struct ipaddr a) {
    int s = tcp_connect(&a, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "abc", 3, now() + 1000));
    CHECK_OK(tcp_close(s, now() + 1000));
}

static void test_short_read(void) {
    struct ipaddr a;
    int ls = listen4(&a, 10);
    int cr;
    SPAWN(cr, short_writer(a));
    int s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    char buf[8];
    CHECK_ERR(brecv(s, buf, 8, now() + 1000), EPIPE);
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), EPIPE);
    CHECK_OK(tcp_close(s, now() + 1000));
    JOIN(cr);
    CHECK_OK(hclose(ls));
}

/* ------------------------------------------------------------------------ */
/* Deadlines and cancelation of brecv / bsend / accept.                     */
/* ------------------------------------------------------------------------ */

static coroutine void brecv_forever(int s) {
    char c;
    errno = 0;
    blocked.rc = brecv(s, &c, 1, -1);
    blocked.err = errno;
    blocked.done = 1;
}

static char *junk;
#define JUNK_LEN (32 << 20)

static coroutine void bsend_forever(int s) {
    errno = 0;
    blocked.rc = bsend(s, junk, JUNK_LEN, -1);
    blocked.err = errno;
    blocked.done = 1;
}

static coroutine void accept_forever(int ls) {
    errno = 0;
    blocked.rc = tcp_accept(ls, NULL, -1);
    blocked.err = errno;
    blocked.done = 1;
}

static void cancel_blocked(int cr) {
    CHECK(cr >= 0);
    CHECK_OK(msleep(now() + 50));
    CHECK(!blocked.done);
    int64_t t0 = now();
    CHECK_OK(hclose(cr));
    CHECK_QUICK(t0);
    outcome_check(&blocked, -1, ECANCELED);
}

static void test_deadlines(void) {
    struct ipaddr a;
    int ls = listen4(&a, 10);
    int c = raw_tcp_connect(&a);
    int s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    char buf[16];

    /* brecv with nothing to read. */
    int64_t t0 = now();
    CHECK_ERR(brecv(s, buf, 1, 0), ETIMEDOUT);
    CHECK_QUICK(t0);
    /* After a failed receive the socket cannot be used for receiving,
       even when there is data. */
    raw_send(c, "defg", 4);
    CHECK_OK(msleep(now() + 20));
    CHECK(brecv(s, buf, 1, now() + 100) == -1);
    /* Sending still works. */
    CHECK_OK(bsend(s, "xyz", 3, now() + 1000));
    raw_recv(c, buf, 3);
    CHECK(memcmp(buf, "xyz", 3) == 0);
    CHECK_OK(hclose(s));
    CHECK_OK(close(c));

    /* A partial message is not enough. */
    c = raw_tcp_connect(&a);
    s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    raw_send(c, "abc", 3);
    t0 = now();
    CHECK_ERR(brecv(s, buf, 4, now() + 60), ETIMEDOUT);
    CHECK_TOOK(t0, 60);

    /* bsend into a peer that does not read. */
    t0 = now();
    CHECK_ERR(bsend(s, junk, JUNK_LEN, now() + 100), ETIMEDOUT);
    CHECK_TOOK(t0, 100);
    CHECK(bsend(s, "x", 1, now() + 100) == -1);
    CHECK_OK(hclose(s));
    CHECK_OK(close(c));

    /* Cancelation while blocked in brecv, bsend and accept. */
    c = raw_tcp_connect(&a);
    s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    memset(&blocked, 0, sizeof(blocked));
    cancel_blocked(go(brecv_forever(s)));
    memset(&blocked, 0, sizeof(blocked));
    cancel_blocked(go(bsend_forever(s)));
    CHECK_OK(hclose(s));
    CHECK_OK(close(c));
    memset(&blocked, 0, sizeof(blocked));
    cancel_blocked(go(accept_forever(ls)));
    /* The listener survives a canceled accept. */
    c = raw_tcp_connect(&a);
    s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(hclose(s));
    CHECK_OK(close(c));
    CHECK_OK(hclose(ls));
}

/* ------------------------------------------------------------------------ */
/* Resets.                                                                  */
/* ------------------------------------------------------------------------ */

static void test_reset(void) {
    struct ipaddr a;
    int ls = listen4(&a, 10);

    /* Peer resets while we wait for data. */
    int c = raw_tcp_connect(&a);
    int s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    raw_reset(c);
    char buf[8];
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), ECONNRESET);
    CHECK_ERR(bsend(s, "x", 1, now() + 1000), ECONNRESET);
    /* tcp_close of a broken connection reports it, and closes anyway. */
    CHECK_ERR(tcp_close(s, now() + 1000), ECONNRESET);
    CHECK_HANDLE_GONE(s);

    /* Peer resets while we are blocked sending. */
    c = raw_tcp_connect(&a);
    s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    memset(&blocked, 0, sizeof(blocked));
    int cr = go(bsend_forever(s));
    CHECK(cr >= 0);
    CHECK_OK(msleep(now() + 50));
    CHECK(!blocked.done);
    raw_reset(c);
    WAIT_FOR(blocked.done, 3000);
    outcome_check(&blocked, -1, ECONNRESET);
    CHECK_OK(hclose(cr));
    CHECK_OK(hclose(s));

    /* Peer closes without reading what we sent: that is a reset too. */
    c = raw_tcp_connect(&a);
    s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "unread", 6, now() + 1000));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(close(c));
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), ECONNRESET);
    CHECK_OK(hclose(s));
    CHECK_OK(hclose(ls));
}

/* ------------------------------------------------------------------------ */
/* tcp_close.                                                               */
/* ------------------------------------------------------------------------ */

#define CLOSE_DATA (1 << 20)

/* Reads everything the other side sends, then closes. */
static coroutine void reader_then_close(struct ipaddr a, uint64_t seed) {
    int s = tcp_connect(&a, now() + 1000);
    CHECK(s >= 0);
    char *buf = malloc(CLOSE_DATA);
    CHECK(buf);
    CHECK_OK(brecv(s, buf, CLOSE_DATA, now() + 3000));
    struct stream st;
    stream_init(&st, seed);
    stream_expect(&st, buf, CLOSE_DATA);
    CHECK_ERR(brecv(s, buf, 1, now() + 3000), EPIPE);
    free(buf);
    CHECK_OK(tcp_close(s, now() + 3000));
}

/* Sends a lot and finishes its side without reading anything; keeps the
   connection until told to go (its own close may reset the connection,
   which must not race with our draining). */
static coroutine void writer_then_done(struct ipaddr a, int go_away) {
    int s = tcp_connect(&a, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, junk, 300000, now() + 3000));
    CHECK_OK(hdone(s, now() + 3000));
    char c;
    CHECK_ERR(brecv(s, &c, 1, now() + 3000), EPIPE);
    int dummy;
    CHECK_OK(chrecv(go_away, &dummy, sizeof(dummy), now() + 3000));
    CHECK_OK(hclose(s));
}

/* Connects and then never sends or closes until canceled. */
static coroutine void silent_peer(struct ipaddr a) {
    int s = tcp_connect(&a, now() + 1000);
    CHECK(s >= 0);
    CHECK_ERR(msleep(-1), ECANCELED);
    CHECK_OK(hclose(s));
}

static void test_close(void) {
    struct ipaddr a;
    int ls = listen4(&a, 10);

    /* Orderly: our data is all delivered before the handshake ends. */
    int cr;
    SPAWN(cr, reader_then_close(a, 7));
    int s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    char *buf = malloc(CLOSE_DATA);
    CHECK(buf);
    struct stream st;
    stream_init(&st, 7);
    stream_fill(&st, buf, CLOSE_DATA);
    CHECK_OK(bsend(s, buf, CLOSE_DATA, now() + 3000));
    free(buf);
    int64_t t0 = now();
    CHECK_OK(tcp_close(s, now() + 3000));
    CHECK_ELAPSED(t0, 0, 2000);
    CHECK_HANDLE_GONE(s);
    JOIN(cr);

    /* Inbound data nobody read is discarded by tcp_close. */
    int ch[2];
    CHECK_OK(chmake(ch));
    SPAWN(cr, writer_then_done(a, ch[1]));
    s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(tcp_close(s, now() + 3000));
    int one = 1;
    CHECK_OK(chsend(ch[0], &one, sizeof(one), now() + 1000));
    JOIN(cr);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));

    /* The peer never closes its side: the deadline ends the wait. */
    cr = go(silent_peer(a));
    CHECK(cr >= 0);
    s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    t0 = now();
    CHECK_ERR(tcp_close(s, now() + 100), ETIMEDOUT);
    CHECK_TOOK(t0, 100);
    CHECK_HANDLE_GONE(s);
    CHECK_OK(hclose(cr));

    /* Deadline 0 with a peer that has not closed. */
    cr = go(silent_peer(a));
    CHECK(cr >= 0);
    s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    t0 = now();
    CHECK_ERR(tcp_close(s, 0), ETIMEDOUT);
    CHECK_QUICK(t0);
    CHECK_OK(hclose(cr));

    CHECK_OK(hclose(ls));
}

/* ------------------------------------------------------------------------ */
/* Large transfers in both directions at once, on caller-supplied memory.   */
/* ------------------------------------------------------------------------ */

static const size_t send_chunks[] = {1, 7, 100, 1460, 4096, 65536, 300001,
    1 << 20, 13, 2000, 2001};
static const size_t recv_chunks[] = {3, 64, 999, 2000, 2001, 65535, 500000,
    1, 1999, 77777};
#define BULK_SEND(s, seed) \
    bulk_send(s, seed, send_chunks, NCHUNKS(send_chunks))
#define BULK_RECV(s, seed) \
    bulk_recv(s, seed, recv_chunks, NCHUNKS(recv_chunks))

static GUARDED(conn_mem, TCP_SIZE);

static coroutine void bulk_client(struct ipaddr a) {
    int s = tcp_connect_mem(&a, conn_mem.mem, now() + 1000);
    CHECK(s >= 0);
    int b = bundle();
    CHECK(b >= 0);
    CHECK(bundle_go(b, BULK_SEND(s, 1)) == 0);
    CHECK(bundle_go(b, BULK_RECV(s, 2)) == 0);
    CHECK_OK(bundle_wait(b, now() + 20000));
    CHECK_OK(hclose(b));
    CHECK_OK(tcp_close(s, now() + 3000));
}

static void test_bulk(void) {
    GUARDED(lmem, TCP_LISTENER_SIZE);
    GUARDED(amem, TCP_SIZE);
    GUARD_SET(lmem);
    GUARD_SET(amem);
    GUARD_SET(conn_mem);
    /* Twice, reusing the same memory. */
    for(int round = 0; round < 2; round++) {
        struct ipaddr a;
        loop4(&a, 0);
        int ls = tcp_listen_mem(&a, 10, lmem.mem);
        CHECK(ls >= 0);
        CHECK(ipaddr_port(&a) > 0);
        int cr;
        SPAWN(cr, bulk_client(a));
        int s = tcp_accept_mem(ls, NULL, amem.mem, now() + 1000);
        CHECK(s >= 0);
        int b = bundle();
        CHECK(b >= 0);
        CHECK(bundle_go(b, BULK_SEND(s, 2)) == 0);
        CHECK(bundle_go(b, BULK_RECV(s, 1)) == 0);
        CHECK_OK(bundle_wait(b, now() + 20000));
        CHECK_OK(hclose(b));
        CHECK_OK(tcp_close(s, now() + 3000));
        JOIN(cr);
        CHECK_OK(tcp_close(ls, -1));
        GUARD_CHECK(lmem);
        GUARD_CHECK(amem);
        GUARD_CHECK(conn_mem);
    }
}

/* ------------------------------------------------------------------------ */
/* IPv6 loopback, if the machine has it.                                    */
/* ------------------------------------------------------------------------ */

static coroutine void v6_client(struct ipaddr a) {
    int s = tcp_connect(&a, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "ping6", 5, now() + 1000));
    char buf[5];
    CHECK_OK(brecv(s, buf, 5, now() + 1000));
    CHECK(memcmp(buf, "pong6", 5) == 0);
    CHECK_OK(tcp_close(s, now() + 1000));
}

static void test_ipv6(void) {
    if(!ipv6_available()) {
        NOTE("no IPv6 loopback; IPv6 part skipped");
        return;
    }
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "::1", 0, IPADDR_IPV6));
    int ls = tcp_listen(&a, 10);
    CHECK(ls >= 0);
    CHECK(ipaddr_port(&a) > 0);
    int cr;
    SPAWN(cr, v6_client(a));
    struct ipaddr peer;
    int s = tcp_accept(ls, &peer, now() + 1000);
    CHECK(s >= 0);
    char str[IPADDR_MAXSTRLEN];
    CHECK(ipaddr_family(&peer) == AF_INET6);
    CHECK(strcmp(ipaddr_str(&peer, str), "::1") == 0);
    char buf[5];
    CHECK_OK(brecv(s, buf, 5, now() + 1000));
    CHECK(memcmp(buf, "ping6", 5) == 0);
    CHECK_OK(bsend(s, "pong6", 5, now() + 1000));
    CHECK_OK(tcp_close(s, now() + 1000));
    JOIN(cr);
    CHECK_OK(hclose(ls));
}

int main(void) {
    WATCHDOG(60);
    /* Before the parent registers sockets of its own (see run_child). */
    int st = run_child(deadline_wins, NULL, 3);
    CHECK_DOC(child_passed(st),
        "tcp_close must return ETIMEDOUT at its deadline while the peer "
        "keeps sending");
    if(!child_passed(st))
        NOTE("deadlines-win sub-test: %s", child_outcome(st));

    junk = calloc(1, JUNK_LEN);
    CHECK(junk);
    test_listener();
    test_connect_errors();
    test_halfclose();
    test_short_read();
    test_deadlines();
    test_reset();
    test_close();
    test_bulk();
    test_ipv6();
    free(junk);
    return 0;
}
