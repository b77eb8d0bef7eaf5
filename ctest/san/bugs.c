/* Deliberate bugs inside coroutines, for the sanitizer runs of make check
   (not a ctest/ program: it must fail). The Makefile checks that the
   report names the error and the coroutine's function in its stack:
     bugs heap    heap-buffer-overflow (ASan)
     bugs stack   stack-buffer-overflow (ASan)
     bugs race    data race between coroutines of two threads (TSan)
     bugs leak    a block only a finished coroutine pointed to (LSan)
   and one that is no bug:
     bugs held    a block only a suspended coroutine points to, at exit
   Each coroutine switches away and back first, so the bug happens on a
   stack the library switched to. */
#include <libdill.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int past = 16; /* an index the compiler cannot check */

coroutine void heap_overflow_coroutine(void) {
    char *p = malloc(16);
    yield();
    p[past] = 1;
    free(p);
}

coroutine void stack_overflow_coroutine(void) {
    char buf[16];
    memset(buf, 0, sizeof buf);
    yield();
    char *q = buf; /* a pointer: UBSan's bounds check would stop us first */
    q[past] = 1;
    printf("%d\n", buf[0]);
}

coroutine void leaking_coroutine(void) {
    char *volatile p = malloc(100);
    yield();
    p[0] = 1;
}

/* Its stack is the only place that points to the block when main returns:
   LSan must look there. */
coroutine void holding_coroutine(void) {
    char *volatile p = malloc(100);
    msleep(-1);
    free(p);
}

static int shared; /* written by both threads without synchronisation */
static pthread_barrier_t both;

/* Both writes come before the barrier: nothing orders them. (Without the
   barrier the first thread may be gone before the second starts, and
   TSan, which orders fiber switches through the fiber's address, can
   take a reused address for an order between them.) */
coroutine void racing_coroutine(void) {
    yield();
    shared++;
    pthread_barrier_wait(&both);
}

static void *racer(void *arg) {
    int h = go(racing_coroutine());
    if(h < 0 || yield() != 0 || bundle_wait(h, -1) != 0 || hclose(h) != 0) abort();
    return arg;
}

int main(int argc, char *argv[]) {
    const char *what = argc > 1 ? argv[1] : "";
    if(strcmp(what, "race") == 0) {
        pthread_t t[2];
        pthread_barrier_init(&both, NULL, 2);
        for(int i = 0; i != 2; ++i)
            if(pthread_create(&t[i], NULL, racer, NULL) != 0) abort();
        for(int i = 0; i != 2; ++i) pthread_join(t[i], NULL);
        return 0;
    }
    if(strcmp(what, "held") == 0) {
        if(go(holding_coroutine()) < 0 || yield() != 0) return 2;
        return 0;
    }
    int h = strcmp(what, "heap") == 0 ? go(heap_overflow_coroutine()) :
        strcmp(what, "stack") == 0 ? go(stack_overflow_coroutine()) :
        strcmp(what, "leak") == 0 ? go(leaking_coroutine()) : -1;
    if(h < 0) return 2;
    bundle_wait(h, -1);
    hclose(h);
    return 0; /* not reached when the sanitizer does its job */
}
