//! DNS over UDP: one question at a time to the configured servers. Waits go
//! through the runtime's fd waits, so only the calling coroutine blocks.

use crate::core::clock::now_ms;
use crate::core::ctx::Ctx;
use crate::core::fdwait;
use crate::net::ipaddr::{ipaddr, Addr, Addrs};
use crate::net::resolvconf::Conf;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Longest CNAME chain followed inside one answer.
const MAX_CNAMES: usize = 16;
/// Longest name on the wire (RFC 1035), and a query's size bound.
const MAX_NAME: usize = 255;
const MAX_QUERY: usize = 12 + MAX_NAME + 4;

const CLASS_IN: u16 = 1;
const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_AAAA: u16 = 28;
const FLAG_RESPONSE: u16 = 0x8000;
const FLAG_TRUNCATED: u16 = 0x0200;
const FLAG_RECURSION: u16 = 0x0100;
const RCODE_NOERROR: u16 = 0;
const RCODE_NXDOMAIN: u16 = 3;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Qtype {
    A,
    Aaaa,
}

impl Qtype {
    fn wire(self) -> u16 {
        match self {
            Qtype::A => TYPE_A,
            Qtype::Aaaa => TYPE_AAAA,
        }
    }
}

/// What the servers said about one question.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
    Found(Addr),
    /// The name exists but has no address of the type asked.
    NoData,
    /// The name does not exist: no other type will do either.
    NxDomain,
    /// The servers that answered could not help.
    Failed,
    /// No server answered at all.
    Silent,
}

// The wire format is read and written here, into fixed buffers: a lookup
// allocates nothing, so it cannot fail for want of memory halfway.

/// A name in wire form (length-prefixed labels, no final zero), lower-cased
/// so that names compare as DNS compares them.
#[derive(Clone, Copy)]
struct WireName {
    b: [u8; MAX_NAME],
    len: usize,
}

impl PartialEq for WireName {
    fn eq(&self, o: &WireName) -> bool {
        self.b[..self.len] == o.b[..o.len]
    }
}

impl WireName {
    /// `name` (dot-separated labels, no trailing dot) in wire form, None if
    /// it has an empty or oversized label or is too long.
    fn from_text(name: &str) -> Option<WireName> {
        let mut w = WireName { b: [0; MAX_NAME], len: 0 };
        if name.is_empty() {
            return None;
        }
        for label in name.split('.') {
            let l = label.as_bytes();
            if l.is_empty() || l.len() > 63 || w.len + 1 + l.len() + 1 > MAX_NAME {
                return None;
            }
            w.b[w.len] = l.len() as u8;
            for (d, s) in w.b[w.len + 1..].iter_mut().zip(l) {
                *d = s.to_ascii_lowercase();
            }
            w.len += 1 + l.len();
        }
        Some(w)
    }

    /// Reads the name at `at` in `msg`, following compression pointers.
    /// Returns it and the offset just past it where it starts, None if
    /// malformed.
    fn read(msg: &[u8], mut at: usize) -> Option<(WireName, usize)> {
        let mut w = WireName { b: [0; MAX_NAME], len: 0 };
        let mut end = None;
        // Every pointer must go backwards: a loop cannot last.
        let mut limit = at;
        loop {
            let n = *msg.get(at)? as usize;
            match n & 0xc0 {
                0 if n == 0 => return Some((w, end.unwrap_or(at + 1))),
                0 => {
                    let l = msg.get(at + 1..at + 1 + n)?;
                    if w.len + 1 + n + 1 > MAX_NAME {
                        return None;
                    }
                    w.b[w.len] = n as u8;
                    for (d, s) in w.b[w.len + 1..].iter_mut().zip(l) {
                        *d = s.to_ascii_lowercase();
                    }
                    w.len += 1 + n;
                    at += 1 + n;
                }
                0xc0 => {
                    let to = (n & 0x3f) << 8 | *msg.get(at + 1)? as usize;
                    if to >= limit {
                        return None;
                    }
                    end.get_or_insert(at + 2);
                    limit = to;
                    at = to;
                }
                _ => return None,
            }
        }
    }
}

/// A query ready to send.
pub struct Query {
    buf: [u8; MAX_QUERY],
    len: usize,
}

