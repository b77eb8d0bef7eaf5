//! Lookups end to end, against in-process name servers on 127.0.0.1.

use super::*;
use crate::core::clock::now_ms;

use crate::net::dns::tests::{a, aaaa, cname, reply};
use simple_dns::{Packet, QTYPE, RCODE, TYPE};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::thread::JoinHandle;
use std::time::Duration;

/// A name server on a free loopback port that answers `n` queries with what
/// `answer` makes of each (several datagrams, or none) and then returns the
/// questions it was asked, as "TYPE name".
fn server(n: usize, answer: impl Fn(&[u8]) -> Vec<Vec<u8>> + Send + 'static) -> (SocketAddr, JoinHandle<Vec<String>>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let addr = sock.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let mut asked = Vec::new();
        let mut buf = [0u8; 512];
        for _ in 0..n {
            let Ok((len, from)) = sock.recv_from(&mut buf) else { break };
            let q = Packet::parse(&buf[..len]).unwrap();
            asked.push(format!("{:?} {}", q.questions[0].qtype, q.questions[0].qname));
            for d in answer(&buf[..len]) {
                sock.send_to(&d, from).unwrap();
            }
        }
        asked
    });
    (addr, t)
}

fn ctx() -> &'static crate::core::ctx::Ctx {
    crate::core::ctx::get().unwrap()
}

fn conf(servers: &[SocketAddr]) -> Result<Conf, i32> {
    let mut c = Conf::default();
    c.set_servers(servers);
    Ok(c)
}

fn v4(s: &str) -> Result<Addr, i32> {
    Ok(Addr::V4(s.parse().unwrap()))
}

#[test]
fn resolves_through_a_name_server() {
    let (addr, t) = server(1, |q| {
        // A forged reply first: its id is wrong, it must be skipped.
        let mut forged = reply(q, RCODE::NoError, vec![a("www.example.test", "192.0.2.66")]);
        forged[0] ^= 0x55;
        let good = reply(
            q,
            RCODE::NoError,
            vec![cname("www.example.test", "web.example.test"), a("web.example.test", "192.0.2.80")],
        );
        vec![forged, good]
    });
    let deadline = now_ms() + 5000;
    let r = resolve(ctx(), "www.example.test", Mode::PrefV4, deadline, "", || conf(&[addr]));
    assert_eq!(r, v4("192.0.2.80"));
    assert_eq!(t.join().unwrap(), ["TYPE(A) www.example.test"]);
}

#[test]
fn ipv6_modes_ask_aaaa_and_fall_back() {
    let (addr, t) = server(3, |q| {
        let p = Packet::parse(q).unwrap();
        let (qname, qtype) = (p.questions[0].qname.to_string(), p.questions[0].qtype);
        let answers = match (qtype == QTYPE::TYPE(TYPE::AAAA), qname.as_str()) {
            (true, "dual.stack.example.test") => vec![aaaa(&qname, "2001:db8::80")],
            (true, _) => vec![],
            (false, _) => vec![a(&qname, "192.0.2.4")],
        };
        vec![reply(q, RCODE::NoError, answers)]
    });
    let c = || conf(&[addr]);
    let deadline = now_ms() + 5000;
    let want6 = Ok(Addr::V6("2001:db8::80".parse::<Ipv6Addr>().unwrap()));
    assert_eq!(resolve(ctx(), "dual.stack.example.test.", Mode::V6, deadline, "", c), want6);
    // No AAAA record: the preferred family is missing, IPv4 will do.
    assert_eq!(resolve(ctx(), "v4only.example.test", Mode::PrefV6, deadline, "", c), v4("192.0.2.4"));
    assert_eq!(
        t.join().unwrap(),
        ["TYPE(AAAA) dual.stack.example.test", "TYPE(AAAA) v4only.example.test", "TYPE(A) v4only.example.test"]
    );
}

#[test]
fn search_list_and_nxdomain() {
    let (addr, t) = server(2, |q| vec![reply(q, RCODE::NameError, vec![])]);
    let c = || {
        let mut c = conf(&[addr])?;
        c.set_search(["corp.test"].into_iter());
        Ok(c)
    };
    // One NXDOMAIN per name: no AAAA is asked after it, even in PrefV4.
    assert_eq!(resolve(ctx(), "host", Mode::PrefV4, now_ms() + 5000, "", c), Err(libc::EADDRNOTAVAIL));
    assert_eq!(t.join().unwrap(), ["TYPE(A) host.corp.test", "TYPE(A) host"]);
}

#[test]
fn next_server_after_refusal_or_failure() {
    // A port nobody listens on: the kernel reports ECONNREFUSED at once.
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (failing, t1) = server(1, |q| vec![reply(q, RCODE::ServerFailure, vec![])]);
    let (good, t2) = server(1, |q| vec![reply(q, RCODE::NoError, vec![a("h.example.test", "192.0.2.7")])]);
    let start = now_ms();
    let r = resolve(ctx(), "h.example.test", Mode::V4, -1, "", || conf(&[closed, failing, good]));
    assert_eq!(r, v4("192.0.2.7"));
    assert!(now_ms() - start < 2000, "the per-try timeout must not be waited out");
    assert_eq!((t1.join().unwrap().len(), t2.join().unwrap().len()), (1, 1));
}

