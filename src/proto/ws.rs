//! WebSocket (RFC 6455): a message socket over any byte-stream socket,
//! which it uses only by handle number through bsend/brecv. One object per
//! connection in WS_SIZE bytes (caller memory or malloc) and a state block
//! allocated at attach; nothing is allocated per message.
//!
//! A call may wait inside the socket below while another coroutine closes
//! ours: every call holds a `Token` and looks at the object again only if
//! it is still alive (`DEAD` below stands for "it is gone: return EBADF
//! without touching anything").

mod below;
mod frame;
mod handshake;
mod key;
mod rx;
mod tx;
mod utf8;

pub use handshake::Handshake;
pub use key::{request_key, response_key, KEY_SIZE};
pub use tx::check_close;

use crate::core::ctx::Ctx;
use crate::core::handles;
use crate::core::hvfs::hvfs;
use crate::core::live::{Life, Token};
use crate::ffi::handles::hquery;
use crate::net::iol::iolist;
use crate::net::vfs::{bsock_id, msock_id, msock_vfs};
use core::ffi::{c_int, c_void};
use core::ptr;

/// ws_attach flags (the WS_* macros of libdill.h).
pub const WS_TEXT: c_int = 1;
pub const WS_NOHTTP: c_int = 2;

/// Not an errno: the object was closed while the call waited.
pub(crate) const DEAD: i32 = -1;

/// Our socket's end of the stream is closed: we sent a close frame.
pub(crate) const OUTDONE: u8 = 1;
/// The peer's close frame arrived (or the stream below ended).
pub(crate) const INDONE: u8 = 2;
/// Receiving broke mid-frame or on a protocol error.
pub(crate) const INERR: u8 = 4;
/// Sending broke mid-frame.
pub(crate) const OUTERR: u8 = 8;
/// A coroutine is writing a frame to the stream below; others wait.
pub(crate) const SENDING: u8 = 16;
/// Closed while SENDING: the sender frees the state when it resumes.
pub(crate) const ORPHAN: u8 = 32;

/// Bytes a client masks at a time before handing them down.
pub(crate) const SCRATCH: usize = 16384;

/// Mask keys are taken from this many random bytes fetched at once.
pub(crate) const RANDOM: usize = 64;

/// Everything but the interfaces, allocated at attach.
pub(crate) struct State {
    /// The byte-stream socket below.
    pub u: c_int,
    pub server: bool,
    /// msend and mrecv carry text (WS_TEXT), else binary.
    pub text: bool,
    pub flags: u8,
    /// Payload bytes still to drop of a frame we gave up on (EMSGSIZE, or
    /// a message of the wrong type for mrecv), and whether the frames that
    /// follow belong to the same message and must go too.
    pub skip: u64,
    pub skip_more: bool,
    /// A pong or close reply the receiving coroutine could not send because
    /// another one was mid-frame: the sender sends it when done.
    pub pong: [u8; frame::MAX_CONTROL],
    pub pong_len: u8,
    pub pong_due: bool,
    pub close_due: bool,
    pub close_code: [u8; 2],
    pub close_len: u8,
    /// Random bytes for client mask keys, used from `rnd_pos`.
    pub rnd: [u8; RANDOM],
    pub rnd_pos: u8,
    /// Client only: where frames are masked before they go down.
    pub scratch: *mut u8,
}

/// What the close frames of 2.14 add to a State. It lives in the same
/// block, just after the State, so that State's layout, and with it the
/// 2.6 code over it, stays as it was.
pub(crate) struct Extra {
    /// 2.6 answers the peer's close frame at once; 2.14 leaves the answer
    /// to the caller's ws_done/ws_detach.
    pub answer_close: bool,
    /// The peer's close frame: its status (0: none) and reason (ws_status).
    pub peer: Closing,
}

const EXTRA_AT: usize = core::mem::size_of::<State>().next_multiple_of(core::mem::align_of::<Extra>());

/// The Extra of a State made by `new_state`.
pub(crate) fn extra(st: *mut State) -> *mut Extra {
    (st as *mut u8).wrapping_add(EXTRA_AT) as *mut Extra
}

