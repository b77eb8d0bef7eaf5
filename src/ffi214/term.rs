//! TERM (2.14's terminal handshake over a message socket): dill_term_attach
//! (_mem), dill_term_done, dill_term_detach.

use super::storage::{place, dill_term_storage};
use crate::proto::term::{self, Term};
use core::ffi::{c_int, c_void};

/// Bytes of 2.14's TERM storage: our object fits in it (the terminal
/// message is allocated).
const TERM_SIZE: usize = term::SIZE214;

/// The terminal message the caller gave, or EINVAL (the socket is closed
/// then, as the original).
///
/// # Safety
/// `buf` is `len` readable bytes or NULL.
unsafe fn message<'a>(s: c_int, buf: *const c_void, len: usize) -> Option<&'a [u8]> {
    if len > term::MAX || (len > 0 && buf.is_null()) {
        super::conn::fail_closing(s, libc::EINVAL);
        return None;
    }
    if len == 0 {
        return Some(&[]);
    }
    // SAFETY: per the contract.
    Some(unsafe { core::slice::from_raw_parts(buf as *const u8, len) })
}

/// A TERM socket on message socket `s`, with terminal message `buf`.
///
/// # Safety
/// `buf` is `len` readable bytes or NULL.
#[no_mangle]
pub unsafe extern "C" fn dill_term_attach(s: c_int, buf: *const c_void, len: usize) -> c_int {
    // SAFETY: the same contract.
    let Some(m) = (unsafe { message(s, buf, len) }) else { return -1 };
    crate::ffi::with_ctx(|cx| term::attach(cx, s, m, core::ptr::null_mut()))
}

/// dill_term_attach in caller storage.
///
/// # Safety
/// As dill_term_attach; `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn dill_term_attach_mem(s: c_int, buf: *const c_void, len: usize, mem: *mut dill_term_storage) -> c_int {
    let Some(mem) = place::<Term>(mem as *mut c_void, TERM_SIZE) else {
        return super::conn::fail_closing(s, libc::EINVAL);
    };
    // SAFETY: the same contract.
    let Some(m) = (unsafe { message(s, buf, len) }) else { return -1 };
    crate::ffi::with_ctx(|cx| term::attach(cx, s, m, mem))
}

/// Sends our terminal message: we send no more.
#[no_mangle]
pub extern "C" fn dill_term_done(s: c_int, deadline: i64) -> c_int {
    crate::ffi::with_ctx(|cx| term::done(cx, s, deadline).map(|()| 0))
}

/// The terminal handshake, then the socket below back.
#[no_mangle]
pub extern "C" fn dill_term_detach(s: c_int, deadline: i64) -> c_int {
    super::reuse_fifo();
    crate::ffi::with_ctx(|cx| term::detach(cx, s, deadline))
}
