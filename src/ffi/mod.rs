//! The C surface: thin `extern "C"` wrappers, one module per group of the
//! 2.6 man pages. They validate arguments, fetch the thread context once and
//! call the core; failures become -1 (or NULL) with errno.

pub mod bsock;
pub mod channels;
pub mod coroutines;
pub mod crlf;
pub mod deadlines;
pub mod fds;
pub mod handles;
pub mod http;
pub mod ipaddr;
pub mod ipc;
pub mod msock;
pub mod pfx;
pub mod tcp;
pub mod tls;
pub mod udp;
pub mod ws;

/// Maps a core result to the C convention.
#[inline]
pub(crate) fn ret(r: Result<i32, i32>) -> i32 {
    match r {
        Ok(v) => v,
        Err(e) => crate::core::errno::fail(e),
    }
}

/// Runs `f` with the thread's context (ENOMEM if it cannot be made) and
/// maps its result to the C convention.
#[inline]
pub(crate) fn with_ctx(f: impl FnOnce(&crate::core::ctx::Ctx) -> Result<i32, i32>) -> i32 {
    match crate::core::ctx::get() {
        Ok(cx) => ret(f(cx)),
        Err(e) => crate::core::errno::fail(e),
    }
}

/// Maps an errno-or-zero status to the C convention.
#[inline]
pub(crate) fn status(e: i32) -> i32 {
    if e == 0 { 0 } else { crate::core::errno::fail(e) }
}

/// The caller's memory for a `*_mem` object of type `T`: None for NULL
/// (EINVAL). The original takes any address; memory misaligned for our
/// object is left unused and the object allocated instead, so the call
/// still works.
#[inline]
pub(crate) fn caller_mem<T>(mem: *mut core::ffi::c_void) -> Option<*mut core::ffi::c_void> {
    if mem.is_null() {
        None
    } else if (mem as usize) % core::mem::align_of::<T>() != 0 {
        Some(core::ptr::null_mut())
    } else {
        Some(mem)
    }
}
