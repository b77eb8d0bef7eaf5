//! Handles: hdup, hclose, hdone, and hmake/hquery of libdillimpl.h.

use crate::core::hvfs::hvfs;
use crate::core::{ctx, errno, handles};
use core::ffi::{c_int, c_void};
use core::ptr;

/// Duplicates a handle.
#[no_mangle]
pub extern "C" fn hdup(h: c_int) -> c_int {
    super::ret(ctx::get().and_then(|cx| handles::dup(cx, h)))
}

/// Closes a handle; the last one closes the object.
#[no_mangle]
pub extern "C" fn hclose(h: c_int) -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    super::ret(handles::close(cx, h).map(|()| 0))
}

/// Tells the object behind `h` that no more data will come.
#[no_mangle]
pub extern "C" fn hdone(h: c_int, deadline: i64) -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    let Some(vfs) = cx.handles().get(h) else { return errno::fail(libc::EBADF) };
    // SAFETY: vfs is live: h names it.
    match unsafe { (*vfs).done } {
        // SAFETY: the object's own done callback, called as documented.
        Some(f) => unsafe { f(vfs, deadline) },
        None => errno::fail(libc::ENOTSUP),
    }
}

/// Creates a handle for a user-defined object.
///
/// # Safety
/// `vfs` must point to a `struct hvfs` that stays valid until its close
/// callback runs.
#[no_mangle]
pub unsafe extern "C" fn hmake(vfs: *mut hvfs) -> c_int {
    // SAFETY: checked for null first; the caller promises a valid struct.
    if vfs.is_null() || unsafe { (*vfs).query.is_none() || (*vfs).close.is_none() } {
        return errno::fail(libc::EINVAL);
    }
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return errno::fail(libc::ECANCELED);
    }
    super::ret(handles::make(cx, vfs))
}

/// Asks the object behind `h` for its interface of type `type`.
#[no_mangle]
pub extern "C" fn hquery(h: c_int, r#type: *const c_void) -> *mut c_void {
    let Ok(cx) = ctx::get() else {
        errno::set(libc::ENOMEM);
        return core::ptr::null_mut();
    };
    if let Some(p) = cx.handles().cached_query(h, r#type) {
        return p;
    }
    let Some(vfs) = cx.handles().get(h) else {
        errno::set(libc::EBADF);
        return ptr::null_mut();
    };
    // SAFETY: vfs is live; its query callback sets errno when it returns NULL.
    let p = match unsafe { (*vfs).query } {
        Some(q) => unsafe { q(vfs, r#type) },
        None => {
            errno::set(libc::ENOTSUP);
            return ptr::null_mut();
        }
    };
    if !p.is_null() {
        // The callback may have closed or made handles: cache_query checks.
        cx.handles().cache_query(h, vfs, r#type, p);
    }
    p
}
