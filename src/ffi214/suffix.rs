//! SUFFIX (2.14's messages ended by a byte sequence over a byte stream):
//! dill_suffix_attach(_mem), dill_suffix_detach.

use super::storage::{place, dill_suffix_storage};
use crate::proto::suffix::{self, Suffix};
use core::ffi::{c_int, c_void};

/// Bytes of 2.14's SUFFIX storage.
const SUFFIX_SIZE: usize = 128;

/// The suffix the caller gave, or EINVAL (the socket is closed then, as
/// the original).
///
/// # Safety
/// `suffix` is `len` readable bytes or NULL.
unsafe fn given<'a>(s: c_int, suffix: *const c_void, len: usize) -> Option<&'a [u8]> {
    if suffix.is_null() || len == 0 || len > suffix::MAX {
        super::conn::fail_closing(s, libc::EINVAL);
        return None;
    }
    // SAFETY: per the contract.
    Some(unsafe { core::slice::from_raw_parts(suffix as *const u8, len) })
}

/// A SUFFIX socket on byte stream `s`.
///
/// # Safety
/// `suffix` is `suffixlen` readable bytes or NULL.
#[no_mangle]
pub unsafe extern "C" fn dill_suffix_attach(s: c_int, suffix: *const c_void, suffixlen: usize) -> c_int {
    // SAFETY: the same contract.
    let Some(sfx) = (unsafe { given(s, suffix, suffixlen) }) else { return -1 };
    crate::ffi::with_ctx(|cx| suffix::attach(cx, s, sfx, core::ptr::null_mut()))
}

/// dill_suffix_attach in caller storage (used when our object fits it).
///
/// # Safety
/// As dill_suffix_attach; `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn dill_suffix_attach_mem(
    s: c_int,
    suffix: *const c_void,
    suffixlen: usize,
    mem: *mut dill_suffix_storage,
) -> c_int {
    let Some(mem) = place::<Suffix>(mem as *mut c_void, SUFFIX_SIZE) else {
        return super::conn::fail_closing(s, libc::EINVAL);
    };
    // SAFETY: the same contract.
    let Some(sfx) = (unsafe { given(s, suffix, suffixlen) }) else { return -1 };
    crate::ffi::with_ctx(|cx| suffix::attach(cx, s, sfx, mem))
}

/// Ends the protocol and returns the byte stream below.
#[no_mangle]
pub extern "C" fn dill_suffix_detach(s: c_int, deadline: i64) -> c_int {
    super::reuse_fifo();
    let _ = deadline; // Nothing to exchange.
    crate::ffi::with_ctx(|cx| suffix::detach(cx, s))
}
