//! Waiting for file descriptors: per-fd state over the poller.
//!
//! Each watched fd carries a generation that is part of its poller token;
//! `fdclean` bumps it, so events still queued for a closed descriptor (or one
//! kept alive elsewhere by a dup) can never wake a waiter of a reused number.
//!
//! The poller is edge-triggered, while fdin/fdout mean "until ready". So each
//! direction remembers whether it may be ready (an edge came since it was last
//! seen not ready). If it may be, a zero-timeout poll(2) decides before
//! blocking; if it was seen not ready, the next edge is sure to come and the
//! wait costs no syscall.
//!
//! Reads and writes on streams save the EAGAIN call as well: a short read
//! proves the kernel's receive queue empty (a short write, the send buffer
//! full), so `drained` marks the direction not ready, and `may_be_ready`
//! tells the next call to wait for the edge that must come before there is
//! more. Where the proof fails (the peer's FIN, an error or urgent data
//! seen: NO_PROOF) the fd goes back to reading until EAGAIN.
//!
//! After fork() the child's poller would be the parent's epoll instance:
//! the child's fdclean would unregister the parent's descriptors, and each
//! would collect the other's events. So the child drops it (closing its copy
//! only), forgets every registration, and registers anew with a poller of
//! its own: at once for fds a copied coroutine waits on, lazily for others.

use crate::core::cr::{Cr, FIRED_CANCEL, FIRED_TIMEOUT};
use crate::core::ctx::Ctx;
use crate::core::poller::{Backend, Poller, NO_PROOF, READABLE, WRITABLE};
use crate::core::sched;
use core::ptr;
use core::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

/// Forks this process descends through (counted in each child): a poller
/// opened under an older count belongs to the parent too.
static FORKS: AtomicU32 = AtomicU32::new(0);
static AT_FORK: Once = Once::new();

extern "C" fn forked_child() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

pub const IN: u8 = 0;
pub const OUT: u8 = 1;

#[derive(Clone, Copy)]
struct FdEntry {
    gen: u32,
    registered: bool,
    /// Directions that may be ready (READABLE | WRITABLE bits): an edge came,
    /// or nothing is known yet; NO_PROOF once short reads prove nothing.
    may_ready: u8,
    waiters: [*mut Cr; 2],
}

const EMPTY: FdEntry =
    FdEntry { gen: 0, registered: false, may_ready: 0, waiters: [ptr::null_mut(); 2] };

pub struct FdTable {
    poller: Option<Backend>,
    entries: Vec<FdEntry>,
    /// Coroutines blocked on fds: polling is pointless without any.
    waiting: usize,
    /// Coroutines a poll woke, kept here rather than on the stack of the
    /// coroutine that polls (which may be a small go_mem one). Reserved when
    /// the poller opens; never grows after.
    woken: Vec<*mut Cr>,
    /// `FORKS` when the poller opened.
    forks: u32,
}

/// Most coroutines one poll can wake: two per event.
const MAX_WOKEN: usize = 2 * crate::core::poller::BATCH;

fn bit(dir: u8) -> u8 {
    if dir == IN { READABLE } else { WRITABLE }
}

fn token(fd: i32, gen: u32) -> u64 {
    (gen as u64) << 32 | fd as u32 as u64
}

/// Is `fd` ready in direction `dir` right now? Closed fds count as ready:
/// the caller's next read or write reports the error.
fn ready_now(fd: i32, dir: u8) -> bool {
    let events = if dir == IN { libc::POLLIN } else { libc::POLLOUT };
    let mut p = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: one valid pollfd, zero timeout.
    let rc = unsafe { libc::poll(&mut p, 1, 0) };
    rc > 0 && p.revents != 0
}

impl FdTable {
    pub const fn new() -> FdTable {
        FdTable { poller: None, entries: Vec::new(), waiting: 0, woken: Vec::new(), forks: 0 }
    }

    #[inline]
    pub fn watching(&self) -> bool {
        self.waiting > 0
    }

    /// The poller, opened on first use.
    fn poller(&mut self) -> Result<&mut Backend, i32> {
        if self.poller.is_none() {
            self.woken.try_reserve_exact(MAX_WOKEN).map_err(|_| libc::ENOMEM)?;
            AT_FORK.call_once(|| {
                // SAFETY: registers a handler that only bumps an atomic.
                unsafe { libc::pthread_atfork(None, None, Some(forked_child)) };
            });
            self.forks = FORKS.load(Ordering::Relaxed);
            self.poller = Some(Backend::open()?);
        }
        self.poller.as_mut().ok_or(libc::ENOMEM)
    }

    /// Is the poller one we share with the parent we were forked from?
    #[inline]
    fn stale(&self) -> bool {
        self.poller.is_some() && self.forks != FORKS.load(Ordering::Relaxed)
    }

