//! UDP: one datagram per message. The socket proper (`Udp`) is followed
//! by its default remote address in 2.6's UDP_SIZE bytes; in 2.14's smaller
//! storage by a pointer to it, allocated (only when there is one).

use crate::core::ctx::{self, Ctx};
use crate::core::errno;
use crate::core::fdwait::{self, IN};
use crate::core::handles;
use crate::core::hvfs::hvfs;
use crate::net::fdio;
use crate::net::iol::{self, iolist, DgramVecs};
use crate::net::ipaddr::ipaddr;
use crate::net::vfs::{msock_id, msock_vfs};
use core::ffi::{c_int, c_void};
use core::ptr;

#[repr(C)]
pub struct Udp {
    hvfs: hvfs,
    mvfs: msock_vfs,
    fd: c_int,
    has_remote: bool,
    /// Where the memory came from: ALLOCATED, CALLER or CALLER_SPLIT.
    mem: u8,
    _pad: [u8; 2],
}

/// 2.6's object (and the allocated one): the address inline.
#[repr(C)]
struct Whole {
    u: Udp,
    remote: ipaddr,
}

/// 2.14's object in its storage: the address (if any) allocated.
#[repr(C)]
pub struct Split {
    u: Udp,
    remote: *mut ipaddr,
}

const ALLOCATED: u8 = 0;
const CALLER: u8 = 1;
const CALLER_SPLIT: u8 = 2;

/// Bytes of 2.14's UDP storage.
pub const SIZE214: usize = 72;

const _: () = assert!(core::mem::size_of::<Whole>() <= 88);
const _: () = assert!(core::mem::size_of::<Split>() + core::mem::align_of::<Split>() - 1 <= SIZE214);

/// The default remote's memory (null for a split socket without one).
fn remote_of(u: *mut Udp) -> *mut ipaddr {
    // SAFETY: u is a live socket, of the layout its `mem` says.
    unsafe {
        if (*u).mem == CALLER_SPLIT {
            (*(u as *mut Split)).remote
        } else {
            ptr::addr_of_mut!((*(u as *mut Whole)).remote)
        }
    }
}

static UDP_ID: u8 = 0;

unsafe extern "C" fn vfs_query(vfs: *mut hvfs, t: *const c_void) -> *mut c_void {
    let u = vfs as *mut Udp;
    if t == msock_id() {
        // SAFETY: vfs is the first field of a live Udp.
        return unsafe { ptr::addr_of_mut!((*u).mvfs) } as *mut c_void;
    }
    if t == &UDP_ID as *const u8 as *const c_void {
        return u as *mut c_void;
    }
    errno::set(libc::ENOTSUP);
    ptr::null_mut()
}

unsafe extern "C" fn vfs_close(vfs: *mut hvfs) {
    let u = vfs as *mut Udp;
    let Ok(cx) = ctx::get() else { return }; // An object of this thread exists, so does the thread's context.
    // SAFETY: a live Udp whose last handle is gone.
    unsafe {
        fdio::close(cx, (*u).fd);
        match (*u).mem {
            ALLOCATED => libc::free(u as *mut c_void),
            CALLER_SPLIT => libc::free(remote_of(u) as *mut c_void),
            _ => {}
        }
    }
}

fn from_mvfs(m: *mut msock_vfs) -> *mut Udp {
    (m as *mut u8).wrapping_sub(core::mem::offset_of!(Udp, mvfs)) as *mut Udp
}

unsafe extern "C" fn mvfs_send(m: *mut msock_vfs, first: *mut iolist, last: *mut iolist, _deadline: i64) -> c_int {
    match send(from_mvfs(m), ptr::null(), first, last) {
        Ok(()) => 0,
        Err(e) => errno::fail(e),
    }
}

unsafe extern "C" fn mvfs_recv(m: *mut msock_vfs, first: *mut iolist, last: *mut iolist, deadline: i64) -> libc::ssize_t {
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) as libc::ssize_t };
    match recv(cx, from_mvfs(m), ptr::null_mut(), first, last, deadline) {
        Ok(n) => n as libc::ssize_t,
        Err(e) => errno::fail(e) as libc::ssize_t,
    }
}

