//! An HTTP/1.1 head (start line and header fields, up to the empty line)
//! read from a byte stream without reading past its end: the WebSocket
//! frames that follow belong to the socket, not to the handshake.
//!
//! The bytes asked for at each step are as many as cannot be past the end:
//! the blank line "\r\n\r\n" is four bytes, so up to four at a time.

use super::below;
use crate::core::ctx::Ctx;
use crate::core::live::Token;
use core::ffi::c_int;

/// The longest head we accept; longer ones are EPROTO (nobody sends one
/// to open a WebSocket).
pub const MAX_HEAD: usize = 8192;

const END: &[u8] = b"\r\n\r\n";

/// How much of END the bytes of `b` end with.
fn partial_end(b: &[u8]) -> usize {
    (1..=END.len()).rev().find(|&k| b.len() >= k && b.ends_with(&END[..k])).unwrap_or(0)
}

/// Reads a head into `buf` (of MAX_HEAD bytes) and returns its length,
/// blank line included.
pub fn read(cx: &Ctx, tok: Token, u: c_int, buf: &mut [u8], deadline: i64) -> Result<usize, i32> {
    let mut n = 0;
    loop {
        let have = partial_end(buf.get(..n).unwrap_or(&[]));
        if have == END.len() {
            return Ok(n);
        }
        let want = END.len() - have;
        let Some(dst) = buf.get_mut(n..n + want) else { return Err(libc::EPROTO) };
        below::recv(cx, tok, u, dst.as_mut_ptr(), want, deadline)?;
        n += want;
    }
}

/// The lines of a head (without their CRLF), start line first, up to the
/// blank line.
pub fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).take_while(|l| !l.is_empty())
}

/// A header field line split into name and value (whitespace around the
/// value dropped); None if it is not one (or is an obsolete folded line).
pub fn field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    if line.first().is_some_and(|&c| c == b' ' || c == b'\t') {
        return None;
    }
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, rest) = line.split_at(colon);
    if name.is_empty() || name.iter().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    Some((name, trim(rest.get(1..).unwrap_or(&[]))))
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// Does a comma-separated field value list `token` (case-insensitively)?
pub fn has_token(value: &[u8], token: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|t| trim(t).eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_head_is_found_without_overreading() {
        assert_eq!(partial_end(b"abc"), 0);
        assert_eq!(partial_end(b"abc\r"), 1);
        assert_eq!(partial_end(b"abc\r\n"), 2);
        assert_eq!(partial_end(b"a\r\n\r"), 3);
        assert_eq!(partial_end(b"a\r\n\r\n"), 4);
        assert_eq!(partial_end(b"\r\n"), 2);
        assert_eq!(partial_end(b""), 0);
    }

    #[test]
    fn fields_and_tokens() {
        let head = b"GET / HTTP/1.1\r\nHost:  example.org \r\nConnection: keep-alive, Upgrade\r\nbad line\r\n\r\n";
        let l: Vec<&[u8]> = lines(head).collect();
        assert_eq!(l.len(), 4);
        assert_eq!(field(l[1]), Some((&b"Host"[..], &b"example.org"[..])));
        let (_, v) = field(l[2]).unwrap();
        assert!(has_token(v, b"upgrade") && !has_token(v, b"close"));
        assert_eq!(field(l[3]), None);
        assert_eq!(field(b" folded: x"), None);
        assert_eq!(field(b"Na me: x"), None);
        assert_eq!(field(b"Empty:"), Some((&b"Empty"[..], &b""[..])));
    }
}