    #[inline(always)]
    fn entry(&mut self, fd: i32) -> Result<&mut FdEntry, i32> {
        let i = fd as usize;
        if i >= self.entries.len() {
            self.grow(i)?;
        }
        Ok(&mut self.entries[i])
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, i: usize) -> Result<(), i32> {
        // Growing the table is only worth it for a real descriptor.
        // SAFETY: F_GETFD only inspects the descriptor table.
        if unsafe { libc::fcntl(i as i32, libc::F_GETFD) } < 0 {
            return Err(libc::EBADF);
        }
        let n = (i + 1).max(64).next_power_of_two();
        self.entries.try_reserve(n - self.entries.len()).map_err(|_| libc::ENOMEM)?;
        self.entries.resize(n, EMPTY);
        Ok(())
    }

    pub fn forget_waiter(&mut self, fd: i32, dir: u8) {
        if let Some(e) = self.entries.get_mut(fd as usize) {
            e.waiters[dir as usize] = ptr::null_mut();
            self.waiting -= 1;
        }
    }

    /// Readies `fd` for a wait: registers it if new. Files that cannot be
    /// polled (regular files) give ENOTSUP, as with the original. (Inlined:
    /// it is the start of every fd wait.)
    #[inline(always)]
    fn prepare(&mut self, fd: i32) -> Result<(), i32> {
        let e = self.entry(fd)?;
        if e.registered {
            return Ok(());
        }
        let tok = token(fd, e.gen);
        match self.poller()?.add(fd, tok) {
            Ok(()) => {}
            Err(libc::EPERM) => return Err(libc::ENOTSUP),
            Err(err) => return Err(err),
        }
        let e = &mut self.entries[fd as usize];
        e.registered = true;
        e.may_ready = READABLE | WRITABLE;
        Ok(())
    }
}

/// May a read (IN) or write (OUT) on `fd` make progress? False only when a
/// short one proved it could not and no edge came since: the caller then
/// waits (`wait_after_eagain`) instead of asking for an EAGAIN. True too
/// when another coroutine already waits in that direction.
#[inline]
pub fn may_be_ready(cx: &Ctx, fd: i32, dir: u8) -> bool {
    match cx.fds().entries.get(fd as usize) {
        // With another coroutine already waiting there, the call goes to the
        // kernel as it did before the proof existed: waiting would be EBUSY.
        Some(e) => !e.registered || e.may_ready & bit(dir) != 0 || !e.waiters[dir as usize].is_null(),
        None => true,
    }
}

/// A read on stream `fd` returned less than asked (IN), or a write wrote
/// less than given (OUT): the kernel had no more data (room). Only an fd
/// already watched is marked: its next edge is sure to be reported.
#[inline]
pub fn drained(cx: &Ctx, fd: i32, dir: u8) {
    if let Some(e) = cx.fds().entries.get_mut(fd as usize) {
        if e.registered && e.may_ready & NO_PROOF == 0 {
            e.may_ready &= !bit(dir);
        }
    }
}

/// In a forked child: leaves the parent's poller to it and registers the
/// fds that copied coroutines wait on with a new one of our own.
#[cold]
#[inline(never)]
fn after_fork(cx: &Ctx) {
    let t = cx.fds();
    // Dropping closes our descriptor only: no EPOLL_CTL_DEL, which would
    // take the registration from the parent too.
    t.poller = None;
    // Generations stay: no event of the old poller can reach the new one,
    // and a changed generation tells a resumed waiter its fd was closed.
    for e in t.entries.iter_mut() {
        e.registered = false;
        e.may_ready = 0;
    }
    for fd in 0..t.entries.len() {
        let t = cx.fds();
        let waiters = t.entries[fd].waiters;
        if waiters.iter().all(|w| w.is_null()) {
            continue;
        }
        // Registering reports a ready fd at once; a failure ends the waits.
        if let Err(err) = t.prepare(fd as i32) {
            for w in waiters {
                if !w.is_null() {
                    sched::wake(cx, w, 0, err);
                }
            }
        }
    }
}

/// Waits until `fd` is ready in direction `dir` or `deadline` passes.
/// Returns 0 or an errno.
pub fn wait(cx: &Ctx, fd: i32, dir: u8, deadline: i64) -> i32 {
    wait_(cx, fd, dir, deadline, false)
}

/// Like `wait`, for a caller that just got EAGAIN from the fd: it is known
/// not ready, so the next edge is awaited without asking the kernel first.
pub fn wait_after_eagain(cx: &Ctx, fd: i32, dir: u8, deadline: i64) -> i32 {
    wait_(cx, fd, dir, deadline, true)
}

