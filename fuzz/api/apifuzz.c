/* apifuzz: a seeded random-API fuzzer for libdill.

     apifuzz [-s] [-v] [-t SECS] SEED [OPS]

   Several coroutines each run a random program of libdill calls on the
   handles that exist at the time: live ones of the right type, live ones
   of the wrong type, numbers closed a moment ago, garbage numbers, with
   deadlines of -1, 0, a few ms ahead and in the past. Coroutines close
   handles other coroutines use, cancel each other through go() handles and
   bundles, and exchange data over channels, IPC pairs, TCP and UDP on
   127.0.0.1. All randomness comes from SEED, so a seed replays a run (up to
   the timing of the network and of deadlines).

   Checked, besides "no crash":
   - every call returns its success value or -1 with an errno that the
     2.6 man page lists for it, and the exact errno where the outcome is
     known (EBADF for closed numbers, ENOTSUP for wrong types, ECANCELED
     in canceled coroutines, EPIPE/ECONNRESET after hdone and errors...);
     ETIMEDOUT only at or after a finite deadline, msleep not early,
     ECANCELED only in coroutines someone canceled;
   - bytes received on a connection are exactly the next bytes its peer
     sent on it (every direction has its own tagged byte stream, so bytes
     of another connection are caught), datagrams reach the socket they
     were sent to, from the sender's address, intact; channel messages
     come from the channel's other half, and sends that succeeded match
     receives that succeeded;
   - bundle_wait returning 0 means its coroutines ended; at the end every
     coroutine has ended, every handle closes, and no fd is left open;
   - the run ends: a watchdog alarm aborts with the seed on a hang.

   -s (or APIFUZZ_SAFE=1): never close a socket or channel while another
   coroutine is blocked on it, and never close coroutines in a cycle, so
   that other bugs can be found while those are open.
   -v (or APIFUZZ_TRACE=1): print every operation as it starts/ends. */

#include <libdill.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- randomness ------------------------------------------------------- */

static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* splitmix64: one state per coroutine, so that a coroutine's program does
   not depend on how the others interleave. */
static uint64_t rnd64(uint64_t *s) {
    *s += 0x9e3779b97f4a7c15ULL;
    return mix64(*s);
}

static uint32_t rnd(uint64_t *s, uint32_t n) {
    return n ? (uint32_t)(rnd64(s) % n) : 0;
}

/* Byte `off` of the stream tagged `tag`. */
static void gen(uint64_t tag, uint64_t off, uint8_t *p, size_t n) {
    size_t i = 0;
    while(i < n) {
        uint64_t o = off + i;
        uint64_t w = mix64(tag ^ ((o >> 3) * 0xd6e8feb86659fd93ULL));
        for(unsigned b = (unsigned)(o & 7); b < 8 && i < n; b++, i++)
            p[i] = (uint8_t)(w >> (b * 8));
    }
}

/* ---- state ------------------------------------------------------------- */

enum { T_CHAN = 1, T_CORO, T_BUNDLE, T_LISTEN, T_TCP, T_IPC, T_UDP, T_NTYPES };
static const char *tname[] = {"?", "chan", "coro", "bundle", "listener",
    "tcp", "ipc", "udp"};
#define M(t) (1u << (t))
#define M_STREAM (M(T_TCP) | M(T_IPC))
#define M_ALL 0xffu

/* Direction states of a connection end. D_CANC: the last call failed with
   ECANCELED, which may or may not have ended the direction (ours refuses
   a canceled coroutine before any I/O, leaving the stream usable; a call
   canceled while waiting ends it). */
enum { D_OK, D_DONE, D_ERR, D_CANC };

#define MAXOBJ 4096
#define MAXH 65536
#define MAXW 48
#define BUFSZ (256 * 1024 + 64)

struct obj {
    int type;
    int id;
    int nrefs;      /* live handle numbers */
    int dead;
    uint64_t dead_seq;   /* event number of its close */
    int nblocked;   /* calls in progress that may block on it */
    /* channel half */
    int chan_other;  /* the other half's obj */
    uint32_t ctag;   /* the channel's tag, shared by both halves */
    int half;
    int hdone_called;        /* hdone on this half succeeded */
    uint64_t sent, recvd;    /* messages sent from / received at this half */
    /* coroutine */
    int wid;
    /* stream end */
    int peer;                /* obj of the other end, -1 unknown */
    int orphan;              /* accepted end whose hello never came */
    int client;              /* made by tcp_connect, waiting to be accepted */
    uint64_t tx_tag, rx_tag; /* rx_tag 0: unknown yet */
    uint64_t tx_off, tx_end; /* sent OK / attempted */
    uint64_t rx_off;
    int tx_state, rx_state;
    int tx_busy, rx_busy;
    /* listener, udp */
    struct ipaddr addr;
    int port;
    int has_remote;
    uint32_t udp_seq;
};

struct worker {
    int id;
    int launched, started, finished;
    int cancel_req;   /* someone began closing its handle/bundle */
    uint64_t cancel_seq;
    int canceled;     /* it has seen ECANCELED */
    int in_close;     /* inside hclose of a coroutine or bundle */
    int is_main;
    int coro_obj, bundle_obj;
    uint64_t launch_seq;
    uint64_t rng;
    int nops, op;
    uint8_t *buf;
};

static struct obj objs[MAXOBJ];
static int nobjs;
static int hmap[MAXH];          /* number -> obj, FREE, CLOSING */
#define FREE (-1)
#define CLOSING (-2)
static int nums[MAXH], hpos[MAXH], nnums;
static unsigned hgen[MAXH];     /* bumped when a number is closed */
static int stale[32], nstale;
static struct worker workers[MAXW];
static int nworkers;
static int pending_go;
static uint64_t launch_seq;
static uint64_t evseq;          /* orders closes and cancellations */
static uint64_t tagctr;
static int ops_left, stop;
static uint64_t seed;
static int safe_mode, trace;
static int maxlive = 56;       /* handles open at once */
static uint32_t runid;
static int peaklive;
static long long total_calls;
static int64_t last_now;
static int pipefd[2];

/* ---- trace and failure ------------------------------------------------- */

#define RING 96
static char ring[RING][160];
static unsigned ringpos;

static void note(struct worker *w, const char *fmt, ...) {
    char *s = ring[ringpos++ % RING];
    int n = snprintf(s, 160, "w%d#%d ", w ? w->id : -1, w ? w->op : 0);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s + n, 160 - n, fmt, ap);
    va_end(ap);
    if(trace) fprintf(stderr, "%s\n", s);
}

static void dump_ring(void) {
    unsigned n = ringpos < RING ? ringpos : RING;
    fprintf(stderr, "last %u operations:\n", n);
    for(unsigned i = ringpos - n; i != ringpos; i++)
        fprintf(stderr, "  %s\n", ring[i % RING]);
}

static void fail(struct worker *w, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "apifuzz: FAIL seed=%llu%s: worker %d op %d: %s\n",
        (unsigned long long)seed, safe_mode ? " (-s)" : "",
        w ? w->id : -1, w ? w->op : 0, msg);
    dump_ring();
    fflush(stderr);
    abort();
}

static void on_alarm(int sig) {
    (void)sig;
    fprintf(stderr, "apifuzz: FAIL seed=%llu%s: hang (watchdog)\n",
        (unsigned long long)seed, safe_mode ? " (-s)" : "");
    dump_ring();
    for(int i = 0; i < nworkers; i++) {
        struct worker *w = &workers[i];
        if(w->launched && !w->finished)
            fprintf(stderr, "  worker %d running: op %d, cancel_req %d, "
                "in_close %d\n", i, w->op, w->cancel_req, w->in_close);
    }
    fflush(stderr);
    abort();
}

/* ---- errno lists from the 2.6 man pages --------------------------------- */

#define L(...) (const int[]){__VA_ARGS__, 0}
#define E_GO L(ECANCELED, EMFILE, ENFILE, ENOMEM)
#define E_CHMAKE L(ECANCELED, EMFILE, ENFILE, ENOMEM)
#define E_CHSEND L(EBADF, ECANCELED, EINVAL, EMSGSIZE, ENOTSUP, EPIPE, ETIMEDOUT)
#define E_CHOOSE L(ECANCELED, EINVAL, ETIMEDOUT)
#define E_CHOOSE_IDX L(EBADF, EINVAL, EMSGSIZE, ENOTSUP, EPIPE)
/* hdone on a connection the peer reset: ECONNRESET (the man page omits
   it; the original gives it too, from shutdown's ENOTCONN). */
#define E_HDONE L(EBADF, ECANCELED, ENOTSUP, EPIPE, ETIMEDOUT, ECONNRESET)
#define E_HCLOSE L(EBADF, ENOTSUP)
/* hdup makes a handle too: ECANCELED in canceled coroutines, as the
   original (the man page omits it). */
#define E_HDUP L(EBADF, EMFILE, ENFILE, ENOMEM, ECANCELED)
/* bundle, tcp_listen and udp_open: the man pages omit ECANCELED, but they
   make a handle and handle creation fails so in canceled coroutines (the
   original does the same). */
#define E_BUNDLE L(ECANCELED, EMFILE, ENFILE, ENOMEM)
#define E_BUNDLE_GO L(EBADF, ECANCELED, ENOMEM, ENOTSUP)
#define E_BUNDLE_WAIT L(EBADF, ECANCELED, ENOTSUP, ETIMEDOUT)
#define E_IPC_PAIR L(ECANCELED, EMFILE, ENFILE, ENOMEM)
#define E_TCP_LISTEN L(EADDRINUSE, EADDRNOTAVAIL, EINVAL, EMFILE, ENFILE, ENOMEM, ECANCELED)
#define E_TCP_ACCEPT L(EBADF, ECANCELED, EMFILE, ENFILE, ENOMEM, ENOTSUP, ETIMEDOUT)
#define E_TCP_CONNECT L(ECANCELED, ECONNREFUSED, ECONNRESET, EHOSTUNREACH, EINVAL, \
    EMFILE, ENETDOWN, ENETUNREACH, ENFILE, ENOMEM, ETIMEDOUT)
