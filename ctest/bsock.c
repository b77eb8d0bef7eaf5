/* User-defined sockets: objects made with hmake whose query function
   returns a struct bsock_vfs for bsock_type and/or a struct msock_vfs for
   msock_type (libdillimpl.h), driven through the generic bsend, brecv,
   bsendl, brecvl, msend, mrecv, msendl and mrecvl. What the library passes
   to the implementation, what it passes back, argument checks, ENOTSUP for
   handles of the wrong kind, EBADF for bad handles, and blocking inside an
   implementation (deadlines, cancelation). */
#include <libdillimpl.h>

#include "sockutil.h"

/* ------------------------------------------------------------------------ */
/* A loopback object: what is sent to it can be received back from it.      */
/* As a byte stream it is a FIFO of bytes, as a message socket a FIFO of    */
/* messages. Every call is recorded.                                        */
/* ------------------------------------------------------------------------ */

#define CAP 8192
#define MAXMSG 16

struct loop {
    struct hvfs hvfs;
    struct bsock_vfs bvfs;
    struct msock_vfs mvfs;
    int has_b, has_m;
    /* Byte FIFO. */
    uint8_t bytes[CAP];
    size_t blen;
    /* Message FIFO. */
    uint8_t msgs[MAXMSG][256];
    size_t msglen[MAXMSG];
    int nmsgs;
    /* Finished by hdone: receiving past the end gives EPIPE. */
    int done;
    /* Recorded calls. */
    int nquery, nbsendl, nbrecvl, nmsendl, nmrecvl, nclose, ndone;
    const void *last_type;
    /* The list of the last call: the pointers as passed and copies of the
       two end items (the library's own one-item lists for bsend and the
       like are gone once the call returns). */
    struct iolist *first, *last;
    struct iolist f, la;
    int nitems;
    int64_t deadline;
    /* If set, the next operation fails with this errno. */
    int fail;
};

static void *loop_query(struct hvfs *h, const void *type) {
    struct loop *l = (struct loop*)h;
    l->nquery++;
    l->last_type = type;
    if(type == bsock_type && l->has_b) return &l->bvfs;
    if(type == msock_type && l->has_m) return &l->mvfs;
    errno = ENOTSUP;
    return NULL;
}

static void loop_close(struct hvfs *h) {
    struct loop *l = (struct loop*)h;
    l->nclose++;
}

static int loop_done(struct hvfs *h, int64_t deadline) {
    struct loop *l = (struct loop*)h;
    l->ndone++;
    l->deadline = deadline;
    if(l->done) {
        errno = EPIPE;
        return -1;
    }
    l->done = 1;
    return 0;
}

static void record(struct loop *l, struct iolist *first, struct iolist *last,
      int64_t deadline) {
    static const struct iolist none = {NULL, 0, NULL, 0};
    l->first = first;
    l->last = last;
    l->f = first ? *first : none;
    l->la = last ? *last : none;
    l->nitems = 0;
    for(struct iolist *it = first; it; it = it->iol_next) l->nitems++;
    l->deadline = deadline;
}

static size_t list_bytes(struct iolist *first) {
    size_t n = 0;
    for(struct iolist *it = first; it; it = it->iol_next) n += it->iol_len;
    return n;
}

static int loop_bsendl(struct bsock_vfs *vfs, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct loop *l = (struct loop*)((char*)vfs - offsetof(struct loop, bvfs));
    l->nbsendl++;
    record(l, first, last, deadline);
    if(l->fail) {
        errno = l->fail;
        l->fail = 0;
        return -1;
    }
    if(l->done) {
        errno = EPIPE;
        return -1;
    }
    if(l->blen + list_bytes(first) > CAP) {
        errno = ENOBUFS;
        return -1;
    }
    for(struct iolist *it = first; it; it = it->iol_next) {
        if(it->iol_len) /* an empty item may have no base */
            memcpy(l->bytes + l->blen, it->iol_base, it->iol_len);
        l->blen += it->iol_len;
    }
    return 0;
}

