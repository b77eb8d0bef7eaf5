//! IP addresses: ipaddr_local, ipaddr_remote, ipaddr_str and the accessors.

use crate::core::{ctx, errno};
use crate::net::ipaddr::{ipaddr, Addr, Mode, IPADDR_MAXSTRLEN};
use crate::net::resolve;
use core::ffi::{c_char, c_int, CStr};

/// Validates the common arguments of ipaddr_local/ipaddr_remote. The
/// address is zeroed first, as the original does, so a failed call leaves
/// no stale address behind.
fn args(addr: *mut ipaddr, port: c_int, mode: c_int) -> Result<(u16, Mode), i32> {
    if addr.is_null() {
        return Err(libc::EINVAL);
    }
    // SAFETY: addr is non-null and writable (caller's contract).
    unsafe { addr.write(ipaddr::zeroed()) };
    if !(0..=65535).contains(&port) {
        return Err(libc::EINVAL);
    }
    Ok((port as u16, Mode::from_c(mode)?))
}

/// The name as UTF-8 text; names that are not cannot resolve.
fn text<'a>(name: *const c_char, bad: i32) -> Result<&'a str, i32> {
    // SAFETY: non-null names are zero-terminated C strings (caller's contract).
    unsafe { CStr::from_ptr(name) }.to_str().map_err(|_| bad)
}

fn store(addr: *mut ipaddr, r: Result<Addr, i32>, port: u16) -> c_int {
    match r {
        Ok(a) => {
            // SAFETY: addr checked non-null by `args`.
            unsafe { addr.write(ipaddr::new(a, port)) };
            0
        }
        Err(e) => errno::fail(e),
    }
}

/// Fills `addr` with a local address: a literal, an interface name, or any
/// address for a NULL name.
///
/// # Safety
/// `addr` must be writable; `name` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn ipaddr_local(addr: *mut ipaddr, name: *const c_char, port: c_int, mode: c_int) -> c_int {
    let (port, mode) = match args(addr, port, mode) {
        Ok(v) => v,
        Err(e) => return errno::fail(e),
    };
    if name.is_null() {
        return store(addr, Ok(Addr::any(mode)), port);
    }
    // A literal of a family the mode excludes is "no such device" here, the
    // only errno the man page has.
    let r = text(name, libc::ENODEV).and_then(|n| match Addr::literal(n, mode) {
        Some(r) => r.map_err(|_| libc::ENODEV),
        None => resolve::local(n, mode),
    });
    store(addr, r, port)
}

/// Fills `addr` with the address of a remote host: a literal or a name
/// resolved through /etc/hosts and DNS, within `deadline`.
///
/// # Safety
/// `addr` must be writable; `name` a C string.
#[no_mangle]
pub unsafe extern "C" fn ipaddr_remote(
    addr: *mut ipaddr,
    name: *const c_char,
    port: c_int,
    mode: c_int,
    deadline: i64,
) -> c_int {
    let (port, mode) = match args(addr, port, mode) {
        Ok(v) => v,
        Err(e) => return errno::fail(e),
    };
    if name.is_null() {
        return errno::fail(libc::EINVAL);
    }
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    // SAFETY: the running coroutine is live.
    if !unsafe { (*cx.me()).can_block() } {
        return errno::fail(libc::ECANCELED);
    }
    let r = text(name, libc::EADDRNOTAVAIL).and_then(|n| match Addr::literal(n, mode) {
        Some(r) => r,
        None => resolve::remote(cx, n, mode, deadline),
    });
    store(addr, r, port)
}

/// Formats the address (without port) into `ipstr`, which must hold
/// IPADDR_MAXSTRLEN bytes; returns `ipstr`.
///
/// # Safety
/// `addr` readable, `ipstr` IPADDR_MAXSTRLEN writable bytes.
#[no_mangle]
pub unsafe extern "C" fn ipaddr_str(addr: *const ipaddr, ipstr: *mut c_char) -> *const c_char {
    if addr.is_null() || ipstr.is_null() {
        errno::set(libc::EINVAL);
        return ipstr;
    }
    let mut buf = [0u8; IPADDR_MAXSTRLEN];
    // SAFETY: addr checked non-null.
    unsafe { (*addr).format(&mut buf) };
    // SAFETY: ipstr has IPADDR_MAXSTRLEN bytes (caller's contract).
    unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), ipstr as *mut u8, IPADDR_MAXSTRLEN) };
    ipstr
}

/// AF_INET or AF_INET6 (or whatever else the family field holds).
///
/// # Safety
/// `addr` must be readable.
#[no_mangle]
pub unsafe extern "C" fn ipaddr_family(addr: *const ipaddr) -> c_int {
    // SAFETY: caller's contract; NULL gives the default family.
    unsafe { addr.as_ref() }.map_or(libc::AF_INET, |a| a.family())
}

/// Length of the sockaddr returned by ipaddr_sockaddr.
///
/// # Safety
/// `addr` must be readable.
#[no_mangle]
pub unsafe extern "C" fn ipaddr_len(addr: *const ipaddr) -> c_int {
    // SAFETY: caller's contract.
    unsafe { addr.as_ref() }.map_or(0, |a| a.len() as c_int)
}

/// The address as a `struct sockaddr` (it points into `addr`).
///
/// # Safety
/// `addr` must be readable.
#[no_mangle]
pub unsafe extern "C" fn ipaddr_sockaddr(addr: *const ipaddr) -> *const libc::sockaddr {
    addr as *const libc::sockaddr
}

/// The port number.
///
/// # Safety
/// `addr` must be readable.
#[no_mangle]
pub unsafe extern "C" fn ipaddr_port(addr: *const ipaddr) -> c_int {
    // SAFETY: caller's contract.
    unsafe { addr.as_ref() }.map_or(0, |a| a.port() as c_int)
}

/// Sets the port number.
///
/// # Safety
/// `addr` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ipaddr_setport(addr: *mut ipaddr, port: c_int) {
    // SAFETY: caller's contract.
    if let Some(a) = unsafe { addr.as_mut() } {
        a.set_port(port as u16);
    }
}
