//! What 2.14 adds to our TCP and IPC streams: one sender and one receiver
//! at a time (a second gets EBUSY), and file descriptors passed over IPC
//! with SCM_RIGHTS (ipc_sendfd/ipc_recvfd), for which 2.14's IPC streams
//! read no byte past what was asked: a buffered read would swallow the
//! descriptor that comes with the next byte.

use crate::core::ctx::Ctx;
use crate::core::{errno, fdwait};
use crate::net::iol::iolist;
use crate::net::stream::{self, Stream, INDONE, INERR, IPC, OUTDONE, OUTERR};
use core::ffi::{c_int, c_void};
use core::ptr;

const SBUSY: u8 = 1;
const RBUSY: u8 = 2;
const UNBUFFERED: u8 = 4;

/// The byte that carries a passed descriptor (any value would do).
const FD_BYTE: u8 = 0xcc;

/// Gives the stream behind new handle `h` (if it is one) 2.14's state; a
/// 2.14 call that made a stream passes its result through here.
pub fn made(cx: &Ctx, h: c_int) -> c_int {
    if h >= 0 {
        if let Some(st) = cx.handles().get(h).and_then(|v| stream::as_stream(v, 0)) {
            // SAFETY: st is the live stream h names.
            unsafe { (*st).gen214 = if (*st).kind == IPC { UNBUFFERED } else { 0 } };
        }
    }
    h
}

/// Our stream behind handle `s`, if it is one.
pub fn of(cx: &Ctx, s: c_int) -> Option<*mut Stream> {
    cx.handles().get(s).and_then(|v| stream::as_stream(v, 0))
}

/// Marks direction `bit` busy for the call `f`; EBUSY if it already is.
/// Returns 0 or an errno.
fn exclusive(st: *mut Stream, bit: u8, f: impl FnOnce() -> i32) -> i32 {
    // SAFETY: st is a live stream.
    unsafe {
        if (*st).gen214 & bit != 0 {
            return libc::EBUSY;
        }
        (*st).gen214 |= bit;
    }
    let e = f();
    // EBADF: closed under us, its memory may be gone (see stream::send).
    if e != libc::EBADF {
        // SAFETY: the stream outlived the call.
        unsafe { (*st).gen214 &= !bit };
    }
    e
}

/// bsendl/brecvl of 2.14 on our stream. Returns 0 or an errno.
pub fn io(cx: &Ctx, st: *mut Stream, first: *mut iolist, last: *mut iolist, deadline: i64, send: bool) -> i32 {
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return libc::ECANCELED;
    }
    if send {
        return exclusive(st, SBUSY, || stream::send(cx, st, first, last, deadline));
    }
    // SAFETY: st is a live stream.
    let unbuffered = unsafe { (*st).gen214 } & UNBUFFERED != 0;
    exclusive(st, RBUSY, || {
        if unbuffered {
            stream::recv_unbuffered(cx, st, first, last, deadline)
        } else {
            stream::recv(cx, st, first, last, deadline)
        }
    })
}

/// The IPC stream behind `s`: EBADF, or ENOTSUP for anything else.
fn ipc_of(cx: &Ctx, s: c_int) -> Result<*mut Stream, i32> {
    let vfs = cx.handles().get(s).ok_or(libc::EBADF)?;
    stream::as_stream(vfs, IPC).ok_or(libc::ENOTSUP)
}

fn blocking(cx: &Ctx) -> Result<(), i32> {
    // SAFETY: the running coroutine is live.
    if unsafe { (*cx.me()).can_block() } { Ok(()) } else { Err(libc::ECANCELED) }
}

/// EPIPE if the direction whose flags are `done`/`err` ended, ECONNRESET
/// if it broke.
fn open_dir(st: *mut Stream, done: u8, err: u8) -> Result<(), i32> {
    // SAFETY: st is a live stream.
    let flags = unsafe { (*st).flags };
    if flags & done != 0 {
        Err(libc::EPIPE)
    } else if flags & err != 0 {
        Err(libc::ECONNRESET)
    } else {
        Ok(())
    }
}

