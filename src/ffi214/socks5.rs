//! SOCKS5: dill_socks5_client_connect(byname) and the proxy helpers
//! dill_socks5_proxy_auth, _recvcommand(byname), _sendreply.

use crate::ffi::ipaddr::ipaddr_remote;
use crate::net::ipaddr::{ipaddr, Addr, Mode, IPADDR_PREF_IPV4};
use crate::proto::socks5::{self, Target};
use core::ffi::{c_char, c_int, CStr};

/// The bytes of a C string, or None for NULL.
///
/// # Safety
/// `p` is NULL or a C string.
unsafe fn bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: per the contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// Greets a SOCKS5 proxy on byte stream `s` (authenticating if `username`
/// and `password` are given) and asks it to connect to `addr`.
///
/// # Safety
/// Strings NULL or C strings; `addr` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn dill_socks5_client_connect(
    s: c_int,
    username: *const c_char,
    password: *const c_char,
    addr: *mut ipaddr,
    deadline: i64,
) -> c_int {
    // SAFETY: the caller's strings and address.
    let (user, pass, a) = unsafe { (bytes(username), bytes(password), addr.as_ref()) };
    crate::ffi::with_ctx(|cx| {
        let a = a.ok_or(libc::EINVAL)?;
        let fam = a.family();
        if fam != libc::AF_INET && fam != libc::AF_INET6 {
            return Err(libc::EINVAL);
        }
        socks5::client_auth(cx, s, user, pass, deadline)?;
        socks5::client_connect(cx, s, Target::Ip(a.addr()), a.port(), deadline).map(|()| 0)
    })
}

/// As dill_socks5_client_connect, to `hostname`:`port` (an address
/// literal, or a name the proxy resolves).
///
/// # Safety
/// Strings NULL or C strings.
#[no_mangle]
pub unsafe extern "C" fn dill_socks5_client_connectbyname(
    s: c_int,
    username: *const c_char,
    password: *const c_char,
    hostname: *const c_char,
    port: c_int,
    deadline: i64,
) -> c_int {
    // SAFETY: the caller's strings.
    let (user, pass, host) = unsafe { (bytes(username), bytes(password), bytes(hostname)) };
    crate::ffi::with_ctx(|cx| {
        let host = host.filter(|h| h.len() <= 255).ok_or(libc::EINVAL)?;
        if !(1..=65535).contains(&port) {
            return Err(libc::EINVAL);
        }
        let literal = core::str::from_utf8(host).ok().and_then(|t| Addr::literal(t, Mode::PrefV4)).and_then(Result::ok);
        let target = literal.map_or(Target::Name(host), Target::Ip);
        socks5::client_auth(cx, s, user, pass, deadline)?;
        socks5::client_connect(cx, s, target, port as u16, deadline).map(|()| 0)
    })
}

/// The proxy's side of the greeting on `s`; `auth_fn` (a
/// `dill_socks5_auth_function *`: nonzero accepts a user name and
/// password) NULL accepts clients that need no authentication.
#[no_mangle]
pub extern "C" fn dill_socks5_proxy_auth(s: c_int, auth_fn: Option<unsafe extern "C" fn(username: *const c_char, password: *const c_char) -> c_int>, deadline: i64) -> c_int {
    crate::ffi::with_ctx(|cx| socks5::proxy_auth(cx, s, auth_fn, deadline).map(|()| 0))
}

/// Reads the client's command; its target goes to `ipaddr` (a name is
/// resolved here). Returns the command.
///
/// # Safety
/// `ipaddr` must be writable.
#[no_mangle]
pub unsafe extern "C" fn dill_socks5_proxy_recvcommand(s: c_int, ipaddr: *mut ipaddr, deadline: i64) -> c_int {
    crate::ffi::with_ctx(|cx| {
        if ipaddr.is_null() {
            return Err(libc::EINVAL);
        }
        let c = socks5::proxy_command(cx, s, deadline)?;
        match c.ip() {
            // SAFETY: ipaddr is writable (caller's contract).
            Some(a) => unsafe { ipaddr.write(crate::net::ipaddr::ipaddr::new(a, c.port)) },
            None => {
                let mut name = [0u8; 256];
                c.host(&mut name);
                // SAFETY: a NUL-terminated name; ipaddr writable.
                if unsafe { ipaddr_remote(ipaddr, name.as_ptr() as *const c_char, c.port as c_int, IPADDR_PREF_IPV4, deadline) } < 0 {
                    return Err(crate::core::errno::get());
                }
            }
        }
        Ok(c.cmd as c_int)
    })
}

/// Reads the client's command; its host (name or address as text, at most
/// 256 bytes with the NUL) goes to `host`, its port to `port`. Returns the
/// command.
///
/// # Safety
/// `host` must be 256 writable bytes, `port` a writable int.
#[no_mangle]
pub unsafe extern "C" fn dill_socks5_proxy_recvcommandbyname(s: c_int, host: *mut c_char, port: *mut c_int, deadline: i64) -> c_int {
    crate::ffi::with_ctx(|cx| {
        if host.is_null() || port.is_null() {
            return Err(libc::EINVAL);
        }
        let c = socks5::proxy_command(cx, s, deadline)?;
        let mut name = [0u8; 256];
        c.host(&mut name);
        // SAFETY: the caller's buffers of the documented sizes.
        unsafe {
            core::ptr::copy_nonoverlapping(name.as_ptr(), host as *mut u8, name.len());
            *port = c.port as c_int;
        }
        Ok(c.cmd as c_int)
    })
}

/// Sends the proxy's reply `reply` with the bound address `ipaddr`.
///
/// # Safety
/// `ipaddr` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn dill_socks5_proxy_sendreply(s: c_int, reply: c_int, ipaddr: *mut ipaddr, deadline: i64) -> c_int {
    // SAFETY: the caller's address.
    let a = unsafe { ipaddr.as_ref() };
    crate::ffi::with_ctx(|cx| socks5::proxy_reply(cx, s, reply, a.ok_or(libc::EINVAL)?, deadline).map(|()| 0))
}