/* Waits (really sleeps, until the deadline) when there is not enough. */
static int loop_brecvl(struct bsock_vfs *vfs, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct loop *l = (struct loop*)((char*)vfs - offsetof(struct loop, bvfs));
    l->nbrecvl++;
    record(l, first, last, deadline);
    if(l->fail) {
        errno = l->fail;
        l->fail = 0;
        return -1;
    }
    size_t want = list_bytes(first);
    if(want > l->blen) {
        if(l->done) {
            errno = EPIPE;
            return -1;
        }
        int rc = msleep(deadline);
        if(rc == 0) errno = ETIMEDOUT;
        return -1;
    }
    size_t pos = 0;
    for(struct iolist *it = first; it; it = it->iol_next) {
        if(it->iol_base) memcpy(it->iol_base, l->bytes + pos, it->iol_len);
        pos += it->iol_len;
    }
    memmove(l->bytes, l->bytes + pos, l->blen - pos);
    l->blen -= pos;
    return 0;
}

static int loop_msendl(struct msock_vfs *vfs, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct loop *l = (struct loop*)((char*)vfs - offsetof(struct loop, mvfs));
    l->nmsendl++;
    record(l, first, last, deadline);
    if(l->fail) {
        errno = l->fail;
        l->fail = 0;
        return -1;
    }
    size_t n = list_bytes(first);
    if(n > 256) {
        errno = EMSGSIZE;
        return -1;
    }
    CHECK(l->nmsgs < MAXMSG);
    size_t pos = 0;
    for(struct iolist *it = first; it; it = it->iol_next) {
        memcpy(l->msgs[l->nmsgs] + pos, it->iol_base, it->iol_len);
        pos += it->iol_len;
    }
    l->msglen[l->nmsgs++] = n;
    return 0;
}

static ssize_t loop_mrecvl(struct msock_vfs *vfs, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct loop *l = (struct loop*)((char*)vfs - offsetof(struct loop, mvfs));
    l->nmrecvl++;
    record(l, first, last, deadline);
    if(l->fail) {
        errno = l->fail;
        l->fail = 0;
        return -1;
    }
    if(l->nmsgs == 0) {
        int rc = msleep(deadline);
        if(rc == 0) errno = ETIMEDOUT;
        return -1;
    }
    size_t n = l->msglen[0];
    if(first && list_bytes(first) < n) {
        errno = EMSGSIZE;
        return -1;
    }
    size_t pos = 0;
    for(struct iolist *it = first; it && pos < n; it = it->iol_next) {
        size_t k = it->iol_len < n - pos ? it->iol_len : n - pos;
        if(it->iol_base) memcpy(it->iol_base, l->msgs[0] + pos, k);
        pos += k;
    }
    memmove(l->msgs[0], l->msgs[1], sizeof(l->msgs[0]) * (MAXMSG - 1));
    memmove(l->msglen, l->msglen + 1, sizeof(size_t) * (MAXMSG - 1));
    l->nmsgs--;
    return (ssize_t)n;
}

static int loop_make(struct loop *l, int has_b, int has_m) {
    memset(l, 0, sizeof(*l));
    l->hvfs.query = loop_query;
    l->hvfs.close = loop_close;
    l->hvfs.done = loop_done;
    l->bvfs.bsendl = loop_bsendl;
    l->bvfs.brecvl = loop_brecvl;
    l->mvfs.msendl = loop_msendl;
    l->mvfs.mrecvl = loop_mrecvl;
    l->has_b = has_b;
    l->has_m = has_m;
    int h = hmake(&l->hvfs);
    CHECK(h >= 0);
    return h;
}

/* ------------------------------------------------------------------------ */

