//! The pending-event set, ordered by (time, insertion sequence).
//!
//! Ties in time pop in the order they were scheduled, so a run is deterministic whatever the
//! model does: (time, seq) is a total order, so the pop sequence is fixed whatever the heap's
//! shape. This module owns that order and nothing else; it must not know what an event means.
//!
//! The entries live in one reused `Vec` (after warm-up its buffer stops growing and
//! scheduling allocates nothing), in one of two shapes chosen by size:
//!
//! - **Sorted** while few events are pending (up to [`SORTED_MAX`]; most models, e.g. a
//!   tandem network, keep a few dozen): the entries in descending key order, so `pop` takes
//!   the last one and `schedule` is one insertion-sort step from that end (the entries
//!   earlier than the new one move up a slot), inlined at the call site. For the dozen events
//!   such a model keeps pending this costs fewer instructions than any heap's sift, and than
//!   a binary search plus `Vec::insert`'s `memmove` call.
//! - **Heap** beyond that: a 4-ary min-heap. An ascending array is already a heap, so the
//!   switch is a reversal; the queue goes back to sorted (one sort) when a pop leaves fewer
//!   than [`SORTED_MIN`], so that a size hovering at the bound does not switch every event.
//!
//! The heap makes two choices for the hold pattern of a simulation — pop the earliest event,
//! then schedule its follow-up:
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
//! Beside the set, one **lane** holds the event of a stream that never has more than one
//! pending (a source's next arrival; see [`EventQueue::schedule_lane`]): it takes its
//! sequence number from the same counter and competes on the same key, so the pop order is
//! the same as if it were in the set, and each pop compares it with the set's first entry.
//!
//! Keys are stored as one `u128` (time in the high half, sequence in the low half), so a
//! comparison is branch-free and needs no arithmetic.

use std::cell::Cell;

use super::SimTime;

/// Children per node.
const ARITY: usize = 4;
/// Most entries kept sorted; one more turns the queue into a heap.
pub const SORTED_MAX: usize = 64;
/// A heap left with fewer entries than this by a pop becomes sorted again.
pub const SORTED_MIN: usize = 16;

#[derive(Clone, Copy)]
struct Entry<E> {
    /// (time, seq) as one number: time in the high half, insertion sequence in the low half.
    /// Stored, not computed per comparison, so a comparison is two loads and a subtract.
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    #[inline(always)]
    fn new(time: SimTime, seq: u64, event: E) -> Self {
        Entry {
            key: (u128::from(time.as_nanos()) << 64) | u128::from(seq),
            event,
        }
    }

    #[inline(always)]
    fn key(&self) -> u128 {
        self.key
    }

    /// The time in nanoseconds (the key's high half).
    #[inline(always)]
    fn time_nanos(&self) -> u64 {
        (self.key >> 64) as u64
    }

    #[inline(always)]
    fn time(&self) -> SimTime {
        SimTime::from_nanos(self.time_nanos())
    }
}

