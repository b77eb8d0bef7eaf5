/* A handle closed while another coroutine is inside a call on it: the call
   ends with -1/EBADF, promptly, and touches nothing of the closed object
   (run under valgrind in make check). Three cases for each object type:
   - blocked: the waiter is still registered when the handle is closed;
   - timed out: its deadline woke it, the closer ran first;
   - ready: its fd became ready in the same poll that woke the closer, which
     ran first, closed it and made a new object of the same kind (likely on
     the same fd number) with data waiting: that data must not reach the
     first waiter. */
#include <libdill.h>
#include <string.h>
#include "sockutil.h"

enum { CHAN, LISTENER, TCP, IPC, UDP, NKINDS };
static const char *names[] = {"channel", "listener", "tcp", "ipc", "udp"};

/* An object of kind k: its handle, and a way to make it readable. */
struct obj { int h; int peer; int lst; int raw; struct ipaddr addr; };

static void make(int k, struct obj *o) {
    memset(o, 0, sizeof(*o));
    o->peer = o->lst = o->raw = -1;
    int p[2];
    switch(k) {
    case CHAN:
        CHECK_OK(chmake(p));
        o->h = p[0]; o->peer = p[1];
        break;
    case LISTENER:
        CHECK_OK(ipaddr_local(&o->addr, "127.0.0.1", 0, 0));
        o->h = tcp_listen(&o->addr, 10);
        CHECK(o->h >= 0);
        break;
    case TCP: {
        struct ipaddr a;
        CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, 0));
        o->lst = tcp_listen(&a, 10);
        CHECK(o->lst >= 0);
        o->peer = tcp_connect(&a, -1);
        CHECK(o->peer >= 0);
        o->h = tcp_accept(o->lst, NULL, -1);
        CHECK(o->h >= 0);
        break;
    }
    case IPC:
        CHECK_OK(ipc_pair(p));
        o->h = p[0]; o->peer = p[1];
        break;
    case UDP:
        CHECK_OK(ipaddr_local(&o->addr, "127.0.0.1", 0, 0));
        o->h = udp_open(&o->addr, NULL);
        CHECK(o->h >= 0);
        o->peer = udp_open(NULL, &o->addr);
        CHECK(o->peer >= 0);
        break;
    }
}

/* Makes o readable with `msg` (10 bytes) without blocking. */
static void feed(int k, struct obj *o, const char *msg) {
    switch(k) {
    case CHAN: break; /* A channel hand-off completes the receive itself. */
    /* A plain blocking connect: ours could suspend the feeder. */
    case LISTENER: o->raw = raw_tcp_connect(&o->addr); break;
    case TCP: case IPC: CHECK_OK(bsend(o->peer, msg, 10, -1)); break;
    case UDP: CHECK_OK(msend(o->peer, msg, 10, -1)); break;
    }
}

static void unmake(int k, struct obj *o, int closed) {
    if(!closed) CHECK_OK(hclose(o->h));
    if(o->peer >= 0) CHECK_OK(hclose(o->peer));
    if(o->lst >= 0) CHECK_OK(hclose(o->lst));
    if(o->raw >= 0) CHECK_OK(close(o->raw));
}

struct result { int done; int rc; int err; char data[10]; };

static coroutine void waiter(int k, int h, int64_t deadline, struct result *r) {
    errno = 0;
    switch(k) {
    case CHAN: r->rc = chrecv(h, r->data, 10, deadline); break;
    case LISTENER: r->rc = tcp_accept(h, NULL, deadline); break;
    case TCP: case IPC: r->rc = brecv(h, r->data, 10, deadline); break;
    case UDP: r->rc = (int)mrecv(h, r->data, 10, deadline); break;
    }
    r->err = errno;
    r->done = 1;
}

static void check_ebadf(int k, const char *what, struct result *r) {
    if(!r->done || r->rc != -1 || r->err != EBADF) {
        fprintf(stderr, "%s, %s: done=%d rc=%d errno=%d (%s), data=%.10s\n",
            names[k], what, r->done, r->rc, r->err, strerror(r->err),
            r->done && r->rc >= 0 ? r->data : "");
        abort();
    }
}