fn wait_(cx: &Ctx, fd: i32, dir: u8, deadline: i64, not_ready: bool) -> i32 {
    let me = cx.me();
    // SAFETY: me is the running coroutine.
    if !unsafe { (*me).can_block() } {
        return libc::ECANCELED;
    }
    if fd < 0 {
        return libc::EBADF;
    }
    if cx.fds().stale() {
        after_fork(cx);
    }
    let t = cx.fds();
    if let Err(e) = t.prepare(fd) {
        return e;
    }
    let e = &mut t.entries[fd as usize];
    if !e.waiters[dir as usize].is_null() {
        return libc::EBUSY;
    }
    if not_ready {
        e.may_ready &= !bit(dir);
    }
    // A try-once call always asks the kernel: an edge may be queued in the
    // poller that we have not collected yet.
    if e.may_ready & bit(dir) != 0 || deadline == 0 {
        if ready_now(fd, dir) {
            // Seen ready: the caller's next read or write must not wait
            // for an edge the poller may have queued already.
            e.may_ready |= bit(dir);
            return 0;
        }
        e.may_ready &= !bit(dir);
    }
    // Not ready and deadline 0: still wait, with a timer already expired.
    // The other ready coroutines run and the poller is asked once before
    // ETIMEDOUT, as with the original.
    e.waiters[dir as usize] = me;
    t.waiting += 1;
    let gen = e.gen;
    // SAFETY: me is the running coroutine.
    unsafe {
        (*me).wait_fd = fd;
        (*me).extras = true;
        (*me).wait_dir = dir;
    }
    let r = match sched::wait(cx, deadline) {
        (FIRED_TIMEOUT, _) => libc::ETIMEDOUT,
        (FIRED_CANCEL, _) => libc::ECANCELED,
        (_, err) => err,
    };
    // Cleaned after our wake-up, before we ran (the object owning the fd
    // closed by another coroutine, the number maybe reused already): the
    // caller must not touch the fd or its object.
    let Some(e) = cx.fds().entries.get_mut(fd as usize).filter(|e| e.gen == gen) else {
        return libc::EBADF;
    };
    // Timed out or canceled: readiness is unknown again, and the next call
    // asks the kernel first, as the original would (no yield where it has
    // none).
    if r != 0 {
        e.may_ready |= bit(dir);
    }
    r
}

/// Forgets everything about `fd`; its waiters fail with EBADF, and so do
/// those a poll woke that have not run yet (the generation tells them).
pub fn clean(cx: &Ctx, fd: i32) {
    if cx.fds().stale() {
        after_fork(cx);
    }
    let t = cx.fds();
    let Some(e) = t.entries.get_mut(fd.max(0) as usize) else { return };
    if fd < 0 || !e.registered {
        return;
    }
    e.registered = false;
    e.may_ready = 0;
    e.gen = e.gen.wrapping_add(1);
    let waiters = e.waiters;
    if let Some(p) = t.poller.as_mut() {
        p.remove(fd);
    }
    for w in waiters {
        if !w.is_null() {
            sched::wake(cx, w, 0, libc::EBADF);
        }
    }
}

/// Polls for fd events for up to `timeout_ms` and wakes the waiters.
pub fn poll(cx: &Ctx, timeout_ms: i32) {
    if cx.fds().stale() {
        after_fork(cx);
    }
    let t = cx.fds();
    let FdTable { poller, entries, waiting, woken, .. } = t;
    woken.clear();
    let Some(p) = poller.as_mut() else {
        // Nothing watched yet: a plain sleep until the deadline, or with no
        // deadline (-1) until a signal interrupts it (the caller polls again).
        if timeout_ms != 0 {
            // SAFETY: poll(2) on no fds is a sleep.
            unsafe { libc::poll(ptr::null_mut(), 0, timeout_ms) };
        }
        return;
    };
    p.wait(timeout_ms, &mut |tok, bits| {
        let fd = (tok & 0xffff_ffff) as usize;
        let Some(e) = entries.get_mut(fd) else { return };
        if !e.registered || e.gen != (tok >> 32) as u32 {
            return; // A stale event of a cleaned descriptor.
        }
        e.may_ready |= bits & NO_PROOF;
        for dir in [IN, OUT] {
            if bits & bit(dir) == 0 {
                continue;
            }
            e.may_ready |= bit(dir);
            let w = e.waiters[dir as usize];
            if !w.is_null() {
                e.waiters[dir as usize] = ptr::null_mut();
                *waiting -= 1;
                // SAFETY: w is a coroutine blocked on this fd.
                unsafe { (*w).wait_fd = -1 };
                // Within the capacity reserved: at most two per event.
                woken.push(w);
            }
        }
    });
    // Waking touches the fd table again: iterate a list taken out of it.
    let list = core::mem::take(woken);
    for &w in &list {
        sched::wake(cx, w, 0, 0);
    }
    cx.fds().woken = list;
}
