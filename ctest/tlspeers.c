/* TLS against real peers on loopback: `openssl s_server` and `openssl
   s_client`, and python3's ssl module, each forced to TLS 1.2 and to
   TLS 1.3. Our client against their servers (data both ways; detach after
   python's unwrap, then plain bytes on the same connection), their clients
   against our server (they verify our chain against the test CA and the
   name localhost). Failures: a server certificate of a type we cannot use
   (Ed448) and a client that rejects our certificate (its alert) end in
   -1/ECONNRESET, not a hang. Needs openssl and python3 (the Makefile
   installs them); nothing is skipped. */
#include <libdill.h>
#include <spawn.h>

#include "sockutil.h"

extern char **environ;

static char certdir[256];

static const char *cert(const char *name) {
    static char paths[8][320];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 320, "%s/%s", certdir, name);
    return p;
}

/* ---- child processes ---------------------------------------------------- */

struct proc {
    pid_t pid;
    int in;    /* its stdin (write end) */
    int out;   /* its stdout (read end) */
};

static void proc_start(struct proc *p, char **argv) {
    int in[2], out[2];
    CHECK_OK(pipe(in));
    CHECK_OK(pipe(out));
    posix_spawn_file_actions_t fa;
    CHECK_OK(posix_spawn_file_actions_init(&fa));
    CHECK_OK(posix_spawn_file_actions_adddup2(&fa, in[0], 0));
    CHECK_OK(posix_spawn_file_actions_adddup2(&fa, out[1], 1));
    CHECK_OK(posix_spawn_file_actions_addclose(&fa, in[1]));
    CHECK_OK(posix_spawn_file_actions_addclose(&fa, out[0]));
    int rc = posix_spawnp(&p->pid, argv[0], &fa, NULL, argv, environ);
    CHECK_OK(posix_spawn_file_actions_destroy(&fa));
    if(rc != 0) {
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(rc));
        abort();
    }
    CHECK_OK(close(in[0]));
    CHECK_OK(close(out[1]));
    p->in = in[1];
    p->out = out[0];
}

/* Reads a line of its stdout into buf (without the newline); 0 at EOF. */
static int proc_line(struct proc *p, char *buf, size_t len) {
    size_t n = 0;
    while(n < len - 1) {
        CHECK_OK(fdin(p->out, now() + 10000));
        ssize_t k = read(p->out, buf + n, 1);
        CHECK(k >= 0);
        if(k == 0) break;
        if(buf[n] == '\n') {
            buf[n] = 0;
            return 1;
        }
        n++;
    }
    buf[n] = 0;
    return n > 0;
}

/* Waits for a line that starts with prefix; returns what follows it. */
static const char *proc_expect(struct proc *p, const char *prefix) {
    static char line[512];
    while(proc_line(p, line, sizeof(line))) {
        if(strncmp(line, prefix, strlen(prefix)) == 0) return line + strlen(prefix);
    }
    fprintf(stderr, "peer never printed a line starting with '%s'\n", prefix);
    abort();
}

/* Waits for it to exit; returns its exit status (killed: -1). */
static int proc_finish(struct proc *p, int kill_it) {
    if(p->in >= 0) CHECK_OK(close(p->in));
    if(kill_it) kill(p->pid, SIGTERM);
    int status = 0;
    int64_t deadline = now() + 10000;
    while(1) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        CHECK(r >= 0);
        if(r == p->pid) break;
        if(now() > deadline) {
            kill(p->pid, SIGKILL);
            CHECK(!"peer did not finish");
        }
        CHECK_OK(msleep(now() + 5));
    }
    fdclean(p->out);
    CHECK_OK(close(p->out));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int connect_port(int port) {
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", port, IPADDR_IPV4));
    int u = tcp_connect(&a, now() + 10000);
    CHECK(u >= 0);
    return u;
}

static int listen_any(int *port) {
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, IPADDR_IPV4));
    int ls = tcp_listen(&a, 10);
    CHECK(ls >= 0);
    *port = ipaddr_port(&a);
    return ls;
}

