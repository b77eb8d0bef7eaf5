/* PFX sockets (pfx_attach, pfx_attach_mem, pfx_detach): messages framed by
   an 8-byte big-endian size over a byte-stream socket, ended by eight
   0xFF bytes each way. Over ipc_pair, TCP and a byte stream defined here
   with hmake: messages of 0, 1, 64 KiB and 1 MiB, iolists (passed down
   without copies), the wire format against hand-written peers, the
   terminal handshake and the socket handed back, every documented errno,
   lying peers (sizes up to 2^64-2) and handles closed under a blocked
   call. */
#include <libdillimpl.h>

#include "sockutil.h"

/* ---- helpers ----------------------------------------------------------- */

static void put64(uint8_t *p, uint64_t v) {
    for(int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; }
}

/* The raw bytes of a message as the protocol frames it. */
static size_t frame(uint8_t *out, const void *msg, size_t len) {
    put64(out, len);
    memcpy(out + 8, msg, len);
    return len + 8;
}

static const uint8_t TERM[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff};

/* A connected TCP pair on 127.0.0.1 (port picked by the system). */
static void tcp_pair(int h[2]) {
    struct ipaddr a;
    loop4(&a, 0);
    /* tcp_listen writes the port it got back into a. */
    int ls = tcp_listen(&a, 10);
    CHECK(ls >= 0);
    CHECK(ipaddr_port(&a) > 0);
    h[0] = tcp_connect(&a, now() + 5000);
    CHECK(h[0] >= 0);
    h[1] = tcp_accept(ls, NULL, now() + 5000);
    CHECK(h[1] >= 0);
    CHECK_OK(hclose(ls));
}

static void ipc_pair_(int h[2]) {
    CHECK_OK(ipc_pair(h));
}

/* ---- a byte stream defined by the test --------------------------------
   A loopback: bytes sent to it are received back from it. Its brecvl
   sleeps until the deadline when there is not enough (a stand-in for a
   socket with nothing to read). Every call is recorded. */

#define LCAP (1 << 16)

struct loop {
    struct hvfs hvfs;
    struct bsock_vfs bvfs;
    uint8_t bytes[LCAP];
    size_t len;
    int nbsendl, nbrecvl, nclose;
    /* The last call's list as passed, and copies of its two ends (the
       library's own pieces are gone once the call returns). */
    struct iolist *first, *last;
    struct iolist f, la;
    int nitems;
    size_t want;
    int fail;
};

static void *loop_query(struct hvfs *h, const void *type) {
    struct loop *l = (struct loop*)h;
    if(type == bsock_type) return &l->bvfs;
    errno = ENOTSUP;
    return NULL;
}

static void loop_close(struct hvfs *h) {
    ((struct loop*)h)->nclose++;
}

static void loop_record(struct loop *l, struct iolist *first,
      struct iolist *last) {
    l->first = first;
    l->last = last;
    l->f = *first;
    l->la = *last;
    l->nitems = 0;
    l->want = 0;
    for(struct iolist *it = first; it; it = it->iol_next) {
        l->nitems++;
        l->want += it->iol_len;
    }
}

static int loop_bsendl(struct bsock_vfs *vfs, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct loop *l = (struct loop*)((char*)vfs - offsetof(struct loop, bvfs));
    l->nbsendl++;
    loop_record(l, first, last);
    if(l->fail) { errno = l->fail; l->fail = 0; return -1; }
    if(l->len + l->want > LCAP) { errno = ENOBUFS; return -1; }
    for(struct iolist *it = first; it; it = it->iol_next) {
        if(it->iol_len) /* an empty item may have no base */
            memcpy(l->bytes + l->len, it->iol_base, it->iol_len);
        l->len += it->iol_len;
    }
    return 0;
}

static int loop_brecvl(struct bsock_vfs *vfs, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct loop *l = (struct loop*)((char*)vfs - offsetof(struct loop, bvfs));
    l->nbrecvl++;
    loop_record(l, first, last);
    if(l->fail) { errno = l->fail; l->fail = 0; return -1; }
    if(l->want > l->len) {
        int rc = msleep(deadline);
        if(rc == 0) errno = ETIMEDOUT;
        return -1;
    }
    size_t pos = 0;
    for(struct iolist *it = first; it; it = it->iol_next) {
        if(it->iol_base) memcpy(it->iol_base, l->bytes + pos, it->iol_len);
        pos += it->iol_len;
    }
    memmove(l->bytes, l->bytes + pos, l->len - pos);
    l->len -= pos;
    return 0;
}

