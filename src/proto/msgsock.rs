//! What 2.14's message protocols over another socket (TERM, SUFFIX,
//! PREFIX) share: each object starts with a `Head` (the handle's vfs, the
//! message-socket vfs, the socket below, flags, life), so making one,
//! finding it behind a handle, freeing it and detaching it are done here.

use crate::core::ctx::Ctx;
use crate::core::handles;
use crate::core::hvfs::hvfs;
use crate::core::live::Life;
use crate::ffi::handles::hquery;
use crate::net::vfs::{msock_id, msock_vfs};
use crate::proto::Taken;
use core::ffi::{c_int, c_void};
use core::ptr;

/// The object was allocated by us, not caller memory (a `Head::flags` bit;
/// protocols use the others).
pub const HEAP: u8 = 0x80;

pub type QueryFn = unsafe extern "C" fn(vfs: *mut hvfs, r#type: *const c_void) -> *mut c_void;
pub type SendFn = unsafe extern "C" fn(*mut msock_vfs, *mut crate::net::iol::iolist, *mut crate::net::iol::iolist, i64) -> c_int;
pub type RecvFn =
    unsafe extern "C" fn(*mut msock_vfs, *mut crate::net::iol::iolist, *mut crate::net::iol::iolist, i64) -> libc::ssize_t;

/// The start of every such object. Layout: `vfs` first.
#[repr(C)]
pub struct Head {
    pub vfs: hvfs,
    pub mvfs: msock_vfs,
    /// The socket below (a private number of it).
    pub u: c_int,
    pub flags: u8,
    pub life: Life,
}

/// What a protocol tells `attach` about itself.
pub struct Kind {
    pub query: QueryFn,
    pub send: SendFn,
    pub recv: RecvFn,
    /// The interface the socket below must answer (bsock or msock id).
    pub below: *const c_void,
    /// The hvfs close: `close`, or one that frees the protocol's own
    /// memory first and then calls it.
    pub close: unsafe extern "C" fn(vfs: *mut hvfs),
}

/// The vfs_query of a protocol whose type id is `id`.
///
/// # Safety
/// `vfs` is the start of a live object beginning with a Head.
pub unsafe fn query(vfs: *mut hvfs, t: *const c_void, id: *const c_void) -> *mut c_void {
    let h = vfs as *mut Head;
    if t == msock_id() {
        // SAFETY: per the contract.
        return unsafe { ptr::addr_of_mut!((*h).mvfs) } as *mut c_void;
    }
    if t == id {
        return h as *mut c_void;
    }
    crate::core::errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

/// The vfs_close all of them have: free the object and its socket below.
pub unsafe extern "C" fn close(vfs: *mut hvfs) {
    // An object of this thread exists, so does the thread's context.
    let Ok(cx) = crate::core::ctx::get() else { return };
    // SAFETY: the last handle of this live object is gone.
    unsafe { destroy(cx, vfs as *mut Head, true) };
}

/// The object behind the message-socket vfs `m`.
pub fn from_mvfs(m: *mut msock_vfs) -> *mut Head {
    (m as *mut u8).wrapping_sub(core::mem::offset_of!(Head, mvfs)) as *mut Head
}

/// The object of `kind` behind handle `h`: EBADF, or ENOTSUP for another.
pub fn get(cx: &Ctx, h: c_int, kind: QueryFn) -> Result<*mut Head, i32> {
    let vfs = cx.handles().get(h).ok_or(libc::EBADF)?;
    // SAFETY: vfs is a live object behind a handle.
    match unsafe { (*vfs).query } {
        Some(f) if ptr::fn_addr_eq(f, kind) => Ok(vfs as *mut Head),
        _ => Err(libc::ENOTSUP),
    }
}

/// Makes an object of `size` bytes on socket `s`, in `mem` (aligned, of
/// that size) or allocated if null, filling its tail with `init`. On
/// failure `s` is closed, as the original does.
pub fn attach(cx: &Ctx, s: c_int, mem: *mut c_void, size: usize, kind: &Kind, init: impl FnOnce(*mut Head)) -> Result<c_int, i32> {
    let r = make(cx, s, mem, size, kind, init);
    if r.is_err() {
        let _ = handles::close(cx, s);
    }
    r
}

fn make(cx: &Ctx, s: c_int, mem: *mut c_void, size: usize, kind: &Kind, init: impl FnOnce(*mut Head)) -> Result<c_int, i32> {
    if hquery(s, kind.below).is_null() {
        return Err(match crate::core::errno::get() {
            libc::ENOTSUP => libc::EPROTO,
            e => e,
        });
    }
    let life = Life::new(cx)?;
    let heap = mem.is_null();
    // SAFETY: plain allocation, checked below.
    let p = if heap { unsafe { libc::malloc(size) as *mut Head } } else { mem as *mut Head };
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
    // SAFETY: p has room for the object (size >= a Head) and is ours.
    unsafe {
        p.write(Head {
            vfs: hvfs { query: Some(kind.query), close: Some(kind.close), done: None, refcount: 0 },
            mvfs: msock_vfs { msendl: Some(kind.send), mrecvl: Some(kind.recv) },
            u: taken.new,
            flags: if heap { HEAP } else { 0 },
            life,
        });
    }
    init(p);
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
/// `p` is a live object that no handle names any more.
pub unsafe fn destroy(cx: &Ctx, p: *mut Head, close_below: bool) {
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

/// Ends protocol handle `h` (naming `p`) and gives the socket below back;
/// its number is retired as the other protocols' detach does.
///
/// # Safety
/// `h` names the live object `p`.
pub unsafe fn release(cx: &Ctx, h: c_int, p: *mut Head) -> c_int {
    let _ = cx.handles().begin_remove(h);
    // SAFETY: no handle names p any more.
    unsafe {
        let u = (*p).u;
        destroy(cx, p, false);
        cx.handles().end_retire(h);
        u
    }
}

/// The C-facing functions of a protocol whose object `$t` starts with a
/// `Head`: `vfs_query` (type id `$id()`), and `mvfs_send`/`mvfs_recv`
/// calling its `send(cx, obj, first, last, deadline) -> errno-or-0` and
/// `recv(...) -> Result<size, errno>`.
macro_rules! glue {
    ($t:ty, $id:ident) => {
        unsafe extern "C" fn vfs_query(vfs: *mut $crate::core::hvfs::hvfs, t: *const c_void) -> *mut c_void {
            // SAFETY: the core calls this for a live object of ours.
            unsafe { $crate::proto::msgsock::query(vfs, t, $id()) }
        }

        unsafe extern "C" fn mvfs_send(m: *mut msock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
            // An object of this thread exists, so does the thread's context.
            let Ok(cx) = $crate::core::ctx::get() else { return $crate::core::errno::fail(libc::ENOMEM) };
            // SAFETY: m is the mvfs of a live object; the list is the caller's.
            $crate::ffi::status(unsafe { send(cx, $crate::proto::msgsock::from_mvfs(m) as *mut $t, first, last, deadline) })
        }

        unsafe extern "C" fn mvfs_recv(m: *mut msock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> libc::ssize_t {
            // An object of this thread exists, so does the thread's context.
            let Ok(cx) = $crate::core::ctx::get() else { return $crate::core::errno::fail(libc::ENOMEM) as libc::ssize_t };
            // SAFETY: m is the mvfs of a live object; the list is the caller's.
            $crate::proto::msgsock::ssize(unsafe { recv(cx, $crate::proto::msgsock::from_mvfs(m) as *mut $t, first, last, deadline) })
        }
    };
}
pub(crate) use glue;

/// The start of a send or receive on `h`: not canceled, the caller's list
/// well formed (a null list only for receiving: `recv`), and the
/// direction whose `Head::flags` bit is `broken` not broken (ECONNRESET).
/// Returns the list's length (0 for a null list) and the token to check
/// after any wait.
///
/// # Safety
/// `h` is a live object; the list is the caller's.
pub unsafe fn begin(
    cx: &Ctx,
    h: *mut Head,
    first: *mut crate::net::iol::iolist,
    last: *mut crate::net::iol::iolist,
    recv: bool,
    broken: u8,
) -> Result<(usize, crate::core::live::Token), i32> {
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return Err(libc::ECANCELED);
    }
    let total = if recv && first.is_null() && last.is_null() {
        0
    } else {
        // SAFETY: the caller's list, checked before it is touched.
        unsafe { crate::net::iol::check(first, last) }?
    };
    // SAFETY: h is live (per the contract).
    let (flags, life) = unsafe { ((*h).flags, (*h).life) };
    if flags & broken != 0 {
        return Err(libc::ECONNRESET);
    }
    Ok((total, life.token(cx)))
}

/// A send or receive failed with `e` midway: the direction (`broken`
/// bit) is broken for good, if the object is still there. Returns `e`.
///
/// # Safety
/// `h` was live when `token` was taken.
pub unsafe fn broke(cx: &Ctx, token: crate::core::live::Token, h: *mut Head, broken: u8, e: i32) -> i32 {
    if token.alive(cx) {
        // SAFETY: alive (token).
        unsafe { (*h).flags |= broken };
    }
    e
}

/// An errno-or-size result as the C message calls return it.
pub fn ssize(r: Result<usize, i32>) -> libc::ssize_t {
    match r {
        Ok(n) => n as libc::ssize_t,
        Err(e) => crate::core::errno::fail(e) as libc::ssize_t,
    }
}
