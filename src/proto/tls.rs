//! TLS over any byte-stream socket (tls_attach_*, tls_detach), with rustls
//! (ring provider).
//!
//! The object lives in TLS_SIZE bytes (caller memory or ours) and owns a
//! heap `State`: the rustls connection and two buffers made at attach and
//! reused for every record. It talks to the socket below only through
//! bsend/brecv on its handle number, so it runs over TCP, IPC or a socket
//! defined in C.
//!
//! Records are read from below exactly: the 5-byte header, then the body it
//! announces. Nothing past the last TLS record is ever taken from the
//! socket, so after tls_detach the bytes that follow the peer's close_notify
//! are still there to read on it.
//!
//! No call into rustls spans a wait: every bsend/brecv below happens between
//! rustls calls, on buffers addressed by raw pointer, and the call checks its
//! liveness token after each before touching the object again (another
//! coroutine may have closed it meanwhile: then EBADF). A close closes the
//! socket below before it frees the buffers, so a wait down there ends with
//! EBADF without writing into them.
//!
//! Errors: EPROTO when the peer's bytes are not TLS records or break the
//! protocol during the handshake; ECONNRESET for everything else TLS
//! refuses (an alert from the peer, a certificate rejected, a record that
//! does not decrypt) and for a socket below that ends without close_notify;
//! EPIPE once the peer's close_notify has been read.

mod config;

use crate::core::ctx::{self, Ctx};
use crate::core::errno;
use crate::core::handles;
use crate::core::hvfs::hvfs;
use crate::core::live::{Life, Token};
use crate::ffi::handles::hquery;
use crate::net::iol::{self, iolist, Cursor};
use crate::net::vfs::{bsock_id, bsock_vfs};
use core::ffi::{c_int, c_void, CStr};
use core::ptr;
use std::io::{BufRead, IoSlice, Write};

pub use config::{CA_ENV, NAME_ENV};

/// Largest record body TLS allows (TLS 1.2: 2^14 plus 2048 of expansion).
const MAX_BODY: usize = 16384 + 2048;
const HDR: usize = 5;
/// Plaintext put into one record when sending.
const CHUNK: usize = 16384;
/// Room for the ciphertext of one CHUNK (TLS 1.2 adds at most 29 bytes to
/// AES-GCM records, TLS 1.3 22); handshake flights may grow the buffer.
const TX_CAP: usize = CHUNK + 256;

const INDONE: u8 = 1;
const OUTDONE: u8 = 2;
const INERR: u8 = 4;
const OUTERR: u8 = 8;

struct State {
    conn: rustls::Connection,
    /// One record as read from below.
    rx: Vec<u8>,
    /// Ciphertext waiting to be sent below.
    tx: Vec<u8>,
    /// INDONE..OUTERR (here, not in the Tls, so that it fits 2.14's storage).
    flags: u8,
    /// The Tls is in caller memory (not ours to free).
    mem: bool,
}

/// 64 bytes, which 2.14's 72-byte storage holds at any address; the
/// session (rustls, its buffers, the flags) is allocated.
#[repr(C)]
pub struct Tls {
    hvfs: hvfs,
    bvfs: bsock_vfs,
    /// The socket below; -1 once detached.
    u: c_int,
    life: Life,
    st: *mut State,
}

/// Bytes of 2.14's TLS storage.
pub const SIZE214: usize = 72;

const _: () = assert!(core::mem::size_of::<Tls>() <= 88, "TLS_SIZE");
const _: () = assert!(core::mem::size_of::<Tls>() + core::mem::align_of::<Tls>() - 1 <= SIZE214);

static TLS_ID: u8 = 0;

/// The type id a TLS socket answers `hquery` with.
pub fn tls_id() -> *const c_void {
    &TLS_ID as *const u8 as *const c_void
}

