/* 2.14 PREFIX over an IPC pair: headers of 1 to 8 bytes in either byte
   order (checked on the wire), the empty message, lists, a message too
   large for the buffer or for the header, detach with no handshake,
   caller storage, errors. */
#include <libdill.h>

#include "../check.h"

int main(void) {
    int p[2];
    char buf[300];
    /* Big-endian 2-byte headers, as they go on the wire. */
    CHECK_OK(ipc_pair(p));
    int a = prefix_attach(p[0], 2, PREFIX_BIG_ENDIAN);
    CHECK(a >= 0);
    CHECK_OK(msend(a, "hello", 5, -1));
    CHECK_OK(brecv(p[1], buf, 7, -1));
    CHECK(buf[0] == 0 && buf[1] == 5 && memcmp(buf + 2, "hello", 5) == 0);
    /* Little-endian 3-byte headers. */
    int ua = prefix_detach(a);
    CHECK(ua >= 0);
    a = prefix_attach(ua, 3, PREFIX_LITTLE_ENDIAN);
    CHECK(a >= 0);
    static char big[258];
    CHECK_OK(msend(a, big, sizeof(big), -1));
    CHECK_OK(brecv(p[1], buf, 3, -1));
    CHECK(buf[0] == 2 && buf[1] == 1 && buf[2] == 0);
    CHECK_OK(brecv(p[1], buf, sizeof(big), -1));

    /* Both ends with the same framing; caller storage, unaligned. */
    static char mem[sizeof(struct prefix_storage) + 1];
    int b = prefix_attach_mem(p[1], 3, PREFIX_LITTLE_ENDIAN, (struct prefix_storage*)(mem + 1));
    CHECK(b >= 0);
    CHECK_OK(msend(a, "abcdef", 6, -1));
    CHECK_OK(msend(a, "", 0, -1));
    CHECK(mrecv(b, buf, sizeof(buf), -1) == 6);
    CHECK(memcmp(buf, "abcdef", 6) == 0);
    CHECK(mrecv(b, buf, sizeof(buf), -1) == 0);
    char r1[2], r2[8];
    struct iolist o2 = {r2, sizeof(r2), NULL, 0};
    struct iolist skip = {NULL, 1, &o2, 0};
    struct iolist o1 = {r1, sizeof(r1), &skip, 0};
    CHECK_OK(msend(b, "xyz123", 6, -1));
    CHECK(mrecvl(a, &o1, &o2, -1) == 6);
    CHECK(memcmp(r1, "xy", 2) == 0 && memcmp(r2, "123", 3) == 0);
    /* Dropped with a NULL list. */
    CHECK_OK(msend(b, "gone", 4, -1));
    CHECK_OK(msend(b, "kept", 4, -1));
    CHECK(mrecvl(a, NULL, NULL, -1) == 4);
    CHECK(mrecv(a, buf, sizeof(buf), -1) == 4);
    CHECK(memcmp(buf, "kept", 4) == 0);

    /* Detach: no handshake, the stream goes on right after a message. */
    CHECK_OK(msend(a, "m", 1, -1));
    ua = prefix_detach(a);
    CHECK(ua >= 0);
    CHECK_OK(bsend(ua, "raw", 3, -1));
    CHECK(mrecv(b, buf, sizeof(buf), -1) == 1);
    int ub = prefix_detach(b);
    CHECK(ub >= 0);
    CHECK_OK(brecv(ub, buf, 3, -1));
    CHECK(memcmp(buf, "raw", 3) == 0);

    /* Too large: for the buffer (the receiving side breaks), or for a
       1-byte header (nothing is sent). */
    a = prefix_attach(ua, 1, PREFIX_BIG_ENDIAN);
    b = prefix_attach(ub, 1, PREFIX_BIG_ENDIAN);
    CHECK_ERR(msend(a, big, 256, -1), EMSGSIZE);
    CHECK_OK(msend(a, big, 255, -1));
    CHECK_ERR(mrecv(b, buf, 10, -1), EMSGSIZE);
    CHECK_ERR(mrecv(b, buf, sizeof(buf), -1), ECONNRESET);
    CHECK_ERR(prefix_detach(b), ECONNRESET);
    CHECK_OK(hclose(a));

    /* Errors: a failed attach closes the socket, as the original. */
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(prefix_attach(p[0], 0, 0), EINVAL);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_ERR(prefix_attach(p[1], 9, 0), EINVAL);
    CHECK_ERR(hclose(p[1]), EBADF);
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(prefix_attach_mem(p[0], 2, 0, NULL), EINVAL);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(p[1]));
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(prefix_attach(ch[0], 2, 0), EPROTO);
    CHECK_ERR(prefix_detach(ch[1]), ENOTSUP);
    CHECK_ERR(prefix_detach(-1), EBADF);
    CHECK_OK(hclose(ch[1]));
    return 0;
}
