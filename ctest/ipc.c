/* IPC (UNIX domain) sockets: ipc_listen(_mem), ipc_accept(_mem),
   ipc_connect(_mem), ipc_close, ipc_pair(_mem): path errors, every errno
   of the ipc_accept_mem man page (but ENFILE), deadlines, cancelation,
   half-close, resets and large transfers. Socket files live in a private
   directory made with mkdtemp. */
#include <libdill.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "sockutil.h"

static char dir[64];

static const char *path_of(const char *name) {
    static char paths[8][200];
    static int next;
    char *p = paths[next++ % 8];
    scratch_path(p, 200, dir, name);
    return p;
}

struct outcome {
    int done;
    long rc;
    int err;
};

static struct outcome blocked;

static void outcome_check(const struct outcome *o, long rc, int err) {
    if(!o->done || o->rc != rc || (rc == -1 && o->err != err)) {
        fprintf(stderr, "coroutine outcome: done=%d rc=%ld errno=%d (%s), "
            "expected rc=%ld errno=%d (%s)\n", o->done, o->rc, o->err,
            strerror(o->err), rc, err, strerror(err));
        abort();
    }
}

/* ------------------------------------------------------------------------ */
/* Sub-tests in forked children (resource limits, possible crashes).        */
/* ------------------------------------------------------------------------ */

/* accept fails with EMFILE when the process is out of descriptors, and
   works again once one is free. */
static void accept_emfile(void *unused) {
    const char *path = path_of("emfile");
    int ls = ipc_listen(path, 10);
    CHECK(ls >= 0);
    /* Whatever the library sets up lazily for waiting, it has it now. */
    CHECK_ERR(ipc_accept(ls, 0), ETIMEDOUT);
    int c = raw_ipc_connect(path);
    struct rlimit rl;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
    rl.rlim_cur = 64;
    CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
    int fill[64], n = 0;
    while(1) {
        int fd = dup(c);
        if(fd < 0) {
            CHECK(errno == EMFILE);
            break;
        }
        CHECK(n < 64);
        fill[n++] = fd;
    }
    CHECK_ERR(ipc_accept(ls, now() + 1000), EMFILE);
    GUARDED(g, IPC_SIZE);
    GUARD_SET(g);
    CHECK_ERR(ipc_accept_mem(ls, g.mem, now() + 1000), EMFILE);
    /* The pending connection is still there once descriptors are free. */
    for(int i = 0; i < 4 && n > 0; i++) CHECK_OK(close(fill[--n]));
    int s = ipc_accept_mem(ls, g.mem, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "ok", 2, now() + 1000));
    char buf[2];
    raw_recv(c, buf, 2);
    CHECK(memcmp(buf, "ok", 2) == 0);
    CHECK_OK(hclose(s));
    GUARD_CHECK(g);
    CHECK_OK(hclose(ls));
}

/* Grows the stack now, so that nothing later needs new stack pages. */
static __attribute__((noinline)) void touch_stack(void) {
    volatile char area[512 * 1024];
    for(size_t i = 0; i < sizeof(area); i += 4096) area[i] = 1;
}