#define E_BSEND L(EBADF, ECANCELED, ECONNRESET, EINVAL, ENOTSUP, EPIPE, ETIMEDOUT)
#define E_MSEND L(EBADF, ECANCELED, ECONNRESET, EINVAL, EMSGSIZE, ENOTSUP, EPIPE, ETIMEDOUT)
#define E_UDP_OPEN L(EADDRINUSE, EADDRNOTAVAIL, EINVAL, EMFILE, ENFILE, ENOMEM, ECANCELED)
#define E_UDP_SEND L(EBADF, EINVAL, EMSGSIZE, ENOTSUP)
#define E_UDP_RECV L(EBADF, ECANCELED, EINVAL, EMSGSIZE, ENOTSUP, ETIMEDOUT)
#define E_FDIN L(EBADF, EBUSY, ECANCELED, ETIMEDOUT)
#define E_SOCKCLOSE L(EBADF, ECANCELED, ECONNRESET, ENOTSUP, ETIMEDOUT)
#define E_CANCEL L(ECANCELED)

static int in_list(int e, const int *l) {
    for(; *l; l++)
        if(*l == e) return 1;
    return 0;
}

static int64_t tnow(struct worker *w) {
    int64_t t = now();
    if(t < last_now) fail(w, "now() went back: %lld after %lld",
        (long long)t, (long long)last_now);
    last_now = t;
    return t;
}

/* A failed call: its errno must be in `allowed`; ETIMEDOUT only at a
   finite deadline that has passed; ECANCELED only when canceled. */
static void check_err(struct worker *w, const char *call, int rc, int err,
      const int *allowed, int64_t dl) {
    total_calls++;
    if(rc != -1) fail(w, "%s returned %d, not -1 or success", call, rc);
    if(!in_list(err, allowed))
        fail(w, "%s: errno %d (%s) is not one its man page lists", call,
            err, strerror(err));
    if(err == ETIMEDOUT) {
        if(dl < 0) fail(w, "%s: ETIMEDOUT with deadline -1", call);
        int64_t t = tnow(w);
        if(dl > 0 && t < dl)
            fail(w, "%s: ETIMEDOUT %lld ms before its deadline", call,
                (long long)(dl - t));
    }
    if(err == ECANCELED) {
        if(!w->cancel_req)
            fail(w, "%s: ECANCELED in a coroutine nobody canceled", call);
        w->canceled = 1;
    }
}

/* Calls that fail with ECANCELED in a canceled coroutine before they look
   at their arguments. */
static int cancelable(const char *call) {
    return strcmp(call, "hclose") != 0 && strcmp(call, "udp_send") != 0;
}

static void check_exact(struct worker *w, const char *call, int rc, int err,
      int want) {
    if(rc == -1 && err == ECANCELED && want != ECANCELED && w->cancel_req &&
          cancelable(call)) {
        w->canceled = 1;
        return;
    }
    if(rc != -1 || err != want)
        fail(w, "%s: expected -1/%s, got %d [errno %d: %s]", call,
            strerror(want), rc, err, strerror(err));
}

static void ok(void) { total_calls++; }

/* ---- handle table ------------------------------------------------------ */

static struct obj *newobj(struct worker *w, int type) {
    if(nobjs >= MAXOBJ) fail(w, "object table full");
    struct obj *o = &objs[nobjs];
    memset(o, 0, sizeof *o);
    o->type = type;
    o->id = nobjs++;
    o->peer = -1;
    o->chan_other = -1;
    o->wid = -1;
    return o;
}

/* The library gave us number h for o. */
static void addnum(struct worker *w, int h, struct obj *o) {
    if(h < 0 || h >= MAXH) fail(w, "handle number %d out of range", h);
    if(hmap[h] >= 0)
        fail(w, "new handle %d is already the live handle of obj %d (%s)",
            h, hmap[h], tname[objs[hmap[h]].type]);
    if(hmap[h] == FREE) {
        hpos[h] = nnums;
        nums[nnums++] = h;
    }
    hmap[h] = o->id;
    o->nrefs++;
    if(nnums > peaklive) peaklive = nnums;
}

/* Number h is leaving: CLOSING while a close is in progress (nobody else
   picks it), FREE afterwards. */
static void setclosing(int h) {
    hmap[h] = CLOSING;
    hgen[h]++;
}

static unsigned gen_of(int h) {
    return h >= 0 && h < MAXH ? hgen[h] : 0;
}

/* A call without deadline on o, begun before o was closed, ended only
   when its coroutine was canceled later: closing o did not wake it. */
static void check_woken(struct worker *w, const char *call, struct obj *o,
      int err, int64_t dl, uint64_t seq0) {
    if(o && dl < 0 && err == ECANCELED && o->dead && o->dead_seq > seq0 &&
          w->cancel_seq > o->dead_seq)
        fail(w, "%s on %s obj %d, closed by another coroutine meanwhile, was "
            "not woken (it ran on until its coroutine was canceled)", call,
            tname[o->type], o->id);
}

/* Was o closed, or number h (of generation g0 when the call began)? Then
   a call on h may end with EBADF. */
static int gone(struct obj *o, int h, unsigned g0) {
    return o->dead || gen_of(h) != g0;
}

static void freenum(int h) {
    if(hmap[h] == FREE) return;
    if(hmap[h] >= 0) return; /* reused already by a handle made meanwhile */
    hmap[h] = FREE;
    int p = hpos[h];
    nums[p] = nums[--nnums];
    hpos[nums[p]] = p;
    stale[nstale++ % 32] = h;
}

static int nlive(void) {
    int n = 0;
    for(int i = 0; i < nnums; i++)
        if(hmap[nums[i]] >= 0) n++;
    return n;
}

static struct obj *objof(int h) {
    if(h < 0 || h >= MAXH || hmap[h] < 0) return NULL;
    return &objs[hmap[h]];
}

/* A random live number whose object's type is in mask, or -1. */
static int pick_live(struct worker *w, unsigned mask) {
    int cand[512], n = 0;
    for(int i = 0; i < nnums && n < 512; i++) {
        int h = nums[i];
        if(hmap[h] >= 0 && (mask & M(objs[hmap[h]].type))) cand[n++] = h;
    }
    return n ? cand[rnd(&w->rng, n)] : -1;
}

enum { C_LIVE, C_WRONG, C_BAD };

/* A handle for a call that wants a type in mask: mostly a live one of the
   right type, sometimes one of another type, a closed number or garbage. */
static int pick_(struct worker *w, unsigned mask, int *cls, int nonneg) {
    uint32_t r = rnd(&w->rng, 100);
    int h;
    if(r < 78 && (h = pick_live(w, mask)) >= 0) {
        *cls = C_LIVE;
        return h;
    }
    if(r < 88 && (h = pick_live(w, M_ALL & ~mask)) >= 0) {
        *cls = C_WRONG;
        return h;
    }
    *cls = C_BAD;
    if(r < 95 && nstale && !pending_go) {
        h = stale[rnd(&w->rng, nstale < 32 ? nstale : 32)];
        if(hmap[h] == FREE) return h;
    }
    static const int garbage[] = {INT_MAX, 1 << 20, MAXH + 7, -1, -2, INT_MIN};
    return garbage[rnd(&w->rng, nonneg ? 3 : 6)];
}

static int pick(struct worker *w, unsigned mask, int *cls) {
    return pick_(w, mask, cls, 0);
}

static int64_t pick_deadline(struct worker *w) {
    uint32_t r = rnd(&w->rng, 100);
    int64_t t = tnow(w);
    if(r < 8) return w->is_main ? t + (int64_t)rnd(&w->rng, 30) : -1;
    if(r < 30) return 0;
    if(r < 42) {
        int64_t p = t - 1 - (int64_t)rnd(&w->rng, 1000);
        return p > 0 ? p : 1;
    }
    if(r < 92) return t + (int64_t)rnd(&w->rng, 15);
    return t + 15 + (int64_t)rnd(&w->rng, 100);
}

static uint64_t newtag(void) {
    return mix64(seed * 0x2545f4914f6cdd1dULL + ++tagctr) | 1;
}

/* ---- coroutines -------------------------------------------------------- */

static coroutine void worker(int wid);

static struct worker *newworker(struct worker *parent) {
    if(nworkers >= MAXW) return NULL;
    struct worker *w = &workers[nworkers];
    memset(w, 0, sizeof *w);
    w->id = nworkers++;
    w->rng = mix64(seed ^ ((uint64_t)w->id << 40) ^ rnd64(&parent->rng));
    w->nops = 5 + (int)rnd(&w->rng, 60);
    w->coro_obj = -1;
    w->bundle_obj = -1;
    w->buf = malloc(BUFSZ);
    if(!w->buf) fail(parent, "out of memory");
    return w;
}

static int running_workers(void) {
    int n = 0;
    for(int i = 0; i < nworkers; i++)
        if(workers[i].launched && !workers[i].finished) n++;
    return n;
}

/* Members of a coroutine or bundle object. */
static int is_member(struct worker *m, struct obj *o) {
    if(!m->launched || m->finished) return 0;
    return m->bundle_obj == o->id;
}

/* May w close the last number of coroutine/bundle o? Never itself or a
   bundle it is in; in safe mode never in a possible cycle of closes. */
static int may_close_coros(struct worker *w, struct obj *o) {
    if(w->is_main) return 1;
    if(w->bundle_obj == o->id) return 0;
    if(!safe_mode) return 1;
    if(w->cancel_req) return 0;
    for(int i = 0; i < nworkers; i++)
        if(is_member(&workers[i], o) && workers[i].in_close) return 0;
    return 1;
}

static void request_cancel(struct obj *o) {
    for(int i = 0; i < nworkers; i++)
        if(is_member(&workers[i], o) && !workers[i].cancel_req) {
            workers[i].cancel_req = 1;
            workers[i].cancel_seq = ++evseq;
        }
}

/* ---- channel and stream helpers --------------------------------------- */

static struct obj *chan_of(struct obj *o) {
    /* Blocking is counted on half 0. */
    return o->half ? &objs[o->chan_other] : o;
}

static void make_msg(struct obj *from, uint8_t *val, size_t len,
      uint64_t seq) {
    uint64_t v = ((uint64_t)from->ctag << 32) | ((uint64_t)from->half << 31) |
        (seq & 0x7fffffff);
    for(size_t i = 0; i < len; i++) val[i] = (uint8_t)(v >> ((i % 8) * 8));
}

