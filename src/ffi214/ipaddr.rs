//! IP addresses: the 2.6 functions under dill_ names, and dill_ipaddr_equal.

use crate::core::{ctx, errno};
use crate::ffi::ipaddr as c26;
use crate::net::resolve;
use crate::net::ipaddr::{ipaddr, Addr, Mode, IPADDR_IPV4, IPADDR_IPV6, IPADDR_PREF_IPV4, IPADDR_PREF_IPV6};
use core::ffi::{c_char, c_int, CStr};

/// Fills `addr` with a local address.
///
/// # Safety
/// `addr` must be writable; `name` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn dill_ipaddr_local(addr: *mut ipaddr, name: *const c_char, port: c_int, mode: c_int) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::ipaddr_local(addr, name, port, mode) }
}

/// Fills `addr` with the address of a remote host.
///
/// # Safety
/// `addr` must be writable; `name` a C string.
#[no_mangle]
pub unsafe extern "C" fn dill_ipaddr_remote(
    addr: *mut ipaddr,
    name: *const c_char,
    port: c_int,
    mode: c_int,
    deadline: i64,
) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::ipaddr_remote(addr, name, port, mode, deadline) }
}

/// Up to `naddrs` addresses of host `name` into `addrs`, the preferred
/// family's first; returns how many (0: none of the families asked for).
/// Both families of a PREF mode are asked for at once; each gives at most
/// `Addrs::CAP` addresses.
///
/// # Safety
/// `addrs` must be `naddrs` writable ipaddrs; `name` a C string.
#[no_mangle]
pub unsafe extern "C" fn dill_ipaddr_remotes(
    addrs: *mut ipaddr,
    naddrs: c_int,
    name: *const c_char,
    port: c_int,
    mode: c_int,
    deadline: i64,
) -> c_int {
    if addrs.is_null() || naddrs <= 0 || name.is_null() || !(0..=65535).contains(&port) {
        return errno::fail(libc::EINVAL);
    }
    // Which families, and is IPv6 first?
    let (want, v6_first) = match mode {
        0 | IPADDR_PREF_IPV4 => ([true, true], false),
        IPADDR_PREF_IPV6 => ([true, true], true),
        IPADDR_IPV4 => ([false, true], false),
        IPADDR_IPV6 => ([true, false], true),
        _ => return errno::fail(libc::EINVAL),
    };
    let Ok(cx) = ctx::get() else { return errno::fail(libc::ENOMEM) };
    // SAFETY: a C string (caller's contract).
    let text = unsafe { CStr::from_ptr(name) }.to_str().unwrap_or("");
    // A literal is the one address there is, if of a family asked for.
    if Addr::literal(text, Mode::PrefV4).is_none() {
        // SAFETY: the running coroutine is live.
        if !unsafe { (*cx.me()).can_block() } {
            return errno::fail(libc::ECANCELED);
        }
    }
    let (v6, v4) = match resolve::remotes(cx, text, want, false, deadline) {
        Ok(r) => r,
        Err(e) => return errno::fail(e),
    };
    let (first, second) = if v6_first { (v6, v4) } else { (v4, v6) };
    let mut n = 0;
    for &a in first.as_slice().iter().chain(second.as_slice()).take(naddrs as usize) {
        // SAFETY: n < naddrs: a writable ipaddr.
        unsafe { addrs.add(n).write(ipaddr::new(a, port as u16)) };
        n += 1;
    }
    n as c_int
}

/// Formats the address (without port) into `ipstr`.
///
/// # Safety
/// `addr` readable, `ipstr` IPADDR_MAXSTRLEN writable bytes.
#[no_mangle]
pub unsafe extern "C" fn dill_ipaddr_str(addr: *const ipaddr, ipstr: *mut c_char) -> *const c_char {
    // SAFETY: the same contract.
    unsafe { c26::ipaddr_str(addr, ipstr) }
}

/// AF_INET or AF_INET6.
///
/// # Safety
/// `addr` must be readable.
#[no_mangle]
pub unsafe extern "C" fn dill_ipaddr_family(addr: *const ipaddr) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::ipaddr_family(addr) }
}

/// Length of the sockaddr.
///
/// # Safety
/// `addr` must be readable.
#[no_mangle]
pub unsafe extern "C" fn dill_ipaddr_len(addr: *const ipaddr) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::ipaddr_len(addr) }
}

/// The address as a `struct sockaddr`.
///
/// # Safety
/// `addr` must be readable.
#[no_mangle]
pub unsafe extern "C" fn dill_ipaddr_sockaddr(addr: *const ipaddr) -> *const libc::sockaddr {
    // SAFETY: the same contract.
    unsafe { c26::ipaddr_sockaddr(addr) }
}

/// The port number.
///
/// # Safety
/// `addr` must be readable.
#[no_mangle]
pub unsafe extern "C" fn dill_ipaddr_port(addr: *const ipaddr) -> c_int {
    // SAFETY: the same contract.
    unsafe { c26::ipaddr_port(addr) }
}

/// Sets the port number.
///
/// # Safety
/// `addr` must be writable.
#[no_mangle]
pub unsafe extern "C" fn dill_ipaddr_setport(addr: *mut ipaddr, port: c_int) {
    // SAFETY: the same contract.
    unsafe { c26::ipaddr_setport(addr, port) }
}

/// 1 if both are the same address of the same family (and the same port,
/// unless `ignore_port`), else 0.
///
/// # Safety
/// Both must be readable (NULL compares unequal).
#[no_mangle]
pub unsafe extern "C" fn dill_ipaddr_equal(addr1: *const ipaddr, addr2: *const ipaddr, ignore_port: c_int) -> c_int {
    // SAFETY: caller's contract.
    let (Some(a), Some(b)) = (unsafe { addr1.as_ref() }, unsafe { addr2.as_ref() }) else { return 0 };
    a.same(b, ignore_port != 0) as c_int
}
