//! Addresses of local network interfaces, through getifaddrs(3).

use crate::net::ipaddr::{Addr, Mode};
use core::ffi::CStr;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The address of interface `name` the mode prefers: of each family, the
/// first one the system lists. ENODEV if the interface does not exist or
/// has no address of a family the mode allows (as the original does).
pub fn lookup(name: &str, mode: Mode) -> Result<Addr, i32> {
    let mut list: *mut libc::ifaddrs = core::ptr::null_mut();
    // SAFETY: getifaddrs fills in `list` on success.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Err(crate::core::errno::get());
    }
    let (mut v4, mut v6) = (None, None);
    let mut it = list;
    while !it.is_null() {
        // SAFETY: `it` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*it };
        it = ifa.ifa_next;
        // SAFETY: ifa_name is a C string that lives as long as the list.
        if ifa.ifa_addr.is_null() || unsafe { CStr::from_ptr(ifa.ifa_name) }.to_bytes() != name.as_bytes() {
            continue;
        }
        // SAFETY: ifa_addr is a sockaddr of the family it names.
        match unsafe { (*ifa.ifa_addr).sa_family } as i32 {
            libc::AF_INET if v4.is_none() => {
                // SAFETY: an AF_INET address is a sockaddr_in.
                let sa = unsafe { core::ptr::read_unaligned(ifa.ifa_addr as *const libc::sockaddr_in) };
                v4 = Some(Ipv4Addr::from(sa.sin_addr.s_addr.to_ne_bytes()));
            }
            libc::AF_INET6 if v6.is_none() => {
                // SAFETY: an AF_INET6 address is a sockaddr_in6.
                let sa = unsafe { core::ptr::read_unaligned(ifa.ifa_addr as *const libc::sockaddr_in6) };
                v6 = Some(Ipv6Addr::from(sa.sin6_addr.s6_addr));
            }
            _ => {}
        }
    }
    // SAFETY: the list came from getifaddrs and is freed once, after its last use.
    unsafe { libc::freeifaddrs(list) };
    mode.choose(v4, v6).ok_or(libc::ENODEV)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_unknown() {
        assert_eq!(lookup("lo", Mode::V4), Ok(Addr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(lookup("lo", Mode::PrefV4), Ok(Addr::V4(Ipv4Addr::LOCALHOST)));
        // Not every machine gives its loopback an IPv6 address.
        if let Ok(a) = lookup("lo", Mode::V6) {
            assert_eq!(a, Addr::V6(Ipv6Addr::LOCALHOST));
            assert_eq!(lookup("lo", Mode::PrefV6), Ok(a));
        }
        assert_eq!(lookup("nonexistent-if", Mode::PrefV4), Err(libc::ENODEV));
        assert_eq!(lookup("", Mode::V4), Err(libc::ENODEV));
        assert_eq!(lookup("LO", Mode::V4), Err(libc::ENODEV));
    }
}
