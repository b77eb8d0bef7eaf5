/* File descriptor number reuse while a coroutine is still waiting on it.

   Scenario:
     1. Coroutine A waits in fdin() on X, the read end of pipe P. Nothing is
        ever written to P, and P's write end stays open, so P never becomes
        readable and never reports an error/hang-up.
     2. The main coroutine calls fdclean(X) and closes X (the documented
        way to drop an fd), leaving A's wait orphaned.
     3. A new pipe Q is created so that its read end gets the number X.
     4. Coroutine B waits in fdin() on X (now Q) and data is written to Q.

   Required:
     - B's fdin succeeds (no EBUSY left behind by A, no stale kernel
       registration that would keep B from ever being woken);
     - A is never told that its fd is readable: its fdin may end with an
       error (or stay blocked until cancelled), but it must not return 0 on
       account of the unrelated new pipe.

   Upstream libdill fails this: fdclean() refuses with EBUSY while A waits,
   and B then gets EBUSY as well. */
#include <libdill.h>
#include <fcntl.h>

#include "check.h"

static int a_finished = 0, a_rc = 99, a_errno = 0;

coroutine void waiter_a(int fd) {
    errno = 0;
    a_rc = fdin(fd, -1);
    a_errno = errno;
    a_finished = 1;
}

static int b_rc = 99, b_errno = 0;

coroutine void waiter_b(int fd) {
    errno = 0;
    b_rc = fdin(fd, now() + 5000);
    b_errno = errno;
}

int main(void) {
    WATCHDOG(30);
    int p[2];
    CHECK_OK(pipe(p));
    int x = p[0];

    /* 1. A blocks on X. */
    int ha = go(waiter_a(x));
    CHECK(ha >= 0);
    CHECK_OK(msleep(now() + 20));
    CHECK(!a_finished);

    /* 2. Drop X while A is still waiting on it. The return value of fdclean
          is not checked: a library may refuse (upstream: -1/EBUSY) or
          detach A. Either way the fd is then closed. */
    (void)fdclean(x);
    CHECK_OK(close(x));
    CHECK_OK(yield());

    /* 3. A new, unrelated pipe whose read end has the same number. */
    int q[2];
    CHECK_OK(pipe(q));
    if(q[0] != x) {
        CHECK(dup2(q[0], x) == x);
        CHECK_OK(close(q[0]));
        q[0] = x;
    }
    CHECK(fcntl(q[0], F_SETFL, O_NONBLOCK) == 0);

    /* 4. B waits on the new X; then the new pipe gets data. */
    int hb = go(waiter_b(x));
    CHECK(hb >= 0);
    CHECK_OK(msleep(now() + 20));
    /* If A's wait already ended, it must have ended with an error. */
    if(a_finished) CHECK(a_rc == -1);
    /* B must be waiting, not rejected (e.g. with EBUSY because of A). */
    if(b_rc != 99)
        fprintf(stderr, "B's fdin ended early: rc=%d errno=%d (%s)\n",
            b_rc, b_errno, strerror(b_errno));
    CHECK(b_rc == 99);
    CHECK(write(q[1], "n", 1) == 1);

    /* B is woken and can read the byte. */
    CHECK_OK(bundle_wait(hb, now() + 5000));
    CHECK(b_rc == 0);
    char c;
    CHECK(read(x, &c, 1) == 1 && c == 'n');
    CHECK_OK(hclose(hb));

    /* A was not woken "readable" by the new pipe's data. */
    CHECK_OK(msleep(now() + 20));
    if(a_finished) {
        fprintf(stderr, "A ended with rc=%d errno=%d (%s)\n", a_rc, a_errno,
            strerror(a_errno));
        CHECK(a_rc == -1);
    }
    /* Closing A's bundle ends it for good (ECANCELED if it was still
       blocked). */
    CHECK_OK(hclose(ha));
    CHECK(a_finished);
    CHECK(a_rc == -1);

    /* The new X keeps working normally afterwards. */
    CHECK_ERR(fdin(x, 0), ETIMEDOUT);
    CHECK(write(q[1], "m", 1) == 1);
    CHECK_OK(fdin(x, now() + 1000));
    fdclean(x);
    CHECK_OK(close(x));
    fdclean(q[1]);
    CHECK_OK(close(q[1]));
    fdclean(p[1]);
    CHECK_OK(close(p[1]));
    return 0;
}
