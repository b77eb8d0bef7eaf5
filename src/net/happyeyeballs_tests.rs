//! The order of the attempts, and races against loopback listeners: one
//! that accepts, one whose queue is full (its SYNs are dropped: an address
//! that never answers), and ports nobody listens on (refused at once).
//! The whole of 127.0.0.0/8 is loopback, so no IPv6 is needed.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

fn ctx() -> &'static Ctx {
    crate::core::ctx::get().unwrap()
}

fn v4(s: &str) -> Addr {
    Addr::V4(s.parse().unwrap())
}

fn v6(s: &str) -> Addr {
    Addr::V6(s.parse().unwrap())
}

fn order(a6: &[Addr], a4: &[Addr]) -> Vec<Addr> {
    let mut out = [v4("0.0.0.0"); MAX_ATTEMPTS];
    let n = interleave(a6, a4, &mut out);
    out[..n].to_vec()
}

#[test]
fn attempts_alternate_families_ipv6_first() {
    let (a, b, c) = (v6("2001:db8::1"), v6("2001:db8::2"), v6("2001:db8::3"));
    let (x, y, z) = (v4("192.0.2.1"), v4("192.0.2.2"), v4("192.0.2.3"));
    assert_eq!(order(&[a, b], &[x, y]), [a, x, b, y]);
    assert_eq!(order(&[a, b, c], &[x]), [a, x, b, c]);
    assert_eq!(order(&[a], &[x, y, z]), [a, x, y, z]);
    assert_eq!(order(&[], &[x, y]), [x, y]);
    assert_eq!(order(&[a, b], &[]), [a, b]);
    assert_eq!(order(&[], &[]), []);
    // Two full lists: all twenty, still alternating.
    let l6: Vec<Addr> = (0..10).map(|i| Addr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i))).collect();
    let l4: Vec<Addr> = (0..10).map(|i| Addr::V4(Ipv4Addr::new(192, 0, 2, i as u8))).collect();
    let o = order(&l6, &l4);
    assert_eq!(o.len(), MAX_ATTEMPTS);
    for (i, a) in o.iter().enumerate() {
        assert_eq!(*a, if i % 2 == 0 { l6[i / 2] } else { l4[i / 2] });
    }
}

/// A listening socket on `ip`:`port` (0: any free port); with `full`, its
/// accept queue is filled, so that further connects hang. Returns the
/// socket, the port, and the connections that fill it.
fn listener(ip: Ipv4Addr, port: u16, full: bool) -> Option<(i32, u16, Vec<TcpStream>)> {
    // SAFETY: plain syscalls on our own socket.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let sa = ipaddr::new(Addr::V4(ip), port);
        if libc::bind(fd, sa.data.as_ptr() as *const libc::sockaddr, sa.len() as u32) < 0 {
            libc::close(fd);
            return None;
        }
        assert_eq!(libc::listen(fd, if full { 0 } else { 16 }), 0);
        let mut b = ipaddr::zeroed();
        let mut len = 32;
        libc::getsockname(fd, b.data.as_mut_ptr() as *mut libc::sockaddr, &mut len);
        let port = b.port();
        let mut fill = Vec::new();
        // Until a connect hangs: its SYN was dropped.
        while full && fill.len() < 8 {
            match TcpStream::connect_timeout(&SocketAddr::from((ip, port)), Duration::from_millis(200)) {
                Ok(s) => fill.push(s),
                Err(_) => return Some((fd, port, fill)),
            }
        }
        assert!(!full, "the accept queue does not fill");
        Some((fd, port, fill))
    }
}

/// A port free on every address given, with a listener on each: (ip, full).
fn listeners(on: &[(Ipv4Addr, bool)]) -> (u16, Vec<(i32, Vec<TcpStream>)>) {
    'again: for _ in 0..50 {
        let (fd, port, fill) = listener(on[0].0, 0, on[0].1).unwrap();
        let mut all = vec![(fd, fill)];
        for &(ip, full) in &on[1..] {
            match listener(ip, port, full) {
                Some((fd, _, fill)) => all.push((fd, fill)),
                None => {
                    for (fd, _) in all {
                        // SAFETY: our socket.
                        unsafe { libc::close(fd) };
                    }
                    continue 'again;
                }
            }
        }
        return (port, all);
    }
    panic!("no port free on all addresses");
}

fn close_all(l: Vec<(i32, Vec<TcpStream>)>) {
    for (fd, _) in l {
        // SAFETY: our socket.
        unsafe { libc::close(fd) };
    }
}

/// The address `fd` is connected to.
fn peer(fd: i32) -> Addr {
    let mut b = ipaddr::zeroed();
    let mut len = 32;
    // SAFETY: b has 32 writable bytes.
    assert_eq!(unsafe { libc::getpeername(fd, b.data.as_mut_ptr() as *mut libc::sockaddr, &mut len) }, 0);
    b.addr()
}

