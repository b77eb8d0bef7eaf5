/* 2.14 helpers: now, msleep, fdin, fdout, fdclean. */
#include <fcntl.h>
#include <libdill.h>

#include "../check.h"

static coroutine void writer(int fd) {
    CHECK_OK(msleep(now() + 30));
    CHECK(write(fd, "x", 1) == 1);
}

int main(void) {
    int64_t t0 = now();
    CHECK(t0 > 0);
    CHECK_OK(msleep(now() + 50));
    CHECK_TOOK(t0, 50);
    CHECK_OK(msleep(0));
    CHECK_OK(msleep(now() - 10));

    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
    /* Writable at once, readable once the coroutine wrote. */
    CHECK_OK(fdout(p[1], -1));
    int64_t start = now();
    CHECK_ERR(fdin(p[0], now() + 30), ETIMEDOUT);
    CHECK_TOOK(start, 30);
    int h = go(writer(p[1]));
    CHECK(h >= 0);
    CHECK_OK(fdin(p[0], -1));
    char c;
    CHECK(read(p[0], &c, 1) == 1 && c == 'x');
    CHECK_OK(hclose(h));
    CHECK_ERR(fdin(-1, -1), EBADF);
    CHECK_OK(fdclean(p[0]));
    CHECK_OK(fdclean(p[1]));
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
    return 0;
}
