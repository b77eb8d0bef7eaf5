/* Coroutines that hclose each other's bundles: the original hangs for
   ever. Here the close that would complete the cycle fails with EDEADLK
   (its handle is gone all the same), the others succeed, every coroutine
   ends and every bundle is freed (checked under valgrind). */
#include <libdill.h>
#include "check.h"

#define N 3
static int handles[N];
static int rcs[N], errs[N], ended[N];

static coroutine void closer(int i, int n, int delay) {
    /* Wait until every handle exists; the closes start in order i = 0.. */
    int rc = msleep(now() + 10 + delay);
    CHECK(rc == 0 || errno == ECANCELED);
    errno = 0;
    rcs[i] = hclose(handles[(i + 1) % n]);
    errs[i] = errno;
    ended[i] = 1;
}

static void cycle(int n) {
    for(int i = 0; i != n; i++) {
        rcs[i] = errs[i] = ended[i] = 0;
        handles[i] = go(closer(i, n, i));
        CHECK(handles[i] >= 0);
    }
    int64_t start = now();
    CHECK_OK(msleep(now() + 100));
    int deadlocks = 0;
    for(int i = 0; i != n; i++) {
        CHECK(ended[i]);
        if(rcs[i] == -1) {
            CHECK(errs[i] == EDEADLK);
            deadlocks++;
        } else {
            CHECK(rcs[i] == 0);
        }
    }
    CHECK(deadlocks == 1);
    CHECK(now() - start < 1000);
    /* Every handle was closed by a coroutine: none is left to close. */
    for(int i = 0; i != n; i++) CHECK_ERR(hclose(handles[i]), EBADF);
}

int main(void) {
    cycle(2);
    cycle(3);
    return 0;
}
