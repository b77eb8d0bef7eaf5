//! Stack-overflow reporting. A coroutine that runs into its guard page gets a
//! SIGSEGV; a handler on an alternate signal stack recognises the guard page
//! of the running coroutine and says so on stderr before the process dies
//! with the default SIGSEGV action. Other faults go to whatever handler was
//! installed before ours.

use core::mem::MaybeUninit;
use core::ptr;
use std::sync::Once;

static INSTALL: Once = Once::new();
static mut OLD: MaybeUninit<libc::sigaction> = MaybeUninit::uninit();
const ALT_STACK: usize = 64 * 1024;

/// Installs the process-wide handler (once) and this thread's signal stack.
pub fn install() {
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
    // stack on memory that is never freed (threads are few, 64 KiB each).
    unsafe {
        let mut cur: libc::stack_t = core::mem::zeroed();
        if libc::sigaltstack(ptr::null(), &mut cur) == 0 && cur.ss_flags & libc::SS_DISABLE == 0 {
            return; // The thread already has one (the program's own).
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
            return;
        }
        let st = libc::stack_t { ss_sp: mem, ss_flags: 0, ss_size: ALT_STACK };
        libc::sigaltstack(&st, ptr::null_mut());
    }
}

extern "C" fn on_segv(_sig: i32, info: *mut libc::siginfo_t, _uc: *mut libc::c_void) {
    // SAFETY: info comes from the kernel for this SIGSEGV.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some((lo, hi)) = crate::core::ctx::running_guard() {
        // A fault up to a page below the guard still means overflow: large
        // frames can step over the guard's first bytes.
        if addr >= lo.saturating_sub(hi - lo) && addr < hi {
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
}
