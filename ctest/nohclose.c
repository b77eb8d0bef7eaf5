/* Servers that launch go(handler()) per connection and never hclose the
   handle: a finished coroutine must give its stack back at once. One
   million coroutines launched and finished without hclose; mappings stay
   flat, and memory grows only by the handle and bundle each leaves (as the
   original, which leaks its 64-byte bundle too). */
#include <libdill.h>
#include <stdio.h>
#include <string.h>
#include "check.h"

static coroutine void worker(int ch, int wait) {
    if(wait) CHECK_OK(chrecv(ch, NULL, 0, -1));
    /* Touch some stack, as a real handler would. */
    volatile char buf[8192];
    memset((char*)buf, 1, sizeof(buf));
}

static long maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f);
    long n = 0;
    int c;
    while((c = fgetc(f)) != EOF) if(c == '\n') n++;
    fclose(f);
    return n;
}

static long vmsize_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f);
    char line[256];
    long kb = -1;
    while(fgets(line, sizeof(line), f))
        if(sscanf(line, "VmSize: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

int main(void) {
    int ch[2];
    CHECK_OK(chmake(ch));
    /* Warm up: the pools and the handle table's first size. */
    for(int i = 0; i != 1000; i++) CHECK(go(worker(ch[0], 0)) >= 0);
    long m0 = maps(), v0 = vmsize_kb();
    const long n = 1000000;
    for(long i = 0; i != n; i++) {
        /* Every 1000th waits a little, so that finishing is not always
           immediate: some coroutines finish after others launched. */
        int w = (i % 1000) == 0;
        int h = go(worker(ch[0], w));
        CHECK(h >= 0);
        if(w) {
            CHECK_OK(yield());
            CHECK_OK(chsend(ch[1], NULL, 0, -1));
        }
        if(i % 100000 == 99999) {
            long m = maps(), v = vmsize_kb();
            printf("%ld coroutines: %ld mappings (+%ld), VmSize %ld kB (+%ld)\n",
                i + 1, m, m - m0, v, v - v0);
            /* Each stack is its own mapping at worst: 64 cached ones. */
            CHECK(m - m0 <= 70);
            /* Handle slot (32 B) + bundle (64 B) each, with the table's
               doubling: well under 256 B per coroutine, not 256 KiB. */
            CHECK((v - v0) * 1024 <= (i + 1) * 256 + 4096 * 1024);
        }
    }
    return 0;
}
