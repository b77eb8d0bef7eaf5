/* 2.14 IPC: listen/accept/connect and their _mem forms in unaligned
   storage, ipc_pair(_mem), ipc_done, ipc_close, ipc_fromfd(_mem),
   ipc_listener_fromfd(_mem). */
#include <libdill.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../check.h"

static char path[64];

static coroutine void echo_once(int ls) {
    int s = ipc_accept(ls, -1);
    CHECK(s >= 0);
    char buf[3];
    CHECK_OK(brecv(s, buf, 3, -1));
    CHECK_OK(bsend(s, buf, 3, -1));
    CHECK_ERR(brecv(s, buf, 1, -1), EPIPE);
    CHECK_OK(ipc_close(s, -1));
}

static void exchange(int a, int b) {
    char buf[3];
    CHECK_OK(bsend(a, "abc", 3, -1));
    CHECK_OK(brecv(b, buf, 3, -1));
    CHECK(memcmp(buf, "abc", 3) == 0);
}

int main(void) {
    snprintf(path, sizeof(path), "/tmp/dill214-ipc-%d", (int)getpid());
    unlink(path);

    int ls = ipc_listen(path, 10);
    CHECK(ls >= 0);
    int h = go(echo_once(ls));
    int s = ipc_connect(path, -1);
    CHECK(s >= 0);
    char buf[3];
    CHECK_OK(bsend(s, "xyz", 3, -1));
    CHECK_OK(brecv(s, buf, 3, -1));
    CHECK(memcmp(buf, "xyz", 3) == 0);
    CHECK_OK(ipc_done(s, -1));
    CHECK_ERR(ipc_done(s, -1), EPIPE);
    CHECK_OK(ipc_close(s, -1));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK_OK(ipc_close(ls, -1));
    unlink(path);

    /* _mem forms in unaligned storage. */
    static char lmem[sizeof(struct ipc_listener_storage) + 1];
    static char cmem[sizeof(struct ipc_storage) + 1];
    static char amem[sizeof(struct ipc_storage) + 1];
    static char pmem[sizeof(struct ipc_pair_storage) + 1];
    CHECK_ERR(ipc_listen_mem(path, 10, NULL), EINVAL);
    ls = ipc_listen_mem(path, 10, (struct ipc_listener_storage*)(lmem + 1));
    CHECK(ls >= 0);
    CHECK_ERR(ipc_connect_mem(path, NULL, -1), EINVAL);
    s = ipc_connect_mem(path, (struct ipc_storage*)(cmem + 1), -1);
    CHECK(s >= 0);
    CHECK_ERR(ipc_accept_mem(ls, NULL, -1), EINVAL);
    int a = ipc_accept_mem(ls, (struct ipc_storage*)(amem + 1), -1);
    CHECK(a >= 0);
    exchange(s, a);
    exchange(a, s);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(s));

    int p[2];
    CHECK_ERR(ipc_pair(NULL), EINVAL);
    CHECK_OK(ipc_pair(p));
    exchange(p[0], p[1]);
    CHECK_OK(ipc_done(p[1], -1));
    CHECK_ERR(brecv(p[0], buf, 1, -1), EPIPE);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
    CHECK_ERR(ipc_pair_mem(NULL, p), EINVAL);
    CHECK_OK(ipc_pair_mem((struct ipc_pair_storage*)(pmem + 1), p));
    exchange(p[1], p[0]);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));

    /* fromfd: both ends of a socketpair made by the program. */
    int sp[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
    int x = ipc_fromfd(sp[0]);
    CHECK(x >= 0);
    CHECK_ERR(ipc_fromfd_mem(sp[1], NULL), EINVAL);
    int y = ipc_fromfd_mem(sp[1], (struct ipc_storage*)(cmem + 1));
    CHECK(y >= 0);
    exchange(x, y);
    CHECK_OK(hclose(x));
    CHECK_OK(hclose(y));

    /* Wrong kinds of fd. */
    CHECK_ERR(ipc_fromfd(-1), EINVAL);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_ERR(ipc_fromfd(t), EINVAL);
    CHECK_OK(close(t));
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_ERR(ipc_fromfd(d), EINVAL);
    CHECK_ERR(ipc_listener_fromfd(d), EINVAL);
    CHECK_OK(close(d));

    /* listener_fromfd on the program's own listening socket. */
    char path2[80];
    snprintf(path2, sizeof(path2), "%s-b", path);
    unlink(path2);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {0};
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path2);
    CHECK_OK(bind(lfd, (struct sockaddr*)&sun, sizeof(sun)));
    CHECK_OK(listen(lfd, 10));
    CHECK_ERR(ipc_fromfd(lfd), EINVAL);
    int l2 = ipc_listener_fromfd(lfd);
    CHECK(l2 >= 0);
    s = ipc_connect(path2, -1);
    CHECK(s >= 0);
    a = ipc_accept(l2, -1);
    CHECK(a >= 0);
    exchange(s, a);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(s));
    CHECK_OK(hclose(l2));
    unlink(path2);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(bind(lfd, (struct sockaddr*)&sun, sizeof(sun)));
    CHECK_OK(listen(lfd, 10));
    CHECK_ERR(ipc_listener_fromfd_mem(lfd, NULL), EINVAL);
    l2 = ipc_listener_fromfd_mem(lfd, (struct ipc_listener_storage*)(lmem + 1));
    CHECK(l2 >= 0);
    CHECK_OK(hclose(l2));
    unlink(path2);

    CHECK_ERR(ipc_done(ls, -1), ENOTSUP);
    CHECK_OK(hclose(ls));
    unlink(path);
    return 0;
}
