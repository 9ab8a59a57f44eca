//! The pending-event set, ordered by (time, insertion sequence).
//!
//! Ties in time pop in the order they were scheduled, so a run is deterministic whatever the
//! model does: (time, seq) is a total order, so the pop sequence is fixed whatever the heap's
//! shape. This module owns that order and nothing else; it must not know what an event means.
//!
//! The structure is a 4-ary min-heap in one reused `Vec` (after warm-up its buffer stops
//! growing and scheduling allocates nothing), with two choices made for the hold pattern of
//! a simulation — pop the earliest event, then schedule its follow-up:
//!
//! - A 4-ary heap is half as deep as a binary one, and the four children of a node are
//!   adjacent in memory: finding the smallest touches one or two cache lines, where the same
//!   two levels of a binary heap touch up to three.
//! - `pop` is lazy: it takes the root and moves the last entry into its slot without sifting
//!   it down (the root is then "dirty"). If the next call schedules an event, the new event
//!   takes the root's slot, the displaced entry goes back to the end, where it came from and
//!   where it is in heap order, and the new event sifts down: one sift per hold operation
//!   instead of a sift down plus a sift up. Any other call that needs the heap order first
//!   finishes the pending sift.
//!
//! Keys compare as one `u128` (time in the high half, sequence in the low half): a
//! branch-free comparison.

use super::SimTime;

/// Children per node.
const ARITY: usize = 4;

#[derive(Clone, Copy)]
struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    #[inline(always)]
    fn key(&self) -> u128 {
        (u128::from(self.time.as_nanos()) << 64) | u128::from(self.seq)
    }
}

