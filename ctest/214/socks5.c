/* 2.14 SOCKS5 over IPC pairs: the client's greeting and CONNECT against
   our proxy helpers, with and without authentication, by address and by
   name, failure replies, and bad arguments. */
#include <arpa/inet.h>
#include <libdill.h>

#include "../check.h"

static int check_user(const char *user, const char *pass) {
    return strcmp(user, "alice") == 0 && strcmp(pass, "secret") == 0;
}

/* What the proxy saw. */
static int seen_cmd, seen_port, auth_rc, auth_err;
static char seen_host[256];
static struct ipaddr seen_addr;

static coroutine void proxy(int s, int use_auth, int byname, int reply) {
    auth_rc = socks5_proxy_auth(s, use_auth ? check_user : NULL, -1);
    auth_err = errno;
    if(auth_rc == 0) {
        if(byname) {
            seen_cmd = socks5_proxy_recvcommandbyname(s, seen_host, &seen_port, -1);
        } else {
            seen_cmd = socks5_proxy_recvcommand(s, &seen_addr, -1);
        }
        CHECK(seen_cmd == SOCKS5_CONNECT);
        struct ipaddr bound;
        CHECK_OK(ipaddr_local(&bound, "10.1.2.3", 4321, IPADDR_IPV4));
        CHECK_OK(socks5_proxy_sendreply(s, reply, &bound, -1));
    }
    CHECK_OK(hclose(s));
}

int main(void) {
    int p[2];
    struct ipaddr target;
    CHECK_OK(ipaddr_remote(&target, "192.168.7.9", 8080, IPADDR_IPV4, -1));
    char buf[IPADDR_MAXSTRLEN];

    /* No authentication, CONNECT to an address. */
    CHECK_OK(ipc_pair(p));
    int h = go(proxy(p[1], 0, 0, SOCKS5_SUCCESS));
    CHECK_OK(socks5_client_connect(p[0], NULL, NULL, &target, -1));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK(ipaddr_equal(&seen_addr, &target, 0));
    CHECK_OK(hclose(p[0]));

    /* User and password accepted; by name, seen as the name. */
    CHECK_OK(ipc_pair(p));
    h = go(proxy(p[1], 1, 1, SOCKS5_SUCCESS));
    CHECK_OK(socks5_client_connectbyname(p[0], "alice", "secret", "example.org", 443, -1));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK(strcmp(seen_host, "example.org") == 0 && seen_port == 443);
    CHECK_OK(hclose(p[0]));

    /* An IPv6 literal by name goes as an address; recvcommandbyname
       gives it as text. */
    CHECK_OK(ipc_pair(p));
    h = go(proxy(p[1], 0, 1, SOCKS5_SUCCESS));
    CHECK_OK(socks5_client_connectbyname(p[0], NULL, NULL, "::1", 22, -1));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK(strcmp(seen_host, "::1") == 0 && seen_port == 22);
    CHECK_OK(hclose(p[0]));

    /* A name the proxy resolves with recvcommand. */
    CHECK_OK(ipc_pair(p));
    h = go(proxy(p[1], 0, 0, SOCKS5_SUCCESS));
    CHECK_OK(socks5_client_connectbyname(p[0], NULL, NULL, "localhost", 80, -1));
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK(strcmp(ipaddr_str(&seen_addr, buf), "127.0.0.1") == 0 && ipaddr_port(&seen_addr) == 80);
    CHECK_OK(hclose(p[0]));

    /* Wrong password: EACCES on both sides. */
    CHECK_OK(ipc_pair(p));
    h = go(proxy(p[1], 1, 0, SOCKS5_SUCCESS));
    CHECK_ERR(socks5_client_connect(p[0], "alice", "guess", &target, -1), EACCES);
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK(auth_rc == -1 && auth_err == EACCES);
    CHECK_OK(hclose(p[0]));

    /* The proxy wants a password, the client has none: EACCES. */
    CHECK_OK(ipc_pair(p));
    h = go(proxy(p[1], 1, 0, SOCKS5_SUCCESS));
    CHECK_ERR(socks5_client_connect(p[0], NULL, NULL, &target, -1), EACCES);
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(p[0]));

    /* A failure reply becomes the matching errno. */
    CHECK_OK(ipc_pair(p));
    h = go(proxy(p[1], 0, 0, SOCKS5_CONNECTION_REFUSED));
    CHECK_ERR(socks5_client_connect(p[0], NULL, NULL, &target, -1), ECONNREFUSED);
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(p[0]));
    CHECK_OK(ipc_pair(p));
    h = go(proxy(p[1], 0, 0, SOCKS5_HOST_UNREACHABLE));
    CHECK_ERR(socks5_client_connect(p[0], NULL, NULL, &target, -1), EHOSTUNREACH);
    CHECK_OK(bundle_wait(h, -1));
    CHECK_OK(hclose(h));
    CHECK_OK(hclose(p[0]));

    /* Bad arguments. */
    CHECK_OK(ipc_pair(p));
    CHECK_ERR(socks5_client_connect(p[0], NULL, NULL, NULL, -1), EINVAL);
    CHECK_ERR(socks5_client_connectbyname(p[0], NULL, NULL, NULL, 80, -1), EINVAL);
    CHECK_ERR(socks5_client_connectbyname(p[0], NULL, NULL, "host", 0, -1), EINVAL);
    CHECK_ERR(socks5_client_connectbyname(p[0], NULL, NULL, "host", 65536, -1), EINVAL);
    CHECK_ERR(socks5_proxy_sendreply(p[1], 9, &target, -1), EINVAL);
    CHECK_ERR(socks5_proxy_sendreply(p[1], 0, NULL, -1), EINVAL);
    CHECK_ERR(socks5_proxy_recvcommand(p[1], NULL, -1), EINVAL);
    CHECK_OK(hclose(p[0]));
    CHECK_OK(hclose(p[1]));
    int ch[2];
    CHECK_OK(chmake(ch));
    CHECK_ERR(socks5_proxy_auth(ch[0], NULL, -1), ENOTSUP);
    CHECK_ERR(socks5_client_connect(ch[0], NULL, NULL, &target, -1), ENOTSUP);
    CHECK_OK(hclose(ch[0]));
    CHECK_OK(hclose(ch[1]));
    return 0;
}
