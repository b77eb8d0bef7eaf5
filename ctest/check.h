/* Tiny assertion helpers shared by the C conformance tests.
   Every failure prints where it happened, what was expected and the
   current errno, then aborts so that the test runner sees a crash. */
#ifndef CTEST_CHECK_H
#define CTEST_CHECK_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Plain boolean condition. */
#define CHECK(cond) do { \
    if(!(cond)) { \
        int e_ = errno; \
        fprintf(stderr, "%s:%d: CHECK(%s) failed [errno=%d: %s]\n", \
            __FILE__, __LINE__, #cond, e_, strerror(e_)); \
        abort(); \
    } \
} while(0)

/* Expression must evaluate to exactly zero. */
#define CHECK_OK(expr) do { \
    long r_ = (long)(expr); \
    if(r_ != 0) { \
        int e_ = errno; \
        fprintf(stderr, "%s:%d: %s returned %ld, expected 0 " \
            "[errno=%d: %s]\n", __FILE__, __LINE__, #expr, r_, e_, \
            strerror(e_)); \
        abort(); \
    } \
} while(0)

/* Expression must return -1 and set errno to the given value. errno is
   cleared first so that a stale value cannot make the check pass. */
#define CHECK_ERR(expr, err) do { \
    errno = 0; \
    long r_ = (long)(expr); \
    int e_ = errno; \
    if(r_ != -1 || e_ != (err)) { \
        fprintf(stderr, "%s:%d: %s: expected -1/%s, got %ld " \
            "[errno=%d: %s]\n", __FILE__, __LINE__, #expr, #err, r_, e_, \
            strerror(e_)); \
        abort(); \
    } \
} while(0)

/* Pointer-returning call must return NULL and set errno. */
#define CHECK_NULL_ERR(expr, err) do { \
    errno = 0; \
    const void *p_ = (expr); \
    int e_ = errno; \
    if(p_ != NULL || e_ != (err)) { \
        fprintf(stderr, "%s:%d: %s: expected NULL/%s, got %p " \
            "[errno=%d: %s]\n", __FILE__, __LINE__, #expr, #err, p_, e_, \
            strerror(e_)); \
        abort(); \
    } \
} while(0)

/* How many times slower than native the test may run: 4 under valgrind
   (make check sets DILL_CTEST_VALGRIND there), else 1. Stretches only the
   upper bounds of timing checks: nothing may ever happen early. */
static inline int check_slack_(void) {
    /* Asked every time: a cached answer would be a data race for TSan in
       the threaded tests. */
    return getenv("DILL_CTEST_VALGRIND") ? 4 : 1;
}

/* Milliseconds elapsed since 'start' (a value of now()) must lie within
   [lo, hi]. The upper bound is generous because tests run in parallel on
   loaded machines. */
#define CHECK_ELAPSED(start, lo, hi) do { \
    int64_t d_ = now() - (start); \
    if(d_ < (lo) || d_ > (int64_t)(hi) * check_slack_()) { \
        fprintf(stderr, "%s:%d: elapsed %lld ms, expected %d..%d ms\n", \
            __FILE__, __LINE__, (long long)d_, (int)(lo), (int)(hi) * check_slack_()); \
        abort(); \
    } \
} while(0)

/* Expected duration of 'ms' with scheduling slack. */
#define CHECK_TOOK(start, ms) CHECK_ELAPSED(start, (ms) - 10, (ms) + 400)

/* Must have happened "at once", i.e. without waiting on any deadline. */
#define CHECK_QUICK(start) CHECK_ELAPSED(start, 0, 150)

/* Kill the test if it hangs, well before the runner's own timeout. */
#define WATCHDOG(secs) ((void)alarm(secs))

/* Something the man page promises that upstream libdill 2.6 does not do.
   It fails like any other check. Built with -DCTEST_UPSTREAM (to validate
   the tests against the original library) it is reported and the test goes
   on, so that the rest of the file is still checked. */
#ifdef CTEST_UPSTREAM
#define CTEST_DOC_TAG_ "known upstream deviation"
#define CTEST_DOC_FAIL_() ((void)0)
#else
#define CTEST_DOC_TAG_ "FAILED"
#define CTEST_DOC_FAIL_() abort()
#endif

#define CHECK_DOC(cond, what) do { \
    if(!(cond)) { \
        int e_ = errno; \
        fprintf(stderr, "%s:%d: man page: %s: %s: CHECK(%s) " \
            "[errno=%d: %s]\n", __FILE__, __LINE__, CTEST_DOC_TAG_, what, \
            #cond, e_, strerror(e_)); \
        CTEST_DOC_FAIL_(); \
    } \
} while(0)

#define CHECK_ERR_DOC(expr, err, what) do { \
    errno = 0; \
    long r_ = (long)(expr); \
    int e_ = errno; \
    if(r_ != -1 || e_ != (err)) { \
        fprintf(stderr, "%s:%d: man page: %s: %s: %s: expected -1/%s, " \
            "got %ld [errno=%d: %s]\n", __FILE__, __LINE__, CTEST_DOC_TAG_, \
            what, #expr, #err, r_, e_, strerror(e_)); \
        CTEST_DOC_FAIL_(); \
    } \
} while(0)

/* Informational line on stderr (kept in the test log). */
#define NOTE(...) do { \
    fprintf(stderr, "note: "); \
    fprintf(stderr, __VA_ARGS__); \
    fprintf(stderr, "\n"); \
} while(0)

#endif
