/* The EXAMPLE of the ipc_accept_mem man page as a complete program.

   The server (main) listens on a UNIX socket, accepts one connection into
   memory it owns -- exactly IPC_SIZE bytes, no allocation by the library --
   and answers the client, a coroutine of the same process that connects
   with ipc_connect. Each side then closes with ipc_close, which finishes
   only when the other side has closed too. Prints what went over the wire
   and exits with 0 only if everything arrived as sent.

   Build: cc example.c -ldill    Run: ./a.out */
#include <libdill.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUESTION "How are you?"
#define ANSWER "Fine, thanks!"

static int failures;

static void expect(int ok, const char *what) {
    if(!ok) {
        fprintf(stderr, "example: %s failed: %s\n", what, strerror(errno));
        failures++;
    }
}

/* The client: connects, asks, reads the answer, closes. */
static coroutine void client(const char *path) {
    int s = ipc_connect(path, now() + 1000);
    expect(s >= 0, "ipc_connect");
    if(s < 0) return;
    int rc = bsend(s, QUESTION, strlen(QUESTION), now() + 1000);
    expect(rc == 0, "client bsend");
    printf("client: sent     \"%s\"\n", QUESTION);
    char answer[sizeof(ANSWER)] = "";
    rc = brecv(s, answer, strlen(ANSWER), now() + 1000);
    expect(rc == 0, "client brecv");
    printf("client: received \"%s\"\n", answer);
    expect(strcmp(answer, ANSWER) == 0, "the answer");
    rc = ipc_close(s, now() + 1000);
    expect(rc == 0, "client ipc_close");
}

int main(void) {
    /* A private directory for the socket file. */
    char dir[] = "/tmp/dill-example-XXXXXX";
    if(!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[sizeof(dir) + 16];
    snprintf(path, sizeof(path), "%s/test.ipc", dir);
    printf("ipc_accept_mem example, socket %s\n", path);

    int ls = ipc_listen(path, 10);
    expect(ls >= 0, "ipc_listen");
    if(ls >= 0) printf("server: listening\n");
    /* The client runs in a bundle, so that we can wait for it to end. */
    int cr = bundle();
    expect(cr >= 0, "bundle");
    if(cr >= 0 && ls >= 0) expect(bundle_go(cr, client(path)) == 0, "go");

    /* The connection object lives in this array, which must stay valid
       until the connection is closed. */
    static char mem[IPC_SIZE];
    int s = ls >= 0 ? ipc_accept_mem(ls, mem, now() + 1000) : -1;
    expect(s >= 0, "ipc_accept_mem");
    if(s >= 0) {
        printf("server: accepted a connection into %d bytes of its own "
            "memory (IPC_SIZE)\n", IPC_SIZE);
        char question[sizeof(QUESTION)] = "";
        int rc = brecv(s, question, strlen(QUESTION), now() + 1000);
        expect(rc == 0, "server brecv");
        expect(strcmp(question, QUESTION) == 0, "the question");
        rc = bsend(s, ANSWER, strlen(ANSWER), now() + 1000);
        expect(rc == 0, "server bsend");
        printf("server: received \"%s\", replied \"%s\"\n", question,
            ANSWER);
        rc = ipc_close(s, now() + 1000);
        expect(rc == 0, "server ipc_close");
    }
    /* Wait for the client to finish, then clean up. */
    if(cr >= 0) {
        expect(bundle_wait(cr, now() + 1000) == 0, "bundle_wait");
        expect(hclose(cr) == 0, "hclose of the bundle");
    }
    if(ls >= 0) expect(ipc_close(ls, -1) == 0, "ipc_close of the listener");
    unlink(path);
    rmdir(dir);
    printf(failures ? "FAILED\n" : "OK: both sides got what the other "
        "sent and closed cleanly\n");
    return failures ? 1 : 0;
}
