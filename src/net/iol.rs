//! `struct iolist`: the scatter/gather lists of the socket calls, and a
//! cursor that walks one without allocating.

use core::ffi::{c_int, c_void};
use core::ptr;

/// Layout is ABI.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct iolist {
    pub iol_base: *mut c_void,
    pub iol_len: usize,
    pub iol_next: *mut iolist,
    pub iol_rsvd: c_int,
}

/// Checks that `first`..`last` is a well-formed list: `last` ends it, it is
/// reachable from `first`, there is no loop and every `iol_rsvd` is 0.
/// Returns the total length. Lists are short as a rule: the first SHORT
/// nodes are walked without writing to them; a walk longer than that may
/// be a loop, which marking `iol_rsvd` finds (the marks are removed).
///
/// # Safety
/// Every node reachable from `first` must be a valid, writable iolist.
pub unsafe fn check(first: *mut iolist, last: *mut iolist) -> Result<usize, i32> {
    const SHORT: usize = 64;
    if first.is_null() || last.is_null() {
        return Err(libc::EINVAL);
    }
    // SAFETY: per the contract, every reachable node is valid.
    unsafe {
        if !(*last).iol_next.is_null() {
            return Err(libc::EINVAL);
        }
        let mut total = 0usize;
        let mut it = first;
        for _ in 0..SHORT {
            if (*it).iol_rsvd != 0 {
                return Err(libc::EINVAL);
            }
            total = total.saturating_add((*it).iol_len);
            let next = (*it).iol_next;
            if next.is_null() {
                return if it == last { Ok(total) } else { Err(libc::EINVAL) };
            }
            it = next;
        }
        check_marking(first, last)
    }
}

/// `check` for long lists, and lists that loop: each node is marked when
/// walked, so a loop meets a mark.
///
/// # Safety
/// As `check`; `last` ends the list (checked).
unsafe fn check_marking(first: *mut iolist, last: *mut iolist) -> Result<usize, i32> {
    // SAFETY: per the contract, every reachable node is valid and writable.
    unsafe {
        let mut total = 0usize;
        let mut ok = true;
        let mut marked = 0usize;
        let mut it = first;
        while !it.is_null() {
            if (*it).iol_rsvd != 0 || ((*it).iol_next.is_null() && it != last) {
                ok = false;
                break;
            }
            (*it).iol_rsvd = 1;
            marked += 1;
            total = total.saturating_add((*it).iol_len);
            it = (*it).iol_next;
        }
        // Unmark exactly the nodes we marked: the first `marked` ones.
        let mut m = first;
        for _ in 0..marked {
            (*m).iol_rsvd = 0;
            m = (*m).iol_next;
        }
        if ok { Ok(total) } else { Err(libc::EINVAL) }
    }
}

/// A position in a checked list: the current node and the bytes of it
/// already done.
pub struct Cursor {
    node: *mut iolist,
    off: usize,
}

impl Cursor {
    pub fn new(first: *mut iolist) -> Cursor {
        let mut c = Cursor { node: first, off: 0 };
        c.skip_empty();
        c
    }

    fn skip_empty(&mut self) {
        // SAFETY: nodes of a checked list are valid.
        unsafe {
            while !self.node.is_null() && self.off >= (*self.node).iol_len {
                self.node = (*self.node).iol_next;
                self.off = 0;
            }
        }
    }

    pub fn done(&self) -> bool {
        self.node.is_null()
    }

    /// The current piece: its address (null for "skip these bytes") and
    /// the length left in it.
    pub fn piece(&self) -> (*mut u8, usize) {
        // SAFETY: not done, so node is a valid node with off < len.
        unsafe {
            let n = &*self.node;
            let base = if n.iol_base.is_null() { ptr::null_mut() } else { (n.iol_base as *mut u8).add(self.off) };
            (base, n.iol_len - self.off)
        }
    }

