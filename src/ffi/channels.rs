//! Channels: chmake, chmake_mem, chsend, chrecv, choose.

use crate::core::chan::{self, Chan, Chosen, Half, CHRECV, CHSEND};
use crate::core::ctx::{self, Ctx};
use crate::core::{errno, handles};
use core::ffi::{c_int, c_void};

/// One operation for `choose`. Layout is ABI.
#[repr(C)]
pub struct chclause {
    pub op: c_int,
    pub ch: c_int,
    pub val: *mut c_void,
    pub len: usize,
}

/// Creates a channel; its two ends go to `chv[0]` and `chv[1]`.
///
/// # Safety
/// `chv` must point to two writable ints.
#[no_mangle]
pub unsafe extern "C" fn chmake(chv: *mut c_int) -> c_int {
    make(core::ptr::null_mut(), chv)
}

/// Creates a channel in caller memory of CHSIZE bytes.
///
/// # Safety
/// `mem` must be CHSIZE writable bytes that outlive the
/// channel; `chv` must point to two writable ints.
#[no_mangle]
pub unsafe extern "C" fn chmake_mem(mem: *mut c_void, chv: *mut c_int) -> c_int {
    let Some(mem) = super::caller_mem::<Chan>(mem) else { return errno::fail(libc::EINVAL) };
    make(mem as *mut Chan, chv)
}

fn make(mem: *mut Chan, chv: *mut i32) -> i32 {
    if chv.is_null() {
        return errno::fail(libc::EINVAL);
    }
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return errno::fail(libc::ECANCELED);
    }
    let ch = match chan::create(cx, mem) {
        Ok(ch) => ch,
        Err(e) => return errno::fail(e),
    };
    let h0 = match handles::make_checked(cx, chan::half(ch, 0) as *mut _) {
        Ok(h) => h,
        Err(e) => {
            chan::destroy(cx, ch);
            return errno::fail(e);
        }
    };
    let h1 = match handles::make_checked(cx, chan::half(ch, 1) as *mut _) {
        Ok(h) => h,
        Err(e) => {
            // Closing the only handle of half 0 leaves half 1 unclosed; free directly.
            let _ = cx.handles().remove(h0);
            chan::destroy(cx, ch);
            return errno::fail(e);
        }
    };
    // SAFETY: chv checked non-null; the caller promises two ints.
    unsafe {
        *chv = h0;
        *chv.add(1) = h1;
    }
    0
}

/// The channel half behind `h`, or the errno for a bad or foreign handle.
#[inline]
pub(crate) fn half_of(cx: &Ctx, h: i32) -> Result<*mut Half, i32> {
    let vfs = cx.handles().get(h).ok_or(libc::EBADF)?;
    chan::as_half(vfs).ok_or(libc::ENOTSUP)
}

#[inline(always)]
fn single<const SEND: bool>(ch: i32, val: *mut u8, len: usize, deadline: i64) -> i32 {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return errno::fail(libc::ECANCELED);
    }
    let h = match half_of(cx, ch) {
        Ok(h) => h,
        Err(e) => return errno::fail(e),
    };
    if val.is_null() & (len != 0) {
        return errno::fail(libc::EINVAL);
    }
    super::status(chan::single::<SEND>(cx, h, val, len, deadline))
}

/// Sends `len` bytes at `val` through channel end `ch`.
///
/// # Safety
/// `val` must be `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn chsend(ch: c_int, val: *const c_void, len: usize, deadline: i64) -> c_int {
    single::<true>(ch, val as *mut u8, len, deadline)
}

/// Receives `len` bytes into `val` from channel end `ch`.
///
/// # Safety
/// `val` must be `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn chrecv(ch: c_int, val: *mut c_void, len: usize, deadline: i64) -> c_int {
    single::<false>(ch, val as *mut u8, len, deadline)
}

// choose() validates ops with one unsigned compare that relies on these.
const _: () = assert!(CHSEND == 1 && CHRECV == 2);

/// Clauses of a `choose` whose channel lookup is remembered between passes.
const SEEN: usize = 16;

/// Performs the first of `clauses` that can be done; returns its index with
/// errno 0 (or the clause's error), or -1.
///
/// # Safety
/// `clauses` must point to `nclauses` valid clauses whose buffers are valid.
#[no_mangle]
pub unsafe extern "C" fn choose(clauses: *mut chclause, nclauses: c_int, deadline: i64) -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return errno::fail(libc::ECANCELED);
    }
    if nclauses < 0 || (nclauses > 0 && clauses.is_null()) {
        return errno::fail(libc::EINVAL);
    }
    let n = nclauses as usize;
    // Halves found by the first pass, kept for the wait (the usual short
    // lists only; longer ones are looked up again).
    let mut seen = [core::mem::MaybeUninit::<*mut Half>::uninit(); SEEN];
    // Clauses are checked and tried in order; the first that is malformed,
    // fails or completes decides the result.
    for i in 0..n {
        // SAFETY: i < nclauses; the caller promises that many clauses.
        let c = unsafe { &*clauses.add(i) };
        let h = match half_of(cx, c.ch) {
            Ok(h) => h,
            Err(e) => {
                cx.set_errno(e);
                return i as c_int;
            }
        };
        // CHSEND and CHRECV are 1 and 2: one unsigned compare checks the op.
        if (c.val.is_null() & (c.len != 0)) | ((c.op as u32).wrapping_sub(1) > 1) {
            cx.set_errno(libc::EINVAL);
            return i as c_int;
        }
        if let Some(e) = chan::choose_try(cx, h, c.op, c.val as *mut u8, c.len) {
            cx.set_errno(e);
            return i as c_int;
        }
        if i < SEEN {
            seen[i].write(h);
        }
    }
    if deadline == 0 {
        return errno::fail(libc::ETIMEDOUT);
    }
    let clause = |i: usize| {
        // SAFETY: as above; every clause was validated by the loop, which
        // also filled `seen` for the first SEEN of them.
        let c = unsafe { &*clauses.add(i) };
        let h = if i < SEEN {
            unsafe { seen[i].assume_init() }
        } else {
            half_of(cx, c.ch).unwrap_or(core::ptr::null_mut())
        };
        (h, c.op, c.val as *mut u8, c.len)
    };
    match chan::choose_wait(cx, n, deadline, clause) {
        // The wait left the clause's errno (0 or its error) in errno.
        Chosen::Fired(i, _) => i,
        Chosen::Failed(e) => errno::fail(e),
    }
}
