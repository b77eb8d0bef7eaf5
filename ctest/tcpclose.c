/* tcp_close is an orderly close: every byte it accepted reaches the peer,
   even when the peer half-closed first and reads slowly, so that our
   data is still in the kernel's send buffer when the handshake ends.
   (hclose resets, as the original; see tcp.c.) */
#include <libdill.h>
#include "sockutil.h"

#define TOTAL (4 * 1024 * 1024)

static coroutine void slow_reader(int s, int *got) {
    /* Our FIN goes first: the sender's tcp_close sees it at once. */
    CHECK_OK(hdone(s, -1));
    struct stream st;
    stream_init(&st, 7);
    static uint8_t buf[16384];
    size_t n = 0;
    while(n < TOTAL) {
        size_t k = TOTAL - n < sizeof(buf) ? TOTAL - n : sizeof(buf);
        int rc = brecv(s, buf, k, now() + 10000);
        if(rc != 0) {
            fprintf(stderr, "reader: brecv failed at %zu of %d bytes [%s]\n",
                n, TOTAL, strerror(errno));
            abort();
        }
        stream_expect(&st, buf, k);
        n += k;
        if(n % (256 * 1024) == 0) CHECK_OK(msleep(now() + 5));
    }
    CHECK_ERR(brecv(s, buf, 1, now() + 10000), EPIPE);
    *got = (int)n;
    CHECK_OK(hclose(s));
}

int main(void) {
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, 0));
    int l = tcp_listen(&a, 10);
    CHECK(l >= 0);
    int c = tcp_connect(&a, -1);
    CHECK(c >= 0);
    int s = tcp_accept(l, NULL, -1);
    CHECK(s >= 0);
    int got = 0;
    int r = go(slow_reader(s, &got));
    CHECK(r >= 0);
    struct stream st;
    stream_init(&st, 7);
    static uint8_t buf[65536];
    for(size_t n = 0; n < TOTAL; n += sizeof(buf)) {
        stream_fill(&st, buf, sizeof(buf));
        CHECK_OK(bsend(c, buf, sizeof(buf), now() + 10000));
    }
    CHECK_OK(tcp_close(c, now() + 10000));
    CHECK_OK(bundle_wait(r, now() + 20000));
    CHECK(got == TOTAL);
    CHECK_OK(hclose(r));
    CHECK_OK(hclose(l));
    return 0;
}
