//! The TLS attach path fed by a fake peer: a byte-stream socket made with
//! hmake whose receive side serves the fuzzer's bytes (in pieces whose
//! sizes the input also chooses) and whose send side swallows everything.
//! Byte 0 picks the side: even, we are the server; odd, the client. After
//! a handshake that succeeds, the rest is read as data and the socket
//! detached. Whatever the bytes, every call must end in a value or -1 and
//! an errno: no panic (it would abort), no hang, no leak.
//!
//! Run: DILL_TEST_CERTS=$PWD/../build/certs cargo +nightly fuzz run tls_attach
//! (`make build/certs/stamp` at the top makes the certificates).
#![no_main]

use core::ffi::{c_int, c_void};
use dill::core::hvfs::hvfs;
use dill::net::iol::iolist;
use dill::net::vfs::{bsock_id, bsock_vfs};
use libfuzzer_sys::fuzz_target;
use std::ffi::CString;

#[repr(C)]
struct Peer {
    hvfs: hvfs,
    bvfs: bsock_vfs,
    data: Vec<u8>,
    pos: usize,
    /// Bytes served per receive call at most (1..=256), from the input.
    piece: usize,
    closed: bool,
}

unsafe extern "C" fn query(v: *mut hvfs, t: *const c_void) -> *mut c_void {
    if t == bsock_id() {
        return unsafe { &mut (*(v as *mut Peer)).bvfs } as *mut bsock_vfs as *mut c_void;
    }
    unsafe { *libc::__errno_location() = libc::ENOTSUP };
    core::ptr::null_mut()
}

unsafe extern "C" fn close(v: *mut hvfs) {
    unsafe { (*(v as *mut Peer)).closed = true };
}

fn peer(b: *mut bsock_vfs) -> *mut Peer {
    (b as *mut u8).wrapping_sub(core::mem::offset_of!(Peer, bvfs)) as *mut Peer
}

unsafe extern "C" fn send(_b: *mut bsock_vfs, _f: *mut iolist, _l: *mut iolist, _d: i64) -> c_int {
    0
}

unsafe extern "C" fn recv(b: *mut bsock_vfs, mut it: *mut iolist, _l: *mut iolist, _d: i64) -> c_int {
    let p = unsafe { &mut *peer(b) };
    while !it.is_null() {
        let (base, len) = unsafe { ((*it).iol_base as *mut u8, (*it).iol_len) };
        let mut done = 0;
        while done < len {
            let k = (len - done).min(p.piece).min(p.data.len() - p.pos);
            if k == 0 {
                unsafe { *libc::__errno_location() = libc::EPIPE };
                return -1;
            }
            if !base.is_null() {
                unsafe { core::ptr::copy_nonoverlapping(p.data.as_ptr().add(p.pos), base.add(done), k) };
            }
            p.pos += k;
            done += k;
        }
        it = unsafe { (*it).iol_next };
    }
    0
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else { return };
    let Some((&piece, rest)) = rest.split_first() else { return };
    let dir = std::env::var("DILL_TEST_CERTS").expect("DILL_TEST_CERTS names the test certificates");
    let cert = CString::new(format!("{dir}/ec.pem")).unwrap();
    let key = CString::new(format!("{dir}/ec.key")).unwrap();
    let mut p = Box::new(Peer {
        hvfs: hvfs { query: Some(query), close: Some(close), done: None, refcount: 0 },
        bvfs: bsock_vfs { bsendl: Some(send), brecvl: Some(recv) },
        data: rest.to_vec(),
        pos: 0,
        piece: piece as usize + 1,
        closed: false,
    });
    unsafe {
        let h = dill::ffi::handles::hmake(&mut p.hvfs);
        assert!(h >= 0);
        let s = if mode & 1 == 0 {
            dill::ffi::tls::tls_attach_server(h, cert.as_ptr(), key.as_ptr(), -1)
        } else {
            dill::ffi::tls::tls_attach_client(h, -1)
        };
        if s >= 0 {
            let mut buf = [0u8; 512];
            while dill::ffi::bsock::brecv(s, buf.as_mut_ptr() as *mut c_void, buf.len(), -1) == 0 {}
            let u = dill::ffi::tls::tls_detach(s, -1);
            if u >= 0 {
                assert_eq!(dill::ffi::handles::hclose(u), 0);
            }
        } else {
            let e = *libc::__errno_location();
            assert!([libc::EPROTO, libc::ECONNRESET, libc::ENOMEM].contains(&e), "errno {e}");
        }
    }
    // Either way the fake socket was closed with the TLS one.
    assert!(p.closed);
});
