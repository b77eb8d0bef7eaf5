/* Helpers shared by the socket tests: reproducible payloads, scratch
   directories for UNIX socket files, sub-tests in forked children,
   loopback addresses and plain POSIX sockets used as peers. */
#ifndef CTEST_SOCKUTIL_H
#define CTEST_SOCKUTIL_H

#include <libdill.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "check.h"

/* ---- payloads ----------------------------------------------------------
   A byte stream that both ends can generate independently: the sender
   fills buffers from it, the receiver compares what arrived against its
   own copy of the generator, so any lost, duplicated or reordered byte is
   caught at the exact offset. */

struct stream {
    uint64_t x;
    uint64_t offset;
};

static inline void stream_init(struct stream *st, uint64_t seed) {
    st->x = (seed + 1) * 0x9e3779b97f4a7c15ULL;
    if(!st->x) st->x = 1;
    st->offset = 0;
}

static inline uint8_t stream_next(struct stream *st) {
    uint64_t x = st->x;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    st->x = x;
    st->offset++;
    return (uint8_t)(x >> 29);
}

static inline void stream_fill(struct stream *st, void *buf, size_t len) {
    uint8_t *p = buf;
    for(size_t i = 0; i < len; i++) p[i] = stream_next(st);
}

/* Advances the stream by len bytes without producing them. */
static inline void stream_skip(struct stream *st, size_t len) {
    for(size_t i = 0; i < len; i++) (void)stream_next(st);
}

/* Aborts with the stream offset if buf is not the next len bytes. */
static inline void stream_expect(struct stream *st, const void *buf,
      size_t len) {
    const uint8_t *p = buf;
    for(size_t i = 0; i < len; i++) {
        uint64_t off = st->offset;
        uint8_t want = stream_next(st);
        if(p[i] != want) {
            fprintf(stderr, "payload mismatch at stream offset %llu: "
                "got 0x%02x, expected 0x%02x\n", (unsigned long long)off,
                p[i], want);
            abort();
        }
    }
}

/* ---- caller-supplied memory with guard zones ---------------------------
   The *_mem functions get exactly SIZE bytes; the guards on both sides
   catch an object that is bigger than the advertised size. */

#define GUARD_LEN 64
#define GUARD_BYTE 0xA5

#define GUARDED(name, size) \
    struct { \
        unsigned char front[GUARD_LEN]; \
        unsigned char mem[size]; \
        unsigned char back[GUARD_LEN]; \
    } __attribute__((aligned(16))) name

#define GUARD_SET(g) do { \
    memset((g).front, GUARD_BYTE, GUARD_LEN); \
    memset((g).back, GUARD_BYTE, GUARD_LEN); \
} while(0)

#define GUARD_CHECK(g) do { \
    for(int gi_ = 0; gi_ < GUARD_LEN; gi_++) { \
        CHECK((g).front[gi_] == GUARD_BYTE); \
        CHECK((g).back[gi_] == GUARD_BYTE); \
    } \
} while(0)

/* ---- scratch directory for UNIX socket files --------------------------- */

