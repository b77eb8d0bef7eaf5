//! TLS: the 2.6 calls under dill_ names with 2.14's storage, and 2.14's
//! dill_tls_done.

use super::storage::{place, dill_tls_storage};
use crate::ffi::handles::hquery;
use crate::ffi::tls as c26;
use crate::proto::tls::{self, tls_id, Tls};
use core::ffi::{c_char, c_int, c_void};

/// Bytes of 2.14's TLS storage.
const TLS_SIZE: usize = tls::SIZE214;

/// Starts TLS as a server on `s` with the PEM files `cert` and `pkey`.
///
/// # Safety
/// `cert` and `pkey` are NUL-terminated strings or NULL.
#[no_mangle]
pub unsafe extern "C" fn dill_tls_attach_server(s: c_int, cert: *const c_char, pkey: *const c_char, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::tls_attach_server(s, cert, pkey, deadline) }
}

/// dill_tls_attach_server in caller storage (used when our object fits it).
///
/// # Safety
/// As dill_tls_attach_server; `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn dill_tls_attach_server_mem(
    s: c_int,
    cert: *const c_char,
    pkey: *const c_char,
    mem: *mut dill_tls_storage,
    deadline: i64,
) -> c_int {
    match place::<Tls>(mem as *mut c_void, TLS_SIZE) {
        None => super::conn::fail_closing(s, libc::EINVAL),
        // SAFETY: the same contract; the object is allocated.
        Some(m) if m.is_null() => unsafe { c26::tls_attach_server(s, cert, pkey, deadline) },
        // SAFETY: the same contract; our object fits the storage.
        Some(m) => unsafe { c26::tls_attach_server_mem(s, cert, pkey, m, deadline) },
    }
}

/// Starts TLS as a client on `s`.
#[no_mangle]
pub extern "C" fn dill_tls_attach_client(s: c_int, deadline: i64) -> c_int {
    c26::tls_attach_client(s, deadline)
}

/// dill_tls_attach_client in caller storage (used when our object fits it).
///
/// # Safety
/// `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn dill_tls_attach_client_mem(s: c_int, mem: *mut dill_tls_storage, deadline: i64) -> c_int {
    match place::<Tls>(mem as *mut c_void, TLS_SIZE) {
        None => super::conn::fail_closing(s, libc::EINVAL),
        Some(m) if m.is_null() => c26::tls_attach_client(s, deadline),
        // SAFETY: the same contract; our object fits the storage.
        Some(m) => unsafe { c26::tls_attach_client_mem(s, m, deadline) },
    }
}

/// Our side sends no more (close_notify); receiving goes on.
#[no_mangle]
pub extern "C" fn dill_tls_done(s: c_int, deadline: i64) -> c_int {
    let t = hquery(s, tls_id()) as *mut Tls;
    if t.is_null() {
        return -1; // hquery set errno.
    }
    crate::ffi::with_ctx(|cx| match tls::done(cx, t, deadline) {
        0 => Ok(0),
        e => Err(e),
    })
}

/// Ends TLS and returns the underlying socket.
#[no_mangle]
pub extern "C" fn dill_tls_detach(s: c_int, deadline: i64) -> c_int {
    super::reuse_fifo();
    c26::tls_detach(s, deadline)
}
