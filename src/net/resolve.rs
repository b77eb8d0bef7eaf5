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
use crate::net::ipaddr::{Addr, Mode};
use crate::net::resolvconf::Conf;

/// The address of the local interface `name` (e.g. "eth0").
pub fn local(name: &str, mode: Mode) -> Result<Addr, i32> {
    ifaces::lookup(name, mode)
}

/// The address of host `name`, resolved without blocking the thread.
pub fn remote(cx: &Ctx, name: &str, mode: Mode, deadline: i64) -> Result<Addr, i32> {
    let read = |path| std::fs::read_to_string(path).unwrap_or_default();
    resolve(cx, name, mode, deadline, &read("/etc/hosts"), || Conf::parse(&read("/etc/resolv.conf")))
}

/// `remote` with the hosts file's text and the resolver configuration given
/// (the configuration is only read if a server must be asked).
pub(crate) fn resolve(
    cx: &Ctx,
    name: &str,
    mode: Mode,
    deadline: i64,
    hosts_text: &str,
    conf: impl FnOnce() -> Conf,
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
    let conf = conf();
    let order: &[Qtype] = match mode {
        Mode::V4 => &[Qtype::A],
        Mode::V6 => &[Qtype::Aaaa],
        Mode::PrefV4 => &[Qtype::A, Qtype::Aaaa],
        Mode::PrefV6 => &[Qtype::Aaaa, Qtype::A],
    };
    for candidate in conf.candidates(name) {
        for &qt in order {
            match dns::ask(cx, &conf, &candidate, qt, deadline)? {
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

/// A name with a chance of resolving: dot-separated labels of 1 to 63 bytes,
/// 253 bytes in all, an optional trailing dot.
fn well_formed(name: &str) -> bool {
    let n = name.strip_suffix('.').unwrap_or(name);
    !n.is_empty() && n.len() <= 253 && n.split('.').all(|l| !l.is_empty() && l.len() <= 63)
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
