//! Channels: unbuffered, bidirectional rendezvous between coroutines.
//!
//! A channel is two halves, one per handle. A message sent on one half is
//! received on the other. Each half keeps the clauses of coroutines blocked
//! receiving from it and of those blocked sending to it; a new operation
//! hands its value over directly to the first waiting partner.

use crate::core::cr::{Cr, FIRED_CANCEL, FIRED_TIMEOUT};
use crate::core::ctx::Ctx;
use crate::core::hvfs::hvfs;
use crate::core::{ctx, errno, sched};
use core::ffi::c_void;
use core::ptr;

pub const CHSEND: i32 = 1;
pub const CHRECV: i32 = 2;

/// Links of a circular doubly-linked list. A queue is a sentinel `Link`;
/// a clause starts with its `Link`. No end cases: unlinking is four moves.
#[repr(C)]
pub struct Link {
    prev: *mut Link,
    next: *mut Link,
}

/// A blocked operation, living on the blocked coroutine's stack.
#[repr(C)]
pub struct Clause {
    link: Link,
    cr: *mut Cr,
    val: *mut u8,
    len: usize,
    index: i32,
}

impl Clause {
    pub const fn empty() -> Clause {
        Clause {
            link: Link { prev: ptr::null_mut(), next: ptr::null_mut() },
            cr: ptr::null_mut(),
            val: ptr::null_mut(),
            len: 0,
            index: 0,
        }
    }
}

/// A FIFO of blocked clauses: the sentinel of a circular list.
pub type Queue = Link;

/// Makes `q` an empty queue (it must not move afterwards).
fn queue_init(q: *mut Queue) {
    // SAFETY: q points to a Link in its final place.
    unsafe {
        (*q).prev = q;
        (*q).next = q;
    }
}

/// The first clause of `q`, or null.
#[inline(always)]
fn front(q: *mut Queue) -> *mut Clause {
    // SAFETY: q is an initialised queue.
    let n = unsafe { (*q).next };
    if n == q { ptr::null_mut() } else { n as *mut Clause }
}

/// Appends `cl` to `q`.
#[inline(always)]
fn push_back(q: *mut Queue, cl: *mut Clause) {
    // SAFETY: q is an initialised queue, cl a clause in no queue.
    unsafe {
        let l = cl as *mut Link;
        let last = (*q).prev;
        (*l).prev = last;
        (*l).next = q;
        (*last).next = l;
        (*q).prev = l;
    }
}

/// Takes `cl` out of its queue; harmless if it is in none (it then links to
/// itself).
#[inline(always)]
fn unlink(cl: *mut Clause) {
    // SAFETY: cl is a live clause; its neighbours are live or itself.
    unsafe {
        let l = cl as *mut Link;
        let (p, n) = ((*l).prev, (*l).next);
        (*p).next = n;
        (*n).prev = p;
        (*l).prev = l;
        (*l).next = l;
    }
}

/// Unlinks all clauses of a coroutine whose wait ended.
#[inline]
pub fn unlink_clauses(cls: *mut Clause, n: usize) {
    if n == 1 {
        unlink(cls);
        return;
    }
    for i in 0..n {
        unlink(cls.wrapping_add(i));
    }
}

/// One end of a channel. Both halves live in one `Chan` block.
#[repr(C)]
pub struct Half {
    vfs: hvfs,
    /// Blocked receivers on this half.
    recv: Queue,
    /// Blocked senders whose message goes to this half.
    send: Queue,
    index: u8,
    /// hdone was called on the other half: no more messages come here.
    done: bool,
    closed: bool,
    /// The block is caller memory (chmake_mem): never freed by us.
    mem: bool,
}

#[repr(C)]
pub struct Chan {
    halves: [Half; 2],
}

static CHAN_TYPE: u8 = 0;

pub fn type_id() -> *const c_void {
    &CHAN_TYPE as *const u8 as *const c_void
}

