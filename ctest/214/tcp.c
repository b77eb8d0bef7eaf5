/* 2.14 TCP: listen/accept/connect and their _mem forms in unaligned
   storage, tcp_done, tcp_close, tcp_fromfd(_mem), tcp_listener_fromfd(_mem). */
#include <arpa/inet.h>
#include <libdill.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../check.h"

static coroutine void echo_once(int ls) {
    int s = tcp_accept(ls, NULL, -1);
    CHECK(s >= 0);
    char buf[5];
    CHECK_OK(brecv(s, buf, 5, -1));
    CHECK_OK(bsend(s, buf, 5, -1));
    /* The client's tcp_done reaches us as the end of its stream. */
    CHECK_ERR(brecv(s, buf, 1, -1), EPIPE);
    CHECK_OK(tcp_close(s, -1));
}

/* Port of a listener on 127.0.0.1 (an ephemeral one). */
static int listener(struct ipaddr *addr) {
    CHECK_OK(ipaddr_local(addr, "127.0.0.1", 0, IPADDR_IPV4));
    int ls = tcp_listen(addr, 10);
    CHECK(ls >= 0);
    CHECK(ipaddr_port(addr) != 0);
    return ls;
}

static void roundtrip(int s) {
    char buf[5];
    CHECK_OK(bsend(s, "hello", 5, -1));
    CHECK_OK(brecv(s, buf, 5, -1));
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_OK(tcp_done(s, -1));
    CHECK_ERR(tcp_done(s, -1), EPIPE);
    CHECK_ERR(bsend(s, "x", 1, -1), EPIPE);
    CHECK_OK(tcp_close(s, -1));
}

int main(void) {
    struct ipaddr addr;

    /* Plain objects. */
    int ls = listener(&addr);
    int h = go(echo_once(ls));
    int s = tcp_connect(&addr, -1);
    CHECK(s >= 0);
    roundtrip(s);
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));

    /* hown moves a connection to a new number. */
    h = go(echo_once(ls));
    s = tcp_connect(&addr, -1);
    int s2 = hown(s);
    CHECK(s2 >= 0);
    CHECK_ERR(bsend(s, "x", 1, -1), EBADF);
    roundtrip(s2);
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK_OK(tcp_close(ls, -1));

    /* The _mem forms, in unaligned storage. */
    static char lmem[sizeof(struct tcp_listener_storage) + 1];
    static char cmem[sizeof(struct tcp_storage) + 1];
    static char amem[sizeof(struct tcp_storage) + 1];
    CHECK(sizeof(struct tcp_storage) == 72);
    CHECK_OK(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4));
    CHECK_ERR(tcp_listen_mem(&addr, 10, NULL), EINVAL);
    ls = tcp_listen_mem(&addr, 10, (struct tcp_listener_storage*)(lmem + 1));
    CHECK(ls >= 0);
    CHECK_ERR(tcp_connect_mem(&addr, NULL, -1), EINVAL);
    s = tcp_connect_mem(&addr, (struct tcp_storage*)(cmem + 1), -1);
    CHECK(s >= 0);
    CHECK_ERR(tcp_accept_mem(ls, NULL, NULL, -1), EINVAL);
    struct ipaddr peer;
    int a = tcp_accept_mem(ls, &peer, (struct tcp_storage*)(amem + 1), -1);
    CHECK(a >= 0);
    CHECK(ipaddr_family(&peer) == AF_INET);
    CHECK_OK(bsend(s, "ab", 2, -1));
    char buf[2];
    CHECK_OK(brecv(a, buf, 2, -1));
    CHECK(buf[0] == 'a' && buf[1] == 'b');
    CHECK_OK(tcp_done(a, -1));
    CHECK_ERR(brecv(s, buf, 1, -1), EPIPE);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(s));

    /* fromfd: a socket connected by the program itself. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK_OK(connect(fd, ipaddr_sockaddr(&addr), ipaddr_len(&addr)));
    a = tcp_accept(ls, NULL, -1);
    CHECK(a >= 0);
    s = tcp_fromfd(fd);
    CHECK(s >= 0);
    CHECK_OK(bsend(a, "xyz", 3, -1));
    char b3[3];
    CHECK_OK(brecv(s, b3, 3, -1));
    CHECK(memcmp(b3, "xyz", 3) == 0);
    CHECK_OK(hclose(s));
    CHECK_OK(hclose(a));

    /* fromfd_mem, unaligned. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(fd, ipaddr_sockaddr(&addr), ipaddr_len(&addr)));
    a = tcp_accept(ls, NULL, -1);
    CHECK_ERR(tcp_fromfd_mem(fd, NULL), EINVAL);
    s = tcp_fromfd_mem(fd, (struct tcp_storage*)(cmem + 1));
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "q", 1, -1));
    CHECK_OK(brecv(a, buf, 1, -1));
    CHECK(buf[0] == 'q');
    CHECK_OK(hclose(s));
    CHECK_OK(hclose(a));

    /* Wrong kinds of fd are refused and stay the caller's. */
    CHECK_ERR(tcp_fromfd(-1), EINVAL);
    CHECK_ERR(tcp_listener_fromfd(-1), EINVAL);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_ERR(tcp_fromfd(u), EINVAL);
    CHECK_ERR(tcp_listener_fromfd(u), EINVAL);
    CHECK_OK(close(u));
    int un = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(tcp_fromfd(un), EINVAL);
    CHECK_OK(close(un));
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(bind(lfd, (struct sockaddr*)&sin, sizeof(sin)));
    CHECK_OK(listen(lfd, 10));
    CHECK_ERR(tcp_fromfd(lfd), EINVAL);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERR(tcp_fromfd(p[0]), ENOTSOCK);
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));

    /* listener_fromfd: accepts connections on the program's socket. */
    socklen_t sl = sizeof(sin);
    CHECK_OK(getsockname(lfd, (struct sockaddr*)&sin, &sl));
    int l2 = tcp_listener_fromfd(lfd);
    CHECK(l2 >= 0);
    struct ipaddr a2;
    CHECK_OK(ipaddr_remote(&a2, "127.0.0.1", ntohs(sin.sin_port), IPADDR_IPV4, -1));
    s = tcp_connect(&a2, -1);
    CHECK(s >= 0);
    a = tcp_accept(l2, NULL, -1);
    CHECK(a >= 0);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(s));
    CHECK_OK(tcp_close(l2, -1));

    /* listener_fromfd_mem, unaligned. */
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    sin.sin_port = 0;
    CHECK_OK(bind(lfd, (struct sockaddr*)&sin, sizeof(sin)));
    CHECK_OK(listen(lfd, 10));
    CHECK_ERR(tcp_listener_fromfd_mem(lfd, NULL), EINVAL);
    l2 = tcp_listener_fromfd_mem(lfd, (struct tcp_listener_storage*)(lmem + 1));
    CHECK(l2 >= 0);
    CHECK_OK(hclose(l2));

    /* tcp_done on what is not a TCP connection. */
    CHECK_ERR(tcp_done(-1, -1), EBADF);
    CHECK_ERR(tcp_done(ls, -1), ENOTSUP);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(tcp_done(ch[0], -1), ENOTSUP);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    CHECK_OK(tcp_close(ls, -1));
    return 0;
}
