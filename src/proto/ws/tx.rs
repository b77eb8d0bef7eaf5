//! Sending: one frame per message, control frames, and the SENDING flag
//! that keeps the frames of two coroutines (a sender, and a receiver
//! answering a ping or a close) from interleaving on the stream.

use super::frame::{self, MAX_CONTROL, MAX_HEAD, OP_BINARY, OP_CLOSE, OP_PONG, OP_TEXT};
use super::{below, free_state, key, State, DEAD, ORPHAN, OUTDONE, OUTERR, RANDOM, SCRATCH, SENDING};
use crate::core::ctx::Ctx;
use crate::core::live::Token;
use crate::net::iol::{self, iolist, Cursor};

/// One message of type `text` from the list `first`..`last`.
pub fn send(
    cx: &Ctx,
    tok: Token,
    st: *mut State,
    text: bool,
    first: *mut iolist,
    last: *mut iolist,
    deadline: i64,
) -> Result<(), i32> {
    closed(st)?;
    // SAFETY: the caller's list (C contract); check walks it safely.
    let len = unsafe { iol::check(first, last) }?;
    // A null base means "skip" when receiving; there is nothing to send.
    let mut it = first;
    while !it.is_null() {
        // SAFETY: nodes of a checked list.
        unsafe {
            if (*it).iol_base.is_null() && (*it).iol_len > 0 {
                return Err(libc::EINVAL);
            }
            it = (*it).iol_next;
        }
    }
    acquire(cx, tok, st, deadline)?;
    let op = if text { OP_TEXT } else { OP_BINARY };
    let r = data_frame(cx, tok, st, op, first, last, len, deadline);
    release(cx, tok, st, r, deadline)
}

/// Whether a close frame can carry `status` and `reason` (see close).
pub fn check_close(status: u16, reason: &[u8]) -> Result<(), i32> {
    let ok = if status == 0 {
        reason.is_empty()
    } else {
        frame::close_code_ok(status) && 2 + reason.len() <= MAX_CONTROL && core::str::from_utf8(reason).is_ok()
    };
    if ok { Ok(()) } else { Err(libc::EINVAL) }
}

/// Our close frame (hdone, ws_detach, ws_done): `status` (0 for none; 2.6
/// always sends 1000, normal closure, as peers take a close without a code
/// as 1005, "no status") and a reason, which needs a status. EINVAL for a
/// status a peer would reject, a reason that is too long or not UTF-8.
pub fn close(cx: &Ctx, tok: Token, st: *mut State, status: u16, reason: &[u8], deadline: i64) -> Result<(), i32> {
    check_close(status, reason)?;
    let mut p = [0u8; MAX_CONTROL];
    let n = if status == 0 { 0 } else { 2 + reason.len() };
    if status != 0 {
        p[..2].copy_from_slice(&status.to_be_bytes());
        p[2..n].copy_from_slice(reason);
    }
    let body = &p[..n];
    acquire(cx, tok, st, deadline)?;
    let r = control_frame(cx, tok, st, OP_CLOSE, body, deadline);
    if r.is_ok() {
        // SAFETY: alive (control_frame would have said DEAD).
        unsafe { (*st).flags |= OUTDONE };
    }
    release(cx, tok, st, r, deadline)
}

/// The receiving side answers a ping (OP_PONG) or a close (OP_CLOSE). If
/// another coroutine is mid-frame, the answer is left for it to send when
/// it is done. Send errors are the sending side's (OUTERR); only DEAD is
/// returned.
pub fn reply(cx: &Ctx, tok: Token, st: *mut State, op: u8, payload: &[u8], deadline: i64) -> Result<(), i32> {
    let payload = payload.get(..MAX_CONTROL).unwrap_or(payload);
    {
        // SAFETY: st is live (the caller just checked its token).
        let s = unsafe { &mut *st };
        if s.flags & (OUTDONE | OUTERR) != 0 {
            return Ok(());
        }
        if s.flags & SENDING != 0 {
            if op == OP_PONG {
                // Only the latest ping needs an answer (RFC 6455 5.5.3).
                if let Some(d) = s.pong.get_mut(..payload.len()) {
                    d.copy_from_slice(payload);
                    s.pong_len = payload.len() as u8;
                    s.pong_due = true;
                }
            } else {
                let n = payload.len().min(2);
                s.close_code[..n].copy_from_slice(&payload[..n]);
                s.close_len = n as u8;
                s.close_due = true;
            }
            return Ok(());
        }
        s.flags |= SENDING;
    }
    let r = control_frame(cx, tok, st, op, payload, deadline);
    if r.is_ok() && op == OP_CLOSE {
        // SAFETY: alive.
        unsafe { (*st).flags |= OUTDONE };
    }
    match release(cx, tok, st, r, deadline) {
        Err(DEAD) => Err(DEAD),
        _ => Ok(()),
    }
}

