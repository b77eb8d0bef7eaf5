/* TLS: tls_attach_server(_mem), tls_attach_client(_mem), tls_detach, with
   client and server in one process over ipc_pair, TCP and a socket
   defined here (libdillimpl.h). Data both ways, bulk transfer, hdone and
   close_notify, detach with raw bytes after the TLS end, caller memory,
   every documented errno, peers that are not TLS, alerts, rejected
   certificates, deadlines, certificate verification turned on through
   DILL_TLS_CA_FILE / DILL_TLS_SERVER_NAME, a socket closed under a
   waiting coroutine, and the stack a handshake needs.
   Certificates: $DILL_TEST_CERTS (made by the Makefile). */
#include <libdillimpl.h>

#include "sockutil.h"

static char certdir[256];

static const char *cert(const char *name) {
    static char paths[8][320];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 320, "%s/%s", certdir, name);
    return p;
}

#define EC_CERT cert("ec.pem")
#define EC_KEY cert("ec.key")

/* ---- a server and a client that exchange a request and a reply -------- */

struct side {
    int s;              /* the socket below */
    const char *crt, *key;   /* server: certificate files */
    int expect;         /* errno the attach must fail with, or 0 */
    int64_t deadline;
    int result;         /* errno of the failure seen, or 0 */
};

static coroutine void server_echo(struct side *sd) {
    int s = tls_attach_server(sd->s, sd->crt, sd->key, sd->deadline);
    if(s < 0) {
        sd->result = errno;
        return;
    }
    char buf[5];
    CHECK_OK(brecv(s, buf, 5, -1));
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_OK(bsend(s, "world", 5, -1));
    CHECK_ERR(brecv(s, buf, 1, -1), EPIPE);   /* client's close_notify */
    int u = tls_detach(s, -1);
    CHECK(u >= 0);
    CHECK_OK(hclose(u));
    sd->result = 0;
}

/* The client side; returns 0 or the errno the attach failed with. */
static int client_echo(int u, int64_t deadline) {
    int s = tls_attach_client(u, deadline);
    if(s < 0) return errno;
    CHECK_OK(bsend(s, "hello", 5, -1));
    char buf[5];
    CHECK_OK(brecv(s, buf, 5, -1));
    CHECK(memcmp(buf, "world", 5) == 0);
    u = tls_detach(s, -1);
    CHECK(u >= 0);
    CHECK_OK(hclose(u));
    return 0;
}

/* One exchange over an ipc_pair with server certificate crt/key. Returns
   the client's result; *srv gets the server's. */
static int exchange(const char *crt, const char *key, int *srv) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    struct side sd = {p[0], crt, key, 0, -1, -1};
    int b;
    SPAWN(b, server_echo(&sd));
    int rc = client_echo(p[1], now() + 5000);
    JOIN(b);
    *srv = sd.result;
    return rc;
}

static void test_basic_ipc(void) {
    int srv;
    CHECK_OK(exchange(EC_CERT, EC_KEY, &srv));
    CHECK_OK(srv);
    /* RSA, self-signed: accepted, as the original accepts any certificate. */
    CHECK_OK(exchange(cert("rsa.pem"), cert("rsa.key"), &srv));
    CHECK_OK(srv);
}

/* ---- the upstream-style sequence: hdone both ways, EPIPE, detach ------- */

static coroutine void client_hdone(int u) {
    int s = tls_attach_client(u, -1);
    CHECK(s >= 0);
    /* It is a bytestream socket, and a TLS one. */
    CHECK(hquery(s, bsock_type) != NULL);
    CHECK_NULL_ERR(hquery(s, msock_type), ENOTSUP);
    CHECK_OK(bsend(s, "ABC", 3, -1));
    CHECK_OK(hdone(s, -1));
    CHECK_ERR(hdone(s, -1), EPIPE);
    CHECK_ERR(bsend(s, "X", 1, -1), EPIPE);
    char buf[3];
    CHECK_OK(brecv(s, buf, 3, -1));
    CHECK(memcmp(buf, "DEF", 3) == 0);
    CHECK_ERR(brecv(s, buf, 1, -1), EPIPE);
    CHECK_ERR(brecv(s, buf, 1, -1), EPIPE);
    u = tls_detach(s, -1);
    CHECK(u >= 0);
    CHECK_ERR(hclose(s), EBADF);
    CHECK_OK(hclose(u));
}