static int loop_make(struct loop *l) {
    memset(l, 0, sizeof(*l));
    l->hvfs.query = loop_query;
    l->hvfs.close = loop_close;
    l->bvfs.bsendl = loop_bsendl;
    l->bvfs.brecvl = loop_brecvl;
    int h = hmake(&l->hvfs);
    CHECK(h >= 0);
    return h;
}

/* ---- messages of many sizes, both ways ---------------------------------- */

static const size_t SIZES[] = {0, 1, 65536, 1 << 20, 7, 0, 100000};
#define NSIZES (sizeof(SIZES) / sizeof(SIZES[0]))

/* Sends every size with msend or (odd ones) as a 3-piece msendl. */
static coroutine void send_sizes(int s, uint64_t seed) {
    static uint8_t buf[2][1 << 20];
    uint8_t *b = buf[seed & 1];
    struct stream st;
    stream_init(&st, seed);
    for(size_t i = 0; i < NSIZES; i++) {
        size_t n = SIZES[i];
        stream_fill(&st, b, n);
        if(i & 1) {
            struct iolist iol[3];
            struct iolist *last = bulk_pieces(iol, b, n, 1);
            CHECK_OK(msendl(s, &iol[0], last, now() + 10000));
            /* The list is left as it was. */
            CHECK(iol[0].iol_base == b && iol[0].iol_next == &iol[1]);
            CHECK(last->iol_next == NULL);
        } else {
            CHECK_OK(msend(s, b, n, now() + 10000));
        }
    }
}

/* Receives them with mrecv into a larger buffer or (odd ones) into a
   3-piece mrecvl list that is longer than the message. */
static void recv_sizes(int s, uint64_t seed) {
    static uint8_t buf[(1 << 20) + 64];
    struct stream st;
    stream_init(&st, seed);
    for(size_t i = 0; i < NSIZES; i++) {
        size_t n = SIZES[i];
        memset(buf + n, 0x5a, 64);
        ssize_t sz;
        if(i & 1) {
            struct iolist iol[3];
            struct iolist *last = bulk_pieces(iol, buf, n + 64, 2);
            struct iolist copy[3];
            memcpy(copy, iol, sizeof(iol));
            sz = mrecvl(s, &iol[0], last, now() + 10000);
            /* The list is restored after being cut to the message. */
            for(int k = 0; k < 3; k++) {
                CHECK(copy[k].iol_base == iol[k].iol_base);
                CHECK(copy[k].iol_len == iol[k].iol_len);
                CHECK(copy[k].iol_next == iol[k].iol_next);
                CHECK(copy[k].iol_rsvd == iol[k].iol_rsvd);
            }
        } else {
            sz = mrecv(s, buf, sizeof(buf), now() + 10000);
        }
        CHECK(sz == (ssize_t)n);
        stream_expect(&st, buf, n);
        /* Nothing written past the message. */
        for(int k = 0; k < 64; k++) CHECK(buf[n + k] == 0x5a);
    }
}

static void exchange(int p0, int p1) {
    int b;
    SPAWN(b, send_sizes(p0, 1));
    recv_sizes(p1, 1);
    JOIN(b);
    SPAWN(b, send_sizes(p1, 2));
    recv_sizes(p0, 2);
    JOIN(b);
}

/* Both sides detach; the sockets handed back still carry bytes both
   ways. */
static coroutine void detach_and_talk(int p, int *out) {
    int u = pfx_detach(p, now() + 5000);
    CHECK(u >= 0);
    CHECK_OK(bsend(u, "after", 5, now() + 5000));
    *out = u;
}

