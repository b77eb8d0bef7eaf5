//! Receiving: frames are read from the stream below straight into the
//! caller's buffers, control frames are answered on the way, fragments
//! are joined into one message.
//!
//! A message that cannot be delivered (too big for the buffer: EMSGSIZE;
//! of the other type for mrecv: EPROTO) is dropped: the call returns at
//! once, and the next one first reads past the rest of it.

use super::frame::{self, Head, MAX_CONTROL, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT};
use super::utf8::Utf8;
use super::{below, extra, tx, Closing, State, DEAD, INDONE, INERR, MAX_REASON};
use crate::core::ctx::Ctx;
use crate::core::live::Token;
use crate::net::iol::{self, iolist, Cursor};
use core::ptr;

/// Close codes we send when the peer breaks the protocol (RFC 6455 7.4.1).
const PROTOCOL_ERROR: u16 = 1002;
const INVALID_DATA: u16 = 1007;

/// Bytes dropped per call below when skipping, so progress is counted.
const SKIP_CHUNK: u64 = 1 << 30;

/// The header of a data frame.
struct Data {
    op: u8,
    fin: bool,
    len: u64,
    key: Option<[u8; 4]>,
}

/// One message into `first`..`last` (both null: dropped). `want` is the
/// type mrecv accepts (Some(true): text). Returns its size and whether it
/// is text.
pub fn recv(
    cx: &Ctx,
    tok: Token,
    st: *mut State,
    first: *mut iolist,
    last: *mut iolist,
    want: Option<bool>,
    deadline: i64,
) -> Result<(usize, bool), i32> {
    {
        // SAFETY: st is live (the caller's token was just taken).
        let f = unsafe { (*st).flags };
        if f & INERR != 0 {
            return Err(libc::ECONNRESET);
        }
        if f & INDONE != 0 {
            return Err(libc::EPIPE);
        }
    }
    let drop_all = first.is_null() && last.is_null();
    // SAFETY: the caller's list (C contract); check walks it safely.
    let cap = if drop_all { usize::MAX } else { unsafe { iol::check(first, last) }? };
    drop_skipped(cx, tok, st, deadline)?;
    let mut cur = Cursor::new(first);
    let mut total = 0usize;
    let mut text = false;
    let mut v = Utf8::default();
    let mut started = false;
    loop {
        let d = next_data(cx, tok, st, !started, deadline)?;
        if !started {
            text = match d.op {
                OP_TEXT => true,
                OP_BINARY => false,
                _ => return Err(fail(cx, tok, st, PROTOCOL_ERROR, deadline)),
            };
            started = true;
            if want.is_some_and(|w| w != text) {
                skip_rest(st, &d);
                return Err(libc::EPROTO);
            }
        } else if d.op != OP_CONT {
            return Err(fail(cx, tok, st, PROTOCOL_ERROR, deadline));
        }
        if d.len > (cap - total) as u64 {
            skip_rest(st, &d);
            return Err(libc::EMSGSIZE);
        }
        let len = d.len as usize;
        let check = if text { Some(&mut v) } else { None };
        payload(cx, tok, st, &mut cur, len, d.key, check, drop_all, deadline)?;
        total += len;
        if d.fin {
            if text && !v.complete() {
                return Err(fail(cx, tok, st, INVALID_DATA, deadline));
            }
            if total > isize::MAX as usize {
                return Err(libc::EMSGSIZE);
            }
            return Ok((total, text));
        }
    }
}

/// The rest of the message of frame `d` is to be dropped.
fn skip_rest(st: *mut State, d: &Data) {
    // SAFETY: alive.
    unsafe {
        (*st).skip = d.len;
        (*st).skip_more = !d.fin;
    }
}

/// Reads past what is left of a message given up on.
fn drop_skipped(cx: &Ctx, tok: Token, st: *mut State, deadline: i64) -> Result<(), i32> {
    loop {
        // SAFETY: alive (every wait below is checked).
        let (u, skip, more) = unsafe { ((*st).u, (*st).skip, (*st).skip_more) };
        if skip > 0 {
            let k = skip.min(SKIP_CHUNK);
            below::recv(cx, tok, u, ptr::null_mut(), k as usize, deadline).map_err(|e| io(st, e, false))?;
            // SAFETY: alive.
            unsafe { (*st).skip -= k };
            continue;
        }
        if !more {
            return Ok(());
        }
        let d = next_data(cx, tok, st, true, deadline)?;
        if d.op != OP_CONT {
            return Err(fail(cx, tok, st, PROTOCOL_ERROR, deadline));
        }
        skip_rest(st, &d);
    }
}

/// An error from below. Broken off inside a frame or a message, the
/// stream cannot be read on (INERR); between messages (`clean`) it can,
/// and its end is remembered (INDONE).
fn io(st: *mut State, e: i32, clean: bool) -> i32 {
    if e == DEAD {
        return DEAD;
    }
    // SAFETY: alive (not DEAD).
    unsafe {
        if !clean {
            (*st).flags |= INERR;
        } else if e == libc::EPIPE {
            (*st).flags |= INDONE;
        }
    }
    e
}

/// The peer broke the protocol: no more receiving, and a close frame
/// with `code` tells it why (if nothing else is being sent). EPROTO.
fn fail(cx: &Ctx, tok: Token, st: *mut State, code: u16, deadline: i64) -> i32 {
    // SAFETY: alive.
    unsafe { (*st).flags |= INERR };
    match tx::reply(cx, tok, st, OP_CLOSE, &code.to_be_bytes(), deadline) {
        Err(DEAD) => DEAD,
        _ => libc::EPROTO,
    }
}

