/* Threads that use coroutines give back everything when they end: 3 000
   threads, each launching a coroutine, leave the process's address space
   (VmSize) where it was after a warm-up. A thread's coroutine machinery
   includes an alternate signal stack for the overflow handler (64 KiB),
   which must be unmapped at thread exit. */
#include <libdill.h>
#include <malloc.h>
#include <pthread.h>

#include "check.h"

enum {WARMUP = 200, NTHREADS = 3000, BATCH = 4};

coroutine void work(int *done) {
    CHECK_OK(yield());
    *done = 1;
}

static void *thread_main(void *arg) {
    int done = 0;
    int h = go(work(&done));
    CHECK(h >= 0);
    CHECK_OK(bundle_wait(h, -1));
    CHECK(done == 1);
    CHECK_OK(hclose(h));
    return NULL;
}

static long vmsize_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f != NULL);
    char line[256];
    long kb = -1;
    while(fgets(line, sizeof(line), f))
        if(sscanf(line, "VmSize: %ld kB", &kb) == 1) break;
    fclose(f);
    CHECK(kb > 0);
    return kb;
}

/* Runs n threads, BATCH at a time (so that glibc's malloc arenas and thread
   stack cache reach their steady state in the warm-up). */
static void run(int n) {
    pthread_attr_t attr;
    CHECK_OK(pthread_attr_init(&attr));
    CHECK_OK(pthread_attr_setstacksize(&attr, 1 << 20));
    for(int i = 0; i < n; i += BATCH) {
        pthread_t t[BATCH];
        for(int j = 0; j < BATCH; ++j)
            CHECK_OK(pthread_create(&t[j], &attr, thread_main, NULL));
        for(int j = 0; j < BATCH; ++j)
            CHECK_OK(pthread_join(t[j], NULL));
    }
    CHECK_OK(pthread_attr_destroy(&attr));
}

int main(void) {
    WATCHDOG(100);
    /* One malloc arena: under load glibc may add one of 64 MiB at any time,
       which would hide what this test looks for. */
    CHECK(mallopt(M_ARENA_MAX, 1) == 1);
    run(WARMUP);
    long before = vmsize_kb();
    run(NTHREADS);
    long after = vmsize_kb();
    NOTE("VmSize %ld kB after %d threads, %ld kB after %d more (%+ld kB)",
        before, WARMUP, after, NTHREADS, after - before);
    /* A 64 KiB leak per thread would be 192 000 kB. */
    CHECK(after - before <= 2048);
    return 0;
}
