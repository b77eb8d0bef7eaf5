/* go_mem's least accepted size holds the dynamic linker's lazy resolver.
   Built with -Wl,-z,lazy and run without LD_BIND_NOW, the first call a
   coroutine makes into a library function through the PLT runs the
   resolver on the coroutine's stack, which saves the vector registers there
   (2.4 KiB with AVX-512). The smallest size go_mem accepts is found by
   trying every size; at that size the coroutine's first calls (a fresh
   libc function, and dill_epilogue at its end) must leave guard canaries
   below and above the caller's memory untouched, one byte less must give
   ENOMEM, and the size must cover what a lazy resolution is measured to
   use on a large buffer. */
#include <libdill.h>
#include <link.h>

#include "check.h"

enum {CANARY = 8192, MAXSIZE = 32768, BUNDLE_ROOM = 128};
static unsigned char region[CANARY + MAXSIZE + CANARY] __attribute__((aligned(4096)));
static unsigned char *const buf = region + CANARY;

static int ran;

/* Each calls a libc function nothing else in the program calls: its PLT
   slot is still unresolved. */
coroutine void first_call(void) {
    ran += getppid() > 0;
}

coroutine void second_call(void) {
    ran += getpgrp() > 0;
}

static void fill(void) {
    memset(region, 0xa5, sizeof(region));
}

static int intact(const unsigned char *p, size_t n) {
    for(size_t i = 0; i < n; ++i)
        if(p[i] != 0xa5) return 0;
    return 1;
}

/* Bytes below the end of [buf, buf + n) that something wrote. */
static size_t lowest_write(size_t n) {
    size_t i = BUNDLE_ROOM; /* the start holds the coroutine's bundle */
    while(i < n && buf[i] == 0xa5) ++i;
    return n - i;
}

static int lazily_bound(void) {
    for(ElfW(Dyn) *d = _DYNAMIC; d->d_tag != DT_NULL; ++d) {
        if(d->d_tag == DT_BIND_NOW) return 0;
        if(d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_BIND_NOW)) return 0;
        if(d->d_tag == DT_FLAGS_1 && (d->d_un.d_val & DF_1_NOW)) return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    if(getenv("LD_BIND_NOW")) {
        CHECK_OK(unsetenv("LD_BIND_NOW"));
        execv("/proc/self/exe", argv);
        CHECK(0);
    }
    WATCHDOG(30);
    CHECK(lazily_bound());

    /* Smaller sizes are refused with ENOMEM and run nothing. */
    size_t min = 0;
    for(size_t n = 0; n <= MAXSIZE; ++n) {
        fill();
        errno = 0;
        int h = go_mem(first_call(), buf, n);
        if(h < 0) {
            CHECK(errno == ENOMEM);
            CHECK(ran == 0);
            continue;
        }
        /* The first success: it ran on exactly n bytes. */
        min = n;
        CHECK(ran == 1);
        CHECK_OK(hclose(h));
        break;
    }
    CHECK(min > 0);
    size_t used = lowest_write(min);
    int below = intact(region, CANARY), above = intact(buf + min, CANARY);
    size_t low = 0;
    while(low < CANARY && region[low] == 0xa5) ++low;
    size_t spill = CANARY - low;
    NOTE("go_mem minimum %zu bytes; first lazy call used %zu bytes of it; "
        "canary below %s (%zu bytes written under the buffer), above %s",
        min, used, below ? "intact" : "BROKEN", spill, above ? "intact" : "BROKEN");
    CHECK(below);
    CHECK(above);
    CHECK_ERR(go_mem(first_call(), buf, min - 1), ENOMEM);

    /* How deep a lazy resolution goes, on room to spare. */
    fill();
    int h = go_mem(second_call(), buf, MAXSIZE);
    CHECK(h >= 0);
    CHECK(ran == 2);
    CHECK_OK(hclose(h));
    size_t depth = lowest_write(MAXSIZE);
    NOTE("a lazy resolution from a coroutine on %d bytes went %zu bytes deep",
        MAXSIZE, depth);
    CHECK(intact(region, CANARY));
    CHECK(min >= depth + BUNDLE_ROOM);
    /* Not absurdly large either. */
    CHECK(min <= 16384);
    return 0;
}
