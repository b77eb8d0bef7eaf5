//! The handshake keys (RFC 6455 4.1, 4.2.2): the client's
//! Sec-WebSocket-Key is 16 random bytes in base64; the server proves it
//! read it with Sec-WebSocket-Accept, the base64 SHA-1 of the key and a
//! GUID fixed by the RFC.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Room for a key and its NUL (WS_KEY_SIZE).
pub const KEY_SIZE: usize = 32;

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Fills `buf` from the kernel's random source.
pub fn random(buf: &mut [u8]) -> Result<(), i32> {
    let mut done = 0;
    while done < buf.len() {
        let Some(rest) = buf.get_mut(done..) else { break };
        // SAFETY: rest is writable for its length.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr() as *mut libc::c_void, rest.len(), 0) };
        if n < 0 {
            let e = crate::core::errno::get();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        done += n as usize;
    }
    Ok(())
}

/// A fresh request key, NUL-terminated.
pub fn request_key(out: &mut [u8; KEY_SIZE]) -> Result<(), i32> {
    let mut nonce = [0u8; 16];
    random(&mut nonce)?;
    encode(&nonce, out);
    Ok(())
}

/// The accept key for `request` (without its NUL), NUL-terminated; EPROTO
/// if `request` is not 16 bytes in base64.
pub fn response_key(request: &[u8], out: &mut [u8; KEY_SIZE]) -> Result<(), i32> {
    let mut nonce = [0u8; 18];
    match STANDARD.decode_slice(request, &mut nonce) {
        Ok(16) => {}
        _ => return Err(libc::EPROTO),
    }
    let mut h = sha1_smol::Sha1::new();
    h.update(request);
    h.update(GUID);
    encode(&h.digest().bytes(), out);
    Ok(())
}

/// Base64 of `data` (at most 23 bytes) into `out`, NUL-terminated.
fn encode(data: &[u8], out: &mut [u8; KEY_SIZE]) {
    *out = [0; KEY_SIZE];
    // 20 bytes make 28 characters: always fits with the NUL.
    let _ = STANDARD.encode_slice(data, &mut out[..KEY_SIZE - 1]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(k: &[u8; KEY_SIZE]) -> &str {
        let n = k.iter().position(|&b| b == 0).unwrap();
        core::str::from_utf8(&k[..n]).unwrap()
    }

    #[test]
    fn the_rfc_example() {
        let mut out = [0u8; KEY_SIZE];
        response_key(b"dGhlIHNhbXBsZSBub25jZQ==", &mut out).unwrap();
        assert_eq!(text(&out), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn request_keys_are_fresh_and_accepted() {
        let (mut a, mut b, mut r) = ([0u8; KEY_SIZE], [0u8; KEY_SIZE], [0u8; KEY_SIZE]);
        request_key(&mut a).unwrap();
        request_key(&mut b).unwrap();
        assert_eq!(text(&a).len(), 24);
        assert_ne!(a, b);
        response_key(text(&a).as_bytes(), &mut r).unwrap();
        assert_eq!(text(&r).len(), 28);
    }

    #[test]
    fn keys_that_are_not_16_bytes_are_refused() {
        let mut out = [0u8; KEY_SIZE];
        for bad in [&b""[..], b"abc", b"dGhlIHNhbXBsZSBub25jZQ", b"dGhlIHNhbXBsZSBub25jZXg=", b"!!!!!!!!!!!!!!!!!!!!!!==", b"dGhlIHNhbXBsZSBub25jZSBsb25nZXI="] {
            assert_eq!(response_key(bad, &mut out), Err(libc::EPROTO), "{bad:?}");
        }
    }
}
