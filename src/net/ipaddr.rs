//! `struct ipaddr`: 32 opaque bytes holding a `sockaddr_in` or `sockaddr_in6`
//! (the C side may get a pointer to it as a `struct sockaddr`). The C struct
//! is only byte-aligned, so it is read and written by copying.

use core::ffi::{c_char, c_int, c_void};
use core::mem::size_of;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Layout is ABI: 32 bytes, byte-aligned.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct ipaddr {
    pub data: [c_char; 32],
}

pub const IPADDR_IPV4: i32 = 1;
pub const IPADDR_IPV6: i32 = 2;
pub const IPADDR_PREF_IPV4: i32 = 3;
pub const IPADDR_PREF_IPV6: i32 = 4;
/// Longest text of an address, with its terminating zero.
pub const IPADDR_MAXSTRLEN: usize = 46;

extern "C" {
    // POSIX (arpa/inet.h); the libc crate does not declare it.
    fn inet_ntop(af: c_int, src: *const c_void, dst: *mut c_char, size: libc::socklen_t) -> *const c_char;
}

/// Which families a lookup may return, in order of preference.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    V4,
    V6,
    PrefV4,
    PrefV6,
}

impl Mode {
    /// The C mode argument; 0 is the default (prefer IPv4).
    pub fn from_c(mode: i32) -> Result<Mode, i32> {
        match mode {
            0 | IPADDR_PREF_IPV4 => Ok(Mode::PrefV4),
            IPADDR_IPV4 => Ok(Mode::V4),
            IPADDR_IPV6 => Ok(Mode::V6),
            IPADDR_PREF_IPV6 => Ok(Mode::PrefV6),
            _ => Err(libc::EINVAL),
        }
    }

    pub fn allows_v4(self) -> bool {
        self != Mode::V6
    }

    pub fn allows_v6(self) -> bool {
        self != Mode::V4
    }

    /// Picks from the candidates found for a name, as the mode prefers.
    pub fn choose(self, v4: Option<Ipv4Addr>, v6: Option<Ipv6Addr>) -> Option<Addr> {
        let (a, b) = (v4.map(Addr::V4), v6.map(Addr::V6));
        match self {
            Mode::V4 => a,
            Mode::V6 => b,
            Mode::PrefV4 => a.or(b),
            Mode::PrefV6 => b.or(a),
        }
    }
}

/// An IP address without port, as resolution produces it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Addr {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl Addr {
    /// The wildcard address of the family the mode prefers.
    pub fn any(mode: Mode) -> Addr {
        match mode {
            Mode::V6 | Mode::PrefV6 => Addr::V6(Ipv6Addr::UNSPECIFIED),
            _ => Addr::V4(Ipv4Addr::UNSPECIFIED),
        }
    }

    /// A literal IPv4 or IPv6 address, if `name` is one and the mode allows
    /// its family. Some(Err) for a literal of the wrong family.
    pub fn literal(name: &str, mode: Mode) -> Option<Result<Addr, i32>> {
        if let Ok(a) = name.parse::<Ipv4Addr>() {
            return Some(if mode.allows_v4() { Ok(Addr::V4(a)) } else { Err(libc::EADDRNOTAVAIL) });
        }
        if let Ok(a) = name.parse::<Ipv6Addr>() {
            return Some(if mode.allows_v6() { Ok(Addr::V6(a)) } else { Err(libc::EADDRNOTAVAIL) });
        }
        None
    }
}

/// Several addresses of one family, as a lookup finds them: in order,
/// without repeats, at most `Addrs::CAP` (the rest are dropped). Fixed
/// size, so a lookup allocates nothing.
#[derive(Clone, Copy, Debug)]
pub struct Addrs {
    a: [Addr; Addrs::CAP],
    n: usize,
}

impl Addrs {
    /// As many as the original's Happy Eyeballs asks for per family.
    pub(crate) const CAP: usize = 10;

    pub const fn new() -> Addrs {
        Addrs { a: [Addr::V4(Ipv4Addr::UNSPECIFIED); Addrs::CAP], n: 0 }
    }

    /// Adds `x` unless it is there already or the list is full.
    pub fn push(&mut self, x: Addr) {
        if self.n < Addrs::CAP && !self.as_slice().contains(&x) {
            self.a[self.n] = x;
            self.n += 1;
        }
    }