static void test_messages(void (*pair)(int[2]), const char *name) {
    int h[2];
    pair(h);
    int p0 = pfx_attach(h[0]);
    CHECK(p0 >= 0);
    GUARDED(g, PFX_SIZE);
    GUARD_SET(g);
    int p1 = pfx_attach_mem(h[1], g.mem);
    CHECK(p1 >= 0);
#ifndef CTEST_UPSTREAM
    /* The sockets attached to are taken over (upstream keeps their
       numbers as aliases of the socket below). */
    CHECK_ERR(hclose(h[0]), EBADF);
    CHECK_ERR(hclose(h[1]), EBADF);
#endif
    CHECK(hquery(p0, msock_type) != NULL);
    exchange(p0, p1);
    /* mrecvl(NULL, NULL) drops a message and returns its size. */
    CHECK_OK(msend(p0, "dropped", 7, -1));
    CHECK_OK(msend(p0, "kept", 4, -1));
    CHECK(mrecvl(p1, NULL, NULL, now() + 5000) == 7);
    char buf[16];
    CHECK(mrecv(p1, buf, sizeof(buf), now() + 5000) == 4);
    CHECK(memcmp(buf, "kept", 4) == 0);
    /* Messages still unread when the other side detaches are dropped. */
    CHECK_OK(msend(p1, "unread", 6, -1));
    int b, u0 = -1;
    SPAWN(b, detach_and_talk(p0, &u0));
    int u1 = pfx_detach(p1, now() + 5000);
    CHECK(u1 >= 0);
    CHECK_OK(bsend(u1, "AFTER", 5, now() + 5000));
    JOIN(b);
    GUARD_CHECK(g);
    CHECK_HANDLE_GONE(p0);
    CHECK_HANDLE_GONE(p1);
    CHECK_OK(brecv(u1, buf, 5, now() + 5000));
    CHECK(memcmp(buf, "after", 5) == 0);
    CHECK_OK(brecv(u0, buf, 5, now() + 5000));
    CHECK(memcmp(buf, "AFTER", 5) == 0);
    CHECK_OK(hclose(u0));
    CHECK_OK(hclose(u1));
    NOTE("%s: messages and detach ok", name);
}

/* ---- the wire format, against a hand-written peer ----------------------- */

static void test_wire(void) {
    int h[2];
    ipc_pair_(h);
    int p = pfx_attach(h[0]);
    CHECK(p >= 0);
    int raw = h[1];
    uint8_t buf[64], want[64];
    /* msend: the size in network byte order, then the bytes. */
    CHECK_OK(msend(p, "ABC", 3, -1));
    CHECK_OK(brecv(raw, buf, 11, now() + 1000));
    CHECK(frame(want, "ABC", 3) == 11 && memcmp(buf, want, 11) == 0);
    CHECK_OK(msend(p, "", 0, -1));
    CHECK_OK(brecv(raw, buf, 8, now() + 1000));
    CHECK(memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0);
    /* A size spread over the high bytes. */
    static uint8_t big[0x10203];
    memset(big, 7, sizeof(big));
    CHECK_OK(msend(p, big, sizeof(big), now() + 1000));
    CHECK_OK(brecv(raw, buf, 8, now() + 1000));
    CHECK(memcmp(buf, "\0\0\0\0\0\x01\x02\x03", 8) == 0);
    CHECK_OK(brecv(raw, big, sizeof(big), now() + 1000));
    /* Several messages in one write, read one by one. */
    size_t n = frame(buf, "one", 3);
    n += frame(buf + n, "", 0);
    n += frame(buf + n, "three", 5);
    CHECK_OK(bsend(raw, buf, n, -1));
    char r[8];
    CHECK(mrecv(p, r, sizeof(r), now() + 1000) == 3 && !memcmp(r, "one", 3));
    CHECK(mrecv(p, r, sizeof(r), now() + 1000) == 0);
    CHECK(mrecv(p, r, sizeof(r), now() + 1000) == 5 && !memcmp(r, "three", 5));
    /* A message trickling in a byte at a time. */
    n = frame(buf, "slow", 4);
    for(size_t i = 0; i < n; i++) CHECK_OK(bsend(raw, buf + i, 1, -1));
    CHECK(mrecv(p, r, sizeof(r), now() + 1000) == 4 && !memcmp(r, "slow", 4));
    /* hdone: eight 0xFF bytes, once; then EPIPE for sending. */
    CHECK_OK(hdone(p, -1));
    CHECK_OK(brecv(raw, buf, 8, now() + 1000));
    CHECK(memcmp(buf, TERM, 8) == 0);
    CHECK_ERR(hdone(p, -1), EPIPE);
    CHECK_ERR(msend(p, "x", 1, -1), EPIPE);
    /* Receiving still works after our hdone. */
    n = frame(buf, "late", 4);
    CHECK_OK(bsend(raw, buf, n, -1));
    CHECK(mrecv(p, r, sizeof(r), now() + 1000) == 4);
    /* Detach after hdone sends no second marker; the bytes after the
       peer's marker stay readable from the socket handed back. */
    n = frame(buf, "x", 1);
    memcpy(buf + n, TERM, 8);
    memcpy(buf + n + 8, "tail", 4);
    CHECK_OK(bsend(raw, buf, n + 12, -1));
    int u = pfx_detach(p, now() + 1000);
    CHECK(u >= 0);
    CHECK_OK(brecv(u, r, 4, now() + 1000));
    CHECK(memcmp(r, "tail", 4) == 0);
    CHECK_OK(bsend(u, "back", 4, -1));
    CHECK_OK(brecv(raw, r, 4, now() + 1000));
    CHECK(memcmp(r, "back", 4) == 0);
    CHECK_OK(hclose(u));
    CHECK_OK(hclose(raw));

    /* pfx_detach without hdone: our marker goes out first, then it waits
       for the peer's. */
    ipc_pair_(h);
    p = pfx_attach(h[0]);
    raw = h[1];
    CHECK_OK(bsend(raw, TERM, 8, -1));
    u = pfx_detach(p, now() + 1000);
    CHECK(u >= 0);
    CHECK_OK(brecv(raw, buf, 8, now() + 1000));
    CHECK(memcmp(buf, TERM, 8) == 0);
    CHECK_ERR(brecv(raw, buf, 1, 0), ETIMEDOUT);
    CHECK_OK(hclose(u));
    CHECK_OK(hclose(raw));
}