fn close(fd: i32) {
    fdio::close(ctx(), fd);
}

const LO: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const LO2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const LO3: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

#[test]
fn an_address_that_never_answers_costs_the_delay() {
    let (port, l) = listeners(&[(LO2, true), (LO, false)]);
    let start = now_ms();
    let fd = race(ctx(), &[Addr::V4(LO2), Addr::V4(LO)], port, ATTEMPT_DELAY, now_ms() + 5000).unwrap();
    let took = now_ms() - start;
    assert_eq!(peer(fd), Addr::V4(LO));
    assert!((ATTEMPT_DELAY - 10..ATTEMPT_DELAY + 700).contains(&took), "took {took} ms");
    close(fd);
    close_all(l);
}

#[test]
fn the_first_attempt_keeps_going() {
    // The first address answers, slower than the delay: the second one
    // never does, so the first must still win. A delay of 50 ms, and a
    // first attempt that becomes connectable after 200 ms (its queue is
    // freed by accepting the connection that filled it).
    let (port, mut l) = listeners(&[(LO, true), (LO2, true)]);
    let lfd = l[0].0;
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: lfd is a listening socket of ours, blocking.
        let c = unsafe { libc::accept(lfd, core::ptr::null_mut(), core::ptr::null_mut()) };
        assert!(c >= 0);
        c
    });
    let start = now_ms();
    let fd = race(ctx(), &[Addr::V4(LO), Addr::V4(LO2)], port, 50, now_ms() + 10_000).unwrap();
    let took = now_ms() - start;
    assert_eq!(peer(fd), Addr::V4(LO));
    // The dropped SYN is sent again after a second.
    assert!((150..3000).contains(&took), "took {took} ms");
    close(fd);
    // SAFETY: the accepted socket is ours.
    unsafe { libc::close(t.join().unwrap()) };
    l[0].1.clear();
    close_all(l);
}

#[test]
fn a_failed_attempt_starts_the_next_at_once() {
    // .2 never answers, .3 refuses (nobody listens there), .1 accepts: the
    // third attempt starts as soon as the second fails, not after a delay.
    let (port, l) = listeners(&[(LO2, true), (LO, false)]);
    let start = now_ms();
    let addrs = [Addr::V4(LO2), Addr::V4(LO3), Addr::V4(LO)];
    let fd = race(ctx(), &addrs, port, ATTEMPT_DELAY, now_ms() + 5000).unwrap();
    let took = now_ms() - start;
    assert_eq!(peer(fd), Addr::V4(LO));
    assert!((ATTEMPT_DELAY - 10..2 * ATTEMPT_DELAY - 50).contains(&took), "took {took} ms");
    close(fd);
    close_all(l);
}

#[test]
fn refused_everywhere() {
    // A port just freed: nobody listens there on any loopback address.
    let (port, l) = listeners(&[(LO, false)]);
    close_all(l);
    let start = now_ms();
    let addrs = [Addr::V4(LO), Addr::V4(LO2), Addr::V4(LO3)];
    assert_eq!(race(ctx(), &addrs, port, ATTEMPT_DELAY, -1), Err(libc::ECONNREFUSED));
    assert!(now_ms() - start < 100);
}

#[test]
fn deadlines() {
    let (port, l) = listeners(&[(LO2, true)]);
    let start = now_ms();
    let addrs = [Addr::V4(LO2), Addr::V4(LO2)];
    assert_eq!(race(ctx(), &addrs, port, 100, start + 250), Err(libc::ETIMEDOUT));
    let took = now_ms() - start;
    assert!((240..1000).contains(&took), "took {took} ms");
    assert_eq!(race(ctx(), &addrs, port, 100, 0), Err(libc::ETIMEDOUT));
    assert_eq!(race(ctx(), &addrs, port, 100, now_ms() - 1000), Err(libc::ETIMEDOUT));
    close_all(l);
}

#[test]
fn the_worst_error_is_kept() {
    assert!(weight(libc::ECONNREFUSED) > weight(libc::ENETUNREACH));
    assert!(weight(libc::ENETUNREACH) > weight(libc::EAFNOSUPPORT));
    assert!(weight(libc::EMFILE) > weight(libc::ECONNREFUSED));
    let mut r = Race::new(ctx()).unwrap();
    r.failed(libc::ECONNREFUSED);
    r.failed(libc::EAFNOSUPPORT);
    assert_eq!(r.err, libc::ECONNREFUSED);
    r.failed(libc::ECONNRESET);
    assert_eq!(r.err, libc::ECONNRESET);
}
