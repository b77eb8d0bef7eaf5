//! Deadlines of blocked coroutines: a pairing heap (a min-heap) of
//! coroutines keyed by their deadline, ties broken by arming order (equal
//! deadlines wake first-in first-out, as with the original).
//!
//! The heap is intrusive: its links live in the coroutine records. Arming a
//! timer happens inside a wait, which has no way to fail, so it must never
//! allocate; with the links in the records nothing is ever allocated, for
//! any number of timers. Arming is O(1); taking the earliest and removing
//! one on early wake-up are O(log n) amortized.

use crate::core::cr::{Cr, ARMED, NO_TIMER};
use core::ptr;

pub struct Timers {
    root: *mut Cr,
    /// Arming counter: the tie-breaker of equal deadlines.
    seq: u64,
}

/// Does `a` expire before `b`?
///
/// # Safety
/// Both are live coroutines with armed timers.
#[inline]
unsafe fn before(a: *mut Cr, b: *mut Cr) -> bool {
    // SAFETY: per the contract.
    unsafe { ((*a).deadline, (*a).timer_seq) < ((*b).deadline, (*b).timer_seq) }
}

/// Joins two heaps (roots with no siblings) into one; returns its root.
///
/// # Safety
/// `a` and `b` are roots of distinct heaps of armed coroutines.
#[inline]
unsafe fn meld(a: *mut Cr, b: *mut Cr) -> *mut Cr {
    // SAFETY: per the contract; every node reached is an armed coroutine.
    unsafe {
        let (top, sub) = if before(b, a) { (b, a) } else { (a, b) };
        let first = (*top).t_child;
        (*sub).t_next = first;
        if !first.is_null() {
            (*first).t_prev = sub;
        }
        (*sub).t_prev = top;
        (*top).t_child = sub;
        top
    }
}

/// Makes one heap of a list of sibling heaps (linked by `t_next`), by the
/// usual two passes: meld pairs left to right, then the pairs right to left.
///
/// # Safety
/// `first` is null or the first of a sibling list of armed coroutines.
unsafe fn merge_pairs(mut first: *mut Cr) -> *mut Cr {
    // SAFETY: per the contract; the list is relinked as it is walked.
    unsafe {
        // Pass 1: the melded pairs go on a stack, linked by `t_next`.
        let mut stack: *mut Cr = ptr::null_mut();
        while !first.is_null() {
            let a = first;
            let b = (*a).t_next;
            let m = if b.is_null() {
                first = ptr::null_mut();
                a
            } else {
                first = (*b).t_next;
                (*a).t_next = ptr::null_mut();
                (*b).t_next = ptr::null_mut();
                meld(a, b)
            };
            (*m).t_next = stack;
            stack = m;
        }
        // Pass 2: meld from the last pair back to the first.
        let mut root = stack;
        if root.is_null() {
            return root;
        }
        stack = (*root).t_next;
        (*root).t_next = ptr::null_mut();
        while !stack.is_null() {
            let n = (*stack).t_next;
            (*stack).t_next = ptr::null_mut();
            root = meld(root, stack);
            stack = n;
        }
        (*root).t_prev = ptr::null_mut();
        root
    }
}

impl Timers {
    pub const fn new() -> Timers {
        Timers { root: ptr::null_mut(), seq: 0 }
    }

    /// Arms `cr`'s timer at `deadline`. Allocates nothing.
    pub fn add(&mut self, cr: *mut Cr, deadline: i64) {
        // SAFETY: cr is the live current coroutine, not armed; the heap's
        // nodes are armed coroutines.
        unsafe {
            (*cr).deadline = deadline;
            (*cr).timer_seq = self.seq;
            (*cr).timer_idx = ARMED;
            (*cr).t_child = ptr::null_mut();
            (*cr).t_next = ptr::null_mut();
            (*cr).t_prev = ptr::null_mut();
            self.root = if self.root.is_null() { cr } else { meld(self.root, cr) };
            (*self.root).t_prev = ptr::null_mut();
        }
        self.seq = self.seq.wrapping_add(1);
    }

    /// Disarms `cr`'s timer if it has one.
    pub fn remove(&mut self, cr: *mut Cr) {
        // SAFETY: cr is live; if armed, it is a node of this heap, and its
        // links point at nodes of this heap.
        unsafe {
            if (*cr).timer_idx == NO_TIMER {
                return;
            }
            (*cr).timer_idx = NO_TIMER;
            let sub = merge_pairs((*cr).t_child);
            if cr == self.root {
                self.root = sub;
                return;
            }
            // Unlink cr from its siblings (or its parent, if it is the first).
            let prev = (*cr).t_prev;
            let next = (*cr).t_next;
            if (*prev).t_child == cr {
                (*prev).t_child = next;
            } else {
                (*prev).t_next = next;
            }
            if !next.is_null() {
                (*next).t_prev = prev;
            }
            if !sub.is_null() {
                self.root = meld(self.root, sub);
                (*self.root).t_prev = ptr::null_mut();
            }
        }
    }

    /// The earliest deadline, if any timer is armed.
    #[inline]
    pub fn next_deadline(&self) -> Option<i64> {
        // SAFETY: a non-null root is an armed, live coroutine.
        (!self.root.is_null()).then(|| unsafe { (*self.root).deadline })
    }

    /// Removes and returns the earliest timer if it expired by `now`.
    pub fn pop_expired(&mut self, now: i64) -> Option<*mut Cr> {
        let cr = self.root;
        // SAFETY: as above.
        if cr.is_null() || unsafe { (*cr).deadline } > now {
            return None;
        }
        self.remove(cr);
        Some(cr)
    }

    pub fn is_empty(&self) -> bool {
        self.root.is_null()
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

    #[test]
    fn random_arms_and_removals_match_a_sorted_list() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut crs: Vec<Box<Cr>> = (0..300).map(|_| Box::new(Cr::new(Stack::none()))).collect();
        let mut t = Timers::new();
        // The model: (deadline, arming order, index) of every armed one.
        let mut model: Vec<(i64, u64, usize)> = Vec::new();
        let mut order = 0u64;
        let mut now = 0i64;
        for _ in 0..20_000 {
            let i = (rnd() % crs.len() as u64) as usize;
            let cr: *mut Cr = &mut *crs[i];
            match rnd() % 3 {
                0 if crs[i].timer_idx == NO_TIMER => {
                    let d = now + (rnd() % 50) as i64;
                    t.add(cr, d);
                    model.push((d, order, i));
                    order += 1;
                }
                1 => {
                    t.remove(cr);
                    model.retain(|m| m.2 != i);
                    assert_eq!(crs[i].timer_idx, NO_TIMER);
                }
                _ => {
                    now += (rnd() % 3) as i64;
                    model.sort();
                    assert_eq!(t.next_deadline(), model.first().map(|m| m.0));
                    while let Some(c) = t.pop_expired(now) {
                        let (d, _, j) = model.remove(0);
                        assert!(d <= now);
                        assert!(core::ptr::eq(c, &*crs[j]));
                    }
                    assert!(model.first().is_none_or(|m| m.0 > now));
                }
            }
        }
        assert_eq!(t.is_empty(), model.is_empty());
    }
}
