/* Handle numbers come out in the original's order, which programs end up
   relying on: lowest closed number first, and a connection ended by
   tcp_close/ipc_close is not reused until the original would have grown its
   table (it never reuses them; we do, later, so the table stays bounded). */
#include <libdill.h>

#include "check.h"

int main(void) {
    WATCHDOG(20);
    int p[2];
    CHECK_OK(ipc_pair(p));
    CHECK(p[0] == 0 && p[1] == 1);
    /* An orderly close: our FIN, the peer's FIN already there. */
    CHECK_OK(hdone(p[0], -1));
    CHECK_OK(ipc_close(p[1], -1));
    CHECK_ERR(hclose(p[1]), EBADF);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK(ch[0] == 2 && ch[1] == 3);
    /* A plain hclose frees its number for the very next handle. */
    CHECK_OK(hclose(p[0]));
    int h = hdup(ch[0]);
    CHECK(h == 0);
    /* Fresh numbers up to 255 come before the retired 1... */
    for(int i = 4; i != 256; ++i)
        CHECK(hdup(ch[0]) == i);
    /* ...then it is reused instead of growing past the original's table. */
    CHECK(hdup(ch[0]) == 1);
    CHECK(hdup(ch[0]) == 256);
    /* The same for TCP, through tcp_close of an accepted connection. */
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, 0));
    int ls = tcp_listen(&a, 10);
    CHECK(ls == 257);
    int c = tcp_connect(&a, now() + 1000);
    CHECK(c == 258);
    int s = tcp_accept(ls, NULL, now() + 1000);
    CHECK(s == 259);
    CHECK_OK(hdone(c, -1));
    CHECK_OK(tcp_close(s, now() + 1000));
    CHECK(hdup(ch[0]) == 260);
    CHECK_OK(tcp_close(ls, -1));
    /* A listener's number is freed at once, as by hclose. */
    CHECK(hdup(ch[0]) == 257);
    return 0;
}
