//! PREFIX (2.14): messages over a byte stream, each preceded by its size in
//! a header of 1 to 8 bytes, big- or little-endian. There is no closing
//! handshake: `prefix_detach` gives the stream back as it is. A message too
//! large for the header fails to send (EMSGSIZE) rather than being cut.

use crate::core::ctx::Ctx;
use crate::core::handles;
use crate::ffi::bsock;
use crate::net::iol::iolist;
use crate::net::vfs::{bsock_id, msock_vfs};
use crate::proto::msgsock::{self, Head, Kind};
use core::ffi::{c_int, c_void};
use core::ptr;

/// The longest header.
pub const MAX: usize = 8;

/// `Head::flags` bits.
const INERR: u8 = 1;
const OUTERR: u8 = 2;
const LITTLE: u8 = 4;

#[repr(C)]
pub struct Prefix {
    head: Head,
    hdrlen: u8,
}

static PREFIX_ID: u8 = 0;

/// The type id our PREFIX sockets answer `hquery` with.
pub fn prefix_id() -> *const c_void {
    &PREFIX_ID as *const u8 as *const c_void
}

msgsock::glue!(Prefix, prefix_id);

/// prefix_attach(_mem): a PREFIX socket on byte stream `s` with headers of
/// `hdrlen` bytes (1 to MAX), little-endian if `little`; in `mem`
/// (aligned, room for a Prefix) or allocated if null. On failure `s` is
/// closed, as the original does.
pub fn attach(cx: &Ctx, s: c_int, hdrlen: usize, little: bool, mem: *mut c_void) -> Result<c_int, i32> {
    if hdrlen == 0 || hdrlen > MAX {
        let _ = handles::close(cx, s);
        return Err(libc::EINVAL);
    }
    let kind = Kind { query: vfs_query, send: mvfs_send, recv: mvfs_recv, below: bsock_id(), close: msgsock::close };
    msgsock::attach(cx, s, mem, core::mem::size_of::<Prefix>(), &kind, |h| {
        let p = h as *mut Prefix;
        // SAFETY: the object's tail and flags, ours to write.
        unsafe {
            ptr::addr_of_mut!((*p).hdrlen).write(hdrlen as u8);
            if little {
                (*h).flags |= LITTLE;
            }
        }
    })
}

/// The header for a message of `size` bytes (None if it does not fit).
fn encode(size: usize, hdrlen: usize, little: bool) -> Option<[u8; MAX]> {
    if hdrlen < MAX && (size as u64) >> (8 * hdrlen) != 0 {
        return None;
    }
    let be = (size as u64).to_be_bytes();
    let mut h = [0u8; MAX];
    h[..hdrlen].copy_from_slice(&be[MAX - hdrlen..]);
    if little {
        h[..hdrlen].reverse();
    }
    Some(h)
}

/// The size a header says.
fn decode(h: &[u8], little: bool) -> u64 {
    let mut be = [0u8; MAX];
    be[MAX - h.len()..].copy_from_slice(h);
    if little {
        be[MAX - h.len()..].reverse();
    }
    u64::from_be_bytes(be)
}

/// msendl: the header, then the caller's pieces, in one call below.
///
/// # Safety
/// `p` is a live Prefix; the list is the caller's (valid if well formed).
unsafe fn send(cx: &Ctx, p: *mut Prefix, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    let h = p as *mut Head;
    // SAFETY: p is live; the list is the caller's.
    let (size, token) = match unsafe { msgsock::begin(cx, h, first, last, false, OUTERR) } {
        Ok(v) => v,
        Err(e) => return e,
    };
    // SAFETY: p is live until the call below; the token says after.
    let (flags, u, hdrlen) = unsafe { ((*p).head.flags, (*p).head.u, (*p).hdrlen as usize) };
    let Some(mut hdr) = encode(size, hdrlen, flags & LITTLE != 0) else { return libc::EMSGSIZE };
    let mut head = iolist { iol_base: hdr.as_mut_ptr() as *mut c_void, iol_len: hdrlen, iol_next: first, iol_rsvd: 0 };
    match bsock::io(cx, u, &mut head, last, deadline, true) {
        0 => 0,
        // SAFETY: p was live when the token was taken.
        e => unsafe { msgsock::broke(cx, token, h, OUTERR, e) },
    }
}

