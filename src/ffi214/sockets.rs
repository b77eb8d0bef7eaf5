//! Generic sockets: dill_bsend/dill_brecv(l) and dill_msend/dill_mrecv(l),
//! as in 2.6.

use crate::ffi::{bsock, msock};
use crate::net::iol::iolist;
use core::ffi::{c_int, c_void};

/// Sends `len` bytes.
///
/// # Safety
/// `buf` must be `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_bsend(s: c_int, buf: *const c_void, len: usize, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { bsock::bsend(s, buf, len, deadline) }
}

/// Receives exactly `len` bytes.
///
/// # Safety
/// `buf` must be `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_brecv(s: c_int, buf: *mut c_void, len: usize, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { bsock::brecv(s, buf, len, deadline) }
}

/// Sends the bytes of a list.
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn dill_bsendl(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { bsock::bsendl(s, first, last, deadline) }
}

/// Fills the buffers of a list.
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn dill_brecvl(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { bsock::brecvl(s, first, last, deadline) }
}

/// Sends one message.
///
/// # Safety
/// `buf` must be `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_msend(s: c_int, buf: *const c_void, len: usize, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { msock::msend(s, buf, len, deadline) }
}

/// Receives one message; returns its size.
///
/// # Safety
/// `buf` must be `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_mrecv(s: c_int, buf: *mut c_void, len: usize, deadline: i64) -> libc::ssize_t {
    // SAFETY: the same contract.
    unsafe { msock::mrecv(s, buf, len, deadline) }
}

/// Sends a list as one message.
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn dill_msendl(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { msock::msendl(s, first, last, deadline) }
}

/// Receives one message into a list; returns its size.
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn dill_mrecvl(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> libc::ssize_t {
    // SAFETY: the same contract.
    unsafe { msock::mrecvl(s, first, last, deadline) }
}
