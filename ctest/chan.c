/* chmake(), chmake_mem(), chsend(), chrecv() and hdone() on channels. */
#include <libdillimpl.h>

#include "check.h"

struct big {
    char bytes[1000];
    int tail;
};

coroutine void send_int(int ch, int val) {
    CHECK_OK(chsend(ch, &val, sizeof(val), -1));
}

coroutine void send_int_late(int ch, int val, int ms) {
    CHECK_OK(msleep(now() + ms));
    CHECK_OK(chsend(ch, &val, sizeof(val), -1));
}

coroutine void recv_expect(int ch, int expected) {
    int val = -1;
    CHECK_OK(chrecv(ch, &val, sizeof(val), -1));
    CHECK(val == expected);
}

coroutine void send_big(int ch) {
    struct big b;
    for(int i = 0; i != (int)sizeof(b.bytes); ++i) b.bytes[i] = (char)i;
    b.tail = 0x5a5a;
    CHECK_OK(chsend(ch, &b, sizeof(b), -1));
}

coroutine void send_empty(int ch) {
    CHECK_OK(chsend(ch, NULL, 0, -1));
}

/* Send with a tracked completion so we can see when it unblocks. */
static int sent_flag = 0;

coroutine void send_flag(int ch, int val) {
    CHECK_OK(chsend(ch, &val, sizeof(val), -1));
    sent_flag = 1;
}

/* Peers that expect a particular failure. */
static int nfailed = 0;

coroutine void send_fail(int ch, size_t len, int err) {
    char buf[16] = {0};
    CHECK_ERR(chsend(ch, buf, len, -1), err);
    nfailed++;
}

coroutine void recv_fail(int ch, size_t len, int err) {
    char buf[16];
    CHECK_ERR(chrecv(ch, buf, len, -1), err);
    nfailed++;
}

static int order[4];
static int norder = 0;

coroutine void recv_record(int ch) {
    int val;
    CHECK_OK(chrecv(ch, &val, sizeof(val), -1));
    order[norder++] = val;
}

static char chmem[CHSIZE] __attribute__((aligned(16)));

