//! HTTP sockets: http_attach, http_attach_mem, http_detach and the
//! request, status and field calls. C strings in, NUL-terminated strings
//! out (the buffer sizes count the NUL).

use crate::core::{ctx, errno};
use crate::proto::http::{self, Http};
use core::ffi::{c_char, c_int, c_void, CStr};

/// The bytes of a C string; None for NULL.
///
/// # Safety
/// A non-null `s` is NUL-terminated.
unsafe fn text<'a>(s: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: per the contract.
    if s.is_null() { None } else { Some(unsafe { CStr::from_ptr(s) }.to_bytes()) }
}

/// A caller's output buffer; None for NULL.
///
/// # Safety
/// A non-null `p` has `len` writable bytes.
unsafe fn out<'a>(p: *mut c_char, len: usize) -> Option<&'a mut [u8]> {
    // SAFETY: per the contract.
    if p.is_null() { None } else { Some(unsafe { core::slice::from_raw_parts_mut(p as *mut u8, len) }) }
}

fn einval() -> c_int {
    errno::fail(libc::EINVAL)
}

/// An HTTP socket over byte stream `s`.
#[no_mangle]
pub extern "C" fn http_attach(s: c_int) -> c_int {
    super::ret(http::attach(ctx::ctx(), s, core::ptr::null_mut()))
}

/// http_attach in HTTP_SIZE bytes of caller memory.
///
/// # Safety
/// `mem` must be HTTP_SIZE writable bytes that outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn http_attach_mem(s: c_int, mem: *mut c_void) -> c_int {
    let Some(mem) = super::caller_mem::<Http>(mem) else { return einval() };
    super::ret(http::attach(ctx::ctx(), s, mem))
}

/// Ends the protocol and returns the underlying socket.
#[no_mangle]
pub extern "C" fn http_detach(s: c_int, deadline: i64) -> c_int {
    super::ret(http::detach(ctx::ctx(), s, deadline))
}

/// Sends `command resource HTTP/1.1`.
///
/// # Safety
/// Both strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn http_sendrequest(s: c_int, command: *const c_char, resource: *const c_char, deadline: i64) -> c_int {
    // SAFETY: the caller's strings.
    let (Some(c), Some(r)) = (unsafe { text(command) }, unsafe { text(resource) }) else { return einval() };
    super::ret(http::send_request(ctx::ctx(), s, c, r, deadline).map(|()| 0))
}

/// Receives the request line.
///
/// # Safety
/// The buffers have the given sizes.
#[no_mangle]
pub unsafe extern "C" fn http_recvrequest(
    s: c_int,
    command: *mut c_char,
    commandlen: usize,
    resource: *mut c_char,
    resourcelen: usize,
    deadline: i64,
) -> c_int {
    // SAFETY: the caller's buffers.
    let (Some(c), Some(r)) = (unsafe { out(command, commandlen) }, unsafe { out(resource, resourcelen) }) else {
        return einval();
    };
    super::ret(http::recv_request(ctx::ctx(), s, c, r, deadline).map(|_| 0))
}

/// Sends `HTTP/1.1 status reason`.
///
/// # Safety
/// `reason` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn http_sendstatus(s: c_int, status: c_int, reason: *const c_char, deadline: i64) -> c_int {
    // SAFETY: the caller's string.
    let Some(r) = (unsafe { text(reason) }) else { return einval() };
    super::ret(http::send_status(ctx::ctx(), s, status, r, deadline).map(|()| 0))
}

/// Receives the status line; returns the status code.
///
/// # Safety
/// `reason` has `reasonlen` bytes.
#[no_mangle]
pub unsafe extern "C" fn http_recvstatus(s: c_int, reason: *mut c_char, reasonlen: usize, deadline: i64) -> c_int {
    // SAFETY: the caller's buffer.
    let Some(r) = (unsafe { out(reason, reasonlen) }) else { return einval() };
    super::ret(http::recv_status(ctx::ctx(), s, r, deadline).map(|(code, _)| code))
}

/// Sends `name: value`.
///
/// # Safety
/// Both strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn http_sendfield(s: c_int, name: *const c_char, value: *const c_char, deadline: i64) -> c_int {
    // SAFETY: the caller's strings.
    let (Some(n), Some(v)) = (unsafe { text(name) }, unsafe { text(value) }) else { return einval() };
    super::ret(http::send_field(ctx::ctx(), s, n, v, deadline).map(|()| 0))
}

/// Receives a field; EPIPE after the last one.
///
/// # Safety
/// The buffers have the given sizes.
#[no_mangle]
pub unsafe extern "C" fn http_recvfield(
    s: c_int,
    name: *mut c_char,
    namelen: usize,
    value: *mut c_char,
    valuelen: usize,
    deadline: i64,
) -> c_int {
    // SAFETY: the caller's buffers.
    let (Some(n), Some(v)) = (unsafe { out(name, namelen) }, unsafe { out(value, valuelen) }) else {
        return einval();
    };
    super::ret(http::recv_field(ctx::ctx(), s, n, v, deadline).map(|_| 0))
}
