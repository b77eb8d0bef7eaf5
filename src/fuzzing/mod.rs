//! Entry points for fuzzing the protocols (the `fuzz/` crate) and for the
//! regression tests made from what it finds: each runs one session of a
//! protocol against a peer given as bytes, over an in-memory stream (no
//! fds, no coroutines), and panics where the library does not behave as
//! the protocol says. Nothing here is reachable from C.

pub mod mem;
pub mod pfx;
