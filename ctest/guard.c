/* A coroutine whose frames are larger than a guard page still ends with the
   "coroutine stack overflow" message, whatever the frame size (4 KiB to
   1 MiB): the frame may jump past the guard onto a neighbouring stack or
   into unmapped memory. Each case runs in a forked child, alone or with
   neighbouring coroutines whose stacks lie below the overflowing one; the
   parent checks that the child died of SIGSEGV after printing the message,
   within a few seconds (a corrupted scheduler record shows as a hang or a
   clean exit instead). */
#include <libdill.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"

static volatile size_t frame;
static volatile int stop = 0;

/* Each level has a frame of `frame` bytes and touches its lowest byte first,
   as a function with a large local array that it fills from the start. */
static __attribute__((noinline)) int dive(int depth) {
    volatile char buf[frame];
    buf[0] = (char)depth;
    if(stop) return buf[0];
    return dive(depth + 1) + buf[0];
}

/* One frame of `frame` bytes whose lowest byte is touched, then back. */
static __attribute__((noinline)) void jump(void) {
    volatile char buf[frame];
    buf[0] = 1;
    __asm__ volatile("" : : "r"(buf) : "memory");
}

/* Moves the stack pointer to about 1 KiB above the bottom of the stack
   (without touching what it skips), then makes one big frame there. The
   stack is 256 KiB with its top page-aligned, and we run in its top page. */
static __attribute__((noinline)) void near_bottom(void) {
    char here;
    uintptr_t top = ((uintptr_t)&here + 4095) & ~(uintptr_t)4095;
    uintptr_t lo = top - 256 * 1024;
    size_t room = (size_t)((uintptr_t)&here - lo - 1024);
    char *skip = __builtin_alloca(room);
    __asm__ volatile("" : : "r"(skip) : "memory");
    jump();
    __asm__ volatile("" : : "r"(skip) : "memory");
}

static int single; /* one frame near the bottom, rather than recursion */

coroutine void victim(int ch) {
    int go_on;
    if(chrecv(ch, &go_on, sizeof(go_on), -1) != 0) _exit(102);
    if(single) {
        near_bottom();
        return; /* the frame fit: the parent takes no message as failure */
    }
    dive(0);
    _exit(103); /* unreachable */
}

coroutine void neighbour(int ch) {
    int x;
    if(chrecv(ch, &x, sizeof(x), -1) != 0) _exit(104);
    if(chsend(ch, &x, sizeof(x), -1) != 0) _exit(104);
}

static void child(int errfd, int neighbours) {
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    if(dup2(errfd, 2) < 0) _exit(100);
    close(errfd);
    int ch[2], idle[2];
    if(chmake(ch) != 0 || chmake(idle) != 0) _exit(101);
    /* The victim's stack is mapped first: later ones lie below it. */
    int v = go(victim(ch[1]));
    if(v < 0) _exit(101);
    int hs[8];
    for(int i = 0; i < neighbours; ++i)
        if((hs[i] = go(neighbour(idle[1]))) < 0) _exit(101);
    int one = 1;
    chsend(ch[0], &one, sizeof(one), -1);
    /* The victim runs now; coming back here means the overflow went
       unnoticed. Then the neighbours run, on whatever it left of them. */
    bundle_wait(v, now() + 2000);
    for(int i = 0; i < neighbours; ++i) {
        int x = i;
        if(chsend(idle[0], &x, sizeof(x), now() + 1000) != 0) _exit(106);
        if(chrecv(idle[0], &x, sizeof(x), now() + 1000) != 0) _exit(106);
        if(bundle_wait(hs[i], now() + 1000) != 0) _exit(106);
    }
    _exit(105);
}

/* Runs one case; returns 1 if it ended as it should, printing what did. */
static int one_case(size_t size, int neighbours, int one_frame) {
    int fds[2];
    CHECK_OK(pipe(fds));
    frame = size;
    single = one_frame;
    pid_t pid = fork();
    CHECK(pid >= 0);
    if(pid == 0) {
        close(fds[0]);
        child(fds[1], neighbours);
    }
    close(fds[1]);
    static char out[4096];
    size_t len = 0;
    int64_t deadline = now() + 4000;
    int hung = 0;
    while(len < sizeof(out) - 1) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int left = (int)(deadline - now());
        if(left <= 0) { hung = 1; break; }
        int rc = poll(&pfd, 1, left);
        if(rc < 0 && errno == EINTR) continue;
        if(rc == 0) { hung = 1; break; }
        CHECK(rc == 1);
        ssize_t n = read(fds[0], out + len, sizeof(out) - 1 - len);
        if(n == 0) break;
        if(n < 0 && errno == EINTR) continue;
        CHECK(n > 0);
        len += (size_t)n;
    }
    out[len] = 0;
    close(fds[0]);
    if(hung) kill(pid, SIGKILL);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    int said = strstr(out, "libdill: coroutine stack overflow") != NULL;
    int segv = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
    const char *how = hung ? "hang" :
        said && segv ? "message" :
        segv ? "bare SIGSEGV" :
        WIFEXITED(status) && WEXITSTATUS(status) == 105 ? "unnoticed, all ran on" :
        WIFEXITED(status) && WEXITSTATUS(status) == 106 ? "unnoticed, a neighbour lost" :
        WIFEXITED(status) ? "exit" : "other signal";
    fprintf(stderr, "%s frame %7zu B, %d neighbours: %s",
        one_frame ? "one" : "recursive", size, neighbours, how);
    if(WIFEXITED(status)) fprintf(stderr, " (status %d)", WEXITSTATUS(status));
    if(WIFSIGNALED(status)) fprintf(stderr, " (signal %d)", WTERMSIG(status));
    fprintf(stderr, "\n");
    return said && segv && !hung;
}

int main(void) {
    WATCHDOG(110);
    static const size_t sizes[] = {
        4096, 5000, 6144, 8192, 12288, 16384, 24576, 32768, 49152, 61440,
        65536, 69632, 81920, 98304, 131072, 196608, 262144, 300000, 327680,
        393216, 524288, 786432, 1048576};
    int n = (int)(sizeof(sizes) / sizeof(sizes[0]));
    int bad = 0;
    int cases = 0;
    for(int i = 0; i < n; ++i) {
        bad += !one_case(sizes[i], 0, 0);
        bad += !one_case(sizes[i], 3, 0);
        bad += !one_case(sizes[i], 0, 1);
        cases += 3;
        /* One frame that jumps past the guard onto a neighbour's stack
           writes there without a fault: nothing can notice that (short of
           compiler stack probes). Up to the guard's size it must fault. */
        if(sizes[i] <= 61440) {
            bad += !one_case(sizes[i], 3, 1);
            cases++;
        }
    }
    fprintf(stderr, "%d of %d cases without the overflow message\n", bad, cases);
    CHECK(bad == 0);
    return 0;
}
