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

/* ABI version: libtool current 25, revision 0, age 5 (SONAME libdill.so.20). */
#define DILL_VERSION_CURRENT 25
#define DILL_VERSION_REVISION 0
#define DILL_VERSION_AGE 5

#if !defined __GNUC__ && !defined __clang__
#error "libdill needs GCC or clang (statement expressions, inline asm)"
#endif

#if DILL_NO_EXPORTS
#define DILL_EXPORT
#else
#define DILL_EXPORT __attribute__((visibility("default")))
#endif

/* Memory for the *_mem functions: plain bytes, any alignment. */
struct dill_bundle_storage {char _[64];};
struct dill_chstorage {char _[144];};
struct dill_tcp_listener_storage {char _[56];};
struct dill_tcp_storage {char _[72];};
struct dill_ipc_listener_storage {char _[24];};
struct dill_ipc_storage {char _[72];};
struct dill_ipc_pair_storage {char _[144];};
struct dill_http_storage {char _[1296];};
struct dill_udp_storage {char _[72];};
struct dill_tls_storage {char _[72];};
struct dill_term_storage {char _[88];};
struct dill_suffix_storage {char _[128];};
struct dill_prefix_storage {char _[56];};
struct dill_ws_storage {char _[176];};

#define DILL_SOCKS5_CONNECT (0x01)
#define DILL_SOCKS5_BIND (0x02)
#define DILL_SOCKS5_UDP_ASSOCIATE (0x03)
#define DILL_SOCKS5_SUCCESS (0x00)
#define DILL_SOCKS5_GENERAL_FAILURE (0x01)
#define DILL_SOCKS5_CONNECTION_NOT_ALLOWED (0x02)
#define DILL_SOCKS5_NETWORK_UNREACHABLE (0x03)
#define DILL_SOCKS5_HOST_UNREACHABLE (0x04)
#define DILL_SOCKS5_CONNECTION_REFUSED (0x05)
#define DILL_SOCKS5_TTL_EXPIRED (0x06)
#define DILL_SOCKS5_COMMAND_NOT_SUPPORTED (0x07)
#define DILL_SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED (0x08)

/* Checks a SOCKS5 client's user name and password: nonzero accepts. */
typedef int dill_socks5_auth_function(const char *username, const char *password);

#define DILL_PREFIX_BIG_ENDIAN 0
#define DILL_PREFIX_LITTLE_ENDIAN 1

#define DILL_WS_BINARY 0
#define DILL_WS_TEXT 1
#define DILL_WS_NOHTTP 2

/* Sizes of the keys of ws_request_key and ws_response_key. */
#define WS_KEY_SIZE 32

struct sockaddr;

#define DILL_CHSEND 1
#define DILL_CHRECV 2

struct dill_chclause {
  int op;
  int ch;
  void *val;
  size_t len;
};

struct dill_iolist {
  void *iol_base;
  size_t iol_len;
  struct dill_iolist *iol_next;
  int iol_rsvd;
};

#define DILL_IPADDR_IPV4 1
#define DILL_IPADDR_IPV6 2
#define DILL_IPADDR_PREF_IPV4 3
#define DILL_IPADDR_PREF_IPV6 4
#define DILL_IPADDR_MAXSTRLEN 46

struct dill_ipaddr {char _[32];};

/* Functions run with go() must not be inlined into their caller. */
#define dill_coroutine __attribute__((noinline))

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

#ifdef __cplusplus
extern "C" {
#endif
DILL_EXPORT __attribute__((noinline)) int dill_prologue(sigjmp_buf **ctx, void **ptr, size_t len,
    int bndl, const char *file, int line);
DILL_EXPORT __attribute__((noinline)) void dill_epilogue(void);
DILL_EXPORT __attribute__((noinline)) int dill_prologue_san(sigjmp_buf **ctx, void **ptr,
    size_t len, int bndl, const char *file, int line);
#ifdef __cplusplus
}
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
#define dill_go_(fn, ptr, len, bndl) ({ \
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
#define dill_go_(fn, ptr, len, bndl) ({ \
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

/* go_mem's memory starts with the coroutine's bundle (a dill_bundle_storage). */
#define dill_go(fn) dill_go_(fn, NULL, 0, -1)
#define dill_go_mem(fn, ptr, len) dill_go_(fn, ptr, len, -1)
#define dill_bundle_go(bndl, fn) dill_go_(fn, NULL, 0, bndl)
#define dill_bundle_go_mem(bndl, fn, ptr, len) dill_go_(fn, ptr, len, bndl)