static void test_bytestream(void) {
    static struct loop l;
    int h = loop_make(&l, 1, 0);
    char buf[32];

    /* bsend hands over a one-item list describing the caller's buffer,
       and the deadline as given. */
    const char *msg = "hello";
    CHECK_OK(bsend(h, msg, 5, 12345));
    CHECK(l.nbsendl == 1);
    CHECK(l.last_type == bsock_type);
    CHECK(l.nitems == 1);
    CHECK(l.first == l.last);
    CHECK(l.f.iol_base == msg && l.f.iol_len == 5);
    CHECK(l.f.iol_next == NULL && l.f.iol_rsvd == 0);
    CHECK(l.deadline == 12345);
    /* brecv: the same for receiving. */
    CHECK_OK(brecv(h, buf, 5, -1));
    CHECK(l.nbrecvl == 1);
    CHECK(l.nitems == 1 && l.first == l.last && l.f.iol_base == buf);
    CHECK(l.f.iol_len == 5 && l.f.iol_next == NULL);
    CHECK(l.deadline == -1);
    CHECK(memcmp(buf, "hello", 5) == 0);
    /* brecv(s, NULL, n) reaches the implementation as a NULL base. */
    CHECK_OK(bsend(h, "xyzw", 4, 0));
    CHECK_OK(brecv(h, NULL, 2, 0));
    CHECK(l.nitems == 1 && l.f.iol_base == NULL && l.f.iol_len == 2);
    CHECK_OK(brecv(h, buf, 2, 0));
    CHECK(memcmp(buf, "zw", 2) == 0);

    /* bsendl/brecvl: the implementation sees the caller's list. */
    char a[] = "ab", b[] = "cde";
    struct iolist v[3] = {{a, 2, &v[1], 0}, {NULL, 0, &v[2], 0},
        {b, 3, NULL, 0}};
    CHECK_OK(bsendl(h, &v[0], &v[2], 777));
    CHECK(l.nbsendl == 3);
    CHECK(l.deadline == 777);
    CHECK(l.nitems == 3);
    CHECK(l.f.iol_base == a && l.f.iol_len == 2);
    CHECK(l.la.iol_base == b && l.la.iol_len == 3);
    CHECK(l.la.iol_next == NULL);
    char r1[3], r2[2];
    struct iolist w[2] = {{r1, 3, &w[1], 0}, {r2, 2, NULL, 0}};
    CHECK_OK(brecvl(h, &w[0], &w[1], 888));
    CHECK(l.deadline == 888);
    CHECK(l.nitems == 2 && l.f.iol_base == r1 && l.la.iol_base == r2);
    CHECK(memcmp(r1, "abc", 3) == 0 && memcmp(r2, "de", 2) == 0);

    /* Errors of the implementation come back unchanged. */
    l.fail = ECONNRESET;
    CHECK_ERR(bsend(h, "x", 1, 0), ECONNRESET);
    l.fail = EPIPE;
    CHECK_ERR(brecv(h, buf, 1, 0), EPIPE);
    l.fail = ETIMEDOUT;
    CHECK_ERR(bsendl(h, &v[0], &v[2], 0), ETIMEDOUT);
    l.fail = ENOBUFS;
    CHECK_ERR(brecvl(h, &w[0], &w[1], 0), ENOBUFS);

    /* Argument checks made before the implementation is called. */
    int before = l.nbsendl + l.nbrecvl;
    CHECK_ERR(bsendl(h, NULL, &v[2], 0), EINVAL);
    CHECK_ERR(bsendl(h, &v[0], NULL, 0), EINVAL);
    CHECK_ERR(bsendl(h, &v[0], &v[1], 0), EINVAL);
    CHECK_ERR(brecvl(h, NULL, &w[1], 0), EINVAL);
    CHECK_ERR(brecvl(h, &w[0], NULL, 0), EINVAL);
    CHECK_ERR(brecvl(h, &w[0], &w[0], 0), EINVAL);
    CHECK(l.nbsendl + l.nbrecvl == before);

    /* Not a message socket. */
    int q = l.nquery;
    CHECK_ERR(msend(h, "x", 1, 0), ENOTSUP);
    CHECK(l.nquery > q && l.last_type == msock_type);
    CHECK_ERR(mrecv(h, buf, 1, 0), ENOTSUP);
    CHECK_ERR(msendl(h, &v[0], &v[2], 0), ENOTSUP);
    CHECK_ERR(mrecvl(h, &w[0], &w[1], 0), ENOTSUP);
    /* ...nor any of the library's own kinds. */
    CHECK_ERR(tcp_close(h, 0), ENOTSUP);
    CHECK_ERR(ipc_close(h, 0), ENOTSUP);
    CHECK_ERR(tcp_accept(h, NULL, 0), ENOTSUP);
    CHECK_ERR(ipc_accept(h, 0), ENOTSUP);
    CHECK(l.nmsendl == 0 && l.nmrecvl == 0);

    /* hdone reaches the implementation; then receiving past the end. */
    CHECK_OK(hdone(h, 4242));
    CHECK(l.ndone == 1 && l.deadline == 4242);
    CHECK_ERR(hdone(h, 0), EPIPE);
    CHECK_ERR(brecv(h, buf, 1, 0), EPIPE);
    CHECK_ERR(bsend(h, "x", 1, 0), EPIPE);

    CHECK_OK(hclose(h));
    CHECK(l.nclose == 1);
    CHECK_ERR(bsend(h, "x", 1, 0), EBADF);
    CHECK_ERR(brecv(h, buf, 1, 0), EBADF);
}