/* ---- a user-defined byte stream below --------------------------------- */

static void test_user_bsock(void) {
    static struct loop l;
    int lh = loop_make(&l);
    int p = pfx_attach(lh);
    CHECK(p >= 0);
    /* msend: one bsendl of the size piece chained before the caller's
       (one-piece) list. */
    char msg[] = "hello";
    CHECK_OK(msend(p, msg, 5, 123));
    CHECK(l.nbsendl == 1 && l.nitems == 2 && l.want == 13);
    CHECK(l.f.iol_len == 8 && l.f.iol_next == l.last && l.la.iol_base == msg);
    CHECK(l.len == 13);
    /* msendl: the caller's own list follows the size piece. */
    char a[] = "ab", c[] = "cde";
    struct iolist v[3] = {{a, 2, &v[1], 0}, {NULL, 0, &v[2], 0},
        {c, 3, NULL, 0}};
    CHECK_OK(msendl(p, &v[0], &v[2], -1));
    CHECK(l.nbsendl == 2 && l.nitems == 4 && l.f.iol_next == &v[0]);
    CHECK(l.last == &v[2]);
    /* mrecv: one brecvl for the size, one straight into the caller's
       buffer. */
    char buf[32];
    int before = l.nbrecvl;
    CHECK(mrecv(p, buf, sizeof(buf), -1) == 5);
    CHECK(l.nbrecvl == before + 2);
    CHECK(l.f.iol_base == buf && l.want == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    /* mrecvl: the caller's list itself, cut to the message. */
    char r1[4], r2[4];
    struct iolist w[2] = {{r1, 4, &w[1], 0}, {r2, 4, NULL, 0}};
    CHECK(mrecvl(p, &w[0], &w[1], -1) == 5);
    CHECK(l.first == &w[0] && l.last == &w[1] && l.want == 5);
    CHECK(w[1].iol_len == 4 && w[1].iol_next == NULL);
    CHECK(memcmp(r1, "abcd", 4) == 0 && r2[0] == 'e');
    /* Nothing there: the deadline of the layer below. */
    int64_t t = now();
    CHECK_ERR(mrecv(p, buf, sizeof(buf), now() + 50), ETIMEDOUT);
    CHECK_TOOK(t, 50);
    CHECK_ERR(mrecv(p, buf, sizeof(buf), -1), ECONNRESET);
    CHECK_OK(hclose(p));
    CHECK(l.nclose == 1);

    /* Errors of the layer below come back and break that direction. */
    lh = loop_make(&l);
    p = pfx_attach(lh);
    l.fail = ENOBUFS;
    CHECK_ERR(msend(p, "x", 1, -1), ENOBUFS);
    int n = l.nbsendl;
    CHECK_ERR(msend(p, "x", 1, -1), ECONNRESET);
    CHECK(l.nbsendl == n);
    /* A send that fails without saying why is still a failure. */
    CHECK_OK(hclose(p));
    lh = loop_make(&l);
    p = pfx_attach(lh);
    l.fail = EPIPE;
    CHECK_ERR(mrecv(p, buf, 4, -1), EPIPE);
    CHECK_ERR(mrecv(p, buf, 4, -1), ECONNRESET);
    CHECK_ERR(pfx_detach(p, -1), ECONNRESET);
    CHECK(l.nclose == 1);
    CHECK_HANDLE_GONE(p);
#ifndef CTEST_UPSTREAM
    CHECK_ERR(hclose(lh), EBADF);
#endif

    /* Detach over the loopback: our own marker comes back as the peer's;
       what follows it is left in the stream. */
    lh = loop_make(&l);
    p = pfx_attach(lh);
    CHECK_OK(msend(p, "skip me", 7, -1));
    int u = pfx_detach(p, -1);
    CHECK(u >= 0 && l.len == 0 && l.nclose == 0);
    CHECK_OK(bsend(u, "raw", 3, -1));
    CHECK_OK(brecv(u, buf, 3, -1));
    CHECK_OK(hclose(u));
    CHECK(l.nclose == 1);
}

/* ---- errors ------------------------------------------------------------ */

static coroutine void canceled_calls(int p) {
    /* Blocked until the bundle is closed. */
    char buf[8];
    CHECK_ERR(mrecv(p, buf, sizeof(buf), -1), ECANCELED);
#ifndef CTEST_UPSTREAM
    /* Also calls that would not block (upstream sends, and calls
       pfx_detach a broken connection). */
    CHECK_ERR(msend(p, "x", 1, -1), ECANCELED);
    CHECK_ERR(mrecv(p, buf, sizeof(buf), -1), ECANCELED);
    CHECK_ERR(pfx_detach(p, -1), ECANCELED);
    CHECK_ERR(hclose(p), EBADF);
#endif
}

static void test_errors(void) {
    int h[2];
    char buf[64];
    uint8_t raw[64];
    memset(buf, 0, sizeof(buf));

    /* Bad handles and handles of other kinds. */
    CHECK_ERR(pfx_attach(-1), EBADF);
    CHECK_ERR(pfx_attach(12345), EBADF);
    CHECK_ERR(pfx_detach(-1, -1), EBADF);
    CHECK_ERR(pfx_detach(12345, -1), EBADF);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(pfx_attach(ch[0]), EPROTO);
    CHECK_ERR(pfx_detach(ch[0], -1), ENOTSUP);
    struct ipaddr a;
    loop4(&a, 0);
    int us = udp_open(&a, NULL);
    CHECK(us >= 0);
    CHECK_ERR(pfx_attach(us), EPROTO);
    ipc_pair_(h);
    CHECK_ERR(pfx_attach_mem(h[0], NULL), EINVAL);
    CHECK_ERR(pfx_detach(h[0], -1), ENOTSUP);
    int p = pfx_attach(h[0]);
    CHECK(p >= 0);
    /* Not a byte stream itself, and not to be stacked on (upstream closes
       a socket it fails to attach to). */
#ifndef CTEST_UPSTREAM
    CHECK_ERR(pfx_attach(p), EPROTO);
#endif
    CHECK_ERR(bsend(p, "x", 1, -1), ENOTSUP);
    CHECK_ERR(brecv(p, buf, 1, -1), ENOTSUP);
    CHECK_ERR(tcp_close(p, -1), ENOTSUP);
#ifndef CTEST_UPSTREAM
    /* A failed attach leaves the socket to the caller (upstream closes
       it, and a later hclose crashes). */
    CHECK_OK(hclose(us));
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
#endif

    /* Malformed lists: EINVAL, and nothing read or sent. */
    int q = pfx_attach(h[1]);
    CHECK(q >= 0);
    struct iolist bad = {buf, 10, NULL, 1};
    struct iolist l2[2] = {{buf, 1, &l2[1], 0}, {buf, 1, NULL, 0}};
    CHECK_ERR(msendl(p, NULL, &l2[1], -1), EINVAL);
    CHECK_ERR(msendl(p, &l2[0], NULL, -1), EINVAL);
    CHECK_ERR(msendl(p, NULL, NULL, -1), EINVAL);
    CHECK_ERR(msendl(p, &l2[0], &l2[0], -1), EINVAL);
    CHECK_ERR_DOC(msendl(p, &bad, &bad, -1), EINVAL, "iol_rsvd != 0");
    CHECK_OK(msend(q, "hello", 5, -1));
    CHECK_ERR(mrecvl(p, &l2[0], &l2[0], -1), EINVAL);
    CHECK_ERR(mrecvl(p, NULL, &l2[1], -1), EINVAL);
    CHECK_ERR_DOC(mrecvl(p, &bad, &bad, -1), EINVAL, "iol_rsvd != 0");
    CHECK_DOC(bad.iol_rsvd == 1, "the list is left as it was");
    CHECK_DOC(mrecv(p, buf, sizeof(buf), now() + 100) == 5,
        "a malformed list leaves the message unread");
    CHECK_DOC(msend(p, "ok", 2, -1) == 0, "a malformed list sends nothing");
    CHECK_DOC(mrecv(q, buf, sizeof(buf), now() + 100) == 2,
        "a malformed list sends nothing");
    CHECK_OK(hclose(p));
    CHECK_OK(hclose(q));
    ipc_pair_(h);
    p = pfx_attach(h[0]);
    q = pfx_attach(h[1]);

    /* EMSGSIZE: the message stays unread and receiving is over (the
       stream below is mid-message); sending goes on. */
    CHECK_OK(msend(q, "0123456789", 10, -1));
    CHECK_ERR(mrecv(p, buf, 9, -1), EMSGSIZE);
    CHECK_ERR(mrecv(p, buf, sizeof(buf), -1), ECONNRESET);
    CHECK_OK(msend(p, "still", 5, -1));
    CHECK(mrecv(q, buf, sizeof(buf), now() + 1000) == 5);
    CHECK_ERR(pfx_detach(p, -1), ECONNRESET);
    CHECK_HANDLE_GONE(p);
    CHECK_OK(hclose(q));

    /* Sizes a lying peer may send: 2^63 and 2^64-2 fail at once with
       EMSGSIZE, into a buffer or dropped, and allocate nothing. */
    static const uint64_t lies[] = {1ULL << 63, 0xfffffffffffffffeULL,
        (1ULL << 63) + 12345, 65};
    for(size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
        for(int drop = 0; drop < 2; drop++) {
            if(drop && lies[i] == 65) continue; /* a real size: below */
            ipc_pair_(h);
            p = pfx_attach(h[0]);
            put64(raw, lies[i]);
            CHECK_OK(bsend(h[1], raw, 8, -1));
            int64_t t = now();
            if(drop) {
                CHECK_ERR_DOC(mrecvl(p, NULL, NULL, now() + 2000), EMSGSIZE,
                    "a size mrecvl cannot return");
            } else {
                CHECK_ERR(mrecv(p, buf, sizeof(buf), now() + 2000), EMSGSIZE);
            }
            CHECK_QUICK(t);
            CHECK_ERR(mrecv(p, buf, sizeof(buf), 0), ECONNRESET);
            CHECK_OK(hclose(p));
            CHECK_OK(hclose(h[1]));
        }
    }
    /* The largest size mrecvl can return, dropped: it waits for the
       bytes (and times out here), without allocating. */
    ipc_pair_(h);
    p = pfx_attach(h[0]);
    put64(raw, 0x7fffffffffffffffULL);
    CHECK_OK(bsend(h[1], raw, 8, -1));
    CHECK_OK(bsend(h[1], buf, 64, -1));
    int64_t t = now();
    CHECK_ERR(mrecvl(p, NULL, NULL, now() + 100), ETIMEDOUT);
    CHECK_TOOK(t, 100);
    CHECK_OK(hclose(p));
    CHECK_OK(hclose(h[1]));

    /* EPIPE: after the peer's marker, for receiving only; ours for
       sending only. */
    ipc_pair_(h);
    p = pfx_attach(h[0]);
    q = pfx_attach(h[1]);
    CHECK_OK(msend(p, "last", 4, -1));
    CHECK_OK(hdone(p, -1));
    CHECK(mrecv(q, buf, sizeof(buf), -1) == 4);
    CHECK_ERR(mrecv(q, buf, sizeof(buf), -1), EPIPE);
    CHECK_ERR(mrecvl(q, NULL, NULL, -1), EPIPE);
    CHECK_ERR(msend(p, "x", 1, -1), EPIPE);
    CHECK_OK(msend(q, "reply", 5, -1));
    CHECK(mrecv(p, buf, sizeof(buf), -1) == 5);
    /* Both markers exchanged: detach needs no waiting on either side. */
    CHECK_OK(hdone(q, -1));
    CHECK_ERR(mrecv(p, buf, sizeof(buf), -1), EPIPE);
    int u0 = pfx_detach(p, 0);
    int u1 = pfx_detach(q, 0);
    CHECK(u0 >= 0 && u1 >= 0);
    CHECK_OK(hclose(u0));
    CHECK_OK(hclose(u1));

    /* The stream below ends: at a message boundary EPIPE, inside a
       message ECONNRESET (it was cut); after either, ECONNRESET. */
    ipc_pair_(h);
    p = pfx_attach(h[0]);
    CHECK_OK(hclose(h[1]));
    CHECK_ERR(mrecv(p, buf, sizeof(buf), -1), EPIPE);
    CHECK_ERR(mrecv(p, buf, sizeof(buf), -1), ECONNRESET);
    CHECK_ERR(pfx_detach(p, -1), ECONNRESET);
    CHECK_HANDLE_GONE(p);
    ipc_pair_(h);
    p = pfx_attach(h[0]);
    put64(raw, 10);
    memcpy(raw + 8, "abcd", 4);
    CHECK_OK(bsend(h[1], raw, 12, -1));
    CHECK_OK(hclose(h[1]));
    CHECK_ERR_DOC(mrecv(p, buf, sizeof(buf), -1), ECONNRESET,
        "a message cut short is a broken connection");
    CHECK_ERR(mrecv(p, buf, sizeof(buf), -1), ECONNRESET);
    CHECK_OK(hclose(p));

    /* ECONNRESET sending to a peer that reset the connection. */
    int th[2];
    tcp_pair(th);
    p = pfx_attach(th[0]);
    CHECK_OK(hclose(th[1]));
    static uint8_t junk[1 << 16];
    int e = 0;
    for(int i = 0; i < 100 && !e; i++) {
        if(msend(p, junk, sizeof(junk), now() + 1000) != 0) e = errno;
        msleep(now() + 1);
    }
    CHECK(e == ECONNRESET || e == EPIPE);
    CHECK_ERR(msend(p, "x", 1, -1), ECONNRESET);
    CHECK_OK(hclose(p));

    /* ETIMEDOUT: receiving with nothing there, sending into a full
       socket, detaching from a silent peer. */
    ipc_pair_(h);
    p = pfx_attach(h[0]);
    t = now();
    CHECK_ERR(mrecv(p, buf, sizeof(buf), now() + 50), ETIMEDOUT);
    CHECK_TOOK(t, 50);
    CHECK_ERR(mrecv(p, buf, sizeof(buf), 0), ECONNRESET);
    static uint8_t mib[1 << 20];
    t = now();
    int rc = 0;
    for(int i = 0; i < 64 && rc == 0; i++) rc = msend(p, mib, sizeof(mib), now() + 50);
    CHECK(rc == -1 && errno == ETIMEDOUT);
    CHECK_ERR(msend(p, "x", 1, 0), ECONNRESET);
    CHECK_OK(hclose(p));
    CHECK_OK(hclose(h[1]));
    ipc_pair_(h);
    p = pfx_attach(h[0]);
    t = now();
    CHECK_ERR(pfx_detach(p, now() + 50), ETIMEDOUT);
    CHECK_TOOK(t, 50);
    CHECK_HANDLE_GONE(p);
    /* The socket below went with it: the peer sees our marker, then the
       end of the stream. */
    CHECK_OK(brecv(h[1], raw, 8, now() + 1000));
    CHECK(memcmp(raw, TERM, 8) == 0);
    CHECK_ERR(brecv(h[1], raw, 1, now() + 1000), EPIPE);
    CHECK_OK(hclose(h[1]));

    /* ECANCELED: in a coroutine being canceled, blocked or not. */
    ipc_pair_(h);
    p = pfx_attach(h[0]);
    int b = bundle();
    CHECK(b >= 0);
    CHECK_OK(bundle_go(b, canceled_calls(p)));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(b));
    CHECK_OK(hclose(h[1]));
}

