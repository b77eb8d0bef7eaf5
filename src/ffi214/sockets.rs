//! Generic sockets: dill_bsend/dill_brecv(l) and dill_msend/dill_mrecv(l).
//! Our TCP and IPC streams follow 2.14's rules (`net::stream214`: EBUSY for
//! a second sender or receiver, unbuffered IPC); anything else goes the
//! 2.6 way.

use crate::core::ctx;
use crate::ffi::{bsock, msock};
use crate::net::iol::iolist;
use crate::net::stream214;
use core::ffi::{c_int, c_void};
use core::ptr;

/// The call on our stream `s`, or None if `s` is something else.
fn on_stream(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64, send: bool) -> Option<c_int> {
    let cx = ctx::get().ok()?;
    let st = stream214::of(cx, s)?;
    Some(crate::ffi::status(stream214::io(cx, st, first, last, deadline, send)))
}

/// mrecvl on our UDP socket `s` (2.14 drops datagrams from others than its
/// remote), or None if `s` is something else.
fn on_udp(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> Option<libc::ssize_t> {
    let cx = ctx::get().ok()?;
    let u = crate::ffi::udp::udp_of(cx, s).ok()?;
    Some(match super::udp::recv(cx, u, ptr::null_mut(), first, last, deadline) {
        Ok(n) => n as libc::ssize_t,
        Err(e) => crate::core::errno::fail(e) as libc::ssize_t,
    })
}

/// `on_stream` for one buffer.
fn on_stream1(s: c_int, buf: *mut c_void, len: usize, deadline: i64, send: bool) -> Option<c_int> {
    let mut iol = iolist { iol_base: buf, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    let p: *mut iolist = &mut iol;
    on_stream(s, p, p, deadline, send)
}

/// Sends `len` bytes.
///
/// # Safety
/// `buf` must be `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_bsend(s: c_int, buf: *const c_void, len: usize, deadline: i64) -> c_int {
    if let Some(r) = on_stream1(s, buf as *mut c_void, len, deadline, true) {
        return r;
    }
    // SAFETY: the same contract.
    unsafe { bsock::bsend(s, buf, len, deadline) }
}

/// Receives exactly `len` bytes.
///
/// # Safety
/// `buf` must be `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_brecv(s: c_int, buf: *mut c_void, len: usize, deadline: i64) -> c_int {
    if let Some(r) = on_stream1(s, buf, len, deadline, false) {
        return r;
    }
    // SAFETY: the same contract.
    unsafe { bsock::brecv(s, buf, len, deadline) }
}

/// Sends the bytes of a list.
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn dill_bsendl(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    if let Some(r) = on_stream(s, first, last, deadline, true) {
        return r;
    }
    // SAFETY: the same contract.
    unsafe { bsock::bsendl(s, first, last, deadline) }
}

/// Fills the buffers of a list.
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn dill_brecvl(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    if let Some(r) = on_stream(s, first, last, deadline, false) {
        return r;
    }
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
    let mut iol = iolist { iol_base: buf, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    let p: *mut iolist = &mut iol;
    if let Some(r) = on_udp(s, p, p, deadline) {
        return r;
    }
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
    if let Some(r) = on_udp(s, first, last, deadline) {
        return r;
    }
    // SAFETY: the same contract.
    unsafe { msock::mrecvl(s, first, last, deadline) }
}
