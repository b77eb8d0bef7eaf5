/* 2.14 WebSocket over IPC pairs: the HTTP upgrade (the server learns the
   resource and host) and WS_NOHTTP, text and binary messages, ws_done and
   ws_detach with a status and reason that the other side reads with
   ws_status (a close is not answered by itself in 2.14), the keys, and the
   errnos of bad arguments, bad handles and non-byte-stream sockets. */
#include <libdill.h>

#include "../check.h"

/* The client: an HTTP upgrade, then messages both ways until the server's
   close, which it answers only when it detaches. */
static coroutine void client(int s) {
    s = ws_attach_client(s, WS_BINARY, "/chat", "example.org", -1);
    CHECK(s >= 0);
    CHECK_OK(ws_send(s, WS_TEXT, "hi", 2, -1));
    CHECK_OK(ws_send(s, WS_BINARY, "\x00\x01", 2, -1));
    /* msend sends the attach-time type: binary. */
    CHECK_OK(msend(s, "raw", 3, -1));
    char buf[16];
    int flags = -1;
    CHECK(ws_recv(s, &flags, buf, sizeof(buf), -1) == 4);
    CHECK(flags == WS_TEXT && memcmp(buf, "text", 4) == 0);
    int status = -1;
    CHECK_ERR(ws_status(s, &status, buf, sizeof(buf)), EAGAIN);
    /* The server's ws_done: EPIPE, then its status and reason. */
    CHECK_ERR(ws_recv(s, &flags, buf, sizeof(buf), -1), EPIPE);
    CHECK(ws_status(s, &status, buf, sizeof(buf)) == 3);
    CHECK(status == 4000 && memcmp(buf, "bye", 3) == 0);
    CHECK_ERR(ws_status(s, &status, buf, 2), EMSGSIZE);
    CHECK_ERR(ws_status(s, &status, NULL, 5), EINVAL);
    status = -1;
    CHECK(ws_status(s, &status, NULL, 0) == 3 && status == 4000);
    /* Our half is still open: the server still receives. */
    CHECK_OK(ws_send(s, WS_TEXT, "late", 4, -1));
    s = ws_detach(s, 1000, "OK", 2, -1);
    CHECK(s >= 0);
    CHECK_OK(hclose(s));
}

static void server(int s) {
    struct ws_storage mem;
    char resource[32], host[32];
    s = ws_attach_server_mem(s, WS_TEXT, resource, sizeof(resource), host, sizeof(host), &mem, -1);
    CHECK(s >= 0);
    CHECK(strcmp(resource, "/chat") == 0 && strcmp(host, "example.org") == 0);
    char buf[16];
    int flags = -1;
    CHECK(ws_recv(s, &flags, buf, sizeof(buf), -1) == 2);
    CHECK(flags == WS_TEXT && memcmp(buf, "hi", 2) == 0);
    struct iolist iol = {buf, sizeof(buf), NULL, 0};
    CHECK(ws_recvl(s, &flags, &iol, &iol, -1) == 2);
    CHECK(flags == WS_BINARY && buf[0] == 0 && buf[1] == 1);
    /* The client's msend: its attach-time type, binary. */
    CHECK(ws_recv(s, &flags, buf, sizeof(buf), -1) == 3 && flags == WS_BINARY);
    struct iolist out = {"text", 4, NULL, 0};
    CHECK_OK(ws_sendl(s, WS_TEXT, &out, &out, -1));
    /* What a close frame cannot carry. */
    char longer[124];
    memset(longer, 'x', sizeof(longer));
    CHECK_ERR(ws_done(s, 999, NULL, 0, -1), EINVAL);
    CHECK_ERR(ws_done(s, 5000, NULL, 0, -1), EINVAL);
    CHECK_ERR(ws_done(s, 0, "x", 1, -1), EINVAL);
    CHECK_ERR(ws_done(s, 1000, NULL, 1, -1), EINVAL);
    CHECK_ERR(ws_done(s, 1000, longer, sizeof(longer), -1), EINVAL);
    CHECK_ERR(ws_send(s, 7, "x", 1, -1), EINVAL);
    CHECK_OK(ws_done(s, 4000, "bye", 3, -1));
    CHECK_ERR(ws_done(s, 1000, NULL, 0, -1), EPIPE);
    CHECK_ERR(ws_send(s, WS_TEXT, "x", 1, -1), EPIPE);
    CHECK(ws_recv(s, &flags, buf, sizeof(buf), -1) == 4 && flags == WS_TEXT);
    CHECK_ERR(ws_recv(s, &flags, buf, sizeof(buf), -1), EPIPE);
    int status = -1;
    CHECK(ws_status(s, &status, buf, sizeof(buf)) == 2);
    CHECK(status == 1000 && memcmp(buf, "OK", 2) == 0);
    /* Both closes went already: detach just hands the stream back. */
    s = ws_detach(s, 0, NULL, 0, -1);
    CHECK(s >= 0);
    CHECK_OK(hclose(s));
}