/// EPIPE after our close frame, ECONNRESET after a broken send.
fn closed(st: *mut State) -> Result<(), i32> {
    // SAFETY: st is live (the caller's token says so).
    let f = unsafe { (*st).flags };
    if f & OUTDONE != 0 {
        Err(libc::EPIPE)
    } else if f & OUTERR != 0 {
        Err(libc::ECONNRESET)
    } else {
        Ok(())
    }
}

/// Waits for the stream to be ours to write a frame to (SENDING).
fn acquire(cx: &Ctx, tok: Token, st: *mut State, deadline: i64) -> Result<(), i32> {
    loop {
        closed(st)?;
        {
            // SAFETY: live, as above.
            let s = unsafe { &mut *st };
            if s.flags & SENDING == 0 {
                s.flags |= SENDING;
                return Ok(());
            }
        }
        // Someone else is mid-frame (a pong, typically a few bytes):
        // look again in a millisecond.
        let now = crate::core::clock::now_ms();
        if deadline == 0 || (deadline > 0 && now >= deadline) {
            return Err(libc::ETIMEDOUT);
        }
        let until = if deadline < 0 { now + 1 } else { deadline.min(now + 1) };
        let rc = crate::ffi::deadlines::msleep(until);
        let e = crate::core::errno::get();
        if !tok.alive(cx) {
            return Err(DEAD);
        }
        if rc != 0 {
            return Err(e);
        }
    }
}

/// Ends a turn at sending: replies the receiver left are sent, SENDING
/// goes. A frame broken off leaves the stream unusable (OUTERR). If the
/// socket was closed meanwhile, its state was left to us (ORPHAN).
fn release(cx: &Ctx, tok: Token, st: *mut State, r: Result<(), i32>, deadline: i64) -> Result<(), i32> {
    let r = match r {
        Ok(()) => match flush_due(cx, tok, st, deadline) {
            Err(DEAD) => Err(DEAD),
            Err(_) => {
                // The message went; the answer after it did not.
                // SAFETY: alive.
                unsafe { (*st).flags |= OUTERR };
                Ok(())
            }
            Ok(()) => Ok(()),
        },
        Err(DEAD) => Err(DEAD),
        Err(e) => {
            // SAFETY: alive.
            unsafe { (*st).flags |= OUTERR };
            Err(e)
        }
    };
    if r == Err(DEAD) {
        // SAFETY: closed while we held SENDING: the state was left to us.
        unsafe {
            if (*st).flags & ORPHAN != 0 {
                free_state(st);
            }
        }
        return Err(DEAD);
    }
    // SAFETY: alive.
    unsafe { (*st).flags &= !SENDING };
    r
}

/// Sends what the receiving side left for us (see `reply`).
fn flush_due(cx: &Ctx, tok: Token, st: *mut State, deadline: i64) -> Result<(), i32> {
    // SAFETY: alive; copies are taken before each send.
    let (pong, close) = unsafe {
        let s = &mut *st;
        let mut pong = None;
        if s.pong_due {
            s.pong_due = false;
            pong = Some((s.pong, s.pong_len as usize));
        }
        let mut close = None;
        if s.close_due {
            s.close_due = false;
            close = Some((s.close_code, s.close_len as usize));
        }
        (pong, close)
    };
    if let Some((p, n)) = pong {
        // SAFETY: alive.
        if unsafe { (*st).flags } & OUTDONE == 0 {
            control_frame(cx, tok, st, OP_PONG, p.get(..n).unwrap_or(&[]), deadline)?;
        }
    }
    if let Some((c, n)) = close {
        // SAFETY: alive (the send above would have said DEAD).
        if unsafe { (*st).flags } & OUTDONE == 0 {
            control_frame(cx, tok, st, OP_CLOSE, c.get(..n).unwrap_or(&[]), deadline)?;
            // SAFETY: alive.
            unsafe { (*st).flags |= OUTDONE };
        }
    }
    Ok(())
}

