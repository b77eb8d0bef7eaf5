//! IP addresses: the 2.6 functions under dill_ names, and dill_ipaddr_equal.

use crate::ffi::ipaddr as c26;
use crate::net::ipaddr::ipaddr;
use core::ffi::{c_char, c_int};

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
