/* Shared helpers for the libdill micro-benchmarks in this directory. */
#ifndef BENCH_H_INCLUDED
#define BENCH_H_INCLUDED

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libdill.h>

/* The same programs build against the 2.14 header (libtool current 25;
   2.6 is 20), whose calls differ in name and arguments: one-way shutdown
   is per protocol instead of hdone, and the PFX and CRLF protocols became
   prefix_attach and suffix_attach with their framing as arguments. */
#if defined(DILL_VERSION_CURRENT) && DILL_VERSION_CURRENT >= 25
#define BENCH_GEN_214 1
#define bench_chdone(ch) chdone(ch)
#define bench_http_done(s, deadline) http_done((s), (deadline))
#define pfx_attach(s) prefix_attach((s), 8, PREFIX_BIG_ENDIAN)
#define crlf_attach(s) suffix_attach((s), "\r\n", 2)
#else
#define bench_chdone(ch) hdone((ch), -1)
#define bench_http_done(s, deadline) hdone((s), (deadline))
#endif

/* Monotonic wall clock in nanoseconds. */
static inline long long bench_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Parse the iteration count from argv[1] (falls back to dflt). */
static inline long bench_count(int argc, char *argv[], long dflt) {
    if(argc < 2) return dflt;
    long n = atol(argv[1]);
    if(n <= 0) {
        fprintf(stderr, "usage: %s <count>\n", argv[0]);
        exit(2);
    }
    return n;
}

static inline void bench_report(const char *name, long ops,
      long long t0, long long t1) {
    printf("%s: %ld ops, %.1f ns/op\n", name, ops,
        (double)(t1 - t0) / (double)ops);
}

#define BENCH_CHECK(cond) do { if(!(cond)) { \
    fprintf(stderr, "%s:%d: check failed: %s (errno=%d)\n", \
        __FILE__, __LINE__, #cond, errno); exit(1); } } while(0)

#endif