/* ---- handles closed under a blocked call ------------------------------ */

static coroutine void blocked_recv(int p, int *done, int64_t deadline) {
    char buf[16];
    CHECK_ERR(mrecv(p, buf, sizeof(buf), deadline), EBADF);
    *done = 1;
}

static coroutine void blocked_send(int p, int *done) {
    static uint8_t mib[1 << 20];
    int rc = 0;
    while(rc == 0) rc = msend(p, mib, sizeof(mib), now() + 5000);
    CHECK(rc == -1 && errno == EBADF);
    *done = 1;
}

static coroutine void blocked_detach(int p, int *done) {
    CHECK_ERR(pfx_detach(p, now() + 5000), EBADF);
    *done = 1;
}

static void closed_under(void (*pair)(int[2]), int which) {
    int h[2];
    pair(h);
    int done = 0;
    char mem[PFX_SIZE];
    int p = which == 1 ? pfx_attach_mem(h[0], mem) : pfx_attach(h[0]);
    CHECK(p >= 0);
    int b = -1;
    if(which == 0) SPAWN(b, blocked_recv(p, &done, now() + 5000));
    else if(which == 1) SPAWN(b, blocked_send(p, &done));
    else SPAWN(b, blocked_detach(p, &done));
    CHECK_OK(msleep(now() + 30));
    CHECK(!done);
    int64_t t = now();
    CHECK_OK(hclose(p));
    /* Caller memory may be reused at once. */
    memset(mem, 0xee, sizeof(mem));
    WAIT_FOR(done, 1000);
    CHECK_QUICK(t);
    JOIN(b);
    CHECK_OK(hclose(h[1]));
}