/// A close frame's status (0 for none) and reason.
#[derive(Clone, Copy)]
pub struct Closing {
    pub status: u16,
    pub len: u8,
    pub reason: [u8; MAX_REASON],
}

/// A close frame's reason fits its payload after the 2-byte status.
pub const MAX_REASON: usize = frame::MAX_CONTROL - 2;

/// The object behind a WebSocket handle. Layout fits WS_SIZE.
#[repr(C)]
pub struct Ws {
    hvfs: hvfs,
    mvfs: msock_vfs,
    st: *mut State,
    life: Life,
    mem: bool,
}

const _: () = assert!(core::mem::size_of::<Ws>() <= 88);

static WS_ID: u8 = 0;

/// The type id under which our sockets answer `hquery`.
pub fn ws_id() -> *const c_void {
    &WS_ID as *const u8 as *const c_void
}

unsafe extern "C" fn vfs_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    let w = vfs as *mut Ws;
    if t == msock_id() {
        // SAFETY: vfs is the first field of a live Ws.
        return unsafe { ptr::addr_of_mut!((*w).mvfs) } as *mut c_void;
    }
    if t == ws_id() {
        return w as *mut c_void;
    }
    crate::core::errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn vfs_close(vfs: *mut hvfs) {
    // An object of this thread exists: so does its context.
    let Ok(cx) = crate::core::ctx::get() else { return };
    let w = vfs as *mut Ws;
    // SAFETY: the last handle went; the object is ours to end.
    let u = unsafe { (*(*w).st).u };
    release(cx, w);
    // Closing the stream below wakes any call of ours waiting in it; that
    // call finds its token dead.
    let _ = handles::close(cx, u);
}

unsafe extern "C" fn vfs_done(vfs: *mut hvfs, deadline: i64) -> c_int {
    // An object of this thread exists: so does its context.
    let Ok(cx) = crate::core::ctx::get() else { return crate::core::errno::fail(libc::ENOMEM) };
    let w = vfs as *mut Ws;
    // SAFETY: a live Ws (hdone found it by its handle).
    let (tok, st) = unsafe { ((*w).life.token(cx), (*w).st) };
    crate::ffi::status(errno_of(tx::close(cx, tok, st, 1000, &[], deadline)))
}

fn from_mvfs(m: *mut msock_vfs) -> *mut Ws {
    (m as *mut u8).wrapping_sub(core::mem::offset_of!(Ws, mvfs)) as *mut Ws
}

unsafe extern "C" fn mvfs_send(m: *mut msock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    // An object of this thread exists: so does its context.
    let Ok(cx) = crate::core::ctx::get() else { return crate::core::errno::fail(libc::ENOMEM) };
    let w = from_mvfs(m);
    // SAFETY: the interface of a live Ws.
    let (tok, st) = unsafe { ((*w).life.token(cx), (*w).st) };
    // SAFETY: as above.
    let text = unsafe { (*st).text };
    crate::ffi::status(errno_of(tx::send(cx, tok, st, text, first, last, deadline)))
}

unsafe extern "C" fn mvfs_recv(m: *mut msock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> libc::ssize_t {
    // An object of this thread exists: so does its context.
    let Ok(cx) = crate::core::ctx::get() else { return crate::core::errno::fail(libc::ENOMEM) as libc::ssize_t };
    let w = from_mvfs(m);
    // SAFETY: the interface of a live Ws.
    let (tok, st) = unsafe { ((*w).life.token(cx), (*w).st) };
    // SAFETY: as above.
    let want = unsafe { Some((*st).text) };
    match rx::recv(cx, tok, st, first, last, want, deadline) {
        Ok((n, _)) => n as libc::ssize_t,
        Err(e) => crate::core::errno::fail(errno_of::<()>(Err(e))) as libc::ssize_t,
    }
}

/// The errno for a result: DEAD is EBADF to the caller.
pub(crate) fn errno_of<T>(r: Result<T, i32>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(DEAD) => libc::EBADF,
        Err(e) => e,
    }
}

/// Our socket behind handle `h`: EBADF, or ENOTSUP for other kinds.
pub fn get(h: c_int) -> Result<*mut Ws, i32> {
    let p = hquery(h, ws_id());
    if p.is_null() { Err(crate::core::errno::get()) } else { Ok(p as *mut Ws) }
}

