//! PFX against a peer that sends arbitrary bytes. The input chooses a
//! series of calls (mrecv, mrecvl into pieces or dropping, msend, msendl,
//! hdone, pfx_detach, malformed lists) and, after them, what the peer
//! sends. Every result is compared with a model of the protocol: what
//! each call returns, every byte received and sent, and, after a detach,
//! that the rest of the peer's bytes are still readable below.

use super::mem::Mem;
use crate::core::errno;
use crate::ffi::{bsock, handles, msock, pfx};
use crate::net::iol::iolist;
use core::ffi::c_void;
use core::ptr;

/// Buffer sizes the calls use.
const SIZES: [usize; 8] = [0, 1, 3, 8, 9, 64, 300, 4096];
const END: [u8; 8] = [0xff; 8];

/// What the protocol should do, and what it has done so far.
struct Model<'a> {
    input: &'a [u8],
    pos: usize,
    out: Vec<u8>,
    indone: bool,
    outdone: bool,
    inerr: bool,
    outerr: bool,
}

impl Model<'_> {
    /// One message into `room` bytes (None: dropped): its bytes, or errno.
    fn recv(&mut self, room: Option<usize>) -> Result<&[u8], i32> {
        if self.indone {
            return Err(libc::EPIPE);
        }
        if self.inerr {
            return Err(libc::ECONNRESET);
        }
        let left = self.input.len() - self.pos;
        if left < 8 {
            self.pos = self.input.len();
            self.inerr = true;
            return Err(libc::EPIPE);
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.input[self.pos..self.pos + 8]);
        self.pos += 8;
        let size = u64::from_be_bytes(b);
        if size == u64::MAX {
            self.indone = true;
            return Err(libc::EPIPE);
        }
        if size > isize::MAX as u64 || room.is_some_and(|r| size > r as u64) {
            self.inerr = true;
            return Err(libc::EMSGSIZE);
        }
        let size = size as usize;
        if size > self.input.len() - self.pos {
            self.pos = self.input.len();
            self.inerr = true;
            return Err(libc::ECONNRESET);
        }
        let start = self.pos;
        self.pos += size;
        Ok(&self.input[start..start + size])
    }

    /// A message of `payload` sent (or the errno).
    fn send(&mut self, payload: &[u8]) -> Result<(), i32> {
        if self.outdone {
            return Err(libc::EPIPE);
        }
        if self.outerr {
            return Err(libc::ECONNRESET);
        }
        self.out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        self.out.extend_from_slice(payload);
        Ok(())
    }

    fn done(&mut self) -> Result<(), i32> {
        if self.outdone {
            return Err(libc::EPIPE);
        }
        if self.outerr {
            return Err(libc::ECONNRESET);
        }
        self.out.extend_from_slice(&END);
        self.outdone = true;
        Ok(())
    }

    fn detach(&mut self) -> Result<(), i32> {
        if self.inerr || self.outerr {
            return Err(libc::ECONNRESET);
        }
        if !self.outdone {
            self.done()?;
        }
        loop {
            match self.recv(None).map(|_| ()) {
                Ok(()) => {}
                Err(libc::EPIPE) if self.indone => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// The errno a call with a malformed list gets.
    fn bad_list(&self, send: bool) -> i32 {
        match send {
            true if self.outdone => libc::EPIPE,
            true if self.outerr => libc::ECONNRESET,
            false if self.indone => libc::EPIPE,
            false if self.inerr => libc::ECONNRESET,
            _ => libc::EINVAL,
        }
    }
}

fn res(rc: isize) -> Result<usize, i32> {
    if rc < 0 { Err(errno::get()) } else { Ok(rc as usize) }
}

fn piece(base: *mut u8, len: usize) -> iolist {
    iolist { iol_base: base as *mut c_void, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 }
}

/// A payload of `n` bytes that differs per call.
fn payload(n: usize, k: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(31) ^ k) as u8).collect()
}

