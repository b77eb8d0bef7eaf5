//! HTTP/1.1 request and response heads (RFC 7230) over CRLF: a request or
//! status line, then fields, then the empty line (hdone sends it; the
//! peer's ends http_recvfield with EPIPE). The body, or whatever follows,
//! is for the stream http_detach gives back.
//!
//! The object lives in HTTP_SIZE bytes: its CRLF socket is built in its
//! own memory, and received lines land in its line buffer, from which they
//! are parsed and copied out (a line too long for it is EMSGSIZE, as the
//! original's 1023-byte limit).
//!
//! Rust callers (ws) use the functions below with handle numbers; the
//! received strings are written NUL-terminated and their lengths returned.

use super::crlf;
use crate::core::ctx::{self, Ctx};
use crate::core::errno;
use crate::core::handles;
use crate::core::hvfs::hvfs;
use crate::core::live::{Life, Token};
use core::ffi::{c_int, c_void};
use core::ptr;

/// Longest line received, as the original (1024 bytes with its NUL).
const LINE: usize = 1023;

const DETACHED: u8 = 1;

#[repr(C)]
pub struct Http {
    hvfs: hvfs,
    /// Memory of the CRLF socket below.
    crlf_mem: crlf::Mem,
    /// Its handle.
    c: c_int,
    life: Life,
    flags: u8,
    mem: bool,
    line: [u8; LINE],
}

const _: () = assert!(core::mem::size_of::<Http>() <= 1136);

static HTTP_ID: u8 = 0;

unsafe extern "C" fn vfs_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    if t == &HTTP_ID as *const u8 as *const c_void {
        return vfs as *mut c_void;
    }
    errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn vfs_close(vfs: *mut hvfs) {
    let cx = ctx::ctx();
    let o = vfs as *mut Http;
    // SAFETY: a live Http whose last handle went; nothing uses it after.
    unsafe {
        (*o).life.end(cx);
        if (*o).flags & DETACHED == 0 {
            let _ = handles::close(cx, (*o).c);
        }
        if !(*o).mem {
            libc::free(o as *mut c_void);
        }
    }
}

unsafe extern "C" fn vfs_done(vfs: *mut hvfs, deadline: i64) -> c_int {
    let cx = ctx::ctx();
    // SAFETY: a live Http (a handle names it).
    let c = unsafe { (*(vfs as *mut Http)).c };
    crate::ffi::status(match crlf::done(cx, c, deadline) {
        Ok(()) => 0,
        Err(e) => e,
    })
}

/// The HTTP object named by `h`: EBADF, or ENOTSUP for another kind.
fn get(cx: &Ctx, h: c_int) -> Result<(*mut Http, Token), i32> {
    let vfs = cx.handles().get(h).ok_or(libc::EBADF)?;
    // SAFETY: vfs is live: h names it.
    match unsafe { (*vfs).query } {
        Some(f) if ptr::fn_addr_eq(f, vfs_query as unsafe extern "C" fn(_, _) -> _) => {
            let o = vfs as *mut Http;
            // SAFETY: live.
            Ok((o, unsafe { (*o).life.token(cx) }))
        }
        _ => Err(libc::ENOTSUP),
    }
}

