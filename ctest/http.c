/* HTTP sockets: what http_sendrequest, http_sendstatus and http_sendfield
   put on the wire; how http_recvrequest, http_recvstatus and
   http_recvfield parse what a peer sends (trimming, malformed lines,
   buffer sizes); the end of the head; what http_detach leaves in the
   stream; every documented errno; a socket closed by another coroutine
   while one waits in it. */
#include <libdillimpl.h>

#include "sockutil.h"

static int h[2];
static int s;
static char b1[64], b2[64];

static void fresh(void) {
    CHECK_OK(ipc_pair(h));
    s = http_attach(h[0]);
    CHECK(s >= 0);
}

static void finish(void) {
    CHECK_OK(hclose(s));
    CHECK_OK(hclose(h[1]));
}

static void feed(const char *t) { CHECK_OK(bsend(h[1], t, strlen(t), -1)); }

static void wire(const char *want) {
    char got[256];
    size_t n = strlen(want);
    CHECK_OK(brecv(h[1], got, n, now() + 1000));
    if(memcmp(got, want, n) != 0) {
        fprintf(stderr, "wire: got [%.*s], want [%s]\n", (int)n, got, want);
        abort();
    }
}

static void sending(void) {
    fresh();
    CHECK_OK(http_sendrequest(s, "GET", "/index.html", -1));
    wire("GET /index.html HTTP/1.1\r\n");
    CHECK_OK(http_sendfield(s, "Host", "www.example.org", -1));
    wire("Host: www.example.org\r\n");
    CHECK_OK(http_sendfield(s, "X-Pad", " \t both \t ", -1));
    wire("X-Pad: both\r\n");
    CHECK_OK(http_sendfield(s, "A!#$%&'*+-.^_`|~z9", "a\tb", -1));
    wire("A!#$%&'*+-.^_`|~z9: a\tb\r\n");
    CHECK_OK(http_sendfield(s, "Empty", "", -1));
    wire("Empty:\r\n");
    CHECK_OK(http_sendstatus(s, 404, "Not found", -1));
    wire("HTTP/1.1 404 Not found\r\n");
    CHECK_OK(http_sendstatus(s, 100, "", -1));
    wire("HTTP/1.1 100 \r\n");
    CHECK_OK(http_sendstatus(s, 599, "x", -1));
    wire("HTTP/1.1 599 x\r\n");
    /* Invalid arguments: nothing is sent, the socket works on. */
    CHECK_ERR(http_sendrequest(s, NULL, "/", -1), EINVAL);
    CHECK_ERR(http_sendrequest(s, "GET", NULL, -1), EINVAL);
    CHECK_ERR(http_sendrequest(s, "", "/", -1), EINVAL);
    CHECK_ERR(http_sendrequest(s, "GET", "", -1), EINVAL);
    CHECK_ERR(http_sendrequest(s, "G T", "/", -1), EINVAL);
    CHECK_ERR(http_sendrequest(s, "GET\t", "/", -1), EINVAL);
    CHECK_ERR(http_sendrequest(s, "GET", "/a b", -1), EINVAL);
    CHECK_ERR(http_sendrequest(s, "GET", "/a\r\nb", -1), EINVAL);
    CHECK_ERR(http_sendstatus(s, 99, "OK", -1), EINVAL);
    CHECK_ERR(http_sendstatus(s, 600, "OK", -1), EINVAL);
    CHECK_ERR(http_sendstatus(s, -200, "OK", -1), EINVAL);
    CHECK_ERR(http_sendstatus(s, 200, NULL, -1), EINVAL);
    CHECK_ERR(http_sendstatus(s, 200, "a\r\nb", -1), EINVAL);
    CHECK_ERR(http_sendstatus(s, 200, "a\nb", -1), EINVAL);
    CHECK_ERR(http_sendfield(s, NULL, "x", -1), EINVAL);
    CHECK_ERR(http_sendfield(s, "Host", NULL, -1), EINVAL);
    CHECK_ERR(http_sendfield(s, "", "x", -1), EINVAL);
    CHECK_ERR(http_sendfield(s, "invalid field name ", "x", -1), EINVAL);
    CHECK_ERR(http_sendfield(s, "Ho:st", "x", -1), EINVAL);
    CHECK_ERR(http_sendfield(s, "Ho(st", "x", -1), EINVAL);
    CHECK_ERR(http_sendfield(s, "Host", "a\r\nb", -1), EINVAL);
    CHECK_ERR(http_sendfield(s, "Host", "a\rb", -1), EINVAL);
    CHECK_OK(http_sendfield(s, "Last", "one", -1));
    wire("Last: one\r\n");
    /* hdone: the empty line, once. */
    CHECK_OK(hdone(s, -1));
    wire("\r\n");
    CHECK_ERR(hdone(s, -1), EPIPE);
    CHECK_ERR(http_sendfield(s, "a", "b", -1), EPIPE);
    CHECK_ERR(http_sendstatus(s, 200, "OK", -1), EPIPE);
    CHECK_ERR(http_sendrequest(s, "GET", "/", -1), EPIPE);
    finish();
}

