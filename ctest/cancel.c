/* Cancellation: hclose() on a coroutine's bundle makes every blocking call
   in it fail with ECANCELED, immediately and from then on, and returns only
   once the coroutine has finished. */
#include <libdillimpl.h>
#include <fcntl.h>

#include "check.h"

enum {
    OP_MSLEEP, OP_YIELD, OP_CHSEND, OP_CHRECV, OP_CHOOSE, OP_CHOOSE_EMPTY,
    OP_FDIN, OP_FDOUT, OP_BUNDLE_WAIT, NOPS
};
static const char *opname[NOPS] = {
    "msleep", "yield", "chsend", "chrecv", "choose", "choose(0 clauses)",
    "fdin", "fdout", "bundle_wait"
};

static int ch[2];          /* nobody ever talks on it */
static int empty_pipe[2];  /* never written: fdin blocks */
static int full_pipe[2];   /* filled up: fdout blocks */
static int ready_pipe[2];  /* has data and room: both directions ready */
static int inner;          /* bundle with a coroutine that never ends */
static int finished[NOPS];

/* Perform a blocking operation that can never complete by itself. */
static int block_forever(int op) {
    int v = 0;
    struct chclause cl[] = {
        {CHRECV, ch[0], &v, sizeof(v)},
        {CHSEND, ch[0], &v, sizeof(v)},
    };
    switch(op) {
    case OP_MSLEEP: return msleep(-1);
    case OP_YIELD: return yield(); /* never blocks, but must fail */
    case OP_CHSEND: return chsend(ch[0], &v, sizeof(v), -1);
    case OP_CHRECV: return chrecv(ch[0], &v, sizeof(v), -1);
    case OP_CHOOSE: return choose(cl, 2, -1);
    case OP_CHOOSE_EMPTY: return choose(NULL, 0, -1);
    case OP_FDIN: return fdin(empty_pipe[0], -1);
    case OP_FDOUT: return fdout(full_pipe[1], -1);
    case OP_BUNDLE_WAIT: return bundle_wait(inner, -1);
    }
    abort();
}

coroutine void forever(void) {
    CHECK_ERR(msleep(-1), ECANCELED);
}

coroutine void never_started(int *flag) {
    *flag = 1;
}

static void *dummy_query(struct hvfs *vfs, const void *type) {
    (void)vfs; (void)type;
    errno = ENOTSUP;
    return NULL;
}

static void dummy_close(struct hvfs *vfs) {
    (void)vfs;
}

coroutine void victim(int op) {
    if(op == OP_YIELD) {
        /* Spin on yield until the cancellation arrives. (Upstream only
           checks timers about once a second while some coroutine is always
           ready, so this case takes ~1 s there.) */
        int rc;
        while((rc = yield()) == 0) {}
        CHECK(rc == -1 && errno == ECANCELED);
    }
    else {
        CHECK_ERR(block_forever(op), ECANCELED);
    }

    /* From now on every blocking call fails straight away, including ones
       that could complete without blocking. */
    int64_t t0 = now();
    for(int round = 0; round != 2; ++round)
        for(int k = 0; k != NOPS; ++k)
            CHECK_ERR(block_forever(k), ECANCELED);
    int v = 0;
    CHECK_ERR(msleep(0), ECANCELED);
    CHECK_ERR(msleep(now() + 10), ECANCELED);
    CHECK_ERR(chrecv(ch[0], &v, sizeof(v), 0), ECANCELED);
    CHECK_ERR(fdin(ready_pipe[0], 0), ECANCELED);
    CHECK_ERR(fdout(ready_pipe[1], 0), ECANCELED);
    CHECK_ERR(bundle_wait(inner, now() + 1000), ECANCELED);

    /* Creating new objects is refused as well. */
    int tmp[2];
    char chmem[CHSIZE];
    CHECK_ERR(chmake(tmp), ECANCELED);
    CHECK_ERR(chmake_mem(chmem, tmp), ECANCELED);
    int started = 0;
    CHECK_ERR(go(never_started(&started)), ECANCELED);
    CHECK_ERR(bundle_go(inner, never_started(&started)), ECANCELED);
    CHECK(!started);
    struct hvfs vfs = {dummy_query, dummy_close, NULL, 0};
    CHECK_ERR(hmake(&vfs), ECANCELED);
    CHECK_QUICK(t0);

    /* Non-blocking work still runs; the closer waits for it. */
    volatile unsigned acc = 0; /* wraps: int would overflow */
    for(int i = 0; i != 100000; ++i) acc += i;
    finished[op] = 1;
}

int main(void) {
    WATCHDOG(30);
    CHECK_OK(chmake(ch));
    CHECK_OK(pipe(empty_pipe));
    CHECK_OK(pipe(full_pipe));
    CHECK_OK(pipe(ready_pipe));
    CHECK(fcntl(full_pipe[1], F_SETFL, O_NONBLOCK) == 0);
    static char junk[4096];
    while(write(full_pipe[1], junk, sizeof(junk)) > 0) {}
    CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
    CHECK(write(ready_pipe[1], "r", 1) == 1);
    inner = bundle();
    CHECK(inner >= 0);
    CHECK_OK(bundle_go(inner, forever()));

    for(int op = 0; op != NOPS; ++op) {
        int h = go(victim(op));
        if(h < 0) {
            fprintf(stderr, "go(victim(%s)) failed\n", opname[op]);
            CHECK(h >= 0);
        }
        /* Let it settle into its blocking call. */
        CHECK_OK(msleep(now() + 20));
        if(finished[op]) {
            fprintf(stderr, "%s returned before cancellation\n", opname[op]);
            CHECK(!finished[op]);
        }
        int64_t t0 = now();
        CHECK_OK(hclose(h));
        if(!finished[op]) {
            fprintf(stderr, "hclose returned before the %s victim "
                "finished\n", opname[op]);
            CHECK(finished[op]);
        }
        CHECK_QUICK(t0);
        /* The main coroutine itself is not affected. */
        CHECK_OK(msleep(now() + 1));
        CHECK_OK(yield());
    }

    /* The same, but cancelling everything at once via one bundle. */
    memset(finished, 0, sizeof(finished));
    int b = bundle();
    CHECK(b >= 0);
    CHECK_OK(bundle_go(b, victim(OP_MSLEEP)));
    CHECK_OK(bundle_go(b, victim(OP_CHRECV)));
    CHECK_OK(bundle_go(b, victim(OP_CHOOSE_EMPTY)));
    CHECK_OK(bundle_go(b, victim(OP_BUNDLE_WAIT)));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(b));
    CHECK(finished[OP_MSLEEP] && finished[OP_CHRECV]);
    CHECK(finished[OP_CHOOSE_EMPTY] && finished[OP_BUNDLE_WAIT]);

    CHECK_OK(hclose(inner));
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    return 0;
}
