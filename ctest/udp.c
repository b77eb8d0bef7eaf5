/* UDP: udp_open(_mem), udp_send/udp_recv, udp_sendl/udp_recvl and
   msend/mrecv(l) on UDP sockets over loopback: fixed and explicit remote
   addresses, message boundaries, size limits, truncation, deadlines and
   cancelation. */
#include <libdill.h>

#include "sockutil.h"

static struct {
    int done;
    long rc;
    int err;
} blocked;

/* Socket bound to 127.0.0.1 on a port the system picks (written back). */
static int open4(struct ipaddr *local, const struct ipaddr *remote) {
    loop4(local, 0);
    int s = udp_open(local, remote);
    CHECK(s >= 0);
    CHECK(ipaddr_port(local) > 0);
    return s;
}

static void same_endpoint(const struct ipaddr *a, const struct ipaddr *b) {
    char sa[IPADDR_MAXSTRLEN], sb[IPADDR_MAXSTRLEN];
    CHECK(ipaddr_family(a) == ipaddr_family(b));
    CHECK(strcmp(ipaddr_str(a, sa), ipaddr_str(b, sb)) == 0);
    CHECK(ipaddr_port(a) == ipaddr_port(b));
}

/* Reads until a message equal to 'marker' arrives (used to get past
   whatever an earlier check may have left in the queue). */
static void sync_on(int s, const char *marker) {
    char buf[256];
    for(int i = 0; i < 10; i++) {
        ssize_t n = mrecv(s, buf, sizeof(buf), now() + 1000);
        CHECK(n >= 0);
        if((size_t)n == strlen(marker) && memcmp(buf, marker, n) == 0)
            return;
    }
    CHECK(!"marker never arrived");
}

