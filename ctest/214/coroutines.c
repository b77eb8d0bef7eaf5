/* 2.14 coroutines: go, go_mem, bundle, bundle_mem, bundle_go(_mem),
   bundle_wait, yield, and cancellation by hclose. */
#include <libdill.h>

#include "../check.h"

static int counter;

static coroutine void add(int n) {
    counter += n;
}

static coroutine void forever(int *canceled) {
    int rc = msleep(-1);
    if(rc == -1 && errno == ECANCELED) *canceled += 1;
}

static coroutine void steps(int n, int *trace, int *pos, int id) {
    int i;
    for(i = 0; i != n; ++i) {
        trace[(*pos)++] = id;
        CHECK_OK(yield());
    }
}

static coroutine void sleeper(int ms) {
    msleep(now() + ms);
}

int main(void) {
    /* go returns a handle; closing it waits for nothing (the coroutine
       already ran to its end). */
    int h = go(add(1));
    CHECK(h >= 0);
    CHECK(counter == 1);
    CHECK_OK(hclose(h));

    /* Closing a blocked coroutine cancels it. */
    int canceled = 0;
    h = go(forever(&canceled));
    CHECK(h >= 0);
    CHECK_OK(yield());
    CHECK_OK(hclose(h));
    CHECK(canceled == 1);

    /* go_mem: the memory holds the bundle (a bundle_storage) and the
       stack; the storage needs no alignment. */
    static char mem[sizeof(struct bundle_storage) + 65536 + 1];
    h = go_mem(add(10), mem + 1, sizeof(mem) - 1);
    CHECK(h >= 0);
    CHECK(counter == 11);
    CHECK_OK(hclose(h));

    /* bundle: coroutines interleave at yield; bundle_wait waits for all. */
    int b = bundle();
    CHECK(b >= 0);
    int trace[6], pos = 0;
    CHECK_OK(bundle_go(b, steps(3, trace, &pos, 1)));
    CHECK_OK(bundle_go(b, steps(3, trace, &pos, 2)));
    CHECK_OK(bundle_wait(b, -1));
    CHECK(pos == 6);
    CHECK(trace[0] == 1 && trace[1] == 2 && trace[2] == 1 && trace[3] == 2);
    CHECK_OK(hclose(b));

    /* bundle_mem in unaligned storage, bundle_go_mem, and a bundle_wait
       that times out. */
    static char bmem[sizeof(struct bundle_storage) + 1];
    b = bundle_mem((struct bundle_storage*)(bmem + 1));
    CHECK(b >= 0);
    static char stk[65536];
    CHECK_OK(bundle_go_mem(b, sleeper(200), stk, sizeof(stk)));
    int64_t start = now();
    CHECK_ERR(bundle_wait(b, now() + 50), ETIMEDOUT);
    CHECK_TOOK(start, 50);
    CHECK_OK(bundle_wait(b, -1));
    CHECK_OK(hclose(b));

    /* Bad arguments. */
    CHECK_ERR(bundle_mem(NULL), EINVAL);
    CHECK_ERR(bundle_wait(-1, -1), EBADF);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(bundle_wait(ch[0], -1), ENOTSUP);
    CHECK_ERR(bundle_go(ch[0], add(1)), ENOTSUP);
    CHECK_ERR(bundle_go(12345, add(1)), EBADF);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));

    /* A closed bundle cancels what still runs in it. */
    canceled = 0;
    b = bundle();
    CHECK(b >= 0);
    CHECK_OK(bundle_go(b, forever(&canceled)));
    CHECK_OK(bundle_go(b, forever(&canceled)));
    CHECK_OK(hclose(b));
    CHECK(canceled == 2);
    return 0;
}
