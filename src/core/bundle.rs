//! Bundles: the lifetime scope of coroutines. Closing one cancels its
//! coroutines and returns once they all finished.

use crate::core::cr::{Cr, FIRED_CANCEL, FIRED_TIMEOUT};
use crate::core::ctx::Ctx;
use crate::core::hvfs::hvfs;
use crate::core::{ctx, sched};
use core::ffi::c_void;
use core::ptr;

#[repr(C)]
pub struct Bundle {
    pub vfs: hvfs,
    /// Members in launch order, linked through `Cr::bnext`/`bprev`; the
    /// first one's `bprev` is the last one (no room for a tail pointer in
    /// BUNDLE_SIZE).
    first: *mut Cr,
    /// Coroutines waiting for members to finish, linked through `Cr::wnext`.
    waiters: *mut Cr,
    count: u32,
    /// Lives in caller memory (bundle_mem, go_mem): never freed by us.
    mem: bool,
    /// Closed from inside by its own member: freed when that member ends.
    orphan: bool,
}

/// How `leave` wakes a bundle's waiters: a member left, or the last one did.
const WOKE_LEFT: i32 = 0;
const WOKE_EMPTY: i32 = 1;

/// The type id answered by `hquery` for bundles.
static BUNDLE_TYPE: u8 = 0;

pub fn type_id() -> *const c_void {
    &BUNDLE_TYPE as *const u8 as *const c_void
}

unsafe extern "C" fn vfs_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    if t == type_id() {
        return vfs as *mut c_void;
    }
    crate::core::errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn vfs_close(vfs: *mut hvfs) {
    let Ok(cx) = ctx::get() else { return }; // An object of this thread exists, so does the thread's context.
    let _ = close(cx, vfs as *mut Bundle);
}

/// Is `vfs` one of our bundles?
#[inline]
pub fn is_bundle(vfs: *mut hvfs) -> bool {
    // SAFETY: vfs is a live object behind a handle.
    let q = unsafe { (*vfs).query };
    matches!(q, Some(f) if ptr::fn_addr_eq(f, vfs_query as unsafe extern "C" fn(_, _) -> _))
}

/// Closes a bundle given its vfs: the fast path of hclose for our own type.
/// Returns 0 or EDEADLK (see `close_busy`).
pub fn close_vfs(cx: &Ctx, vfs: *mut hvfs) -> i32 {
    close(cx, vfs as *mut Bundle)
}

/// Builds an empty bundle in caller memory `mem`, or in a block of the
/// thread's bundle pool if `mem` is null. Bundles never live on a
/// coroutine's stack: a finished coroutine gives its stack back at once,
/// however long its handle stays open.
#[inline(always)]
pub fn create(cx: &Ctx, mem: *mut Bundle) -> Result<*mut Bundle, i32> {
    let b = if mem.is_null() { cx.bundles().get() as *mut Bundle } else { mem };
    if b.is_null() {
        return Err(libc::ENOMEM);
    }
    // SAFETY: b points to writable memory of at least size_of::<Bundle>().
    unsafe {
        b.write(Bundle {
            vfs: hvfs { query: Some(vfs_query), close: Some(vfs_close), done: None, refcount: 0 },
            first: ptr::null_mut(),
            waiters: ptr::null_mut(),
            count: 0,
            mem: !mem.is_null(),
            orphan: false,
        })
    };
    Ok(b)
}

/// Releases a bundle that has no members and no handles left.
#[inline]
pub fn discard(cx: &Ctx, b: *mut Bundle) {
    // SAFETY: b is a live bundle nobody refers to any more.
    if unsafe { !(*b).mem } {
        cx.bundles().put(b as *mut u8);
    }
}

/// Adds the coroutine `cr` (being launched) at the end of `b`.
#[inline(always)]
pub fn join(b: *mut Bundle, cr: *mut Cr) {
    // SAFETY: b is a live bundle and cr a fresh coroutine record.
    unsafe {
        (*cr).bundle = b;
        (*cr).bnext = ptr::null_mut();
        let first = (*b).first;
        if first.is_null() {
            (*cr).bprev = cr;
            (*b).first = cr;
        } else {
            let last = (*first).bprev;
            (*last).bnext = cr;
            (*cr).bprev = last;
            (*first).bprev = cr;
        }
        (*b).count += 1;
    }
}

/// Removes the finishing coroutine `cr` from its bundle and tells waiters.
pub fn leave(cx: &Ctx, cr: *mut Cr) {
    // SAFETY: cr is a live member of the live bundle it points to.
    unsafe {
        let b = (*cr).bundle;
        if b.is_null() {
            return;
        }
        let (prev, next) = ((*cr).bprev, (*cr).bnext);
        if cr == (*b).first {
            (*b).first = next;
        } else {
            (*prev).bnext = next;
        }
        if !next.is_null() {
            (*next).bprev = prev;
        } else if !(*b).first.is_null() {
            // cr was the last: the first one learns the new last.
            (*(*b).first).bprev = prev;
        }
        (*b).count -= 1;
        (*cr).bundle = ptr::null_mut();
        // Waiters learn whether the bundle is now empty from the wake
        // itself: by the time they run, it may be closed and gone.
        let fired = if (*b).count == 0 { WOKE_EMPTY } else { WOKE_LEFT };
        while !(*b).waiters.is_null() {
            sched::wake(cx, (*b).waiters, fired, 0);
        }
        if (*b).orphan && (*b).count == 0 {
            discard(cx, b); // Closed from inside: it goes with its last member.
        }
    }
}

