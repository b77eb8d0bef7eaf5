//! An in-memory byte stream with a handle, made through `hmake` as a C
//! program would make one: what it receives comes from a byte slice (the
//! "peer"), what is sent to it is collected. It never blocks: a read past
//! the end of the input takes what is left and fails with EPIPE, as a
//! socket whose peer closed would. Protocols under test run on it with no
//! fds and no coroutines.

use crate::core::hvfs::hvfs;
use crate::net::iol::iolist;
use crate::net::vfs::{bsock_id, bsock_vfs};
use core::ffi::{c_int, c_void};
use core::ptr;

/// Sent bytes kept at most (a protocol that sends more gets ENOBUFS).
pub const OUT_MAX: usize = 1 << 22;

#[repr(C)]
pub struct MemStream {
    hvfs: hvfs,
    bvfs: bsock_vfs,
    input: Vec<u8>,
    pos: usize,
    /// Everything sent to it, in order.
    out: Vec<u8>,
    /// Its close callback ran.
    closed: bool,
    /// Number of bsendl and brecvl calls.
    calls: usize,
}

unsafe extern "C" fn query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    if t == bsock_id() {
        // SAFETY: vfs is the start of a live MemStream.
        return unsafe { ptr::addr_of_mut!((*(vfs as *mut MemStream)).bvfs) } as *mut c_void;
    }
    crate::core::errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn close(vfs: *mut hvfs) {
    // SAFETY: vfs is the start of a live MemStream (freed by its owner).
    unsafe { (*(vfs as *mut MemStream)).closed = true };
}

fn from_bvfs(b: *mut bsock_vfs) -> *mut MemStream {
    (b as *mut u8).wrapping_sub(core::mem::offset_of!(MemStream, bvfs)) as *mut MemStream
}

unsafe extern "C" fn bsendl(b: *mut bsock_vfs, first: *mut iolist, _last: *mut iolist, _deadline: i64) -> c_int {
    // SAFETY: b is the bvfs of a live MemStream.
    let m = unsafe { &mut *from_bvfs(b) };
    m.calls += 1;
    let mut it = first;
    while !it.is_null() {
        // SAFETY: the library hands over well-formed lists of valid pieces.
        let (base, len, next) = unsafe { ((*it).iol_base as *const u8, (*it).iol_len, (*it).iol_next) };
        if m.out.len().saturating_add(len) > OUT_MAX || m.out.try_reserve(len).is_err() {
            return crate::core::errno::fail(libc::ENOBUFS);
        }
        if len > 0 {
            // SAFETY: a sent piece has `len` readable bytes.
            m.out.extend_from_slice(unsafe { core::slice::from_raw_parts(base, len) });
        }
        it = next;
    }
    0
}

unsafe extern "C" fn brecvl(b: *mut bsock_vfs, first: *mut iolist, _last: *mut iolist, _deadline: i64) -> c_int {
    // SAFETY: b is the bvfs of a live MemStream.
    let m = unsafe { &mut *from_bvfs(b) };
    m.calls += 1;
    if first.is_null() {
        m.pos = m.input.len();
        return crate::core::errno::fail(libc::EPIPE);
    }
    let mut it = first;
    while !it.is_null() {
        // SAFETY: as in bsendl.
        let (base, len, next) = unsafe { ((*it).iol_base as *mut u8, (*it).iol_len, (*it).iol_next) };
        let k = len.min(m.input.len() - m.pos);
        if !base.is_null() && k > 0 {
            // SAFETY: a receiving piece has `len` >= k writable bytes.
            unsafe { ptr::copy_nonoverlapping(m.input.as_ptr().add(m.pos), base, k) };
        }
        m.pos += k;
        if k < len {
            return crate::core::errno::fail(libc::EPIPE);
        }
        it = next;
    }
    0
}

/// Owner of a MemStream: the library reaches it through raw pointers
/// (its handle), the owner only between library calls.
pub struct Mem {
    p: *mut MemStream,
}

impl Mem {
    /// A stream whose peer sends `input`, and its handle.
    pub fn new(input: &[u8]) -> Result<(Mem, c_int), i32> {
        let mut v = Vec::new();
        v.try_reserve_exact(input.len()).map_err(|_| libc::ENOMEM)?;
        v.extend_from_slice(input);
        let p = Box::into_raw(Box::new(MemStream {
            hvfs: hvfs { query: Some(query), close: Some(close), done: None, refcount: 0 },
            bvfs: bsock_vfs { bsendl: Some(bsendl), brecvl: Some(brecvl) },
            input: v,
            pos: 0,
            out: Vec::new(),
            closed: false,
            calls: 0,
        }));
        let m = Mem { p };
        // SAFETY: p stays valid until `m` is dropped, after its handle
        // is closed (the owner's duty).
        let h = unsafe { crate::ffi::handles::hmake(ptr::addr_of_mut!((*p).hvfs)) };
        if h < 0 { Err(crate::core::errno::get()) } else { Ok((m, h)) }
    }

    fn get(&self) -> &MemStream {
        // SAFETY: p is live while self is; no library call is running.
        unsafe { &*self.p }
    }

    /// The input not read yet.
    pub fn rest(&self) -> &[u8] {
        let m = self.get();
        &m.input[m.pos..]
    }

    /// Everything sent to the stream.
    pub fn out(&self) -> &[u8] {
        &self.get().out
    }

    pub fn closed(&self) -> bool {
        self.get().closed
    }

    pub fn calls(&self) -> usize {
        self.get().calls
    }
}

impl Drop for Mem {
    fn drop(&mut self) {
        // SAFETY: made by Box::into_raw in `new`; the handle is gone.
        drop(unsafe { Box::from_raw(self.p) });
    }
}
