/* I/O lists (struct iolist) on real sockets: bsendl/brecvl on IPC pairs,
   msendl/mrecvl and udp_sendl/udp_recvl on UDP sockets. Gather/scatter
   with odd fragmentations, skipping with a NULL iol_base, and the rules of
   the man pages for malformed lists: EINVAL when last->iol_next is not
   NULL, when first and last are not in the same list, when the list has a
   loop, when an iol_rsvd is not zero -- and the list is left as it was. */
#include <libdill.h>

#include "sockutil.h"

/* ------------------------------------------------------------------------ */
/* Snapshots: the list must be the same after the call as before.          */
/* ------------------------------------------------------------------------ */

#define MAXIOL 8

struct snap {
    int n;
    struct iolist items[MAXIOL];
};

static void snap_take(struct snap *sn, struct iolist *v, int n) {
    sn->n = n;
    memcpy(sn->items, v, sizeof(struct iolist) * (size_t)n);
}

static int snap_same(const struct snap *sn, const struct iolist *v) {
    for(int i = 0; i < sn->n; i++) {
        if(v[i].iol_base != sn->items[i].iol_base ||
           v[i].iol_len != sn->items[i].iol_len ||
           v[i].iol_next != sn->items[i].iol_next ||
           v[i].iol_rsvd != sn->items[i].iol_rsvd) return 0;
    }
    return 1;
}

