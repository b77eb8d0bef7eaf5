/* WebSocket (RFC 6455) sockets: our client and server talking to each
   other over ipc_pair, TCP and a user-defined byte stream, and against a
   hand-written peer that writes and reads raw frames on the other end of
   the stream (masking, fragments, pings, closes, bad frames). Argument
   checks and errnos; caller memory; a socket closed while another
   coroutine waits in it. The HTTP upgrade is in the second half. */
#include <libdillimpl.h>

#include "sockutil.h"

#define DL (now() + 5000)

/* ---- raw frames on the peer's end ------------------------------------- */

static void raw_frame(int s, int fin, int op, int masked, const void *p,
      uint64_t n, uint64_t claimed) {
    uint8_t h[14];
    size_t k = 0;
    h[k++] = (uint8_t)((fin ? 0x80 : 0) | op);
    uint8_t m = masked ? 0x80 : 0;
    if(claimed < 126) h[k++] = m | (uint8_t)claimed;
    else if(claimed <= 0xffff) {
        h[k++] = m | 126;
        h[k++] = (uint8_t)(claimed >> 8);
        h[k++] = (uint8_t)claimed;
    }
    else {
        h[k++] = m | 127;
        for(int i = 7; i >= 0; i--) h[k++] = (uint8_t)(claimed >> (8 * i));
    }
    uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    if(masked) { memcpy(h + k, key, 4); k += 4; }
    CHECK_OK(bsend(s, h, k, DL));
    if(!n) return;
    uint8_t *b = malloc(n);
    CHECK(b);
    memcpy(b, p, n);
    if(masked) for(uint64_t i = 0; i < n; i++) b[i] ^= key[i % 4];
    CHECK_OK(bsend(s, b, n, DL));
    free(b);
}

/* A whole frame as a client sends it (masked) or a server (not). */
#define CFRAME(s, fin, op, p, n) raw_frame(s, fin, op, 1, p, n, n)
#define SFRAME(s, fin, op, p, n) raw_frame(s, fin, op, 0, p, n, n)

struct got { int fin, op, masked; uint8_t p[1 << 16]; size_t n; };
static struct got g;

/* Reads one frame; it must be masked exactly when `masked`. */
static void raw_read(int s, int masked) {
    uint8_t h[2];
    CHECK_OK(brecv(s, h, 2, DL));
    g.fin = h[0] >> 7;
    CHECK((h[0] & 0x70) == 0);
    g.op = h[0] & 15;
    g.masked = h[1] >> 7;
    CHECK(g.masked == masked);
    uint64_t n = h[1] & 127;
    if(n == 126) {
        uint8_t e[2];
        CHECK_OK(brecv(s, e, 2, DL));
        n = (uint64_t)e[0] << 8 | e[1];
    }
    else if(n == 127) {
        uint8_t e[8];
        CHECK_OK(brecv(s, e, 8, DL));
        n = 0;
        for(int i = 0; i < 8; i++) n = n << 8 | e[i];
    }
    uint8_t key[4] = {0};
    if(masked) CHECK_OK(brecv(s, key, 4, DL));
    CHECK(n <= sizeof(g.p));
    g.n = (size_t)n;
    if(n) CHECK_OK(brecv(s, g.p, g.n, DL));
    for(size_t i = 0; i < g.n; i++) g.p[i] ^= key[i % 4];
}

static void expect_frame(int s, int masked, int op, const void *p, size_t n) {
    raw_read(s, masked);
    CHECK(g.fin == 1);
    CHECK(g.op == op);
    CHECK(g.n == n);
    CHECK(n == 0 || memcmp(g.p, p, n) == 0);
}

/* A close frame with `code` (0: none). */
static void expect_close(int s, int masked, int code) {
    raw_read(s, masked);
    CHECK(g.fin && g.op == 8);
    if(!code) { CHECK(g.n == 0); return; }
    CHECK(g.n >= 2);
    CHECK((g.p[0] << 8 | g.p[1]) == code);
}

/* Nothing more has arrived on the raw end. */
static void expect_silence(int s) {
    uint8_t b;
    CHECK_ERR(brecv(s, &b, 1, now() + 20), ETIMEDOUT);
}

/* Our socket of the given side on p[0] (WS_NOHTTP); the raw peer keeps
   p[1]. */
static int ws_raw(int p[2], int server, int flags) {
    CHECK_OK(ipc_pair(p));
    int s = server ?
        ws_attach_server(p[0], flags | WS_NOHTTP, NULL, 0, NULL, 0, -1) :
        ws_attach_client(p[0], flags | WS_NOHTTP, NULL, NULL, -1);
    CHECK(s >= 0);
    return s;
}

static void raw_done(int ws, int raw) {
    CHECK_OK(hclose(ws));
    CHECK_OK(hclose(raw));
}

/* ---- our client and our server ---------------------------------------- */

static uint8_t big_out[1 << 21], big_in[1 << 21];

/* Messages of many sizes both ways between two of our sockets; `a`
   sends, `b` receives, on two coroutines. */
static coroutine void sender(int s, size_t n, int text) {
    CHECK_OK(ws_send(s, text ? WS_TEXT : WS_BINARY, big_out, n, DL));
}

static void exchange(int a, int b) {
    static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536,
        65537, 1 << 20, 3, 1 << 21};
    for(size_t i = 0; i < NCHUNKS(sizes); i++) {
        size_t n = sizes[i];
        for(size_t k = 0; k < n; k++) big_out[k] = (uint8_t)(k * 7 + i);
        int bn;
        SPAWN(bn, sender(a, n, 0));
        int flags = -1;
        memset(big_in, 0, n);
        CHECK(ws_recv(b, &flags, big_in, sizeof(big_in), DL) == (ssize_t)n);
        CHECK(flags == WS_BINARY);
        CHECK(memcmp(big_in, big_out, n) == 0);
        JOIN(bn);
    }
    /* Text, and lists of pieces on both sides. */
    CHECK_OK(ws_send(a, WS_TEXT, "h\xc3\xa9llo", 6, DL));
    int flags = -1;
    char t[16];
    CHECK(ws_recv(b, &flags, t, sizeof(t), DL) == 6);
    CHECK(flags == WS_TEXT && memcmp(t, "h\xc3\xa9llo", 6) == 0);
    char x[3] = "abc", y[1] = "", z[4] = "defg";
    struct iolist o[3] = {{x, 3, &o[1], 0}, {y, 0, &o[2], 0}, {z, 4, NULL, 0}};
    CHECK_OK(ws_sendl(a, WS_BINARY, &o[0], &o[2], DL));
    char r1[2], r2[10];
    struct iolist in[3] = {{r1, 2, &in[1], 0}, {NULL, 1, &in[2], 0},
        {r2, 10, NULL, 0}};
    CHECK(ws_recvl(b, &flags, &in[0], &in[2], DL) == 7);
    CHECK(flags == WS_BINARY);
    CHECK(memcmp(r1, "ab", 2) == 0 && memcmp(r2, "defg", 4) == 0);
    /* The lists are as before. */
    CHECK(o[0].iol_next == &o[1] && o[1].iol_next == &o[2] &&
        !o[2].iol_next && !o[0].iol_rsvd);
    CHECK(in[0].iol_next == &in[1] && in[2].iol_len == 10 && !in[1].iol_rsvd);
}