/// A fresh mask key for a client frame, from random bytes fetched in
/// batches (one getrandom call per RANDOM / 4 frames).
fn mask_key(st: *mut State) -> Result<[u8; 4], i32> {
    // SAFETY: alive; no wait in here.
    let s = unsafe { &mut *st };
    let mut p = s.rnd_pos as usize;
    if p + 4 > RANDOM {
        key::random(&mut s.rnd)?;
        p = 0;
    }
    s.rnd_pos = (p + 4) as u8;
    match s.rnd.get(p..p + 4) {
        Some(&[a, b, c, d]) => Ok([a, b, c, d]),
        _ => Err(libc::EINVAL),
    }
}

/// A control frame, built on this coroutine's stack: the receiving side
/// sends its answers from its own memory.
fn control_frame(cx: &Ctx, tok: Token, st: *mut State, op: u8, payload: &[u8], deadline: i64) -> Result<(), i32> {
    // SAFETY: alive.
    let (u, server) = unsafe { ((*st).u, (*st).server) };
    let payload = payload.get(..MAX_CONTROL).unwrap_or(payload);
    let key = if server { None } else { Some(mask_key(st)?) };
    let mut head = [0u8; MAX_HEAD];
    let n = frame::encode(&mut head, op, payload.len() as u64, key);
    let mut buf = [0u8; MAX_HEAD + MAX_CONTROL];
    let total = n + payload.len();
    let (h, body) = buf.split_at_mut(n);
    h.copy_from_slice(&head[..n]);
    let body = &mut body[..payload.len()];
    body.copy_from_slice(payload);
    if let Some(k) = key {
        frame::mask(body, k, 0);
    }
    below::send(cx, tok, u, &buf[..total], deadline)
}

/// A whole message as one frame. The server hands the caller's list down
/// behind the header; the client masks it through its scratch buffer.
#[allow(clippy::too_many_arguments)]
fn data_frame(
    cx: &Ctx,
    tok: Token,
    st: *mut State,
    op: u8,
    first: *mut iolist,
    last: *mut iolist,
    len: usize,
    deadline: i64,
) -> Result<(), i32> {
    // SAFETY: alive.
    let (u, server, scratch) = unsafe { ((*st).u, (*st).server, (*st).scratch) };
    let mut head = [0u8; MAX_HEAD];
    if server {
        let n = frame::encode(&mut head, op, len as u64, None);
        // Our node in front of the caller's list, which stays untouched.
        let mut h = iolist { iol_base: head.as_mut_ptr() as *mut _, iol_len: n, iol_next: first, iol_rsvd: 0 };
        return below::sendl(cx, tok, u, &mut h, last, deadline);
    }
    let key = mask_key(st)?;
    let n = frame::encode(&mut head, op, len as u64, Some(key));
    // SAFETY: a client's scratch is SCRATCH bytes, and stays allocated
    // while we hold SENDING even if the socket is closed (ORPHAN).
    let sc = unsafe { core::slice::from_raw_parts_mut(scratch, SCRATCH) };
    sc[..n].copy_from_slice(&head[..n]);
    let mut fill = n;
    let mut off = 0usize;
    let mut cur = Cursor::new(first);
    loop {
        while fill < SCRATCH && !cur.done() {
            let (base, plen) = cur.piece();
            let k = plen.min(SCRATCH - fill);
            // SAFETY: the caller's buffer holds plen >= k readable bytes
            // (null bases were refused).
            let src = unsafe { core::slice::from_raw_parts(base as *const u8, k) };
            frame::mask_copy(&mut sc[fill..fill + k], src, key, off);
            off += k;
            fill += k;
            cur.advance(k);
        }
        below::send(cx, tok, u, &sc[..fill], deadline)?;
        if cur.done() {
            return Ok(());
        }
        fill = 0;
    }
}
