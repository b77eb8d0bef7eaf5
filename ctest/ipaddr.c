/* IP addresses: ipaddr_local, ipaddr_remote (literals, the wildcard, the
   loopback interface, "localhost" from /etc/hosts), the four modes,
   ipaddr_str/family/len/port/setport/sockaddr. Nothing here needs a DNS
   server: only literals and names the local hosts file resolves. */
#include <libdill.h>
#include <netinet/in.h>

#include "sockutil.h"

static char str[IPADDR_MAXSTRLEN];

static void is_v4(const struct ipaddr *a, const char *text, int port) {
    CHECK(ipaddr_family(a) == AF_INET);
    CHECK(ipaddr_len(a) == (int)sizeof(struct sockaddr_in));
    CHECK(ipaddr_port(a) == port);
    CHECK(ipaddr_str(a, str) == str);
    if(strcmp(str, text) != 0) {
        fprintf(stderr, "address is %s, expected %s\n", str, text);
        abort();
    }
    const struct sockaddr_in *sin =
        (const struct sockaddr_in*)ipaddr_sockaddr(a);
    CHECK(sin != NULL);
    CHECK(sin->sin_family == AF_INET);
    CHECK(ntohs(sin->sin_port) == port);
    char again[INET_ADDRSTRLEN];
    CHECK(inet_ntop(AF_INET, &sin->sin_addr, again, sizeof(again)));
    CHECK(strcmp(again, text) == 0);
}

static void is_v6(const struct ipaddr *a, const char *text, int port) {
    CHECK(ipaddr_family(a) == AF_INET6);
    CHECK(ipaddr_len(a) == (int)sizeof(struct sockaddr_in6));
    CHECK(ipaddr_port(a) == port);
    CHECK(ipaddr_str(a, str) == str);
    if(strcmp(str, text) != 0) {
        fprintf(stderr, "address is %s, expected %s\n", str, text);
        abort();
    }
    const struct sockaddr_in6 *sin6 =
        (const struct sockaddr_in6*)ipaddr_sockaddr(a);
    CHECK(sin6->sin6_family == AF_INET6);
    CHECK(ntohs(sin6->sin6_port) == port);
    char again[INET6_ADDRSTRLEN];
    CHECK(inet_ntop(AF_INET6, &sin6->sin6_addr, again, sizeof(again)));
    CHECK(strcmp(again, text) == 0);
}

/* Whether /etc/hosts maps "localhost" to an IPv6 address too. */
static int hosts_has_v6_localhost(void) {
    FILE *f = fopen("/etc/hosts", "r");
    if(!f) return 0;
    char line[512];
    int found = 0;
    while(fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#');
        if(hash) *hash = 0;
        char *addr = strtok(line, " \t\n");
        if(!addr || !strchr(addr, ':')) continue;
        char *name;
        while((name = strtok(NULL, " \t\n")) != NULL)
            if(strcmp(name, "localhost") == 0) found = 1;
    }
    fclose(f);
    return found;
}

