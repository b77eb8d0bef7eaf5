/* 2.14 HTTP over an IPC pair: requests, status lines, fields, http_done
   (the end of the head) and http_detach; http_attach_mem in unaligned
   storage. */
#include <libdill.h>

#include "../check.h"

static coroutine void server(int s) {
    s = http_attach(s);
    CHECK(s >= 0);
    char cmd[16], res[64], name[32], value[64];
    CHECK_OK(http_recvrequest(s, cmd, sizeof(cmd), res, sizeof(res), -1));
    CHECK(strcmp(cmd, "GET") == 0 && strcmp(res, "/index.html") == 0);
    CHECK_OK(http_recvfield(s, name, sizeof(name), value, sizeof(value), -1));
    CHECK(strcmp(name, "Host") == 0 && strcmp(value, "example.org") == 0);
    /* The client's http_done ends its head. */
    CHECK_ERR(http_recvfield(s, name, sizeof(name), value, sizeof(value), -1), EPIPE);
    CHECK_OK(http_sendstatus(s, 200, "OK", -1));
    CHECK_OK(http_sendfield(s, "Content-Length", "0", -1));
    CHECK_OK(http_done(s, -1));
    s = http_detach(s, -1);
    CHECK(s >= 0);
    CHECK_OK(hclose(s));
}

static void client(int s) {
    CHECK_OK(http_sendrequest(s, "GET", "/index.html", -1));
    CHECK_OK(http_sendfield(s, "Host", "example.org", -1));
    CHECK_OK(http_done(s, -1));
    char reason[32], name[32], value[32];
    CHECK(http_recvstatus(s, reason, sizeof(reason), -1) == 200);
    CHECK(strcmp(reason, "OK") == 0);
    CHECK_OK(http_recvfield(s, name, sizeof(name), value, sizeof(value), -1));
    CHECK(strcmp(name, "Content-Length") == 0 && strcmp(value, "0") == 0);
    CHECK_ERR(http_recvfield(s, name, sizeof(name), value, sizeof(value), -1), EPIPE);
}

int main(void) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    int h = go(server(p[1]));
    CHECK(h >= 0);
    int s = http_attach(p[0]);
    CHECK(s >= 0);
    client(s);
    s = http_detach(s, -1);
    CHECK(s >= 0);
    CHECK_OK(hclose(s));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));

    /* In caller storage, unaligned; bad arguments. */
    static char mem[sizeof(struct http_storage) + 1];
    CHECK_OK(ipc_pair(p));
    h = go(server(p[1]));
    s = http_attach_mem(p[0], (struct http_storage*)(mem + 1));
    CHECK(s >= 0);
    client(s);
    CHECK_OK(hclose(s));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    /* A failed attach closes the socket it was given, as the original. */
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(http_attach_mem(p[0], NULL), EINVAL);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(p[1]));
    CHECK_ERR(http_attach(-1), EBADF);
    CHECK_ERR(http_done(-1, -1), EBADF);
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(http_done(ch[0], -1), ENOTSUP);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    return 0;
}
