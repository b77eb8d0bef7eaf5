//! CRLF: text messages over a byte stream, each ended by CR LF; an empty
//! line from each side ends the protocol (crlf_detach hands the stream
//! back). A message socket: `hquery` answers `msock_type`.
//!
//! Reading must never take bytes past the peer's empty line: they belong
//! to whatever runs on the stream after detach. Streams that answer
//! `bpeek_id()` (ours) are read through their own buffer, a window at a
//! time, and only what a line used is consumed. Any other byte stream has
//! only "exactly n bytes" (brecv), so it is read in steps that cannot run
//! past a line end: two bytes at a time, one after a CR.
//!
//! Rust callers (http, ws) use `attach`, `send`, `recv`, `done`, `detach`
//! with handle numbers.

use crate::core::ctx::{self, Ctx};
use crate::core::errno;
use crate::core::handles;
use crate::core::hvfs::hvfs;
use crate::core::live::{Life, Token};
use crate::ffi::bsock;
use crate::ffi::handles::hquery;
use crate::net::iol::{self, iolist, Cursor};
use crate::net::vfs::{bpeek_id, BPeek, bsock_id, msock_id, msock_vfs};
use core::ffi::{c_int, c_void};
use core::ptr;

const INDONE: u8 = 1;
const OUTDONE: u8 = 2;
const INERR: u8 = 4;
const OUTERR: u8 = 8;
/// Given back by detach: the close callback leaves the stream alone.
const DETACHED: u8 = 16;

#[repr(C)]
pub struct Crlf {
    hvfs: hvfs,
    mvfs: msock_vfs,
    /// The stream below, under a number only we know.
    u: c_int,
    life: Life,
    flags: u8,
    /// The stream answers `bpeek_id()` (asked once: an object's interfaces
    /// do not change).
    peek: bool,
    mem: bool,
}

/// Caller memory for the object: CRLF_SIZE bytes. (http embeds one.)
pub const SIZE: usize = 72;
const _: () = assert!(core::mem::size_of::<Crlf>() <= SIZE);
/// Memory of the right size and alignment for a `Crlf`.
pub type Mem = [u64; core::mem::size_of::<Crlf>().div_ceil(8)];

static CRLF_ID: u8 = 0;

fn crlf_id() -> *const c_void {
    &CRLF_ID as *const u8 as *const c_void
}

unsafe extern "C" fn vfs_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    let c = vfs as *mut Crlf;
    if t == msock_id() {
        // SAFETY: vfs is the first field of a live Crlf.
        return unsafe { ptr::addr_of_mut!((*c).mvfs) } as *mut c_void;
    }
    if t == crlf_id() {
        return c as *mut c_void;
    }
    errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn vfs_close(vfs: *mut hvfs) {
    let cx = ctx::ctx();
    let c = vfs as *mut Crlf;
    // SAFETY: a live Crlf whose last handle went; nothing uses it after.
    unsafe {
        (*c).life.end(cx);
        if (*c).flags & DETACHED == 0 {
            let _ = handles::close(cx, (*c).u);
        }
        if !(*c).mem {
            libc::free(c as *mut c_void);
        }
    }
}

unsafe extern "C" fn vfs_done(vfs: *mut hvfs, deadline: i64) -> c_int {
    let cx = ctx::ctx();
    let c = vfs as *mut Crlf;
    // SAFETY: a live Crlf (a handle names it).
    let t = unsafe { (*c).life.token(cx) };
    crate::ffi::status(match done_obj(cx, c, t, deadline) {
        Ok(()) => 0,
        Err(e) => e,
    })
}

fn from_mvfs(m: *mut msock_vfs) -> *mut Crlf {
    (m as *mut u8).wrapping_sub(core::mem::offset_of!(Crlf, mvfs)) as *mut Crlf
}

