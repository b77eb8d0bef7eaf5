//! WebSocket, 2.14's way: the 2.6 socket of `proto::ws` under dill_ names,
//! except that a peer's close frame is not answered by itself (the caller
//! answers with ws_done or ws_detach, which carry a status and a reason,
//! and ws_status tells what the peer sent), and that a failed attach
//! closes the socket it was given.

use super::storage::{dill_ws_storage, place};
use crate::core::{ctx, errno, handles};
use crate::ffi::ws as c26;
use crate::net::iol::iolist;
use crate::proto::ws::{self, Handshake, Ws};
use core::ffi::{c_char, c_int, c_void};
use core::ptr;

/// Bytes of 2.14's WebSocket storage: our object fits in it.
const WS_SIZE: usize = 176;
const _: () = assert!(core::mem::size_of::<Ws>() + core::mem::align_of::<Ws>() - 1 <= WS_SIZE);

fn attach(s: c_int, flags: c_int, hs: Handshake, mem: *mut dill_ws_storage, owned: bool, deadline: i64) -> c_int {
    let mem = if owned {
        ptr::null_mut()
    } else {
        match place::<Ws>(mem as *mut c_void, WS_SIZE) {
            Some(m) => m,
            None => return super::conn::fail_closing(s, libc::EINVAL),
        }
    };
    crate::ffi::with_ctx(|cx| {
        ws::attach(cx, s, flags, hs, mem, false, deadline).inspect_err(|_| {
            // 2.14 closes `s` whatever failed. A failed handshake closed it
            // already, with no wait since: its number is still free.
            let _ = handles::close(cx, s);
        })
    })
}

/// The client side of a WebSocket over byte stream `s`.
///
/// # Safety
/// `resource` and `host` NULL or C strings.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_attach_client(
    s: c_int,
    flags: c_int,
    resource: *const c_char,
    host: *const c_char,
    deadline: i64,
) -> c_int {
    attach(s, flags, Handshake::Client { resource, host }, ptr::null_mut(), true, deadline)
}

/// dill_ws_attach_client in caller storage.
///
/// # Safety
/// As dill_ws_attach_client; `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_attach_client_mem(
    s: c_int,
    flags: c_int,
    resource: *const c_char,
    host: *const c_char,
    mem: *mut dill_ws_storage,
    deadline: i64,
) -> c_int {
    attach(s, flags, Handshake::Client { resource, host }, mem, false, deadline)
}

/// The server side of a WebSocket over byte stream `s`; the client's
/// resource and host go into the buffers given.
///
/// # Safety
/// `resource` and `host` NULL or writable for their lengths.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_attach_server(
    s: c_int,
    flags: c_int,
    resource: *mut c_char,
    resourcelen: usize,
    host: *mut c_char,
    hostlen: usize,
    deadline: i64,
) -> c_int {
    let hs = Handshake::Server { resource, resourcelen, host, hostlen };
    attach(s, flags, hs, ptr::null_mut(), true, deadline)
}

/// dill_ws_attach_server in caller storage.
///
/// # Safety
/// As dill_ws_attach_server; `mem` must outlive the socket.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn dill_ws_attach_server_mem(
    s: c_int,
    flags: c_int,
    resource: *mut c_char,
    resourcelen: usize,
    host: *mut c_char,
    hostlen: usize,
    mem: *mut dill_ws_storage,
    deadline: i64,
) -> c_int {
    let hs = Handshake::Server { resource, resourcelen, host, hostlen };
    attach(s, flags, hs, mem, false, deadline)
}

/// Sends `len` bytes as one message of type `flags` (WS_BINARY, WS_TEXT).
///
/// # Safety
/// `buf` must be `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_send(s: c_int, flags: c_int, buf: *const c_void, len: usize, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::ws_send(s, flags, buf, len, deadline) }
}

/// Receives one message; its type goes to `*flags` if not NULL.
///
/// # Safety
/// `buf` must be `len` writable bytes; `flags` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_recv(s: c_int, flags: *mut c_int, buf: *mut c_void, len: usize, deadline: i64) -> libc::ssize_t {
    // SAFETY: the same contract.
    unsafe { c26::ws_recv(s, flags, buf, len, deadline) }
}

/// dill_ws_send from a list.
///
/// # Safety
/// The list and its buffers must be valid.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_sendl(s: c_int, flags: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::ws_sendl(s, flags, first, last, deadline) }
}

