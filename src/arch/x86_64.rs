//! x86-64 context switch.
//!
//! A context is eight words: rbx, rbp, r12, r13, r14, r15, rsp and the address
//! to resume at, in that order (byte offsets 0..56). This is the layout the
//! header's `dill_setjmp` writes inline into C callers, so contexts saved by C
//! code and by this module are interchangeable. Resuming sets eax to 1 and rdx
//! to the context's address: C code that saved the context with `rdx` as its
//! input operand may rely on rdx still holding it afterwards.

use core::arch::naked_asm;

/// A saved context. The C side sees it through a `sigjmp_buf *`, of which only
/// the first 64 bytes are used.
#[repr(C, align(16))]
pub struct Regs(pub [u64; 8]);

impl Regs {
    pub const fn new() -> Self {
        Regs([0; 8])
    }
}

/// Saves the current context into `from` and resumes `to`. Returns when
/// something resumes `from`.
///
/// # Safety
/// `to` must hold a context saved by `switch` or by the header's inline save,
/// whose stack is still alive; `from` must stay valid until it is resumed.
#[unsafe(naked)]
pub unsafe extern "C" fn switch(from: *mut Regs, to: *const Regs) {
    // SAFETY: only callee-saved registers are kept; everything else is
    // clobbered as in any call. The saved rsp is the one after our return.
    naked_asm!(
        "mov [rdi], rbx",
        "mov [rdi + 8], rbp",
        "mov [rdi + 16], r12",
        "mov [rdi + 24], r13",
        "mov [rdi + 32], r14",
        "mov [rdi + 40], r15",
        "lea rax, [rsp + 8]",
        "mov [rdi + 48], rax",
        "mov rax, [rsp]",
        "mov [rdi + 56], rax",
        "mov rdx, rsi",
        "mov rbx, [rdx]",
        "mov rbp, [rdx + 8]",
        "mov r12, [rdx + 16]",
        "mov r13, [rdx + 24]",
        "mov r14, [rdx + 32]",
        "mov r15, [rdx + 40]",
        "mov rsp, [rdx + 48]",
        "mov eax, 1",
        "jmp qword ptr [rdx + 56]",
    )
}

/// Resumes `to` without saving anything: used by a finished coroutine.
///
/// # Safety
/// As for `switch`; the current stack is abandoned.
#[unsafe(naked)]
pub unsafe extern "C" fn jump(to: *const Regs) -> ! {
    // SAFETY: see `switch`.
    naked_asm!(
        "mov rdx, rdi",
        "mov rbx, [rdx]",
        "mov rbp, [rdx + 8]",
        "mov r12, [rdx + 16]",
        "mov r13, [rdx + 24]",
        "mov r14, [rdx + 32]",
        "mov r15, [rdx + 40]",
        "mov rsp, [rdx + 48]",
        "mov eax, 1",
        "jmp qword ptr [rdx + 56]",
    )
}
