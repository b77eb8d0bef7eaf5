//! IPC: ipc_listen, ipc_accept, ipc_connect, ipc_pair (and _mem forms),
//! ipc_close.

use crate::core::ctx::{self, Ctx};
use crate::core::errno;
use crate::net::stream::{self, Mem, IPC};
use crate::net::{ipc, listener};
use core::ffi::{c_char, c_int, c_void};
use core::ptr;

fn blocking_ctx() -> Result<&'static Ctx, i32> {
    let cx = ctx::get()?;
    // SAFETY: the running coroutine is live.
    if unsafe { (*cx.me()).can_block() } { Ok(cx) } else { Err(libc::ECANCELED) }
}

/// Listens on the UNIX socket at `addr`.
///
/// # Safety
/// `addr` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn ipc_listen(addr: *const c_char, backlog: c_int) -> c_int {
    super::ret(ctx::get().and_then(|cx| ipc::listen(cx, addr, backlog, ptr::null_mut())))
}

/// ipc_listen in caller memory of IPC_LISTENER_SIZE bytes.
///
/// # Safety
/// As ipc_listen; `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn ipc_listen_mem(addr: *const c_char, backlog: c_int, mem: *mut c_void) -> c_int {
    let Some(mem) = super::caller_mem::<listener::Listener>(mem) else { return errno::fail(libc::EINVAL) };
    super::ret(ctx::get().and_then(|cx| ipc::listen(cx, addr, backlog, mem)))
}

pub(crate) fn accept(s: c_int, mem: Mem, deadline: i64) -> c_int {
    let r = blocking_ctx().and_then(|cx| {
        let vfs = cx.handles().get(s).ok_or(libc::EBADF)?;
        let l = listener::as_listener(vfs, IPC).ok_or(libc::ENOTSUP)?;
        ipc::accept(cx, l, mem, deadline)
    });
    super::ret(r)
}

/// Accepts a connection.
#[no_mangle]
pub extern "C" fn ipc_accept(s: c_int, deadline: i64) -> c_int {
    accept(s, Mem::ALLOC, deadline)
}

/// ipc_accept in caller memory of IPC_SIZE bytes.
///
/// # Safety
/// `mem` must be IPC_SIZE writable bytes that outlive the connection.
#[no_mangle]
pub unsafe extern "C" fn ipc_accept_mem(s: c_int, mem: *mut c_void, deadline: i64) -> c_int {
    let Some(mem) = super::caller_mem::<stream::Stream>(mem) else { return errno::fail(libc::EINVAL) };
    accept(s, Mem::whole(mem), deadline)
}

pub(crate) fn connect(addr: *const c_char, mem: Mem, deadline: i64) -> c_int {
    super::ret(blocking_ctx().and_then(|cx| ipc::connect(cx, addr, mem, deadline)))
}

/// Connects to the UNIX socket at `addr`.
///
/// # Safety
/// `addr` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn ipc_connect(addr: *const c_char, deadline: i64) -> c_int {
    connect(addr, Mem::ALLOC, deadline)
}

/// ipc_connect in caller memory of IPC_SIZE bytes.
///
/// # Safety
/// As ipc_connect; `mem` must outlive the connection.
#[no_mangle]
pub unsafe extern "C" fn ipc_connect_mem(addr: *const c_char, mem: *mut c_void, deadline: i64) -> c_int {
    let Some(mem) = super::caller_mem::<stream::Stream>(mem) else { return errno::fail(libc::EINVAL) };
    connect(addr, Mem::whole(mem), deadline)
}

/// Closes a listener at once, or a connection in order (see tcp_close).
#[no_mangle]
pub extern "C" fn ipc_close(s: c_int, deadline: i64) -> c_int {
    super::status(super::tcp::close(s, IPC, deadline))
}

pub(crate) fn pair(mem: Mem, s: *mut c_int) -> c_int {
    if s.is_null() {
        return errno::fail(libc::EINVAL);
    }
    match ctx::get().and_then(|cx| ipc::pair(cx, mem)) {
        Ok(h) => {
            // SAFETY: s points to two writable ints (caller's contract).
            unsafe {
                *s = h[0];
                *s.add(1) = h[1];
            }
            0
        }
        Err(e) => errno::fail(e),
    }
}

/// Two connected IPC sockets, in `s[0]` and `s[1]`.
///
/// # Safety
/// `s` must point to two writable ints.
#[no_mangle]
pub unsafe extern "C" fn ipc_pair(s: *mut c_int) -> c_int {
    pair(Mem::ALLOC, s)
}

/// ipc_pair in caller memory of IPC_PAIR_SIZE bytes.
///
/// # Safety
/// As ipc_pair; `mem` must outlive both sockets.
#[no_mangle]
pub unsafe extern "C" fn ipc_pair_mem(mem: *mut c_void, s: *mut c_int) -> c_int {
    let Some(mem) = super::caller_mem::<stream::Stream>(mem) else { return errno::fail(libc::EINVAL) };
    pair(Mem::whole(mem), s)
}
