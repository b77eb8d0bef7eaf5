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
    /// Members, linked through `Cr::bnext`/`bprev`.
    first: *mut Cr,
    /// Coroutines waiting for members to finish, linked through `Cr::wnext`.
    waiters: *mut Cr,
    count: u32,
    /// Lives in caller memory (bundle_mem, go_mem): never freed by us.
    mem: bool,
    /// Closed from inside by its own member: freed when that member ends.
    orphan: bool,
}

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
    close(ctx::ctx(), vfs as *mut Bundle);
}

/// Is `vfs` one of our bundles?
#[inline]
pub fn is_bundle(vfs: *mut hvfs) -> bool {
    // SAFETY: vfs is a live object behind a handle.
    let q = unsafe { (*vfs).query };
    matches!(q, Some(f) if ptr::fn_addr_eq(f, vfs_query as unsafe extern "C" fn(_, _) -> _))
}

/// Closes a bundle given its vfs: the fast path of hclose for our own type.
pub fn close_vfs(cx: &Ctx, vfs: *mut hvfs) {
    close(cx, vfs as *mut Bundle);
}

/// Free bundles of `go()` kept for reuse, so launching allocates nothing.
pub struct BundlePool {
    free: Vec<*mut Bundle>,
}

const POOL_MAX: usize = 64;

impl BundlePool {
    pub const fn new() -> BundlePool {
        BundlePool { free: Vec::new() }
    }

    fn get(&mut self) -> *mut Bundle {
        if let Some(b) = self.free.pop() {
            return b;
        }
        // SAFETY: plain allocation; null on failure is handled by the caller.
        unsafe { libc::malloc(core::mem::size_of::<Bundle>()) as *mut Bundle }
    }

    fn put(&mut self, b: *mut Bundle) {
        if self.free.len() < POOL_MAX && self.free.try_reserve(1).is_ok() {
            self.free.push(b);
        } else {
            // SAFETY: b came from malloc in `get` and is no longer referenced.
            unsafe { libc::free(b as *mut c_void) };
        }
    }
}

impl Drop for BundlePool {
    fn drop(&mut self) {
        for &b in &self.free {
            // SAFETY: pooled bundles are unused malloc'd blocks.
            unsafe { libc::free(b as *mut c_void) };
        }
    }
}

/// Builds an empty bundle in `mem`, or in pooled memory if `mem` is null.
pub fn create(cx: &Ctx, mem: *mut Bundle) -> Result<*mut Bundle, i32> {
    let b = if mem.is_null() { cx.bundles().get() } else { mem };
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

/// Releases a bundle built by `create` that never got a handle.
pub fn discard(cx: &Ctx, b: *mut Bundle) {
    // SAFETY: b is a bundle without members or handles.
    if unsafe { !(*b).mem } {
        cx.bundles().put(b);
    }
}

/// Adds the coroutine `cr` (being launched) to `b`.
pub fn join(b: *mut Bundle, cr: *mut Cr) {
    // SAFETY: b is a live bundle and cr a fresh coroutine record.
    unsafe {
        (*cr).bundle = b;
        (*cr).bprev = ptr::null_mut();
        (*cr).bnext = (*b).first;
        if !(*b).first.is_null() {
            (*(*b).first).bprev = cr;
        }
        (*b).first = cr;
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
        if (*cr).bprev.is_null() {
            (*b).first = (*cr).bnext;
        } else {
            (*(*cr).bprev).bnext = (*cr).bnext;
        }
        if !(*cr).bnext.is_null() {
            (*(*cr).bnext).bprev = (*cr).bprev;
        }
        (*b).count -= 1;
        (*cr).bundle = ptr::null_mut();
        while !(*b).waiters.is_null() {
            sched::wake(cx, (*b).waiters, 0, 0);
        }
        if (*b).orphan && (*b).count == 0 {
            discard(cx, b);
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
    }
}

/// hclose of a bundle: cancels its members and waits for them to finish.
pub fn close(cx: &Ctx, b: *mut Bundle) {
    let me = cx.me();
    // SAFETY: b is a live bundle whose last handle was just closed; members
    // stay live until they leave it.
    unsafe {
        let mut cr = (*b).first;
        let mut inside = false;
        while !cr.is_null() {
            let next = (*cr).bnext;
            if cr == me {
                inside = true;
                (*me).canceled = true;
            } else {
                sched::cancel(cx, cr);
            }
            cr = next;
        }
        // Closing one's own bundle: wait for the others, then leave the rest
        // to the moment we finish.
        let target = inside as u32;
        while (*b).count > target {
            add_waiter(b, me);
            let was = (*me).uncancelable;
            (*me).uncancelable = true;
            sched::wait(cx, -1);
            (*me).uncancelable = was;
        }
        if inside {
            (*b).orphan = true;
        } else {
            discard(cx, b);
        }
    }
}

/// bundle_wait: waits until `b` has no members. Returns 0 or an errno.
pub fn wait_empty(cx: &Ctx, b: *mut Bundle, deadline: i64) -> i32 {
    let me = cx.me();
    // SAFETY: b is a live bundle; me the running coroutine.
    unsafe {
        if !(*me).can_block() {
            return libc::ECANCELED;
        }
        while (*b).count > 0 {
            if deadline == 0 {
                return libc::ETIMEDOUT;
            }
            add_waiter(b, me);
            match sched::wait(cx, deadline) {
                (FIRED_TIMEOUT, _) => return libc::ETIMEDOUT,
                (FIRED_CANCEL, _) => return libc::ECANCELED,
                _ => {}
            }
        }
    }
    0
}