/* Address space in use, in bytes. */
static size_t vm_size(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    CHECK(f);
    unsigned long pages;
    CHECK(fscanf(f, "%lu", &pages) == 1);
    fclose(f);
    return pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* Takes every byte malloc can still hand out. The blocks are chained
   through their own first word. Each size is tried until it fails, all
   the way down, so that no free chunk of any size class (allocator
   per-size caches included) is left for the code under test. */
static void *ballast;
static size_t ballast_bytes;

static void exhaust_heap(void) {
    size_t size = 64 << 20;
    while(size >= 4096) {
        void *p = malloc(size);
        if(p) {
            *(void**)p = ballast;
            ballast = p;
            ballast_bytes += size;
            continue;
        }
        size /= 2;
    }
    for(size = 4096; size >= sizeof(void*); size -= 8) {
        void *p;
        while((p = malloc(size)) != NULL) {
            *(void**)p = ballast;
            ballast = p;
            ballast_bytes += size;
        }
    }
}

static void release_heap(void) {
    while(ballast) {
        void *next = *(void**)ballast;
        free(ballast);
        ballast = next;
    }
}

/* ipc_accept (not the _mem one: that one allocates nothing) reports
   ENOMEM when the process cannot get memory. The address space is capped
   a little above what is in use, then the heap is used up. */
static void accept_enomem(void *unused) {
    const char *path = path_of("enomem");
    int ls = ipc_listen(path, 10);
    CHECK(ls >= 0);
    CHECK_ERR(ipc_accept(ls, 0), ETIMEDOUT);
    /* One full connection cycle first, so that lazily grown tables exist. */
    int c = raw_ipc_connect(path);
    int s = ipc_accept(ls, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(hclose(s));
    CHECK_OK(close(c));
    /* A connection waits to be accepted: without memory trouble the
       accept below would succeed at once. */
    c = raw_ipc_connect(path);
    touch_stack();
    struct rlimit rl;
    CHECK_OK(getrlimit(RLIMIT_AS, &rl));
    rl.rlim_cur = vm_size() + (4 << 20);
    CHECK_OK(setrlimit(RLIMIT_AS, &rl));
    exhaust_heap();
    CHECK(malloc(IPC_SIZE) == NULL);
    CHECK_ERR(ipc_accept(ls, now() + 1000), ENOMEM);
    release_heap();
    /* With memory back, accepting works again. (Whether the connection
       that waited is still there depends on whether the library accepted
       it before its allocation failed: a second one is made, and the
       accepted connection must be one of the two.) */
    int c2 = raw_ipc_connect(path);
    s = ipc_accept(ls, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "ok", 2, now() + 1000));
    struct pollfd pf[2] = {{c, POLLIN, 0}, {c2, POLLIN, 0}};
    CHECK(poll(pf, 2, 1000) == 1);
    char buf[2];
    raw_recv(pf[0].revents ? c : c2, buf, 2);
    CHECK(memcmp(buf, "ok", 2) == 0);
    CHECK_OK(hclose(s));
    CHECK_OK(close(c));
    CHECK_OK(close(c2));
    CHECK_OK(hclose(ls));
}

/* A NULL path is an invalid argument (libdill 2.6 passes it to strlen). */
static void null_path(void *unused) {
    GUARDED(g, IPC_SIZE);
    GUARDED(lg, IPC_LISTENER_SIZE);
    CHECK_ERR(ipc_listen(NULL, 10), EINVAL);
    CHECK_ERR(ipc_listen_mem(NULL, 10, lg.mem), EINVAL);
    CHECK_ERR(ipc_connect(NULL, now() + 1000), EINVAL);
    CHECK_ERR(ipc_connect_mem(NULL, g.mem, now() + 1000), EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Paths.                                                                   */
/* ------------------------------------------------------------------------ */

static void test_paths(void) {
    struct sockaddr_un su;
    const size_t maxlen = sizeof(su.sun_path) - 1;

    /* The longest path that fits (with its terminating zero) works... */
    char longest[sizeof(su.sun_path) + 8];
    size_t dl = strlen(dir);
    CHECK(dl + 2 <= maxlen);
    memset(longest, 'p', sizeof(longest));
    memcpy(longest, dir, dl);
    longest[dl] = '/';
    longest[maxlen] = 0;
    int ls = ipc_listen(longest, 10);
    CHECK(ls >= 0);
    int s = ipc_connect(longest, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(hclose(s));
    CHECK_OK(hclose(ls));
    /* ...one more byte does not. */
    longest[maxlen] = 'p';
    longest[maxlen + 1] = 0;
    GUARDED(g, IPC_SIZE);
    GUARDED(lg, IPC_LISTENER_SIZE);
    CHECK_ERR(ipc_listen(longest, 10), ENAMETOOLONG);
    CHECK_ERR(ipc_listen_mem(longest, 10, lg.mem), ENAMETOOLONG);
    CHECK_ERR(ipc_connect(longest, now() + 1000), ENAMETOOLONG);
    CHECK_ERR(ipc_connect_mem(longest, g.mem, now() + 1000), ENAMETOOLONG);
    char huge[5000];
    memset(huge, 'x', sizeof(huge));
    huge[sizeof(huge) - 1] = 0;
    CHECK_ERR(ipc_listen(huge, 10), ENAMETOOLONG);
    CHECK_ERR(ipc_connect(huge, now() + 1000), ENAMETOOLONG);

    /* Nothing at the path. */
    int64_t t0 = now();
    CHECK_ERR(ipc_connect(path_of("missing"), now() + 1000), ENOENT);
    CHECK_ERR(ipc_connect_mem(path_of("missing"), g.mem, now() + 1000),
        ENOENT);
    CHECK_QUICK(t0);
    /* Directory that does not exist. */
    CHECK_ERR(ipc_connect(path_of("nodir/sock"), now() + 1000), ENOENT);
    CHECK_ERR(ipc_listen(path_of("nodir/sock"), 10), ENOENT);
    /* A path component that is a plain file. */
    FILE *f = fopen(path_of("file"), "w");
    CHECK(f);
    fclose(f);
    CHECK_ERR(ipc_connect(path_of("file/sock"), now() + 1000), ENOTDIR);
    CHECK_ERR(ipc_listen(path_of("file/sock"), 10), ENOTDIR);
    /* A plain file is not listening; and the name is taken. */
    CHECK_ERR(ipc_connect(path_of("file"), now() + 1000), ECONNREFUSED);
    CHECK_ERR(ipc_listen(path_of("file"), 10), EADDRINUSE);
    /* A symbolic link loop. */
    CHECK_OK(symlink(path_of("loop"), path_of("loop")));
    CHECK_ERR(ipc_connect(path_of("loop/sock"), now() + 1000), ELOOP);
    CHECK_ERR(ipc_listen(path_of("loop/sock"), 10), ELOOP);
    CHECK_ERR(ipc_connect(path_of("loop"), now() + 1000), ELOOP);
    /* No permission (root is never refused). */
    if(geteuid() != 0) {
        CHECK_OK(mkdir(path_of("locked"), 0));
        CHECK_ERR(ipc_listen(path_of("locked/sock"), 10), EACCES);
        CHECK_ERR(ipc_connect(path_of("locked/sock"), now() + 1000), EACCES);
        CHECK_OK(rmdir(path_of("locked")));
    }

    /* A live listener owns its path. */
    GUARD_SET(lg);
    ls = ipc_listen_mem(path_of("busy"), 10, lg.mem);
    CHECK(ls >= 0);
    CHECK_ERR(ipc_listen(path_of("busy"), 10), EADDRINUSE);
    CHECK_OK(ipc_close(ls, 0));
    GUARD_CHECK(lg);
    /* The socket file outlives the listener: connecting is refused, and
       the path is still taken until somebody removes the file. */
    CHECK_ERR(ipc_connect(path_of("busy"), now() + 1000), ECONNREFUSED);
    CHECK_ERR(ipc_listen(path_of("busy"), 10), EADDRINUSE);
    CHECK_OK(unlink(path_of("busy")));
    ls = ipc_listen(path_of("busy"), 10);
    CHECK(ls >= 0);
    CHECK_OK(hclose(ls));

    /* The empty path names no file. */
    errno = 0;
    int h = ipc_listen("", 10);
    int e = errno;
    if(h >= 0) CHECK_OK(hclose(h));
    errno = e;
    CHECK_DOC(h == -1 && e == ENOENT,
        "ipc_listen(\"\") must fail with ENOENT (empty pathname)");
    errno = 0;
    h = ipc_connect("", now() + 1000);
    e = errno;
    if(h >= 0) CHECK_OK(hclose(h));
    errno = e;
    CHECK_DOC(h == -1 && e == ENOENT,
        "ipc_connect(\"\") must fail with ENOENT (empty pathname)");
}

/* ------------------------------------------------------------------------ */
/* Accept: every errno of the man page that can be produced here.           */
/* ------------------------------------------------------------------------ */

static coroutine void accept_forever(int ls, void *mem) {
    errno = 0;
    blocked.rc = mem ? ipc_accept_mem(ls, mem, -1) : ipc_accept(ls, -1);
    blocked.err = errno;
    blocked.done = 1;
}

static void test_accept(void) {
    GUARDED(g, IPC_SIZE);
    GUARD_SET(g);
    /* EBADF */
    CHECK_ERR(ipc_accept(-1, 0), EBADF);
    CHECK_ERR(ipc_accept(12345, 0), EBADF);
    CHECK_ERR(ipc_accept_mem(-1, g.mem, 0), EBADF);
    CHECK_ERR(ipc_accept_mem(12345, g.mem, 0), EBADF);
    /* ENOTSUP: a channel, a connection, a TCP listener. */
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(ipc_accept(ch[0], 0), ENOTSUP);
    CHECK_ERR(ipc_accept_mem(ch[0], g.mem, 0), ENOTSUP);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    int pr[2];
    CHECK_OK(ipc_pair(pr));
    CHECK_ERR(ipc_accept(pr[0], 0), ENOTSUP);
    CHECK_ERR(ipc_accept_mem(pr[0], g.mem, 0), ENOTSUP);
    CHECK_OK(hclose(pr[0]));
    CHECK_OK(hclose(pr[1]));
    struct ipaddr a;
    loop4(&a, 0);
    int tl = tcp_listen(&a, 10);
    CHECK(tl >= 0);
    CHECK_ERR(ipc_accept_mem(tl, g.mem, 0), ENOTSUP);
    CHECK_OK(hclose(tl));

    const char *path = path_of("accept");
    int ls = ipc_listen(path, 10);
    CHECK(ls >= 0);
    CHECK_ERR(tcp_accept(ls, NULL, 0), ENOTSUP);
    CHECK_ERR(bsend(ls, "x", 1, 0), ENOTSUP);
    /* EINVAL: no memory given. */
    CHECK_ERR(ipc_accept_mem(ls, NULL, 0), EINVAL);
    /* ETIMEDOUT */
    int64_t t0 = now();
    CHECK_ERR(ipc_accept_mem(ls, g.mem, 0), ETIMEDOUT);
    CHECK_QUICK(t0);
    t0 = now();
    CHECK_ERR(ipc_accept_mem(ls, g.mem, now() + 60), ETIMEDOUT);
    CHECK_TOOK(t0, 60);
    t0 = now();
    CHECK_ERR(ipc_accept(ls, now() + 60), ETIMEDOUT);
    CHECK_TOOK(t0, 60);
    /* ECANCELED, for both variants. */
    memset(&blocked, 0, sizeof(blocked));
    int cr = go(accept_forever(ls, g.mem));
    CHECK(cr >= 0);
    CHECK_OK(msleep(now() + 50));
    CHECK(!blocked.done);
    t0 = now();
    CHECK_OK(hclose(cr));
    CHECK_QUICK(t0);
    outcome_check(&blocked, -1, ECANCELED);
    memset(&blocked, 0, sizeof(blocked));
    cr = go(accept_forever(ls, NULL));
    CHECK(cr >= 0);
    CHECK_OK(msleep(now() + 50));
    CHECK_OK(hclose(cr));
    outcome_check(&blocked, -1, ECANCELED);
    /* After all that the listener works, into the same memory. */
    int c = raw_ipc_connect(path);
    int s = ipc_accept_mem(ls, g.mem, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(hclose(s));
    CHECK_OK(close(c));
    /* A blocked accept is woken by a connection. */
    memset(&blocked, 0, sizeof(blocked));
    cr = go(accept_forever(ls, g.mem));
    CHECK(cr >= 0);
    CHECK_OK(msleep(now() + 20));
    c = raw_ipc_connect(path);
    WAIT_FOR(blocked.done, 3000);
    CHECK(blocked.rc >= 0);
    CHECK_OK(hclose(blocked.rc));
    CHECK_OK(hclose(cr));
    CHECK_OK(close(c));
    GUARD_CHECK(g);
    /* ipc_close on a listener is hclose. */
    CHECK_OK(ipc_close(ls, 0));
    CHECK_ERR(ipc_accept(ls, 0), EBADF);
}

/* ------------------------------------------------------------------------ */
/* Exchange, half-close, EPIPE, resets.                                     */
/* ------------------------------------------------------------------------ */

static coroutine void halfclose_client(const char *path) {
    GUARDED(g, IPC_SIZE);
    GUARD_SET(g);
    int s = ipc_connect_mem(path, g.mem, now() + 1000);
    CHECK(s >= 0);
    char buf[8];
    CHECK_OK(brecv(s, buf, 5, now() + 1000));
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), EPIPE);
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), EPIPE);
    CHECK_OK(bsend(s, "world", 5, now() + 1000));
    CHECK_OK(ipc_close(s, now() + 1000));
    GUARD_CHECK(g);
}

static void test_halfclose(void) {
    const char *path = path_of("half");
    int ls = ipc_listen(path, 10);
    CHECK(ls >= 0);
    int cr;
    SPAWN(cr, halfclose_client(path));
    int s = ipc_accept(ls, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "hello", 5, now() + 1000));
    CHECK_OK(hdone(s, now() + 1000));
    CHECK_ERR(bsend(s, "x", 1, now() + 1000), EPIPE);
    CHECK_ERR(hdone(s, now() + 1000), EPIPE);
    char buf[8];
    CHECK_OK(brecv(s, buf, 5, now() + 1000));
    CHECK(memcmp(buf, "world", 5) == 0);
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), EPIPE);
    CHECK_OK(ipc_close(s, now() + 1000));
    CHECK_HANDLE_GONE(s);
    JOIN(cr);
    CHECK_OK(hclose(ls));
}

