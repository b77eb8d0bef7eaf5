//! Readiness notification behind a small interface, so that a kqueue or poll
//! backend can stand in for epoll later.
//!
//! Registration is persistent and edge-triggered: an fd is added once for both
//! directions and stays until `fdclean`, so waiting on an fd costs no
//! syscall beyond the shared poll. Each registration carries a token chosen by
//! the caller (fd plus a generation), so events of a closed and reused fd
//! cannot be mistaken for the new one's.

mod epoll;

pub use self::epoll::Epoll as Backend;

/// Most events one `wait` reports.
pub const BATCH: usize = 128;

pub const READABLE: u8 = 1;
pub const WRITABLE: u8 = 2;
/// The fd reported a condition after which a short read no longer proves
/// the receive queue empty: the peer's FIN or an error (EOF or the error is
/// there to read, and no edge will announce it again), or urgent data (a
/// read stops short at the urgent mark).
pub const NO_PROOF: u8 = 4;

/// What a poller backend provides.
pub trait Poller: Sized {
    /// A new, empty poller.
    fn open() -> Result<Self, i32>;
    /// Watches `fd` in both directions, edge-triggered, tagging events with
    /// `token`. Err(errno) when the fd cannot be watched.
    fn add(&mut self, fd: i32, token: u64) -> Result<(), i32>;
    /// Stops watching `fd` (it may already be closed).
    fn remove(&mut self, fd: i32);
    /// Waits up to `timeout_ms` (-1 forever) and calls `f(token, bits)` for
    /// each event, bits being READABLE | WRITABLE | NO_PROOF.
    fn wait(&mut self, timeout_ms: i32, f: &mut dyn FnMut(u64, u8));
}