/* Closing handshake: a's ws_detach against b's. They give back the
   streams ua and ub (-1: whatever number they have, after an HTTP
   handshake); returns them in *ua, *ub. */
static coroutine void detacher(int s, int *u) {
    *u = ws_detach(s, DL);
    CHECK(*u >= 0);
}

static void both_detach_to(int a, int b, int *ua, int *ub) {
    int b1, ra = -1;
    SPAWN(b1, detacher(a, &ra));
    int rb = ws_detach(b, DL);
    CHECK(rb >= 0);
    JOIN(b1);
    if(*ua >= 0) CHECK(ra == *ua);
    if(*ub >= 0) CHECK(rb == *ub);
    *ua = ra;
    *ub = rb;
    /* The byte streams are usable again, in order. */
    CHECK_OK(bsend(ra, "raw", 3, DL));
    char r[3];
    CHECK_OK(brecv(rb, r, 3, DL));
    CHECK(memcmp(r, "raw", 3) == 0);
    CHECK_ERR(hclose(a), EBADF);
    CHECK_ERR(hclose(b), EBADF);
}

static void both_detach(int a, int b, int ua, int ub) {
    both_detach_to(a, b, &ua, &ub);
}

static void test_ipc_pair(void) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    int c = ws_attach_client(p[0], WS_NOHTTP, NULL, NULL, -1);
    CHECK(c >= 0);
    int s = ws_attach_server(p[1], WS_NOHTTP | WS_TEXT, NULL, 0, NULL, 0, -1);
    CHECK(s >= 0);
    exchange(c, s);
    exchange(s, c);
    /* msend/mrecv use the socket's own type: the client is binary, the
       server text. */
    CHECK_OK(msend(c, "bin", 3, DL));
    int flags = -1;
    char b[8];
    CHECK(ws_recv(s, &flags, b, sizeof(b), DL) == 3);
    CHECK(flags == WS_BINARY);
    CHECK_OK(msend(s, "txt", 3, DL));
    CHECK(ws_recv(c, &flags, b, sizeof(b), DL) == 3);
    CHECK(flags == WS_TEXT);
    both_detach(c, s, p[0], p[1]);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
    printf("ipc_pair: client <-> server, sizes 0..2 MiB, text, lists, "
        "detach: ok\n");
}

static void test_tcp(void) {
    struct ipaddr a;
    loop4(&a, 0);
    int ls = tcp_listen(&a, 10);
    CHECK(ls >= 0);
    int u0 = tcp_connect(&a, DL);
    CHECK(u0 >= 0);
    int u1 = tcp_accept(ls, NULL, DL);
    CHECK(u1 >= 0);
    int c = ws_attach_client(u0, WS_NOHTTP | WS_TEXT, NULL, NULL, -1);
    int s = ws_attach_server(u1, WS_NOHTTP | WS_TEXT, NULL, 0, NULL, 0, -1);
    CHECK(c >= 0 && s >= 0);
    exchange(c, s);
    exchange(s, c);
    both_detach(c, s, u0, u1);
    int b1;
    SPAWN(b1, (void)tcp_close(u1, DL));
    CHECK_OK(tcp_close(u0, DL));
    JOIN(b1);
    CHECK_OK(hclose(ls));
    printf("tcp: client <-> server, detach, tcp_close: ok\n");
}

/* ---- a user-defined byte stream: one direction of a pipe in memory ---- */

struct mpipe {
    struct hvfs hvfs;
    struct bsock_vfs bvfs;
    struct mpipe *peer;
    uint8_t buf[1 << 16];
    size_t len;     /* bytes waiting in buf (sent to us) */
    int closed;
};

static void *mp_query(struct hvfs *h, const void *type) {
    struct mpipe *m = (struct mpipe*)h;
    if(type == bsock_type) return &m->bvfs;
    errno = ENOTSUP;
    return NULL;
}

static void mp_close(struct hvfs *h) {
    struct mpipe *m = (struct mpipe*)h;
    m->closed = 1;
    if(m->peer) m->peer->peer = NULL;
}

static int mp_sendl(struct bsock_vfs *v, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct mpipe *m = (struct mpipe*)((char*)v - offsetof(struct mpipe, bvfs));
    for(struct iolist *it = first; it; it = it->iol_next) {
        size_t off = 0;
        while(off < it->iol_len) {
            if(!m->peer) { errno = ECONNRESET; return -1; }
            struct mpipe *p = m->peer;
            size_t room = sizeof(p->buf) - p->len;
            size_t k = it->iol_len - off < room ? it->iol_len - off : room;
            memcpy(p->buf + p->len, (uint8_t*)it->iol_base + off, k);
            p->len += k;
            off += k;
            /* Small writes, so that frames cross the pipe in pieces. */
            if(off < it->iol_len && yield() < 0) return -1;
        }
    }
    return 0;
}

static int mp_recvl(struct bsock_vfs *v, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct mpipe *m = (struct mpipe*)((char*)v - offsetof(struct mpipe, bvfs));
    for(struct iolist *it = first; it; it = it->iol_next) {
        size_t off = 0;
        while(off < it->iol_len) {
            if(!m->len) {
                if(!m->peer) { errno = EPIPE; return -1; }
                if(deadline >= 0 && now() >= deadline) {
                    errno = ETIMEDOUT; return -1;}
                if(msleep(now() + 1) < 0) return -1;
                continue;
            }
            size_t k = it->iol_len - off < m->len ? it->iol_len - off : m->len;
            if(it->iol_base) memcpy((uint8_t*)it->iol_base + off, m->buf, k);
            memmove(m->buf, m->buf + k, m->len - k);
            m->len -= k;
            off += k;
        }
    }
    return 0;
}

