/* bundle(), bundle_mem(), bundle_go(), bundle_go_mem(), bundle_wait(). */
#include <libdill.h>
#include <stdint.h>
#include <sys/mman.h>

#include "check.h"

static int finished = 0;

coroutine void nap(int ms) {
    CHECK_OK(msleep(now() + ms));
    finished++;
}

static int cancelled = 0;

coroutine void forever(void) {
    CHECK_ERR(msleep(-1), ECANCELED);
    cancelled++;
}

coroutine void must_not_run(int *flag) {
    *flag = 1;
}

static volatile uintptr_t local_addr = 0;

coroutine void where_am_i(void) {
    volatile char marker = 0;
    local_addr = (uintptr_t)&marker;
    CHECK_OK(yield());
}

/* A coroutine owning an inner bundle: when it is cancelled, it closes the
   inner bundle, which in turn cancels the grandchildren. */
static int inner_cleanup = 0;

coroutine void owner(void) {
    int inner = bundle();
    CHECK(inner >= 0);
    CHECK_OK(bundle_go(inner, forever()));
    CHECK_OK(bundle_go(inner, forever()));
    CHECK_ERR(bundle_wait(inner, -1), ECANCELED);
    /* hclose is not a blocking call; it works while being cancelled. */
    CHECK_OK(hclose(inner));
    inner_cleanup = 1;
}

static char bmem[BUNDLE_SIZE] __attribute__((aligned(16)));
static char stk1[32 * 1024] __attribute__((aligned(16)));
static char stk2[32 * 1024] __attribute__((aligned(16)));

/* bundle_wait while another coroutine closes the bundle: the waiter must
   not touch the bundle afterwards (its memory is freed, or the caller's
   again). The original crashes here. */
static int wait_rc = 99, wait_errno = 0;

coroutine void wait_on(int b) {
    wait_rc = bundle_wait(b, -1);
    wait_errno = errno;
}

coroutine void take_one(int ch) {
    int v;
    chrecv(ch, &v, sizeof(v), -1);
}

static void test_closed_under_waiter(void) {
    /* Woken by the last member leaving: success. */
    char *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(mem != MAP_FAILED);
    int b = bundle_mem(mem);
    CHECK(b >= 0);
    CHECK_OK(bundle_go(b, forever()));
    int w = go(wait_on(b));
    CHECK(w >= 0);
    CHECK_OK(hclose(b));
    /* Any later access to the bundle's memory would fault now. */
    CHECK_OK(mprotect(mem, 4096, PROT_NONE));
    CHECK_OK(hclose(w));
    CHECK(wait_rc == 0);
    CHECK_OK(munmap(mem, 4096));
    /* Woken by one member leaving, closed before it runs: EBADF. */
    int ch[2];
    CHECK_OK(chmake(ch));
    b = bundle();
    CHECK(b >= 0);
    CHECK_OK(bundle_go(b, take_one(ch[1])));
    CHECK_OK(bundle_go(b, forever()));
    w = go(wait_on(b));
    CHECK(w >= 0);
    int v = 1;
    CHECK_OK(chsend(ch[0], &v, sizeof(v), -1));
    CHECK_OK(yield());
    CHECK_OK(hclose(b));
    CHECK_OK(hclose(w));
    CHECK(wait_rc == -1 && wait_errno == EBADF);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
}

