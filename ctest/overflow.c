/* Stack overflow in a coroutine must be detected: the process dies and a
   diagnostic mentioning "stack overflow" is written to stderr (instead of
   silently corrupting memory or dying with a bare SIGSEGV). The crash is
   provoked in a forked child; the parent inspects how it ended. */
#include <libdill.h>
#include <ctype.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"

/* Prevents the compiler from turning the recursion into a loop or proving
   it infinite. */
static volatile int depth_limit = 1 << 30;

static int recurse(int depth) {
    volatile char frame[256];
    frame[0] = (char)depth;
    frame[sizeof(frame) - 1] = (char)depth;
    if(depth >= depth_limit) return frame[0];
    return recurse(depth + 1) + frame[sizeof(frame) - 1];
}

coroutine void overflow(void) {
    int r = recurse(0);
    /* Unreachable. */
    fprintf(stderr, "recursion finished?! %d\n", r);
}

static void child(int errfd) {
    /* No core dumps; report everything on the pipe. */
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    if(dup2(errfd, 2) < 0) _exit(100);
    close(errfd);
    int h = go(overflow());
    if(h < 0) _exit(101);
    bundle_wait(h, now() + 10000);
    /* Getting here means the overflow went unnoticed. */
    _exit(0);
}

static int contains_word(const char *text, const char *word) {
    size_t n = strlen(word);
    for(const char *p = text; *p; ++p) {
        size_t i = 0;
        while(i < n && p[i] && tolower((unsigned char)p[i]) == word[i]) ++i;
        if(i == n) return 1;
    }
    return 0;
}

int main(void) {
    WATCHDOG(30);
    int fds[2];
    CHECK_OK(pipe(fds));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if(pid == 0) {
        close(fds[0]);
        child(fds[1]);
    }
    close(fds[1]);

    /* Collect the child's stderr until EOF, giving up after 15 s. */
    static char out[65536];
    size_t len = 0;
    int64_t deadline = now() + 15000;
    while(len < sizeof(out) - 1) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int left = (int)(deadline - now());
        CHECK(left > 0);
        int rc = poll(&pfd, 1, left);
        if(rc < 0 && errno == EINTR) continue;
        CHECK(rc == 1);
        ssize_t n = read(fds[0], out + len, sizeof(out) - 1 - len);
        if(n == 0) break;
        if(n < 0 && errno == EINTR) continue;
        CHECK(n > 0);
        len += (size_t)n;
    }
    out[len] = 0;
    close(fds[0]);

    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    fprintf(stderr, "child stderr: <<%s>>\n", out);
    if(WIFSIGNALED(status))
        fprintf(stderr, "child killed by signal %d\n", WTERMSIG(status));
    else if(WIFEXITED(status))
        fprintf(stderr, "child exited with %d\n", WEXITSTATUS(status));

    /* The child must not have survived the overflow... */
    CHECK(WIFSIGNALED(status) ||
        (WIFEXITED(status) && WEXITSTATUS(status) != 0));
    CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) >= 100));
    /* ...and must have said why. */
    CHECK(contains_word(out, "stack"));
    CHECK(contains_word(out, "overflow"));
    return 0;
}
