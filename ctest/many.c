/* 100000 coroutines alive at the same time, each started with go() and
   blocked in a channel receive; then all of them are closed. (Upstream
   libdill runs out of memory mappings long before that, because every
   stack with its guard page costs two entries of vm.max_map_count.) */
#include <libdill.h>

#include "check.h"

enum {N = 100000, NSEND = 1000, NBUNDLE = 10000};

static int handles[N];
static int started = 0;
static int received = 0;
static int cancelled = 0;
static long sum = 0;

coroutine void worker(int ch) {
    started++;
    int v;
    int rc = chrecv(ch, &v, sizeof(v), -1);
    if(rc == 0) {
        received++;
        sum += v;
        return;
    }
    CHECK(errno == ECANCELED);
    cancelled++;
}

static int sleepers_cancelled = 0;

coroutine void sleeper(void) {
    CHECK_ERR(msleep(-1), ECANCELED);
    sleepers_cancelled++;
}

int main(void) {
    WATCHDOG(55);
    int ch[2];
    CHECK_OK(chmake(ch));

    int64_t t0 = now();
    for(int i = 0; i != N; ++i) {
        handles[i] = go(worker(ch[1]));
        if(handles[i] < 0) {
            fprintf(stderr, "go() #%d failed: %s\n", i, strerror(errno));
            CHECK(handles[i] >= 0);
        }
    }
    /* Let every coroutine reach its receive. */
    for(int i = 0; i != 100 && started != N; ++i) CHECK_OK(yield());
    CHECK(started == N);
    CHECK(received == 0 && cancelled == 0);

    /* They are all really alive: some of them get messages. */
    for(int i = 1; i <= NSEND; ++i)
        CHECK_OK(chsend(ch[0], &i, sizeof(i), now() + 5000));
    for(int i = 0; i != 100 && received != NSEND; ++i) CHECK_OK(yield());
    CHECK(received == NSEND);
    CHECK(sum == (long)NSEND * (NSEND + 1) / 2);

    /* Close every handle; the still-blocked ones are cancelled. */
    for(int i = 0; i != N; ++i) CHECK_OK(hclose(handles[i]));
    CHECK(cancelled == N - NSEND);
    fprintf(stderr, "%d coroutines: %lld ms\n", N, (long long)(now() - t0));

    /* And again, to make sure resources were really released. */
    started = 0;
    for(int i = 0; i != N; ++i) {
        handles[i] = go(worker(ch[1]));
        if(handles[i] < 0) {
            fprintf(stderr, "second round: go() #%d failed: %s\n", i,
                strerror(errno));
            CHECK(handles[i] >= 0);
        }
    }
    for(int i = 0; i != 100 && started != N; ++i) CHECK_OK(yield());
    CHECK(started == N);
    for(int i = N - 1; i >= 0; --i) CHECK_OK(hclose(handles[i]));
    CHECK(cancelled == 2 * N - NSEND);

    /* A single bundle holding many coroutines, closed in one go. */
    int b = bundle();
    CHECK(b >= 0);
    for(int i = 0; i != NBUNDLE; ++i) CHECK_OK(bundle_go(b, sleeper()));
    CHECK_OK(msleep(now() + 10));
    CHECK_OK(hclose(b));
    CHECK(sleepers_cancelled == NBUNDLE);

    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    return 0;
}
