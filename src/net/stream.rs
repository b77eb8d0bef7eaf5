//! Connected byte-stream sockets (TCP and IPC connections): the fd, the
//! half-close and error state, and a receive buffer for small reads. The
//! buffer (with its read position and the peek interface) is a separate
//! block the stream points to: right after it in 2.6's TCP_SIZE/IPC_SIZE
//! bytes, allocated beside 2.14's smaller storage, which holds the rest.
//! One code path serves both; it reaches the buffer through the pointer.

use crate::core::ctx::{self, Ctx};
use crate::core::errno;
use crate::core::handles;
use crate::core::hvfs::hvfs;
use crate::net::fdio::{self, RxBuf};
use crate::net::iol::{self, iolist};
use crate::net::vfs::{bpeek_id, BPeek, bsock_id, bsock_vfs};
use core::ffi::{c_int, c_void};
use core::ptr;

/// Bytes of the receive buffer: what is left of TCP_SIZE/IPC_SIZE (2080).
pub const RX: usize = 1984;

pub const TCP: u8 = 1;
pub const IPC: u8 = 2;

pub(crate) const INDONE: u8 = 1;
pub(crate) const OUTDONE: u8 = 2;
pub(crate) const INERR: u8 = 4;
pub(crate) const OUTERR: u8 = 8;

/// Where a stream's memory came from (`Stream::mem`), i.e. what its close
/// frees.
const ALLOCATED: u8 = 0; // Stream and buffer: one allocation.
const CALLER: u8 = 1; // Both in the caller's (2.6) memory.
const CALLER_HEAD: u8 = 2; // The stream in the caller's (2.14) storage, the buffer allocated.

/// The connection proper: 64 bytes, what 2.14's 72-byte storage holds
/// at any address (aligned up).
#[repr(C)]
pub struct Stream {
    hvfs: hvfs,
    bvfs: bsock_vfs,
    pub fd: c_int,
    pub(crate) kind: u8,
    pub(crate) flags: u8,
    /// ALLOCATED, CALLER or CALLER_HEAD.
    mem: u8,
    /// 2.14's state (`net::stream214`), set by the 2.14 surface for the
    /// streams it makes; 2.6 code never reads it.
    pub(crate) gen214: u8,
    rx: *mut Rx,
}

/// The receive side's buffer (first: its address is the block's). `hquery`
/// hands out `pvfs`, which finds its stream through `owner`.
#[repr(C)]
pub struct Rx {
    data: [u8; RX],
    pos: u32,
    len: u32,
    pvfs: BPeek,
    owner: *mut Stream,
}

/// 2.6's object: the stream with its buffer right behind it.
#[repr(C)]
struct Whole {
    s: Stream,
    rx: Rx,
}

/// Bytes of 2.14's TCP and IPC connection storage.
pub const SIZE214: usize = 72;

const _: () = assert!(core::mem::size_of::<Whole>() <= 2080);
const _: () = assert!(core::mem::size_of::<Stream>() + core::mem::align_of::<Stream>() - 1 <= SIZE214);

static TCP_ID: u8 = 0;
static IPC_ID: u8 = 0;

/// Type ids answered by `hquery` for TCP and IPC connections.
pub fn tcp_id() -> *const c_void {
    &TCP_ID as *const u8 as *const c_void
}
pub fn ipc_id() -> *const c_void {
    &IPC_ID as *const u8 as *const c_void
}

unsafe extern "C" fn vfs_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    let s = vfs as *mut Stream;
    // SAFETY: vfs is the first field of a live Stream.
    let kind = unsafe { (*s).kind };
    if t == bsock_id() {
        // SAFETY: as above.
        return unsafe { ptr::addr_of_mut!((*s).bvfs) } as *mut c_void;
    }
    if t == bpeek_id() {
        // SAFETY: as above.
        return unsafe { ptr::addr_of_mut!((*(*s).rx).pvfs) } as *mut c_void;
    }
    if (t == tcp_id() && kind == TCP) || (t == ipc_id() && kind == IPC) {
        return s as *mut c_void;
    }
    errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn vfs_close(vfs: *mut hvfs) {
    let Ok(cx) = ctx::get() else { return }; // An object of this thread exists, so does the thread's context.
    close_now(cx, vfs as *mut Stream);
}

unsafe extern "C" fn vfs_done(vfs: *mut hvfs, _deadline: i64) -> c_int {
    crate::ffi::status(done(vfs as *mut Stream))
}

/// The Stream of a `bsock_vfs` handed out by `hquery`.
fn from_bvfs(b: *mut bsock_vfs) -> *mut Stream {
    (b as *mut u8).wrapping_sub(core::mem::offset_of!(Stream, bvfs)) as *mut Stream
}