unsafe extern "C" fn mvfs_send(m: *mut msock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    let cx = ctx::ctx();
    let c = from_mvfs(m);
    // SAFETY: a live Crlf (its interface was just handed out).
    let t = unsafe { (*c).life.token(cx) };
    match sendl(cx, c, t, first, last, deadline) {
        Ok(()) => 0,
        Err(e) => errno::fail(e),
    }
}

unsafe extern "C" fn mvfs_recv(m: *mut msock_vfs, first: *mut iolist, _last: *mut iolist, deadline: i64) -> libc::ssize_t {
    let cx = ctx::ctx();
    let c = from_mvfs(m);
    // SAFETY: as above.
    let t = unsafe { (*c).life.token(cx) };
    match recvl(cx, c, t, first, deadline) {
        Ok(n) => n as libc::ssize_t,
        Err(e) => errno::fail(e) as libc::ssize_t,
    }
}

/// The CRLF object named by `h`: EBADF, or ENOTSUP for another kind.
fn get(cx: &Ctx, h: c_int) -> Result<*mut Crlf, i32> {
    let vfs = cx.handles().get(h).ok_or(libc::EBADF)?;
    // SAFETY: vfs is live: h names it.
    match unsafe { (*vfs).query } {
        Some(f) if ptr::fn_addr_eq(f, vfs_query as unsafe extern "C" fn(_, _) -> _) => Ok(vfs as *mut Crlf),
        _ => Err(libc::ENOTSUP),
    }
}

fn can_block(cx: &Ctx) -> bool {
    // SAFETY: the running coroutine is live.
    unsafe { (*cx.me()).can_block() }
}

/// crlf_attach(_mem): a CRLF socket over byte stream `s`, in `mem`
/// (CRLF_SIZE bytes, aligned for `Crlf`) or allocated if null. On failure
/// `s` is left as it was.
pub fn attach(cx: &Ctx, s: c_int, mem: *mut c_void) -> Result<c_int, i32> {
    if hquery(s, bsock_id()).is_null() {
        return Err(if errno::get() == libc::EBADF { libc::EBADF } else { libc::EPROTO });
    }
    let peek = !hquery(s, bpeek_id()).is_null();
    let c = if mem.is_null() {
        // SAFETY: plain allocation, checked below.
        unsafe { libc::malloc(core::mem::size_of::<Crlf>()) as *mut Crlf }
    } else {
        mem as *mut Crlf
    };
    if c.is_null() {
        return Err(libc::ENOMEM);
    }
    let release = move || {
        if mem.is_null() {
            // SAFETY: allocated above, referenced nowhere.
            unsafe { libc::free(c as *mut c_void) };
        }
    };
    let life = Life::new(cx).inspect_err(|_| release())?;
    let taken = super::Taken::take(cx, s).inspect_err(|_| {
        life.end(cx);
        release();
    })?;
    // SAFETY: c has room for a Crlf.
    unsafe {
        c.write(Crlf {
            hvfs: hvfs { query: Some(vfs_query), close: Some(vfs_close), done: Some(vfs_done), refcount: 0 },
            mvfs: msock_vfs { msendl: Some(mvfs_send), mrecvl: Some(mvfs_recv) },
            u: taken.new,
            life,
            flags: 0,
            peek,
            mem: !mem.is_null(),
        })
    };
    match handles::make(cx, c as *mut hvfs) {
        Ok(h) => {
            taken.commit(cx);
            Ok(h)
        }
        Err(e) => {
            taken.abandon(cx);
            life.end(cx);
            release();
            Err(e)
        }
    }
}

/// Sends one message (not empty, no CR LF inside).
pub fn send(cx: &Ctx, h: c_int, msg: &[u8], deadline: i64) -> Result<(), i32> {
    let c = get(cx, h)?;
    // SAFETY: live (h names it).
    let t = unsafe { (*c).life.token(cx) };
    let mut iol = iolist { iol_base: msg.as_ptr() as *mut c_void, iol_len: msg.len(), iol_next: ptr::null_mut(), iol_rsvd: 0 };
    sendl(cx, c, t, &mut iol, &mut iol, deadline)
}

