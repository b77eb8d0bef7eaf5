//! IPC: UNIX-domain stream sockets named by filesystem paths.

use crate::core::ctx::Ctx;
use crate::net::fdio;
use crate::net::listener;
use crate::net::stream::{self, Mem, IPC};
use core::ffi::{c_char, c_int, c_void, CStr};

/// The sockaddr for `path`: EINVAL for NULL, ENAMETOOLONG if it does not fit.
fn resolve(path: *const c_char) -> Result<libc::sockaddr_un, i32> {
    if path.is_null() {
        return Err(libc::EINVAL);
    }
    // SAFETY: non-null paths are C strings (caller's contract).
    let p = unsafe { CStr::from_ptr(path) }.to_bytes();
    // SAFETY: all-zero is a valid sockaddr_un.
    let mut su: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    if p.is_empty() {
        return Err(libc::ENOENT); // As for any empty pathname.
    }
    if p.len() >= su.sun_path.len() {
        return Err(libc::ENAMETOOLONG);
    }
    su.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, &s) in su.sun_path.iter_mut().zip(p) {
        *d = s as c_char;
    }
    Ok(su)
}

const SU_LEN: u32 = core::mem::size_of::<libc::sockaddr_un>() as u32;

pub fn listen(cx: &Ctx, path: *const c_char, backlog: c_int, mem: *mut c_void) -> Result<c_int, i32> {
    let su = resolve(path)?;
    let fd = fdio::socket(libc::AF_UNIX, libc::SOCK_STREAM)?;
    let r = (|| {
        // SAFETY: su is a valid sockaddr_un.
        if unsafe { libc::bind(fd, &su as *const _ as *const libc::sockaddr, SU_LEN) } < 0 {
            return Err(crate::core::errno::get());
        }
        // SAFETY: plain syscall.
        if unsafe { libc::listen(fd, backlog) } < 0 {
            return Err(crate::core::errno::get());
        }
        listener::create(cx, fd, IPC, mem)
    })();
    if r.is_err() {
        fdio::close(cx, fd);
    }
    r
}

pub fn accept(cx: &Ctx, l: *mut listener::Listener, mem: Mem, deadline: i64) -> Result<c_int, i32> {
    // SAFETY: l is a live listener.
    let lfd = unsafe { (*l).fd };
    let r = stream::reserve(mem)?;
    let fd = match fdio::accept(cx, lfd, core::ptr::null_mut(), core::ptr::null_mut(), deadline) {
        Ok(fd) => fd,
        Err(e) => {
            r.cancel();
            return Err(e);
        }
    };
    stream::create(cx, fd, IPC, r).inspect_err(|_| fdio::close(cx, fd))
}

pub fn connect(cx: &Ctx, path: *const c_char, mem: Mem, deadline: i64) -> Result<c_int, i32> {
    let su = resolve(path)?;
    stream::connect(cx, libc::AF_UNIX, &su as *const _ as *const libc::sockaddr, SU_LEN, IPC, mem, deadline)
}

/// Two connected streams, both placed as `mem` says, one after the other.
pub fn pair(cx: &Ctx, mem: Mem) -> Result<[c_int; 2], i32> {
    let mem1 = mem.second();
    let r0 = stream::reserve(mem)?;
    let r1 = match stream::reserve(mem1) {
        Ok(r) => r,
        Err(e) => {
            r0.cancel();
            return Err(e);
        }
    };
    let mut fds = [0 as c_int; 2];
    // SAFETY: fds has room for two descriptors.
    let rc = unsafe {
        libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr())
    };
    if rc < 0 {
        r0.cancel();
        r1.cancel();
        return Err(crate::core::errno::get());
    }
    let h0 = match stream::create(cx, fds[0], IPC, r0) {
        Ok(h) => h,
        Err(e) => {
            r1.cancel();
            fdio::close(cx, fds[0]);
            fdio::close(cx, fds[1]);
            return Err(e);
        }
    };
    match stream::create(cx, fds[1], IPC, r1) {
        Ok(h1) => Ok([h0, h1]),
        Err(e) => {
            let _ = crate::core::handles::close(cx, h0);
            fdio::close(cx, fds[1]);
            Err(e)
        }
    }
}
