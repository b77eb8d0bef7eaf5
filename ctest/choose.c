/* choose(): multiplexing channel operations. */
#include <libdill.h>

#include "check.h"

coroutine void send_int(int ch, int val) {
    CHECK_OK(chsend(ch, &val, sizeof(val), -1));
}

coroutine void send_empty(int ch) {
    CHECK_OK(chsend(ch, NULL, 0, -1));
}

coroutine void send_int_late(int ch, int val, int ms) {
    CHECK_OK(msleep(now() + ms));
    CHECK_OK(chsend(ch, &val, sizeof(val), -1));
}

coroutine void recv_expect(int ch, int expected) {
    int val = -1;
    CHECK_OK(chrecv(ch, &val, sizeof(val), -1));
    CHECK(val == expected);
}

coroutine void recv_late(int ch, int expected, int ms) {
    CHECK_OK(msleep(now() + ms));
    int val = -1;
    CHECK_OK(chrecv(ch, &val, sizeof(val), -1));
    CHECK(val == expected);
}

static int peer_failed = 0;

coroutine void send_expect_fail(int ch, size_t len, int err) {
    char buf[16] = {0};
    CHECK_ERR(chsend(ch, buf, len, -1), err);
    peer_failed++;
}

coroutine void done_late(int ch, int ms) {
    CHECK_OK(msleep(now() + ms));
    CHECK_OK(hdone(ch, -1));
}

/* Run choose and insist that it picked clause 'idx' successfully. */
#define CHECK_CHOSE(clauses, n, deadline, idx) do { \
    errno = -1; \
    int rc_ = choose((clauses), (n), (deadline)); \
    if(rc_ != (idx) || errno != 0) { \
        fprintf(stderr, "%s:%d: choose returned %d errno %d, " \
            "expected %d errno 0\n", __FILE__, __LINE__, rc_, errno, \
            (int)(idx)); \
        abort(); \
    } \
} while(0)

/* Run choose and insist that clause 'idx' fired with error 'err'. */
#define CHECK_CHOSE_ERR(clauses, n, deadline, idx, err) do { \
    errno = 0; \
    int rc_ = choose((clauses), (n), (deadline)); \
    if(rc_ != (idx) || errno != (err)) { \
        fprintf(stderr, "%s:%d: choose returned %d errno %d, " \
            "expected %d errno %s\n", __FILE__, __LINE__, rc_, errno, \
            (int)(idx), #err); \
        abort(); \
    } \
} while(0)