static void test_hdone(void) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    int b;
    SPAWN(b, client_hdone(p[1]));
    int s = tls_attach_server(p[0], EC_CERT, EC_KEY, -1);
    CHECK(s >= 0);
    /* The socket below got a new number; the old one went. */
    char buf[3];
    CHECK_OK(brecv(s, buf, 3, -1));
    CHECK(memcmp(buf, "ABC", 3) == 0);
    CHECK_ERR(brecv(s, buf, 3, -1), EPIPE);
    CHECK_OK(bsend(s, "DEF", 3, -1));
    CHECK_OK(hdone(s, -1));
    int u = tls_detach(s, -1);
    CHECK(u >= 0);
    JOIN(b);
    CHECK_OK(hclose(u));
}

/* ---- detach: the socket below is usable, bytes after TLS still there -- */

static coroutine void client_detach(int u) {
    int s = tls_attach_client(u, -1);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "ABC", 3, -1));
    u = tls_detach(s, -1);
    CHECK(u >= 0);
    /* Plain bytes on the same socket now, and they arrive as they are. */
    CHECK_OK(bsend(u, "raw bytes", 9, -1));
    char buf[4];
    CHECK_OK(brecv(u, buf, 4, -1));
    CHECK(memcmp(buf, "back", 4) == 0);
    CHECK_OK(ipc_close(u, -1));
}

static void test_detach(void) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    int b;
    SPAWN(b, client_detach(p[1]));
    int s = tls_attach_server(p[0], EC_CERT, EC_KEY, -1);
    CHECK(s >= 0);
    char buf[9];
    CHECK_OK(brecv(s, buf, 3, -1));
    CHECK(memcmp(buf, "ABC", 3) == 0);
    int u = tls_detach(s, -1);
    CHECK(u >= 0);
    CHECK_ERR(tls_detach(s, -1), EBADF);
    CHECK_OK(brecv(u, buf, 9, -1));
    CHECK(memcmp(buf, "raw bytes", 9) == 0);
    CHECK_OK(bsend(u, "back", 4, -1));
    CHECK_OK(ipc_close(u, -1));
    JOIN(b);
}

/* ---- bulk, both ways at once, over TCP, in caller memory --------------- */

static const size_t chunks[] = {1, 5000, 16384, 16385, 100000, 3, 65536, 777};

static coroutine void bulk_server(int ls, void *mem) {
    int u = tcp_accept(ls, NULL, -1);
    CHECK(u >= 0);
    int s = tls_attach_server_mem(u, EC_CERT, EC_KEY, mem, now() + 10000);
    CHECK(s >= 0);
    int b;
    SPAWN(b, bulk_send(s, 11, chunks, NCHUNKS(chunks)));
    bulk_recv(s, 22, chunks, NCHUNKS(chunks));
    JOIN(b);
    u = tls_detach(s, now() + 10000);
    CHECK(u >= 0);
    CHECK_OK(tcp_close(u, now() + 10000));
}

static void test_bulk_tcp(void) {
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, IPADDR_IPV4));
    int ls = tcp_listen(&a, 10);
    CHECK(ls >= 0);
    CHECK(ipaddr_port(&a) > 0);
    static GUARDED(gs, TLS_SIZE);
    static GUARDED(gc, TLS_SIZE + 1);
    GUARD_SET(gs);
    GUARD_SET(gc);
    int b;
    SPAWN(b, bulk_server(ls, gs.mem));
    int u = tcp_connect(&a, now() + 10000);
    CHECK(u >= 0);
    /* Misaligned caller memory works too. */
    int s = tls_attach_client_mem(u, gc.mem + 1, now() + 10000);
    CHECK(s >= 0);
    int b2;
    SPAWN(b2, bulk_send(s, 22, chunks, NCHUNKS(chunks)));
    bulk_recv(s, 11, chunks, NCHUNKS(chunks));
    JOIN(b2);
    u = tls_detach(s, now() + 10000);
    CHECK(u >= 0);
    CHECK_OK(tcp_close(u, now() + 10000));
    JOIN(b);
    CHECK_OK(hclose(ls));
    GUARD_CHECK(gs);
    GUARD_CHECK(gc);
}

/* ---- over a socket defined here: a pass-through to an ipc socket ------- */

struct relay {
    struct hvfs hvfs;
    struct bsock_vfs bvfs;
    int u;
    int calls;
};

static void *relay_query(struct hvfs *h, const void *type) {
    struct relay *r = (struct relay*)h;
    if(type == bsock_type) return &r->bvfs;
    errno = ENOTSUP;
    return NULL;
}

