/* 2.14 _mem objects live in the caller's storage, at any alignment: the
   storage bytes change on creation, the bytes around it never do, the
   socket interface hquery hands out points into the storage, and the one
   allocation a connection makes beside it (its receive buffer) is freed at
   close; when it cannot be made the call fails with ENOMEM and leaves
   nothing behind. The same for UDP sockets, whose default remote address
   is what is kept beside them. Allocations are counted (and made to fail) by the malloc
   family defined here, which interposes the C library's for the process;
   under valgrind, whose allocator takes its place, memcheck's own leak
   check is asked instead. */
#include <libdill.h>
#include <libdillimpl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <valgrind/memcheck.h>

#include "../check.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static long live;     /* Allocations not yet freed. */
static int counting;  /* Check `live` (see main). */
#define COUNTED(cond) do { if(counting) CHECK(cond); } while(0)
static int failing;   /* Make every allocation fail. */

void *malloc(size_t n) {
    if(failing) { errno = ENOMEM; return NULL; }
    void *p = __libc_malloc(n);
    if(p) live++;
    return p;
}

void *calloc(size_t a, size_t b) {
    if(failing) { errno = ENOMEM; return NULL; }
    void *p = __libc_calloc(a, b);
    if(p) live++;
    return p;
}

void *realloc(void *p, size_t n) {
    if(failing) { errno = ENOMEM; return NULL; }
    void *q = __libc_realloc(p, n);
    if(!p && q) live++;
    if(p && !n && !q) live--;
    return q;
}

void free(void *p) {
    if(p) live--;
    __libc_free(p);
}

void *memalign(size_t a, size_t n) {
    if(failing) { errno = ENOMEM; return NULL; }
    void *p = __libc_memalign(a, n);
    if(p) live++;
    return p;
}

void *aligned_alloc(size_t a, size_t n) { return memalign(a, n); }

int posix_memalign(void **out, size_t a, size_t n) {
    if(a < sizeof(void *) || (a & (a - 1))) return EINVAL;
    void *p = memalign(a, n);
    if(!p) return ENOMEM;
    *out = p;
    return 0;
}

/* A storage of `size` bytes at offset `off` (0..7) inside a frame of
   canary bytes. */
#define PAD 16
#define CANARY 0xa5
struct frame {
    unsigned char b[PAD + 1400 + PAD];
    size_t size;
    int off;
};

static void *frame(struct frame *f, size_t size, int off) {
    CHECK(size <= 1400 - 8);
    memset(f->b, CANARY, sizeof(f->b));
    f->size = size;
    f->off = off;
    return f->b + PAD + off;
}

/* Nothing outside the storage was written. */
static void intact(const struct frame *f) {
    for(size_t i = 0; i != sizeof(f->b); i++) {
        if(i >= PAD + (size_t)f->off && i < PAD + f->off + f->size) continue;
        CHECK(f->b[i] == CANARY);
    }
}

/* The object was built in the storage. */
static void used(const struct frame *f) {
    intact(f);
    size_t changed = 0;
    for(size_t i = 0; i != f->size; i++)
        changed += f->b[PAD + f->off + i] != CANARY;
    CHECK(changed >= 16); /* At least the handle's function pointers. */
}

/* The interface `type` of handle h points into f's storage. */
static void inside(int h, const void *type, const struct frame *f) {
    const unsigned char *p = hquery(h, type);
    CHECK(p != NULL);
    CHECK(p >= f->b + PAD + f->off && p < f->b + PAD + f->off + f->size);
}

static void exchange(int a, int b) {
    /* Small (through the receive buffer) and large (past it) reads. */
    static char out[5000], in[5000];
    for(size_t i = 0; i != sizeof(out); i++) out[i] = (char)(i * 7);
    CHECK_OK(bsend(a, "ping", 4, -1));
    char buf[4];
    CHECK_OK(brecv(b, buf, 4, -1));
    CHECK(memcmp(buf, "ping", 4) == 0);
    CHECK_OK(bsend(b, out, sizeof(out), -1));
    CHECK_OK(brecv(a, in, 2, -1));
    CHECK_OK(brecv(a, in + 2, sizeof(in) - 2, -1));
    CHECK(memcmp(in, out, sizeof(out)) == 0);
}

