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
use crate::core::hvfs::hvfs;
use crate::core::live::Life;
use crate::ffi::{bsock, handles::hquery};
use crate::net::iol::{self, iolist};
use crate::net::vfs::{bsock_id, msock_id, msock_vfs};
use crate::proto::Taken;
use core::ffi::{c_int, c_void};
use core::ptr;

/// The longest suffix.
pub const MAX: usize = 32;

const INERR: u8 = 1;
const OUTERR: u8 = 2;
/// Allocated by us, not caller memory.
const HEAP: u8 = 4;

#[repr(C)]
pub struct Suffix {
    vfs: hvfs,
    mvfs: msock_vfs,
    /// The socket below (a private number of it).
    u: c_int,
    len: u8,
    flags: u8,
    life: Life,
    suffix: [u8; MAX],
}

static SUFFIX_ID: u8 = 0;

/// The type id our SUFFIX sockets answer `hquery` with.
pub fn suffix_id() -> *const c_void {
    &SUFFIX_ID as *const u8 as *const c_void
}

unsafe extern "C" fn vfs_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    let p = vfs as *mut Suffix;
    if t == msock_id() {
        // SAFETY: vfs is the start of a live Suffix.
        return unsafe { ptr::addr_of_mut!((*p).mvfs) } as *mut c_void;
    }
    if t == suffix_id() {
        return p as *mut c_void;
    }
    crate::core::errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn vfs_close(vfs: *mut hvfs) {
    // An object of this thread exists, so does the thread's context.
    let Ok(cx) = crate::core::ctx::get() else { return };
    // SAFETY: the last handle of this live Suffix is gone.
    unsafe { destroy(cx, vfs as *mut Suffix, true) };
}

fn from_mvfs(m: *mut msock_vfs) -> *mut Suffix {
    (m as *mut u8).wrapping_sub(core::mem::offset_of!(Suffix, mvfs)) as *mut Suffix
}

unsafe extern "C" fn mvfs_send(m: *mut msock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    // An object of this thread exists, so does the thread's context.
    let Ok(cx) = crate::core::ctx::get() else { return crate::core::errno::fail(libc::ENOMEM) };
    // SAFETY: m is the mvfs of a live Suffix; the list is the caller's.
    crate::ffi::status(unsafe { send(cx, from_mvfs(m), first, last, deadline) })
}

