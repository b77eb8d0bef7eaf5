//! IPC: the 2.6 calls under dill_ names with 2.14's storage, and 2.14's
//! dill_ipc_done and dill_ipc(_listener)_fromfd(_mem).

use super::conn::{self, made};
use super::storage::{place, dill_ipc_listener_storage, dill_ipc_pair_storage, dill_ipc_storage};
use crate::core::errno;
use crate::ffi::ipc as c26;
use crate::net::listener::Listener;
use crate::net::stream::{Mem, Stream, IPC};
use crate::net::stream214;
use core::ffi::{c_char, c_int, c_void};

/// Bytes of 2.14's IPC storage: a connection (all but its receive buffer,
/// allocated) fits in its own, two in the pair's; a listener (40 bytes:
/// hvfs alone takes 32) does not fit in 24 and is allocated.
const LISTENER_SIZE: usize = 24;
const CONN_SIZE: usize = crate::net::stream::SIZE214;
const PAIR_SIZE: usize = 144;

/// Listens on the UNIX socket at `addr`.
///
/// # Safety
/// `addr` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn dill_ipc_listen(addr: *const c_char, backlog: c_int) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::ipc_listen(addr, backlog) }
}

/// dill_ipc_listen in caller storage.
///
/// # Safety
/// As dill_ipc_listen; `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn dill_ipc_listen_mem(addr: *const c_char, backlog: c_int, mem: *mut dill_ipc_listener_storage) -> c_int {
    if place::<Listener>(mem as *mut c_void, LISTENER_SIZE).is_none() {
        return errno::fail(libc::EINVAL);
    }
    // SAFETY: the same contract; the listener is allocated.
    unsafe { c26::ipc_listen(addr, backlog) }
}

/// Accepts a connection.
#[no_mangle]
pub extern "C" fn dill_ipc_accept(s: c_int, deadline: i64) -> c_int {
    made(c26::ipc_accept(s, deadline))
}

/// dill_ipc_accept in caller storage.
///
/// # Safety
/// `mem` must outlive the connection.
#[no_mangle]
pub unsafe extern "C" fn dill_ipc_accept_mem(s: c_int, mem: *mut dill_ipc_storage, deadline: i64) -> c_int {
    let Some(m) = conn::stream_mem(mem as *mut c_void, CONN_SIZE) else { return errno::fail(libc::EINVAL) };
    made(c26::accept(s, m, deadline))
}

/// Connects to the UNIX socket at `addr`.
///
/// # Safety
/// `addr` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn dill_ipc_connect(addr: *const c_char, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    made(unsafe { c26::ipc_connect(addr, deadline) })
}

/// dill_ipc_connect in caller storage.
///
/// # Safety
/// As dill_ipc_connect; `mem` must outlive the connection.
#[no_mangle]
pub unsafe extern "C" fn dill_ipc_connect_mem(addr: *const c_char, mem: *mut dill_ipc_storage, deadline: i64) -> c_int {
    let Some(m) = conn::stream_mem(mem as *mut c_void, CONN_SIZE) else { return errno::fail(libc::EINVAL) };
    made(c26::connect(addr, m, deadline))
}

/// `made` for both ends of a new pair (when `rc` is 0).
fn pair_made(rc: c_int, s: *mut c_int) -> c_int {
    if rc == 0 {
        // SAFETY: s holds the two new handles.
        unsafe {
            made(*s);
            made(*s.add(1));
        }
    }
    rc
}

/// Sends a copy of file descriptor `fd` over IPC connection `s`.
#[no_mangle]
pub extern "C" fn dill_ipc_sendfd(s: c_int, fd: c_int, deadline: i64) -> c_int {
    crate::ffi::with_ctx(|cx| stream214::send_fd(cx, s, fd, deadline).map(|()| 0))
}

/// Receives a file descriptor sent with dill_ipc_sendfd.
#[no_mangle]
pub extern "C" fn dill_ipc_recvfd(s: c_int, deadline: i64) -> c_int {
    crate::ffi::with_ctx(|cx| stream214::recv_fd(cx, s, deadline))
}

/// Our side sends no more; receiving goes on.
#[no_mangle]
pub extern "C" fn dill_ipc_done(s: c_int, deadline: i64) -> c_int {
    let _ = deadline; // The kernel flushes what is queued.
    crate::ffi::status(conn::done(s, IPC))
}

/// Closes a listener, or a connection in order.
#[no_mangle]
pub extern "C" fn dill_ipc_close(s: c_int, deadline: i64) -> c_int {
    super::reuse_fifo();
    c26::ipc_close(s, deadline)
}

/// A connection over connected UNIX stream socket `fd`, which it then owns.
#[no_mangle]
pub extern "C" fn dill_ipc_fromfd(fd: c_int) -> c_int {
    conn::fromfd(fd, IPC)
}

/// dill_ipc_fromfd in caller storage.
///
/// # Safety
/// `mem` must outlive the connection.
#[no_mangle]
pub unsafe extern "C" fn dill_ipc_fromfd_mem(fd: c_int, mem: *mut dill_ipc_storage) -> c_int {
    conn::fromfd_mem(fd, mem as *mut c_void, CONN_SIZE, IPC)
}

/// A listener over listening UNIX socket `fd`, which it then owns.
#[no_mangle]
pub extern "C" fn dill_ipc_listener_fromfd(fd: c_int) -> c_int {
    conn::listener_fromfd(fd, IPC, None)
}

/// dill_ipc_listener_fromfd in caller storage.
///
/// # Safety
/// `mem` must outlive the listener.
#[no_mangle]
pub unsafe extern "C" fn dill_ipc_listener_fromfd_mem(fd: c_int, mem: *mut dill_ipc_listener_storage) -> c_int {
    conn::listener_fromfd(fd, IPC, Some((mem as *mut c_void, LISTENER_SIZE)))
}

/// Two connected IPC sockets, in `s[0]` and `s[1]`.
///
/// # Safety
/// `s` must point to two writable ints.
#[no_mangle]
pub unsafe extern "C" fn dill_ipc_pair(s: *mut c_int) -> c_int {
    // SAFETY: the same contract.
    pair_made(unsafe { c26::ipc_pair(s) }, s)
}

/// dill_ipc_pair in caller storage.
///
/// # Safety
/// As dill_ipc_pair; `mem` must outlive both sockets.
#[no_mangle]
pub unsafe extern "C" fn dill_ipc_pair_mem(mem: *mut dill_ipc_pair_storage, s: *mut c_int) -> c_int {
    const _: () = assert!(2 * core::mem::size_of::<Stream>() + core::mem::align_of::<Stream>() - 1 <= PAIR_SIZE);
    let Some(m) = place::<[Stream; 2]>(mem as *mut c_void, PAIR_SIZE) else { return errno::fail(libc::EINVAL) };
    // Both streams in the storage, one after the other; their buffers allocated.
    pair_made(c26::pair(Mem::head(m), s), s)
}
