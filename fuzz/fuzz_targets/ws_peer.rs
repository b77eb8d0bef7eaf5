//! Arbitrary bytes as the peer of a WebSocket: a user-defined byte stream
//! (hmake) whose receive side is the fuzzer's input and whose send side
//! keeps what our socket writes. The first byte picks the side (client or
//! server), the socket type, the HTTP upgrade, mrecv or ws_recvl and the
//! buffer size; messages received are echoed. Whatever the input, the
//! calls must end (the input runs out: EPIPE), nothing may crash or leak,
//! and every frame we write must be well-formed.

#![no_main]

use core::ffi::{c_int, c_void};
use core::ptr;
use dill::core::hvfs::hvfs;
use dill::ffi::handles::{hclose, hmake};
use dill::ffi::msock::mrecv;
use dill::ffi::ws::*;
use dill::proto::ws::{WS_NOHTTP, WS_TEXT};
use dill::net::iol::iolist;
use dill::net::vfs::{bsock_id, bsock_vfs};
use libfuzzer_sys::fuzz_target;

#[repr(C)]
struct Peer {
    hvfs: hvfs,
    bvfs: bsock_vfs,
    input: Vec<u8>,
    pos: usize,
    out: Vec<u8>,
}

fn peer_of(b: *mut bsock_vfs) -> *mut Peer {
    (b as *mut u8).wrapping_sub(core::mem::offset_of!(Peer, bvfs)) as *mut Peer
}

unsafe extern "C" fn query(h: *mut hvfs, t: *const c_void) -> *mut c_void {
    if t == bsock_id() {
        return unsafe { ptr::addr_of_mut!((*(h as *mut Peer)).bvfs) } as *mut c_void;
    }
    unsafe { *libc::__errno_location() = libc::ENOTSUP };
    ptr::null_mut()
}

unsafe extern "C" fn close(_h: *mut hvfs) {}

unsafe extern "C" fn sendl(b: *mut bsock_vfs, first: *mut iolist, _last: *mut iolist, _dl: i64) -> c_int {
    let p = unsafe { &mut *peer_of(b) };
    let mut it = first;
    while !it.is_null() {
        let n = unsafe { &*it };
        if p.out.len() < (4 << 20) {
            p.out.extend_from_slice(unsafe { core::slice::from_raw_parts(n.iol_base as *const u8, n.iol_len) });
        }
        it = n.iol_next;
    }
    0
}

unsafe extern "C" fn recvl(b: *mut bsock_vfs, first: *mut iolist, _last: *mut iolist, _dl: i64) -> c_int {
    let p = unsafe { &mut *peer_of(b) };
    let mut it = first;
    while !it.is_null() {
        let n = unsafe { &*it };
        let left = p.input.len() - p.pos;
        if n.iol_len > left {
            p.pos = p.input.len();
            unsafe { *libc::__errno_location() = libc::EPIPE };
            return -1;
        }
        if !n.iol_base.is_null() {
            unsafe { ptr::copy_nonoverlapping(p.input.as_ptr().add(p.pos), n.iol_base as *mut u8, n.iol_len) };
        }
        p.pos += n.iol_len;
        it = n.iol_next;
    }
    0
}