static const char *vflag(int v) { return v == 2 ? "-tls1_2" : "-tls1_3"; }

/* ---- our client, openssl s_server -------------------------------------- */

static void client_vs_s_server(int v) {
    struct proc p;
    char *argv[] = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1",
        "-cert", (char*)cert("ec.pem"), "-key", (char*)cert("ec.key"), "-rev",
        (char*)vflag(v), NULL};
    proc_start(&p, argv);
    int port = atoi(strrchr(proc_expect(&p, "ACCEPT "), ':') + 1);
    CHECK(port > 0);
    int s = tls_attach_client(connect_port(port), now() + 10000);
    CHECK(s >= 0);
    /* -rev: each line comes back reversed (lines of up to its 16 KiB
       buffer). 40 lines in one send: several records' worth. */
    static char lines[40][1000], back[1000];
    for(int l = 0; l < 40; l++) {
        for(int i = 0; i < 999; i++) lines[l][i] = 'a' + (i * 7 + l) % 26;
        lines[l][999] = '\n';
    }
    CHECK_OK(bsend(s, lines, sizeof(lines), now() + 10000));
    for(int l = 0; l < 40; l++) {
        CHECK_OK(brecv(s, back, 1000, now() + 10000));
        for(int i = 0; i < 999; i++) CHECK(back[i] == lines[l][998 - i]);
        CHECK(back[999] == '\n');
    }
    /* A short one too. */
    CHECK_OK(bsend(s, "hello\n", 6, now() + 10000));
    CHECK_OK(brecv(s, back, 6, now() + 10000));
    CHECK(memcmp(back, "olleh\n", 6) == 0);
    /* s_server answers our close_notify with its own. */
    int u = tls_detach(s, now() + 10000);
    CHECK(u >= 0);
    CHECK_OK(hclose(u));
    CHECK_OK(proc_finish(&p, 0));
    NOTE("our client <-> openssl s_server %s: ok", vflag(v));
}

/* A server certificate whose key type we do not support: -1 and an errno. */
static void client_vs_ed448(void) {
    struct proc p;
    char *argv[] = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1",
        "-cert", (char*)cert("ed448.pem"), "-key", (char*)cert("ed448.key"), "-rev", NULL};
    proc_start(&p, argv);
    int port = atoi(strrchr(proc_expect(&p, "ACCEPT "), ':') + 1);
    int64_t start = now();
    CHECK_ERR(tls_attach_client(connect_port(port), now() + 10000), ECONNRESET);
    CHECK_QUICK(start);
    proc_finish(&p, 0);
    NOTE("our client <-> openssl s_server with an Ed448 certificate: ECONNRESET");
}

/* ---- openssl s_client, our server --------------------------------------- */

static coroutine void serve_ping(int ls, int expect) {
    int u = tcp_accept(ls, NULL, now() + 10000);
    CHECK(u >= 0);
    int s = tls_attach_server(u, cert("ec.pem"), cert("ec.key"), now() + 10000);
    if(expect) {
        CHECK(s == -1 && errno == expect);
        return;
    }
    CHECK(s >= 0);
    char buf[5];
    CHECK_OK(brecv(s, buf, 5, now() + 10000));
    CHECK(memcmp(buf, "ping\n", 5) == 0);
    CHECK_OK(bsend(s, "pong\n", 5, now() + 10000));
    u = tls_detach(s, now() + 10000);
    CHECK(u >= 0);
    CHECK_OK(hclose(u));
}

