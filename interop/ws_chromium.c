/* make interop: headless Chromium opens a WebSocket from a page to our
   server and round-trips messages. Not part of make check (it needs a
   browser). Exits 0 when everything the page and we expected happened.

   One TCP port serves both: each connection's request head is read with
   our http_* calls; "/" gets the page, "/ws" the upgrade done by hand
   (ws_response_key, then ws_attach_server with WS_NOHTTP on the stream
   http_detach gives back), anything else 404. */
#include <libdill.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

extern char **environ;

#define CHECK(c) do { if(!(c)) { fprintf(stderr, "%s:%d: %s failed (errno %d)\n", \
    __FILE__, __LINE__, #c, errno); exit(1); } } while(0)

static const char page[] =
    "<!doctype html><meta charset=utf-8><title>ws</title><script>\n"
    "const ws = new WebSocket('ws://' + location.host + '/ws?from=page');\n"
    "ws.binaryType = 'arraybuffer';\n"
    "const seen = [];\n"
    "const big = new Uint8Array(70000);\n"
    "for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 255;\n"
    "let step = 0;\n"
    "ws.onmessage = (e) => {\n"
    "  if (step === 0) {\n"
    "    seen.push('greeting=' + e.data);\n"
    "    ws.send('h\\u00e9llo from chromium \\u20ac');\n"
    "  } else if (step === 1) {\n"
    "    seen.push('text-echo=' + e.data);\n"
    "    ws.send(big);\n"
    "  } else if (step === 2) {\n"
    "    const r = new Uint8Array(e.data);\n"
    "    let ok = r.length === big.length;\n"
    "    for (let i = 0; ok && i < r.length; i++) ok = r[i] === big[big.length - 1 - i];\n"
    "    seen.push('binary-echo=' + r.length + (ok ? ' reversed-ok' : ' BAD'));\n"
    "    ws.send('report: ' + seen.join('; '));\n"
    "    ws.close(1000, 'done');\n"
    "    second();\n"
    "  }\n"
    "  step++;\n"
    "};\n"
    "function second() {\n"
    "  const p2 = new URLSearchParams(location.search).get('p2');\n"
    "  const w2 = new WebSocket('ws://127.0.0.1:' + p2 + '/direct?x=1');\n"
    "  w2.onopen = () => w2.send('over ws_attach_server');\n"
    "  w2.onmessage = (e) => { w2.send('got: ' + e.data); };\n"
    "  w2.onclose = (e) => {};\n"
    "}\n"
    "</script>\n";

static char report[4096];
static int ws_done;

static void serve_ws(int h, const char *key) {
    char accept[WS_KEY_SIZE];
    CHECK(ws_response_key(key, accept) == 0);
    CHECK(http_sendstatus(h, 101, "Switching Protocols", -1) == 0);
    CHECK(http_sendfield(h, "Upgrade", "websocket", -1) == 0);
    CHECK(http_sendfield(h, "Connection", "Upgrade", -1) == 0);
    CHECK(http_sendfield(h, "Sec-WebSocket-Accept", accept, -1) == 0);
    int u = http_detach(h, -1);
    CHECK(u >= 0);
    int s = ws_attach_server(u, WS_NOHTTP | WS_TEXT, NULL, 0, NULL, 0, -1);
    CHECK(s >= 0);
    CHECK(msend(s, "hello from libdill", 18, -1) == 0);
    static unsigned char buf[1 << 17], out[1 << 17];
    while(1) {
        int flags;
        ssize_t n = ws_recv(s, &flags, buf, sizeof(buf) - 1, now() + 10000);
        if(n < 0) {
            CHECK(errno == EPIPE);
            break;
        }
        printf("libdill <- chromium: %s message, %zd bytes\n",
            flags == WS_TEXT ? "text" : "binary", n);
        if(flags == WS_TEXT && n > 8 && memcmp(buf, "report: ", 8) == 0) {
            buf[n] = 0;
            snprintf(report, sizeof(report), "%.4000s", (char*)buf + 8);
            continue;
        }
        if(flags == WS_TEXT) {
            CHECK(ws_send(s, WS_TEXT, buf, (size_t)n, -1) == 0);
        } else {
            for(ssize_t i = 0; i < n; i++) out[i] = buf[n - 1 - i];
            CHECK(ws_send(s, WS_BINARY, out, (size_t)n, -1) == 0);
        }
        printf("libdill -> chromium: echo, %zd bytes\n", n);
    }
    printf("chromium closed; close answered\n");
    u = ws_detach(s, now() + 5000);
    CHECK(u >= 0);
    hclose(u);
    ws_done = 1;
}

