/* tcp_connect whose connection the accepting side ends (hdone, then
   hclose) before the connecting coroutine resumes: it may fail, but only
   with an errno its man page lists (ECONNRESET, say), not EPIPE, which is
   what the socket's pending error says once a FIN and then a reset came
   in. (Found by apifuzz, seed 3013.) */
#include <libdill.h>
#include "check.h"

static struct ipaddr addr;
static int rc_connect = 1, err_connect, done;

static coroutine void client(void) {
    int s = tcp_connect(&addr, now() + 5000);
    err_connect = errno;
    rc_connect = s >= 0 ? 0 : -1;
    if(s >= 0) CHECK_OK(hclose(s));
    done = 1;
}

int main(void) {
    WATCHDOG(20);
    for(int i = 0; i < 20; i++) {
        CHECK_OK(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4));
        int ls = tcp_listen(&addr, 10);
        CHECK(ls >= 0);
        done = 0;
        int c = go(client());
        CHECK(c >= 0);
        /* The client waits for its connect to complete; the kernel
           completes it; we accept and end the connection before the
           client runs again. */
        int s = tcp_accept(ls, NULL, now() + 5000);
        CHECK(s >= 0);
        CHECK_OK(hdone(s, -1));
        CHECK_OK(hclose(s));
        while(!done) CHECK_OK(msleep(now() + 1));
        if(rc_connect != 0) {
            errno = err_connect;
            CHECK_DOC(err_connect == ECONNRESET || err_connect == ECONNREFUSED,
                "tcp_connect fails only with the errnos it lists");
        }
        CHECK_OK(hclose(c));
        CHECK_OK(hclose(ls));
    }
    return 0;
}