/// dill_ws_recv into a list.
///
/// # Safety
/// The list and its buffers must be valid; `flags` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_recvl(
    s: c_int,
    flags: *mut c_int,
    first: *mut iolist,
    last: *mut iolist,
    deadline: i64,
) -> libc::ssize_t {
    // SAFETY: the same contract.
    unsafe { c26::ws_recvl(s, flags, first, last, deadline) }
}

/// A close status (0: none, else 1000-4999 as RFC 6455 allows) and its
/// reason from the C arguments: EINVAL for what a close frame cannot carry.
///
/// # Safety
/// `buf` NULL or `len` readable bytes.
unsafe fn closing<'a>(status: c_int, buf: *const c_void, len: usize) -> Result<(u16, &'a [u8]), i32> {
    let Ok(status) = u16::try_from(status) else { return Err(libc::EINVAL) };
    if len == 0 {
        ws::check_close(status, &[])?;
        return Ok((status, &[]));
    }
    if buf.is_null() || len > ws::MAX_REASON {
        return Err(libc::EINVAL);
    }
    // SAFETY: `len` readable bytes (caller's contract).
    let reason = unsafe { core::slice::from_raw_parts(buf as *const u8, len) };
    ws::check_close(status, reason)?;
    Ok((status, reason))
}

/// Our half of the connection ends: a close frame with `status` and the
/// reason in `buf`.
///
/// # Safety
/// `buf` NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_done(s: c_int, status: c_int, buf: *const c_void, len: usize, deadline: i64) -> c_int {
    let w = match ws::get(s) {
        Ok(w) => w,
        Err(e) => return errno::fail(e),
    };
    // SAFETY: the same contract.
    let (status, reason) = match unsafe { closing(status, buf, len) } {
        Ok(c) => c,
        Err(e) => return errno::fail(e),
    };
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    crate::ffi::status(ws::done(cx, w, status, reason, deadline))
}

/// The closing handshake (our close frame with `status` and the reason in
/// `buf`, unless sent before); returns the underlying socket.
///
/// # Safety
/// `buf` NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_detach(s: c_int, status: c_int, buf: *const c_void, len: usize, deadline: i64) -> c_int {
    super::reuse_fifo();
    // SAFETY: the same contract.
    match unsafe { closing(status, buf, len) } {
        Ok((status, reason)) => crate::ffi::with_ctx(|cx| ws::detach(cx, s, status, reason, deadline)),
        // The socket goes even on error, like the original's.
        Err(e) => {
            if ws::get(s).is_ok() {
                return super::conn::fail_closing(s, e);
            }
            errno::fail(e)
        }
    }
}

/// The peer's close status (0: none) into `*status` and its reason into
/// `buf`; returns the reason's length. EAGAIN until the peer closed.
///
/// # Safety
/// `status` NULL or writable; `buf` NULL or `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_status(s: c_int, status: *mut c_int, buf: *mut c_void, len: usize) -> libc::ssize_t {
    if buf.is_null() && len > 0 {
        return errno::fail(libc::EINVAL) as libc::ssize_t;
    }
    let c = match ws::get(s).and_then(ws::peer_closing) {
        Ok(c) => c,
        Err(e) => return errno::fail(e) as libc::ssize_t,
    };
    let n = c.len as usize;
    if !buf.is_null() {
        if len < n {
            return errno::fail(libc::EMSGSIZE) as libc::ssize_t;
        }
        // SAFETY: `len` >= n writable bytes (caller's contract).
        unsafe { ptr::copy_nonoverlapping(c.reason.as_ptr(), buf as *mut u8, n) };
    }
    if !status.is_null() {
        // SAFETY: writable (caller's contract).
        unsafe { *status = c_int::from(c.status) };
    }
    n as libc::ssize_t
}

/// A fresh Sec-WebSocket-Key (WS_KEY_SIZE bytes).
///
/// # Safety
/// `request_key` NULL or WS_KEY_SIZE writable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_request_key(request_key: *mut c_char) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::ws_request_key(request_key) }
}

/// The Sec-WebSocket-Accept value for `request_key`.
///
/// # Safety
/// `request_key` NULL or a C string; `response_key` NULL or WS_KEY_SIZE
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_ws_response_key(request_key: *const c_char, response_key: *mut c_char) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::ws_response_key(request_key, response_key) }
}
