//! Fuzzing entries (feature `fuzz`, used by fuzz/): arbitrary bytes as the
//! peer of a CRLF or HTTP socket. The stream below is an in-memory fake
//! that answers `bsock_type` and, in one mode, our internal `BPeek` with
//! windows of a chosen size, so both of crlf's reading paths run. The CRLF
//! run is checked against a plain model of the framing: the messages, the
//! errors, and the stream position a detach leaves.

use super::{crlf, http};
use crate::core::ctx;
use crate::core::errno;
use crate::core::hvfs::hvfs;
use crate::ffi::handles::hmake;
use crate::net::iol::iolist;
use crate::net::vfs::{bpeek_id, bsock_id, bsock_vfs, BPeek};
use core::ffi::{c_int, c_void};
use core::ptr;

#[repr(C)]
struct Fake {
    hvfs: hvfs,
    bvfs: bsock_vfs,
    pvfs: BPeek,
    peek: bool,
    data: *const u8,
    len: usize,
    pos: usize,
    window: usize,
    closed: bool,
}

unsafe extern "C" fn query(v: *mut hvfs, t: *const c_void) -> *mut c_void {
    let f = v as *mut Fake;
    // SAFETY: v is the first field of a live Fake.
    unsafe {
        if t == bsock_id() {
            return ptr::addr_of_mut!((*f).bvfs) as *mut c_void;
        }
        if t == bpeek_id() && (*f).peek {
            return ptr::addr_of_mut!((*f).pvfs) as *mut c_void;
        }
    }
    errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn close(v: *mut hvfs) {
    // SAFETY: a live Fake.
    unsafe { (*(v as *mut Fake)).closed = true };
}

fn from_b(b: *mut bsock_vfs) -> *mut Fake {
    (b as *mut u8).wrapping_sub(core::mem::offset_of!(Fake, bvfs)) as *mut Fake
}

fn from_p(p: *mut BPeek) -> *mut Fake {
    (p as *mut u8).wrapping_sub(core::mem::offset_of!(Fake, pvfs)) as *mut Fake
}

unsafe extern "C" fn bsendl(_: *mut bsock_vfs, _: *mut iolist, _: *mut iolist, _: i64) -> c_int {
    0
}

unsafe extern "C" fn brecvl(b: *mut bsock_vfs, first: *mut iolist, _: *mut iolist, _: i64) -> c_int {
    // SAFETY: a live Fake; the list is crlf's own, valid.
    unsafe {
        let f = &mut *from_b(b);
        let mut want = 0;
        let mut it = first;
        while !it.is_null() {
            want += (*it).iol_len;
            it = (*it).iol_next;
        }
        if want > f.len - f.pos {
            return errno::fail(libc::EPIPE);
        }
        let mut it = first;
        while !it.is_null() {
            if !(*it).iol_base.is_null() {
                ptr::copy_nonoverlapping(f.data.add(f.pos), (*it).iol_base as *mut u8, (*it).iol_len);
            }
            f.pos += (*it).iol_len;
            it = (*it).iol_next;
        }
    }
    0
}

unsafe fn fill(p: *mut BPeek, _: i64) -> Result<(*const u8, usize), i32> {
    // SAFETY: a live Fake.
    let f = unsafe { &mut *from_p(p) };
    if f.pos >= f.len {
        return Err(libc::EPIPE);
    }
    // SAFETY: pos < len.
    Ok((unsafe { f.data.add(f.pos) }, (f.len - f.pos).min(f.window)))
}

unsafe fn consume(p: *mut BPeek, n: usize) {
    // SAFETY: a live Fake.
    let f = unsafe { &mut *from_p(p) };
    assert!(n <= (f.len - f.pos).min(f.window), "consumed more than the window");
    f.pos += n;
}

/// The first byte picks the mode: bit 0 peek or not, bits 1-7 the window
/// size (peek) and the receive buffer size.
fn fake(data: &[u8]) -> (Box<Fake>, usize, &[u8]) {
    let (mode, rest) = match data.split_first() {
        Some((m, r)) => (*m, r),
        None => (0, data),
    };
    let f = Box::new(Fake {
        hvfs: hvfs { query: Some(query), close: Some(close), done: None, refcount: 0 },
        bvfs: bsock_vfs { bsendl: Some(bsendl), brecvl: Some(brecvl) },
        pvfs: BPeek { fill, consume },
        peek: mode & 1 != 0,
        data: rest.as_ptr(),
        len: rest.len(),
        pos: 0,
        window: 1 + (mode >> 1) as usize % 17,
        closed: false,
    });
    (f, 1 + (mode >> 3) as usize * 4, rest)
}

/// The model: what crlf must make of `input` with a `cap`-byte buffer:
/// the messages; Some(end) if an empty line ends the input's protocol at
/// `end`; whether a complete line before that is too long.
fn model(input: &[u8], cap: usize) -> (Vec<&[u8]>, Option<usize>, bool) {
    let mut msgs = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < input.len() {
        if input[i] == b'\r' && input[i + 1] == b'\n' {
            let line = &input[start..i];
            if line.is_empty() {
                return (msgs, Some(i + 2), false);
            }
            if line.len() > cap {
                return (msgs, None, true);
            }
            msgs.push(line);
            i += 2;
            start = i;
        } else {
            i += 1;
        }
    }
    // The input stops inside a line: EPIPE, or EMSGSIZE if crlf got to
    // see more than fits (that depends on how it read): either is right.
    (msgs, None, false)
}

/// CRLF over arbitrary peer bytes, checked against the model.
pub fn crlf_peer(data: &[u8]) {
    let cx = ctx::ctx();
    let (mut f, cap, input) = fake(data);
    // SAFETY: f lives until after its handle is closed below.
    let s = unsafe { hmake(&mut f.hvfs) };
    assert!(s >= 0);
    let c = crlf::attach(cx, s, ptr::null_mut()).expect("attach");
    let (want, end, too_long) = model(input, cap);
    let mut buf = vec![0u8; cap];
    let mut got = 0;
    let err = loop {
        match crlf::recv(cx, c, &mut buf, -1) {
            Ok(n) => {
                assert!(got < want.len(), "more messages than the model");
                assert_eq!(&buf[..n], want[got], "message {got}");
                got += 1;
            }
            Err(e) => break e,
        }
    };
    assert_eq!(got, want.len(), "fewer messages than the model");
    match (end, too_long) {
        (Some(pos), _) => {
            assert_eq!(err, libc::EPIPE);
            let u = crlf::detach(cx, c, -1).expect("detach after the peer's end");
            // Not one byte past the empty line was taken.
            assert_eq!(f.pos, pos, "detach left the stream at the wrong place");
            assert!(!f.closed);
            assert_eq!(crate::core::handles::close(cx, u), Ok(()));
        }
        (None, true) => {
            assert_eq!(err, libc::EMSGSIZE);
            assert_eq!(crlf::detach(cx, c, -1), Err(libc::ECONNRESET));
        }
        (None, false) => {
            assert!(err == libc::EPIPE || err == libc::EMSGSIZE, "errno {err}");
            assert!(crlf::detach(cx, c, -1).is_err());
        }
    }
    assert!(f.closed);
}

/// HTTP over arbitrary peer bytes: a request or status line, then fields;
/// the results must be well-formed whatever comes.
pub fn http_peer(data: &[u8]) {
    let cx = ctx::ctx();
    let (mut f, cap, _) = fake(data);
    // SAFETY: as in crlf_peer.
    let s = unsafe { hmake(&mut f.hvfs) };
    assert!(s >= 0);
    let h = http::attach(cx, s, ptr::null_mut()).expect("attach");
    let cap = cap.min(300);
    let mut a = vec![0u8; cap];
    let mut b = vec![0u8; cap];
    let cstr = |v: &[u8], n: usize| {
        assert!(n < v.len() && v[n] == 0);
    };
    if data.first().map_or(false, |m| m & 2 != 0) {
        if let Ok((x, y)) = http::recv_request(cx, h, &mut a, &mut b, -1) {
            cstr(&a, x);
            cstr(&b, y);
            assert!(x > 0 && y > 0);
            assert!(!a[..x].contains(&b' ') && !b[..y].contains(&b' '));
        }
    } else if let Ok((code, n)) = http::recv_status(cx, h, &mut a, -1) {
        cstr(&a, n);
        assert!((0..1000).contains(&code));
    }
    for _ in 0..64 {
        match http::recv_field(cx, h, &mut a, &mut b, -1) {
            Ok((x, y)) => {
                cstr(&a, x);
                cstr(&b, y);
                assert!(x > 0 && !a[..x].iter().any(|&c| c == b' ' || c == b'\t'));
                let v = &b[..y];
                assert!(v.first().map_or(true, |&c| c != b' ' && c != b'\t'));
                assert!(v.last().map_or(true, |&c| c != b' ' && c != b'\t'));
            }
            Err(libc::EPROTO) | Err(libc::EMSGSIZE) => {}
            Err(_) => break,
        }
    }
    match http::detach(cx, h, -1) {
        Ok(u) => {
            assert!(!f.closed);
            assert_eq!(crate::core::handles::close(cx, u), Ok(()));
        }
        Err(_) => {}
    }
    assert!(f.closed);
}

#[cfg(test)]
mod tests {
    /// Each input that a fuzz run found a fault with, kept as a test.
    const CRLF: &[&[u8]] = &[b"\x01ab\r\n\r\nrest", b"\x00ab\r\ncd\r", b"\xffxx\r\r\n\r\n", b"\x01\r", b""];
    const HTTP: &[&[u8]] = &[b"\x02GET / HTTP/1.1\r\nA: b\r\n\r\n", b"\x01HTTP/1.1 200 OK\r\nX:\r\n\r\n", b""];

    #[test]
    fn regressions() {
        for d in CRLF {
            super::crlf_peer(d);
        }
        for d in HTTP {
            super::http_peer(d);
        }
    }
}
