//! PFX: messages framed by their size, 8 bytes in network byte order, over
//! any byte-stream socket. Each side ends its half with eight 0xFF bytes
//! (a size no message can have); `pfx_detach` sends ours, reads up to the
//! peer's and gives the socket below back, positioned just past it.
//!
//! The object fits PFX_SIZE (56 bytes) and needs nothing else: a message
//! goes down as one bsendl of the size piece chained before the caller's
//! list, and comes up as one brecv of the size and one brecvl straight into
//! the caller's list. Any failure of the socket below breaks that direction
//! for good, as the stream may be cut mid-message.

use crate::core::ctx::Ctx;
use crate::core::handles;
use crate::core::hvfs::hvfs;
use crate::core::live::Life;
use crate::ffi::bsock;
use crate::proto::Taken;
use crate::net::iol::{self, iolist};
use crate::net::vfs::{bsock_id, msock_id, msock_vfs};
use core::ffi::{c_int, c_uint, c_void};
use core::ptr;

/// The size that ends a direction.
const END: u64 = u64::MAX;

const INDONE: u8 = 1;
const OUTDONE: u8 = 2;
const INERR: u8 = 4;
const OUTERR: u8 = 8;
/// Allocated by us (pfx_attach), not caller memory.
const HEAP: u8 = 16;

type QueryFn = unsafe extern "C" fn(vfs: *mut hvfs, r#type: *const c_void) -> *mut c_void;
type CloseFn = unsafe extern "C" fn(vfs: *mut hvfs);
type DoneFn = unsafe extern "C" fn(vfs: *mut hvfs, deadline: i64) -> c_int;

/// The fields of `struct hvfs` come first, spelled out, so that our flags
/// can sit in what is its tail padding: PFX_SIZE leaves no other room. The
/// library only ever writes hvfs field by field (refcount), never whole.
#[repr(C)]
pub struct Pfx {
    query: Option<QueryFn>,
    close: Option<CloseFn>,
    done: Option<DoneFn>,
    refcount: c_uint,
    flags: u8,
    mvfs: msock_vfs,
    /// The socket below (a private duplicate of the one attached to).
    u: c_int,
    life: Life,
}

/// PFX_SIZE of the header: the caller memory pfx_attach_mem gets.
pub const PFX_SIZE: usize = if cfg!(target_pointer_width = "64") { 56 } else { 28 };

/// Does the object fit PFX_SIZE? Always on x86-64 (asserted below); where
/// it does not (32-bit), pfx_attach_mem allocates instead.
pub const FITS: bool = core::mem::size_of::<Pfx>() <= PFX_SIZE;

const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    assert!(cfg!(not(target_pointer_width = "64")) || size_of::<Pfx>() <= 56, "PFX_SIZE");
    assert!(align_of::<Pfx>() == align_of::<hvfs>());
    assert!(offset_of!(Pfx, query) == offset_of!(hvfs, query));
    assert!(offset_of!(Pfx, close) == offset_of!(hvfs, close));
    assert!(offset_of!(Pfx, done) == offset_of!(hvfs, done));
    assert!(offset_of!(Pfx, refcount) == offset_of!(hvfs, refcount));
    assert!(offset_of!(Pfx, flags) >= size_of::<c_uint>() + offset_of!(hvfs, refcount));
};

static PFX_ID: u8 = 0;

/// The type id our PFX sockets answer `hquery` with.
pub fn pfx_id() -> *const c_void {
    &PFX_ID as *const u8 as *const c_void
}

unsafe extern "C" fn vfs_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    let p = vfs as *mut Pfx;
    if t == msock_id() {
        // SAFETY: vfs is the start of a live Pfx.
        return unsafe { ptr::addr_of_mut!((*p).mvfs) } as *mut c_void;
    }
    if t == pfx_id() {
        return p as *mut c_void;
    }
    crate::core::errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn vfs_close(vfs: *mut hvfs) {
    // An object of this thread exists, so does the thread's context.
    let Ok(cx) = crate::core::ctx::get() else { return  };
    // SAFETY: the last handle of this live Pfx is gone.
    unsafe { destroy(cx, vfs as *mut Pfx, true) };
}

