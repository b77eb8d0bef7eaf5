//! Happy Eyeballs (RFC 8305): a TCP connection to a host by name, racing
//! its addresses so that one that does not answer costs a short delay, not
//! the whole connect timeout.
//!
//! AAAA and A are asked together (`resolve::remotes`, with the Resolution
//! Delay); the addresses are tried alternating families, IPv6 first. The
//! first attempt starts at once; each further one when the attempt before
//! it has not connected within `ATTEMPT_DELAY`, or at once when every
//! attempt under way has failed. Attempts already started keep going; the
//! first to connect wins and the others are closed.
//!
//! No coroutines: every attempt is a non-blocking connect(2) on its own
//! socket, all of them watched by one private epoll instance, and the
//! caller's coroutine waits on that instance (readable when any of them
//! is) through the runtime's ordinary fd wait, with the time of the next
//! attempt as its deadline. Every descriptor is closed on every way out,
//! cancellation included.

use crate::core::clock::now_ms;
use crate::core::ctx::Ctx;
use crate::core::{errno, fdwait};
use crate::net::fdio;
use crate::net::ipaddr::{ipaddr, Addr, Addrs};
use crate::net::resolve;
use crate::net::stream::{self, TCP};
use core::ffi::{c_int, c_void};

/// The Connection Attempt Delay: 300 ms, as the man page says and the
/// original waits (RFC 8305 recommends 250).
pub const ATTEMPT_DELAY: i64 = 300;

/// Most addresses tried: `Addrs::CAP` of each family.
pub(crate) const MAX_ATTEMPTS: usize = 2 * Addrs::CAP;

/// The order of the attempts: alternating families, IPv6 first, the rest
/// of the longer list after the shorter one runs out (RFC 8305 section 4,
/// with a First Address Family Count of 1).
pub fn interleave(v6: &[Addr], v4: &[Addr], out: &mut [Addr; MAX_ATTEMPTS]) -> usize {
    let (mut i6, mut i4, mut n) = (0, 0, 0);
    while n < MAX_ATTEMPTS && (i6 < v6.len() || i4 < v4.len()) {
        let take6 = i6 < v6.len() && (i4 >= v4.len() || i6 <= i4);
        out[n] = if take6 {
            i6 += 1;
            v6[i6 - 1]
        } else {
            i4 += 1;
            v4[i4 - 1]
        };
        n += 1;
    }
    n
}

/// A new TCP connection (a stream handle, as tcp_connect makes) to host
/// `name` at `port`, by Happy Eyeballs. Err(EADDRNOTAVAIL) if the name has
/// no address; when every attempt fails, the most telling of their errors
/// (see `Race::failed`).
pub fn connect(cx: &Ctx, name: &str, port: u16, deadline: i64) -> Result<c_int, i32> {
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return Err(libc::ECANCELED);
    }
    let (v6, v4) = resolve::remotes(cx, name, [true, true], true, deadline)?;
    let mut order = [Addr::V4(std::net::Ipv4Addr::UNSPECIFIED); MAX_ATTEMPTS];
    let n = interleave(v6.as_slice(), v4.as_slice(), &mut order);
    if n == 0 {
        return Err(libc::EADDRNOTAVAIL);
    }
    let fd = race(cx, &order[..n], port, ATTEMPT_DELAY, deadline)?;
    let r = match stream::reserve(stream::Mem::ALLOC) {
        Ok(r) => r,
        Err(e) => {
            fdio::close(cx, fd);
            return Err(e);
        }
    };
    stream::create(cx, fd, TCP, r).inspect_err(|_| fdio::close(cx, fd))
}

/// Has `deadline` passed (0: at once; negative: never)?
fn passed(deadline: i64) -> bool {
    deadline == 0 || (deadline > 0 && now_ms() >= deadline)
}

/// How much an attempt's error says: a want of resources here above an
/// answer from the peer's side (refused, reset) above one from the network
/// (unreachable, the kernel's own timeout) above the rest (a family this
/// host lacks, an address it cannot use).
fn weight(e: i32) -> u8 {
    match e {
        libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::ENOBUFS => 4,
        libc::ECONNREFUSED | libc::ECONNRESET => 3,
        libc::EHOSTUNREACH | libc::ENETUNREACH | libc::ETIMEDOUT | libc::EHOSTDOWN | libc::ENETDOWN => 2,
        _ => 1,
    }
}

/// The attempts under way: their sockets, and the epoll instance watching
/// them (its event data is the fd). Dropping it closes them all.
struct Race<'a> {
    cx: &'a Ctx,
    ep: i32,
    fds: [i32; MAX_ATTEMPTS],
    live: usize,
    /// The error to report if every attempt fails (0: none yet).
    err: i32,
}