/// Sends several pieces as one message (what http's lines are made of).
pub fn send_parts(cx: &Ctx, h: c_int, parts: &[&[u8]], deadline: i64) -> Result<(), i32> {
    const MAX: usize = 8;
    if parts.is_empty() || parts.len() > MAX {
        return Err(libc::EINVAL);
    }
    let c = get(cx, h)?;
    // SAFETY: live (h names it).
    let t = unsafe { (*c).life.token(cx) };
    let mut v: [iolist; MAX] =
        core::array::from_fn(|_| iolist { iol_base: ptr::null_mut(), iol_len: 0, iol_next: ptr::null_mut(), iol_rsvd: 0 });
    let n = parts.len();
    for (i, p) in parts.iter().enumerate() {
        v[i].iol_base = p.as_ptr() as *mut c_void;
        v[i].iol_len = p.len();
    }
    let base = v.as_mut_ptr();
    for i in 0..n - 1 {
        // SAFETY: i + 1 < n <= MAX.
        unsafe { (*base.add(i)).iol_next = base.add(i + 1) };
    }
    // SAFETY: 0 and n - 1 are within v.
    let (first, last) = unsafe { (base, base.add(n - 1)) };
    sendl(cx, c, t, first, last, deadline)
}

/// Receives one message into `buf`; returns its size. EMSGSIZE if it does
/// not fit (the input is broken after), EPIPE at the peer's empty line.
pub fn recv(cx: &Ctx, h: c_int, buf: &mut [u8], deadline: i64) -> Result<usize, i32> {
    let c = get(cx, h)?;
    // SAFETY: live (h names it).
    let t = unsafe { (*c).life.token(cx) };
    let mut iol = iolist { iol_base: buf.as_mut_ptr() as *mut c_void, iol_len: buf.len(), iol_next: ptr::null_mut(), iol_rsvd: 0 };
    recvl(cx, c, t, &mut iol, deadline)
}

/// hdone: sends the empty line; nothing may be sent after.
pub fn done(cx: &Ctx, h: c_int, deadline: i64) -> Result<(), i32> {
    let c = get(cx, h)?;
    // SAFETY: live (h names it).
    let t = unsafe { (*c).life.token(cx) };
    done_obj(cx, c, t, deadline)
}

/// crlf_detach: ends the protocol both ways (our empty line, then the
/// peer's: messages before it are dropped) and returns the stream, with
/// whatever followed the peer's empty line still unread in it. On failure
/// the CRLF socket and the stream are closed.
pub fn detach(cx: &Ctx, h: c_int, deadline: i64) -> Result<c_int, i32> {
    let c = get(cx, h)?;
    // SAFETY: live (h names it).
    let t = unsafe { (*c).life.token(cx) };
    let r = terminate(cx, c, t, deadline);
    if !t.alive(cx) {
        return Err(libc::EBADF); // Closed meanwhile: nothing left to do.
    }
    match r {
        Ok(()) => {
            // SAFETY: alive (checked above).
            let u = unsafe {
                (*c).flags |= DETACHED | INERR | OUTERR;
                (*c).u
            };
            super::retire(cx, h);
            Ok(u)
        }
        Err(e) => {
            let _ = handles::close(cx, h);
            Err(e)
        }
    }
}

fn terminate(cx: &Ctx, c: *mut Crlf, t: Token, deadline: i64) -> Result<(), i32> {
    // SAFETY: live on entry and after every wait (checked).
    let flags = unsafe { (*c).flags };
    if flags & (INERR | OUTERR) != 0 {
        return Err(libc::ECONNRESET);
    }
    if flags & OUTDONE == 0 {
        done_obj(cx, c, t, deadline)?;
    }
    loop {
        // SAFETY: alive: done_obj and recvl return EBADF otherwise.
        if unsafe { (*c).flags } & INDONE != 0 {
            return Ok(());
        }
        match recvl(cx, c, t, ptr::null_mut(), deadline) {
            // EPIPE: the peer's empty line (INDONE, seen above), or the
            // stream ended first (INERR: ECONNRESET next time round).
            Ok(_) | Err(libc::EPIPE) => {}
            Err(e) => return Err(e),
        }
    }
}