static void test_basics(void) {
    /* udp_open_mem on exactly UDP_SIZE bytes. */
    GUARDED(ga, UDP_SIZE);
    GUARDED(gb, UDP_SIZE);
    GUARD_SET(ga);
    GUARD_SET(gb);
    struct ipaddr la, lb;
    loop4(&la, 0);
    CHECK_ERR(udp_open_mem(&la, NULL, NULL), EINVAL);
    int a = udp_open_mem(&la, NULL, ga.mem);
    CHECK(a >= 0);
    CHECK(ipaddr_port(&la) > 0);
    /* b sends to a by default. */
    loop4(&lb, 0);
    int b = udp_open_mem(&lb, &la, gb.mem);
    CHECK(b >= 0);
    CHECK(ipaddr_port(&lb) > 0 && ipaddr_port(&lb) != ipaddr_port(&la));

    char buf[64];
    struct ipaddr from;
    CHECK_OK(msend(b, "one", 3, now() + 1000));
    CHECK(udp_recv(a, &from, buf, sizeof(buf), now() + 1000) == 3);
    CHECK(memcmp(buf, "one", 3) == 0);
    same_endpoint(&from, &lb);
    CHECK_OK(udp_send(b, NULL, "two", 3));
    CHECK(mrecv(a, buf, sizeof(buf), now() + 1000) == 3);
    CHECK(memcmp(buf, "two", 3) == 0);
    /* Explicit destination overrides the stored one. */
    CHECK_OK(udp_send(a, &from, "back", 4));
    CHECK(udp_recv(b, &from, buf, sizeof(buf), now() + 1000) == 4);
    CHECK(memcmp(buf, "back", 4) == 0);
    same_endpoint(&from, &la);
    CHECK_OK(udp_send(a, &lb, "again", 5));
    CHECK(mrecv(b, buf, sizeof(buf), now() + 1000) == 5);
    CHECK(memcmp(buf, "again", 5) == 0);
    /* Without a stored remote, msend and udp_send(NULL) have nowhere to
       send to. */
    CHECK_ERR(msend(a, "x", 1, now() + 1000), EINVAL);
    CHECK_ERR(udp_send(a, NULL, "x", 1), EINVAL);
    struct iolist iol = {"x", 1, NULL, 0};
    CHECK_ERR(msendl(a, &iol, &iol, now() + 1000), EINVAL);
    CHECK_ERR(udp_sendl(a, NULL, &iol, &iol), EINVAL);

    /* Not a byte stream; no hdone. */
    CHECK_ERR(bsend(a, "x", 1, 0), ENOTSUP);
    CHECK_ERR(brecv(a, buf, 1, 0), ENOTSUP);
    CHECK_ERR(hdone(a, 0), ENOTSUP);
    /* Bad handles and other kinds of handle. */
    CHECK_ERR(udp_send(-1, &la, "x", 1), EBADF);
    CHECK_ERR(udp_send(12345, &la, "x", 1), EBADF);
    CHECK_ERR(udp_recv(12345, NULL, buf, 1, 0), EBADF);
    CHECK_ERR(udp_sendl(12345, &la, &iol, &iol), EBADF);
    CHECK_ERR(udp_recvl(12345, NULL, &iol, &iol, 0), EBADF);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(udp_send(ch[0], &la, "x", 1), ENOTSUP);
    CHECK_ERR(udp_recv(ch[0], NULL, buf, 1, 0), ENOTSUP);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    int p[2];
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(udp_send(p[0], &la, "x", 1), ENOTSUP);
    CHECK_ERR(udp_recv(p[0], NULL, buf, 1, 0), ENOTSUP);
    CHECK_ERR(udp_sendl(p[0], &la, &iol, &iol), ENOTSUP);
    CHECK_ERR(udp_recvl(p[0], NULL, &iol, &iol, 0), ENOTSUP);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));

    CHECK_OK(hclose(a));
    CHECK_OK(hclose(b));
    GUARD_CHECK(ga);
    GUARD_CHECK(gb);

    /* No local address: the system binds one when sending; replies to the
       sender's address arrive. */
    int srv = open4(&la, NULL);
    int cli = udp_open(NULL, &la);
    CHECK(cli >= 0);
    CHECK_OK(msend(cli, "hi", 2, now() + 1000));
    CHECK(udp_recv(srv, &from, buf, sizeof(buf), now() + 1000) == 2);
    CHECK(ipaddr_port(&from) > 0);
    CHECK_OK(udp_send(srv, &from, "ho", 2));
    CHECK(mrecv(cli, buf, sizeof(buf), now() + 1000) == 2);
    CHECK(memcmp(buf, "ho", 2) == 0);
    CHECK_OK(hclose(cli));
    CHECK_OK(hclose(srv));

    /* Local and remote of different families. */
    if(ipv6_available()) {
        struct ipaddr l6;
        CHECK_OK(ipaddr_local(&l6, "::1", 0, IPADDR_IPV6));
        loop4(&la, 0);
        CHECK_ERR(udp_open(&la, &l6), EINVAL);
        CHECK_ERR(udp_open(&l6, &la), EINVAL);
    }
}