/* WS_NOHTTP: no upgrade; a close without status is status 0. */
static coroutine void nohttp_peer(int s) {
    s = ws_attach_client(s, WS_NOHTTP | WS_TEXT, NULL, NULL, -1);
    CHECK(s >= 0);
    char buf[8];
    CHECK(mrecv(s, buf, sizeof(buf), -1) == 3 && memcmp(buf, "abc", 3) == 0);
    CHECK_ERR(mrecv(s, buf, sizeof(buf), -1), EPIPE);
    int status = -1;
    CHECK(ws_status(s, &status, buf, sizeof(buf)) == 0 && status == 0);
    s = ws_detach(s, 1001, NULL, 0, -1);
    CHECK(s >= 0);
    CHECK_OK(hclose(s));
}

static void nohttp(void) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    int cr = go(nohttp_peer(p[1]));
    CHECK(cr >= 0);
    int s = ws_attach_server(p[0], WS_NOHTTP | WS_TEXT, NULL, 0, NULL, 0, -1);
    CHECK(s >= 0);
    CHECK_OK(msend(s, "abc", 3, -1));
    s = ws_detach(s, 0, NULL, 0, -1);
    CHECK(s >= 0);
    CHECK_OK(hclose(s));
    CHECK_OK(hclose(cr));
}

/* Bad handles and arguments; a failed attach closes its socket. */
static void errors(void) {
    char buf[8];
    int flags, status;
    CHECK_ERR(ws_send(12345, WS_TEXT, "x", 1, -1), EBADF);
    CHECK_ERR(ws_recv(12345, &flags, buf, sizeof(buf), -1), EBADF);
    CHECK_ERR(ws_done(12345, 1000, NULL, 0, -1), EBADF);
    CHECK_ERR(ws_detach(12345, 1000, NULL, 0, -1), EBADF);
    CHECK_ERR(ws_status(12345, &status, buf, sizeof(buf)), EBADF);
    int p[2];
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(ws_status(p[0], &status, buf, sizeof(buf)), ENOTSUP);
    CHECK_ERR(ws_done(p[0], 1000, NULL, 0, -1), ENOTSUP);
    CHECK_ERR(ws_detach(p[0], 1000, NULL, 0, -1), ENOTSUP);
    CHECK_ERR(ws_attach_client(p[0], 64, "/", "h", -1), EINVAL);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_ERR(ws_attach_client(p[1], WS_TEXT, NULL, "h", -1), EINVAL);
    CHECK_ERR(hclose(p[1]), EBADF);
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(ws_attach_server_mem(p[0], 0, NULL, 0, NULL, 0, NULL, -1), EINVAL);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(p[1]));
    /* Not a byte stream: a WebSocket over a WebSocket. */
    CHECK_OK(ipc_pair(p));
    int w = ws_attach_client(p[0], WS_NOHTTP, NULL, NULL, -1);
    CHECK(w >= 0);
    CHECK_ERR(ws_attach_client(w, WS_NOHTTP, NULL, NULL, -1), EPROTO);
    CHECK_ERR(hclose(w), EBADF);
    CHECK_OK(hclose(p[1]));
    /* The keys: 24 base64 characters and a NUL; the accept value is what
       the original computes for RFC 6455's example key (see ctest/ws.c). */
    char req[WS_KEY_SIZE], resp[WS_KEY_SIZE];
    CHECK_OK(ws_request_key(req));
    CHECK(strlen(req) == 24);
    CHECK_OK(ws_response_key("dGhlIHNhbXBsZSBub25jZQ==", resp));
    CHECK(strcmp(resp, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    CHECK_ERR(ws_request_key(NULL), EINVAL);
    CHECK_ERR(ws_response_key(NULL, resp), EINVAL);
    CHECK_ERR(ws_response_key(req, NULL), EINVAL);
}

int main(void) {
    WATCHDOG(20);
    int p[2];
    CHECK_OK(ipc_pair(p));
    int cr = go(client(p[1]));
    CHECK(cr >= 0);
    server(p[0]);
    CHECK_OK(hclose(cr));
    nohttp();
    errors();
    return 0;
}