    pub fn as_slice(&self) -> &[Addr] {
        &self.a[..self.n]
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

impl Default for Addrs {
    fn default() -> Addrs {
        Addrs::new()
    }
}

impl PartialEq for Addrs {
    fn eq(&self, o: &Addrs) -> bool {
        self.as_slice() == o.as_slice()
    }
}

impl Eq for Addrs {}

impl ipaddr {
    pub const fn zeroed() -> ipaddr {
        ipaddr { data: [0; 32] }
    }

    /// The address `a` with `port`.
    pub fn new(a: Addr, port: u16) -> ipaddr {
        let mut out = ipaddr::zeroed();
        match a {
            Addr::V4(ip) => {
                // SAFETY: all-zero is a valid sockaddr_in.
                let mut sa: libc::sockaddr_in = unsafe { core::mem::zeroed() };
                sa.sin_family = libc::AF_INET as libc::sa_family_t;
                sa.sin_port = port.to_be();
                sa.sin_addr.s_addr = u32::from_ne_bytes(ip.octets());
                out.put(&sa);
            }
            Addr::V6(ip) => {
                // SAFETY: all-zero is a valid sockaddr_in6.
                let mut sa: libc::sockaddr_in6 = unsafe { core::mem::zeroed() };
                sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sa.sin6_port = port.to_be();
                sa.sin6_addr.s6_addr = ip.octets();
                out.put(&sa);
            }
        }
        out
    }

    fn put<T>(&mut self, v: &T) {
        const { assert!(size_of::<libc::sockaddr_in6>() <= 32) };
        // SAFETY: T is a sockaddr of at most 32 bytes; data has 32.
        unsafe {
            core::ptr::copy_nonoverlapping(
                v as *const T as *const u8,
                self.data.as_mut_ptr() as *mut u8,
                size_of::<T>(),
            )
        };
    }

    fn get<T>(&self) -> T {
        // SAFETY: reads size_of::<T>() <= 32 bytes; T is a plain sockaddr.
        unsafe { core::ptr::read_unaligned(self.data.as_ptr() as *const T) }
    }

    /// The same address of the same family, and the same port unless
    /// `ignore_port` (2.14's ipaddr_equal).
    pub fn same(&self, other: &ipaddr, ignore_port: bool) -> bool {
        self.family() == other.family() && self.addr() == other.addr() && (ignore_port || self.port() == other.port())
    }

    /// The family field as stored: AF_INET, AF_INET6, or whatever the
    /// caller put there (the original reports it as is).
    pub fn family(&self) -> i32 {
        let f: libc::sa_family_t = self.get();
        f as i32
    }

    /// Everything that is not IPv4 reads as IPv6, as with the original.
    #[inline]
    fn is_v4(&self) -> bool {
        self.family() == libc::AF_INET
    }

    /// The family for a socket: AF_INET or AF_INET6, else EAFNOSUPPORT.
    pub fn ip_family(&self) -> Result<i32, i32> {
        match self.family() {
            f @ (libc::AF_INET | libc::AF_INET6) => Ok(f),
            _ => Err(libc::EAFNOSUPPORT),
        }
    }

    /// Length of the sockaddr inside.
    pub fn len(&self) -> usize {
        if self.is_v4() {
            size_of::<libc::sockaddr_in>()
        } else {
            size_of::<libc::sockaddr_in6>()
        }
    }

    pub fn port(&self) -> u16 {
        if self.is_v4() {
            u16::from_be(self.get::<libc::sockaddr_in>().sin_port)
        } else {
            u16::from_be(self.get::<libc::sockaddr_in6>().sin6_port)
        }
    }

    pub fn set_port(&mut self, port: u16) {
        if self.is_v4() {
            let mut sa: libc::sockaddr_in = self.get();
            sa.sin_port = port.to_be();
            self.put(&sa);
        } else {
            let mut sa: libc::sockaddr_in6 = self.get();
            sa.sin6_port = port.to_be();
            self.put(&sa);
        }
    }

    pub fn addr(&self) -> Addr {
        if self.is_v4() {
            Addr::V4(Ipv4Addr::from(self.get::<libc::sockaddr_in>().sin_addr.s_addr.to_ne_bytes()))
        } else {
            Addr::V6(Ipv6Addr::from(self.get::<libc::sockaddr_in6>().sin6_addr.s6_addr))
        }
    }

    /// Builds an ipaddr from a sockaddr the kernel filled in (accept,
    /// recvfrom, getsockname). Unknown families give a zeroed IPv4 address.
    ///
    /// # Safety
    /// `sa` points to `len` readable bytes.
    pub unsafe fn from_sockaddr(sa: *const libc::sockaddr, len: usize) -> ipaddr {
        let mut out = ipaddr::zeroed();
        // SAFETY: per the contract; at most 32 bytes are copied.
        unsafe {
            let fam = (*sa).sa_family as i32;
            if (fam == libc::AF_INET || fam == libc::AF_INET6) && len <= 32 {
                core::ptr::copy_nonoverlapping(sa as *const u8, out.data.as_mut_ptr() as *mut u8, len);
            } else {
                out = ipaddr::new(Addr::V4(Ipv4Addr::UNSPECIFIED), 0);
            }
        }
        out
    }

    /// Writes the address as text (no port), zero-terminated, into `buf`,
    /// in inet_ntop's notation (as the original: "::1.2.3.4" and the like).
    pub fn format(&self, buf: &mut [u8; IPADDR_MAXSTRLEN]) {
        let mut src = [0u8; 16];
        let af = match self.addr() {
            Addr::V4(a) => {
                src[..4].copy_from_slice(&a.octets());
                libc::AF_INET
            }
            Addr::V6(a) => {
                src = a.octets();
                libc::AF_INET6
            }
        };
        buf[0] = 0;
        // SAFETY: src holds an address of family af; buf has room for the
        // longest text of either family (IPADDR_MAXSTRLEN is 46).
        unsafe {
            inet_ntop(af, src.as_ptr() as *const c_void, buf.as_mut_ptr() as *mut c_char, IPADDR_MAXSTRLEN as u32)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(a: &ipaddr) -> String {
        let mut b = [0u8; IPADDR_MAXSTRLEN];
        a.format(&mut b);
        let n = b.iter().position(|&c| c == 0).unwrap();
        String::from_utf8(b[..n].to_vec()).unwrap()
    }

    #[test]
    fn literals_round_trip_with_ports() {
        let a = ipaddr::new(Addr::literal("127.0.0.1", Mode::PrefV4).unwrap().unwrap(), 5555);
        assert_eq!((a.family(), a.len(), a.port()), (libc::AF_INET, 16, 5555));
        assert_eq!(text(&a), "127.0.0.1");
        let mut b = ipaddr::new(Addr::literal("::1", Mode::PrefV4).unwrap().unwrap(), 80);
        assert_eq!((b.family(), b.len(), b.port()), (libc::AF_INET6, 28, 80));
        b.set_port(65535);
        assert_eq!(b.port(), 65535);
        assert_eq!(text(&b), "::1");
        let long = ipaddr::new(Addr::V6("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".parse().unwrap()), 1);
        assert!(text(&long).len() < IPADDR_MAXSTRLEN);
        // inet_ntop's notation, as the original's.
        let compat = ipaddr::new(Addr::V6("::1.2.3.4".parse().unwrap()), 1);
        assert_eq!(text(&compat), "::1.2.3.4");
    }

    #[test]
    fn other_families_read_as_ipv6_and_make_no_socket() {
        let z = ipaddr::zeroed();
        assert_eq!((z.family(), z.len()), (0, 28));
        assert_eq!(text(&z), "::");
        assert_eq!(z.ip_family(), Err(libc::EAFNOSUPPORT));
    }

    #[test]
    fn modes_filter_families() {
        assert_eq!(Addr::literal("10.0.0.1", Mode::V6), Some(Err(libc::EADDRNOTAVAIL)));
        assert_eq!(Addr::literal("::", Mode::V4), Some(Err(libc::EADDRNOTAVAIL)));
        assert_eq!(Addr::literal("example.org", Mode::V4), None);
        assert_eq!(Mode::from_c(0), Ok(Mode::PrefV4));
        assert_eq!(Mode::from_c(9), Err(libc::EINVAL));
        let v4 = Some(Ipv4Addr::LOCALHOST);
        let v6 = Some(Ipv6Addr::LOCALHOST);
        assert_eq!(Mode::PrefV6.choose(v4, v6), Some(Addr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(Mode::PrefV6.choose(v4, None), Some(Addr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(Mode::V6.choose(v4, None), None);
    }
}