unsafe extern "C" fn bvfs_send(b: *mut bsock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    crate::ffi::status(send(cx, from_bvfs(b), first, last, deadline))
}

unsafe extern "C" fn bvfs_recv(b: *mut bsock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    crate::ffi::status(recv(cx, from_bvfs(b), first, last, deadline))
}

/// The Rx of a BPeek handed out by `hquery`.
fn rx_of(p: *mut BPeek) -> *mut Rx {
    (p as *mut u8).wrapping_sub(core::mem::offset_of!(Rx, pvfs)) as *mut Rx
}

unsafe fn pvfs_fill(p: *mut BPeek, deadline: i64) -> Result<(*const u8, usize), i32> {
    fill(rx_of(p), deadline)
}

unsafe fn pvfs_consume(p: *mut BPeek, n: usize) {
    let rx = rx_of(p);
    // SAFETY: p is in a live stream's Rx; n is at most what `fill` showed.
    unsafe { (*rx).pos = (*rx).pos.saturating_add(n as u32).min((*rx).len) };
}

/// The buffered bytes of the stream whose buffer is `rxp`, after one read
/// of whatever has arrived if there are none: the receive buffer is
/// refilled only when empty, so nothing is taken from the kernel that the
/// caller did not ask to see. A timeout or cancellation loses nothing and
/// leaves the stream usable. The stream itself (through `owner`) and the
/// thread's context are only looked at for a read.
fn fill(rxp: *mut Rx, deadline: i64) -> Result<(*const u8, usize), i32> {
    // SAFETY: a live stream's buffer.
    let rx = unsafe { &mut *rxp };
    if rx.pos < rx.len {
        // SAFETY: pos < len <= RX.
        return Ok((unsafe { rx.data.as_ptr().add(rx.pos as usize) }, (rx.len - rx.pos) as usize));
    }
    let s = rx.owner;
    // SAFETY: the buffer's stream is live.
    let st = unsafe { &mut *s };
    if st.flags & INDONE != 0 {
        return Err(libc::EPIPE);
    }
    if st.flags & INERR != 0 {
        return Err(libc::ECONNRESET);
    }
    let fd = st.fd;
    let cx = ctx::get()?;
    match fdio::read_some(cx, fd, rx.data.as_mut_ptr(), RX, deadline) {
        Ok(k) => {
            // SAFETY: after a wait, s is still ours: a close would have
            // cleaned the fd and the wait returned EBADF.
            let rx = unsafe { &mut *rxp };
            rx.pos = 0;
            rx.len = k as u32;
            Ok((rx.data.as_ptr(), k))
        }
        // EBADF: closed under us, touch nothing.
        Err(fdio::ReadFailure::Wait(e)) => Err(e),
        Err(fdio::ReadFailure::Stream(e)) => {
            // SAFETY: no wait failed, so the stream is alive (as above).
            let st = unsafe { &mut *s };
            st.flags |= if e == libc::EPIPE { INDONE } else { INERR };
            Err(e)
        }
    }
}

/// Our stream behind `vfs`, of kind `kind` (0: either).
#[inline]
pub fn as_stream(vfs: *mut hvfs, kind: u8) -> Option<*mut Stream> {
    // SAFETY: vfs is a live object behind a handle.
    let q = unsafe { (*vfs).query };
    match q {
        Some(f) if ptr::fn_addr_eq(f, vfs_query as unsafe extern "C" fn(_, _) -> _) => {
            let s = vfs as *mut Stream;
            // SAFETY: it is one of our streams.
            if kind == 0 || unsafe { (*s).kind } == kind { Some(s) } else { None }
        }
        _ => None,
    }
}

/// Where a new stream goes: 2.6's caller memory of TCP_SIZE/IPC_SIZE
/// bytes (stream and buffer), 2.14's storage (the stream only, aligned up
/// inside it), or an allocation.
#[derive(Clone, Copy)]
pub struct Mem {
    ptr: *mut c_void,
    how: u8,
}

impl Mem {
    pub const ALLOC: Mem = Mem { ptr: ptr::null_mut(), how: ALLOCATED };

    /// 2.6: `mem` (aligned for us) holds the whole object; null allocates.
    pub fn whole(mem: *mut c_void) -> Mem {
        if mem.is_null() { Mem::ALLOC } else { Mem { ptr: mem, how: CALLER } }
    }

    /// 2.14: the stream at `mem` (aligned for it, see `ffi214::storage`),
    /// in the caller's storage; its buffer is allocated.
    pub fn head(mem: *mut c_void) -> Mem {
        Mem { ptr: mem, how: CALLER_HEAD }
    }

