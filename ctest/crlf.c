/* CRLF sockets (crlf_attach, crlf_attach_mem, crlf_detach and the message
   calls on them): framing, every documented errno, the terminal handshake,
   what a detach leaves readable on the stream below (IPC, TCP and a
   user-defined byte stream), cancellation, and a socket closed by another
   coroutine while one waits in it. */
#include <libdillimpl.h>

#include "sockutil.h"

static void pair(int h[2]) { CHECK_OK(ipc_pair(h)); }

/* Reads exactly n raw bytes from stream s and compares them. */
static void expect_raw(int s, const char *want, size_t n) {
    char buf[256];
    CHECK(n <= sizeof(buf));
    CHECK_OK(brecv(s, buf, n, now() + 1000));
    CHECK(memcmp(buf, want, n) == 0);
}

static void send_raw(int s, const char *p) {
    CHECK_OK(bsend(s, p, strlen(p), -1));
}

/* The peer of a raw stream sees nothing more within a short while (the
   timeout breaks the stream: the last check on it). */
static void expect_silence(int s) {
    char c;
    CHECK_ERR(brecv(s, &c, 1, now() + 30), ETIMEDOUT);
}

static void framing(void) {
    int h[2];
    pair(h);
    int c = crlf_attach(h[0]);
    CHECK(c >= 0);
    /* What goes on the wire. */
    CHECK_OK(msend(c, "ABC", 3, -1));
    expect_raw(h[1], "ABC\r\n", 5);
    /* Bare CR and LF are message text. */
    CHECK_OK(msend(c, "a\nb\rc", 5, -1));
    expect_raw(h[1], "a\nb\rc\r\n", 7);
    /* msendl: one message from several pieces. */
    struct iolist i3 = {"zz", 2, NULL, 0};
    struct iolist i2 = {"", 0, &i3, 0};
    struct iolist i1 = {"xy", 2, &i2, 0};
    CHECK_OK(msendl(c, &i1, &i3, -1));
    expect_raw(h[1], "xyzz\r\n", 6);
    CHECK(i3.iol_next == NULL); /* the caller's list is left as it was */
    /* Receiving: bare LF and CR stay in the message. */
    send_raw(h[1], "abc\ndef\r\nX\rY\r\n");
    char buf[64];
    CHECK(mrecv(c, buf, sizeof(buf), -1) == 7);
    CHECK(memcmp(buf, "abc\ndef", 7) == 0);
    CHECK(mrecv(c, buf, sizeof(buf), -1) == 3);
    CHECK(memcmp(buf, "X\rY", 3) == 0);
    /* A message exactly the buffer's size fits. */
    send_raw(h[1], "12345\r\n");
    CHECK(mrecv(c, buf, 5, -1) == 5);
    /* mrecvl scatters; null bases skip; NULL/NULL drops the message. */
    send_raw(h[1], "012345678\r\nhidden\r\n");
    char a[3], b[4];
    struct iolist r3 = {b, 4, NULL, 0};
    struct iolist r2 = {NULL, 2, &r3, 0};
    struct iolist r1 = {a, 3, &r2, 0};
    CHECK(mrecvl(c, &r1, &r3, -1) == 9);
    CHECK(memcmp(a, "012", 3) == 0 && memcmp(b, "5678", 4) == 0);
    CHECK(mrecvl(c, NULL, NULL, -1) == 6);
    /* A CR LF that arrives in pieces, CR and LF apart. */
    send_raw(h[1], "sp");
    send_raw(h[1], "lit\r");
    send_raw(h[1], "\nnext\r");
    send_raw(h[1], "\n");
    CHECK(mrecv(c, buf, sizeof(buf), -1) == 5);
    CHECK(memcmp(buf, "split", 5) == 0);
    CHECK(mrecv(c, buf, sizeof(buf), -1) == 4);
    /* Not a message socket of bytes. */
    CHECK_ERR(bsend(c, "x", 1, -1), ENOTSUP);
    CHECK_ERR(brecv(c, buf, 1, -1), ENOTSUP);
    CHECK_NULL_ERR(hquery(c, bsock_type), ENOTSUP);
    CHECK(hquery(c, msock_type) != NULL);
    CHECK_OK(hclose(c));
    /* hclose of the CRLF socket closes the stream: the peer sees the end. */
    CHECK_ERR(brecv(h[1], buf, 1, now() + 1000), EPIPE);
    CHECK_OK(hclose(h[1]));
}

