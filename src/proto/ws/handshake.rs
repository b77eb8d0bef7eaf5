//! The HTTP upgrade that opens a WebSocket (RFC 6455 4), spoken through
//! our HTTP protocol (proto::http) stacked on the byte stream for the
//! length of the handshake: the client's GET with its key, the server's
//! 101 with the matching accept key. Anything else is EPROTO; a server
//! answers a bad request with 400 (426 for a version other than 13).
//!
//! The HTTP socket takes the stream under a new number (as the
//! original's), which its detach hands back: that is the stream the
//! WebSocket then runs on. A failed handshake closes the stream.

use super::key;
use crate::core::ctx::Ctx;
use crate::core::handles;
use crate::proto::http;
use core::ffi::{c_char, c_int, CStr};
use core::ptr;

/// What the caller of ws_attach_client/server gave for the handshake.
pub enum Handshake {
    Client { resource: *const c_char, host: *const c_char },
    Server { resource: *mut c_char, resourcelen: usize, host: *mut c_char, hostlen: usize },
}

/// Buffers for received field names, values and the status reason.
const NAME: usize = 256;
const VALUE: usize = 1024;

impl Handshake {
    pub fn is_server(&self) -> bool {
        matches!(self, Handshake::Server { .. })
    }

    /// Checks the arguments before anything is sent or read: EINVAL.
    pub fn check(&self) -> Result<(), i32> {
        let ok = match *self {
            Handshake::Client { resource, host } => {
                // A word of the request line and a field value: checked
                // here, so that they fail before the stream is taken.
                // SAFETY: non-null pointers are C strings (caller's contract).
                let text = |p: *const c_char| (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes());
                match (text(resource), text(host)) {
                    (Some(r), Some(h)) => {
                        !r.is_empty()
                            && r.iter().all(|&b| b > b' ' && b != 0x7f)
                            && h.iter().all(|&b| b != b'\r' && b != b'\n')
                    }
                    _ => false,
                }
            }
            Handshake::Server { resource, resourcelen, host, hostlen } => {
                !resource.is_null() && !host.is_null() && resourcelen > 0 && hostlen > 0
            }
        };
        if ok { Ok(()) } else { Err(libc::EINVAL) }
    }

    /// Runs the handshake on byte stream `u`; returns the stream's number
    /// after it. On failure the stream is closed.
    pub fn run(&self, cx: &Ctx, u: c_int, deadline: i64) -> Result<c_int, i32> {
        let mut buf = Vec::new();
        if buf.try_reserve_exact(NAME + VALUE).is_err() {
            return Err(libc::ENOMEM);
        }
        buf.resize(NAME + VALUE, 0);
        let (name, value) = buf.split_at_mut(NAME);
        let h = http::attach(cx, u, ptr::null_mut())?;
        let r = match *self {
            Handshake::Client { resource, host } => {
                // SAFETY: checked C strings (`check`).
                let (r, hst) = unsafe { (CStr::from_ptr(resource).to_bytes(), CStr::from_ptr(host).to_bytes()) };
                client(cx, h, r, hst, name, value, deadline)
            }
            Handshake::Server { resource, resourcelen, host, hostlen } => {
                // SAFETY: writable for their lengths (caller's contract).
                let (r, hst) = unsafe {
                    (
                        core::slice::from_raw_parts_mut(resource as *mut u8, resourcelen),
                        core::slice::from_raw_parts_mut(host as *mut u8, hostlen),
                    )
                };
                server(cx, h, r, hst, name, value, deadline)
            }
        };
        match r {
            Ok(()) => http::detach(cx, h, deadline),
            Err(e) => {
                // The HTTP socket closes the stream with it.
                let _ = handles::close(cx, h);
                Err(e)
            }
        }
    }
}

fn text(k: &[u8; key::KEY_SIZE]) -> &[u8] {
    let n = k.iter().position(|&b| b == 0).unwrap_or(k.len());
    k.get(..n).unwrap_or(&[])
}

fn client(cx: &Ctx, h: c_int, resource: &[u8], host: &[u8], name: &mut [u8], value: &mut [u8], deadline: i64) -> Result<(), i32> {
    let mut req = [0u8; key::KEY_SIZE];
    key::request_key(&mut req)?;
    let req = text(&req);
    http::send_request(cx, h, b"GET", resource, deadline)?;
    http::send_field(cx, h, b"Host", host, deadline)?;
    http::send_field(cx, h, b"Upgrade", b"websocket", deadline)?;
    http::send_field(cx, h, b"Connection", b"Upgrade", deadline)?;
    http::send_field(cx, h, b"Sec-WebSocket-Key", req, deadline)?;
    http::send_field(cx, h, b"Sec-WebSocket-Version", b"13", deadline)?;
    http::done(cx, h, deadline)?;
    let mut expect = [0u8; key::KEY_SIZE];
    key::response_key(req, &mut expect)?;
    let expect = text(&expect);
    let (status, _) = http::recv_status(cx, h, value, deadline)?;
    if status != 101 {
        return Err(libc::EPROTO);
    }
    let (mut upgrade, mut connection, mut accept) = (false, false, 0);
    loop {
        let (n, v) = match http::recv_field(cx, h, name, value, deadline) {
            Ok(nv) => nv,
            Err(libc::EPIPE) => break,
            Err(e) => return Err(e),
        };
        let (f, v) = (name.get(..n).unwrap_or(&[]), value.get(..v).unwrap_or(&[]));
        if f.eq_ignore_ascii_case(b"Upgrade") {
            upgrade |= has_token(v, b"websocket");
        } else if f.eq_ignore_ascii_case(b"Connection") {
            connection |= has_token(v, b"upgrade");
        } else if f.eq_ignore_ascii_case(b"Sec-WebSocket-Accept") {
            accept += if v == expect { 1 } else { 2 };
        } else if f.eq_ignore_ascii_case(b"Sec-WebSocket-Extensions") || f.eq_ignore_ascii_case(b"Sec-WebSocket-Protocol") {
            // We asked for none (RFC 6455 4.1, client items 5 and 6).
            return Err(libc::EPROTO);
        }
    }
    if upgrade && connection && accept == 1 { Ok(()) } else { Err(libc::EPROTO) }
}