unsafe extern "C" fn vfs_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    if t == type_id() {
        return vfs as *mut c_void;
    }
    errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn vfs_close(vfs: *mut hvfs) {
    let Ok(cx) = ctx::get() else { return }; // An object of this thread exists, so does the thread's context.
    close(cx, vfs as *mut Half);
}

unsafe extern "C" fn vfs_done(vfs: *mut hvfs, _deadline: i64) -> i32 {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    crate::ffi::status(done(cx, vfs as *mut Half))
}

/// The half behind `vfs`, if it is one of our channels.
#[inline]
pub fn as_half(vfs: *mut hvfs) -> Option<*mut Half> {
    // SAFETY: vfs is a live object behind a handle.
    let q = unsafe { (*vfs).query };
    match q {
        Some(f) if ptr::fn_addr_eq(f, vfs_query as unsafe extern "C" fn(_, _) -> _) => {
            Some(vfs as *mut Half)
        }
        _ => None,
    }
}

#[inline]
fn other(h: *mut Half) -> *mut Half {
    // SAFETY: halves are adjacent in their Chan block; index says which one h is.
    unsafe {
        if (*h).index == 0 { h.add(1) } else { h.sub(1) }
    }
}

/// Builds a channel in `mem` (or fresh memory if null) and returns its halves.
pub fn create(cx: &Ctx, mem: *mut Chan) -> Result<*mut Chan, i32> {
    let owned = mem.is_null();
    let ch = if owned {
        cx.chans().get() as *mut Chan
    } else {
        mem
    };
    if ch.is_null() {
        return Err(libc::ENOMEM);
    }
    let half = |index| Half {
        vfs: hvfs { query: Some(vfs_query), close: Some(vfs_close), done: Some(vfs_done), refcount: 0 },
        recv: Link { prev: ptr::null_mut(), next: ptr::null_mut() },
        send: Link { prev: ptr::null_mut(), next: ptr::null_mut() },
        index,
        done: false,
        closed: false,
        mem: !owned,
    };
    // SAFETY: ch points to writable memory of size_of::<Chan>() bytes.
    unsafe { ch.write(Chan { halves: [half(0), half(1)] }) };
    for i in 0..2 {
        let h = self::half(ch, i);
        // SAFETY: h is a half of the channel just written.
        unsafe {
            queue_init(ptr::addr_of_mut!((*h).recv));
            queue_init(ptr::addr_of_mut!((*h).send));
        }
    }
    Ok(ch)
}

pub fn half(ch: *mut Chan, i: usize) -> *mut Half {
    // SAFETY: in-bounds projection of a live channel.
    unsafe { ptr::addr_of_mut!((*ch).halves[i]) }
}

/// Frees a channel that never got handles.
pub fn destroy(cx: &Ctx, ch: *mut Chan) {
    // SAFETY: ch came from `create` and nothing references it.
    if unsafe { !(*ch).halves[0].mem } {
        cx.chans().put(ch as *mut u8);
    }
}

fn fail_all(cx: &Ctx, q: *mut Queue, err: i32) {
    // SAFETY: q is a live queue; waking unlinks the head each time.
    unsafe {
        loop {
            let cl = front(q);
            if cl.is_null() {
                break;
            }
            unlink(cl);
            sched::wake(cx, (*cl).cr, (*cl).index, err);
        }
    }
}

/// hdone on half `h`: no more messages from `h` to the other side.
pub fn done(cx: &Ctx, h: *mut Half) -> i32 {
    let o = other(h);
    // SAFETY: o is the live other half.
    unsafe {
        if (*o).done {
            return libc::EPIPE;
        }
        (*o).done = true;
        fail_all(cx, &mut (*o).recv, libc::EPIPE);
        fail_all(cx, &mut (*o).send, libc::EPIPE);
    }
    0
}