/// Runs one session. Panics when the library and the model disagree.
pub fn run(data: &[u8]) {
    let n = data.first().map_or(0, |b| (b & 31) as usize).min(data.len().saturating_sub(1));
    let ops = &data[data.len().min(1)..data.len().min(1 + n)];
    let input = &data[data.len().min(1 + n)..];
    let Ok((mem, s)) = Mem::new(input) else { return };
    let p = pfx::pfx_attach(s);
    assert!(p >= 0, "pfx_attach: {}", errno::get());
    let mut m = Model { input, pos: 0, out: Vec::new(), indone: false, outdone: false, inerr: false, outerr: false };
    let mut open = true;
    for (k, &op) in ops.iter().enumerate() {
        let size = SIZES[(op >> 3) as usize % SIZES.len()];
        match op & 7 {
            // mrecv into a buffer; nothing past the message is written.
            0 => {
                let mut buf = vec![0xaau8; size + 1];
                // SAFETY: buf has size writable bytes.
                let got = res(unsafe { msock::mrecv(p, buf.as_mut_ptr() as *mut c_void, size, -1) });
                let want = m.recv(Some(size)).map(|b| b.to_vec());
                match (&got, &want) {
                    (Ok(g), Ok(w)) => {
                        assert_eq!(*g, w.len());
                        assert_eq!(&buf[..*g], &w[..]);
                        assert!(buf[*g..].iter().all(|&c| c == 0xaa));
                    }
                    _ => assert_eq!(got.err(), want.err(), "mrecv op {k}"),
                }
            }
            // mrecvl into [a][skip b][c]: cut to the message, restored after.
            1 => {
                let (a, b) = (size / 2, size / 4);
                let c = size - a - b;
                let mut ba = vec![0xaau8; a];
                let mut bc = vec![0xaau8; c];
                let mut l = [piece(ba.as_mut_ptr(), a), piece(ptr::null_mut(), b), piece(bc.as_mut_ptr(), c)];
                let (l0, l1, l2) = (&mut l as *mut iolist, (&mut l[1]) as *mut iolist, (&mut l[2]) as *mut iolist);
                // SAFETY: the three pieces are valid and linked in order.
                let got = unsafe {
                    (*l0).iol_next = l1;
                    (*l1).iol_next = l2;
                    res(msock::mrecvl(p, l0, l2, -1))
                };
                assert!(l[0].iol_len == a && l[1].iol_len == b && l[2].iol_len == c);
                assert!(l[0].iol_next == l1 && l[1].iol_next == l2 && l[2].iol_next.is_null());
                let want = m.recv(Some(size)).map(|x| x.to_vec());
                match (&got, &want) {
                    (Ok(g), Ok(w)) => {
                        assert_eq!(*g, w.len());
                        let ka = a.min(w.len());
                        assert_eq!(&ba[..ka], &w[..ka]);
                        assert!(ba[ka..].iter().all(|&x| x == 0xaa));
                        let kc = w.len().saturating_sub(a + b);
                        assert_eq!(&bc[..kc], &w[w.len() - kc..]);
                        assert!(bc[kc..].iter().all(|&x| x == 0xaa));
                    }
                    _ => assert_eq!(got.err(), want.err(), "mrecvl op {k}"),
                }
            }
            // mrecvl(NULL, NULL): dropped, its size returned.
            2 => {
                // SAFETY: both null is the documented "drop" form.
                let got = res(unsafe { msock::mrecvl(p, ptr::null_mut(), ptr::null_mut(), -1) });
                let want = m.recv(None).map(|b| b.len());
                assert_eq!(got, want, "drop op {k}");
            }
            3 => {
                let data = payload(size, k);
                // SAFETY: data has size readable bytes.
                let got = res(unsafe { msock::msend(p, data.as_ptr() as *const c_void, size, -1) } as isize);
                assert_eq!(got.map(|_| ()), m.send(&data), "msend op {k}");
            }
            // msendl of [a][empty][rest].
            4 => {
                let mut data = payload(size, k);
                let a = size / 3;
                let base = data.as_mut_ptr();
                // SAFETY: pieces within data.
                let mut l = [piece(base, a), piece(base, 0), piece(unsafe { base.add(a) }, size - a)];
                let (l0, l1, l2) = (&mut l as *mut iolist, (&mut l[1]) as *mut iolist, (&mut l[2]) as *mut iolist);
                // SAFETY: the three pieces are valid and linked in order.
                let got = unsafe {
                    (*l0).iol_next = l1;
                    (*l1).iol_next = l2;
                    res(msock::msendl(p, l0, l2, -1) as isize)
                };
                assert_eq!(got.map(|_| ()), m.send(&data), "msendl op {k}");
            }
            5 => {
                let got = res(handles::hdone(p, -1) as isize);
                assert_eq!(got.map(|_| ()), m.done(), "hdone op {k}");
            }
            6 => {
                let got = pfx::pfx_detach(p, -1);
                let want = m.detach();
                open = false;
                if got < 0 {
                    assert_eq!(Err(errno::get()), want, "detach op {k}");
                    assert!(mem.closed(), "failed detach closes the socket below");
                    break;
                }
                assert_eq!(want, Ok(()), "detach op {k}");
                // The peer's bytes after its end marker are still there.
                let rest = input.len() - m.pos;
                assert_eq!(mem.rest().len(), rest);
                let mut buf = vec![0u8; rest];
                // SAFETY: buf has rest writable bytes.
                assert_eq!(unsafe { bsock::brecv(got, buf.as_mut_ptr() as *mut c_void, rest, -1) }, 0);
                assert_eq!(&buf[..], &input[m.pos..]);
                assert!(!mem.closed());
                assert_eq!(handles::hclose(got), 0);
                break;
            }
            // A malformed list (reserved field set): refused, nothing done.
            _ => {
                let mut b = [0u8; 4];
                let mut bad = piece(b.as_mut_ptr(), b.len());
                bad.iol_rsvd = 1;
                let send = size.is_multiple_of(2);
                // SAFETY: a valid (if malformed) one-piece list.
                let got = unsafe {
                    if send {
                        msock::msendl(p, &mut bad, &mut bad, -1) as isize
                    } else {
                        msock::mrecvl(p, &mut bad, &mut bad, -1)
                    }
                };
                assert_eq!(res(got), Err(m.bad_list(send)), "bad list op {k}");
                assert_eq!(bad.iol_rsvd, 1);
            }
        }
    }
    if open {
        assert_eq!(handles::hclose(p), 0);
    }
    assert!(mem.closed(), "closing the PFX socket closes the one below");
    assert_eq!(mem.out(), &m.out[..], "bytes sent");
    assert_eq!(handles::hclose(s), -1, "the attached handle was taken over");
}

