//! UDP: udp_open(_mem), udp_send(l), udp_recv(l).

use crate::core::ctx::{self, Ctx};
use crate::core::errno;
use crate::net::iol::iolist;
use crate::net::ipaddr::ipaddr;
use crate::net::udp::{self, Udp};
use core::ffi::{c_int, c_void};
use core::ptr;

pub(crate) fn udp_of(cx: &Ctx, s: c_int) -> Result<*mut Udp, i32> {
    let vfs = cx.handles().get(s).ok_or(libc::EBADF)?;
    udp::as_udp(vfs).ok_or(libc::ENOTSUP)
}

/// A UDP socket bound to `local` (if not NULL) with default destination
/// `remote` (if not NULL).
///
/// # Safety
/// Non-NULL addresses must be valid; `local` writable.
#[no_mangle]
pub unsafe extern "C" fn udp_open(local: *mut ipaddr, remote: *const ipaddr) -> c_int {
    super::ret(ctx::get().and_then(|cx| udp::open(cx, local, remote, ptr::null_mut(), false)))
}

/// udp_open in caller memory of UDP_SIZE bytes.
///
/// # Safety
/// As udp_open; `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn udp_open_mem(local: *mut ipaddr, remote: *const ipaddr, mem: *mut c_void) -> c_int {
    let Some(mem) = super::caller_mem::<udp::Udp>(mem) else { return errno::fail(libc::EINVAL) };
    super::ret(ctx::get().and_then(|cx| udp::open(cx, local, remote, mem, false)))
}

/// Sends the list as one datagram to `addr` (NULL: the default remote).
///
/// # Safety
/// The list and its buffers must be valid; `addr` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn udp_sendl(s: c_int, addr: *const ipaddr, first: *mut iolist, last: *mut iolist) -> c_int {
    let r = ctx::get().and_then(|cx| udp_of(cx, s)).and_then(|u| udp::send(u, addr, first, last));
    super::ret(r.map(|()| 0))
}

/// Sends `len` bytes as one datagram.
///
/// # Safety
/// `buf` must be `len` readable bytes; `addr` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn udp_send(s: c_int, addr: *const ipaddr, buf: *const c_void, len: usize) -> c_int {
    let mut iol = iolist { iol_base: buf as *mut c_void, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    // SAFETY: a one-piece list over the caller's buffer.
    unsafe { udp_sendl(s, addr, &mut iol, &mut iol) }
}

/// Receives one datagram into the list; its sender goes to `addr` if not
/// NULL. Returns its size.
///
/// # Safety
/// The list and its buffers must be valid; `addr` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn udp_recvl(
    s: c_int,
    addr: *mut ipaddr,
    first: *mut iolist,
    last: *mut iolist,
    deadline: i64,
) -> libc::ssize_t {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) as libc::ssize_t };
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return errno::fail(libc::ECANCELED) as libc::ssize_t;
    }
    match udp_of(cx, s).and_then(|u| udp::recv(cx, u, addr, first, last, deadline)) {
        Ok(n) => n as libc::ssize_t,
        Err(e) => errno::fail(e) as libc::ssize_t,
    }
}

/// Receives one datagram of at most `len` bytes.
///
/// # Safety
/// `buf` must be `len` writable bytes; `addr` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn udp_recv(s: c_int, addr: *mut ipaddr, buf: *mut c_void, len: usize, deadline: i64) -> libc::ssize_t {
    let mut iol = iolist { iol_base: buf, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    // SAFETY: a one-piece list over the caller's buffer.
    unsafe { udp_recvl(s, addr, &mut iol, &mut iol, deadline) }
}
