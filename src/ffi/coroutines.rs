//! Coroutines: bundles, the go() launch protocol, yield.

use crate::core::bundle::{self, Bundle};
use crate::core::launch::{self, Mem};
use crate::core::{ctx, errno, handles, san, sched};
use core::ffi::{c_int, c_char, c_void};

/// The C library's `sigjmp_buf`, only ever handled through pointers here.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct sigjmp_buf {
    _opaque: [u8; 0],
}

/// Written by the fallback `go()` macro to keep its alloca alive.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut dill_unoptimisable: *mut c_void = core::ptr::null_mut();

/// Creates an empty bundle.
#[no_mangle]
pub extern "C" fn bundle() -> c_int {
    make_bundle(core::ptr::null_mut())
}

/// Creates an empty bundle in caller memory of BUNDLE_SIZE bytes.
///
/// # Safety
/// `mem` must be BUNDLE_SIZE writable bytes that outlive the bundle.
#[no_mangle]
pub unsafe extern "C" fn bundle_mem(mem: *mut c_void) -> c_int {
    let Some(mem) = super::caller_mem::<Bundle>(mem) else { return errno::fail(libc::EINVAL) };
    make_bundle(mem as *mut Bundle)
}

fn make_bundle(mem: *mut Bundle) -> i32 {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    let r = bundle::create(cx, mem).and_then(|b| {
        // SAFETY: b is a fresh bundle; its vfs is its first field.
        handles::make(cx, unsafe { &mut (*b).vfs }).inspect_err(|_| bundle::discard(cx, b))
    });
    super::ret(r)
}

/// Waits until every coroutine of bundle `bndl` finished.
#[no_mangle]
pub extern "C" fn bundle_wait(bndl: c_int, deadline: i64) -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return errno::fail(libc::ECANCELED); // Before the handle, as the original.
    }
    let Some(vfs) = cx.handles().get(bndl) else { return errno::fail(libc::EBADF) };
    if !bundle::is_bundle(vfs) {
        return errno::fail(libc::ENOTSUP);
    }
    super::status(bundle::wait_empty(cx, bndl, vfs as *mut Bundle, deadline))
}

/// First half of `go()`: prepares the coroutine and makes it current. Sets
/// `*ctx` to where the macro saves the caller's context and `*ptr` to the new
/// stack's top. Returns the new bundle's handle, 0 for `bundle_go`, or -1.
///
/// # Safety
/// Only the header's `go()` macros may call this, with valid out-pointers and,
/// for the `_mem` forms, `len` writable bytes at `*ptr`.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn dill_prologue(
    ctx: *mut *mut sigjmp_buf,
    ptr: *mut *mut c_void,
    len: usize,
    bndl: c_int,
    file: *const c_char,
    line: c_int,
) -> c_int {
    let _ = (file, line); // Debugging aids of the original; unused.
    if ctx.is_null() || ptr.is_null() {
        return errno::fail(libc::EINVAL);
    }
    // SAFETY: ptr checked above.
    let at = unsafe { *ptr } as *mut u8;
    let mem = if at.is_null() { Mem::Pooled } else { Mem::Caller(at, len) };
    match ctx::get().and_then(|cx| launch::prologue(cx, mem, bndl)) {
        Ok(l) => {
            // SAFETY: out-pointers checked above; save_to is the live caller.
            unsafe {
                *ctx = core::ptr::addr_of_mut!((*l.save_to).regs) as *mut sigjmp_buf;
                *ptr = l.stack_top as *mut c_void;
            }
            l.handle
        }
        Err(e) => errno::fail(e),
    }
}

/// `dill_prologue` for the go() macro of ASan builds, which tells ASan
/// about the switches it makes (calling `dill_san_arrived`, in `core::san`).
/// (A wrapper, so that `dill_prologue` stays the only caller of the launch
/// code, which is inlined there.)
///
/// # Safety
/// As for `dill_prologue`.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn dill_prologue_san(
    ctx: *mut *mut sigjmp_buf,
    ptr: *mut *mut c_void,
    len: usize,
    bndl: c_int,
    file: *const c_char,
    line: c_int,
) -> c_int {
    let cx = ctx::get().ok().filter(|_| san::on());
    if let Some(cx) = cx {
        cx.san.announcing.set(true);
    }
    // SAFETY: the caller's contract is ours.
    let h = unsafe { dill_prologue(ctx, ptr, len, bndl, file, line) };
    if let Some(cx) = cx {
        cx.san.announcing.set(false);
    }
    h
}

/// Second half of `go()`: the coroutine's function returned; end it.
#[no_mangle]
#[inline(never)]
pub extern "C" fn dill_epilogue() {
    // A coroutine was launched in this thread, so its context exists.
    if let Ok(cx) = ctx::get() {
        sched::finish(cx)
    }
}

/// Lets other coroutines run.
#[no_mangle]
pub extern "C" fn r#yield() -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return errno::fail(libc::ECANCELED);
    }
    sched::yield_now(cx);
    // As the original: a successful yield leaves errno at 0.
    cx.set_errno(0);
    0
}
