//! The HTTP upgrade that opens a WebSocket (RFC 6455 4): the client's GET
//! with its key, the server's 101 with the matching accept key. Anything
//! else is EPROTO; a server answers a bad request with 400 (426 for a
//! version other than 13) before giving up.

use super::{below, head, key};
use crate::core::ctx::Ctx;
use crate::core::live::Token;
use crate::net::iol::iolist;
use core::ffi::{c_char, c_int, c_void, CStr};
use core::ptr;

/// What the caller of ws_attach_client/server gave for the handshake.
pub enum Handshake {
    Client { resource: *const c_char, host: *const c_char },
    Server { resource: *mut c_char, resourcelen: usize, host: *mut c_char, hostlen: usize },
}

impl Handshake {
    pub fn is_server(&self) -> bool {
        matches!(self, Handshake::Server { .. })
    }

    /// Checks the arguments before anything is sent or read: EINVAL.
    pub fn check(&self) -> Result<(), i32> {
        match *self {
            Handshake::Client { resource, host } => {
                // A request line and a field value: no spaces or line
                // breaks that would let them say more.
                let ok = |p: *const c_char, space: bool| {
                    // SAFETY: non-null pointers are C strings (caller's contract).
                    !p.is_null()
                        && unsafe { CStr::from_ptr(p) }
                            .to_bytes()
                            .iter()
                            .all(|&b| b >= 0x20 && b != 0x7f && (space || b != b' '))
                };
                if ok(resource, false) && ok(host, true) && unsafe { *resource } != 0 {
                    Ok(())
                } else {
                    Err(libc::EINVAL)
                }
            }
            Handshake::Server { resource, resourcelen, host, hostlen } => {
                if resource.is_null() || host.is_null() || resourcelen == 0 || hostlen == 0 {
                    Err(libc::EINVAL)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Runs the handshake on byte stream `u`.
    pub fn run(&self, cx: &Ctx, tok: Token, u: c_int, deadline: i64) -> Result<(), i32> {
        let mut buf = Vec::new();
        buf.try_reserve_exact(head::MAX_HEAD).map_err(|_| libc::ENOMEM)?;
        buf.resize(head::MAX_HEAD, 0);
        match *self {
            Handshake::Client { resource, host } => client(cx, tok, u, resource, host, &mut buf, deadline),
            Handshake::Server { resource, resourcelen, host, hostlen } => {
                // SAFETY: writable for their lengths (caller's contract).
                let (r, h) = unsafe {
                    (
                        core::slice::from_raw_parts_mut(resource as *mut u8, resourcelen),
                        core::slice::from_raw_parts_mut(host as *mut u8, hostlen),
                    )
                };
                server(cx, tok, u, r, h, &mut buf, deadline)
            }
        }
    }
}

/// A list over the pieces, sent as one write.
fn send_pieces(cx: &Ctx, tok: Token, u: c_int, pieces: &[&[u8]], deadline: i64) -> Result<(), i32> {
    let mut iol: [iolist; 8] =
        core::array::from_fn(|_| iolist { iol_base: ptr::null_mut(), iol_len: 0, iol_next: ptr::null_mut(), iol_rsvd: 0 });
    let n = pieces.len().min(iol.len());
    if n == 0 {
        return Ok(());
    }
    for (i, p) in pieces.iter().take(n).enumerate() {
        iol[i].iol_base = p.as_ptr() as *mut c_void;
        iol[i].iol_len = p.len();
    }
    let base = iol.as_mut_ptr();
    for i in 0..n - 1 {
        // SAFETY: i + 1 < n <= 8: both inside the array.
        unsafe { (*base.add(i)).iol_next = base.add(i + 1) };
    }
    // SAFETY: as above; n >= 1.
    below::sendl(cx, tok, u, base, unsafe { base.add(n - 1) }, deadline)
}

fn key_text(k: &[u8; key::KEY_SIZE]) -> &[u8] {
    let n = k.iter().position(|&b| b == 0).unwrap_or(k.len());
    k.get(..n).unwrap_or(&[])
}

fn client(
    cx: &Ctx,
    tok: Token,
    u: c_int,
    resource: *const c_char,
    host: *const c_char,
    buf: &mut [u8],
    deadline: i64,
) -> Result<(), i32> {
    // SAFETY: checked C strings (`check`).
    let (resource, host) = unsafe { (CStr::from_ptr(resource).to_bytes(), CStr::from_ptr(host).to_bytes()) };
    let mut req = [0u8; key::KEY_SIZE];
    key::request_key(&mut req)?;
    let req = key_text(&req);
    let pieces: [&[u8]; 7] = [
        b"GET ",
        resource,
        b" HTTP/1.1\r\nHost: ",
        host,
        b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ",
        req,
        b"\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ];
    send_pieces(cx, tok, u, &pieces, deadline)?;
    let n = head::read(cx, tok, u, buf, deadline)?;
    let mut expect = [0u8; key::KEY_SIZE];
    key::response_key(req, &mut expect)?;
    let expect = key_text(&expect);
    let mut lines = head::lines(buf.get(..n).unwrap_or(&[]));
    let status = lines.next().unwrap_or(&[]);
    let mut words = status.split(|&b| b == b' ');
    if words.next() != Some(b"HTTP/1.1") || words.next() != Some(b"101") {
        return Err(libc::EPROTO);
    }
    let (mut upgrade, mut connection, mut accept) = (false, false, 0);
    for line in lines {
        let Some((name, value)) = head::field(line) else { return Err(libc::EPROTO) };
        if name.eq_ignore_ascii_case(b"Upgrade") {
            upgrade |= head::has_token(value, b"websocket");
        } else if name.eq_ignore_ascii_case(b"Connection") {
            connection |= head::has_token(value, b"upgrade");
        } else if name.eq_ignore_ascii_case(b"Sec-WebSocket-Accept") {
            accept += if value == expect { 1 } else { 2 };
        } else if name.eq_ignore_ascii_case(b"Sec-WebSocket-Extensions")
            || name.eq_ignore_ascii_case(b"Sec-WebSocket-Protocol")
        {
            // We asked for none (RFC 6455 4.1, items 5 and 6).
            return Err(libc::EPROTO);
        }
    }
    if upgrade && connection && accept == 1 { Ok(()) } else { Err(libc::EPROTO) }
}

/// Copies `v` and a NUL into `out`: EMSGSIZE if it does not fit.
fn store(out: &mut [u8], v: &[u8]) -> Result<(), i32> {
    match out.get_mut(..v.len() + 1) {
        Some(d) => {
            d[..v.len()].copy_from_slice(v);
            d[v.len()] = 0;
            Ok(())
        }
        None => Err(libc::EMSGSIZE),
    }
}

fn server(
    cx: &Ctx,
    tok: Token,
    u: c_int,
    resource: &mut [u8],
    host: &mut [u8],
    buf: &mut [u8],
    deadline: i64,
) -> Result<(), i32> {
    let n = head::read(cx, tok, u, buf, deadline)?;
    let mut accept = [0u8; key::KEY_SIZE];
    match parse_request(buf.get(..n).unwrap_or(&[]), resource, host, &mut accept) {
        Ok(()) => {}
        Err(e) => {
            // Tell the client why, if the stream still works; the error
            // is ours to report either way.
            let why: &[u8] = if e == libc::EINVAL {
                b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"
            } else {
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
            };
            return match send_pieces(cx, tok, u, &[why], deadline) {
                Err(super::DEAD) => Err(super::DEAD),
                _ => Err(if e == libc::EINVAL { libc::EPROTO } else { e }),
            };
        }
    }
    let pieces: [&[u8]; 3] = [
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
        key_text(&accept),
        b"\r\n\r\n",
    ];
    send_pieces(cx, tok, u, &pieces, deadline)
}

/// Checks a client's request and takes its resource, host and accept key.
/// EPROTO for a bad request, EINVAL (turned into EPROTO by the caller) for
/// an unsupported version, EMSGSIZE if resource or host do not fit.
fn parse_request(head: &[u8], resource: &mut [u8], host: &mut [u8], accept: &mut [u8; key::KEY_SIZE]) -> Result<(), i32> {
    let mut lines = head::lines(head);
    let start = lines.next().unwrap_or(&[]);
    let mut words = start.split(|&b| b == b' ');
    let (Some(b"GET"), Some(target), Some(b"HTTP/1.1"), None) = (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(libc::EPROTO);
    };
    if target.is_empty() {
        return Err(libc::EPROTO);
    }
    let (mut got_host, mut upgrade, mut connection, mut got_key, mut version) = (false, false, false, false, None);
    for line in lines {
        let Some((name, value)) = head::field(line) else { return Err(libc::EPROTO) };
        if name.eq_ignore_ascii_case(b"Host") {
            if got_host {
                return Err(libc::EPROTO);
            }
            got_host = true;
            store(host, value)?;
        } else if name.eq_ignore_ascii_case(b"Upgrade") {
            upgrade |= head::has_token(value, b"websocket");
        } else if name.eq_ignore_ascii_case(b"Connection") {
            connection |= head::has_token(value, b"upgrade");
        } else if name.eq_ignore_ascii_case(b"Sec-WebSocket-Key") {
            if got_key {
                return Err(libc::EPROTO);
            }
            got_key = true;
            key::response_key(value, accept)?;
        } else if name.eq_ignore_ascii_case(b"Sec-WebSocket-Version") {
            version = Some(value == b"13");
        }
    }
    if !(got_host && upgrade && connection && got_key) {
        return Err(libc::EPROTO);
    }
    match version {
        Some(true) => store(resource, target),
        Some(false) => Err(libc::EINVAL),
        None => Err(libc::EPROTO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(req: &str) -> Result<(String, String), i32> {
        let (mut r, mut h, mut a) = ([0u8; 64], [0u8; 16], [0u8; key::KEY_SIZE]);
        parse_request(req.as_bytes(), &mut r, &mut h, &mut a)?;
        let s = |b: &[u8]| String::from_utf8(b[..b.iter().position(|&c| c == 0).unwrap()].to_vec()).unwrap();
        assert_eq!(key_text(&a), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        Ok((s(&r), s(&h)))
    }

    const GOOD: &str = "GET /chat?x=1 HTTP/1.1\r\nHost: server.example\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn requests() {
        assert_eq!(parse(GOOD), Ok(("/chat?x=1".into(), "server.example".into())));
        assert_eq!(parse(&GOOD.replace("GET", "POST")), Err(libc::EPROTO));
        assert_eq!(parse(&GOOD.replace("HTTP/1.1", "HTTP/1.0")), Err(libc::EPROTO));
        assert_eq!(parse(&GOOD.replace("Version: 13", "Version: 8")), Err(libc::EINVAL));
        assert_eq!(parse(&GOOD.replace("Upgrade: websocket", "Upgrade: h2c")), Err(libc::EPROTO));
        assert_eq!(parse(&GOOD.replace("keep-alive, Upgrade", "keep-alive")), Err(libc::EPROTO));
        assert_eq!(parse(&GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "short")), Err(libc::EPROTO));
        assert_eq!(parse(&GOOD.replace("server.example", "a-host-name-too-long")), Err(libc::EMSGSIZE));
        assert_eq!(parse(&GOOD.replace("Host: server.example\r\n", "")), Err(libc::EPROTO));
        assert_eq!(parse(&GOOD.replace("Origin", "Host")), Err(libc::EPROTO));
        assert_eq!(parse(&GOOD.replace("/chat?x=1", &"/x".repeat(40))), Err(libc::EMSGSIZE));
    }
}
