//! Portable context switch: the C library's sigsetjmp/siglongjmp, which is
//! what the header's fallback `go()` uses to save the caller. A function that
//! returns twice cannot be written in Rust, so the two-line switch lives in
//! `fallback.c`, compiled by build.rs.

use core::cell::Cell;

/// Room for a `sigjmp_buf` on any Linux architecture (glibc's largest is
/// well under 512 bytes).
#[repr(C, align(16))]
pub struct Regs(pub [u8; 512]);

impl Regs {
    pub const fn new() -> Self {
        Regs([0; 512])
    }
}

extern "C" {
    fn dill_fallback_switch(from: *mut Regs, to: *const Regs);
    fn dill_fallback_jump(to: *const Regs) -> !;
    fn dill_fallback_sanitized();
}

/// A sanitizer runtime is present: switch with the C library's siglongjmp
/// rather than the runtime's interceptor (see fallback.c). Once, at start.
pub fn sanitized() {
    // SAFETY: no preconditions; called before any switch.
    unsafe { dill_fallback_sanitized() }
}

/// Saves the current context into `from` and resumes `to`.
///
/// # Safety
/// As for the x86-64 switch: `to` holds a live saved context.
pub unsafe extern "C" fn switch(from: *mut Regs, to: *const Regs) {
    // SAFETY: per the contract above.
    unsafe { dill_fallback_switch(from, to) }
}

/// Resumes `to` without saving anything.
///
/// # Safety
/// As for `switch`; the current stack is abandoned.
#[inline]
pub unsafe fn jump(to: *const Regs) -> ! {
    // SAFETY: per the contract above.
    unsafe { dill_fallback_jump(to) }
}

thread_local! {
    static SLOT: Cell<*mut u8> = const { Cell::new(core::ptr::null_mut()) };
}

/// This thread's context pointer (null before first use).
#[inline]
pub fn tls_get() -> *mut u8 {
    SLOT.try_with(|s| s.get()).unwrap_or(core::ptr::null_mut())
}

/// Sets this thread's context pointer.
#[inline]
pub fn tls_set(v: *mut u8) {
    let _ = SLOT.try_with(|s| s.set(v));
}

/// Valgrind client requests are not issued on this path: the answer is
/// always `default` (valgrind may then report false positives on coroutine
/// stacks).
#[inline]
pub fn valgrind_request(default: usize, _req: usize, _a1: usize, _a2: usize) -> usize {
    default
}