static void connections(int off) {
    struct frame lf, cf, af;
    struct ipaddr addr;
    CHECK_OK(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4));
    long before = live;
    int ls = tcp_listen_mem(&addr, 10, frame(&lf, sizeof(struct tcp_listener_storage), off));
    CHECK(ls >= 0);
    used(&lf);
    COUNTED(live == before); /* The listener takes nothing else. */
    int s = tcp_connect_mem(&addr, frame(&cf, sizeof(struct tcp_storage), off), -1);
    CHECK(s >= 0);
    used(&cf);
    inside(s, bsock_type, &cf);
    int a = tcp_accept_mem(ls, NULL, frame(&af, sizeof(struct tcp_storage), off), -1);
    CHECK(a >= 0);
    used(&af);
    inside(a, bsock_type, &af);
    COUNTED(live == before + 2); /* A receive buffer each. */
    exchange(s, a);
    CHECK_OK(tcp_done(s, -1));
    CHECK_ERR(brecv(a, NULL, 1, -1), EPIPE);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(s));
    CHECK_OK(tcp_close(ls, -1));
    COUNTED(live == before);
    intact(&lf);
    intact(&cf);
    intact(&af);
}

static void adopted(int off) {
    struct frame lf, cf;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct ipaddr addr;
    CHECK_OK(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4));
    CHECK_OK(bind(lfd, ipaddr_sockaddr(&addr), ipaddr_len(&addr)));
    CHECK_OK(listen(lfd, 10));
    socklen_t len = sizeof(addr);
    CHECK_OK(getsockname(lfd, (struct sockaddr *)&addr, &len));
    long before = live;
    int ls = tcp_listener_fromfd_mem(lfd, frame(&lf, sizeof(struct tcp_listener_storage), off));
    CHECK(ls >= 0);
    used(&lf);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(fd, (struct sockaddr *)&addr, len));
    int s = tcp_fromfd_mem(fd, frame(&cf, sizeof(struct tcp_storage), off));
    CHECK(s >= 0);
    used(&cf);
    inside(s, bsock_type, &cf);
    int a = tcp_accept(ls, NULL, -1);
    CHECK(a >= 0);
    exchange(s, a);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(s));
    CHECK_OK(hclose(ls));
    COUNTED(live == before);
    intact(&lf);
    intact(&cf);
}

static char path[64];

static void unix_sockets(int off) {
    struct frame lf, cf, af, pf;
    unlink(path);
    long before = live;
    /* 24 bytes cannot hold a listener (its handle table entry alone takes
       32): it is allocated, the storage left alone. */
    int ls = ipc_listen_mem(path, 10, frame(&lf, sizeof(struct ipc_listener_storage), off));
    CHECK(ls >= 0);
    intact(&lf);
    long listener = live - before; /* Its object. */
    int s = ipc_connect_mem(path, frame(&cf, sizeof(struct ipc_storage), off), -1);
    CHECK(s >= 0);
    used(&cf);
    inside(s, bsock_type, &cf);
    int a = ipc_accept_mem(ls, frame(&af, sizeof(struct ipc_storage), off), -1);
    CHECK(a >= 0);
    used(&af);
    inside(a, bsock_type, &af);
    COUNTED(live == before + listener + 2);
    exchange(s, a);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(s));
    CHECK_OK(ipc_close(ls, -1));
    COUNTED(live == before);
    intact(&cf);
    intact(&af);
    unlink(path);

    int p[2];
    CHECK_OK(ipc_pair_mem(frame(&pf, sizeof(struct ipc_pair_storage), off), p));
    used(&pf);
    inside(p[0], bsock_type, &pf);
    inside(p[1], bsock_type, &pf);
    CHECK((char *)hquery(p[1], bsock_type) - (char *)hquery(p[0], bsock_type) >= 64);
    COUNTED(live == before + 2);
    exchange(p[0], p[1]);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
    COUNTED(live == before);
    intact(&pf);

    int sp[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
    int x = ipc_fromfd_mem(sp[0], frame(&cf, sizeof(struct ipc_storage), off));
    CHECK(x >= 0);
    used(&cf);
    inside(x, bsock_type, &cf);
    int y = ipc_fromfd(sp[1]);
    CHECK(y >= 0);
    exchange(x, y);
    CHECK_OK(hclose(x));
    CHECK_OK(hclose(y));
    COUNTED(live == before);
    intact(&cf);
}