/// Last handle of half `h` closed; the channel goes when both are.
/// Coroutines blocked on `h` itself fail with EBADF: their handle is gone
/// (they touch nothing of the channel when they resume).
pub fn close(cx: &Ctx, h: *mut Half) {
    let o = other(h);
    // SAFETY: both halves are live until freed here.
    unsafe {
        for q in [ptr::addr_of_mut!((*h).recv), ptr::addr_of_mut!((*o).send)] {
            if !front(q).is_null() {
                fail_all(cx, q, libc::EBADF);
            }
        }
        if !(*o).closed {
            (*h).closed = true;
            return;
        }
        // The other half's waiters went when it was closed: nobody is left.
        let ch = if (*h).index == 0 { h } else { o } as *mut Chan;
        destroy(cx, ch);
    }
}

/// 2.14's close of the last open half of a channel: coroutines still
/// blocked on it fail with EPIPE (the end of the channel), where 2.6's
/// `close` says EBADF. Returns whether `vfs` was such a half.
pub fn fail_at_last_close(cx: &Ctx, vfs: *mut hvfs) -> bool {
    let Some(h) = as_half(vfs) else { return false };
    let o = other(h);
    // SAFETY: both halves are live: h is still named by a handle.
    unsafe {
        if !(*o).closed {
            return false;
        }
        fail_all(cx, ptr::addr_of_mut!((*h).recv), libc::EPIPE);
        fail_all(cx, ptr::addr_of_mut!((*o).send), libc::EPIPE);
    }
    true
}

/// Is `vfs` a channel half? For hclose's direct path.
pub fn close_vfs(cx: &Ctx, vfs: *mut hvfs) -> bool {
    match as_half(vfs) {
        Some(h) => {
            close(cx, h);
            true
        }
        None => false,
    }
}

/// Tries a send (SEND) or receive on half `h` without blocking.
/// Some(errno) if it completed (0) or failed; None if it has to wait.
#[inline(always)]
fn try_op<const SEND: bool>(cx: &Ctx, h: *mut Half, val: *mut u8, len: usize) -> Option<i32> {
    // SAFETY: h is a live half; queued clauses and their buffers are live
    // (their coroutines are blocked on them).
    unsafe {
        let (target, q) = if SEND {
            let t = other(h);
            (t, ptr::addr_of_mut!((*t).recv))
        } else {
            (h, ptr::addr_of_mut!((*h).send))
        };
        if (*target).done {
            return Some(libc::EPIPE);
        }
        let cl = front(q);
        if cl.is_null() {
            return None;
        }
        // Waking the partner unlinks its clauses, this one included.
        if (*cl).len != len {
            sched::wake(cx, (*cl).cr, (*cl).index, libc::EMSGSIZE);
            return Some(libc::EMSGSIZE);
        }
        if SEND {
            copy(val, (*cl).val, len);
        } else {
            copy((*cl).val, val, len);
        }
        sched::wake(cx, (*cl).cr, (*cl).index, 0);
        Some(0)
    }
}

/// Copies a message; the usual small ones without a call to memcpy.
///
/// # Safety
/// `src` and `dst` are `len` valid, non-overlapping bytes.
#[inline(always)]
unsafe fn copy(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: per the contract above; unaligned accesses stay inside `len`.
    unsafe {
        match len {
            0 => {}
            4 => dst.cast::<u32>().write_unaligned(src.cast::<u32>().read_unaligned()),
            8 => dst.cast::<u64>().write_unaligned(src.cast::<u64>().read_unaligned()),
            _ => ptr::copy_nonoverlapping(src, dst, len),
        }
    }
}

/// Queues clause `cl` of the running coroutine for `op` on `h`.
fn enqueue(h: *mut Half, op: i32, cl: *mut Clause) {
    // SAFETY: h is a live half; cl a clause on the running coroutine's stack.
    unsafe {
        if op == CHSEND {
            push_back(ptr::addr_of_mut!((*other(h)).send), cl);
        } else {
            push_back(ptr::addr_of_mut!((*h).recv), cl);
        }
    }
}

