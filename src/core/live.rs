//! Liveness of objects across waits.
//!
//! A call that suspends (a socket waiting for its fd, a protocol waiting on
//! the socket below it) may find, when it resumes, that another coroutine
//! closed the handle meanwhile and the object is gone: freed, or caller
//! memory (`*_mem`) that the caller may already reuse. So the call must not
//! look at the object before it knows that it is still there, and that
//! knowledge cannot live in the object itself.
//!
//! Each object owns a cell in a per-thread table; the cell's generation is
//! bumped when the object ends. A call takes a `Token` (cell, generation) on
//! entry, keeps it on its own stack, and after every wait asks `alive()`
//! before touching the object: a dead token ends the call with EBADF.
//! Cells are reused, so the table stays as large as the most objects alive
//! at once; taking a token and checking it are a load and a compare.

use crate::core::ctx::Ctx;

pub struct Cells {
    gens: Vec<u32>,
    /// Free cells (their index); reused last-in first-out.
    free: Vec<u32>,
}

impl Cells {
    pub const fn new() -> Cells {
        Cells { gens: Vec::new(), free: Vec::new() }
    }
}

/// An object's cell. `end` it when the object goes away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Life(u32);

/// A call's view of an object's life, taken on entry.
#[derive(Clone, Copy, Debug)]
pub struct Token {
    cell: u32,
    gen: u32,
}

impl Life {
    /// A fresh cell, or Err(ENOMEM).
    pub fn new(cx: &Ctx) -> Result<Life, i32> {
        let c = cx.cells();
        if let Some(i) = c.free.pop() {
            return Ok(Life(i));
        }
        // The free list can hold every cell, so that `end` never allocates.
        let more = c.gens.len() + 1 - c.free.len();
        if c.gens.len() >= u32::MAX as usize || c.gens.try_reserve(1).is_err() || c.free.try_reserve(more).is_err() {
            return Err(libc::ENOMEM);
        }
        c.gens.push(0);
        Ok(Life((c.gens.len() - 1) as u32))
    }

    #[inline]
    pub fn token(self, cx: &Ctx) -> Token {
        Token { cell: self.0, gen: cx.cells().gens.get(self.0 as usize).copied().unwrap_or(0) }
    }

    /// The object is gone: every token taken on it is dead from now on.
    pub fn end(self, cx: &Ctx) {
        let c = cx.cells();
        if let Some(g) = c.gens.get_mut(self.0 as usize) {
            *g = g.wrapping_add(1);
            // `new` reserved room for every cell: this push never allocates.
            c.free.push(self.0);
        }
    }
}

impl Token {
    /// Is the object this token was taken on still there?
    #[inline]
    pub fn alive(self, cx: &Ctx) -> bool {
        cx.cells().gens.get(self.cell as usize) == Some(&self.gen)
    }
}