static void s_client_vs_server(int v, const char *ca, int expect) {
    int port;
    int ls = listen_any(&port);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    int b;
    SPAWN(b, serve_ping(ls, expect));
    struct proc p;
    char *argv[] = {"openssl", "s_client", "-connect", addr, (char*)vflag(v),
        "-CAfile", (char*)cert(ca), "-verify_return_error", "-verify_hostname",
        "localhost", "-quiet", NULL};
    proc_start(&p, argv);
    if(!expect) {
        CHECK(write(p.in, "ping\n", 5) == 5);
        char line[64];
        CHECK(proc_line(&p, line, sizeof(line)));
        CHECK(strcmp(line, "pong") == 0);
    }
    JOIN(b);
    int rc = proc_finish(&p, 0);
    if(!expect) CHECK_OK(rc);
    else CHECK(rc != 0);
    CHECK_OK(hclose(ls));
    NOTE("openssl s_client %s (CA %s) <-> our server: %s", vflag(v), ca,
        expect ? "refused, ECONNRESET here" : "ok, chain and name verified");
}

/* ---- python3 ssl --------------------------------------------------------- */

static const char py_common[] =
    "import socket, ssl, sys\n"
    "ver = {'2': ssl.TLSVersion.TLSv1_2, '3': ssl.TLSVersion.TLSv1_3}[sys.argv[1]]\n"
    "certs = sys.argv[2]\n"
    "def pat(n, seed):\n"
    "    return bytes(((i * 131 + seed + (i >> 9)) & 255) for i in range(n))\n"
    "def recvall(s, n):\n"
    "    b = bytearray()\n"
    "    while len(b) < n:\n"
    "        c = s.recv(n - len(b))\n"
    "        if not c:\n"
    "            sys.exit('python: closed after %d of %d bytes' % (len(b), n))\n"
    "        b += c\n"
    "    return bytes(b)\n"
    /* Request in (length + pattern 1), reply out (pattern 2), then the
       closing handshake (unwrap), then plain bytes on the bare socket. */
    "def talk(t, first):\n"
    "    if first:\n"
    "        t.sendall((300000).to_bytes(4, 'big') + pat(300000, 1))\n"
    "        if recvall(t, 200000) != pat(200000, 2):\n"
    "            sys.exit('python: bad reply')\n"
    "    else:\n"
    "        n = int.from_bytes(recvall(t, 4), 'big')\n"
    "        if recvall(t, n) != pat(n, 1):\n"
    "            sys.exit('python: bad request')\n"
    "        t.sendall(pat(200000, 2))\n"
    "    print(t.version(), flush=True)\n"
    "    raw = t.unwrap()\n"
    "    raw.sendall(b'plain')\n"
    "    if recvall(raw, 4) != b'back':\n"
    "        sys.exit('python: no plain reply')\n"
    "    raw.close()\n";

static const char py_server[] =
    "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "ctx.minimum_version = ctx.maximum_version = ver\n"
    "ctx.load_cert_chain(certs + '/rsa.pem', certs + '/rsa.key')\n"
    "s = socket.socket()\n"
    "s.bind(('127.0.0.1', 0))\n"
    "s.listen(1)\n"
    "print(s.getsockname()[1], flush=True)\n"
    "c, _ = s.accept()\n"
    "t = ctx.wrap_socket(c, server_side=True)\n"
    "talk(t, False)\n";

static const char py_client[] =
    "ctx = ssl.create_default_context(cafile=certs + '/ca.pem')\n"
    "ctx.minimum_version = ctx.maximum_version = ver\n"
    "c = socket.create_connection(('127.0.0.1', int(sys.argv[3])))\n"
    "t = ctx.wrap_socket(c, server_hostname='localhost')\n"
    "talk(t, True)\n";

static void py_start(struct proc *p, const char *script, int v, const char *port) {
    static char code[8192];
    CHECK(strlen(py_common) + strlen(script) < sizeof(code));
    strcpy(code, py_common);
    strcat(code, script);
    char ver[2] = {(char)('0' + v), 0};
    char *argv[] = {"python3", "-c", code, ver, certdir, (char*)port, NULL};
    proc_start(p, argv);
}

static uint8_t pat(size_t i, int seed) {
    return (uint8_t)((i * 131 + seed + (i >> 9)) & 255);
}