/// A min-priority queue of events keyed on (time, insertion sequence).
///
/// Events are `Copy` (as [`super::Model::Event`] requires): entries move by value inside the
/// heap's buffer.
pub struct EventQueue<E> {
    /// Sorted: descending on [`Entry::key`] (the earliest last). Heap: a 4-ary min-heap on
    /// the key, except at the root while `dirty`.
    heap: Vec<Entry<E>>,
    /// Which of the two shapes `heap` has (see the module documentation).
    sorted: bool,
    /// The root holds the former last entry, moved there by `pop` and not yet sifted down.
    /// Every other entry is in heap order, and the root's children are the minima of their
    /// subtrees.
    dirty: bool,
    /// The lane's event, if any (see [`EventQueue::schedule_lane`]).
    lane: Option<Entry<E>>,
    /// The lane's key, `u128::MAX` while it is empty (a real key never is: its sequence
    /// number is never reached), kept beside it so that `pop_due` compares two numbers.
    lane_key: u128,
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
            sorted: true,
            dirty: false,
            lane: None,
            lane_key: u128::MAX,
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`. Among events at the same time, earlier calls pop first.
    #[inline(always)]
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let entry = self.entry(time, event);
        let n = self.heap.len();
        if self.sorted && n < SORTED_MAX && n < self.heap.capacity() {
            // One insertion-sort step from the earliest end: entries earlier than the new one
            // move up one slot. Inline at the call site and without `Vec::insert`'s `memmove`
            // call, this was half the instructions of a binary search plus `insert` for the
            // dozen events a tandem network keeps pending.
            //
            // The new entry's sequence number is the largest yet, so it goes after every
            // pending entry at the same time: it moves past an entry exactly when that entry's
            // time is not later than its own, and the shift loop compares times alone (one
            // 64-bit comparison instead of the 128-bit key's two).
            let time = time.as_nanos();
            self.heap.push(entry);
            // Over the slice's adjacent pairs (as cells, so that a pair can be read and
            // written), so the indexing needs no bounds checks.
            let cells = Cell::from_mut(self.heap.as_mut_slice()).as_slice_of_cells();
            let mut j = cells.len() - 1;
            for pair in cells.windows(2).rev() {
                let prev = pair[0].get();
                if prev.time_nanos() > time {
                    break;
                }
                pair[1].set(prev);
                j -= 1;
            }
            cells[j].set(entry);
            return;
        }
        self.schedule_slow(entry);
    }

    /// Schedules `event` at `time` in the lane: the one slot kept beside the pending set
    /// for a stream of events that has at most one pending at a time (the next arrival of a
    /// source: it is scheduled when the previous one is handled). The pop order is the same
    /// as with [`EventQueue::schedule`] (the lane's entry takes its sequence number from the
    /// same counter and competes on the same key); the event skips the pending set's insert
    /// and its pop skips the set's reordering.
    ///
    /// # Panics
    /// If the lane already holds an event (debug builds only).
    #[inline(always)]
    pub fn schedule_lane(&mut self, time: SimTime, event: E) {
        debug_assert!(self.lane.is_none(), "the lane holds one event at a time");
        let entry = self.entry(time, event);
        self.lane_key = entry.key();
        self.lane = Some(entry);
    }

    #[inline(always)]
    fn entry(&mut self, time: SimTime, event: E) -> Entry<E> {
        let seq = self.next_seq;
        self.next_seq += 1;
        Entry::new(time, seq, event)
    }

    /// The rest of [`EventQueue::schedule`]: a full sorted buffer (grown or turned into a
    /// heap) and the heap shape.
    #[inline(never)]
    fn schedule_slow(&mut self, entry: Entry<E>) {
        if self.sorted {
            if self.heap.len() < SORTED_MAX {
                let key = entry.key();
                let pos = self.heap.partition_point(|e| e.key() > key);
                self.heap.insert(pos, entry);
                return;
            }
            self.make_heap();
        }
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
        self.pop_due(SimTime::MAX)
    }

    /// Removes and returns the earliest event if it happens at or before `limit`; otherwise
    /// leaves the queue as it is. The run loop's step: one look at the earliest entry instead
    /// of a `peek_time` and a `pop`.
    #[inline(always)]
    pub fn pop_due(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        if self.sorted {
            // The earlier of the set's last entry and the lane's (an empty lane's key is
            // u128::MAX, later than any real key).
            if let Some(&last) = self.heap.last()
                && last.key() < self.lane_key
            {
                if last.time() > limit {
                    return None;
                }
                self.heap.pop();
                return Some((last.time(), last.event));
            }
            return self.pop_lane(limit);
        }
        self.pop_due_slow(limit)
    }

    /// The lane's event, if it is due by `limit`.
    #[inline(always)]
    fn pop_lane(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        let l = self.lane?;
        if l.time() > limit {
            return None;
        }
        self.lane = None;
        self.lane_key = u128::MAX;
        Some((l.time(), l.event))
    }

    /// The rest of [`EventQueue::pop_due`]: the heap shape.
    #[inline(never)]
    fn pop_due_slow(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        self.settle();
        // An empty lane's key, u128::MAX, is later than any root's.
        let from_lane = self
            .heap
            .first()
            .is_none_or(|root| self.lane_key < root.key());
        if from_lane {
            return self.pop_lane(limit);
        }
        let top = self.heap[0];
        if top.time() > limit {
            return None;
        }
        // The root leaves; the last entry takes its slot, unsifted (see the module docs).
        let last = self.heap.pop().expect("the heap has a root");
        if let Some(root) = self.heap.first_mut() {
            *root = last;
        }
        self.dirty = self.heap.len() > 1;
        if self.heap.len() < SORTED_MIN {
            self.make_sorted();
        }
        Some((top.time(), top.event))
    }

    /// Sorted → heap: ascending order is heap order.
    #[cold]
    fn make_heap(&mut self) {
        self.heap.reverse();
        self.sorted = false;
        self.dirty = false;
    }

    /// Heap → sorted (descending).
    #[cold]
    fn make_sorted(&mut self) {
        self.settle();
        self.heap
            .sort_unstable_by_key(|e| std::cmp::Reverse(e.key()));
        self.sorted = true;
    }

    /// The time of the earliest event, without removing it (the randomized test's check of
    /// the heap; the run loop uses [`EventQueue::pop_due`]).
    #[cfg(test)]
    pub fn peek_time(&self) -> Option<SimTime> {
        let set = if self.sorted {
            self.heap.last()
        } else {
            self.heap.first().map(|root| {
                if !self.dirty {
                    return root;
                }
                // The minimum is the root or one of its children (each the minimum of its
                // subtree).
                let end = (1 + ARITY).min(self.heap.len());
                self.heap[1..end]
                    .iter()
                    .fold(root, |b, e| if e.key() < b.key() { e } else { b })
            })
        };
        [set, self.lane.as_ref()]
            .into_iter()
            .flatten()
            .min_by_key(|e| e.key())
            .map(Entry::time)
    }

    /// Pending events, the lane's included.
    pub fn len(&self) -> usize {
        self.heap.len() + usize::from(self.lane.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.lane.is_none()
    }

    /// Visits every pending event, the lane's included, in no particular order (the
    /// randomized test's check).
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (SimTime, &E)> {
        self.heap
            .iter()
            .chain(self.lane.as_ref())
            .map(|e| (e.time(), &e.event))
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
    #[inline(always)]
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

    /// Sizes that cross between the sorted and the heap shape many times (up past
    /// [`SORTED_MAX`], down below [`SORTED_MIN`]), with many ties: the pop order still
    /// matches a BTreeMap keyed on (time, seq).
    #[test]
    fn switching_shapes_keeps_the_order() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(13);
        let mut q = EventQueue::new();
        let mut shadow = BTreeMap::new();
        let (mut seq, mut now) = (0u64, 0u64);
        let mut switches = 0;
        for round in 0..400u32 {
            // Grow to a size somewhere between 1 and 3 × SORTED_MAX, then shrink to 0..8.
            let high = rng.random_range(1..3 * SORTED_MAX);
            while q.len() < high {
                let t = SimTime::from_nanos(now + rng.random_range(0..(1 + round as u64 % 40)));
                q.schedule(t, seq);
                shadow.insert((t, seq), seq);
                seq += 1;
                // Hold steps in between, as a model does.
                if rng.random_bool(0.5) {
                    let want = shadow.pop_first().map(|((t, _), v)| (t, v));
                    let got = q.pop();
                    assert_eq!(got, want);
                    now = got.expect("not empty").0.as_nanos();
                }
            }
            switches += usize::from(!q.sorted);
            let low = rng.random_range(0..8);
            while q.len() > low {
                let want = shadow.pop_first().map(|((t, _), v)| (t, v));
                assert_eq!(q.peek_time(), want.map(|w| w.0));
                let got = q.pop();
                assert_eq!(got, want);
                now = got.expect("not empty").0.as_nanos();
            }
            assert!(q.sorted, "a small queue is sorted");
        }
        assert!(
            switches > 100,
            "the test crosses the bound ({switches} times)"
        );
    }

    /// Randomized, with the lane: one stream of events (at most one pending, as a source's
    /// next arrival) goes in the lane, the rest in the set, at sizes that cross between the
    /// sorted and the heap shapes and over time ranges narrow enough for many ties between
    /// the lane and the set. Pops, `pop_due`, `peek_time`, `len` and `iter` agree with one
    /// BTreeMap keyed on (time, seq) holding both, so the lane changes no pop order.
    #[test]
    fn the_lane_keeps_the_order_of_one_queue() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(17);
        let mut q = EventQueue::with_capacity(2);
        let mut shadow = BTreeMap::new();
        let (mut seq, mut now) = (0u64, 0u64);
        // The lane's events carry odd values, the set's even ones.
        let mut lane_pending = false;
        let mut lane_pops = 0;
        let mut heap_steps = 0;
        for step in 0..200_000u32 {
            let span = [4, 50, 1_000_000][(step / 7_000) as usize % 3];
            // Grow toward a target that moves between 0 and 3 × SORTED_MAX.
            let target = (step / 5_000) as usize * 37 % (3 * SORTED_MAX);
            for lane in [true, false] {
                if (lane && lane_pending) || (!lane && q.len() >= target && shadow.len() >= 2) {
                    continue;
                }
                let t = SimTime::from_nanos(now + rng.random_range(0..span));
                let v = 2 * seq + u64::from(lane);
                if lane {
                    q.schedule_lane(t, v);
                    lane_pending = true;
                } else {
                    q.schedule(t, v);
                }
                shadow.insert((t, seq), v);
                seq += 1;
            }
            heap_steps += usize::from(!q.sorted);
            let want = shadow.first_key_value().map(|(&(t, _), _)| t);
            assert_eq!(q.peek_time(), want);
            if step % 11 == 0 {
                let mut got: Vec<u64> = q.iter().map(|(_, &v)| v).collect();
                got.sort_unstable();
                let mut all: Vec<u64> = shadow.values().copied().collect();
                all.sort_unstable();
                assert_eq!(got, all);
            }
            let limit = SimTime::from_nanos(now + rng.random_range(0..span));
            let want = match shadow.first_key_value() {
                Some((&(t, _), _)) if step % 3 != 0 || t <= limit => {
                    shadow.pop_first().map(|((t, _), v)| (t, v))
                }
                _ => None,
            };
            let got = if step % 3 == 0 {
                q.pop_due(limit)
            } else {
                q.pop()
            };
            assert_eq!(got, want);
            if let Some((t, v)) = got {
                now = t.as_nanos();
                if v % 2 == 1 {
                    lane_pending = false;
                    lane_pops += 1;
                }
            }
            assert_eq!(q.len(), shadow.len());
        }
        while let Some(((t, _), v)) = shadow.pop_first() {
            assert_eq!(q.pop(), Some((t, v)));
        }
        assert!(q.is_empty());
        assert!(lane_pops > 10_000, "the lane took part ({lane_pops} pops)");
        assert!(
            heap_steps > 10_000,
            "the heap shape took part ({heap_steps} steps)"
        );
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