#if !defined DILL_DISABLE_RAW_NAMES
#define coroutine dill_coroutine
#define go dill_go
#define go_mem dill_go_mem
#define bundle_go dill_bundle_go
#define bundle_go_mem dill_bundle_go_mem
#define bundle_storage dill_bundle_storage
#define CHSEND DILL_CHSEND
#define CHRECV DILL_CHRECV
#define chclause dill_chclause
#define chstorage dill_chstorage
#define tcp_listener_storage dill_tcp_listener_storage
#define tcp_storage dill_tcp_storage
#define ipc_listener_storage dill_ipc_listener_storage
#define ipc_storage dill_ipc_storage
#define ipc_pair_storage dill_ipc_pair_storage
#define http_storage dill_http_storage
#define udp_storage dill_udp_storage
#define tls_storage dill_tls_storage
#define term_storage dill_term_storage
#define suffix_storage dill_suffix_storage
#define prefix_storage dill_prefix_storage
#define ws_storage dill_ws_storage
#define WS_BINARY DILL_WS_BINARY
#define WS_TEXT DILL_WS_TEXT
#define WS_NOHTTP DILL_WS_NOHTTP
#define SOCKS5_CONNECT DILL_SOCKS5_CONNECT
#define SOCKS5_BIND DILL_SOCKS5_BIND
#define SOCKS5_UDP_ASSOCIATE DILL_SOCKS5_UDP_ASSOCIATE
#define SOCKS5_SUCCESS DILL_SOCKS5_SUCCESS
#define SOCKS5_GENERAL_FAILURE DILL_SOCKS5_GENERAL_FAILURE
#define SOCKS5_CONNECTION_NOT_ALLOWED DILL_SOCKS5_CONNECTION_NOT_ALLOWED
#define SOCKS5_NETWORK_UNREACHABLE DILL_SOCKS5_NETWORK_UNREACHABLE
#define SOCKS5_HOST_UNREACHABLE DILL_SOCKS5_HOST_UNREACHABLE
#define SOCKS5_CONNECTION_REFUSED DILL_SOCKS5_CONNECTION_REFUSED
#define SOCKS5_TTL_EXPIRED DILL_SOCKS5_TTL_EXPIRED
#define SOCKS5_COMMAND_NOT_SUPPORTED DILL_SOCKS5_COMMAND_NOT_SUPPORTED
#define SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED DILL_SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED
#define PREFIX_BIG_ENDIAN DILL_PREFIX_BIG_ENDIAN
#define PREFIX_LITTLE_ENDIAN DILL_PREFIX_LITTLE_ENDIAN
#define iolist dill_iolist
#define ipaddr dill_ipaddr
#define IPADDR_IPV4 DILL_IPADDR_IPV4
#define IPADDR_IPV6 DILL_IPADDR_IPV6
#define IPADDR_PREF_IPV4 DILL_IPADDR_PREF_IPV4
#define IPADDR_PREF_IPV6 DILL_IPADDR_PREF_IPV6
#define IPADDR_MAXSTRLEN DILL_IPADDR_MAXSTRLEN
#endif


#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

DILL_EXPORT int dill_chmake(int *chv);

DILL_EXPORT int dill_chmake_mem(struct dill_chstorage *mem, int *chv);

DILL_EXPORT int dill_chsend(int ch, const void *val, size_t len, int64_t deadline);

DILL_EXPORT int dill_chrecv(int ch, void *val, size_t len, int64_t deadline);

DILL_EXPORT int dill_chdone(int ch);

DILL_EXPORT int dill_choose(struct dill_chclause *clauses, int nclauses, int64_t deadline);

DILL_EXPORT int dill_bundle(void);

DILL_EXPORT int dill_bundle_mem(struct dill_bundle_storage *mem);

DILL_EXPORT int dill_bundle_wait(int h, int64_t deadline);

DILL_EXPORT int dill_yield(void);

DILL_EXPORT int dill_hclose(int h);

DILL_EXPORT int dill_hown(int h);

DILL_EXPORT int64_t dill_now(void);

DILL_EXPORT int dill_msleep(int64_t deadline);

DILL_EXPORT int dill_fdin(int fd, int64_t deadline);

DILL_EXPORT int dill_fdout(int fd, int64_t deadline);

DILL_EXPORT int dill_fdclean(int fd);

