/* fdin(), fdout(), fdclean() on pipes and socketpairs. */
#include <libdill.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "check.h"

static void make_pipe(int p[2]) {
    CHECK_OK(pipe(p));
    CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
    CHECK(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
}

static void close_fd(int fd) {
    fdclean(fd);
    CHECK_OK(close(fd));
}

/* Fill a non-blocking pipe until the kernel refuses more. */
static size_t fill(int fd) {
    static char junk[4096];
    size_t total = 0;
    while(1) {
        ssize_t n = write(fd, junk, sizeof(junk));
        if(n < 0) {
            CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
            return total;
        }
        total += (size_t)n;
    }
}

static void drain(int fd) {
    char buf[4096];
    while(read(fd, buf, sizeof(buf)) > 0) {}
}

coroutine void write_late(int fd, int ms) {
    CHECK_OK(msleep(now() + ms));
    CHECK(write(fd, "x", 1) == 1);
}

coroutine void drain_late(int fd, int ms) {
    CHECK_OK(msleep(now() + ms));
    drain(fd);
}

/* Waits for input; used to occupy the fd. */
static int waiter_rc = 99, waiter_errno = 0;

coroutine void wait_in(int fd, int64_t deadline) {
    errno = 0;
    waiter_rc = fdin(fd, deadline);
    waiter_errno = errno;
}

coroutine void wait_out(int fd, int64_t deadline) {
    errno = 0;
    waiter_rc = fdout(fd, deadline);
    waiter_errno = errno;
}

int main(void) {
    WATCHDOG(30);
    int p[2];
    make_pipe(p);

    /* Nothing to read: timeouts. */
    int64_t t0 = now();
    CHECK_ERR(fdin(p[0], 0), ETIMEDOUT);
    CHECK_QUICK(t0);
    t0 = now();
    CHECK_ERR(fdin(p[0], now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);

    /* Data already there: immediate success, even with deadline 0. */
    CHECK(write(p[1], "a", 1) == 1);
    CHECK_OK(fdin(p[0], 0));
    CHECK_OK(fdin(p[0], -1));
    char c;
    CHECK(read(p[0], &c, 1) == 1 && c == 'a');
    CHECK_ERR(fdin(p[0], 0), ETIMEDOUT);

    /* Data arriving later wakes the waiter. */
    int h = go(write_late(p[1], 30));
    CHECK(h >= 0);
    t0 = now();
    CHECK_OK(fdin(p[0], now() + 5000));
    CHECK_TOOK(t0, 30);
    CHECK(read(p[0], &c, 1) == 1 && c == 'x');
    CHECK_OK(hclose(h));
    /* Same with an infinite deadline. */
    h = go(write_late(p[1], 10));
    CHECK(h >= 0);
    CHECK_OK(fdin(p[0], -1));
    CHECK(read(p[0], &c, 1) == 1);
    CHECK_OK(hclose(h));

    /* An empty pipe is writable. */
    CHECK_OK(fdout(p[1], 0));
    CHECK_OK(fdout(p[1], -1));
    /* ...and stays so: waiting again after a wake-up returns at once (the
       readiness is a level, not an event to be consumed). */
    t0 = now();
    for(int i = 0; i < 3; i++)
        CHECK_OK(fdout(p[1], now() + 1000));
    CHECK_QUICK(t0);
    /* A full one is not... */
    CHECK(fill(p[1]) > 0);
    t0 = now();
    CHECK_ERR(fdout(p[1], 0), ETIMEDOUT);
    CHECK_ERR(fdout(p[1], now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);
    /* ...until someone reads from it. */
    h = go(drain_late(p[0], 30));
    CHECK(h >= 0);
    t0 = now();
    CHECK_OK(fdout(p[1], now() + 5000));
    CHECK_TOOK(t0, 30);
    CHECK_OK(hclose(h));
    CHECK(write(p[1], "z", 1) == 1);
    drain(p[0]);

    /* EBUSY: only one coroutine may wait for input on an fd at a time. */
    waiter_rc = 99;
    h = go(wait_in(p[0], now() + 5000));
    CHECK(h >= 0);
    CHECK_OK(yield());
    CHECK(waiter_rc == 99); /* still waiting */
    CHECK_ERR(fdin(p[0], 0), EBUSY);
    CHECK_ERR(fdin(p[0], now() + 1000), EBUSY);
    /* ...but waiting for output on the other end is unrelated. */
    CHECK_OK(fdout(p[1], 0));
    CHECK(write(p[1], "q", 1) == 1);
    CHECK_OK(bundle_wait(h, now() + 5000));
    CHECK(waiter_rc == 0);
    CHECK_OK(hclose(h));
    CHECK(read(p[0], &c, 1) == 1 && c == 'q');
    /* Once the first waiter is gone, the fd is free again. */
    CHECK_ERR(fdin(p[0], 0), ETIMEDOUT);

    /* EBUSY for output as well. */
    CHECK(fill(p[1]) > 0);
    waiter_rc = 99;
    h = go(wait_out(p[1], now() + 5000));
    CHECK(h >= 0);
    CHECK_OK(yield());
    CHECK(waiter_rc == 99);
    CHECK_ERR(fdout(p[1], 0), EBUSY);
    drain(p[0]);
    CHECK_OK(bundle_wait(h, now() + 5000));
    CHECK(waiter_rc == 0);
    CHECK_OK(hclose(h));

    /* One coroutine waiting for input and another one waiting for output on
       the same (socket) fd is allowed. */
    int sp[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
    CHECK(fcntl(sp[0], F_SETFL, O_NONBLOCK) == 0);
    CHECK(fcntl(sp[1], F_SETFL, O_NONBLOCK) == 0);
    waiter_rc = 99;
    h = go(wait_in(sp[0], now() + 5000));
    CHECK(h >= 0);
    CHECK_OK(yield());
    CHECK_OK(fdout(sp[0], 0));
    CHECK_OK(fdout(sp[0], now() + 1000));
    CHECK(waiter_rc == 99);
    CHECK(write(sp[1], "s", 1) == 1);
    CHECK_OK(bundle_wait(h, now() + 5000));
    CHECK(waiter_rc == 0);
    CHECK_OK(hclose(h));
    close_fd(sp[0]);
    close_fd(sp[1]);

    /* Hang-up counts as "readable": the caller discovers EOF by reading. */
    close_fd(p[1]);
    CHECK_OK(fdin(p[0], 0));
    CHECK_OK(fdin(p[0], now() + 1000));
    CHECK(read(p[0], &c, 1) == 0);
    /* And the write end of a pipe whose reader is gone is "writable"
       (the error shows on write). */
    close_fd(p[0]);
    make_pipe(p);
    close_fd(p[0]);
    CHECK_OK(fdout(p[1], now() + 1000));
    close_fd(p[1]);

    /* A waiter blocked on a pipe whose writer goes away is woken. */
    make_pipe(p);
    waiter_rc = 99;
    h = go(wait_in(p[0], now() + 5000));
    CHECK(h >= 0);
    CHECK_OK(yield());
    close_fd(p[1]);
    CHECK_OK(bundle_wait(h, now() + 5000));
    CHECK(waiter_rc == 0);
    CHECK_OK(hclose(h));
    close_fd(p[0]);

    /* Bad file descriptors. */
    CHECK_ERR(fdin(-1, 0), EBADF);
    CHECK_ERR(fdout(-1, -1), EBADF);
    CHECK_ERR(fdin(-77, now() + 1000), EBADF);
    /* A number that is not an open fd (just closed). */
    int spare = dup(0);
    CHECK(spare >= 0);
    CHECK_OK(close(spare));
    CHECK_ERR(fdin(spare, 0), EBADF);
    CHECK_ERR(fdout(spare, now() + 1000), EBADF);
    /* Something far beyond any fd limit. */
    CHECK_ERR(fdin(1 << 29, 0), EBADF);
    CHECK_ERR(fdout(1 << 29, 0), EBADF);

    /* fdclean + close + a new descriptor with the same number: the library
       must not carry stale state over to the new file. */
    make_pipe(p);
    CHECK(write(p[1], "1", 1) == 1);
    CHECK_OK(fdin(p[0], 0));
    CHECK_ERR(fdout(p[0], 0), ETIMEDOUT); /* read end: never writable */
    int old_r = p[0], old_w = p[1];
    close_fd(p[0]);
    close_fd(p[1]);
    make_pipe(p);
    CHECK(p[0] == old_r && p[1] == old_w); /* lowest free numbers */
    CHECK_ERR(fdin(p[0], 0), ETIMEDOUT);   /* new pipe is empty */
    h = go(write_late(p[1], 20));
    CHECK(h >= 0);
    CHECK_OK(fdin(p[0], now() + 5000));
    CHECK_OK(hclose(h));
    /* The number of a former read end reused as a write end: the cached
       interest (readability) must not leak into the new file. */
    int x = p[0];
    int q[2];
    make_pipe(q);
    close_fd(p[0]);
    close_fd(p[1]);
    CHECK(dup2(q[1], x) == x);
    CHECK_OK(close(q[1])); /* never used with libdill: plain close is ok */
    q[1] = x;
    CHECK_OK(fdout(q[1], 0));
    CHECK_OK(fdout(q[1], now() + 1000));
    CHECK_ERR(fdin(q[0], 0), ETIMEDOUT);
    CHECK(write(q[1], "w", 1) == 1);
    CHECK_OK(fdin(q[0], now() + 1000));
    close_fd(q[0]);
    close_fd(q[1]);

    /* fdclean on a descriptor libdill has never seen is harmless. */
    make_pipe(p);
    fdclean(p[0]);
    fdclean(p[1]);
    CHECK_OK(fdout(p[1], 0));
    close_fd(p[0]);
    close_fd(p[1]);

    /* Many fds, each with its own waiting coroutine, all woken. */
    enum {N = 100};
    static int pipes[N][2];
    static int hs[N];
    for(int i = 0; i != N; ++i) {
        make_pipe(pipes[i]);
        hs[i] = go(write_late(pipes[i][1], i % 10));
        CHECK(hs[i] >= 0);
    }
    for(int i = N - 1; i >= 0; --i) {
        CHECK_OK(fdin(pipes[i][0], now() + 5000));
        CHECK(read(pipes[i][0], &c, 1) == 1);
    }
    for(int i = 0; i != N; ++i) {
        CHECK_OK(hclose(hs[i]));
        close_fd(pipes[i][0]);
        close_fd(pipes[i][1]);
    }

    return 0;
}
