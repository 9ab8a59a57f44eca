//! The pending-event set, ordered by (time, insertion sequence).
//!
//! Ties in time pop in the order they were scheduled, so a run is deterministic whatever the
//! model does. The queue is a binary heap over a `Vec` that is reused: after warm-up its
//! buffer stops growing and scheduling allocates nothing.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::SimTime;

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    #[inline]
    fn key(&self) -> (SimTime, u64) {
        (self.time, self.seq)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that std's max-heap pops the earliest (time, seq) first.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// A min-priority queue of events keyed on (time, insertion sequence).
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(capacity),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`. Among events at the same time, earlier calls pop first.
    #[inline]
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, event });
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| (e.time, e.event))
    }

    /// The time of the earliest event, without removing it.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Visits every pending event, in no particular order (for end-of-run accounting).
    pub fn iter(&self) -> impl Iterator<Item = (SimTime, &E)> {
        self.heap.iter().map(|e| (e.time, &e.event))
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
}