impl core::ops::Deref for Query {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The query for (`name`, `qt`) with `id`, recursion desired. None if the
/// name cannot be put on the wire.
pub fn query(id: u16, name: &str, qt: Qtype) -> Option<Query> {
    let mut q = Query { buf: [0; MAX_QUERY], len: 12 };
    q.buf[..2].copy_from_slice(&id.to_be_bytes());
    q.buf[2..4].copy_from_slice(&FLAG_RECURSION.to_be_bytes());
    q.buf[4..6].copy_from_slice(&1u16.to_be_bytes());
    // The name keeps the caller's case (some servers echo it back).
    let mut labels = 0;
    for label in name.split('.') {
        let l = label.as_bytes();
        if l.is_empty() || l.len() > 63 || q.len + 1 + l.len() + 1 > 12 + MAX_NAME {
            return None;
        }
        q.buf[q.len] = l.len() as u8;
        q.buf[q.len + 1..q.len + 1 + l.len()].copy_from_slice(l);
        q.len += 1 + l.len();
        labels += 1;
    }
    if labels == 0 {
        return None;
    }
    q.buf[q.len] = 0;
    q.buf[q.len + 1..q.len + 3].copy_from_slice(&qt.wire().to_be_bytes());
    q.buf[q.len + 3..q.len + 5].copy_from_slice(&CLASS_IN.to_be_bytes());
    q.len += 5;
    Some(q)
}

fn u16_at(msg: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.get(at)?, *msg.get(at + 1)?]))
}

/// One resource record of the answer section.
struct Record {
    name: WireName,
    rtype: u16,
    class: u16,
    /// Where its data starts, and its length.
    data: usize,
    dlen: usize,
}

/// Reads the record at `at`; returns it and where the next one starts.
/// The data of the types we use must be well-formed.
fn record(msg: &[u8], at: usize) -> Option<(Record, usize)> {
    let (name, at) = WireName::read(msg, at)?;
    let rtype = u16_at(msg, at)?;
    let class = u16_at(msg, at + 2)?;
    let dlen = u16_at(msg, at + 8)? as usize;
    let data = at + 10;
    msg.get(data..data + dlen)?;
    let ok = match rtype {
        TYPE_A => dlen == 4,
        TYPE_AAAA => dlen == 16,
        TYPE_CNAME => WireName::read(msg, data).is_some_and(|(_, end)| end == data + dlen),
        _ => true,
    };
    ok.then_some((Record { name, rtype, class, data, dlen }, data + dlen))
}

/// The parts of a reply we look at.
struct Reply {
    id: u16,
    flags: u16,
    /// The question, if there is exactly one: (name, type, class).
    question: Option<(WireName, u16, u16)>,
    /// Offset of the first answer record, and how many there are.
    answers: usize,
    ancount: usize,
}

/// Reads the header, questions and answers of `msg`; None if malformed.
fn parse(msg: &[u8]) -> Option<Reply> {
    let id = u16_at(msg, 0)?;
    let flags = u16_at(msg, 2)?;
    let qdcount = u16_at(msg, 4)? as usize;
    let ancount = u16_at(msg, 6)? as usize;
    msg.get(..12)?;
    let mut at = 12;
    let mut question = None;
    for _ in 0..qdcount {
        let (name, end) = WireName::read(msg, at)?;
        let q = (name, u16_at(msg, end)?, u16_at(msg, end + 2)?);
        if qdcount == 1 {
            question = Some(q);
        }
        at = end + 4;
    }
    let answers = at;
    for _ in 0..ancount {
        at = record(msg, at)?.1;
    }
    Some(Reply { id, flags, question, answers, ancount })
}

/// Reads `msg` as the reply to query `id` for (`name`, `qt`). None if it is
/// not that reply (stray or forged datagrams are ignored by the caller).
pub fn answer(msg: &[u8], id: u16, name: &str, qt: Qtype) -> Option<Outcome> {
    let Some(p) = parse(msg) else {
        // Our id but unreadable: this server will not do.
        let ours = msg.len() >= 2 && u16::from_be_bytes([msg[0], msg[1]]) == id;
        return ours.then_some(Outcome::Failed);
    };
    // Opcode 0: a standard query.
    if p.id != id || p.flags & FLAG_RESPONSE == 0 || (p.flags >> 11) & 0xf != 0 {
        return None;
    }
    let qname = WireName::from_text(name)?;
    let rcode = p.flags & 0xf;
    match (rcode, p.question) {
        (RCODE_NOERROR | RCODE_NXDOMAIN, Some((n, t, c))) if n == qname && t == qt.wire() && c == CLASS_IN => {}
        // Some servers drop the question from error replies.
        (RCODE_NOERROR | RCODE_NXDOMAIN, _) => return None,
        _ => return Some(Outcome::Failed),
    }
    if rcode == RCODE_NXDOMAIN {
        return Some(Outcome::NxDomain);
    }
    if let Some(a) = follow(msg, &p, qname, qt) {
        return Some(Outcome::Found(a));
    }
    // A cut-off reply may have lost the records: another server may do better.
    Some(if p.flags & FLAG_TRUNCATED != 0 { Outcome::Failed } else { Outcome::NoData })
}