/* Feeds a request line; checks the outcome (0 or an errno) and parts. */
static void req(const char *line, size_t l1, size_t l2, int err,
      const char *cmd, const char *res) {
    fresh();
    feed(line);
    feed("Next: line\r\n");
    errno = 0;
    int rc = http_recvrequest(s, b1, l1, b2, l2, now() + 1000);
    if(err) {
        if(rc != -1 || errno != err) {
            fprintf(stderr, "request [%s]: %d errno %d, want %d\n", line, rc, errno, err);
            abort();
        }
    } else {
        CHECK_OK(rc);
        CHECK(strcmp(b1, cmd) == 0 && strcmp(b2, res) == 0);
    }
    /* The line is used up either way; the socket works on. */
    CHECK_OK(http_recvfield(s, b1, sizeof(b1), b2, sizeof(b2), now() + 1000));
    CHECK(strcmp(b1, "Next") == 0 && strcmp(b2, "line") == 0);
    finish();
}

static void requests(void) {
    req("GET / HTTP/1.1\r\n", 64, 64, 0, "GET", "/");
    req("POST /a/b?c=d HTTP/1.0\r\n", 64, 64, 0, "POST", "/a/b?c=d");
    req("  GET   /x   HTTP/1.1  \r\n", 64, 64, 0, "GET", "/x");
    req("GET /x\r\n", 64, 64, EPROTO, 0, 0);
    req("GET\r\n", 64, 64, EPROTO, 0, 0);
    req("GET /x HTTP/1.1 extra\r\n", 64, 64, EPROTO, 0, 0);
    req("GET /x HTTP/2\r\n", 64, 64, EPROTO, 0, 0);
    req("GET /x FOO/1.1\r\n", 64, 64, EPROTO, 0, 0);
    req("GET\t/x\tHTTP/1.1\r\n", 64, 64, EPROTO, 0, 0);
    /* Buffer sizes count the NUL. */
    req("GET /x HTTP/1.1\r\n", 4, 3, 0, "GET", "/x");
    req("GET /x HTTP/1.1\r\n", 3, 64, EMSGSIZE, 0, 0);
    req("GET /x HTTP/1.1\r\n", 64, 2, EMSGSIZE, 0, 0);
    req("GET /x HTTP/1.1\r\n", 0, 64, EMSGSIZE, 0, 0);
    fresh();
    CHECK_ERR(http_recvrequest(s, NULL, 4, b2, 4, -1), EINVAL);
    CHECK_ERR(http_recvrequest(s, b1, 4, NULL, 4, -1), EINVAL);
    /* The empty line: no request. */
    feed("\r\n");
    CHECK_ERR(http_recvrequest(s, b1, 64, b2, 64, -1), EPIPE);
    finish();
}

static void status(const char *line, size_t len, int want, const char *reason) {
    fresh();
    feed(line);
    errno = 0;
    int rc = http_recvstatus(s, b1, len, now() + 1000);
    if(want < 0) {
        if(rc != -1 || errno != -want) {
            fprintf(stderr, "status [%s]: %d errno %d, want %d\n", line, rc, errno, -want);
            abort();
        }
    } else {
        CHECK(rc == want);
        CHECK(strcmp(b1, reason) == 0);
    }
    finish();
}

