//! HTTP: the 2.6 calls under dill_ names, and 2.14's dill_http_done.

use super::storage::{dill_http_storage, place};
use crate::ffi::http as c26;
use crate::proto::http::{self, Http};
use core::ffi::{c_char, c_int, c_void};

/// Bytes of 2.14's HTTP storage: our object fits in it.
const HTTP_SIZE: usize = 1296;
const _: () = assert!(core::mem::size_of::<Http>() + core::mem::align_of::<Http>() - 1 <= HTTP_SIZE);

/// Starts HTTP on byte stream `s`.
#[no_mangle]
pub extern "C" fn dill_http_attach(s: c_int) -> c_int {
    c26::http_attach(s)
}

/// dill_http_attach in caller storage.
///
/// # Safety
/// `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn dill_http_attach_mem(s: c_int, mem: *mut dill_http_storage) -> c_int {
    // Aligned up inside the storage, where it always fits.
    let Some(m) = place::<Http>(mem as *mut c_void, HTTP_SIZE) else {
        return super::conn::fail_closing(s, libc::EINVAL);
    };
    // SAFETY: the same contract; m is aligned for Http.
    unsafe { c26::http_attach_mem(s, m) }
}

/// No more fields will be sent: ends the header with an empty line.
#[no_mangle]
pub extern "C" fn dill_http_done(s: c_int, deadline: i64) -> c_int {
    crate::ffi::with_ctx(|cx| http::done(cx, s, deadline).map(|()| 0))
}

/// Ends the protocol and returns the underlying socket.
#[no_mangle]
pub extern "C" fn dill_http_detach(s: c_int, deadline: i64) -> c_int {
    super::reuse_fifo();
    c26::http_detach(s, deadline)
}

/// Sends `command resource HTTP/1.1`.
///
/// # Safety
/// Both strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn dill_http_sendrequest(s: c_int, command: *const c_char, resource: *const c_char, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::http_sendrequest(s, command, resource, deadline) }
}

/// Receives a request line.
///
/// # Safety
/// The buffers must be writable for their lengths.
#[no_mangle]
pub unsafe extern "C" fn dill_http_recvrequest(
    s: c_int,
    command: *mut c_char,
    commandlen: usize,
    resource: *mut c_char,
    resourcelen: usize,
    deadline: i64,
) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::http_recvrequest(s, command, commandlen, resource, resourcelen, deadline) }
}

/// Sends a status line.
///
/// # Safety
/// `reason` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn dill_http_sendstatus(s: c_int, status: c_int, reason: *const c_char, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::http_sendstatus(s, status, reason, deadline) }
}

/// Receives a status line; returns the status code.
///
/// # Safety
/// `reason` writable for `reasonlen` bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_http_recvstatus(s: c_int, reason: *mut c_char, reasonlen: usize, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::http_recvstatus(s, reason, reasonlen, deadline) }
}

/// Sends a header field.
///
/// # Safety
/// Both strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn dill_http_sendfield(s: c_int, name: *const c_char, value: *const c_char, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::http_sendfield(s, name, value, deadline) }
}

/// Receives a header field (EPIPE after the last one).
///
/// # Safety
/// The buffers must be writable for their lengths.
#[no_mangle]
pub unsafe extern "C" fn dill_http_recvfield(
    s: c_int,
    name: *mut c_char,
    namelen: usize,
    value: *mut c_char,
    valuelen: usize,
    deadline: i64,
) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::http_recvfield(s, name, namelen, value, valuelen, deadline) }
}
