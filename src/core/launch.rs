//! Launching coroutines: the library half of the `go()` protocol.
//!
//! The header's `go()` macro calls `dill_prologue`, which prepares the new
//! coroutine and makes it the running one; the macro then saves the caller's
//! context where we said, moves to the new stack and calls the function
//! there, then `dill_epilogue`. The caller waits in the ready queue.

use crate::core::bundle::{self, Bundle};
use crate::core::cr::Cr;
use crate::core::ctx::Ctx;
use crate::core::stack::Stack;
use crate::core::{handles, sched};
use core::mem::{align_of, size_of};

/// Bytes of caller memory that `go_mem` reserves for the coroutine's bundle.
pub const BUNDLE_SIZE: usize = 64;
/// Smallest stack worth running on, beyond the coroutine record.
const MIN_STACK: usize = 2048;

/// Where a new coroutine runs.
pub enum Mem {
    /// A cached, guarded stack (`go`, `bundle_go`).
    Pooled,
    /// Caller memory (`go_mem`, `bundle_go_mem`).
    Caller(*mut u8, usize),
}

/// What the macro needs: the new handle (or 0), where to save the caller's
/// context, and the top of the new stack.
pub struct Launched {
    pub handle: i32,
    pub save_to: *mut Cr,
    pub stack_top: *mut u8,
}

fn align_up(p: usize, a: usize) -> usize {
    (p + a - 1) & !(a - 1)
}

/// Prepares a coroutine in bundle `bndl` (or a new bundle if -1) and switches
/// the scheduler over to it.
pub fn prologue(cx: &Ctx, mem: Mem, bndl: i32) -> Result<Launched, i32> {
    let me = cx.me();
    // SAFETY: me is the running coroutine.
    if !unsafe { (*me).can_block() } {
        return Err(libc::ECANCELED);
    }
    sched::release_zombie(cx);
    // Carve the caller's memory: [bundle (go_mem only)] [stack ... record].
    let (mut lo, mut hi) = (0usize, 0usize);
    if let Mem::Caller(p, len) = mem {
        if p.is_null() {
            return Err(libc::EINVAL);
        }
        lo = p as usize;
        hi = lo.checked_add(len).ok_or(libc::EINVAL)?;
    }
    let (b, handle) = if bndl >= 0 {
        let vfs = cx.handles().get(bndl).ok_or(libc::EBADF)?;
        if !bundle::is_bundle(vfs) {
            return Err(libc::ENOTSUP);
        }
        (vfs as *mut Bundle, 0)
    } else {
        let mut at = core::ptr::null_mut();
        if let Mem::Caller(..) = mem {
            let a = align_up(lo, align_of::<Bundle>());
            at = a as *mut Bundle;
            lo = a + BUNDLE_SIZE;
        }
        if matches!(mem, Mem::Caller(..)) && lo > hi {
            return Err(libc::ENOMEM);
        }
        let b = bundle::create(cx, at)?;
        // SAFETY: b is a fresh bundle; its vfs is its first field.
        let h = match handles::make(cx, unsafe { &mut (*b).vfs }) {
            Ok(h) => h,
            Err(e) => {
                bundle::discard(cx, b);
                return Err(e);
            }
        };
        (b, h)
    };
    let stack = match mem {
        Mem::Pooled => cx.stacks().get(),
        Mem::Caller(..) => {
            let top = hi.saturating_sub(size_of::<Cr>()) & !(align_of::<Cr>() - 1);
            if top < lo || top - lo < MIN_STACK {
                None
            } else {
                Some(Stack { lo: lo as *mut u8, size: hi - lo, owned: false })
            }
        }
    };
    let Some(stack) = stack else {
        if bndl < 0 {
            let _ = handles::close(cx, handle);
        }
        return Err(libc::ENOMEM);
    };
    // The record sits at the top of the stack; the stack grows down from it.
    let top = (stack.hi() as usize - size_of::<Cr>()) & !(align_of::<Cr>() - 1);
    let cr = top as *mut Cr;
    // SAFETY: [top, top + size_of::<Cr>()) lies inside the stack, unused.
    unsafe { cr.write(Cr::new(stack)) };
    bundle::join(b, cr);
    sched::push_ready(cx, me);
    cx.running.set(cr);
    Ok(Launched { handle, save_to: me, stack_top: top as *mut u8 })
}
