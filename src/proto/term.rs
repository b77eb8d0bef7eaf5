//! TERM (2.14): a terminal message over any message socket. `term_done`
//! sends ours; receiving the peer's ends our receiving side (EPIPE);
//! `term_detach` does both and gives the socket below back. A terminal
//! message of length 0 is the empty message.
//!
//! Like the other protocols, the object owns the socket below (a private
//! number of it) and reaches it only through the message socket calls, and
//! every call that waited checks its `Life` token before touching the
//! object again.

use crate::core::ctx::Ctx;
use crate::core::handles;
use crate::ffi::msock;
use crate::net::iol::{self, iolist};
use crate::net::vfs::{msock_id, msock_vfs};
use crate::proto::msgsock::{self, Head, Kind};
use core::ffi::{c_int, c_void};
use core::ptr;

/// The longest terminal message.
pub const MAX: usize = 32;

/// `Head::flags` bits.
const INDONE: u8 = 1;
const OUTDONE: u8 = 2;

/// 80 bytes, which 2.14's 88-byte storage holds at any address: the
/// terminal message itself is allocated (when not empty).
#[repr(C)]
pub struct Term {
    head: Head,
    len: u8,
    term: *mut u8,
}

/// Bytes of 2.14's TERM storage.
pub const SIZE214: usize = 88;

const _: () = assert!(core::mem::size_of::<Term>() + core::mem::align_of::<Term>() - 1 <= SIZE214);

/// A copy of `t`'s terminal message (its first `len` bytes).
///
/// # Safety
/// `t` is a live Term.
unsafe fn ours(t: *mut Term) -> [u8; MAX] {
    let mut b = [0u8; MAX];
    // SAFETY: a non-null `term` holds `len` <= MAX bytes.
    unsafe {
        let (p, len) = ((*t).term, (*t).len as usize);
        if !p.is_null() {
            ptr::copy_nonoverlapping(p, b.as_mut_ptr(), len.min(MAX));
        }
    }
    b
}

/// Frees `t`'s terminal message.
///
/// # Safety
/// `t` is a live Term; its message is not used after.
unsafe fn forget(t: *mut Term) {
    // SAFETY: allocated by `attach` (or null).
    unsafe { libc::free((*t).term as *mut c_void) };
}

unsafe extern "C" fn vfs_close(vfs: *mut crate::core::hvfs::hvfs) {
    // SAFETY: the core calls this once, for a live Term whose last handle is gone.
    unsafe {
        forget(vfs as *mut Term);
        msgsock::close(vfs);
    }
}

static TERM_ID: u8 = 0;

/// The type id our TERM sockets answer `hquery` with.
pub fn term_id() -> *const c_void {
    &TERM_ID as *const u8 as *const c_void
}

msgsock::glue!(Term, term_id);

/// msendl: the caller's list below as it is, unless we are done.
///
/// # Safety
/// `t` is a live Term; the list is the caller's.
unsafe fn send(_cx: &Ctx, t: *mut Term, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    // SAFETY: t is live.
    let (flags, u) = unsafe { ((*t).head.flags, (*t).head.u) };
    if flags & OUTDONE != 0 {
        return libc::EPIPE;
    }
    // SAFETY: the caller's list goes below as it is.
    if unsafe { msock::msendl(u, first, last, deadline) } < 0 { crate::core::errno::get() } else { 0 }
}

/// Our TERM object behind handle `h`: EBADF, or ENOTSUP for another kind.
pub fn get(cx: &Ctx, h: c_int) -> Result<*mut Term, i32> {
    msgsock::get(cx, h, vfs_query).map(|p| p as *mut Term)
}

/// term_attach(_mem): a TERM socket with terminal message `term` (at most
/// MAX bytes) on message socket `s`, in `mem` (aligned, room for a Term)
/// or allocated if null. On failure `s` is closed, as the original does.
pub fn attach(cx: &Ctx, s: c_int, term: &[u8], mem: *mut c_void) -> Result<c_int, i32> {
    if term.len() > MAX {
        let _ = handles::close(cx, s);
        return Err(libc::EINVAL);
    }
    let bytes = if term.is_empty() {
        ptr::null_mut()
    } else {
        // SAFETY: plain allocation, checked below.
        let p = unsafe { libc::malloc(term.len()) as *mut u8 };
        if p.is_null() {
            let _ = handles::close(cx, s);
            return Err(libc::ENOMEM);
        }
        // SAFETY: p has term.len() bytes.
        unsafe { ptr::copy_nonoverlapping(term.as_ptr(), p, term.len()) };
        p
    };
    let kind = Kind { query: vfs_query, send: mvfs_send, recv: mvfs_recv, below: msock_id(), close: vfs_close };
    msgsock::attach(cx, s, mem, core::mem::size_of::<Term>(), &kind, |h| {
        let t = h as *mut Term;
        // SAFETY: the object's tail, ours to write.
        unsafe {
            ptr::addr_of_mut!((*t).len).write(term.len() as u8);
            ptr::addr_of_mut!((*t).term).write(bytes);
        }
    })
    .inspect_err(|_| {
        // SAFETY: allocated above; the object that pointed to it is gone.
        unsafe { libc::free(bytes as *mut c_void) };
    })
}

/// The first `out.len()` bytes the list holds, if its first pieces have
/// them (a piece to skip, NULL, holds none).
///
/// # Safety
/// The list is a checked one.
unsafe fn gather(mut l: *mut iolist, out: &mut [u8]) -> bool {
    let mut at = 0;
    while at < out.len() && !l.is_null() {
        // SAFETY: a checked list element and its buffer.
        unsafe {
            let n = (*l).iol_len.min(out.len() - at);
            if n > 0 {
                if (*l).iol_base.is_null() {
                    return false;
                }
                ptr::copy_nonoverlapping((*l).iol_base as *const u8, out.as_mut_ptr().add(at), n);
            }
            at += n;
            l = (*l).iol_next;
        }
    }
    at == out.len()
}

