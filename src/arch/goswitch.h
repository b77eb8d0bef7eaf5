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