static void check_msg(struct worker *w, struct obj *at, const uint8_t *val,
      size_t len, const char *call) {
    /* Bytes 0..3 of every 8: sequence and half, 4..7: channel tag. */
    uint32_t tag = 0;
    for(size_t j = 0; j < 4 && 4 + j < len; j++) tag |= (uint32_t)val[4 + j] << (j * 8);
    if(len >= 8 && tag != at->ctag)
        fail(w, "%s on chan %u got a message of channel %u", call, at->ctag, tag);
    if(len >= 4 && ((val[3] >> 7) & 1) != (unsigned)(1 - at->half))
        fail(w, "%s on half %d got a message sent on the same half", call, at->half);
    for(size_t i = 8; i < len; i++)
        if(val[i] != val[i % 8])
            fail(w, "%s: message corrupt at byte %zu", call, i);
}

/* Received bytes p[0..n) at rx offset of end o must be the peer's. */
static void check_stream(struct worker *w, struct obj *o, const uint8_t *p,
      size_t n, const char *call) {
    if(n == 0) return;
    if(!o->rx_tag)
        fail(w, "%s on %s obj %d returned %zu bytes, but no peer ever sent "
            "on it", call, tname[o->type], o->id, n);
    struct obj *pe = o->peer >= 0 ? &objs[o->peer] : NULL;
    if(pe && o->rx_off + n > pe->tx_end)
        fail(w, "%s on obj %d returned bytes %llu..%llu, the peer sent only "
            "%llu", call, o->id, (unsigned long long)o->rx_off,
            (unsigned long long)(o->rx_off + n), (unsigned long long)pe->tx_end);
    uint8_t want[256];
    for(size_t i = 0; i < n; i += sizeof want) {
        size_t k = n - i < sizeof want ? n - i : sizeof want;
        gen(o->rx_tag, o->rx_off + i, want, k);
        if(memcmp(want, p + i, k) != 0) {
            size_t j = 0;
            while(want[j] == p[i + j]) j++;
            /* Whose bytes are they? */
            int who = -1;
            for(int x = 0; x < nobjs && who < 0; x++) {
                if(!(M_STREAM & M(objs[x].type)) || x == o->peer) continue;
                uint8_t g[8];
                if(n - i - j >= 8) {
                    for(uint64_t off = 0; off < objs[x].tx_end && who < 0; off++) {
                        gen(objs[x].tx_tag, off, g, 8);
                        if(memcmp(g, p + i + j, 8) == 0) who = x;
                        if(off > 300000) break;
                    }
                }
            }
            fail(w, "%s on %s obj %d: byte %llu of the stream is 0x%02x, the "
                "peer sent 0x%02x%s%d", call, tname[o->type], o->id,
                (unsigned long long)(o->rx_off + i + j), p[i + j], want[j],
                who >= 0 ? "; the bytes are from the stream of obj " :
                " (unknown origin)", who);
        }
    }
    o->rx_off += n;
}

/* ---- operations -------------------------------------------------------- */

static void op_yield(struct worker *w) {
    int was = w->canceled;
    note(w, "yield");
    int rc = yield();
    int e = errno;
    if(was) { check_exact(w, "yield", rc, e, ECANCELED); ok(); return; }
    if(rc == 0) { ok(); return; }
    check_err(w, "yield", rc, e, E_CANCEL, -1);
}

static void op_msleep(struct worker *w) {
    int64_t dl = pick_deadline(w);
    if(!w->is_main && dl > 0 && rnd(&w->rng, 4)) dl = tnow(w) + rnd(&w->rng, 5);
    int was = w->canceled;
    note(w, "msleep(%lld)", (long long)(dl > 0 ? dl - now() : dl));
    int rc = msleep(dl);
    int e = errno;
    if(was) { check_exact(w, "msleep", rc, e, ECANCELED); ok(); return; }
    if(rc == 0) {
        ok();
        if(dl < 0) fail(w, "msleep(-1) returned 0");
        if(dl > 0 && tnow(w) < dl) fail(w, "msleep returned %lld ms early",
            (long long)(dl - now()));
        return;
    }
    check_err(w, "msleep", rc, e, E_CANCEL, dl);
}

static void op_now(struct worker *w) {
    ok();
    tnow(w);
}

static void op_chmake(struct worker *w) {
    if(nlive() >= maxlive) return;
    int was = w->canceled;
    int ch[2];
    note(w, "chmake");
    int rc = chmake(ch);
    int e = errno;
    if(was) { check_exact(w, "chmake", rc, e, ECANCELED); ok(); return; }
    if(rc != 0) { check_err(w, "chmake", rc, e, E_CHMAKE, -1); return; }
    ok();
    struct obj *a = newobj(w, T_CHAN), *b = newobj(w, T_CHAN);
    a->chan_other = b->id;
    b->chan_other = a->id;
    a->ctag = b->ctag = (uint32_t)newtag();
    a->half = 0;
    b->half = 1;
    addnum(w, ch[0], a);
    addnum(w, ch[1], b);
    note(w, "chmake -> %d %d (chan %u)", ch[0], ch[1], a->ctag);
}

static size_t pick_msglen(struct worker *w) {
    uint32_t r = rnd(&w->rng, 100);
    return r < 88 ? 8 : r < 94 ? 16 : 4;
}

static void op_chsend(struct worker *w, int send) {
    const char *call = send ? "chsend" : "chrecv";
    int cls;
    int h = pick(w, M(T_CHAN), &cls);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *o = objof(h);
    size_t len = pick_msglen(w);
    uint8_t val[16];
    int nullval = rnd(&w->rng, 100) == 0;
    int64_t dl = pick_deadline(w);
    if(send && o && o->type == T_CHAN) make_msg(o, val, len, o->sent);
    else memset(val, 0xee, sizeof val);
    int was = w->canceled;
    int pe = 0;
    if(cls == C_LIVE) {
        pe = send ? o->hdone_called : objs[o->chan_other].hdone_called;
        chan_of(o)->nblocked++;
    }
    note(w, "%s(%d %s, %zu%s, %lld)", call, h, o ? tname[o->type] : "bad",
        len, nullval ? " NULL" : "", (long long)dl);
    int rc = send ? chsend(h, nullval ? NULL : val, len, dl) :
        chrecv(h, nullval ? NULL : val, len, dl);
    int e = errno;
    if(rc == -1) check_woken(w, call, o, e, dl, seq0);
    if(cls == C_LIVE) chan_of(o)->nblocked--;
    note(w, "%s(%d) -> %d errno %d", call, h, rc, rc ? e : 0);
    if(was) { check_exact(w, call, rc, e, ECANCELED); ok(); return; }
    if(rc == 0) {
        ok();
        if(cls != C_LIVE) fail(w, "%s on a %s handle succeeded", call,
            cls == C_BAD ? "closed/garbage" : "wrong-type");
        if(nullval) fail(w, "%s with NULL and length %zu succeeded", call, len);
        if(pe) fail(w, "%s succeeded after hdone", call);
        if(send) o->sent++;
        else {
            check_msg(w, o, val, len, call);
            o->recvd++;
        }
        return;
    }
    if(e == ECANCELED || (cls == C_LIVE && gone(o, h, g0) && e == EBADF)) {
        check_err(w, call, rc, e, E_CHSEND, dl);
        return;
    }
    if(cls == C_BAD) check_exact(w, call, rc, e, EBADF);
    else if(cls == C_WRONG) check_exact(w, call, rc, e, ENOTSUP);
    else if(pe && nullval) {
        if(e != EPIPE && e != EINVAL) check_exact(w, call, rc, e, EPIPE);
    }
    else if(pe) check_exact(w, call, rc, e, EPIPE);
    else if(nullval) check_exact(w, call, rc, e, EINVAL);
    check_err(w, call, rc, e, E_CHSEND, dl);
}

static void op_choose(struct worker *w) {
    struct chclause cl[4];
    uint8_t vals[4][16];
    struct obj *os[4];
    int cls[4];
    int n = (int)rnd(&w->rng, 5);
    int64_t dl = pick_deadline(w);
    if(n == 0 && dl < 0) dl = tnow(w) + 5;
    for(int i = 0; i < n; i++) {
        cl[i].op = rnd(&w->rng, 2) ? CHSEND : CHRECV;
        if(rnd(&w->rng, 40) == 0) cl[i].op = 77;
        cl[i].ch = pick(w, M(T_CHAN), &cls[i]);
        os[i] = objof(cl[i].ch);
        cl[i].len = pick_msglen(w);
        cl[i].val = vals[i];
        memset(vals[i], 0xee, 16);
        if(cl[i].op == CHSEND && os[i] && os[i]->type == T_CHAN)
            make_msg(os[i], vals[i], cl[i].len, os[i]->sent);
        if(cls[i] == C_LIVE) chan_of(os[i])->nblocked++;
    }
    int was = w->canceled;
    note(w, "choose(%d clauses: %d %d %d %d, %lld)", n, n > 0 ? cl[0].ch : 0,
        n > 1 ? cl[1].ch : 0, n > 2 ? cl[2].ch : 0, n > 3 ? cl[3].ch : 0,
        (long long)dl);
    errno = 12345;
    int rc = choose(cl, n, dl);
    int e = errno;
    for(int i = 0; i < n; i++)
        if(cls[i] == C_LIVE) chan_of(os[i])->nblocked--;
    note(w, "choose -> %d errno %d", rc, e);
    if(was) { check_exact(w, "choose", rc, e, ECANCELED); ok(); return; }
    if(rc == -1) { check_err(w, "choose", rc, e, E_CHOOSE, dl); return; }
    ok();
    if(rc < 0 || rc >= n) fail(w, "choose returned %d of %d clauses", rc, n);
    if(e == 0) {
        if(cls[rc] != C_LIVE) fail(w, "choose clause %d on a %s handle "
            "succeeded", rc, cls[rc] == C_BAD ? "bad" : "wrong-type");
        if(cl[rc].op == CHSEND) os[rc]->sent++;
        else if(cl[rc].op == CHRECV) {
            check_msg(w, os[rc], vals[rc], cl[rc].len, "choose");
            os[rc]->recvd++;
        } else fail(w, "choose: clause with op 77 succeeded");
        return;
    }
    if(!in_list(e, E_CHOOSE_IDX))
        fail(w, "choose returned index %d with errno %d (%s), not one its "
            "man page lists", rc, e, strerror(e));
    if(cls[rc] == C_BAD && e != EBADF && cl[rc].op != 77)
        fail(w, "choose: clause %d on a bad handle: errno %d", rc, e);
    if(cls[rc] == C_WRONG && e != ENOTSUP && cl[rc].op != 77)
        fail(w, "choose: clause %d on a wrong-type handle: errno %d", rc, e);
}

