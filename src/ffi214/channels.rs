//! Channels: dill_chmake, dill_chmake_mem, dill_chsend, dill_chrecv,
//! dill_choose as in 2.6, and dill_chdone, 2.14's own half-close.

use super::storage::dill_chstorage;
use crate::core::{chan, ctx, errno};
use crate::ffi::channels::{self as c26, chclause};
use core::ffi::{c_int, c_void};

/// Creates a channel; its two ends go to `chv[0]` and `chv[1]`.
///
/// # Safety
/// `chv` must point to two writable ints.
#[no_mangle]
pub unsafe extern "C" fn dill_chmake(chv: *mut c_int) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::chmake(chv) }
}

/// Creates a channel in `mem`.
///
/// # Safety
/// `mem` must be a writable `struct dill_chstorage` that outlives the
/// channel; `chv` must point to two writable ints.
#[no_mangle]
pub unsafe extern "C" fn dill_chmake_mem(mem: *mut dill_chstorage, chv: *mut c_int) -> c_int {
    // SAFETY: the same contract; the storage has 2.6's CHSIZE.
    unsafe { c26::chmake_mem(mem as *mut c_void, chv) }
}

/// Sends `len` bytes at `val` through channel end `ch`.
///
/// # Safety
/// `val` must be `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_chsend(ch: c_int, val: *const c_void, len: usize, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::chsend(ch, val, len, deadline) }
}

/// Receives `len` bytes into `val` from channel end `ch`.
///
/// # Safety
/// `val` must be `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_chrecv(ch: c_int, val: *mut c_void, len: usize, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::chrecv(ch, val, len, deadline) }
}

/// No more messages will be sent through `ch`: receivers at the other end
/// (waiting or to come) and senders fail with EPIPE.
#[no_mangle]
pub extern "C" fn dill_chdone(ch: c_int) -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    match c26::half_of(cx, ch) {
        Ok(h) => crate::ffi::status(chan::done(cx, h)),
        Err(e) => errno::fail(e),
    }
}

/// Performs the first of `clauses` that can be done.
///
/// # Safety
/// `clauses` must point to `nclauses` valid clauses.
#[no_mangle]
pub unsafe extern "C" fn dill_choose(clauses: *mut chclause, nclauses: c_int, deadline: i64) -> c_int {
    // SAFETY: the same contract; struct dill_chclause is 2.6's chclause.
    unsafe { c26::choose(clauses, nclauses, deadline) }
}