static void test_pair(void) {
    GUARDED(g, IPC_PAIR_SIZE);
    GUARD_SET(g);
    int p[2];
    CHECK_ERR(ipc_pair_mem(NULL, p), EINVAL);
    CHECK_OK(ipc_pair_mem(g.mem, p));
    CHECK(p[0] >= 0 && p[1] >= 0 && p[0] != p[1]);
    char buf[8];
    CHECK_OK(bsend(p[0], "ab", 2, now() + 1000));
    CHECK_OK(bsend(p[1], "cd", 2, now() + 1000));
    CHECK_OK(brecv(p[1], buf, 2, now() + 1000));
    CHECK(memcmp(buf, "ab", 2) == 0);
    CHECK_OK(brecv(p[0], buf, 2, now() + 1000));
    CHECK(memcmp(buf, "cd", 2) == 0);
    CHECK_ERR(mrecv(p[0], buf, 2, 0), ENOTSUP);
    CHECK_ERR(msend(p[0], buf, 2, 0), ENOTSUP);
    /* Deadlines. */
    int64_t t0 = now();
    CHECK_ERR(brecv(p[0], buf, 1, now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);
    CHECK(brecv(p[0], buf, 1, 0) == -1);
    /* p[1] finishes its side; p[0] may still send. */
    CHECK_OK(hdone(p[1], now() + 1000));
    CHECK_ERR(bsend(p[1], "x", 1, now() + 1000), EPIPE);
    CHECK_OK(bsend(p[0], "ef", 2, now() + 1000));
    CHECK_OK(brecv(p[1], buf, 2, now() + 1000));
    CHECK(memcmp(buf, "ef", 2) == 0);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
    GUARD_CHECK(g);

    /* ipc_close: orderly when the other end closes too. */
    CHECK_OK(ipc_pair(p));
    CHECK_OK(bsend(p[0], "bye", 3, now() + 1000));
    CHECK_OK(hdone(p[1], now() + 1000));
    t0 = now();
    CHECK_OK(ipc_close(p[0], now() + 1000));
    CHECK_QUICK(t0);
    CHECK_OK(brecv(p[1], buf, 3, now() + 1000));
    CHECK(memcmp(buf, "bye", 3) == 0);
    CHECK_ERR(brecv(p[1], buf, 1, now() + 1000), EPIPE);
    CHECK_OK(ipc_close(p[1], now() + 1000));
    /* ...and times out when it does not. */
    CHECK_OK(ipc_pair(p));
    t0 = now();
    CHECK_ERR(ipc_close(p[0], now() + 60), ETIMEDOUT);
    CHECK_TOOK(t0, 60);
    CHECK_HANDLE_GONE(p[0]);
    CHECK_OK(hclose(p[1]));
    /* Wrong kinds of handle. */
    CHECK_ERR(ipc_close(-1, 0), EBADF);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(ipc_close(ch[0], 0), ENOTSUP);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
}

static char *junk;
#define JUNK_LEN (32 << 20)

static coroutine void brecv_forever(int s) {
    char c;
    errno = 0;
    blocked.rc = brecv(s, &c, 1, -1);
    blocked.err = errno;
    blocked.done = 1;
}

static coroutine void bsend_forever(int s) {
    errno = 0;
    blocked.rc = bsend(s, junk, JUNK_LEN, -1);
    blocked.err = errno;
    blocked.done = 1;
}

static void cancel_blocked(int cr) {
    CHECK(cr >= 0);
    CHECK_OK(msleep(now() + 50));
    CHECK(!blocked.done);
    int64_t t0 = now();
    CHECK_OK(hclose(cr));
    CHECK_QUICK(t0);
    outcome_check(&blocked, -1, ECANCELED);
}

static void test_blocking(void) {
    const char *path = path_of("block");
    int ls = ipc_listen(path, 10);
    CHECK(ls >= 0);
    int c = raw_ipc_connect(path);
    int s = ipc_accept(ls, now() + 1000);
    CHECK(s >= 0);
    /* Full send buffer: bsend times out. */
    int64_t t0 = now();
    CHECK_ERR(bsend(s, junk, JUNK_LEN, now() + 100), ETIMEDOUT);
    CHECK_TOOK(t0, 100);
    CHECK(bsend(s, "x", 1, now() + 100) == -1);
    CHECK_OK(hclose(s));
    CHECK_OK(close(c));

    /* Cancelation of brecv and bsend. */
    c = raw_ipc_connect(path);
    s = ipc_accept(ls, now() + 1000);
    CHECK(s >= 0);
    memset(&blocked, 0, sizeof(blocked));
    cancel_blocked(go(brecv_forever(s)));
    memset(&blocked, 0, sizeof(blocked));
    cancel_blocked(go(bsend_forever(s)));
    CHECK_OK(hclose(s));
    CHECK_OK(close(c));

    /* Peer goes away without reading what we sent: ECONNRESET. */
    c = raw_ipc_connect(path);
    s = ipc_accept(ls, now() + 1000);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "unread", 6, now() + 1000));
    CHECK_OK(close(c));
    char buf[4];
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), ECONNRESET);
    CHECK_ERR(ipc_close(s, now() + 1000), ECONNRESET);
    CHECK_HANDLE_GONE(s);

    /* Peer goes away while we are blocked sending. */
    c = raw_ipc_connect(path);
    s = ipc_accept(ls, now() + 1000);
    CHECK(s >= 0);
    memset(&blocked, 0, sizeof(blocked));
    int cr = go(bsend_forever(s));
    CHECK(cr >= 0);
    CHECK_OK(msleep(now() + 50));
    CHECK(!blocked.done);
    CHECK_OK(close(c));
    WAIT_FOR(blocked.done, 3000);
    outcome_check(&blocked, -1, ECONNRESET);
    CHECK_OK(hclose(cr));
    CHECK_OK(hclose(s));

    /* Orderly end of stream from the peer: EPIPE, sticky. */
    c = raw_ipc_connect(path);
    s = ipc_accept(ls, now() + 1000);
    CHECK(s >= 0);
    raw_send(c, "end", 3);
    CHECK_OK(shutdown(c, SHUT_WR));
    CHECK_ERR(brecv(s, buf, 4, now() + 1000), EPIPE);
    CHECK_ERR(brecv(s, buf, 1, now() + 1000), EPIPE);
    /* tcp-style close: we finish, the peer sees the end and closes. */
    CHECK_OK(hdone(s, now() + 1000));
    CHECK(recv(c, buf, 1, 0) == 0);
    CHECK_OK(close(c));
    CHECK_OK(ipc_close(s, now() + 1000));
    CHECK_OK(hclose(ls));
}

