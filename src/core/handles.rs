//! The handle table: small integers naming objects behind a `struct hvfs`.
//! Free slots form a LIFO list, so the lowest numbers are handed out first
//! and a closed number is the next one reused, as with file descriptors.
//!
//! Numbers come out in exactly the original's order, which programs (and
//! the original's own tests) end up depending on. The original never reuses
//! the number of a connection ended by `tcp_close`/`ipc_close` (it leaks the
//! slot); we keep such numbers aside and reuse them only where the original
//! would have grown its table (256 slots, then doubling), so the numbering
//! matches until then and the table stays bounded after.
//!
//! The 2.14 generation reuses numbers first in, first out instead, keeping
//! at least 8 free so a closed number does not come straight back (a stale
//! handle then fails rather than naming a new object). A thread's table
//! switches to that order at its first 2.14 close (`set_fifo`); 2.6 code
//! never does, and its paths only gain one branch on close.

use crate::core::hvfs::hvfs;
use core::ffi::c_void;
use core::ptr;

const IN_USE: i32 = -2;
const END: i32 = -1;
/// Being closed: no longer usable, not yet free for reuse.
const CLOSING: i32 = -3;

#[derive(Clone, Copy)]
struct Slot {
    vfs: *mut hvfs,
    /// Next free slot, END, or IN_USE.
    next: i32,
    /// The last `hquery` answer (type, interface): the man page lets it be
    /// cached, the original does, and the socket calls skip the callback.
    qtype: *const c_void,
    qptr: *mut c_void,
}

pub struct Handles {
    slots: Vec<Slot>,
    free: i32,
    /// Numbers retired by an orderly socket close, reused last.
    retired: i32,
    /// The size the original's table would have: fresh numbers up to here
    /// come before retired ones.
    cap: usize,
    /// 2.14 order: freed numbers queue up (`free` and `retired` stay
    /// empty) from `qhead` to `qtail`, `qlen` of them.
    fifo: bool,
    qhead: i32,
    qtail: i32,
    qlen: usize,
}

/// The original's first table size.
const FIRST_CAP: usize = 256;
/// 2.14 keeps more than this many numbers free.
const SPARE: usize = 8;

impl Handles {
    pub const fn new() -> Handles {
        Handles {
            slots: Vec::new(),
            free: END,
            retired: END,
            cap: 0,
            fifo: false,
            qhead: END,
            qtail: END,
            qlen: 0,
        }
    }

    /// Switches to 2.14's order of reuse (idempotent): numbers already free
    /// join the queue.
    #[inline]
    pub fn set_fifo(&mut self) {
        if !self.fifo {
            self.switch_to_fifo();
        }
    }

    #[inline(never)]
    fn switch_to_fifo(&mut self) {
        self.fifo = true;
        for head in [self.free, self.retired] {
            let mut h = head;
            while h != END {
                let next = self.slots[h as usize].next;
                self.slots[h as usize].next = CLOSING;
                self.enqueue(h);
                h = next;
            }
        }
        self.free = END;
        self.retired = END;
    }

    /// Puts `h`, being closed, at the back of the 2.14 queue (out of line:
    /// 2.6's close pays one test for it).
    #[cold]
    #[inline(never)]
    fn enqueue(&mut self, h: i32) {
        let Some(s) = self.slots.get_mut(h as usize) else { return };
        if s.next != CLOSING {
            return;
        }
        s.next = END;
        if self.qtail == END {
            self.qhead = h;
        } else {
            self.slots[self.qtail as usize].next = h;
        }
        self.qtail = h;
        self.qlen += 1;
    }

