/* Out of memory never aborts: a malloc fault-injection test.

   This program defines malloc, calloc, realloc and the aligned allocators
   itself, so they interpose those of the C library for the whole process
   (libdill's Rust allocator and the C library's own internal allocations
   included); the real ones are reached through glibc's __libc_* entry
   points. Run without arguments it is the driver: it runs a workload that
   touches every part of the library once to count the allocations it makes
   (T), then runs it again for every N in 1..T, making the Nth allocation
   fail ("one" mode) and, separately, every allocation from the Nth on
   ("from" mode). Each run must end with exit 0: every call either works or
   fails cleanly (ENOMEM, or an error that follows from an earlier failure)
   and the workload goes on; data that arrives must be right. A signal
   (SIGABRT from a Rust allocation failure, SIGSEGV), an unexpected errno or
   wrong data (exit 2) or a hang (SIGALRM) is a failure. After the workload,
   with failures off again, the library must work in full. Both modes run
   again under valgrind ("from" at every 4th N), where nothing may leak
   (definitely or indirectly lost) and no memory error may show.

   OOM_STRIDE=k runs only every k-th N of "one" under valgrind (default 1:
   all); OOM_NO_VALGRIND=1 skips valgrind (the portable context switch does
   not register coroutine stacks with it). */

#define _GNU_SOURCE
#include <libdill.h>
#include <libdillimpl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the interposed allocator --------------------------------------- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

enum { OFF, COUNT, ONE, FROM };
static int mode = OFF;
static long fail_at;
static long calls;

/* Should this allocation fail? Thread-safe: the workload runs a thread. */
static int inject(void) {
    if(__atomic_load_n(&mode, __ATOMIC_RELAXED) == OFF) return 0;
    long i = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
    if(mode == ONE) return i == fail_at;
    if(mode == FROM) return i >= fail_at;
    return 0;
}

void *malloc(size_t n) {
    if(inject()) { errno = ENOMEM; return NULL; }
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b) {
    if(inject()) { errno = ENOMEM; return NULL; }
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n) {
    if(inject()) { errno = ENOMEM; return NULL; }
    return __libc_realloc(p, n);
}

void free(void *p) { __libc_free(p); }

void *memalign(size_t a, size_t n) {
    if(inject()) { errno = ENOMEM; return NULL; }
    return __libc_memalign(a, n);
}

void *aligned_alloc(size_t a, size_t n) { return memalign(a, n); }

int posix_memalign(void **out, size_t a, size_t n) {
    if(a < sizeof(void *) || (a & (a - 1))) return EINVAL;
    void *p = memalign(a, n);
    if(!p) return ENOMEM;
    *out = p;
    return 0;
}

/* ---- the workload --------------------------------------------------- */

/* An outcome the workload cannot explain: report it and fail the run. */
static void bad(int line, const char *what, int err) {
    char msg[160];
    int n = snprintf(msg, sizeof msg, "oom.c:%d: %s: unexpected errno %d (%s)\n",
        line, what, err, strerror(err));
    mode = OFF;
    if(n > 0) (void)!write(2, msg, (size_t)n);
    _exit(2);
}

/* A call returned -1: fine if errno is ENOMEM or one of `also` (errors that
   follow from an earlier allocation failure, e.g. a partner coroutine that
   could not start). Returns 0 so that the caller skips what depended on it. */
#define TOLERATE(r, what, ...) tolerate_((r), __LINE__, what, (int[]){__VA_ARGS__, 0})
static int tolerate_(long r, int line, const char *what, const int *also) {
    if(r != -1) return 1;
    int e = errno;
    if(e == ENOMEM) return 0;
    for(; *also; also++) if(e == *also) return 0;
    bad(line, what, e);
    return 0;
}

#define D(ms) (now() + (ms))

coroutine void echo(int ch) {
    int v;
    while(chrecv(ch, &v, sizeof v, D(2000)) == 0) {
        v++;
        if(chsend(ch, &v, sizeof v, D(2000)) != 0) break;
    }
}

coroutine void sleeper(int ms) {
    msleep(D(ms));
}

