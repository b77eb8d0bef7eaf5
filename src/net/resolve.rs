//! Names that are not literal addresses: local interface names for
//! `ipaddr_local`, host names for `ipaddr_remote`.
//!
//! A host name is looked up in the hosts file first; a name found there is
//! answered from it alone. Otherwise the name servers of resolv.conf are
//! asked over UDP. Both files are read on every lookup, so changes apply at
//! once (resolution is not a hot path).

use crate::core::ctx::Ctx;
use crate::net::dns::{self, Outcome, Qtype};
use crate::net::hosts;
use crate::net::ifaces;
use crate::net::ipaddr::{Addr, Addrs, Mode};
use crate::net::resolvconf::{Conf, NAME_BYTES};

/// The address of the local interface `name` (e.g. "eth0").
pub fn local(name: &str, mode: Mode) -> Result<Addr, i32> {
    ifaces::lookup(name, mode)
}

/// The address of host `name`, resolved without blocking the thread.
/// Err(ENOMEM) if a file cannot be read for want of memory.
pub fn remote(cx: &Ctx, name: &str, mode: Mode, deadline: i64) -> Result<Addr, i32> {
    let hosts = read_file(c"/etc/hosts")?;
    resolve(cx, name, mode, deadline, text(&hosts), || Ok(Conf::parse(text(&read_file(c"/etc/resolv.conf")?))))
}

/// A file's contents; empty if it cannot be read (a missing file says
/// nothing), Err(ENOMEM) if there is no memory to hold it.
fn read_file(path: &core::ffi::CStr) -> Result<Vec<u8>, i32> {
    let mut v: Vec<u8> = Vec::new();
    // SAFETY: path is a C string.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Ok(v);
    }
    let r = loop {
        if v.len() == v.capacity() && v.try_reserve(v.capacity().max(4096)).is_err() {
            break Err(libc::ENOMEM);
        }
        let room = v.spare_capacity_mut();
        // SAFETY: room is writable for its length; the fd is ours.
        let n = unsafe { libc::read(fd, room.as_mut_ptr().cast(), room.len()) };
        if n > 0 {
            // SAFETY: read initialised these n bytes of the spare capacity.
            unsafe { v.set_len(v.len() + n as usize) };
        } else if n == 0 {
            break Ok(v);
        } else if crate::core::errno::get() != libc::EINTR {
            v.clear();
            break Ok(v);
        }
    };
    // SAFETY: fd is ours, closed once.
    unsafe { libc::close(fd) };
    r
}

/// A file's text; one that is not UTF-8 names nothing usable.
fn text(b: &[u8]) -> &str {
    core::str::from_utf8(b).unwrap_or("")
}

/// `remote` with the hosts file's text and the resolver configuration given
/// (the configuration is only read if a server must be asked).
pub(crate) fn resolve(
    cx: &Ctx,
    name: &str,
    mode: Mode,
    deadline: i64,
    hosts_text: &str,
    conf: impl FnOnce() -> Result<Conf, i32>,
) -> Result<Addr, i32> {
    if !well_formed(name) {
        return Err(libc::EADDRNOTAVAIL);
    }
    if let Some(f) = hosts::lookup(hosts_text, name) {
        return mode.choose(f.v4, f.v6).ok_or(libc::EADDRNOTAVAIL);
    }
    // RFC 6761: names under "invalid" never resolve; no server need be asked.
    let last = name.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    if last.eq_ignore_ascii_case("invalid") {
        return Err(libc::EADDRNOTAVAIL);
    }
    let conf = conf()?;
    let order: &[Qtype] = match mode {
        Mode::V4 => &[Qtype::A],
        Mode::V6 => &[Qtype::Aaaa],
        Mode::PrefV4 => &[Qtype::A, Qtype::Aaaa],
        Mode::PrefV6 => &[Qtype::Aaaa, Qtype::A],
    };
    let mut buf = [0; NAME_BYTES];
    for i in 0..conf.ncandidates(name) {
        let Some(candidate) = conf.candidate(name, i, &mut buf) else { continue };
        for &qt in order {
            match dns::ask(cx, &conf, candidate, qt, deadline)? {
                Outcome::Found(a) => return Ok(a),
                Outcome::NxDomain => break,
                Outcome::NoData | Outcome::Failed => {}
                // Nobody answers: the other names would fare no better.
                Outcome::Silent => return Err(libc::EADDRNOTAVAIL),
            }
        }
    }
    Err(libc::EADDRNOTAVAIL)
}