/// Copies `bytes` into the list's pieces in order (NULL pieces skip).
///
/// # Safety
/// The list is a checked one holding at least `bytes.len()` bytes.
unsafe fn scatter(mut l: *mut iolist, bytes: &[u8]) {
    let mut at = 0;
    while at < bytes.len() && !l.is_null() {
        // SAFETY: a checked list element and its buffer.
        unsafe {
            let n = (*l).iol_len.min(bytes.len() - at);
            if !(*l).iol_base.is_null() {
                ptr::copy_nonoverlapping(bytes.as_ptr().add(at), (*l).iol_base as *mut u8, n);
            }
            at += n;
            l = (*l).iol_next;
        }
    }
}

/// mrecvl: a message from below, or EPIPE for the peer's terminal one.
///
/// # Safety
/// `t` is a live Term; the list is the caller's (valid if well formed).
pub unsafe fn recv(cx: &Ctx, t: *mut Term, first: *mut iolist, last: *mut iolist, deadline: i64) -> Result<usize, i32> {
    // SAFETY: t is live until the wait below; the token says after.
    let (flags, len, u, life) = unsafe { ((*t).head.flags, (*t).len as usize, (*t).head.u, (*t).head.life) };
    if flags & INDONE != 0 {
        return Err(libc::EPIPE);
    }
    let none = first.is_null() && last.is_null();
    // A list too short for the terminal message gets it in a scratch piece.
    let mut scratch = [0u8; MAX];
    let mut piece = iolist { iol_base: scratch.as_mut_ptr() as *mut c_void, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    // SAFETY: the caller's list, checked before use.
    let total = if none { 0 } else { unsafe { iol::check(first, last) }? };
    let short = none || total < len;
    let token = life.token(cx);
    let (f, l) = if short { (&mut piece as *mut iolist, &mut piece as *mut iolist) } else { (first, last) };
    // SAFETY: a valid list for the call below.
    let n = unsafe { msock::mrecvl(u, f, l, deadline) };
    if n < 0 {
        return Err(crate::core::errno::get());
    }
    if !token.alive(cx) {
        return Err(libc::EBADF);
    }
    let n = n as usize;
    let mut got = [0u8; MAX];
    // SAFETY: the list received the message (or the scratch piece did).
    let is_term = n == len && (short || unsafe { gather(first, &mut got[..len]) });
    let seen = if short { &scratch[..len] } else { &got[..len] };
    // SAFETY: t is live (token).
    let ours = unsafe { ours(t) };
    if is_term && seen == &ours[..len] {
        // SAFETY: as above.
        unsafe { (*t).head.flags |= INDONE };
        return Err(libc::EPIPE);
    }
    if short && !none {
        if n > total {
            return Err(libc::EMSGSIZE);
        }
        // SAFETY: the checked list holds `total` >= n bytes.
        unsafe { scatter(first, &scratch[..n]) };
    }
    Ok(n)
}

/// term_done: our terminal message goes out; we send no more.
pub fn done(cx: &Ctx, h: c_int, deadline: i64) -> Result<(), i32> {
    let t = get(cx, h)?;
    // SAFETY: h names the live Term t.
    let (flags, u, len) = unsafe { ((*t).head.flags, (*t).head.u, (*t).len as usize) };
    if flags & OUTDONE != 0 {
        return Err(libc::EPIPE);
    }
    // SAFETY: the bytes are copied out before the call may wait.
    let term = unsafe { ours(t) };
    let life = unsafe { (*t).head.life };
    let token = life.token(cx);
    // SAFETY: a buffer of len bytes.
    if unsafe { msock::msend(u, term.as_ptr() as *const c_void, len, deadline) } < 0 {
        return Err(crate::core::errno::get());
    }
    if !token.alive(cx) {
        return Err(libc::EBADF);
    }
    // SAFETY: t is live (token).
    unsafe { (*t).head.flags |= OUTDONE };
    Ok(())
}

/// term_detach: our terminal message (unless sent), the peer's awaited
/// (messages before it dropped), then the socket below is the caller's.
/// On failure the whole stack is closed.
pub fn detach(cx: &Ctx, h: c_int, deadline: i64) -> Result<c_int, i32> {
    let t = get(cx, h)?;
    // SAFETY: h names the live Term t.
    let life = unsafe { (*t).head.life };
    let token = life.token(cx);
    let r = (|| {
        // SAFETY: t is live until a wait; the token is checked after each.
        if unsafe { (*t).head.flags } & OUTDONE == 0 {
            done(cx, h, deadline)?;
        }
        loop {
            if !token.alive(cx) {
                return Err(libc::EBADF);
            }
            // SAFETY: t is live (token); a null list drops the message.
            match unsafe { recv(cx, t, ptr::null_mut(), ptr::null_mut(), deadline) } {
                Err(libc::EPIPE) => return Ok(()),
                Ok(_) | Err(libc::EMSGSIZE) => {}
                Err(e) => return Err(e),
            }
        }
    })();
    if !token.alive(cx) {
        return Err(libc::EBADF);
    }
    if let Err(e) = r {
        let _ = handles::close(cx, h);
        return Err(e);
    }
    // SAFETY: h names the live Term t (token); its message is not used again.
    Ok(unsafe {
        forget(t);
        msgsock::release(cx, h, t as *mut Head)
    })
}