coroutine void sender(int ch, int v) {
    chsend(ch, &v, sizeof v, D(2000));
}

static void channels(void) {
    int ch[2];
    if(!TOLERATE(chmake(ch), "chmake", 0)) return;
    int h = go(echo(ch[1]));
    if(TOLERATE(h, "go", 0)) {
        for(int i = 0; i < 3; i++) {
            int v = i;
            /* The echo's own wait may have failed and ended it: then a
               send finds nobody (ETIMEDOUT). */
            if(!TOLERATE(chsend(ch[0], &v, sizeof v, D(500)), "chsend", ETIMEDOUT)) break;
            if(!TOLERATE(chrecv(ch[0], &v, sizeof v, D(500)), "chrecv", ETIMEDOUT)) break;
            if(v != i + 1) bad(__LINE__, "echo value", 0);
        }
        if(hclose(h) != 0) bad(__LINE__, "hclose(go)", errno);
    }
    int d = hdup(ch[0]);
    if(TOLERATE(d, "hdup", 0) && hclose(d) != 0) bad(__LINE__, "hclose(dup)", errno);
    if(hclose(ch[0]) != 0 || hclose(ch[1]) != 0) bad(__LINE__, "hclose(ch)", errno);
}

static void choosing(void) {
    int a[2], b[2];
    if(!TOLERATE(chmake(a), "chmake", 0)) return;
    if(TOLERATE(chmake(b), "chmake", 0)) {
        int va = 0, vb = 0;
        struct chclause cl[2] = {{CHRECV, a[0], &va, sizeof va}, {CHRECV, b[0], &vb, sizeof vb}};
        int r = choose(cl, 2, D(5));
        if(r != -1 || (errno != ETIMEDOUT && errno != ENOMEM)) bad(__LINE__, "choose (timeout)", errno);
        int h = go(sender(b[1], 42));
        if(TOLERATE(h, "go", 0)) {
            r = choose(cl, 2, D(1000));
            if(TOLERATE(r, "choose", ETIMEDOUT) && (r != 1 || vb != 42)) bad(__LINE__, "choose value", 0);
            if(hclose(h) != 0) bad(__LINE__, "hclose(go)", errno);
        }
        hclose(b[0]);
        hclose(b[1]);
    }
    hclose(a[0]);
    hclose(a[1]);
}

static void sleeping(void) {
    if(!TOLERATE(msleep(D(1)), "msleep", 0)) return;
    int b = bundle();
    if(!TOLERATE(b, "bundle", 0)) return;
    for(int i = 0; i < 12; i++) {
        if(!TOLERATE(bundle_go(b, sleeper(1 + i % 3)), "bundle_go", 0)) break;
    }
    static char mem[16384] __attribute__((aligned(16)));
    TOLERATE(bundle_go_mem(b, sleeper(2), mem, sizeof mem), "bundle_go_mem", 0);
    TOLERATE(bundle_wait(b, D(2000)), "bundle_wait", 0);
    int c = go(sleeper(1000));
    if(TOLERATE(c, "go", 0)) hclose(c); /* Canceled at once. */
    if(hclose(b) != 0) bad(__LINE__, "hclose(bundle)", errno);
}

static void ipc(void) {
    int s[2];
    if(!TOLERATE(ipc_pair(s), "ipc_pair", EMFILE)) return;
    char out[300], in[300];
    memset(out, 'x', sizeof out);
    if(TOLERATE(bsend(s[0], out, sizeof out, D(1000)), "bsend", 0) &&
       TOLERATE(brecv(s[1], in, sizeof in, D(1000)), "brecv", 0) &&
       memcmp(in, out, sizeof in) != 0)
        bad(__LINE__, "ipc data", 0);
    hclose(s[0]);
    hclose(s[1]);
}

coroutine void tcp_client(int port) {
    struct ipaddr r;
    if(ipaddr_remote(&r, "127.0.0.1", port, IPADDR_IPV4, D(1000)) != 0) return;
    int c = tcp_connect(&r, D(1000));
    if(c < 0) return;
    char buf[64];
    if(brecv(c, buf, sizeof buf, D(1000)) == 0) bsend(c, buf, sizeof buf, D(1000));
    tcp_close(c, D(500));
}