/// RFC 8305's Resolution Delay, for `remotes` asked with `racing`: once
/// one family's addresses are in, the other's are waited for this long.
pub const RESOLUTION_DELAY: i64 = 50;

/// Every address (up to `Addrs::CAP` per family) of host `name` in the
/// families `want` names, as (IPv6, IPv4): a literal is the one address
/// there is; a name the hosts file lists is answered from it alone;
/// otherwise AAAA and A are asked together. `racing` (Happy Eyeballs):
/// once one family is found, the other gets `RESOLUTION_DELAY` ms more.
/// A name with no address gives two empty lists; Err(ETIMEDOUT),
/// Err(ECANCELED), Err(ENOMEM), Err(EMFILE)... when the lookup fails.
pub fn remotes(cx: &Ctx, name: &str, want: [bool; 2], racing: bool, deadline: i64) -> Result<(Addrs, Addrs), i32> {
    let (mut v6, mut v4) = (Addrs::new(), Addrs::new());
    match Addr::literal(name, Mode::PrefV4) {
        Some(Ok(a @ Addr::V6(_))) if want[0] => v6.push(a),
        Some(Ok(a @ Addr::V4(_))) if want[1] => v4.push(a),
        Some(_) => {}
        None => {
            let hosts = read_file(c"/etc/hosts")?;
            let conf = || Ok(Conf::parse(text(&read_file(c"/etc/resolv.conf")?)));
            return resolve_all(cx, name, want, racing, deadline, text(&hosts), conf);
        }
    }
    Ok((v6, v4))
}

/// `remotes` of a name that is no literal, with the hosts file's text and
/// the resolver configuration given (as `resolve`).
pub(crate) fn resolve_all(
    cx: &Ctx,
    name: &str,
    want: [bool; 2],
    racing: bool,
    deadline: i64,
    hosts_text: &str,
    conf: impl FnOnce() -> Result<Conf, i32>,
) -> Result<(Addrs, Addrs), i32> {
    let none = Ok((Addrs::new(), Addrs::new()));
    if !well_formed(name) || want == [false, false] {
        return none;
    }
    if let Some((v6, v4)) = hosts::lookup_all(hosts_text, name) {
        let keep = |l: Addrs, w: bool| if w { l } else { Addrs::new() };
        return Ok((keep(v6, want[0]), keep(v4, want[1])));
    }
    let last = name.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    if last.eq_ignore_ascii_case("invalid") {
        return none;
    }
    let conf = conf()?;
    let delay = racing.then_some(RESOLUTION_DELAY);
    let mut buf = [0; NAME_BYTES];
    for i in 0..conf.ncandidates(name) {
        let Some(candidate) = conf.candidate(name, i, &mut buf) else { continue };
        let mut out = [Addrs::new(), Addrs::new()];
        let r = dns::ask_both(cx, &conf, candidate, want, delay, deadline, &mut out)?;
        if r.iter().any(|o| matches!(o, Outcome::Found(_))) {
            let [v6, v4] = out;
            return Ok((v6, v4));
        }
        // Nobody answers: the other names would fare no better.
        if (0..2).all(|i| !want[i] || r[i] == Outcome::Silent) {
            break;
        }
    }
    none
}

/// A name with a chance of resolving: dot-separated labels of 1 to 63 bytes,
/// 253 bytes in all, an optional trailing dot.
fn well_formed(name: &str) -> bool {
    let n = name.strip_suffix('.').unwrap_or(name);
    !n.is_empty() && n.len() <= 253 && n.split('.').all(|l| !l.is_empty() && l.len() <= 63)
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