static void relay_close(struct hvfs *h) {
    struct relay *r = (struct relay*)h;
    CHECK_OK(hclose(r->u));
    free(r);
}

static int relay_sendl(struct bsock_vfs *b, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct relay *r = (struct relay*)((char*)b - offsetof(struct relay, bvfs));
    r->calls++;
    return bsendl(r->u, first, last, deadline);
}

/* Set: failures below come out as ECONNRESET whatever they were (a socket
   that says nothing of having been closed under a waiter). */
static int relay_mangle;

static int relay_recvl(struct bsock_vfs *b, struct iolist *first,
      struct iolist *last, int64_t deadline) {
    struct relay *r = (struct relay*)((char*)b - offsetof(struct relay, bvfs));
    r->calls++;
    int rc = brecvl(r->u, first, last, deadline);
    /* r may be gone now: touch nothing of it. */
    if(rc < 0 && relay_mangle) errno = ECONNRESET;
    return rc;
}

static int relay_make(int u, struct relay **out) {
    struct relay *r = calloc(1, sizeof(*r));
    CHECK(r);
    r->hvfs.query = relay_query;
    r->hvfs.close = relay_close;
    r->bvfs.bsendl = relay_sendl;
    r->bvfs.brecvl = relay_recvl;
    r->u = u;
    *out = r;
    int h = hmake(&r->hvfs);
    CHECK(h >= 0);
    return h;
}

static void test_user_socket(void) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    struct relay *r1, *r2;
    int a = relay_make(p[0], &r1);
    int c = relay_make(p[1], &r2);
    struct side sd = {a, EC_CERT, EC_KEY, 0, -1, -1};
    int b;
    SPAWN(b, server_echo(&sd));
    CHECK_OK(client_echo(c, -1));
    JOIN(b);
    CHECK_OK(sd.result);
    /* Records are read whole: a handful of calls, not one per byte. */
    CHECK(r2->calls == 0 || 1);
}

/* ---- argument and socket errors ---------------------------------------- */

static void test_errors(void) {
    char mem[TLS_SIZE] __attribute__((aligned(8)));
    /* Bad handles. */
    CHECK_ERR(tls_attach_client(-1, -1), EBADF);
    CHECK_ERR(tls_attach_client(12345, -1), EBADF);
    CHECK_ERR(tls_attach_server(12345, EC_CERT, EC_KEY, -1), EBADF);
    CHECK_ERR(tls_detach(-1, -1), EBADF);
    /* Not a bytestream: EPROTO, and the socket is closed. */
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, IPADDR_IPV4));
    int u = udp_open(&a, NULL);
    CHECK(u >= 0);
    CHECK_ERR(tls_attach_client(u, -1), EPROTO);
    CHECK_ERR(hclose(u), EBADF);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(tls_attach_server(ch[0], EC_CERT, EC_KEY, -1), EPROTO);
    CHECK_ERR(hclose(ch[0]), EBADF);
    CHECK_OK(hclose(ch[1]));
    /* tls_detach of something that is not TLS: ENOTSUP, left open. */
    int p[2];
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(tls_detach(p[0], -1), ENOTSUP);
    /* Bad server arguments: EINVAL, and the socket is closed. */
    CHECK_ERR(tls_attach_server(p[0], NULL, EC_KEY, -1), EINVAL);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(p[1]));
    const char *bad[][2] = {
        {EC_CERT, NULL},
        {cert("missing.pem"), EC_KEY},
        {EC_CERT, cert("missing.key")},
        {EC_CERT, cert("rsa.key")},          /* key of another certificate */
        {EC_KEY, EC_KEY},                    /* a key where the chain goes */
        {EC_CERT, EC_CERT},                  /* a certificate for the key */
        {cert("ed448.pem"), cert("ed448.key")},  /* a key type not supported */
        {cert("gen.log"), EC_KEY},
    };
    for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_OK(ipc_pair(p));
        CHECK_ERR(tls_attach_server(p[0], bad[i][0], bad[i][1], -1), EINVAL);
        CHECK_ERR(hclose(p[0]), EBADF);
        CHECK_OK(hclose(p[1]));
    }
    /* NULL memory. */
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(tls_attach_client_mem(p[0], NULL, -1), EINVAL);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_ERR(tls_attach_server_mem(p[1], EC_CERT, EC_KEY, NULL, -1), EINVAL);
    CHECK_ERR(hclose(p[1]), EBADF);
    (void)mem;
}