DILL_EXPORT int dill_http_attach(int s);

DILL_EXPORT int dill_http_attach_mem(int s, struct dill_http_storage *mem);

DILL_EXPORT int dill_http_done(int s, int64_t deadline);

DILL_EXPORT int dill_http_detach(int s, int64_t deadline);

DILL_EXPORT
int dill_http_sendrequest(int s,
                          const char *command,
                          const char *resource,
                          int64_t deadline);

DILL_EXPORT
int dill_http_recvrequest(int s,
                          char *command,
                          size_t commandlen,
                          char *resource,
                          size_t resourcelen,
                          int64_t deadline);

DILL_EXPORT int dill_http_sendstatus(int s, int status, const char *reason, int64_t deadline);

DILL_EXPORT int dill_http_recvstatus(int s, char *reason, size_t reasonlen, int64_t deadline);

DILL_EXPORT int dill_http_sendfield(int s, const char *name, const char *value, int64_t deadline);

DILL_EXPORT
int dill_http_recvfield(int s,
                        char *name,
                        size_t namelen,
                        char *value,
                        size_t valuelen,
                        int64_t deadline);

DILL_EXPORT int dill_ipaddr_local(struct dill_ipaddr *addr, const char *name, int port, int mode);

DILL_EXPORT
int dill_ipaddr_remote(struct dill_ipaddr *addr,
                       const char *name,
                       int port,
                       int mode,
                       int64_t deadline);

DILL_EXPORT
int dill_ipaddr_remotes(struct dill_ipaddr *addrs,
                        int naddrs,
                        const char *name,
                        int port,
                        int mode,
                        int64_t deadline);

DILL_EXPORT const char *dill_ipaddr_str(const struct dill_ipaddr *addr, char *ipstr);

DILL_EXPORT int dill_ipaddr_family(const struct dill_ipaddr *addr);

DILL_EXPORT int dill_ipaddr_len(const struct dill_ipaddr *addr);

DILL_EXPORT const struct sockaddr *dill_ipaddr_sockaddr(const struct dill_ipaddr *addr);

DILL_EXPORT int dill_ipaddr_port(const struct dill_ipaddr *addr);

DILL_EXPORT void dill_ipaddr_setport(struct dill_ipaddr *addr, int port);

DILL_EXPORT
int dill_ipaddr_equal(const struct dill_ipaddr *addr1,
                      const struct dill_ipaddr *addr2,
                      int ignore_port);

DILL_EXPORT int dill_ipc_listen(const char *addr, int backlog);

DILL_EXPORT
int dill_ipc_listen_mem(const char *addr,
                        int backlog,
                        struct dill_ipc_listener_storage *mem);

DILL_EXPORT int dill_ipc_accept(int s, int64_t deadline);

DILL_EXPORT int dill_ipc_accept_mem(int s, struct dill_ipc_storage *mem, int64_t deadline);

DILL_EXPORT int dill_ipc_connect(const char *addr, int64_t deadline);

DILL_EXPORT
int dill_ipc_connect_mem(const char *addr,
                         struct dill_ipc_storage *mem,
                         int64_t deadline);

DILL_EXPORT int dill_ipc_sendfd(int s, int fd, int64_t deadline);

DILL_EXPORT int dill_ipc_recvfd(int s, int64_t deadline);

DILL_EXPORT int dill_ipc_done(int s, int64_t deadline);

DILL_EXPORT int dill_ipc_close(int s, int64_t deadline);

DILL_EXPORT int dill_ipc_fromfd(int fd);

DILL_EXPORT int dill_ipc_fromfd_mem(int fd, struct dill_ipc_storage *mem);

DILL_EXPORT int dill_ipc_listener_fromfd(int fd);

DILL_EXPORT int dill_ipc_listener_fromfd_mem(int fd, struct dill_ipc_listener_storage *mem);

DILL_EXPORT int dill_ipc_pair(int *s);

DILL_EXPORT int dill_ipc_pair_mem(struct dill_ipc_pair_storage *mem, int *s);

DILL_EXPORT int dill_prefix_attach(int s, size_t hdrlen, int flags);

DILL_EXPORT
int dill_prefix_attach_mem(int s,
                           size_t hdrlen,
                           int flags,
                           struct dill_prefix_storage *mem);

DILL_EXPORT int dill_prefix_detach(int s);

DILL_EXPORT int dill_bsend(int s, const void *buf, size_t len, int64_t deadline);

