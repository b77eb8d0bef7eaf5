#ifndef LIBDILL_H_INCLUDED
#define LIBDILL_H_INCLUDED

#include <errno.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>
#if defined __linux__
#include <alloca.h>
#endif

/* ABI version: libtool current 20, revision 0, age 1 (SONAME libdill.so.19). */
#define DILL_VERSION_CURRENT 20
#define DILL_VERSION_REVISION 0
#define DILL_VERSION_AGE 1

#if !defined __GNUC__ && !defined __clang__
#error "libdill needs GCC or clang (statement expressions, inline asm)"
#endif

#if DILL_NO_EXPORTS
#define DILL_EXPORT
#else
#define DILL_EXPORT __attribute__((visibility("default")))
#endif

/* Sizes of caller memory taken by the *_mem functions. */
#if defined(__i386__)
#define BUNDLE_SIZE 32
#define CHSIZE 72
#define TCP_LISTENER_SIZE 36
#define TCP_SIZE 2040
#define IPC_LISTENER_SIZE 20
#define IPC_SIZE 2040
#define IPC_PAIR_SIZE 4080
#define PFX_SIZE 28
#define CRLF_SIZE 36
#define UDP_SIZE 44
#define HTTP_SIZE 1080
#define TLS_SIZE 44
#define WS_SIZE 44
#else
#define BUNDLE_SIZE 64
#define CHSIZE 144
#define TCP_LISTENER_SIZE 72
#define TCP_SIZE 2080
#define IPC_LISTENER_SIZE 40
#define IPC_SIZE 2080
#define IPC_PAIR_SIZE 4160
#define PFX_SIZE 56
#define CRLF_SIZE 72
#define UDP_SIZE 88
#define HTTP_SIZE 1136
#define TLS_SIZE 88
#define WS_SIZE 88
#endif

struct sockaddr;

#define CHSEND 1
#define CHRECV 2

#define IPADDR_IPV4 1
#define IPADDR_IPV6 2
#define IPADDR_PREF_IPV4 3
#define IPADDR_PREF_IPV6 4
#define IPADDR_MAXSTRLEN 46

#define WS_BINARY 0
#define WS_TEXT 1
#define WS_NOHTTP 2
#define WS_KEY_SIZE 32

/* Functions run with go() must not be inlined into their caller. */
#define coroutine __attribute__((noinline))

/* Kept alive by the portable go() below so the compiler keeps its alloca. */
#ifdef __cplusplus
extern "C" DILL_EXPORT volatile void *dill_unoptimisable;
#else
DILL_EXPORT extern volatile void *dill_unoptimisable;
#endif

/*
 * go() saves the calling coroutine's context where dill_prologue says,
 * moves to the new stack and calls the expression there. On x86-64 the
 * context is eight words (rbx, rbp, r12-r15, rsp, resume address) saved
 * inline; the library resumes it with eax = 1 and rdx = the context.
 * Elsewhere sigsetjmp is used.
 */
#if defined(__x86_64__) && !defined DILL_ARCH_FALLBACK
#define dill_setjmp(ctx) ({ \
    int dill_rc__; \
    __asm__ __volatile__( \
        "lea 1f(%%rip), %%rcx\n\t" \
        "mov %%rbx, 0(%%rdx)\n\t" \
        "mov %%rbp, 8(%%rdx)\n\t" \
        "mov %%r12, 16(%%rdx)\n\t" \
        "mov %%r13, 24(%%rdx)\n\t" \
        "mov %%r14, 32(%%rdx)\n\t" \
        "mov %%r15, 40(%%rdx)\n\t" \
        "mov %%rsp, 48(%%rdx)\n\t" \
        "mov %%rcx, 56(%%rdx)\n\t" \
        "xor %%eax, %%eax\n\t" \
        "1:\n\t" \
        : "=a"(dill_rc__) \
        : "d"(ctx) \
        : "memory", "rcx", "rsi", "rdi", "r8", "r9", "r10", "r11", "cc"); \
    dill_rc__; \
})
/* The alloca forces a frame pointer, so locals stay reachable after the switch. */
#define DILL_SETSP(x) \
    __asm__(""::"r"(alloca(sizeof(size_t)))); \
    __asm__ __volatile__("movq %0, %%rsp"::"r"(x));
