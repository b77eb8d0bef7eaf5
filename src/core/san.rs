//! Coroutine switches announced to AddressSanitizer and ThreadSanitizer,
//! and coroutine stacks shown to LeakSanitizer.
//!
//! The library is never built with a sanitizer: the program is, and carries
//! the runtime. Its hooks are looked up once per process with
//! `dlsym(RTLD_DEFAULT)` rather than declared weak, because weak imports
//! need nightly Rust (`#[linkage]`) or a C shim compiled on every target,
//! and a lookup finds the runtime wherever it is (linked into the program or
//! preloaded). Without a runtime a switch costs nothing more: it calls
//! through `switcher()`, which is the plain switch then (one indirect call
//! where there was a direct one); launches and exits pay one load and
//! branch (`on()`). Everything else here is out of line.
//!
//! ASan: every switch is `__sanitizer_start_switch_fiber` on the old stack
//! and `__sanitizer_finish_switch_fiber` on the new one, so reports show the
//! coroutine's own frames and its stack bounds are right. Each coroutine
//! keeps its fake stack (the frames of use-after-return detection) in a
//! slot while it is switched out. A finished coroutine leaves its fake
//! stack with its pooled stack (or the thread's spare slot, for `go_mem`),
//! to serve the next coroutine there: passing no slot would destroy it.
//! The header's go() macro announces the switches it makes inline when the
//! program is built with ASan (`dill_prologue_san`, `dill_san_arrived`);
//! contexts saved by the plain macro are announced by us just before the
//! jump, which is as close as we can get.
//!
//! LSan: the stacks of live coroutines are root regions, so that what only
//! a suspended coroutine points to is not taken for a leak.
//!
//! TSan: one fiber per coroutine (`__tsan_create_fiber` at launch,
//! `__tsan_destroy_fiber` once it finished), `__tsan_switch_to_fiber`
//! before every switch, synchronising (coroutines of a thread run one at a
//! time, so each switch orders what came before it).

use crate::arch::{self, Regs};
use crate::core::cr::Cr;
use crate::core::ctx::Ctx;
use crate::core::stack;
use core::cell::Cell;
use core::ffi::{c_char, c_void};
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

type StartFiber = unsafe extern "C" fn(*mut *mut c_void, *const c_void, usize);
type FinishFiber = unsafe extern "C" fn(*mut c_void, *mut *const c_void, *mut usize);
type Unpoison = unsafe extern "C" fn(*const c_void, usize);
type RootRegion = unsafe extern "C" fn(*const c_void, usize);
type TsanCurrent = unsafe extern "C" fn() -> *mut c_void;
type TsanCreate = unsafe extern "C" fn(u32) -> *mut c_void;
type TsanSwitch = unsafe extern "C" fn(*mut c_void, u32);
type TsanDestroy = unsafe extern "C" fn(*mut c_void);

struct Asan {
    start: StartFiber,
    finish: FinishFiber,
    unpoison: Unpoison,
}

/// LeakSanitizer (with ASan, or alone): scans mapped stacks for pointers
/// to the heap only if they are registered as root regions.
struct Lsan {
    register: RootRegion,
    unregister: RootRegion,
}

struct Tsan {
    current: TsanCurrent,
    create: TsanCreate,
    switch: TsanSwitch,
    destroy: TsanDestroy,
}

struct Hooks {
    asan: Option<Asan>,
    lsan: Option<Lsan>,
    tsan: Option<Tsan>,
}

static HOOKS: OnceLock<Hooks> = OnceLock::new();
/// Some sanitizer runtime is present.
static ON: AtomicBool = AtomicBool::new(false);

type SwitchFn = unsafe extern "C" fn(*mut Regs, *const Regs);
/// The context switch of `sched::suspend`: `announced_switch` when a
/// runtime is present. Written once, in `lookup`, which every thread goes
/// through (`init_thread`) before its first switch; read-only after.
static mut SWITCH: SwitchFn = arch::switch;