static inline void scratch_dir(char dir[64]) {
    snprintf(dir, 64, "/tmp/dill-ctest-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static inline void scratch_path(char *out, size_t outlen, const char *dir,
      const char *name) {
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    CHECK(n > 0 && (size_t)n < outlen);
}

/* Removes the directory and the socket files in it. */
static inline void scratch_remove(const char *dir) {
    DIR *d = opendir(dir);
    if(!d) return;
    struct dirent *e;
    char path[512];
    while((e = readdir(d)) != NULL) {
        if(!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if(strlen(dir) + strlen(e->d_name) + 2 > sizeof(path)) continue;
        strcpy(path, dir);
        strcat(path, "/");
        strcat(path, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* ---- sub-tests in a forked child ---------------------------------------
   For cases that may crash or hang on a broken library, and for resource
   limits that must not affect the rest of the test. Run them before the
   parent has sockets of its own registered with libdill: the poller's
   kernel object is shared with the child after fork(). */

static inline int run_child(void (*fn)(void *), void *arg, unsigned secs) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if(pid == 0) {
        alarm(secs);
        fn(arg);
        fflush(stdout);
        _exit(0);
    }
    int status;
    while(waitpid(pid, &status, 0) < 0) CHECK(errno == EINTR);
    return status;
}

static inline int child_passed(int status) {
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static inline const char *child_outcome(int status) {
    static char buf[64];
    if(WIFEXITED(status))
        snprintf(buf, sizeof(buf), "exit status %d", WEXITSTATUS(status));
    else if(WIFSIGNALED(status))
        snprintf(buf, sizeof(buf), "killed by signal %d (%s)",
            WTERMSIG(status), WTERMSIG(status) == SIGALRM ? "hung" :
            WTERMSIG(status) == SIGABRT ? "check failed" : "crashed");
    else
        snprintf(buf, sizeof(buf), "status 0x%x", status);
    return buf;
}

/* ---- coroutines that must run to completion ----------------------------
   SPAWN starts one in a bundle of its own; JOIN waits for it to finish on
   its own (hclose would cancel it, making its checks fail). */

#define SPAWN(b, call) do { \
    (b) = bundle(); \
    CHECK((b) >= 0); \
    CHECK(bundle_go((b), call) == 0); \
} while(0)

#define JOIN(b) do { \
    CHECK_OK(bundle_wait((b), now() + 10000)); \
    CHECK_OK(hclose(b)); \
} while(0)

/* Lets other coroutines run until cond holds (at most ms milliseconds). */
#define WAIT_FOR(cond, ms) do { \
    int64_t wf_ = now() + (ms); \
    while(!(cond) && now() < wf_) CHECK_OK(msleep(now() + 5)); \
    CHECK(cond); \
} while(0)

/* ---- handles ended by tcp_close / ipc_close ----------------------------
   "The socket is closed even in the case of error": the handle number must
   be invalid afterwards. libdill 2.6 frees the object but leaves its handle
   table entry pointing at the freed memory, so a later hclose frees it a
   second time; with CTEST_UPSTREAM this is therefore not checked. */
#ifdef CTEST_UPSTREAM
#define CHECK_HANDLE_GONE(h) ((void)(h))
#else
#define CHECK_HANDLE_GONE(h) CHECK_ERR(hclose(h), EBADF)
#endif

/* ---- addresses --------------------------------------------------------- */

static inline void loop4(struct ipaddr *a, int port) {
    CHECK_OK(ipaddr_local(a, "127.0.0.1", port, IPADDR_IPV4));
}

/* Whether ::1 can be bound here (IPv6 may be disabled). */
static inline int ipv6_available(void) {
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if(fd < 0) return 0;
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    int ok = bind(fd, (struct sockaddr*)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

/* ---- plain POSIX peers -------------------------------------------------
   Used where the peer must behave in a way libdill itself would not
   (reset the connection, stay silent, flood from another thread). Only
   calls that cannot block on a libdill peer of the same thread are made
   in blocking mode. */

/* Blocking connect: to a listener on this machine it completes through
   the accept queue without anybody calling accept. */
static inline int raw_tcp_connect(const struct ipaddr *a) {
    int fd = socket(ipaddr_family(a), SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK_OK(connect(fd, ipaddr_sockaddr(a), ipaddr_len(a)));
    return fd;
}

static inline int raw_ipc_connect(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_un su;
    memset(&su, 0, sizeof(su));
    su.sun_family = AF_UNIX;
    CHECK(strlen(path) < sizeof(su.sun_path));
    strcpy(su.sun_path, path);
    CHECK_OK(connect(fd, (struct sockaddr*)&su, sizeof(su)));
    return fd;
}

/* Closes with SO_LINGER 0, i.e. resets a TCP connection. */
static inline void raw_reset(int fd) {
    struct linger l = {1, 0};
    CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)));
    CHECK_OK(close(fd));
}

/* Sends what fits into the socket buffers; never blocks. */
static inline void raw_send(int fd, const void *buf, size_t len) {
    CHECK(send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len);
}

/* Non-blocking receive of exactly len bytes that must already be there
   or arrive within a second (the sender is another thread or process, or
   has already finished). */
static inline void raw_recv(int fd, void *buf, size_t len) {
    size_t got = 0;
    while(got < len) {
        struct pollfd p = {fd, POLLIN, 0};
        CHECK(poll(&p, 1, 1000) == 1);
        ssize_t n = recv(fd, (char*)buf + got, len - got, MSG_DONTWAIT);
        CHECK(n > 0);
        got += (size_t)n;
    }
}

/* ---- bulk transfers ----------------------------------------------------
   BULK bytes one way through a byte socket, in chunks whose sizes cycle
   through a table, by bsend/brecv and bsendl/brecvl in turn, with iolists
   of two or three pieces (one of them empty): the receiver checks every
   byte against its own copy of the stream. */

#define BULK (6u << 20)
#define NCHUNKS(a) (sizeof(a) / sizeof((a)[0]))

/* Splits buf[0..n) into an iolist of the given shape; returns its last
   piece. */
static inline struct iolist *bulk_pieces(struct iolist iol[3], uint8_t *buf,
      size_t n, unsigned shape) {
    size_t a = shape == 0 ? n / 2 : shape == 1 ? n / 3 : n / 4;
    size_t b = shape == 1 ? 0 : shape == 2 ? n / 4 : n - a;
    iol[0] = (struct iolist){buf, a, &iol[1], 0};
    iol[1] = (struct iolist){buf + a, b, NULL, 0};
    if(shape == 0) return &iol[1];
    iol[1].iol_next = &iol[2];
    iol[2] = (struct iolist){buf + a + b, n - a - b, NULL, 0};
    return &iol[2];
}

__attribute__((unused)) static coroutine void bulk_send(int s, uint64_t seed,
      const size_t *chunks, size_t nchunks) {
    struct stream st;
    stream_init(&st, seed);
    uint8_t *buf = malloc(1 << 20);
    CHECK(buf);
    size_t sent = 0;
    for(unsigned i = 0; sent < BULK; i++) {
        size_t n = chunks[i % nchunks];
        if(n > BULK - sent) n = BULK - sent;
        stream_fill(&st, buf, n);
        if(i % 2) {
            CHECK_OK(bsend(s, buf, n, now() + 10000));
        }
        else {
            struct iolist iol[3];
            struct iolist *last = bulk_pieces(iol, buf, n, (i / 2) % 3);
            CHECK_OK(bsendl(s, &iol[0], last, now() + 10000));
        }
        sent += n;
    }
    free(buf);
}

__attribute__((unused)) static coroutine void bulk_recv(int s, uint64_t seed,
      const size_t *chunks, size_t nchunks) {
    struct stream st;
    stream_init(&st, seed);
    uint8_t *buf = malloc(1 << 20);
    CHECK(buf);
    size_t got = 0;
    for(unsigned i = 0; got < BULK; i++) {
        size_t n = chunks[i % nchunks];
        if(n > BULK - got) n = BULK - got;
        if(i % 2) {
            CHECK_OK(brecv(s, buf, n, now() + 10000));
        }
        else {
            struct iolist iol[3];
            struct iolist *last = bulk_pieces(iol, buf, n, (i / 2 + 1) % 3);
            CHECK_OK(brecvl(s, &iol[0], last, now() + 10000));
        }
        stream_expect(&st, buf, n);
        got += n;
    }
    free(buf);
}

#endif