/// Our UDP socket behind `vfs`.
pub fn as_udp(vfs: *mut hvfs) -> Option<*mut Udp> {
    // SAFETY: vfs is a live object behind a handle.
    let q = unsafe { (*vfs).query };
    match q {
        Some(f) if ptr::fn_addr_eq(f, vfs_query as unsafe extern "C" fn(_, _) -> _) => Some(vfs as *mut Udp),
        _ => None,
    }
}

/// A UDP socket bound to `local` (if given; a port of 0 is replaced by the
/// one picked) sending to `remote` by default (if given), in `mem` if not
/// null: 2.6's memory for the whole object, or with `split` 2.14's storage
/// (aligned) for all but the remote address.
pub fn open(cx: &Ctx, local: *mut ipaddr, remote: *const ipaddr, mem: *mut c_void, split: bool) -> Result<c_int, i32> {
    // SAFETY: non-null addresses are readable (caller's contract).
    let (l, r) = unsafe { (local.as_mut(), remote.as_ref()) };
    if let (Some(l), Some(r)) = (&l, r) {
        if l.family() != r.family() {
            return Err(libc::EINVAL);
        }
    }
    let family = match r.or(l.as_deref()) {
        Some(a) => a.ip_family()?,
        None => libc::AF_INET,
    };
    let fd = fdio::socket(family, libc::SOCK_DGRAM)?;
    let res = (|| {
        if let Some(l) = l {
            // SAFETY: the sockaddr inside `l` is l.len() bytes.
            if unsafe { libc::bind(fd, l.data.as_ptr() as *const libc::sockaddr, l.len() as u32) } < 0 {
                return Err(errno::get());
            }
            if l.port() == 0 {
                let mut bound = ipaddr::zeroed();
                let mut len = 32 as libc::socklen_t;
                // SAFETY: bound has 32 writable bytes.
                if unsafe { libc::getsockname(fd, bound.data.as_mut_ptr() as *mut libc::sockaddr, &mut len) } < 0 {
                    return Err(errno::get());
                }
                l.set_port(bound.port());
            }
        }
        let how = if mem.is_null() { ALLOCATED } else if split { CALLER_SPLIT } else { CALLER };
        let u = if mem.is_null() {
            // SAFETY: plain allocation, checked below.
            unsafe { libc::malloc(core::mem::size_of::<Whole>()) as *mut Udp }
        } else {
            mem as *mut Udp
        };
        if u.is_null() {
            return Err(libc::ENOMEM);
        }
        let rem = match how {
            // SAFETY: plain allocation (only of an address there is), checked below.
            CALLER_SPLIT => if r.is_some() { unsafe { libc::malloc(core::mem::size_of::<ipaddr>()) as *mut ipaddr } } else { ptr::null_mut() },
            // SAFETY: only an address is computed; u has room for a Whole.
            _ => unsafe { ptr::addr_of_mut!((*(u as *mut Whole)).remote) },
        };
        let forget = move || {
            // SAFETY: allocated above, not referenced anywhere.
            unsafe {
                match how {
                    ALLOCATED => libc::free(u as *mut c_void),
                    CALLER_SPLIT => libc::free(rem as *mut c_void),
                    _ => {}
                }
            }
        };
        if rem.is_null() && r.is_some() {
            forget();
            return Err(libc::ENOMEM);
        }
        // SAFETY: u has room for a Udp (and what `how` puts after it), rem
        // for an address if not null.
        unsafe {
            u.write(Udp {
                hvfs: hvfs { query: Some(vfs_query), close: Some(vfs_close), done: None, refcount: 0 },
                mvfs: msock_vfs { msendl: Some(mvfs_send), mrecvl: Some(mvfs_recv) },
                fd,
                has_remote: r.is_some(),
                mem: how,
                _pad: [0; 2],
            });
            if how == CALLER_SPLIT {
                ptr::addr_of_mut!((*(u as *mut Split)).remote).write(rem);
            }
            if !rem.is_null() {
                let mut a = ipaddr::zeroed();
                if let Some(r) = r {
                    a.data = r.data;
                }
                rem.write(a);
            }
        }
        handles::make(cx, u as *mut hvfs).inspect_err(|_| forget())
    })();
    if res.is_err() {
        fdio::close(cx, fd);
    }
    res
}

