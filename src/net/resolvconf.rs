//! The resolver configuration (resolv.conf(5)): name servers, search list and
//! the few options that shape a lookup.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// As many servers as the C library's resolver uses.
const MAX_SERVERS: usize = 3;
const MAX_SEARCH: usize = 6;
/// Room for the search domains, as the C library's resolver has.
const SEARCH_BYTES: usize = 256;
/// Room for one name to ask for: a name (253) and a dot and a domain more
/// than fits a DNS name anyway; what does not fit is not asked.
pub const NAME_BYTES: usize = 256;

// Fixed arrays, no heap: a lookup must not fail halfway for want of memory.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Conf {
    servers: [SocketAddr; MAX_SERVERS],
    nservers: usize,
    /// Domains tried after (or before, see `ndots`) the name as given: their
    /// text, and (start, end) of each in it.
    search: [u8; SEARCH_BYTES],
    domains: [(u16, u16); MAX_SEARCH],
    ndomains: usize,
    /// Names with at least this many dots are first tried as given.
    pub ndots: usize,
    /// How long one query waits for an answer, in milliseconds.
    pub timeout_ms: i64,
    /// Rounds over the whole server list.
    pub attempts: usize,
}

const LOCAL: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53);

impl Default for Conf {
    fn default() -> Conf {
        Conf {
            servers: [LOCAL; MAX_SERVERS],
            nservers: 0,
            search: [0; SEARCH_BYTES],
            domains: [(0, 0); MAX_SEARCH],
            ndomains: 0,
            ndots: 1,
            timeout_ms: 5000,
            attempts: 2,
        }
    }
}

impl Conf {
    /// Parses the text of a resolv.conf. Unknown or malformed lines are
    /// skipped; with no server, the local host is asked.
    pub fn parse(text: &str) -> Conf {
        let mut c = Conf::default();
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut words = line.split_ascii_whitespace();
            match words.next() {
                Some("nameserver") => {
                    if let Some(ip) = words.next().and_then(server) {
                        c.add_server(SocketAddr::new(ip, 53));
                    }
                }
                // The last of `domain` and `search` wins.
                Some("domain") => c.set_search(words.take(1)),
                Some("search") => c.set_search(words.take(MAX_SEARCH)),
                Some("options") => {
                    for opt in words {
                        c.option(opt);
                    }
                }
                _ => {}
            }
        }
        if c.nservers == 0 {
            c.add_server(LOCAL);
        }
        c
    }

    /// The servers to ask, in order.
    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers[..self.nservers]
    }

    /// Asks these servers instead (up to three): for tests on other ports.
    #[cfg(test)]
    pub fn set_servers(&mut self, servers: &[SocketAddr]) {
        self.nservers = 0;
        for &s in servers {
            self.add_server(s);
        }
    }

    fn add_server(&mut self, s: SocketAddr) {
        if let Some(slot) = self.servers.get_mut(self.nservers) {
            *slot = s;
            self.nservers += 1;
        }
    }

    /// The search domains, in order.
    pub fn search(&self) -> impl Iterator<Item = &str> {
        self.domains[..self.ndomains]
            .iter()
            .map(|&(a, b)| core::str::from_utf8(&self.search[a as usize..b as usize]).unwrap_or(""))
    }

    /// Replaces the search list; empty domains, and those past the room
    /// there is, are left out.
    pub(crate) fn set_search<'a>(&mut self, words: impl Iterator<Item = &'a str>) {
        self.ndomains = 0;
        let mut used = 0;
        for w in words {
            let d = w.trim_matches('.').as_bytes();
            if d.is_empty() || self.ndomains == MAX_SEARCH || used + d.len() > SEARCH_BYTES {
                continue;
            }
            self.search[used..used + d.len()].copy_from_slice(d);
            self.domains[self.ndomains] = (used as u16, (used + d.len()) as u16);
            self.ndomains += 1;
            used += d.len();
        }
    }

    fn option(&mut self, opt: &str) {
        let Some((key, val)) = opt.split_once(':') else { return };
        let Ok(n) = val.parse::<usize>() else { return };
        match key {
            "ndots" => self.ndots = n.min(15),
            "timeout" => self.timeout_ms = n.clamp(1, 30) as i64 * 1000,
            "attempts" => self.attempts = n.clamp(1, 5),
            _ => {}
        }
    }

    /// How many names `candidate` may give for `name`.
    pub fn ncandidates(&self, name: &str) -> usize {
        if name.ends_with('.') { 1 } else { self.ndomains + 1 }
    }

    /// The `i`th name to ask the servers for, written into `buf`; None if it
    /// does not fit there (it could not be asked). A trailing dot makes the
    /// name absolute: it is asked as it is and nothing else.
    pub fn candidate<'b>(&self, name: &str, i: usize, buf: &'b mut [u8; NAME_BYTES]) -> Option<&'b str> {
        if let Some(abs) = name.strip_suffix('.') {
            return if i == 0 { put(buf, &[abs]) } else { None };
        }
        // The name as given comes first or last.
        let first = name.matches('.').count() >= self.ndots;
        let plain = if first { 0 } else { self.ndomains };
        if i == plain {
            return put(buf, &[name]);
        }
        let d = if first { i.checked_sub(1)? } else { i };
        let domain = self.search().nth(d)?;
        put(buf, &[name, ".", domain])
    }
}

