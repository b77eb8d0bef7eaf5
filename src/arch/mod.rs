//! Saving and resuming coroutine contexts.
//!
//! The saved layout is ABI: C code compiled against the header saves contexts
//! inline (the `go()` macro) and the library resumes them, and the other way
//! round. See `shared/abi/README.md`.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::{jump, switch, tls_get, tls_set, Regs};

#[cfg(not(target_arch = "x86_64"))]
compile_error!(
    "only x86-64 has a context switch so far; the sigsetjmp fallback is not written yet"
);