static void test_literals(void) {
    struct ipaddr a;
    CHECK(sizeof(struct ipaddr) == 32);

    /* IPv4 literals in every mode that allows IPv4. */
    static const int v4modes[] = {0, IPADDR_IPV4, IPADDR_PREF_IPV4,
        IPADDR_PREF_IPV6};
    for(unsigned i = 0; i < 4; i++) {
        CHECK_OK(ipaddr_local(&a, "10.20.30.40", 5555, v4modes[i]));
        is_v4(&a, "10.20.30.40", 5555);
        CHECK_OK(ipaddr_remote(&a, "10.20.30.40", 80, v4modes[i], -1));
        is_v4(&a, "10.20.30.40", 80);
        CHECK_OK(ipaddr_remote(&a, "255.255.255.255", 65535, v4modes[i], 0));
        is_v4(&a, "255.255.255.255", 65535);
    }
    /* IPv6 literals in every mode that allows IPv6. */
    static const int v6modes[] = {0, IPADDR_IPV6, IPADDR_PREF_IPV4,
        IPADDR_PREF_IPV6};
    for(unsigned i = 0; i < 4; i++) {
        CHECK_OK(ipaddr_local(&a, "::1", 5555, v6modes[i]));
        is_v6(&a, "::1", 5555);
        CHECK_OK(ipaddr_remote(&a, "2001:db8::17", 443, v6modes[i], -1));
        is_v6(&a, "2001:db8::17", 443);
        CHECK_OK(ipaddr_local(&a, "fe80::1:2:3:4", 1, v6modes[i]));
        is_v6(&a, "fe80::1:2:3:4", 1);
        CHECK_OK(ipaddr_local(&a, "::ffff:1.2.3.4", 7, v6modes[i]));
        is_v6(&a, "::ffff:1.2.3.4", 7);
    }
    /* Canonical formatting of what was parsed. */
    CHECK_OK(ipaddr_local(&a, "2001:0db8:0000:0000:0000:0000:0000:0001", 9,
        IPADDR_IPV6));
    is_v6(&a, "2001:db8::1", 9);
    /* Longest possible text fits IPADDR_MAXSTRLEN. */
    CHECK_OK(ipaddr_local(&a, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
        1, IPADDR_IPV6));
    CHECK(strlen(ipaddr_str(&a, str)) < IPADDR_MAXSTRLEN);

    /* Port 0 is allowed (any port), and 65535. */
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 0, 0));
    is_v4(&a, "127.0.0.1", 0);
    CHECK_OK(ipaddr_local(&a, "127.0.0.1", 65535, 0));
    is_v4(&a, "127.0.0.1", 65535);

    /* A literal of the wrong family for a strict mode is refused. */
    CHECK(ipaddr_local(&a, "::1", 5555, IPADDR_IPV4) == -1);
    CHECK(ipaddr_local(&a, "127.0.0.1", 5555, IPADDR_IPV6) == -1);
    CHECK_ERR(ipaddr_remote(&a, "::1", 5555, IPADDR_IPV4, -1), EADDRNOTAVAIL);
    CHECK_ERR(ipaddr_remote(&a, "127.0.0.1", 5555, IPADDR_IPV6, -1),
        EADDRNOTAVAIL);
}

static void test_any(void) {
    struct ipaddr a;
    /* NULL name: the wildcard address of the chosen family. */
    CHECK_OK(ipaddr_local(&a, NULL, 1234, 0));
    is_v4(&a, "0.0.0.0", 1234);
    CHECK_OK(ipaddr_local(&a, NULL, 1234, IPADDR_IPV4));
    is_v4(&a, "0.0.0.0", 1234);
    CHECK_OK(ipaddr_local(&a, NULL, 1234, IPADDR_PREF_IPV4));
    is_v4(&a, "0.0.0.0", 1234);
    CHECK_OK(ipaddr_local(&a, NULL, 1234, IPADDR_IPV6));
    is_v6(&a, "::", 1234);
    CHECK_OK(ipaddr_local(&a, NULL, 1234, IPADDR_PREF_IPV6));
    is_v6(&a, "::", 1234);
    CHECK_OK(ipaddr_local(&a, NULL, 0, 0));
    is_v4(&a, "0.0.0.0", 0);
    /* Out-of-range ports. */
    CHECK_ERR(ipaddr_local(&a, NULL, 65536, 0), EINVAL);
    CHECK_ERR(ipaddr_local(&a, NULL, -1, 0), EINVAL);
}

