/* 2.14 ipc_sendfd / ipc_recvfd: descriptors passed in order with the
   stream's bytes (no byte is read past: the descriptor survives reads
   before it), blocking and deadlines, and the errors. */
#include <fcntl.h>
#include <libdill.h>
#include <stdio.h>

#include "../check.h"

static coroutine void late_sender(int s, int fd) {
    CHECK_OK(msleep(now() + 30));
    CHECK_OK(ipc_sendfd(s, fd, -1));
}

/* The received descriptor reads what is written to the pipe sent. */
static void check_pipe(int rfd, int wfd) {
    CHECK(rfd >= 0);
    CHECK(write(wfd, "z", 1) == 1);
    char c = 0;
    CHECK(read(rfd, &c, 1) == 1 && c == 'z');
    /* As the original: no close-on-exec flag (it goes to children). */
    CHECK((fcntl(rfd, F_GETFD) & FD_CLOEXEC) == 0);
    CHECK_OK(close(rfd));
}

int main(void) {
    int pp[2];
    CHECK_OK(pipe(pp));
    int s[2];
    CHECK_OK(ipc_pair(s));

    /* Bytes, a descriptor, bytes: each read gets exactly its part. */
    CHECK_OK(bsend(s[0], "ABC", 3, -1));
    CHECK_OK(ipc_sendfd(s[0], pp[0], -1));
    CHECK_OK(bsend(s[0], "DEF", 3, -1));
    char buf[3];
    CHECK_OK(brecv(s[1], buf, 3, -1));
    CHECK(memcmp(buf, "ABC", 3) == 0);
    check_pipe(ipc_recvfd(s[1], -1), pp[1]);
    CHECK_OK(brecv(s[1], buf, 3, -1));
    CHECK(memcmp(buf, "DEF", 3) == 0);

    /* Skipped bytes (a NULL buffer) stop where the descriptor starts, also
       when more of them are skipped than a receive buffer holds. */
    static char many[5000];
    CHECK_OK(bsend(s[0], many, sizeof(many), -1));
    CHECK_OK(ipc_sendfd(s[0], pp[0], -1));
    CHECK_OK(brecv(s[1], NULL, sizeof(many), -1));
    check_pipe(ipc_recvfd(s[1], -1), pp[1]);
    struct iolist skip2 = {NULL, 2, NULL, 0};
    struct iolist get1 = {buf, 1, &skip2, 0};
    CHECK_OK(bsend(s[0], "abc", 3, -1));
    CHECK_OK(ipc_sendfd(s[0], pp[0], -1));
    CHECK_OK(brecvl(s[1], &get1, &skip2, -1));
    CHECK(buf[0] == 'a');
    check_pipe(ipc_recvfd(s[1], -1), pp[1]);

    /* Two in a row; then a wait for one that comes later. */
    CHECK_OK(ipc_sendfd(s[1], pp[0], -1));
    CHECK_OK(ipc_sendfd(s[1], pp[0], -1));
    check_pipe(ipc_recvfd(s[0], -1), pp[1]);
    check_pipe(ipc_recvfd(s[0], -1), pp[1]);
    int64_t start = now();
    CHECK_ERR(ipc_recvfd(s[0], now() + 30), ETIMEDOUT);
    CHECK_TOOK(start, 30);
    int h = go(late_sender(s[1], pp[0]));
    check_pipe(ipc_recvfd(s[0], -1), pp[1]);
    CHECK_OK(hclose(h));

    /* A plain byte where a descriptor was expected. */
    CHECK_OK(bsend(s[0], "x", 1, -1));
    CHECK_ERR(ipc_recvfd(s[1], -1), EPROTO);
    CHECK_OK(hclose(s[1]));

    /* Bad arguments and other sockets. */
    CHECK_ERR(ipc_sendfd(s[0], -1, -1), EINVAL);
    CHECK_ERR(ipc_sendfd(-1, pp[0], -1), EBADF);
    CHECK_ERR(ipc_recvfd(-1, -1), EBADF);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(ipc_sendfd(ch[0], pp[0], -1), ENOTSUP);
    CHECK_ERR(ipc_recvfd(ch[0], -1), ENOTSUP);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, IPADDR_IPV4));
    int ls = tcp_listen(&a, 1);
    CHECK_ERR(ipc_sendfd(ls, pp[0], -1), ENOTSUP);
    CHECK_OK(hclose(ls));
    CHECK_OK(hclose(s[0]));

    /* After done, and at the end of the peer's stream: EPIPE. */
    CHECK_OK(ipc_pair(s));
    CHECK_OK(ipc_done(s[0], -1));
    CHECK_ERR(ipc_sendfd(s[0], pp[0], -1), EPIPE);
    CHECK_ERR(ipc_recvfd(s[1], -1), EPIPE);
    CHECK_ERR(ipc_recvfd(s[1], -1), EPIPE);
    CHECK_OK(hclose(s[0]));
    CHECK_OK(hclose(s[1]));

    /* Over a listener's connections too. */
    char path[64];
    snprintf(path, sizeof(path), "/tmp/dill214-ipcfd-%d", (int)getpid());
    unlink(path);
    ls = ipc_listen(path, 1);
    CHECK(ls >= 0);
    int c = ipc_connect(path, -1);
    CHECK(c >= 0);
    int acc = ipc_accept(ls, -1);
    CHECK(acc >= 0);
    CHECK_OK(ipc_sendfd(c, pp[0], -1));
    check_pipe(ipc_recvfd(acc, -1), pp[1]);
    CHECK_OK(hclose(acc));
    CHECK_OK(hclose(c));
    CHECK_OK(hclose(ls));
    unlink(path);
    CHECK_OK(close(pp[0]));
    CHECK_OK(close(pp[1]));
    return 0;
}
