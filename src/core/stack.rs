//! Coroutine stacks: anonymous mappings with a guard page below, cached per
//! thread for reuse.
//!
//! The guard is installed with `madvise(MADV_GUARD_INSTALL)` where the kernel
//! has it (Linux 6.13+): that marks page-table entries and, unlike
//! `mprotect`, does not split the mapping, so adjacent stacks merge into few
//! mappings and 100 000 coroutines stay far below vm.max_map_count. Older
//! kernels get an `mprotect(PROT_NONE)` guard instead. We map memory directly
//! rather than through the `context` crate because the guard technique is
//! exactly what needs controlling here.

use crate::arch;
use std::collections::BTreeMap;
use core::ptr;

/// Usable stack size of a `go()` coroutine.
pub const DEFAULT_STACK: usize = 256 * 1024;
/// How many free stacks a thread keeps for reuse.
const POOL_MAX: usize = 64;
const MADV_GUARD_INSTALL: i32 = 102;

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

    /// The guard page just below an owned stack.
    pub fn guard(&self) -> Option<(usize, usize)> {
        if self.owned {
            let p = page_size();
            Some((self.lo as usize - p, self.lo as usize))
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
    page: usize,
    /// Under valgrind only: the go_mem regions registered with it, by their
    /// top. (A mapped stack keeps its id in its own top word.)
    valgrind: Option<BTreeMap<usize, usize>>,
}

impl StackPool {
    pub const fn new() -> StackPool {
        StackPool { free: Vec::new(), page: 0, valgrind: None }
    }

    /// Under valgrind, registers a stack in caller memory (go_mem), once per
    /// region: the region may serve again, and taking the registration back
    /// would cost the finish path a check for every coroutine. Kept out of
    /// line: the `go()` path never comes here.
    #[cold]
    #[inline(never)]
    pub fn register_caller(&mut self, s: Stack) {
        self.init();
        if let Some(ids) = self.valgrind.as_mut() {
            // Caller regions are keyed by their top, which pooled stacks
            // (keyed by their bottom) never share.
            ids.entry(s.hi() as usize).or_insert_with(|| register(s.lo, s.size));
        }
    }

    /// First use: page size, the overflow handler, the cache's room.
    fn init(&mut self) {
        if self.page != 0 {
            return;
        }
        self.page = page_size();
        crate::core::overflow::install();
        if arch::valgrind_request(0, arch::VG_RUNNING_ON_VALGRIND, 0, 0) != 0 {
            self.valgrind = Some(BTreeMap::new());
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
        let total = DEFAULT_STACK + self.page;
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
        // SAFETY: the first page of the mapping we just made becomes the guard.
        let guarded = unsafe {
            libc::madvise(base, self.page, MADV_GUARD_INSTALL) == 0
                || libc::mprotect(base, self.page, libc::PROT_NONE) == 0
        };
        if !guarded {
            // SAFETY: unmapping what we mapped above.
            unsafe { libc::munmap(base, total) };
            return None;
        }
        let lo = (base as *mut u8).wrapping_add(self.page);
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
            unmap(s.lo, self.page);
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
/// first word holds the stack's valgrind id (when running under valgrind).
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

fn unmap(lo: *mut u8, page: usize) {
    // SAFETY: lo - page is the base of a mapping made by `get`, no longer in use.
    unsafe { libc::munmap(lo.wrapping_sub(page) as *mut _, DEFAULT_STACK + page) };
}

impl Drop for StackPool {
    fn drop(&mut self) {
        for &lo in &self.free {
            self.forget(lo);
            unmap(lo, self.page);
        }
    }
}
