/* 2.14 handles: hmake with the two-field struct hvfs, hquery, hown, hclose,
   and 2.14's first-in first-out reuse of numbers. */
#include <libdillimpl.h>

#include "../check.h"

static const int type_a_id = 0;
static const int type_b_id = 0;
static const void *type_a = &type_a_id;
static const void *type_b = &type_b_id;

struct probe {
    struct hvfs vfs;
    int nquery;
    int nclose;
    int payload;
    /* hquery of a second handle from inside close (it must still work). */
    int other;
    int other_query_ok;
};

static void *probe_query(struct hvfs *vfs, const void *type) {
    struct probe *p = (struct probe*)vfs;
    p->nquery++;
    if(type == type_a) return &p->payload;
    errno = ENOTSUP;
    return NULL;
}

static void probe_close(struct hvfs *vfs) {
    struct probe *p = (struct probe*)vfs;
    p->nclose++;
    if(p->other >= 0) p->other_query_ok = hquery(p->other, type_a) != NULL;
}

static int make_probe(struct probe *p) {
    memset(p, 0, sizeof(*p));
    p->vfs.query = probe_query;
    p->vfs.close = probe_close;
    p->other = -1;
    return hmake(&p->vfs);
}

int main(void) {
    /* The 2.14 struct hvfs has exactly two members. */
    CHECK(sizeof(struct hvfs) == 2 * sizeof(void*));

    /* Bad arguments. */
    CHECK_ERR(hmake(NULL), EINVAL);
    struct hvfs half = {probe_query, NULL};
    CHECK_ERR(hmake(&half), EINVAL);
    struct hvfs half2 = {NULL, probe_close};
    CHECK_ERR(hmake(&half2), EINVAL);

    /* hquery reaches our callback with our own struct, and is cached. */
    struct probe p;
    int h = make_probe(&p);
    CHECK(h >= 0);
    CHECK(hquery(h, type_a) == &p.payload);
    CHECK(hquery(h, type_a) == &p.payload);
    CHECK(p.nquery >= 1 && p.nquery <= 2);
    CHECK_NULL_ERR(hquery(h, type_b), ENOTSUP);
    CHECK_NULL_ERR(hquery(-1, type_a), EBADF);
    CHECK_NULL_ERR(hquery(12345, type_a), EBADF);

    /* hown: a new number for the same object, the old one is gone and
       nothing was closed. */
    int h2 = hown(h);
    CHECK(h2 >= 0);
    CHECK(h2 != h);
    CHECK(p.nclose == 0);
    CHECK_NULL_ERR(hquery(h, type_a), EBADF);
    CHECK_ERR(hclose(h), EBADF);
    CHECK(hquery(h2, type_a) == &p.payload);
    CHECK_ERR(hown(h), EBADF);
    CHECK_ERR(hown(-1), EBADF);
    CHECK(p.nclose == 0);

    /* hclose closes the object once; the number is invalid after. */
    CHECK_OK(hclose(h2));
    CHECK(p.nclose == 1);
    CHECK_ERR(hclose(h2), EBADF);
    CHECK(p.nclose == 1);

    /* A close callback may use other handles. */
    struct probe a, b;
    int ha = make_probe(&a);
    int hb = make_probe(&b);
    CHECK(ha >= 0 && hb >= 0);
    a.other = hb;
    CHECK_OK(hclose(ha));
    CHECK(a.nclose == 1 && a.other_query_ok == 1);
    CHECK_OK(hclose(hb));
    CHECK(b.nclose == 1);

    /* Many objects, then all closed: each close runs once. */
    static struct probe many[300];
    static int hs[300];
    int i;
    for(i = 0; i != 300; ++i) {
        hs[i] = make_probe(&many[i]);
        CHECK(hs[i] >= 0);
    }
    for(i = 0; i != 300; ++i) CHECK_OK(hclose(hs[i]));
    for(i = 0; i != 300; ++i) CHECK(many[i].nclose == 1);

    /* The generic socket calls refuse an object that is not a socket. */
    int hp = make_probe(&p);
    char c = 0;
    CHECK_ERR(bsend(hp, &c, 1, -1), ENOTSUP);
    CHECK_ERR(msend(hp, &c, 1, -1), ENOTSUP);
    CHECK_OK(hclose(hp));

    /* Numbers are reused first in, first out, never the one just closed:
       a stale handle fails instead of naming a new object. */
    struct probe q[12];
    int hq[12];
    int x = make_probe(&p);
    CHECK(x >= 0);
    CHECK_OK(hclose(x));
    for(i = 0; i != 12; ++i) {
        hq[i] = make_probe(&q[i]);
        CHECK(hq[i] >= 0 && hq[i] != x);
        if(i > 0) CHECK(hq[i] != hq[i - 1]);
    }
    CHECK_NULL_ERR(hquery(x, type_a), EBADF);
    for(i = 0; i != 12; ++i) CHECK_OK(hclose(hq[i]));
    int y = make_probe(&p);
    CHECK(y >= 0);
    for(i = 0; i != 12; ++i) CHECK(y != hq[i]);
    CHECK_OK(hclose(y));
    return 0;
}
