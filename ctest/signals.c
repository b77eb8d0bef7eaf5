/* Signals delivered while libdill is waiting: a handler writes to a pipe
   (the self-pipe trick) and a coroutine blocked in fdin() on that pipe must
   wake up. Signals interrupting the library's internal poll must not break
   it either. */
#include <libdill.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"

enum {ROUNDS = 20};

static int sigpipe_fds[2];
static volatile sig_atomic_t nsignals = 0;
/* Signals handled so far, for the signaller thread. */
static atomic_int handled;

static void on_signal(int signo) {
    int saved = errno;
    char b = (char)signo;
    (void)!write(sigpipe_fds[1], &b, 1);
    nsignals++;
    atomic_fetch_add(&handled, 1);
    errno = saved;
}

static void os_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while(nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Sends signals to the main thread from outside, at moments when it is
   (most likely) blocked inside libdill. */
static pthread_t main_thread;
static void *signaller(void *arg) {
    int signo = (int)(intptr_t)arg;
    int first = atomic_load(&handled);
    for(int i = 0; i != ROUNDS; ++i) {
        os_sleep_ms(10);
        /* Never two pending at once: the second would merge into the
           first (a loaded machine may not run the main thread for 10 ms),
           and the listener would wait for a signal that never comes. */
        while(atomic_load(&handled) - first < i) os_sleep_ms(1);
        CHECK_OK(pthread_kill(main_thread, signo));
    }
    return NULL;
}

static int received = 0;

coroutine void listener(int ch) {
    for(int i = 0; i != ROUNDS; ++i) {
        CHECK_OK(fdin(sigpipe_fds[0], now() + 5000));
        char b;
        ssize_t n;
        /* Several signals may have been coalesced into one wake-up. */
        while((n = read(sigpipe_fds[0], &b, 1)) == 1) {
            CHECK(b == SIGUSR1);
            received++;
        }
        CHECK(n == -1 && errno == EAGAIN);
        if(received >= ROUNDS) break;
    }
    int done = 1;
    CHECK_OK(chsend(ch, &done, sizeof(done), -1));
}

int main(void) {
    WATCHDOG(30);
    main_thread = pthread_self();
    CHECK_OK(pipe(sigpipe_fds));
    CHECK(fcntl(sigpipe_fds[0], F_SETFL, O_NONBLOCK) == 0);
    CHECK(fcntl(sigpipe_fds[1], F_SETFL, O_NONBLOCK) == 0);

    /* No SA_RESTART: the library's poll really gets EINTR. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    CHECK_OK(sigaction(SIGUSR2, &sa, NULL));

    /* 1. Signal raised synchronously from a coroutine-free main: the
          handler runs at once, then fdin sees the byte. */
    CHECK_OK(raise(SIGUSR1));
    CHECK_OK(fdin(sigpipe_fds[0], 0));
    char b;
    CHECK(read(sigpipe_fds[0], &b, 1) == 1 && b == SIGUSR1);

    /* 2. Signals from another thread while a coroutine waits in fdin and
          the main coroutine waits on a channel. */
    int ch[2];
    CHECK_OK(chmake(ch));
    int h = go(listener(ch[0]));
    CHECK(h >= 0);
    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, signaller, (void*)(intptr_t)SIGUSR1));
    int done = 0;
    CHECK_OK(chrecv(ch[1], &done, sizeof(done), now() + 10000));
    CHECK(done == 1);
    CHECK(received == ROUNDS);
    CHECK_OK(pthread_join(t, NULL));
    CHECK_OK(hclose(h));

    /* 3. Signals that nobody waits for must not disturb timers: a sleep
          interrupted many times still lasts as long as requested and
          returns success. */
    int before = nsignals;
    CHECK_OK(pthread_create(&t, NULL, signaller, (void*)(intptr_t)SIGUSR2));
    int64_t t0 = now();
    CHECK_OK(msleep(now() + 300));
    CHECK_ELAPSED(t0, 290, 1500);
    CHECK_OK(pthread_join(t, NULL));
    CHECK(nsignals > before);
    /* Drain what the handler wrote. */
    while(read(sigpipe_fds[0], &b, 1) == 1) {}

    /* 4. A channel wait with a deadline, interrupted by signals, still
          times out properly. */
    CHECK_OK(pthread_create(&t, NULL, signaller, (void*)(intptr_t)SIGUSR2));
    int v;
    t0 = now();
    CHECK_ERR(chrecv(ch[1], &v, sizeof(v), now() + 150), ETIMEDOUT);
    CHECK_ELAPSED(t0, 140, 1500);
    CHECK_OK(pthread_join(t, NULL));

    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    return 0;
}
