/* 2.14 UDP: open (and open_mem in unaligned storage), send/recv and their
   list forms, and a socket with a remote address receiving that
   address's datagrams only (through udp_recv and mrecv alike); one
   receiver at a time (EBUSY). */
#include <libdill.h>

#include "../check.h"

static coroutine void receive_one(int s, int *got) {
    char b[8];
    *got = (int)udp_recv(s, NULL, b, sizeof(b), now() + 5000);
}

static int open_on(struct ipaddr *local, const struct ipaddr *remote) {
    CHECK_OK(ipaddr_local(local, "127.0.0.1", 0, IPADDR_IPV4));
    int s = udp_open(local, remote);
    CHECK(s >= 0);
    CHECK(ipaddr_port(local) != 0);
    return s;
}

int main(void) {
    struct ipaddr a1, a2, a3, from;
    int s1 = open_on(&a1, NULL);
    int s2 = open_on(&a2, &a1);
    int s3 = open_on(&a3, NULL);

    /* Datagrams both ways; the sender's address comes with each. */
    char buf[16];
    CHECK_OK(udp_send(s2, NULL, "hello", 5));
    CHECK(udp_recv(s1, &from, buf, sizeof(buf), -1) == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK(ipaddr_equal(&from, &a2, 0));
    struct iolist i2 = {buf + 2, 3, NULL, 0};
    struct iolist i1 = {buf, 2, &i2, 0};
    CHECK_OK(udp_sendl(s1, &a2, &i1, &i2));
    CHECK(udp_recvl(s2, &from, &i1, &i2, -1) == 5);
    CHECK(ipaddr_equal(&from, &a1, 0));

    /* s2 has remote a1: what s3 sends it is dropped, a1's gets through. */
    CHECK_OK(udp_send(s3, &a2, "other", 5));
    CHECK_OK(udp_send(s1, &a2, "right", 5));
    CHECK(udp_recv(s2, &from, buf, sizeof(buf), -1) == 5);
    CHECK(memcmp(buf, "right", 5) == 0);
    CHECK_OK(udp_send(s3, &a2, "other", 5));
    CHECK_ERR(udp_recv(s2, NULL, buf, sizeof(buf), now() + 50), ETIMEDOUT);
    CHECK_OK(udp_send(s3, &a2, "other", 5));
    CHECK_OK(udp_send(s1, &a2, "again", 5));
    CHECK(mrecv(s2, buf, sizeof(buf), -1) == 5);
    CHECK(memcmp(buf, "again", 5) == 0);
    CHECK_OK(udp_send(s3, &a2, "other", 5));
    CHECK_ERR(mrecv(s2, buf, sizeof(buf), now() + 50), ETIMEDOUT);
    /* A socket without a remote takes anyone's. */
    CHECK_OK(udp_send(s3, &a1, "third", 5));
    CHECK(mrecv(s1, buf, sizeof(buf), -1) == 5);
    CHECK_OK(msend(s2, "msend", 5, -1));
    CHECK(udp_recv(s1, &from, buf, sizeof(buf), -1) == 5);
    CHECK(memcmp(buf, "msend", 5) == 0);

    /* Caller storage, unaligned; errors. */
    static char mem[sizeof(struct udp_storage) + 1];
    struct ipaddr a4;
    CHECK_OK(ipaddr_local(&a4, "127.0.0.1", 0, IPADDR_IPV4));
    CHECK_ERR(udp_open_mem(&a4, NULL, NULL), EINVAL);
    int s4 = udp_open_mem(&a4, &a1, (struct udp_storage*)(mem + 1));
    CHECK(s4 >= 0);
    CHECK_OK(udp_send(s4, NULL, "mem", 3));
    CHECK(udp_recv(s1, &from, buf, sizeof(buf), -1) == 3);
    CHECK(ipaddr_equal(&from, &a4, 0));
    CHECK_ERR(udp_send(s1, NULL, "x", 1), EINVAL);
    CHECK_ERR(udp_recv(-1, NULL, buf, 1, 0), EBADF);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(udp_recv(ch[0], NULL, buf, 1, 0), ENOTSUP);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    CHECK_OK(hclose(s4));

    /* One receiver at a time: a second gets EBUSY at once. Sending is not
       refused meanwhile (2.14's udp_send documents no EBUSY). */
    int got = -2;
    int cr = go(receive_one(s3, &got));
    CHECK(cr >= 0);
    CHECK_OK(yield());
    int64_t t0 = now();
    CHECK_ERR(udp_recv(s3, NULL, buf, sizeof(buf), now() + 1000), EBUSY);
    CHECK(now() - t0 < 500);
    CHECK_OK(udp_send(s3, &a3, "busy", 4));
    CHECK_OK(bundle_wait(cr, now() + 5000));
    CHECK(got == 4);
    CHECK_OK(hclose(cr));
    CHECK_OK(hclose(s3));
    CHECK_OK(hclose(s2));
    CHECK_OK(hclose(s1));
    return 0;
}
