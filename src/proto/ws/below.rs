//! Calls on the byte stream below, by handle number, through the public
//! bsock functions (so any byte stream works: ours, TLS, user-defined).
//! Each one may wait; afterwards the caller's object may be gone, so the
//! token is checked before the result is looked at.

use crate::core::ctx::Ctx;
use crate::core::errno;
use crate::core::live::Token;
use crate::ffi::bsock;
use crate::net::iol::iolist;
use core::ffi::{c_int, c_void};

use super::DEAD;

fn done(cx: &Ctx, tok: Token, rc: c_int) -> Result<(), i32> {
    let e = if rc == 0 { 0 } else { errno::get() };
    if !tok.alive(cx) {
        return Err(DEAD);
    }
    if e == 0 { Ok(()) } else { Err(e) }
}

/// Exactly `len` bytes into `buf` (null: dropped).
pub fn recv(cx: &Ctx, tok: Token, u: c_int, buf: *mut u8, len: usize, deadline: i64) -> Result<(), i32> {
    // SAFETY: buf is len writable bytes, or null to skip them.
    done(cx, tok, unsafe { bsock::brecv(u, buf as *mut c_void, len, deadline) })
}

/// All of `buf`.
pub fn send(cx: &Ctx, tok: Token, u: c_int, buf: &[u8], deadline: i64) -> Result<(), i32> {
    // SAFETY: buf is readable for its length.
    done(cx, tok, unsafe { bsock::bsend(u, buf.as_ptr() as *const c_void, buf.len(), deadline) })
}

/// All bytes of the (checked) list `first`..`last`.
pub fn sendl(cx: &Ctx, tok: Token, u: c_int, first: *mut iolist, last: *mut iolist, deadline: i64) -> Result<(), i32> {
    // SAFETY: a well-formed list of readable buffers.
    done(cx, tok, unsafe { bsock::bsendl(u, first, last, deadline) })
}