static void statuses(void) {
    status("HTTP/1.1 200 OK\r\n", 64, 200, "OK");
    status("HTTP/1.0 404 Not found\r\n", 64, 404, "Not found");
    status("HTTP/1.1  200  OK  go \r\n", 64, 200, "OK  go ");
    status("HTTP/1.1 204 \r\n", 64, 204, "");
    status("HTTP/1.1 204\r\n", 64, 204, "");
    status("HTTP/1.1 099 odd\r\n", 64, 99, "odd");
    status("HTTP/1.1 2000 OK\r\n", 64, -EPROTO, 0);
    status("HTTP/1.1 20 OK\r\n", 64, -EPROTO, 0);
    status("HTTP/1.1 2x0 OK\r\n", 64, -EPROTO, 0);
    status("HTTP/2 200 OK\r\n", 64, -EPROTO, 0);
    status("HTTPS/1.1 200 OK\r\n", 64, -EPROTO, 0);
    status("FOO\r\n", 64, -EPROTO, 0);
    status("HTTP/1.1 200 OK\r\n", 3, 200, "OK");
    status("HTTP/1.1 200 OK\r\n", 2, -EMSGSIZE, 0);
    status("HTTP/1.1 200 OK\r\n", 0, -EMSGSIZE, 0);
    status("\r\n", 64, -EPIPE, 0);
    fresh();
    CHECK_ERR(http_recvstatus(s, NULL, 4, -1), EINVAL);
    finish();
}

static void field(const char *line, size_t l1, size_t l2, int err,
      const char *name, const char *value) {
    fresh();
    feed(line);
    errno = 0;
    int rc = http_recvfield(s, b1, l1, b2, l2, now() + 1000);
    if(err) {
        if(rc != -1 || errno != err) {
            fprintf(stderr, "field [%s]: %d errno %d, want %d\n", line, rc, errno, err);
            abort();
        }
    } else {
        CHECK_OK(rc);
        if(strcmp(b1, name) != 0 || strcmp(b2, value) != 0) {
            fprintf(stderr, "field [%s]: [%s] [%s]\n", line, b1, b2);
            abort();
        }
    }
    finish();
}

static void fields(void) {
    field("Host: x.org\r\n", 64, 64, 0, "Host", "x.org");
    field("Host:x.org\r\n", 64, 64, 0, "Host", "x.org");
    field(" Host :x.org\r\n", 64, 64, 0, "Host", "x.org");
    field("Host:   x.org   \r\n", 64, 64, 0, "Host", "x.org");
    field("Host:\tx.org\t\r\n", 64, 64, 0, "Host", "x.org");
    field("Host: a  b\r\n", 64, 64, 0, "Host", "a  b");
    field("Host: a: b\r\n", 64, 64, 0, "Host", "a: b");
    field("Host:\r\n", 64, 64, 0, "Host", "");
    field("Host:   \r\n", 64, 64, 0, "Host", "");
    field("Host x.org\r\n", 64, 64, EPROTO, 0, 0);
    field("Ho st: x\r\n", 64, 64, EPROTO, 0, 0);
    field(": x\r\n", 64, 64, EPROTO, 0, 0);
    field("Host: x.org\r\n", 5, 6, 0, "Host", "x.org");
    field("Host: x.org\r\n", 4, 64, EMSGSIZE, 0, 0);
    field("Host: x.org\r\n", 64, 5, EMSGSIZE, 0, 0);
    field("\r\n", 64, 64, EPIPE, 0, 0);
    fresh();
    CHECK_ERR(http_recvfield(s, NULL, 4, b2, 4, -1), EINVAL);
    CHECK_ERR(http_recvfield(s, b1, 4, NULL, 4, -1), EINVAL);
    /* Lines up to 1023 bytes (the original's limit); a longer one breaks
       the input. */
    char line[1100];
    memset(line, 'v', sizeof(line));
    memcpy(line, "N:", 2);
    memcpy(line + 1023, "\r\n", 2);
    CHECK_OK(bsend(h[1], line, 1025, -1));
    static char value[1100];
    CHECK_OK(http_recvfield(s, b1, sizeof(b1), value, sizeof(value), -1));
    CHECK(strlen(value) == 1021);
    memset(line, 'v', sizeof(line));
    memcpy(line, "N:", 2);
    memcpy(line + 1024, "\r\n", 2);
    CHECK_OK(bsend(h[1], line, 1026, -1));
    CHECK_ERR(http_recvfield(s, b1, sizeof(b1), value, sizeof(value), -1), EMSGSIZE);
    CHECK_ERR(http_recvfield(s, b1, sizeof(b1), value, sizeof(value), -1), ECONNRESET);
    finish();
}