/// Sends one datagram to `addr` (or the default remote). Never blocks: a
/// datagram the kernel cannot queue now is dropped, as UDP may.
pub fn send(u: *mut Udp, addr: *const ipaddr, first: *mut iolist, last: *mut iolist) -> Result<(), i32> {
    // SAFETY: u is a live socket; addr null or readable; a socket with a
    // remote has its memory.
    let (has_remote, fd) = unsafe { ((*u).has_remote, (*u).fd) };
    let dst = match unsafe { addr.as_ref() } {
        Some(a) => a,
        None if has_remote => unsafe { &*remote_of(u) },
        None => return Err(libc::EINVAL),
    };
    // SAFETY: the caller's list (C contract).
    unsafe { iol::check(first, last) }?;
    let mut iov = DgramVecs::new();
    iov.fill(first)?;
    let mut hdr = iov.msghdr();
    hdr.msg_name = dst.data.as_ptr() as *mut c_void;
    hdr.msg_namelen = dst.len() as u32;
    // SAFETY: hdr describes the destination and the caller's buffers.
    if unsafe { libc::sendmsg(fd, &hdr, libc::MSG_NOSIGNAL) } >= 0 {
        return Ok(());
    }
    match errno::get() {
        libc::EAGAIN => Ok(()),
        e => Err(e),
    }
}

/// The default remote of `u`, if it was opened with one.
pub fn default_remote(u: *mut Udp) -> Option<ipaddr> {
    // SAFETY: u is a live socket, with the memory of the remote it has;
    // ipaddr is plain bytes.
    unsafe { if (*u).has_remote { Some(core::ptr::read(remote_of(u))) } else { None } }
}

/// Receives one datagram into the list; its sender goes to `addr` if not
/// null. EMSGSIZE if it did not fit (it is consumed all the same).
pub fn recv(cx: &Ctx, u: *mut Udp, addr: *mut ipaddr, first: *mut iolist, last: *mut iolist, deadline: i64) -> Result<usize, i32> {
    // SAFETY: u is a live socket.
    let fd = unsafe { (*u).fd };
    // A null list drops the datagram; its size is still reported.
    let drop = first.is_null() && last.is_null();
    if !drop {
        // SAFETY: the caller's list (C contract).
        unsafe { iol::check(first, last) }?;
    }
    let mut iov = DgramVecs::new();
    if !drop {
        iov.fill(first)?;
    }
    // Skip pieces (null base) receive into a shared scratch area.
    if iov.filled().iter().any(|v| v.iov_base.is_null()) {
        let scratch = cx.scratch();
        if scratch.is_empty() {
            return Err(libc::ENOMEM); // No memory for the area.
        }
        for v in iov.filled().iter_mut().filter(|v| v.iov_base.is_null()) {
            v.iov_base = scratch.as_mut_ptr() as *mut c_void;
            v.iov_len = v.iov_len.min(scratch.len());
        }
    }
    let flags = if drop { libc::MSG_TRUNC } else { 0 };
    let mut from = ipaddr::zeroed();
    loop {
        let mut hdr = iov.msghdr();
        hdr.msg_name = from.data.as_mut_ptr() as *mut c_void;
        hdr.msg_namelen = 32;
        // SAFETY: hdr describes our address buffer and the caller's buffers.
        let sz = unsafe { libc::recvmsg(fd, &mut hdr, flags) };
        if sz >= 0 {
            if !addr.is_null() {
                // SAFETY: addr is writable (caller's contract).
                unsafe { addr.write(ipaddr::from_sockaddr(from.data.as_ptr() as *const libc::sockaddr, hdr.msg_namelen as usize)) };
            }
            if hdr.msg_flags & libc::MSG_TRUNC != 0 && !drop {
                return Err(libc::EMSGSIZE);
            }
            return Ok(sz as usize);
        }
        match errno::get() {
            libc::EAGAIN => {}
            e => return Err(e),
        }
        match fdwait::wait_after_eagain(cx, fd, IN, deadline) {
            0 => {}
            e => return Err(e),
        }
    }
}
