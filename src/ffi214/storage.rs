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

/// The memory for an object of type `T` in a storage of `size` bytes: None
/// for NULL (EINVAL), null when `T` does not fit or `mem` is misaligned for
/// it (the object is then allocated), else `mem`.
#[inline]
pub(crate) fn place<T>(mem: *mut core::ffi::c_void, size: usize) -> Option<*mut core::ffi::c_void> {
    let m = crate::ffi::caller_mem::<T>(mem)?;
    Some(if core::mem::size_of::<T>() <= size { m } else { core::ptr::null_mut() })
}