static void op_hdone(struct worker *w) {
    int cls;
    int h = pick(w, M(T_CHAN) | M_STREAM, &cls);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *o = objof(h);
    int64_t dl = pick_deadline(w);
    note(w, "hdone(%d %s)", h, o ? tname[o->type] : "bad");
    int rc = hdone(h, dl);
    int e = errno;
    note(w, "hdone(%d) -> %d errno %d", h, rc, rc ? e : 0);
    if(cls == C_BAD) { check_exact(w, "hdone", rc, e, EBADF); ok(); return; }
    if(!(M(T_CHAN) & M(o->type)) && !(M_STREAM & M(o->type))) {
        check_exact(w, "hdone", rc, e, ENOTSUP);
        ok();
        return;
    }
    if(o->type == T_CHAN) {
        if(o->hdone_called) check_exact(w, "hdone", rc, e, EPIPE);
        else if(rc != 0) fail(w, "hdone on a channel: %d errno %d", rc, e);
        ok();
        o->hdone_called = 1;
        return;
    }
    /* A stream end (a send may be in progress on it: hdone ends the
       stream for the sends after it). */
    if(o->tx_state == D_DONE) { check_exact(w, "hdone", rc, e, EPIPE); ok(); return; }
    if(o->tx_state == D_ERR) { check_exact(w, "hdone", rc, e, ECONNRESET); ok(); return; }
    if(rc == 0) { ok(); o->tx_state = D_DONE; return; }
    check_err(w, "hdone", rc, e, E_HDONE, dl);
    o->tx_state = D_ERR;
}

/* Closes number h of object o (hclose, or tcp_close/ipc_close if `how`). */
static void do_close(struct worker *w, int h, struct obj *o, int how) {
    int last = o->nrefs == 1;
    int coros = o->type == T_CORO || o->type == T_BUNDLE;
    setclosing(h);
    o->nrefs--;
    if(last) {
        o->dead = 1;
        o->dead_seq = ++evseq;
        if(coros) request_cancel(o);
    }
    if(coros && last) w->in_close = 1;
    o->nblocked++;
    const char *call = how == 1 ? "tcp_close" : how == 2 ? "ipc_close" : "hclose";
    int64_t dl = how ? pick_deadline(w) : 0;
    note(w, "%s(%d %s obj %d%s)", call, h, tname[o->type], o->id,
        last ? " last" : "");
    int rc = how == 1 ? tcp_close(h, dl) : how == 2 ? ipc_close(h, dl) : hclose(h);
    int e = errno;
    o->nblocked--;
    w->in_close = 0;
    note(w, "%s(%d) -> %d errno %d", call, h, rc, rc ? e : 0);
    int deadlock = 0;
    if(rc != 0) {
        if(how) check_err(w, call, rc, e, E_SOCKCLOSE, dl);
        else if(coros && last && e == EDEADLK && !safe_mode) {
            /* Closing this would complete a cycle of closes: the handle is
               gone, its coroutines end when they can. (Ours; the original
               hangs.) */
            deadlock = 1;
            ok();
        } else fail(w, "hclose of live %s handle %d: %d errno %d", tname[o->type],
            h, rc, e);
    } else ok();
    freenum(h);
    if(coros && last && !deadlock) {
        for(int i = 0; i < nworkers; i++) {
            struct worker *m = &workers[i];
            if(is_member(m, o) && m->started)
                fail(w, "hclose of %s obj %d returned, its coroutine "
                    "(worker %d) still runs", tname[o->type], o->id, i);
        }
    }
}

static void op_hclose(struct worker *w) {
    int cls;
    int h = pick(w, M_ALL, &cls);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *o = objof(h);
    if(cls == C_BAD) {
        note(w, "hclose(%d bad)", h);
        int rc = hclose(h);
        int e = errno;
        check_exact(w, "hclose", rc, e, EBADF);
        ok();
        return;
    }
    int last = o->nrefs == 1;
    if(last && (o->type == T_CORO || o->type == T_BUNDLE) && !may_close_coros(w, o))
        return;
    if(last && safe_mode && o->type != T_CORO && o->type != T_BUNDLE) {
        struct obj *b = o->type == T_CHAN ? chan_of(o) : o;
        if(b->nblocked || o->nblocked || o->rx_busy || o->tx_busy) return;
    }
    do_close(w, h, o, 0);
}

static void op_sockclose(struct worker *w) {
    int tcp = rnd(&w->rng, 2);
    const char *call = tcp ? "tcp_close" : "ipc_close";
    int cls;
    int h = pick(w, tcp ? M(T_TCP) | M(T_LISTEN) : M(T_IPC), &cls);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *o = objof(h);
    if(cls != C_LIVE) {
        int64_t dl = pick_deadline(w);
        note(w, "%s(%d %s)", call, h, o ? tname[o->type] : "bad");
        int rc = tcp ? tcp_close(h, dl) : ipc_close(h, dl);
        int e = errno;
        check_exact(w, call, rc, e, cls == C_BAD ? EBADF : ENOTSUP);
        ok();
        return;
    }
    /* With duplicates the object is shared: leave those to hclose. */
    if(o->nrefs > 1) return;
    if(safe_mode && (o->nblocked || o->rx_busy || o->tx_busy)) return;
    do_close(w, h, o, tcp ? 1 : 2);
    if(hmap[h] == FREE) {
        /* tcp_close/ipc_close close the handle in any case. */
        int rc = hclose(h);
        int e = errno;
        if(hmap[h] == FREE) check_exact(w, "hclose after tcp/ipc_close", rc, e, EBADF);
    }
}

static void op_hdup(struct worker *w) {
    if(nlive() >= maxlive) return;
    int cls;
    int h = pick(w, M_ALL, &cls);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *o = objof(h);
    note(w, "hdup(%d %s)", h, o ? tname[o->type] : "bad");
    int rc = hdup(h);
    int e = errno;
    note(w, "hdup(%d) -> %d", h, rc);
    if(cls == C_BAD) { check_exact(w, "hdup", rc, e, EBADF); ok(); return; }
    if(rc < 0) { check_err(w, "hdup", rc, e, E_HDUP, -1); return; }
    ok();
    addnum(w, rc, o);
}

static void launched(struct worker *c) {
    c->launched = 1;
    c->launch_seq = ++launch_seq;
}

static void op_go(struct worker *w) {
    if(nlive() >= maxlive || running_workers() >= 14) return;
    struct worker *c = newworker(w);
    if(!c) return;
    int was = w->canceled;
    note(w, "go(worker %d)", c->id);
    launched(c);
    pending_go++;
    int rc = go(worker(c->id));
    int e = errno;
    pending_go--;
    note(w, "go(worker %d) -> %d", c->id, rc);
    if(rc < 0) {
        c->launched = 0;
        if(c->started) fail(w, "go failed but its coroutine ran");
        if(was) { check_exact(w, "go", rc, e, ECANCELED); ok(); return; }
        check_err(w, "go", rc, e, E_GO, -1);
        return;
    }
    if(was) fail(w, "go in a canceled coroutine returned %d", rc);
    ok();
    struct obj *o = newobj(w, T_CORO);
    o->wid = c->id;
    c->coro_obj = o->id;
    /* go() makes a bundle of one: bundle_go can add to it. */
    c->bundle_obj = o->id;
    addnum(w, rc, o);
}

static void op_bundle(struct worker *w) {
    if(nlive() >= maxlive) return;
    int was = w->canceled;
    note(w, "bundle");
    int rc = bundle();
    int e = errno;
    if(was) { check_exact(w, "bundle", rc, e, ECANCELED); ok(); return; }
    if(rc < 0) { check_err(w, "bundle", rc, e, E_BUNDLE, -1); return; }
    ok();
    addnum(w, rc, newobj(w, T_BUNDLE));
    note(w, "bundle -> %d", rc);
}

static void op_bundle_go(struct worker *w) {
    if(running_workers() >= 14) return;
    int cls;
    /* A negative bundle makes bundle_go a go(): left to op_go. */
    int h = pick_(w, M(T_BUNDLE) | M(T_CORO), &cls, 1);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *o = objof(h);
    struct worker *c = newworker(w);
    if(!c) return;
    int was = w->canceled;
    if(cls == C_LIVE) c->bundle_obj = o->id;
    note(w, "bundle_go(%d %s, worker %d)", h, o ? tname[o->type] : "bad", c->id);
    launched(c);
    pending_go++;
    int rc = bundle_go(h, worker(c->id));
    int e = errno;
    pending_go--;
    note(w, "bundle_go(%d) -> %d errno %d", h, rc, rc ? e : 0);
    if(rc != 0) {
        c->launched = 0;
        c->bundle_obj = -1;
        if(c->started) fail(w, "bundle_go failed but its coroutine ran");
        if(was) { check_exact(w, "bundle_go", rc, e, ECANCELED); ok(); return; }
        if(cls == C_BAD) check_exact(w, "bundle_go", rc, e, EBADF);
        if(cls == C_WRONG) check_exact(w, "bundle_go", rc, e, ENOTSUP);
        check_err(w, "bundle_go", rc, e, E_BUNDLE_GO, -1);
        return;
    }
    ok();
    if(was) fail(w, "bundle_go in a canceled coroutine succeeded");
    if(cls != C_LIVE) fail(w, "bundle_go on a %s handle succeeded",
        cls == C_BAD ? "bad" : "wrong-type");
}