fn server(
    cx: &Ctx,
    h: c_int,
    resource: &mut [u8],
    host: &mut [u8],
    name: &mut [u8],
    value: &mut [u8],
    deadline: i64,
) -> Result<(), i32> {
    let mut accept = [0u8; key::KEY_SIZE];
    match request(cx, h, resource, host, name, value, &mut accept, deadline) {
        Ok(()) => {}
        Err(Bad::Io(e)) => return Err(e),
        Err(Bad::Request(e, status)) => {
            // Tell the client why, if the stream still works; the error
            // is ours to report either way.
            let _ = (|| {
                if status == 426 {
                    http::send_status(cx, h, 426, b"Upgrade Required", deadline)?;
                    http::send_field(cx, h, b"Sec-WebSocket-Version", b"13", deadline)?;
                } else {
                    http::send_status(cx, h, 400, b"Bad Request", deadline)?;
                }
                http::send_field(cx, h, b"Content-Length", b"0", deadline)?;
                http::done(cx, h, deadline)
            })();
            return Err(e);
        }
    }
    http::send_status(cx, h, 101, b"Switching Protocols", deadline)?;
    http::send_field(cx, h, b"Upgrade", b"websocket", deadline)?;
    http::send_field(cx, h, b"Connection", b"Upgrade", deadline)?;
    http::send_field(cx, h, b"Sec-WebSocket-Accept", text(&accept), deadline)?;
    Ok(())
}

/// Why a request was not taken: the stream failed, or the request is
/// refused (errno, and the status to answer with).
enum Bad {
    Io(i32),
    Request(i32, c_int),
}

fn refuse(e: i32) -> Bad {
    match e {
        libc::EPROTO | libc::EMSGSIZE => Bad::Request(e, 400),
        e => Bad::Io(e),
    }
}

/// Reads and checks a client's request; takes its resource, host and
/// accept key. EMSGSIZE if resource or host do not fit.
#[allow(clippy::too_many_arguments)]
fn request(
    cx: &Ctx,
    h: c_int,
    resource: &mut [u8],
    host: &mut [u8],
    name: &mut [u8],
    value: &mut [u8],
    accept: &mut [u8; key::KEY_SIZE],
    deadline: i64,
) -> Result<(), Bad> {
    let mut command = [0u8; 32];
    let (c, _) = http::recv_request(cx, h, &mut command, resource, deadline).map_err(refuse)?;
    if command.get(..c) != Some(&b"GET"[..]) {
        return Err(Bad::Request(libc::EPROTO, 400));
    }
    let (mut got_host, mut upgrade, mut connection, mut got_key, mut version) = (false, false, false, false, None);
    loop {
        let (n, v) = match http::recv_field(cx, h, name, value, deadline) {
            Ok(nv) => nv,
            Err(libc::EPIPE) => break,
            Err(e) => return Err(refuse(e)),
        };
        let (f, v) = (name.get(..n).unwrap_or(&[]), value.get(..v).unwrap_or(&[]));
        if f.eq_ignore_ascii_case(b"Host") {
            if got_host {
                return Err(Bad::Request(libc::EPROTO, 400));
            }
            got_host = true;
            store(host, v).map_err(refuse)?;
        } else if f.eq_ignore_ascii_case(b"Upgrade") {
            upgrade |= has_token(v, b"websocket");
        } else if f.eq_ignore_ascii_case(b"Connection") {
            connection |= has_token(v, b"upgrade");
        } else if f.eq_ignore_ascii_case(b"Sec-WebSocket-Key") {
            if got_key {
                return Err(Bad::Request(libc::EPROTO, 400));
            }
            got_key = true;
            key::response_key(v, accept).map_err(refuse)?;
        } else if f.eq_ignore_ascii_case(b"Sec-WebSocket-Version") {
            version = Some(v == b"13");
        }
    }
    if !(got_host && upgrade && connection && got_key) {
        return Err(Bad::Request(libc::EPROTO, 400));
    }
    match version {
        Some(true) => Ok(()),
        Some(false) => Err(Bad::Request(libc::EPROTO, 426)),
        None => Err(Bad::Request(libc::EPROTO, 400)),
    }
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

/// Does a comma-separated field value list `token` (case-insensitively)?
fn has_token(value: &[u8], token: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(has_token(b"keep-alive, Upgrade", b"upgrade"));
        assert!(has_token(b"WebSocket", b"websocket"));
        assert!(!has_token(b"keep-alive", b"upgrade"));
        assert!(!has_token(b"upgraded", b"upgrade"));
    }

    #[test]
    fn store_needs_room_for_the_nul() {
        let mut b = [9u8; 4];
        assert_eq!(store(&mut b, b"abc"), Ok(()));
        assert_eq!(&b, b"abc\0");
        assert_eq!(store(&mut b, b"abcd"), Err(libc::EMSGSIZE));
    }
}
