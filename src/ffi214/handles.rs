//! Handles: dill_hown, dill_hclose (2.14 has no hdup: one number per
//! object, and hown moves it).

use crate::core::{chan, ctx, errno, handles};
use core::ffi::c_int;

/// Closes the object behind `h` (2.14 has one handle per object).
#[no_mangle]
pub extern "C" fn dill_hclose(h: c_int) -> c_int {
    super::reuse_fifo();
    if let Ok(cx) = ctx::get() {
        if let Some(vfs) = cx.handles().get(h) {
            // Waiters on the last end of a channel learn it ended (EPIPE).
            chan::fail_at_last_close(cx, vfs);
        }
    }
    crate::ffi::handles::hclose(h)
}

/// A new number for the object behind `h`; `h` becomes invalid. When no
/// new number can be had, the object is closed and -1 returned.
#[no_mangle]
pub extern "C" fn dill_hown(h: c_int) -> c_int {
    super::reuse_fifo();
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    match handles::dup(cx, h) {
        Ok(h2) => {
            // The old number goes without closing anything: the object is
            // h2's now.
            if let Some(vfs) = cx.handles().remove(h) {
                // SAFETY: vfs is live: h2 names it.
                unsafe { (*vfs).refcount -= 1 };
            }
            h2
        }
        Err(libc::EBADF) => errno::fail(libc::EBADF),
        Err(e) => {
            let _ = handles::close(cx, h);
            errno::fail(e)
        }
    }
}
