//! TCP: listening, accepting and connecting.

use crate::core::ctx::Ctx;
use crate::core::errno;
use crate::net::fdio;
use crate::net::ipaddr::ipaddr;
use crate::net::stream::{self, Mem, TCP};
use crate::net::listener;
use core::ffi::{c_int, c_void};

/// Bound, listening socket for `addr`; a port of 0 is replaced in `addr` by
/// the one the system picked.
pub fn listen(cx: &Ctx, addr: *mut ipaddr, backlog: c_int, mem: *mut c_void) -> Result<c_int, i32> {
    // SAFETY: addr non-null (checked by the caller) and readable.
    let a = unsafe { &mut *addr };
    let fd = fdio::socket(a.ip_family()?, libc::SOCK_STREAM)?;
    let r = (|| {
        // SAFETY: the sockaddr inside `a` is a.len() bytes.
        if unsafe { libc::bind(fd, a.data.as_ptr() as *const libc::sockaddr, a.len() as u32) } < 0 {
            return Err(errno::get());
        }
        // SAFETY: plain syscall.
        if unsafe { libc::listen(fd, backlog) } < 0 {
            return Err(errno::get());
        }
        if a.port() == 0 {
            let mut bound = ipaddr::zeroed();
            let mut len = 32 as libc::socklen_t;
            // SAFETY: bound has 32 writable bytes.
            if unsafe { libc::getsockname(fd, bound.data.as_mut_ptr() as *mut libc::sockaddr, &mut len) } < 0 {
                return Err(errno::get());
            }
            a.set_port(bound.port());
        }
        listener::create(cx, fd, TCP, mem)
    })();
    if r.is_err() {
        fdio::close(cx, fd);
    }
    r
}

/// Accepts a connection on listener `l`; the peer's address goes to `addr`
/// if not null.
pub fn accept(cx: &Ctx, l: *mut listener::Listener, addr: *mut ipaddr, mem: Mem, deadline: i64) -> Result<c_int, i32> {
    let mut peer = ipaddr::zeroed();
    let mut len = 32 as libc::socklen_t;
    // SAFETY: l is a live listener.
    let lfd = unsafe { (*l).fd };
    let r = stream::reserve(mem)?;
    let fd = match fdio::accept(cx, lfd, peer.data.as_mut_ptr() as *mut libc::sockaddr, &mut len, deadline) {
        Ok(fd) => fd,
        Err(e) => {
            r.cancel();
            return Err(e);
        }
    };
    let h = stream::create(cx, fd, TCP, r).inspect_err(|_| fdio::close(cx, fd))?;
    if !addr.is_null() {
        // SAFETY: addr is writable (caller's contract); peer was filled by accept.
        unsafe { addr.write(ipaddr::from_sockaddr(peer.data.as_ptr() as *const libc::sockaddr, len as usize)) };
    }
    Ok(h)
}

/// Connects to `addr` within `deadline`.
pub fn connect(cx: &Ctx, addr: *const ipaddr, mem: Mem, deadline: i64) -> Result<c_int, i32> {
    // SAFETY: addr non-null (checked by the caller).
    let a = unsafe { &*addr };
    stream::connect(cx, a.ip_family()?, a.data.as_ptr() as *const libc::sockaddr, a.len() as u32, TCP, mem, deadline)
}
