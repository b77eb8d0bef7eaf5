//! SOCKS5 (RFC 1928, with RFC 1929 user/password authentication) over any
//! byte-stream socket, as 2.14 offers it: the client's greeting and CONNECT,
//! and the helpers a proxy needs (authenticate, read the command, reply).
//! Nothing is kept between calls; each runs the exchange on the socket.

use crate::core::ctx::Ctx;
use crate::ffi::bsock;
use crate::ffi::handles::hquery;
use crate::net::iol::iolist;
use crate::net::ipaddr::{ipaddr, Addr, IPADDR_MAXSTRLEN};
use crate::net::vfs::bsock_id;
use core::ffi::{c_char, c_int, c_void};
use core::ptr;
use std::net::{Ipv4Addr, Ipv6Addr};

const VER: u8 = 5;
const AUTH_VER: u8 = 1;
const NO_AUTH: u8 = 0;
const USER_PASS: u8 = 2;
const NO_METHOD: u8 = 0xff;
const ATYP_V4: u8 = 1;
const ATYP_NAME: u8 = 3;
const ATYP_V6: u8 = 4;
/// CONNECT; BIND and UDP ASSOCIATE are 2 and 3.
const CMD_CONNECT: u8 = 1;
const CMD_LAST: u8 = 3;
/// The last reply code RFC 1928 defines.
const REPLY_LAST: c_int = 8;

/// Where a command points: an address, or a host name (up to 255 bytes).
pub enum Target<'a> {
    Ip(Addr),
    Name(&'a [u8]),
}

/// A command as the proxy reads it.
pub struct Command {
    pub cmd: u8,
    pub atyp: u8,
    /// The address (4 or 16 bytes) or the name, `len` bytes of it.
    pub addr: [u8; 256],
    pub len: usize,
    pub port: u16,
}

fn io(cx: &Ctx, s: c_int, buf: *mut u8, len: usize, deadline: i64, send: bool) -> Result<(), i32> {
    if len == 0 {
        return Ok(());
    }
    let mut piece = iolist { iol_base: buf as *mut c_void, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 };
    match bsock::io(cx, s, &mut piece, &mut piece, deadline, send) {
        0 => Ok(()),
        e => Err(e),
    }
}

fn send(cx: &Ctx, s: c_int, bytes: &[u8], deadline: i64) -> Result<(), i32> {
    io(cx, s, bytes.as_ptr() as *mut u8, bytes.len(), deadline, true)
}

fn recv(cx: &Ctx, s: c_int, buf: &mut [u8], deadline: i64) -> Result<(), i32> {
    io(cx, s, buf.as_mut_ptr(), buf.len(), deadline, false)
}

/// EPROTO-or-errno unless `s` is a byte stream.
fn byte_stream(s: c_int) -> Result<(), i32> {
    if hquery(s, bsock_id()).is_null() {
        return Err(crate::core::errno::get());
    }
    Ok(())
}

/// The client's greeting: no authentication, or user/password when both
/// are given (each at most 255 bytes).
pub fn client_auth(cx: &Ctx, s: c_int, user: Option<&[u8]>, pass: Option<&[u8]>, deadline: i64) -> Result<(), i32> {
    byte_stream(s)?;
    if user.is_some_and(|u| u.len() > 255) || pass.is_some_and(|p| p.len() > 255) {
        return Err(libc::EINVAL);
    }
    let creds = user.zip(pass);
    if creds.is_some() {
        send(cx, s, &[VER, 2, NO_AUTH, USER_PASS], deadline)?;
    } else {
        send(cx, s, &[VER, 1, NO_AUTH], deadline)?;
    }
    let mut r = [0u8; 2];
    recv(cx, s, &mut r, deadline)?;
    if r[0] != VER {
        return Err(libc::EPROTO);
    }
    match (r[1], creds) {
        (NO_AUTH, _) => Ok(()),
        (USER_PASS, Some((u, p))) => {
            let mut m = [0u8; 513];
            m[0] = AUTH_VER;
            m[1] = u.len() as u8;
            m[2..2 + u.len()].copy_from_slice(u);
            m[2 + u.len()] = p.len() as u8;
            m[3 + u.len()..3 + u.len() + p.len()].copy_from_slice(p);
            send(cx, s, &m[..3 + u.len() + p.len()], deadline)?;
            recv(cx, s, &mut r, deadline)?;
            if r[0] != AUTH_VER {
                return Err(libc::EPROTO);
            }
            if r[1] != 0 { Err(libc::EACCES) } else { Ok(()) }
        }
        (NO_METHOD, _) => Err(libc::EACCES),
        // A method we did not offer.
        _ => Err(libc::EPROTO),
    }
}