/// The switch to call, announced or not.
#[inline(always)]
pub fn switcher() -> SwitchFn {
    // SAFETY: a plain read of a word written before this thread's first
    // switch (the OnceLock in `init_thread` orders it) and never again.
    unsafe { SWITCH }
}

/// Does any switch need announcing?
#[inline(always)]
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

fn sym(name: &[u8]) -> *mut c_void {
    // SAFETY: name is NUL-terminated; RTLD_DEFAULT searches the global scope.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr() as *const c_char) }
}

/// Looks a group of hooks up: all of them or none.
macro_rules! hooks {
    ($t:ident { $($f:ident: $name:literal),* }) => {{
        let ($($f,)*) = ($(sym(concat!($name, "\0").as_bytes()),)*);
        if $(!$f.is_null())&&* {
            // SAFETY: the sanitizer runtimes define these with the
            // signatures of the types above (sanitizer/*_interface.h).
            Some(unsafe { $t { $($f: core::mem::transmute::<*mut c_void, _>($f),)* } })
        } else {
            None
        }
    }};
}

fn lookup() -> Hooks {
    let asan = hooks!(Asan {
        start: "__sanitizer_start_switch_fiber",
        finish: "__sanitizer_finish_switch_fiber",
        unpoison: "__asan_unpoison_memory_region"
    });
    let lsan = hooks!(Lsan {
        register: "__lsan_register_root_region",
        unregister: "__lsan_unregister_root_region"
    });
    let tsan = hooks!(Tsan {
        current: "__tsan_get_current_fiber",
        create: "__tsan_create_fiber",
        switch: "__tsan_switch_to_fiber",
        destroy: "__tsan_destroy_fiber"
    });
    if asan.is_some() || lsan.is_some() || tsan.is_some() {
        ON.store(true, Ordering::Relaxed);
        arch::sanitized();
        // SAFETY: inside the OnceLock's initialisation, before any thread
        // that reads it gets past `init_thread`.
        unsafe { SWITCH = announced_switch };
    }
    Hooks { asan, lsan, tsan }
}

/// Per-thread sanitizer state, in the thread's context.
pub struct State {
    /// Bounds of the thread's own stack, learnt when it is first left.
    main: Cell<(usize, usize)>,
    /// The coroutine that announced the switch in progress.
    from: Cell<*mut Cr>,
    /// Fake stack of a finished `go_mem` coroutine, for the next one.
    spare: Cell<*mut c_void>,
    /// The launch in progress is the ASan go() macro's, which announces
    /// its own switches (`dill_prologue_san`).
    pub announcing: Cell<bool>,
}

impl State {
    pub const fn new() -> State {
        State {
            main: Cell::new((0, 0)),
            from: Cell::new(ptr::null_mut()),
            spare: Cell::new(ptr::null_mut()),
            announcing: Cell::new(false),
        }
    }
}

/// A thread's first use of the library: the hooks (once per process) and
/// the TSan fiber of the thread itself.
#[cold]
pub fn init_thread(cx: &Ctx) {
    let h = HOOKS.get_or_init(lookup);
    if let Some(t) = &h.tsan {
        // SAFETY: the runtime's hook; main is this thread's record.
        unsafe { (*cx.main.get()).tsan_fiber = (t.current)() };
    }
}

fn hooks() -> &'static Hooks {
    // Only reached when `on()`, which `lookup` set.
    HOOKS.get_or_init(lookup)
}

/// The stack a coroutine runs on, as ASan is told it.
fn bounds(cx: &Ctx, cr: *mut Cr) -> (*const c_void, usize) {
    if cr == cx.main.get() {
        let (lo, size) = cx.san.main.get();
        return (lo as *const c_void, size);
    }
    // SAFETY: cr is a live coroutine record.
    let s = unsafe { (*cr).stack };
    (s.lo as *const c_void, s.size)
}

