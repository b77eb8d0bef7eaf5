//! The per-thread context: scheduler state, timers, fd table, handle table and
//! stack cache of one thread. Entry points fetch it once (thread-local access
//! from a shared library is a function call) and pass it down.

use crate::arch;
use crate::core::cr::Cr;
use crate::core::fdwait::FdTable;
use crate::core::handles::Handles;
use crate::core::live::Cells;
use crate::core::pool::Pool;
use crate::core::stack::{Stack, StackPool};
use crate::core::timers::Timers;
use core::cell::{Cell, UnsafeCell};
use core::ptr;

pub struct Ctx {
    /// The coroutine running now.
    pub running: Cell<*mut Cr>,
    /// The record of the thread's own (main) coroutine.
    pub main: UnsafeCell<Cr>,
    pub ready_head: Cell<*mut Cr>,
    pub ready_tail: Cell<*mut Cr>,
    /// Stack of a coroutine that finished and whose stack we only leave later.
    pub zombie: Cell<Stack>,
    /// This thread's errno (its address never changes).
    errno: *mut i32,
    /// Ready-queue picks left until the next look at the clock and the poller.
    pub picks: Cell<u32>,
    timers: UnsafeCell<Timers>,
    fds: UnsafeCell<FdTable>,
    handles: UnsafeCell<Handles>,
    stacks: UnsafeCell<StackPool>,
    chans: UnsafeCell<Pool>,
    bundles: UnsafeCell<Pool>,
    cells: UnsafeCell<Cells>,
    scratch: UnsafeCell<Vec<u8>>,
}

// The accessors below hand out `&mut` to one part of the context. Callers keep
// them for the duration of a single operation on that part and never across a
// context switch or a call into user code, which is what makes them exclusive.
#[allow(clippy::mut_from_ref)]
impl Ctx {
    #[inline]
    pub fn timers(&self) -> &mut Timers {
        // SAFETY: see the comment above the impl.
        unsafe { &mut *self.timers.get() }
    }
    #[inline]
    pub fn fds(&self) -> &mut FdTable {
        // SAFETY: see the comment above the impl.
        unsafe { &mut *self.fds.get() }
    }
    #[inline]
    pub fn handles(&self) -> &mut Handles {
        // SAFETY: see the comment above the impl.
        unsafe { &mut *self.handles.get() }
    }
    #[inline]
    pub fn stacks(&self) -> &mut StackPool {
        // SAFETY: see the comment above the impl.
        unsafe { &mut *self.stacks.get() }
    }
    #[inline]
    pub fn chans(&self) -> &mut Pool {
        // SAFETY: see the comment above the impl.
        unsafe { &mut *self.chans.get() }
    }
    #[inline]
    pub fn bundles(&self) -> &mut Pool {
        // SAFETY: see the comment above the impl.
        unsafe { &mut *self.bundles.get() }
    }
    #[inline]
    pub fn cells(&self) -> &mut Cells {
        // SAFETY: see the comment above the impl.
        unsafe { &mut *self.cells.get() }
    }
    /// A 64 KiB area whose contents nobody reads: the target of bytes a
    /// caller asked to skip (allocated on first use; empty if that failed).
    pub fn scratch(&self) -> &mut [u8] {
        // SAFETY: see the comment above the impl.
        let v = unsafe { &mut *self.scratch.get() };
        if v.is_empty() && v.try_reserve_exact(65536).is_ok() {
            v.resize(65536, 0);
        }
        v
    }
    /// Sets errno without a call to `__errno_location`.
    #[inline]
    pub fn set_errno(&self, e: i32) {
        // SAFETY: the thread's own errno, valid while the thread lives.
        unsafe { *self.errno = e };
    }
    #[inline]
    pub fn me(&self) -> *mut Cr {
        self.running.get()
    }
}

thread_local! {
    // Only for its destructor: the pointer itself lives in `arch`'s TLS slot.
    static GUARD: Guard = const { Guard };
}

/// Frees the thread's context when the thread exits.
struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        let p = arch::tls_get() as *mut Ctx;
        arch::tls_set(ptr::null_mut());
        if !p.is_null() {
            // SAFETY: p is this thread's context, still valid here.
            crate::core::sched::release_zombie(unsafe { &*p });
            // SAFETY: p came from Box::into_raw in `init` and is no longer reachable.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

/// The calling thread's context, created on first use.
#[inline]
pub fn ctx() -> &'static Ctx {
    let p = arch::tls_get() as *mut Ctx;
    if p.is_null() {
        return init();
    }
    // SAFETY: p is this thread's live context; it is freed only at thread exit.
    unsafe { &*p }
}

#[cold]
fn init() -> &'static Ctx {
    let cx = Box::new(Ctx {
        running: Cell::new(ptr::null_mut()),
        main: UnsafeCell::new(Cr::new(Stack::none())),
        ready_head: Cell::new(ptr::null_mut()),
        ready_tail: Cell::new(ptr::null_mut()),
        zombie: Cell::new(Stack::none()),
        // SAFETY: __errno_location has no preconditions.
        errno: unsafe { libc::__errno_location() },
        picks: Cell::new(crate::core::sched::FAIRNESS),
        timers: UnsafeCell::new(Timers::new()),
        fds: UnsafeCell::new(FdTable::new()),
        handles: UnsafeCell::new(Handles::new()),
        stacks: UnsafeCell::new(StackPool::new()),
        chans: UnsafeCell::new(Pool::new(Pool::block::<crate::core::chan::Chan>())),
        bundles: UnsafeCell::new(Pool::new(Pool::block::<crate::core::bundle::Bundle>())),
        cells: UnsafeCell::new(Cells::new()),
        scratch: UnsafeCell::new(Vec::new()),
    });
    let p = Box::into_raw(cx);
    // SAFETY: p is valid; the main record lives inside the boxed context.
    unsafe { (*p).running.set((*p).main.get()) };
    arch::tls_set(p as *mut u8);
    // Touch the guard so that its destructor is registered (ignored if the
    // thread is already exiting). Not on the main thread: exit() runs
    // thread-local destructors before atexit handlers, which must still find
    // their handles (as with the original); the process is ending anyway.
    if !is_main_thread() {
        let _ = GUARD.try_with(|_| ());
    }
    // SAFETY: as in `ctx`.
    unsafe { &*p }
}

/// Is the caller the process's initial thread?
fn is_main_thread() -> bool {
    // SAFETY: plain syscalls without arguments.
    unsafe { libc::syscall(libc::SYS_gettid) == libc::getpid() as libc::c_long }
}

/// The guard page range of the running coroutine of this thread, if any.
/// Called from the SIGSEGV handler: reads only, allocates nothing.
pub fn running_guard() -> Option<(usize, usize)> {
    let p = arch::tls_get() as *mut Ctx;
    if p.is_null() {
        return None;
    }
    // SAFETY: p is this thread's live context and its running coroutine.
    unsafe { (*(*p).running.get()).stack.guard() }
}