static void bad_messages(void) {
    int h[2];
    pair(h);
    int c = crlf_attach(h[0]);
    CHECK(c >= 0);
    CHECK_ERR(msend(c, "a\r\nb", 4, -1), EINVAL);
    CHECK_ERR(msend(c, "", 0, -1), EINVAL);
    CHECK_ERR(msend(c, NULL, 0, -1), EINVAL);
    /* CR LF across two pieces. */
    struct iolist i2 = {"\nb", 2, NULL, 0};
    struct iolist i1 = {"a\r", 2, &i2, 0};
    CHECK_ERR(msendl(c, &i1, &i2, -1), EINVAL);
    CHECK_ERR(msendl(c, NULL, NULL, -1), EINVAL);
    CHECK_ERR(msendl(c, &i1, &i1, -1), EINVAL);   /* last does not end it */
    struct iolist skip = {NULL, 3, NULL, 0};
    CHECK_ERR(msendl(c, &skip, &skip, -1), EINVAL);
    CHECK(i2.iol_next == NULL && i1.iol_next == &i2);
    /* Nothing was sent, and the socket still works (the original breaks
       it here). */
    CHECK_OK(msend(c, "ok", 2, -1));
    expect_raw(h[1], "ok\r\n", 4);
    CHECK_OK(hclose(c));
    CHECK_OK(hclose(h[1]));
}

static void too_long(void) {
    int h[2];
    pair(h);
    int c = crlf_attach(h[0]);
    CHECK(c >= 0);
    send_raw(h[1], "0123456789\r\nnext\r\n");
    char buf[16];
    CHECK_ERR(mrecv(c, buf, 5, -1), EMSGSIZE);
    /* The line was cut: the input is broken from then on, as the
       original. Sending still works. */
    CHECK_ERR(mrecv(c, buf, sizeof(buf), -1), ECONNRESET);
    CHECK_OK(msend(c, "out", 3, -1));
    expect_raw(h[1], "out\r\n", 5);
    CHECK_ERR(crlf_detach(c, -1), ECONNRESET);
    CHECK_ERR(hclose(c), EBADF);
    CHECK_ERR(brecv(h[1], buf, 1, now() + 1000), EPIPE);   /* closed */
    CHECK_OK(hclose(h[1]));
}

static void termination(void) {
    int h[2];
    pair(h);
    int s0 = crlf_attach(h[0]);
    char mem[CRLF_SIZE];
    int s1 = crlf_attach_mem(h[1], mem);
    CHECK(s0 >= 0 && s1 >= 0);
    CHECK_OK(msend(s0, "one", 3, -1));
    CHECK_OK(hdone(s0, -1));
    CHECK_ERR(hdone(s0, -1), EPIPE);
    CHECK_ERR(msend(s0, "two", 3, -1), EPIPE);
    char buf[16];
    CHECK(mrecv(s1, buf, sizeof(buf), -1) == 3);
    CHECK_ERR(mrecv(s1, buf, sizeof(buf), -1), EPIPE);
    CHECK_ERR(mrecv(s1, buf, sizeof(buf), -1), EPIPE);
    CHECK_ERR(mrecvl(s1, NULL, NULL, -1), EPIPE);
    /* The other direction still works. */
    CHECK_OK(msend(s1, "back", 4, -1));
    CHECK(mrecv(s0, buf, sizeof(buf), -1) == 4);
    /* s1's detach sends its empty line; the peer's is already in. */
    int64_t start = now();
    int u1 = crlf_detach(s1, -1);
    CHECK(u1 >= 0);
    CHECK_QUICK(start);
    CHECK_ERR(mrecv(s1, buf, sizeof(buf), -1), EBADF);
    /* s0 sees the end; its detach only waits for nothing more. */
    CHECK_ERR(mrecv(s0, buf, sizeof(buf), -1), EPIPE);
    int u0 = crlf_detach(s0, 0);
    CHECK(u0 >= 0);
    /* Both streams are usable again, and empty. */
    CHECK_OK(bsend(u0, "raw", 3, -1));
    expect_raw(u1, "raw", 3);
    expect_silence(u0);
    CHECK_OK(hclose(u0));
    CHECK_OK(hclose(u1));
}