#else
#define dill_setjmp(ctx) sigsetjmp(ctx, 0)
#define DILL_SETSP(x) \
    dill_unoptimisable = alloca((char*)alloca(sizeof(size_t)) - (char*)(x));
#endif

/*
 * Run by the ASan go() below when the caller is resumed. The portable
 * DILL_SETSP's alloca is on the new stack, and ASan unpoisons from the
 * function's last alloca up to its frame when it returns: all the memory
 * between the two stacks. A scoped array, allocated and freed here, makes
 * the last alloca one on the caller's stack again.
 */
#if defined(__x86_64__) && !defined DILL_ARCH_FALLBACK
#define DILL_SAN_RESUMED(n)
#else
#define DILL_SAN_RESUMED(n) { char dill_a__[(n) + 1]; dill_unoptimisable = dill_a__; }
#endif

/*
 * AddressSanitizer builds get a go() that tells ASan about the stack
 * switches it makes (dill_san_arrived on the new stack and on the caller's
 * return to it); the library announces the rest. The caller's return also
 * clears the poison ASan put around the alloca of DILL_SETSP, left below the
 * caller's stack pointer when the macro moved it away (a false
 * dynamic-stack-buffer-overflow in whatever the caller called next).
 * dill_san_arrived is declared here: the library defines it in assembly.
 */
#if defined __SANITIZE_ADDRESS__
#define DILL_ASAN 1
#elif defined __has_feature
#if __has_feature(address_sanitizer)
#define DILL_ASAN 1
#endif
#endif

#if DILL_ASAN
#ifdef __cplusplus
extern "C" DILL_EXPORT void dill_san_arrived(void);
#else
DILL_EXPORT void dill_san_arrived(void);
#endif
#define go_(fn, ptr, len, bndl) ({ \
    sigjmp_buf *dill_ctx__; \
    void *dill_stk__ = (ptr); \
    int dill_h__ = dill_prologue_san(&dill_ctx__, &dill_stk__, (len), (bndl), \
        __FILE__, __LINE__); \
    if(dill_h__ >= 0) { \
        if(!dill_setjmp(*dill_ctx__)) { \
            DILL_SETSP(dill_stk__); \
            dill_san_arrived(); \
            fn; \
            dill_epilogue(); \
        } \
        dill_san_arrived(); \
        DILL_SAN_RESUMED(dill_h__); \
    } \
    dill_h__; \
})
#else
#define go_(fn, ptr, len, bndl) ({ \
    sigjmp_buf *dill_ctx__; \
    void *dill_stk__ = (ptr); \
    int dill_h__ = dill_prologue(&dill_ctx__, &dill_stk__, (len), (bndl), \
        __FILE__, __LINE__); \
    if(dill_h__ >= 0 && !dill_setjmp(*dill_ctx__)) { \
        DILL_SETSP(dill_stk__); \
        fn; \
        dill_epilogue(); \
    } \
    dill_h__; \
})
#endif

#define go(fn) go_(fn, NULL, 0, -1)
#define go_mem(fn, ptr, len) go_(fn, ptr, len, -1)
#define bundle_go(bndl, fn) go_(fn, NULL, 0, bndl)
#define bundle_go_mem(bndl, fn, ptr, len) go_(fn, ptr, len, bndl)


struct iolist {
  void *iol_base;
  size_t iol_len;
  struct iolist *iol_next;
  int iol_rsvd;
};

struct chclause {
  int op;
  int ch;
  void *val;
  size_t len;
};

struct ipaddr {
  char data[32];
};

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

DILL_EXPORT int bsend(int s, const void *buf, size_t len, int64_t deadline);

DILL_EXPORT int brecv(int s, void *buf, size_t len, int64_t deadline);

DILL_EXPORT int bsendl(int s, struct iolist *first, struct iolist *last, int64_t deadline);

DILL_EXPORT int brecvl(int s, struct iolist *first, struct iolist *last, int64_t deadline);

DILL_EXPORT int chmake(int *chv);