int main(void) {
    WATCHDOG(30);
    int a[2], b[2];
    CHECK_OK(chmake(a));
    CHECK_OK(chmake(b));
    int va = 0, vb = 0;

    /* Single receive clause with a waiting sender. */
    int h = go(send_int(a[0], 10));
    CHECK(h >= 0);
    struct chclause c1[] = {{CHRECV, a[1], &va, sizeof(va)}};
    CHECK_CHOSE(c1, 1, 0, 0);
    CHECK(va == 10);
    CHECK_OK(hclose(h));

    /* Single send clause with a waiting receiver. */
    h = go(recv_expect(a[1], 20));
    CHECK(h >= 0);
    va = 20;
    struct chclause c2[] = {{CHSEND, a[0], &va, sizeof(va)}};
    CHECK_CHOSE(c2, 1, -1, 0);
    CHECK_OK(bundle_wait(h, now() + 1000));
    CHECK_OK(hclose(h));

    /* Blocks until one of the clauses becomes ready. */
    h = go(send_int_late(b[0], 30, 30));
    CHECK(h >= 0);
    struct chclause c3[] = {
        {CHRECV, a[1], &va, sizeof(va)},
        {CHRECV, b[1], &vb, sizeof(vb)},
    };
    int64_t t0 = now();
    vb = 0;
    CHECK_CHOSE(c3, 2, -1, 1);
    CHECK(vb == 30);
    CHECK_TOOK(t0, 30);
    CHECK_OK(hclose(h));
    /* The clause that did not fire is no longer registered: a sender on it
       finds nobody. */
    va = 1;
    CHECK_ERR(chsend(a[0], &va, sizeof(va), 0), ETIMEDOUT);

    /* A blocked send clause gets picked up by a late receiver. */
    h = go(recv_late(b[1], 40, 20));
    CHECK(h >= 0);
    va = 99;
    vb = 40;
    struct chclause c4[] = {
        {CHRECV, a[1], &va, sizeof(va)},
        {CHSEND, b[0], &vb, sizeof(vb)},
    };
    CHECK_CHOSE(c4, 2, now() + 5000, 1);
    CHECK(va == 99); /* untouched */
    CHECK_OK(bundle_wait(h, now() + 1000));
    CHECK_OK(hclose(h));

    /* Several clauses ready at once: the earliest in the array wins. */
    int ha = go(send_int(a[0], 1));
    CHECK(ha >= 0);
    int hb = go(send_int(b[0], 2));
    CHECK(hb >= 0);
    struct chclause c5[] = {
        {CHRECV, b[1], &vb, sizeof(vb)},
        {CHRECV, a[1], &va, sizeof(va)},
    };
    CHECK_CHOSE(c5, 2, 0, 0);
    CHECK(vb == 2);
    CHECK_CHOSE(c5, 2, 0, 1);
    CHECK(va == 1);
    CHECK_OK(hclose(ha));
    CHECK_OK(hclose(hb));
    /* Same with a ready send clause before a ready receive clause. */
    ha = go(recv_expect(a[1], 5));
    CHECK(ha >= 0);
    hb = go(send_int(b[0], 6));
    CHECK(hb >= 0);
    va = 5;
    struct chclause c6[] = {
        {CHSEND, a[0], &va, sizeof(va)},
        {CHRECV, b[1], &vb, sizeof(vb)},
    };
    CHECK_CHOSE(c6, 2, 0, 0);
    CHECK_CHOSE(c6, 2, 0, 1);
    CHECK(vb == 6);
    CHECK_OK(hclose(ha));
    CHECK_OK(hclose(hb));

    /* Timeouts. */
    t0 = now();
    CHECK_ERR(choose(c3, 2, 0), ETIMEDOUT);
    CHECK_QUICK(t0);
    t0 = now();
    CHECK_ERR(choose(c3, 2, now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);
    /* Zero clauses: nothing can ever fire, so only the deadline matters. */
    t0 = now();
    CHECK_ERR(choose(NULL, 0, 0), ETIMEDOUT);
    CHECK_ERR(choose(c3, 0, 0), ETIMEDOUT);
    CHECK_QUICK(t0);
    t0 = now();
    CHECK_ERR(choose(NULL, 0, now() + 40), ETIMEDOUT);
    CHECK_TOOK(t0, 40);

    /* Malformed arguments as a whole: -1 with EINVAL. */
    CHECK_ERR(choose(c3, -1, 0), EINVAL);
    CHECK_ERR(choose(c3, -5, -1), EINVAL);
    CHECK_ERR(choose(NULL, 1, 0), EINVAL);
    CHECK_ERR(choose(NULL, 3, -1), EINVAL);

    /* Per-clause errors: the index of the bad clause is returned and errno
       says what is wrong with it. */
    struct chclause bad_op[] = {
        {CHRECV, a[1], &va, sizeof(va)},
        {12345, b[1], &vb, sizeof(vb)},
    };
    CHECK_CHOSE_ERR(bad_op, 2, -1, 1, EINVAL);
    bad_op[1].op = 0;
    CHECK_CHOSE_ERR(bad_op, 2, -1, 1, EINVAL);
    struct chclause null_buf[] = {{CHRECV, a[1], NULL, sizeof(int)}};
    CHECK_CHOSE_ERR(null_buf, 1, -1, 0, EINVAL);
    null_buf[0].op = CHSEND;
    CHECK_CHOSE_ERR(null_buf, 1, -1, 0, EINVAL);
    struct chclause bad_h[] = {
        {CHRECV, a[1], &va, sizeof(va)},
        {CHRECV, -1, &vb, sizeof(vb)},
    };
    CHECK_CHOSE_ERR(bad_h, 2, -1, 1, EBADF);
    bad_h[1].ch = 88888;
    bad_h[1].op = CHSEND;
    CHECK_CHOSE_ERR(bad_h, 2, -1, 1, EBADF);
    int bndl = bundle();
    CHECK(bndl >= 0);
    struct chclause not_ch[] = {{CHSEND, bndl, &va, sizeof(va)}};
    CHECK_CHOSE_ERR(not_ch, 1, -1, 0, ENOTSUP);
    not_ch[0].op = CHRECV;
    CHECK_CHOSE_ERR(not_ch, 1, 0, 0, ENOTSUP);
    CHECK_OK(hclose(bndl));

    /* Size mismatch: the clause reports EMSGSIZE, the peer fails too. */
    peer_failed = 0;
    h = go(send_expect_fail(a[0], 2, EMSGSIZE));
    CHECK(h >= 0);
    struct chclause c7[] = {{CHRECV, a[1], &va, sizeof(va)}};
    CHECK_CHOSE_ERR(c7, 1, -1, 0, EMSGSIZE);
    CHECK_OK(hclose(h));
    CHECK(peer_failed == 1);

    /* hdone: an EPIPE clause is reported with its index, both when the
       channel is already done and when it becomes done while waiting. */
    int c[2];
    CHECK_OK(chmake(c));
    h = go(done_late(c[0], 20));
    CHECK(h >= 0);
    int vc = 0;
    struct chclause c8[] = {
        {CHRECV, a[1], &va, sizeof(va)},
        {CHRECV, c[1], &vc, sizeof(vc)},
    };
    CHECK_CHOSE_ERR(c8, 2, now() + 5000, 1, EPIPE);
    CHECK_OK(hclose(h));
    CHECK_CHOSE_ERR(c8, 2, 0, 1, EPIPE);
    struct chclause c9[] = {
        {CHRECV, a[1], &va, sizeof(va)},
        {CHSEND, c[0], &vc, sizeof(vc)},
    };
    CHECK_CHOSE_ERR(c9, 2, -1, 1, EPIPE);
    CHECK_OK(hclose(c[0]));
    CHECK_OK(hclose(c[1]));

    /* Many clauses, only the last one becomes ready. */
    enum {N = 50};
    static int chs[N][2];
    static struct chclause cl[N];
    static int vals[N];
    for(int i = 0; i != N; ++i) {
        CHECK_OK(chmake(chs[i]));
        cl[i].op = CHRECV;
        cl[i].ch = chs[i][1];
        cl[i].val = &vals[i];
        cl[i].len = sizeof(vals[i]);
    }
    h = go(send_int_late(chs[N - 1][0], 4242, 10));
    CHECK(h >= 0);
    CHECK_CHOSE(cl, N, now() + 5000, N - 1);
    CHECK(vals[N - 1] == 4242);
    CHECK_OK(hclose(h));
    for(int i = 0; i != N; ++i) {
        CHECK_OK(hclose(chs[i][0]));
        CHECK_OK(hclose(chs[i][1]));
    }

    /* Zero-length messages through choose (NULL buffer allowed). */
    h = go(send_empty(a[0]));
    CHECK(h >= 0);
    struct chclause c10[] = {{CHRECV, a[1], NULL, 0}};
    CHECK_CHOSE(c10, 1, now() + 5000, 0);
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(a[0]));
    CHECK_OK(hclose(a[1]));
    CHECK_OK(hclose(b[0]));
    CHECK_OK(hclose(b[1]));
    return 0;
}