/// Every frame we wrote is final, unreserved, of a known opcode, masked
/// exactly by a client, and control frames are short.
fn check_output(out: &[u8], server: bool, http: bool) {
    let mut b = out;
    if http {
        let Some(end) = b.windows(4).position(|w| w == b"\r\n\r\n") else {
            assert!(b.is_empty() || !server || b.starts_with(b"HTTP/1.1 "), "bad head {b:?}");
            return;
        };
        b = &b[end + 4..];
    }
    while !b.is_empty() {
        assert!(b.len() >= 2, "cut frame");
        assert_eq!(b[0] & 0xf0, 0x80, "not final or reserved bits");
        let op = b[0] & 15;
        assert!(matches!(op, 1 | 2 | 8 | 9 | 10), "opcode {op}");
        assert_eq!(b[1] & 0x80 != 0, !server, "masking");
        let (len, mut at) = match b[1] & 0x7f {
            126 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
            127 => (u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize, 10),
            n => (n as usize, 2),
        };
        if op >= 8 {
            assert!(len <= 125);
        }
        if !server {
            at += 4;
        }
        assert!(b.len() >= at + len, "cut payload");
        b = &b[at + len..];
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, input)) = data.split_first() else { return };
    let server = sel & 1 != 0;
    let text = sel & 2 != 0;
    let http = sel & 4 != 0;
    let use_mrecv = sel & 8 != 0;
    let bufsize = [0usize, 1, 2, 7, 64, 125, 126, 1000, 4096, 65535, 65536, 70000, 3, 16, 200, 1 << 20][(sel >> 4) as usize];
    let mut peer = Box::new(Peer {
        hvfs: hvfs { query: Some(query), close: Some(close), done: None, refcount: 0 },
        bvfs: bsock_vfs { bsendl: Some(sendl), brecvl: Some(recvl) },
        input: input.to_vec(),
        pos: 0,
        out: Vec::new(),
    });
    let h = unsafe { hmake(&mut peer.hvfs) };
    assert!(h >= 0);
    let flags = (if text { WS_TEXT } else { 0 }) | if http { 0 } else { WS_NOHTTP };
    let mut res = [0i8; 64];
    let mut host = [0i8; 64];
    let s = unsafe {
        if server {
            ws_attach_server(h, flags, res.as_mut_ptr(), res.len(), host.as_mut_ptr(), host.len(), -1)
        } else {
            ws_attach_client(h, flags, c"/r".as_ptr(), c"h".as_ptr(), -1)
        }
    };
    if s < 0 {
        // A failed upgrade closes the stream; nothing else can fail here.
        assert!(http);
        assert_eq!(hclose(h), -1);
        check_output(&peer.out, server, http);
        return;
    }
    let mut buf = vec![0u8; bufsize];
    for _ in 0..10_000 {
        let mut fl: c_int = -1;
        let n = unsafe {
            if use_mrecv {
                mrecv(s, buf.as_mut_ptr() as *mut c_void, buf.len(), -1)
            } else {
                let h2 = buf.len() / 2;
                let mut b = iolist {
                    iol_base: buf.as_mut_ptr().add(h2) as *mut c_void,
                    iol_len: buf.len() - h2,
                    iol_next: ptr::null_mut(),
                    iol_rsvd: 0,
                };
                let mut a = iolist { iol_base: buf.as_mut_ptr() as *mut c_void, iol_len: h2, iol_next: &mut b, iol_rsvd: 0 };
                ws_recvl(s, &mut fl, &mut a, &mut b, -1)
            }
        };
        if n < 0 {
            let e = unsafe { *libc::__errno_location() };
            match e {
                libc::EMSGSIZE => continue,
                libc::EPROTO if use_mrecv => continue,
                libc::EPIPE | libc::ECONNRESET | libc::EPROTO => break,
                _ => panic!("unexpected errno {e}"),
            }
        }
        let n = n as usize;
        assert!(n <= buf.len());
        if !use_mrecv {
            assert!(fl == 0 || fl == WS_TEXT);
            if fl == WS_TEXT {
                assert!(core::str::from_utf8(&buf[..n]).is_ok(), "text that is not UTF-8");
            }
        }
        let t = if use_mrecv { text as c_int } else { fl };
        let rc = unsafe { ws_send(s, t, buf.as_ptr() as *const c_void, n, -1) };
        assert!(rc == 0 || unsafe { *libc::__errno_location() } == libc::EPIPE);
    }
    let u = ws_detach(s, -1);
    if u >= 0 {
        // The same stream; under a new number after an HTTP upgrade.
        assert!(u == h || http);
        assert_eq!(hclose(u), 0);
    } else if !http {
        assert_eq!(hclose(h), -1);
    }
    check_output(&peer.out, server, http);
});