static void op_bundle_wait(struct worker *w) {
    int cls;
    int h = pick(w, M(T_BUNDLE) | M(T_CORO), &cls);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *o = objof(h);
    int64_t dl = pick_deadline(w);
    int self = cls == C_LIVE && w->bundle_obj == o->id;
    if(self && dl < 0) dl = tnow(w) + 3;
    uint64_t start = launch_seq;
    int was = w->canceled;
    note(w, "bundle_wait(%d %s, %lld)", h, o ? tname[o->type] : "bad", (long long)dl);
    int rc = bundle_wait(h, dl);
    int e = errno;
    note(w, "bundle_wait(%d) -> %d errno %d", h, rc, rc ? e : 0);
    if(was) { check_exact(w, "bundle_wait", rc, e, ECANCELED); ok(); return; }
    if(rc == 0) {
        ok();
        if(cls != C_LIVE) fail(w, "bundle_wait on a %s handle succeeded",
            cls == C_BAD ? "bad" : "wrong-type");
        if(self) fail(w, "bundle_wait on its own bundle returned 0");
        for(int i = 0; i < nworkers; i++) {
            struct worker *m = &workers[i];
            if(m->bundle_obj == o->id && m->launched && !m->finished &&
                  m->launch_seq <= start && m->started)
                fail(w, "bundle_wait returned 0, worker %d still runs", i);
        }
        return;
    }
    if(e == ECANCELED || e == EBADF) {
        if(e == EBADF && cls == C_LIVE && !gone(o, h, g0))
            fail(w, "bundle_wait on a live bundle: EBADF");
        check_err(w, "bundle_wait", rc, e, E_BUNDLE_WAIT, dl);
        return;
    }
    if(cls == C_BAD) check_exact(w, "bundle_wait", rc, e, EBADF);
    if(cls == C_WRONG) check_exact(w, "bundle_wait", rc, e, ENOTSUP);
    check_err(w, "bundle_wait", rc, e, E_BUNDLE_WAIT, dl);
}

static void init_end(struct obj *o) {
    o->tx_tag = newtag();
    o->tx_state = o->rx_state = D_OK;
}

static void op_ipc_pair(struct worker *w) {
    if(nlive() >= maxlive - 1) return;
    int s[2];
    int was = w->canceled;
    note(w, "ipc_pair");
    int rc = ipc_pair(s);
    int e = errno;
    if(was) { check_exact(w, "ipc_pair", rc, e, ECANCELED); ok(); return; }
    if(rc != 0) { check_err(w, "ipc_pair", rc, e, E_IPC_PAIR, -1); return; }
    ok();
    struct obj *a = newobj(w, T_IPC), *b = newobj(w, T_IPC);
    init_end(a);
    init_end(b);
    a->peer = b->id;
    b->peer = a->id;
    a->rx_tag = b->tx_tag;
    b->rx_tag = a->tx_tag;
    addnum(w, s[0], a);
    addnum(w, s[1], b);
    note(w, "ipc_pair -> %d %d (objs %d %d)", s[0], s[1], a->id, b->id);
}

/* A listener's or UDP socket's port, of a live one or one gone. */
static int pick_port(struct worker *w, int type, int live, struct ipaddr *out) {
    int cand[64], n = 0;
    for(int i = nobjs - 1; i >= 0 && n < 64; i--)
        if(objs[i].type == type && objs[i].port && (objs[i].nrefs > 0) == live)
            cand[n++] = i;
    if(!n) return -1;
    int x = cand[rnd(&w->rng, n)];
    *out = objs[x].addr;
    return x;
}

static void op_tcp_listen(struct worker *w) {
    if(nlive() >= maxlive) return;
    struct ipaddr a;
    ipaddr_local(&a, "127.0.0.1", 0, IPADDR_IPV4);
    int inuse = 0;
    uint32_t r = rnd(&w->rng, 100);
    if(r < 10 && pick_port(w, T_LISTEN, 1, &a) >= 0) inuse = 1;
    else if(r < 15) pick_port(w, T_LISTEN, 0, &a);
    int fresh = ipaddr_port(&a) == 0;
    int backlog = 1 + (int)rnd(&w->rng, 16);
    int was = w->canceled;
    note(w, "tcp_listen(port %d, %d)", ipaddr_port(&a), backlog);
    int rc = tcp_listen(&a, backlog);
    int e = errno;
    note(w, "tcp_listen -> %d errno %d port %d", rc, rc < 0 ? e : 0, ipaddr_port(&a));
    if(was && fresh) { check_exact(w, "tcp_listen", rc, e, ECANCELED); ok(); return; }
    if(rc < 0) {
        if(inuse && !was) check_exact(w, "tcp_listen", rc, e, EADDRINUSE);
        check_err(w, "tcp_listen", rc, e, E_TCP_LISTEN, -1);
        return;
    }
    ok();
    if(inuse) fail(w, "tcp_listen on a port in use succeeded");
    if(ipaddr_port(&a) == 0) fail(w, "tcp_listen left port 0 in its address");
    struct obj *o = newobj(w, T_LISTEN);
    o->addr = a;
    o->port = ipaddr_port(&a);
    addnum(w, rc, o);
}

/* The hello a client sends first: which obj it is, in which run (other
   fuzzer processes run at the same time, and a connect to a port whose
   listener is gone may reach one of theirs). */
#define HELLO 12
static void hello_of(struct obj *o, uint8_t hello[HELLO]) {
    memcpy(hello, "HI", 2);
    hello[2] = (uint8_t)o->id;
    hello[3] = (uint8_t)(o->id >> 8);
    uint32_t t = (uint32_t)o->tx_tag;
    memcpy(hello + 4, &t, 4);
    memcpy(hello + 8, &runid, 4);
}

static void op_tcp_connect(struct worker *w) {
    if(nlive() >= maxlive) return;
    struct ipaddr a;
    uint32_t r = rnd(&w->rng, 100);
    int nulladdr = 0;
    if(r < 80 && pick_port(w, T_LISTEN, 1, &a) >= 0) {
    } else if(r < 95 && pick_port(w, T_LISTEN, 0, &a) >= 0) {
    } else if(r < 98) {
        ipaddr_local(&a, "127.0.0.1", 1, IPADDR_IPV4);
    } else nulladdr = 1;
    int64_t dl = pick_deadline(w);
    int was = w->canceled;
    note(w, "tcp_connect(port %d, %lld)", nulladdr ? -1 : ipaddr_port(&a), (long long)dl);
    int rc = tcp_connect(nulladdr ? NULL : &a, dl);
    int e = errno;
    note(w, "tcp_connect -> %d errno %d", rc, rc < 0 ? e : 0);
    if(nulladdr && rc < 0 && !was) { check_exact(w, "tcp_connect", rc, e, EINVAL); ok(); return; }
    if(was) { check_exact(w, "tcp_connect", rc, e, ECANCELED); ok(); return; }
    if(rc < 0) { check_err(w, "tcp_connect", rc, e, E_TCP_CONNECT, dl); return; }
    ok();
    if(nulladdr) fail(w, "tcp_connect(NULL) succeeded");
    struct obj *o = newobj(w, T_TCP);
    init_end(o);
    o->client = 1;
    addnum(w, rc, o);
    uint8_t hello[HELLO];
    hello_of(o, hello);
    o->tx_end = HELLO;
    int hr = bsend(rc, hello, HELLO, -1);
    int he = errno;
    if(hr != 0) {
        /* A fresh loopback socket takes 8 bytes at once: only a reset
           peer (listener gone) can refuse them. */
        check_err(w, "bsend(hello)", hr, he, L(ECONNRESET, EPIPE), -1);
        o->tx_state = D_ERR;
    }
    o->tx_off = HELLO;
}

static void op_tcp_accept(struct worker *w) {
    if(nlive() >= maxlive) return;
    int cls;
    int h = pick(w, M(T_LISTEN), &cls);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *l = objof(h);
    if(cls == C_LIVE && (l->rx_busy || l->nblocked)) return;
    int64_t dl = pick_deadline(w);
    struct ipaddr peer;
    int wantaddr = rnd(&w->rng, 2);
    int was = w->canceled;
    if(cls == C_LIVE) { l->rx_busy = 1; l->nblocked++; }
    note(w, "tcp_accept(%d %s, %lld)", h, l ? tname[l->type] : "bad", (long long)dl);
    int rc = tcp_accept(h, wantaddr ? &peer : NULL, dl);
    int e = errno;
    if(rc == -1) check_woken(w, "tcp_accept", l, e, dl, seq0);
    if(cls == C_LIVE) { l->rx_busy = 0; l->nblocked--; }
    note(w, "tcp_accept(%d) -> %d errno %d", h, rc, rc < 0 ? e : 0);
    if(rc < 0) {
        if(cls == C_BAD) check_exact(w, "tcp_accept", rc, e, EBADF);
        else if(cls == C_WRONG) check_exact(w, "tcp_accept", rc, e, ENOTSUP);
        else if(was) check_exact(w, "tcp_accept", rc, e, ECANCELED);
        check_err(w, "tcp_accept", rc, e, E_TCP_ACCEPT, dl);
        return;
    }
    ok();
    if(cls != C_LIVE) fail(w, "tcp_accept on a %s handle succeeded",
        cls == C_BAD ? "bad" : "wrong-type");
    if(was) fail(w, "tcp_accept in a canceled coroutine succeeded");
    struct obj *o = newobj(w, T_TCP);
    init_end(o);
    addnum(w, rc, o);
    /* Which client is it? Its hello says. */
    uint8_t hello[HELLO];
    memset(hello, 0, HELLO);
    o->rx_busy = 1;
    o->nblocked++;
    o->orphan = 1; /* no sends before the pairing */
    unsigned g1 = gen_of(rc);
    int hr = brecv(rc, hello, HELLO, tnow(w) + 3000);
    int he = errno;
    o->rx_busy = 0;
    o->nblocked--;
    note(w, "hello on %d (obj %d) -> %d errno %d", rc, o->id, hr, hr ? he : 0);
    if(hr != 0) {
        check_err(w, "brecv(hello)", hr, he, L(ECONNRESET, EPIPE, ECANCELED, EBADF), -1);
        if(he == EBADF && !gone(o, rc, g1)) fail(w, "brecv(hello) on live handle: EBADF");
        o->orphan = 1;
        o->rx_state = he == EPIPE ? D_DONE : he == ECANCELED ? D_CANC : D_ERR;
        return;
    }
    int cid = hello[2] | (hello[3] << 8);
    uint32_t t, r;
    memcpy(&t, hello + 4, 4);
    memcpy(&r, hello + 8, 4);
    if(memcmp(hello, "HI", 2) == 0 && r != runid) {
        /* Another fuzzer process's client: not ours to check. */
        note(w, "foreign connection %d closed", rc);
        do_close(w, rc, o, 0);
        return;
    }
    if(memcmp(hello, "HI", 2) != 0 || cid >= nobjs || objs[cid].type != T_TCP ||
          !objs[cid].client || (uint32_t)objs[cid].tx_tag != t)
        fail(w, "tcp_accept: the first bytes are no client hello");
    struct obj *c = &objs[cid];
    if(c->peer >= 0) fail(w, "tcp_accept: client obj %d accepted twice", cid);
    if(wantaddr && ipaddr_port(&peer) == 0) fail(w, "tcp_accept: peer port 0");
    c->peer = o->id;
    o->peer = c->id;
    o->orphan = 0;
    o->rx_tag = c->tx_tag;
    o->rx_off = HELLO;
    c->rx_tag = o->tx_tag;
    c->client = 0;
}