/* ------------------------------------------------------------------------ */
/* Large transfers in both directions.                                      */
/* ------------------------------------------------------------------------ */

static const size_t send_chunks[] = {5, 1 << 20, 1, 2048, 65536, 3, 99999,
    7777, 2000};
static const size_t recv_chunks[] = {1000, 1, 2001, 131072, 17, 500000, 2,
    1999};
#define BULK_SEND(s, seed) \
    bulk_send(s, seed, send_chunks, NCHUNKS(send_chunks))
#define BULK_RECV(s, seed) \
    bulk_recv(s, seed, recv_chunks, NCHUNKS(recv_chunks))

static void both_ways(int a, int b) {
    int bn = bundle();
    CHECK(bn >= 0);
    CHECK(bundle_go(bn, BULK_SEND(a, 11)) == 0);
    CHECK(bundle_go(bn, BULK_RECV(a, 12)) == 0);
    CHECK(bundle_go(bn, BULK_SEND(b, 12)) == 0);
    CHECK(bundle_go(bn, BULK_RECV(b, 11)) == 0);
    CHECK_OK(bundle_wait(bn, now() + 20000));
    CHECK_OK(hclose(bn));
}

static void test_bulk(void) {
    /* Over a listener / connect pair on caller memory... */
    const char *path = path_of("bulk");
    GUARDED(lg, IPC_LISTENER_SIZE);
    GUARDED(ag, IPC_SIZE);
    GUARDED(cg, IPC_SIZE);
    GUARD_SET(lg);
    GUARD_SET(ag);
    GUARD_SET(cg);
    int ls = ipc_listen_mem(path, 10, lg.mem);
    CHECK(ls >= 0);
    int c = ipc_connect_mem(path, cg.mem, now() + 1000);
    CHECK(c >= 0);
    int s = ipc_accept_mem(ls, ag.mem, now() + 1000);
    CHECK(s >= 0);
    both_ways(s, c);
    CHECK_OK(hdone(c, now() + 1000));
    CHECK_OK(ipc_close(s, now() + 1000));
    CHECK_OK(ipc_close(c, now() + 1000));
    CHECK_OK(ipc_close(ls, now() + 1000));
    GUARD_CHECK(lg);
    GUARD_CHECK(ag);
    GUARD_CHECK(cg);
    /* ...and over a pair. */
    GUARDED(pg, IPC_PAIR_SIZE);
    GUARD_SET(pg);
    int p[2];
    CHECK_OK(ipc_pair_mem(pg.mem, p));
    both_ways(p[0], p[1]);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
    GUARD_CHECK(pg);
}

int main(void) {
    WATCHDOG(60);
    scratch_dir(dir);

    /* Forked sub-tests first, before this process registers sockets of
       its own with libdill (see run_child). */
    int st = run_child(accept_emfile, NULL, 10);
    if(!child_passed(st)) NOTE("EMFILE sub-test: %s", child_outcome(st));
    CHECK(child_passed(st));
    st = run_child(accept_enomem, NULL, 10);
    if(!child_passed(st)) NOTE("ENOMEM sub-test: %s", child_outcome(st));
    CHECK(child_passed(st));
    st = run_child(null_path, NULL, 10);
    if(!child_passed(st)) NOTE("NULL path sub-test: %s", child_outcome(st));
    CHECK_DOC(child_passed(st),
        "a NULL path must fail with EINVAL (Invalid argument)");

    junk = calloc(1, JUNK_LEN);
    CHECK(junk);
    test_paths();
    test_accept();
    test_halfclose();
    test_pair();
    test_blocking();
    test_bulk();
    free(junk);
    scratch_remove(dir);
    return 0;
}