unsafe extern "C" fn vfs_done(vfs: *mut hvfs, deadline: i64) -> c_int {
    // An object of this thread exists, so does the thread's context.
    let Ok(cx) = crate::core::ctx::get() else { return crate::core::errno::fail(libc::ENOMEM) };
    // SAFETY: vfs is the start of a live Pfx.
    crate::ffi::status(unsafe { done(cx, vfs as *mut Pfx, deadline) })
}

fn from_mvfs(m: *mut msock_vfs) -> *mut Pfx {
    (m as *mut u8).wrapping_sub(core::mem::offset_of!(Pfx, mvfs)) as *mut Pfx
}

unsafe extern "C" fn mvfs_send(m: *mut msock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    // An object of this thread exists, so does the thread's context.
    let Ok(cx) = crate::core::ctx::get() else { return crate::core::errno::fail(libc::ENOMEM) };
    // SAFETY: m is the mvfs of a live Pfx; the list is the caller's.
    crate::ffi::status(unsafe { send(cx, from_mvfs(m), first, last, deadline) })
}

unsafe extern "C" fn mvfs_recv(
    m: *mut msock_vfs,
    first: *mut iolist,
    last: *mut iolist,
    deadline: i64,
) -> libc::ssize_t {
    // An object of this thread exists, so does the thread's context.
    let Ok(cx) = crate::core::ctx::get() else { return crate::core::errno::fail(libc::ENOMEM) as libc::ssize_t };
    // SAFETY: m is the mvfs of a live Pfx; the list is the caller's.
    match unsafe { recv(cx, from_mvfs(m), first, last, deadline) } {
        Ok(n) => n as libc::ssize_t,
        Err(e) => crate::core::errno::fail(e) as libc::ssize_t,
    }
}

/// Our PFX object behind `vfs`, if it is one.
pub fn as_pfx(vfs: *mut hvfs) -> Option<*mut Pfx> {
    // SAFETY: vfs is a live object behind a handle.
    match unsafe { (*vfs).query } {
        Some(f) if ptr::fn_addr_eq(f, vfs_query as QueryFn) => Some(vfs as *mut Pfx),
        _ => None,
    }
}

/// Is the running coroutine allowed to block (not canceled)?
fn can_block(cx: &Ctx) -> bool {
    // SAFETY: the running coroutine is live.
    unsafe { (*cx.me()).can_block() }
}