#[test]
fn unanswered_query_respects_the_deadline() {
    // Bound but never read: queries vanish.
    let mute = UdpSocket::bind("127.0.0.1:0").unwrap();
    let c = || conf(&[mute.local_addr().unwrap()]);
    let start = now_ms();
    assert_eq!(resolve(ctx(), "slow.example.test", Mode::PrefV4, start + 300, "", c), Err(libc::ETIMEDOUT));
    let took = now_ms() - start;
    assert!((290..1500).contains(&took), "took {took} ms");
    // Deadline 0: one look, no waiting.
    assert_eq!(resolve(ctx(), "slow.example.test", Mode::PrefV4, 0, "", c), Err(libc::ETIMEDOUT));
    // Per-try timeouts that run out before the deadline: the name is unresolvable.
    let start = now_ms();
    let short = || {
        let mut c = c()?;
        (c.timeout_ms, c.attempts) = (100, 2);
        Ok(c)
    };
    assert_eq!(resolve(ctx(), "slow.example.test", Mode::PrefV4, start + 5000, "", short), Err(libc::EADDRNOTAVAIL));
    let took = now_ms() - start;
    assert!((190..1500).contains(&took), "took {took} ms");
}

#[test]
fn hosts_file_and_local_answers() {
    let hosts = "127.0.0.1 localhost\n192.0.2.5 Box box.lan\n2001:db8::5 box\n";
    let no_server = || -> Result<Conf, i32> { panic!("no server should be asked") };
    assert_eq!(resolve(ctx(), "localhost", Mode::PrefV4, 0, hosts, no_server), v4("127.0.0.1"));
    assert_eq!(resolve(ctx(), "BOX.LAN.", Mode::V4, 0, hosts, no_server), v4("192.0.2.5"));
    assert_eq!(resolve(ctx(), "box", Mode::PrefV6, 0, hosts, no_server), Ok(Addr::V6("2001:db8::5".parse().unwrap())));
    // Found, but not in a family the mode allows: the hosts file is final.
    assert_eq!(resolve(ctx(), "localhost", Mode::V6, 0, hosts, no_server), Err(libc::EADDRNOTAVAIL));
    for bad in ["", ".", "a..b", ".a", &"x".repeat(64), &["abc"; 64].join("."), "nonexistent.invalid", "x.INVALID."] {
        assert_eq!(resolve(ctx(), bad, Mode::PrefV4, -1, hosts, no_server), Err(libc::EADDRNOTAVAIL), "{bad:?}");
    }
}

#[test]
fn the_real_hosts_file() {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    if let Some(f) = crate::net::hosts::lookup(&hosts, "localhost") {
        let want = Mode::PrefV4.choose(f.v4, f.v6).unwrap();
        assert_eq!(remote(ctx(), "localhost", Mode::PrefV4, now_ms() + 1000), Ok(want));
        assert!(f.v4.is_none() || f.v4 == Some(Ipv4Addr::LOCALHOST));
    }
    assert_eq!(remote(ctx(), "nonexistent.invalid", Mode::PrefV4, -1), Err(libc::EADDRNOTAVAIL));
}

fn list(s: &[&str]) -> Addrs {
    let mut l = Addrs::new();
    for a in s {
        l.push(if a.contains(':') { Addr::V6(a.parse().unwrap()) } else { Addr::V4(a.parse().unwrap()) });
    }
    l
}

/// A server for `resolve_all`: AAAA and A answers per name.
fn both_server(n: usize, aaaa_too: bool) -> (SocketAddr, JoinHandle<Vec<String>>) {
    server(n, move |q| {
        let p = Packet::parse(q).unwrap();
        let (qname, qtype) = (p.questions[0].qname.to_string(), p.questions[0].qtype);
        if qname != "dual.example.test" {
            return vec![reply(q, RCODE::NameError, vec![])];
        }
        if qtype == QTYPE::TYPE(TYPE::AAAA) {
            if !aaaa_too {
                return vec![];
            }
            return vec![reply(q, RCODE::NoError, vec![aaaa(&qname, "2001:db8::1"), aaaa(&qname, "2001:db8::2")])];
        }
        let alias = "edge.example.test";
        vec![reply(
            q,
            RCODE::NoError,
            vec![cname(&qname, alias), a(alias, "192.0.2.1"), a(alias, "192.0.2.2"), a(alias, "192.0.2.1"), a(alias, "192.0.2.3")],
        )]
    })
}