/* Chains v[0..n-1] into one list over buf, each item 'len' bytes. */
static void chain(struct iolist *v, int n, char *buf, size_t len) {
    for(int i = 0; i < n; i++) {
        v[i].iol_base = buf + (size_t)i * len;
        v[i].iol_len = len;
        v[i].iol_next = i + 1 < n ? &v[i + 1] : NULL;
        v[i].iol_rsvd = 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Malformed lists.                                                         */
/* ------------------------------------------------------------------------ */

enum { BSENDL, BRECVL, MSENDL, MRECVL, UDP_SENDL, UDP_RECVL, NFUNCS };
static const char *fname[] = {"bsendl", "brecvl", "msendl", "mrecvl",
    "udp_sendl", "udp_recvl"};

enum { NEXT_AFTER_LAST, OTHER_LIST, LOOP, RSVD_FIRST, RSVD_MIDDLE,
    RSVD_LAST, NCASES };
static const char *cname[] = {"last->iol_next != NULL",
    "first and last in different lists", "loop in the list",
    "iol_rsvd != 0 in the first item", "iol_rsvd != 0 in a middle item",
    "iol_rsvd != 0 in the last item"};

/* Which of these libdill 2.6 gets wrong (it does not validate lists it
   receives into when the data fits its internal buffer). */
static int upstream_misses(int f, int c) {
    return f == BRECVL && (c == OTHER_LIST || c == LOOP || c >= RSVD_FIRST);
}

/* Runs one function on one malformed list, on fresh sockets with data
   waiting, so that a library that does not validate would succeed (or
   time out) rather than fail with EINVAL. */
static void one_malformed(int f, int c) {
    char buf[64];
    struct iolist v[4], other;
    chain(v, 4, buf, 4);
    other.iol_base = buf + 40;
    other.iol_len = 4;
    other.iol_next = NULL;
    other.iol_rsvd = 0;
    struct iolist *first = &v[0], *last = &v[3];
    switch(c) {
    case NEXT_AFTER_LAST: last = &v[2]; break;
    case OTHER_LIST: last = &other; break;
    case LOOP: v[2].iol_next = &v[1]; break;
    case RSVD_FIRST: v[0].iol_rsvd = 1; break;
    case RSVD_MIDDLE: v[1].iol_rsvd = 1; break;
    case RSVD_LAST: v[3].iol_rsvd = 1; break;
    }
    struct snap sn;
    snap_take(&sn, v, 4);
    int p[2] = {-1, -1}, a = -1, b = -1;
    struct ipaddr la, lb;
    long rc;
    errno = 0;
    if(f == BSENDL || f == BRECVL) {
        CHECK_OK(ipc_pair(p));
        CHECK_OK(bsend(p[0], "0123456789abcdefghij", 20, now() + 1000));
        if(f == BSENDL) rc = bsendl(p[1], first, last, now() + 100);
        else rc = brecvl(p[1], first, last, now() + 100);
    }
    else {
        loop4(&la, 0);
        a = udp_open(&la, NULL);
        CHECK(a >= 0);
        loop4(&lb, 0);
        b = udp_open(&lb, &la);
        CHECK(b >= 0);
        CHECK_OK(msend(b, "0123456789abcdefghij", 20, now() + 1000));
        switch(f) {
        case MSENDL: rc = msendl(b, first, last, now() + 100); break;
        case MRECVL: rc = mrecvl(a, first, last, now() + 100); break;
        case UDP_SENDL: rc = udp_sendl(b, &la, first, last); break;
        default: rc = udp_recvl(a, NULL, first, last, now() + 100); break;
        }
    }
    int e = errno;
    char what[160];
    snprintf(what, sizeof(what), "%s with %s must fail with EINVAL",
        fname[f], cname[c]);
    errno = e;
    if(upstream_misses(f, c)) {
        CHECK_DOC(rc == -1 && e == EINVAL, what);
    }
    else if(rc != -1 || e != EINVAL) {
        fprintf(stderr, "%s: got %ld [errno=%d: %s]\n", what, rc, e,
            strerror(e));
        abort();
    }
    snprintf(what, sizeof(what), "%s with %s must leave the list as it was",
        fname[f], cname[c]);
    CHECK_DOC(snap_same(&sn, v), what);
    if(p[0] >= 0) {
        CHECK_OK(hclose(p[0]));
        CHECK_OK(hclose(p[1]));
    }
    if(a >= 0) CHECK_OK(hclose(a));
    if(b >= 0) CHECK_OK(hclose(b));
}

/* brecvl on a list with a loop spins forever in libdill 2.6: in a child. */
static void brecvl_loop(void *unused) {
    one_malformed(BRECVL, LOOP);
}

static void test_malformed(void) {
    for(int f = 0; f < NFUNCS; f++) {
        for(int c = 0; c < NCASES; c++) {
            if(f == BRECVL && c == LOOP) continue;
            one_malformed(f, c);
        }
    }
    /* NULL ends. */
    int p[2];
    CHECK_OK(ipc_pair(p));
    struct iolist v = {"x", 1, NULL, 0};
    CHECK_ERR(bsendl(p[0], NULL, &v, 0), EINVAL);
    CHECK_ERR(bsendl(p[0], &v, NULL, 0), EINVAL);
    CHECK_ERR(bsendl(p[0], NULL, NULL, 0), EINVAL);
    CHECK_ERR(brecvl(p[0], NULL, &v, 0), EINVAL);
    CHECK_ERR(brecvl(p[0], &v, NULL, 0), EINVAL);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
    struct ipaddr la;
    loop4(&la, 0);
    int u = udp_open(&la, &la);
    CHECK(u >= 0);
    CHECK_ERR(msendl(u, NULL, &v, 0), EINVAL);
    CHECK_ERR(msendl(u, &v, NULL, 0), EINVAL);
    CHECK_ERR(msendl(u, NULL, NULL, 0), EINVAL);
    CHECK_ERR(mrecvl(u, NULL, &v, 0), EINVAL);
    CHECK_ERR(mrecvl(u, &v, NULL, 0), EINVAL);
    CHECK_OK(hclose(u));
}

/* ------------------------------------------------------------------------ */
/* Gather/scatter over a byte stream.                                       */
/* ------------------------------------------------------------------------ */

static uint32_t rnd_state = 12345;
static uint32_t rnd(void) {
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

#define ROUNDS 1500

/* Sends ROUNDS lists of up to 6 items (lengths 0..40, some empty) filled
   from the stream; the receiver uses differently cut lists, some items
   with a NULL base (skipped). Total small, so that nothing depends on how
   large skips are done. */
static coroutine void scatter_sender(int s) {
    struct stream st;
    stream_init(&st, 77);
    char bufs[6][40];
    struct iolist v[6];
    for(int r = 0; r < ROUNDS; r++) {
        int n = 1 + (int)(rnd() % 6);
        for(int i = 0; i < n; i++) {
            v[i].iol_base = bufs[i];
            v[i].iol_len = rnd() % 41;
            v[i].iol_next = i + 1 < n ? &v[i + 1] : NULL;
            v[i].iol_rsvd = 0;
            stream_fill(&st, bufs[i], v[i].iol_len);
        }
        struct snap sn;
        snap_take(&sn, v, n);
        CHECK_OK(bsendl(s, &v[0], &v[n - 1], now() + 5000));
        CHECK(snap_same(&sn, v));
    }
    CHECK_OK(hdone(s, now() + 5000));
}

static void test_scatter(void) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    int cr;
    SPAWN(cr, scatter_sender(p[0]));
    struct stream st;
    stream_init(&st, 77);
    char bufs[5][40];
    struct iolist v[5];
    while(1) {
        int n = 1 + (int)(rnd() % 5);
        for(int i = 0; i < n; i++) {
            v[i].iol_base = rnd() % 7 == 0 ? NULL : bufs[i];
            v[i].iol_len = rnd() % 41;
            v[i].iol_next = i + 1 < n ? &v[i + 1] : NULL;
            v[i].iol_rsvd = 0;
        }
        struct snap sn;
        snap_take(&sn, v, n);
        errno = 0;
        int rc = brecvl(p[1], &v[0], &v[n - 1], now() + 5000);
        CHECK(snap_same(&sn, v));
        if(rc == -1 && errno == EPIPE) break;
        CHECK_OK(rc);
        for(int i = 0; i < n; i++) {
            if(v[i].iol_base) stream_expect(&st, v[i].iol_base, v[i].iol_len);
            else stream_skip(&st, v[i].iol_len);
        }
    }
    JOIN(cr);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
}

/* Canceled early when the receiving side has already failed. */
static coroutine void send_all(int s, const char *buf, size_t len) {
    int rc = bsend(s, buf, len, now() + 5000);
    CHECK(rc == 0 || errno == ECANCELED);
}

/* Skipping with NULL: small and large amounts, with brecv and brecvl. */
static void test_skip(void) {
    static char out[300000], in[300000];
    struct stream st;
    stream_init(&st, 3);
    stream_fill(&st, out, sizeof(out));

    int p[2];
    CHECK_OK(ipc_pair(p));
    /* brecv(s, NULL, len) drops len bytes. */
    CHECK_OK(bsend(p[0], out, 100, now() + 1000));
    CHECK_OK(brecv(p[1], NULL, 60, now() + 1000));
    CHECK_OK(brecv(p[1], in, 40, now() + 1000));
    CHECK(memcmp(in, out + 60, 40) == 0);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));

    /* A large skip (more than any internal buffer). */
    CHECK_OK(ipc_pair(p));
    int cr;
    SPAWN(cr, send_all(p[0], out, 200000));
    errno = 0;
    int rc = brecv(p[1], NULL, 150000, now() + 1000);
    CHECK_DOC(rc == 0, "brecv with buf NULL drops len bytes (150000)");
    if(rc == 0) {
        CHECK_OK(brecv(p[1], in, 50000, now() + 1000));
        CHECK(memcmp(in, out + 150000, 50000) == 0);
        JOIN(cr);
    }
    else {
        CHECK_OK(hclose(cr));
    }
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));

    /* brecvl: skip, keep, skip, keep across sizes large and small. */
    CHECK_OK(ipc_pair(p));
    SPAWN(cr, send_all(p[0], out, 300000));
    struct iolist v[4] = {
        {NULL, 100000, &v[1], 0},
        {in, 5, &v[2], 0},
        {NULL, 3, &v[3], 0},
        {in + 5, 100000, NULL, 0}};
    struct snap sn;
    snap_take(&sn, v, 4);
    errno = 0;
    rc = brecvl(p[1], &v[0], &v[3], now() + 1000);
    CHECK_DOC(rc == 0, "brecvl skips 100000 bytes for an item with "
        "iol_base NULL");
    CHECK(snap_same(&sn, v));
    if(rc == 0) {
        CHECK(memcmp(in, out + 100000, 5) == 0);
        CHECK(memcmp(in + 5, out + 100008, 100000) == 0);
        CHECK_OK(brecv(p[1], in, 99992, now() + 1000));
        CHECK(memcmp(in, out + 200008, 99992) == 0);
        JOIN(cr);
    }
    else {
        CHECK_OK(hclose(cr));
    }
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
}

