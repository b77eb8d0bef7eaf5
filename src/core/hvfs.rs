//! The handle virtual-function table shared with C (`struct hvfs` of
//! libdillimpl.h). Every handle, ours or user-defined, points to one.

use core::ffi::{c_int, c_uint, c_void};

/// Layout is ABI: `{query, close, done, refcount}`.
#[repr(C)]
pub struct hvfs {
    pub query: Option<unsafe extern "C" fn(vfs: *mut hvfs, r#type: *const c_void) -> *mut c_void>,
    pub close: Option<unsafe extern "C" fn(vfs: *mut hvfs)>,
    pub done: Option<unsafe extern "C" fn(vfs: *mut hvfs, deadline: i64) -> c_int>,
    /// Number of handles pointing at this object (maintained by the library).
    pub refcount: c_uint,
}