/// The first address of type `qt` for `name`, through CNAMEs in the answer
/// (already checked well-formed by `parse`).
fn follow(msg: &[u8], p: &Reply, name: WireName, qt: Qtype) -> Option<Addr> {
    let mut cur = name;
    for _ in 0..=MAX_CNAMES {
        let mut next = None;
        let mut at = p.answers;
        for _ in 0..p.ancount {
            let (rr, end) = record(msg, at)?;
            at = end;
            if rr.class != CLASS_IN || rr.name != cur {
                continue;
            }
            let data = msg.get(rr.data..rr.data + rr.dlen)?;
            match (rr.rtype, qt) {
                (TYPE_A, Qtype::A) => {
                    return Some(Addr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(data).ok()?)));
                }
                (TYPE_AAAA, Qtype::Aaaa) => {
                    return Some(Addr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(data).ok()?)));
                }
                (TYPE_CNAME, _) if next.is_none() => next = Some(WireName::read(msg, rr.data)?.0),
                _ => {}
            }
        }
        cur = next?;
    }
    None
}

/// `answer`, and when it finds an address, every address of its type the
/// reply gives the name (at the same step of its CNAME chain) into `out`.
pub fn answer_all(msg: &[u8], id: u16, name: &str, qt: Qtype, out: &mut Addrs) -> Option<Outcome> {
    let o = answer(msg, id, name, qt)?;
    if let Outcome::Found(a) = o {
        out.push(a);
        collect(msg, name, qt, out);
    }
    Some(o)
}

/// The addresses of type `qt` for `name` in a reply `answer` found one in:
/// those of the first name along its CNAME chain that has any.
fn collect(msg: &[u8], name: &str, qt: Qtype, out: &mut Addrs) {
    let (Some(p), Some(mut cur)) = (parse(msg), WireName::from_text(name)) else { return };
    for _ in 0..=MAX_CNAMES {
        let mut next = None;
        let mut here = false;
        let mut at = p.answers;
        for _ in 0..p.ancount {
            let Some((rr, end)) = record(msg, at) else { return };
            at = end;
            if rr.class != CLASS_IN || rr.name != cur {
                continue;
            }
            let Some(data) = msg.get(rr.data..rr.data + rr.dlen) else { return };
            match (rr.rtype, qt) {
                (TYPE_A, Qtype::A) => {
                    if let Ok(b) = <[u8; 4]>::try_from(data) {
                        out.push(Addr::V4(Ipv4Addr::from(b)));
                        here = true;
                    }
                }
                (TYPE_AAAA, Qtype::Aaaa) => {
                    if let Ok(b) = <[u8; 16]>::try_from(data) {
                        out.push(Addr::V6(Ipv6Addr::from(b)));
                        here = true;
                    }
                }
                (TYPE_CNAME, _) if next.is_none() => next = WireName::read(msg, rr.data).map(|(n, _)| n),
                _ => {}
            }
        }
        match next {
            Some(n) if !here => cur = n,
            _ => return,
        }
    }
}

/// The two questions `ask_both` asks together, IPv6 first.
const BOTH: [Qtype; 2] = [Qtype::Aaaa, Qtype::A];