/* Long lists: the man pages give no limit on the number of items. */
static void test_long_lists(void) {
    enum { N = 2000 };
    static struct iolist v[N];
    static char out[3 * N], in[3 * N];
    struct stream st;
    stream_init(&st, 8);
    stream_fill(&st, out, sizeof(out));
    int p[2];
    CHECK_OK(ipc_pair(p));
    for(int i = 0; i < N; i++) {
        v[i].iol_base = out + 3 * i;
        v[i].iol_len = 3;
        v[i].iol_next = i + 1 < N ? &v[i + 1] : NULL;
        v[i].iol_rsvd = 0;
    }
    errno = 0;
    int rc = bsendl(p[0], &v[0], &v[N - 1], now() + 1000);
    CHECK_DOC(rc == 0, "bsendl with a 2000-item list");
    if(rc != 0) {
        /* Send it plainly to test the receiving side anyway. */
        CHECK_OK(hclose(p[0]));
        CHECK_OK(hclose(p[1]));
        CHECK_OK(ipc_pair(p));
        CHECK_OK(bsend(p[0], out, sizeof(out), now() + 1000));
    }
    /* (6000 bytes fit into the socket buffers: no sender coroutine.) */
    for(int i = 0; i < N; i++) {
        v[i].iol_base = in + 3 * i;
    }
    errno = 0;
    rc = brecvl(p[1], &v[0], &v[N - 1], now() + 1000);
    CHECK_DOC(rc == 0, "brecvl with a 2000-item list");
    if(rc == 0) CHECK(memcmp(in, out, sizeof(out)) == 0);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
}

