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

storage!(dill_bundle_storage, dill_chstorage);
