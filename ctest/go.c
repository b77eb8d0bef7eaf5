/* go(), go_mem() and the coroutine specifier. */
#include <libdill.h>
#include <stdint.h>

#include "check.h"

struct pair {
    int a;
    double b;
    char name[16];
};

/* Arguments of various kinds must arrive intact. */
static int args_ok = 0;

coroutine void take_args(int i, int64_t big, double d, struct pair p,
      int *out) {
    CHECK(i == -7);
    CHECK(big == INT64_C(0x123456789abc));
    CHECK(d == 2.5);
    CHECK(p.a == 42 && p.b == 0.25 && strcmp(p.name, "pair") == 0);
    *out = i * 2;
    args_ok = 1;
}

/* A coroutine that yields a few times and adds to a shared sum. */
static int sum = 0;

coroutine void adder(int n, int times) {
    for(int i = 0; i != times; ++i) {
        sum += n;
        CHECK_OK(yield());
    }
}

/* Sleeps for a while, then reports completion. */
static int naps_done = 0;

coroutine void nap(int ms) {
    CHECK_OK(msleep(now() + ms));
    naps_done++;
}

/* Cancellation: the blocking call fails, and so do all later ones. */
static int cancelled = 0;

coroutine void victim(void) {
    CHECK_ERR(msleep(now() + 5000), ECANCELED);
    CHECK_ERR(msleep(now() + 5000), ECANCELED);
    CHECK_ERR(yield(), ECANCELED);
    /* Non-blocking work is still possible during shutdown. */
    volatile int x = 0;
    for(int i = 0; i != 1000; ++i) x += i;
    cancelled++;
}

/* Records where its stack lives. */
static volatile uintptr_t local_addr = 0;

coroutine void where_am_i(int ms) {
    volatile char marker = 1;
    local_addr = (uintptr_t)&marker;
    CHECK_OK(msleep(now() + ms));
    (void)marker;
}

/* Uses a fair amount of stack (well below the documented size). */
static int deep_result = 0;

static int recurse(int n) {
    volatile char pad[512];
    pad[0] = (char)n;
    if(n == 0) return 0;
    return recurse(n - 1) + 1 + (pad[0] - (char)n);
}

coroutine void deep(int n) {
    deep_result = recurse(n);
}

/* A coroutine launching a child that outlives it. */
static int child_handle = -1;
static int child_cancelled = 0;

coroutine void child(void) {
    CHECK_ERR(msleep(-1), ECANCELED);
    child_cancelled = 1;
}

coroutine void parent(void) {
    child_handle = go(child());
    CHECK(child_handle >= 0);
    /* Return without closing: the child keeps running. */
}

/* Returning a value from a coroutine is allowed; it is discarded. */
coroutine int returns_int(int v) {
    CHECK_OK(yield());
    return v;
}

static char stackmem[64 * 1024] __attribute__((aligned(16)));