/* crlf_detach drops messages still coming before the peer's empty line,
   and leaves every byte after it in the stream. */
static void detach_leaves_the_rest(void) {
    int h[2];
    pair(h);
    int c = crlf_attach(h[0]);
    CHECK(c >= 0);
    send_raw(h[1], "m1\r\nm2\r\n\r\nAFTER\r\n\r\nmore");
    int u = crlf_detach(c, -1);
    CHECK(u >= 0);
    expect_raw(h[1], "\r\n", 2);
    expect_raw(u, "AFTER\r\n\r\nmore", 13);
    /* A second CRLF socket on the same stream: nothing else was left. */
    int c2 = crlf_attach(u);
    CHECK(c2 >= 0);
    send_raw(h[1], "again\r\n");
    char buf[16];
    CHECK(mrecv(c2, buf, sizeof(buf), -1) == 5);
    CHECK(memcmp(buf, "again", 5) == 0);
    /* Our empty line, sent at detach, is all the peer got. */
    expect_silence(h[1]);
    CHECK_OK(hclose(c2));
    CHECK_OK(hclose(h[1]));
}

/* TCP: the peer's empty line and a large binary payload in one write:
   after detach every byte of the payload comes out of the stream. */
static coroutine void tcp_peer(int ls, size_t n) {
    int s = tcp_accept(ls, NULL, -1);
    CHECK(s >= 0);
    uint8_t *buf = malloc(n + 16);
    CHECK(buf != NULL);
    memcpy(buf, "hello\r\n\r\n", 9);
    struct stream st;
    stream_init(&st, 7);
    stream_fill(&st, buf + 9, n);
    CHECK_OK(bsend(s, buf, n + 9, -1));
    free(buf);
    char line[2];
    CHECK_OK(brecv(s, line, 2, -1));        /* our empty line */
    CHECK(line[0] == '\r' && line[1] == '\n');
    CHECK_OK(tcp_close(s, now() + 5000));
}

static void detach_over_tcp(void) {
    struct ipaddr a;
    loop4(&a, 0);
    int ls = tcp_listen(&a, 10);
    CHECK(ls >= 0);
    CHECK(ipaddr_port(&a) > 0);
    size_t n = 300000;
    int p = go(tcp_peer(ls, n));
    CHECK(p >= 0);
    int s = tcp_connect(&a, -1);
    CHECK(s >= 0);
    int c = crlf_attach(s);
    CHECK(c >= 0);
    char buf[16];
    CHECK(mrecv(c, buf, sizeof(buf), -1) == 5);
    int u = crlf_detach(c, -1);
    CHECK(u >= 0);
    uint8_t *got = malloc(n);
    CHECK(got != NULL);
    CHECK_OK(brecv(u, got, n, now() + 5000));
    struct stream st;
    stream_init(&st, 7);
    stream_expect(&st, got, n);
    free(got);
    CHECK_ERR(brecv(u, buf, 1, now() + 5000), EPIPE);
    CHECK_OK(tcp_close(u, now() + 5000));
    CHECK_OK(bundle_wait(p, now() + 5000));
    CHECK_OK(hclose(p));
    CHECK_OK(hclose(ls));
}