unsafe extern "C" fn vfs_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    let s = vfs as *mut Tls;
    if t == bsock_id() {
        // SAFETY: vfs is the first field of a live Tls.
        return unsafe { ptr::addr_of_mut!((*s).bvfs) } as *mut c_void;
    }
    if t == tls_id() {
        return s as *mut c_void;
    }
    errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn vfs_close(vfs: *mut hvfs) {
    // An object of this thread exists: so does its context.
    let Ok(cx) = ctx::get() else { return };
    // SAFETY: the last handle of this live object went.
    unsafe { destroy(cx, vfs as *mut Tls) };
}

unsafe extern "C" fn vfs_done(vfs: *mut hvfs, deadline: i64) -> c_int {
    // An object of this thread exists: so does its context.
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    crate::ffi::status(done(cx, vfs as *mut Tls, deadline))
}

fn from_bvfs(b: *mut bsock_vfs) -> *mut Tls {
    (b as *mut u8).wrapping_sub(core::mem::offset_of!(Tls, bvfs)) as *mut Tls
}

unsafe extern "C" fn bvfs_send(b: *mut bsock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    // An object of this thread exists: so does its context.
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    crate::ffi::status(send(cx, from_bvfs(b), first, last, deadline))
}

unsafe extern "C" fn bvfs_recv(b: *mut bsock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    // An object of this thread exists: so does its context.
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    crate::ffi::status(recv(cx, from_bvfs(b), first, last, deadline))
}

/// Frees the object: the socket below first (see the module doc), then the
/// rustls state, then the memory if it is ours.
///
/// # Safety
/// `t` is a live Tls that nobody else will use.
unsafe fn destroy(cx: &Ctx, t: *mut Tls) {
    // SAFETY: per the contract.
    unsafe {
        (*t).life.end(cx);
        if (*t).u >= 0 {
            let _ = handles::close(cx, (*t).u);
        }
        let mem = (*(*t).st).mem;
        free_state((*t).st);
        if !mem {
            libc::free(t as *mut c_void);
        }
    }
}

/// # Safety
/// `st` was made by `new_state` and is not used afterwards.
unsafe fn free_state(st: *mut State) {
    // SAFETY: per the contract.
    unsafe {
        ptr::drop_in_place(st);
        libc::free(st as *mut c_void);
    }
}

fn new_state(conn: rustls::Connection) -> Result<*mut State, i32> {
    let mut rx = Vec::new();
    let mut tx = Vec::new();
    if rx.try_reserve_exact(HDR + MAX_BODY).is_err() || tx.try_reserve_exact(TX_CAP).is_err() {
        return Err(libc::ENOMEM);
    }
    rx.resize(HDR + MAX_BODY, 0);
    // SAFETY: plain allocation, checked below.
    let st = unsafe { libc::malloc(core::mem::size_of::<State>()) as *mut State };
    if st.is_null() {
        return Err(libc::ENOMEM);
    }
    // SAFETY: fresh memory of the right size and alignment (malloc's).
    unsafe { st.write(State { conn, rx, tx, flags: 0, mem: false }) };
    Ok(st)
}

/// Which side of the handshake to play.
pub enum Side<'a> {
    Client,
    Server { cert: &'a CStr, key: &'a CStr },
}

/// tls_attach_*: the handshake over socket `s`, then a new handle for the
/// TLS socket. `mem` is caller memory of TLS_SIZE bytes or null (ours).
/// On failure `s` is closed, as the original does.
pub fn attach(cx: &Ctx, s: c_int, side: Side, mem: *mut c_void, deadline: i64) -> Result<c_int, i32> {
    let r = attach_inner(cx, s, side, mem, deadline);
    if let Err((e, below)) = r {
        if below >= 0 {
            let _ = handles::close(cx, below);
        }
        return Err(e);
    }
    r.map_err(|(e, _)| e)
}

