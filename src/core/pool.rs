//! Per-thread slabs of fixed-size blocks for the objects programs create
//! and close by the thousand (channels, bundles): taking and giving back a
//! block is a few instructions, and malloc is called once per chunk of
//! blocks, not once per object. Free blocks are linked through their first
//! word. Chunks are kept until the thread ends, so a thread holds what its
//! busiest moment needed (64 bytes a bundle, 144 a channel), no more.

use core::ffi::c_void;
use core::ptr;

/// Bytes malloc'd at a time; the first block's room holds the chunk link.
const CHUNK: usize = 8192;

pub struct Pool {
    size: usize,
    head: *mut u8,
    /// Every chunk, linked through its first word.
    chunks: *mut u8,
}

impl Pool {
    /// A pool of blocks of `size` bytes (from `block`).
    pub const fn new(size: usize) -> Pool {
        Pool { size, head: ptr::null_mut(), chunks: ptr::null_mut() }
    }

    /// The block size for objects of type T: its size rounded up to 16,
    /// which keeps every block as aligned as malloc's.
    pub const fn block<T>() -> usize {
        let n = (core::mem::size_of::<T>() + 15) & !15;
        if n < 16 { 16 } else { n }
    }

    /// A block, or null when out of memory.
    #[inline]
    pub fn get(&mut self) -> *mut u8 {
        let p = self.head;
        if p.is_null() {
            return self.refill();
        }
        // SAFETY: a free block holds the next free block in its first word.
        self.head = unsafe { (p as *mut *mut u8).read() };
        p
    }

    /// Takes back a block from `get`.
    #[inline]
    pub fn put(&mut self, p: *mut u8) {
        // SAFETY: p is an unused block of this pool.
        unsafe { (p as *mut *mut u8).write(self.head) };
        self.head = p;
    }

    /// A new chunk: its first block slot links the chunks, the rest become
    /// free blocks; returns one of them.
    #[cold]
    #[inline(never)]
    fn refill(&mut self) -> *mut u8 {
        // SAFETY: plain allocation, checked for null.
        let c = unsafe { libc::malloc(CHUNK) as *mut u8 };
        if c.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: c has CHUNK bytes; every block written lies inside it.
        unsafe {
            (c as *mut *mut u8).write(self.chunks);
            self.chunks = c;
            let mut off = self.size;
            while off + 2 * self.size <= CHUNK {
                self.put(c.add(off));
                off += self.size;
            }
            c.add(off)
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        while !self.chunks.is_null() {
            let c = self.chunks;
            // SAFETY: c is a chunk from `refill`; its first word links the next.
            unsafe {
                self.chunks = (c as *mut *mut u8).read();
                libc::free(c as *mut c_void);
            }
        }
    }
}
