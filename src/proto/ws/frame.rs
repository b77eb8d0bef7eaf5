//! RFC 6455 frame headers (section 5.2) and payload masking (5.3). Pure
//! functions: the socket code reads and writes the bytes.

pub const OP_CONT: u8 = 0;
pub const OP_TEXT: u8 = 1;
pub const OP_BINARY: u8 = 2;
pub const OP_CLOSE: u8 = 8;
pub const OP_PING: u8 = 9;
pub const OP_PONG: u8 = 10;

/// Control frames carry at most this much (5.5).
pub const MAX_CONTROL: usize = 125;

/// The longest header: 2 bytes, 8 of extended length, 4 of mask key.
pub const MAX_HEAD: usize = 14;

/// The first two bytes of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub fin: bool,
    pub op: u8,
    pub masked: bool,
    len7: u8,
}

impl Head {
    /// Reserved bits set (no extension was negotiated) are a protocol
    /// error, as are control frames that are fragmented or too long.
    pub fn parse(b: [u8; 2]) -> Result<Head, ()> {
        let h = Head { fin: b[0] & 0x80 != 0, op: b[0] & 0x0f, masked: b[1] & 0x80 != 0, len7: b[1] & 0x7f };
        if b[0] & 0x70 != 0 || (h.is_control() && (!h.fin || h.len7 as usize > MAX_CONTROL)) {
            return Err(());
        }
        Ok(h)
    }

    pub fn is_control(&self) -> bool {
        self.op & 8 != 0
    }

    /// How many bytes follow the first two before the payload: extended
    /// length and mask key. They are read in one go.
    pub fn rest_len(&self) -> usize {
        let ext = match self.len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        ext + if self.masked { 4 } else { 0 }
    }

    /// Payload length and mask key from the `rest_len()` bytes after the
    /// first two. A 64-bit length with its top bit set is invalid (5.2).
    pub fn finish(&self, rest: &[u8]) -> Result<(u64, Option<[u8; 4]>), ()> {
        let (len, key) = match (self.len7, rest) {
            (126, [a, b, key @ ..]) => (u16::from_be_bytes([*a, *b]) as u64, key),
            (127, [a, b, c, d, e, f, g, h, key @ ..]) => (u64::from_be_bytes([*a, *b, *c, *d, *e, *f, *g, *h]), key),
            (126 | 127, _) => return Err(()),
            (n, key) => (n as u64, key),
        };
        if len >> 63 != 0 {
            return Err(());
        }
        match (self.masked, key) {
            (true, [a, b, c, d]) => Ok((len, Some([*a, *b, *c, *d]))),
            (false, []) => Ok((len, None)),
            _ => Err(()),
        }
    }
}

/// Writes the header of a whole (final) frame into `out`; returns its
/// length.
pub fn encode(out: &mut [u8; MAX_HEAD], op: u8, len: u64, key: Option<[u8; 4]>) -> usize {
    out[0] = 0x80 | (op & 0x0f);
    let mbit = if key.is_some() { 0x80 } else { 0 };
    let mut n = if len < 126 {
        out[1] = mbit | len as u8;
        2
    } else if len <= 0xffff {
        out[1] = mbit | 126;
        out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        4
    } else {
        out[1] = mbit | 127;
        out[2..10].copy_from_slice(&len.to_be_bytes());
        10
    };
    if let Some(k) = key {
        out[n..n + 4].copy_from_slice(&k);
        n += 4;
    }
    n
}

/// The key as it applies from payload offset `off` on.
fn rotated(key: [u8; 4], off: usize) -> [u8; 4] {
    let r = (off & 3) as u32;
    u32::from_be_bytes(key).rotate_left(8 * r).to_be_bytes()
}

/// The rotated key repeated over a block: whole blocks are masked with
/// fixed-size array operations, which the compiler turns into SIMD.
const BLOCK: usize = 32;

fn block_key(k: [u8; 4]) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    for (i, x) in b.iter_mut().enumerate() {
        *x = k[i & 3];
    }
    b
}

