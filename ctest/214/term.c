/* 2.14 TERM over UDP (a message socket): messages pass, term_done sends
   the terminal message and the peer reads EPIPE, term_detach finishes the
   handshake and gives the socket back; an empty terminal message; short
   buffers; caller storage; errors. */
#include <libdill.h>

#include "../check.h"

static void pair(int u[2]) {
    struct ipaddr a, b;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, IPADDR_IPV4));
    int x = udp_open(&a, NULL);
    CHECK(x >= 0);
    CHECK_OK(ipaddr_local(&b, "127.0.0.1", 0, IPADDR_IPV4));
    u[1] = udp_open(&b, &a);
    CHECK(u[1] >= 0);
    CHECK_OK(hclose(x));
    u[0] = udp_open(&a, &b);
    CHECK(u[0] >= 0);
}

int main(void) {
    int u[2];
    pair(u);
    int a = term_attach(u[0], "STOP", 4);
    CHECK(a >= 0);
    static char mem[sizeof(struct term_storage) + 1];
    int b = term_attach_mem(u[1], "STOP", 4, (struct term_storage*)(mem + 1));
    CHECK(b >= 0);
    char buf[16];
    CHECK_OK(msend(a, "hello", 5, -1));
    CHECK(mrecv(b, buf, sizeof(buf), -1) == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    /* A message the length of the terminal one, but another. */
    CHECK_OK(msend(b, "STOQ", 4, -1));
    CHECK(mrecv(a, buf, sizeof(buf), -1) == 4);
    /* Shorter than the terminal message, into a short buffer. */
    CHECK_OK(msend(b, "ab", 2, -1));
    CHECK(mrecv(a, buf, 2, -1) == 2);
    CHECK(buf[0] == 'a' && buf[1] == 'b');

    /* a is done: b reads EPIPE (even into a short buffer), a sends no more. */
    CHECK_OK(term_done(a, -1));
    CHECK_ERR(term_done(a, -1), EPIPE);
    CHECK_ERR(msend(a, "x", 1, -1), EPIPE);
    CHECK_ERR(mrecv(b, buf, 2, -1), EPIPE);
    CHECK_ERR(mrecv(b, buf, sizeof(buf), -1), EPIPE);
    /* b still sends to a. */
    CHECK_OK(msend(b, "late", 4, -1));
    /* b's detach: its terminal goes out, a's came already. */
    int ub = term_detach(b, -1);
    CHECK(ub == u[1] || ub >= 0);
    /* a's detach drops "late" and ends at b's terminal message. */
    int ua = term_detach(a, -1);
    CHECK(ua >= 0);
    /* The sockets below work on their own again. */
    CHECK_OK(msend(ua, "raw", 3, -1));
    CHECK(mrecv(ub, buf, sizeof(buf), -1) == 3);
    CHECK_OK(hclose(ua));
    CHECK_OK(hclose(ub));

    /* The empty message as terminal. */
    pair(u);
    a = term_attach(u[0], NULL, 0);
    b = term_attach(u[1], NULL, 0);
    CHECK(a >= 0 && b >= 0);
    CHECK_OK(msend(a, "x", 1, -1));
    CHECK(mrecv(b, buf, sizeof(buf), -1) == 1);
    CHECK_OK(term_done(b, -1));
    CHECK_ERR(mrecv(a, buf, sizeof(buf), -1), EPIPE);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(b));

    /* Errors: a failed attach closes the socket, as the original. */
    pair(u);
    char big[33] = {0};
    CHECK_ERR(term_attach(u[0], big, sizeof(big)), EINVAL);
    CHECK_ERR(hclose(u[0]), EBADF);
    CHECK_ERR(term_attach(u[1], NULL, 3), EINVAL);
    CHECK_ERR(hclose(u[1]), EBADF);
    int p[2];
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(term_attach(p[0], "S", 1), EPROTO);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_ERR(term_done(p[1], -1), ENOTSUP);
    CHECK_ERR(term_detach(p[1], -1), ENOTSUP);
    CHECK_ERR(term_done(-1, -1), EBADF);
    CHECK_OK(hclose(p[1]));
    CHECK_ERR(term_attach(-1, "S", 1), EBADF);
    return 0;
}