static void test_closed_under(void) {
    for(int w = 0; w < 3; w++) {
        closed_under(ipc_pair_, w);
        closed_under(tcp_pair, w);
    }
    /* Over a user-defined stream: its brecvl sleeps to its deadline, then
       the call sees that the socket is gone. */
    static struct loop l;
    int lh = loop_make(&l);
    int p = pfx_attach(lh);
    int b, done = 0;
    SPAWN(b, blocked_recv(p, &done, now() + 300));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(p));
    CHECK(l.nclose == 1);
    WAIT_FOR(done, 2000);
    JOIN(b);
}

/* ---- handle numbers and duplicates ------------------------------------ */

/* Caller memory at an odd address works too (and what the library
   allocates instead is freed again: valgrind). */
static void test_misaligned(void) {
    int h[2];
    ipc_pair_(h);
    GUARDED(g, 2 * PFX_SIZE + 16);
    GUARD_SET(g);
    int p0 = pfx_attach_mem(h[0], g.mem + 1);
    int p1 = pfx_attach_mem(h[1], g.mem + PFX_SIZE + 12);
    CHECK(p0 >= 0 && p1 >= 0);
    CHECK_OK(msend(p0, "odd", 3, -1));
    char buf[8];
    CHECK(mrecv(p1, buf, sizeof(buf), now() + 1000) == 3);
    CHECK_OK(hclose(p1));
    int u = pfx_detach(p0, now() + 1000);
    CHECK(u == -1 && errno == ECONNRESET);
    GUARD_CHECK(g);
}

