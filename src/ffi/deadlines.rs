//! Deadlines: now, msleep.

use core::ffi::c_int;
use crate::core::cr::{FIRED_CANCEL, FIRED_TIMEOUT};
use crate::core::{clock, ctx, errno, sched};

/// Current time in milliseconds, for building deadlines.
#[no_mangle]
pub extern "C" fn now() -> i64 {
    clock::now_ms()
}

/// Sleeps until `deadline` (-1: until canceled).
#[no_mangle]
pub extern "C" fn msleep(deadline: i64) -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return super::status(libc::ECANCELED);
    }
    if deadline == 0 {
        // Sleeping until "now" is a yield, errno 0 included, as the original.
        return super::coroutines::r#yield();
    }
    match sched::wait(cx, deadline) {
        (FIRED_TIMEOUT, _) => 0,
        (FIRED_CANCEL, _) => super::status(libc::ECANCELED),
        (_, e) => super::status(e),
    }
}