    /// Moves past `n` bytes.
    pub fn advance(&mut self, mut n: usize) {
        while n > 0 && !self.node.is_null() {
            let (_, left) = self.piece();
            let k = left.min(n);
            self.off += k;
            n -= k;
            self.skip_empty();
        }
    }

    /// Fills `iov` with the pieces from here on (at most its capacity);
    /// stops at a skip piece (null base) when `stop_at_skip`. Returns the
    /// bytes covered.
    pub fn iovecs(&self, iov: &mut IoVecs, stop_at_skip: bool) -> usize {
        let mut c = Cursor { node: self.node, off: self.off };
        let mut bytes = 0;
        iov.n = 0;
        while iov.n < IOV_MAX && !c.done() {
            let (base, len) = c.piece();
            if base.is_null() && stop_at_skip {
                break;
            }
            iov.v[iov.n].write(libc::iovec { iov_base: base as *mut c_void, iov_len: len });
            iov.n += 1;
            bytes += len;
            // SAFETY: not done, so node is a valid node.
            c.node = unsafe { (*c.node).iol_next };
            c.off = 0;
            c.skip_empty();
        }
        bytes
    }
}

/// Pieces handed to one sendmsg/recvmsg; longer lists take more calls.
pub const IOV_MAX: usize = 64;

/// An iovec array filled from a cursor. Left uninitialised beyond the
/// filled part: clearing 1 KiB per call would cost more than the call.
pub struct IoVecs {
    v: [core::mem::MaybeUninit<libc::iovec>; IOV_MAX],
    n: usize,
}

impl IoVecs {
    pub fn new() -> IoVecs {
        IoVecs { v: [const { core::mem::MaybeUninit::uninit() }; IOV_MAX], n: 0 }
    }

    /// The filled entries.
    pub fn filled(&mut self) -> &mut [libc::iovec] {
        // SAFETY: the first n entries were written by `Cursor::iovecs`.
        unsafe { core::slice::from_raw_parts_mut(self.v.as_mut_ptr() as *mut libc::iovec, self.n) }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// A msghdr over the filled entries (no name, no control data).
    pub fn msghdr(&mut self) -> libc::msghdr {
        msghdr(self.v.as_mut_ptr() as *mut libc::iovec, self.n)
    }
}

/// Pieces of a short list, gathered by `gather_small`.
pub const SMALL: usize = 8;

pub struct Small {
    v: [core::mem::MaybeUninit<libc::iovec>; SMALL],
    n: usize,
    total: usize,
}

impl Small {
    pub fn new() -> Small {
        Small { v: [const { core::mem::MaybeUninit::uninit() }; SMALL], n: 0, total: 0 }
    }

    /// Bytes in the gathered pieces.
    pub fn total(&self) -> usize {
        self.total
    }

    /// A msghdr over the gathered pieces.
    pub fn msghdr(&mut self) -> libc::msghdr {
        msghdr(self.v.as_mut_ptr() as *mut libc::iovec, self.n)
    }
}

/// The common list, checked and turned into iovecs in one walk: at most
/// SMALL nodes, well formed, every one empty or with memory. False for
/// any other list (longer, malformed, with skip pieces), which `check` and
/// a Cursor then take (and give the same answer for as ever).
///
/// # Safety
/// As `check`.
pub unsafe fn gather_small(first: *mut iolist, last: *mut iolist, out: &mut Small) -> bool {
    if first.is_null() || last.is_null() {
        return false;
    }
    out.n = 0;
    out.total = 0;
    let mut it = first;
    // SAFETY: per the contract, every reachable node is valid; at most
    // SMALL of them are read.
    unsafe {
        if !(*last).iol_next.is_null() {
            return false;
        }
        for _ in 0..SMALL {
            let n = &*it;
            if n.iol_rsvd != 0 {
                return false;
            }
            if n.iol_len > 0 {
                if n.iol_base.is_null() {
                    return false;
                }
                out.v[out.n].write(libc::iovec { iov_base: n.iol_base, iov_len: n.iol_len });
                out.n += 1;
                out.total = match out.total.checked_add(n.iol_len) {
                    Some(t) => t,
                    None => return false,
                };
            }
            if n.iol_next.is_null() {
                return it == last;
            }
            it = n.iol_next;
        }
    }
    false
}

/// A msghdr over `n` iovecs at `iov` (no name, no control data).
fn msghdr(iov: *mut libc::iovec, n: usize) -> libc::msghdr {
    // SAFETY: all-zero is a valid msghdr.
    let mut hdr: libc::msghdr = unsafe { core::mem::zeroed() };
    hdr.msg_iov = iov;
    hdr.msg_iovlen = n;
    hdr
}

/// The kernel's limit on the pieces of one sendmsg/recvmsg (UIO_MAXIOV).
pub const UIO_MAXIOV: usize = 1024;

/// Every piece of a list at once, for one datagram: inline for the usual
/// short lists, on the heap for longer ones (up to UIO_MAXIOV, as the
/// original allows; more is EMSGSIZE).
pub struct DgramVecs {
    inline: IoVecs,
    heap: Vec<libc::iovec>,
}

impl DgramVecs {
    pub fn new() -> DgramVecs {
        DgramVecs { inline: IoVecs::new(), heap: Vec::new() }
    }

