/* The portable context switch (see fallback.rs). Built without
   _FORTIFY_SOURCE: its longjmp check rejects jumps to another stack. */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <stddef.h>

/* The C library's siglongjmp, unless a sanitizer's interceptor takes its
   name: ASan's unpoisons the stack being left above the stack pointer (its
   frames are done, for a longjmp), which for a switch wipes the redzones
   of a coroutine that is only suspended. */
static void (*jump)(sigjmp_buf, int) = siglongjmp;

__attribute__((visibility("hidden")))
void dill_fallback_sanitized(void) {
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    void *f = libc ? dlsym(libc, "siglongjmp") : NULL;
    if(f) jump = (void (*)(sigjmp_buf, int))f;
    if(libc) dlclose(libc);
}

__attribute__((visibility("hidden")))
void dill_fallback_switch(sigjmp_buf *from, sigjmp_buf *to) {
    if(!sigsetjmp(*from, 0))
        jump(*to, 1);
}

__attribute__((visibility("hidden"), noreturn))
void dill_fallback_jump(sigjmp_buf *to) {
    jump(*to, 1);
    __builtin_unreachable();
}