fn attach_inner(cx: &Ctx, s: c_int, side: Side, mem: *mut c_void, deadline: i64) -> Result<c_int, (i32, c_int)> {
    if hquery(s, bsock_id()).is_null() {
        let e = errno::get();
        return Err((if e == libc::ENOTSUP { libc::EPROTO } else { e }, s));
    }
    let conn: rustls::Connection = match side {
        Side::Client => {
            let c = config::client().map_err(|e| (e, s))?;
            rustls::ClientConnection::new(c.config, c.name).map_err(|_| (libc::ENOMEM, s))?.into()
        }
        Side::Server { cert, key } => {
            let c = config::server(cert, key).map_err(|e| (e, s))?;
            rustls::ServerConnection::new(c).map_err(|_| (libc::ENOMEM, s))?.into()
        }
    };
    let mut conn = conn;
    // Our own chunking bounds what rustls buffers.
    conn.set_buffer_limit(None);
    let st = new_state(conn).map_err(|e| (e, s))?;
    let life = match Life::new(cx) {
        Ok(l) => l,
        Err(e) => {
            // SAFETY: made above, never shared.
            unsafe { free_state(st) };
            return Err((e, s));
        }
    };
    let t = if mem.is_null() {
        // SAFETY: plain allocation, checked below.
        unsafe { libc::malloc(core::mem::size_of::<Tls>()) as *mut Tls }
    } else {
        mem as *mut Tls
    };
    if t.is_null() {
        life.end(cx);
        // SAFETY: as above.
        unsafe { free_state(st) };
        return Err((libc::ENOMEM, s));
    }
    // The socket below gets a number of its own and `s` goes, as in the
    // original (programs see the same handle numbers).
    let u = match handles::dup(cx, s) {
        Ok(u) => u,
        Err(e) => {
            // SAFETY: t and st are ours and unshared; t holds nothing yet.
            unsafe {
                (*t).u = -1;
                (*t).life = life;
                (*t).st = st;
                (*st).mem = !mem.is_null();
                destroy(cx, t);
            }
            return Err((e, s));
        }
    };
    let _ = handles::close(cx, s);
    // SAFETY: t has room for a Tls (TLS_SIZE, or our allocation).
    unsafe {
        ptr::addr_of_mut!((*t).hvfs).write(hvfs {
            query: Some(vfs_query),
            close: Some(vfs_close),
            done: Some(vfs_done),
            refcount: 0,
        });
        ptr::addr_of_mut!((*t).bvfs).write(bsock_vfs { bsendl: Some(bvfs_send), brecvl: Some(bvfs_recv) });
        ptr::addr_of_mut!((*t).u).write(u);
        ptr::addr_of_mut!((*t).life).write(life);
        ptr::addr_of_mut!((*t).st).write(st);
        (*st).mem = !mem.is_null();
    }
    let tok = life.token(cx);
    let r = handshake(cx, t, tok, deadline).and_then(|()| handles::make(cx, t as *mut hvfs));
    match r {
        Ok(h) => Ok(h),
        Err(e) => {
            // Nobody else knows t yet: it is still ours to free (and u with it).
            // SAFETY: t is live and unshared.
            unsafe { destroy(cx, t) };
            Err((e, -1))
        }
    }
}

/// Sends what rustls has queued, then the first records of the handshake
/// until it is complete.
fn handshake(cx: &Ctx, t: *mut Tls, tok: Token, deadline: i64) -> Result<(), i32> {
    let mut first = true;
    loop {
        flush(cx, t, tok, deadline)?;
        // SAFETY: t is live (checked by flush after its waits).
        if !unsafe { (*(*t).st).conn.is_handshaking() } {
            return Ok(());
        }
        let n = read_record(cx, t, tok, deadline, first)?;
        first = false;
        if let Err(e) = feed(t, n, true) {
            // Tell the peer why, if it is still listening (rustls queued an alert).
            let _ = flush(cx, t, tok, deadline);
            return Err(e);
        }
    }
}

/// The errno for a TLS failure. `handshake`: still negotiating.
fn tls_errno(e: &rustls::Error, handshake: bool) -> i32 {
    use rustls::Error as E;
    match e {
        E::InvalidMessage(_)
        | E::InappropriateMessage { .. }
        | E::InappropriateHandshakeMessage { .. }
        | E::PeerIncompatible(_)
        | E::PeerMisbehaved(_)
            if handshake =>
        {
            libc::EPROTO
        }
        _ => libc::ECONNRESET,
    }
}