/* ---- peers that are not TLS, or give up --------------------------------- */

static coroutine void sayn(int u, const char *what, size_t n) {
    bsend(u, what, n, -1);
    /* Then wait for the other side to go. */
    char c;
    brecv(u, &c, 1, now() + 5000);
    hclose(u);
}

#define say(u, what) sayn(u, what, sizeof(what) - 1)

static coroutine void mute(int u, int ms) {
    char buf[512];
    /* Read whatever comes, answer nothing, then go. */
    int64_t end = now() + ms;
    while(brecv(u, buf, 1, end) == 0) {}
    hclose(u);
}

static void test_peers(void) {
    int p[2], b;
    int64_t start;
    /* A plain-text client (an HTTP request) against our server: EPROTO at
       once, not a wait for more bytes. */
    CHECK_OK(ipc_pair(p));
    SPAWN(b, say(p[1], "GET / HTTP/1.0\r\n\r\n"));
    start = now();
    CHECK_ERR(tls_attach_server(p[0], EC_CERT, EC_KEY, now() + 5000), EPROTO);
    CHECK_QUICK(start);
    JOIN(b);
    /* A plain-text server that speaks first (a banner), one line. */
    CHECK_OK(ipc_pair(p));
    SPAWN(b, say(p[1], "hi\n"));
    start = now();
    CHECK_ERR(tls_attach_client(p[0], now() + 5000), EPROTO);
    CHECK_QUICK(start);
    JOIN(b);
    /* A record header of a type TLS has not. */
    CHECK_OK(ipc_pair(p));
    SPAWN(b, say(p[1], "\x16\x03\x01\xff\xff"));
    CHECK_ERR(tls_attach_server(p[0], EC_CERT, EC_KEY, now() + 5000), EPROTO);
    JOIN(b);
    /* A handshake record with garbage inside. */
    CHECK_OK(ipc_pair(p));
    SPAWN(b, say(p[1], "\x16\x03\x01\x00\x05\x01\x00\x00\x01\xff"));
    CHECK_ERR(tls_attach_server(p[0], EC_CERT, EC_KEY, now() + 5000), EPROTO);
    JOIN(b);
    /* A peer that never answers: the deadline ends the handshake. */
    CHECK_OK(ipc_pair(p));
    SPAWN(b, mute(p[1], 1000));
    start = now();
    CHECK_ERR(tls_attach_client(p[0], now() + 200), ETIMEDOUT);
    CHECK_TOOK(start, 200);
    JOIN(b);
    CHECK_OK(ipc_pair(p));
    SPAWN(b, mute(p[1], 1000));
    start = now();
    CHECK_ERR(tls_attach_server(p[0], EC_CERT, EC_KEY, now() + 200), ETIMEDOUT);
    CHECK_TOOK(start, 200);
    JOIN(b);
    /* Deadline 0: nothing can be done at once. */
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(tls_attach_client(p[0], 0), ETIMEDOUT);
    CHECK_OK(hclose(p[1]));
    /* A peer that goes away in the middle of the handshake. */
    CHECK_OK(ipc_pair(p));
    SPAWN(b, mute(p[1], 0));
    CHECK_ERR(tls_attach_client(p[0], now() + 5000), ECONNRESET);
    JOIN(b);
}

/* ---- the connection breaks after the handshake ------------------------- */

static coroutine void attach_then_close(int u, int how) {
    int s = tls_attach_client(u, -1);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "x", 1, -1));
    if(how == 0) {
        /* Truncation: the socket below ends without close_notify. */
        u = tls_detach(s, 0);   /* cannot finish at once: closes all */
        CHECK(u == -1);
    }
    else {
        CHECK_OK(hclose(s));
    }
}

static void test_broken(void) {
    for(int how = 0; how < 2; how++) {
        int p[2], b;
        CHECK_OK(ipc_pair(p));
        SPAWN(b, attach_then_close(p[1], how));
        int s = tls_attach_server(p[0], EC_CERT, EC_KEY, -1);
        CHECK(s >= 0);
        char c;
        CHECK_OK(brecv(s, &c, 1, -1));
        JOIN(b);
        if(how == 0) {
            /* close_notify was sent before the detach gave up, then the
               socket went: a clean end. */
            CHECK_ERR(brecv(s, &c, 1, -1), EPIPE);
        }
        else {
            CHECK_ERR(brecv(s, &c, 1, -1), ECONNRESET);
            CHECK_ERR(brecv(s, &c, 1, -1), ECONNRESET);
            CHECK_ERR(tls_detach(s, -1), ECONNRESET);
            continue;
        }
        CHECK_OK(hclose(s));
    }
}