    /// The place for the second stream of a pair.
    pub fn second(self) -> Mem {
        let step = if self.how == CALLER_HEAD { core::mem::size_of::<Stream>() } else { PAIR_STEP };
        if self.ptr.is_null() { self } else { Mem { ptr: (self.ptr as *mut u8).wrapping_add(step) as *mut c_void, how: self.how } }
    }
}

/// Bytes each object of a 2.6 pair takes in caller memory (IPC_SIZE).
pub const PAIR_STEP: usize = 2080;

/// Memory set aside for a stream before its fd exists, so that running out
/// of memory leaves a pending connection queued rather than dropped.
pub struct Reserved {
    s: *mut Stream,
    rx: *mut Rx,
    how: u8,
}

impl Reserved {
    /// Gives back what was allocated.
    pub fn cancel(self) {
        // SAFETY: allocated by `reserve`, never handed out.
        unsafe {
            match self.how {
                ALLOCATED => libc::free(self.s as *mut c_void),
                CALLER_HEAD => libc::free(self.rx as *mut c_void),
                _ => {}
            }
        }
    }
}

/// The memory of a stream placed as `mem` says; ENOMEM if an allocation
/// fails (nothing is then held).
pub fn reserve(mem: Mem) -> Result<Reserved, i32> {
    let (s, rx) = match mem.how {
        CALLER => {
            let w = mem.ptr as *mut Whole;
            // SAFETY: in the caller's memory, which holds a Whole.
            (w as *mut Stream, unsafe { ptr::addr_of_mut!((*w).rx) })
        }
        CALLER_HEAD => {
            // SAFETY: plain allocation, checked below.
            let rx = unsafe { libc::malloc(core::mem::size_of::<Rx>()) as *mut Rx };
            (mem.ptr as *mut Stream, rx)
        }
        _ => {
            // SAFETY: plain allocation, checked below.
            let w = unsafe { libc::malloc(core::mem::size_of::<Whole>()) as *mut Whole };
            // SAFETY: only an address is computed.
            (w as *mut Stream, if w.is_null() { ptr::null_mut() } else { unsafe { ptr::addr_of_mut!((*w).rx) } })
        }
    };
    if rx.is_null() { Err(libc::ENOMEM) } else { Ok(Reserved { s, rx, how: mem.how }) }
}

/// Wraps connected `fd` in a stream object in `r`, with a handle. On
/// failure the memory is released and the fd left to the caller.
pub fn create(cx: &Ctx, fd: c_int, kind: u8, r: Reserved) -> Result<c_int, i32> {
    let s = r.s;
    // SAFETY: s has room for a Stream; the buffer contents need no init.
    unsafe {
        ptr::addr_of_mut!((*s).hvfs).write(hvfs {
            query: Some(vfs_query),
            close: Some(vfs_close),
            done: Some(vfs_done),
            refcount: 0,
        });
        ptr::addr_of_mut!((*s).bvfs).write(bsock_vfs { bsendl: Some(bvfs_send), brecvl: Some(bvfs_recv) });
        (*s).fd = fd;
        (*s).kind = kind;
        (*s).flags = 0;
        (*s).mem = r.how;
        (*s).gen214 = 0;
        (*s).rx = r.rx;
        ptr::addr_of_mut!((*r.rx).pvfs).write(BPeek { fill: pvfs_fill, consume: pvfs_consume });
        (*r.rx).owner = s;
        (*r.rx).pos = 0;
        (*r.rx).len = 0;
    }
    // SAFETY: hvfs is the first field.
    handles::make(cx, s as *mut hvfs).inspect_err(|_| r.cancel())
}

/// A new stream of `kind` connected to `sa` (a sockaddr of `len` bytes in
/// `family`) within `deadline`: tcp_connect and ipc_connect.
pub fn connect(
    cx: &Ctx,
    family: i32,
    sa: *const libc::sockaddr,
    len: u32,
    kind: u8,
    mem: Mem,
    deadline: i64,
) -> Result<c_int, i32> {
    let r = reserve(mem)?;
    let fd = match fdio::socket(family, libc::SOCK_STREAM) {
        Ok(fd) => fd,
        Err(e) => {
            r.cancel();
            return Err(e);
        }
    };
    let res = match fdio::connect(cx, fd, sa, len, deadline) {
        Ok(()) => create(cx, fd, kind, r),
        Err(e) => {
            r.cancel();
            Err(e)
        }
    };
    if res.is_err() {
        fdio::close(cx, fd);
    }
    res
}