static size_t pick_len(struct worker *w) {
    uint32_t r = rnd(&w->rng, 100);
    if(r < 3) return 0;
    if(r < 60) return 1 + rnd(&w->rng, 256);
    if(r < 92) return 257 + rnd(&w->rng, 8000);
    return 8257 + rnd(&w->rng, 256 * 1024 - 8257);
}

/* An iolist of 1-5 pieces over buf[0..len): for brecvl some pieces may
   have no buffer (skip). Malformed (1 in 25, if bad != NULL): last is not
   the end, a reserved field is set, or the list loops; *bad says which. */
struct iols {
    struct iolist it[6];
    struct iolist copy[6];
    int n;
    struct iolist *first, *last;
};

static void make_iols(struct worker *w, struct iols *l, uint8_t *buf, size_t len,
      int recv, int *bad) {
    memset(l, 0, sizeof *l);
    int n = 1 + (int)rnd(&w->rng, 5);
    size_t at = 0;
    for(int i = 0; i < n; i++) {
        size_t k = i == n - 1 ? len - at : rnd(&w->rng, (uint32_t)(len - at + 1));
        l->it[i].iol_base = recv && rnd(&w->rng, 4) == 0 ? NULL : buf + at;
        l->it[i].iol_len = k;
        l->it[i].iol_next = i + 1 < n ? &l->it[i + 1] : NULL;
        l->it[i].iol_rsvd = 0;
        at += k;
    }
    l->n = n;
    l->first = &l->it[0];
    l->last = &l->it[n - 1];
    *bad = 0;
    if(rnd(&w->rng, 25) == 0) {
        *bad = 1 + (int)rnd(&w->rng, 3);
        if(*bad == 1) {
            if(n > 1) l->last = &l->it[rnd(&w->rng, n - 1)];
            else *bad = 2;
        }
        if(*bad == 2) l->it[rnd(&w->rng, n)].iol_rsvd = 1;
        if(*bad == 3) {
            if(n >= 3) l->it[n - 2].iol_next = &l->it[rnd(&w->rng, n - 2)];
            else l->it[0].iol_rsvd = 1;
        }
    }
    memcpy(l->copy, l->it, sizeof l->it);
}

/* A call that failed with EINVAL on a malformed list left it as it was. */
static void check_iols(struct worker *w, struct iols *l, const char *call) {
    if(memcmp(l->copy, l->it, (size_t)l->n * sizeof l->it[0]) != 0)
        fail(w, "%s changed the iolist it was given", call);
}

static void op_bsend(struct worker *w) {
    int cls;
    int h = pick(w, M_STREAM, &cls);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *o = objof(h);
    /* One sender per end (bytes of two sends could interleave); none on
       an accepted end before its hello said whose it is. */
    if(cls == C_LIVE && (o->tx_busy || o->orphan))
        return;
    size_t len = pick_len(w);
    int64_t dl = pick_deadline(w);
    if(cls == C_LIVE) gen(o->tx_tag, o->tx_off, w->buf, len);
    int st = cls == C_LIVE ? o->tx_state : 0;
    if(cls == C_LIVE) {
        o->tx_busy = 1;
        o->nblocked++;
        if((o->tx_state == D_OK || o->tx_state == D_CANC) &&
              o->tx_off + len > o->tx_end)
            o->tx_end = o->tx_off + len;
    }
    int use_l = rnd(&w->rng, 3) == 0, bad = 0;
    struct iols l;
    if(use_l) make_iols(w, &l, w->buf, len, 0, &bad);
    note(w, "%s(%d %s obj %d, %zu%s, %lld)", use_l ? "bsendl" : "bsend", h,
        o ? tname[o->type] : "bad", o ? o->id : -1, len,
        bad ? " malformed" : "", (long long)dl);
    int rc = use_l ? bsendl(h, l.first, l.last, dl) : bsend(h, w->buf, len, dl);
    int e = errno;
    if(use_l && rc == 0) check_iols(w, &l, "bsendl");
    if(bad) {
        if(cls == C_LIVE) { o->tx_busy = 0; o->nblocked--; }
        if(cls == C_BAD) check_exact(w, "bsendl", rc, e, EBADF);
        else if(cls == C_WRONG) check_exact(w, "bsendl", rc, e, ENOTSUP);
        else if(st == D_OK || (st == D_CANC && e != ECONNRESET)) {
            check_exact(w, "bsendl", rc, e, EINVAL);
            check_iols(w, &l, "bsendl");
        }
        else check_err(w, "bsendl", rc, e, E_BSEND, dl);
        ok();
        return;
    }
    if(rc == -1) check_woken(w, "bsend", o, e, dl, seq0);
    if(cls == C_LIVE) { o->tx_busy = 0; o->nblocked--; }
    note(w, "bsend(%d) -> %d errno %d", h, rc, rc ? e : 0);
    if(rc == 0) {
        ok();
        if(cls != C_LIVE) fail(w, "bsend on a %s handle succeeded",
            cls == C_BAD ? "bad" : "wrong-type");
        if(st == D_DONE || st == D_ERR) fail(w, "bsend succeeded after %s",
            st == D_DONE ? "hdone" : "an error");
        if(o->tx_state == D_CANC) o->tx_state = D_OK;
        o->tx_off += len;
        return;
    }
    if(cls == C_BAD) check_exact(w, "bsend", rc, e, EBADF);
    else if(cls == C_WRONG) check_exact(w, "bsend", rc, e, ENOTSUP);
    else if(e == EBADF) {
        if(!gone(o, h, g0)) fail(w, "bsend on a live handle: EBADF");
    } else if(st == D_DONE) check_exact(w, "bsend", rc, e, EPIPE);
    else if(st == D_ERR) check_exact(w, "bsend", rc, e, ECONNRESET);
    else if(o->tx_state == D_OK || o->tx_state == D_CANC) {
        /* (hdone meanwhile: the end stays done) */
        if(st == D_CANC && e == ECONNRESET) o->tx_state = D_ERR;
        else o->tx_state = e == ECANCELED ? D_CANC : D_ERR;
    }
    check_err(w, "bsend", rc, e, E_BSEND, dl);
}

static void op_brecv(struct worker *w) {
    int cls;
    int h = pick(w, M_STREAM, &cls);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *o = objof(h);
    if(cls == C_LIVE && o->rx_busy) return;
    size_t len = pick_len(w);
    if(len > 16384 && rnd(&w->rng, 2)) len = len / 16;
    int nullbuf = rnd(&w->rng, 20) == 0;
    int64_t dl = pick_deadline(w);
    int was = w->canceled;
    int st = cls == C_LIVE ? o->rx_state : 0;
    memset(w->buf, 0xee, len);
    if(cls == C_LIVE) { o->rx_busy = 1; o->nblocked++; }
    int use_l = !nullbuf && rnd(&w->rng, 3) == 0, bad = 0;
    struct iols l;
    if(use_l) make_iols(w, &l, w->buf, len, 1, &bad);
    note(w, "%s(%d %s obj %d, %zu%s%s, %lld)", use_l ? "brecvl" : "brecv", h,
        o ? tname[o->type] : "bad", o ? o->id : -1, len,
        nullbuf ? " NULL" : "", bad ? " malformed" : "", (long long)dl);
    int rc = use_l ? brecvl(h, l.first, l.last, dl) :
        brecv(h, nullbuf ? NULL : w->buf, len, dl);
    int e = errno;
    if(bad) {
        if(cls == C_LIVE) { o->rx_busy = 0; o->nblocked--; }
        if(cls == C_BAD) check_exact(w, "brecvl", rc, e, EBADF);
        else if(cls == C_WRONG) check_exact(w, "brecvl", rc, e, ENOTSUP);
        else if(st == D_OK || (st == D_CANC && e != ECONNRESET)) {
            check_exact(w, "brecvl", rc, e, EINVAL);
            check_iols(w, &l, "brecvl");
        }
        else check_err(w, "brecvl", rc, e, E_BSEND, dl);
        ok();
        return;
    }
    if(rc == -1) check_woken(w, "brecv", o, e, dl, seq0);
    if(cls == C_LIVE) { o->rx_busy = 0; o->nblocked--; }
    note(w, "brecv(%d) -> %d errno %d", h, rc, rc ? e : 0);
    (void)was;
    if(rc == 0) {
        ok();
        if(cls != C_LIVE) fail(w, "brecv on a %s handle succeeded",
            cls == C_BAD ? "bad" : "wrong-type");
        if(st == D_DONE || st == D_ERR) fail(w, "brecv succeeded after %s",
            st == D_DONE ? "EPIPE" : "an error");
        o->rx_state = D_OK;
        if(use_l) {
            check_iols(w, &l, "brecvl");
            for(int i = 0; i < l.n; i++) {
                size_t k = l.it[i].iol_len;
                if(l.it[i].iol_base) {
                    check_stream(w, o, l.it[i].iol_base, k, "brecvl");
                    continue;
                }
                struct obj *pe = o->peer >= 0 ? &objs[o->peer] : NULL;
                if(k && !o->rx_tag) fail(w, "brecvl skipped %zu bytes nobody sent", k);
                if(pe && o->rx_off + k > pe->tx_end)
                    fail(w, "brecvl skipped past what the peer sent");
                o->rx_off += k;
            }
        } else if(nullbuf) {
            if(len && !o->rx_tag) fail(w, "brecv skipped %zu bytes nobody sent", len);
            struct obj *pe = o->peer >= 0 ? &objs[o->peer] : NULL;
            if(pe && o->rx_off + len > pe->tx_end)
                fail(w, "brecv(NULL) skipped past what the peer sent");
            o->rx_off += len;
        } else check_stream(w, o, w->buf, len, "brecv");
        return;
    }
    if(cls == C_BAD) check_exact(w, "brecv", rc, e, EBADF);
    else if(cls == C_WRONG) check_exact(w, "brecv", rc, e, ENOTSUP);
    else if(e == EBADF) {
        if(!gone(o, h, g0)) fail(w, "brecv on a live handle: EBADF");
    } else if(st == D_DONE) check_exact(w, "brecv", rc, e, EPIPE);
    else if(st == D_ERR) check_exact(w, "brecv", rc, e, ECONNRESET);
    else {
        if(e == EPIPE) {
            /* End of stream: everything the peer sent before hdone is
               in, if the peer is still open and never failed a send. */
            struct obj *pe = o->peer >= 0 ? &objs[o->peer] : NULL;
            if(pe && !pe->dead && pe->tx_state == D_DONE &&
                  o->rx_off + len <= pe->tx_off)
                fail(w, "brecv of %zu bytes at byte %llu: EPIPE, the peer "
                    "sent %llu before hdone", len,
                    (unsigned long long)o->rx_off, (unsigned long long)pe->tx_off);
            if(pe && !pe->dead && pe->tx_state == D_OK)
                fail(w, "brecv: EPIPE, the peer neither closed nor called hdone");
        }
        o->rx_state = e == EPIPE ? D_DONE : e == ECANCELED ? D_CANC : D_ERR;
    }
    check_err(w, "brecv", rc, e, E_BSEND, dl);
}

