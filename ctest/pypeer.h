/* A python3 program as the peer of a test: started with a script and an
   argument, its first line of output read (a port, or 0 for "ready"), and
   its exit awaited while libdill keeps running. It must succeed. */
#ifndef CTEST_PYPEER_H
#define CTEST_PYPEER_H

#include <spawn.h>

#include "sockutil.h"

extern char **environ;

struct py {
    pid_t pid;
    int out;      /* read end of its stdout */
};

static inline void py_start(struct py *p, const char *script,
      const char *arg) {
    int pipefd[2];
    CHECK_OK(pipe(pipefd));
    posix_spawn_file_actions_t fa;
    CHECK_OK(posix_spawn_file_actions_init(&fa));
    CHECK_OK(posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1));
    CHECK_OK(posix_spawn_file_actions_addclose(&fa, pipefd[0]));
    char *argv[] = {"python3", "-c", (char*)script, (char*)arg, NULL};
    int rc = posix_spawnp(&p->pid, "python3", &fa, NULL, argv, environ);
    CHECK_OK(posix_spawn_file_actions_destroy(&fa));
    CHECK_OK(close(pipefd[1]));
    if(rc != 0) {
        errno = rc;
        CHECK(!"python3 could not be started");
    }
    p->out = pipefd[0];
}

static inline int py_line(struct py *p) {
    char line[32];
    size_t n = 0;
    while(n < sizeof(line) - 1) {
        CHECK_OK(fdin(p->out, now() + 20000));
        ssize_t k = read(p->out, line + n, 1);
        CHECK(k == 1);
        if(line[n] == '\n') break;
        n++;
    }
    line[n] = 0;
    return atoi(line);
}

static inline void py_finish(struct py *p) {
    int status = 0;
    int64_t deadline = now() + 20000;
    while(1) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        CHECK(r >= 0);
        if(r == p->pid) break;
        if(now() > deadline) {
            kill(p->pid, SIGKILL);
            CHECK(!"python peer did not finish");
        }
        CHECK_OK(msleep(now() + 5));
    }
    fdclean(p->out);
    CHECK_OK(close(p->out));
    if(!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "python peer failed (status 0x%x)\n", status);
        abort();
    }
}

#endif