/// mrecvl: the next message into the list; returns its size. EMSGSIZE
/// (and the receiving side broken) if it does not fit.
///
/// # Safety
/// `p` is a live Prefix; the list is the caller's (valid if well formed).
unsafe fn recv(cx: &Ctx, p: *mut Prefix, first: *mut iolist, last: *mut iolist, deadline: i64) -> Result<usize, i32> {
    let h = p as *mut Head;
    let none = first.is_null() && last.is_null();
    // SAFETY: p is live; the list is the caller's.
    let (total, token) = unsafe { msgsock::begin(cx, h, first, last, true, INERR) }?;
    let room = if none { usize::MAX } else { total };
    // SAFETY: p is live until the first wait; the token says after.
    let (flags, u, hdrlen) = unsafe { ((*p).head.flags, (*p).head.u, (*p).hdrlen as usize) };
    // SAFETY: p was live when the token was taken.
    let fail = |e: i32| Err(unsafe { msgsock::broke(cx, token, h, INERR, e) });
    let mut hdr = [0u8; MAX];
    let mut piece = iolist { iol_base: hdr.as_mut_ptr() as *mut c_void, iol_len: hdrlen, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    let e = bsock::io(cx, u, &mut piece, &mut piece, deadline, false);
    if e != 0 {
        return fail(e);
    }
    let size = decode(&hdr[..hdrlen], flags & LITTLE != 0);
    if size > room as u64 {
        return fail(libc::EMSGSIZE);
    }
    let size = size as usize;
    if size == 0 {
        return Ok(0);
    }
    // The body: dropped for a null list, else the list cut at `size` bytes
    // (its last piece shortened for the call, then restored).
    let e = if none {
        let mut skip = iolist { iol_base: ptr::null_mut(), iol_len: size, iol_next: ptr::null_mut(), iol_rsvd: 0 };
        bsock::io(cx, u, &mut skip, &mut skip, deadline, false)
    } else {
        // SAFETY: pieces of the checked list, which holds at least `size`.
        unsafe {
            let mut it = first;
            let mut left = size;
            while (*it).iol_len < left {
                left -= (*it).iol_len;
                it = (*it).iol_next;
            }
            let (len, next) = ((*it).iol_len, (*it).iol_next);
            (*it).iol_len = left;
            (*it).iol_next = ptr::null_mut();
            let e = bsock::io(cx, u, first, it, deadline, false);
            (*it).iol_len = len;
            (*it).iol_next = next;
            e
        }
    };
    if e != 0 {
        return fail(e);
    }
    Ok(size)
}

/// prefix_detach: the socket below back (ECONNRESET, and all closed, if a
/// direction broke).
pub fn detach(cx: &Ctx, h: c_int) -> Result<c_int, i32> {
    let p = msgsock::get(cx, h, vfs_query)?;
    // SAFETY: h names the live object p.
    if unsafe { (*p).flags } & (INERR | OUTERR) != 0 {
        let _ = handles::close(cx, h);
        return Err(libc::ECONNRESET);
    }
    // SAFETY: as above.
    Ok(unsafe { msgsock::release(cx, h, p) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_both_ways() {
        assert_eq!(&encode(0x0102, 2, false).unwrap()[..2], &[1, 2]);
        assert_eq!(&encode(0x0102, 2, true).unwrap()[..2], &[2, 1]);
        assert_eq!(&encode(5, 8, false).unwrap(), &[0, 0, 0, 0, 0, 0, 0, 5]);
        assert!(encode(256, 1, false).is_none());
        assert_eq!(decode(&[1, 2, 3], false), 0x010203);
        assert_eq!(decode(&[1, 2, 3], true), 0x030201);
    }
}
