/* With DILL_DISABLE_RAW_NAMES the header declares only dill_ names, so a
   program may use the raw ones for itself. */
#define DILL_DISABLE_RAW_NAMES
#include <libdillimpl.h>

#include "../check.h"

/* Raw names are free for the program's own use. */
static int now(void) { return 1; }
static int hclose(int h) { return h; }
struct ipaddr {int mine;};
#ifdef go
#error "go is defined"
#endif
#ifdef CHSEND
#error "CHSEND is defined"
#endif

static dill_coroutine void worker(int ch) {
    int v = 1;
    CHECK_OK(dill_chsend(ch, &v, sizeof(v), -1));
}

int main(void) {
    CHECK(now() == 1 && hclose(5) == 5);
    struct ipaddr mine = {3};
    CHECK(mine.mine == 3);
    int ch[2];
    CHECK_OK(dill_chmake(ch));
    int h = dill_go(worker(ch[0]));
    CHECK(h >= 0);
    int v = 0;
    struct dill_chclause cl[] = {{DILL_CHRECV, ch[1], &v, sizeof(v)}};
    CHECK(dill_choose(cl, 1, dill_now() + 1000) == 0);
    CHECK(v == 1);
    CHECK_OK(dill_hclose(h));
    CHECK_OK(dill_hclose(ch[0]));
    CHECK_OK(dill_hclose(ch[1]));
    struct dill_ipaddr a;
    CHECK_OK(dill_ipaddr_local(&a, "127.0.0.1", 1, DILL_IPADDR_IPV4));
    CHECK(dill_ipaddr_port(&a) == 1);
    CHECK(dill_hquery(-1, dill_bsock_type) == NULL);
    return 0;
}
