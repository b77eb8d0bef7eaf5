//! UDP: the 2.6 calls under dill_ names with 2.14's storage; a socket
//! opened with a remote address receives only that address's datagrams
//! (others are dropped, as 2.14 does), through dill_udp_recv(l) and the
//! generic dill_mrecv(l) alike.

use super::storage::{place, dill_udp_storage};
use crate::core::ctx::{self, Ctx};
use crate::core::errno;
use crate::ffi::udp as c26;
use crate::net::iol::iolist;
use crate::net::ipaddr::ipaddr;
use crate::net::udp::{self, Udp};
use core::ffi::{c_int, c_void};
use core::ptr;

/// Bytes of 2.14's UDP storage: the socket is built in it, its default
/// remote address (if any) allocated.
const UDP_SIZE: usize = udp::SIZE214;

/// A UDP socket bound to `local`, sending to `remote` by default.
///
/// # Safety
/// Both NULL or valid; `local` writable.
#[no_mangle]
pub unsafe extern "C" fn dill_udp_open(local: *mut ipaddr, remote: *const ipaddr) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::udp_open(local, remote) }
}

/// dill_udp_open in caller storage.
///
/// # Safety
/// As dill_udp_open; `mem` must outlive the socket.
#[no_mangle]
pub unsafe extern "C" fn dill_udp_open_mem(local: *mut ipaddr, remote: *const ipaddr, mem: *mut dill_udp_storage) -> c_int {
    let Some(m) = place::<udp::Split>(mem as *mut c_void, UDP_SIZE) else { return errno::fail(libc::EINVAL) };
    crate::ffi::ret(ctx::get().and_then(|cx| udp::open(cx, local, remote, m, !m.is_null())))
}

/// Sends one datagram to `addr` (NULL: the default remote).
///
/// # Safety
/// `buf` must be `len` readable bytes; `addr` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn dill_udp_send(s: c_int, addr: *const ipaddr, buf: *const c_void, len: usize) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::udp_send(s, addr, buf, len) }
}

/// Sends the list as one datagram.
///
/// # Safety
/// The list and its buffers must be valid; `addr` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn dill_udp_sendl(s: c_int, addr: *const ipaddr, first: *mut iolist, last: *mut iolist) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::udp_sendl(s, addr, first, last) }
}

/// Receives one datagram (from the default remote only, if there is one).
pub(crate) fn recv(cx: &Ctx, u: *mut Udp, addr: *mut ipaddr, first: *mut iolist, last: *mut iolist, deadline: i64) -> Result<usize, i32> {
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return Err(libc::ECANCELED);
    }
    let want = udp::default_remote(u);
    loop {
        let mut from = ipaddr::zeroed();
        let n = udp::recv(cx, u, &mut from, first, last, deadline)?;
        if want.as_ref().is_some_and(|w| !from.same(w, false)) {
            continue;
        }
        if !addr.is_null() {
            // SAFETY: addr is writable (caller's contract).
            unsafe { addr.write(from) };
        }
        return Ok(n);
    }
}

/// Receives one datagram into the list; returns its size.
///
/// # Safety
/// The list and its buffers must be valid; `addr` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dill_udp_recvl(
    s: c_int,
    addr: *mut ipaddr,
    first: *mut iolist,
    last: *mut iolist,
    deadline: i64,
) -> libc::ssize_t {
    let r = ctx::get().and_then(|cx| c26::udp_of(cx, s).and_then(|u| recv(cx, u, addr, first, last, deadline)));
    match r {
        Ok(n) => n as libc::ssize_t,
        Err(e) => errno::fail(e) as libc::ssize_t,
    }
}

/// Receives one datagram of at most `len` bytes.
///
/// # Safety
/// `buf` must be `len` writable bytes; `addr` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dill_udp_recv(s: c_int, addr: *mut ipaddr, buf: *mut c_void, len: usize, deadline: i64) -> libc::ssize_t {
    let mut iol = iolist { iol_base: buf, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    // SAFETY: a one-piece list over the caller's buffer.
    unsafe { dill_udp_recvl(s, addr, &mut iol, &mut iol, deadline) }
}