/// http_attach(_mem): an HTTP socket over byte stream `s`, in `mem`
/// (HTTP_SIZE bytes, aligned for `Http`) or allocated if null.
pub fn attach(cx: &Ctx, s: c_int, mem: *mut c_void) -> Result<c_int, i32> {
    let o = if mem.is_null() {
        // SAFETY: plain allocation, checked below.
        unsafe { libc::malloc(core::mem::size_of::<Http>()) as *mut Http }
    } else {
        mem as *mut Http
    };
    if o.is_null() {
        return Err(libc::ENOMEM);
    }
    let release = move || {
        if mem.is_null() {
            // SAFETY: allocated above, referenced nowhere.
            unsafe { libc::free(o as *mut c_void) };
        }
    };
    let life = Life::new(cx).inspect_err(|_| release())?;
    // SAFETY: o has room for an Http; the line buffer needs no init. The
    // CRLF socket is not there yet (c = -1): nothing can reach the object
    // before this function returns.
    unsafe {
        ptr::addr_of_mut!((*o).hvfs).write(hvfs {
            query: Some(vfs_query),
            close: Some(vfs_close),
            done: Some(vfs_done),
            refcount: 0,
        });
        (*o).c = -1;
        (*o).life = life;
        (*o).flags = 0;
        (*o).mem = !mem.is_null();
    }
    // Numbers come out in the original's order: ours, then the stream's
    // (taken twice over: by us, then by the CRLF socket), then CRLF's.
    let fail = |e: i32| {
        life.end(cx);
        release();
        Err(e)
    };
    let h = match handles::make(cx, o as *mut hvfs) {
        Ok(h) => h,
        Err(e) => return fail(e),
    };
    let taken = match super::Taken::take(cx, s) {
        Ok(t) => t,
        Err(e) => {
            cx.handles().remove(h);
            return fail(e);
        }
    };
    // SAFETY: the CRLF memory is inside the object.
    match crlf::attach(cx, taken.new, unsafe { ptr::addr_of_mut!((*o).crlf_mem) } as *mut c_void) {
        Ok(c) => {
            // SAFETY: o is ours until we return.
            unsafe { (*o).c = c };
            taken.commit(cx);
            Ok(h)
        }
        Err(e) => {
            taken.abandon(cx);
            cx.handles().remove(h);
            fail(e)
        }
    }
}

/// http_detach: ends the CRLF protocol below and returns the stream. On
/// failure everything is closed.
pub fn detach(cx: &Ctx, h: c_int, deadline: i64) -> Result<c_int, i32> {
    let (o, t) = get(cx, h)?;
    // SAFETY: live.
    let c = unsafe { (*o).c };
    let r = crlf::detach(cx, c, deadline);
    if !t.alive(cx) {
        return Err(libc::EBADF);
    }
    // The CRLF socket is gone either way (detached or closed).
    // SAFETY: alive.
    unsafe { (*o).flags |= DETACHED };
    super::retire(cx, h);
    r
}