static void mp_pair(struct mpipe mp[2], int h[2]) {
    memset(mp, 0, 2 * sizeof(*mp));
    for(int i = 0; i < 2; i++) {
        mp[i].hvfs.query = mp_query;
        mp[i].hvfs.close = mp_close;
        mp[i].bvfs.bsendl = mp_sendl;
        mp[i].bvfs.brecvl = mp_recvl;
        mp[i].peer = &mp[1 - i];
        h[i] = hmake(&mp[i].hvfs);
        CHECK(h[i] >= 0);
    }
}

static void test_user_bsock(void) {
    static struct mpipe mp[2];
    int h[2];
    mp_pair(mp, h);
    int c = ws_attach_client(h[0], WS_NOHTTP, NULL, NULL, -1);
    int s = ws_attach_server(h[1], WS_NOHTTP, NULL, 0, NULL, 0, -1);
    CHECK(c >= 0 && s >= 0);
    exchange(c, s);
    exchange(s, c);
    both_detach(c, s, h[0], h[1]);
    CHECK_OK(hclose(h[0]));
    CHECK(mp[0].closed);
    CHECK_OK(hclose(h[1]));
    printf("user-defined byte stream: client <-> server: ok\n");
}

/* ---- against raw frames ------------------------------------------------ */

/* Fragments joined, control frames between them answered. */
static void test_fragments(void) {
    for(int server = 0; server <= 1; server++) {
        int p[2];
        int s = ws_raw(p, server, WS_TEXT);
        int m = server;   /* the raw peer masks when it is the client */
        /* "€" split between the first two frames, a ping and a pong
           between fragments, and an empty fragment. */
        raw_frame(p[1], 0, 1, m, "ab\xe2\x82", 4, 4);
        raw_frame(p[1], 1, 9, m, "are you there", 13, 13);
        raw_frame(p[1], 0, 0, m, "\xac", 1, 1);
        raw_frame(p[1], 1, 10, m, "unsolicited", 11, 11);
        raw_frame(p[1], 0, 0, m, "", 0, 0);
        raw_frame(p[1], 1, 0, m, "cd", 2, 2);
        char b[16];
        int flags = -1;
        CHECK(ws_recv(s, &flags, b, sizeof(b), DL) == 7);
        CHECK(flags == WS_TEXT && memcmp(b, "ab\xe2\x82\xac" "cd", 7) == 0);
        /* One pong, with the ping's payload, masked by a client. */
        expect_frame(p[1], !server, 10, "are you there", 13);
        /* An empty ping, then a binary message in two pieces via
           ws_recvl into two buffers. */
        raw_frame(p[1], 1, 9, m, "", 0, 0);
        raw_frame(p[1], 0, 2, m, "0123", 4, 4);
        raw_frame(p[1], 1, 0, m, "456789", 6, 6);
        char x[3], y[7];
        struct iolist l[2] = {{x, 3, &l[1], 0}, {y, 7, NULL, 0}};
        CHECK(ws_recvl(s, &flags, &l[0], &l[1], DL) == 10);
        CHECK(flags == WS_BINARY);
        CHECK(memcmp(x, "012", 3) == 0 && memcmp(y, "3456789", 7) == 0);
        expect_frame(p[1], !server, 10, "", 0);
        /* What we send: one final frame per message, masked by a client,
           of the socket's type through msend. */
        CHECK_OK(msend(s, "hi", 2, DL));
        expect_frame(p[1], !server, 1, "hi", 2);
        CHECK_OK(ws_send(s, WS_BINARY, "\x00\xff", 2, DL));
        expect_frame(p[1], !server, 2, "\x00\xff", 2);
        static uint8_t mid[300];
        memset(mid, 'm', sizeof(mid));
        CHECK_OK(ws_send(s, WS_TEXT, mid, sizeof(mid), DL));
        expect_frame(p[1], !server, 1, mid, sizeof(mid));
        raw_done(s, p[1]);
    }
    printf("raw peer: fragments, interleaved ping/pong, masking both ways: "
        "ok\n");
}

/* A frame the peer must not send: EPROTO, a close frame with `code`
   goes back, and the socket receives no more (ECONNRESET). */
static void bad(int server, const uint8_t *bytes, size_t n, int code,
      int flags) {
    int p[2];
    int s = ws_raw(p, server, flags);
    CHECK_OK(bsend(p[1], bytes, n, DL));
    char b[64];
    int64_t start = now();
    CHECK_ERR(ws_recv(s, NULL, b, sizeof(b), DL), EPROTO);
    CHECK_QUICK(start);
    expect_close(p[1], !server, code);
    CHECK_ERR(ws_recv(s, NULL, b, sizeof(b), DL), ECONNRESET);
    CHECK_ERR(ws_send(s, WS_TEXT, "x", 1, DL), EPIPE);
    raw_done(s, p[1]);
}