/// Frees the state (or leaves it to the coroutine that is sending, see
/// ORPHAN) and the object, and ends its life: no handle names it any more.
fn release(cx: &Ctx, w: *mut Ws) {
    // SAFETY: a live Ws nobody will use after this.
    unsafe {
        (*w).life.end(cx);
        let st = (*w).st;
        if (*st).flags & SENDING != 0 {
            (*st).flags |= ORPHAN;
        } else {
            free_state(st);
        }
        if !(*w).mem {
            libc::free(w as *mut c_void);
        }
    }
}

pub(crate) fn free_state(st: *mut State) {
    // SAFETY: allocated by `new_state`, freed once (here).
    unsafe {
        libc::free((*st).scratch as *mut c_void);
        libc::free(st as *mut c_void);
    }
}

fn new_state(u: c_int, server: bool, text: bool, answer_close: bool) -> Result<*mut State, i32> {
    // SAFETY: plain allocations, checked.
    let st = unsafe { libc::malloc(EXTRA_AT + core::mem::size_of::<Extra>()) as *mut State };
    if st.is_null() {
        return Err(libc::ENOMEM);
    }
    let scratch = if server { ptr::null_mut() } else { unsafe { libc::malloc(SCRATCH) as *mut u8 } };
    if !server && scratch.is_null() {
        // SAFETY: allocated above, not handed out.
        unsafe { libc::free(st as *mut c_void) };
        return Err(libc::ENOMEM);
    }
    // SAFETY: st has room for a State.
    unsafe {
        st.write(State {
            u,
            server,
            text,
            flags: 0,
            skip: 0,
            skip_more: false,
            pong: [0; frame::MAX_CONTROL],
            pong_len: 0,
            pong_due: false,
            close_due: false,
            close_code: [0; 2],
            close_len: 0,
            rnd: [0; RANDOM],
            rnd_pos: RANDOM as u8,
            scratch,
        });
        // SAFETY: the block has room for an Extra after the State.
        extra(st).write(Extra { answer_close, peer: Closing { status: 0, len: 0, reason: [0; MAX_REASON] } });
    };
    Ok(st)
}

/// ws_attach_client/server(_mem): WebSocket over byte stream `u`, with the
/// HTTP upgrade unless WS_NOHTTP. If the handshake fails, `u` is closed;
/// other failures leave it to the caller. `answer_close`: see Extra.
pub fn attach(
    cx: &Ctx,
    u: c_int,
    flags: c_int,
    hs: Handshake,
    mem: *mut c_void,
    answer_close: bool,
    deadline: i64,
) -> Result<c_int, i32> {
    if flags & !(WS_TEXT | WS_NOHTTP) != 0 {
        return Err(libc::EINVAL);
    }
    if hquery(u, bsock_id()).is_null() {
        // Not a byte stream: EPROTO, as the man pages say.
        let e = crate::core::errno::get();
        return Err(if e == libc::ENOTSUP { libc::EPROTO } else { e });
    }
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return Err(libc::ECANCELED);
    }
    let http = flags & WS_NOHTTP == 0;
    if http {
        hs.check()?;
    }
    let st = new_state(u, hs.is_server(), flags & WS_TEXT != 0, answer_close)?;
    let life = match Life::new(cx) {
        Ok(l) => l,
        Err(e) => {
            free_state(st);
            return Err(e);
        }
    };
    let undo = move |w: *mut Ws, owned: bool| {
        life.end(cx);
        free_state(st);
        if owned {
            // SAFETY: allocated here, never handed out.
            unsafe { libc::free(w as *mut c_void) };
        }
    };
    if http {
        match hs.run(cx, u, deadline) {
            // SAFETY: st is ours, not shared yet.
            Ok(u2) => unsafe { (*st).u = u2 },
            Err(e) => {
                undo(ptr::null_mut(), false);
                return Err(e);
            }
        }
    }
    let owned = mem.is_null();
    // SAFETY: plain allocation, checked.
    let w = if owned { unsafe { libc::malloc(core::mem::size_of::<Ws>()) as *mut Ws } } else { mem as *mut Ws };
    if w.is_null() {
        undo(w, false);
        return Err(libc::ENOMEM);
    }
    // SAFETY: w has room for a Ws (WS_SIZE checked above, or malloc).
    unsafe {
        w.write(Ws {
            hvfs: hvfs { query: Some(vfs_query), close: Some(vfs_close), done: Some(vfs_done), refcount: 0 },
            mvfs: msock_vfs { msendl: Some(mvfs_send), mrecvl: Some(mvfs_recv) },
            st,
            life,
            mem: !owned,
        })
    };
    // SAFETY: hvfs is the first field.
    handles::make(cx, w as *mut hvfs).inspect_err(|_| undo(w, owned))
}