int main(void) {
    WATCHDOG(30);
    int val;

    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK(ch[0] >= 0 && ch[1] >= 0 && ch[0] != ch[1]);

    /* Receiver arrives first: it blocks until the sender shows up. */
    int h = go(send_int_late(ch[0], 1234, 20));
    CHECK(h >= 0);
    int64_t t0 = now();
    val = 0;
    CHECK_OK(chrecv(ch[1], &val, sizeof(val), -1));
    CHECK(val == 1234);
    CHECK_TOOK(t0, 20);
    CHECK_OK(hclose(h));

    /* Sender arrives first. */
    h = go(send_int(ch[0], 5678));
    CHECK(h >= 0);
    val = 0;
    CHECK_OK(chrecv(ch[1], &val, sizeof(val), 0)); /* sender is waiting */
    CHECK(val == 5678);
    CHECK_OK(hclose(h));

    /* The channel is bidirectional. */
    h = go(send_int(ch[1], 99));
    CHECK(h >= 0);
    CHECK_OK(chrecv(ch[0], &val, sizeof(val), -1));
    CHECK(val == 99);
    CHECK_OK(hclose(h));
    h = go(recv_expect(ch[1], 77));
    CHECK(h >= 0);
    val = 77;
    CHECK_OK(chsend(ch[0], &val, sizeof(val), -1));
    CHECK_OK(hclose(h));

    /* A message sent on one end is received on the other end only: a
       receiver on the sending end does not see it. */
    h = go(send_int(ch[0], 11));
    CHECK(h >= 0);
    CHECK_ERR(chrecv(ch[0], &val, sizeof(val), 0), ETIMEDOUT);
    CHECK_OK(chrecv(ch[1], &val, sizeof(val), 0));
    CHECK(val == 11);
    CHECK_OK(hclose(h));

    /* No buffering: chsend blocks until someone receives. */
    sent_flag = 0;
    h = go(send_flag(ch[0], 3));
    CHECK(h >= 0);
    CHECK_OK(msleep(now() + 30));
    CHECK(!sent_flag);
    CHECK_OK(chrecv(ch[1], &val, sizeof(val), -1));
    CHECK(val == 3);
    CHECK_OK(bundle_wait(h, now() + 1000));
    CHECK(sent_flag);
    CHECK_OK(hclose(h));

    /* Large and empty messages. */
    h = go(send_big(ch[0]));
    CHECK(h >= 0);
    struct big bg;
    memset(&bg, 0, sizeof(bg));
    CHECK_OK(chrecv(ch[1], &bg, sizeof(bg), -1));
    for(int i = 0; i != (int)sizeof(bg.bytes); ++i)
        CHECK(bg.bytes[i] == (char)i);
    CHECK(bg.tail == 0x5a5a);
    CHECK_OK(hclose(h));
    h = go(send_empty(ch[0]));
    CHECK(h >= 0);
    CHECK_OK(chrecv(ch[1], NULL, 0, -1));
    CHECK_OK(hclose(h));

    /* Deadlines: 0 means "only if possible right now". */
    t0 = now();
    val = 1;
    CHECK_ERR(chsend(ch[0], &val, sizeof(val), 0), ETIMEDOUT);
    CHECK_ERR(chrecv(ch[0], &val, sizeof(val), 0), ETIMEDOUT);
    CHECK_QUICK(t0);
    t0 = now();
    CHECK_ERR(chsend(ch[0], &val, sizeof(val), now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);
    t0 = now();
    CHECK_ERR(chrecv(ch[1], &val, sizeof(val), now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);
    /* A timed-out operation leaves nothing behind. */
    CHECK_ERR(chrecv(ch[1], &val, sizeof(val), 0), ETIMEDOUT);
    CHECK_ERR(chsend(ch[1], &val, sizeof(val), 0), ETIMEDOUT);

    /* Blocked senders are served in the order they arrived; same for
       blocked receivers. */
    int hs[3];
    for(int i = 0; i != 3; ++i) {
        hs[i] = go(send_int(ch[0], 100 + i));
        CHECK(hs[i] >= 0);
    }
    for(int i = 0; i != 3; ++i) {
        CHECK_OK(chrecv(ch[1], &val, sizeof(val), -1));
        CHECK(val == 100 + i);
    }
    for(int i = 0; i != 3; ++i) CHECK_OK(hclose(hs[i]));
    for(int i = 0; i != 3; ++i) {
        hs[i] = go(recv_record(ch[1]));
        CHECK(hs[i] >= 0);
    }
    CHECK_OK(msleep(now() + 10));
    for(int i = 0; i != 3; ++i) {
        val = 200 + i;
        CHECK_OK(chsend(ch[0], &val, sizeof(val), -1));
    }
    CHECK_OK(msleep(now() + 10));
    CHECK(norder == 3);
    for(int i = 0; i != 3; ++i) CHECK(order[i] == 200 + i);
    for(int i = 0; i != 3; ++i) CHECK_OK(hclose(hs[i]));

    /* Size mismatch: both peers fail with EMSGSIZE, whichever waits. */
    nfailed = 0;
    h = go(recv_fail(ch[1], 8, EMSGSIZE));
    CHECK(h >= 0);
    val = 1;
    CHECK_ERR(chsend(ch[0], &val, 4, -1), EMSGSIZE);
    CHECK_OK(hclose(h));
    CHECK(nfailed == 1);
    h = go(send_fail(ch[0], 2, EMSGSIZE));
    CHECK(h >= 0);
    CHECK_ERR(chrecv(ch[1], &val, 4, -1), EMSGSIZE);
    CHECK_OK(hclose(h));
    CHECK(nfailed == 2);
    /* The channel is still fine afterwards. */
    h = go(send_int(ch[0], 8));
    CHECK(h >= 0);
    CHECK_OK(chrecv(ch[1], &val, sizeof(val), -1));
    CHECK(val == 8);
    CHECK_OK(hclose(h));

    /* Bad handles. */
    CHECK_ERR(chsend(-1, &val, sizeof(val), 0), EBADF);
    CHECK_ERR(chrecv(-1, &val, sizeof(val), 0), EBADF);
    CHECK_ERR(chsend(77777, &val, sizeof(val), -1), EBADF);
    CHECK_ERR(chrecv(77777, &val, sizeof(val), -1), EBADF);
    /* Wrong handle type. */
    int b = bundle();
    CHECK(b >= 0);
    CHECK_ERR(chsend(b, &val, sizeof(val), -1), ENOTSUP);
    CHECK_ERR(chrecv(b, &val, sizeof(val), -1), ENOTSUP);
    CHECK_OK(hclose(b));
    CHECK_ERR(chsend(b, &val, sizeof(val), -1), EBADF);
    CHECK_ERR(chrecv(b, &val, sizeof(val), -1), EBADF);

    /* A dup of a channel end is the same end. */
    int d = hdup(ch[0]);
    CHECK(d >= 0);
    h = go(send_int(d, 55));
    CHECK(h >= 0);
    CHECK_OK(chrecv(ch[1], &val, sizeof(val), -1));
    CHECK(val == 55);
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(d));
    h = go(send_int(ch[0], 56)); /* the original still works */
    CHECK(h >= 0);
    CHECK_OK(chrecv(ch[1], &val, sizeof(val), -1));
    CHECK(val == 56);
    CHECK_OK(hclose(h));

    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    CHECK_ERR(chsend(ch[0], &val, sizeof(val), 0), EBADF);
    CHECK_ERR(chrecv(ch[1], &val, sizeof(val), 0), EBADF);

    /* hdone: the end it is called on can no longer send, and the other end
       can no longer receive. Both fail with EPIPE, repeatedly. */
    CHECK_OK(chmake(ch));
    CHECK_OK(hdone(ch[0], -1));
    val = 1;
    for(int i = 0; i != 3; ++i) {
        CHECK_ERR(chsend(ch[0], &val, sizeof(val), -1), EPIPE);
        CHECK_ERR(chrecv(ch[1], &val, sizeof(val), -1), EPIPE);
    }
    /* Done twice on the same end. */
    CHECK_ERR(hdone(ch[0], -1), EPIPE);
    /* The opposite direction still works (half-close). */
    h = go(send_int(ch[1], 42));
    CHECK(h >= 0);
    CHECK_OK(chrecv(ch[0], &val, sizeof(val), -1));
    CHECK(val == 42);
    CHECK_OK(hclose(h));
    /* Closing that direction too. */
    CHECK_OK(hdone(ch[1], 0));
    CHECK_ERR(chsend(ch[1], &val, sizeof(val), -1), EPIPE);
    CHECK_ERR(chrecv(ch[0], &val, sizeof(val), -1), EPIPE);
    CHECK_ERR(hdone(ch[1], -1), EPIPE);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));

    /* hdone wakes up blocked receivers (other end) with EPIPE... */
    int w[2];
    for(int phase = 0; phase != 2; ++phase) {
        CHECK_OK(chmake(ch));
        nfailed = 0;
        for(int i = 0; i != 2; ++i) {
            /* ...and, in the second phase, blocked senders (same end). */
            w[i] = phase == 0 ? go(recv_fail(ch[1], 4, EPIPE)) :
                go(send_fail(ch[0], 4, EPIPE));
            CHECK(w[i] >= 0);
        }
        CHECK_OK(msleep(now() + 10));
        CHECK(nfailed == 0);
        t0 = now();
        CHECK_OK(hdone(ch[0], -1));
        for(int i = 0; i != 2; ++i)
            CHECK_OK(bundle_wait(w[i], now() + 1000));
        CHECK_QUICK(t0);
        CHECK(nfailed == 2);
        for(int i = 0; i != 2; ++i) CHECK_OK(hclose(w[i]));
        CHECK_OK(hclose(ch[0]));
        CHECK_OK(hclose(ch[1]));
    }

    /* Closing the end that coroutines are blocked on wakes them with EBADF:
       their handle is gone (the original woke them with EPIPE only once
       both ends were closed, and never if just theirs was). */
    CHECK_OK(chmake(ch));
    nfailed = 0;
    w[0] = go(recv_fail(ch[0], 4, EBADF));
    CHECK(w[0] >= 0);
    w[1] = go(send_fail(ch[0], 4, EBADF)); /* other direction: no match */
    CHECK(w[1] >= 0);
    CHECK_OK(msleep(now() + 10));
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    CHECK_OK(bundle_wait(w[0], now() + 1000));
    CHECK_OK(bundle_wait(w[1], now() + 1000));
    CHECK(nfailed == 2);
    CHECK_OK(hclose(w[0]));
    CHECK_OK(hclose(w[1]));

    /* chmake_mem: the channel lives in caller memory. */
    CHECK_OK(chmake_mem(chmem, ch));
    CHECK(ch[0] >= 0 && ch[1] >= 0 && ch[0] != ch[1]);
    h = go(send_int(ch[1], 31337));
    CHECK(h >= 0);
    CHECK_OK(chrecv(ch[0], &val, sizeof(val), -1));
    CHECK(val == 31337);
    CHECK_OK(hclose(h));
    CHECK_ERR(chrecv(ch[0], &val, sizeof(val), now() + 20), ETIMEDOUT);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    /* ...and the memory can be reused for a new channel. */
    CHECK_OK(chmake_mem(chmem, ch));
    CHECK_OK(hdone(ch[1], -1));
    CHECK_ERR(chrecv(ch[0], &val, sizeof(val), 0), EPIPE);
    CHECK_OK(hclose(ch[1]));
    CHECK_OK(hclose(ch[0]));
    CHECK_ERR(chmake_mem(NULL, ch), EINVAL);

    /* Lots of channels alive at once. */
    enum {NCH = 1000};
    static int many[NCH][2];
    for(int i = 0; i != NCH; ++i) CHECK_OK(chmake(many[i]));
    for(int i = 0; i != NCH; ++i) {
        CHECK_OK(hclose(many[i][1]));
        CHECK_OK(hclose(many[i][0]));
    }

    /* Ping-pong many values between two coroutines. */
    CHECK_OK(chmake(ch));
    h = go(recv_expect(ch[0], 0));
    CHECK(h >= 0);
    val = 0;
    CHECK_OK(chsend(ch[1], &val, sizeof(val), -1));
    CHECK_OK(hclose(h));
    for(int i = 1; i != 1000; ++i) {
        h = go(send_int(ch[0], i));
        CHECK(h >= 0);
        CHECK_OK(chrecv(ch[1], &val, sizeof(val), -1));
        CHECK(val == i);
        CHECK_OK(hclose(h));
    }
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));

    return 0;
}
