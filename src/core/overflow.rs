//! Stack-overflow reporting. A coroutine that overflows its stack gets a
//! SIGSEGV; a handler on an alternate signal stack recognises the overflow
//! and says so on stderr before the process dies with the default SIGSEGV
//! action. Other faults go to whatever handler was installed before ours.
//!
//! An overflow is a fault in the running coroutine's guard, or, for a frame
//! larger than the guard, a fault near a stack pointer that has left the
//! stack downwards (by up to `REACH`): such a frame's first write lands
//! below the guard, in unmapped memory or another mapping's guard.

use core::mem::MaybeUninit;
use core::ptr;
use std::sync::Once;

static INSTALL: Once = Once::new();
static mut OLD: MaybeUninit<libc::sigaction> = MaybeUninit::uninit();
const ALT_STACK: usize = 64 * 1024;
/// How far below its stack a coroutine's stack pointer may be and still
/// count as overflowed: frames of up to this size.
const REACH: usize = 64 << 20;
/// How far below the stack pointer a faulting write may be: the red zone,
/// and stack probes made before the pointer moves.
const BELOW_SP: usize = 64 * 1024;

/// This thread's signal stack, when we installed it: disabled and unmapped
/// when dropped (the thread's context goes at thread exit).
pub struct AltStack(*mut libc::c_void);

/// Installs the process-wide handler (once) and, if the thread has none, a
/// signal stack for it.
pub fn install() -> Option<AltStack> {
    INSTALL.call_once(|| {
        // SAFETY: a plain sigaction call with a fully initialised struct; OLD is
        // written only here, before the handler can run.
        unsafe {
            let mut sa: libc::sigaction = core::mem::zeroed();
            sa.sa_sigaction = on_segv as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGSEGV, &sa, ptr::addr_of_mut!(OLD) as *mut libc::sigaction);
        }
    });
    // SAFETY: querying and, if none is set, installing this thread's signal
    // stack on memory we just mapped.
    unsafe {
        let mut cur: libc::stack_t = core::mem::zeroed();
        if libc::sigaltstack(ptr::null(), &mut cur) == 0 && cur.ss_flags & libc::SS_DISABLE == 0 {
            return None; // The thread already has one (the program's own).
        }
        let mem = libc::mmap(
            ptr::null_mut(),
            ALT_STACK,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if mem == libc::MAP_FAILED {
            return None;
        }
        let st = libc::stack_t { ss_sp: mem, ss_flags: 0, ss_size: ALT_STACK };
        if libc::sigaltstack(&st, ptr::null_mut()) != 0 {
            libc::munmap(mem, ALT_STACK);
            return None;
        }
        Some(AltStack(mem))
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: the signal stack is switched off before its memory goes; if
        // it is still ours and cannot be (we run on it), it is left alone.
        unsafe {
            let mut cur: libc::stack_t = core::mem::zeroed();
            if libc::sigaltstack(ptr::null(), &mut cur) != 0 {
                return;
            }
            if cur.ss_sp == self.0 && cur.ss_flags & libc::SS_DISABLE == 0 {
                let off = libc::stack_t { ss_sp: ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
                if libc::sigaltstack(&off, ptr::null_mut()) != 0 {
                    return;
                }
            }
            libc::munmap(self.0, ALT_STACK);
        }
    }
}

/// Is a fault at `addr`, with the stack pointer at `sp` (0 if unknown), an
/// overflow of a stack whose guard is [guard_lo, lo)?
fn is_overflow(addr: usize, sp: usize, guard_lo: usize, lo: usize) -> bool {
    if addr >= guard_lo && addr < lo {
        return true;
    }
    sp != 0 && sp < lo && lo - sp <= REACH && addr < lo && addr >= sp.saturating_sub(BELOW_SP)
}

/// The interrupted stack pointer, read from the signal's context.
fn stack_pointer(uc: *mut libc::c_void) -> usize {
    if uc.is_null() {
        return 0;
    }
    let uc = uc as *const libc::ucontext_t;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
    return unsafe { (*uc).uc_mcontext.gregs[libc::REG_RSP as usize] as usize };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: as above.
    return unsafe { (*uc).uc_mcontext.sp as usize };
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = uc;
        0
    }
}

extern "C" fn on_segv(_sig: i32, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    // SAFETY: info comes from the kernel for this SIGSEGV.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some((guard_lo, lo)) = crate::core::ctx::running_guard() {
        if is_overflow(addr, stack_pointer(uc), guard_lo, lo) {
            let mut buf = [0u8; 96];
            let msg = format_msg(&mut buf, addr);
            // SAFETY: write(2) is async-signal-safe; buf outlives the call.
            unsafe {
                libc::write(2, msg.as_ptr() as *const _, msg.len());
                libc::signal(libc::SIGSEGV, libc::SIG_DFL);
            }
            return; // The faulting access repeats and the default action ends us.
        }
    }
    // Not ours: put back the previous disposition and let the fault repeat.
    // SAFETY: OLD was filled by the sigaction call that installed us.
    unsafe { libc::sigaction(libc::SIGSEGV, ptr::addr_of!(OLD) as *const libc::sigaction, ptr::null_mut()) };
}

/// Formats the message without allocating (we are in a signal handler).
fn format_msg(buf: &mut [u8; 96], addr: usize) -> &[u8] {
    let head = b"libdill: coroutine stack overflow (fault at 0x";
    let mut n = 0;
    for &b in head {
        buf[n] = b;
        n += 1;
    }
    for i in (0..16).rev() {
        let d = ((addr >> (i * 4)) & 0xf) as u8;
        buf[n] = if d < 10 { b'0' + d } else { b'a' + d - 10 };
        n += 1;
    }
    for &b in b")\n" {
        buf[n] = b;
        n += 1;
    }
    &buf[..n]
}

#[cfg(test)]
mod tests {
    #[test]
    fn message_names_the_overflow_and_address() {
        let mut buf = [0u8; 96];
        let m = super::format_msg(&mut buf, 0xdead_beef);
        let s = core::str::from_utf8(m).unwrap();
        assert_eq!(s, "libdill: coroutine stack overflow (fault at 0x00000000deadbeef)\n");
    }

    #[test]
    fn overflow_is_the_guard_or_a_stack_pointer_below_the_stack() {
        use super::is_overflow;
        let lo: usize = 1 << 40;
        let glo = lo - 0x1_0000;
        assert!(is_overflow(glo, 0, glo, lo));
        assert!(is_overflow(lo - 1, lo + 100, glo, lo));
        assert!(!is_overflow(glo - 1, 0, glo, lo));
        // A 1 MiB frame: far below the guard, next to the stack pointer.
        assert!(is_overflow(lo - (1 << 20), lo - (1 << 20), glo, lo));
        assert!(is_overflow(lo - (1 << 20) - 8, lo - (1 << 20), glo, lo));
        // The stack pointer still in the stack: a stray pointer, not ours.
        assert!(!is_overflow(lo - (1 << 20), lo + 64, glo, lo));
        // A fault far from the stack pointer, or a stack pointer elsewhere.
        assert!(!is_overflow(0x10, lo - (1 << 20), glo, lo));
        assert!(!is_overflow(lo - (1 << 28), lo - (1 << 28), glo, lo));
        assert!(!is_overflow(lo + 4096, lo + 4096, glo, lo));
    }
}
