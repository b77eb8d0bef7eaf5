/* Real peers: the other end of each connection is a python3 program
   (standard library only), not libdill. TCP and UNIX stream sockets with
   python as client and as server, UDP in both directions. Each side sends
   a few KB in a pattern both know, checks what it got, and the stream
   connections end with the full closing handshake (tcp_close/ipc_close
   against python's shutdown/close). python3 must be there (the Makefile
   installs it). */
#include <libdill.h>

#include "pypeer.h"

/* ------------------------------------------------------------------------ */
/* The python side.                                                         */
/* ------------------------------------------------------------------------ */

static const char py_common[] =
    "import socket, struct, sys\n"
    "def pat(n, seed):\n"
    "    return bytes(((i * 131 + seed + (i >> 9)) & 255) for i in range(n))\n"
    "def recvall(s, n):\n"
    "    b = b''\n"
    "    while len(b) < n:\n"
    "        c = s.recv(n - len(b))\n"
    "        if not c:\n"
    "            sys.exit('python: peer closed after %d of %d bytes'"
    " % (len(b), n))\n"
    "        b += c\n"
    "    return b\n"
    "def wait_eof(s):\n"
    "    while s.recv(65536):\n"
    "        pass\n"
    /* Accepting side: request in, reply out, then the peer's end. */
    "def serve(c):\n"
    "    n, = struct.unpack('!I', recvall(c, 4))\n"
    "    if recvall(c, n) != pat(n, 1):\n"
    "        sys.exit('python: bad request from libdill')\n"
    "    c.sendall(struct.pack('!I', 20000) + pat(20000, 2))\n"
    "    wait_eof(c)\n"
    "    c.close()\n"
    /* Connecting side: request out, reply in, our end, the peer's end. */
    "def talk(c):\n"
    "    c.sendall(struct.pack('!I', 16384) + pat(16384, 1))\n"
    "    m, = struct.unpack('!I', recvall(c, 4))\n"
    "    if recvall(c, m) != pat(m, 2):\n"
    "        sys.exit('python: bad reply from libdill')\n"
    "    c.shutdown(socket.SHUT_WR)\n"
    "    wait_eof(c)\n"
    "    c.close()\n";

static const char py_tcp_client[] =
    "c = socket.create_connection(('127.0.0.1', int(sys.argv[1])), 10)\n"
    "talk(c)\n";

static const char py_tcp_server[] =
    "l = socket.socket()\n"
    "l.bind(('127.0.0.1', 0))\n"
    "l.listen(1)\n"
    "l.settimeout(10)\n"
    "print(l.getsockname()[1], flush=True)\n"
    "c, _ = l.accept()\n"
    "c.settimeout(10)\n"
    "serve(c)\n";

static const char py_ipc_client[] =
    "c = socket.socket(socket.AF_UNIX)\n"
    "c.settimeout(10)\n"
    "c.connect(sys.argv[1])\n"
    "talk(c)\n";

static const char py_ipc_server[] =
    "l = socket.socket(socket.AF_UNIX)\n"
    "l.bind(sys.argv[1])\n"
    "l.listen(1)\n"
    "l.settimeout(10)\n"
    "print('0', flush=True)\n"
    "c, _ = l.accept()\n"
    "c.settimeout(10)\n"
    "serve(c)\n";

/* Python sends datagrams to us and expects each one back reversed. */
static const char py_udp_sender[] =
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.bind(('127.0.0.1', 0))\n"
    "s.settimeout(10)\n"
    "dst = ('127.0.0.1', int(sys.argv[1]))\n"
    "for k in range(5):\n"
    "    d = pat(700 * k + 1, k)\n"
    "    s.sendto(d, dst)\n"
    "    r, a = s.recvfrom(70000)\n"
    "    if a != dst or r != d[::-1]:\n"
    "        sys.exit('python: bad UDP reply %d' % k)\n";