static void test_interface(void) {
    struct ipaddr a;
    /* The loopback interface by name. */
    if(ipaddr_local(&a, "lo", 80, IPADDR_IPV4) != 0) {
        NOTE("no interface named \"lo\"; interface part skipped");
    }
    else {
        is_v4(&a, "127.0.0.1", 80);
        CHECK_OK(ipaddr_local(&a, "lo", 81, 0));
        is_v4(&a, "127.0.0.1", 81);
        CHECK_OK(ipaddr_local(&a, "lo", 82, IPADDR_PREF_IPV4));
        is_v4(&a, "127.0.0.1", 82);
        if(ipv6_available()) {
            CHECK_OK(ipaddr_local(&a, "lo", 83, IPADDR_IPV6));
            is_v6(&a, "::1", 83);
            CHECK_OK(ipaddr_local(&a, "lo", 84, IPADDR_PREF_IPV6));
            is_v6(&a, "::1", 84);
        }
    }
    /* Neither a literal nor an interface. */
    CHECK_ERR(ipaddr_local(&a, "no-such-if0", 80, 0), ENODEV);
    CHECK_ERR(ipaddr_local(&a, "no-such-if0", 80, IPADDR_IPV6), ENODEV);
    CHECK_ERR(ipaddr_local(&a, "1.2.3", 80, IPADDR_IPV4), ENODEV);
    CHECK_ERR(ipaddr_local(&a, "1.2.3.4.5", 80, 0), ENODEV);
    CHECK_ERR(ipaddr_local(&a, "", 80, 0), ENODEV);
    /* A literal with a port out of range is refused (libdill 2.6 then
       looks for an interface of that name: ENODEV). */
    CHECK(ipaddr_local(&a, "127.0.0.1", 70000, 0) == -1);
}

static void test_localhost(void) {
    struct ipaddr a;
    int64_t t0 = now();
    CHECK_OK(ipaddr_remote(&a, "localhost", 8080, 0, now() + 2000));
    is_v4(&a, "127.0.0.1", 8080);
    CHECK_OK(ipaddr_remote(&a, "localhost", 8081, IPADDR_IPV4, now() + 2000));
    is_v4(&a, "127.0.0.1", 8081);
    CHECK_OK(ipaddr_remote(&a, "localhost", 8082, IPADDR_PREF_IPV4,
        now() + 2000));
    is_v4(&a, "127.0.0.1", 8082);
    /* IPv6 preferred: ::1 if the hosts file has it for localhost, the
       IPv4 address otherwise. */
    CHECK_OK(ipaddr_remote(&a, "localhost", 8083, IPADDR_PREF_IPV6,
        now() + 2000));
    CHECK(ipaddr_port(&a) == 8083);
    ipaddr_str(&a, str);
    CHECK(strcmp(str, "127.0.0.1") == 0 || strcmp(str, "::1") == 0);
    if(!hosts_has_v6_localhost())
        is_v4(&a, "127.0.0.1", 8083);
    /* The hosts file answers at once. */
    CHECK_ELAPSED(t0, 0, 1000);
}

static void test_setport(void) {
    struct ipaddr a;
    CHECK_OK(ipaddr_local(&a, "192.168.1.2", 1, 0));
    ipaddr_setport(&a, 65535);
    is_v4(&a, "192.168.1.2", 65535);
    ipaddr_setport(&a, 0);
    is_v4(&a, "192.168.1.2", 0);
    CHECK_OK(ipaddr_local(&a, "2001:db8::2", 1, 0));
    ipaddr_setport(&a, 4321);
    is_v6(&a, "2001:db8::2", 4321);
    /* Copies are independent values. */
    struct ipaddr b = a;
    ipaddr_setport(&b, 1);
    CHECK(ipaddr_port(&a) == 4321 && ipaddr_port(&b) == 1);

    /* The sockaddr is usable with the POSIX socket calls. */
    loop4(&a, 0);
    int fd = socket(ipaddr_family(&a), SOCK_DGRAM, 0);
    CHECK(fd >= 0);
    CHECK_OK(bind(fd, ipaddr_sockaddr(&a), ipaddr_len(&a)));
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    CHECK_OK(getsockname(fd, (struct sockaddr*)&sin, &len));
    CHECK(ntohs(sin.sin_port) > 0);
    CHECK_OK(close(fd));
}

int main(void) {
    WATCHDOG(30);
    test_literals();
    test_any();
    test_interface();
    test_localhost();
    test_setport();
    return 0;
}