    /// Takes every piece of the (checked) list starting at `first`.
    pub fn fill(&mut self, first: *mut iolist) -> Result<(), i32> {
        let mut c = Cursor::new(first);
        c.advance(c.iovecs(&mut self.inline, false));
        if c.done() {
            return Ok(());
        }
        self.heap.clear();
        if self.heap.try_reserve(UIO_MAXIOV).is_err() {
            return Err(libc::ENOMEM);
        }
        self.heap.extend_from_slice(self.inline.filled());
        while !c.done() {
            let mut more = IoVecs::new();
            c.advance(c.iovecs(&mut more, false));
            if self.heap.len() + more.len() > UIO_MAXIOV {
                return Err(libc::EMSGSIZE);
            }
            self.heap.extend_from_slice(more.filled());
        }
        Ok(())
    }

    pub fn filled(&mut self) -> &mut [libc::iovec] {
        if self.heap.is_empty() { self.inline.filled() } else { &mut self.heap }
    }

    /// A msghdr over all the pieces (no name, no control data).
    pub fn msghdr(&mut self) -> libc::msghdr {
        if self.heap.is_empty() {
            return self.inline.msghdr();
        }
        msghdr(self.heap.as_mut_ptr(), self.heap.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(base: *mut u8, len: usize) -> iolist {
        iolist { iol_base: base as *mut c_void, iol_len: len, iol_next: ptr::null_mut(), iol_rsvd: 0 }
    }

    #[test]
    fn check_accepts_lists_and_rejects_malformed_ones_leaving_them_intact() {
        let mut a = node(ptr::null_mut(), 3);
        let mut b = node(ptr::null_mut(), 4);
        let mut c = node(ptr::null_mut(), 5);
        a.iol_next = &mut b;
        b.iol_next = &mut c;
        unsafe {
            assert_eq!(check(&mut a, &mut c), Ok(12));
            assert_eq!((a.iol_rsvd, b.iol_rsvd, c.iol_rsvd), (0, 0, 0));
            // last is not the end of the list.
            assert_eq!(check(&mut a, &mut b), Err(libc::EINVAL));
            // last not in the list.
            let mut d = node(ptr::null_mut(), 1);
            assert_eq!(check(&mut a, &mut d), Err(libc::EINVAL));
            // reserved field set.
            b.iol_rsvd = 7;
            assert_eq!(check(&mut a, &mut c), Err(libc::EINVAL));
            assert_eq!((a.iol_rsvd, b.iol_rsvd, c.iol_rsvd), (0, 7, 0));
            b.iol_rsvd = 0;
            // a loop (c -> a), with last = b whose next is not null anyway,
            // and a loop not passing through last.
            c.iol_next = &mut a;
            assert_eq!(check(&mut a, &mut d), Err(libc::EINVAL));
            assert_eq!((a.iol_rsvd, b.iol_rsvd, c.iol_rsvd), (0, 0, 0));
            assert_eq!(check(ptr::null_mut(), &mut d), Err(libc::EINVAL));
        }
    }

    #[test]
    fn check_of_long_lists_finds_loops_and_leaves_no_marks() {
        let mut v: Vec<iolist> = (0..200).map(|_| node(ptr::null_mut(), 1)).collect();
        let p = v.as_mut_ptr();
        unsafe {
            for i in 0..199 {
                (*p.add(i)).iol_next = p.add(i + 1);
            }
            assert_eq!(check(p, p.add(199)), Ok(200));
            // A loop far down the list (the last node's next is null: a
            // loop can only miss it).
            (*p.add(150)).iol_next = p.add(100);
            assert_eq!(check(p, p.add(199)), Err(libc::EINVAL));
            (*p.add(150)).iol_next = p.add(151);
            (*p.add(120)).iol_rsvd = 1;
            assert_eq!(check(p, p.add(199)), Err(libc::EINVAL));
            (*p.add(120)).iol_rsvd = 0;
            assert_eq!(check(p, p.add(150)), Err(libc::EINVAL));
            assert!(v.iter().all(|n| n.iol_rsvd == 0));
            assert_eq!(check(p, p.add(199)), Ok(200));
        }
    }

    #[test]
    fn gather_small_takes_short_well_formed_lists_only() {
        let mut buf = [0u8; 8];
        let mut v: Vec<iolist> = (0..10).map(|_| node(buf.as_mut_ptr(), 1)).collect();
        let p = v.as_mut_ptr();
        let mut g = Small::new();
        unsafe {
            for i in 0..9 {
                (*p.add(i)).iol_next = p.add(i + 1);
            }
            // SMALL nodes, one of them empty: gathered without it.
            (*p.add(SMALL - 1)).iol_next = ptr::null_mut();
            (*p.add(2)).iol_len = 0;
            assert!(gather_small(p, p.add(SMALL - 1), &mut g));
            assert_eq!((g.n, g.total()), (SMALL - 1, SMALL - 1));
            // Longer than SMALL, or malformed: left to check and Cursor.
            (*p.add(SMALL - 1)).iol_next = p.add(SMALL);
            assert!(!gather_small(p, p.add(SMALL), &mut g));
            (*p.add(SMALL - 1)).iol_next = ptr::null_mut();
            assert!(!gather_small(p, p.add(3), &mut g));
            (*p.add(1)).iol_rsvd = 1;
            assert!(!gather_small(p, p.add(SMALL - 1), &mut g));
            (*p.add(1)).iol_rsvd = 0;
            (*p.add(1)).iol_base = ptr::null_mut();
            assert!(!gather_small(p, p.add(SMALL - 1), &mut g));
            // A loop is never walked past SMALL nodes.
            (*p.add(1)).iol_base = buf.as_mut_ptr() as *mut c_void;
            (*p.add(SMALL - 1)).iol_next = p;
            assert!(!gather_small(p, p.add(9), &mut g));
            assert!(!gather_small(ptr::null_mut(), p, &mut g));
        }
    }

    #[test]
    fn cursor_walks_pieces_and_skips_empty_ones() {
        let mut buf = [0u8; 10];
        let mut a = node(buf.as_mut_ptr(), 4);
        let mut e = node(buf.as_mut_ptr(), 0);
        let mut b = node(ptr::null_mut(), 6);
        e.iol_next = &mut b;
        a.iol_next = &mut e;
        let mut c = Cursor::new(&mut a);
        let mut iov = IoVecs::new();
        assert_eq!((c.iovecs(&mut iov, true), iov.len()), (4, 1));
        assert_eq!((c.iovecs(&mut iov, false), iov.len()), (10, 2));
        assert!(iov.filled()[1].iov_base.is_null());
        c.advance(5);
        assert_eq!(c.piece(), (ptr::null_mut(), 5));
        c.advance(5);
        assert!(c.done());
    }
}
