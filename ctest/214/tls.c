/* 2.14 TLS over an IPC pair: attach (and the _mem forms in unaligned
   storage), data both ways, tls_done (the peer reads the end of the
   stream, then answers), tls_detach. Certificates: $DILL_TEST_CERTS.
   A _mem object lives in its storage: its socket interface points there. */
#include <libdill.h>
#include <libdillimpl.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

static char cert[256], key[256];

/* Handle h's byte-stream interface is inside the 72 bytes at mem. */
static void inside(int h, const char *mem) {
    const char *p = hquery(h, bsock_type);
    CHECK(p >= mem && p < mem + sizeof(struct tls_storage));
}

static coroutine void server(int s, int mem) {
    static char smem[sizeof(struct tls_storage) + 1];
    s = mem ? tls_attach_server_mem(s, cert, key, (struct tls_storage*)(smem + 1), -1)
            : tls_attach_server(s, cert, key, -1);
    CHECK(s >= 0);
    if(mem) inside(s, smem + 1);
    char buf[5];
    CHECK_OK(brecv(s, buf, 5, -1));
    CHECK(memcmp(buf, "hello", 5) == 0);
    /* The client is done: the end of its stream, and we still answer. */
    CHECK_ERR(brecv(s, buf, 1, -1), EPIPE);
    CHECK_OK(bsend(s, "world", 5, -1));
    CHECK_OK(tls_done(s, -1));
    CHECK_ERR(tls_done(s, -1), EPIPE);
    CHECK_OK(hclose(s));
}

static void run(int mem) {
    int p[2];
    CHECK_OK(ipc_pair(p));
    int h = go(server(p[1], mem));
    CHECK(h >= 0);
    static char cmem[sizeof(struct tls_storage) + 1];
    int s = mem ? tls_attach_client_mem(p[0], (struct tls_storage*)(cmem + 1), -1)
                : tls_attach_client(p[0], -1);
    CHECK(s >= 0);
    if(mem) inside(s, cmem + 1);
    CHECK_OK(bsend(s, "hello", 5, -1));
    CHECK_OK(tls_done(s, -1));
    CHECK_ERR(bsend(s, "x", 1, -1), EPIPE);
    char buf[5];
    CHECK_OK(brecv(s, buf, 5, -1));
    CHECK(memcmp(buf, "world", 5) == 0);
    CHECK_ERR(brecv(s, buf, 1, -1), EPIPE);
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(s));
}

static coroutine void detaching_server(int s) {
    s = tls_attach_server(s, cert, key, -1);
    CHECK(s >= 0);
    s = tls_detach(s, -1);
    CHECK(s >= 0);
    CHECK_OK(bsend(s, "raw", 3, -1));
    CHECK_OK(hclose(s));
}

int main(void) {
    const char *d = getenv("DILL_TEST_CERTS");
    CHECK(d != NULL && strlen(d) < 200);
    snprintf(cert, sizeof(cert), "%s/ec.pem", d);
    snprintf(key, sizeof(key), "%s/ec.key", d);
    unsetenv("DILL_TLS_CA_FILE");
    run(0);
    run(1);

    /* Detach on both sides: the IPC stream goes on in the clear. */
    int p[2];
    CHECK_OK(ipc_pair(p));
    int h = go(detaching_server(p[1]));
    int s = tls_attach_client(p[0], -1);
    CHECK(s >= 0);
    s = tls_detach(s, -1);
    CHECK(s >= 0);
    char buf[3];
    CHECK_OK(brecv(s, buf, 3, -1));
    CHECK(memcmp(buf, "raw", 3) == 0);
    CHECK_OK(hclose(s));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));

    /* Errors. */
    CHECK_ERR(tls_done(-1, -1), EBADF);
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(tls_done(p[0], -1), ENOTSUP);
    CHECK_ERR(tls_attach_client_mem(p[0], NULL, -1), EINVAL);
    CHECK_ERR(hclose(p[0]), EBADF);
    CHECK_OK(hclose(p[1]));
    return 0;
}