/// hdone on the HTTP socket: the empty line that ends our head.
pub fn done(cx: &Ctx, h: c_int, deadline: i64) -> Result<(), i32> {
    let (o, _) = get(cx, h)?;
    // SAFETY: live.
    crlf::done(cx, unsafe { (*o).c }, deadline)
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Visible characters (and anything non-ASCII): no spaces, no controls.
fn is_word(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| b > b' ' && b != 0x7f)
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_ows(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_ows(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// Line text: no CR or LF.
fn is_text(s: &[u8]) -> bool {
    !s.iter().any(|&b| b == b'\r' || b == b'\n')
}

/// Sends the request line `command resource HTTP/1.1`.
pub fn send_request(cx: &Ctx, h: c_int, command: &[u8], resource: &[u8], deadline: i64) -> Result<(), i32> {
    let (o, _) = get(cx, h)?;
    if !is_word(command) || !is_word(resource) {
        return Err(libc::EINVAL);
    }
    // SAFETY: live.
    let c = unsafe { (*o).c };
    crlf::send_parts(cx, c, &[command, b" ", resource, b" HTTP/1.1"], deadline)
}

/// Sends the status line `HTTP/1.1 status reason` (status 100 to 599).
pub fn send_status(cx: &Ctx, h: c_int, status: c_int, reason: &[u8], deadline: i64) -> Result<(), i32> {
    let (o, _) = get(cx, h)?;
    if !(100..=599).contains(&status) || !is_text(reason) {
        return Err(libc::EINVAL);
    }
    let st = status as u32;
    let digits = [b'0' + (st / 100) as u8, b'0' + (st / 10 % 10) as u8, b'0' + (st % 10) as u8];
    // SAFETY: live.
    let c = unsafe { (*o).c };
    crlf::send_parts(cx, c, &[b"HTTP/1.1 ", &digits, b" ", reason], deadline)
}

/// Sends the field `name: value` (the value without surrounding blanks).
pub fn send_field(cx: &Ctx, h: c_int, name: &[u8], value: &[u8], deadline: i64) -> Result<(), i32> {
    let (o, _) = get(cx, h)?;
    let value = trim(value);
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) || !is_text(value) {
        return Err(libc::EINVAL);
    }
    // SAFETY: live.
    let c = unsafe { (*o).c };
    if value.is_empty() {
        crlf::send_parts(cx, c, &[name, b":"], deadline)
    } else {
        crlf::send_parts(cx, c, &[name, b": ", value], deadline)
    }
}

/// Receives one line into the object's buffer; its length.
fn recv_line(cx: &Ctx, o: *mut Http, t: Token, deadline: i64) -> Result<usize, i32> {
    // SAFETY: live on entry; the buffer is the object's own.
    let (c, buf) = unsafe { ((*o).c, core::slice::from_raw_parts_mut(ptr::addr_of_mut!((*o).line) as *mut u8, LINE)) };
    let r = crlf::recv(cx, c, buf, deadline);
    if !t.alive(cx) {
        return Err(libc::EBADF);
    }
    r
}

/// Copies `s` with a NUL into `out`: EMSGSIZE if there is no room.
fn put(out: &mut [u8], s: &[u8]) -> Result<usize, i32> {
    if s.len() >= out.len() {
        return Err(libc::EMSGSIZE);
    }
    out[..s.len()].copy_from_slice(s);
    out[s.len()] = 0;
    Ok(s.len())
}

fn http_version(v: &[u8]) -> bool {
    v == b"HTTP/1.1" || v == b"HTTP/1.0"
}

/// The request line's three parts, split at runs of spaces.
fn parse_request(line: &[u8]) -> Result<(&[u8], &[u8]), i32> {
    let mut parts = line.split(|&b| b == b' ').filter(|p| !p.is_empty());
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(cmd), Some(res), Some(ver), None) if http_version(ver) && is_word(cmd) && is_word(res) => Ok((cmd, res)),
        _ => Err(libc::EPROTO),
    }
}

/// The status line: code and reason (leading spaces skipped).
fn parse_status(line: &[u8]) -> Result<(c_int, &[u8]), i32> {
    let sp = line.iter().position(|&b| b == b' ').ok_or(libc::EPROTO)?;
    if !http_version(&line[..sp]) {
        return Err(libc::EPROTO);
    }
    let mut rest = &line[sp..];
    while let [b' ', r @ ..] = rest {
        rest = r;
    }
    let (code, reason) = match rest {
        [a, b, c] => ([*a, *b, *c], &rest[3..]),
        [a, b, c, b' ', ..] => ([*a, *b, *c], &rest[4..]),
        _ => return Err(libc::EPROTO),
    };
    if !code.iter().all(|d| d.is_ascii_digit()) {
        return Err(libc::EPROTO);
    }
    let mut reason = reason;
    while let [b' ', r @ ..] = reason {
        reason = r;
    }
    let n = code.iter().fold(0, |n, d| n * 10 + (d - b'0') as c_int);
    Ok((n, reason))
}

/// A field line: name (a word) and value, without surrounding blanks.
fn parse_field(line: &[u8]) -> Result<(&[u8], &[u8]), i32> {
    let colon = line.iter().position(|&b| b == b':').ok_or(libc::EPROTO)?;
    let name = trim(&line[..colon]);
    if name.is_empty() || name.iter().any(|&b| is_ows(b)) {
        return Err(libc::EPROTO);
    }
    Ok((name, trim(&line[colon + 1..])))
}