fn done_obj(cx: &Ctx, c: *mut Crlf, t: Token, deadline: i64) -> Result<(), i32> {
    // SAFETY: live on entry.
    let (flags, u) = unsafe { ((*c).flags, (*c).u) };
    if flags & OUTERR != 0 {
        return Err(libc::ECONNRESET);
    }
    if flags & OUTDONE != 0 {
        return Err(libc::EPIPE);
    }
    if !can_block(cx) {
        return Err(libc::ECANCELED);
    }
    // SAFETY: two readable bytes.
    let r = unsafe { bsock::bsend(u, b"\r\n".as_ptr() as *const c_void, 2, deadline) };
    let e = errno::get();
    if !t.alive(cx) {
        return Err(libc::EBADF);
    }
    // SAFETY: alive.
    unsafe {
        if r != 0 {
            (*c).flags |= OUTERR;
            return Err(e);
        }
        (*c).flags |= OUTDONE;
    }
    Ok(())
}

/// Sends the list as one message, with CR LF appended.
fn sendl(cx: &Ctx, c: *mut Crlf, t: Token, first: *mut iolist, last: *mut iolist, deadline: i64) -> Result<(), i32> {
    // SAFETY: live on entry.
    let (flags, u) = unsafe { ((*c).flags, (*c).u) };
    if flags & OUTERR != 0 {
        return Err(libc::ECONNRESET);
    }
    if flags & OUTDONE != 0 {
        return Err(libc::EPIPE);
    }
    // SAFETY: the caller's list (C contract); check() validates its shape.
    let total = unsafe { iol::check(first, last)? };
    // An empty message would be the terminal line; CR LF would split it.
    // SAFETY: checked list.
    if total == 0 || unsafe { !plain_text(first) } {
        return Err(libc::EINVAL);
    }
    if !can_block(cx) {
        return Err(libc::ECANCELED);
    }
    let mut tail = iolist { iol_base: b"\r\n".as_ptr() as *mut c_void, iol_len: 2, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    // SAFETY: last ends the caller's list; it is put back as it was
    // before we return (the caller is blocked in this call meanwhile).
    let r = unsafe {
        (*last).iol_next = &mut tail;
        let r = bsock::bsendl(u, first, &mut tail, deadline);
        (*last).iol_next = ptr::null_mut();
        r
    };
    let e = errno::get();
    if !t.alive(cx) {
        return Err(libc::EBADF);
    }
    if r != 0 {
        // SAFETY: alive.
        unsafe { (*c).flags |= OUTERR };
        return Err(e);
    }
    Ok(())
}

/// No CR LF in the message, also across pieces; no skip pieces.
///
/// # Safety
/// `first` starts a checked list.
unsafe fn plain_text(first: *mut iolist) -> bool {
    let mut cr = false;
    let mut it = first;
    // SAFETY: checked list.
    unsafe {
        while !it.is_null() {
            let n = &*it;
            if n.iol_len > 0 {
                if n.iol_base.is_null() {
                    return false;
                }
                let b = core::slice::from_raw_parts(n.iol_base as *const u8, n.iol_len);
                if cr && b[0] == b'\n' {
                    return false;
                }
                // Every LF found (memchr) must not follow a CR.
                let mut i = 0;
                while i < b.len() {
                    let rest = &b[i..];
                    let p = libc::memchr(rest.as_ptr() as *const c_void, b'\n' as c_int, rest.len());
                    if p.is_null() {
                        break;
                    }
                    let at = i + (p as usize - rest.as_ptr() as usize);
                    if at > 0 && b[at - 1] == b'\r' {
                        return false;
                    }
                    i = at + 1;
                }
                cr = b[b.len() - 1] == b'\r';
            }
            it = n.iol_next;
        }
    }
    true
}

/// Where a received line goes: a list (null bases skip), or nowhere.
struct Out {
    cur: Cursor,
    drop: bool,
    n: usize,
}

impl Out {
    /// Appends `b`; Err when the list is full.
    fn put(&mut self, b: &[u8]) -> Result<(), ()> {
        self.n += b.len();
        if self.drop {
            return Ok(());
        }
        let mut rest = b;
        while !rest.is_empty() {
            if self.cur.done() {
                return Err(());
            }
            let (base, left) = self.cur.piece();
            let k = left.min(rest.len());
            if !base.is_null() {
                // SAFETY: base has `left` writable bytes (caller's list).
                unsafe { ptr::copy_nonoverlapping(rest.as_ptr(), base, k) };
            }
            self.cur.advance(k);
            rest = &rest[k..];
        }
        Ok(())
    }
}

/// What a window of input did for the line.
struct Scan {
    used: usize,
    ended: bool,
}

/// Runs the line through `win`: copies message bytes out, stops after the
/// line's CR LF. A CR at the window's end is held back (`cr`) until the
/// next byte says whether it ends the line.
fn scan(win: &[u8], cr: &mut bool, out: &mut Out) -> Result<Scan, ()> {
    let mut i = 0;
    if *cr {
        if win.first() == Some(&b'\n') {
            *cr = false;
            return Ok(Scan { used: 1, ended: true });
        }
        *cr = false;
        out.put(b"\r")?;
    }
    while i < win.len() {
        let rest = &win[i..];
        // SAFETY: rest is rest.len() readable bytes.
        let p = unsafe { libc::memchr(rest.as_ptr() as *const c_void, b'\n' as c_int, rest.len()) };
        if p.is_null() {
            if rest.last() == Some(&b'\r') {
                out.put(&rest[..rest.len() - 1])?;
                *cr = true;
            } else {
                out.put(rest)?;
            }
            return Ok(Scan { used: win.len(), ended: false });
        }
        let at = p as usize - rest.as_ptr() as usize;
        if at > 0 && rest[at - 1] == b'\r' {
            out.put(&rest[..at - 1])?;
            return Ok(Scan { used: i + at + 1, ended: true });
        }
        // A bare LF is message text.
        out.put(&rest[..=at])?;
        i += at + 1;
    }
    Ok(Scan { used: win.len(), ended: false })
}

/// Receives one line into the list at `first` (null: drop it); returns the
/// message size.
fn recvl(cx: &Ctx, c: *mut Crlf, t: Token, first: *mut iolist, deadline: i64) -> Result<usize, i32> {
    // SAFETY: live on entry.
    let (flags, u, peek) = unsafe { ((*c).flags, (*c).u, (*c).peek) };
    if flags & INERR != 0 {
        return Err(libc::ECONNRESET);
    }
    if flags & INDONE != 0 {
        return Err(libc::EPIPE);
    }
    if !first.is_null() {
        // SAFETY: the caller's list; find its end for the check.
        let mut last = first;
        unsafe {
            while !(*last).iol_next.is_null() {
                last = (*last).iol_next;
            }
            iol::check(first, last)?;
        }
    }
    if !can_block(cx) {
        return Err(libc::ECANCELED);
    }
    let mut out = Out { cur: Cursor::new(first), drop: first.is_null(), n: 0 };
    let mut cr = false;
    let mut started = false;
    let fail = |e: i32, started: bool| -> Result<usize, i32> {
        if !t.alive(cx) {
            return Err(libc::EBADF);
        }
        // Nothing of the line was taken: a timeout or cancellation loses
        // nothing and the socket stays usable.
        if started || !(e == libc::ETIMEDOUT || e == libc::ECANCELED) {
            // SAFETY: alive.
            unsafe { (*c).flags |= INERR };
        }
        Err(e)
    };
    loop {
        let mut two = [0u8; 2];
        let pv = if peek { hquery(u, bpeek_id()) as *mut BPeek } else { ptr::null_mut() };
        let win: &[u8] = if !pv.is_null() {
            // SAFETY: the stream's own interface.
            match unsafe { ((*pv).fill)(pv, deadline) } {
                Ok((p, n)) => {
                    if !t.alive(cx) {
                        return Err(libc::EBADF);
                    }
                    // SAFETY: the window is n buffered bytes of the stream.
                    unsafe { core::slice::from_raw_parts(p, n) }
                }
                Err(e) => return fail(e, started),
            }
        } else {
            // Never past the line end: it needs two more bytes, or one
            // after a held CR.
            let k = if cr { 1 } else { 2 };
            // SAFETY: two has k writable bytes.
            if unsafe { bsock::brecv(u, two.as_mut_ptr() as *mut c_void, k, deadline) } != 0 {
                return fail(errno::get(), true);
            }
            if !t.alive(cx) {
                return Err(libc::EBADF);
            }
            &two[..k]
        };
        started = true;
        let r = scan(win, &mut cr, &mut out);
        if !pv.is_null() {
            let used = match &r {
                Ok(s) => s.used,
                Err(()) => 0,
            };
            // SAFETY: used <= the window's length.
            unsafe { ((*pv).consume)(pv, used) };
        }
        match r {
            Err(()) => {
                // SAFETY: alive (checked after the wait).
                unsafe { (*c).flags |= INERR };
                return Err(libc::EMSGSIZE);
            }
            Ok(s) if s.ended => {
                if out.n == 0 {
                    // SAFETY: alive.
                    unsafe { (*c).flags |= INDONE };
                    return Err(libc::EPIPE);
                }
                return Ok(out.n);
            }
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds the chunks as windows, line after line: the lines, until one
    /// does not fit.
    fn run(chunks: &[&[u8]], cap: usize) -> Vec<Vec<u8>> {
        let mut res = Vec::new();
        let mut cr = false;
        let mut buf = vec![0u8; cap];
        let mut iol = iolist { iol_base: buf.as_mut_ptr() as *mut c_void, iol_len: cap, iol_next: ptr::null_mut(), iol_rsvd: 0 };
        let mut out = Out { cur: Cursor::new(&mut iol), drop: false, n: 0 };
        for ch in chunks {
            let mut w: &[u8] = ch;
            while !w.is_empty() {
                match scan(w, &mut cr, &mut out) {
                    Err(()) => return res,
                    Ok(s) => {
                        if s.ended {
                            res.push(buf[..out.n].to_vec());
                            iol.iol_base = buf.as_mut_ptr() as *mut c_void;
                            out = Out { cur: Cursor::new(&mut iol), drop: false, n: 0 };
                        }
                        w = &w[s.used..];
                    }
                }
            }
        }
        res
    }

    #[test]
    fn lines_split_anywhere_come_out_whole() {
        let text: &[u8] = b"ab\ncd\r\nx\ry\r\n\r\nrest";
        for cut in 0..text.len() {
            let (a, b) = text.split_at(cut);
            assert_eq!(run(&[a, b], 64), vec![b"ab\ncd".to_vec(), b"x\ry".to_vec(), Vec::new()], "cut at {cut}");
        }
    }

    #[test]
    fn a_line_longer_than_the_buffer_fails() {
        assert!(run(&[b"0123456789\r\n"], 5).is_empty());
        assert_eq!(run(&[b"01234\r\n"], 5), vec![b"01234".to_vec()]);
    }

    #[test]
    fn the_line_end_is_the_last_byte_used() {
        let mut cr = false;
        let mut out = Out { cur: Cursor::new(ptr::null_mut()), drop: true, n: 0 };
        let s = scan(b"abc\r\nAFTER", &mut cr, &mut out).unwrap();
        assert!(s.ended);
        assert_eq!(s.used, 5);
        assert_eq!(out.n, 3);
    }
}