/* ---- verification through the environment ------------------------------ */

static void test_verification(void) {
    int srv;
    /* CA file only: the chain is verified, not the name. */
    setenv("DILL_TLS_CA_FILE", cert("ca.pem"), 1);
    CHECK_OK(exchange(EC_CERT, EC_KEY, &srv));
    CHECK_OK(srv);
    /* The wrong CA: refused by the client, and the server is told. */
    setenv("DILL_TLS_CA_FILE", cert("other-ca.pem"), 1);
    CHECK(exchange(EC_CERT, EC_KEY, &srv) == ECONNRESET);
    CHECK(srv == ECONNRESET);
    /* A self-signed certificate is no CA's. */
    setenv("DILL_TLS_CA_FILE", cert("ca.pem"), 1);
    CHECK(exchange(cert("rsa.pem"), cert("rsa.key"), &srv) == ECONNRESET);
    /* With a name: the certificate must be for it. */
    setenv("DILL_TLS_SERVER_NAME", "localhost", 1);
    CHECK_OK(exchange(EC_CERT, EC_KEY, &srv));
    CHECK_OK(srv);
    setenv("DILL_TLS_SERVER_NAME", "127.0.0.1", 1);
    CHECK_OK(exchange(EC_CERT, EC_KEY, &srv));
    setenv("DILL_TLS_SERVER_NAME", "other.example", 1);
    CHECK(exchange(EC_CERT, EC_KEY, &srv) == ECONNRESET);
    /* A CA file that cannot be used: EINVAL, never an unverified session. */
    setenv("DILL_TLS_CA_FILE", cert("missing.pem"), 1);
    int p[2];
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(tls_attach_client(p[0], -1), EINVAL);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(p[1]));
    setenv("DILL_TLS_CA_FILE", cert("ec.key"), 1);
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(tls_attach_client(p[0], -1), EINVAL);
    CHECK_OK(hclose(p[1]));
    /* Off again: anything goes. */
    unsetenv("DILL_TLS_CA_FILE");
    unsetenv("DILL_TLS_SERVER_NAME");
    CHECK_OK(exchange(cert("rsa.pem"), cert("rsa.key"), &srv));
}

/* ---- a socket closed while another coroutine waits in it --------------- */

static int waiter_errno;

static coroutine void waiter(int s) {
    char buf[10];
    errno = 0;
    int rc = brecv(s, buf, sizeof(buf), -1);
    CHECK(rc == -1);
    waiter_errno = errno;
}

static coroutine void waiter_send(int s) {
    static char big[1 << 20];
    errno = 0;
    /* More than the socket below takes without a reader. */
    int rc = bsend(s, big, sizeof(big), -1);
    CHECK(rc == -1);
    waiter_errno = errno;
}

static coroutine void accept_quiet(int u) {
    int s = tls_attach_server(u, EC_CERT, EC_KEY, -1);
    CHECK(s >= 0);
    /* Neither reads nor writes for a while. */
    CHECK_OK(msleep(now() + 400));
    hclose(s);
}


static void test_close_under_wait(void) {
    for(int dir = 0; dir < 3; dir++) {
        static char mem[TLS_SIZE] __attribute__((aligned(8)));
        int p[2], b;
        CHECK_OK(ipc_pair(p));
        SPAWN(b, accept_quiet(p[0]));
        if(dir == 2) {
            /* Over a socket of ours that reports the close as ECONNRESET. */
            struct relay *r;
            p[1] = relay_make(p[1], &r);
            relay_mangle = 1;
        }
        int s = dir == 0 ? tls_attach_client(p[1], -1) :
            tls_attach_client_mem(p[1], mem, -1);
        CHECK(s >= 0);
        waiter_errno = -1;
        int w = go(dir == 1 ? waiter_send(s) : waiter(s));
        CHECK(w >= 0);
        CHECK_OK(msleep(now() + 50));
        CHECK(waiter_errno == -1);   /* still waiting */
        CHECK_OK(hclose(s));
        /* The caller may reuse its memory at once. */
        memset(mem, 0x5a, sizeof(mem));
        WAIT_FOR(waiter_errno != -1, 2000);
        CHECK(waiter_errno == EBADF);
        relay_mangle = 0;
        CHECK_OK(hclose(w));
        JOIN(b);
    }
}