/// The concatenation of `parts` in `buf`, if it fits.
fn put<'b>(buf: &'b mut [u8; NAME_BYTES], parts: &[&str]) -> Option<&'b str> {
    let mut n = 0;
    for p in parts {
        buf.get_mut(n..n + p.len())?.copy_from_slice(p.as_bytes());
        n += p.len();
    }
    core::str::from_utf8(&buf[..n]).ok()
}

/// A server address; a zone index ("fe80::1%eth0") is dropped.
fn server(word: &str) -> Option<IpAddr> {
    word.split('%').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn servers_search_and_options() {
        let c = Conf::parse(
            "# generated\n\
             nameserver 192.0.2.53   # primary\n\
             ; another comment style\n\
             nameserver 2001:db8::53\n\
             nameserver bogus\n\
             nameserver fe80::1%eth0\n\
             nameserver 192.0.2.54\n\
             domain ignored.example\n\
             search corp.example. example.net\n\
             options rotate ndots:2 timeout:3 attempts:4 edns0\n",
        );
        assert_eq!(c.servers(), [sa("192.0.2.53:53"), sa("[2001:db8::53]:53"), sa("[fe80::1]:53")]);
        assert_eq!(c.search().collect::<Vec<_>>(), ["corp.example", "example.net"]);
        assert_eq!((c.ndots, c.timeout_ms, c.attempts), (2, 3000, 4));
    }

    #[test]
    fn defaults_and_limits() {
        let c = Conf::parse("");
        assert_eq!(c.servers(), [sa("127.0.0.1:53")]);
        assert!(c.search().next().is_none());
        assert_eq!((c.ndots, c.timeout_ms, c.attempts), (1, 5000, 2));
        let c = Conf::parse("options timeout:0 attempts:99 ndots:x timeout\nsearch a\ndomain b.\n");
        assert_eq!((c.timeout_ms, c.attempts, c.ndots), (1000, 5, 1));
        assert_eq!(c.search().collect::<Vec<_>>(), ["b"]);
        assert_eq!(Conf::parse("nameserver").servers(), [sa("127.0.0.1:53")]);
        // The search list has 256 bytes of room, as the C library's.
        let long = format!("search {} {} {}\n", "a".repeat(200), "b".repeat(60), "c".repeat(50));
        let c = Conf::parse(&long);
        assert_eq!(c.search().map(|d| d.len()).collect::<Vec<_>>(), [200, 50]);
    }

    fn candidates(c: &Conf, name: &str) -> Vec<String> {
        let mut buf = [0; NAME_BYTES];
        (0..c.ncandidates(name)).filter_map(|i| c.candidate(name, i, &mut buf).map(str::to_string)).collect()
    }

    #[test]
    fn candidate_order() {
        let c = Conf::parse("search a.example b.example\n");
        assert_eq!(candidates(&c, "host"), ["host.a.example", "host.b.example", "host"]);
        assert_eq!(candidates(&c, "www.host"), ["www.host", "www.host.a.example", "www.host.b.example"]);
        assert_eq!(candidates(&c, "host."), ["host"]);
        let c = Conf::parse("options ndots:0\n");
        assert_eq!(candidates(&c, "host"), ["host"]);
        // A name that would not fit a query is not asked.
        let c = Conf::parse("search a.example\n");
        let long = "x".repeat(250);
        assert_eq!(candidates(&c, &long), [long.clone()]);
    }
}
