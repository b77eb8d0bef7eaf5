//! What 2.14's TCP and IPC calls share: new connections get 2.14's state,
//! *_done, and the *_fromfd family adopting a caller's socket; and the
//! failure of a protocol's attach, which closes the socket below.

use super::storage::place;
use crate::core::{ctx, errno};
use crate::net::listener::Listener;
use crate::net::stream::{self, Mem, Stream};
use crate::net::{adopt, stream214};
use core::ffi::{c_int, c_void};

/// A new connection's handle, its stream given 2.14's state (see
/// `net::stream214`); -1 passes through.
pub(crate) fn made(h: c_int) -> c_int {
    match ctx::get() {
        Ok(cx) => stream214::made(cx, h),
        Err(_) => h,
    }
}

/// A protocol's attach failing before it began: like the original, it
/// closes the socket it was given. Returns -1 with errno `e`.
pub(crate) fn fail_closing(s: c_int, e: i32) -> c_int {
    if let Ok(cx) = ctx::get() {
        let _ = crate::core::handles::close(cx, s);
    }
    errno::fail(e)
}

/// tcp_done / ipc_done: our side of stream `s` of `kind` sends no more.
/// Returns 0 or an errno.
pub(crate) fn done(s: c_int, kind: u8) -> i32 {
    let Ok(cx) = ctx::get() else { return libc::ENOMEM };
    let Some(vfs) = cx.handles().get(s) else { return libc::EBADF };
    match stream::as_stream(vfs, kind) {
        Some(st) => stream::done(st),
        None => libc::ENOTSUP,
    }
}

/// Where a connection made in 2.14 storage of `size` bytes at `mem` goes:
/// the stream in the storage, its buffer allocated (None: NULL, EINVAL).
pub(crate) fn stream_mem(mem: *mut c_void, size: usize) -> Option<Mem> {
    let m = place::<Stream>(mem, size)?;
    Some(if m.is_null() { Mem::ALLOC } else { Mem::head(m) })
}

/// A connection of `kind` over connected socket `fd`, which it then owns.
pub(crate) fn fromfd(fd: c_int, kind: u8) -> c_int {
    made(crate::ffi::ret(ctx::get().and_then(|cx| adopt::stream(cx, fd, kind, Mem::ALLOC))))
}

/// `fromfd` with 2.14 storage of `size` bytes at `mem` (NULL: EINVAL).
pub(crate) fn fromfd_mem(fd: c_int, mem: *mut c_void, size: usize, kind: u8) -> c_int {
    let Some(m) = stream_mem(mem, size) else { return errno::fail(libc::EINVAL) };
    made(crate::ffi::ret(ctx::get().and_then(|cx| adopt::stream(cx, fd, kind, m))))
}

/// A listener of `kind` over listening socket `fd`, in 2.14 storage of
/// `size` bytes at `mem` if given (Some(NULL) is EINVAL).
pub(crate) fn listener_fromfd(fd: c_int, kind: u8, mem: Option<(*mut c_void, usize)>) -> c_int {
    let m = match mem {
        None => core::ptr::null_mut(),
        Some((mem, size)) => match place::<Listener>(mem, size) {
            Some(m) => m,
            None => return errno::fail(libc::EINVAL),
        },
    };
    crate::ffi::ret(ctx::get().and_then(|cx| adopt::listener(cx, fd, kind, m)))
}