static void test_bind_errors(void) {
    /* A port held by a socket that did not ask for address reuse. */
    int raw = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(raw >= 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(bind(raw, (struct sockaddr*)&sin, sizeof(sin)));
    socklen_t len = sizeof(sin);
    CHECK_OK(getsockname(raw, (struct sockaddr*)&sin, &len));
    struct ipaddr used;
    loop4(&used, ntohs(sin.sin_port));
    errno = 0;
    int s = udp_open(&used, NULL);
    int e = errno;
    if(s >= 0) CHECK_OK(hclose(s));
    errno = e;
    CHECK_DOC(s == -1 && e == EADDRINUSE,
        "udp_open on a local address in use must fail with EADDRINUSE");
    CHECK_OK(close(raw));
    /* An address this machine does not have (nothing is sent). */
    struct ipaddr na;
    CHECK_OK(ipaddr_local(&na, "203.0.113.5", 0, IPADDR_IPV4));
    errno = 0;
    s = udp_open(&na, NULL);
    e = errno;
    if(s >= 0) CHECK_OK(hclose(s));
    errno = e;
    CHECK_DOC(s == -1 && e == EADDRNOTAVAIL,
        "udp_open on a non-local address must fail with EADDRNOTAVAIL");
}

static void test_boundaries(void) {
    struct ipaddr la, lb;
    int a = open4(&la, NULL);
    int b = open4(&lb, &la);
    /* Twenty messages of different sizes, zero included: each arrives
       as it was sent. */
    static uint8_t out[3000], in[4000];
    struct stream tx, rx;
    stream_init(&tx, 5);
    stream_init(&rx, 5);
    for(int i = 0; i < 20; i++) {
        size_t n = (size_t)(i * 150 + (i % 3));
        if(i == 7) n = 0;
        stream_fill(&tx, out, n);
        if(i % 2) CHECK_OK(msend(b, out, n, now() + 1000));
        else CHECK_OK(udp_send(b, NULL, out, n));
    }
    for(int i = 0; i < 20; i++) {
        size_t n = (size_t)(i * 150 + (i % 3));
        if(i == 7) n = 0;
        ssize_t got = (i % 2) ? mrecv(a, in, sizeof(in), now() + 1000) :
            udp_recv(a, NULL, in, sizeof(in), now() + 1000);
        CHECK(got == (ssize_t)n);
        stream_expect(&rx, in, n);
    }
    /* Nothing more. */
    CHECK_ERR(mrecv(a, in, sizeof(in), 0), ETIMEDOUT);

    /* Gather on sending, scatter on receiving. */
    char p1[] = "gat", p2[] = "her", p3[] = "ed!";
    struct iolist g[4] = {{p1, 3, &g[1], 0}, {NULL, 0, &g[2], 0},
        {p2, 3, &g[3], 0}, {p3, 3, NULL, 0}};
    CHECK_OK(msendl(b, &g[0], &g[3], now() + 1000));
    CHECK_OK(udp_sendl(b, NULL, &g[0], &g[3]));
    CHECK_OK(udp_sendl(a, &lb, &g[0], &g[3]));
    char s1[4], s2[2], s3[10];
    struct iolist sc[3] = {{s1, 4, &sc[1], 0}, {s2, 2, &sc[2], 0},
        {s3, 10, NULL, 0}};
    CHECK(mrecvl(a, &sc[0], &sc[2], now() + 1000) == 9);
    CHECK(memcmp(s1, "gath", 4) == 0 && memcmp(s2, "er", 2) == 0 &&
        memcmp(s3, "ed!", 3) == 0);
    struct ipaddr from;
    memset(s1, 0, sizeof(s1));
    CHECK(udp_recvl(a, &from, &sc[0], &sc[2], now() + 1000) == 9);
    CHECK(memcmp(s1, "gath", 4) == 0 && memcmp(s3, "ed!", 3) == 0);
    same_endpoint(&from, &lb);
    CHECK(udp_recvl(b, NULL, &sc[0], &sc[2], now() + 1000) == 9);
    /* The lists are as they were. */
    CHECK(g[0].iol_next == &g[1] && g[3].iol_next == NULL);
    CHECK(sc[0].iol_len == 4 && sc[2].iol_next == NULL && sc[1].iol_rsvd == 0);

    /* The largest IPv4 datagram goes through whole; one byte more is
       refused. */
    uint8_t *big = malloc(70000), *rbig = malloc(70000);
    CHECK(big && rbig);
    stream_init(&tx, 9);
    stream_fill(&tx, big, 70000);
    CHECK_OK(udp_send(b, &la, big, 65507));
    CHECK(mrecv(a, rbig, 70000, now() + 1000) == 65507);
    CHECK(memcmp(big, rbig, 65507) == 0);
    CHECK_ERR(udp_send(b, &la, big, 65508), EMSGSIZE);
    CHECK_ERR(msend(b, big, 70000, now() + 1000), EMSGSIZE);
    struct iolist two[2] = {{big, 40000, &two[1], 0}, {big, 30000, NULL, 0}};
    CHECK_ERR(udp_sendl(b, NULL, &two[0], &two[1]), EMSGSIZE);
    CHECK_ERR(msendl(b, &two[0], &two[1], now() + 1000), EMSGSIZE);
    free(big);
    free(rbig);
    CHECK_ERR(mrecv(a, in, sizeof(in), 0), ETIMEDOUT);

    /* A message larger than the buffer is not received partially. */
    CHECK_OK(msend(b, "0123456789", 10, now() + 1000));
    char small[4];
    CHECK_ERR_DOC(mrecv(a, small, sizeof(small), now() + 1000), EMSGSIZE,
        "mrecv into a buffer smaller than the message: EMSGSIZE");
    CHECK_OK(msend(b, "sync1", 5, now() + 1000));
    sync_on(a, "sync1");
    CHECK_OK(msend(b, "0123456789", 10, now() + 1000));
    CHECK_ERR_DOC(udp_recv(a, NULL, small, sizeof(small), now() + 1000),
        EMSGSIZE, "udp_recv into a buffer smaller than the message: EMSGSIZE");
    CHECK_OK(msend(b, "sync2", 5, now() + 1000));
    sync_on(a, "sync2");

    /* mrecvl(s, NULL, NULL): the message is dropped, its size returned. */
    CHECK_OK(msend(b, "dropped", 7, now() + 1000));
    errno = 0;
    ssize_t n = mrecvl(a, NULL, NULL, now() + 1000);
    CHECK_DOC(n == 7, "mrecvl with first and last NULL drops the message "
        "and returns its size");
    CHECK_OK(msend(b, "sync3", 5, now() + 1000));
    sync_on(a, "sync3");

    /* An iol_base of NULL skips bytes. */
    CHECK_OK(msend(b, "skip-keep", 9, now() + 1000));
    char keep[4];
    struct iolist sk[2] = {{NULL, 5, &sk[1], 0}, {keep, 4, NULL, 0}};
    errno = 0;
    n = mrecvl(a, &sk[0], &sk[1], now() + 1000);
    CHECK_DOC(n == 9 && memcmp(keep, "keep", 4) == 0,
        "mrecvl: iol_base NULL skips iol_len bytes");
    CHECK_OK(msend(b, "sync4", 5, now() + 1000));
    sync_on(a, "sync4");

    CHECK_OK(hclose(a));
    CHECK_OK(hclose(b));
}

static coroutine void recv_forever(int s, int which) {
    char buf[16];
    errno = 0;
    switch(which) {
    case 0: blocked.rc = mrecv(s, buf, sizeof(buf), -1); break;
    case 1: blocked.rc = udp_recv(s, NULL, buf, sizeof(buf), -1); break;
    default: {
        struct iolist iol = {buf, sizeof(buf), NULL, 0};
        blocked.rc = udp_recvl(s, NULL, &iol, &iol, -1);
    }
    }
    blocked.err = errno;
    blocked.done = 1;
}

static void test_deadlines(void) {
    struct ipaddr la, lb;
    int a = open4(&la, NULL);
    int b = open4(&lb, &la);
    char buf[16];
    struct iolist iol = {buf, sizeof(buf), NULL, 0};
    int64_t t0 = now();
    CHECK_ERR(mrecv(a, buf, sizeof(buf), 0), ETIMEDOUT);
    CHECK_ERR(udp_recv(a, NULL, buf, sizeof(buf), 0), ETIMEDOUT);
    CHECK_ERR(mrecvl(a, &iol, &iol, 0), ETIMEDOUT);
    CHECK_QUICK(t0);
    t0 = now();
    CHECK_ERR(udp_recv(a, NULL, buf, sizeof(buf), now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);
    t0 = now();
    CHECK_ERR(udp_recvl(a, NULL, &iol, &iol, now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);
    t0 = now();
    CHECK_ERR(mrecv(a, buf, sizeof(buf), now() + 50), ETIMEDOUT);
    CHECK_TOOK(t0, 50);
    /* A UDP socket stays usable after a timeout (messages are
       independent). */
    CHECK_OK(msend(b, "late", 4, now() + 1000));
    CHECK(mrecv(a, buf, sizeof(buf), now() + 1000) == 4);

    /* Cancelation of each kind of receive; then a waiting receive is
       woken by a message. */
    for(int which = 0; which < 3; which++) {
        memset(&blocked, 0, sizeof(blocked));
        int cr = go(recv_forever(a, which));
        CHECK(cr >= 0);
        CHECK_OK(msleep(now() + 50));
        CHECK(!blocked.done);
        t0 = now();
        CHECK_OK(hclose(cr));
        CHECK_QUICK(t0);
        CHECK(blocked.done && blocked.rc == -1 && blocked.err == ECANCELED);
    }
    memset(&blocked, 0, sizeof(blocked));
    int cr = go(recv_forever(a, 0));
    CHECK(cr >= 0);
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(msend(b, "wake", 4, now() + 1000));
    WAIT_FOR(blocked.done, 3000);
    CHECK(blocked.rc == 4);
    CHECK_OK(hclose(cr));
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(b));
}

static void test_ipv6(void) {
    if(!ipv6_available()) {
        NOTE("no IPv6 loopback; IPv6 part skipped");
        return;
    }
    struct ipaddr la, lb, from;
    CHECK_OK(ipaddr_local(&la, "::1", 0, IPADDR_IPV6));
    int a = udp_open(&la, NULL);
    CHECK(a >= 0);
    CHECK(ipaddr_port(&la) > 0);
    CHECK_OK(ipaddr_local(&lb, "::1", 0, IPADDR_IPV6));
    int b = udp_open(&lb, &la);
    CHECK(b >= 0);
    CHECK_OK(msend(b, "six", 3, now() + 1000));
    char buf[8];
    CHECK(udp_recv(a, &from, buf, sizeof(buf), now() + 1000) == 3);
    CHECK(memcmp(buf, "six", 3) == 0);
    same_endpoint(&from, &lb);
    CHECK_OK(udp_send(a, &from, "xis", 3));
    CHECK(mrecv(b, buf, sizeof(buf), now() + 1000) == 3);
    CHECK(memcmp(buf, "xis", 3) == 0);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(b));
}

/* A datagram may come in as many pieces as the kernel takes in one call
   (1024), in both directions; more is EMSGSIZE, and nothing is lost. */
#define MANY 1025
static struct iolist many_iol[MANY];
static uint8_t many_out[MANY], many_in[MANY];

static void chain(size_t n, uint8_t *buf) {
    for(size_t i = 0; i != n; ++i)
        many_iol[i] = (struct iolist){buf + i, 1,
            i + 1 < n ? &many_iol[i + 1] : NULL, 0};
}

static void test_many_pieces(void) {
    struct ipaddr la, lb;
    int a = open4(&la, NULL);
    int b = open4(&lb, NULL);
    for(size_t i = 0; i != MANY; ++i) many_out[i] = (uint8_t)(i * 7 + 1);
    size_t sizes[] = {65, 1024};
    for(size_t k = 0; k != 2; ++k) {
        size_t n = sizes[k];
        chain(n, many_out);
        CHECK_OK(udp_sendl(a, &lb, &many_iol[0], &many_iol[n - 1]));
        memset(many_in, 0, sizeof(many_in));
        chain(n, many_in);
        CHECK(udp_recvl(b, NULL, &many_iol[0], &many_iol[n - 1],
            now() + 1000) == (ssize_t)n);
        CHECK(memcmp(many_in, many_out, n) == 0);
    }
    chain(MANY, many_out);
    CHECK_ERR(udp_sendl(a, &lb, &many_iol[0], &many_iol[MANY - 1]), EMSGSIZE);
    CHECK_OK(hclose(a));
    CHECK_OK(hclose(b));
}

int main(void) {
    WATCHDOG(60);
    test_basics();
    test_bind_errors();
    test_boundaries();
    test_deadlines();
    test_ipv6();
    test_many_pieces();
    return 0;
}