/// Finishes the switch into `me`, on its stack, with its fake stack back.
fn finish(a: &Asan, cx: &Ctx, me: *mut Cr) {
    let mut lo: *const c_void = ptr::null();
    let mut size = 0usize;
    // SAFETY: the runtime's hook, after a start; me is the running record.
    unsafe { (a.finish)((*me).san_fake, &mut lo, &mut size) };
    // The old bounds are those of the stack we came from: how we learn
    // the thread's own.
    if cx.san.from.get() == cx.main.get() && cx.san.main.get().1 == 0 {
        cx.san.main.set((lo as usize, size));
    }
}

/// Starts the switch from `me` (its fake stack into `slot`, null when it
/// ends for good) to `nx`.
fn start(a: &Asan, cx: &Ctx, me: *mut Cr, slot: *mut *mut c_void, nx: *mut Cr) {
    let (lo, size) = bounds(cx, nx);
    // SAFETY: the runtime's hook; slot is null or a writable word.
    unsafe { (a.start)(slot, lo, size) };
    cx.san.from.set(me);
    // SAFETY: nx is a live record.
    unsafe {
        if (*nx).san_plain {
            // It resumes inside the plain go() macro, which says nothing.
            (*nx).san_plain = false;
            finish(a, cx, nx);
        }
    }
}

/// A switch from the coroutine whose registers are `from` to that of `to`,
/// announced: `switcher()` when a runtime is present.
///
/// # Safety
/// As for `arch::switch`, from `sched::suspend`: both are the `regs` of
/// live records (their first field), `from` the running one's.
unsafe extern "C" fn announced_switch(from: *mut Regs, to: *const Regs) {
    let (me, nx) = (from as *mut Cr, to as *mut Cr);
    let Ok(cx) = crate::core::ctx::get() else {
        // Not reached (a switch means the thread's context exists); were it,
        // switching unannounced beats not switching.
        // SAFETY: per the contract.
        return unsafe { arch::switch(from, to) };
    };
    let h = hooks();
    if let Some(t) = &h.tsan {
        // SAFETY: the runtime's hook; nx's fiber is live.
        unsafe { (t.switch)((*nx).tsan_fiber, 0) };
    }
    if let Some(a) = &h.asan {
        // SAFETY: me is the running record; its slot outlives the switch.
        start(a, cx, me, unsafe { ptr::addr_of_mut!((*me).san_fake) }, nx);
    }
    // SAFETY: per the contract.
    unsafe { arch::switch(from, to) };
    if let Some(a) = &h.asan {
        finish(a, cx, me);
    }
}

/// The running coroutine finished and `nx` comes next. Its stack went back
/// to the pool, unless it is the zombie (to be unmapped).
#[cold]
#[inline(never)]
pub fn exit(cx: &Ctx, nx: *mut Cr) {
    let me = cx.me();
    // SAFETY: me's record is still intact (its stack is not reused before
    // we switch away).
    let s = unsafe { (*me).stack };
    let cached = s.owned && cx.zombie.get().lo != s.lo;
    let h = hooks();
    if let (Some(l), true) = (&h.lsan, s.owned) {
        // SAFETY: the runtime's hook, for the region `launch` registered.
        unsafe { (l.unregister)(s.lo as *const c_void, s.size) };
    }
    if let Some(t) = &h.tsan {
        // SAFETY: the runtime's hooks; me's fiber is not the current one
        // once we switched to nx's, and no one uses it again.
        unsafe {
            (t.switch)((*nx).tsan_fiber, 0);
            (t.destroy)((*me).tsan_fiber);
        }
    }
    if let Some(a) = &h.asan {
        // Whatever its frames left poisoned goes too: the memory may serve
        // as anything next (go_mem), or be unmapped.
        // SAFETY: the runtime's hook; nothing runs on this stack any more
        // but us, and we are not instrumented.
        unsafe { (a.unpoison)(s.lo as *const c_void, s.size) };
        let slot = if s.owned {
            if cached { stack::fake_slot(s.lo) } else { ptr::null_mut() }
        } else if cx.san.spare.get().is_null() {
            cx.san.spare.as_ptr()
        } else {
            ptr::null_mut()
        };
        start(a, cx, me, slot, nx);
    }
}