int main(void) {
    WATCHDOG(30);

    /* An empty bundle can be waited on successfully at once, with any
       deadline. */
    int b = bundle();
    CHECK(b >= 0);
    int64_t t0 = now();
    CHECK_OK(bundle_wait(b, 0));
    CHECK_OK(bundle_wait(b, now() + 1000));
    CHECK_OK(bundle_wait(b, -1));
    CHECK_QUICK(t0);

    /* bundle_wait waits for all of the coroutines. */
    t0 = now();
    CHECK_OK(bundle_go(b, nap(10)));
    CHECK_OK(bundle_go(b, nap(60)));
    CHECK_OK(bundle_go(b, nap(30)));
    CHECK_OK(bundle_wait(b, -1));
    CHECK(finished == 3);
    CHECK_TOOK(t0, 60);
    /* Once they are done, the bundle is empty again and reusable. */
    CHECK_OK(bundle_wait(b, 0));
    CHECK_OK(bundle_go(b, nap(5)));
    CHECK_OK(bundle_wait(b, now() + 5000));
    CHECK(finished == 4);
    CHECK_OK(hclose(b));

    /* Timeouts. */
    b = bundle();
    CHECK(b >= 0);
    CHECK_OK(bundle_go(b, forever()));
    t0 = now();
    CHECK_ERR(bundle_wait(b, 0), ETIMEDOUT);
    CHECK_QUICK(t0);
    t0 = now();
    CHECK_ERR(bundle_wait(b, now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);
    CHECK(cancelled == 0);
    /* Closing the bundle cancels every coroutine in it; hclose returns
       only after all of them have finished. */
    CHECK_OK(bundle_go(b, forever()));
    CHECK_OK(bundle_go(b, forever()));
    t0 = now();
    CHECK_OK(hclose(b));
    CHECK(cancelled == 3);
    CHECK_QUICK(t0);

    /* Invalid handles. The coroutine expression must not be run then. */
    int ran = 0;
    /* (Negative numbers are avoided on purpose: upstream's go() is
       bundle_go() with -1, so a negative bundle means "make a new one".) */
    CHECK_ERR(bundle_go(99999, must_not_run(&ran)), EBADF);
    CHECK_ERR(bundle_go_mem(99999, must_not_run(&ran), stk1, sizeof(stk1)),
        EBADF);
    CHECK_ERR(bundle_wait(-1, 0), EBADF);
    CHECK_ERR(bundle_wait(b, 0), EBADF); /* closed above */
    CHECK_ERR(bundle_go(b, must_not_run(&ran)), EBADF);
    CHECK_ERR(bundle_go_mem(b, must_not_run(&ran), stk1, sizeof(stk1)),
        EBADF);

    /* Handles of the wrong type. */
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(bundle_go(ch[0], must_not_run(&ran)), ENOTSUP);
    CHECK_ERR(bundle_go_mem(ch[1], must_not_run(&ran), stk1, sizeof(stk1)),
        ENOTSUP);
    CHECK_ERR(bundle_wait(ch[0], 0), ENOTSUP);
    CHECK_ERR(bundle_wait(ch[1], -1), ENOTSUP);
    CHECK(ran == 0);
    /* ...and a bundle is not a channel, nor can it be "done". */
    b = bundle();
    CHECK(b >= 0);
    int v = 0;
    CHECK_ERR(chsend(b, &v, sizeof(v), 0), ENOTSUP);
    CHECK_ERR(chrecv(b, &v, sizeof(v), 0), ENOTSUP);
    CHECK_ERR(hdone(b, -1), ENOTSUP);
    CHECK_OK(hclose(b));
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));

    /* bundle_mem: same behaviour with caller-supplied storage. */
    b = bundle_mem(bmem);
    CHECK(b >= 0);
    CHECK_OK(bundle_wait(b, 0));
    CHECK_OK(bundle_go(b, nap(5)));
    CHECK_OK(bundle_wait(b, now() + 5000));
    CHECK(finished == 5);
    CHECK_OK(bundle_go(b, forever()));
    CHECK_OK(hclose(b));
    CHECK(cancelled == 4);
    /* Storage can be reused once the bundle is closed. */
    b = bundle_mem(bmem);
    CHECK(b >= 0);
    CHECK_OK(hclose(b));
    /* NULL storage is rejected (upstream leaves errno unspecified). */
    CHECK(bundle_mem(NULL) == -1);

    /* bundle_go_mem: stacks live in caller-supplied memory. */
    b = bundle();
    CHECK(b >= 0);
    local_addr = 0;
    CHECK_OK(bundle_go_mem(b, where_am_i(), stk1, sizeof(stk1)));
    CHECK_OK(yield());
    CHECK(local_addr >= (uintptr_t)stk1);
    CHECK(local_addr < (uintptr_t)stk1 + sizeof(stk1));
    local_addr = 0;
    CHECK_OK(bundle_go_mem(b, where_am_i(), stk2, sizeof(stk2)));
    CHECK_OK(yield());
    CHECK(local_addr >= (uintptr_t)stk2);
    CHECK(local_addr < (uintptr_t)stk2 + sizeof(stk2));
    CHECK_OK(bundle_wait(b, now() + 5000));
    CHECK_OK(bundle_go_mem(b, forever(), stk1, sizeof(stk1)));
    CHECK_OK(bundle_go(b, forever()));
    CHECK_OK(hclose(b));
    CHECK(cancelled == 6);

    /* Duplicated bundle handle: only the last hclose cancels. */
    b = bundle();
    CHECK(b >= 0);
    int bd = hdup(b);
    CHECK(bd >= 0);
    CHECK_OK(bundle_go(bd, forever()));
    CHECK_OK(hclose(b));
    CHECK_OK(msleep(now() + 10));
    CHECK(cancelled == 6);
    CHECK_ERR(bundle_wait(bd, 0), ETIMEDOUT);
    CHECK_OK(hclose(bd));
    CHECK(cancelled == 7);

    /* Cancellation propagates through nested bundles. */
    b = bundle();
    CHECK(b >= 0);
    CHECK_OK(bundle_go(b, owner()));
    CHECK_OK(msleep(now() + 10));
    CHECK(!inner_cleanup);
    CHECK_OK(hclose(b));
    CHECK(inner_cleanup);
    CHECK(cancelled == 9);

    /* A bundle with many coroutines. */
    b = bundle();
    CHECK(b >= 0);
    for(int i = 0; i != 500; ++i)
        CHECK_OK(bundle_go(b, nap(i % 20)));
    CHECK_OK(bundle_wait(b, now() + 5000));
    CHECK(finished == 505);
    /* (Kept below 64: upstream's stack cache corrupts itself when a bundle
       holding 64+ coroutines is closed after the cache has been filled.) */
    for(int i = 0; i != 50; ++i)
        CHECK_OK(bundle_go(b, forever()));
    CHECK_OK(hclose(b));
    CHECK(cancelled == 59);

    test_closed_under_waiter();
    return 0;
}
