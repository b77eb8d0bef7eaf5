//! The C surface of the 2.14 generation (`libdill.so.20`): every name
//! carries the `dill_` prefix. Where 2.14 means what 2.6 meant, a function
//! here calls its 2.6 twin in `ffi`; where the semantics changed (hown,
//! the per-type `*_done`, `struct dill_hvfs`, ...), a small adapter over the
//! same core. Which names a library exports is decided at link time, by
//! the symbol lists under `abi/`.

pub mod channels;
pub mod conn;
pub mod coroutines;
pub mod handles;
pub mod helpers;
pub mod http;
pub mod implh;
pub mod ipc;
pub mod ipaddr;
pub mod prefix;
pub mod sockets;
pub mod socks5;
pub mod storage;
pub mod suffix;
pub mod tcp;
pub mod term;
pub mod tls;
pub mod udp;
pub mod ws;

/// Every 2.14 call that frees a handle first puts the thread's table in
/// 2.14's order of reuse (first in, first out; see `core::handles`).
#[inline]
pub(crate) fn reuse_fifo() {
    if let Ok(cx) = crate::core::ctx::get() {
        cx.handles().set_fifo();
    }
}
