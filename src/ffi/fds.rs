//! File descriptors: fdin, fdout, fdclean.

use core::ffi::c_int;
use crate::core::{ctx, fdwait};

/// Waits until `fd` is readable (or in error).
#[no_mangle]
pub extern "C" fn fdin(fd: c_int, deadline: i64) -> c_int {
    super::status(ctx::get().map_or_else(|e| e, |cx| fdwait::wait(cx, fd, fdwait::IN, deadline)))
}

/// Waits until `fd` is writable (or in error).
#[no_mangle]
pub extern "C" fn fdout(fd: c_int, deadline: i64) -> c_int {
    super::status(ctx::get().map_or_else(|e| e, |cx| fdwait::wait(cx, fd, fdwait::OUT, deadline)))
}

/// Drops what the library knows of `fd`; call it before closing the fd.
/// Coroutines still waiting on it fail with EBADF.
#[no_mangle]
pub extern "C" fn fdclean(fd: c_int) -> c_int {
    // Without a context the thread knows nothing of any fd.
    if let Ok(cx) = ctx::get() {
        fdwait::clean(cx, fd);
    }
    0
}