/// pfx_attach(_mem): a PFX socket on byte-stream handle `s`, in `mem`
/// (PFX_SIZE bytes, suitably aligned) or allocated if null. On success `s`
/// is consumed (the new object owns a duplicate of it); on failure it is
/// left to the caller as it was.
pub fn attach(cx: &Ctx, s: c_int, mem: *mut c_void) -> Result<c_int, i32> {
    if crate::ffi::handles::hquery(s, bsock_id()).is_null() {
        return Err(match crate::core::errno::get() {
            libc::ENOTSUP => libc::EPROTO,
            e => e,
        });
    }
    let life = Life::new(cx)?;
    let (p, heap) = if mem.is_null() {
        // SAFETY: plain allocation, checked below.
        (unsafe { libc::malloc(core::mem::size_of::<Pfx>()) } as *mut Pfx, true)
    } else {
        (mem as *mut Pfx, false)
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
    // Numbers as the original hands them out: the socket below first, then
    // the new socket; `s` itself is then retired.
    let taken = match Taken::take(cx, s) {
        Ok(t) => t,
        Err(e) => return undo(e),
    };
    let u = taken.new;
    // SAFETY: p has room for a Pfx (PFX_SIZE, aligned) and is ours.
    unsafe {
        p.write(Pfx {
            query: Some(vfs_query),
            close: Some(vfs_close),
            done: Some(vfs_done),
            refcount: 0,
            flags: if heap { HEAP } else { 0 },
            mvfs: msock_vfs { msendl: Some(mvfs_send), mrecvl: Some(mvfs_recv) },
            u,
            life,
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
/// `p` is a live Pfx that no handle names any more.
unsafe fn destroy(cx: &Ctx, p: *mut Pfx, close_below: bool) {
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

/// One send of a list to the socket below.
fn below(cx: &Ctx, u: c_int, first: *mut iolist, last: *mut iolist, deadline: i64, send: bool) -> i32 {
    bsock::io(cx, u, first, last, deadline, send)
}

/// A one-piece list over `len` bytes at `base` (null: skip them).
fn piece(base: *mut u8, len: usize) -> iolist {
    iolist { iol_base: base as *mut c_void, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 }
}

/// msendl: the size, then the caller's pieces, in one call below.
///
/// # Safety
/// `p` is a live Pfx; the list is the caller's (valid if well formed).
pub unsafe fn send(cx: &Ctx, p: *mut Pfx, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    if !can_block(cx) {
        return libc::ECANCELED;
    }
    // SAFETY: p is live.
    let (flags, u, life) = unsafe { ((*p).flags, (*p).u, (*p).life) };
    if flags & OUTDONE != 0 {
        return libc::EPIPE;
    }
    if flags & OUTERR != 0 {
        return libc::ECONNRESET;
    }
    // SAFETY: the caller's list.
    let len = match unsafe { iol::check(first, last) } {
        Ok(n) => n,
        Err(e) => return e,
    };
    // Nothing is sent for a size we could not frame (END is reserved).
    if len as u64 >= i64::MAX as u64 {
        return libc::EMSGSIZE;
    }
    let mut size = (len as u64).to_be_bytes();
    let mut hdr = piece(size.as_mut_ptr(), size.len());
    hdr.iol_next = first;
    let token = life.token(cx);
    let e = below(cx, u, &mut hdr, last, deadline, true);
    if !token.alive(cx) {
        return libc::EBADF;
    }
    if e != 0 {
        // SAFETY: p is still live (token).
        unsafe { (*p).flags |= OUTERR };
    }
    e
}

/// hdone: our end marker; we send nothing more.
///
/// # Safety
/// `p` is a live Pfx.
pub unsafe fn done(cx: &Ctx, p: *mut Pfx, deadline: i64) -> i32 {
    // SAFETY: p is live.
    let (flags, u, life) = unsafe { ((*p).flags, (*p).u, (*p).life) };
    if flags & OUTDONE != 0 {
        return libc::EPIPE;
    }
    if flags & OUTERR != 0 {
        return libc::ECONNRESET;
    }
    let mut end = END.to_be_bytes();
    let mut iol = piece(end.as_mut_ptr(), end.len());
    let token = life.token(cx);
    let e = below(cx, u, &mut iol, &mut iol, deadline, true);
    if !token.alive(cx) {
        return libc::EBADF;
    }
    // SAFETY: p is still live (token).
    unsafe { (*p).flags |= if e == 0 { OUTDONE } else { OUTERR } };
    e
}

/// mrecvl: one message into the list (both null: dropped); its size.
/// EMSGSIZE for one larger than the list, which is then left unread and
/// the receiving side broken (the stream below is mid-message).
///
/// # Safety
/// `p` is a live Pfx; the list is the caller's (valid if well formed).
pub unsafe fn recv(cx: &Ctx, p: *mut Pfx, first: *mut iolist, last: *mut iolist, deadline: i64) -> Result<usize, i32> {
    if !can_block(cx) {
        return Err(libc::ECANCELED);
    }
    // SAFETY: p is live.
    let (flags, u, life) = unsafe { ((*p).flags, (*p).u, (*p).life) };
    if flags & INDONE != 0 {
        return Err(libc::EPIPE);
    }
    if flags & INERR != 0 {
        return Err(libc::ECONNRESET);
    }
    let drop = first.is_null() && last.is_null();
    // A bad list is refused before anything is read.
    // SAFETY: the caller's list.
    let room = if drop { usize::MAX } else { unsafe { iol::check(first, last) }? };
    let token = life.token(cx);
    let mut size = [0u8; 8];
    let mut iol = piece(size.as_mut_ptr(), size.len());
    let e = below(cx, u, &mut iol, &mut iol, deadline, false);
    if !token.alive(cx) {
        return Err(libc::EBADF);
    }
    let broken = |e: i32| {
        // SAFETY: p is still live (token checked by every caller).
        unsafe { (*p).flags |= INERR };
        Err(e)
    };
    if e != 0 {
        return broken(e);
    }
    let size = u64::from_be_bytes(size);
    if size == END {
        // SAFETY: p is still live (token).
        unsafe { (*p).flags |= INDONE };
        return Err(libc::EPIPE);
    }
    // Sizes mrecvl cannot return, or that do not fit: nothing more is read.
    if size > isize::MAX as u64 || size > room as u64 {
        return broken(libc::EMSGSIZE);
    }
    let size = size as usize;
    if size == 0 {
        return Ok(0);
    }
    let e = if drop {
        let mut skip = piece(ptr::null_mut(), size);
        below(cx, u, &mut skip, &mut skip, deadline, false)
    } else {
        // SAFETY: the list was checked above and holds at least `size`.
        unsafe { recv_into(cx, u, first, size, deadline) }
    };
    if !token.alive(cx) {
        return Err(libc::EBADF);
    }
    match e {
        0 => Ok(size),
        // The stream ended inside a message: it was cut, not closed.
        libc::EPIPE => broken(libc::ECONNRESET),
        e => broken(e),
    }
}

/// Receives `size` bytes straight into the caller's list, cut for the call
/// at the piece where they end (and restored after, as mrecvl promises).
///
/// # Safety
/// `first` is a checked list of at least `size` bytes.
unsafe fn recv_into(cx: &Ctx, u: c_int, first: *mut iolist, size: usize, deadline: i64) -> i32 {
    let mut left = size;
    let mut it = first;
    // SAFETY: a checked list holding `size`: the walk ends inside it.
    unsafe {
        while (*it).iol_len < left {
            left -= (*it).iol_len;
            it = (*it).iol_next;
        }
        let (len, next) = ((*it).iol_len, (*it).iol_next);
        (*it).iol_len = left;
        (*it).iol_next = ptr::null_mut();
        let e = below(cx, u, first, it, deadline, false);
        (*it).iol_len = len;
        (*it).iol_next = next;
        e
    }
}

/// pfx_detach: our end marker (unless hdone sent it), then messages are
/// dropped up to the peer's; the socket below is handed back. On failure
/// everything is closed.
pub fn detach(cx: &Ctx, h: c_int, deadline: i64) -> Result<c_int, i32> {
    let vfs = cx.handles().get(h).ok_or(libc::EBADF)?;
    let p = as_pfx(vfs).ok_or(libc::ENOTSUP)?;
    // SAFETY: h names the live Pfx p.
    let life = unsafe { (*p).life };
    let token = life.token(cx);
    // SAFETY: p is live until a wait; every wait is followed by the token.
    let r = unsafe { handshake(cx, p, deadline) };
    if !token.alive(cx) {
        return Err(libc::EBADF);
    }
    // SAFETY: vfs is live (token); h still names it.
    let shared = unsafe { (*vfs).refcount } > 1;
    if shared {
        // Other handles keep the object (and its socket below): the caller
        // gets a socket of their own.
        let _ = handles::close(cx, h);
        // SAFETY: p is still live (named by the other handles).
        return r.and_then(|()| handles::dup(cx, unsafe { (*p).u }));
    }
    // The original never reuses a detached handle's number: retire it, so
    // the numbers that come next are the original's.
    let _ = cx.handles().begin_remove(h);
    // SAFETY: no handle names p any more.
    unsafe {
        let u = (*p).u;
        destroy(cx, p, r.is_err());
        cx.handles().end_retire(h);
        r.map(|()| u)
    }
}

/// The terminal handshake of `detach`.
///
/// # Safety
/// `p` is a live Pfx. When this returns, the caller checks its token
/// before touching `p` again.
unsafe fn handshake(cx: &Ctx, p: *mut Pfx, deadline: i64) -> Result<(), i32> {
    if !can_block(cx) {
        return Err(libc::ECANCELED);
    }
    // SAFETY: p is live.
    let (flags, life) = unsafe { ((*p).flags, (*p).life) };
    if flags & (INERR | OUTERR) != 0 {
        return Err(libc::ECONNRESET);
    }
    let token = life.token(cx);
    if flags & OUTDONE == 0 {
        // SAFETY: p is live.
        let e = unsafe { done(cx, p, deadline) };
        if e != 0 {
            return Err(e);
        }
    }
    loop {
        // SAFETY: p is live: checked after every wait.
        match unsafe { recv(cx, p, ptr::null_mut(), ptr::null_mut(), deadline) } {
            Ok(_) => {}
            Err(_) if !token.alive(cx) => return Err(libc::EBADF),
            // SAFETY: p is live (token).
            Err(libc::EPIPE) if unsafe { (*p).flags } & INDONE != 0 => return Ok(()),
            Err(e) => return Err(e),
        }
        if !token.alive(cx) {
            return Err(libc::EBADF);
        }
    }
}
