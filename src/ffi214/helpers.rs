//! Helpers: dill_now, dill_msleep, dill_fdin, dill_fdout, dill_fdclean
//! (as in 2.6).

use crate::ffi::{deadlines, fds};
use core::ffi::c_int;

/// Current time in milliseconds.
#[no_mangle]
pub extern "C" fn dill_now() -> i64 {
    deadlines::now()
}

/// Sleeps until `deadline`.
#[no_mangle]
pub extern "C" fn dill_msleep(deadline: i64) -> c_int {
    deadlines::msleep(deadline)
}

/// Waits until `fd` is readable.
#[no_mangle]
pub extern "C" fn dill_fdin(fd: c_int, deadline: i64) -> c_int {
    fds::fdin(fd, deadline)
}

/// Waits until `fd` is writable.
#[no_mangle]
pub extern "C" fn dill_fdout(fd: c_int, deadline: i64) -> c_int {
    fds::fdout(fd, deadline)
}

/// Forgets what the library knows of `fd`.
#[no_mangle]
pub extern "C" fn dill_fdclean(fd: c_int) -> c_int {
    fds::fdclean(fd)
}