unsafe extern "C" fn mvfs_recv(m: *mut msock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> libc::ssize_t {
    // An object of this thread exists, so does the thread's context.
    let Ok(cx) = crate::core::ctx::get() else { return crate::core::errno::fail(libc::ENOMEM) as libc::ssize_t };
    // SAFETY: m is the mvfs of a live Suffix; the list is the caller's.
    match unsafe { recv(cx, from_mvfs(m), first, last, deadline) } {
        Ok(n) => n as libc::ssize_t,
        Err(e) => crate::core::errno::fail(e) as libc::ssize_t,
    }
}

/// Our SUFFIX object behind handle `h`: EBADF, or ENOTSUP for another kind.
pub fn get(cx: &Ctx, h: c_int) -> Result<*mut Suffix, i32> {
    let vfs = cx.handles().get(h).ok_or(libc::EBADF)?;
    // SAFETY: vfs is a live object behind a handle.
    match unsafe { (*vfs).query } {
        Some(f) if ptr::fn_addr_eq(f, vfs_query as unsafe extern "C" fn(_, _) -> _) => Ok(vfs as *mut Suffix),
        _ => Err(libc::ENOTSUP),
    }
}

/// suffix_attach(_mem): a SUFFIX socket on byte stream `s` with `suffix`
/// (1 to MAX bytes), in `mem` (aligned, room for a Suffix) or allocated if
/// null. On failure `s` is closed, as the original does.
pub fn attach(cx: &Ctx, s: c_int, suffix: &[u8], mem: *mut c_void) -> Result<c_int, i32> {
    let r = make(cx, s, suffix, mem);
    if r.is_err() {
        let _ = handles::close(cx, s);
    }
    r
}

fn make(cx: &Ctx, s: c_int, suffix: &[u8], mem: *mut c_void) -> Result<c_int, i32> {
    if suffix.is_empty() || suffix.len() > MAX {
        return Err(libc::EINVAL);
    }
    if hquery(s, bsock_id()).is_null() {
        return Err(match crate::core::errno::get() {
            libc::ENOTSUP => libc::EPROTO,
            e => e,
        });
    }
    let life = Life::new(cx)?;
    let heap = mem.is_null();
    let p = if heap {
        // SAFETY: plain allocation, checked below.
        unsafe { libc::malloc(core::mem::size_of::<Suffix>()) as *mut Suffix }
    } else {
        mem as *mut Suffix
    };
    if p.is_null() {
        life.end(cx);
        return Err(libc::ENOMEM);
    }
    let undo = |e: i32| {
        life.end(cx);
        if heap {
            // SAFETY: allocated above, never handed out.
            unsafe { libc::free(p as *mut c_void) };
        }
        Err(e)
    };
    let taken = match Taken::take(cx, s) {
        Ok(tk) => tk,
        Err(e) => return undo(e),
    };
    let mut buf = [0u8; MAX];
    buf[..suffix.len()].copy_from_slice(suffix);
    // SAFETY: p has room for a Suffix and is ours.
    unsafe {
        p.write(Suffix {
            vfs: hvfs { query: Some(vfs_query), close: Some(vfs_close), done: None, refcount: 0 },
            mvfs: msock_vfs { msendl: Some(mvfs_send), mrecvl: Some(mvfs_recv) },
            u: taken.new,
            len: suffix.len() as u8,
            flags: if heap { HEAP } else { 0 },
            life,
            suffix: buf,
        });
    }
    match handles::make(cx, p as *mut hvfs) {
        Ok(h) => {
            taken.commit(cx);
            Ok(h)
        }
        Err(e) => {
            taken.abandon(cx);
            undo(e)
        }
    }
}

/// Frees the object; with `close_below` its socket below is closed too.
///
/// # Safety
/// `p` is a live Suffix that no handle names any more.
unsafe fn destroy(cx: &Ctx, p: *mut Suffix, close_below: bool) {
    // SAFETY: per the contract.
    let (u, life, flags) = unsafe { ((*p).u, (*p).life, (*p).flags) };
    life.end(cx);
    if flags & HEAP != 0 {
        // SAFETY: allocated by `attach`.
        unsafe { libc::free(p as *mut c_void) };
    }
    if close_below {
        let _ = handles::close(cx, u);
    }
}

fn can_block(cx: &Ctx) -> bool {
    // SAFETY: the running coroutine is live.
    unsafe { (*cx.me()).can_block() }
}

/// msendl: the caller's pieces, then the suffix, in one call below.
///
/// # Safety
/// `p` is a live Suffix; the list is the caller's (valid if well formed).
unsafe fn send(cx: &Ctx, p: *mut Suffix, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    if !can_block(cx) {
        return libc::ECANCELED;
    }
    // SAFETY: the caller's list, checked before it is touched.
    if let Err(e) = unsafe { iol::check(first, last) } {
        return e;
    }
    // SAFETY: p is live until the call below; the token says after.
    let (flags, u, len, life, mut sfx) = unsafe { ((*p).flags, (*p).u, (*p).len as usize, (*p).life, (*p).suffix) };
    if flags & OUTERR != 0 {
        return libc::ECONNRESET;
    }
    let token = life.token(cx);
    let mut tail = iolist { iol_base: sfx.as_mut_ptr() as *mut c_void, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    // SAFETY: last ends the checked list; it is restored right after.
    let e = unsafe {
        (*last).iol_next = &mut tail;
        let e = bsock::io(cx, u, first, &mut tail, deadline, true);
        (*last).iol_next = ptr::null_mut();
        e
    };
    if e != 0 && token.alive(cx) {
        // SAFETY: p is live (token).
        unsafe { (*p).flags |= OUTERR };
    }
    e
}

/// mrecvl: the bytes up to the next suffix into the list; returns how many.
/// EMSGSIZE (and the receiving side broken) if they do not fit.
///
/// # Safety
/// `p` is a live Suffix; the list is the caller's (valid if well formed).
unsafe fn recv(cx: &Ctx, p: *mut Suffix, first: *mut iolist, last: *mut iolist, deadline: i64) -> Result<usize, i32> {
    if !can_block(cx) {
        return Err(libc::ECANCELED);
    }
    let none = first.is_null() && last.is_null();
    if !none {
        // SAFETY: the caller's list, checked before it is touched.
        unsafe { iol::check(first, last) }?;
    }
    // SAFETY: p is live until the first wait; the token says after.
    let (flags, u, len, life, sfx) = unsafe { ((*p).flags, (*p).u, (*p).len as usize, (*p).life, (*p).suffix) };
    if flags & INERR != 0 {
        return Err(libc::ECONNRESET);
    }
    let token = life.token(cx);
    let fail = |e: i32| {
        if token.alive(cx) {
            // SAFETY: p is live (token).
            unsafe { (*p).flags |= INERR };
        }
        Err(e)
    };
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
    if unsafe { (*p).flags } & (INERR | OUTERR) != 0 {
        let _ = handles::close(cx, h);
        return Err(libc::ECONNRESET);
    }
    let _ = cx.handles().begin_remove(h);
    // SAFETY: no handle names p any more.
    unsafe {
        let u = (*p).u;
        destroy(cx, p, false);
        cx.handles().end_retire(h);
        Ok(u)
    }
}