/* Python answers our datagrams, reversed. */
static const char py_udp_echo[] =
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.bind(('127.0.0.1', 0))\n"
    "s.settimeout(10)\n"
    "print(s.getsockname()[1], flush=True)\n"
    "for k in range(5):\n"
    "    d, a = s.recvfrom(70000)\n"
    "    if d != pat(len(d), 10 + k):\n"
    "        sys.exit('python: bad UDP datagram %d' % k)\n"
    "    s.sendto(d[::-1], a)\n";

/* Runs python3 -c <common + script> arg (see pypeer.h). */
static void py_run(struct py *p, const char *script, const char *arg) {
    static char code[8192];
    CHECK(strlen(py_common) + strlen(script) < sizeof(code));
    strcpy(code, py_common);
    strcat(code, script);
    py_start(p, code, arg);
}

/* ------------------------------------------------------------------------ */
/* Our side.                                                                */
/* ------------------------------------------------------------------------ */

static uint8_t pat(size_t i, int seed) {
    return (uint8_t)((i * 131 + (size_t)seed + (i >> 9)) & 255);
}

static void pat_fill(uint8_t *buf, size_t n, int seed) {
    for(size_t i = 0; i < n; i++) buf[i] = pat(i, seed);
}

static int pat_ok(const uint8_t *buf, size_t n, int seed) {
    for(size_t i = 0; i < n; i++) if(buf[i] != pat(i, seed)) return 0;
    return 1;
}

static uint32_t get_be32(const uint8_t *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
        (uint32_t)b[2] << 8 | b[3];
}

static void put_be32(uint8_t *b, uint32_t v) {
    b[0] = v >> 24; b[1] = v >> 16; b[2] = v >> 8; b[3] = (uint8_t)v;
}

static uint8_t buf[65536];

/* We accepted: request in, reply out, python's end, then our close. */
static void serve(int s, int (*close_fn)(int, int64_t)) {
    int64_t dl = now() + 10000;
    uint8_t hdr[4];
    CHECK_OK(brecv(s, hdr, 4, dl));
    uint32_t n = get_be32(hdr);
    CHECK(n == 16384);
    CHECK_OK(brecv(s, buf, n, dl));
    CHECK(pat_ok(buf, n, 1));
    put_be32(hdr, 20000);
    pat_fill(buf, 20000, 2);
    struct iolist iol[2] = {{hdr, 4, &iol[1], 0}, {buf, 20000, NULL, 0}};
    CHECK_OK(bsendl(s, &iol[0], &iol[1], dl));
    CHECK_ERR(brecv(s, hdr, 1, dl), EPIPE);
    CHECK_OK(close_fn(s, dl));
}

/* We connected: request out, reply in, our close (which waits for
   python's). */
static void talk(int s, int (*close_fn)(int, int64_t)) {
    int64_t dl = now() + 10000;
    uint8_t hdr[4];
    put_be32(hdr, 16384);
    CHECK_OK(bsend(s, hdr, 4, dl));
    pat_fill(buf, 16384, 1);
    CHECK_OK(bsend(s, buf, 16384, dl));
    CHECK_OK(brecv(s, hdr, 4, dl));
    uint32_t m = get_be32(hdr);
    CHECK(m == 20000);
    CHECK_OK(brecv(s, buf, m, dl));
    CHECK(pat_ok(buf, m, 2));
    CHECK_OK(close_fn(s, dl));
}

static void tcp_python_client(void) {
    struct ipaddr a;
    loop4(&a, 0);
    int ls = tcp_listen(&a, 10);
    CHECK(ls >= 0);
    char port[16];
    snprintf(port, sizeof(port), "%d", ipaddr_port(&a));
    struct py p;
    py_run(&p, py_tcp_client, port);
    struct ipaddr from;
    int s = tcp_accept(ls, &from, now() + 10000);
    CHECK(s >= 0);
    char str[IPADDR_MAXSTRLEN];
    CHECK(strcmp(ipaddr_str(&from, str), "127.0.0.1") == 0);
    serve(s, tcp_close);
    py_finish(&p);
    CHECK_OK(tcp_close(ls, -1));
    printf("tcp: python client <-> tcp_accept server: ok\n");
}

