/* 2.14 channels: chmake, chmake_mem, chsend, chrecv, chdone, choose. */
#include <libdill.h>

#include "../check.h"

static coroutine void sender(int ch, int v) {
    CHECK_OK(chsend(ch, &v, sizeof(v), -1));
}

static coroutine void receiver(int ch, int expect) {
    int v = 0;
    CHECK_OK(chrecv(ch, &v, sizeof(v), -1));
    CHECK(v == expect);
}

static coroutine void blocked_recv(int ch, int *err) {
    int v;
    int rc = chrecv(ch, &v, sizeof(v), -1);
    *err = rc == -1 ? errno : 0;
}

static coroutine void blocked_send(int ch, int *err) {
    int v = 1;
    int rc = chsend(ch, &v, sizeof(v), -1);
    *err = rc == -1 ? errno : 0;
}

int main(void) {
    int ch[2];
    CHECK_ERR(chmake(NULL), EINVAL);
    CHECK_OK(chmake(ch));
    CHECK(ch[0] >= 0 && ch[1] >= 0 && ch[0] != ch[1]);

    /* A rendezvous in each direction. */
    int h = go(sender(ch[0], 42));
    CHECK(h >= 0);
    int v = 0;
    CHECK_OK(chrecv(ch[1], &v, sizeof(v), -1));
    CHECK(v == 42);
    CHECK_OK(hclose(h));
    h = go(receiver(ch[1], 7));
    v = 7;
    CHECK_OK(chsend(ch[0], &v, sizeof(v), -1));
    CHECK_OK(hclose(h));

    /* Deadlines and bad arguments. */
    int64_t start = now();
    CHECK_ERR(chrecv(ch[1], &v, sizeof(v), now() + 50), ETIMEDOUT);
    CHECK_TOOK(start, 50);
    CHECK_ERR(chsend(ch[0], &v, sizeof(v), 0), ETIMEDOUT);
    CHECK_ERR(chsend(ch[0], NULL, 4, 0), EINVAL);
    CHECK_ERR(chsend(-1, &v, sizeof(v), 0), EBADF);
    CHECK_ERR(chdone(-1), EBADF);
    int b = bundle();
    CHECK_ERR(chsend(b, &v, sizeof(v), 0), ENOTSUP);
    CHECK_ERR(chdone(b), ENOTSUP);
    CHECK_OK(hclose(b));

    /* choose: the ready clause wins; none ready times out. */
    h = go(sender(ch[0], 5));
    struct chclause cl[2] = {
        {CHRECV, ch[1], &v, sizeof(v)},
        {CHSEND, ch[0], &v, sizeof(v)},
    };
    v = 0;
    CHECK(choose(cl, 2, -1) == 0);
    CHECK(errno == 0);
    CHECK(v == 5);
    CHECK_OK(hclose(h));
    CHECK_ERR(choose(cl, 2, 0), ETIMEDOUT);
    struct chclause bad[1] = {{99, ch[0], &v, sizeof(v)}};
    CHECK(choose(bad, 1, 0) == 0);
    CHECK(errno == EINVAL);

    /* chdone: a receiver waiting at the other end fails with EPIPE, and so
       do later receives and sends; a second chdone too. */
    /* Static: the compiler cannot see it change under a coroutine's
       pointer (a static coroutine function lets it prove the local is
       not touched by the calls in between). */
    static int err;
    err = -1;
    h = go(blocked_recv(ch[1], &err));
    CHECK_OK(yield());
    CHECK_OK(chdone(ch[0]));
    CHECK_OK(yield());
    CHECK(err == EPIPE);
    CHECK_OK(hclose(h));
    CHECK_ERR(chrecv(ch[1], &v, sizeof(v), -1), EPIPE);
    CHECK_ERR(chsend(ch[0], &v, sizeof(v), -1), EPIPE);
    CHECK_ERR(chdone(ch[0]), EPIPE);
    /* The other direction still works until it is done too. */
    h = go(receiver(ch[0], 9));
    v = 9;
    CHECK_OK(chsend(ch[1], &v, sizeof(v), -1));
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));

    /* A sender still blocked when both ends are closed learns that the
       channel ended (EPIPE); closing the other end first leaves it waiting. */
    CHECK_OK(chmake(ch));
    err = -1;
    h = go(blocked_send(ch[0], &err));
    CHECK_OK(yield());
    CHECK_OK(hclose(ch[1]));
    CHECK_OK(yield());
    CHECK(err == -1);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(yield());
    CHECK(err == EPIPE);
    CHECK_OK(hclose(h));

    /* chmake_mem in unaligned storage. */
    static char mem[sizeof(struct chstorage) + 1];
    CHECK_ERR(chmake_mem(NULL, ch), EINVAL);
    CHECK_OK(chmake_mem((struct chstorage*)(mem + 1), ch));
    h = go(sender(ch[0], 3));
    CHECK_OK(chrecv(ch[1], &v, sizeof(v), -1));
    CHECK(v == 3);
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(ch[1]));
    CHECK_OK(hclose(ch[0]));

    /* hown keeps a channel end working under its new number. */
    CHECK_OK(chmake(ch));
    int end = hown(ch[0]);
    CHECK(end >= 0);
    CHECK_ERR(chsend(ch[0], &v, sizeof(v), 0), EBADF);
    h = go(receiver(ch[1], 11));
    v = 11;
    CHECK_OK(chsend(end, &v, sizeof(v), -1));
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(end));
    CHECK_OK(hclose(ch[1]));
    return 0;
}
