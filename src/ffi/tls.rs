//! TLS: tls_attach_server(_mem), tls_attach_client(_mem), tls_detach.

use crate::core::{ctx, errno};
use crate::proto::tls::{self, Side, Tls};
use core::ffi::{c_char, c_int, c_void, CStr};

fn attach(s: c_int, side: Side, mem: *mut c_void, deadline: i64) -> c_int {
    super::with_ctx(|cx| tls::attach(cx, s, side, mem, deadline))
}

/// # Safety
/// `cert` and `pkey` are NUL-terminated strings or NULL.
unsafe fn server(s: c_int, cert: *const c_char, pkey: *const c_char, mem: *mut c_void, deadline: i64) -> c_int {
    if cert.is_null() || pkey.is_null() {
        // The socket is closed on any failure, as the original.
        if let Ok(cx) = ctx::get() {
            let _ = crate::core::handles::close(cx, s);
        }
        return errno::fail(libc::EINVAL);
    }
    // SAFETY: non-null C strings (caller's contract).
    let (cert, key) = unsafe { (CStr::from_ptr(cert), CStr::from_ptr(pkey)) };
    attach(s, Side::Server { cert, key }, mem, deadline)
}

/// Starts TLS as a server on byte-stream socket `s`: certificate chain
/// and private key from the PEM files `cert` and `pkey`.
///
/// # Safety
/// `cert` and `pkey` are NUL-terminated strings or NULL.
#[no_mangle]
pub unsafe extern "C" fn tls_attach_server(s: c_int, cert: *const c_char, pkey: *const c_char, deadline: i64) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { server(s, cert, pkey, core::ptr::null_mut(), deadline) }
}

/// tls_attach_server in caller memory of TLS_SIZE bytes.
///
/// # Safety
/// As tls_attach_server; `mem` is TLS_SIZE bytes that outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn tls_attach_server_mem(
    s: c_int,
    cert: *const c_char,
    pkey: *const c_char,
    mem: *mut c_void,
    deadline: i64,
) -> c_int {
    let Some(mem) = super::caller_mem::<Tls>(mem) else {
        if let Ok(cx) = ctx::get() {
            let _ = crate::core::handles::close(cx, s);
        }
        return errno::fail(libc::EINVAL);
    };
    // SAFETY: forwarded contract.
    unsafe { server(s, cert, pkey, mem, deadline) }
}

/// Starts TLS as a client on byte-stream socket `s`.
#[no_mangle]
pub extern "C" fn tls_attach_client(s: c_int, deadline: i64) -> c_int {
    attach(s, Side::Client, core::ptr::null_mut(), deadline)
}

/// tls_attach_client in caller memory of TLS_SIZE bytes.
///
/// # Safety
/// `mem` is TLS_SIZE bytes that outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn tls_attach_client_mem(s: c_int, mem: *mut c_void, deadline: i64) -> c_int {
    let Some(mem) = super::caller_mem::<Tls>(mem) else {
        if let Ok(cx) = ctx::get() {
            let _ = crate::core::handles::close(cx, s);
        }
        return errno::fail(libc::EINVAL);
    };
    attach(s, Side::Client, mem, deadline)
}

/// Ends TLS on `s` (close_notify both ways) and returns the socket below.
#[no_mangle]
pub extern "C" fn tls_detach(s: c_int, deadline: i64) -> c_int {
    super::with_ctx(|cx| tls::detach(cx, s, deadline))
}
