//! Byte streams over non-blocking sockets: the syscall loops shared by TCP
//! and IPC (and the socket set-up shared by all protocols).
//!
//! Every loop tries the syscall first and waits only after EAGAIN, so a
//! ready socket costs exactly one syscall. Loops that keep making progress
//! still look at the clock: an expired deadline ends them with ETIMEDOUT
//! even while the peer keeps the socket busy.

use crate::core::clock::now_ms;
use crate::core::ctx::Ctx;
use crate::core::errno;
use crate::core::fdwait::{self, IN, OUT};
use crate::net::iol::{iolist, Cursor, IoVecs, Small};
use core::ffi::c_void;
use core::ptr;


/// Receive buffer of a stream socket: small reads are served from it.
pub struct RxBuf<'a> {
    pub data: &'a mut [u8],
    pub pos: &'a mut u32,
    pub len: &'a mut u32,
}

fn expired(deadline: i64) -> bool {
    deadline > 0 && now_ms() >= deadline
}

/// Maps a send/recv failure: EPIPE from the kernel means the peer reset.
fn io_err() -> i32 {
    match errno::get() {
        libc::EPIPE => libc::ECONNRESET,
        e => e,
    }
}

/// A new non-blocking, close-on-exec socket. IP sockets may rebind a local
/// address at once (SO_REUSEADDR), as with the original: a restarted
/// server does not wait for old connections to leave TIME_WAIT.
///
/// TCP sockets send at once (TCP_NODELAY; accepted ones inherit it from
/// their listener). Every bsend is a whole message already; with Nagle's
/// algorithm a reply written in pieces (an HTTP head, then its body) waits
/// for the peer's delayed ACK: 40 ms per exchange on Linux.
pub fn socket(family: i32, kind: i32) -> Result<i32, i32> {
    // SAFETY: plain syscall.
    let fd = unsafe { libc::socket(family, kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(errno::get());
    }
    if family != libc::AF_UNIX {
        let one: i32 = 1;
        // SAFETY: a valid int option value.
        unsafe {
            libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, &one as *const i32 as *const c_void, 4)
        };
        if kind == libc::SOCK_STREAM {
            // SAFETY: a valid int option value.
            unsafe {
                libc::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, &one as *const i32 as *const c_void, 4)
            };
        }
    }
    Ok(fd)
}

/// Closes a socket the runtime may have waited on: coroutines blocked on it,
/// or woken and not yet run, fail with EBADF and touch nothing (see
/// `fdwait::clean`). The kernel still delivers what was sent.
pub fn close(cx: &Ctx, fd: i32) {
    fdwait::clean(cx, fd);
    // SAFETY: the caller owns fd.
    unsafe { libc::close(fd) };
}

/// Closes a TCP connection abruptly, as the original's hclose does: unsent
/// data is dropped and the peer sees ECONNRESET. An orderly close is what
/// tcp_close's handshake is for.
pub fn reset(cx: &Ctx, fd: i32) {
    let abort = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: the caller owns fd; a valid option value.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &abort as *const libc::linger as *const c_void,
            core::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    close(cx, fd);
}

/// Connects `fd` to `sa`, waiting for the handshake within `deadline`.
pub fn connect(cx: &Ctx, fd: i32, sa: *const libc::sockaddr, len: u32, deadline: i64) -> Result<(), i32> {
    // SAFETY: sa points to len bytes of address (caller's contract).
    if unsafe { libc::connect(fd, sa, len) } == 0 {
        return Ok(());
    }
    let e = errno::get();
    if e != libc::EINPROGRESS {
        return Err(e);
    }
    match fdwait::wait_after_eagain(cx, fd, OUT, deadline) {
        0 => {}
        e => return Err(e),
    }
    let mut err: i32 = 0;
    let mut sz = core::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: err and sz are valid out-parameters.
    let rc = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, &mut err as *mut i32 as *mut c_void, &mut sz) };
    if rc != 0 {
        return Err(errno::get());
    }
    match err {
        0 => Ok(()),
        // The peer ended the connection (FIN, then a reset) before we
        // looked at it: to the caller that is a reset connection (EPIPE is
        // not among the connect calls' errors).
        libc::EPIPE => Err(libc::ECONNRESET),
        e => Err(e),
    }
}

/// What to do after accept(2) failed with `e`.
#[derive(Debug, PartialEq, Eq)]
pub enum AcceptFailure {
    /// The connection went away before we took it: take the next one.
    Retry,
    /// Nothing to accept yet: wait for the listener.
    Wait,
    /// Report `e` to the caller (EMFILE, ENFILE, ENOBUFS, ENOMEM...).
    Fail(i32),
}

pub fn accept_failure(e: i32) -> AcceptFailure {
    match e {
        libc::ECONNABORTED | libc::EINTR => AcceptFailure::Retry,
        libc::EAGAIN => AcceptFailure::Wait,
        libc::ENOBUFS => AcceptFailure::Fail(libc::ENOMEM),
        e => AcceptFailure::Fail(e),
    }
}