/// Gives the record of `n` bytes in `rx` to rustls.
fn feed(t: *mut Tls, n: usize, handshake: bool) -> Result<(), i32> {
    // SAFETY: t is live (the caller checked its token after the last wait).
    let st = unsafe { &mut *(*t).st };
    let mut rec: &[u8] = st.rx.get(..n).ok_or(libc::EPROTO)?;
    while !rec.is_empty() {
        match st.conn.read_tls(&mut rec) {
            Ok(0) => break, // After close_notify rustls takes no more.
            Ok(_) => {}
            Err(_) => return Err(libc::ECONNRESET),
        }
        if let Err(e) = st.conn.process_new_packets() {
            return Err(tls_errno(&e, handshake));
        }
    }
    Ok(())
}

fn below_recv(u: c_int, p: *mut u8, len: usize, deadline: i64) -> Result<(), i32> {
    // SAFETY: p is `len` writable bytes of a live State (see the module doc
    // for why it stays valid if the object is closed during the wait).
    let rc = unsafe { crate::ffi::bsock::brecv(u, p as *mut c_void, len, deadline) };
    if rc == 0 {
        Ok(())
    } else {
        // A socket below that ends in the middle of TLS: truncated.
        Err(match errno::get() {
            libc::EPIPE => libc::ECONNRESET,
            e => e,
        })
    }
}

fn below_send(u: c_int, p: *const u8, len: usize, deadline: i64) -> Result<(), i32> {
    // SAFETY: as in below_recv, readable bytes.
    let rc = unsafe { crate::ffi::bsock::bsend(u, p as *const c_void, len, deadline) };
    if rc == 0 { Ok(()) } else { Err(errno::get()) }
}

fn check(cx: &Ctx, tok: Token) -> Result<(), i32> {
    if tok.alive(cx) { Ok(()) } else { Err(libc::EBADF) }
}

fn valid_type(b: u8) -> bool {
    // change_cipher_spec, alert, handshake, application_data.
    (20..=23).contains(&b)
}

/// Reads one record from below into `rx`; returns its size. `first`: the
/// peer's first bytes, whose type byte is looked at alone, so that a peer
/// speaking something else is told apart at once instead of waiting for
/// more of its bytes.
fn read_record(cx: &Ctx, t: *mut Tls, tok: Token, deadline: i64, first: bool) -> Result<usize, i32> {
    // SAFETY: t is live (the caller checked).
    let (u, p) = unsafe { ((*t).u, (*(*t).st).rx.as_mut_ptr()) };
    if first {
        let r = below_recv(u, p, 1, deadline);
        check(cx, tok)?;
        r?;
        // SAFETY: rx has HDR + MAX_BODY bytes.
        if !valid_type(unsafe { *p }) {
            return Err(libc::EPROTO);
        }
        // SAFETY: as above.
        let r = below_recv(u, unsafe { p.add(1) }, HDR - 1, deadline);
        check(cx, tok)?;
        r?;
    } else {
        let r = below_recv(u, p, HDR, deadline);
        check(cx, tok)?;
        r?;
    }
    // SAFETY: rx holds the header just read; t is live again.
    let hdr = unsafe { core::slice::from_raw_parts(p, HDR) };
    if !valid_type(hdr[0]) || hdr[1] != 3 {
        return Err(libc::EPROTO);
    }
    let len = u16::from_be_bytes([hdr[3], hdr[4]]) as usize;
    if len > MAX_BODY {
        return Err(libc::EPROTO);
    }
    // SAFETY: HDR + len <= HDR + MAX_BODY bytes of rx.
    let r = below_recv(u, unsafe { p.add(HDR) }, len, deadline);
    check(cx, tok)?;
    r?;
    Ok(HDR + len)
}

