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
        // The load below repeats `jump` on purpose: jumping there would
        // cost an extra branch on every switch.
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

/// A sanitizer runtime is present: nothing to do here, the switch calls
/// nothing it could intercept.
pub fn sanitized() {}

// The thread's context pointer, in initial-exec TLS. Rust's `thread_local!`
// in a shared library uses the general-dynamic model: a call to
// `__tls_get_addr` (a dozen instructions) on every API call. Initial-exec is
// two loads. It needs the library's TLS in the static TLS block: true when it
// is linked at start-up, and for a dlopen the 8 bytes fit glibc's surplus.
core::arch::global_asm!(
    ".section .tbss,\"awT\",@nobits",
    ".p2align 3",
    // Global (hidden: never exported) so that code in other codegen units,
    // as in debug builds, can reach it.
    ".globl dill_ctx_tls",
    ".hidden dill_ctx_tls",
    "dill_ctx_tls:",
    ".zero 8",
    ".type dill_ctx_tls, @object",
    ".size dill_ctx_tls, 8",
    ".text",
);

/// This thread's context pointer (null before first use).
#[inline(always)]
pub fn tls_get() -> *mut u8 {
    let p: *mut u8;
    // SAFETY: reads this thread's own 8-byte TLS slot defined above.
    unsafe {
        core::arch::asm!(
            "mov {p}, qword ptr [rip + dill_ctx_tls@GOTTPOFF]",
            "mov {p}, qword ptr fs:[{p}]",
            p = out(reg) p,
            options(nostack, readonly, preserves_flags),
        )
    };
    p
}

/// Sets this thread's context pointer.
#[inline(always)]
pub fn tls_set(v: *mut u8) {
    // SAFETY: writes this thread's own 8-byte TLS slot defined above.
    unsafe {
        core::arch::asm!(
            "mov {t}, qword ptr [rip + dill_ctx_tls@GOTTPOFF]",
            "mov qword ptr fs:[{t}], {v}",
            t = out(reg) _,
            v = in(reg) v,
            options(nostack, preserves_flags),
        )
    };
}

/// A valgrind client request (`valgrind.h`'s magic sequence): returns
/// valgrind's answer, or `default` when not running under valgrind, where the
/// sequence does nothing. Used only off the hot paths.
#[inline(never)]
pub fn valgrind_request(default: usize, req: usize, a1: usize, a2: usize) -> usize {
    let args: [usize; 6] = [req, a1, a2, 0, 0, 0];
    let mut res = default;
    // SAFETY: the rotations of rdi add up to 128 bits (a no-op) and
    // `xchg rbx, rbx` changes nothing; valgrind recognises the sequence and
    // reads the six words at rax, writing its answer to rdx.
    unsafe {
        core::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            in("rax") args.as_ptr(),
            inout("rdx") res,
            inout("rdi") 0usize => _,
            options(nostack),
        )
    };
    res
}
