//! The hosts file (hosts(5)): lines of an address followed by its names,
//! `#` to the end of a line is a comment.

use crate::net::ipaddr::{Addr, Addrs};
use std::net::{Ipv4Addr, Ipv6Addr};

/// What the hosts file says about one name: its first address of each family.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Found {
    pub v4: Option<Ipv4Addr>,
    pub v6: Option<Ipv6Addr>,
}

/// The address of each line of hosts-file `text` that names `name`, in
/// the file's order. Names match without regard to case or to a trailing
/// dot. A zone index ("fe80::1%eth0") cannot be kept in a result; the
/// address without it is still the host's.
fn addresses<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    let want = name.strip_suffix('.').unwrap_or(name);
    text.lines().filter(move |_| !want.is_empty()).filter_map(move |line| {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_ascii_whitespace();
        let addr = words.next()?;
        if !words.any(|w| w.strip_suffix('.').unwrap_or(w).eq_ignore_ascii_case(want)) {
            return None;
        }
        Some(addr.split('%').next().unwrap_or(addr))
    })
}

/// Looks `name` up in the text of a hosts file (names match as in
/// `addresses`). None if no line names it.
pub fn lookup(text: &str, name: &str) -> Option<Found> {
    let mut f = Found::default();
    for addr in addresses(text, name) {
        if let Ok(a) = addr.parse::<Ipv4Addr>() {
            f.v4 = f.v4.or(Some(a));
        } else if let Ok(a) = addr.parse::<Ipv6Addr>() {
            f.v6 = f.v6.or(Some(a));
        }
    }
    // A line with a malformed address names nothing.
    (f.v4.is_some() || f.v6.is_some()).then_some(f)
}

/// Every address the hosts file gives `name`, each family's in the file's
/// order: (IPv6, IPv4). Names match as in `addresses`; None where it finds
/// nothing.
pub fn lookup_all(text: &str, name: &str) -> Option<(Addrs, Addrs)> {
    let (mut v6, mut v4) = (Addrs::new(), Addrs::new());
    for addr in addresses(text, name) {
        if let Ok(a) = addr.parse::<Ipv4Addr>() {
            v4.push(Addr::V4(a));
        } else if let Ok(a) = addr.parse::<Ipv6Addr>() {
            v6.push(Addr::V6(a));
        }
    }
    (!v6.is_empty() || !v4.is_empty()).then_some((v6, v4))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTS: &str = "\
# The usual ones
127.0.0.1\tlocalhost
::1     localhost ip6-localhost ip6-loopback   # trailing comment
fe00::0 ip6-localnet

192.0.2.10   Web.Example.ORG   web  www.
192.0.2.11   web              # a second address: the first one wins
2001:db8::5  web
fe80::1%eth0 linklocal
#192.0.2.99  commented
not-an-address broken
   10.1.2.3    indented  
";

    fn v4(s: &str) -> Option<Ipv4Addr> {
        Some(s.parse().unwrap())
    }

    fn v6(s: &str) -> Option<Ipv6Addr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn both_families_first_wins() {
        assert_eq!(lookup(HOSTS, "localhost"), Some(Found { v4: v4("127.0.0.1"), v6: v6("::1") }));
        assert_eq!(lookup(HOSTS, "web"), Some(Found { v4: v4("192.0.2.10"), v6: v6("2001:db8::5") }));
        assert_eq!(lookup(HOSTS, "ip6-loopback"), Some(Found { v4: None, v6: v6("::1") }));
        assert_eq!(lookup(HOSTS, "linklocal"), Some(Found { v4: None, v6: v6("fe80::1") }));
    }

    #[test]
    fn case_dots_and_whitespace() {
        let web = Some(Found { v4: v4("192.0.2.10"), v6: None });
        assert_eq!(lookup(HOSTS, "web.example.org"), web);
        assert_eq!(lookup(HOSTS, "WEB.EXAMPLE.ORG."), web);
        assert_eq!(lookup(HOSTS, "www"), web);
        assert_eq!(lookup(HOSTS, "www."), web);
        assert_eq!(lookup(HOSTS, "indented"), Some(Found { v4: v4("10.1.2.3"), v6: None }));
    }

    fn list(s: &[&str]) -> Addrs {
        let mut l = Addrs::new();
        for a in s {
            l.push(if a.contains(':') { Addr::V6(a.parse().unwrap()) } else { Addr::V4(a.parse().unwrap()) });
        }
        l
    }

    #[test]
    fn every_address_in_order() {
        assert_eq!(lookup_all(HOSTS, "web"), Some((list(&["2001:db8::5"]), list(&["192.0.2.10", "192.0.2.11"]))));
        assert_eq!(lookup_all(HOSTS, "localhost"), Some((list(&["::1"]), list(&["127.0.0.1"]))));
        assert_eq!(lookup_all(HOSTS, "LinkLocal."), Some((list(&["fe80::1"]), list(&[]))));
        // Repeats are kept once; past the capacity the rest are dropped.
        let many: String = (0..15).map(|i| format!("10.0.0.{} many\n10.0.0.1 many\n", i % 12)).collect();
        let (v6, v4) = lookup_all(&many, "many").unwrap();
        assert!(v6.is_empty());
        let want: Vec<String> = (0..10).map(|i| format!("10.0.0.{i}")).collect();
        assert_eq!(v4, list(&want.iter().map(|s| s.as_str()).collect::<Vec<_>>()));
        for miss in ["commented", "broken", "example.org", "", "."] {
            assert_eq!(lookup_all(HOSTS, miss), None, "{miss:?}");
        }
    }

    #[test]
    fn misses() {
        assert_eq!(lookup(HOSTS, "commented"), None);
        assert_eq!(lookup(HOSTS, "broken"), None);
        assert_eq!(lookup(HOSTS, "example.org"), None);
        assert_eq!(lookup(HOSTS, "trailing"), None);
        assert_eq!(lookup(HOSTS, "comment"), None);
        assert_eq!(lookup(HOSTS, ""), None);
        assert_eq!(lookup(HOSTS, "."), None);
        assert_eq!(lookup("", "localhost"), None);
        assert_eq!(lookup("127.0.0.1", "127.0.0.1"), None);
    }
}