/// ipc_sendfd: sends `fd` (a copy of it: the caller keeps its own) over
/// IPC stream `s`, in order with the stream's bytes.
pub fn send_fd(cx: &Ctx, s: c_int, fd: c_int, deadline: i64) -> Result<(), i32> {
    let st = ipc_of(cx, s)?;
    if fd < 0 {
        return Err(libc::EINVAL);
    }
    blocking(cx)?;
    open_dir(st, OUTDONE, OUTERR)?;
    let e = exclusive(st, SBUSY, || {
        // SAFETY: st is live for the call.
        let sfd = unsafe { (*st).fd };
        let mut byte = FD_BYTE;
        let mut iov = libc::iovec { iov_base: &mut byte as *mut u8 as *mut c_void, iov_len: 1 };
        // One cmsghdr with one int, 8-aligned as CMSG_* expect.
        let mut control = [0u64; 4];
        // SAFETY: an all-zero msghdr is valid; the pointers set are live
        // for the call; CMSG_* stay inside `control`.
        unsafe {
            let mut msg: libc::msghdr = core::mem::zeroed();
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr() as *mut c_void;
            msg.msg_controllen = libc::CMSG_SPACE(core::mem::size_of::<c_int>() as u32) as usize;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(core::mem::size_of::<c_int>() as u32) as usize;
            ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut c_int, fd);
            loop {
                if libc::sendmsg(sfd, &msg, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT) == 1 {
                    return 0;
                }
                match errno::get() {
                    libc::EINTR => {}
                    libc::EAGAIN => match fdwait::wait_after_eagain(cx, sfd, fdwait::OUT, deadline) {
                        0 => {}
                        e => return e,
                    },
                    libc::EPIPE | libc::ECONNRESET => {
                        (*st).flags |= OUTERR;
                        return libc::ECONNRESET;
                    }
                    e => return e,
                }
            }
        }
    });
    if e == 0 { Ok(()) } else { Err(e) }
}

/// ipc_recvfd: the next descriptor passed over IPC stream `s` (EPROTO if
/// the next byte carries none).
pub fn recv_fd(cx: &Ctx, s: c_int, deadline: i64) -> Result<c_int, i32> {
    let st = ipc_of(cx, s)?;
    blocking(cx)?;
    open_dir(st, INDONE, INERR)?;
    let mut got: c_int = -1;
    let e = exclusive(st, RBUSY, || {
        // SAFETY: st is live for the call.
        let sfd = unsafe { (*st).fd };
        let mut byte = 0u8;
        let mut iov = libc::iovec { iov_base: &mut byte as *mut u8 as *mut c_void, iov_len: 1 };
        let mut control = [0u64; 32];
        // SAFETY: as in send_fd; the kernel writes at most msg_controllen.
        unsafe {
            let mut msg: libc::msghdr = core::mem::zeroed();
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr() as *mut c_void;
            msg.msg_controllen = core::mem::size_of_val(&control);
            let n = loop {
                let n = libc::recvmsg(sfd, &mut msg, libc::MSG_DONTWAIT);
                if n >= 0 {
                    break n;
                }
                match errno::get() {
                    libc::EINTR => {}
                    libc::EAGAIN => match fdwait::wait_after_eagain(cx, sfd, fdwait::IN, deadline) {
                        0 => {}
                        e => return e,
                    },
                    _ => {
                        stream::end_in(st, INERR);
                        return libc::ECONNRESET;
                    }
                }
            };
            if n == 0 {
                stream::end_in(st, INDONE);
                return libc::EPIPE;
            }
            // Take the first descriptor; close any others that came along.
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                    let data = libc::CMSG_DATA(c) as *const c_int;
                    let count = ((*c).cmsg_len - libc::CMSG_LEN(0) as usize) / core::mem::size_of::<c_int>();
                    for i in 0..count {
                        let fd = ptr::read_unaligned(data.add(i));
                        if got < 0 {
                            got = fd;
                        } else {
                            libc::close(fd);
                        }
                    }
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
            if got < 0 {
                stream::end_in(st, INERR);
                return libc::EPROTO;
            }
            0
        }
    });
    if e == 0 { Ok(got) } else { Err(e) }
}
