//! The socket interfaces of libdillimpl.h: a handle whose `hquery` answers
//! `bsock_type` with a `struct bsock_vfs` (or `msock_type` with a `struct
//! msock_vfs`) can be driven by the generic bsend/brecv (msend/mrecv) calls,
//! whether it is one of ours or defined by C code.

use crate::net::iol::iolist;
use core::ffi::{c_int, c_void};

/// Byte-stream socket operations. Layout is ABI.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct bsock_vfs {
    pub bsendl: Option<
        unsafe extern "C" fn(vfs: *mut bsock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int,
    >,
    pub brecvl: Option<
        unsafe extern "C" fn(vfs: *mut bsock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int,
    >,
}

/// Message socket operations. Layout is ABI.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct msock_vfs {
    pub msendl: Option<
        unsafe extern "C" fn(vfs: *mut msock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> c_int,
    >,
    pub mrecvl: Option<
        unsafe extern "C" fn(
            vfs: *mut msock_vfs,
            first: *mut iolist,
            last: *mut iolist,
            deadline: i64,
        ) -> libc::ssize_t,
    >,
}

/// Buffered reading for protocols that must not read past their own end
/// (crlf gives the socket back at detach with whatever follows still
/// readable). A byte stream with a receive buffer answers `hquery` for
/// `bpeek_id()` with this; brecv alone cannot say "whatever has arrived",
/// only "exactly n bytes". Crate-internal: not part of the C ABI.
pub struct BPeek {
    /// A non-empty window of buffered bytes, waiting for some if there are
    /// none. Err(errno) leaves the buffer as it was.
    pub fill: unsafe fn(vfs: *mut BPeek, deadline: i64) -> Result<(*const u8, usize), i32>,
    /// Drops the first `n` bytes of the last window (n <= its length).
    pub consume: unsafe fn(vfs: *mut BPeek, n: usize),
}

static BPEEK_ID: u8 = 0;

/// The type id of `BPeek`.
pub fn bpeek_id() -> *const c_void {
    &BPEEK_ID as *const u8 as *const c_void
}

pub(crate) static BSOCK_ID: u8 = 0;
pub(crate) static MSOCK_ID: u8 = 0;

/// The type id under which byte-stream sockets answer `hquery`.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut bsock_type: *const c_void = &BSOCK_ID as *const u8 as *const c_void;

/// The type id under which message sockets answer `hquery`.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut msock_type: *const c_void = &MSOCK_ID as *const u8 as *const c_void;

/// The ids as values (the statics are `mut` only because C sees them so).
pub fn bsock_id() -> *const c_void {
    &BSOCK_ID as *const u8 as *const c_void
}

pub fn msock_id() -> *const c_void {
    &MSOCK_ID as *const u8 as *const c_void
}