/// A min-priority queue of events keyed on (time, insertion sequence).
///
/// Events are `Copy` (as [`super::Model::Event`] requires): entries move by value inside the
/// heap's buffer.
pub struct EventQueue<E> {
    /// A 4-ary min-heap on [`Entry::key`], except at the root while `dirty`.
    heap: Vec<Entry<E>>,
    /// The root holds the former last entry, moved there by `pop` and not yet sifted down.
    /// Every other entry is in heap order, and the root's children are the minima of their
    /// subtrees.
    dirty: bool,
    next_seq: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            heap: Vec::with_capacity(capacity),
            dirty: false,
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`. Among events at the same time, earlier calls pop first.
    #[inline]
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = Entry { time, seq, event };
        if self.dirty {
            // Replace-top: the displaced entry returns to the slot `pop` took it from, whose
            // parent is unchanged (or is the root, which the sift below orders).
            self.dirty = false;
            let displaced = self.heap[0];
            self.heap.push(displaced);
            self.sift_down(0, entry);
        } else {
            self.heap.push(entry);
            self.sift_up(self.heap.len() - 1, entry);
        }
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.settle();
        if self.heap.is_empty() {
            return None;
        }
        let top = self.heap.swap_remove(0);
        self.dirty = self.heap.len() > 1;
        Some((top.time, top.event))
    }

    /// Removes and returns the earliest event if it happens at or before `limit`; otherwise
    /// leaves the queue as it is. The run loop's step: one look at the root instead of a
    /// `peek_time` and a `pop`.
    #[inline]
    pub fn pop_due(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        self.settle();
        match self.heap.first() {
            Some(e) if e.time <= limit => self.pop(),
            _ => None,
        }
    }

    /// The time of the earliest event, without removing it (the randomized test's check of
    /// the heap; the run loop uses [`EventQueue::pop_due`]).
    #[cfg(test)]
    pub fn peek_time(&self) -> Option<SimTime> {
        let root = self.heap.first()?;
        if !self.dirty {
            return Some(root.time);
        }
        // The minimum is the root or one of its children (each the minimum of its subtree).
        let end = (1 + ARITY).min(self.heap.len());
        let best = self.heap[1..end]
            .iter()
            .fold(root, |b, e| if e.key() < b.key() { e } else { b });
        Some(best.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Visits every pending event, in no particular order (the randomized test's check).
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (SimTime, &E)> {
        self.heap.iter().map(|e| (e.time, &e.event))
    }

    /// Finishes a pending sift of the root, if any.
    #[inline(always)]
    fn settle(&mut self) {
        if self.dirty {
            self.dirty = false;
            let root = self.heap[0];
            self.sift_down(0, root);
        }
    }

    /// Places `entry`, which belongs at `pos` or above, treating `pos` as a hole: one write
    /// per level. The entry comes in a register, not read back from the slot just written,
    /// which would stall on store-to-load forwarding.
    #[inline]
    fn sift_up(&mut self, mut pos: usize, entry: Entry<E>) {
        let key = entry.key();
        while pos > 0 {
            let parent = (pos - 1) / ARITY;
            if self.heap[parent].key() <= key {
                break;
            }
            self.heap[pos] = self.heap[parent];
            pos = parent;
        }
        self.heap[pos] = entry;
    }

    /// Places `entry`, which belongs at `pos` or below, treating `pos` as a hole: one write
    /// per level (see [`Self::sift_up`] for why the entry is passed in).
    #[inline]
    fn sift_down(&mut self, mut pos: usize, entry: Entry<E>) {
        let len = self.heap.len();
        let key = entry.key();
        loop {
            let first = ARITY * pos + 1;
            let (child, child_key) = if first + ARITY <= len {
                // All four children: a branch-free tournament.
                let c: &[Entry<E>; ARITY] = self.heap[first..first + ARITY]
                    .try_into()
                    .expect("slice of ARITY entries");
                let (k0, k1, k2, k3) = (c[0].key(), c[1].key(), c[2].key(), c[3].key());
                let (i01, k01) = if k1 < k0 { (1, k1) } else { (0, k0) };
                let (i23, k23) = if k3 < k2 { (3, k3) } else { (2, k2) };
                if k23 < k01 {
                    (first + i23, k23)
                } else {
                    (first + i01, k01)
                }
            } else if first < len {
                let mut best = (first, self.heap[first].key());
                for (i, e) in self.heap[first + 1..len].iter().enumerate() {
                    let k = e.key();
                    if k < best.1 {
                        best = (first + 1 + i, k);
                    }
                }
                best
            } else {
                break;
            };
            if key <= child_key {
                break;
            }
            self.heap[pos] = self.heap[child];
            pos = child;
        }
        self.heap[pos] = entry;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    #[test]
    fn ties_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        for i in 0..10 {
            q.schedule(SimTime::from_nanos(5), i);
        }
        q.schedule(SimTime::from_nanos(1), 99);
        assert_eq!(q.pop(), Some((SimTime::from_nanos(1), 99)));
        for i in 0..10 {
            assert_eq!(q.pop(), Some((SimTime::from_nanos(5), i)));
        }
        assert_eq!(q.pop(), None);
    }

    /// Randomized: interleaved pushes and pops agree with a BTreeMap keyed on (time, seq).
    #[test]
    fn matches_btreemap_shadow_queue() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut q = EventQueue::new();
        let mut shadow = BTreeMap::new();
        let mut seq = 0u64;
        for _ in 0..200_000 {
            if rng.random_bool(0.55) {
                // Few distinct times, so that ties are common.
                let t = SimTime::from_nanos(rng.random_range(0..50));
                q.schedule(t, seq);
                shadow.insert((t, seq), seq);
                seq += 1;
            } else {
                let want = shadow.pop_first().map(|((t, _), v)| (t, v));
                assert_eq!(q.pop(), want);
            }
            assert_eq!(q.len(), shadow.len());
        }
        while let Some(((t, _), v)) = shadow.pop_first() {
            assert_eq!(q.pop(), Some((t, v)));
        }
        assert!(q.is_empty());
    }

    /// Randomized, every operation: schedule, pop, pop_due, peek_time, len and iter agree with
    /// a BTreeMap keyed on (time, seq), through hold runs (pop then schedule, the lazy path),
    /// bursts of pops (the pending sift finished by the next pop) and bursts of schedules,
    /// over narrow time ranges (many ties) and wide ones.
    #[test]
    fn every_operation_matches_btreemap_shadow_queue() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        let mut q = EventQueue::with_capacity(4);
        let mut shadow = BTreeMap::new();
        let mut seq = 0u64;
        let mut now = 0u64;
        for step in 0..300_000u32 {
            let span = if (step / 10_000) % 2 == 0 {
                8
            } else {
                1_000_000
            };
            match rng.random_range(0..10) {
                // Schedule at or after the last popped time, as a model does.
                0..=3 => {
                    let t = SimTime::from_nanos(now + rng.random_range(0..span));
                    q.schedule(t, seq);
                    shadow.insert((t, seq), seq);
                    seq += 1;
                }
                4..=6 => {
                    let want = shadow.pop_first().map(|((t, _), v)| (t, v));
                    let got = q.pop();
                    assert_eq!(got, want);
                    if let Some((t, _)) = got {
                        now = t.as_nanos();
                    }
                }
                7 => {
                    let limit = SimTime::from_nanos(now + rng.random_range(0..span));
                    let want = match shadow.first_key_value() {
                        Some((&(t, _), _)) if t <= limit => {
                            shadow.pop_first().map(|((t, _), v)| (t, v))
                        }
                        _ => None,
                    };
                    assert_eq!(q.pop_due(limit), want);
                }
                8 => {
                    let want = shadow.first_key_value().map(|(&(t, _), _)| t);
                    assert_eq!(q.peek_time(), want);
                }
                _ => {
                    let mut got: Vec<u64> = q.iter().map(|(_, &v)| v).collect();
                    got.sort_unstable();
                    let mut want: Vec<u64> = shadow.values().copied().collect();
                    want.sort_unstable();
                    assert_eq!(got, want);
                }
            }
            assert_eq!(q.len(), shadow.len());
            assert_eq!(q.is_empty(), shadow.is_empty());
        }
        while let Some(((t, _), v)) = shadow.pop_first() {
            assert_eq!(q.peek_time(), Some(t));
            assert_eq!(q.pop(), Some((t, v)));
        }
        assert_eq!(q.pop(), None);
        assert_eq!(q.pop_due(SimTime::MAX), None);
    }

    /// The hold model at a fixed size keeps the size, pops in nondecreasing time and never
    /// grows the buffer past its high-water mark (no allocation per event).
    #[test]
    fn hold_model_keeps_order_and_buffer() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let mut q = EventQueue::with_capacity(1000);
        for i in 0..1000u32 {
            q.schedule(SimTime::from_nanos(rng.random_range(0..1_000_000)), i);
        }
        let cap = q.heap.capacity();
        let mut last = SimTime::ZERO;
        for _ in 0..100_000 {
            let (t, e) = q.pop().expect("size is constant");
            assert!(t >= last, "popped {t:?} after {last:?}");
            last = t;
            q.schedule(t + SimTime::from_nanos(rng.random_range(0..2_000_000)), e);
            assert_eq!(q.len(), 1000);
        }
        assert_eq!(q.heap.capacity(), cap);
    }
}
