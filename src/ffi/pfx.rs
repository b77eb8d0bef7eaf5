//! PFX sockets: pfx_attach, pfx_attach_mem, pfx_detach (the work is in
//! `proto::pfx`).

use crate::core::{ctx, errno};
use crate::proto::pfx::{self, Pfx};
use core::ffi::{c_int, c_void};

/// A PFX socket on byte-stream socket `s`, allocated.
#[no_mangle]
pub extern "C" fn pfx_attach(s: c_int) -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    super::ret(pfx::attach(cx, s, core::ptr::null_mut()))
}

/// A PFX socket on byte-stream socket `s`, in the caller's `mem`
/// (PFX_SIZE bytes, kept until the socket is closed or detached).
///
/// # Safety
/// `mem` must be PFX_SIZE writable bytes that outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn pfx_attach_mem(s: c_int, mem: *mut c_void) -> c_int {
    let Some(mut mem) = super::caller_mem::<Pfx>(mem) else { return errno::fail(libc::EINVAL) };
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    if !pfx::FITS {
        mem = core::ptr::null_mut();
    }
    super::ret(pfx::attach(cx, s, mem))
}

/// Ends the protocol (both end markers) and returns the socket below.
#[no_mangle]
pub extern "C" fn pfx_detach(s: c_int, deadline: i64) -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    super::ret(pfx::detach(cx, s, deadline))
}
