/* 2.14 IP addresses: ipaddr_local/remote with literals, the accessors and
   ipaddr_equal. */
#include <arpa/inet.h>
#include <libdill.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../check.h"

int main(void) {
    struct ipaddr a, b;
    char buf[IPADDR_MAXSTRLEN];
    CHECK(sizeof(struct ipaddr) == 32);

    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 5555, 0));
    CHECK(ipaddr_family(&a) == AF_INET);
    CHECK(ipaddr_len(&a) == sizeof(struct sockaddr_in));
    CHECK(ipaddr_port(&a) == 5555);
    CHECK(strcmp(ipaddr_str(&a, buf), "127.0.0.1") == 0);
    const struct sockaddr_in *sin = (const struct sockaddr_in*)ipaddr_sockaddr(&a);
    CHECK(sin->sin_family == AF_INET && ntohs(sin->sin_port) == 5555);
    ipaddr_setport(&a, 80);
    CHECK(ipaddr_port(&a) == 80);

    CHECK_OK(ipaddr_remote(&b, "::1", 80, IPADDR_IPV6, -1));
    CHECK(ipaddr_family(&b) == AF_INET6);
    CHECK(ipaddr_len(&b) == sizeof(struct sockaddr_in6));
    CHECK(strcmp(ipaddr_str(&b, buf), "::1") == 0);
    CHECK_ERR(ipaddr_remote(&b, "::1", 80, IPADDR_IPV4, -1), EADDRNOTAVAIL);
    CHECK_ERR(ipaddr_local(&b, NULL, 70000, 0), EINVAL);
    CHECK_ERR(ipaddr_remote(&b, NULL, 80, 0, -1), EINVAL);

    /* ipaddr_equal: family, address and (unless ignored) port. */
    struct ipaddr c, d;
    CHECK_OK(ipaddr_remote(&c, "127.0.0.1", 80, 0, -1));
    CHECK(ipaddr_equal(&a, &c, 0) == 1);
    CHECK(ipaddr_equal(&a, &c, 1) == 1);
    ipaddr_setport(&c, 81);
    CHECK(ipaddr_equal(&a, &c, 0) == 0);
    CHECK(ipaddr_equal(&a, &c, 1) == 1);
    CHECK_OK(ipaddr_remote(&d, "127.0.0.2", 80, 0, -1));
    CHECK(ipaddr_equal(&a, &d, 0) == 0);
    CHECK(ipaddr_equal(&a, &d, 1) == 0);
    /* ::ffff:127.0.0.1 is another family, not the same address. */
    CHECK_OK(ipaddr_remote(&d, "::ffff:127.0.0.1", 80, IPADDR_IPV6, -1));
    CHECK(ipaddr_equal(&a, &d, 1) == 0);
    CHECK_OK(ipaddr_remote(&c, "::1", 80, 0, -1));
    CHECK_OK(ipaddr_remote(&d, "::1", 80, 0, -1));
    CHECK(ipaddr_equal(&c, &d, 0) == 1);
    CHECK(ipaddr_equal(&c, &c, 0) == 1);

    /* ipaddr_remotes: a literal is one address, if of a family asked for. */
    struct ipaddr as[4];
    CHECK(ipaddr_remotes(as, 4, "127.0.0.1", 8080, 0, -1) == 1);
    CHECK(ipaddr_family(&as[0]) == AF_INET && ipaddr_port(&as[0]) == 8080);
    CHECK(ipaddr_remotes(as, 4, "127.0.0.1", 8080, IPADDR_IPV6, -1) == 0);
    CHECK(ipaddr_remotes(as, 4, "::1", 1, IPADDR_PREF_IPV4, -1) == 1);
    CHECK(ipaddr_family(&as[0]) == AF_INET6);
    /* A name from the hosts file: the preferred family first. */
    int n = ipaddr_remotes(as, 4, "localhost", 80, IPADDR_PREF_IPV6, -1);
    CHECK(n >= 1 && n <= 4);
    for(int i = 0; i != n; i++) {
        CHECK(ipaddr_port(&as[i]) == 80);
        if(i > 0 && ipaddr_family(&as[i - 1]) == AF_INET) CHECK(ipaddr_family(&as[i]) == AF_INET);
    }
    CHECK(ipaddr_remotes(as, 1, "localhost", 80, IPADDR_PREF_IPV4, -1) == 1);
    CHECK(ipaddr_remotes(as, 4, "name.invalid", 80, 0, -1) == 0);
    CHECK_ERR(ipaddr_remotes(NULL, 4, "localhost", 80, 0, -1), EINVAL);
    CHECK_ERR(ipaddr_remotes(as, 0, "localhost", 80, 0, -1), EINVAL);
    CHECK_ERR(ipaddr_remotes(as, 4, NULL, 80, 0, -1), EINVAL);
    CHECK_ERR(ipaddr_remotes(as, 4, "localhost", 80, 99, -1), EINVAL);
    CHECK_ERR(ipaddr_remotes(as, 4, "localhost", 70000, 0, -1), EINVAL);
    return 0;
}
