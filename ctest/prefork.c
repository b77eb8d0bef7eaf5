/* A pre-forking server: the parent makes a TCP listener on 127.0.0.1 and
   waits on it (so the listener is registered with the parent's poller),
   then forks. Every process keeps accepting on its copy: a forked child
   continues the parent's accepting coroutine on a poller of its own. One
   child closes its copy of the listener and leaves: the parent must go on
   accepting. Then three children and the parent serve 64 requests, eight
   at a time, each request sent only after a pause so that the servers wait
   for it: every request must get its answer (with one poller shared across
   fork, a child's close unregistered the parent's listener, and events of
   one process's connections were delivered to another). Clients are a
   thread of the parent using plain blocking sockets with timeouts. */
#include <libdill.h>
#include <netinet/tcp.h>
#include <pthread.h>

#include "sockutil.h"

enum {CHILDREN = 3, ROUNDS = 8, BATCH = 8, EARLY = 4};

static pid_t parent;
static int port;
static int done_pipe[2];
static int served_by_parent_early, answered, served_by_parent, served_by_child;

coroutine void serve(int s) {
    char req[4];
    if(brecv(s, req, sizeof(req), now() + 5000) != 0) { hclose(s); return; }
    char who = getpid() == parent ? 'P' : 'C';
    if(bsend(s, &who, 1, now() + 5000) != 0) { hclose(s); return; }
    hclose(s);
}

coroutine void acceptor(int ls) {
    int b = bundle();
    CHECK(b >= 0);
    while(1) {
        int s = tcp_accept(ls, NULL, -1);
        if(s < 0) break; /* the listener closed (or we are canceled) */
        CHECK_OK(bundle_go(b, serve(s)));
    }
    hclose(b);
}

/* One client connection: returns the server's answer, or 0 on timeout. */
static int open_client(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct timeval tv = {3, 0};
    CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(connect(fd, (struct sockaddr*)&sa, sizeof(sa)));
    return fd;
}

static char ask(int fd) {
    char who = 0;
    if(send(fd, "ping", 4, MSG_NOSIGNAL) != 4) { close(fd); return 0; }
    ssize_t n = recv(fd, &who, 1, MSG_WAITALL);
    close(fd);
    return n == 1 ? who : 0;
}

static void pause_ms(int ms) {
    struct timespec d = {0, ms * 1000000L};
    nanosleep(&d, NULL);
}

static void *early_clients(void *arg) {
    for(int i = 0; i < EARLY; ++i)
        served_by_parent_early += ask(open_client()) == 'P';
    CHECK(write(done_pipe[1], "e", 1) == 1);
    return NULL;
}

static void *clients(void *arg) {
    for(int r = 0; r < ROUNDS; ++r) {
        int fds[BATCH];
        for(int i = 0; i < BATCH; ++i) fds[i] = open_client();
        /* The servers accepted and now wait for the requests. */
        pause_ms(30);
        for(int i = 0; i < BATCH; ++i) {
            char who = ask(fds[i]);
            answered += who != 0;
            served_by_parent += who == 'P';
            served_by_child += who == 'C';
        }
    }
    CHECK(write(done_pipe[1], "d", 1) == 1);
    return NULL;
}

/* Waits (serving meanwhile) until the client thread says it is done. */
static void wait_done(void) {
    CHECK_OK(fdin(done_pipe[0], now() + 60000));
    char c;
    CHECK(read(done_pipe[0], &c, 1) == 1);
}

int main(void) {
    WATCHDOG(90);
    parent = getpid();
    CHECK_OK(pipe(done_pipe));
    struct ipaddr a;
    loop4(&a, 0);
    int ls = tcp_listen(&a, 64);
    CHECK(ls >= 0);
    port = ipaddr_port(&a);
    int acc = go(acceptor(ls));
    CHECK(acc >= 0);
    CHECK_OK(yield()); /* the acceptor now waits on the listener */

    /* A child that closes its copy of the listener and leaves. */
    int closed[2];
    CHECK_OK(pipe(closed));
    pid_t closer = fork();
    CHECK(closer >= 0);
    if(closer == 0) {
        if(hclose(ls) != 0) _exit(1);
        if(write(closed[1], "x", 1) != 1) _exit(1);
        /* The acceptor copied with us ends on the closed listener. */
        if(bundle_wait(acc, now() + 2000) != 0) _exit(2);
        _exit(0);
    }
    CHECK_OK(fdin(closed[0], now() + 10000));
    int status;
    CHECK(waitpid(closer, &status, 0) == closer);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* The parent still accepts. */
    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, early_clients, NULL));
    wait_done();
    CHECK_OK(pthread_join(t, NULL));
    NOTE("after a child closed its listener: %d of %d requests served by the parent",
        served_by_parent_early, EARLY);
    CHECK(served_by_parent_early == EARLY);

    /* Children that serve, next to the parent. */
    pid_t kids[CHILDREN];
    for(int i = 0; i < CHILDREN; ++i) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if(kids[i] == 0) {
            /* Serve (the acceptor goes on here) until killed. */
            msleep(now() + 60000);
            _exit(3);
        }
    }
    CHECK_OK(pthread_create(&t, NULL, clients, NULL));
    wait_done();
    CHECK_OK(pthread_join(t, NULL));
    for(int i = 0; i < CHILDREN; ++i) {
        CHECK_OK(kill(kids[i], SIGKILL));
        CHECK(waitpid(kids[i], &status, 0) == kids[i]);
    }
    NOTE("%d of %d requests answered (%d by the parent, %d by children)",
        answered, ROUNDS * BATCH, served_by_parent, served_by_child);
    CHECK(answered == ROUNDS * BATCH);
    CHECK(served_by_child > 0);
    CHECK_OK(hclose(acc));
    CHECK_OK(hclose(ls));
    return 0;
}
