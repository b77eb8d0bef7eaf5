//! Byte-stream sockets: bsend, brecv, bsendl, brecvl. Our own TCP and IPC
//! connections are served directly; other handles through the `bsock_vfs`
//! their `hquery` returns.

use crate::core::ctx::{self, Ctx};
use crate::core::errno;
use crate::ffi::handles::hquery;
use crate::net::iol::iolist;
use crate::net::stream;
use crate::net::vfs::{bsock_id, bsock_vfs};
use core::ffi::{c_int, c_void};
use core::ptr;

fn call(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64, send: bool) -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    let Some(vfs) = cx.handles().get(s) else { return errno::fail(libc::EBADF) };
    if let Some(st) = stream::as_stream(vfs, 0) {
        // SAFETY: the running coroutine is live.
        if !unsafe { (*cx.me()).can_block() } {
            return errno::fail(libc::ECANCELED);
        }
        let e = if send {
            stream::send(cx, st, first, last, deadline)
        } else {
            stream::recv(cx, st, first, last, deadline)
        };
        return super::status(e);
    }
    let b = hquery(s, bsock_id()) as *mut bsock_vfs;
    if b.is_null() {
        return -1; // hquery set errno.
    }
    // Both null asks a receiving socket to drop everything to the end.
    let none = first.is_null() && last.is_null();
    // SAFETY: a non-null last is a valid iolist (caller's contract).
    if (none && send) || (!none && (first.is_null() || last.is_null() || unsafe { !(*last).iol_next.is_null() })) {
        return errno::fail(libc::EINVAL);
    }
    // SAFETY: b is the interface the object handed out; its functions follow it.
    unsafe {
        let f = if send { (*b).bsendl } else { (*b).brecvl };
        match f {
            Some(f) => f(b, first, last, deadline),
            None => errno::fail(libc::ENOTSUP),
        }
    }
}

/// bsendl/brecvl on handle `s` for the protocols stacked on it: 0 or an
/// errno (errno itself is left alone on our own streams). The caller has
/// checked the list. Our TCP/IPC streams are served in place, others
/// through their `bsock_vfs`.
#[inline]
pub(crate) fn io(cx: &Ctx, s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64, send: bool) -> i32 {
    let Some(vfs) = cx.handles().get(s) else { return libc::EBADF };
    if let Some(st) = stream::as_stream(vfs, 0) {
        // SAFETY: the running coroutine is live.
        if !unsafe { (*cx.me()).can_block() } {
            return libc::ECANCELED;
        }
        return if send {
            stream::send(cx, st, first, last, deadline)
        } else {
            stream::recv(cx, st, first, last, deadline)
        };
    }
    user_io(s, first, last, deadline, send)
}

/// `io` on a socket defined outside the library (kept out of line: the
/// common case is one of our streams).
#[inline(never)]
fn user_io(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64, send: bool) -> i32 {
    let b = hquery(s, bsock_id()) as *mut bsock_vfs;
    if b.is_null() {
        return errno::get();
    }
    // SAFETY: b is the interface the object handed out.
    let f = unsafe { if send { (*b).bsendl } else { (*b).brecvl } };
    let Some(f) = f else { return libc::ENOTSUP };
    // SAFETY: the object's own function, called as libdillimpl.h says.
    if unsafe { f(b, first, last, deadline) } == 0 {
        return 0;
    }
    // A failure without an errno is still a failure.
    match errno::get() {
        0 => libc::ECONNRESET,
        e => e,
    }
}

fn single(s: c_int, buf: *mut c_void, len: usize, deadline: i64, send: bool) -> c_int {
    let mut iol = iolist { iol_base: buf, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    call(s, &mut iol, &mut iol, deadline, send)
}

/// Sends `len` bytes; all of them, or fails.
///
/// # Safety
/// `buf` must be `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bsend(s: c_int, buf: *const c_void, len: usize, deadline: i64) -> c_int {
    single(s, buf as *mut c_void, len, deadline, true)
}

/// Receives exactly `len` bytes, or fails.
///
/// # Safety
/// `buf` must be `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn brecv(s: c_int, buf: *mut c_void, len: usize, deadline: i64) -> c_int {
    single(s, buf, len, deadline, false)
}

/// Sends the bytes of the list `first`..`last`.
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn bsendl(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    call(s, first, last, deadline, true)
}

/// Fills the list `first`..`last` (null bases skip bytes).
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn brecvl(s: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    call(s, first, last, deadline, false)
}
