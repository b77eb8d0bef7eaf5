//! The per-thread context: scheduler state, timers, fd table, handle table and
//! stack cache of one thread. Entry points fetch it once (`get`: fallible,
//! the first call of a thread allocates it) and pass it down.

use crate::arch;
use crate::core::cr::Cr;
use crate::core::fdwait::FdTable;
use crate::core::handles::Handles;
use crate::core::live::Cells;
use crate::core::pool::Pool;
use crate::core::san;
use crate::core::stack::{Stack, StackPool};
use crate::core::timers::Timers;
use core::cell::{Cell, UnsafeCell};
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicU64, Ordering};
use std::alloc::Layout;
use std::sync::Once;

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
    /// What the sanitizer hooks keep per thread (unused without them).
    pub san: san::State,
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

/// The calling thread's context, created on first use; Err(ENOMEM) if it
/// cannot be (then every call of the thread fails cleanly until one can).
/// After the first call this is the TLS load and a test: the error arm is
/// reached only from `init`.
#[inline(always)]
pub fn get() -> Result<&'static Ctx, i32> {
    let p = arch::tls_get() as *mut Ctx;
    if p.is_null() {
        return init().ok_or(libc::ENOMEM);
    }
    // SAFETY: p is this thread's live context; it is freed only at thread exit.
    Ok(unsafe { &*p })
}

/// Makes the thread's context; None without the memory for it. (An Option
/// of a reference comes back in a register: callers keep no stack slot.)
#[cold]
#[inline(never)]
fn init() -> Option<&'static Ctx> {
    let layout = Layout::new::<Ctx>();
    // SAFETY: Ctx is not zero-sized.
    let p = unsafe { std::alloc::alloc(layout) } as *mut Ctx;
    if p.is_null() {
        return None;
    }
    // SAFETY: p is fresh memory for a Ctx; __errno_location has no
    // preconditions.
    unsafe {
        p.write(Ctx {
            running: Cell::new(ptr::null_mut()),
            main: UnsafeCell::new(Cr::new(Stack::none())),
            ready_head: Cell::new(ptr::null_mut()),
            ready_tail: Cell::new(ptr::null_mut()),
            zombie: Cell::new(Stack::none()),
            errno: libc::__errno_location(),
            picks: Cell::new(crate::core::sched::FAIRNESS),
            timers: UnsafeCell::new(Timers::new()),
            fds: UnsafeCell::new(FdTable::new()),
            handles: UnsafeCell::new(Handles::new()),
            stacks: UnsafeCell::new(StackPool::new()),
            chans: UnsafeCell::new(Pool::new(Pool::block::<crate::core::chan::Chan>())),
            bundles: UnsafeCell::new(Pool::new(Pool::block::<crate::core::bundle::Bundle>())),
            cells: UnsafeCell::new(Cells::new()),
            scratch: UnsafeCell::new(Vec::new()),
            san: san::State::new(),
        })
    };
    // SAFETY: p is the valid context just built, not yet shared.
    let cx = unsafe { &*p };
    // A way to free the context when the thread exits. Not on the main
    // thread: exit() runs thread-exit destructors before atexit handlers,
    // which must still find their handles (as with the original); the
    // process is ending anyway.
    if !is_main_thread() && !free_at_exit(p) {
        // SAFETY: p was built above and is reachable from nowhere else.
        unsafe { destroy(p) };
        return None;
    }
    cx.running.set(cx.main.get());
    san::init_thread(cx);
    arch::tls_set(p as *mut u8);
    Some(cx)
}

/// Drops and frees a context made by `init`.
///
/// # Safety
/// `p` came from `init` and nothing uses it any more.
unsafe fn destroy(p: *mut Ctx) {
    // SAFETY: per the contract.
    unsafe {
        ptr::drop_in_place(p);
        std::alloc::dealloc(p as *mut u8, Layout::new::<Ctx>());
    }
}

/// The thread-exit destructor is a pthread key's, not a Rust thread-local's:
/// registering the latter allocates in the C library, which aborts the
/// process when that fails. Setting a key (one of the first 32) allocates
/// nothing.
static KEY_ONCE: Once = Once::new();
static KEY: AtomicU64 = AtomicU64::new(u64::MAX);

fn free_at_exit(p: *mut Ctx) -> bool {
    KEY_ONCE.call_once(|| {
        let mut k: libc::pthread_key_t = 0;
        // SAFETY: k is writable; on_thread_exit has the destructor's signature.
        if unsafe { libc::pthread_key_create(&mut k, Some(on_thread_exit)) } == 0 {
            KEY.store(k as u64, Ordering::Release);
        }
    });
    let k = KEY.load(Ordering::Acquire);
    // SAFETY: k is a key we created; the value is this thread's context.
    k != u64::MAX && unsafe { libc::pthread_setspecific(k as libc::pthread_key_t, p as *const c_void) } == 0
}

/// Frees the thread's context when the thread exits.
extern "C" fn on_thread_exit(v: *mut c_void) {
    let p = v as *mut Ctx;
    if p.is_null() {
        return;
    }
    if arch::tls_get() as *mut Ctx == p {
        arch::tls_set(ptr::null_mut());
    }
    // SAFETY: p is this thread's context, still valid here.
    crate::core::sched::release_zombie(unsafe { &*p });
    // SAFETY: p came from `init` and is no longer reachable.
    unsafe { destroy(p) };
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
