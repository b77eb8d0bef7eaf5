//! Scheduling: the ready queue, blocking and waking, and the poll loop that
//! turns expired deadlines and fd events into wake-ups.

use crate::arch;
use crate::core::clock::now_ms;
use crate::core::cr::{Cr, FIRED_CANCEL, FIRED_TIMEOUT, NO_TIMER};
use crate::core::ctx::Ctx;
use crate::core::stack::Stack;
use crate::core::{bundle, chan, san};
use core::ptr;

/// Every this many ready-queue picks the scheduler looks at the clock and the
/// poller even though coroutines are ready, so that busy coroutines cannot
/// starve deadlines and fds.
pub const FAIRNESS: u32 = 128;

/// Appends `cr` to the ready queue.
#[inline]
pub fn push_ready(cx: &Ctx, cr: *mut Cr) {
    // SAFETY: cr is a live coroutine not in the queue.
    unsafe { (*cr).next_ready = ptr::null_mut() };
    let tail = cx.ready_tail.get();
    if tail.is_null() {
        cx.ready_head.set(cr);
    } else {
        // SAFETY: the tail is a live queued coroutine.
        unsafe { (*tail).next_ready = cr };
    }
    cx.ready_tail.set(cr);
}

#[inline]
fn pop_ready(cx: &Ctx) -> *mut Cr {
    let head = cx.ready_head.get();
    if !head.is_null() {
        // SAFETY: the head is a live queued coroutine.
        let next = unsafe { (*head).next_ready };
        cx.ready_head.set(next);
        if next.is_null() {
            cx.ready_tail.set(ptr::null_mut());
        }
    }
    head
}

/// Blocks the running coroutine until something wakes it or `deadline`
/// passes (-1: no deadline). The caller has registered whatever else may wake
/// it. Returns (fired, errno) as set by the waker.
pub fn wait(cx: &Ctx, deadline: i64) -> (i32, i32) {
    let me = cx.me();
    if deadline >= 0 {
        cx.timers().add(me, deadline);
        // SAFETY: me is the running coroutine.
        unsafe { (*me).extras = true };
    }
    // SAFETY: me is the running coroutine.
    unsafe { (*me).blocked = true };
    suspend(cx);
    // SAFETY: as above; the waker filled these in.
    let (fired, err) = unsafe { ((*me).fired, (*me).err) };
    // The original leaves the waker's code in errno even on success (0 for
    // a hand-off, ETIMEDOUT after a sleep); programs can see it.
    cx.set_errno(err);
    (fired, err)
}

/// Ends `cr`'s wait with (fired, err): undoes every registration of the wait
/// and makes it ready. Does nothing if it is not blocked.
#[inline]
pub fn wake(cx: &Ctx, cr: *mut Cr, fired: i32, err: i32) {
    // SAFETY: cr is a live coroutine; its registrations point at live objects.
    unsafe {
        if !(*cr).blocked {
            return;
        }
        (*cr).blocked = false;
        (*cr).fired = fired;
        (*cr).err = err;
        let n = (*cr).nclauses;
        if n != 0 {
            chan::unlink_clauses((*cr).clauses, n);
            (*cr).nclauses = 0;
        }
        if (*cr).extras {
            unregister_extras(cx, cr);
        }
    }
    push_ready(cx, cr);
}

/// The less common registrations of a wait: timers, fds and bundles.
#[inline(never)]
fn unregister_extras(cx: &Ctx, cr: *mut Cr) {
    // SAFETY: as in `wake`.
    unsafe {
        (*cr).extras = false;
        if (*cr).timer_idx != NO_TIMER {
            cx.timers().remove(cr);
        }
        if (*cr).wait_fd >= 0 {
            cx.fds().forget_waiter((*cr).wait_fd, (*cr).wait_dir);
            (*cr).wait_fd = -1;
        }
        if !(*cr).wait_bundle.is_null() {
            bundle::forget_waiter((*cr).wait_bundle, cr);
            (*cr).wait_bundle = ptr::null_mut();
        }
    }
}

/// Marks `cr` canceled and interrupts its wait, unless the wait is one that
/// only its own event may end.
pub fn cancel(cx: &Ctx, cr: *mut Cr) {
    // SAFETY: cr is a live coroutine.
    unsafe {
        (*cr).set_canceled();
        if (*cr).blocked && !(*cr).uncancelable {
            wake(cx, cr, FIRED_CANCEL, libc::ECANCELED);
        }
    }
}

