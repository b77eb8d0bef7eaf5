//! CRLF sockets: crlf_attach, crlf_attach_mem, crlf_detach.

use crate::core::ctx;
use crate::proto::crlf::{self, Crlf};
use core::ffi::{c_int, c_void};

/// A CRLF message socket over byte stream `s`.
#[no_mangle]
pub extern "C" fn crlf_attach(s: c_int) -> c_int {
    super::ret(crlf::attach(ctx::ctx(), s, core::ptr::null_mut()))
}

/// crlf_attach in CRLF_SIZE bytes of caller memory.
///
/// # Safety
/// `mem` must be CRLF_SIZE writable bytes that outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn crlf_attach_mem(s: c_int, mem: *mut c_void) -> c_int {
    let Some(mem) = super::caller_mem::<Crlf>(mem) else { return crate::core::errno::fail(libc::EINVAL) };
    super::ret(crlf::attach(ctx::ctx(), s, mem))
}

/// Ends the protocol both ways and returns the underlying socket.
#[no_mangle]
pub extern "C" fn crlf_detach(s: c_int, deadline: i64) -> c_int {
    super::ret(crlf::detach(ctx::ctx(), s, deadline))
}
