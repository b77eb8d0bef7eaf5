//! Deadlines of blocked coroutines: a binary min-heap of coroutine pointers
//! keyed by their deadline, ties broken by arming order (equal deadlines
//! wake first-in first-out, as with the original). Each coroutine knows its heap position, so removal
//! on early wake-up is O(log n) and nothing is allocated once the heap grew.

use crate::core::cr::{Cr, NO_TIMER};

pub struct Timers {
    heap: Vec<*mut Cr>,
    /// Arming counter: the tie-breaker of equal deadlines.
    seq: u64,
}

impl Timers {
    pub const fn new() -> Timers {
        Timers { heap: Vec::new(), seq: 0 }
    }

    #[inline]
    fn key(&self, i: usize) -> (i64, u64) {
        // SAFETY: every entry is a live coroutine blocked with a timer.
        unsafe { ((*self.heap[i]).deadline, (*self.heap[i]).timer_seq) }
    }

    #[inline]
    fn place(&mut self, i: usize) {
        // SAFETY: as above.
        unsafe { (*self.heap[i]).timer_idx = i };
    }

    fn up(&mut self, mut i: usize) {
        while i > 0 {
            let p = (i - 1) / 2;
            if self.key(p) <= self.key(i) {
                break;
            }
            self.heap.swap(p, i);
            self.place(i);
            i = p;
        }
        self.place(i);
    }

    fn down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let c = if r < n && self.key(r) < self.key(l) { r } else { l };
            if self.key(i) <= self.key(c) {
                break;
            }
            self.heap.swap(i, c);
            self.place(i);
            i = c;
        }
        self.place(i);
    }

    /// Arms `cr`'s timer at `deadline`.
    pub fn add(&mut self, cr: *mut Cr, deadline: i64) {
        // SAFETY: cr is the live current coroutine.
        unsafe {
            (*cr).deadline = deadline;
            (*cr).timer_seq = self.seq;
        }
        self.seq = self.seq.wrapping_add(1);
        self.heap.push(cr);
        let i = self.heap.len() - 1;
        self.up(i);
    }

    /// Disarms `cr`'s timer if it has one.
    pub fn remove(&mut self, cr: *mut Cr) {
        // SAFETY: cr is live; its index, if set, points into this heap.
        let i = unsafe { (*cr).timer_idx };
        if i == NO_TIMER {
            return;
        }
        unsafe { (*cr).timer_idx = NO_TIMER };
        let Some(last) = self.heap.pop() else { return };
        if i < self.heap.len() {
            self.heap[i] = last;
            if i > 0 && self.key(i) < self.key((i - 1) / 2) {
                self.up(i);
            } else {
                self.down(i);
            }
        }
    }

    /// The earliest deadline, if any timer is armed.
    #[inline]
    pub fn next_deadline(&self) -> Option<i64> {
        if self.heap.is_empty() {
            None
        } else {
            Some(self.key(0).0)
        }
    }

    /// Removes and returns the earliest timer if it expired by `now`.
    pub fn pop_expired(&mut self, now: i64) -> Option<*mut Cr> {
        if self.heap.is_empty() || self.key(0).0 > now {
            return None;
        }
        let cr = self.heap[0];
        self.remove(cr);
        Some(cr)
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stack::Stack;

    #[test]
    fn pops_in_deadline_order_and_removes_from_the_middle() {
        let mut crs: Vec<Box<Cr>> = (0..50).map(|_| Box::new(Cr::new(Stack::none()))).collect();
        let mut t = Timers::new();
        for (i, cr) in crs.iter_mut().enumerate() {
            t.add(&mut **cr, ((i * 37) % 50) as i64);
        }
        // Drop every fifth.
        for cr in crs.iter_mut().step_by(5) {
            t.remove(&mut **cr);
            assert_eq!(cr.timer_idx, NO_TIMER);
        }
        let mut last = -1;
        let mut n = 0;
        while let Some(cr) = t.pop_expired(1000) {
            let d = unsafe { (*cr).deadline };
            assert!(d >= last);
            last = d;
            n += 1;
        }
        assert_eq!(n, 40);
        assert!(t.is_empty());
    }

    #[test]
    fn equal_deadlines_pop_in_arming_order() {
        let mut crs: Vec<Box<Cr>> = (0..20).map(|_| Box::new(Cr::new(Stack::none()))).collect();
        let mut t = Timers::new();
        for (i, cr) in crs.iter_mut().enumerate() {
            t.add(&mut **cr, if i % 2 == 0 { 7 } else { 3 });
        }
        let order: Vec<usize> = core::iter::from_fn(|| t.pop_expired(1000))
            .map(|cr| crs.iter().position(|c| core::ptr::eq(&**c, cr)).unwrap())
            .collect();
        let odd: Vec<usize> = (0..20).filter(|i| i % 2 == 1).collect();
        let even: Vec<usize> = (0..20).filter(|i| i % 2 == 0).collect();
        assert_eq!(order, [odd, even].concat());
    }
}