/* UDP datagrams: header, then bytes of the sender's stream. */
struct dgram {
    uint32_t magic, dst, src, seq, len, port, run;
};
#define DMAGIC 0x55445031u

static void make_dgram(struct obj *from, int dst, uint8_t *p, size_t len) {
    struct dgram d = {DMAGIC, (uint32_t)dst, (uint32_t)from->id,
        from->udp_seq++, (uint32_t)len, (uint32_t)from->port, runid};
    size_t hl = len < sizeof d ? len : sizeof d;
    memcpy(p, &d, hl);
    if(len > sizeof d) gen(from->tx_tag ^ d.seq, 0, p + sizeof d, len - sizeof d);
}

static void check_dgram(struct worker *w, struct obj *at, const uint8_t *p,
      size_t n, struct ipaddr *from, const char *call) {
    struct dgram d;
    if(n < sizeof d) return; /* too short to say (our short datagrams) */
    memcpy(&d, p, sizeof d);
    if(d.magic != DMAGIC) fail(w, "%s on obj %d: a datagram nobody sent", call, at->id);
    /* Sent to a port of ours by another fuzzer process (to a socket of
       its own that is gone): not ours to check. */
    if(d.run != runid) return;
    if(d.len != n) fail(w, "%s: datagram of %u bytes arrived as %zu", call, d.len, n);
    if(d.src >= (uint32_t)nobjs || objs[d.src].type != T_UDP)
        fail(w, "%s: datagram from unknown obj %u", call, d.src);
    if(d.dst >= (uint32_t)nobjs || objs[d.dst].port != at->port)
        fail(w, "%s on obj %d (port %d): datagram for obj %u (port %d)", call,
            at->id, at->port, d.dst, d.dst < (uint32_t)nobjs ? objs[d.dst].port : -1);
    if(from && ipaddr_port(from) != (int)d.port)
        fail(w, "%s: datagram from port %d says it came from port %u", call,
            ipaddr_port(from), d.port);
    static uint8_t want[70000];
    if(n > sizeof d) {
        gen(objs[d.src].tx_tag ^ d.seq, 0, want, n - sizeof d);
        if(memcmp(want, p + sizeof d, n - sizeof d) != 0)
            fail(w, "%s: datagram body corrupt", call);
    }
}

static void op_udp_open(struct worker *w) {
    if(nlive() >= maxlive) return;
    struct ipaddr local, remote;
    ipaddr_local(&local, "127.0.0.1", 0, IPADDR_IPV4);
    int hasremote = 0, rid = -1;
    uint32_t r = rnd(&w->rng, 100);
    if(r < 8) pick_port(w, T_UDP, 1, &local);
    if(rnd(&w->rng, 2)) {
        rid = pick_port(w, T_UDP, rnd(&w->rng, 4) != 0, &remote);
        hasremote = rid >= 0;
    }
    int fresh = ipaddr_port(&local) == 0;
    int was = w->canceled;
    note(w, "udp_open(port %d, remote %d)", ipaddr_port(&local),
        hasremote ? ipaddr_port(&remote) : -1);
    int rc = udp_open(&local, hasremote ? &remote : NULL);
    int e = errno;
    note(w, "udp_open -> %d errno %d port %d", rc, rc < 0 ? e : 0, ipaddr_port(&local));
    if(was && fresh) { check_exact(w, "udp_open", rc, e, ECANCELED); ok(); return; }
    if(rc < 0) {
        check_err(w, "udp_open", rc, e, E_UDP_OPEN, -1);
        return;
    }
    ok();
    /* A port in use may be bound again: our sockets have SO_REUSEADDR, as
       the original's. */
    struct obj *o = newobj(w, T_UDP);
    init_end(o);
    o->addr = local;
    o->port = ipaddr_port(&local);
    if(!o->port) fail(w, "udp_open left port 0 in its address");
    o->has_remote = hasremote;
    o->peer = rid;
    addnum(w, rc, o);
}

/* Target of a datagram: a live socket, one gone, NULL (the remote). */
static int udp_target(struct worker *w, struct ipaddr *a, int *null) {
    uint32_t r = rnd(&w->rng, 100);
    *null = 0;
    int x;
    if(r < 70 && (x = pick_port(w, T_UDP, 1, a)) >= 0) return x;
    if(r < 80 && (x = pick_port(w, T_UDP, 0, a)) >= 0) return x;
    *null = 1;
    return -1;
}

static void op_udp_send(struct worker *w, int msg) {
    const char *call = msg ? "msend" : "udp_send";
    int cls;
    int h = pick(w, msg ? M(T_UDP) : M(T_UDP), &cls);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *o = objof(h);
    if(msg && cls == C_LIVE && o->tx_busy) return;
    struct ipaddr a;
    int null = 1, dst = -1;
    if(!msg) dst = udp_target(w, &a, &null);
    if(null && cls == C_LIVE) dst = o->has_remote ? o->peer : -1;
    size_t len = rnd(&w->rng, 100) ? rnd(&w->rng, 1400) : 65536 + rnd(&w->rng, 1000);
    if(cls == C_LIVE) make_dgram(o, dst, w->buf, len);
    int64_t dl = msg ? pick_deadline(w) : -1;
    int was = w->canceled;
    (void)was;
    if(cls == C_LIVE) { o->tx_busy = 1; o->nblocked++; }
    note(w, "%s(%d %s, port %d, %zu)", call, h, o ? tname[o->type] : "bad",
        null ? -1 : ipaddr_port(&a), len);
    int rc = msg ? msend(h, w->buf, len, dl) : udp_send(h, null ? NULL : &a, w->buf, len);
    int e = errno;
    if(cls == C_LIVE) { o->tx_busy = 0; o->nblocked--; }
    note(w, "%s(%d) -> %d errno %d", call, h, rc, rc ? e : 0);
    if(rc == 0) {
        ok();
        if(cls != C_LIVE) fail(w, "%s on a %s handle succeeded", call,
            cls == C_BAD ? "bad" : "wrong-type");
        if(null && !o->has_remote) fail(w, "%s without an address or a remote "
            "succeeded", call);
        if(len > 65507) fail(w, "%s of %zu bytes succeeded", call, len);
        return;
    }
    if(cls == C_BAD) check_exact(w, call, rc, e, EBADF);
    else if(cls == C_WRONG) check_exact(w, call, rc, e, ENOTSUP);
    else if(e == EBADF) {
        if(!gone(o, h, g0)) fail(w, "%s on a live handle: EBADF", call);
    } else if(null && !o->has_remote) check_exact(w, call, rc, e, EINVAL);
    else if(len > 65507) check_exact(w, call, rc, e, EMSGSIZE);
    check_err(w, call, rc, e, msg ? E_MSEND : E_UDP_SEND, dl);
    if(!msg && e == ECANCELED) fail(w, "udp_send: ECANCELED");
}

static void op_udp_recv(struct worker *w, int msg) {
    const char *call = msg ? "mrecv" : "udp_recv";
    int cls;
    int h = pick(w, M(T_UDP), &cls);
    unsigned g0 = gen_of(h);
    uint64_t seq0 = evseq;
    (void)g0;
    (void)seq0;
    struct obj *o = objof(h);
    if(cls == C_LIVE && o->rx_busy) return;
    size_t len = rnd(&w->rng, 10) ? 1500 : rnd(&w->rng, 64);
    int64_t dl = pick_deadline(w);
    struct ipaddr from;
    int wantaddr = rnd(&w->rng, 3) != 0;
    memset(w->buf, 0xee, len);
    if(cls == C_LIVE) { o->rx_busy = 1; o->nblocked++; }
    note(w, "%s(%d %s, %zu, %lld)", call, h, o ? tname[o->type] : "bad", len,
        (long long)dl);
    ssize_t rc = msg ? mrecv(h, w->buf, len, dl) :
        udp_recv(h, wantaddr ? &from : NULL, w->buf, len, dl);
    int e = errno;
    if(rc == -1) check_woken(w, call, o, e, dl, seq0);
    if(cls == C_LIVE) { o->rx_busy = 0; o->nblocked--; }
    note(w, "%s(%d) -> %zd errno %d", call, h, rc, rc < 0 ? e : 0);
    if(rc >= 0) {
        ok();
        if(cls != C_LIVE) fail(w, "%s on a %s handle succeeded", call,
            cls == C_BAD ? "bad" : "wrong-type");
        if((size_t)rc > len) fail(w, "%s returned %zd for a %zu-byte buffer",
            call, rc, len);
        check_dgram(w, o, w->buf, (size_t)rc, !msg && wantaddr ? &from : NULL, call);
        return;
    }
    if(cls == C_BAD) check_exact(w, call, (int)rc, e, EBADF);
    else if(cls == C_WRONG) check_exact(w, call, (int)rc, e, ENOTSUP);
    else if(e == EBADF && !gone(o, h, g0)) fail(w, "%s on a live handle: EBADF", call);
    check_err(w, call, (int)rc, e, msg ? L(EBADF, ECANCELED, ECONNRESET, EINVAL,
        EMSGSIZE, ENOTSUP, EPIPE, ETIMEDOUT) : E_UDP_RECV, dl);
}