#[test]
fn both_families_asked_together_every_address() {
    let (addr, t) = both_server(2, true);
    let r = resolve_all(ctx(), "dual.example.test", [true, true], false, now_ms() + 5000, "", || conf(&[addr]));
    assert_eq!(r, Ok((list(&["2001:db8::1", "2001:db8::2"]), list(&["192.0.2.1", "192.0.2.2", "192.0.2.3"]))));
    let mut asked = t.join().unwrap();
    asked.sort();
    assert_eq!(asked, ["TYPE(A) dual.example.test", "TYPE(AAAA) dual.example.test"]);
    // One family only: one question.
    let (addr, t) = both_server(1, true);
    let r = resolve_all(ctx(), "dual.example.test", [false, true], true, now_ms() + 5000, "", || conf(&[addr]));
    assert_eq!(r, Ok((list(&[]), list(&["192.0.2.1", "192.0.2.2", "192.0.2.3"]))));
    assert_eq!(t.join().unwrap(), ["TYPE(A) dual.example.test"]);
}

#[test]
fn resolution_delay_when_racing() {
    // The AAAA question is never answered. Without the delay the lookup
    // waits out the per-try timeout; with it, 50 ms after the A answer.
    let short = |addr| {
        move || {
            let mut c = conf(&[addr])?;
            (c.timeout_ms, c.attempts) = (400, 1);
            Ok(c)
        }
    };
    let v4s = list(&["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
    let (addr, t) = both_server(2, false);
    let start = now_ms();
    let r = resolve_all(ctx(), "dual.example.test", [true, true], true, start + 5000, "", short(addr));
    let took = now_ms() - start;
    assert_eq!(r, Ok((list(&[]), v4s)));
    assert!((RESOLUTION_DELAY - 5..350).contains(&took), "took {took} ms");
    t.join().unwrap();
    let (addr, t) = both_server(2, false);
    let start = now_ms();
    let r = resolve_all(ctx(), "dual.example.test", [true, true], false, start + 5000, "", short(addr));
    let took = now_ms() - start;
    assert_eq!(r, Ok((list(&[]), v4s)));
    assert!((390..1500).contains(&took), "took {took} ms");
    t.join().unwrap();
}

#[test]
fn both_families_search_list_silence_and_deadline() {
    // NXDOMAIN for the first candidate, addresses for the second.
    let (addr, t) = both_server(4, true);
    let c = || {
        let mut c = conf(&[addr])?;
        c.set_search(["corp.test", "example.test"].into_iter());
        Ok(c)
    };
    let r = resolve_all(ctx(), "dual", [true, true], true, now_ms() + 5000, "", c);
    assert_eq!(r, Ok((list(&["2001:db8::1", "2001:db8::2"]), list(&["192.0.2.1", "192.0.2.2", "192.0.2.3"]))));
    let mut asked = t.join().unwrap();
    asked.sort();
    assert_eq!(
        asked,
        ["TYPE(A) dual.corp.test", "TYPE(A) dual.example.test", "TYPE(AAAA) dual.corp.test", "TYPE(AAAA) dual.example.test"]
    );
    // Nobody answers: no address, found quickly with short tries.
    let mute = UdpSocket::bind("127.0.0.1:0").unwrap();
    let m = mute.local_addr().unwrap();
    let short = || {
        let mut c = conf(&[m])?;
        (c.timeout_ms, c.attempts) = (100, 1);
        Ok(c)
    };
    assert_eq!(resolve_all(ctx(), "x.example.test", [true, true], true, now_ms() + 5000, "", short), Ok((list(&[]), list(&[]))));
    // The deadline first: ETIMEDOUT.
    let start = now_ms();
    assert_eq!(
        resolve_all(ctx(), "x.example.test", [true, true], true, start + 200, "", || conf(&[m])),
        Err(libc::ETIMEDOUT)
    );
    assert!((190..1500).contains(&(now_ms() - start)));
    assert_eq!(resolve_all(ctx(), "x.example.test", [true, true], true, 0, "", || conf(&[m])), Err(libc::ETIMEDOUT));
}

#[test]
fn both_families_from_the_hosts_file() {
    let hosts = "127.0.0.1 localhost\n::1 localhost\n192.0.2.5 box\n2001:db8::5 box\n192.0.2.6 box\n";
    let no_server = || -> Result<Conf, i32> { panic!("no server should be asked") };
    let all = resolve_all(ctx(), "box", [true, true], true, 0, hosts, no_server);
    assert_eq!(all, Ok((list(&["2001:db8::5"]), list(&["192.0.2.5", "192.0.2.6"]))));
    let only6 = resolve_all(ctx(), "localhost", [true, false], true, 0, hosts, no_server);
    assert_eq!(only6, Ok((list(&["::1"]), list(&[]))));
    for bad in ["", "a..b", "nonexistent.invalid"] {
        assert_eq!(resolve_all(ctx(), bad, [true, true], true, -1, hosts, no_server), Ok((list(&[]), list(&[]))));
    }
    // Literals need no lookup.
    assert_eq!(remotes(ctx(), "::1", [true, true], true, 0), Ok((list(&["::1"]), list(&[]))));
    assert_eq!(remotes(ctx(), "10.0.0.1", [true, false], true, 0), Ok((list(&[]), list(&[]))));
}
