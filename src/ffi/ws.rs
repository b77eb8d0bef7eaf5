//! WebSocket: ws_attach_client/server (and _mem), ws_send(l), ws_recv(l),
//! ws_detach, ws_request_key, ws_response_key.

use crate::core::{ctx, errno};
use crate::net::iol::iolist;
use crate::proto::ws::{self, Handshake, Ws, KEY_SIZE, WS_TEXT};
use core::ffi::{c_char, c_int, c_void, CStr};
use core::ptr;

fn attach(s: c_int, flags: c_int, hs: Handshake, mem: *mut c_void, deadline: i64) -> c_int {
    super::with_ctx(|cx| ws::attach(cx, s, flags, hs, mem, true, deadline))
}

/// The client side of a WebSocket over byte stream `s`.
///
/// # Safety
/// `resource` and `host` NULL or C strings.
#[no_mangle]
pub unsafe extern "C" fn ws_attach_client(
    s: c_int,
    flags: c_int,
    resource: *const c_char,
    host: *const c_char,
    deadline: i64,
) -> c_int {
    attach(s, flags, Handshake::Client { resource, host }, ptr::null_mut(), deadline)
}

/// ws_attach_client in caller memory of WS_SIZE bytes.
///
/// # Safety
/// As ws_attach_client; `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn ws_attach_client_mem(
    s: c_int,
    flags: c_int,
    resource: *const c_char,
    host: *const c_char,
    mem: *mut c_void,
    deadline: i64,
) -> c_int {
    let Some(mem) = super::caller_mem::<Ws>(mem) else { return errno::fail(libc::EINVAL) };
    attach(s, flags, Handshake::Client { resource, host }, mem, deadline)
}

/// The server side of a WebSocket over byte stream `s`; the client's
/// resource and host are stored in the buffers given.
///
/// # Safety
/// `resource` and `host` NULL or writable for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ws_attach_server(
    s: c_int,
    flags: c_int,
    resource: *mut c_char,
    resourcelen: usize,
    host: *mut c_char,
    hostlen: usize,
    deadline: i64,
) -> c_int {
    attach(s, flags, Handshake::Server { resource, resourcelen, host, hostlen }, ptr::null_mut(), deadline)
}

/// ws_attach_server in caller memory of WS_SIZE bytes.
///
/// # Safety
/// As ws_attach_server; `mem` must outlive the socket.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ws_attach_server_mem(
    s: c_int,
    flags: c_int,
    resource: *mut c_char,
    resourcelen: usize,
    host: *mut c_char,
    hostlen: usize,
    mem: *mut c_void,
    deadline: i64,
) -> c_int {
    let Some(mem) = super::caller_mem::<Ws>(mem) else { return errno::fail(libc::EINVAL) };
    attach(s, flags, Handshake::Server { resource, resourcelen, host, hostlen }, mem, deadline)
}

/// WS_TEXT or WS_BINARY (0) as "is text"; anything else is EINVAL.
pub(crate) fn msg_type(flags: c_int) -> Result<bool, i32> {
    match flags {
        0 => Ok(false),
        WS_TEXT => Ok(true),
        _ => Err(libc::EINVAL),
    }
}

/// Sends the list as one message of type `flags`.
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn ws_sendl(s: c_int, flags: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    let w = match ws::get(s) {
        Ok(w) => w,
        Err(e) => return errno::fail(e),
    };
    let text = match msg_type(flags) {
        Ok(t) => t,
        Err(e) => return errno::fail(e),
    };
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    super::status(ws::send(cx, w, text, first, last, deadline))
}

/// Sends `len` bytes as one message of type `flags`.
///
/// # Safety
/// `buf` must be `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ws_send(s: c_int, flags: c_int, buf: *const c_void, len: usize, deadline: i64) -> c_int {
    let mut iol = iolist { iol_base: buf as *mut c_void, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    // SAFETY: a one-piece list over the caller's buffer.
    unsafe { ws_sendl(s, flags, &mut iol, &mut iol, deadline) }
}

/// Receives one message into the list; returns its size and stores its
/// type (WS_TEXT or WS_BINARY) in `*flags` if not NULL.
///
/// # Safety
/// The list and its buffers must be valid; `flags` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ws_recvl(
    s: c_int,
    flags: *mut c_int,
    first: *mut iolist,
    last: *mut iolist,
    deadline: i64,
) -> libc::ssize_t {
    let w = match ws::get(s) {
        Ok(w) => w,
        Err(e) => return errno::fail(e) as libc::ssize_t,
    };
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) as libc::ssize_t };
    match ws::recv(cx, w, first, last, deadline) {
        Ok((n, text)) => {
            if !flags.is_null() {
                // SAFETY: writable (caller's contract).
                unsafe { *flags = if text { WS_TEXT } else { 0 } };
            }
            n as libc::ssize_t
        }
        Err(e) => errno::fail(e) as libc::ssize_t,
    }
}

/// Receives one message of at most `len` bytes; returns its size.
///
/// # Safety
/// `buf` must be `len` writable bytes; `flags` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ws_recv(s: c_int, flags: *mut c_int, buf: *mut c_void, len: usize, deadline: i64) -> libc::ssize_t {
    let mut iol = iolist { iol_base: buf, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    // SAFETY: a one-piece list over the caller's buffer.
    unsafe { ws_recvl(s, flags, &mut iol, &mut iol, deadline) }
}

/// The closing handshake; returns the underlying socket.
#[no_mangle]
pub extern "C" fn ws_detach(s: c_int, deadline: i64) -> c_int {
    super::with_ctx(|cx| ws::detach(cx, s, 1000, &[], deadline))
}

/// A fresh Sec-WebSocket-Key in `request_key` (WS_KEY_SIZE bytes).
///
/// # Safety
/// `request_key` NULL or WS_KEY_SIZE writable bytes.
#[no_mangle]
pub unsafe extern "C" fn ws_request_key(request_key: *mut c_char) -> c_int {
    if request_key.is_null() {
        return errno::fail(libc::EINVAL);
    }
    let mut k = [0u8; KEY_SIZE];
    if let Err(e) = ws::request_key(&mut k) {
        return errno::fail(e);
    }
    // SAFETY: WS_KEY_SIZE writable bytes (caller's contract).
    unsafe { ptr::copy_nonoverlapping(k.as_ptr(), request_key as *mut u8, KEY_SIZE) };
    0
}

/// The Sec-WebSocket-Accept value for `request_key` in `response_key`
/// (WS_KEY_SIZE bytes).
///
/// # Safety
/// `request_key` NULL or a C string; `response_key` NULL or WS_KEY_SIZE
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn ws_response_key(request_key: *const c_char, response_key: *mut c_char) -> c_int {
    if request_key.is_null() || response_key.is_null() {
        return errno::fail(libc::EINVAL);
    }
    // SAFETY: a C string (caller's contract).
    let req = unsafe { CStr::from_ptr(request_key) }.to_bytes();
    let mut k = [0u8; KEY_SIZE];
    if let Err(e) = ws::response_key(req, &mut k) {
        return errno::fail(e);
    }
    // SAFETY: WS_KEY_SIZE writable bytes (caller's contract).
    unsafe { ptr::copy_nonoverlapping(k.as_ptr(), response_key as *mut u8, KEY_SIZE) };
    0
}