static void op_fd(struct worker *w) {
    uint32_t r = rnd(&w->rng, 100);
    int out = rnd(&w->rng, 2);
    if(r < 15) {
        /* Make the pipe readable, or drain it. */
        char c[16] = "x";
        if(rnd(&w->rng, 2)) { ssize_t n = write(pipefd[1], c, 1); (void)n; }
        else { ssize_t n = read(pipefd[0], c, sizeof c); (void)n; }
        return;
    }
    int fd = r < 85 ? pipefd[out] : r < 92 ? -1 : 1 << 28;
    int64_t dl = pick_deadline(w);
    int was = w->canceled;
    note(w, "%s(%d, %lld)", out ? "fdout" : "fdin", fd, (long long)dl);
    int rc = out ? fdout(fd, dl) : fdin(fd, dl);
    int e = errno;
    note(w, "%s(%d) -> %d errno %d", out ? "fdout" : "fdin", fd, rc, rc ? e : 0);
    const char *call = out ? "fdout" : "fdin";
    if(was) { check_exact(w, call, rc, e, ECANCELED); ok(); return; }
    if(rc == 0) {
        ok();
        if(fd != pipefd[out]) fail(w, "%s(%d) succeeded", call, fd);
        return;
    }
    if(fd != pipefd[out]) check_exact(w, call, rc, e, EBADF);
    if(out && fd == pipefd[1] && e != EBUSY && e != ECANCELED) fail(w, "fdout on an empty pipe: %d", e);
    check_err(w, call, rc, e, E_FDIN, dl);
}

/* ---- programs ---------------------------------------------------------- */

static void run_op(struct worker *w) {
    uint32_t r = rnd(&w->rng, 1000);
    /* weights in per mille */
    if(r < 40) op_yield(w);
    else if(r < 80) op_msleep(w);
    else if(r < 95) op_now(w);
    else if(r < 140) op_chmake(w);
    else if(r < 200) op_chsend(w, 1);
    else if(r < 260) op_chsend(w, 0);
    else if(r < 290) op_choose(w);
    else if(r < 320) op_hdone(w);
    else if(r < 400) op_hclose(w);
    else if(r < 420) op_sockclose(w);
    else if(r < 445) op_hdup(w);
    else if(r < 475) op_go(w);
    else if(r < 490) op_bundle(w);
    else if(r < 515) op_bundle_go(w);
    else if(r < 530) op_bundle_wait(w);
    else if(r < 560) op_ipc_pair(w);
    else if(r < 580) op_tcp_listen(w);
    else if(r < 610) op_tcp_accept(w);
    else if(r < 640) op_tcp_connect(w);
    else if(r < 720) op_bsend(w);
    else if(r < 800) op_brecv(w);
    else if(r < 815) op_udp_open(w);
    else if(r < 850) op_udp_send(w, 0);
    else if(r < 865) op_udp_send(w, 1);
    else if(r < 900) op_udp_recv(w, 0);
    else if(r < 915) op_udp_recv(w, 1);
    else op_fd(w);
}

/* After a coroutine sees ECANCELED it must keep seeing it; a few more
   calls check that, then it returns. */
static void after_cancel(struct worker *w) {
    int n = (int)rnd(&w->rng, 3);
    for(int i = 0; i < n; i++) {
        switch(rnd(&w->rng, 6)) {
        case 0: op_yield(w); break;
        case 1: op_msleep(w); break;
        case 2: op_chmake(w); break;
        case 3: op_chsend(w, (int)rnd(&w->rng, 2)); break;
        case 4: op_go(w); break;
        default: op_bundle(w); break;
        }
    }
}

static void program(struct worker *w) {
    for(w->op = 0; w->op < w->nops && !stop && ops_left > 0; w->op++) {
        ops_left--;
        run_op(w);
        if(w->canceled) {
            after_cancel(w);
            break;
        }
    }
}

static coroutine void worker(int wid) {
    struct worker *w = &workers[wid];
    w->started = 1;
    program(w);
    w->finished = 1;
    note(w, "worker %d ends", wid);
}

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if(!d) { perror("opendir /proc/self/fd"); exit(2); }
    int n = 0;
    struct dirent *e;
    while((e = readdir(d))) if(e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void usage(void) {
    fprintf(stderr, "usage: apifuzz [-s] [-v] [-t SECS] SEED [OPS]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int timeout = 60, nops = 400;
    int i = 1;
    if(getenv("APIFUZZ_SAFE") && atoi(getenv("APIFUZZ_SAFE"))) safe_mode = 1;
    if(getenv("APIFUZZ_TRACE") && atoi(getenv("APIFUZZ_TRACE"))) trace = 1;
    for(; i < argc && argv[i][0] == '-'; i++) {
        if(!strcmp(argv[i], "-s")) safe_mode = 1;
        else if(!strcmp(argv[i], "-v")) trace = 1;
        else if(!strcmp(argv[i], "-t") && i + 1 < argc) timeout = atoi(argv[++i]);
        else usage();
    }
    if(i >= argc) usage();
    seed = strtoull(argv[i++], NULL, 0);
    /* One seed in 16 keeps hundreds of handles open (the handle table
       grows past its first sizes) over a longer program. */
    if(seed % 16 == 0) {
        maxlive = 320;
        nops = 2000;
    }
    if(i < argc) nops = atoi(argv[i++]);
    runid = (uint32_t)mix64(seed ^ ((uint64_t)getpid() << 32) ^ (uint64_t)now());
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)timeout);
    for(int h = 0; h < MAXH; h++) hmap[h] = FREE;

    /* Let the library set up what it keeps for the whole run (poller and
       the like) before the fds are counted. */
    int ch[2];
    if(chmake(ch) != 0 || hclose(ch[0]) != 0 || hclose(ch[1]) != 0) {
        perror("chmake");
        return 2;
    }
    if(msleep(now() + 1) != 0) { perror("msleep"); return 2; }
    int tp[2];
    if(pipe(tp) != 0 || fdout(tp[1], -1) != 0) { perror("fdout"); return 2; }
    fdclean(tp[1]);
    close(tp[0]);
    close(tp[1]);
    int fds0 = count_fds();

    if(pipe(pipefd) != 0) { perror("pipe"); return 2; }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    fcntl(pipefd[1], F_SETFL, O_NONBLOCK);

    struct worker boot;
    memset(&boot, 0, sizeof boot);
    boot.rng = seed;
    struct worker *m = newworker(&boot);
    m->is_main = 1;
    m->launched = m->started = 1;
    m->nops = nops;
    ops_left = nops;

    /* A few coroutines to start with, with handles and in a bundle. */
    int nstart = 1 + (int)rnd(&m->rng, 4);
    for(int k = 0; k < nstart; k++) op_go(m);
    op_bundle(m);
    for(int k = 0; k < 2; k++) op_bundle_go(m);
    program(m);
    note(m, "main: program done");

    /* Let the others finish what they do, then close everything:
       coroutines first (they are canceled and end), then the rest. */
    int64_t until = now() + 50;
    while(running_workers() > 1 && now() < until) msleep(now() + 5);
    stop = 1;
    for(int pass = 0; pass < 2; pass++) {
        for(int k = nnums - 1; k >= 0; k--) {
            if(k >= nnums) continue;
            int h = nums[k];
            struct obj *o = objof(h);
            if(!o) continue;
            int coros = o->type == T_CORO || o->type == T_BUNDLE;
            if(coros == (pass == 0)) {
                do_close(m, h, o, 0);
                k = nnums;
            }
        }
        if(pass == 0) {
            /* Coroutines left by an EDEADLK close end once canceled. */
            int64_t lim = now() + 2000;
            while(running_workers() > 1 && now() < lim) msleep(now() + 2);
            for(int k = 1; k < nworkers; k++) {
                struct worker *w = &workers[k];
                if(w->launched && !w->finished && (w->started || !w->cancel_req))
                    fail(m, "worker %d still runs after all coroutine handles "
                        "closed%s", k, w->in_close ? " (it is inside hclose of a "
                        "coroutine or bundle: a cycle of closes)" : "");
            }
        }
    }
    if(nlive()) fail(m, "%d handles left", nlive());
    for(int k = 0; k < nstale && k < 32; k++) {
        int h = stale[k];
        errno = 0;
        int rc = hclose(h);
        if(rc != -1 || errno != EBADF)
            fail(m, "hclose(%d) after everything closed: %d errno %d", h, rc, errno);
    }
    for(int k = 0; k < nobjs; k++) {
        struct obj *o = &objs[k];
        if(o->type != T_CHAN || o->half) continue;
        struct obj *b = &objs[o->chan_other];
        if(o->sent != b->recvd || b->sent != o->recvd)
            fail(m, "chan %u: %llu+%llu sent, %llu+%llu received", o->ctag,
                (unsigned long long)o->sent, (unsigned long long)b->sent,
                (unsigned long long)b->recvd, (unsigned long long)o->recvd);
    }
    fdclean(pipefd[0]);
    fdclean(pipefd[1]);
    close(pipefd[0]);
    close(pipefd[1]);
    int fds1 = count_fds();
    if(fds1 != fds0) {
        fprintf(stderr, "open fds:\n");
        char cmd[64];
        snprintf(cmd, sizeof cmd, "ls -l /proc/%d/fd >&2", (int)getpid());
        if(system(cmd)) {}
        fail(m, "fd leak: %d fds before, %d after", fds0, fds1);
    }
    for(int k = 0; k < nworkers; k++) free(workers[k].buf);
    if(getenv("APIFUZZ_STATS"))
        fprintf(stderr, "seed %llu: %lld calls, %d coroutines, %d objects, "
            "%d handles at most\n", (unsigned long long)seed, total_calls,
            nworkers, nobjs, peaklive);
    return 0;
}
