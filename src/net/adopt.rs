//! Sockets made elsewhere, adopted by 2.14's tcp/ipc `*_fromfd` calls: the
//! fd must be a stream socket of the protocol's families, listening or not
//! as asked. It becomes non-blocking and the new object's; on failure it
//! stays the caller's.

use crate::core::ctx::Ctx;
use crate::core::{errno, fdwait};
use crate::net::stream::{self, TCP};
use crate::net::listener;
use core::ffi::{c_int, c_void};

/// Wraps connected stream socket `fd` in a connection of `kind`, placed as
/// `mem` says.
pub fn stream(cx: &Ctx, fd: c_int, kind: u8, mem: stream::Mem) -> Result<c_int, i32> {
    check(fd, kind, false)?;
    take(cx, fd)?;
    stream::create(cx, fd, kind, stream::reserve(mem)?)
}

/// Wraps listening socket `fd` in a listener of `kind`, in `mem` if not null.
pub fn listener(cx: &Ctx, fd: c_int, kind: u8, mem: *mut c_void) -> Result<c_int, i32> {
    check(fd, kind, true)?;
    take(cx, fd)?;
    listener::create(cx, fd, kind, mem)
}

fn getsockopt_int(fd: c_int, opt: c_int) -> Result<c_int, i32> {
    let mut v: c_int = 0;
    let mut len = core::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: v is a writable int of len bytes.
    if unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, &mut v as *mut c_int as *mut c_void, &mut len) } < 0 {
        return Err(errno::get());
    }
    Ok(v)
}

/// EINVAL unless `fd` is a stream socket of `kind`'s families in the asked
/// state (what the kernel says of a non-socket, e.g. ENOTSOCK, otherwise).
fn check(fd: c_int, kind: u8, listening: bool) -> Result<(), i32> {
    if fd < 0 {
        return Err(libc::EINVAL);
    }
    if getsockopt_int(fd, libc::SO_TYPE)? != libc::SOCK_STREAM {
        return Err(libc::EINVAL);
    }
    if (getsockopt_int(fd, libc::SO_ACCEPTCONN)? != 0) != listening {
        return Err(libc::EINVAL);
    }
    // SAFETY: a zeroed sockaddr_storage is a valid out-buffer of its size.
    let mut ss: libc::sockaddr_storage = unsafe { core::mem::zeroed() };
    let mut len = core::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: ss has len writable bytes.
    if unsafe { libc::getsockname(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) } < 0 {
        return Err(errno::get());
    }
    let fam = ss.ss_family as c_int;
    let ok = if kind == TCP { fam == libc::AF_INET || fam == libc::AF_INET6 } else { fam == libc::AF_UNIX };
    if ok { Ok(()) } else { Err(libc::EINVAL) }
}

/// Makes `fd` non-blocking, and forgets whatever the runtime knew of an
/// earlier fd of that number.
fn take(cx: &Ctx, fd: c_int) -> Result<(), i32> {
    // SAFETY: plain fcntl calls on a valid fd.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if fl < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) } < 0 {
        return Err(errno::get());
    }
    fdwait::clean(cx, fd);
    Ok(())
}
