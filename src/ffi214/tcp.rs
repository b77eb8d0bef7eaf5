//! TCP: the 2.6 calls under dill_ names with 2.14's storage, and 2.14's
//! dill_tcp_done, dill_tcp(_listener)_fromfd(_mem) and
//! dill_happyeyeballs_connect.

use super::conn;
use super::storage::{place, dill_tcp_listener_storage, dill_tcp_storage};
use crate::core::{ctx, errno};
use crate::ffi::tcp as c26;
use crate::net::happyeyeballs;
use crate::net::ipaddr::ipaddr;
use crate::net::listener::Listener;
use crate::net::stream::TCP;
use core::ffi::{c_char, c_int, c_void, CStr};

/// Bytes of 2.14's TCP storage: the listener fits in its own, the
/// connection (all but its receive buffer, allocated) in its own.
const LISTENER_SIZE: usize = 56;
const CONN_SIZE: usize = crate::net::stream::SIZE214;

/// Listens on `addr`.
///
/// # Safety
/// `addr` must be a valid, writable ipaddr.
#[no_mangle]
pub unsafe extern "C" fn dill_tcp_listen(addr: *mut ipaddr, backlog: c_int) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::tcp_listen(addr, backlog) }
}

/// dill_tcp_listen in caller storage.
///
/// # Safety
/// As dill_tcp_listen; `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn dill_tcp_listen_mem(addr: *mut ipaddr, backlog: c_int, mem: *mut dill_tcp_listener_storage) -> c_int {
    const _: () = assert!(core::mem::size_of::<Listener>() + core::mem::align_of::<Listener>() - 1 <= LISTENER_SIZE);
    let Some(m) = place::<Listener>(mem as *mut c_void, LISTENER_SIZE) else { return errno::fail(libc::EINVAL) };
    c26::listen(addr, backlog, m)
}

/// Accepts a connection.
///
/// # Safety
/// `addr` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dill_tcp_accept(s: c_int, addr: *mut ipaddr, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    conn::made(unsafe { c26::tcp_accept(s, addr, deadline) })
}

/// dill_tcp_accept in caller storage.
///
/// # Safety
/// As dill_tcp_accept; `mem` must outlive the connection.
#[no_mangle]
pub unsafe extern "C" fn dill_tcp_accept_mem(s: c_int, addr: *mut ipaddr, mem: *mut dill_tcp_storage, deadline: i64) -> c_int {
    let Some(m) = conn::stream_mem(mem as *mut c_void, CONN_SIZE) else { return errno::fail(libc::EINVAL) };
    conn::made(c26::accept(s, addr, m, deadline))
}

/// Connects to `addr`.
///
/// # Safety
/// `addr` must be a valid ipaddr.
#[no_mangle]
pub unsafe extern "C" fn dill_tcp_connect(addr: *const ipaddr, deadline: i64) -> c_int {
    // SAFETY: the same contract.
    conn::made(unsafe { c26::tcp_connect(addr, deadline) })
}

/// dill_tcp_connect in caller storage.
///
/// # Safety
/// As dill_tcp_connect; `mem` must outlive the connection.
#[no_mangle]
pub unsafe extern "C" fn dill_tcp_connect_mem(addr: *const ipaddr, mem: *mut dill_tcp_storage, deadline: i64) -> c_int {
    let Some(m) = conn::stream_mem(mem as *mut c_void, CONN_SIZE) else { return errno::fail(libc::EINVAL) };
    conn::made(c26::connect(addr, m, deadline))
}

/// Our side sends no more (FIN); receiving goes on.
#[no_mangle]
pub extern "C" fn dill_tcp_done(s: c_int, deadline: i64) -> c_int {
    let _ = deadline; // The kernel flushes what is queued.
    crate::ffi::status(conn::done(s, TCP))
}

/// Closes a listener, or a connection in order.
#[no_mangle]
pub extern "C" fn dill_tcp_close(s: c_int, deadline: i64) -> c_int {
    super::reuse_fifo();
    c26::tcp_close(s, deadline)
}

/// A connection over connected TCP socket `fd`, which it then owns.
#[no_mangle]
pub extern "C" fn dill_tcp_fromfd(fd: c_int) -> c_int {
    conn::fromfd(fd, TCP)
}

/// dill_tcp_fromfd in caller storage.
///
/// # Safety
/// `mem` must outlive the connection.
#[no_mangle]
pub unsafe extern "C" fn dill_tcp_fromfd_mem(fd: c_int, mem: *mut dill_tcp_storage) -> c_int {
    conn::fromfd_mem(fd, mem as *mut c_void, CONN_SIZE, TCP)
}

/// A listener over listening TCP socket `fd`, which it then owns.
#[no_mangle]
pub extern "C" fn dill_tcp_listener_fromfd(fd: c_int) -> c_int {
    conn::listener_fromfd(fd, TCP, None)
}

/// dill_tcp_listener_fromfd in caller storage.
///
/// # Safety
/// `mem` must outlive the listener.
#[no_mangle]
pub unsafe extern "C" fn dill_tcp_listener_fromfd_mem(fd: c_int, mem: *mut dill_tcp_listener_storage) -> c_int {
    conn::listener_fromfd(fd, TCP, Some((mem as *mut c_void, LISTENER_SIZE)))
}

/// A TCP connection to host `name` at `port` by Happy Eyeballs (RFC 8305):
/// IPv6 and IPv4 addresses raced, 300 ms apart (see net::happyeyeballs).
/// EINVAL for a NULL name or a port outside 1-65535; EADDRNOTAVAIL if the
/// name has no address; ECONNREFUSED (or what else they failed with) when
/// every address fails.
///
/// # Safety
/// `name` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn dill_happyeyeballs_connect(name: *const c_char, port: c_int, deadline: i64) -> c_int {
    if name.is_null() || !(1..=65535).contains(&port) {
        return errno::fail(libc::EINVAL);
    }
    // SAFETY: a C string (caller's contract). Not UTF-8: no such host.
    let Ok(name) = unsafe { CStr::from_ptr(name) }.to_str() else { return errno::fail(libc::EADDRNOTAVAIL) };
    let r = ctx::get().and_then(|cx| happyeyeballs::connect(cx, name, port as u16, deadline));
    conn::made(crate::ffi::ret(r))
}
