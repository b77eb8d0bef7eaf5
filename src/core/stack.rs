//! Coroutine stacks: anonymous mappings with a guard region below, cached per
//! thread for reuse.
//!
//! The guard is 64 KiB, not one page: a function with a large frame (a big
//! local array) moves the stack pointer past the stack's end in one step, and
//! its first write lands that far below. With a single page it lands on the
//! stack mapped below, whose top holds that coroutine's record and bundle.
//! Frames larger still are recognised by the SIGSEGV handler from the stack
//! pointer (see `overflow`).
//!
//! The guard is installed with `madvise(MADV_GUARD_INSTALL)` where the kernel
//! has it (Linux 6.13+): that marks page-table entries and, unlike
//! `mprotect`, does not split the mapping, so adjacent stacks merge into few
//! mappings and 100 000 coroutines stay far below vm.max_map_count. Older
//! kernels get an `mprotect(PROT_NONE)` guard instead. We map memory directly
//! rather than through the `context` crate because the guard technique is
//! exactly what needs controlling here.

use crate::arch;
use crate::core::overflow::AltStack;
use crate::core::san;
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Usable stack size of a `go()` coroutine.
pub const DEFAULT_STACK: usize = 256 * 1024;
/// How many free stacks a thread keeps for reuse.
const POOL_MAX: usize = 64;
const MADV_GUARD_INSTALL: i32 = 102;
/// Bytes of guard below each stack (at least one page).
const GUARD: usize = 64 * 1024;

/// The guard size in use, for the SIGSEGV handler (which must not call
/// sysconf). Set before the first stack is mapped; never changes after.
static GUARD_BYTES: AtomicUsize = AtomicUsize::new(GUARD);

/// A stack region: `lo` is its lowest usable byte, `size` its length.
#[derive(Clone, Copy)]
pub struct Stack {
    pub lo: *mut u8,
    pub size: usize,
    /// Mapped by us (returned to the pool) rather than caller memory.
    pub owned: bool,
}

impl Stack {
    pub const fn none() -> Stack {
        Stack { lo: ptr::null_mut(), size: 0, owned: false }
    }

    pub fn hi(&self) -> *mut u8 {
        self.lo.wrapping_add(self.size)
    }

    /// The guard region just below an owned stack. Reads only (called from
    /// the SIGSEGV handler).
    pub fn guard(&self) -> Option<(usize, usize)> {
        if self.owned {
            let g = GUARD_BYTES.load(Ordering::Relaxed);
            Some(((self.lo as usize).wrapping_sub(g), self.lo as usize))
        } else {
            None
        }
    }
}

pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as usize } else { 4096 }
}

pub struct StackPool {
    free: Vec<*mut u8>,
    /// Bytes of guard below each stack; 0 before first use.
    guard: usize,
    /// Under valgrind only: the tops of the go_mem regions registered with
    /// it, sorted. (A mapped stack keeps its id in its own top word.)
    valgrind: Option<Vec<usize>>,
    /// The thread's signal stack for the overflow handler, if we made it.
    _alt: Option<AltStack>,
}

impl StackPool {
    pub const fn new() -> StackPool {
        StackPool { free: Vec::new(), guard: 0, valgrind: None, _alt: None }
    }

    /// Under valgrind, registers a stack in caller memory (go_mem), once per
    /// region: the region may serve again, and taking the registration back
    /// would cost the finish path a check for every coroutine. Kept out of
    /// line: the `go()` path never comes here.
    #[cold]
    #[inline(never)]
    pub fn register_caller(&mut self, s: Stack) {
        self.init();
        if let Some(tops) = self.valgrind.as_mut() {
            // Without the room to remember it the region goes unregistered:
            // valgrind may then misreport its stack, nothing worse.
            if let Err(i) = tops.binary_search(&(s.hi() as usize)) {
                if tops.try_reserve(1).is_ok() {
                    tops.insert(i, s.hi() as usize);
                    register(s.lo, s.size);
                }
            }
        }
    }