/* The page's second WebSocket: the whole upgrade by ws_attach_server. */
static char direct[512];
static coroutine void direct_ws(int ls2) {
    int u = tcp_accept(ls2, NULL, now() + 30000);
    CHECK(u >= 0);
    char resource[256], host[256];
    int s = ws_attach_server(u, WS_TEXT, resource, sizeof(resource), host,
        sizeof(host), now() + 10000);
    CHECK(s >= 0);
    printf("ws_attach_server: resource %s, host %s\n", resource, host);
    char b[256];
    ssize_t n = mrecv(s, b, sizeof(b) - 1, now() + 10000);
    CHECK(n > 0);
    CHECK(msend(s, b, (size_t)n, now() + 10000) == 0);
    n = mrecv(s, b, sizeof(b) - 1, now() + 10000);
    CHECK(n > 0);
    b[n] = 0;
    printf("libdill <- chromium (direct): %s\n", b);
    snprintf(direct, sizeof(direct), "%s", b);
    /* Our close this time; the browser answers. */
    u = ws_detach(s, now() + 10000);
    CHECK(u >= 0);
    printf("our close answered by chromium\n");
    CHECK(tcp_close(u, now() + 5000) == 0 || errno == ECONNRESET);
}

static coroutine void connection(int u) {
    int h = http_attach(u);
    CHECK(h >= 0);
    char cmd[16], res[256], name[256], value[1024], key[256] = "";
    if(http_recvrequest(h, cmd, sizeof(cmd), res, sizeof(res), -1) < 0) {
        hclose(h);
        return;
    }
    int upgrade = 0;
    while(http_recvfield(h, name, sizeof(name), value, sizeof(value), -1) == 0) {
        if(strcasecmp(name, "Sec-WebSocket-Key") == 0)
            snprintf(key, sizeof(key), "%.200s", value);
        if(strcasecmp(name, "Upgrade") == 0 && strcasecmp(value, "websocket") == 0)
            upgrade = 1;
    }
    printf("request: %s %s%s\n", cmd, res, upgrade ? " (upgrade)" : "");
    if(strncmp(res, "/ws", 3) == 0 && upgrade && key[0]) {
        serve_ws(h, key);
        return;
    }
    int found = strcmp(res, "/") == 0 || strncmp(res, "/?", 2) == 0;
    char len[16];
    snprintf(len, sizeof(len), "%zu", found ? strlen(page) : (size_t)0);
    CHECK(http_sendstatus(h, found ? 200 : 404, found ? "OK" : "Not Found", -1) == 0);
    CHECK(http_sendfield(h, "Content-Type", "text/html; charset=utf-8", -1) == 0);
    CHECK(http_sendfield(h, "Content-Length", len, -1) == 0);
    CHECK(http_sendfield(h, "Connection", "close", -1) == 0);
    u = http_detach(h, -1);
    if(u < 0) return;
    if(found) bsend(u, page, strlen(page), -1);
    tcp_close(u, now() + 2000);
}

/* The browser goes when we do, whichever way. */
static pid_t browser;
static void end_browser(void) {
    if(browser > 0) {
        kill(browser, SIGTERM);
        waitpid(browser, NULL, 0);
        browser = 0;
    }
}

int main(void) {
    struct ipaddr a;
    CHECK(ipaddr_local(&a, "127.0.0.1", 0, IPADDR_IPV4) == 0);
    int ls = tcp_listen(&a, 10);
    CHECK(ls >= 0);
    struct ipaddr a2;
    CHECK(ipaddr_local(&a2, "127.0.0.1", 0, IPADDR_IPV4) == 0);
    int ls2 = tcp_listen(&a2, 10);
    CHECK(ls2 >= 0);
    char url[96], dir[] = "/tmp/dill-chromium-XXXXXX", udd[96];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/?p2=%d", ipaddr_port(&a),
        ipaddr_port(&a2));
    CHECK(mkdtemp(dir));
    snprintf(udd, sizeof(udd), "--user-data-dir=%s", dir);
    char *argv[] = {"chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", udd, "--remote-debugging-port=0",
        url, NULL};
    /* Its stderr (D-Bus complaints of a machine without a desktop) goes. */
    posix_spawn_file_actions_t fa;
    CHECK(posix_spawn_file_actions_init(&fa) == 0);
    CHECK(posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) == 0);
    pid_t pid;
    CHECK(posix_spawnp(&pid, "chromium", &fa, NULL, argv, environ) == 0);
    browser = pid;
    atexit(end_browser);
    posix_spawn_file_actions_destroy(&fa);
    printf("chromium started on %s\n", url);
    int b = bundle();
    CHECK(b >= 0);
    int d = go(direct_ws(ls2));
    CHECK(d >= 0);
    int64_t deadline = now() + 60000;
    while((!ws_done || !direct[0]) && now() < deadline) {
        int u = tcp_accept(ls, NULL, now() + 200);
        if(u >= 0) CHECK(bundle_go(b, connection(u)) == 0);
    }
    CHECK(bundle_wait(d, now() + 10000) == 0);
    hclose(d);
    hclose(ls2);
    end_browser();
    hclose(b);
    hclose(ls);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if(system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    printf("page's report: %s\n", report[0] ? report : "(none)");
    const char *want = "greeting=hello from libdill; "
        "text-echo=h\xc3\xa9llo from chromium \xe2\x82\xac; "
        "binary-echo=70000 reversed-ok";
    if(!ws_done || strcmp(report, want) != 0 ||
          strcmp(direct, "got: over ws_attach_server") != 0) {
        fprintf(stderr, "interop FAILED\n");
        return 1;
    }
    printf("interop: ok\n");
    return 0;
}