static void test_bad_frames(void) {
    /* Unmasked frame to a server, masked one to a client. */
    bad(1, (const uint8_t*)"\x82\x01x", 3, 1002, 0);
    bad(0, (const uint8_t*)"\x82\x81\0\0\0\0x", 7, 1002, 0);
    /* RSV bits; reserved data and control opcodes. */
    bad(0, (const uint8_t*)"\xc2\x01x", 3, 1002, 0);
    bad(0, (const uint8_t*)"\x92\x01x", 3, 1002, 0);
    bad(0, (const uint8_t*)"\x83\x01x", 3, 1002, 0);
    bad(0, (const uint8_t*)"\x8b\x00", 2, 1002, 0);
    /* Continuation with nothing to continue; a new message inside one. */
    bad(0, (const uint8_t*)"\x80\x01x", 3, 1002, 0);
    bad(0, (const uint8_t*)"\x02\x01x\x82\x01y", 6, 1002, 0);
    /* Fragmented ping; ping of 126 bytes. */
    bad(0, (const uint8_t*)"\x09\x00", 2, 1002, 0);
    bad(0, (const uint8_t*)"\x89\x7e\x00\x7e", 4, 1002, 0);
    /* A close with a one-byte body, a code that may not be sent, a
       reason that is not UTF-8. */
    bad(0, (const uint8_t*)"\x88\x01\x03", 3, 1002, 0);
    bad(0, (const uint8_t*)"\x88\x02\x03\xed", 4, 1002, 0);
    bad(0, (const uint8_t*)"\x88\x03\x03\xe8\xff", 5, 1007, 0);
    /* Text that is not UTF-8: at once, cut short at the end, a
       surrogate split between fragments, through mrecv too. */
    bad(0, (const uint8_t*)"\x81\x02o\xff", 4, 1007, WS_TEXT);
    bad(0, (const uint8_t*)"\x81\x02o\xc3", 4, 1007, WS_TEXT);
    bad(0, (const uint8_t*)"\x01\x01\xed\x80\x02\xa0\x80", 7, 1007, 0);
    /* A length with its top bit set, claiming 2^63 bytes: refused at
       once, nothing allocated or waited for. */
    bad(0, (const uint8_t*)"\x82\x7f\x80\0\0\0\0\0\0\0", 10, 1002, 0);
    bad(1, (const uint8_t*)"\x82\xff\x80\0\0\0\0\0\0\0\1\2\3\4", 14, 1002,
        0);
    printf("raw peer: 18 kinds of bad frames refused with EPROTO and a "
        "close frame: ok\n");
}

/* Messages that do not fit, or are of the other type for mrecv, are
   dropped and the next one arrives intact. */
static void test_dropped(void) {
    int p[2];
    int s = ws_raw(p, 0, WS_TEXT);
    char b[8];
    static uint8_t long_msg[1000];
    memset(long_msg, 'L', sizeof(long_msg));
    /* Too long in its one frame. */
    SFRAME(p[1], 1, 2, long_msg, 1000);
    SFRAME(p[1], 1, 1, "next", 4);
    CHECK_ERR(ws_recv(s, NULL, b, sizeof(b), DL), EMSGSIZE);
    int flags;
    CHECK(ws_recv(s, &flags, b, sizeof(b), DL) == 4);
    CHECK(flags == WS_TEXT && memcmp(b, "next", 4) == 0);
    /* Too long in its second fragment; a ping among the dropped ones is
       still answered. */
    SFRAME(p[1], 0, 2, "12345", 5);
    SFRAME(p[1], 0, 0, long_msg, 100);
    SFRAME(p[1], 1, 9, "p", 1);
    SFRAME(p[1], 0, 0, long_msg, 100);
    SFRAME(p[1], 1, 0, long_msg, 3);
    SFRAME(p[1], 1, 1, "after", 5);
    CHECK_ERR(ws_recv(s, NULL, b, sizeof(b), DL), EMSGSIZE);
    CHECK(ws_recv(s, &flags, b, sizeof(b), DL) == 5);
    CHECK(memcmp(b, "after", 5) == 0);
    expect_frame(p[1], 1, 10, "p", 1);
    /* A binary message for mrecv on a text socket: EPROTO, dropped, and
       the socket goes on. */
    SFRAME(p[1], 0, 2, "bin", 3);
    SFRAME(p[1], 1, 0, "ary", 3);
    SFRAME(p[1], 1, 1, "text", 4);
    CHECK_ERR(mrecv(s, b, sizeof(b), DL), EPROTO);
    CHECK(mrecv(s, b, sizeof(b), DL) == 4);
    CHECK(memcmp(b, "text", 4) == 0);
    /* mrecvl with no list drops a message and tells its size. */
    SFRAME(p[1], 1, 1, "dropped", 7);
    CHECK(mrecvl(s, NULL, NULL, DL) == 7);
    /* A NULL buffer skips the bytes, as an iolist piece would. */
    SFRAME(p[1], 1, 1, "skip", 4);
    CHECK(ws_recv(s, &flags, NULL, 10, DL) == 4);
    /* A frame claiming 2^62 bytes: EMSGSIZE at once; only the bytes that
       really come are read past. */
    raw_frame(p[1], 1, 2, 0, "xyz", 3, 1ULL << 62);
    int64_t start = now();
    CHECK_ERR(ws_recv(s, NULL, b, sizeof(b), DL), EMSGSIZE);
    CHECK_QUICK(start);
    CHECK_ERR(ws_recv(s, NULL, b, sizeof(b), now() + 50), ETIMEDOUT);
    expect_silence(p[1]);
    raw_done(s, p[1]);
    printf("raw peer: too long (one frame, fragments, 2^62) and wrong-type "
        "messages dropped, next ones intact: ok\n");
}

/* The peer's close: answered with its code, then EPIPE both ways. */
static void test_peer_close(void) {
    for(int server = 0; server <= 1; server++) {
        int p[2];
        int s = ws_raw(p, server, 0);
        raw_frame(p[1], 1, 2, server, "last", 4, 4);
        raw_frame(p[1], 1, 8, server, "\x03\xe9" "going away", 12, 12);
        char b[8];
        CHECK(ws_recv(s, NULL, b, sizeof(b), DL) == 4);
        CHECK_ERR(ws_recv(s, NULL, b, sizeof(b), DL), EPIPE);
        expect_close(p[1], !server, 1001);
        CHECK(g.n == 2);
        CHECK_ERR(ws_recv(s, NULL, b, sizeof(b), DL), EPIPE);
        CHECK_ERR(ws_send(s, 0, "x", 1, DL), EPIPE);
        CHECK_ERR(hdone(s, DL), EPIPE);
        /* The handshake is complete: detach gives the stream back at
           once, with nothing sent. */
        int64_t start = now();
        CHECK(ws_detach(s, DL) == p[0]);
        CHECK_QUICK(start);
        expect_silence(p[1]);
        CHECK_OK(hclose(p[0]));
        CHECK_OK(hclose(p[1]));
    }
    /* A close without a code is answered without one. */
    int p[2];
    int s = ws_raw(p, 0, 0);
    SFRAME(p[1], 1, 8, "", 0);
    CHECK_ERR(mrecv(s, NULL, 0, DL), EPIPE);
    expect_close(p[1], 1, 0);
    raw_done(s, p[1]);
    /* The stream below ending without a close: EPIPE. */
    s = ws_raw(p, 0, 0);
    CHECK_OK(hclose(p[1]));
    char b[4];
    CHECK_ERR(ws_recv(s, NULL, b, sizeof(b), DL), EPIPE);
    CHECK_ERR(ws_recv(s, NULL, b, sizeof(b), DL), EPIPE);
    CHECK(ws_detach(s, DL) == p[0]);
    CHECK_OK(hclose(p[0]));
    printf("raw peer: its close answered, EPIPE after, detach at once: "
        "ok\n");
}