static void deadlines(void) {
    int h[2];
    pair(h);
    int c = crlf_attach(h[0]);
    CHECK(c >= 0);
    char buf[16];
    /* Nothing came: ETIMEDOUT, and nothing is lost: the socket works on. */
    int64_t start = now();
    CHECK_ERR(mrecv(c, buf, sizeof(buf), now() + 50), ETIMEDOUT);
    CHECK_TOOK(start, 50);
    CHECK_ERR(mrecv(c, buf, sizeof(buf), 0), ETIMEDOUT);
    send_raw(h[1], "late\r\n");
    CHECK(mrecv(c, buf, sizeof(buf), 0) == 4);
    /* Half a line came: the line is lost, so is the input (ECONNRESET). */
    send_raw(h[1], "par");
    CHECK_ERR(mrecv(c, buf, sizeof(buf), now() + 30), ETIMEDOUT);
    send_raw(h[1], "tial\r\n");
    CHECK_ERR(mrecv(c, buf, sizeof(buf), -1), ECONNRESET);
    CHECK_OK(msend(c, "x", 1, -1));
    CHECK_OK(hclose(c));
    CHECK_OK(hclose(h[1]));
    /* Detach within a deadline: the peer never ends. The socket is closed
       all the same. */
    pair(h);
    c = crlf_attach(h[0]);
    start = now();
    CHECK_ERR(crlf_detach(c, now() + 50), ETIMEDOUT);
    CHECK_TOOK(start, 50);
    CHECK_ERR(hclose(c), EBADF);
    expect_raw(h[1], "\r\n", 2);
    CHECK_ERR(brecv(h[1], buf, 1, now() + 1000), EPIPE);
    CHECK_OK(hclose(h[1]));
    /* Deadline 0 with the peer's end already there succeeds. */
    pair(h);
    c = crlf_attach(h[0]);
    send_raw(h[1], "\r\n");
    int u = crlf_detach(c, 0);
    CHECK(u >= 0);
    CHECK_OK(hclose(u));
    CHECK_OK(hclose(h[1]));
}

static void peer_goes_away(void) {
    int h[2];
    pair(h);
    int c = crlf_attach(h[0]);
    send_raw(h[1], "abc");
    CHECK_OK(hclose(h[1]));
    char buf[16];
    CHECK_ERR(mrecv(c, buf, sizeof(buf), -1), EPIPE);   /* as the original */
    CHECK_ERR(mrecv(c, buf, sizeof(buf), -1), ECONNRESET);
    CHECK_ERR(crlf_detach(c, -1), ECONNRESET);
    /* Peer closes before the terminal line: detach fails, and closes. */
    pair(h);
    c = crlf_attach(h[0]);
    CHECK_OK(hclose(h[1]));
    CHECK(crlf_detach(c, -1) == -1);
    CHECK(errno == ECONNRESET);
    CHECK_ERR(hclose(c), EBADF);
}

static void bad_handles(void) {
    CHECK_ERR(crlf_attach(-1), EBADF);
    CHECK_ERR(crlf_attach(12345), EBADF);
    CHECK_ERR(crlf_detach(-1, -1), EBADF);
    CHECK_ERR(crlf_detach(12345, -1), EBADF);
    int h[2];
    pair(h);
    CHECK_ERR(crlf_attach_mem(h[0], NULL), EINVAL);
    CHECK_ERR(crlf_detach(h[0], -1), ENOTSUP);
    /* Not byte streams: EPROTO, and the handle is left as it was. */
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, 0));
    int u = udp_open(&a, NULL);
    CHECK(u >= 0);
    CHECK_ERR(crlf_attach(u), EPROTO);
    CHECK_ERR(crlf_detach(u, -1), ENOTSUP);
    CHECK_OK(hclose(u));
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(crlf_attach(ch[0]), EPROTO);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    int c = crlf_attach(h[0]);
    CHECK(c >= 0);
    CHECK_ERR(crlf_attach(c), EPROTO);
    /* The stream is the CRLF socket's now. */
    CHECK_ERR(bsend(h[0], "x", 1, -1), EBADF);
    CHECK_OK(msend(c, "still", 5, -1));
    expect_raw(h[1], "still\r\n", 7);
    CHECK_OK(hclose(c));
    CHECK_OK(hclose(h[1]));
}