/// Encodes ATYP, address and port into `out`; returns the length.
fn put_target(out: &mut [u8], t: &Target, port: u16) -> usize {
    let n = match t {
        Target::Ip(Addr::V4(a)) => {
            out[0] = ATYP_V4;
            out[1..5].copy_from_slice(&a.octets());
            5
        }
        Target::Ip(Addr::V6(a)) => {
            out[0] = ATYP_V6;
            out[1..17].copy_from_slice(&a.octets());
            17
        }
        Target::Name(n) => {
            out[0] = ATYP_NAME;
            out[1] = n.len() as u8;
            out[2..2 + n.len()].copy_from_slice(n);
            2 + n.len()
        }
    };
    out[n..n + 2].copy_from_slice(&port.to_be_bytes());
    n + 2
}

/// The client's CONNECT to `target`:`port`, and the proxy's answer.
pub fn client_connect(cx: &Ctx, s: c_int, target: Target, port: u16, deadline: i64) -> Result<(), i32> {
    byte_stream(s)?;
    let mut m = [0u8; 262];
    m[..3].copy_from_slice(&[VER, CMD_CONNECT, 0]);
    let n = 3 + put_target(&mut m[3..], &target, port);
    send(cx, s, &m[..n], deadline)?;
    let r = read_request(cx, s, deadline)?;
    match r.cmd {
        0 => Ok(()),
        1 => Err(libc::EIO),
        2 => Err(libc::EACCES),
        3 => Err(libc::ENETUNREACH),
        4 => Err(libc::EHOSTUNREACH),
        5 => Err(libc::ECONNREFUSED),
        6 => Err(libc::ETIMEDOUT),
        7 => Err(libc::EOPNOTSUPP),
        8 => Err(libc::EAFNOSUPPORT),
        _ => Err(libc::EPROTO),
    }
}

/// A request (or reply: the same shape) from the peer: VER, CMD/REP, RSV,
/// then the address.
fn read_request(cx: &Ctx, s: c_int, deadline: i64) -> Result<Command, i32> {
    let mut h = [0u8; 4];
    recv(cx, s, &mut h, deadline)?;
    if h[0] != VER {
        return Err(libc::EPROTO);
    }
    let mut c = Command { cmd: h[1], atyp: h[3], addr: [0; 256], len: 0, port: 0 };
    c.len = match h[3] {
        ATYP_V4 => 4,
        ATYP_V6 => 16,
        ATYP_NAME => {
            let mut l = [0u8; 1];
            recv(cx, s, &mut l, deadline)?;
            l[0] as usize
        }
        _ => return Err(libc::EPROTO),
    };
    recv(cx, s, &mut c.addr[..c.len], deadline)?;
    let mut p = [0u8; 2];
    recv(cx, s, &mut p, deadline)?;
    c.port = u16::from_be_bytes(p);
    Ok(c)
}