/* Our close: hdone and ws_detach. */
static void test_our_close(void) {
    for(int server = 0; server <= 1; server++) {
        int p[2];
        int s = ws_raw(p, server, 0);
        CHECK_OK(hdone(s, DL));
        expect_close(p[1], !server, 1000);
        CHECK(g.n == 2);
        CHECK_ERR(ws_send(s, 0, "x", 1, DL), EPIPE);
        CHECK_ERR(hdone(s, DL), EPIPE);
        /* Receiving goes on until the peer's close. */
        raw_frame(p[1], 1, 1, server, "still", 5, 5);
        char b[8];
        CHECK(ws_recv(s, NULL, b, sizeof(b), DL) == 5);
        /* ws_detach now only waits for the peer's close (dropping what
           comes before it). */
        raw_frame(p[1], 1, 2, server, "dropped", 7, 7);
        raw_frame(p[1], 1, 8, server, "\x03\xe8", 2, 2);
        CHECK(ws_detach(s, DL) == p[0]);
        expect_silence(p[1]);
        CHECK_OK(hclose(p[0]));
        CHECK_OK(hclose(p[1]));
    }
    /* ws_detach from the start: our close, then the peer's. */
    int p[2];
    int s = ws_raw(p, 0, 0);
    SFRAME(p[1], 1, 8, "", 0);
    CHECK(ws_detach(s, DL) == p[0]);
    expect_close(p[1], 1, 1000);
    CHECK_OK(bsend(p[0], "after", 5, DL));
    char b[5];
    CHECK_OK(brecv(p[1], b, 5, DL));
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
    /* A peer that never closes: ETIMEDOUT, and the socket and the stream
       below are closed anyway. */
    s = ws_raw(p, 1, 0);
    int64_t start = now();
    CHECK_ERR(ws_detach(s, now() + 100), ETIMEDOUT);
    CHECK_TOOK(start, 100);
    CHECK_ERR(hclose(s), EBADF);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(p[1]));
    printf("our close: hdone, detach after and before the peer's: ok\n");
}

/* ---- arguments and errnos ---------------------------------------------- */

