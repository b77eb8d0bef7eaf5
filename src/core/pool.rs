//! A per-thread cache of freed fixed-size blocks, so that objects created and
//! closed in a loop (channels) cost no malloc/free after the first.

use core::ffi::c_void;

/// How many free blocks are kept; beyond that they go back to malloc.
const KEEP: usize = 64;

pub struct Pool {
    free: Vec<*mut u8>,
}

impl Pool {
    pub const fn new() -> Pool {
        Pool { free: Vec::new() }
    }

    /// A block of `size` bytes (always the same size for one pool), or null.
    #[inline]
    pub fn get(&mut self, size: usize) -> *mut u8 {
        match self.free.pop() {
            Some(p) => p,
            // SAFETY: plain allocation; null is passed on to the caller.
            None => unsafe { libc::malloc(size) as *mut u8 },
        }
    }

    /// Takes back a block from `get`.
    #[inline]
    pub fn put(&mut self, p: *mut u8) {
        if self.free.len() < KEEP && self.free.try_reserve(1).is_ok() {
            self.free.push(p);
        } else {
            // SAFETY: p came from malloc in `get` and is no longer used.
            unsafe { libc::free(p as *mut c_void) };
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        for &p in &self.free {
            // SAFETY: cached blocks are unused malloc'd memory.
            unsafe { libc::free(p as *mut c_void) };
        }
    }
}
