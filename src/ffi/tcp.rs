//! TCP: tcp_listen, tcp_accept, tcp_connect (and their _mem forms), tcp_close.

use crate::core::ctx::{self, Ctx};
use crate::core::{errno, handles};
use crate::net::ipaddr::ipaddr;
use crate::net::stream::{self, Mem, TCP};
use crate::net::{listener, tcp};
use core::ffi::{c_int, c_void};
use core::ptr;

/// The context, if the running coroutine may block.
fn blocking_ctx() -> Result<&'static Ctx, i32> {
    let cx = ctx::get()?;
    // SAFETY: the running coroutine is live.
    if unsafe { (*cx.me()).can_block() } { Ok(cx) } else { Err(libc::ECANCELED) }
}

fn listener_of(cx: &Ctx, s: c_int) -> Result<*mut listener::Listener, i32> {
    let vfs = cx.handles().get(s).ok_or(libc::EBADF)?;
    listener::as_listener(vfs, TCP).ok_or(libc::ENOTSUP)
}

pub(crate) fn listen(addr: *mut ipaddr, backlog: c_int, mem: *mut c_void) -> c_int {
    if addr.is_null() {
        return errno::fail(libc::EINVAL);
    }
    super::ret(ctx::get().and_then(|cx| tcp::listen(cx, addr, backlog, mem)))
}

/// Listens on `addr` (a port of 0 is replaced by the one picked).
///
/// # Safety
/// `addr` must be a valid, writable ipaddr.
#[no_mangle]
pub unsafe extern "C" fn tcp_listen(addr: *mut ipaddr, backlog: c_int) -> c_int {
    listen(addr, backlog, ptr::null_mut())
}

/// tcp_listen in caller memory of TCP_LISTENER_SIZE bytes.
///
/// # Safety
/// As tcp_listen; `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn tcp_listen_mem(addr: *mut ipaddr, backlog: c_int, mem: *mut c_void) -> c_int {
    let Some(mem) = super::caller_mem::<listener::Listener>(mem) else { return errno::fail(libc::EINVAL) };
    listen(addr, backlog, mem)
}

pub(crate) fn accept(s: c_int, addr: *mut ipaddr, mem: Mem, deadline: i64) -> c_int {
    let r = blocking_ctx().and_then(|cx| {
        let l = listener_of(cx, s)?;
        tcp::accept(cx, l, addr, mem, deadline)
    });
    super::ret(r)
}

/// Accepts a connection; the peer's address goes to `addr` if not NULL.
///
/// # Safety
/// `addr` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tcp_accept(s: c_int, addr: *mut ipaddr, deadline: i64) -> c_int {
    accept(s, addr, Mem::ALLOC, deadline)
}

/// tcp_accept in caller memory of TCP_SIZE bytes.
///
/// # Safety
/// As tcp_accept; `mem` must outlive the connection.
#[no_mangle]
pub unsafe extern "C" fn tcp_accept_mem(s: c_int, addr: *mut ipaddr, mem: *mut c_void, deadline: i64) -> c_int {
    let Some(mem) = super::caller_mem::<stream::Stream>(mem) else { return errno::fail(libc::EINVAL) };
    accept(s, addr, Mem::whole(mem), deadline)
}

pub(crate) fn connect(addr: *const ipaddr, mem: Mem, deadline: i64) -> c_int {
    if addr.is_null() {
        return errno::fail(libc::EINVAL);
    }
    super::ret(blocking_ctx().and_then(|cx| tcp::connect(cx, addr, mem, deadline)))
}

/// Connects to `addr`.
///
/// # Safety
/// `addr` must be a valid ipaddr.
#[no_mangle]
pub unsafe extern "C" fn tcp_connect(addr: *const ipaddr, deadline: i64) -> c_int {
    connect(addr, Mem::ALLOC, deadline)
}

/// tcp_connect in caller memory of TCP_SIZE bytes.
///
/// # Safety
/// As tcp_connect; `mem` must outlive the connection.
#[no_mangle]
pub unsafe extern "C" fn tcp_connect_mem(addr: *const ipaddr, mem: *mut c_void, deadline: i64) -> c_int {
    let Some(mem) = super::caller_mem::<stream::Stream>(mem) else { return errno::fail(libc::EINVAL) };
    connect(addr, Mem::whole(mem), deadline)
}

/// Closes a listener at once, or a connection in order: our FIN, then the
/// peer's within `deadline`. The handle is gone either way.
#[no_mangle]
pub extern "C" fn tcp_close(s: c_int, deadline: i64) -> c_int {
    super::status(close(s, TCP, deadline))
}

/// Shared by tcp_close and ipc_close. Returns 0 or an errno.
pub(crate) fn close(s: c_int, kind: u8, deadline: i64) -> i32 {
    let Ok(cx) = ctx::get() else { return libc::ENOMEM };
    let Some(vfs) = cx.handles().get(s) else { return libc::EBADF };
    if listener::as_listener(vfs, kind).is_some() {
        return handles::close(cx, s).err().unwrap_or(0);
    }
    let Some(st) = stream::as_stream(vfs, kind) else { return libc::ENOTSUP };
    // SAFETY: vfs is live: s names it.
    if unsafe { (*vfs).refcount } > 1 {
        // Other handles still use the connection: drop just this one.
        return handles::close(cx, s).err().unwrap_or(0);
    }
    let _ = cx.handles().begin_remove(s);
    // SAFETY: the running coroutine is live.
    let e = if unsafe { (*cx.me()).can_block() } {
        stream::close_orderly(cx, st, deadline)
    } else {
        stream::close_now(cx, st);
        libc::ECANCELED
    };
    // Its number is reused last, as near the original's numbering as we can
    // be without leaking (see core::handles).
    cx.handles().end_retire(s);
    e
}