DILL_EXPORT int dill_brecv(int s, void *buf, size_t len, int64_t deadline);

DILL_EXPORT
int dill_bsendl(int s,
                struct dill_iolist *first,
                struct dill_iolist *last,
                int64_t deadline);

DILL_EXPORT
int dill_brecvl(int s,
                struct dill_iolist *first,
                struct dill_iolist *last,
                int64_t deadline);

DILL_EXPORT int dill_msend(int s, const void *buf, size_t len, int64_t deadline);

DILL_EXPORT ssize_t dill_mrecv(int s, void *buf, size_t len, int64_t deadline);

DILL_EXPORT
int dill_msendl(int s,
                struct dill_iolist *first,
                struct dill_iolist *last,
                int64_t deadline);

DILL_EXPORT
ssize_t dill_mrecvl(int s,
                    struct dill_iolist *first,
                    struct dill_iolist *last,
                    int64_t deadline);

DILL_EXPORT
int dill_socks5_client_connect(int s,
                               const char *username,
                               const char *password,
                               struct dill_ipaddr *addr,
                               int64_t deadline);

DILL_EXPORT
int dill_socks5_client_connectbyname(int s,
                                     const char *username,
                                     const char *password,
                                     const char *hostname,
                                     int port,
                                     int64_t deadline);

DILL_EXPORT
int dill_socks5_proxy_auth(int s,
                           int (*auth_fn)(const char *username, const char *password),
                           int64_t deadline);

DILL_EXPORT int dill_socks5_proxy_recvcommand(int s, struct dill_ipaddr *ipaddr, int64_t deadline);

DILL_EXPORT int dill_socks5_proxy_recvcommandbyname(int s, char *host, int *port, int64_t deadline);

DILL_EXPORT
int dill_socks5_proxy_sendreply(int s,
                                int reply,
                                struct dill_ipaddr *ipaddr,
                                int64_t deadline);

DILL_EXPORT int dill_suffix_attach(int s, const void *suffix, size_t suffixlen);

DILL_EXPORT
int dill_suffix_attach_mem(int s,
                           const void *suffix,
                           size_t suffixlen,
                           struct dill_suffix_storage *mem);

DILL_EXPORT int dill_suffix_detach(int s, int64_t deadline);

DILL_EXPORT int dill_tcp_listen(struct dill_ipaddr *addr, int backlog);

DILL_EXPORT
int dill_tcp_listen_mem(struct dill_ipaddr *addr,
                        int backlog,
                        struct dill_tcp_listener_storage *mem);

DILL_EXPORT int dill_tcp_accept(int s, struct dill_ipaddr *addr, int64_t deadline);

DILL_EXPORT
int dill_tcp_accept_mem(int s,
                        struct dill_ipaddr *addr,
                        struct dill_tcp_storage *mem,
                        int64_t deadline);

DILL_EXPORT int dill_tcp_connect(const struct dill_ipaddr *addr, int64_t deadline);

DILL_EXPORT
int dill_tcp_connect_mem(const struct dill_ipaddr *addr,
                         struct dill_tcp_storage *mem,
                         int64_t deadline);

DILL_EXPORT int dill_tcp_done(int s, int64_t deadline);

DILL_EXPORT int dill_tcp_close(int s, int64_t deadline);

DILL_EXPORT int dill_tcp_fromfd(int fd);

DILL_EXPORT int dill_tcp_fromfd_mem(int fd, struct dill_tcp_storage *mem);

DILL_EXPORT int dill_tcp_listener_fromfd(int fd);

DILL_EXPORT int dill_tcp_listener_fromfd_mem(int fd, struct dill_tcp_listener_storage *mem);

DILL_EXPORT int dill_happyeyeballs_connect(const char *name, int port, int64_t deadline);

DILL_EXPORT int dill_term_attach(int s, const void *buf, size_t len);

DILL_EXPORT
int dill_term_attach_mem(int s,
                         const void *buf,
                         size_t len,
                         struct dill_term_storage *mem);

DILL_EXPORT int dill_term_done(int s, int64_t deadline);

DILL_EXPORT int dill_term_detach(int s, int64_t deadline);

DILL_EXPORT int dill_tls_attach_server(int s, const char *cert, const char *pkey, int64_t deadline);

DILL_EXPORT
int dill_tls_attach_server_mem(int s,
                               const char *cert,
                               const char *pkey,
                               struct dill_tls_storage *mem,
                               int64_t deadline);