static void tcp(void) {
    struct ipaddr a;
    if(ipaddr_local(&a, "127.0.0.1", 0, IPADDR_IPV4) != 0) bad(__LINE__, "ipaddr_local", errno);
    int ls = tcp_listen(&a, 8);
    if(!TOLERATE(ls, "tcp_listen", 0)) return;
    int cl = go(tcp_client(ipaddr_port(&a)));
    if(TOLERATE(cl, "go", 0)) {
        /* The client may have failed to connect: then nobody comes. */
        int c = tcp_accept(ls, NULL, D(1000));
        if(TOLERATE(c, "tcp_accept", ETIMEDOUT)) {
            char out[64], in[64];
            memset(out, 'y', sizeof out);
            if(TOLERATE(bsend(c, out, sizeof out, D(1000)), "bsend", ECONNRESET, EPIPE) &&
               TOLERATE(brecv(c, in, sizeof in, D(1000)), "brecv", ECONNRESET, EPIPE, ETIMEDOUT) &&
               memcmp(in, out, sizeof in) != 0)
                bad(__LINE__, "tcp data", 0);
            hclose(c);
        }
        hclose(cl);
    }
    hclose(ls);
}

static void udp(void) {
    struct ipaddr a, b;
    if(ipaddr_local(&a, "127.0.0.1", 0, IPADDR_IPV4) != 0) bad(__LINE__, "ipaddr_local", errno);
    b = a;
    int s1 = udp_open(&a, NULL);
    if(!TOLERATE(s1, "udp_open", 0)) return;
    int s2 = udp_open(&b, NULL);
    if(TOLERATE(s2, "udp_open", 0)) {
        char out[100], in[200];
        memset(out, 'z', sizeof out);
        if(TOLERATE(udp_send(s1, &b, out, sizeof out), "udp_send", 0)) {
            struct ipaddr from;
            ssize_t n = udp_recv(s2, &from, in, sizeof in, D(1000));
            if(TOLERATE(n, "udp_recv", 0) && n != (ssize_t)sizeof out) bad(__LINE__, "udp size", 0);
        }
        hclose(s2);
    }
    hclose(s1);
}

static void addresses(void) {
    struct ipaddr a;
    /* An interface name goes through getifaddrs, which allocates. */
    TOLERATE(ipaddr_local(&a, "lo", 5555, 0), "ipaddr_local(lo)", 0);
    TOLERATE(ipaddr_remote(&a, "localhost", 80, 0, D(1000)), "ipaddr_remote(localhost)", 0);
    TOLERATE(ipaddr_remote(&a, "192.0.2.7", 80, IPADDR_IPV4, D(1000)), "literal", 0);
    /* Not in the hosts file: the DNS path (whatever the servers answer). */
    TOLERATE(ipaddr_remote(&a, "oom-test.example", 80, 0, D(30)), "ipaddr_remote(dns)",
        EADDRNOTAVAIL, ETIMEDOUT);
}

/* Many handles at once: the handle table grows (past 256, where the
   original's would). */
static void many_handles(void) {
    int ch[2];
    if(!TOLERATE(chmake(ch), "chmake", 0)) return;
    int d[300];
    int n = 0;
    while(n < 300 && TOLERATE(d[n] = hdup(ch[0]), "hdup", 0)) n++;
    for(int i = 0; i < n; i++)
        if(hclose(d[i]) != 0) bad(__LINE__, "hclose(dup)", errno);
    hclose(ch[0]);
    hclose(ch[1]);
}