/* A UDP socket is built in its storage; only its default remote address,
   if it has one, is allocated. */
static void datagrams(int off) {
    struct frame rf, nf;
    struct ipaddr a, b;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, IPADDR_IPV4));
    long before = live;
    int s = udp_open_mem(&a, NULL, frame(&nf, sizeof(struct udp_storage), off));
    CHECK(s >= 0);
    used(&nf);
    inside(s, msock_type, &nf);
    COUNTED(live == before);
    CHECK_OK(ipaddr_local(&b, "127.0.0.1", 0, IPADDR_IPV4));
    int r = udp_open_mem(&b, &a, frame(&rf, sizeof(struct udp_storage), off));
    CHECK(r >= 0);
    used(&rf);
    inside(r, msock_type, &rf);
    COUNTED(live == before + 1);
    /* The default remote, kept outside, is where msend goes. */
    CHECK_OK(msend(r, "dgram", 5, -1));
    char buf[8];
    struct ipaddr from;
    CHECK(udp_recv(s, &from, buf, sizeof(buf), -1) == 5);
    CHECK(memcmp(buf, "dgram", 5) == 0);
    CHECK(ipaddr_equal(&from, &b, 0));
    CHECK_OK(udp_send(s, &b, "back", 4));
    CHECK(mrecv(r, buf, sizeof(buf), -1) == 4);
    CHECK_OK(hclose(r));
    CHECK_OK(hclose(s));
    COUNTED(live == before);
    intact(&rf);
    intact(&nf);
}

/* Bundles and the protocols whose objects fit whole: in the storage too. */
static void protocols(int off) {
    static struct frame bf, hf, sf, wf;
    long before = live;
    int b = bundle_mem(frame(&bf, sizeof(struct bundle_storage), off));
    CHECK(b >= 0);
    used(&bf);
    CHECK_OK(hclose(b));
    COUNTED(live == before);
    int p[2];
    CHECK_OK(ipc_pair(p));
    int h = http_attach_mem(p[0], frame(&hf, sizeof(struct http_storage), off));
    CHECK(h >= 0);
    used(&hf);
    int x = suffix_attach_mem(p[1], "\r\n", 2, frame(&sf, sizeof(struct suffix_storage), off));
    CHECK(x >= 0);
    used(&sf);
    inside(x, msock_type, &sf);
    CHECK_OK(http_sendrequest(h, "GET", "/", -1));
    CHECK_OK(http_done(h, -1));
    char line[32];
    CHECK(mrecv(x, line, sizeof(line), -1) == 14);
    CHECK(memcmp(line, "GET / HTTP/1.1", 14) == 0);
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(x));
    CHECK_OK(ipc_pair(p));
    int w = ws_attach_client_mem(p[0], WS_NOHTTP, NULL, NULL, frame(&wf, sizeof(struct ws_storage), off), -1);
    CHECK(w >= 0);
    used(&wf);
    inside(w, msock_type, &wf);
    CHECK_OK(hclose(w));
    CHECK_OK(hclose(p[1]));
    intact(&bf);
    intact(&hf);
    intact(&sf);
    intact(&wf);
}

/* A TERM socket: in its storage, its terminal message allocated. */
static void terminal(int off) {
    static struct frame tf, xf;
    int p[2];
    CHECK_OK(ipc_pair(p));
    int x = suffix_attach_mem(p[0], "\n", 1, frame(&xf, sizeof(struct suffix_storage), off));
    CHECK(x >= 0);
    int y = suffix_attach(p[1], "\n", 1);
    CHECK(y >= 0);
    long before = live;
    int t = term_attach_mem(x, "STOP", 4, frame(&tf, sizeof(struct term_storage), off));
    CHECK(t >= 0);
    used(&tf);
    inside(t, msock_type, &tf);
    COUNTED(live == before + 1);
    CHECK_OK(msend(t, "data", 4, -1));
    CHECK_OK(term_done(t, -1));
    char buf[8];
    CHECK(mrecv(y, buf, sizeof(buf), -1) == 4);
    CHECK(memcmp(buf, "data", 4) == 0);
    CHECK(mrecv(y, buf, sizeof(buf), -1) == 4);
    CHECK(memcmp(buf, "STOP", 4) == 0);
    CHECK_OK(hclose(t)); /* And what it is on: the suffix, the pair's end. */
    COUNTED(live == before - 1);
    intact(&tf);
    intact(&xf);
    CHECK_OK(hclose(y));
}

