/* Generic handle API: hmake, hquery, hdup, hclose, hdone. */
#include <libdillimpl.h>

#include "check.h"

/* Two type IDs; only the first one is supported by our object. */
static const int type_a_id = 0;
static const int type_b_id = 0;
static const void *type_a = &type_a_id;
static const void *type_b = &type_b_id;

/* A custom object that records every call the library makes on it. */
struct probe {
    struct hvfs vfs;
    int nquery;
    const void *last_type;
    int nclose;
    int ndone;
    int64_t last_deadline;
    int done_rc;
    int done_errno;
    int payload;
    /* Results of blocking calls attempted from inside close(). */
    int close_sleep_rc, close_sleep_errno;
    int close_yield_rc, close_yield_errno;
    int try_block_in_close;
};

static void *probe_query(struct hvfs *vfs, const void *type) {
    struct probe *p = (struct probe*)vfs;
    p->nquery++;
    p->last_type = type;
    if(type == type_a) return &p->payload;
    errno = ENOTSUP;
    return NULL;
}

static void probe_close(struct hvfs *vfs) {
    struct probe *p = (struct probe*)vfs;
    p->nclose++;
    if(p->try_block_in_close) {
        /* The man page says blocking is not allowed during close and fails
           with ECANCELED. */
        errno = 0;
        p->close_sleep_rc = msleep(now() + 1000);
        p->close_sleep_errno = errno;
        errno = 0;
        p->close_yield_rc = yield();
        p->close_yield_errno = errno;
    }
}

static int probe_done(struct hvfs *vfs, int64_t deadline) {
    struct probe *p = (struct probe*)vfs;
    p->ndone++;
    p->last_deadline = deadline;
    if(p->done_rc != 0) errno = p->done_errno;
    return p->done_rc;
}

static void probe_init(struct probe *p, int with_done) {
    memset(p, 0, sizeof(*p));
    p->vfs.query = probe_query;
    p->vfs.close = probe_close;
    p->vfs.done = with_done ? probe_done : NULL;
}