/// Sends below whatever rustls has queued.
fn flush(cx: &Ctx, t: *mut Tls, tok: Token, deadline: i64) -> Result<(), i32> {
    loop {
        // SAFETY: t is live (checked on entry by the caller, after each wait here).
        let (u, p, n) = unsafe {
            let st = &mut *(*t).st;
            if !st.conn.wants_write() {
                return Ok(());
            }
            st.tx.clear();
            while st.conn.wants_write() {
                if st.conn.write_tls(&mut st.tx).is_err() {
                    return Err(libc::ENOMEM);
                }
            }
            ((*t).u, st.tx.as_ptr(), st.tx.len())
        };
        // Liveness first: whatever the socket below says, the object may be gone.
        let r = below_send(u, p, n, deadline);
        check(cx, tok)?;
        r?;
    }
}

/// bsendl on a TLS socket. Returns 0 or an errno.
pub fn send(cx: &Ctx, t: *mut Tls, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    // SAFETY: t is live: the caller reached it through a handle.
    let (flags, life) = unsafe { ((*(*t).st).flags, (*t).life) };
    if flags & OUTDONE != 0 {
        return libc::EPIPE;
    }
    if flags & OUTERR != 0 {
        return libc::ECONNRESET;
    }
    // SAFETY: the caller's list (C contract).
    if let Err(e) = unsafe { iol::check(first, last) } {
        return e;
    }
    let tok = life.token(cx);
    match send_list(cx, t, tok, first, deadline) {
        Ok(()) => 0,
        Err(_) if !tok.alive(cx) => libc::EBADF,
        Err(e) => {
            // SAFETY: alive, checked just above.
            unsafe { (*(*t).st).flags |= OUTERR };
            e
        }
    }
}

fn send_list(cx: &Ctx, t: *mut Tls, tok: Token, first: *mut iolist, deadline: i64) -> Result<(), i32> {
    let mut cur = Cursor::new(first);
    while !cur.done() {
        // Up to one record's worth of the list, in as many pieces as it takes.
        let mut sl = [IoSlice::new(&[]); 16];
        let (mut n, mut total) = (0, 0);
        while n < sl.len() && total < CHUNK && !cur.done() {
            let (p, l) = cur.piece();
            let k = l.min(CHUNK - total);
            if p.is_null() {
                return Err(libc::EINVAL);
            }
            // SAFETY: the caller's buffer of at least k bytes (iolist contract).
            sl[n] = IoSlice::new(unsafe { core::slice::from_raw_parts(p, k) });
            n += 1;
            total += k;
            cur.advance(k);
        }
        // SAFETY: t is live (checked after every wait).
        let wrote = unsafe { (*(*t).st).conn.writer().write_vectored(&sl[..n]) };
        if wrote.ok() != Some(total) {
            return Err(libc::ECONNRESET);
        }
        flush(cx, t, tok, deadline)?;
    }
    Ok(())
}

/// brecvl on a TLS socket; a null list drops everything up to the peer's
/// close_notify. Returns 0 or an errno.
pub fn recv(cx: &Ctx, t: *mut Tls, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    // SAFETY: t is live: the caller reached it through a handle.
    let (flags, life) = unsafe { ((*(*t).st).flags, (*t).life) };
    if flags & INDONE != 0 {
        return libc::EPIPE;
    }
    if flags & INERR != 0 {
        return libc::ECONNRESET;
    }
    let drain = first.is_null() && last.is_null();
    if !drain {
        // SAFETY: the caller's list (C contract).
        if let Err(e) = unsafe { iol::check(first, last) } {
            return e;
        }
    }
    let tok = life.token(cx);
    match recv_list(cx, t, tok, first, drain, deadline) {
        Ok(()) => 0,
        Err(_) if !tok.alive(cx) => libc::EBADF,
        Err(e) => {
            // SAFETY: alive, checked just above.
            unsafe { (*(*t).st).flags |= if e == libc::EPIPE { INDONE } else { INERR } };
            e
        }
    }
}

