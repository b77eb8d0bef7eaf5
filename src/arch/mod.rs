//! Saving and resuming coroutine contexts, and the thread's context slot.
//!
//! The saved layout is ABI: C code compiled against the header saves contexts
//! inline (the `go()` macro) and the library resumes them, and the other way
//! round. See `shared/abi/README.md`. x86-64 has its own assembly; every other
//! architecture (and x86-64 built with the `arch-fallback` feature, to keep
//! that path tested) uses sigsetjmp/siglongjmp.

#[cfg(all(target_arch = "x86_64", not(feature = "arch-fallback")))]
mod x86_64;
#[cfg(all(target_arch = "x86_64", not(feature = "arch-fallback")))]
pub use self::x86_64::{jump, sanitized, switch, tls_get, tls_set, valgrind_request, Regs};

#[cfg(any(not(target_arch = "x86_64"), feature = "arch-fallback"))]
mod fallback;
#[cfg(any(not(target_arch = "x86_64"), feature = "arch-fallback"))]
pub use self::fallback::{jump, sanitized, switch, tls_get, tls_set, valgrind_request, Regs};

/// Valgrind's request codes (valgrind.h), for coroutine stacks: without them
/// valgrind takes a switch between nearby stacks for a push or pop and
/// reports the other stack's live data as uninitialised.
pub const VG_RUNNING_ON_VALGRIND: usize = 0x1001;
pub const VG_STACK_REGISTER: usize = 0x1501;
pub const VG_STACK_DEREGISTER: usize = 0x1502;