int main(void) {
    WATCHDOG(30);

    /* hmake rejects a missing or incomplete vtable. */
    CHECK_ERR(hmake(NULL), EINVAL);
    struct probe bad;
    probe_init(&bad, 1);
    bad.vfs.query = NULL;
    CHECK_ERR(hmake(&bad.vfs), EINVAL);
    probe_init(&bad, 1);
    bad.vfs.close = NULL;
    CHECK_ERR(hmake(&bad.vfs), EINVAL);
    CHECK(bad.nclose == 0);

    /* Operations on handles that never existed. */
    int bogus[] = {-1, -12345, 1000000, 0x7fffffff};
    for(size_t i = 0; i != sizeof(bogus) / sizeof(bogus[0]); ++i) {
        CHECK_ERR(hdup(bogus[i]), EBADF);
        CHECK_ERR(hclose(bogus[i]), EBADF);
        CHECK_ERR(hdone(bogus[i], -1), EBADF);
        CHECK_NULL_ERR(hquery(bogus[i], type_a), EBADF);
    }

    /* hquery forwards to the vtable and returns its result. */
    struct probe p;
    probe_init(&p, 1);
    int h = hmake(&p.vfs);
    CHECK(h >= 0);
    CHECK(p.nclose == 0 && p.ndone == 0);
    void *ptr = hquery(h, type_a);
    CHECK(ptr == &p.payload);
    CHECK(p.nquery >= 1 && p.last_type == type_a);
    /* Results are cacheable: the same answer every time. */
    CHECK(hquery(h, type_a) == &p.payload);
    /* An unsupported type: NULL with the errno set by query. */
    CHECK_NULL_ERR(hquery(h, type_b), ENOTSUP);
    CHECK(p.last_type == type_b);
    /* Asking for type_a again after a failed query still works. */
    CHECK(hquery(h, type_a) == &p.payload);

    /* hdone forwards the deadline and the return value. */
    CHECK_OK(hdone(h, 12345));
    CHECK(p.ndone == 1 && p.last_deadline == 12345);
    p.done_rc = -1;
    p.done_errno = EPIPE;
    CHECK_ERR(hdone(h, -1), EPIPE);
    CHECK(p.ndone == 2 && p.last_deadline == -1);
    p.done_errno = ETIMEDOUT;
    CHECK_ERR(hdone(h, 0), ETIMEDOUT);
    CHECK(p.ndone == 3 && p.last_deadline == 0);
    CHECK(p.nclose == 0);

    /* Closing calls close exactly once and invalidates the handle. */
    CHECK_OK(hclose(h));
    CHECK(p.nclose == 1);
    CHECK_NULL_ERR(hquery(h, type_a), EBADF);
    CHECK_ERR(hclose(h), EBADF);
    CHECK_ERR(hdone(h, -1), EBADF);
    CHECK_ERR(hdup(h), EBADF);
    CHECK(p.nclose == 1);

    /* A vtable without done: hdone is not supported. */
    struct probe nd;
    probe_init(&nd, 0);
    h = hmake(&nd.vfs);
    CHECK(h >= 0);
    CHECK_ERR(hdone(h, -1), ENOTSUP);
    CHECK(hquery(h, type_a) == &nd.payload);
    CHECK_OK(hclose(h));
    CHECK(nd.nclose == 1);

    /* hdup: all duplicates refer to the same object, and the object is
       closed only when the last of them is closed. */
    probe_init(&p, 1);
    h = hmake(&p.vfs);
    CHECK(h >= 0);
    int d1 = hdup(h);
    CHECK(d1 >= 0 && d1 != h);
    int d2 = hdup(d1); /* A dup of a dup. */
    CHECK(d2 >= 0 && d2 != h && d2 != d1);
    CHECK(hquery(d1, type_a) == &p.payload);
    CHECK(hquery(d2, type_a) == &p.payload);
    CHECK_OK(hdone(d2, 7));
    CHECK(p.ndone == 1 && p.last_deadline == 7);
    CHECK_OK(hclose(h));
    CHECK(p.nclose == 0);
    CHECK(hquery(d2, type_a) == &p.payload);
    CHECK_OK(hclose(d2));
    CHECK(p.nclose == 0);
    CHECK(hquery(d1, type_a) == &p.payload);
    CHECK_OK(hclose(d1));
    CHECK(p.nclose == 1);
    CHECK_NULL_ERR(hquery(d1, type_a), EBADF);

    /* Lots of duplicates, closed in a scrambled order. */
    probe_init(&p, 1);
    h = hmake(&p.vfs);
    CHECK(h >= 0);
    enum {NDUPS = 500};
    static int dups[NDUPS];
    for(int i = 0; i != NDUPS; ++i) {
        /* Mix dups of the original with dups of earlier dups. */
        int src = (i == 0 || i % 2) ? h : dups[i / 2];
        dups[i] = hdup(src);
        CHECK(dups[i] >= 0);
    }
    CHECK_OK(hclose(h));
    for(int i = 0; i != NDUPS; ++i) {
        int k = (i * 7) % NDUPS; /* 7 is coprime with 500: a permutation. */
        CHECK(p.nclose == 0);
        CHECK_OK(hclose(dups[k]));
    }
    CHECK(p.nclose == 1);

    /* Many live handles at once (forces the handle table to grow). */
    enum {NOBJ = 2000};
    static struct probe objs[NOBJ];
    static int hs[NOBJ];
    for(int i = 0; i != NOBJ; ++i) {
        probe_init(&objs[i], 1);
        hs[i] = hmake(&objs[i].vfs);
        CHECK(hs[i] >= 0);
        if(i > 0) CHECK(hs[i] != hs[i - 1] && hs[i] != hs[0]);
    }
    for(int i = 0; i != NOBJ; ++i)
        CHECK(hquery(hs[i], type_a) == &objs[i].payload);
    for(int i = 0; i != NOBJ; ++i) {
        CHECK_OK(hclose(hs[i]));
        CHECK(objs[i].nclose == 1);
    }

    /* Blocking calls made from inside a close callback fail with
       ECANCELED instead of blocking. */
    probe_init(&p, 1);
    p.try_block_in_close = 1;
    h = hmake(&p.vfs);
    CHECK(h >= 0);
    int64_t t0 = now();
    CHECK_OK(hclose(h));
    CHECK_QUICK(t0);
    CHECK(p.nclose == 1);
    CHECK(p.close_sleep_rc == -1 && p.close_sleep_errno == ECANCELED);
    CHECK(p.close_yield_rc == -1 && p.close_yield_errno == ECANCELED);
    /* ...and the main coroutine can block normally again afterwards. */
    CHECK_OK(msleep(now() + 10));
    CHECK_OK(yield());

    /* Built-in objects: a foreign type ID is rejected by hquery. */
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_NULL_ERR(hquery(ch[0], type_a), ENOTSUP);
    int b = bundle();
    CHECK(b >= 0);
    CHECK_NULL_ERR(hquery(b, type_a), ENOTSUP);
    /* Bundles have no notion of "done". */
    CHECK_ERR(hdone(b, -1), ENOTSUP);
    CHECK_OK(hclose(b));
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    CHECK_ERR(hclose(ch[0]), EBADF);

    return 0;
}
