//! The `struct dill_*_storage` of the 2.14 header: byte arrays of fixed
//! size and no alignment, written out in the header text (cbindgen never
//! sees these opaque stand-ins). An object that does not fit, or whose
//! storage is misaligned for it, is allocated instead and the storage left
//! unused (see `ffi::caller_mem`).

macro_rules! storage {
    ($($name:ident),*) => {$(
        #[repr(C)]
        #[allow(non_camel_case_types)]
        pub struct $name {
            _opaque: [u8; 0],
        }
    )*};
}

storage!(
    dill_bundle_storage,
    dill_chstorage,
    dill_tcp_listener_storage,
    dill_tcp_storage,
    dill_ipc_listener_storage,
    dill_ipc_storage,
    dill_ipc_pair_storage,
    dill_http_storage,
    dill_udp_storage,
    dill_tls_storage,
    dill_term_storage,
    dill_suffix_storage,
    dill_prefix_storage,
    dill_ws_storage
);

/// The place for an object of type `T` in a storage of `size` bytes at
/// `mem`, which may have any alignment: None for NULL (EINVAL); else `mem`
/// aligned up for `T`, or null when `T` does not fit behind that (the
/// object is then allocated).
#[inline]
pub(crate) fn place<T>(mem: *mut core::ffi::c_void, size: usize) -> Option<*mut core::ffi::c_void> {
    if mem.is_null() {
        return None;
    }
    let pad = (mem as usize).wrapping_neg() % core::mem::align_of::<T>();
    let fits = pad + core::mem::size_of::<T>() <= size;
    Some(if fits { (mem as *mut u8).wrapping_add(pad) as *mut core::ffi::c_void } else { core::ptr::null_mut() })
}