    /// 2.14's next number: fresh ones while the table the original would
    /// have has them, then the longest-free one; the table grows (as the
    /// original's, from 256 by doubling) whenever 8 or fewer are free.
    fn take_fifo(&mut self, vfs: *mut hvfs) -> Result<i32, i32> {
        let len = self.slots.len();
        if self.cap.saturating_sub(len) + self.qlen <= SPARE {
            self.cap = if self.cap == 0 { FIRST_CAP } else { self.cap.saturating_mul(2) };
        }
        if len < self.cap || self.qhead == END {
            if len >= i32::MAX as usize || self.slots.try_reserve(1).is_err() {
                return Err(libc::ENOMEM);
            }
            self.slots.push(Slot { vfs, next: IN_USE, qtype: ptr::null(), qptr: ptr::null_mut() });
            return Ok(len as i32);
        }
        let h = Self::claim(&mut self.slots, &mut self.qhead, vfs);
        if self.qhead == END {
            self.qtail = END;
        }
        self.qlen -= 1;
        Ok(h)
    }

    /// Names `vfs` with a new handle. Err(ENOMEM) when the table cannot grow.
    #[inline(always)]
    pub fn insert(&mut self, vfs: *mut hvfs) -> Result<i32, i32> {
        if self.free == END {
            return self.append(vfs);
        }
        Ok(Self::claim(&mut self.slots, &mut self.free, vfs))
    }

    /// Takes the first slot of the list at `head` (free or retired, not
    /// empty) for `vfs`.
    #[inline(always)]
    fn claim(slots: &mut [Slot], head: &mut i32, vfs: *mut hvfs) -> i32 {
        let h = *head;
        let s = &mut slots[h as usize];
        *head = s.next;
        s.next = IN_USE;
        s.vfs = vfs;
        s.qtype = ptr::null();
        h
    }

    /// No closed handle to reuse: the next number up, or a retired one
    /// where the original would grow its table.
    #[inline(never)]
    fn append(&mut self, vfs: *mut hvfs) -> Result<i32, i32> {
        if self.fifo {
            return self.take_fifo(vfs);
        }
        let h = self.slots.len();
        if h >= self.cap {
            if self.retired != END {
                return Ok(Self::claim(&mut self.slots, &mut self.retired, vfs));
            }
            self.cap = if self.cap == 0 { FIRST_CAP } else { self.cap.saturating_mul(2) };
        }
        if h >= i32::MAX as usize || self.slots.try_reserve(1).is_err() {
            return Err(libc::ENOMEM);
        }
        self.slots.push(Slot { vfs, next: IN_USE, qtype: ptr::null(), qptr: ptr::null_mut() });
        Ok(h as i32)
    }

    /// The object behind handle `h`, or None for a bad handle.
    #[inline]
    pub fn get(&self, h: i32) -> Option<*mut hvfs> {
        match self.slots.get(h as usize) {
            Some(s) if h >= 0 && s.next == IN_USE => Some(s.vfs),
            _ => None,
        }
    }

    /// The cached answer of `hquery(h, t)`, if `h` is in use and was last
    /// asked for `t`.
    #[inline]
    pub fn cached_query(&self, h: i32, t: *const c_void) -> Option<*mut c_void> {
        match self.slots.get(h as usize) {
            Some(s) if h >= 0 && s.next == IN_USE && s.qtype == t && !t.is_null() => Some(s.qptr),
            _ => None,
        }
    }

    /// Remembers that `hquery(h, t)` of object `vfs` answered `p` (not
    /// null), if `h` still names that object.
    #[inline]
    pub fn cache_query(&mut self, h: i32, vfs: *mut hvfs, t: *const c_void, p: *mut c_void) {
        if let Some(s) = self.slots.get_mut(h as usize) {
            if s.next == IN_USE && s.vfs == vfs {
                s.qtype = t;
                s.qptr = p;
            }
        }
    }

    /// Frees handle `h` (which must be in use) and returns its object.
    pub fn remove(&mut self, h: i32) -> Option<*mut hvfs> {
        let vfs = self.begin_remove(h)?;
        self.end_remove(h);
        Some(vfs)
    }