DILL_EXPORT int dill_tls_attach_client(int s, int64_t deadline);

DILL_EXPORT int dill_tls_attach_client_mem(int s, struct dill_tls_storage *mem, int64_t deadline);

DILL_EXPORT int dill_tls_done(int s, int64_t deadline);

DILL_EXPORT int dill_tls_detach(int s, int64_t deadline);

DILL_EXPORT int dill_udp_open(struct dill_ipaddr *local, const struct dill_ipaddr *remote);

DILL_EXPORT
int dill_udp_open_mem(struct dill_ipaddr *local,
                      const struct dill_ipaddr *remote,
                      struct dill_udp_storage *mem);

DILL_EXPORT int dill_udp_send(int s, const struct dill_ipaddr *addr, const void *buf, size_t len);

DILL_EXPORT
int dill_udp_sendl(int s,
                   const struct dill_ipaddr *addr,
                   struct dill_iolist *first,
                   struct dill_iolist *last);

DILL_EXPORT
ssize_t dill_udp_recvl(int s,
                       struct dill_ipaddr *addr,
                       struct dill_iolist *first,
                       struct dill_iolist *last,
                       int64_t deadline);

DILL_EXPORT
ssize_t dill_udp_recv(int s,
                      struct dill_ipaddr *addr,
                      void *buf,
                      size_t len,
                      int64_t deadline);

DILL_EXPORT
int dill_ws_attach_client(int s,
                          int flags,
                          const char *resource,
                          const char *host,
                          int64_t deadline);

DILL_EXPORT
int dill_ws_attach_client_mem(int s,
                              int flags,
                              const char *resource,
                              const char *host,
                              struct dill_ws_storage *mem,
                              int64_t deadline);

DILL_EXPORT
int dill_ws_attach_server(int s,
                          int flags,
                          char *resource,
                          size_t resourcelen,
                          char *host,
                          size_t hostlen,
                          int64_t deadline);

DILL_EXPORT
int dill_ws_attach_server_mem(int s,
                              int flags,
                              char *resource,
                              size_t resourcelen,
                              char *host,
                              size_t hostlen,
                              struct dill_ws_storage *mem,
                              int64_t deadline);

DILL_EXPORT int dill_ws_send(int s, int flags, const void *buf, size_t len, int64_t deadline);

DILL_EXPORT ssize_t dill_ws_recv(int s, int *flags, void *buf, size_t len, int64_t deadline);

DILL_EXPORT
int dill_ws_sendl(int s,
                  int flags,
                  struct dill_iolist *first,
                  struct dill_iolist *last,
                  int64_t deadline);

DILL_EXPORT
ssize_t dill_ws_recvl(int s,
                      int *flags,
                      struct dill_iolist *first,
                      struct dill_iolist *last,
                      int64_t deadline);

DILL_EXPORT int dill_ws_done(int s, int status, const void *buf, size_t len, int64_t deadline);

DILL_EXPORT int dill_ws_detach(int s, int status, const void *buf, size_t len, int64_t deadline);

DILL_EXPORT ssize_t dill_ws_status(int s, int *status, void *buf, size_t len);

DILL_EXPORT int dill_ws_request_key(char *request_key);