/// The proxy's side of the greeting: no authentication when the client
/// offers it and there is no `auth` callback; user/password checked by
/// `auth` otherwise. EACCES when they do not agree (the client is told).
pub fn proxy_auth(cx: &Ctx, s: c_int, auth: Option<unsafe extern "C" fn(*const c_char, *const c_char) -> c_int>, deadline: i64) -> Result<(), i32> {
    byte_stream(s)?;
    let mut h = [0u8; 2];
    recv(cx, s, &mut h, deadline)?;
    if h[0] != VER {
        return Err(libc::EPROTO);
    }
    let mut methods = [0u8; 255];
    let methods = &mut methods[..h[1] as usize];
    recv(cx, s, methods, deadline)?;
    // (A loop, not slice::contains: that would be memchr, whose shared
    // code LTO would then specialise differently for the 2.6 paths too.)
    let offered = |m: u8| methods.iter().any(|&x| x == m);
    let (no_auth, user_pass) = (offered(NO_AUTH), offered(USER_PASS));
    let Some(f) = auth.filter(|_| user_pass) else {
        if no_auth && auth.is_none() {
            return send(cx, s, &[VER, NO_AUTH], deadline);
        }
        send(cx, s, &[VER, NO_METHOD], deadline)?;
        return Err(libc::EACCES);
    };
    send(cx, s, &[VER, USER_PASS], deadline)?;
    // VER ULEN UNAME PLEN PASSWD; each string gets its terminating NUL.
    let mut v = [0u8; 2];
    recv(cx, s, &mut v, deadline)?;
    if v[0] != AUTH_VER {
        return Err(libc::EPROTO);
    }
    let mut user = [0u8; 256];
    recv(cx, s, &mut user[..v[1] as usize], deadline)?;
    let mut plen = [0u8; 1];
    recv(cx, s, &mut plen, deadline)?;
    let mut pass = [0u8; 256];
    recv(cx, s, &mut pass[..plen[0] as usize], deadline)?;
    // SAFETY: the caller's callback, given two NUL-terminated strings.
    let ok = unsafe { f(user.as_ptr() as *const c_char, pass.as_ptr() as *const c_char) } != 0;
    send(cx, s, &[AUTH_VER, if ok { 0 } else { 0xff }], deadline)?;
    if ok { Ok(()) } else { Err(libc::EACCES) }
}

/// The proxy reads the client's command (CONNECT, BIND or UDP ASSOCIATE).
pub fn proxy_command(cx: &Ctx, s: c_int, deadline: i64) -> Result<Command, i32> {
    byte_stream(s)?;
    let c = read_request(cx, s, deadline)?;
    if c.cmd < CMD_CONNECT || c.cmd > CMD_LAST {
        return Err(libc::EPROTO);
    }
    Ok(c)
}

impl Command {
    /// The address of an IPv4 or IPv6 command (None for a name).
    pub fn ip(&self) -> Option<Addr> {
        match self.atyp {
            ATYP_V4 => Some(Addr::V4(Ipv4Addr::new(self.addr[0], self.addr[1], self.addr[2], self.addr[3]))),
            ATYP_V6 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(&self.addr[..16]);
                Some(Addr::V6(Ipv6Addr::from(o)))
            }
            _ => None,
        }
    }

    /// The host as text into `out` (256 bytes): the name, or the address
    /// in inet_ntop's notation; NUL-terminated.
    pub fn host(&self, out: &mut [u8; 256]) {
        match self.ip() {
            Some(a) => {
                let mut b = [0u8; IPADDR_MAXSTRLEN];
                ipaddr::new(a, 0).format(&mut b);
                out[..IPADDR_MAXSTRLEN].copy_from_slice(&b);
            }
            None => {
                out[..self.len].copy_from_slice(&self.addr[..self.len]);
                out[self.len] = 0;
            }
        }
    }
}

/// The proxy's reply `reply` (0 to 8) with the bound address `addr`.
pub fn proxy_reply(cx: &Ctx, s: c_int, reply: c_int, addr: &ipaddr, deadline: i64) -> Result<(), i32> {
    if !(0..=REPLY_LAST).contains(&reply) {
        return Err(libc::EINVAL);
    }
    let fam = addr.family();
    if fam != libc::AF_INET && fam != libc::AF_INET6 {
        return Err(libc::EINVAL);
    }
    byte_stream(s)?;
    let mut m = [0u8; 262];
    m[..3].copy_from_slice(&[VER, reply as u8, 0]);
    let n = 3 + put_target(&mut m[3..], &Target::Ip(addr.addr()), addr.port());
    send(cx, s, &m[..n], deadline)
}
