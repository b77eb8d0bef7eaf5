//! SUFFIX (2.14): messages over a byte stream, each ended by a fixed
//! sequence of 1 to 32 bytes. Receiving reads byte by byte through a window
//! the suffix's length, so nothing past a message's end is taken from the
//! stream; `suffix_detach` gives the stream back as it is.
//!
//! Like the other protocols, the object owns the socket below (a private
//! number of it), reaches it only through the byte-stream calls, and every
//! call that waited checks its `Life` token before touching the object.

use crate::core::ctx::Ctx;
use crate::core::handles;
use crate::ffi::bsock;
use crate::net::iol::iolist;
use crate::net::vfs::{bsock_id, msock_vfs};
use crate::proto::msgsock::{self, Head, Kind};
use core::ffi::{c_int, c_void};
use core::ptr;

/// The longest suffix.
pub const MAX: usize = 32;

/// `Head::flags` bits.
const INERR: u8 = 1;
const OUTERR: u8 = 2;

#[repr(C)]
pub struct Suffix {
    head: Head,
    len: u8,
    suffix: [u8; MAX],
}

static SUFFIX_ID: u8 = 0;

/// The type id our SUFFIX sockets answer `hquery` with.
pub fn suffix_id() -> *const c_void {
    &SUFFIX_ID as *const u8 as *const c_void
}

msgsock::glue!(Suffix, suffix_id);

/// Our SUFFIX object behind handle `h`: EBADF, or ENOTSUP for another kind.
pub fn get(cx: &Ctx, h: c_int) -> Result<*mut Suffix, i32> {
    msgsock::get(cx, h, vfs_query).map(|p| p as *mut Suffix)
}

/// suffix_attach(_mem): a SUFFIX socket on byte stream `s` with `suffix`
/// (1 to MAX bytes), in `mem` (aligned, room for a Suffix) or allocated if
/// null. On failure `s` is closed, as the original does.
pub fn attach(cx: &Ctx, s: c_int, suffix: &[u8], mem: *mut c_void) -> Result<c_int, i32> {
    if suffix.is_empty() || suffix.len() > MAX {
        let _ = handles::close(cx, s);
        return Err(libc::EINVAL);
    }
    let kind = Kind { query: vfs_query, send: mvfs_send, recv: mvfs_recv, below: bsock_id(), close: msgsock::close };
    msgsock::attach(cx, s, mem, core::mem::size_of::<Suffix>(), &kind, |h| {
        let p = h as *mut Suffix;
        let mut buf = [0u8; MAX];
        buf[..suffix.len()].copy_from_slice(suffix);
        // SAFETY: the object's tail, ours to write.
        unsafe {
            ptr::addr_of_mut!((*p).len).write(suffix.len() as u8);
            ptr::addr_of_mut!((*p).suffix).write(buf);
        }
    })
}

/// msendl: the caller's pieces, then the suffix, in one call below.
///
/// # Safety
/// `p` is a live Suffix; the list is the caller's (valid if well formed).
unsafe fn send(cx: &Ctx, p: *mut Suffix, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    let h = p as *mut Head;
    // SAFETY: p is live; the list is the caller's.
    let token = match unsafe { msgsock::begin(cx, h, first, last, false, OUTERR) } {
        Ok((_, token)) => token,
        Err(e) => return e,
    };
    // SAFETY: p is live until the call below; the token says after.
    let (u, len, mut sfx) = unsafe { ((*p).head.u, (*p).len as usize, (*p).suffix) };
    let mut tail = iolist { iol_base: sfx.as_mut_ptr() as *mut c_void, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    // SAFETY: last ends the checked list; it is restored right after.
    let e = unsafe {
        (*last).iol_next = &mut tail;
        let e = bsock::io(cx, u, first, &mut tail, deadline, true);
        (*last).iol_next = ptr::null_mut();
        e
    };
    match e {
        0 => 0,
        // SAFETY: p was live when the token was taken.
        e => unsafe { msgsock::broke(cx, token, h, OUTERR, e) },
    }
}

/// mrecvl: the bytes up to the next suffix into the list; returns how many.
/// EMSGSIZE (and the receiving side broken) if they do not fit.
///
/// # Safety
/// `p` is a live Suffix; the list is the caller's (valid if well formed).
unsafe fn recv(cx: &Ctx, p: *mut Suffix, first: *mut iolist, last: *mut iolist, deadline: i64) -> Result<usize, i32> {
    let h = p as *mut Head;
    let none = first.is_null() && last.is_null();
    // SAFETY: p is live; the list is the caller's.
    let (_, token) = unsafe { msgsock::begin(cx, h, first, last, true, INERR) }?;
    // SAFETY: p is live until the first wait; the token says after.
    let (u, len, sfx) = unsafe { ((*p).head.u, (*p).len as usize, (*p).suffix) };
    // SAFETY: p was live when the token was taken.
    let fail = |e: i32| Err(unsafe { msgsock::broke(cx, token, h, INERR, e) });
    let mut win = [0u8; MAX];
    let read = |at: usize, n: usize, win: &mut [u8; MAX]| {
        let mut one = iolist { iol_base: win[at..].as_mut_ptr() as *mut c_void, iol_len: n, iol_next: ptr::null_mut(), iol_rsvd: 0 };
        bsock::io(cx, u, &mut one, &mut one, deadline, false)
    };
    let e = read(0, len, &mut win);
    if e != 0 {
        return fail(e);
    }
    // Where the next byte of the message goes: (piece, offset in it).
    let mut piece = first;
    let mut off = 0usize;
    let mut n = 0usize;
    while win[..len] != sfx[..len] {
        // SAFETY: pieces of the checked list; skips for NULL bases; a
        // null list drops the message.
        unsafe {
            while !none && !piece.is_null() && off == (*piece).iol_len {
                piece = (*piece).iol_next;
                off = 0;
            }
            if piece.is_null() && !none {
                return fail(libc::EMSGSIZE);
            }
            if !none && !(*piece).iol_base.is_null() {
                *((*piece).iol_base as *mut u8).add(off) = win[0];
            }
        }
        off += 1;
        n += 1;
        win.copy_within(1..len, 0);
        let e = read(len - 1, 1, &mut win);
        if e != 0 {
            return fail(e);
        }
    }
    if !token.alive(cx) {
        return Err(libc::EBADF);
    }
    Ok(n)
}

/// suffix_detach: the socket below back (ECONNRESET, and all closed, if
/// a direction broke).
pub fn detach(cx: &Ctx, h: c_int) -> Result<c_int, i32> {
    let p = get(cx, h)?;
    // SAFETY: h names the live Suffix p.
    if unsafe { (*p).head.flags } & (INERR | OUTERR) != 0 {
        let _ = handles::close(cx, h);
        return Err(libc::ECONNRESET);
    }
    // SAFETY: h names the live Suffix p.
    Ok(unsafe { msgsock::release(cx, h, p as *mut Head) })
}