DILL_EXPORT int chmake_mem(void *mem, int *chv);

DILL_EXPORT int chsend(int ch, const void *val, size_t len, int64_t deadline);

DILL_EXPORT int chrecv(int ch, void *val, size_t len, int64_t deadline);

DILL_EXPORT int choose(struct chclause *clauses, int nclauses, int64_t deadline);

DILL_EXPORT int bundle(void);

DILL_EXPORT int bundle_mem(void *mem);

DILL_EXPORT int bundle_wait(int bndl, int64_t deadline);

DILL_EXPORT
int dill_prologue(sigjmp_buf **ctx,
                  void **ptr,
                  size_t len,
                  int bndl,
                  const char *file,
                  int line);

DILL_EXPORT
int dill_prologue_san(sigjmp_buf **ctx,
                      void **ptr,
                      size_t len,
                      int bndl,
                      const char *file,
                      int line);

DILL_EXPORT void dill_epilogue(void);

DILL_EXPORT int yield(void);

DILL_EXPORT int crlf_attach(int s);

DILL_EXPORT int crlf_attach_mem(int s, void *mem);

DILL_EXPORT int crlf_detach(int s, int64_t deadline);

DILL_EXPORT int64_t now(void);

DILL_EXPORT int msleep(int64_t deadline);

DILL_EXPORT int fdin(int fd, int64_t deadline);

DILL_EXPORT int fdout(int fd, int64_t deadline);

DILL_EXPORT int fdclean(int fd);

DILL_EXPORT int hdup(int h);

DILL_EXPORT int hclose(int h);

DILL_EXPORT int hdone(int h, int64_t deadline);

DILL_EXPORT int http_attach(int s);

DILL_EXPORT int http_attach_mem(int s, void *mem);

DILL_EXPORT int http_detach(int s, int64_t deadline);

DILL_EXPORT
int http_sendrequest(int s,
                     const char *command,
                     const char *resource,
                     int64_t deadline);

DILL_EXPORT
int http_recvrequest(int s,
                     char *command,
                     size_t commandlen,
                     char *resource,
                     size_t resourcelen,
                     int64_t deadline);

DILL_EXPORT int http_sendstatus(int s, int status, const char *reason, int64_t deadline);

DILL_EXPORT int http_recvstatus(int s, char *reason, size_t reasonlen, int64_t deadline);

DILL_EXPORT int http_sendfield(int s, const char *name, const char *value, int64_t deadline);

DILL_EXPORT
int http_recvfield(int s,
                   char *name,
                   size_t namelen,
                   char *value,
                   size_t valuelen,
                   int64_t deadline);

DILL_EXPORT int ipaddr_local(struct ipaddr *addr, const char *name, int port, int mode);

DILL_EXPORT
int ipaddr_remote(struct ipaddr *addr,
                  const char *name,
                  int port,
                  int mode,
                  int64_t deadline);

DILL_EXPORT const char *ipaddr_str(const struct ipaddr *addr, char *ipstr);

DILL_EXPORT int ipaddr_family(const struct ipaddr *addr);

DILL_EXPORT int ipaddr_len(const struct ipaddr *addr);

DILL_EXPORT const struct sockaddr *ipaddr_sockaddr(const struct ipaddr *addr);

DILL_EXPORT int ipaddr_port(const struct ipaddr *addr);

DILL_EXPORT void ipaddr_setport(struct ipaddr *addr, int port);

DILL_EXPORT int ipc_listen(const char *addr, int backlog);

DILL_EXPORT int ipc_listen_mem(const char *addr, int backlog, void *mem);

DILL_EXPORT int ipc_accept(int s, int64_t deadline);

DILL_EXPORT int ipc_accept_mem(int s, void *mem, int64_t deadline);

DILL_EXPORT int ipc_connect(const char *addr, int64_t deadline);

DILL_EXPORT int ipc_connect_mem(const char *addr, void *mem, int64_t deadline);

DILL_EXPORT int ipc_close(int s, int64_t deadline);

DILL_EXPORT int ipc_pair(int *s);

DILL_EXPORT int ipc_pair_mem(void *mem, int *s);