/// The token and state of socket `w` for a call starting now.
fn enter(cx: &Ctx, w: *mut Ws) -> (Token, *mut State) {
    // SAFETY: w was just looked up by its handle.
    unsafe { ((*w).life.token(cx), (*w).st) }
}

/// ws_sendl: one message of type `text`.
pub fn send(cx: &Ctx, w: *mut Ws, text: bool, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    let (tok, st) = enter(cx, w);
    errno_of(tx::send(cx, tok, st, text, first, last, deadline))
}

/// ws_recvl: one message; its size and whether it is text.
pub fn recv(cx: &Ctx, w: *mut Ws, first: *mut iolist, last: *mut iolist, deadline: i64) -> Result<(usize, bool), i32> {
    let (tok, st) = enter(cx, w);
    rx::recv(cx, tok, st, first, last, None, deadline).map_err(|e| errno_of::<()>(Err(e)))
}

/// ws_done (2.14): our close frame with `status` (0: none) and `reason`.
pub fn done(cx: &Ctx, w: *mut Ws, status: u16, reason: &[u8], deadline: i64) -> i32 {
    let (tok, st) = enter(cx, w);
    errno_of(tx::close(cx, tok, st, status, reason, deadline))
}

/// ws_status (2.14): the peer's close frame, EAGAIN before it came.
pub fn peer_closing(w: *mut Ws) -> Result<Closing, i32> {
    // SAFETY: w was just looked up by its handle; its state lives as long.
    unsafe {
        let st = (*w).st;
        if (*st).flags & INDONE == 0 {
            return Err(libc::EAGAIN);
        }
        Ok((*extra(st)).peer)
    }
}

/// ws_detach: the closing handshake (our close frame carries `status`,
/// 0 for none, and `reason`), then the stream below goes back to the
/// caller. The socket is gone afterwards in any case; on failure the
/// stream below is closed too.
pub fn detach(cx: &Ctx, h: c_int, status: u16, reason: &[u8], deadline: i64) -> Result<c_int, i32> {
    let w = get(h)?;
    // SAFETY: w is live: h names it.
    if unsafe { (*w).hvfs.refcount } > 1 {
        // Other handles still use the socket: it cannot be taken apart.
        let _ = handles::close(cx, h);
        return Err(libc::EBUSY);
    }
    let (tok, st) = enter(cx, w);
    let r = (|| {
        // SAFETY: st is live until a wait says otherwise.
        let f = unsafe { (*st).flags };
        if f & OUTDONE == 0 {
            match tx::close(cx, tok, st, status, reason, deadline) {
                Ok(()) => {}
                Err(DEAD) => return Err(DEAD),
                // The stream below ended before: nobody to tell.
                Err(_) if f & INDONE != 0 => {}
                Err(e) => return Err(e),
            }
        }
        // Messages still coming are dropped until the peer's close.
        loop {
            match rx::recv(cx, tok, st, ptr::null_mut(), ptr::null_mut(), None, deadline) {
                Ok(_) => continue,
                Err(libc::EPIPE) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    })();
    if r == Err(DEAD) {
        return Err(libc::EBADF);
    }
    // SAFETY: alive (checked above).
    let u = unsafe { (*st).u };
    let _ = cx.handles().remove(h);
    release(cx, w);
    match r {
        Ok(()) => Ok(u),
        Err(e) => {
            let _ = handles::close(cx, u);
            Err(e)
        }
    }
}