/* Handle numbers come out as the original's (in a fresh process: run
   first). */
static void numbering(void) {
    int h[2];
    pair(h);
    CHECK(h[0] == 0 && h[1] == 1);
    int c = crlf_attach(h[0]);
    CHECK(c == 3);
    int d = hdup(h[1]);
    CHECK(d == 4);
    CHECK_OK(hclose(d));
    send_raw(h[1], "\r\n");
    int u = crlf_detach(c, -1);
    CHECK(u == 2);
    int d2 = hdup(h[1]);
    CHECK(d2 == 5);
    CHECK_OK(hclose(d2));
    CHECK_OK(hclose(u));
    CHECK_OK(hclose(h[1]));
}

/* Caller memory at an odd address still works. */
static void odd_memory(void) {
    int h[2];
    pair(h);
    char *mem = malloc(CRLF_SIZE + 1);
    CHECK(mem != NULL);
    int c = crlf_attach_mem(h[0], mem + 1);
    CHECK(c >= 0);
    CHECK_OK(msend(c, "m", 1, -1));
    expect_raw(h[1], "m\r\n", 3);
    send_raw(h[1], "\r\n");
    int u = crlf_detach(c, -1);
    CHECK(u >= 0);
    free(mem);
    CHECK_OK(hclose(u));
    CHECK_OK(hclose(h[1]));
}

/* ---- a user-defined byte stream: a FIFO, with its reads recorded. ---- */

struct fifo {
    struct hvfs hvfs;
    struct bsock_vfs bvfs;
    char bytes[4096];
    size_t len;
    int reads, maxread, closed;
};

static void *fifo_query(struct hvfs *h, const void *type) {
    struct fifo *f = (struct fifo*)h;
    if(type == bsock_type) return &f->bvfs;
    errno = ENOTSUP;
    return NULL;
}

static void fifo_close(struct hvfs *h) { ((struct fifo*)h)->closed++; }

static int fifo_bsendl(struct bsock_vfs *vfs, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct fifo *f = (struct fifo*)((char*)vfs - offsetof(struct fifo, bvfs));
    for(struct iolist *it = first; it; it = it->iol_next) {
        CHECK(f->len + it->iol_len <= sizeof(f->bytes));
        memcpy(f->bytes + f->len, it->iol_base, it->iol_len);
        f->len += it->iol_len;
    }
    return 0;
}

static int fifo_brecvl(struct bsock_vfs *vfs, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct fifo *f = (struct fifo*)((char*)vfs - offsetof(struct fifo, bvfs));
    size_t want = 0;
    for(struct iolist *it = first; it; it = it->iol_next) want += it->iol_len;
    f->reads++;
    if(want > (size_t)f->maxread) f->maxread = (int)want;
    if(want > f->len) {
        int rc = msleep(deadline);
        if(rc == 0) errno = ETIMEDOUT;
        return -1;
    }
    size_t pos = 0;
    for(struct iolist *it = first; it; it = it->iol_next) {
        if(it->iol_base) memcpy(it->iol_base, f->bytes + pos, it->iol_len);
        pos += it->iol_len;
    }
    memmove(f->bytes, f->bytes + pos, f->len - pos);
    f->len -= pos;
    return 0;
}

