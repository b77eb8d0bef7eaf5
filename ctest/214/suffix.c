/* 2.14 SUFFIX over an IPC pair: messages ended by a byte sequence, the
   empty message, lists, a message too long for the buffer, detach giving
   the stream back exactly after the last suffix, caller storage, errors. */
#include <libdill.h>

#include "../check.h"

int main(void) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    int a = suffix_attach(p[0], "\r\n", 2);
    CHECK(a >= 0);
    static char mem[sizeof(struct suffix_storage) + 1];
    int b = suffix_attach_mem(p[1], "\r\n", 2, (struct suffix_storage*)(mem + 1));
    CHECK(b >= 0);
    char buf[16];
    CHECK_OK(msend(a, "hello", 5, -1));
    CHECK_OK(msend(a, "", 0, -1));
    CHECK_OK(msend(a, "x\ry", 3, -1));
    CHECK(mrecv(b, buf, sizeof(buf), -1) == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK(mrecv(b, buf, sizeof(buf), -1) == 0);
    CHECK(mrecv(b, buf, sizeof(buf), -1) == 3);
    CHECK(memcmp(buf, "x\ry", 3) == 0);
    /* What goes below is the message and the suffix, nothing else. */
    struct iolist i2 = {"def", 3, NULL, 0};
    struct iolist i1 = {"abc", 3, &i2, 0};
    CHECK_OK(msendl(b, &i1, &i2, -1));
    char r1[2], r2[4];
    struct iolist o2 = {r2, sizeof(r2), NULL, 0};
    struct iolist skip = {NULL, 1, &o2, 0};
    struct iolist o1 = {r1, sizeof(r1), &skip, 0};
    CHECK(mrecvl(a, &o1, &o2, -1) == 6);
    CHECK(memcmp(r1, "ab", 2) == 0 && memcmp(r2, "def", 3) == 0);

    /* Detach: the stream resumes right after the last suffix. */
    CHECK_OK(msend(a, "last", 4, -1));
    int ua = suffix_detach(a, -1);
    CHECK(ua >= 0);
    CHECK_OK(bsend(ua, "tail", 4, -1));
    CHECK(mrecv(b, buf, sizeof(buf), -1) == 4);
    int ub = suffix_detach(b, -1);
    CHECK(ub >= 0);
    CHECK_OK(brecv(ub, buf, 4, -1));
    CHECK(memcmp(buf, "tail", 4) == 0);

    /* Too long for the buffer: EMSGSIZE, then the receiving side is broken. */
    a = suffix_attach(ua, "|", 1);
    b = suffix_attach(ub, "|", 1);
    CHECK(a >= 0 && b >= 0);
    CHECK_OK(msend(a, "0123456789", 10, -1));
    CHECK_ERR(mrecv(b, buf, 4, -1), EMSGSIZE);
    CHECK_ERR(mrecv(b, buf, sizeof(buf), -1), ECONNRESET);
    CHECK_ERR(suffix_detach(b, -1), ECONNRESET);
    /* The peer's end of stream ends receiving. */
    CHECK_OK(hclose(a));

    /* Errors: a failed attach closes the socket, as the original. */
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(suffix_attach(p[0], NULL, 1), EINVAL);
    CHECK_ERR(hclose(p[0]), EBADF);
    char big[33] = {0};
    CHECK_ERR(suffix_attach(p[1], big, sizeof(big)), EINVAL);
    CHECK_ERR(hclose(p[1]), EBADF);
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(suffix_attach(p[0], "|", 0), EINVAL);
    CHECK_ERR(suffix_attach_mem(p[1], "|", 1, NULL), EINVAL);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(suffix_attach(ch[0], "|", 1), EPROTO);
    CHECK_ERR(suffix_detach(ch[1], -1), ENOTSUP);
    CHECK_ERR(suffix_detach(-1, -1), EBADF);
    CHECK_OK(hclose(ch[1]));

    /* term over suffix, as 2.14 stacks them. */
    CHECK_OK(ipc_pair(p));
    a = term_attach(suffix_attach(p[0], "\n", 1), "END", 3);
    b = term_attach(suffix_attach(p[1], "\n", 1), "END", 3);
    CHECK(a >= 0 && b >= 0);
    CHECK_OK(msend(a, "one", 3, -1));
    CHECK(mrecv(b, buf, sizeof(buf), -1) == 3);
    CHECK_OK(term_done(a, -1));
    CHECK_ERR(mrecv(b, buf, sizeof(buf), -1), EPIPE);
    int sb = term_detach(b, -1);
    CHECK(sb >= 0);
    int sa = term_detach(a, -1);
    CHECK(sa >= 0);
    CHECK(suffix_detach(sa, -1) >= 0);
    CHECK(suffix_detach(sb, -1) >= 0);
    return 0;
}