/// Receives the request line; returns the lengths of command and resource.
pub fn recv_request(cx: &Ctx, h: c_int, command: &mut [u8], resource: &mut [u8], deadline: i64) -> Result<(usize, usize), i32> {
    let (o, t) = get(cx, h)?;
    let n = recv_line(cx, o, t, deadline)?;
    // SAFETY: alive (recv_line checked); n <= LINE.
    let line = unsafe { &(&(*o).line)[..n] };
    let (cmd, res) = parse_request(line)?;
    if cmd.len() >= command.len() || res.len() >= resource.len() {
        return Err(libc::EMSGSIZE);
    }
    Ok((put(command, cmd)?, put(resource, res)?))
}

/// Receives the status line; returns the status code and the reason's
/// length.
pub fn recv_status(cx: &Ctx, h: c_int, reason: &mut [u8], deadline: i64) -> Result<(c_int, usize), i32> {
    let (o, t) = get(cx, h)?;
    let n = recv_line(cx, o, t, deadline)?;
    // SAFETY: alive (recv_line checked); n <= LINE.
    let line = unsafe { &(&(*o).line)[..n] };
    let (code, text) = parse_status(line)?;
    Ok((code, put(reason, text)?))
}

/// Receives a field; returns the lengths of name and value. EPIPE after
/// the last one.
pub fn recv_field(cx: &Ctx, h: c_int, name: &mut [u8], value: &mut [u8], deadline: i64) -> Result<(usize, usize), i32> {
    let (o, t) = get(cx, h)?;
    let n = recv_line(cx, o, t, deadline)?;
    // SAFETY: alive (recv_line checked); n <= LINE.
    let line = unsafe { &(&(*o).line)[..n] };
    let (nm, val) = parse_field(line)?;
    if nm.len() >= name.len() || val.len() >= value.len() {
        return Err(libc::EMSGSIZE);
    }
    Ok((put(name, nm)?, put(value, val)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert_eq!(parse_request(b"GET /a HTTP/1.1"), Ok((&b"GET"[..], &b"/a"[..])));
        assert_eq!(parse_request(b"  GET   /a  HTTP/1.0 "), Ok((&b"GET"[..], &b"/a"[..])));
        for bad in [&b"GET /a"[..], b"GET", b"GET /a HTTP/2", b"GET /a HTTP/1.1 x", b"GET\t/a\tHTTP/1.1", b""] {
            assert_eq!(parse_request(bad), Err(libc::EPROTO), "{:?}", bad);
        }
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"HTTP/1.1 200 OK"), Ok((200, &b"OK"[..])));
        assert_eq!(parse_status(b"HTTP/1.0 404  Not found "), Ok((404, &b"Not found "[..])));
        assert_eq!(parse_status(b"HTTP/1.1 204"), Ok((204, &b""[..])));
        assert_eq!(parse_status(b"HTTP/1.1  099 x"), Ok((99, &b"x"[..])));
        for bad in [&b"HTTP/1.1 2000 OK"[..], b"HTTP/1.1 20 OK", b"HTTP/1.1 2x0 OK", b"HTTP/2 200 OK", b"FOO", b"HTTP/1.1"] {
            assert_eq!(parse_status(bad), Err(libc::EPROTO), "{:?}", bad);
        }
    }

    #[test]
    fn fields() {
        assert_eq!(parse_field(b"Host: x.org"), Ok((&b"Host"[..], &b"x.org"[..])));
        assert_eq!(parse_field(b" Host :\t x.org \t"), Ok((&b"Host"[..], &b"x.org"[..])));
        assert_eq!(parse_field(b"Host:"), Ok((&b"Host"[..], &b""[..])));
        assert_eq!(parse_field(b"A: b: c"), Ok((&b"A"[..], &b"b: c"[..])));
        for bad in [&b"Host x.org"[..], b"Ho st: x", b": x", b""] {
            assert_eq!(parse_field(bad), Err(libc::EPROTO), "{:?}", bad);
        }
    }

    #[test]
    fn output_needs_room_for_the_nul() {
        let mut b = [0u8; 3];
        assert_eq!(put(&mut b, b"abc"), Err(libc::EMSGSIZE));
        assert_eq!(put(&mut b, b"ab"), Ok(2));
        assert_eq!(&b, b"ab\0");
    }
}