/* With no memory to be had, a _mem connection fails with ENOMEM, takes
   nothing and leaves the storage's surroundings alone; a pending
   connection stays queued for a later accept. */
static void nomem(void) {
    struct frame lf, cf, af;
    struct ipaddr addr;
    CHECK_OK(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4));
    int ls = tcp_listen_mem(&addr, 10, frame(&lf, sizeof(struct tcp_listener_storage), 3));
    CHECK(ls >= 0);
    long before = live;
    failing = 1;
    int rc = tcp_connect_mem(&addr, frame(&cf, sizeof(struct tcp_storage), 5), -1);
    failing = 0;
    CHECK(rc == -1 && errno == ENOMEM);
    COUNTED(live == before);
    intact(&cf);
    int s = tcp_connect(&addr, -1);
    CHECK(s >= 0);
    before = live;
    failing = 1;
    rc = tcp_accept_mem(ls, NULL, frame(&af, sizeof(struct tcp_storage), 1), -1);
    failing = 0;
    CHECK(rc == -1 && errno == ENOMEM);
    COUNTED(live == before);
    intact(&af);
    int a = tcp_accept_mem(ls, NULL, frame(&af, sizeof(struct tcp_storage), 1), -1);
    CHECK(a >= 0);
    used(&af);
    exchange(s, a);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(s));

    struct frame pf;
    int p[2];
    before = live;
    failing = 1;
    rc = ipc_pair_mem(frame(&pf, sizeof(struct ipc_pair_storage), 7), p);
    failing = 0;
    CHECK(rc == -1 && errno == ENOMEM);
    COUNTED(live == before);
    intact(&pf);
    CHECK_OK(hclose(ls));

    /* UDP with a default remote, the one thing it keeps outside. */
    struct ipaddr la, ra;
    CHECK_OK(ipaddr_local(&la, "127.0.0.1", 0, IPADDR_IPV4));
    CHECK_OK(ipaddr_local(&ra, "127.0.0.1", 9, IPADDR_IPV4));
    before = live;
    failing = 1;
    rc = udp_open_mem(&la, &ra, frame(&pf, sizeof(struct udp_storage), 2));
    failing = 0;
    CHECK(rc == -1 && errno == ENOMEM);
    COUNTED(live == before);
    intact(&pf);

    /* TERM: the socket below is closed, as for any failed attach. */
    int q[2];
    CHECK_OK(ipc_pair(q));
    int x = suffix_attach_mem(q[0], "\n", 1, frame(&cf, sizeof(struct suffix_storage), 0));
    CHECK(x >= 0);
    before = live;
    failing = 1;
    rc = term_attach_mem(x, "STOP", 4, frame(&pf, sizeof(struct term_storage), 3));
    failing = 0;
    CHECK(rc == -1 && errno == ENOMEM);
    COUNTED(live == before - 1); /* The buffer of the pair's end below. */
    intact(&pf);
    CHECK_ERR(hclose(x), EBADF);
    CHECK_OK(hclose(q[1]));
}

int main(void) {
    snprintf(path, sizeof(path), "/tmp/dill214-storage-%d", (int)getpid());
    int vg = RUNNING_ON_VALGRIND;
    /* The first round also makes what the library keeps for good (the
       handle table, the poller's): counted from the second on. */
    for(int round = 0; round != 2; round++) {
        counting = round == 1 && !vg;
        for(int off = 0; off != 8; off++) {
            connections(off);
            adopted(off);
            unix_sockets(off);
            datagrams(off);
            protocols(off);
            terminal(off);
        }
    }
    if(!vg) {
        nomem();
    } else {
        unsigned long lost, dubious, reachable, suppressed;
        VALGRIND_DO_LEAK_CHECK;
        VALGRIND_COUNT_LEAKS(lost, dubious, reachable, suppressed);
        CHECK(lost == 0 && dubious == 0);
        (void)reachable;
        (void)suppressed;
    }
    return 0;
}