    /// First use: guard size, the overflow handler, the cache's room.
    fn init(&mut self) {
        if self.guard != 0 {
            return;
        }
        let page = page_size();
        self.guard = GUARD.div_ceil(page) * page;
        GUARD_BYTES.store(self.guard, Ordering::Relaxed);
        self._alt = crate::core::overflow::install();
        if arch::valgrind_request(0, arch::VG_RUNNING_ON_VALGRIND, 0, 0) != 0 {
            self.valgrind = Some(Vec::new());
        }
        // Room for the whole cache up front: `put` never reallocates.
        let _ = self.free.try_reserve_exact(POOL_MAX);
    }

    /// A stack of `DEFAULT_STACK` bytes, from the cache or freshly mapped.
    /// None when the system is out of memory (or mappings).
    pub fn get(&mut self) -> Option<Stack> {
        if let Some(lo) = self.free.pop() {
            return Some(Stack { lo, size: DEFAULT_STACK, owned: true });
        }
        self.init();
        let total = DEFAULT_STACK + self.guard;
        // SAFETY: a fresh private anonymous mapping; no existing memory is touched.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        // SAFETY: the first bytes of the mapping we just made become the guard.
        let guarded = unsafe {
            libc::madvise(base, self.guard, MADV_GUARD_INSTALL) == 0
                || libc::mprotect(base, self.guard, libc::PROT_NONE) == 0
        };
        if !guarded {
            // SAFETY: unmapping what we mapped above.
            unsafe { libc::munmap(base, total) };
            return None;
        }
        let lo = (base as *mut u8).wrapping_add(self.guard);
        if self.valgrind.is_some() {
            let id = register(lo, DEFAULT_STACK);
            // SAFETY: the reserved top word of the stack we just mapped.
            unsafe { id_slot(lo).write(id) };
        }
        Some(Stack { lo, size: DEFAULT_STACK, owned: true })
    }

    /// Returns an owned stack for reuse, or unmaps it if the cache is full.
    pub fn put(&mut self, s: Stack) {
        if s.owned && !self.put_cached(s) {
            self.forget(s.lo);
            unmap(s.lo, self.guard);
        }
    }

    /// Caches an owned stack if there is room, without unmapping anything:
    /// a finishing coroutine may hand back the stack it still runs on, as
    /// nothing takes a stack before it switches away.
    #[inline]
    pub fn put_cached(&mut self, s: Stack) -> bool {
        if s.owned && self.free.len() < self.free.capacity().min(POOL_MAX) {
            self.free.push(s.lo);
            return true;
        }
        false
    }

    /// Takes back valgrind's registration of a stack about to be unmapped.
    fn forget(&self, lo: *mut u8) {
        if self.valgrind.is_some() {
            // SAFETY: lo is a stack mapped by `get`, which wrote its id here.
            deregister(unsafe { id_slot(lo).read() });
        }
    }
}

/// Bytes at the top of a mapped stack that coroutines do not use: the
/// first word holds the stack's valgrind id (when running under valgrind),
/// the second the ASan fake stack left by its last coroutine (see `san`).
pub const STACK_RESERVED: usize = 16;

/// Where a mapped stack keeps its valgrind id.
fn id_slot(lo: *mut u8) -> *mut usize {
    lo.wrapping_add(DEFAULT_STACK - STACK_RESERVED) as *mut usize
}

/// Tells valgrind that [lo, lo + size) is a stack; returns its id.
pub fn register(lo: *mut u8, size: usize) -> usize {
    arch::valgrind_request(0, arch::VG_STACK_REGISTER, lo as usize, lo as usize + size)
}

pub fn deregister(id: usize) {
    arch::valgrind_request(0, arch::VG_STACK_DEREGISTER, id, 0);
}

/// Where a mapped stack keeps the fake stack of its last coroutine (null
/// in a fresh mapping).
pub fn fake_slot(lo: *mut u8) -> *mut *mut core::ffi::c_void {
    lo.wrapping_add(DEFAULT_STACK - STACK_RESERVED + 8) as *mut *mut core::ffi::c_void
}

fn unmap(lo: *mut u8, guard: usize) {
    if san::on() {
        san::unmapping(lo, DEFAULT_STACK);
    }
    // SAFETY: lo - guard is the base of a mapping made by `get`, no longer in use.
    unsafe { libc::munmap(lo.wrapping_sub(guard) as *mut _, DEFAULT_STACK + guard) };
}

impl Drop for StackPool {
    fn drop(&mut self) {
        for &lo in &self.free {
            self.forget(lo);
            unmap(lo, self.guard);
        }
    }
}
