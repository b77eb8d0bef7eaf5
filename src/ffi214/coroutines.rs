//! Coroutines: dill_bundle, dill_bundle_mem, dill_bundle_wait, dill_yield.
//! `dill_prologue`, `dill_epilogue` and `dill_unoptimisable` are the same
//! symbols in both generations (`ffi::coroutines`).

use super::storage::{dill_bundle_storage, place};
use crate::ffi::coroutines as c26;
use core::ffi::{c_int, c_void};

/// Creates an empty bundle.
#[no_mangle]
pub extern "C" fn dill_bundle() -> c_int {
    c26::bundle()
}

/// Bytes of 2.14's bundle storage.
const BUNDLE_SIZE: usize = 64;

/// Creates an empty bundle in `mem`.
///
/// # Safety
/// `mem` must be a writable `struct dill_bundle_storage` that outlives the
/// bundle.
#[no_mangle]
pub unsafe extern "C" fn dill_bundle_mem(mem: *mut dill_bundle_storage) -> c_int {
    const _: () = assert!(
        core::mem::size_of::<crate::core::bundle::Bundle>() + core::mem::align_of::<crate::core::bundle::Bundle>() - 1 <= BUNDLE_SIZE
    );
    // Aligned up inside the storage, where it always fits.
    let Some(m) = place::<crate::core::bundle::Bundle>(mem as *mut c_void, BUNDLE_SIZE) else {
        return crate::core::errno::fail(libc::EINVAL);
    };
    // SAFETY: the same contract; m is aligned for a bundle.
    unsafe { c26::bundle_mem(m) }
}

/// Waits until every coroutine of the bundle finished.
#[no_mangle]
pub extern "C" fn dill_bundle_wait(h: c_int, deadline: i64) -> c_int {
    c26::bundle_wait(h, deadline)
}

/// Lets other coroutines run.
#[no_mangle]
pub extern "C" fn dill_yield() -> c_int {
    c26::r#yield()
}