/// Picks the next coroutine to run, polling (and sleeping if nothing is
/// ready) as needed.
#[inline(always)]
fn next(cx: &Ctx) -> *mut Cr {
    let left = cx.picks.get().wrapping_sub(1);
    cx.picks.set(left);
    if left == 0 {
        cx.picks.set(FAIRNESS);
        poll(cx, false);
    }
    let cr = pop_ready(cx);
    if !cr.is_null() {
        return cr;
    }
    next_idle(cx)
}

/// Nothing is ready: poll, sleeping until something is.
#[cold]
#[inline(never)]
fn next_idle(cx: &Ctx) -> *mut Cr {
    loop {
        poll(cx, true);
        let cr = pop_ready(cx);
        if !cr.is_null() {
            return cr;
        }
    }
}

/// Switches away from the running coroutine until it is made ready again.
#[inline]
pub fn suspend(cx: &Ctx) {
    let me = cx.me();
    let nx = next(cx);
    if nx != me {
        cx.running.set(nx);
        // SAFETY: nx holds a saved context of a live coroutine; me's record
        // stays valid while it is suspended. (The switch is the one that
        // tells sanitizers, when a program carries one.)
        unsafe { san::switcher()(&mut (*me).regs, &(*nx).regs) };
    }
}

/// Lets the others run: the running coroutine goes to the back of the queue.
#[inline]
pub fn yield_now(cx: &Ctx) {
    if cx.ready_head.get().is_null() {
        yield_idle(cx);
        return;
    }
    push_ready(cx, cx.me());
    suspend(cx);
}

/// Nobody else is ready; still look at deadlines and fds now and then.
#[cold]
#[inline(never)]
fn yield_idle(cx: &Ctx) {
    let left = cx.picks.get().wrapping_sub(1);
    cx.picks.set(left);
    if left != 0 {
        return;
    }
    cx.picks.set(FAIRNESS);
    poll(cx, false);
    if !cx.ready_head.get().is_null() {
        push_ready(cx, cx.me());
        suspend(cx);
    }
}

/// Ends the running coroutine: leaves its bundle and switches away for good.
/// Its stack goes back to the cache, or, when the cache is full, becomes the
/// zombie, unmapped by the next launch or finish (not on every switch: that
/// would tax the hot path for a rare event).
pub fn finish(cx: &Ctx) -> ! {
    let me = cx.me();
    release_zombie(cx);
    // SAFETY: me is the running coroutine, about to be abandoned.
    let stack = unsafe { (*me).stack };
    bundle::leave(cx, me);
    // Back to the cache at once; only a stack to unmap must wait until we
    // are off it.
    if !cx.stacks().put_cached(stack) {
        cx.zombie.set(stack);
    }
    let nx = next(cx);
    if san::on() {
        san::exit(cx, nx); // (Finds all else in cx: no register kept for it.)
    }
    cx.running.set(nx);
    // SAFETY: nx holds a saved context of a live coroutine.
    unsafe { arch::jump(&(*nx).regs) }
}

/// Recycles the stack of the coroutine that finished last. Callers are not
/// running on it: only a finished coroutine ran there.
#[inline(always)]
pub fn release_zombie(cx: &Ctx) {
    if cx.zombie.get().owned {
        recycle_zombie(cx);
    }
}

#[inline(never)]
fn recycle_zombie(cx: &Ctx) {
    let z = cx.zombie.replace(Stack::none());
    cx.stacks().put(z);
}

/// Collects fd events, then fires expired timers. With `block`, sleeps
/// until the next deadline or event when nothing is ready. Fds go first, as
/// in the original: a wait whose fd became ready by the time its deadline
/// expired succeeds.
#[cold]
#[inline(never)]
fn poll(cx: &Ctx, block: bool) {
    let mut now = now_ms();
    let mut timeout = 0;
    if block && cx.ready_head.get().is_null() {
        timeout = match cx.timers().next_deadline() {
            None => -1,
            Some(d) => (d - now).clamp(0, i32::MAX as i64) as i32,
        };
    }
    if timeout != 0 || cx.fds().watching() {
        crate::core::fdwait::poll(cx, timeout);
        if timeout != 0 {
            now = now_ms();
        }
    }
    fire_timers(cx, now);
}

fn fire_timers(cx: &Ctx, now: i64) {
    while let Some(cr) = cx.timers().pop_expired(now) {
        wake(cx, cr, FIRED_TIMEOUT, libc::ETIMEDOUT);
    }
}