/* Empty items, single-item lists, zero-length sends. */
static void test_edges(void) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    struct iolist e = {NULL, 0, NULL, 0};
    CHECK_OK(bsendl(p[0], &e, &e, 0));
    CHECK_OK(brecvl(p[1], &e, &e, 0));
    CHECK_OK(bsend(p[0], NULL, 0, 0));
    CHECK_OK(brecv(p[1], NULL, 0, 0));
    char buf[8];
    struct iolist v[3] = {{NULL, 0, &v[1], 0}, {"abc", 3, &v[2], 0},
        {NULL, 0, NULL, 0}};
    CHECK_OK(bsendl(p[0], &v[0], &v[2], now() + 1000));
    struct iolist w[3] = {{buf, 0, &w[1], 0}, {buf, 3, &w[2], 0},
        {buf + 3, 0, NULL, 0}};
    CHECK_OK(brecvl(p[1], &w[0], &w[2], now() + 1000));
    CHECK(memcmp(buf, "abc", 3) == 0);
    /* Nothing left over. */
    CHECK_ERR(brecv(p[1], buf, 1, 0), ETIMEDOUT);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
}

int main(void) {
    WATCHDOG(60);
    /* In a child, before this process registers sockets (see run_child). */
    int st = run_child(brecvl_loop, NULL, 3);
    if(!child_passed(st))
        NOTE("brecvl with a loop in the list: %s", child_outcome(st));
    CHECK_DOC(child_passed(st),
        "brecvl with a loop in the list must fail with EINVAL");
    test_malformed();
    test_scatter();
    test_skip();
    test_long_lists();
    test_edges();
    return 0;
}
