//! What 2.14's libdillimpl.h declares: `struct dill_hvfs` (just {query,
//! close}), dill_hmake, dill_hquery and the socket type ids (2.6's ids, so
//! objects answer either generation's queries). The core keeps 2.6's larger
//! `hvfs` per object, so a C object gets an adapter that carries one and
//! forwards to the caller's struct.

use crate::core::hvfs::hvfs;
use crate::core::{ctx, errno, handles};
use crate::net::vfs::{BSOCK_ID, MSOCK_ID};
use core::ffi::{c_int, c_void};

/// The type id under which byte-stream sockets answer `dill_hquery`.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut dill_bsock_type: *const c_void = &BSOCK_ID as *const u8 as *const c_void;

/// The type id under which message sockets answer `dill_hquery`.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut dill_msock_type: *const c_void = &MSOCK_ID as *const u8 as *const c_void;

/// A C-defined object's interface in 2.14. Layout is ABI.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct dill_hvfs {
    pub query: Option<unsafe extern "C" fn(vfs: *mut dill_hvfs, r#type: *const c_void) -> *mut c_void>,
    pub close: Option<unsafe extern "C" fn(vfs: *mut dill_hvfs)>,
}

/// What the core names for a C object: `vfs` first, so the core's pointer
/// is the adapter's.
#[repr(C)]
struct Adapter {
    vfs: hvfs,
    user: *mut dill_hvfs,
}

unsafe extern "C" fn adapter_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    // SAFETY: the core calls this only for a live Adapter; the caller of
    // dill_hmake promised its struct outlives the close callback.
    unsafe {
        let user = (*(vfs as *mut Adapter)).user;
        match (*user).query {
            Some(q) => q(user, t),
            None => {
                errno::set(libc::ENOTSUP);
                core::ptr::null_mut()
            }
        }
    }
}

unsafe extern "C" fn adapter_close(vfs: *mut hvfs) {
    // SAFETY: as above; the core calls close once, and touches the adapter
    // no more after it, so it can go here.
    unsafe {
        let user = (*(vfs as *mut Adapter)).user;
        libc::free(vfs as *mut c_void);
        if let Some(c) = (*user).close {
            c(user);
        }
    }
}

/// Creates a handle for a user-defined object.
///
/// # Safety
/// `vfs` must point to a `struct dill_hvfs` that stays valid until its
/// close callback runs.
#[no_mangle]
pub unsafe extern "C" fn dill_hmake(vfs: *mut dill_hvfs) -> c_int {
    // SAFETY: checked for null first; the caller promises a valid struct.
    if vfs.is_null() || unsafe { (*vfs).query.is_none() || (*vfs).close.is_none() } {
        return errno::fail(libc::EINVAL);
    }
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    // SAFETY: malloc of a plain struct; null is handled.
    let a = unsafe { libc::malloc(core::mem::size_of::<Adapter>()) } as *mut Adapter;
    if a.is_null() {
        return errno::fail(libc::ENOMEM);
    }
    let q: unsafe extern "C" fn(*mut hvfs, *const c_void) -> *mut c_void = adapter_query;
    let c: unsafe extern "C" fn(*mut hvfs) = adapter_close;
    // SAFETY: a is fresh, suitably aligned memory of an Adapter's size.
    unsafe {
        a.write(Adapter { vfs: hvfs { query: Some(q), close: Some(c), done: None, refcount: 0 }, user: vfs });
    }
    // SAFETY: a is a live Adapter; vfs is its first field.
    match handles::make(cx, unsafe { core::ptr::addr_of_mut!((*a).vfs) }) {
        Ok(h) => h,
        Err(e) => {
            // SAFETY: no handle names a: it is still ours.
            unsafe { libc::free(a as *mut c_void) };
            errno::fail(e)
        }
    }
}

/// Asks the object behind `h` for its interface of type `type`.
#[no_mangle]
pub extern "C" fn dill_hquery(h: c_int, r#type: *const c_void) -> *mut c_void {
    crate::ffi::handles::hquery(h, r#type)
}