/* The upstream exchange, both sides ours, then the body after detach. */
static void exchange(void) {
    CHECK_OK(ipc_pair(h));
    int c = http_attach(h[0]);
    char mem[HTTP_SIZE];
    int v = http_attach_mem(h[1], mem);
    CHECK(c >= 0 && v >= 0);
    CHECK_OK(http_sendrequest(c, "GET", "/a", -1));
    CHECK_OK(http_sendfield(c, "Host", "h", -1));
    CHECK_OK(hdone(c, -1));
    CHECK_OK(http_recvrequest(v, b1, sizeof(b1), b2, sizeof(b2), -1));
    CHECK(strcmp(b1, "GET") == 0 && strcmp(b2, "/a") == 0);
    CHECK_OK(http_recvfield(v, b1, sizeof(b1), b2, sizeof(b2), -1));
    CHECK_ERR(http_recvfield(v, b1, sizeof(b1), b2, sizeof(b2), -1), EPIPE);
    CHECK_ERR(http_recvfield(v, b1, sizeof(b1), b2, sizeof(b2), -1), EPIPE);
    CHECK_OK(http_sendstatus(v, 200, "OK", -1));
    CHECK_OK(http_sendfield(v, "Content-Length", "5", -1));
    CHECK_OK(hdone(v, -1));
    int uv = http_detach(v, -1);
    CHECK(uv >= 0);
    CHECK_OK(bsend(uv, "hello", 5, -1));
    CHECK(http_recvstatus(c, b1, sizeof(b1), -1) == 200);
    CHECK_OK(http_recvfield(c, b1, sizeof(b1), b2, sizeof(b2), -1));
    CHECK(strcmp(b1, "Content-Length") == 0 && strcmp(b2, "5") == 0);
    CHECK_ERR(http_recvfield(c, b1, sizeof(b1), b2, sizeof(b2), -1), EPIPE);
    int uc = http_detach(c, 0);
    CHECK(uc >= 0);
    CHECK_ERR(http_recvfield(c, b1, sizeof(b1), b2, sizeof(b2), -1), EBADF);
    char body[5];
    CHECK_OK(brecv(uc, body, 5, -1));
    CHECK(memcmp(body, "hello", 5) == 0);
    CHECK_OK(hclose(uc));
    CHECK_OK(hclose(uv));
}

