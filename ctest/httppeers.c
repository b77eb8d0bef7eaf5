/* HTTP with real peers over loopback TCP: curl and python3's http.client
   as clients of a server made of our http_* calls, and our http client
   against python3's http.server. The body goes over the stream that
   http_detach gives back. curl and python3 must be installed (the
   Makefile installs curl); a missing one fails the test. */
#include <libdill.h>
#include <spawn.h>
#include <sys/wait.h>

#include "sockutil.h"

extern char **environ;

struct child {
    pid_t pid;
    int out;   /* read end of its stdout */
};

static void spawn(struct child *c, char *const argv[]) {
    int p[2];
    CHECK_OK(pipe(p));
    posix_spawn_file_actions_t fa;
    CHECK_OK(posix_spawn_file_actions_init(&fa));
    CHECK_OK(posix_spawn_file_actions_adddup2(&fa, p[1], 1));
    CHECK_OK(posix_spawn_file_actions_addclose(&fa, p[0]));
    int rc = posix_spawnp(&c->pid, argv[0], &fa, NULL, argv, environ);
    CHECK_OK(posix_spawn_file_actions_destroy(&fa));
    CHECK_OK(close(p[1]));
    if(rc != 0) {
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(rc));
        abort();
    }
    c->out = p[0];
}

/* Everything it prints, until it exits; it must exit 0. libdill keeps
   running meanwhile (the server side is a coroutine). */
static size_t finish(struct child *c, char *buf, size_t len) {
    size_t n = 0;
    int64_t deadline = now() + 20000;
    while(1) {
        int rc = fdin(c->out, deadline);
        CHECK_OK(rc);
        ssize_t k = read(c->out, buf + n, len - 1 - n);
        CHECK(k >= 0);
        if(k == 0) break;
        n += (size_t)k;
        CHECK(n < len - 1);
    }
    buf[n] = 0;
    fdclean(c->out);
    CHECK_OK(close(c->out));
    int status;
    while(1) {
        pid_t r = waitpid(c->pid, &status, WNOHANG);
        CHECK(r >= 0);
        if(r == c->pid) break;
        CHECK(now() < deadline);
        CHECK_OK(msleep(now() + 5));
    }
    if(!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "peer failed (status 0x%x), said:\n%s\n", status, buf);
        abort();
    }
    return n;
}

/* ---- our server ---- */

#define BODY "hello from libdill\n"

struct seen {
    char cmd[16], res[128], host[256], agent[256], test[256];
    int nfields;
};

static coroutine void server(int ls, struct seen *seen) {
    int s = tcp_accept(ls, NULL, now() + 20000);
    CHECK(s >= 0);
    s = http_attach(s);
    CHECK(s >= 0);
    CHECK_OK(http_recvrequest(s, seen->cmd, sizeof(seen->cmd), seen->res,
        sizeof(seen->res), now() + 10000));
    while(1) {
        char name[64], value[256];
        int rc = http_recvfield(s, name, sizeof(name), value, sizeof(value), now() + 10000);
        if(rc < 0) {
            CHECK(errno == EPIPE);
            break;
        }
        seen->nfields++;
        if(strcasecmp(name, "Host") == 0) snprintf(seen->host, sizeof(seen->host), "%s", value);
        if(strcasecmp(name, "User-Agent") == 0) snprintf(seen->agent, sizeof(seen->agent), "%s", value);
        if(strcasecmp(name, "X-Test") == 0) snprintf(seen->test, sizeof(seen->test), "%s", value);
    }
    CHECK_OK(http_sendstatus(s, 200, "OK", -1));
    CHECK_OK(http_sendfield(s, "Content-Type", "text/plain", -1));
    char len[16];
    snprintf(len, sizeof(len), "%d", (int)strlen(BODY));
    CHECK_OK(http_sendfield(s, "Content-Length", len, -1));
    CHECK_OK(http_sendfield(s, "Connection", "close", -1));
    CHECK_OK(http_sendfield(s, "X-Echo", seen->test, -1));
    CHECK_OK(hdone(s, -1));
    s = http_detach(s, now() + 10000);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, BODY, strlen(BODY), now() + 10000));
    CHECK_OK(tcp_close(s, now() + 10000));
}

static int listen_any(int *port) {
    struct ipaddr a;
    loop4(&a, 0);
    int ls = tcp_listen(&a, 10);
    CHECK(ls >= 0);
    *port = ipaddr_port(&a);
    CHECK(*port > 0);
    return ls;
}

static void curl_client(void) {
    int port;
    int ls = listen_any(&port);
    struct seen seen = {0};
    int srv = go(server(ls, &seen));
    CHECK(srv >= 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/path/x?y=1", port);
    char *argv[] = {"curl", "-s", "-S", "-i", "--max-time", "15",
        "-H", "X-Test:   spaced value  ", url, NULL};
    struct child c;
    spawn(&c, argv);
    char out[4096];
    finish(&c, out, sizeof(out));
    CHECK_OK(bundle_wait(srv, now() + 5000));
    CHECK_OK(hclose(srv));
    CHECK_OK(hclose(ls));
    /* What curl sent, as we parsed it. */
    CHECK(strcmp(seen.cmd, "GET") == 0);
    CHECK(strcmp(seen.res, "/path/x?y=1") == 0);
    char host[64];
    snprintf(host, sizeof(host), "127.0.0.1:%d", port);
    CHECK(strcmp(seen.host, host) == 0);
    CHECK(strncmp(seen.agent, "curl/", 5) == 0);
    CHECK(strcmp(seen.test, "spaced value") == 0);
    CHECK(seen.nfields >= 4);   /* Host, User-Agent, Accept, X-Test */
    /* What curl got from us. */
    CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(out, "\r\nContent-Length: 19\r\n") != NULL);
    CHECK(strstr(out, "\r\nX-Echo: spaced value\r\n") != NULL);
    const char *body = strstr(out, "\r\n\r\n");
    CHECK(body != NULL);
    CHECK(strcmp(body + 4, BODY) == 0);
}