DILL_EXPORT int dill_ws_response_key(const char *request_key, char *response_key);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#if !defined DILL_DISABLE_RAW_NAMES
#define chmake dill_chmake
#define chmake_mem dill_chmake_mem
#define chsend dill_chsend
#define chrecv dill_chrecv
#define chdone dill_chdone
#define choose dill_choose
#define bundle dill_bundle
#define bundle_mem dill_bundle_mem
#define bundle_wait dill_bundle_wait
#define yield dill_yield
#define hclose dill_hclose
#define hown dill_hown
#define now dill_now
#define msleep dill_msleep
#define fdin dill_fdin
#define fdout dill_fdout
#define fdclean dill_fdclean
#define http_attach dill_http_attach
#define http_attach_mem dill_http_attach_mem
#define http_done dill_http_done
#define http_detach dill_http_detach
#define http_sendrequest dill_http_sendrequest
#define http_recvrequest dill_http_recvrequest
#define http_sendstatus dill_http_sendstatus
#define http_recvstatus dill_http_recvstatus
#define http_sendfield dill_http_sendfield
#define http_recvfield dill_http_recvfield
#define ipaddr_local dill_ipaddr_local
#define ipaddr_remote dill_ipaddr_remote
#define ipaddr_remotes dill_ipaddr_remotes
#define ipaddr_str dill_ipaddr_str
#define ipaddr_family dill_ipaddr_family
#define ipaddr_len dill_ipaddr_len
#define ipaddr_sockaddr dill_ipaddr_sockaddr
#define ipaddr_port dill_ipaddr_port
#define ipaddr_setport dill_ipaddr_setport
#define ipaddr_equal dill_ipaddr_equal
#define ipc_listen dill_ipc_listen
#define ipc_listen_mem dill_ipc_listen_mem
#define ipc_accept dill_ipc_accept
#define ipc_accept_mem dill_ipc_accept_mem
#define ipc_connect dill_ipc_connect
#define ipc_connect_mem dill_ipc_connect_mem
#define ipc_sendfd dill_ipc_sendfd
#define ipc_recvfd dill_ipc_recvfd
#define ipc_done dill_ipc_done
#define ipc_close dill_ipc_close
#define ipc_fromfd dill_ipc_fromfd
#define ipc_fromfd_mem dill_ipc_fromfd_mem
#define ipc_listener_fromfd dill_ipc_listener_fromfd
#define ipc_listener_fromfd_mem dill_ipc_listener_fromfd_mem
#define ipc_pair dill_ipc_pair
#define ipc_pair_mem dill_ipc_pair_mem
#define prefix_attach dill_prefix_attach
#define prefix_attach_mem dill_prefix_attach_mem
#define prefix_detach dill_prefix_detach
#define bsend dill_bsend
#define brecv dill_brecv
#define bsendl dill_bsendl
#define brecvl dill_brecvl
#define msend dill_msend
#define mrecv dill_mrecv
#define msendl dill_msendl
#define mrecvl dill_mrecvl
#define socks5_client_connect dill_socks5_client_connect
#define socks5_client_connectbyname dill_socks5_client_connectbyname
#define socks5_proxy_auth dill_socks5_proxy_auth
#define socks5_proxy_recvcommand dill_socks5_proxy_recvcommand
#define socks5_proxy_recvcommandbyname dill_socks5_proxy_recvcommandbyname
#define socks5_proxy_sendreply dill_socks5_proxy_sendreply
#define suffix_attach dill_suffix_attach
#define suffix_attach_mem dill_suffix_attach_mem
#define suffix_detach dill_suffix_detach
#define tcp_listen dill_tcp_listen
#define tcp_listen_mem dill_tcp_listen_mem
#define tcp_accept dill_tcp_accept
#define tcp_accept_mem dill_tcp_accept_mem
#define tcp_connect dill_tcp_connect
#define tcp_connect_mem dill_tcp_connect_mem
#define tcp_done dill_tcp_done
#define tcp_close dill_tcp_close
#define tcp_fromfd dill_tcp_fromfd
#define tcp_fromfd_mem dill_tcp_fromfd_mem
#define tcp_listener_fromfd dill_tcp_listener_fromfd
#define tcp_listener_fromfd_mem dill_tcp_listener_fromfd_mem
#define happyeyeballs_connect dill_happyeyeballs_connect
#define term_attach dill_term_attach
#define term_attach_mem dill_term_attach_mem
#define term_done dill_term_done
#define term_detach dill_term_detach
#define tls_attach_server dill_tls_attach_server
#define tls_attach_server_mem dill_tls_attach_server_mem
#define tls_attach_client dill_tls_attach_client
#define tls_attach_client_mem dill_tls_attach_client_mem
#define tls_done dill_tls_done
#define tls_detach dill_tls_detach
#define udp_open dill_udp_open
#define udp_open_mem dill_udp_open_mem
#define udp_send dill_udp_send
#define udp_sendl dill_udp_sendl
#define udp_recvl dill_udp_recvl
#define udp_recv dill_udp_recv
#define ws_attach_client dill_ws_attach_client
#define ws_attach_client_mem dill_ws_attach_client_mem
#define ws_attach_server dill_ws_attach_server
#define ws_attach_server_mem dill_ws_attach_server_mem
#define ws_send dill_ws_send
#define ws_recv dill_ws_recv
#define ws_sendl dill_ws_sendl
#define ws_recvl dill_ws_recvl
#define ws_done dill_ws_done
#define ws_detach dill_ws_detach
#define ws_status dill_ws_status
#define ws_request_key dill_ws_request_key
#define ws_response_key dill_ws_response_key
#endif

#endif  /* LIBDILL_H_INCLUDED */