static void test_messages(void) {
    static struct loop l;
    int h = loop_make(&l, 0, 1);
    char buf[64];

    CHECK_OK(msend(h, "first", 5, 99));
    CHECK(l.nmsendl == 1 && l.last_type == msock_type);
    CHECK(l.nitems == 1 && l.f.iol_len == 5);
    CHECK(l.deadline == 99);
    CHECK_OK(msend(h, "", 0, 0));
    char p1[] = "sec", p2[] = "ond";
    struct iolist v[2] = {{p1, 3, &v[1], 0}, {p2, 3, NULL, 0}};
    CHECK_OK(msendl(h, &v[0], &v[1], 0));
    CHECK(l.nitems == 2 && l.f.iol_base == p1 && l.la.iol_base == p2);

    /* mrecv returns what the implementation returns: the size. */
    CHECK(mrecv(h, buf, sizeof(buf), 55) == 5);
    CHECK(l.deadline == 55);
    CHECK(l.nitems == 1 && l.f.iol_base == buf);
    CHECK(l.f.iol_len == sizeof(buf));
    CHECK(memcmp(buf, "first", 5) == 0);
    CHECK(mrecv(h, buf, sizeof(buf), 0) == 0);
    char r1[2], r2[10];
    struct iolist w[2] = {{r1, 2, &w[1], 0}, {r2, 10, NULL, 0}};
    CHECK(mrecvl(h, &w[0], &w[1], 0) == 6);
    CHECK(memcmp(r1, "se", 2) == 0 && memcmp(r2, "cond", 4) == 0);

    /* mrecvl(s, NULL, NULL): passed on; the implementation drops the
       message and returns its size. */
    CHECK_OK(msend(h, "gone", 4, 0));
    CHECK(mrecvl(h, NULL, NULL, 0) == 4);
    CHECK(l.first == NULL && l.last == NULL);
    CHECK_ERR(mrecv(h, buf, sizeof(buf), 0), ETIMEDOUT);

    /* Errors come back unchanged. */
    CHECK_OK(msend(h, "toolong", 7, 0));
    CHECK_ERR(mrecv(h, buf, 3, 0), EMSGSIZE);
    CHECK(mrecv(h, buf, sizeof(buf), 0) == 7);
    char huge[300];
    memset(huge, 0, sizeof(huge));
    CHECK_ERR(msend(h, huge, sizeof(huge), 0), EMSGSIZE);
    l.fail = ECONNRESET;
    CHECK_ERR(msendl(h, &v[0], &v[1], 0), ECONNRESET);

    /* Argument checks. */
    int before = l.nmsendl + l.nmrecvl;
    CHECK_ERR(msendl(h, NULL, &v[1], 0), EINVAL);
    CHECK_ERR(msendl(h, &v[0], NULL, 0), EINVAL);
    CHECK_ERR(msendl(h, NULL, NULL, 0), EINVAL);
    CHECK_ERR(msendl(h, &v[0], &v[0], 0), EINVAL);
    CHECK_ERR(mrecvl(h, NULL, &w[1], 0), EINVAL);
    CHECK_ERR(mrecvl(h, &w[0], NULL, 0), EINVAL);
    CHECK_ERR(mrecvl(h, &w[0], &w[0], 0), EINVAL);
    CHECK(l.nmsendl + l.nmrecvl == before);

    /* Not a byte stream, and hdone is the implementation's business. */
    CHECK_ERR(bsend(h, "x", 1, 0), ENOTSUP);
    CHECK_ERR(brecv(h, buf, 1, 0), ENOTSUP);
    CHECK_ERR(bsendl(h, &v[0], &v[1], 0), ENOTSUP);
    CHECK_ERR(brecvl(h, &w[0], &w[1], 0), ENOTSUP);
    CHECK(l.nbsendl == 0 && l.nbrecvl == 0);
    CHECK_OK(hclose(h));
    CHECK(l.nclose == 1);
}

/* One object offering both interfaces. */
static void test_both(void) {
    static struct loop l;
    int h = loop_make(&l, 1, 1);
    char buf[8];
    CHECK_OK(bsend(h, "bytes", 5, 0));
    CHECK_OK(msend(h, "msg", 3, 0));
    CHECK(mrecv(h, buf, sizeof(buf), 0) == 3);
    CHECK(memcmp(buf, "msg", 3) == 0);
    CHECK_OK(brecv(h, buf, 5, 0));
    CHECK(memcmp(buf, "bytes", 5) == 0);
    CHECK_OK(hclose(h));
}

