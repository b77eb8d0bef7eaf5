//! Message sockets: msend, mrecv, msendl, mrecvl, through the `msock_vfs`
//! a handle's `hquery` returns (ours: UDP).

use crate::core::errno;
use crate::ffi::handles::hquery;
use crate::net::iol::iolist;
use crate::net::vfs::{msock_id, msock_vfs};
use core::ffi::{c_int, c_void};
use core::ptr;

fn vfs(s: c_int) -> Option<*mut msock_vfs> {
    let m = hquery(s, msock_id()) as *mut msock_vfs;
    if m.is_null() { None } else { Some(m) }
}

/// The generic check of a list: `last` ends it. Both null is allowed for
/// receiving (the message is dropped), not for sending.
fn list_ok(first: *mut iolist, last: *mut iolist, recv: bool) -> bool {
    if first.is_null() && last.is_null() {
        return recv;
    }
    // SAFETY: a non-null last is a valid iolist (caller's contract).
    !first.is_null() && !last.is_null() && unsafe { (*last).iol_next.is_null() }
}

/// Sends the list as one message.
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn msendl(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    let Some(m) = vfs(s) else { return -1 };
    if !list_ok(first, last, false) {
        return errno::fail(libc::EINVAL);
    }
    // SAFETY: the object's own interface.
    match unsafe { (*m).msendl } {
        Some(f) => unsafe { f(m, first, last, deadline) },
        None => errno::fail(libc::ENOTSUP),
    }
}

/// Receives one message into the list; returns its size.
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn mrecvl(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> libc::ssize_t {
    let Some(m) = vfs(s) else { return -1 };
    if !list_ok(first, last, true) {
        return errno::fail(libc::EINVAL) as libc::ssize_t;
    }
    // SAFETY: the object's own interface.
    match unsafe { (*m).mrecvl } {
        Some(f) => unsafe { f(m, first, last, deadline) },
        None => errno::fail(libc::ENOTSUP) as libc::ssize_t,
    }
}

/// Sends `len` bytes as one message.
///
/// # Safety
/// `buf` must be `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn msend(s: c_int, buf: *const c_void, len: usize, deadline: i64) -> c_int {
    let mut iol = iolist { iol_base: buf as *mut c_void, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    // SAFETY: a one-piece list over the caller's buffer.
    unsafe { msendl(s, &mut iol, &mut iol, deadline) }
}

/// Receives one message of at most `len` bytes; returns its size.
///
/// # Safety
/// `buf` must be `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mrecv(s: c_int, buf: *mut c_void, len: usize, deadline: i64) -> libc::ssize_t {
    let mut iol = iolist { iol_base: buf, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    // SAFETY: a one-piece list over the caller's buffer.
    unsafe { mrecvl(s, &mut iol, &mut iol, deadline) }
}