static void handles_and_errors(void) {
    CHECK_ERR(http_attach(-1), EBADF);
    CHECK_ERR(http_attach(12345), EBADF);
    CHECK_ERR(http_detach(-1, -1), EBADF);
    CHECK_ERR(http_sendrequest(12345, "GET", "/", -1), EBADF);
    CHECK_ERR(http_recvfield(12345, b1, 4, b2, 4, -1), EBADF);
    CHECK_OK(ipc_pair(h));
    CHECK_ERR(http_attach_mem(h[0], NULL), EINVAL);
    CHECK_ERR(http_detach(h[0], -1), ENOTSUP);
    CHECK_ERR(http_sendrequest(h[0], "GET", "/", -1), ENOTSUP);
    CHECK_ERR(http_recvstatus(h[0], b1, 4, -1), ENOTSUP);
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, 0));
    int u = udp_open(&a, NULL);
    CHECK_ERR(http_attach(u), EPROTO);
    CHECK_OK(hclose(u));
    int c = crlf_attach(h[0]);
    CHECK_ERR(http_attach(c), EPROTO);
    CHECK_ERR(http_detach(c, -1), ENOTSUP);
    CHECK_ERR(http_sendfield(c, "a", "b", -1), ENOTSUP);
    CHECK_OK(hclose(c));
    CHECK_OK(hclose(h[1]));
    /* Not a message socket itself. */
    fresh();
    CHECK_ERR(msend(s, "x", 1, -1), ENOTSUP);
    CHECK_NULL_ERR(hquery(s, bsock_type), ENOTSUP);
    /* Timeouts. */
    int64_t start = now();
    CHECK_ERR(http_recvrequest(s, b1, 64, b2, 64, now() + 50), ETIMEDOUT);
    CHECK_TOOK(start, 50);
    start = now();
    CHECK_ERR(http_detach(s, now() + 50), ETIMEDOUT);
    CHECK_TOOK(start, 50);
    CHECK_ERR(hclose(s), EBADF);   /* closed even so */
    CHECK_ERR(brecv(h[1], b1, 3, now() + 1000), EPIPE);   /* "\r\n" then the end */
    CHECK_OK(hclose(h[1]));
    /* Caller memory at an odd address. */
    CHECK_OK(ipc_pair(h));
    char *mem = malloc(HTTP_SIZE + 1);
    CHECK(mem != NULL);
    s = http_attach_mem(h[0], mem + 1);
    CHECK(s >= 0);
    CHECK_OK(http_sendstatus(s, 200, "OK", -1));
    wire("HTTP/1.1 200 OK\r\n");
    finish();
    free(mem);
}

/* Handle numbers as the original's (in a fresh process: run first). */
static void numbering(void) {
    CHECK_OK(ipc_pair(h));
    CHECK(h[0] == 0 && h[1] == 1);
    int x = http_attach(h[0]);
    CHECK(x == 2);
    int d = hdup(h[1]);
    CHECK(d == 6);
    CHECK_OK(hclose(d));
    CHECK_OK(hdone(x, -1));
    feed("\r\n");
    int y = http_detach(x, -1);
    CHECK(y == 4);
    d = hdup(h[1]);
    CHECK(d == 7);
    CHECK_OK(hclose(d));
    CHECK_OK(hclose(y));
    CHECK_OK(hclose(h[1]));
}

static coroutine void blocked_field(int c, int expect) {
    char n[16], v[16];
    CHECK_ERR(http_recvfield(c, n, sizeof(n), v, sizeof(v), -1), expect);
}

static coroutine void blocked_detach(int c) {
    CHECK_ERR(http_detach(c, -1), EBADF);
}

static void closed_under_waiters(void) {
    /* Cancellation. */
    fresh();
    int cr = go(blocked_field(s, ECANCELED));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(cr));
    feed("A: b\r\n");
    CHECK_OK(http_recvfield(s, b1, sizeof(b1), b2, sizeof(b2), -1));
    finish();
    /* Closed by another coroutine: EBADF; the freed memory is not touched
       (valgrind would see it). */
    CHECK_OK(ipc_pair(h));
    char *mem = malloc(HTTP_SIZE);
    CHECK(mem != NULL);
    s = http_attach_mem(h[0], mem);
    CHECK(s >= 0);
    int b = bundle();
    CHECK_OK(bundle_go(b, blocked_field(s, EBADF)));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(s));
    memset(mem, 0x5a, HTTP_SIZE);
    free(mem);
    CHECK_OK(bundle_wait(b, now() + 1000));
    CHECK_OK(hclose(h[1]));
    fresh();
    CHECK_OK(bundle_go(b, blocked_detach(s)));
    CHECK_OK(msleep(now() + 20));
    CHECK_OK(hclose(s));
    CHECK_OK(bundle_wait(b, now() + 1000));
    CHECK_OK(hclose(b));
    CHECK_OK(hclose(h[1]));
}

int main(void) {
    numbering();
    sending();
    requests();
    statuses();
    fields();
    exchange();
    handles_and_errors();
    closed_under_waiters();
    return 0;
}
