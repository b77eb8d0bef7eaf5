//! File descriptors: fdin, fdout, fdclean.

use core::ffi::c_int;
use crate::core::{ctx, fdwait};

/// Waits until `fd` is readable (or in error).
#[no_mangle]
pub extern "C" fn fdin(fd: c_int, deadline: i64) -> c_int {
    super::status(fdwait::wait(ctx::ctx(), fd, fdwait::IN, deadline))
}

/// Waits until `fd` is writable (or in error).
#[no_mangle]
pub extern "C" fn fdout(fd: c_int, deadline: i64) -> c_int {
    super::status(fdwait::wait(ctx::ctx(), fd, fdwait::OUT, deadline))
}

/// Drops what the library knows of `fd`; call it before closing the fd.
/// Coroutines still waiting on it fail with EBADF.
#[no_mangle]
pub extern "C" fn fdclean(fd: c_int) -> c_int {
    fdwait::clean(ctx::ctx(), fd);
    0
}