/// chsend (SEND) or chrecv. Returns 0 or an errno.
#[inline(always)]
pub fn single<const SEND: bool>(cx: &Ctx, h: *mut Half, val: *mut u8, len: usize, deadline: i64) -> i32 {
    match try_op::<SEND>(cx, h, val, len) {
        Some(e) => e,
        None if deadline == 0 => libc::ETIMEDOUT,
        None => block(cx, h, if SEND { CHSEND } else { CHRECV }, val, len, deadline),
    }
}

/// The waiting half of `single`, kept out of line so that the hand-off path
/// stays small.
#[inline(never)]
fn block(cx: &Ctx, h: *mut Half, op: i32, val: *mut u8, len: usize, deadline: i64) -> i32 {
    let me = cx.me();
    let mut cl = Clause { cr: me, val, len, ..Clause::empty() };
    enqueue(h, op, &mut cl);
    // SAFETY: me is the running coroutine; cl outlives the wait.
    unsafe {
        (*me).clauses = &mut cl;
        (*me).nclauses = 1;
    }
    match sched::wait(cx, deadline) {
        (FIRED_TIMEOUT, _) => libc::ETIMEDOUT,
        (FIRED_CANCEL, _) => libc::ECANCELED,
        (_, e) => e,
    }
}

/// Tries a `choose` clause at once: Some(errno) if it completed or failed.
#[inline(always)]
pub fn choose_try(cx: &Ctx, h: *mut Half, op: i32, val: *mut u8, len: usize) -> Option<i32> {
    if op == CHSEND {
        try_op::<true>(cx, h, val, len)
    } else {
        try_op::<false>(cx, h, val, len)
    }
}

/// Result of a blocked `choose`: the index that fired with its errno, or a
/// failure of the whole call.
pub enum Chosen {
    Fired(i32, i32),
    Failed(i32),
}

/// Clauses a `choose` keeps on the stack; longer lists allocate once.
const INLINE: usize = 16;

/// Blocks on `n` clauses, `clause(i)` giving (half, op, val, len) of each
/// (all validated already), until one fires or the deadline passes.
#[inline(always)]
pub fn choose_wait(
    cx: &Ctx,
    n: usize,
    deadline: i64,
    clause: impl Fn(usize) -> (*mut Half, i32, *mut u8, usize),
) -> Chosen {
    let mut inline: [core::mem::MaybeUninit<Clause>; INLINE] =
        [const { core::mem::MaybeUninit::uninit() }; INLINE];
    let mut heap: Vec<Clause> = Vec::new();
    let cls: *mut Clause = if n <= INLINE {
        inline.as_mut_ptr() as *mut Clause
    } else {
        if heap.try_reserve_exact(n).is_err() {
            return Chosen::Failed(libc::ENOMEM);
        }
        heap.as_mut_ptr()
    };
    let me = cx.me();
    for i in 0..n {
        let (h, op, val, len) = clause(i);
        let cl = cls.wrapping_add(i);
        // SAFETY: cl is within the n clauses reserved above; initialised here
        // before it is queued.
        unsafe { cl.write(Clause { cr: me, val, len, index: i as i32, ..Clause::empty() }) };
        enqueue(h, op, cl);
    }
    // SAFETY: me is the running coroutine; the clauses outlive the wait
    // (waking unlinks them all before we return).
    unsafe {
        (*me).clauses = cls;
        (*me).nclauses = n;
    }
    match sched::wait(cx, deadline) {
        (FIRED_TIMEOUT, _) => Chosen::Failed(libc::ETIMEDOUT),
        (FIRED_CANCEL, _) => Chosen::Failed(libc::ECANCELED),
        (i, e) => Chosen::Fired(i, e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn channel_fits_chsize() {
        assert!(core::mem::size_of::<super::Chan>() <= 144);
        assert!(core::mem::size_of::<crate::core::bundle::Bundle>() <= 64);
    }
}