static void test_errors(void) {
    /* Not a byte stream, or not a handle. */
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR_DOC(ws_attach_client(ch[0], WS_NOHTTP, NULL, NULL, -1), EPROTO,
        "not a bytestream socket");
    CHECK_ERR(ws_attach_server(12345, WS_NOHTTP, NULL, 0, NULL, 0, -1),
        EBADF);
    CHECK_ERR(ws_attach_client(-1, WS_NOHTTP, NULL, NULL, -1), EBADF);
    int p[2];
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(ws_attach_client_mem(p[0], WS_NOHTTP, NULL, NULL, NULL, -1),
        EINVAL);
    CHECK_ERR(ws_attach_server_mem(p[0], WS_NOHTTP, NULL, 0, NULL, 0, NULL,
        -1), EINVAL);
    CHECK_ERR(ws_attach_client(p[0], WS_NOHTTP | 64, NULL, NULL, -1), EINVAL);
    /* The HTTP handshake needs its resource and host. */
    CHECK_ERR(ws_attach_client(p[0], 0, NULL, "h", -1), EINVAL);
    CHECK_ERR(ws_attach_client(p[0], 0, "/", NULL, -1), EINVAL);
    /* ws_* on handles that are not WebSockets. */
    char b[4];
    CHECK_ERR(ws_send(ch[0], 0, "x", 1, -1), ENOTSUP);
    CHECK_ERR(ws_recv(p[0], NULL, b, 4, -1), ENOTSUP);
    CHECK_ERR(ws_sendl(999, 0, NULL, NULL, -1), EBADF);
    CHECK_ERR(ws_recvl(-5, NULL, NULL, NULL, -1), EBADF);
    CHECK_ERR(ws_detach(p[0], -1), ENOTSUP);
    CHECK_ERR(ws_detach(999, -1), EBADF);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    /* A WebSocket is a message socket, not a byte stream. */
    int s = ws_attach_client(p[0], WS_NOHTTP, NULL, NULL, -1);
    CHECK(s >= 0);
    CHECK(hquery(s, msock_type) != NULL);
    CHECK_NULL_ERR(hquery(s, bsock_type), ENOTSUP);
    CHECK_ERR(bsend(s, "x", 1, -1), ENOTSUP);
    /* Bad message types and lists. */
    CHECK_ERR(ws_send(s, 2, "x", 1, -1), EINVAL);
    CHECK_ERR(ws_send(s, -1, "x", 1, -1), EINVAL);
    struct iolist l1 = {b, 1, NULL, 1};
    CHECK_ERR(ws_sendl(s, 0, &l1, &l1, -1), EINVAL);
    CHECK_ERR(ws_recvl(s, NULL, &l1, &l1, -1), EINVAL);
    CHECK(l1.iol_rsvd == 1);
    struct iolist l2 = {b, 1, NULL, 0}, l3 = {b, 1, &l2, 0};
    CHECK_ERR(ws_sendl(s, 0, &l3, &l3, -1), EINVAL);
    CHECK_ERR(ws_recvl(s, NULL, &l2, &l3, -1), EINVAL);
    CHECK_ERR(ws_sendl(s, 0, NULL, &l2, -1), EINVAL);
    CHECK_ERR(msendl(s, NULL, NULL, -1), EINVAL);
    struct iolist nb = {NULL, 3, NULL, 0};
    CHECK_ERR(ws_sendl(s, 0, &nb, &nb, -1), EINVAL);
    /* Nothing went out. */
    expect_silence(p[1]);
    /* Deadlines. */
    int64_t start = now();
    CHECK_ERR(ws_recv(s, NULL, b, 4, now() + 60), ETIMEDOUT);
    CHECK_TOOK(start, 60);
    CHECK_OK(hclose(s));
    CHECK_ERR(hclose(p[0]), EBADF);   /* hclose closed the stream below */
    CHECK_OK(hclose(p[1]));
    /* Keys. */
    char k[WS_KEY_SIZE], k2[WS_KEY_SIZE], r[WS_KEY_SIZE];
    CHECK_ERR(ws_request_key(NULL), EINVAL);
    CHECK_OK(ws_request_key(k));
    CHECK_OK(ws_request_key(k2));
    CHECK(strlen(k) == 24 && strcmp(k, k2) != 0 && k[22] == '=');
    CHECK_OK(ws_response_key(k, r));
    CHECK(strlen(r) == 28);
    CHECK_OK(ws_response_key("dGhlIHNhbXBsZSBub25jZQ==", r));
    CHECK(strcmp(r, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    CHECK_ERR(ws_response_key(NULL, r), EINVAL);
    CHECK_ERR(ws_response_key(k, NULL), EINVAL);
    CHECK_ERR(ws_response_key("", r), EPROTO);
    CHECK_ERR(ws_response_key("dGhlIHNhbXBsZSBub25jZQ", r), EPROTO);
    CHECK_ERR(ws_response_key("aGVsbG8=", r), EPROTO);
    CHECK_ERR(ws_response_key("not base64 at all!!!!!==", r), EPROTO);
    printf("errors: argument checks, handle kinds, lists, deadlines, keys: "
        "ok\n");
}

/* Caller memory: exactly WS_SIZE bytes, guarded on both sides. */
static void test_mem(void) {
    static GUARDED(gc, WS_SIZE);
    static GUARDED(gs, WS_SIZE);
    GUARD_SET(gc);
    GUARD_SET(gs);
    int p[2];
    CHECK_OK(ipc_pair(p));
    int c = ws_attach_client_mem(p[0], WS_NOHTTP, NULL, NULL, gc.mem, -1);
    int s = ws_attach_server_mem(p[1], WS_NOHTTP, NULL, 0, NULL, 0, gs.mem,
        -1);
    CHECK(c >= 0 && s >= 0);
    exchange(c, s);
    exchange(s, c);
    GUARD_CHECK(gc);
    GUARD_CHECK(gs);
    both_detach(c, s, p[0], p[1]);
    GUARD_CHECK(gc);
    GUARD_CHECK(gs);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
    /* Misaligned memory works too. */
    static uint8_t odd[WS_SIZE + 1];
    CHECK_OK(ipc_pair(p));
    c = ws_attach_client_mem(p[0], WS_NOHTTP, NULL, NULL, odd + 1, -1);
    CHECK(c >= 0);
    CHECK_OK(hclose(c));
    CHECK_OK(hclose(p[1]));
    printf("caller memory: WS_SIZE bytes, guards intact: ok\n");
}

/* ---- closed while another coroutine waits in it ----------------------- */

static struct { int rc, err, done; } waiter;

static coroutine void blocked_recv(int s) {
    char b[16];
    errno = 0;
    waiter.rc = (int)ws_recv(s, NULL, b, sizeof(b), -1);
    waiter.err = errno;
    waiter.done = 1;
}

static coroutine void blocked_send(int s) {
    /* More than the socket buffers hold: this waits for the reader. */
    errno = 0;
    waiter.rc = ws_send(s, 0, big_out, sizeof(big_out), -1);
    waiter.err = errno;
    waiter.done = 1;
}

static void closed_while_waiting(int server, int sending, int mid_frame) {
    int p[2];
    int s = ws_raw(p, server, 0);
    memset(&waiter, 0, sizeof(waiter));
    int b;
    SPAWN(b, sending ? blocked_send(s) : blocked_recv(s));
    /* Half a frame: the receiver waits inside the payload. */
    if(mid_frame) raw_frame(p[1], 1, 2, server, "abc", 3, 10);
    CHECK_OK(msleep(now() + 30));
    CHECK(!waiter.done);
    CHECK_OK(hclose(s));
    WAIT_FOR(waiter.done, 2000);
    CHECK(waiter.rc == -1 && waiter.err == EBADF);
    JOIN(b);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(p[1]));
}

static void test_close_while_waiting(void) {
    for(int server = 0; server <= 1; server++) {
        closed_while_waiting(server, 0, 0);
        closed_while_waiting(server, 0, 1);
        closed_while_waiting(server, 1, 0);
    }
    /* A waiting coroutine canceled (its bundle closed): ECANCELED, and
       the socket is still there to close. */
    int p[2];
    int s = ws_raw(p, 0, 0);
    memset(&waiter, 0, sizeof(waiter));
    int b = bundle();
    CHECK(b >= 0);
    CHECK_OK(bundle_go(b, blocked_recv(s)));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(b));
    CHECK(waiter.done && waiter.rc == -1 && waiter.err == ECANCELED);
    raw_done(s, p[1]);
    printf("hclose while another coroutine waits in ws_recv/ws_send: EBADF; "
        "canceled: ECANCELED: ok\n");
}

/* A pong while another coroutine is mid-frame goes after that frame. */
static coroutine void big_sender(int s) {
    CHECK_OK(ws_send(s, 0, big_out, sizeof(big_out), DL));
}

static void test_pong_waits_for_frame(void) {
    int p[2];
    int s = ws_raw(p, 0, 0);
    for(size_t k = 0; k < sizeof(big_out); k++) big_out[k] = (uint8_t)k;
    int b;
    SPAWN(b, big_sender(s));
    CHECK_OK(yield());
    /* The sender waits for room; a ping comes in; its answer must not
       cut into the big frame. */
    SFRAME(p[1], 1, 9, "mid", 3);
    SFRAME(p[1], 1, 1, "msg", 3);
    char r[4];
    CHECK(ws_recv(s, NULL, r, sizeof(r), DL) == 3);
    static struct got big;
    uint8_t h[2];
    CHECK_OK(brecv(p[1], h, 2, DL));
    CHECK(h[0] == 0x82 && h[1] == (0x80 | 127));
    uint8_t e[12];
    CHECK_OK(brecv(p[1], e, 12, DL));
    uint64_t n = 0;
    for(int i = 0; i < 8; i++) n = n << 8 | e[i];
    CHECK(n == sizeof(big_out));
    for(size_t off = 0; off < n; off += sizeof(big.p)) {
        CHECK_OK(brecv(p[1], big.p, sizeof(big.p), DL));
        for(size_t i = 0; i < sizeof(big.p); i++)
            CHECK((big.p[i] ^ e[8 + (off + i) % 4]) == (uint8_t)(off + i));
    }
    JOIN(b);
    expect_frame(p[1], 1, 10, "mid", 3);
    raw_done(s, p[1]);
    printf("pong while a 2 MiB frame is being sent: after it, intact: ok\n");
}