/* Run first, on a fresh handle table. */
static void test_numbering(void) {
    int h[2];
    ipc_pair_(h);
    CHECK(h[0] == 0 && h[1] == 1);
    /* As the original: the duplicate below takes the first free number,
       the PFX socket the next. */
    int p = pfx_attach(h[0]);
    CHECK(p == 3);
    CHECK_OK(bsend(h[1], TERM, 8, -1));
    int u = pfx_detach(p, now() + 1000);
    CHECK(u == 2);
    CHECK_HANDLE_GONE(p);
    CHECK_OK(hclose(u));
    CHECK_OK(hclose(h[1]));
}

static void test_dup(void) {
    int h[2];
    ipc_pair_(h);
    int p0 = pfx_attach(h[0]);
    int p1 = pfx_attach(h[1]);
    CHECK(p0 >= 0 && p1 >= 0);
    /* A duplicate of a PFX socket: detaching one leaves the other as an
       object whose protocol has ended. */
    int d = hdup(p0);
    CHECK(d >= 0);
    CHECK_OK(hdone(p1, -1));
    int u0 = pfx_detach(p0, now() + 1000);
    CHECK(u0 >= 0);
    CHECK_ERR(msend(d, "x", 1, -1), EPIPE);
    CHECK_ERR(mrecv(d, NULL, 0, -1), EPIPE);
    CHECK_OK(bsend(u0, "zz", 2, -1));
    CHECK_OK(hclose(d));
    CHECK_OK(bsend(u0, "zz", 2, -1));
    char buf[8];
    CHECK_ERR(mrecv(p1, buf, sizeof(buf), now() + 1000), EPIPE);
    CHECK_OK(hclose(p1));
    CHECK_OK(hclose(u0));
}

int main(void) {
    WATCHDOG(100);
    signal(SIGPIPE, SIG_IGN);
    test_numbering();
    test_messages(ipc_pair_, "ipc_pair");
    test_messages(tcp_pair, "tcp");
    test_wire();
    test_user_bsock();
    test_errors();
#ifndef CTEST_UPSTREAM
    /* Upstream asserts (fd.c) when a socket is closed under a call. */
    test_closed_under();
#endif
#ifndef CTEST_UPSTREAM
    /* Upstream frees a detached object that other handles still name. */
    test_dup();
#endif
    test_misaligned();
    return 0;
}
