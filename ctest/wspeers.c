/* Real WebSocket peers: python3's `websockets` package (installed by the
   Makefile when missing) as the client of our server and as the server of
   our client, over TCP on 127.0.0.1: the HTTP upgrade, text and binary
   messages, fragmented ones both ways, pings both ways, and the closing
   handshake started from either side. */
#include <libdill.h>

#include "pypeer.h"

#define DL (now() + 10000)

static const char py_pat[] =
    "import sys, threading\n"
    "def pat(n, s):\n"
    "    return bytes(((i * 131 + s + (i >> 9)) & 255) for i in range(n))\n";

/* Python connects to our server, sends, checks our answers (text gets
   "echo: " in front, binary comes back reversed), pings us and closes. */
static const char py_client[] =
    "from websockets.sync.client import connect\n"
    "url = 'ws://127.0.0.1:%s/chat?room=1' % sys.argv[1]\n"
    "with connect(url, open_timeout=10, close_timeout=10, max_size=None) as ws:\n"
    "    t = 'h\\u00e9llo w\\u00f6rld \\u20ac'\n"
    "    ws.send(t)\n"
    "    assert ws.recv(timeout=10) == 'echo: ' + t\n"
    "    b = pat(70000, 1)\n"
    "    ws.send(b)\n"
    "    assert ws.recv(timeout=10) == b[::-1]\n"
    "    ws.send(['frag', 'mented \\u20ac', ' text'])\n"
    "    assert ws.recv(timeout=10) == 'echo: fragmented \\u20ac text'\n"
    "    parts = [pat(1000, 2), pat(65536, 3), pat(5, 4)]\n"
    "    ws.send(parts)\n"
    "    assert ws.recv(timeout=10) == b''.join(parts)[::-1]\n"
    "    pong = ws.ping(b'py-ping')\n"
    "    ws.send(b'')\n"
    "    assert ws.recv(timeout=10) == b''\n"
    "    assert pong.wait(10), 'no pong'\n"
    "assert ws.close_code == 1000, ws.close_code\n";

/* Python serves: fragmented text and binary to us, a ping, then it echoes
   what we send until we close. */
static const char py_server[] =
    "from websockets.sync.server import serve\n"
    "result = {}\n"
    "def handler(ws):\n"
    "    try:\n"
    "        assert ws.request.path == '/feed?id=7', ws.request.path\n"
    "        assert ws.request.headers['Host'] == 'localhost'\n"
    "        ws.send(['frag', 'mented', ' text'])\n"
    "        ws.send([pat(3000, 5), pat(100000, 6)])\n"
    "        pong = ws.ping(b'srv-ping')\n"
    "        for m in ws:\n"
    "            ws.send('echo: ' + m if isinstance(m, str) else m[::-1])\n"
    "        result['pong'] = pong.is_set()\n"
    "        result['code'] = ws.close_code\n"
    "    except Exception as e:\n"
    "        result['err'] = repr(e)\n"
    "    threading.Thread(target=server.shutdown).start()\n"
    "with serve(handler, '127.0.0.1', 0, max_size=None) as server:\n"
    "    print(server.socket.getsockname()[1], flush=True)\n"
    "    server.serve_forever()\n"
    "assert result.get('pong') and result.get('code') == 1000, result\n";

static uint8_t pat(size_t i, int seed) {
    return (uint8_t)((i * 131 + (size_t)seed + (i >> 9)) & 255);
}

static int pat_ok(const uint8_t *b, size_t n, size_t from, int seed) {
    for(size_t i = 0; i < n; i++) if(b[i] != pat(from + i, seed)) return 0;
    return 1;
}

static char *script(const char *body) {
    static char code[8192];
    CHECK(strlen(py_pat) + strlen(body) < sizeof(code));
    strcpy(code, py_pat);
    strcat(code, body);
    return code;
}

static uint8_t buf[1 << 18], out[1 << 18];

