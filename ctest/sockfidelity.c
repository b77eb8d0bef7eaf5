/* Socket behaviour of the original that programs can observe beyond what
   the man pages spell out: hclose aborts a TCP connection (the peer sees a
   reset), a socket made ready by another coroutine beats an expired
   deadline, and struct ipaddr behaves as the original's for every family
   value. Every check here passes against the original 2.6 as well. */
#include <libdill.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"

static coroutine void late_send(int s) {
    CHECK_OK(yield());
    CHECK_OK(bsend(s, "abc", 3, -1));
}

static coroutine void late_connect(struct ipaddr a) {
    CHECK_OK(yield());
    /* The accepting side may close us before the handshake returns here. */
    int s = tcp_connect(&a, now() + 1000);
    if(s >= 0) CHECK_OK(hclose(s));
}

int main(void) {
    WATCHDOG(30);
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, 0));
    int ls = tcp_listen(&a, 10);
    CHECK(ls >= 0);

    /* hclose of a TCP connection resets it: unsent data is dropped and
       the peer gets ECONNRESET, not the EPIPE of an orderly close. */
    int c = tcp_connect(&a, now() + 1000);
    CHECK(c >= 0);
    int s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(hclose(c));
    char buf[16];
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), ECONNRESET);
    CHECK_OK(hclose(s));

    /* A connect whose deadline has passed by the time the handshake is
       looked at still succeeds on loopback. */
    c = tcp_connect(&a, now() - 1);
    CHECK(c >= 0);
    s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s >= 0);

    /* Deadline 0: data sent by a coroutine that was ready to run counts. */
    int h = go(late_send(c));
    CHECK(h >= 0);
    CHECK_OK(brecv(s, buf, 3, 0));
    CHECK(memcmp(buf, "abc", 3) == 0);
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(c));
    CHECK_OK(hclose(s));
    /* The same for accept. */
    h = go(late_connect(a));
    CHECK(h >= 0);
    s = tcp_accept(ls, NULL, 0);
    CHECK(s >= 0);
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(s));
    CHECK_OK(hclose(ls));

    /* ipaddr_local: a literal of a family the mode excludes is ENODEV. */
    CHECK_ERR(ipaddr_local(&a, "127.0.0.1", 80, IPADDR_IPV6), ENODEV);
    CHECK_ERR(ipaddr_local(&a, "::1", 80, IPADDR_IPV4), ENODEV);
    /* A failed call leaves a zeroed address behind. */
    memset(&a, 0x5a, sizeof(a));
    CHECK_ERR(ipaddr_local(&a, "no-such-interface", 80, 0), ENODEV);
    struct ipaddr zero;
    memset(&zero, 0, sizeof(zero));
    CHECK(memcmp(&a, &zero, sizeof(a)) == 0);

    /* Anything but AF_INET reads as IPv6; sockets need a real family. */
    CHECK(ipaddr_family(&zero) == 0);
    CHECK(ipaddr_len(&zero) == 28);
    char str[IPADDR_MAXSTRLEN];
    CHECK(strcmp(ipaddr_str(&zero, str), "::") == 0);
    CHECK_ERR(tcp_listen(&zero, 10), EAFNOSUPPORT);
    CHECK_ERR(tcp_connect(&zero, now() + 100), EAFNOSUPPORT);
    CHECK_ERR(udp_open(&zero, NULL), EAFNOSUPPORT);

    /* Text as inet_ntop writes it. */
    CHECK_OK(ipaddr_local(&a, "::1.2.3.4", 1, IPADDR_IPV6));
    CHECK(strcmp(ipaddr_str(&a, str), "::1.2.3.4") == 0);
    CHECK_OK(ipaddr_local(&a, "::ffff:10.0.0.1", 1, IPADDR_IPV6));
    CHECK(strcmp(ipaddr_str(&a, str), "::ffff:10.0.0.1") == 0);
    return 0;
}