/// bsendl on our stream. Returns 0 or an errno.
pub fn send(cx: &Ctx, s: *mut Stream, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    // SAFETY: s is a live stream.
    let st = unsafe { &mut *s };
    if st.flags & OUTDONE != 0 {
        return libc::EPIPE;
    }
    if st.flags & OUTERR != 0 {
        return libc::ECONNRESET;
    }
    let mut small = iol::Small::new();
    // SAFETY: the caller's list (C contract), in both.
    let r = if unsafe { iol::gather_small(first, last, &mut small) } {
        fdio::send_small(cx, st.fd, first, &mut small, deadline)
    } else {
        match unsafe { iol::check(first, last) } {
            Ok(_) => fdio::send(cx, st.fd, first, deadline),
            Err(e) => return e,
        }
    };
    match r {
        Ok(()) => 0,
        // The fd was cleaned while we waited: the socket was closed under
        // us and its memory may be gone. Touch nothing.
        Err(libc::EBADF) => libc::EBADF,
        Err(e) => {
            st.flags |= OUTERR;
            e
        }
    }
}

/// brecvl on our stream; a null list drops everything up to the end of the
/// stream (what an orderly close does). Returns 0 or an errno.
pub fn recv(cx: &Ctx, s: *mut Stream, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    // One piece that the receive buffer holds (a protocol's header, then
    // its body): copied out, nothing else to do.
    // SAFETY: s is a live stream; a non-null first node is valid (C
    // contract), its memory writable for iol_len bytes, which the buffer
    // holds.
    unsafe {
        let st = &mut *s;
        let rx = &mut *st.rx;
        let avail = (rx.len - rx.pos) as usize;
        // No need to look at the flags: a receiving side that ended or
        // broke has an empty buffer (see `end_in`).
        if avail > 0 && first == last && !first.is_null() {
            let n = &*first;
            if n.iol_rsvd == 0 && n.iol_next.is_null() && !n.iol_base.is_null() && n.iol_len <= avail {
                // Consumed before the copy: nothing is then live across it,
                // which spares this function register saves.
                let src = rx.data.as_ptr().add(rx.pos as usize);
                rx.pos += n.iol_len as u32;
                ptr::copy_nonoverlapping(src, n.iol_base as *mut u8, n.iol_len);
                return 0;
            }
        }
    }
    // SAFETY: s is a live stream.
    recv_general(cx, unsafe { (*s).rx }, first, last, deadline)
}

/// `recv` past its fast path, on the stream whose buffer is `rx` (which
/// the caller has in a register already; the stream is found from it).
#[inline(never)]
fn recv_general(cx: &Ctx, rx: *mut Rx, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    // SAFETY: rx is a live stream's buffer.
    recv_in(cx, unsafe { (*rx).owner }, rx, first, last, deadline, RX)
}

/// `recv` that reads no byte past the list (2.14's IPC streams, whose file
/// descriptors must not be read past by a buffered read).
pub fn recv_unbuffered(cx: &Ctx, s: *mut Stream, first: *mut iolist, last: *mut iolist, deadline: i64) -> i32 {
    // Dropping to the end of the stream reads past anything anyway.
    if first.is_null() && last.is_null() {
        // SAFETY: s is a live stream.
        return recv_in(cx, s, unsafe { (*s).rx }, first, last, deadline, RX);
    }
    // SAFETY: the caller's list (C contract), checked before it is walked.
    if let Err(e) = unsafe { iol::check(first, last) } {
        return e;
    }
    // Bytes to skip (null bases) are read into the idle receive buffer, at
    // most its size at a time, so no read goes past the list.
    let mut cur = first;
    while !cur.is_null() {
        // SAFETY: a checked list element.
        let (base, mut len, next) = unsafe { ((*cur).iol_base, (*cur).iol_len, (*cur).iol_next) };
        loop {
            let (b, n) = if base.is_null() {
                // SAFETY: s is a live stream; nothing else uses its buffer here.
                (unsafe { ptr::addr_of_mut!((*(*s).rx).data) } as *mut c_void, len.min(RX))
            } else {
                (base, len)
            };
            let mut one = iolist { iol_base: b, iol_len: n, iol_next: ptr::null_mut(), iol_rsvd: 0 };
            // SAFETY: s is a live stream.
            let e = recv_in(cx, s, unsafe { (*s).rx }, &mut one, &mut one, deadline, 0);
            if e != 0 {
                return e;
            }
            len -= n;
            if len == 0 || !base.is_null() {
                break;
            }
        }
        cur = next;
    }
    0
}

