/* Several OS threads, each running its own coroutines, channels and
   timers at the same time. No set-up call is needed in any thread: the
   thread's main function is simply its main coroutine. */
#include <libdill.h>
#include <fcntl.h>
#include <pthread.h>

#include "check.h"

enum {NTHREADS = 4, NMSGS = 20000};

static pthread_barrier_t barrier;
/* One pipe per thread; thread i waits on pipes[i], thread i+1 writes it. */
static int pipes[NTHREADS][2];

coroutine void producer(int ch, int count) {
    for(int i = 1; i <= count; ++i)
        CHECK_OK(chsend(ch, &i, sizeof(i), -1));
    CHECK_OK(hdone(ch, -1));
}

coroutine void ticker(int ch, int ms) {
    /* Periodically sends its own id until cancelled. */
    while(1) {
        int rc = msleep(now() + ms);
        if(rc == -1) { CHECK(errno == ECANCELED); return; }
        rc = chsend(ch, &ms, sizeof(ms), -1);
        if(rc == -1) { CHECK(errno == ECANCELED); return; }
    }
}

/* Thread-local counter: coroutines must run on the thread that launched
   them, so the sleepers and their thread see the same counter. */
static int cancelled_in_thread(void) {
    static __thread int n = 0;
    return ++n;
}

coroutine void sleeper(int *count) {
    CHECK_ERR(msleep(-1), ECANCELED);
    (*count)++;
    cancelled_in_thread();
}

coroutine void wait_pipe(int fd, int *woken) {
    CHECK_OK(fdin(fd, now() + 10000));
    char c;
    CHECK(read(fd, &c, 1) == 1);
    *woken = 1;
}

static void *thread_main(void *arg) {
    int id = (int)(intptr_t)arg;

    /* Start waiting for the neighbour's poke before the barrier. */
    int woken = 0;
    int w = go(wait_pipe(pipes[id][0], &woken));
    CHECK(w >= 0);

    int rc = pthread_barrier_wait(&barrier);
    CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);

    /* Poke the next thread's pipe from this thread. */
    CHECK(write(pipes[(id + 1) % NTHREADS][1], "p", 1) == 1);

    /* A stream of messages through a channel, ended by hdone. */
    int ch[2];
    CHECK_OK(chmake(ch));
    int p = go(producer(ch[0], NMSGS));
    CHECK(p >= 0);
    long sum = 0;
    int n = 0, v;
    while(chrecv(ch[1], &v, sizeof(v), -1) == 0) {
        CHECK(v == n + 1);
        sum += v;
        n++;
        if(n % 1000 == 0) CHECK_OK(yield());
    }
    CHECK(errno == EPIPE);
    CHECK(n == NMSGS);
    CHECK(sum == (long)NMSGS * (NMSGS + 1) / 2);
    CHECK_OK(hclose(p));
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));

    /* Timers and choose. */
    int a[2], b[2];
    CHECK_OK(chmake(a));
    CHECK_OK(chmake(b));
    int ta = go(ticker(a[0], 7));
    CHECK(ta >= 0);
    int tb = go(ticker(b[0], 11));
    CHECK(tb >= 0);
    int va = 0, vb = 0, got_a = 0, got_b = 0;
    struct chclause cl[] = {
        {CHRECV, a[1], &va, sizeof(va)},
        {CHRECV, b[1], &vb, sizeof(vb)},
    };
    int64_t t0 = now();
    while(got_a < 5 || got_b < 5) {
        int idx = choose(cl, 2, now() + 5000);
        CHECK(idx == 0 || idx == 1);
        CHECK(errno == 0);
        if(idx == 0) { CHECK(va == 7); got_a++; }
        else { CHECK(vb == 11); got_b++; }
    }
    CHECK_ELAPSED(t0, 45, 3000);
    CHECK_OK(hclose(ta));
    CHECK_OK(hclose(tb));
    CHECK_OK(hclose(a[0]));
    CHECK_OK(hclose(a[1]));
    CHECK_OK(hclose(b[0]));
    CHECK_OK(hclose(b[1]));

    /* A bundle of sleepers, cancelled together. */
    int count = 0;
    int bn = bundle();
    CHECK(bn >= 0);
    for(int i = 0; i != 100; ++i) CHECK_OK(bundle_go(bn, sleeper(&count)));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(bn));
    CHECK(count == 100);
    CHECK(cancelled_in_thread() == 101);

    /* The neighbour's poke arrives (cross-thread wake-up via the kernel). */
    CHECK_OK(bundle_wait(w, now() + 10000));
    CHECK(woken);
    CHECK_OK(hclose(w));
    return NULL;
}

/* A thread that only sleeps: the very first libdill call in the thread. */
static void *just_sleep(void *arg) {
    (void)arg;
    int64_t t0 = now();
    CHECK_OK(msleep(now() + 30));
    CHECK_ELAPSED(t0, 20, 1000);
    return NULL;
}

int main(void) {
    WATCHDOG(50);
    CHECK_OK(pthread_barrier_init(&barrier, NULL, NTHREADS));
    for(int i = 0; i != NTHREADS; ++i) {
        CHECK_OK(pipe(pipes[i]));
        CHECK(fcntl(pipes[i][0], F_SETFL, O_NONBLOCK) == 0);
    }

    /* The main thread keeps its own coroutine running meanwhile. */
    int mch[2];
    CHECK_OK(chmake(mch));
    int mt = go(ticker(mch[0], 5));
    CHECK(mt >= 0);

    pthread_t th[NTHREADS + 1];
    for(int i = 0; i != NTHREADS; ++i)
        CHECK_OK(pthread_create(&th[i], NULL, thread_main,
            (void*)(intptr_t)i));
    CHECK_OK(pthread_create(&th[NTHREADS], NULL, just_sleep, NULL));

    int v;
    for(int i = 0; i != 10; ++i) {
        CHECK_OK(chrecv(mch[1], &v, sizeof(v), now() + 5000));
        CHECK(v == 5);
    }

    for(int i = 0; i != NTHREADS + 1; ++i)
        CHECK_OK(pthread_join(th[i], NULL));

    /* Main thread's objects are unaffected by what the threads did. */
    CHECK_OK(chrecv(mch[1], &v, sizeof(v), now() + 5000));
    CHECK(v == 5);
    CHECK_OK(hclose(mt));
    CHECK_OK(hclose(mch[0]));
    CHECK_OK(hclose(mch[1]));

    /* Threads started after others have exited work too. */
    for(int round = 0; round != 3; ++round) {
        pthread_t t;
        CHECK_OK(pthread_create(&t, NULL, just_sleep, NULL));
        CHECK_OK(pthread_join(t, NULL));
    }
    return 0;
}
