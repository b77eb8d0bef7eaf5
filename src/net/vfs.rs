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

static BSOCK_ID: u8 = 0;
static MSOCK_ID: u8 = 0;

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
