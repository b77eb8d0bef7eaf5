//! Listening sockets (TCP and IPC): the fd in TCP_LISTENER_SIZE /
//! IPC_LISTENER_SIZE bytes.

use crate::core::ctx::{self, Ctx};
use crate::core::errno;
use crate::core::handles;
use crate::core::hvfs::hvfs;
use crate::net::fdio;
use core::ffi::{c_int, c_void};
use core::ptr;

#[repr(C)]
pub struct Listener {
    hvfs: hvfs,
    pub fd: c_int,
    pub kind: u8,
    mem: bool,
}

const _: () = assert!(core::mem::size_of::<Listener>() <= 40);

static TCP_LISTENER_ID: u8 = 0;
static IPC_LISTENER_ID: u8 = 0;

unsafe extern "C" fn vfs_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    let l = vfs as *mut Listener;
    // SAFETY: vfs is the first field of a live Listener.
    let kind = unsafe { (*l).kind };
    let want = if kind == crate::net::stream::TCP { &TCP_LISTENER_ID } else { &IPC_LISTENER_ID };
    if t == want as *const u8 as *const c_void {
        return l as *mut c_void;
    }
    errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn vfs_close(vfs: *mut hvfs) {
    let Ok(cx) = ctx::get() else { return }; // An object of this thread exists, so does the thread's context.
    close(cx, vfs as *mut Listener);
}

/// Our listener of `kind` behind `vfs`.
pub fn as_listener(vfs: *mut hvfs, kind: u8) -> Option<*mut Listener> {
    // SAFETY: vfs is a live object behind a handle.
    let q = unsafe { (*vfs).query };
    match q {
        Some(f) if ptr::fn_addr_eq(f, vfs_query as unsafe extern "C" fn(_, _) -> _) => {
            let l = vfs as *mut Listener;
            // SAFETY: it is one of our listeners.
            if unsafe { (*l).kind } == kind { Some(l) } else { None }
        }
        _ => None,
    }
}

/// Wraps listening `fd` in an object (in `mem`, or allocated) with a handle.
/// On failure the fd is left to the caller.
pub fn create(cx: &Ctx, fd: c_int, kind: u8, mem: *mut c_void) -> Result<c_int, i32> {
    let l = if mem.is_null() {
        // SAFETY: plain allocation, checked below.
        unsafe { libc::malloc(core::mem::size_of::<Listener>()) as *mut Listener }
    } else {
        mem as *mut Listener
    };
    if l.is_null() {
        return Err(libc::ENOMEM);
    }
    // SAFETY: l has room for a Listener.
    unsafe {
        l.write(Listener {
            hvfs: hvfs { query: Some(vfs_query), close: Some(vfs_close), done: None, refcount: 0 },
            fd,
            kind,
            mem: !mem.is_null(),
        })
    };
    handles::make(cx, l as *mut hvfs).inspect_err(|_| {
        if mem.is_null() {
            // SAFETY: allocated above, not referenced anywhere.
            unsafe { libc::free(l as *mut c_void) };
        }
    })
}

pub fn close(cx: &Ctx, l: *mut Listener) {
    // SAFETY: l is a live listener nobody uses any more.
    unsafe {
        fdio::close(cx, (*l).fd);
        if !(*l).mem {
            libc::free(l as *mut c_void);
        }
    }
}
