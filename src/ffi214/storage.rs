//! The `struct dill_*_storage` of the 2.14 header: byte arrays of fixed
//! size and no alignment, written out in the header text (cbindgen never
//! sees these opaque stand-ins). `place` aligns the object up inside the
//! storage. In it now, with what is allocated beside it at creation (freed
//! at close): TCP and IPC connections, 64 bytes (their receive buffer,
//! `net::stream`), two in the IPC pair's; UDP sockets, 64 (a default
//! remote address, `net::udp`); TERM, 80 (its terminal message,
//! `proto::term`); TLS, 64 (the session, allocated in 2.6 too,
//! `proto::tls`); the TCP listener, bundle, suffix, HTTP and WebSocket
//! objects whole; a channel when the storage is 8-aligned (it needs all
//! 144 bytes). Too big, so allocated whole and the storage left unused:
//! the IPC listener (40 bytes in 24: hvfs alone is 32) and prefix (56
//! bytes leave 48 at an odd address: hvfs and the msock vtable, nothing
//! more).

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