static void tcp_python_server(void) {
    struct py p;
    py_run(&p, py_tcp_server, NULL);
    int port = py_line(&p);
    CHECK(port > 0);
    struct ipaddr a;
    CHECK_OK(ipaddr_remote(&a, "127.0.0.1", port, IPADDR_IPV4, -1));
    int s = tcp_connect(&a, now() + 10000);
    CHECK(s >= 0);
    talk(s, tcp_close);
    py_finish(&p);
    printf("tcp: tcp_connect client <-> python server: ok\n");
}

static void ipc_python_client(const char *dir) {
    char path[200];
    scratch_path(path, sizeof(path), dir, "to-us");
    int ls = ipc_listen(path, 10);
    CHECK(ls >= 0);
    struct py p;
    py_run(&p, py_ipc_client, path);
    int s = ipc_accept(ls, now() + 10000);
    CHECK(s >= 0);
    serve(s, ipc_close);
    py_finish(&p);
    CHECK_OK(ipc_close(ls, -1));
    printf("ipc: python client <-> ipc_accept server: ok\n");
}

static void ipc_python_server(const char *dir) {
    char path[200];
    scratch_path(path, sizeof(path), dir, "to-python");
    struct py p;
    py_run(&p, py_ipc_server, path);
    CHECK(py_line(&p) == 0);
    int s = ipc_connect(path, now() + 10000);
    CHECK(s >= 0);
    talk(s, ipc_close);
    py_finish(&p);
    printf("ipc: ipc_connect client <-> python server: ok\n");
}

static void udp_python_sends(void) {
    struct ipaddr local;
    loop4(&local, 0);
    int s = udp_open(&local, NULL);
    CHECK(s >= 0);
    char port[16];
    snprintf(port, sizeof(port), "%d", ipaddr_port(&local));
    struct py p;
    py_run(&p, py_udp_sender, port);
    static uint8_t rev[70000];
    for(int k = 0; k < 5; k++) {
        struct ipaddr from;
        ssize_t n = udp_recv(s, &from, buf, sizeof(buf), now() + 10000);
        CHECK(n == 700 * k + 1);
        CHECK(pat_ok(buf, (size_t)n, k));
        for(ssize_t i = 0; i < n; i++) rev[i] = buf[n - 1 - i];
        CHECK_OK(udp_send(s, &from, rev, (size_t)n));
    }
    py_finish(&p);
    CHECK_OK(hclose(s));
    printf("udp: python -> udp_recv, udp_send -> python: ok\n");
}

static void udp_python_echoes(void) {
    struct py p;
    py_run(&p, py_udp_echo, NULL);
    int port = py_line(&p);
    CHECK(port > 0);
    struct ipaddr local, remote;
    loop4(&local, 0);
    loop4(&remote, port);
    int s = udp_open(&local, &remote);
    CHECK(s >= 0);
    static uint8_t out[8192];
    for(int k = 0; k < 5; k++) {
        size_t n = 1000 * (size_t)k + 17;
        pat_fill(out, n, 10 + k);
        if(k % 2) {
            CHECK_OK(msend(s, out, n, now() + 1000));
        }
        else {
            size_t h = n / 2;
            struct iolist iol[2] = {{out, h, &iol[1], 0},
                {out + h, n - h, NULL, 0}};
            CHECK_OK(msendl(s, &iol[0], &iol[1], now() + 1000));
        }
        CHECK(mrecv(s, buf, sizeof(buf), now() + 10000) == (ssize_t)n);
        for(size_t i = 0; i < n; i++) CHECK(buf[i] == out[n - 1 - i]);
    }
    py_finish(&p);
    CHECK_OK(hclose(s));
    printf("udp: msend -> python echo -> mrecv: ok\n");
}

int main(void) {
    WATCHDOG(60);
    char dir[64];
    scratch_dir(dir);
    tcp_python_client();
    tcp_python_server();
    ipc_python_client(dir);
    ipc_python_server(dir);
    udp_python_sends();
    udp_python_echoes();
    scratch_remove(dir);
    return 0;
}