    /// First half of `remove`: `h` stops naming its object (lookups fail)
    /// but is not reused until `end_remove`. Closing an object can take a
    /// while (a bundle waits for its coroutines); numbers are then handed
    /// out again in the order the original library does.
    #[inline]
    pub fn begin_remove(&mut self, h: i32) -> Option<*mut hvfs> {
        let vfs = self.get(h)?;
        let s = &mut self.slots[h as usize];
        s.vfs = ptr::null_mut();
        s.next = CLOSING;
        Some(vfs)
    }

    /// Second half of `remove`: `h` becomes the next number handed out.
    #[inline(always)]
    pub fn end_remove(&mut self, h: i32) {
        if self.fifo {
            return self.enqueue(h);
        }
        Self::release(&mut self.slots, &mut self.free, h);
    }

    /// Second half of `remove` for an orderly socket close: `h` is reused
    /// only after every number the original would hand out first.
    pub fn end_retire(&mut self, h: i32) {
        if self.fifo {
            return self.enqueue(h);
        }
        Self::release(&mut self.slots, &mut self.retired, h);
    }

    /// Puts `h`, being closed, at the front of the list at `head`.
    #[inline(always)]
    fn release(slots: &mut [Slot], head: &mut i32, h: i32) {
        if let Some(s) = slots.get_mut(h as usize) {
            if s.next == CLOSING {
                s.next = *head;
                *head = h;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_keeps_closed_numbers_away() {
        let mut t = Handles::new();
        let mut v = hvfs { query: None, close: None, done: None, refcount: 0 };
        let p = &mut v as *mut hvfs;
        assert_eq!(t.insert(p), Ok(0));
        assert_eq!(t.insert(p), Ok(1));
        assert_eq!(t.remove(0), Some(p)); // 2.6 order until the switch
        t.set_fifo();
        t.set_fifo();
        assert_eq!(t.remove(1), Some(p));
        assert_eq!(t.get(1), None);
        // Fresh numbers first; with only 0 and 1 queued, too few are free
        // and the table grows rather than hand them out.
        for i in 2..520 {
            assert_eq!(t.insert(p), Ok(i));
        }
        // A dup's close queues too, in close order.
        for h in 2..=20 {
            assert!(t.begin_remove(h).is_some());
            if h % 2 == 0 { t.end_retire(h) } else { t.end_remove(h) }
        }
        for i in 520..1024 {
            assert_eq!(t.insert(p), Ok(i));
        }
        // 21 queued: they come back oldest first while more than 8 wait.
        for i in 0..=12 {
            assert_eq!(t.insert(p), Ok(i));
        }
        assert_eq!(t.insert(p), Ok(1024));
        assert_eq!(t.qlen, 8);
    }

    #[test]
    fn numbers_are_reused_lowest_first_and_bad_ones_rejected() {
        let mut t = Handles::new();
        let mut v = hvfs { query: None, close: None, done: None, refcount: 0 };
        let p = &mut v as *mut hvfs;
        assert_eq!(t.insert(p), Ok(0));
        assert_eq!(t.insert(p), Ok(1));
        assert_eq!(t.insert(p), Ok(2));
        assert_eq!(t.remove(1), Some(p));
        assert_eq!(t.get(1), None);
        assert_eq!(t.remove(1), None);
        assert_eq!(t.insert(p), Ok(1));
        assert_eq!(t.get(-1), None);
        assert_eq!(t.get(100_000), None);
        for i in 3..1000 {
            assert_eq!(t.insert(p), Ok(i));
        }
    }

    #[test]
    fn retired_numbers_wait_until_the_original_would_grow() {
        let mut t = Handles::new();
        let mut v = hvfs { query: None, close: None, done: None, refcount: 0 };
        let p = &mut v as *mut hvfs;
        assert_eq!(t.insert(p), Ok(0));
        assert_eq!(t.insert(p), Ok(1));
        assert!(t.begin_remove(0).is_some());
        t.end_retire(0);
        assert_eq!(t.get(0), None);
        assert!(t.begin_remove(0).is_none());
        // 0 is skipped while fresh numbers below 256 remain.
        for i in 2..256 {
            assert_eq!(t.insert(p), Ok(i));
        }
        // Where the original would double its table, 0 comes back first.
        assert_eq!(t.insert(p), Ok(0));
        assert_eq!(t.insert(p), Ok(256));
        // A plain close is still reused at once.
        assert_eq!(t.remove(5), Some(p));
        assert_eq!(t.insert(p), Ok(5));
    }
}

/// A canceled coroutine (or a close callback) gets no new handles: what it
/// would create could outlive the teardown. ECANCELED, as the original.
#[inline]
fn refuse_if_canceled(cx: &crate::core::ctx::Ctx) -> Result<(), i32> {
    // SAFETY: the running coroutine is live.
    if unsafe { (*cx.me()).can_block() } { Ok(()) } else { Err(libc::ECANCELED) }
}

/// hmake: names a new object, whose refcount starts at 1.
#[inline]
pub fn make(cx: &crate::core::ctx::Ctx, vfs: *mut hvfs) -> Result<i32, i32> {
    refuse_if_canceled(cx)?;
    make_checked(cx, vfs)
}

/// `make` for callers that refused a canceled coroutine already (the
/// launch path: kept inline there).
#[inline(always)]
pub fn make_checked(cx: &crate::core::ctx::Ctx, vfs: *mut hvfs) -> Result<i32, i32> {
    let h = cx.handles().insert(vfs)?;
    // SAFETY: vfs is a live object supplied by the caller.
    unsafe { (*vfs).refcount = 1 };
    Ok(h)
}

/// hdup: a second handle for the same object.
pub fn dup(cx: &crate::core::ctx::Ctx, h: i32) -> Result<i32, i32> {
    let vfs = cx.handles().get(h).ok_or(libc::EBADF)?;
    refuse_if_canceled(cx)?;
    let h2 = cx.handles().insert(vfs)?;
    // SAFETY: vfs is live: h names it.
    unsafe { (*vfs).refcount += 1 };
    Ok(h2)
}

/// hclose: drops a handle; the last one closes the object. Close callbacks
/// run with blocking disabled for the calling coroutine.
#[inline(always)]
pub fn close(cx: &crate::core::ctx::Ctx, h: i32) -> Result<(), i32> {
    let vfs = cx.handles().begin_remove(h).ok_or(libc::EBADF)?;
    // SAFETY: vfs was named by h and is live until its close callback runs.
    unsafe {
        if (*vfs).refcount > 1 {
            // One of several duplicates. The original keeps this number
            // alive (and dangling later); we retire it, so the numbers
            // handed out next stay the original's.
            (*vfs).refcount -= 1;
            cx.handles().end_retire(h);
            return Ok(());
        }
        // refcount stays 1 during and after the close, as the original.
        let e = close_object(cx, vfs);
        cx.handles().end_remove(h);
        if e != 0 { Err(e) } else { Ok(()) }
    }
}

/// Runs the close of an object whose last handle went. Close callbacks run
/// with blocking disabled for the calling coroutine. Returns 0, or EDEADLK
/// for a bundle that could not be waited for (the handle is gone all the
/// same).
///
/// # Safety
/// `vfs` is a live object no handle names any more.
#[inline]
pub unsafe fn close_object(cx: &crate::core::ctx::Ctx, vfs: *mut hvfs) -> i32 {
    // SAFETY: per the contract.
    unsafe {
        if crate::core::bundle::is_bundle(vfs) {
            return crate::core::bundle::close_vfs(cx, vfs);
        }
        let me = cx.me();
        (*me).block_ban += 1;
        if !crate::core::chan::close_vfs(cx, vfs) {
            if let Some(f) = (*vfs).close {
                f(vfs);
            }
        }
        (*me).block_ban -= 1;
    }
    0
}
