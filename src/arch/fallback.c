/* The portable context switch (see fallback.rs). Built without
   _FORTIFY_SOURCE: its longjmp check rejects jumps to another stack. */
#undef _FORTIFY_SOURCE
#include <setjmp.h>

__attribute__((visibility("hidden")))
void dill_fallback_switch(sigjmp_buf *from, sigjmp_buf *to) {
    if(!sigsetjmp(*from, 0))
        siglongjmp(*to, 1);
}

__attribute__((visibility("hidden"), noreturn))
void dill_fallback_jump(sigjmp_buf *to) {
    siglongjmp(*to, 1);
}