/// Accepts a connection on listening `fd`; the peer's address goes into
/// `sa`/`len` if given.
pub fn accept(cx: &Ctx, fd: i32, sa: *mut libc::sockaddr, len: *mut libc::socklen_t, deadline: i64) -> Result<i32, i32> {
    loop {
        // SAFETY: sa/len are null or valid out-parameters.
        let s = unsafe { libc::accept4(fd, sa, len, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) };
        if s >= 0 {
            return Ok(s);
        }
        match accept_failure(errno::get()) {
            AcceptFailure::Retry => continue,
            AcceptFailure::Wait => {}
            AcceptFailure::Fail(e) => return Err(e),
        }
        match fdwait::wait_after_eagain(cx, fd, IN, deadline) {
            0 => {}
            e => return Err(e),
        }
    }
}

/// Sends the whole list (already checked). One sendmsg per 64 pieces when
/// the socket keeps up; a short one means the send buffer is full, so the
/// next is made after the edge that says there is room (no EAGAIN call).
pub fn send(cx: &Ctx, fd: i32, first: *mut iolist, deadline: i64) -> Result<(), i32> {
    send_from(cx, fd, first, 0, true, deadline)
}

/// `send` of a list `iol::gather_small` took (`first` is still the list):
/// the one sendmsg that sends it all unless the buffer is full, without a
/// Cursor; what is left after a short one goes the general way.
pub fn send_small(cx: &Ctx, fd: i32, first: *mut iolist, small: &mut Small, deadline: i64) -> Result<(), i32> {
    if small.total() == 0 {
        return Ok(());
    }
    if deadline != 0 && !fdwait::may_be_ready(cx, fd, OUT) {
        return send(cx, fd, first, deadline);
    }
    let hdr = small.msghdr();
    // SAFETY: hdr describes the caller's buffers.
    let sz = unsafe { libc::sendmsg(fd, &hdr, libc::MSG_NOSIGNAL) };
    if sz >= 0 {
        if sz as usize == small.total() {
            return Ok(());
        }
        fdwait::drained(cx, fd, OUT);
        return send_from(cx, fd, first, sz as usize, false, deadline);
    }
    if errno::get() != libc::EAGAIN {
        return Err(io_err());
    }
    match fdwait::wait_after_eagain(cx, fd, OUT, deadline) {
        0 => send_from(cx, fd, first, 0, true, deadline),
        e => Err(e),
    }
}

/// `send` of what follows the first `sent` bytes of the list; `waited`:
/// the deadline need not be looked at before the first try.
fn send_from(cx: &Ctx, fd: i32, first: *mut iolist, sent: usize, waited: bool, deadline: i64) -> Result<(), i32> {
    let mut cur = Cursor::new(first);
    cur.advance(sent);
    let mut iov = IoVecs::new();
    let mut waited = waited;
    while !cur.done() {
        if !waited && expired(deadline) {
            return Err(libc::ETIMEDOUT);
        }
        if deadline != 0 && !fdwait::may_be_ready(cx, fd, OUT) {
            match fdwait::wait_after_eagain(cx, fd, OUT, deadline) {
                0 => {}
                e => return Err(e),
            }
        }
        let bytes = cur.iovecs(&mut iov, false);
        let hdr = iov.msghdr();
        // SAFETY: hdr describes the caller's buffers.
        let sz = unsafe { libc::sendmsg(fd, &hdr, libc::MSG_NOSIGNAL) };
        if sz >= 0 {
            cur.advance(sz as usize);
            if (sz as usize) < bytes {
                fdwait::drained(cx, fd, OUT);
            }
            waited = false;
            continue;
        }
        if errno::get() != libc::EAGAIN {
            return Err(io_err());
        }
        match fdwait::wait_after_eagain(cx, fd, OUT, deadline) {
            0 => waited = true,
            e => return Err(e),
        }
    }
    Ok(())
}

/// One recvmsg into `iov`: Ok(n > 0), Err(EPIPE) at end of stream,
/// Err(EAGAIN). A read shorter than asked drained the receive queue (see
/// fdwait) unless ancillary data cut it short: file descriptors or
/// credentials a peer attached end a read early on a UNIX socket, and are
/// dropped here (MSG_CTRUNC), as before.
fn recv_iov(cx: &Ctx, fd: i32, hdr: &mut libc::msghdr, asked: usize) -> Result<usize, i32> {
    // SAFETY: hdr describes writable buffers of `asked` bytes.
    let sz = unsafe { libc::recvmsg(fd, hdr, 0) };
    match sz {
        0 => Err(libc::EPIPE),
        n if n > 0 => {
            if (n as usize) < asked && hdr.msg_flags & libc::MSG_CTRUNC == 0 {
                fdwait::drained(cx, fd, IN);
            }
            Ok(n as usize)
        }
        _ => Err(io_err()),
    }
}

/// Why `read_some` got nothing.
pub enum ReadFailure {
    /// The stream failed: EPIPE at its end, ECONNRESET...
    Stream(i32),
    /// The wait did (ETIMEDOUT, ECANCELED, or EBADF when the fd was cleaned
    /// meanwhile: then the caller must touch nothing); the stream is as it was.
    Wait(i32),
}

