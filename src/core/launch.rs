//! Launching coroutines: the library half of the `go()` protocol.
//!
//! The header's `go()` macro calls `dill_prologue`, which prepares the new
//! coroutine and makes it the running one; the macro then saves the caller's
//! context where we said, moves to the new stack and calls the function
//! there, then `dill_epilogue`. The caller waits in the ready queue.

use crate::core::bundle::{self, Bundle};
use crate::core::cr::Cr;
use crate::core::ctx::Ctx;
use crate::core::stack::{Stack, STACK_RESERVED};
use crate::core::{callermem, handles, san, sched};
use core::mem::{align_of, size_of};

/// Bytes of caller memory that `go_mem` reserves for the coroutine's bundle.
pub const BUNDLE_SIZE: usize = 64;
/// Smallest stack worth running on, beyond the coroutine record.
const MIN_STACK: usize = 1024;

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
    // An existing bundle, or None for a new one.
    let existing = if bndl >= 0 {
        let vfs = cx.handles().get(bndl).ok_or(libc::EBADF)?;
        if !bundle::is_bundle(vfs) {
            return Err(libc::ENOTSUP);
        }
        Some(vfs as *mut Bundle)
    } else {
        None
    };
    // The memory: [stack ... record], with a new bundle at the start of
    // caller memory (as the ABI has it); `go()` bundles come from the pool.
    let (stack, mut lo, hi) = match mem {
        Mem::Pooled => {
            let s = cx.stacks().get().ok_or(libc::ENOMEM)?;
            (Some(s), s.lo as usize, s.hi() as usize - STACK_RESERVED)
        }
        Mem::Caller(p, len) => {
            // Room for the dynamic linker's lazy resolver (see callermem).
            if len < callermem::min_caller_mem() {
                return Err(libc::ENOMEM);
            }
            let hi = (p as usize).checked_add(len).ok_or(libc::EINVAL)?;
            cx.stacks().register_caller(Stack { lo: p as *mut u8, size: len, owned: false });
            (None, p as usize, hi)
        }
    };
    let mut at: *mut Bundle = core::ptr::null_mut();
    if existing.is_none() && stack.is_none() {
        let a = align_up(lo, align_of::<Bundle>());
        at = a as *mut Bundle;
        lo = a + BUNDLE_SIZE;
    }
    let top = hi.saturating_sub(size_of::<Cr>()) & !(align_of::<Cr>() - 1);
    if top < lo || top - lo < MIN_STACK {
        return Err(libc::ENOMEM); // Only caller memory can be this small.
    }
    let (b, handle) = match existing {
        Some(b) => (b, 0),
        None => match new_bundle(cx, at) {
            Ok(bh) => bh,
            Err(e) => {
                if let Some(s) = stack {
                    cx.stacks().put(s);
                }
                return Err(e);
            }
        },
    };
    let stack = stack.unwrap_or(Stack { lo: lo as *mut u8, size: top - lo, owned: false });
    // The record sits at the top of the stack; the stack grows down from it.
    let cr = top as *mut Cr;
    // SAFETY: [top, top + size_of::<Cr>()) lies inside the memory, unused.
    unsafe { Cr::init(cr, stack) };
    bundle::join(b, cr);
    sched::push_ready(cx, me);
    cx.running.set(cr);
    if san::on() {
        san::launch(cx); // (The caller is the queue's tail.)
    }
    Ok(Launched { handle, save_to: me, stack_top: top as *mut u8 })
}

/// A new bundle with a handle, at `at` (caller memory, or null for the pool).
#[inline(always)]
fn new_bundle(cx: &Ctx, at: *mut Bundle) -> Result<(*mut Bundle, i32), i32> {
    let b = bundle::create(cx, at)?;
    // SAFETY: b is a fresh bundle; its vfs is its first field.
    handles::make_checked(cx, unsafe { &mut (*b).vfs }).map(|h| (b, h)).inspect_err(|_| bundle::discard(cx, b))
}