/// XORs `data`, which starts at payload offset `off`, with the mask key.
pub fn mask(data: &mut [u8], key: [u8; 4], off: usize) {
    let k = rotated(key, off);
    let kb = block_key(k);
    let mut blocks = data.chunks_exact_mut(BLOCK);
    for c in &mut blocks {
        if let Ok(a) = <&mut [u8; BLOCK]>::try_from(c) {
            for i in 0..BLOCK {
                a[i] ^= kb[i];
            }
        }
    }
    for (b, m) in blocks.into_remainder().iter_mut().zip(kb) {
        *b ^= m;
    }
}

/// `dst` = `src` masked, as `mask` (the two have the same length).
pub fn mask_copy(dst: &mut [u8], src: &[u8], key: [u8; 4], off: usize) {
    let k = rotated(key, off);
    let kb = block_key(k);
    let mut d = dst.chunks_exact_mut(BLOCK);
    let mut s = src.chunks_exact(BLOCK);
    for (dc, sc) in (&mut d).zip(&mut s) {
        if let (Ok(a), Ok(b)) = (<&mut [u8; BLOCK]>::try_from(dc), <&[u8; BLOCK]>::try_from(sc)) {
            for i in 0..BLOCK {
                a[i] = b[i] ^ kb[i];
            }
        }
    }
    for ((db, sb), m) in d.into_remainder().iter_mut().zip(s.remainder()).zip(kb) {
        *db = sb ^ m;
    }
}

/// Close status codes an endpoint may send (7.4): the defined ones that
/// may appear on the wire, and the ranges for libraries and applications.
pub fn close_code_ok(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_at_every_length_boundary() {
        for &(len, key) in &[(0u64, None), (125, Some([1, 2, 3, 4])), (126, None), (65535, Some([9, 9, 9, 9])), (65536, None), (1 << 40, None)] {
            let mut b = [0u8; MAX_HEAD];
            let n = encode(&mut b, OP_BINARY, len, key);
            let h = Head::parse([b[0], b[1]]).unwrap();
            assert!(h.fin && h.op == OP_BINARY && h.masked == key.is_some());
            assert_eq!(2 + h.rest_len(), n);
            assert_eq!(h.finish(&b[2..n]), Ok((len, key)));
        }
    }

    #[test]
    fn bad_headers_are_refused() {
        assert!(Head::parse([0xc1, 0]).is_err()); // RSV1
        assert!(Head::parse([0x09, 0]).is_err()); // fragmented ping
        assert!(Head::parse([0x89, 126]).is_err()); // long ping
        let h = Head::parse([0x82, 127]).unwrap();
        assert!(h.finish(&[0x80, 0, 0, 0, 0, 0, 0, 0]).is_err()); // 2^63
        assert_eq!(h.finish(&[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Ok((u64::MAX >> 1, None)));
        assert!(h.finish(&[0; 3]).is_err());
    }

    #[test]
    fn masking_is_its_own_inverse_at_any_offset() {
        let src: Vec<u8> = (0..=255u8).cycle().take(101).collect();
        let key = [0xa1, 0xb2, 0xc3, 0xd4];
        let mut all = src.clone();
        mask(&mut all, key, 0);
        for (i, b) in all.iter().enumerate() {
            assert_eq!(*b, src[i] ^ key[i % 4]);
        }
        // Masking in two pieces, the second from an odd offset.
        let mut two = vec![0u8; src.len()];
        mask_copy(&mut two[..7], &src[..7], key, 0);
        mask_copy(&mut two[7..70], &src[7..70], key, 7);
        mask_copy(&mut two[70..], &src[70..], key, 70);
        assert_eq!(two, all);
        mask(&mut two[..13], key, 0);
        mask(&mut two[13..50], key, 13);
        mask(&mut two[50..], key, 50);
        assert_eq!(two, src);
    }

    #[test]
    fn close_codes() {
        assert!(close_code_ok(1000) && close_code_ok(1011) && close_code_ok(4999));
        assert!(!close_code_ok(999) && !close_code_ok(1005) && !close_code_ok(1006) && !close_code_ok(1015) && !close_code_ok(2999));
    }
}