/// One read of up to `len` bytes into `buf`, waiting within `deadline`
/// while there is nothing: what a receive buffer is refilled with.
pub fn read_some(cx: &Ctx, fd: i32, buf: *mut u8, len: usize, deadline: i64) -> Result<usize, ReadFailure> {
    let mut v = libc::iovec { iov_base: buf as *mut c_void, iov_len: len };
    loop {
        if deadline == 0 || fdwait::may_be_ready(cx, fd, IN) {
            // SAFETY: an all-zero msghdr is valid; it gets one iovec.
            let mut hdr: libc::msghdr = unsafe { core::mem::zeroed() };
            hdr.msg_iov = &mut v;
            hdr.msg_iovlen = 1;
            match recv_iov(cx, fd, &mut hdr, len) {
                Ok(n) => return Ok(n),
                Err(libc::EAGAIN) => {}
                Err(e) => return Err(ReadFailure::Stream(e)),
            }
        }
        match fdwait::wait_after_eagain(cx, fd, IN, deadline) {
            0 => {}
            e => return Err(ReadFailure::Wait(e)),
        }
    }
}

/// Copies buffered bytes into the list (skip pieces just consume them).
fn drain_rx(rx: &mut RxBuf, cur: &mut Cursor) {
    while !cur.done() && *rx.pos < *rx.len {
        let (base, left) = cur.piece();
        let avail = (*rx.len - *rx.pos) as usize;
        let k = left.min(avail);
        if !base.is_null() {
            // SAFETY: base has `left` writable bytes; the source is in rx.data.
            unsafe { ptr::copy_nonoverlapping(rx.data.as_ptr().add(*rx.pos as usize), base, k) };
        }
        *rx.pos += k as u32;
        cur.advance(k);
    }
}

/// Receives exactly the list's length (already checked). Small requests go
/// through the receive buffer, large ones straight into the caller's memory.
/// A list pointer of null means: read and drop everything until the end of
/// the stream (which is then reported as EPIPE). Inlined into each of its
/// two callers (buffered and unbuffered stream receives), as it always was
/// into the one there used to be.
#[inline(always)]
pub fn recv(cx: &Ctx, fd: i32, rx: &mut RxBuf, first: *mut iolist, deadline: i64) -> Result<(), i32> {
    let drop_all = first.is_null();
    let mut cur = Cursor::new(first);
    let mut iov = IoVecs::new();
    let mut waited = true;
    loop {
        if drop_all {
            *rx.pos = 0;
            *rx.len = 0;
        } else {
            drain_rx(rx, &mut cur);
            if cur.done() {
                return Ok(());
            }
        }
        if !waited && expired(deadline) {
            return Err(libc::ETIMEDOUT);
        }
        // Nothing there at the last read and no edge since: wait for one.
        if deadline != 0 && !fdwait::may_be_ready(cx, fd, IN) {
            match fdwait::wait_after_eagain(cx, fd, IN, deadline) {
                0 => {}
                e => return Err(e),
            }
        }
        // Large contiguous requests skip the buffer copy.
        let bytes = if drop_all { 0 } else { cur.iovecs(&mut iov, true) };
        let got = if !iov.is_empty() && bytes >= rx.data.len() {
            let mut hdr = iov.msghdr();
            recv_iov(cx, fd, &mut hdr, bytes).map(|sz| cur.advance(sz))
        } else {
            let mut v = libc::iovec { iov_base: rx.data.as_mut_ptr() as *mut c_void, iov_len: rx.data.len() };
            // SAFETY: an all-zero msghdr is valid; it gets one iovec.
            let mut hdr: libc::msghdr = unsafe { core::mem::zeroed() };
            hdr.msg_iov = &mut v;
            hdr.msg_iovlen = 1;
            recv_iov(cx, fd, &mut hdr, rx.data.len()).map(|k| {
                *rx.pos = 0;
                *rx.len = k as u32;
            })
        };
        match got {
            Ok(()) => waited = false,
            Err(libc::EAGAIN) => match fdwait::wait_after_eagain(cx, fd, IN, deadline) {
                0 => waited = true,
                e => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_failures_map_to_the_documented_errors() {
        // The system-wide fd limit cannot be reached in a test: check that
        // it, and the per-process one, reach the caller unchanged.
        assert_eq!(accept_failure(libc::ENFILE), AcceptFailure::Fail(libc::ENFILE));
        assert_eq!(accept_failure(libc::EMFILE), AcceptFailure::Fail(libc::EMFILE));
        assert_eq!(accept_failure(libc::ENOBUFS), AcceptFailure::Fail(libc::ENOMEM));
        assert_eq!(accept_failure(libc::ENOMEM), AcceptFailure::Fail(libc::ENOMEM));
        assert_eq!(accept_failure(libc::ECONNABORTED), AcceptFailure::Retry);
        assert_eq!(accept_failure(libc::EAGAIN), AcceptFailure::Wait);
    }
}
