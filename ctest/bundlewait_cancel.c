/* bundle_wait must end with ECANCELED when its coroutine is canceled, also
   when the cancellation arrives while it is already ready to run because a
   member of the bundle it waits on just finished (found by apifuzz, seed
   12620 with -s). Here a member finishing and the hclose of the waiting
   coroutine come in the same scheduling round: both sleep to the same
   deadline. The original gives ECANCELED; a waiter that goes back to
   waiting instead never ends, and the hclose canceling it never returns. */
#include <libdill.h>
#include "check.h"

static int64_t when;
static int waiter_h, waiter_rc = 1, waiter_err, closer_rc = 1, closer_done;

static coroutine void sleeper(void) {
    int rc = msleep(now() + 100000);
    CHECK(rc == -1 && errno == ECANCELED);
}

static coroutine void quick(void) {
    CHECK_OK(msleep(when));
}

static coroutine void waiter(int b) {
    waiter_rc = bundle_wait(b, -1);
    waiter_err = errno;
}

static coroutine void closer(void) {
    CHECK_OK(msleep(when));
    closer_rc = hclose(waiter_h);
    closer_done = 1;
}

int main(void) {
    WATCHDOG(10);
    when = now() + 50;
    int b = go(sleeper());
    CHECK(b >= 0);
    waiter_h = go(waiter(b));
    CHECK(waiter_h >= 0);
    /* quick goes first: it finishes (waking the waiter) just before the
       closer, woken by the same deadline, cancels the waiter. */
    CHECK_OK(bundle_go(b, quick()));
    CHECK_OK(bundle_go(b, closer()));
    CHECK_OK(msleep(now() + 300));
    CHECK(closer_done);
    CHECK(closer_rc == 0);
    CHECK(waiter_rc == -1 && waiter_err == ECANCELED);
    CHECK_OK(hclose(b));
    return 0;
}