/* ---- the HTTP upgrade -------------------------------------------------- */

/* Reads an HTTP head (up to the blank line) from the raw end. */
static char head[4096];
static void raw_head(int s) {
    size_t n = 0;
    while(n < 4 || memcmp(head + n - 4, "\r\n\r\n", 4) != 0) {
        CHECK(n < sizeof(head) - 1);
        CHECK_OK(brecv(s, head + n, 1, DL));
        n++;
    }
    head[n] = 0;
}

/* The value of field `name` in `head` (a copy), or NULL. */
static const char *field_of(const char *name) {
    static char v[256];
    char pat[64];
    snprintf(pat, sizeof(pat), "\r\n%s: ", name);
    const char *p = strstr(head, pat);
    if(!p) return NULL;
    p += strlen(pat);
    size_t n = strcspn(p, "\r");
    CHECK(n < sizeof(v));
    memcpy(v, p, n);
    v[n] = 0;
    return v;
}

static void send_str(int s, const char *str) {
    CHECK_OK(bsend(s, str, strlen(str), DL));
}

static coroutine void http_client(int u, const char *resource,
      const char *host, int *res) {
    *res = ws_attach_client(u, WS_TEXT, resource, host, DL);
    if(*res < 0) { *res = -errno; return; }
    CHECK_OK(msend(*res, "from client", 11, DL));
    char b[16];
    CHECK(mrecv(*res, b, sizeof(b), DL) == 11);
    CHECK(memcmp(b, "from server", 11) == 0);
}

static coroutine void http_client_only(int u, int *res);

/* Our client against a raw server that answers `response` (with
   "%s" for the right accept key). */
static int client_vs(const char *response) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    int res = 0, b;
    SPAWN(b, http_client_only(p[0], &res));
    raw_head(p[1]);
    CHECK(strncmp(head, "GET /r HTTP/1.1\r\n", 17) == 0);
    CHECK(strcmp(field_of("Host"), "h") == 0);
    CHECK(strcmp(field_of("Upgrade"), "websocket") == 0);
    CHECK(strcmp(field_of("Connection"), "Upgrade") == 0);
    CHECK(strcmp(field_of("Sec-WebSocket-Version"), "13") == 0);
    char accept[WS_KEY_SIZE];
    CHECK_OK(ws_response_key(field_of("Sec-WebSocket-Key"), accept));
    char r[1024];
    snprintf(r, sizeof(r), response, accept);
    send_str(p[1], r);
    JOIN(b);
    /* Taken by the handshake: closed with the socket, or on failure. */
    if(res >= 0) CHECK_OK(hclose(res));
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(p[1]));
    return res;
}

static coroutine void http_client_only(int u, int *res) {
    *res = ws_attach_client(u, 0, "/r", "h", DL);
    if(*res < 0) *res = -errno;
}

/* Our server against a raw client's `request`; returns what
   ws_attach_server returned (-errno on failure) and leaves the answer in
   `head`. */
static int server_vs(const char *request, size_t hostlen) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    send_str(p[1], request);
    char resource[32], host[64];
    int s = ws_attach_server(p[0], 0, resource, sizeof(resource), host,
        hostlen, DL);
    int res = s >= 0 ? s : -errno;
    raw_head(p[1]);
    if(s >= 0) CHECK_OK(hclose(s));
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(p[1]));
    return res;
}

#define REQ(x) "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n" \
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" x
#define V13 "Sec-WebSocket-Version: 13\r\n"
#define OK101 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" \
    "Connection: Upgrade\r\n"

