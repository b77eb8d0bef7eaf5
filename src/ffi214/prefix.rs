//! PREFIX (2.14's size-prefixed messages over a byte stream):
//! dill_prefix_attach(_mem), dill_prefix_detach.

use super::storage::{place, dill_prefix_storage};
use crate::proto::prefix::{self, Prefix};
use core::ffi::{c_int, c_void};

/// Bytes of 2.14's PREFIX storage.
const PREFIX_SIZE: usize = 56;
/// The flag for little-endian headers (big-endian is 0).
const LITTLE_ENDIAN: c_int = 1;

/// A PREFIX socket on byte stream `s` with `hdrlen`-byte headers.
#[no_mangle]
pub extern "C" fn dill_prefix_attach(s: c_int, hdrlen: usize, flags: c_int) -> c_int {
    crate::ffi::with_ctx(|cx| prefix::attach(cx, s, hdrlen, flags & LITTLE_ENDIAN != 0, core::ptr::null_mut()))
}

/// dill_prefix_attach in caller storage (used when our object fits it).
///
/// # Safety
/// `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn dill_prefix_attach_mem(s: c_int, hdrlen: usize, flags: c_int, mem: *mut dill_prefix_storage) -> c_int {
    let Some(mem) = place::<Prefix>(mem as *mut c_void, PREFIX_SIZE) else {
        return super::conn::fail_closing(s, libc::EINVAL);
    };
    crate::ffi::with_ctx(|cx| prefix::attach(cx, s, hdrlen, flags & LITTLE_ENDIAN != 0, mem))
}

/// Ends the protocol and returns the byte stream below.
#[no_mangle]
pub extern "C" fn dill_prefix_detach(s: c_int) -> c_int {
    super::reuse_fifo();
    crate::ffi::with_ctx(|cx| prefix::detach(cx, s))
}