fn recv_list(cx: &Ctx, t: *mut Tls, tok: Token, first: *mut iolist, drain: bool, deadline: i64) -> Result<(), i32> {
    let mut cur = Cursor::new(first);
    loop {
        {
            // SAFETY: t is live (checked after every wait).
            let st = unsafe { &mut *(*t).st };
            let mut rd = st.conn.reader();
            while drain || !cur.done() {
                let k = match rd.fill_buf() {
                    Ok([]) => return Err(libc::EPIPE), // close_notify: the end.
                    Ok(b) if drain => b.len(),
                    Ok(b) => {
                        let (p, l) = cur.piece();
                        let k = l.min(b.len());
                        if !p.is_null() {
                            // SAFETY: the caller's buffer has l >= k bytes; b has k.
                            unsafe { ptr::copy_nonoverlapping(b.as_ptr(), p, k) };
                        }
                        cur.advance(k);
                        k
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => return Err(libc::ECONNRESET),
                };
                rd.consume(k);
            }
            if !drain && cur.done() {
                return Ok(());
            }
        }
        let n = read_record(cx, t, tok, deadline, false)?;
        feed(t, n, false)?;
    }
}

/// hdone on a TLS socket: sends close_notify (the socket below stays open).
pub fn done(cx: &Ctx, t: *mut Tls, deadline: i64) -> i32 {
    // SAFETY: t is live: the caller reached it through a handle.
    let (flags, life) = unsafe { ((*(*t).st).flags, (*t).life) };
    if flags & OUTERR != 0 {
        return libc::ECONNRESET;
    }
    if flags & OUTDONE != 0 {
        return libc::EPIPE;
    }
    let tok = life.token(cx);
    // SAFETY: as above.
    unsafe {
        (*(*t).st).conn.send_close_notify();
        (*(*t).st).flags |= OUTDONE;
    }
    match flush(cx, t, tok, deadline) {
        Ok(()) => 0,
        Err(_) if !tok.alive(cx) => libc::EBADF,
        Err(e) => {
            // SAFETY: alive, checked just above.
            unsafe { (*(*t).st).flags |= OUTERR };
            e
        }
    }
}

/// tls_detach: close_notify both ways, then the socket below is handed back
/// and the TLS socket goes. On failure both are closed, as the original.
pub fn detach(cx: &Ctx, s: c_int, deadline: i64) -> Result<c_int, i32> {
    let t = hquery(s, tls_id()) as *mut Tls;
    if t.is_null() {
        return Err(errno::get());
    }
    // SAFETY: t is live: s names it.
    let tok = unsafe { (*t).life }.token(cx);
    let r = detach_inner(cx, t, tok, deadline);
    if !tok.alive(cx) {
        return Err(libc::EBADF); // Closed by someone else meanwhile.
    }
    if r.is_ok() {
        // SAFETY: alive, checked just above.
        let u = unsafe { core::mem::replace(&mut (*t).u, -1) };
        let _ = handles::close(cx, s);
        return Ok(u);
    }
    let _ = handles::close(cx, s);
    r.map(|()| -1)
}

fn detach_inner(cx: &Ctx, t: *mut Tls, tok: Token, deadline: i64) -> Result<(), i32> {
    // SAFETY: t is live.
    let flags = unsafe { (*(*t).st).flags };
    if flags & (INERR | OUTERR) != 0 {
        return Err(libc::ECONNRESET);
    }
    if flags & OUTDONE == 0 {
        match done(cx, t, deadline) {
            0 => {}
            e => return Err(e),
        }
        check(cx, tok)?;
    }
    // SAFETY: alive (checked above or never waited).
    if unsafe { (*(*t).st).flags } & INDONE == 0 {
        match recv(cx, t, ptr::null_mut(), ptr::null_mut(), deadline) {
            libc::EPIPE => {}
            0 => {}
            e => return Err(e),
        }
    }
    Ok(())
}