/// A stack is about to be unmapped.
#[cold]
pub fn unmapping(lo: *mut u8, size: usize) {
    if let Some(a) = &hooks().asan {
        // SAFETY: the runtime's hook; the range is ours, about to go.
        unsafe { (a.unpoison)(lo as *const c_void, size) };
    }
}

/// The running coroutine was just launched by the tail of the ready queue;
/// the go() macro enters it next.
#[cold]
#[inline(never)]
pub fn launch(cx: &Ctx) {
    let (me, cr) = (cx.ready_tail.get(), cx.me());
    let h = hooks();
    // The plain macro does not announce its switches: we do, as it makes
    // them (see `start`).
    let plain = !cx.san.announcing.get();
    // SAFETY: cr is the fresh record at the top of its stack, me the
    // running one.
    unsafe {
        let s = (*cr).stack;
        (*cr).san_plain = false;
        (*cr).san_fake = ptr::null_mut();
        (*cr).tsan_fiber = ptr::null_mut();
        if let (Some(l), true) = (&h.lsan, s.owned) {
            // Only while it runs: a finished one's leftovers hide leaks.
            // (go_mem memory is the caller's, scanned as such.)
            (l.register)(s.lo as *const c_void, s.size);
        }
        if let Some(t) = &h.tsan {
            (*cr).tsan_fiber = (t.create)(0);
            (t.switch)((*cr).tsan_fiber, 0);
        }
        if let Some(a) = &h.asan {
            // The fake stack of whoever ran here last.
            (*cr).san_fake = if s.owned { stack::fake_slot(s.lo).replace(ptr::null_mut()) } else { cx.san.spare.replace(ptr::null_mut()) };
            // What an earlier coroutine left poisoned here is stale.
            (a.unpoison)(s.lo as *const c_void, s.size);
            start(a, cx, me, ptr::addr_of_mut!((*me).san_fake), cr);
            (*me).san_plain = plain;
            if plain {
                finish(a, cx, cr);
            }
        }
    }
}

/// Called by the go() macro of ASan builds right after it switched stacks
/// inline: on entering the new coroutine and on resuming its caller. It
/// passes on the stack pointer of its caller (so of the go() macro).
#[cfg(target_arch = "x86_64")]
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn dill_san_arrived() {
    // SAFETY: rsp + 8 is the caller's stack pointer before the call; the
    // tail jump leaves the return address for `arrived_at` to return to.
    core::arch::naked_asm!("lea rdi, [rsp + 8]", "jmp {f}", f = sym arrived_at)
}

/// Elsewhere the stack pointer is estimated from a local: a little of the
/// caller's frame may lose its poison (a missed report, never a false one).
#[cfg(not(target_arch = "x86_64"))]
#[no_mangle]
#[inline(never)]
pub extern "C" fn dill_san_arrived() {
    let here = 0u8;
    arrived_at(core::hint::black_box(&here) as *const u8 as usize + 256);
}

/// The switch ends here, on the stack whose pointer was `sp` in the macro.
/// What lies below `sp` is free stack, and what the macro's alloca left
/// poisoned there (its redzones, not unpoisoned as the caller moved its
/// stack pointer away) is stale: unpoisoned, or the caller's next call
/// could be reported as a dynamic-stack-buffer-overflow. A few KiB cover
/// the redzones wherever the compiler put them.
extern "C" fn arrived_at(sp: usize) {
    if !on() {
        return;
    }
    let Ok(cx) = crate::core::ctx::get() else { return };
    if let Some(a) = &hooks().asan {
        let me = cx.me();
        finish(a, cx, me);
        let (lo, _) = bounds(cx, me);
        let from = if (lo as usize) < sp { (lo as usize).max(sp.saturating_sub(4096)) } else { sp.saturating_sub(4096) };
        // SAFETY: the runtime's hook; [from, sp) is free stack.
        unsafe { (a.unpoison)(from as *const c_void, sp - from) };
    }
}