/* Blocked: the waiter is registered when the handle goes. */
static void blocked(int k) {
    struct obj o;
    make(k, &o);
    struct result r = {0};
    int64_t start = now();
    int cr = go(waiter(k, o.h, -1, &r));
    CHECK(cr >= 0);
    CHECK_OK(yield());
    CHECK(!r.done);
    CHECK_OK(hclose(o.h));
    CHECK_OK(msleep(now() + 10));
    check_ebadf(k, "blocked", &r);
    CHECK(now() - start < 500);
    CHECK_OK(hclose(cr));
    unmake(k, &o, 1);
}

struct closer { int k; struct obj *victim; struct obj fresh; int made; };

/* Closes the victim, then builds a new object of the same kind with data
   waiting in it. */
static void close_and_reuse(struct closer *c) {
    CHECK_OK(hclose(c->victim->h));
    make(c->k, &c->fresh);
    feed(c->k, &c->fresh, "WRONGOWNER");
    c->made = 1;
}

static coroutine void closer_after(int64_t deadline, struct closer *c) {
    CHECK_OK(msleep(deadline));
    close_and_reuse(c);
}

static coroutine void closer_on(int wake, struct closer *c) {
    char b;
    CHECK_OK(brecv(wake, &b, 1, -1));
    close_and_reuse(c);
}

/* Timed out: the closer's timer fires first in the same pass, so it runs
   first; the waiter's expired deadline woke it just after. */
static void timed_out(int k) {
    struct obj o;
    make(k, &o);
    struct result r = {0};
    struct closer c = {.k = k, .victim = &o};
    int64_t t = now();
    int a = go(waiter(k, o.h, t + 21, &r));
    CHECK(a >= 0);
    int b = go(closer_after(t + 20, &c));
    CHECK(b >= 0);
    /* Spin past both deadlines without yielding: one poll fires both. */
    while(now() < t + 40) {}
    CHECK_OK(msleep(now() + 20));
    CHECK(c.made);
    /* A channel waiter that timed out touched nothing either way. */
    if(k == CHAN) {
        CHECK(r.done && r.rc == -1 && (r.err == ETIMEDOUT || r.err == EBADF));
    } else {
        check_ebadf(k, "timed out", &r);
    }
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(b));
    unmake(k, &c.fresh, 0);
    unmake(k, &o, 1);
}

/* Ready: the closer's fd and then the waiter's become ready before the
   scheduler polls; the poll wakes the closer first. */
static void ready(int k) {
    struct obj o;
    make(k, &o);
    int w[2];
    CHECK_OK(ipc_pair(w));
    struct result r = {0};
    struct closer c = {.k = k, .victim = &o};
    int b = go(closer_on(w[0], &c));
    CHECK(b >= 0);
    int a = go(waiter(k, o.h, -1, &r));
    CHECK(a >= 0);
    CHECK_OK(yield());
    CHECK(!r.done && !c.made);
    CHECK_OK(bsend(w[1], "x", 1, -1));
    feed(k, &o, "RIGHTOWNER");
    CHECK_OK(msleep(now() + 30));
    CHECK(c.made);
    check_ebadf(k, "ready", &r);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(b));
    CHECK_OK(hclose(w[0]));
    CHECK_OK(hclose(w[1]));
    unmake(k, &c.fresh, 0);
    unmake(k, &o, 1);
}

/* tcp_close while another coroutine reads: the reader gets EBADF, the
   close itself succeeds. */
static coroutine void tcp_peer_close(int s) {
    char b[10];
    CHECK_ERR(brecv(s, b, sizeof(b), -1), EPIPE);
    CHECK_OK(tcp_close(s, -1));
}

static void tcp_close_busy(void) {
    struct obj o;
    make(TCP, &o);
    struct result r = {0};
    int a = go(waiter(TCP, o.h, -1, &r));
    CHECK(a >= 0);
    int p = go(tcp_peer_close(o.peer));
    CHECK(p >= 0);
    CHECK_OK(yield());
    CHECK_OK(tcp_close(o.h, now() + 1000));
    CHECK_OK(msleep(now() + 10));
    check_ebadf(TCP, "tcp_close", &r);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(p));
    CHECK_OK(hclose(o.lst));
}

int main(void) {
    for(int k = 0; k != NKINDS; k++) {
        blocked(k);
        timed_out(k);
        if(k != CHAN) ready(k);
    }
    tcp_close_busy();
    return 0;
}