/// Unlinks `cr` from the waiters of `b` (its wait ended another way).
pub fn forget_waiter(b: *mut Bundle, cr: *mut Cr) {
    // SAFETY: b is live and cr is on its waiter list.
    unsafe {
        let mut p: *mut *mut Cr = &mut (*b).waiters;
        while !(*p).is_null() {
            if *p == cr {
                *p = (*cr).wnext;
                break;
            }
            p = &mut (**p).wnext;
        }
        (*cr).wnext = ptr::null_mut();
    }
}

fn add_waiter(b: *mut Bundle, me: *mut Cr) {
    // SAFETY: b is live and me is the running coroutine.
    unsafe {
        (*me).wnext = (*b).waiters;
        (*b).waiters = me;
        (*me).wait_bundle = b;
        (*me).extras = true;
    }
}

/// hclose of a bundle: cancels its members and waits for them to finish.
/// Returns 0 or EDEADLK.
#[inline(always)]
pub fn close(cx: &Ctx, b: *mut Bundle) -> i32 {
    // SAFETY: b is a live bundle whose last handle was just closed.
    if unsafe { (*b).count } == 0 {
        discard(cx, b); // The common case: its coroutines are done.
        0
    } else {
        close_busy(cx, b)
    }
}

/// Cancels the members one at a time, in launch order, each finishing
/// before the next is canceled (as the original does: what one does on its
/// way out, say an hdone, reaches the others still running).
///
/// A member that is itself closing a bundle and waiting, directly or down a
/// chain of such closes, for our own coroutine to finish would wait for us
/// forever while we wait for it (two coroutines closing each other's
/// bundles). Then we cancel every member without waiting and return
/// EDEADLK: the bundle goes when its last member finishes, and the member
/// we did not wait for proceeds once we have finished.
#[inline(never)]
fn close_busy(cx: &Ctx, b: *mut Bundle) -> i32 {
    let me = cx.me();
    // SAFETY: b is a live bundle whose last handle was just closed; members
    // stay live until they leave it.
    unsafe {
        // Closing one's own bundle: the others go first, the rest is left to
        // the moment we finish.
        let inside = (*me).bundle == b;
        if inside {
            (*me).set_canceled();
        }
        loop {
            let cr = first_other(b, me);
            if cr.is_null() {
                break;
            }
            if waits_for(cr, me) {
                cancel_all(cx, b, me);
                (*b).orphan = true;
                return libc::EDEADLK;
            }
            sched::cancel(cx, cr);
            // Any member leaving wakes us; wait for this one to go (its
            // record may be gone with it: look only at the bundle). Nobody
            // can join a bundle without a handle, so no newcomer can take
            // its place at the front.
            while first_other(b, me) == cr {
                add_waiter(b, me);
                let was = (*me).uncancelable;
                (*me).uncancelable = true;
                sched::wait(cx, -1);
                (*me).uncancelable = was;
            }
        }
        if inside {
            (*b).orphan = true;
        } else {
            discard(cx, b);
        }
    }
    0
}

/// Does `cr` wait, through a chain of coroutines each closing a bundle
/// and waiting for one of its members, for `me` to finish?
fn waits_for(cr: *mut Cr, me: *mut Cr) -> bool {
    // SAFETY: all coroutines named here are live (blocked or running).
    unsafe {
        let mine = (*me).bundle;
        if mine.is_null() {
            return false;
        }
        let mut c = cr;
        // A chain longer than any real program's is not followed; a cycle
        // among others (not through us) ends there too.
        for _ in 0..1024 {
            if !((*c).blocked && (*c).uncancelable && !(*c).wait_bundle.is_null()) {
                return false;
            }
            let x = (*c).wait_bundle;
            if x == mine {
                return true;
            }
            c = first_other(x, c);
            if c.is_null() {
                return false;
            }
        }
        false
    }
}

/// Cancels every member of `b` but `me`, at once.
fn cancel_all(cx: &Ctx, b: *mut Bundle, me: *mut Cr) {
    // SAFETY: b is live and its members are live.
    unsafe {
        let mut c = (*b).first;
        while !c.is_null() {
            if c != me {
                sched::cancel(cx, c);
            }
            c = (*c).bnext;
        }
    }
}

/// The first member of `b` other than `me`, or null.
fn first_other(b: *mut Bundle, me: *mut Cr) -> *mut Cr {
    // SAFETY: b is live and its members are live.
    unsafe {
        let first = (*b).first;
        if first == me { (*me).bnext } else { first }
    }
}

/// bundle_wait: waits until `b`, named by handle `h`, has no members.
/// Returns 0 or an errno. Another coroutine may close the bundle meanwhile:
/// after a wake-up `b` is touched again only if `h` still names it.
pub fn wait_empty(cx: &Ctx, h: i32, b: *mut Bundle, deadline: i64) -> i32 {
    let me = cx.me();
    // SAFETY: b is a live bundle (re-checked after every wake-up); me the
    // running coroutine.
    unsafe {
        if !(*me).can_block() {
            return libc::ECANCELED;
        }
        // Deadline 0 waits too, with its timer already expired: the members
        // that are ready run first (as with the original) and may finish.
        while (*b).count > 0 {
            add_waiter(b, me);
            match sched::wait(cx, deadline) {
                (FIRED_TIMEOUT, _) => return libc::ETIMEDOUT,
                (FIRED_CANCEL, _) => return libc::ECANCELED,
                (WOKE_EMPTY, _) => return 0,
                _ => {
                    if cx.handles().get(h) != Some(b as *mut hvfs) {
                        return libc::EBADF; // Closed while we waited.
                    }
                    // Canceled after a member's leaving woke us: the wait
                    // would not see it.
                    if !(*me).can_block() {
                        return libc::ECANCELED;
                    }
                }
            }
        }
    }
    0
}