DILL_EXPORT int msendl(int s, struct iolist *first, struct iolist *last, int64_t deadline);

DILL_EXPORT ssize_t mrecvl(int s, struct iolist *first, struct iolist *last, int64_t deadline);

DILL_EXPORT int msend(int s, const void *buf, size_t len, int64_t deadline);

DILL_EXPORT ssize_t mrecv(int s, void *buf, size_t len, int64_t deadline);

DILL_EXPORT int pfx_attach(int s);

DILL_EXPORT int pfx_attach_mem(int s, void *mem);

DILL_EXPORT int pfx_detach(int s, int64_t deadline);

DILL_EXPORT int tcp_listen(struct ipaddr *addr, int backlog);

DILL_EXPORT int tcp_listen_mem(struct ipaddr *addr, int backlog, void *mem);

DILL_EXPORT int tcp_accept(int s, struct ipaddr *addr, int64_t deadline);

DILL_EXPORT int tcp_accept_mem(int s, struct ipaddr *addr, void *mem, int64_t deadline);

DILL_EXPORT int tcp_connect(const struct ipaddr *addr, int64_t deadline);

DILL_EXPORT int tcp_connect_mem(const struct ipaddr *addr, void *mem, int64_t deadline);

DILL_EXPORT int tcp_close(int s, int64_t deadline);

DILL_EXPORT int tls_attach_server(int s, const char *cert, const char *pkey, int64_t deadline);

DILL_EXPORT
int tls_attach_server_mem(int s,
                          const char *cert,
                          const char *pkey,
                          void *mem,
                          int64_t deadline);

DILL_EXPORT int tls_attach_client(int s, int64_t deadline);

DILL_EXPORT int tls_attach_client_mem(int s, void *mem, int64_t deadline);

DILL_EXPORT int tls_detach(int s, int64_t deadline);

DILL_EXPORT int udp_open(struct ipaddr *local, const struct ipaddr *remote);

DILL_EXPORT int udp_open_mem(struct ipaddr *local, const struct ipaddr *remote, void *mem);

DILL_EXPORT
int udp_sendl(int s,
              const struct ipaddr *addr,
              struct iolist *first,
              struct iolist *last);

DILL_EXPORT int udp_send(int s, const struct ipaddr *addr, const void *buf, size_t len);

DILL_EXPORT
ssize_t udp_recvl(int s,
                  struct ipaddr *addr,
                  struct iolist *first,
                  struct iolist *last,
                  int64_t deadline);

DILL_EXPORT ssize_t udp_recv(int s, struct ipaddr *addr, void *buf, size_t len, int64_t deadline);

DILL_EXPORT
int ws_attach_client(int s,
                     int flags,
                     const char *resource,
                     const char *host,
                     int64_t deadline);

DILL_EXPORT
int ws_attach_client_mem(int s,
                         int flags,
                         const char *resource,
                         const char *host,
                         void *mem,
                         int64_t deadline);

DILL_EXPORT
int ws_attach_server(int s,
                     int flags,
                     char *resource,
                     size_t resourcelen,
                     char *host,
                     size_t hostlen,
                     int64_t deadline);

DILL_EXPORT
int ws_attach_server_mem(int s,
                         int flags,
                         char *resource,
                         size_t resourcelen,
                         char *host,
                         size_t hostlen,
                         void *mem,
                         int64_t deadline);

DILL_EXPORT
int ws_sendl(int s,
             int flags,
             struct iolist *first,
             struct iolist *last,
             int64_t deadline);

DILL_EXPORT int ws_send(int s, int flags, const void *buf, size_t len, int64_t deadline);

DILL_EXPORT
ssize_t ws_recvl(int s,
                 int *flags,
                 struct iolist *first,
                 struct iolist *last,
                 int64_t deadline);

DILL_EXPORT ssize_t ws_recv(int s, int *flags, void *buf, size_t len, int64_t deadline);

DILL_EXPORT int ws_detach(int s, int64_t deadline);

DILL_EXPORT int ws_request_key(char *request_key);

DILL_EXPORT int ws_response_key(const char *request_key, char *response_key);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* LIBDILL_H_INCLUDED */
