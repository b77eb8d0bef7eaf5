//! IP addresses: the 2.6 functions under dill_ names, and dill_ipaddr_equal.

use crate::core::errno;
use crate::ffi::ipaddr as c26;
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
/// family first; returns how many (0: none of the families asked for).
/// Our resolver gives one address per family, so at most two come back.
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
    let order: &[c_int] = match mode {
        0 | IPADDR_PREF_IPV4 => &[IPADDR_IPV4, IPADDR_IPV6],
        IPADDR_PREF_IPV6 => &[IPADDR_IPV6, IPADDR_IPV4],
        IPADDR_IPV4 => &[IPADDR_IPV4],
        IPADDR_IPV6 => &[IPADDR_IPV6],
        _ => return errno::fail(libc::EINVAL),
    };
    // SAFETY: a C string (caller's contract).
    let text = unsafe { CStr::from_ptr(name) }.to_str().unwrap_or("");
    // A literal is the one address there is, if of a family asked for.
    if let Some(Ok(a)) = Addr::literal(text, Mode::PrefV4) {
        let fam = if matches!(a, Addr::V4(_)) { IPADDR_IPV4 } else { IPADDR_IPV6 };
        if !order.contains(&fam) {
            return 0;
        }
        // SAFETY: naddrs > 0 writable ipaddrs.
        unsafe { addrs.write(ipaddr::new(a, port as u16)) };
        return 1;
    }
    let mut n = 0;
    for &fam in order {
        if n == naddrs {
            break;
        }
        // SAFETY: n < naddrs: a writable ipaddr; name is a C string.
        match unsafe { c26::ipaddr_remote(addrs.add(n as usize), name, port, fam, deadline) } {
            0 => n += 1,
            // No address of this family: try the next.
            _ if errno::get() == libc::EADDRNOTAVAIL => {}
            _ => return -1,
        }
    }
    n
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