/// The next data frame's header; control frames before it are handled.
fn next_data(cx: &Ctx, tok: Token, st: *mut State, clean: bool, deadline: i64) -> Result<Data, i32> {
    loop {
        // SAFETY: alive.
        let (u, server) = unsafe { ((*st).u, (*st).server) };
        let mut b = [0u8; 2];
        below::recv(cx, tok, u, b.as_mut_ptr(), 2, deadline).map_err(|e| io(st, e, clean))?;
        // Clients mask, servers do not (RFC 6455 5.1).
        let h = match Head::parse(b) {
            Ok(h) if h.masked == server => h,
            _ => return Err(fail(cx, tok, st, PROTOCOL_ERROR, deadline)),
        };
        let n = h.rest_len();
        let mut rest = [0u8; 12];
        let rest = &mut rest[..n];
        if n > 0 {
            below::recv(cx, tok, u, rest.as_mut_ptr(), n, deadline).map_err(|e| io(st, e, false))?;
        }
        let Ok((len, key)) = h.finish(rest) else {
            return Err(fail(cx, tok, st, PROTOCOL_ERROR, deadline));
        };
        if !h.is_control() {
            return Ok(Data { op: h.op, fin: h.fin, len, key });
        }
        control(cx, tok, st, h.op, len as usize, key, deadline)?;
    }
}

/// A control frame: pings are answered, pongs ignored, a close is
/// answered and ends receiving (EPIPE).
fn control(
    cx: &Ctx,
    tok: Token,
    st: *mut State,
    op: u8,
    len: usize,
    key: Option<[u8; 4]>,
    deadline: i64,
) -> Result<(), i32> {
    // Read into our own stack: the state may go while we wait.
    let mut p = [0u8; MAX_CONTROL];
    let Some(body) = p.get_mut(..len) else {
        return Err(fail(cx, tok, st, PROTOCOL_ERROR, deadline));
    };
    // SAFETY: alive.
    let u = unsafe { (*st).u };
    if len > 0 {
        below::recv(cx, tok, u, body.as_mut_ptr(), len, deadline).map_err(|e| io(st, e, false))?;
        if let Some(k) = key {
            frame::mask(body, k, 0);
        }
    }
    match op {
        OP_PING => tx::reply(cx, tok, st, OP_PONG, body, deadline),
        OP_PONG => Ok(()),
        OP_CLOSE => {
            let code = match &*body {
                [] => &[][..],
                [a, b, reason @ ..] => {
                    if !frame::close_code_ok(u16::from_be_bytes([*a, *b])) {
                        return Err(fail(cx, tok, st, PROTOCOL_ERROR, deadline));
                    }
                    if core::str::from_utf8(reason).is_err() {
                        return Err(fail(cx, tok, st, INVALID_DATA, deadline));
                    }
                    &body[..2]
                }
                [_] => return Err(fail(cx, tok, st, PROTOCOL_ERROR, deadline)),
            };
            if peer_closed(st, body) {
                tx::reply(cx, tok, st, OP_CLOSE, code, deadline)?;
            }
            Err(libc::EPIPE)
        }
        _ => Err(fail(cx, tok, st, PROTOCOL_ERROR, deadline)),
    }
}

/// The peer's valid close frame `body` ends receiving; its status and
/// reason are kept for ws_status. Whether to answer it now (see Extra).
/// Out of line: the frame loop's code stays as small as 2.6 had it.
#[cold]
#[inline(never)]
fn peer_closed(st: *mut State, body: &[u8]) -> bool {
    let mut c = Closing { status: 0, len: 0, reason: [0; MAX_REASON] };
    if let [a, b, reason @ ..] = body {
        c.status = u16::from_be_bytes([*a, *b]);
        let n = reason.len().min(MAX_REASON);
        c.reason[..n].copy_from_slice(&reason[..n]);
        c.len = n as u8;
    }
    // SAFETY: alive (the caller's token says so); made by new_state.
    unsafe {
        (*st).flags |= INDONE;
        let x = extra(st);
        (*x).peer = c;
        (*x).answer_close
    }
}

/// `len` payload bytes into the caller's list at `cur` (or dropped),
/// unmasked and, for text, checked as UTF-8 on the way.
#[allow(clippy::too_many_arguments)]
fn payload(
    cx: &Ctx,
    tok: Token,
    st: *mut State,
    cur: &mut Cursor,
    mut len: usize,
    key: Option<[u8; 4]>,
    mut check: Option<&mut Utf8>,
    drop_all: bool,
    deadline: i64,
) -> Result<(), i32> {
    // SAFETY: alive.
    let u = unsafe { (*st).u };
    let mut off = 0usize;
    while len > 0 {
        if drop_all {
            let k = len.min(SKIP_CHUNK as usize);
            below::recv(cx, tok, u, ptr::null_mut(), k, deadline).map_err(|e| io(st, e, false))?;
            len -= k;
            continue;
        }
        if cur.done() {
            return Err(libc::EMSGSIZE); // Cannot be: the size was checked.
        }
        let (base, plen) = cur.piece();
        let k = plen.min(len);
        below::recv(cx, tok, u, base, k, deadline).map_err(|e| io(st, e, false))?;
        if base.is_null() {
            if let Some(v) = check.as_deref_mut() {
                v.gap();
            }
        } else {
            // SAFETY: the caller's buffer, k bytes of it just filled.
            let data = unsafe { core::slice::from_raw_parts_mut(base, k) };
            if let Some(k) = key {
                frame::mask(data, k, off);
            }
            if let Some(v) = check.as_deref_mut() {
                if !v.feed(data) {
                    return Err(fail(cx, tok, st, INVALID_DATA, deadline));
                }
            }
        }
        off += k;
        len -= k;
        cur.advance(k);
    }
    Ok(())
}
