//! The coroutine record. It lives at the top of the coroutine's own stack
//! (or in the thread context for the main coroutine), so launching one costs
//! no allocation.

use crate::arch::Regs;
use crate::core::bundle::Bundle;
use crate::core::chan::Clause;
use crate::core::stack::Stack;
use core::ffi::c_void;
use core::ptr;

/// Why a blocked coroutine was resumed: a clause index (>= 0) or one of these.
pub const FIRED_TIMEOUT: i32 = -1;
pub const FIRED_CANCEL: i32 = -2;

#[repr(C)]
pub struct Cr {
    /// Saved registers while not running.
    pub regs: Regs,
    /// Link in the ready queue.
    pub next_ready: *mut Cr,
    /// Blocked in `sched::wait` and not yet woken.
    pub blocked: bool,
    /// A wait that only the awaited event may end (closing a bundle).
    pub uncancelable: bool,
    /// Why blocking calls must fail with ECANCELED: `CANCELED` once its
    /// bundle was closed, plus the nesting depth of close callbacks running
    /// in it. One word, so that the check on every call is one compare.
    pub block_ban: u32,
    /// What ended the last wait, and its errno (0 for success).
    pub fired: i32,
    pub err: i32,
    /// The wait has a timer, fd or bundle registration to undo (channel
    /// clauses, the common case, are undone without looking at this).
    pub extras: bool,
    /// `NO_TIMER`, or `ARMED` while in the timer heap.
    pub timer_idx: usize,
    /// Links in the timer heap (valid while armed): first child, next
    /// sibling, and previous sibling or, for a first child, the parent.
    pub t_child: *mut Cr,
    pub t_next: *mut Cr,
    pub t_prev: *mut Cr,
    pub deadline: i64,
    /// Arming order of the timer, for ties.
    pub timer_seq: u64,
    /// The fd wait in progress: fd and direction, fd -1 if none.
    pub wait_fd: i32,
    pub wait_dir: u8,
    /// Channel clauses registered for the wait in progress.
    pub clauses: *mut Clause,
    pub nclauses: usize,
    /// The bundle whose completion this coroutine awaits, if any.
    pub wait_bundle: *mut Bundle,
    pub wnext: *mut Cr,
    /// The bundle this coroutine belongs to and its links there.
    pub bundle: *mut Bundle,
    pub bprev: *mut Cr,
    pub bnext: *mut Cr,
    /// Where it runs; `Stack::none()` for a thread's main coroutine.
    pub stack: Stack,
    /// Sanitizer state, written and read only when a runtime is present
    /// (`san::on()`): its ASan fake stack while switched out, its TSan
    /// fiber, and whether its saved context resumes in the plain go()
    /// macro (which does not announce the switch).
    pub san_fake: *mut c_void,
    pub tsan_fiber: *mut c_void,
    pub san_plain: bool,
}

pub const NO_TIMER: usize = usize::MAX;
/// `timer_idx` of a coroutine whose timer is armed.
pub const ARMED: usize = 0;
/// The bit of `Cr::block_ban` meaning "canceled".
pub const CANCELED: u32 = 1 << 31;

impl Cr {
    pub const fn new(stack: Stack) -> Cr {
        Cr {
            regs: Regs::new(),
            next_ready: ptr::null_mut(),
            blocked: false,
            uncancelable: false,
            block_ban: 0,
            fired: 0,
            err: 0,
            extras: false,
            timer_idx: NO_TIMER,
            t_child: ptr::null_mut(),
            t_next: ptr::null_mut(),
            t_prev: ptr::null_mut(),
            deadline: -1,
            timer_seq: 0,
            wait_fd: -1,
            wait_dir: 0,
            clauses: ptr::null_mut(),
            nclauses: 0,
            wait_bundle: ptr::null_mut(),
            wnext: ptr::null_mut(),
            bundle: ptr::null_mut(),
            bprev: ptr::null_mut(),
            bnext: ptr::null_mut(),
            stack,
            san_fake: ptr::null_mut(),
            tsan_fiber: ptr::null_mut(),
            san_plain: false,
        }
    }

    /// Initialises a record in place, leaving the register area alone: it
    /// is written when the coroutine first switches away. (So are the timer
    /// links, written when a timer is armed, and the sanitizer fields,
    /// written by `san::launch` when they are used at all.)
    ///
    /// # Safety
    /// `cr` points to writable, suitably aligned memory for a `Cr`.
    #[inline(always)]
    pub unsafe fn init(cr: *mut Cr, stack: Stack) {
        // SAFETY: per the contract; every field but those above is written.
        unsafe {
            ptr::addr_of_mut!((*cr).next_ready).write(ptr::null_mut());
            ptr::addr_of_mut!((*cr).blocked).write(false);
            ptr::addr_of_mut!((*cr).uncancelable).write(false);
            ptr::addr_of_mut!((*cr).block_ban).write(0);
            ptr::addr_of_mut!((*cr).fired).write(0);
            ptr::addr_of_mut!((*cr).err).write(0);
            ptr::addr_of_mut!((*cr).extras).write(false);
            ptr::addr_of_mut!((*cr).timer_idx).write(NO_TIMER);
            ptr::addr_of_mut!((*cr).deadline).write(-1);
            ptr::addr_of_mut!((*cr).timer_seq).write(0);
            ptr::addr_of_mut!((*cr).wait_fd).write(-1);
            ptr::addr_of_mut!((*cr).wait_dir).write(0);
            ptr::addr_of_mut!((*cr).clauses).write(ptr::null_mut());
            ptr::addr_of_mut!((*cr).nclauses).write(0);
            ptr::addr_of_mut!((*cr).wait_bundle).write(ptr::null_mut());
            ptr::addr_of_mut!((*cr).wnext).write(ptr::null_mut());
            ptr::addr_of_mut!((*cr).bundle).write(ptr::null_mut());
            ptr::addr_of_mut!((*cr).bprev).write(ptr::null_mut());
            ptr::addr_of_mut!((*cr).bnext).write(ptr::null_mut());
            ptr::addr_of_mut!((*cr).stack).write(stack);
        }
    }

    /// May this coroutine block now? Canceled coroutines and close callbacks
    /// may not.
    #[inline]
    pub fn can_block(&self) -> bool {
        self.block_ban == 0
    }

    /// Marks the coroutine canceled for good.
    #[inline]
    pub fn set_canceled(&mut self) {
        self.block_ban |= CANCELED;
    }
}
