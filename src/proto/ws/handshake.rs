//! The HTTP upgrade that opens a WebSocket (RFC 6455 4).

use core::ffi::{c_char, c_int};

/// What the caller of ws_attach_client/server gave for the handshake.
pub enum Handshake {
    Client { resource: *const c_char, host: *const c_char },
    Server { resource: *mut c_char, resourcelen: usize, host: *mut c_char, hostlen: usize },
}

impl Handshake {
    pub fn is_server(&self) -> bool {
        matches!(self, Handshake::Server { .. })
    }

    /// Runs the handshake on byte stream `u`.
    pub fn run(&self, _u: c_int, _deadline: i64) -> Result<(), i32> {
        if let Handshake::Client { resource, host } = *self {
            if resource.is_null() || host.is_null() {
                return Err(libc::EINVAL);
            }
        }
        Err(libc::ENOTSUP)
    }
}