/* choose over more clauses than fit on the stack; a big iolist for UDP. */
static void long_lists(void) {
    int ch[2];
    if(!TOLERATE(chmake(ch), "chmake", 0)) return;
    struct chclause cl[20];
    int v[20];
    for(int i = 0; i < 20; i++) cl[i] = (struct chclause){CHRECV, ch[0], &v[i], sizeof v[i]};
    int r = choose(cl, 20, D(2));
    if(r != -1 || (errno != ETIMEDOUT && errno != ENOMEM)) bad(__LINE__, "choose(20)", errno);
    hclose(ch[0]);
    hclose(ch[1]);

    struct ipaddr a, b;
    if(ipaddr_local(&a, "127.0.0.1", 0, IPADDR_IPV4) != 0) bad(__LINE__, "ipaddr_local", errno);
    b = a;
    int s1 = udp_open(&a, NULL);
    if(!TOLERATE(s1, "udp_open", 0)) return;
    int s2 = udp_open(&b, NULL);
    if(TOLERATE(s2, "udp_open", 0)) {
        static char piece[70][2];
        struct iolist io[70];
        for(int i = 0; i < 70; i++) piece[i][0] = piece[i][1] = (char)i;
        for(int i = 0; i < 70; i++)
            io[i] = (struct iolist){piece[i], sizeof piece[i], i + 1 < 70 ? &io[i + 1] : NULL, 0};
        if(TOLERATE(udp_sendl(s2, &a, &io[0], &io[69]), "udp_sendl", 0)) {
            /* The first bytes skipped (into the lazily allocated area). */
            char in[200];
            struct iolist r2 = {in, sizeof in, NULL, 0}, r1 = {NULL, 10, &r2, 0};
            ssize_t n = udp_recvl(s1, NULL, &r1, &r2, D(1000));
            if(TOLERATE(n, "udp_recvl", 0) && (n != 140 || in[0] != 5 || in[129] != 69))
                bad(__LINE__, "udp data", 0);
        }
        hclose(s2);
    }
    hclose(s1);
}

/* Bytes skipped on receive (NULL base) land in a lazily allocated area. */
static void skipping(void) {
    int s[2];
    if(!TOLERATE(ipc_pair(s), "ipc_pair", 0)) return;
    char out[5000];
    memset(out, 's', sizeof out);
    if(TOLERATE(bsend(s[0], out, sizeof out, D(1000)), "bsend", 0)) {
        struct iolist io = {NULL, sizeof out, NULL, 0};
        TOLERATE(brecvl(s[1], &io, &io, D(1000)), "brecvl(skip)", 0);
    }
    hclose(s[0]);
    hclose(s[1]);
}

/* A named UNIX socket, and a plain fd waited on (the fd table grows to a
   high descriptor number). */
coroutine void ipc_client(const char *path) {
    int c = ipc_connect(path, D(1000));
    if(c < 0) return;
    char buf[10];
    if(brecv(c, buf, sizeof buf, D(1000)) == 0) bsend(c, buf, sizeof buf, D(1000));
    ipc_close(c, D(500));
}

static void named_ipc(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/dill-oom-%d.sock", (int)getpid());
    unlink(path);
    int ls = ipc_listen(path, 4);
    if(!TOLERATE(ls, "ipc_listen", 0)) return;
    int cl = go(ipc_client(path));
    if(TOLERATE(cl, "go", 0)) {
        int c = ipc_accept(ls, D(1000));
        if(TOLERATE(c, "ipc_accept", ETIMEDOUT)) {
            char buf[10] = "0123456789";
            if(TOLERATE(bsend(c, buf, sizeof buf, D(1000)), "bsend", ECONNRESET, EPIPE))
                TOLERATE(brecv(c, buf, sizeof buf, D(1000)), "brecv", ECONNRESET, EPIPE, ETIMEDOUT);
            hclose(c);
        }
        hclose(cl);
    }
    hclose(ls);
    unlink(path);

    int p[2];
    if(pipe(p) != 0) return;
    int hi = fcntl(p[0], F_DUPFD_CLOEXEC, 200);
    if(hi >= 0) {
        if(write(p[1], "x", 1) != 1) bad(__LINE__, "write", errno);
        TOLERATE(fdin(hi, D(1000)), "fdin", 0);
        TOLERATE(fdout(p[1], D(1000)), "fdout", 0);
        fdclean(hi);
        fdclean(p[1]);
        close(hi);
    }
    close(p[0]);
    close(p[1]);
}

