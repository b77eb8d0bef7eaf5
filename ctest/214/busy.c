/* 2.14: a second coroutine sending (or receiving) on a TCP or IPC
   connection while another one does fails with EBUSY. */
#include <libdill.h>

#include "../check.h"

#define BIG (8 * 1024 * 1024)
static char big[BIG];

static coroutine void reader(int s) {
    char c;
    CHECK_OK(brecv(s, &c, 1, -1));
    CHECK(c == 'r');
}

static coroutine void writer(int s) {
    CHECK_OK(bsend(s, big, BIG, -1));
}

static void check(int a, int b) {
    /* Receiver busy. */
    int h = go(reader(a));
    char c;
    CHECK_ERR(brecv(a, &c, 1, -1), EBUSY);
    struct iolist iol = {&c, 1, NULL, 0};
    CHECK_ERR(brecvl(a, &iol, &iol, -1), EBUSY);
    /* Sending at the same time is fine. */
    CHECK_OK(bsend(a, "s", 1, -1));
    CHECK_OK(brecv(b, &c, 1, -1));
    CHECK(c == 's');
    CHECK_OK(bsend(b, "r", 1, -1));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    /* Free again. */
    CHECK_OK(bsend(b, "r", 1, -1));
    CHECK_OK(brecv(a, &c, 1, -1));

    /* Sender busy: the writer blocks on a full kernel buffer. */
    h = go(writer(a));
    CHECK_ERR(bsend(a, "x", 1, -1), EBUSY);
    CHECK_ERR(bsendl(a, &iol, &iol, -1), EBUSY);
    static char sink[BIG];
    CHECK_OK(brecv(b, sink, BIG, -1));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK_OK(bsend(a, "x", 1, -1));
    CHECK_OK(brecv(b, &c, 1, -1));
}

int main(void) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    check(p[0], p[1]);
    /* ipc_recvfd counts as receiving. */
    int h = go(reader(p[0]));
    CHECK_ERR(ipc_recvfd(p[0], -1), EBUSY);
    CHECK_OK(bsend(p[1], "r", 1, -1));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));

    struct ipaddr addr;
    CHECK_OK(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4));
    int ls = tcp_listen(&addr, 1);
    CHECK(ls >= 0);
    int c = tcp_connect(&addr, -1);
    CHECK(c >= 0);
    int a = tcp_accept(ls, NULL, -1);
    CHECK(a >= 0);
    check(c, a);
    check(a, c);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(c));
    CHECK_OK(hclose(ls));
    return 0;
}