/// Asks AAAA and A for `name` at once (where `want` says so, in the order
/// of `BOTH`), each server in turn as `ask` does, a type settled once a
/// server has given it an answer that is final (found, no data, no such
/// name). Every address found goes into `out`. With `delay`, the wait for
/// the second type ends that many ms after the first one found addresses
/// (RFC 8305's Resolution Delay): what has not come by then counts as
/// silent. Err(ETIMEDOUT) once the deadline passes with nothing found,
/// Err(ECANCELED) if the coroutine is canceled.
pub fn ask_both(
    cx: &Ctx,
    conf: &Conf,
    name: &str,
    want: [bool; 2],
    delay: Option<i64>,
    deadline: i64,
    out: &mut [Addrs; 2],
) -> Result<[Outcome; 2], i32> {
    let mut settled: [Option<Outcome>; 2] = [0, 1].map(|i| (!want[i]).then_some(Outcome::NoData));
    let mut heard = [false; 2];
    let mut found_at: Option<i64> = None;
    let found = |s: &[Option<Outcome>; 2]| s.iter().any(|o| matches!(o, Some(Outcome::Found(_))));
    'rounds: for _ in 0..conf.attempts {
        for &server in conf.servers() {
            let pending = [settled[0].is_none(), settled[1].is_none()];
            if pending == [false, false] {
                break 'rounds;
            }
            // The other type had its chance: go with what was found.
            let cutoff = found_at.zip(delay).map(|(t, d)| t.saturating_add(d));
            if cutoff.is_some_and(|c| now_ms() >= c) {
                break 'rounds;
            }
            let t = now_ms().saturating_add(conf.timeout_ms);
            let mut until = if deadline < 0 { t } else { t.min(deadline) };
            if let Some(c) = cutoff {
                until = until.min(c);
            }
            let got = exchange_both(cx, server, name, pending, until, delay, &mut found_at, out)?;
            for i in 0..2 {
                match got[i] {
                    Some(Outcome::Failed) => heard[i] = true,
                    Some(Outcome::Silent) | None => {}
                    Some(o) => settled[i] = Some(o),
                }
            }
            if passed(deadline) {
                if found(&settled) {
                    break 'rounds;
                }
                return Err(libc::ETIMEDOUT);
            }
        }
    }
    Ok([0, 1].map(|i| settled[i].unwrap_or(if heard[i] { Outcome::Failed } else { Outcome::Silent })))
}