/* A handle of the program's own making. */
static void user_close(struct hvfs *vfs) { free(vfs); }
static void *user_query(struct hvfs *vfs, const void *type) { errno = ENOTSUP; return NULL; }

static void user_handle(void) {
    struct hvfs *vfs = malloc(sizeof *vfs);
    if(!vfs) return;
    *vfs = (struct hvfs){user_query, user_close, NULL, 0};
    int h = hmake(vfs);
    if(!TOLERATE(h, "hmake", 0)) { free(vfs); return; }
    if(hquery(h, "x") != NULL || errno != ENOTSUP) bad(__LINE__, "hquery", errno);
    if(hclose(h) != 0) bad(__LINE__, "hclose(user)", errno);
}

static void *thread_main(void *arg) {
    (void)arg;
    channels();
    sleeping();
    return NULL;
}

static void threads(void) {
    pthread_t t;
    if(pthread_create(&t, NULL, thread_main, NULL) != 0) return; /* EAGAIN: no memory. */
    pthread_join(t, NULL);
}

static int workload(void) {
    channels();
    choosing();
    sleeping();
    ipc();
    tcp();
    udp();
    addresses();
    many_handles();
    long_lists();
    skipping();
    named_ipc();
    user_handle();
    threads();
    return 0;
}

/* Once memory is back, everything works again: nothing was left broken by
   the failures (counts, tables, the thread's context). No failure is
   tolerated here. */
static void recovered(void) {
    int ch[2];
    if(chmake(ch) != 0) bad(__LINE__, "chmake after", errno);
    int h = go(echo(ch[1]));
    if(h < 0) bad(__LINE__, "go after", errno);
    int v = 7;
    if(chsend(ch[0], &v, sizeof v, D(1000)) != 0) bad(__LINE__, "chsend after", errno);
    if(chrecv(ch[0], &v, sizeof v, D(1000)) != 0 || v != 8) bad(__LINE__, "chrecv after", errno);
    int b = bundle();
    if(b < 0) bad(__LINE__, "bundle after", errno);
    for(int i = 0; i < 20; i++)
        if(bundle_go(b, sleeper(1)) != 0) bad(__LINE__, "bundle_go after", errno);
    if(bundle_wait(b, D(2000)) != 0) bad(__LINE__, "bundle_wait after", errno);
    if(msleep(D(1)) != 0) bad(__LINE__, "msleep after", errno);
    struct ipaddr a;
    if(ipaddr_remote(&a, "localhost", 80, IPADDR_IPV4, D(1000)) != 0) bad(__LINE__, "ipaddr_remote after", errno);
    hclose(b);
    hclose(h);
    hclose(ch[0]);
    hclose(ch[1]);
}

/* ---- the driver ----------------------------------------------------- */

static const char *self;

/* Runs the workload in a fresh process ("count", "one" or "from" with N),
   under valgrind if asked. Returns its wait status; the count run reports
   its allocation count through `*count`. */