/* Implementations may block: deadlines and cancelation pass through. */
static struct { int done, rc, err; } blocked;

static coroutine void recv_forever(int h, int msg) {
    char c;
    errno = 0;
    blocked.rc = msg ? (int)mrecv(h, &c, 1, -1) : brecv(h, &c, 1, -1);
    blocked.err = errno;
    blocked.done = 1;
}

static void test_blocking(void) {
    static struct loop l;
    int h = loop_make(&l, 1, 1);
    char c;
    int64_t t0 = now();
    CHECK_ERR(brecv(h, &c, 1, now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);
    t0 = now();
    CHECK_ERR(mrecv(h, &c, 1, now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);
    for(int msg = 0; msg < 2; msg++) {
        memset(&blocked, 0, sizeof(blocked));
        int cr = go(recv_forever(h, msg));
        CHECK(cr >= 0);
        CHECK_OK(msleep(now() + 30));
        CHECK(!blocked.done);
        CHECK_OK(hclose(cr));
        CHECK(blocked.done && blocked.rc == -1 && blocked.err == ECANCELED);
    }
    CHECK_OK(hclose(h));
}

/* Bad handles, for every call. */
static void test_bad_handles(void) {
    char buf[4];
    struct iolist v = {buf, 1, NULL, 0};
    static const int bad[] = {-1, -12345, 12345, 1 << 30};
    for(unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int h = bad[i];
        CHECK_ERR(bsend(h, "x", 1, 0), EBADF);
        CHECK_ERR(brecv(h, buf, 1, 0), EBADF);
        CHECK_ERR(bsendl(h, &v, &v, 0), EBADF);
        CHECK_ERR(brecvl(h, &v, &v, 0), EBADF);
        CHECK_ERR(msend(h, "x", 1, 0), EBADF);
        CHECK_ERR(mrecv(h, buf, 1, 0), EBADF);
        CHECK_ERR(msendl(h, &v, &v, 0), EBADF);
        CHECK_ERR(mrecvl(h, &v, &v, 0), EBADF);
    }
    /* A handle of another kind: a channel supports neither interface. */
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(bsend(ch[0], "x", 1, 0), ENOTSUP);
    CHECK_ERR(brecv(ch[1], buf, 1, 0), ENOTSUP);
    CHECK_ERR(bsendl(ch[0], &v, &v, 0), ENOTSUP);
    CHECK_ERR(brecvl(ch[0], &v, &v, 0), ENOTSUP);
    CHECK_ERR(msend(ch[0], "x", 1, 0), ENOTSUP);
    CHECK_ERR(mrecv(ch[1], buf, 1, 0), ENOTSUP);
    CHECK_ERR(msendl(ch[0], &v, &v, 0), ENOTSUP);
    CHECK_ERR(mrecvl(ch[0], &v, &v, 0), ENOTSUP);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
}

/* udp_send/udp_recv on a message socket that is not UDP. libdill 2.6
   treats any message socket as its own UDP object here (memory
   corruption), hence the child. */
static void udp_on_foreign(void *unused) {
    static struct loop l;
    int h = loop_make(&l, 0, 1);
    struct ipaddr a;
    loop4(&a, 9);
    char buf[8];
    struct iolist v = {buf, 1, NULL, 0};
    CHECK_ERR(udp_send(h, &a, "x", 1), ENOTSUP);
    CHECK_ERR(udp_recv(h, NULL, buf, sizeof(buf), 0), ENOTSUP);
    CHECK_ERR(udp_sendl(h, &a, &v, &v), ENOTSUP);
    CHECK_ERR(udp_recvl(h, NULL, &v, &v, 0), ENOTSUP);
    CHECK(l.nmsendl == 0 && l.nmrecvl == 0);
    CHECK_OK(hclose(h));
}

int main(void) {
    WATCHDOG(30);
    int st = run_child(udp_on_foreign, NULL, 5);
    if(!child_passed(st))
        NOTE("udp_* on a user-defined message socket: %s",
            child_outcome(st));
    CHECK_DOC(child_passed(st), "udp_send/udp_recv(l) on a message socket "
        "that is not UDP must fail with ENOTSUP");
    test_bytestream();
    test_messages();
    test_both();
    test_blocking();
    test_bad_handles();
    return 0;
}