/// Both questions (those `pending`) to one server on one socket, waiting
/// for their replies until `until`, or `delay` after the first address
/// found (`found_at`, set here). Each entry: the server's outcome, None if
/// no reply came in time.
#[allow(clippy::too_many_arguments)]
fn exchange_both(
    cx: &Ctx,
    server: SocketAddr,
    name: &str,
    pending: [bool; 2],
    until: i64,
    delay: Option<i64>,
    found_at: &mut Option<i64>,
    out: &mut [Addrs; 2],
) -> Result<[Option<Outcome>; 2], i32> {
    let mut got: [Option<Outcome>; 2] = [None; 2];
    let silent = |got: &mut [Option<Outcome>; 2]| {
        for i in 0..2 {
            if pending[i] && got[i].is_none() {
                got[i] = Some(Outcome::Silent);
            }
        }
    };
    let sock = match Sock::connect(cx, server) {
        Ok(s) => s,
        Err(e @ (libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)) => return Err(e),
        Err(_) => {
            silent(&mut got);
            return Ok(got);
        }
    };
    let mut ids = [0u16; 2];
    for i in 0..2 {
        if !pending[i] {
            continue;
        }
        ids[i] = random_id();
        while i == 1 && pending[0] && ids[1] == ids[0] {
            ids[1] = random_id();
        }
        let Some(q) = query(ids[i], name, BOTH[i]) else {
            got[i] = Some(Outcome::NxDomain);
            continue;
        };
        // SAFETY: q is a readable buffer of q.len() bytes; the socket is ours.
        let sent = unsafe { libc::send(sock.fd, q.as_ptr().cast(), q.len(), libc::MSG_NOSIGNAL) };
        if sent != q.len() as isize {
            got[i] = Some(Outcome::Silent);
        }
    }
    let mut buf = [0u8; 4096];
    loop {
        if (0..2).all(|i| !pending[i] || got[i].is_some()) {
            return Ok(got);
        }
        let until = match found_at.zip(delay) {
            Some((t, d)) => until.min(t.saturating_add(d)),
            None => until,
        };
        // SAFETY: buf is writable for its length; the socket is ours.
        let n = unsafe { libc::recv(sock.fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if n >= 0 {
            let msg = &buf[..n as usize];
            for i in 0..2 {
                if !pending[i] || got[i].is_some() {
                    continue;
                }
                if let Some(o) = answer_all(msg, ids[i], name, BOTH[i], &mut out[i]) {
                    if matches!(o, Outcome::Found(_)) && found_at.is_none() {
                        *found_at = Some(now_ms());
                    }
                    got[i] = Some(o);
                    break;
                }
            }
            if now_ms() >= until {
                return Ok(got);
            }
            continue;
        }
        match crate::core::errno::get() {
            libc::EAGAIN => {}
            libc::EINTR => continue,
            _ => {
                silent(&mut got);
                return Ok(got);
            }
        }
        match fdwait::wait(cx, sock.fd, fdwait::IN, until) {
            0 => {}
            libc::ETIMEDOUT => return Ok(got),
            libc::ECANCELED => return Err(libc::ECANCELED),
            _ => {
                silent(&mut got);
                return Ok(got);
            }
        }
    }
}

/// Has the caller's deadline passed? (-1 and other negatives: never.)
fn passed(deadline: i64) -> bool {
    deadline == 0 || (deadline > 0 && now_ms() >= deadline)
}

/// Asks the servers of `conf` in turn, `conf.attempts` rounds, each try
/// bounded by the per-try timeout and the caller's deadline. Err(ETIMEDOUT)
/// once that deadline passes, Err(ECANCELED) if the coroutine is canceled.
pub fn ask(cx: &Ctx, conf: &Conf, name: &str, qt: Qtype, deadline: i64) -> Result<Outcome, i32> {
    let mut heard = false;
    for _ in 0..conf.attempts {
        for &server in conf.servers() {
            let id = random_id();
            let Some(q) = query(id, name, qt) else { return Ok(Outcome::NxDomain) };
            let t = now_ms().saturating_add(conf.timeout_ms);
            let until = if deadline < 0 { t } else { t.min(deadline) };
            match exchange(cx, server, &q, id, name, qt, until) {
                Ok(Outcome::Failed) => heard = true,
                Ok(Outcome::Silent) => {}
                Ok(o) => return Ok(o),
                Err(libc::ETIMEDOUT) if !passed(deadline) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(if heard { Outcome::Failed } else { Outcome::Silent })
}

/// One query to one server, waiting for its reply until `until`.
fn exchange(
    cx: &Ctx,
    server: SocketAddr,
    q: &[u8],
    id: u16,
    name: &str,
    qt: Qtype,
    until: i64,
) -> Result<Outcome, i32> {
    let sock = match Sock::connect(cx, server) {
        Ok(s) => s,
        // Out of descriptors or memory: the caller should hear of it.
        Err(e @ (libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)) => return Err(e),
        Err(_) => return Ok(Outcome::Silent),
    };
    // SAFETY: q is a readable buffer of q.len() bytes; the socket is ours.
    let sent = unsafe { libc::send(sock.fd, q.as_ptr().cast(), q.len(), libc::MSG_NOSIGNAL) };
    if sent != q.len() as isize {
        return Ok(Outcome::Silent);
    }
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: buf is writable for its length; the socket is ours.
        let n = unsafe { libc::recv(sock.fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if n >= 0 {
            // The socket is connected: the kernel only passes on datagrams
            // from the server asked.
            if let Some(o) = buf.get(..n as usize).and_then(|m| answer(m, id, name, qt)) {
                return Ok(o);
            }
            if now_ms() >= until {
                return Err(libc::ETIMEDOUT);
            }
            continue;
        }
        match crate::core::errno::get() {
            libc::EAGAIN => {}
            libc::EINTR => continue,
            // ECONNREFUSED and the like: nobody listens there.
            _ => return Ok(Outcome::Silent),
        }
        match fdwait::wait(cx, sock.fd, fdwait::IN, until) {
            0 => {}
            e @ (libc::ETIMEDOUT | libc::ECANCELED) => return Err(e),
            _ => return Ok(Outcome::Silent),
        }
    }
}

/// A non-blocking UDP socket connected to one server.
struct Sock<'a> {
    cx: &'a Ctx,
    fd: i32,
}

impl<'a> Sock<'a> {
    fn connect(cx: &'a Ctx, server: SocketAddr) -> Result<Sock<'a>, i32> {
        let (ip, family) = match server.ip() {
            IpAddr::V4(a) => (Addr::V4(a), libc::AF_INET),
            IpAddr::V6(a) => (Addr::V6(a), libc::AF_INET6),
        };
        let sa = ipaddr::new(ip, server.port());
        let flags = libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: plain socket(2) call.
        let fd = unsafe { libc::socket(family, flags, 0) };
        if fd < 0 {
            return Err(crate::core::errno::get());
        }
        let sock = Sock { cx, fd };
        // SAFETY: sa holds a sockaddr of sa.len() bytes.
        let rc =
            unsafe { libc::connect(fd, &sa as *const ipaddr as *const libc::sockaddr, sa.len() as libc::socklen_t) };
        if rc < 0 {
            return Err(crate::core::errno::get());
        }
        Ok(sock)
    }
}

impl Drop for Sock<'_> {
    fn drop(&mut self) {
        // The runtime must forget the fd before its number can be reused.
        fdwait::clean(self.cx, self.fd);
        // SAFETY: fd is ours and closed once.
        unsafe { libc::close(self.fd) };
    }
}

/// An unpredictable query id, so that off-path forgeries are hard to match.
fn random_id() -> u16 {
    let mut id = 0u16;
    // SAFETY: writes at most 2 bytes into id.
    let n = unsafe { libc::getrandom((&mut id as *mut u16).cast(), 2, libc::GRND_NONBLOCK) };
    if n == 2 {
        return id;
    }
    // No entropy yet (early boot): still differ between queries.
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    (now_ms() as u16) ^ NEXT.fetch_add(0x9e37, Ordering::Relaxed)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use simple_dns::rdata::{RData, A, AAAA, CNAME};
    use simple_dns::{Name, Packet, PacketFlag, ResourceRecord, CLASS, QTYPE, RCODE, TYPE};

    /// A record for tests.
    pub fn rr(name: &str, rdata: RData<'static>) -> ResourceRecord<'static> {
        ResourceRecord::new(Name::new(name).unwrap().into_owned(), CLASS::IN, 60, rdata)
    }

    pub fn a(name: &str, ip: &str) -> ResourceRecord<'static> {
        rr(name, RData::A(A { address: ip.parse::<Ipv4Addr>().unwrap().into() }))
    }

    pub fn aaaa(name: &str, ip: &str) -> ResourceRecord<'static> {
        rr(name, RData::AAAA(AAAA { address: ip.parse::<Ipv6Addr>().unwrap().into() }))
    }

    pub fn cname(name: &str, target: &str) -> ResourceRecord<'static> {
        rr(name, RData::CNAME(CNAME(Name::new(target).unwrap().into_owned())))
    }

    /// The reply a server would give to `query`.
    pub fn reply(query: &[u8], rcode: RCODE, answers: Vec<ResourceRecord<'static>>) -> Vec<u8> {
        let q = Packet::parse(query).unwrap();
        let mut r = Packet::new_reply(q.id());
        r.set_flags(PacketFlag::RECURSION_DESIRED | PacketFlag::RECURSION_AVAILABLE);
        *r.rcode_mut() = rcode;
        r.questions = q.questions.clone();
        r.answers = answers;
        r.build_bytes_vec_compressed().unwrap()
    }

    fn v4(s: &str) -> Option<Outcome> {
        Some(Outcome::Found(Addr::V4(s.parse().unwrap())))
    }

    #[test]
    fn query_carries_the_question() {
        let q = query(0x1234, "Www.Example.ORG", Qtype::Aaaa).unwrap();
        let p = Packet::parse(&q).unwrap();
        assert_eq!(p.id(), 0x1234);
        assert!(p.has_flags(PacketFlag::RECURSION_DESIRED) && !p.has_flags(PacketFlag::RESPONSE));
        assert_eq!(p.questions.len(), 1);
        assert_eq!(p.questions[0].qname.to_string(), "Www.Example.ORG");
        assert_eq!(p.questions[0].qtype, QTYPE::TYPE(TYPE::AAAA));
        assert!(query(1, "", Qtype::A).is_none());
        assert!(query(1, &"x".repeat(64), Qtype::A).is_none());
    }

    #[test]
    fn answers_and_cnames() {
        let q = query(7, "www.example.org", Qtype::A).unwrap();
        let r = reply(&q, RCODE::NoError, vec![a("www.example.org", "192.0.2.1")]);
        assert_eq!(answer(&r, 7, "www.example.org", Qtype::A), v4("192.0.2.1"));
        // Case does not matter; other names' records and other types are skipped.
        let r = reply(
            &q,
            RCODE::NoError,
            vec![
                a("unrelated.example", "192.0.2.9"),
                cname("WWW.example.org", "cdn.example.net"),
                aaaa("edge.example.net", "2001:db8::1"),
                cname("cdn.example.net", "edge.example.net"),
                a("edge.example.net", "192.0.2.2"),
            ],
        );
        assert_eq!(answer(&r, 7, "www.example.org", Qtype::A), v4("192.0.2.2"));
        let q6 = query(8, "www.example.org", Qtype::Aaaa).unwrap();
        let r6 = reply(
            &q6,
            RCODE::NoError,
            vec![cname("www.example.org", "edge.example.net"), aaaa("edge.example.net", "2001:db8::1")],
        );
        assert_eq!(
            answer(&r6, 8, "www.example.org", Qtype::Aaaa),
            Some(Outcome::Found(Addr::V6("2001:db8::1".parse().unwrap())))
        );
        // A loop of CNAMEs ends.
        let r = reply(
            &q,
            RCODE::NoError,
            vec![cname("www.example.org", "x.example"), cname("x.example", "www.example.org")],
        );
        assert_eq!(answer(&r, 7, "www.example.org", Qtype::A), Some(Outcome::NoData));
    }

    #[test]
    fn negative_and_failed_replies() {
        let q = query(7, "www.example.org", Qtype::A).unwrap();
        assert_eq!(answer(&reply(&q, RCODE::NoError, vec![]), 7, "www.example.org", Qtype::A), Some(Outcome::NoData));
        let only_v6 = reply(&q, RCODE::NoError, vec![aaaa("www.example.org", "::1")]);
        assert_eq!(answer(&only_v6, 7, "www.example.org", Qtype::A), Some(Outcome::NoData));
        assert_eq!(
            answer(&reply(&q, RCODE::NameError, vec![]), 7, "www.example.org", Qtype::A),
            Some(Outcome::NxDomain)
        );
        assert_eq!(
            answer(&reply(&q, RCODE::ServerFailure, vec![]), 7, "www.example.org", Qtype::A),
            Some(Outcome::Failed)
        );
        assert_eq!(answer(&reply(&q, RCODE::Refused, vec![]), 7, "www.example.org", Qtype::A), Some(Outcome::Failed));
        let empty = reply(&q, RCODE::NoError, vec![]);
        let mut p = Packet::parse(&empty).unwrap();
        p.set_flags(PacketFlag::TRUNCATION);
        assert_eq!(answer(&p.build_bytes_vec().unwrap(), 7, "www.example.org", Qtype::A), Some(Outcome::Failed));
    }

    #[test]
    fn replies_to_other_questions_are_ignored() {
        let q = query(7, "www.example.org", Qtype::A).unwrap();
        let r = reply(&q, RCODE::NoError, vec![a("www.example.org", "192.0.2.1")]);
        assert_eq!(answer(&r, 8, "www.example.org", Qtype::A), None);
        assert_eq!(answer(&r, 7, "example.org", Qtype::A), None);
        assert_eq!(answer(&r, 7, "www.example.org", Qtype::Aaaa), None);
        // Our own query echoed back is no reply.
        assert_eq!(answer(&q, 7, "www.example.org", Qtype::A), None);
        // Unreadable: ours only if the id says so.
        assert_eq!(answer(&[0, 7, 0x81], 7, "www.example.org", Qtype::A), Some(Outcome::Failed));
        assert_eq!(answer(&[0, 8, 0x81], 7, "www.example.org", Qtype::A), None);
        assert_eq!(answer(&[], 7, "www.example.org", Qtype::A), None);
    }

    #[test]
    fn no_panic_on_damaged_replies() {
        let q = query(7, "www.example.org", Qtype::A).unwrap();
        let good = reply(&q, RCODE::NoError, vec![cname("www.example.org", "b.example"), a("b.example", "192.0.2.1")]);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for n in 0..good.len() {
            let _ = answer(&good[..n], 7, "www.example.org", Qtype::A);
        }
        for _ in 0..20_000 {
            let mut m = good.clone();
            for _ in 0..1 + rnd() % 4 {
                let i = (rnd() % m.len() as u64) as usize;
                m[i] = rnd() as u8;
            }
            let _ = answer(&m, 7, "www.example.org", Qtype::A);
            let junk: Vec<u8> = (0..rnd() % 64).map(|_| rnd() as u8).collect();
            let _ = answer(&junk, 7, "www.example.org", Qtype::A);
        }
    }
}