static void test_http(void) {
    /* Our client and our server over ipc_pair, then TCP. */
    for(int tcp = 0; tcp <= 1; tcp++) {
        int u[2], ls = -1;
        if(tcp) {
            struct ipaddr a;
            loop4(&a, 0);
            ls = tcp_listen(&a, 10);
            CHECK(ls >= 0);
            u[0] = tcp_connect(&a, DL);
            u[1] = tcp_accept(ls, NULL, DL);
            CHECK(u[0] >= 0 && u[1] >= 0);
        }
        else CHECK_OK(ipc_pair(u));
        int res = 0, b;
        SPAWN(b, http_client(u[0], "/chat?x=1", "example.org:8080", &res));
        char resource[64], host[64];
        int s = ws_attach_server(u[1], WS_TEXT, resource, sizeof(resource),
            host, sizeof(host), DL);
        CHECK(s >= 0);
        CHECK(strcmp(resource, "/chat?x=1") == 0);
        CHECK(strcmp(host, "example.org:8080") == 0);
        char m[16];
        CHECK(mrecv(s, m, sizeof(m), DL) == 11);
        CHECK(memcmp(m, "from client", 11) == 0);
        CHECK_OK(msend(s, "from server", 11, DL));
        JOIN(b);
        CHECK(res >= 0);
        /* The HTTP socket took the streams over under new numbers, which
           ws_detach gives back. */
        int d0 = -1, d1 = -1;
        both_detach_to(res, s, &d0, &d1);
        CHECK_ERR(hclose(u[0]), EBADF);
        CHECK_ERR(hclose(u[1]), EBADF);
        CHECK_OK(hclose(d0));
        CHECK_OK(hclose(d1));
        if(ls >= 0) CHECK_OK(hclose(ls));
    }
    /* What our client sends, and the answers it refuses. */
    CHECK(client_vs(OK101 "Sec-WebSocket-Accept: %s\r\n\r\n") >= 0);
    CHECK(client_vs("HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\n"
        "connection: keep-alive, upgrade\r\nsec-websocket-accept: %s\r\n"
        "X-Other: 1\r\n\r\n") >= 0);
    CHECK(client_vs(OK101 "Sec-WebSocket-Accept: x%s\r\n\r\n") == -EPROTO);
    CHECK(client_vs(OK101 "Sec-WebSocket-Accept: "
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n%s") == -EPROTO);
    CHECK(client_vs(OK101 "\r\n%s") == -EPROTO);
    CHECK(client_vs("HTTP/1.1 200 OK\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n") == -EPROTO);
    CHECK(client_vs("HTTP/1.1 101 S\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\n\r\n") == -EPROTO);
    CHECK(client_vs("HTTP/1.1 101 S\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Accept: %s\r\n\r\n") == -EPROTO);
    CHECK(client_vs(OK101 "Sec-WebSocket-Accept: %s\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n") == -EPROTO);
    CHECK(client_vs(OK101 "Sec-WebSocket-Accept: %s\r\nbroken line\r\n\r\n")
        == -EPROTO);
    /* A frame in the same write as the 101 is the socket's, not the
       handshake's. */
    int p[2];
    CHECK_OK(ipc_pair(p));
    int res = 0, b;
    SPAWN(b, http_client_only(p[0], &res));
    raw_head(p[1]);
    char accept[WS_KEY_SIZE], r[512];
    CHECK_OK(ws_response_key(field_of("Sec-WebSocket-Key"), accept));
    snprintf(r, sizeof(r), OK101 "Sec-WebSocket-Accept: %s\r\n\r\n"
        "\x82\x05" "early", accept);
    send_str(p[1], r);
    JOIN(b);
    CHECK(res >= 0);
    char m[8];
    CHECK(mrecv(res, m, sizeof(m), DL) == 5 && memcmp(m, "early", 5) == 0);
    CHECK_OK(hclose(res));
    CHECK_OK(hclose(p[1]));
    /* What our server answers, and the requests it refuses (with 400, or
       426 for another version). */
    CHECK(server_vs(REQ(V13 "\r\n"), 64) >= 0);
    CHECK(strncmp(head, "HTTP/1.1 101 ", 13) == 0);
    CHECK(strcmp(field_of("Sec-WebSocket-Accept"),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    CHECK(strcmp(field_of("Upgrade"), "websocket") == 0);
    CHECK(strcmp(field_of("Connection"), "Upgrade") == 0);
    CHECK(server_vs(REQ("Sec-WebSocket-Version: 8\r\n\r\n"), 64) == -EPROTO);
    CHECK(strncmp(head, "HTTP/1.1 426 ", 13) == 0);
    CHECK(strcmp(field_of("Sec-WebSocket-Version"), "13") == 0);
    CHECK(server_vs(REQ("\r\n"), 64) == -EPROTO);
    CHECK(strncmp(head, "HTTP/1.1 400 ", 13) == 0);
    CHECK(server_vs("POST /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        V13 "\r\n", 64) == -EPROTO);
    CHECK(server_vs("GET /x HTTP/1.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        V13 "\r\n", 64) == -EPROTO);
    CHECK(server_vs("GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\n" V13 "\r\n",
        64) == -EPROTO);
    CHECK(strncmp(head, "HTTP/1.1 400 ", 13) == 0);
    /* Host or resource that does not fit the caller's buffer. */
    CHECK(server_vs(REQ(V13 "\r\n"), 1) == -EMSGSIZE);
    CHECK(server_vs("GET /a-resource-of-more-than-32-bytes HTTP/1.1\r\n"
        "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" V13 "\r\n", 64)
        == -EMSGSIZE);
    /* Arguments: a server needs its buffers, a client's resource and host
       may not break the request. */
    CHECK_OK(ipc_pair(p));
    char rb[8], hb[8];
    CHECK_ERR(ws_attach_server(p[0], 0, NULL, 8, hb, 8, DL), EINVAL);
    CHECK_ERR(ws_attach_server(p[0], 0, rb, 8, hb, 0, DL), EINVAL);
    CHECK_ERR(ws_attach_client(p[0], 0, "/a b", "h", DL), EINVAL);
    CHECK_ERR(ws_attach_client(p[0], 0, "", "h", DL), EINVAL);
    CHECK_ERR(ws_attach_client(p[0], 0, "/", "h\r\nX: y", DL), EINVAL);
    /* Bad arguments leave the stream to the caller. A client that says
       nothing: ETIMEDOUT, and the stream is closed with the handshake. */
    CHECK_OK(bsend(p[0], "x", 1, DL));
    CHECK_OK(brecv(p[1], rb, 1, DL));
    int64_t start = now();
    CHECK_ERR(ws_attach_server(p[0], 0, rb, 8, hb, 8, now() + 50), ETIMEDOUT);
    CHECK_TOOK(start, 50);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(p[1]));
    /* The handshake by hand (ws_request_key on the raw side), then
       WS_NOHTTP on it. */
    CHECK_OK(ipc_pair(p));
    char key[WS_KEY_SIZE], want[WS_KEY_SIZE];
    CHECK_OK(ws_request_key(key));
    CHECK_OK(ws_response_key(key, want));
    snprintf(r, sizeof(r), "GET /hand HTTP/1.1\r\nHost: made\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
        V13 "\r\n", key);
    send_str(p[1], r);
    char resource[16], host[16];
    int s = ws_attach_server(p[0], 0, resource, sizeof(resource), host,
        sizeof(host), DL);
    CHECK(s >= 0);
    CHECK(strcmp(resource, "/hand") == 0 && strcmp(host, "made") == 0);
    raw_head(p[1]);
    CHECK(strcmp(field_of("Sec-WebSocket-Accept"), want) == 0);
    int c = ws_attach_client(p[1], WS_NOHTTP, NULL, NULL, -1);
    CHECK(c >= 0);
    CHECK_OK(msend(c, "hand", 4, DL));
    CHECK(mrecv(s, m, sizeof(m), DL) == 4);
    int d0 = p[1], d1 = -1;
    both_detach_to(c, s, &d0, &d1);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(d0));
    CHECK_OK(hclose(d1));
    printf("http upgrade: client <-> server over ipc and TCP, 11 server "
        "answers and 9 client requests checked, handshake by hand: ok\n");
}

int main(void) {
    WATCHDOG(100);
    test_errors();
    test_ipc_pair();
    test_tcp();
    test_user_bsock();
    test_mem();
    test_fragments();
    test_bad_frames();
    test_dropped();
    test_peer_close();
    test_our_close();
    test_close_while_waiting();
    test_pong_waits_for_frame();
    test_http();
    return 0;
}