int main(void) {
    WATCHDOG(30);

    /* Arguments arrive; go returns a handle. */
    struct pair p = {42, 0.25, "pair"};
    int out = 0;
    int64_t big = INT64_C(0x123456789abc);
    int h = go(take_args(-7, big, 2.5, p, &out));
    CHECK(h >= 0);
    CHECK_OK(msleep(now() + 10));
    CHECK(args_ok && out == -14);
    CHECK_OK(hclose(h));

    /* Several coroutines run concurrently and interleave. */
    int h1 = go(adder(7, 3));
    CHECK(h1 >= 0);
    int h2 = go(adder(11, 1));
    CHECK(h2 >= 0 && h2 != h1);
    int h3 = go(adder(5, 2));
    CHECK(h3 >= 0 && h3 != h1 && h3 != h2);
    CHECK_OK(msleep(now() + 50));
    CHECK(sum == 7 * 3 + 11 + 5 * 2);
    CHECK_OK(hclose(h1));
    CHECK_OK(hclose(h2));
    CHECK_OK(hclose(h3));

    /* The handle returned by go() is a bundle: bundle_wait works on it. */
    h = go(nap(30));
    CHECK(h >= 0);
    int64_t t0 = now();
    CHECK_OK(bundle_wait(h, now() + 5000));
    CHECK(naps_done == 1);
    CHECK_TOOK(t0, 30);
    /* ...and more coroutines can be added to it. */
    CHECK_OK(bundle_go(h, nap(10)));
    CHECK_OK(bundle_wait(h, now() + 5000));
    CHECK(naps_done == 2);
    CHECK_OK(hclose(h));

    /* hclose on a blocked coroutine cancels it and returns only once the
       coroutine has finished. */
    int vs[3];
    for(int i = 0; i != 3; ++i) {
        vs[i] = go(victim());
        CHECK(vs[i] >= 0);
    }
    CHECK_OK(msleep(now() + 20));
    CHECK(cancelled == 0);
    t0 = now();
    for(int i = 0; i != 3; ++i) {
        CHECK_OK(hclose(vs[i]));
        CHECK(cancelled == i + 1);
    }
    CHECK_QUICK(t0);
    /* The handle is gone after close. */
    CHECK_ERR(hclose(vs[0]), EBADF);

    /* Closed right after go(), without the parent ever yielding: the
       coroutine body still runs (upstream starts it immediately inside
       go()) and sees the cancellation. */
    h = go(victim());
    CHECK(h >= 0);
    CHECK_OK(hclose(h));
    CHECK(cancelled == 4);

    /* Closing an already finished coroutine is fine. */
    h = go(returns_int(3));
    CHECK(h >= 0);
    CHECK_OK(msleep(now() + 10));
    CHECK_OK(hclose(h));

    /* Many short-lived coroutines in sequence (stack reuse). */
    for(int i = 0; i != 2000; ++i) {
        h = go(adder(0, 1));
        CHECK(h >= 0);
        CHECK_OK(hclose(h));
    }

    /* Moderate stack usage works. */
    h = go(deep(100));
    CHECK(h >= 0);
    CHECK_OK(bundle_wait(h, now() + 5000));
    CHECK(deep_result == 100);
    CHECK_OK(hclose(h));

    /* go_mem: the coroutine's stack lives in the memory we supplied. */
    local_addr = 0;
    h = go_mem(where_am_i(20), stackmem, sizeof(stackmem));
    CHECK(h >= 0);
    CHECK_OK(yield());
    CHECK(local_addr >= (uintptr_t)stackmem);
    CHECK(local_addr < (uintptr_t)stackmem + sizeof(stackmem));
    CHECK_OK(bundle_wait(h, now() + 5000));
    CHECK_OK(hclose(h));
    /* go_mem coroutines can be cancelled too; then the memory is reusable. */
    h = go_mem(victim(), stackmem, sizeof(stackmem));
    CHECK(h >= 0);
    CHECK_OK(msleep(now() + 10));
    CHECK_OK(hclose(h));
    CHECK(cancelled == 5);
    h = go_mem(nap(5), stackmem, sizeof(stackmem));
    CHECK(h >= 0);
    CHECK_OK(bundle_wait(h, now() + 5000));
    CHECK_OK(hclose(h));
    /* Under 2 KiB is always refused (the minimum follows the machine's
       vector registers, which the dynamic linker's first resolution of a
       call from the coroutine saves on its stack; see gomemlazy.c). */
    CHECK_ERR(go_mem(nap(5), stackmem, 2047), ENOMEM);
    CHECK_ERR(go_mem(nap(5), stackmem, 100), ENOMEM);
    CHECK(sizeof(stackmem) >= 2048);

    /* A child can outlive the coroutine that launched it. */
    int ph = go(parent());
    CHECK(ph >= 0);
    CHECK_OK(msleep(now() + 10));
    CHECK_OK(bundle_wait(ph, 0)); /* parent is finished */
    CHECK_OK(hclose(ph));
    CHECK(child_handle >= 0);
    CHECK(!child_cancelled);
    CHECK_OK(hclose(child_handle));
    CHECK(child_cancelled);

    return 0;
}