impl<'a> Race<'a> {
    fn new(cx: &'a Ctx) -> Result<Race<'a>, i32> {
        // SAFETY: plain syscall.
        let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if ep < 0 {
            return Err(errno::get());
        }
        Ok(Race { cx, ep, fds: [-1; MAX_ATTEMPTS], live: 0, err: 0 })
    }

    /// An attempt failed with `e`: keep the most telling error, the later
    /// one of equal weight.
    fn failed(&mut self, e: i32) {
        if self.err == 0 || weight(e) >= weight(self.err) {
            self.err = e;
        }
    }

    /// Starts connecting to `a`: Ok(Some(fd)) if connected at once,
    /// Ok(None) if under way, Err if this attempt failed already.
    fn start(&mut self, a: Addr, port: u16) -> Result<Option<i32>, i32> {
        let sa = ipaddr::new(a, port);
        let family = if matches!(a, Addr::V4(_)) { libc::AF_INET } else { libc::AF_INET6 };
        let fd = fdio::socket(family, libc::SOCK_STREAM)?;
        // SAFETY: sa holds a sockaddr of sa.len() bytes.
        let rc = unsafe { libc::connect(fd, sa.data.as_ptr() as *const libc::sockaddr, sa.len() as libc::socklen_t) };
        if rc == 0 {
            return Ok(Some(fd));
        }
        let e = errno::get();
        if e != libc::EINPROGRESS {
            fdio::close(self.cx, fd);
            return Err(e);
        }
        let mut ev = libc::epoll_event { events: libc::EPOLLOUT as u32, u64: fd as u64 };
        // SAFETY: ev is valid for the call; both fds are ours.
        if unsafe { libc::epoll_ctl(self.ep, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            let e = errno::get();
            fdio::close(self.cx, fd);
            return Err(e);
        }
        self.fds[self.live] = fd;
        self.live += 1;
        Ok(None)
    }

    /// Takes `fd` out of the attempts (it is no longer closed on drop).
    fn take(&mut self, fd: i32) {
        if let Some(i) = self.fds[..self.live].iter().position(|&f| f == fd) {
            // SAFETY: both fds are ours; a null event is fine for DEL.
            unsafe { libc::epoll_ctl(self.ep, libc::EPOLL_CTL_DEL, fd, core::ptr::null_mut()) };
            self.live -= 1;
            self.fds[i] = self.fds[self.live];
            self.fds[self.live] = -1;
        }
    }

    /// Looks at the attempts that epoll reports done: Some(fd) for one
    /// that connected; those that failed are closed.
    fn collect(&mut self) -> Option<i32> {
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; MAX_ATTEMPTS];
        // SAFETY: evs has room for MAX_ATTEMPTS events; zero timeout.
        let n = unsafe { libc::epoll_wait(self.ep, evs.as_mut_ptr(), MAX_ATTEMPTS as c_int, 0) };
        for ev in &evs[..n.max(0) as usize] {
            let fd = ev.u64 as i32;
            let mut err: i32 = 0;
            let mut sz = core::mem::size_of::<i32>() as libc::socklen_t;
            // SAFETY: err and sz are valid out-parameters.
            let rc = unsafe {
                libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, &mut err as *mut i32 as *mut c_void, &mut sz)
            };
            if rc != 0 {
                err = errno::get();
            }
            self.take(fd);
            if err == 0 {
                return Some(fd);
            }
            fdio::close(self.cx, fd);
            // As tcp_connect: a peer's FIN and reset before we looked.
            self.failed(if err == libc::EPIPE { libc::ECONNRESET } else { err });
        }
        None
    }
}

impl Drop for Race<'_> {
    fn drop(&mut self) {
        for &fd in &self.fds[..self.live] {
            fdio::close(self.cx, fd);
        }
        // The runtime's poller watches ep: fdio::close cleans it first.
        fdio::close(self.cx, self.ep);
    }
}

/// Races connects to `addrs` at `port`, in order, starting each `delay` ms
/// after the one before unless that one failed first. Returns the socket
/// of the first to connect (non-blocking; the others closed).
pub(crate) fn race(cx: &Ctx, addrs: &[Addr], port: u16, delay: i64, deadline: i64) -> Result<i32, i32> {
    let addrs = &addrs[..addrs.len().min(MAX_ATTEMPTS)];
    let mut r = Race::new(cx)?;
    let mut next = 0;
    let mut next_at = 0i64;
    loop {
        // Start what is due: the first attempt, the next one after the
        // delay, and at once whenever nothing is under way.
        while next < addrs.len() && (r.live == 0 || now_ms() >= next_at) {
            let a = addrs[next];
            next += 1;
            match r.start(a, port) {
                Ok(Some(fd)) => return Ok(fd),
                Ok(None) => next_at = now_ms().saturating_add(delay),
                Err(e) => r.failed(e),
            }
        }
        if r.live == 0 {
            return Err(if r.err != 0 { r.err } else { libc::ECONNREFUSED });
        }
        let until = match (next < addrs.len(), deadline) {
            (false, d) => d,
            (true, d) if d < 0 => next_at,
            (true, d) => d.min(next_at),
        };
        match fdwait::wait(cx, r.ep, fdwait::IN, until) {
            0 => {
                let before = r.live;
                if let Some(fd) = r.collect() {
                    return Ok(fd);
                }
                // An attempt failed: the next one need not wait.
                if r.live < before {
                    next_at = now_ms();
                }
            }
            libc::ETIMEDOUT if !passed(deadline) => {}
            e => return Err(e),
        }
    }
}

#[cfg(test)]
#[path = "happyeyeballs_tests.rs"]
mod tests;
