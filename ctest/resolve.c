/* ipaddr_local with interface names, ipaddr_remote with host names. Nothing
   here needs a name server: names come from /etc/hosts or are reserved. */
#include <libdill.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"

static const char *str(const struct ipaddr *a) {
    static char buf[IPADDR_MAXSTRLEN];
    return ipaddr_str(a, buf);
}

/* Does /etc/hosts give `name` the address `ip`? */
static int hosts_has(const char *ip, const char *name) {
    FILE *f = fopen("/etc/hosts", "r");
    if(!f) return 0;
    char line[512];
    int found = 0;
    while(!found && fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#');
        if(hash) *hash = 0;
        char *save = NULL;
        char *addr = strtok_r(line, " \t\n", &save);
        if(!addr || strcmp(addr, ip) != 0) continue;
        for(char *w; (w = strtok_r(NULL, " \t\n", &save));)
            if(strcmp(w, name) == 0) found = 1;
    }
    fclose(f);
    return found;
}

/* An interface that has no address of `family` (but some other entry), or
   NULL if every interface has one. */
static const char *iface_without(int family, char *buf, size_t len) {
    struct ifaddrs *list, *it, *jt;
    CHECK_OK(getifaddrs(&list));
    const char *res = NULL;
    for(it = list; it && !res; it = it->ifa_next) {
        int has = 0;
        for(jt = list; jt; jt = jt->ifa_next)
            if(strcmp(jt->ifa_name, it->ifa_name) == 0 && jt->ifa_addr &&
                  jt->ifa_addr->sa_family == family)
                has = 1;
        if(!has && strlen(it->ifa_name) < len) {
            strcpy(buf, it->ifa_name);
            res = buf;
        }
    }
    freeifaddrs(list);
    return res;
}

static int resolved = 0;

coroutine void resolver(void) {
    struct ipaddr a;
    CHECK_OK(ipaddr_remote(&a, "localhost", 8080, IPADDR_IPV4, now() + 1000));
    CHECK(ipaddr_port(&a) == 8080);
    resolved = 1;
}

int main(void) {
    struct ipaddr a;
    int modes[] = {0, IPADDR_IPV4, IPADDR_IPV6, IPADDR_PREF_IPV4,
        IPADDR_PREF_IPV6};

    /* No name: the wildcard address of the preferred family. */
    CHECK_OK(ipaddr_local(&a, NULL, 5555, 0));
    CHECK(ipaddr_family(&a) == AF_INET && strcmp(str(&a), "0.0.0.0") == 0);
    CHECK(ipaddr_port(&a) == 5555);
    CHECK_OK(ipaddr_local(&a, NULL, 5555, IPADDR_PREF_IPV6));
    CHECK(ipaddr_family(&a) == AF_INET6 && strcmp(str(&a), "::") == 0);

    /* The loopback interface. */
    CHECK_OK(ipaddr_local(&a, "lo", 5555, IPADDR_IPV4));
    CHECK(strcmp(str(&a), "127.0.0.1") == 0 && ipaddr_port(&a) == 5555);
    CHECK_OK(ipaddr_local(&a, "lo", 5555, 0));
    CHECK(strcmp(str(&a), "127.0.0.1") == 0);
    CHECK_OK(ipaddr_local(&a, "lo", 5555, IPADDR_PREF_IPV6));
    CHECK(strcmp(str(&a), "::1") == 0 || strcmp(str(&a), "127.0.0.1") == 0);
    if(ipaddr_local(&a, "lo", 5555, IPADDR_IPV6) == 0)
        CHECK(strcmp(str(&a), "::1") == 0 && ipaddr_len(&a) == sizeof(struct sockaddr_in6));
    else
        CHECK(errno == ENODEV);

    /* No such interface, in any mode; names are case-sensitive. */
    for(int i = 0; i != 5; ++i) {
        CHECK_ERR(ipaddr_local(&a, "nonexistent-if", 5555, modes[i]), ENODEV);
        CHECK_ERR(ipaddr_local(&a, "LO", 5555, modes[i]), ENODEV);
        CHECK_ERR(ipaddr_local(&a, "", 5555, modes[i]), ENODEV);
    }
    /* An interface without an address of the family asked for. */
    char name[64];
    if(iface_without(AF_INET, name, sizeof(name)))
        CHECK_ERR(ipaddr_local(&a, name, 5555, IPADDR_IPV4), ENODEV);
    if(iface_without(AF_INET6, name, sizeof(name)))
        CHECK_ERR(ipaddr_local(&a, name, 5555, IPADDR_IPV6), ENODEV);

    /* Host names from /etc/hosts. */
    if(hosts_has("127.0.0.1", "localhost")) {
        CHECK_OK(ipaddr_remote(&a, "localhost", 80, 0, now() + 1000));
        CHECK(strcmp(str(&a), "127.0.0.1") == 0 && ipaddr_port(&a) == 80);
        CHECK_OK(ipaddr_remote(&a, "LocalHost.", 80, IPADDR_IPV4, -1));
        CHECK(strcmp(str(&a), "127.0.0.1") == 0);
        /* The hosts file needs no waiting: even an immediate deadline does. */
        CHECK_OK(ipaddr_remote(&a, "localhost", 80, IPADDR_PREF_IPV6, 0));
        CHECK(ipaddr_family(&a) == AF_INET || strcmp(str(&a), "::1") == 0);
        int cr = go(resolver());
        CHECK(cr >= 0);
        CHECK_OK(yield());
        CHECK(resolved == 1);
        CHECK_OK(hclose(cr));
    }

    /* Names that cannot resolve: a reserved domain, malformed names. A name
       server, if one is asked at all, may also just not answer in time. */
    errno = 0;
    int rc = ipaddr_remote(&a, "nonexistent.invalid", 80, 0, now() + 500);
    CHECK(rc == -1 && (errno == EADDRNOTAVAIL || errno == ETIMEDOUT));
    CHECK_ERR(ipaddr_remote(&a, "", 80, 0, now() + 500), EADDRNOTAVAIL);
    CHECK_ERR(ipaddr_remote(&a, "a..b", 80, 0, now() + 500), EADDRNOTAVAIL);
    CHECK_ERR(ipaddr_remote(&a, "localhost", 80, 7, -1), EINVAL);
    return 0;
}