#[cfg(test)]
mod tests {
    use super::run;

    fn msg(v: &mut Vec<u8>, body: &[u8]) {
        v.extend_from_slice(&(body.len() as u64).to_be_bytes());
        v.extend_from_slice(body);
    }

    #[test]
    fn a_session_of_every_call() {
        // ops: recv 64, recvl 64, drop, send 300, sendl 9, hdone, detach.
        let ops = [0 | 5 << 3, 1 | 5 << 3, 2, 3 | 6 << 3, 4 | 4 << 3, 7, 5, 6];
        let mut d = vec![ops.len() as u8];
        d.extend_from_slice(&ops);
        msg(&mut d, b"first");
        msg(&mut d, b"second message");
        msg(&mut d, b"dropped");
        msg(&mut d, b"dropped by detach");
        d.extend_from_slice(&[0xff; 8]);
        d.extend_from_slice(b"left for the socket below");
        run(&d);
    }

    #[test]
    fn lying_sizes_and_short_input() {
        for size in [u64::MAX - 1, 1 << 63, 4097, 5] {
            for op in [0u8 | 7 << 3, 1 | 7 << 3, 2, 6] {
                let mut d = vec![2, op, op];
                d.extend_from_slice(&size.to_be_bytes());
                d.extend_from_slice(b"abc");
                run(&d);
            }
        }
        run(&[]);
        run(&[31]);
        run(&[3, 0, 1, 2, 0, 0, 0]);
    }
}
