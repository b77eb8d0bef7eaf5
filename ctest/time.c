/* now(), msleep() and yield(). */
#include <libdill.h>
#include <time.h>

#include "check.h"

/* Sleep without involving libdill at all. */
static void os_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while(nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Order in which the sleepers woke up. */
static int wake_order[3];
static int nwoken = 0;

coroutine void sleeper(int id, int64_t deadline) {
    CHECK_OK(msleep(deadline));
    /* The deadline must really have passed by the time we wake. */
    CHECK(now() >= deadline - 5);
    wake_order[nwoken++] = id;
}

/* Record of which coroutine ran when, to observe interleaving. */
static char trace[64];
static int ntrace = 0;

coroutine void yielder(char tag, int rounds) {
    for(int i = 0; i != rounds; ++i) {
        trace[ntrace++] = tag;
        CHECK_OK(yield());
    }
}

static int forever_done = 0;

coroutine void sleep_forever(void) {
    /* -1 is an infinite deadline; only cancellation may end this. */
    CHECK_ERR(msleep(-1), ECANCELED);
    forever_done = 1;
}

int main(void) {
    WATCHDOG(30);

    /* now() never returns the special values 0 and -1 and never goes
       backwards. */
    int64_t prev = now();
    CHECK(prev > 0);
    for(int i = 0; i != 100000; ++i) {
        int64_t t = now();
        CHECK(t >= prev);
        prev = t;
    }

    /* now() is in milliseconds: it follows real time slept outside of
       libdill. */
    int64_t t0 = now();
    os_sleep_ms(100);
    CHECK_TOOK(t0, 100);

    /* msleep with a future deadline blocks until it passes. */
    t0 = now();
    CHECK_OK(msleep(now() + 100));
    CHECK_TOOK(t0, 100);

    /* Deadline 0 and deadlines in the past return at once, successfully. */
    t0 = now();
    CHECK_OK(msleep(0));
    CHECK_OK(msleep(now() - 1000));
    CHECK_OK(msleep(1));
    CHECK_QUICK(t0);

    /* Several sleeping coroutines wake in deadline order, regardless of
       the order in which they went to sleep. */
    int64_t base = now();
    int b = bundle();
    CHECK(b >= 0);
    int64_t d1 = base + 90, d2 = base + 30, d3 = base + 60;
    CHECK_OK(bundle_go(b, sleeper(1, d1)));
    CHECK_OK(bundle_go(b, sleeper(2, d2)));
    CHECK_OK(bundle_go(b, sleeper(3, d3)));
    CHECK_OK(bundle_wait(b, now() + 5000));
    CHECK(nwoken == 3);
    CHECK(wake_order[0] == 2 && wake_order[1] == 3 && wake_order[2] == 1);
    CHECK_TOOK(base, 90);
    CHECK_OK(hclose(b));

    /* yield() with nothing else to run returns immediately. */
    t0 = now();
    for(int i = 0; i != 1000; ++i)
        CHECK_OK(yield());
    CHECK_QUICK(t0);

    /* yield() lets the other coroutines run: two yielding loops must be
       interleaved rather than run back to back. */
    b = bundle();
    CHECK(b >= 0);
    CHECK_OK(bundle_go(b, yielder('a', 5)));
    CHECK_OK(bundle_go(b, yielder('b', 5)));
    CHECK_OK(bundle_wait(b, now() + 5000));
    CHECK(ntrace == 10);
    trace[ntrace] = 0;
    CHECK(strcmp(trace, "aaaaabbbbb") != 0);
    CHECK(strcmp(trace, "bbbbbaaaaa") != 0);
    /* Each coroutine's own steps still happen; the first 'b' appears before
       the last 'a'. */
    CHECK(strchr(trace, 'b') < strrchr(trace, 'a'));
    CHECK_OK(hclose(b));

    /* The main coroutine's yield() also gives a blocked-then-ready coroutine
       the chance to finish. */
    ntrace = 0;
    int h = go(yielder('c', 3));
    CHECK(h >= 0);
    for(int i = 0; i != 10; ++i)
        CHECK_OK(yield());
    CHECK(ntrace == 3);
    CHECK_OK(hclose(h));

    /* msleep(-1) sleeps until cancelled. */
    h = go(sleep_forever());
    CHECK(h >= 0);
    CHECK_OK(msleep(now() + 50));
    CHECK(!forever_done);
    t0 = now();
    CHECK_OK(hclose(h));
    CHECK(forever_done);
    CHECK_QUICK(t0);

    return 0;
}