static void foreign_stream(void) {
    struct fifo f = {{fifo_query, fifo_close, NULL, 0},
        {fifo_bsendl, fifo_brecvl}, {0}, 0, 0, 0, 0};
    int s = hmake(&f.hvfs);
    CHECK(s >= 0);
    int c = crlf_attach(s);
    CHECK(c >= 0);
    /* What we send loops back. */
    CHECK_OK(msend(c, "0123456789", 10, -1));
    CHECK_OK(msend(c, "x\ry", 3, -1));
    char buf[32];
    CHECK(mrecv(c, buf, sizeof(buf), -1) == 10);
    CHECK(memcmp(buf, "0123456789", 10) == 0);
    /* Chunks of two bytes, never one byte per call for plain text. */
    CHECK(f.maxread == 2);
    CHECK(f.reads == 6);
    CHECK(mrecv(c, buf, sizeof(buf), -1) == 3);
    CHECK(memcmp(buf, "x\ry", 3) == 0);
    /* Detach: the FIFO holds the peer's empty line and more; our own
       empty line goes in after them. */
    CHECK(f.len == 0);
    memcpy(f.bytes, "\r\nODD", 5);
    f.len = 5;
    int u = crlf_detach(c, -1);
    CHECK(u >= 0);
    /* Left: "ODD" and our own "\r\n". */
    CHECK(f.len == 5);
    CHECK(memcmp(f.bytes, "ODD\r\n", 5) == 0);
    CHECK(f.closed == 0);
    CHECK_OK(hclose(u));
    CHECK(f.closed == 1);
}

/* ---- cancellation and closing under a waiting call ---- */

static coroutine void blocked_recv(int c, int expect) {
    char buf[16];
    CHECK_ERR(mrecv(c, buf, sizeof(buf), -1), expect);
}

static coroutine void blocked_detach(int c) {
    CHECK_ERR(crlf_detach(c, -1), EBADF);
}

static coroutine void blocked_send(int c) {
    /* Fills the stream until it blocks. */
    static char big[60000];
    memset(big, 'a', sizeof(big));
    while(1) {
        int rc = msend(c, big, sizeof(big), -1);
        if(rc < 0) {
            CHECK(errno == EBADF);
            return;
        }
    }
}

static void closed_under_waiters(void) {
    int h[2];
    /* Cancellation: a coroutine waiting in mrecv gets ECANCELED. */
    pair(h);
    int c = crlf_attach(h[0]);
    int cr = go(blocked_recv(c, ECANCELED));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(cr));
    CHECK_OK(msend(c, "works", 5, -1));
    expect_raw(h[1], "works\r\n", 7);
    CHECK_OK(hclose(c));
    CHECK_OK(hclose(h[1]));
    /* Another coroutine closes the socket: the waiter gets EBADF, and the
       freed caller memory is not touched (valgrind would see it). */
    pair(h);
    char *mem = malloc(CRLF_SIZE);
    CHECK(mem != NULL);
    c = crlf_attach_mem(h[0], mem);
    int b = bundle();
    CHECK(b >= 0);
    CHECK_OK(bundle_go(b, blocked_recv(c, EBADF)));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(c));
    memset(mem, 0x5a, CRLF_SIZE);
    free(mem);
    CHECK_OK(bundle_wait(b, now() + 1000));
    /* The same for a detach waiting for the peer's end, and a send
       waiting for room. */
    pair(h);
    c = crlf_attach(h[0]);
    CHECK_OK(bundle_go(b, blocked_detach(c)));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(c));
    CHECK_OK(bundle_wait(b, now() + 1000));
    CHECK_OK(hclose(h[1]));
    pair(h);
    c = crlf_attach(h[0]);
    CHECK_OK(bundle_go(b, blocked_send(c)));
    CHECK_OK(msleep(now() + 50));
    CHECK_OK(hclose(c));
    CHECK_OK(bundle_wait(b, now() + 1000));
    CHECK_OK(hclose(b));
    CHECK_OK(hclose(h[1]));
}

int main(void) {
    numbering();
    framing();
    bad_messages();
    too_long();
    termination();
    detach_leaves_the_rest();
    detach_over_tcp();
    deadlines();
    peer_goes_away();
    bad_handles();
    odd_memory();
    foreign_stream();
    closed_under_waiters();
    return 0;
}
