/* A thread whose coroutines all wait with no deadline sleeps: it uses no
   CPU until something wakes it, also when it never waited on an fd (no
   poller open) and when a handled signal interrupts its sleep. Each case
   runs in a thread of its own; its CPU time over ~300 ms is measured with
   the thread's CPU clock and must stay under 5 % of the wall time. */
#include <libdill.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "check.h"

static int64_t ns(clockid_t c) {
    struct timespec ts;
    CHECK_OK(clock_gettime(c, &ts));
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static volatile sig_atomic_t signals;
static void on_usr1(int sig) { signals++; }

enum {W_SLEEP, W_CHRECV, W_SLEEP_AFTER_FD};

static void *waiter(void *arg) {
    int how = (int)(intptr_t)arg;
    if(how == W_SLEEP_AFTER_FD) {
        /* One fd wait first: the thread has a poller from then on. */
        int p[2];
        CHECK_OK(pipe(p));
        CHECK(write(p[1], "x", 1) == 1);
        CHECK_OK(fdin(p[0], -1));
    }
    if(how == W_CHRECV) {
        int ch[2];
        CHECK_OK(chmake(ch));
        int x;
        chrecv(ch[0], &x, sizeof(x), -1);
    } else {
        msleep(-1);
    }
    /* Woken for good only by a cancel we never send. */
    return NULL;
}

/* Percent of wall time the thread spent on a CPU over ~300 ms. */
static double busy(pthread_t t, int poke) {
    clockid_t c;
    CHECK_OK(pthread_getcpuclockid(t, &c));
    int64_t c0 = ns(c), w0 = ns(CLOCK_MONOTONIC);
    for(int i = 0; i < 6; ++i) {
        struct timespec d = {0, 50 * 1000000};
        nanosleep(&d, NULL);
        if(poke) CHECK_OK(pthread_kill(t, SIGUSR1));
    }
    int64_t c1 = ns(c), w1 = ns(CLOCK_MONOTONIC);
    return 100.0 * (double)(c1 - c0) / (double)(w1 - w0);
}

int main(void) {
    WATCHDOG(20);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    const char *names[] = {"msleep(-1)", "chrecv, no deadline", "msleep(-1) after an fd wait"};
    int bad = 0;
    for(int how = W_SLEEP; how <= W_SLEEP_AFTER_FD; ++how) {
        pthread_t t;
        CHECK_OK(pthread_create(&t, NULL, waiter, (void*)(intptr_t)how));
        /* Let it get to its wait. */
        struct timespec d = {0, 50 * 1000000};
        nanosleep(&d, NULL);
        double quiet = busy(t, 0);
        int before = signals;
        double poked = busy(t, 1);
        NOTE("%s: %.1f %% CPU, %.1f %% with 6 signals (%d handled)",
            names[how], quiet, poked, signals - before);
        bad += quiet >= 5.0 || poked >= 5.0;
        /* The thread stays blocked; the process ends around it. */
        CHECK_OK(pthread_detach(t));
    }
    CHECK(bad == 0);
    return 0;
}