static const char *py_client =
    "import http.client, sys\n"
    "c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=15)\n"
    "c.request('GET', '/py/client', headers={'X-Test': 'from python'})\n"
    "r = c.getresponse()\n"
    "body = r.read()\n"
    "assert r.status == 200 and r.reason == 'OK', (r.status, r.reason)\n"
    "assert r.version == 11, r.version\n"
    "assert r.getheader('X-Echo') == 'from python', r.getheader('X-Echo')\n"
    "assert r.getheader('Content-Type') == 'text/plain'\n"
    "assert body == b'hello from libdill\\n', body\n"
    "print('ok')\n";

static void python_client(void) {
    int port;
    int ls = listen_any(&port);
    struct seen seen = {0};
    int srv = go(server(ls, &seen));
    char p[16];
    snprintf(p, sizeof(p), "%d", port);
    char *argv[] = {"python3", "-c", (char*)py_client, p, NULL};
    struct child c;
    spawn(&c, argv);
    char out[1024];
    finish(&c, out, sizeof(out));
    CHECK(strcmp(out, "ok\n") == 0);
    CHECK_OK(bundle_wait(srv, now() + 5000));
    CHECK_OK(hclose(srv));
    CHECK_OK(hclose(ls));
    CHECK(strcmp(seen.cmd, "GET") == 0);
    CHECK(strcmp(seen.res, "/py/client") == 0);
    CHECK(strcmp(seen.test, "from python") == 0);
    char host[64];
    snprintf(host, sizeof(host), "127.0.0.1:%d", port);
    CHECK(strcmp(seen.host, host) == 0);
}

/* ---- our client against python's http.server ---- */

static const char *py_server =
    "import http.server, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def do_GET(self):\n"
    "        assert self.path == '/from/libdill', self.path\n"
    "        assert self.headers['X-Ask'] == 'please', self.headers['X-Ask']\n"
    "        body = ('you asked for %s\\n' % self.path).encode()\n"
    "        self.send_response(200, 'Fine Thanks')\n"
    "        self.send_header('X-Reply', '  padded  ')\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.send_header('Connection', 'close')\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
    "print(s.server_address[1], flush=True)\n"
    "s.timeout = 15\n"
    "s.handle_request()\n";

static void python_server(void) {
    char *argv[] = {"python3", "-c", (char*)py_server, NULL};
    struct child c;
    spawn(&c, argv);
    /* Its port, on the first line. */
    char line[16];
    size_t n = 0;
    while(n < sizeof(line) - 1) {
        CHECK_OK(fdin(c.out, now() + 10000));
        CHECK(read(c.out, line + n, 1) == 1);
        if(line[n] == '\n') break;
        n++;
    }
    line[n] = 0;
    struct ipaddr a;
    loop4(&a, atoi(line));
    int s = tcp_connect(&a, now() + 10000);
    CHECK(s >= 0);
    s = http_attach(s);
    CHECK(s >= 0);
    CHECK_OK(http_sendrequest(s, "GET", "/from/libdill", -1));
    CHECK_OK(http_sendfield(s, "Host", "127.0.0.1", -1));
    CHECK_OK(http_sendfield(s, "X-Ask", "please", -1));
    CHECK_OK(hdone(s, -1));
    char reason[64];
    CHECK(http_recvstatus(s, reason, sizeof(reason), now() + 10000) == 200);
    CHECK(strcmp(reason, "Fine Thanks") == 0);
    int length = -1, server = 0, reply = 0;
    while(1) {
        char name[64], value[256];
        int rc = http_recvfield(s, name, sizeof(name), value, sizeof(value), now() + 10000);
        if(rc < 0) {
            CHECK(errno == EPIPE);
            break;
        }
        if(strcmp(name, "Content-Length") == 0) length = atoi(value);
        if(strcmp(name, "Server") == 0) server = strncmp(value, "BaseHTTP/", 9) == 0;
        if(strcmp(name, "X-Reply") == 0) reply = strcmp(value, "padded") == 0;
    }
    CHECK(server && reply);
    const char *want = "you asked for /from/libdill\n";
    CHECK(length == (int)strlen(want));
    s = http_detach(s, now() + 10000);
    CHECK(s >= 0);
    char body[64];
    CHECK_OK(brecv(s, body, (size_t)length, now() + 10000));
    CHECK(memcmp(body, want, (size_t)length) == 0);
    CHECK_ERR(brecv(s, body, 1, now() + 10000), EPIPE);
    CHECK_OK(hclose(s));
    char out[256];
    finish(&c, out, sizeof(out));
}

int main(void) {
    curl_client();
    python_client();
    python_server();
    return 0;
}