static int run(const char *m, long n, int vg, long *count) {
    int p[2];
    if(pipe(p) != 0) { perror("pipe"); exit(1); }
    pid_t pid = fork();
    if(pid < 0) { perror("fork"); exit(1); }
    if(pid == 0) {
        close(p[0]);
        char ns[32], fd[32];
        snprintf(ns, sizeof ns, "%ld", n);
        snprintf(fd, sizeof fd, "%d", p[1]);
        if(!vg) {
            execl(self, self, "child", m, ns, fd, (char *)NULL);
        } else {
            /* nouserintercepts: valgrind replaces the C library's
               allocator but leaves this program's (which calls it). */
            execlp("valgrind", "valgrind", "-q", "--error-exitcode=99",
                "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
                "--show-leak-kinds=definite,indirect", "--soname-synonyms=somalloc=nouserintercepts",
                self, "child", m, ns, fd, (char *)NULL);
        }
        perror("exec");
        _exit(127);
    }
    close(p[1]);
    long c = -1;
    char buf[32];
    ssize_t k = read(p[0], buf, sizeof buf - 1);
    if(k > 0) { buf[k] = 0; c = atol(buf); }
    close(p[0]);
    int st;
    while(waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if(count) *count = c;
    return st;
}

static const char *describe(int st, char *buf, size_t len) {
    if(WIFEXITED(st)) snprintf(buf, len, "exit %d", WEXITSTATUS(st));
    else if(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) snprintf(buf, len, "hang (watchdog)");
    else if(WIFSIGNALED(st)) snprintf(buf, len, "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else snprintf(buf, len, "status %d", st);
    return buf;
}

/* Every N of 1..total in mode `m`; returns the number of failed runs. */
static int sweep(const char *m, long total, long stride, int vg) {
    int failed = 0, ran = 0;
    time_t t0 = time(NULL);
    for(long n = 1; n <= total; n += stride) {
        int st = run(m, n, vg, NULL);
        ran++;
        if(!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            char d[64];
            fprintf(stderr, "FAIL: mode %s%s, N=%ld: %s\n", m, vg ? " (valgrind)" : "", n,
                describe(st, d, sizeof d));
            failed++;
        }
    }
    fprintf(stderr, "mode %-4s%s: %d runs (N=1..%ld step %ld), %d failed, %lds\n", m,
        vg ? " valgrind" : "         ", ran, total, stride, failed, (long)(time(NULL) - t0));
    return failed;
}

static int child(char **argv) {
    const char *m = argv[2];
    fail_at = atol(argv[3]);
    int out = atoi(argv[4]);
    alarm(getenv("OOM_VG") ? 300 : 30);
    int md = !strcmp(m, "count") ? COUNT : !strcmp(m, "one") ? ONE : FROM;
    __atomic_store_n(&mode, md, __ATOMIC_SEQ_CST);
    int rc = workload();
    long c = __atomic_load_n(&calls, __ATOMIC_SEQ_CST);
    __atomic_store_n(&mode, OFF, __ATOMIC_SEQ_CST);
    recovered();
    char buf[32];
    int k = snprintf(buf, sizeof buf, "%ld", c);
    (void)!write(out, buf, (size_t)k);
    close(out);
    return rc;
}

int main(int argc, char **argv) {
    if(argc == 5 && !strcmp(argv[1], "child")) return child(argv);
    self = "/proc/self/exe";
    static char path[4096];
    ssize_t k = readlink("/proc/self/exe", path, sizeof path - 1);
    if(k > 0) { path[k] = 0; self = path; }

    long total;
    int st = run("count", 0, 0, &total);
    char d[64];
    if(!(WIFEXITED(st) && WEXITSTATUS(st) == 0) || total <= 0) {
        fprintf(stderr, "FAIL: the workload without injected failures: %s\n", describe(st, d, sizeof d));
        return 1;
    }
    fprintf(stderr, "workload: %ld allocations\n", total);
    /* A little past the end too: N beyond the last allocation fails none. */
    int failed = sweep("one", total + 1, 1, 0);
    failed += sweep("from", total + 1, 1, 0);
    if(!getenv("OOM_NO_VALGRIND")) {
        setenv("OOM_VG", "1", 1);
        long vtotal;
        st = run("count", 0, 1, &vtotal);
        if(!(WIFEXITED(st) && WEXITSTATUS(st) == 0) || vtotal <= 0) {
            fprintf(stderr, "FAIL: the workload under valgrind: %s\n", describe(st, d, sizeof d));
            return 1;
        }
        fprintf(stderr, "workload under valgrind: %ld allocations\n", vtotal);
        long stride = getenv("OOM_STRIDE") ? atol(getenv("OOM_STRIDE")) : 1;
        failed += sweep("one", vtotal, stride < 1 ? 1 : stride, 1);
        /* Every 4th N of the other mode: its runs end early and alike. */
        failed += sweep("from", vtotal, stride < 1 ? 4 : 4 * stride, 1);
    }
    fprintf(stderr, "%s: %d failed runs\n", failed ? "FAIL" : "pass", failed);
    return failed ? 1 : 0;
}
