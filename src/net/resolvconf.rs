//! The resolver configuration (resolv.conf(5)): name servers, search list and
//! the few options that shape a lookup.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// As many servers as the C library's resolver uses.
const MAX_SERVERS: usize = 3;
const MAX_SEARCH: usize = 6;

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Conf {
    pub servers: Vec<SocketAddr>,
    /// Domains tried after (or before, see `ndots`) the name as given.
    pub search: Vec<String>,
    /// Names with at least this many dots are first tried as given.
    pub ndots: usize,
    /// How long one query waits for an answer, in milliseconds.
    pub timeout_ms: i64,
    /// Rounds over the whole server list.
    pub attempts: usize,
}

impl Default for Conf {
    fn default() -> Conf {
        Conf { servers: Vec::new(), search: Vec::new(), ndots: 1, timeout_ms: 5000, attempts: 2 }
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
                        if c.servers.len() < MAX_SERVERS {
                            c.servers.push(SocketAddr::new(ip, 53));
                        }
                    }
                }
                // The last of `domain` and `search` wins.
                Some("domain") => c.search = words.take(1).map(domain).collect(),
                Some("search") => c.search = words.take(MAX_SEARCH).map(domain).collect(),
                Some("options") => {
                    for opt in words {
                        c.option(opt);
                    }
                }
                _ => {}
            }
        }
        c.search.retain(|d| !d.is_empty());
        if c.servers.is_empty() {
            c.servers.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53));
        }
        c
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

    /// The names to ask the servers for, in order. A trailing dot makes the
    /// name absolute: it is asked as it is and nothing else.
    pub fn candidates(&self, name: &str) -> Vec<String> {
        if let Some(abs) = name.strip_suffix('.') {
            return vec![abs.to_string()];
        }
        let searched = self.search.iter().map(|d| format!("{name}.{d}"));
        if name.matches('.').count() >= self.ndots {
            core::iter::once(name.to_string()).chain(searched).collect()
        } else {
            searched.chain(core::iter::once(name.to_string())).collect()
        }
    }
}

/// A server address; a zone index ("fe80::1%eth0") is dropped.
fn server(word: &str) -> Option<IpAddr> {
    word.split('%').next()?.parse().ok()
}

fn domain(word: &str) -> String {
    word.trim_matches('.').to_string()
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
        assert_eq!(c.servers, vec![sa("192.0.2.53:53"), sa("[2001:db8::53]:53"), sa("[fe80::1]:53")]);
        assert_eq!(c.search, vec!["corp.example", "example.net"]);
        assert_eq!((c.ndots, c.timeout_ms, c.attempts), (2, 3000, 4));
    }

    #[test]
    fn defaults_and_limits() {
        let c = Conf::parse("");
        assert_eq!(c.servers, vec![sa("127.0.0.1:53")]);
        assert!(c.search.is_empty());
        assert_eq!((c.ndots, c.timeout_ms, c.attempts), (1, 5000, 2));
        let c = Conf::parse("options timeout:0 attempts:99 ndots:x timeout\nsearch a\ndomain b.\n");
        assert_eq!((c.timeout_ms, c.attempts, c.ndots), (1000, 5, 1));
        assert_eq!(c.search, vec!["b"]);
        assert_eq!(Conf::parse("nameserver").servers, vec![sa("127.0.0.1:53")]);
    }

    #[test]
    fn candidate_order() {
        let c = Conf::parse("search a.example b.example\n");
        assert_eq!(c.candidates("host"), ["host.a.example", "host.b.example", "host"]);
        assert_eq!(c.candidates("www.host"), ["www.host", "www.host.a.example", "www.host.b.example"]);
        assert_eq!(c.candidates("host."), ["host"]);
        let c = Conf::parse("options ndots:0\n");
        assert_eq!(c.candidates("host"), ["host"]);
    }
}