/// `recv` with the first `cap` bytes of `s`'s receive buffer `rx`.
#[inline(always)]
fn recv_in(cx: &Ctx, s: *mut Stream, rx: *mut Rx, first: *mut iolist, last: *mut iolist, deadline: i64, cap: usize) -> i32 {
    // SAFETY: s is a live stream.
    let st = unsafe { &mut *s };
    if st.flags & INDONE != 0 {
        return libc::EPIPE;
    }
    if st.flags & INERR != 0 {
        return libc::ECONNRESET;
    }
    if !(first.is_null() && last.is_null()) {
        // SAFETY: the caller's list (C contract).
        if let Err(e) = unsafe { iol::check(first, last) } {
            return e;
        }
    }
    // SAFETY: a live stream's buffer.
    let b = unsafe { &mut *rx };
    let fd = st.fd;
    let mut rxb = RxBuf { data: &mut b.data[..cap], pos: &mut b.pos, len: &mut b.len };
    match fdio::recv(cx, fd, &mut rxb, first, deadline) {
        Ok(()) => 0,
        Err(libc::EBADF) => libc::EBADF, // Closed under us: see `send`.
        Err(e) => {
            // Through the buffer (live anyway), so that `s` need not be
            // kept across the receive.
            // SAFETY: not EBADF, so the stream was not closed under us.
            unsafe { (*(*rx).owner).flags |= if e == libc::EPIPE { INDONE } else { INERR } };
            e
        }
    }
}

/// Marks the receiving side of `s` ended (INDONE) or broken (INERR) and
/// drops what its buffer holds: `recv`'s fast path relies on a stream
/// with either flag having an empty buffer. (The stream's own reads set
/// them only when the buffer is empty already.)
pub(crate) fn end_in(s: *mut Stream, flag: u8) {
    // SAFETY: s is a live stream.
    unsafe {
        (*s).flags |= flag;
        (*(*s).rx).pos = (*(*s).rx).len;
    }
}

/// hdone: our side sends no more (FIN). Returns 0 or an errno.
pub fn done(s: *mut Stream) -> i32 {
    // SAFETY: s is a live stream.
    let st = unsafe { &mut *s };
    if st.flags & OUTDONE != 0 {
        return libc::EPIPE;
    }
    if st.flags & OUTERR != 0 {
        return libc::ECONNRESET;
    }
    // SAFETY: plain syscall on our fd.
    if unsafe { libc::shutdown(st.fd, libc::SHUT_WR) } < 0 {
        let e = errno::get();
        st.flags |= OUTERR;
        return match e {
            libc::ENOTCONN => libc::ECONNRESET,
            libc::ENOBUFS => libc::ENOMEM,
            e => e,
        };
    }
    st.flags |= OUTDONE;
    0
}

/// Closes at once: a TCP connection is reset (pending data is lost, as
/// with the original's hclose); an IPC one just closed.
pub fn close_now(cx: &Ctx, s: *mut Stream) {
    // SAFETY: s is a live stream.
    let reset = unsafe { (*s).kind } == TCP;
    release(cx, s, reset);
}

fn release(cx: &Ctx, s: *mut Stream, reset: bool) {
    // SAFETY: s is a live stream nobody uses any more.
    unsafe {
        if reset {
            fdio::reset(cx, (*s).fd);
        } else {
            fdio::close(cx, (*s).fd);
        }
        match (*s).mem {
            ALLOCATED => libc::free(s as *mut c_void),
            CALLER_HEAD => libc::free((*s).rx as *mut c_void),
            _ => {}
        }
    }
}

/// tcp_close/ipc_close on a connection: sends FIN, then reads (and drops)
/// until the peer's FIN within `deadline`; the socket is closed in any case,
/// every byte we sent still delivered when the handshake succeeded (reset
/// when it failed, as hclose). Coroutines inside a call on the stream fail
/// with EBADF first, as the handle is gone. Returns 0 or an errno.
pub fn close_orderly(cx: &Ctx, s: *mut Stream, deadline: i64) -> i32 {
    // SAFETY: s is a live stream.
    let (flags, fd) = unsafe { ((*s).flags, (*s).fd) };
    crate::core::fdwait::clean(cx, fd);
    let mut err = 0;
    if flags & (INERR | OUTERR) != 0 {
        err = libc::ECONNRESET;
    } else if flags & OUTDONE == 0 {
        err = done(s);
    }
    if err == 0 {
        err = match recv(cx, s, ptr::null_mut(), ptr::null_mut(), deadline) {
            libc::EPIPE => 0,
            0 => 0,
            e => e,
        };
    }
    release(cx, s, err != 0 && unsafe { (*s).kind } == TCP);
    err
}