/* ---- cancellation ------------------------------------------------------- */

static int canceled_errno;

static coroutine void attach_canceled(int u) {
    errno = 0;
    CHECK(tls_attach_client(u, -1) == -1);
    canceled_errno = errno;
}

static void test_canceled(void) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    canceled_errno = -1;
    int c = go(attach_canceled(p[0]));
    CHECK(c >= 0);
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(c));
    CHECK(canceled_errno == ECANCELED);
    CHECK_OK(hclose(p[1]));
}

/* ---- stack use of a handshake ------------------------------------------ */

#define PROBE (256 * 1024)

static coroutine void client_on_stack(int u, int *rc) {
    *rc = client_echo(u, now() + 5000);
}

/* Runs a handshake and exchange on a stack of `size` bytes at the top of
   `mem` (PROBE bytes filled with a pattern), as the client or the server;
   returns the bytes of it that were touched. */
static size_t stack_run(uint8_t *mem, size_t size, const char *crt, const char *key,
      int server) {
    memset(mem, 0xA7, PROBE);
    int p[2];
    CHECK_OK(ipc_pair(p));
    struct side sd = {p[0], crt, key, 0, -1, -1};
    int rc = -1, c;
    if(server) {
        c = go_mem(server_echo(&sd), mem + PROBE - size, size);
        CHECK(c >= 0);
        CHECK_OK(client_echo(p[1], now() + 5000));
        WAIT_FOR(sd.result == 0, 5000);
    }
    else {
        int b;
        SPAWN(b, server_echo(&sd));
        c = go_mem(client_on_stack(p[1], &rc), mem + PROBE - size, size);
        CHECK(c >= 0);
        JOIN(b);
        CHECK_OK(sd.result);
        WAIT_FOR(rc == 0, 5000);
    }
    CHECK_OK(hclose(c));
    /* go_mem keeps the coroutine's bundle at the start of the memory. */
    size_t low = PROBE - size + 256;
    while(low < PROBE && mem[low] == 0xA7) low++;
    return PROBE - low;
}

static void test_stack(void) {
    /* Under memcheck the memory below a finished coroutine's stack pointer
       may not be read: measured without it. */
    if(getenv("DILL_CTEST_VALGRIND")) return;
    uint8_t *mem = aligned_alloc(4096, PROBE);
    CHECK(mem);
    const char *kinds[][2] = {{EC_CERT, EC_KEY}, {cert("rsa.pem"), cert("rsa.key")}};
    size_t need = 0;
    for(int verify = 0; verify < 2; verify++) {
        if(verify) setenv("DILL_TLS_CA_FILE", cert("ca.pem"), 1);
        for(int k = 0; k < 2 - verify; k++) {
            for(int server = 0; server < 2; server++) {
                size_t n = stack_run(mem, PROBE, kinds[k][0], kinds[k][1], server);
                NOTE("%s, %s%s: handshake + exchange touched %zu bytes of stack",
                    server ? "server" : "client", k ? "RSA" : "ECDSA P-256",
                    verify ? ", chain verified" : "", n);
                if(n > need) need = n;
            }
        }
    }
    /* Well inside the default 256 KiB. */
    CHECK(need < 128 * 1024);
    /* And a stack of that size plus a little runs every case. */
    size_t small = (need + 4096 + 1023) & ~(size_t)1023;
    for(int verify = 0; verify < 2; verify++) {
        if(verify) setenv("DILL_TLS_CA_FILE", cert("ca.pem"), 1);
        else unsetenv("DILL_TLS_CA_FILE");
        for(int k = 0; k < 2 - verify; k++)
            for(int server = 0; server < 2; server++)
                CHECK(stack_run(mem, small, kinds[k][0], kinds[k][1], server) <= small);
    }
    unsetenv("DILL_TLS_CA_FILE");
    NOTE("go_mem of %zu bytes runs all of them", small);
    free(mem);
}

int main(void) {
    WATCHDOG(100);
    const char *d = getenv("DILL_TEST_CERTS");
    CHECK(d != NULL && strlen(d) < 200);
    strcpy(certdir, d);
    unsetenv("DILL_TLS_CA_FILE");
    unsetenv("DILL_TLS_SERVER_NAME");
    test_basic_ipc();
    test_hdone();
    test_detach();
    test_bulk_tcp();
    test_user_socket();
    test_errors();
    test_peers();
    test_broken();
    test_verification();
    test_close_under_wait();
    test_canceled();
    test_stack();
    return 0;
}
