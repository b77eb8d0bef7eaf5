//! UTF-8 validation of text messages that arrive in pieces: a character
//! may be split between frames and between the caller's buffers, so the
//! validator carries an incomplete character from one piece to the next.

/// Validation state of one message.
#[derive(Default)]
pub struct Utf8 {
    /// The start of a character whose last bytes have not arrived yet.
    pend: [u8; 4],
    n: u8,
}

/// Bytes of the character a lead byte starts (1 for bytes that cannot
/// start one: validation rejects those anyway).
fn width(lead: u8) -> usize {
    match lead {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 1,
    }
}

/// Is `b` a valid start of UTF-8 that may still be completed?
fn valid_prefix(b: &[u8]) -> bool {
    match core::str::from_utf8(b) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

impl Utf8 {
    /// Takes the next bytes of the message; false once it cannot be UTF-8.
    pub fn feed(&mut self, mut data: &[u8]) -> bool {
        if self.n > 0 {
            let have = self.n as usize;
            let want = width(self.pend[0]);
            let take = want.saturating_sub(have).min(data.len());
            let (head, rest) = data.split_at(take);
            let Some(slot) = self.pend.get_mut(have..have + take) else { return false };
            slot.copy_from_slice(head);
            let now = have + take;
            self.n = now as u8;
            let Some(got) = self.pend.get(..now) else { return false };
            if now < want {
                return valid_prefix(got);
            }
            if core::str::from_utf8(got).is_err() {
                return false;
            }
            self.n = 0;
            data = rest;
        }
        match core::str::from_utf8(data) {
            Ok(_) => true,
            Err(e) if e.error_len().is_some() => false,
            Err(e) => {
                // An incomplete character at the end (at most 3 bytes).
                let tail = data.get(e.valid_up_to()..).unwrap_or(&[]);
                match self.pend.get_mut(..tail.len()) {
                    Some(p) if tail.len() < 4 => {
                        p.copy_from_slice(tail);
                        self.n = tail.len() as u8;
                        true
                    }
                    _ => false,
                }
            }
        }
    }

    /// Bytes of the message that could not be looked at (received into a
    /// skipped piece): what follows is checked from a fresh start.
    pub fn gap(&mut self) {
        self.n = 0;
    }

    /// The message ended: no character may be left incomplete.
    pub fn complete(&self) -> bool {
        self.n == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_everywhere(s: &[u8]) -> bool {
        // Every way of cutting `s` in three must agree with a single check.
        let whole = core::str::from_utf8(s).is_ok();
        for i in 0..=s.len() {
            for j in i..=s.len() {
                let mut v = Utf8::default();
                let ok = v.feed(&s[..i]) && v.feed(&s[i..j]) && v.feed(&s[j..]) && v.complete();
                assert_eq!(ok, whole, "{s:x?} cut at {i}, {j}");
            }
        }
        whole
    }

    #[test]
    fn pieces_agree_with_whole_validation() {
        assert!(split_everywhere("héllo €𝄞 ok".as_bytes()));
        assert!(split_everywhere(b""));
        assert!(!split_everywhere(b"\xe0\x80\xaf")); // overlong
        assert!(!split_everywhere(b"a\xed\xa0\x80b")); // surrogate
        assert!(!split_everywhere(b"\xf4\x90\x80\x80")); // > U+10FFFF
        assert!(!split_everywhere(b"ab\xc3")); // truncated
        assert!(!split_everywhere(b"\x80")); // stray continuation
        assert!(!split_everywhere(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"));
    }

    #[test]
    fn fails_as_soon_as_a_prefix_is_impossible() {
        let mut v = Utf8::default();
        assert!(v.feed(b"ok\xe0"));
        assert!(!v.feed(b"\x80"));
        let mut v = Utf8::default();
        assert!(v.feed(b"\xf0\x9d"));
        assert!(!v.complete());
        assert!(v.feed(b"\x84\x9e"));
        assert!(v.complete());
    }
}