/* Our side of `talk`, on TLS socket s; then detach and plain bytes. */
static void our_talk(int s, int first) {
    static uint8_t buf[300004];
    if(first) {
        for(size_t i = 0; i < 300000; i++) buf[4 + i] = pat(i, 1);
        buf[0] = 0; buf[1] = 0x04; buf[2] = 0x93; buf[3] = 0xe0;   /* 300000 */
        CHECK_OK(bsend(s, buf, 300004, now() + 10000));
        CHECK_OK(brecv(s, buf, 200000, now() + 10000));
        for(size_t i = 0; i < 200000; i++) CHECK(buf[i] == pat(i, 2));
    }
    else {
        CHECK_OK(brecv(s, buf, 4, now() + 10000));
        size_t n = (size_t)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3];
        CHECK(n == 300000);
        CHECK_OK(brecv(s, buf, n, now() + 10000));
        for(size_t i = 0; i < n; i++) CHECK(buf[i] == pat(i, 1));
        for(size_t i = 0; i < 200000; i++) buf[i] = pat(i, 2);
        CHECK_OK(bsend(s, buf, 200000, now() + 10000));
    }
    int u = tls_detach(s, now() + 10000);
    CHECK(u >= 0);
    char plain[5];
    CHECK_OK(brecv(u, plain, 5, now() + 10000));
    CHECK(memcmp(plain, "plain", 5) == 0);
    CHECK_OK(bsend(u, "back", 4, now() + 10000));
    CHECK_OK(tcp_close(u, now() + 10000));
}

static void client_vs_python(int v) {
    struct proc p;
    py_start(&p, py_server, v, "0");
    char line[64];
    CHECK(proc_line(&p, line, sizeof(line)));
    int s = tls_attach_client(connect_port(atoi(line)), now() + 10000);
    CHECK(s >= 0);
    our_talk(s, 1);
    CHECK(proc_line(&p, line, sizeof(line)));
    CHECK(strcmp(line, v == 2 ? "TLSv1.2" : "TLSv1.3") == 0);
    CHECK_OK(proc_finish(&p, 0));
    NOTE("our client <-> python ssl server (%s, RSA): ok, detach then plain bytes", line);
}

static coroutine void serve_python(int ls) {
    int u = tcp_accept(ls, NULL, now() + 10000);
    CHECK(u >= 0);
    int s = tls_attach_server(u, cert("ec.pem"), cert("ec.key"), now() + 10000);
    CHECK(s >= 0);
    our_talk(s, 0);
}

static void python_vs_server(int v) {
    int port;
    int ls = listen_any(&port);
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    int b;
    SPAWN(b, serve_python(ls));
    struct proc p;
    py_start(&p, py_client, v, ps);
    JOIN(b);
    char line[64];
    CHECK(proc_line(&p, line, sizeof(line)));
    CHECK(strcmp(line, v == 2 ? "TLSv1.2" : "TLSv1.3") == 0);
    CHECK_OK(proc_finish(&p, 0));
    CHECK_OK(hclose(ls));
    NOTE("python ssl client (%s, verifying) <-> our server: ok, detach then plain bytes", line);
}

int main(void) {
    WATCHDOG(110);
    signal(SIGPIPE, SIG_IGN);
    const char *d = getenv("DILL_TEST_CERTS");
    CHECK(d != NULL && strlen(d) < 200);
    strcpy(certdir, d);
    unsetenv("DILL_TLS_CA_FILE");
    unsetenv("DILL_TLS_SERVER_NAME");
    for(int v = 2; v <= 3; v++) {
        client_vs_s_server(v);
        s_client_vs_server(v, "ca.pem", 0);
        s_client_vs_server(v, "other-ca.pem", ECONNRESET);
        client_vs_python(v);
        python_vs_server(v);
    }
    client_vs_ed448();
    /* Our client verifying a real server's chain. */
    setenv("DILL_TLS_CA_FILE", cert("ca.pem"), 1);
    setenv("DILL_TLS_SERVER_NAME", "localhost", 1);
    client_vs_s_server(3);
    return 0;
}