static void python_client(void) {
    struct ipaddr a;
    loop4(&a, 0);
    int ls = tcp_listen(&a, 10);
    CHECK(ls >= 0);
    char port[16];
    snprintf(port, sizeof(port), "%d", ipaddr_port(&a));
    struct py p;
    py_start(&p, script(py_client), port);
    int u = tcp_accept(ls, NULL, DL);
    CHECK(u >= 0);
    char resource[64], host[64], want_host[64];
    int s = ws_attach_server(u, WS_TEXT, resource, sizeof(resource), host,
        sizeof(host), DL);
    CHECK(s >= 0);
    CHECK(strcmp(resource, "/chat?room=1") == 0);
    snprintf(want_host, sizeof(want_host), "127.0.0.1:%s", port);
    CHECK(strcmp(host, want_host) == 0);
    int count = 0, texts = 0;
    while(1) {
        int flags = -1;
        ssize_t n = ws_recv(s, &flags, buf, sizeof(buf), DL);
        if(n < 0) {
            CHECK(errno == EPIPE);
            break;
        }
        count++;
        if(flags == WS_TEXT) {
            texts++;
            memcpy(out, "echo: ", 6);
            memcpy(out + 6, buf, (size_t)n);
            CHECK_OK(ws_send(s, WS_TEXT, out, (size_t)n + 6, DL));
        }
        else {
            CHECK(flags == WS_BINARY);
            for(ssize_t i = 0; i < n; i++) out[i] = buf[n - 1 - i];
            CHECK_OK(ws_send(s, WS_BINARY, out, (size_t)n, DL));
        }
    }
    CHECK(count == 5 && texts == 2);
    /* Python closed first; we answered: detach has nothing left to do. */
    int64_t start = now();
    int u2 = ws_detach(s, DL);
    CHECK(u2 >= 0);
    CHECK_QUICK(start);
    CHECK_OK(tcp_close(u2, DL));
    py_finish(&p);
    CHECK_OK(hclose(ls));
    printf("python websockets client <-> ws_attach_server: upgrade, text, "
        "binary, fragmented, ping, its close: ok\n");
}

static void python_server(void) {
    struct py p;
    py_start(&p, script(py_server), NULL);
    int port = py_line(&p);
    CHECK(port > 0);
    struct ipaddr a;
    loop4(&a, port);
    int u = tcp_connect(&a, DL);
    CHECK(u >= 0);
    int s = ws_attach_client(u, WS_BINARY, "/feed?id=7", "localhost", DL);
    CHECK(s >= 0);
    int flags = -1;
    ssize_t n = ws_recv(s, &flags, buf, sizeof(buf), DL);
    CHECK(n == 15 && flags == WS_TEXT && memcmp(buf, "fragmented text", 15) == 0);
    /* Binary through mrecv (the socket's type), in two fragments. */
    n = mrecv(s, buf, sizeof(buf), DL);
    CHECK(n == 103000);
    CHECK(pat_ok(buf, 3000, 0, 5) && pat_ok(buf + 3000, 100000, 0, 6));
    /* Text through ws_send; the server's ping is answered while we wait
       for the echo. */
    CHECK_OK(ws_send(s, WS_TEXT, "h\xc3\xa9llo", 6, DL));
    n = ws_recv(s, &flags, buf, sizeof(buf), DL);
    CHECK(n == 12 && flags == WS_TEXT && memcmp(buf, "echo: h\xc3\xa9llo", 12) == 0);
    for(size_t i = 0; i < 70000; i++) out[i] = pat(i, 9);
    CHECK_OK(msend(s, out, 70000, DL));
    n = ws_recv(s, &flags, buf, sizeof(buf), DL);
    CHECK(n == 70000 && flags == WS_BINARY);
    for(size_t i = 0; i < 70000; i++) CHECK(buf[i] == out[69999 - i]);
    /* Our close; python answers. */
    int u2 = ws_detach(s, DL);
    CHECK(u2 >= 0);
    CHECK_OK(tcp_close(u2, DL));
    py_finish(&p);
    printf("ws_attach_client <-> python websockets server: upgrade, "
        "fragmented text and binary, text, binary, its ping, our close: "
        "ok\n");
}

int main(void) {
    WATCHDOG(90);
    python_client();
    python_server();
    return 0;
}
