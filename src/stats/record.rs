//! The hot path's histogram record: counts kept in HdrHistogram's own bucket layout and
//! handed to a [`Histogram`] once, at the end of a run.
//!
//! `Histogram::record_n` checks bounds, saturates, and tracks the minimum, maximum and total
//! on every call (about 65 instructions); [`SpanCounts::record`] computes the same counts-array
//! index (a leading-zero count, a shift and an add) and increments one `u64`. The counts grow
//! only to the highest index recorded, so a run's histograms take the memory their values
//! need, not the memory of the full bound (about 254 KB each at 3 significant digits up to
//! [`super::HIST_HIGH_US`]).
//!
//! [`SpanCounts::drain_into`] records each non-empty bucket's lowest value with its count:
//! the histogram's counts, total, minimum and maximum (both reported as bucket equivalents)
//! and everything derived from them are exactly those of recording every value one by one.
//! This module must not change the layout: it follows `hdrhistogram`'s `index_for` and
//! `value_for` for a lowest discernible value of 1 and [`super::HIST_SIGFIG`] digits, and a
//! test checks it against the crate.

use hdrhistogram::Histogram;

use super::{HIST_HIGH_US, HIST_SIGFIG};

/// Sub-buckets per bucket: the power of two covering 2 × 10^sigfig.
const SUB_BUCKET_COUNT: u64 = (2 * 10u64.pow(HIST_SIGFIG as u32)).next_power_of_two();
const SUB_BUCKET_MASK: u64 = SUB_BUCKET_COUNT - 1;
const SUB_BUCKET_HALF_COUNT: u64 = SUB_BUCKET_COUNT / 2;
const SUB_BUCKET_HALF_COUNT_MAGNITUDE: u32 = SUB_BUCKET_HALF_COUNT.trailing_zeros();
/// 64 − unit magnitude (0 for a lowest value of 1) − sub-bucket count magnitude.
const LEADING_ZERO_COUNT_BASE: u32 = 64 - SUB_BUCKET_COUNT.trailing_zeros();

/// The counts-array index of `value` (HdrHistogram's `index_for`).
#[inline(always)]
fn index_of(value: u64) -> usize {
    let bucket = LEADING_ZERO_COUNT_BASE - (value | SUB_BUCKET_MASK).leading_zeros();
    let sub_bucket = value >> bucket;
    (((u64::from(bucket) + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub_bucket
        - SUB_BUCKET_HALF_COUNT) as usize
}

/// The lowest value counted at `index` (HdrHistogram's `value_for`).
fn value_of(index: usize) -> u64 {
    let index = index as u64;
    let bucket = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) as i64 - 1;
    let sub_bucket = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
    if bucket < 0 {
        sub_bucket - SUB_BUCKET_HALF_COUNT
    } else {
        sub_bucket << bucket
    }
}

/// Values (microseconds, clamped at [`HIST_HIGH_US`]) counted in HdrHistogram's layout until
/// they are drained into a histogram.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanCounts {
    counts: Vec<u64>,
}

impl SpanCounts {
    /// Counts `value` `n` times, clamped at [`HIST_HIGH_US`]. Allocates only when `value` is
    /// the largest yet (the counts grow by doubling), a few dozen times per run at most.
    #[inline(always)]
    pub fn record(&mut self, value: u64, n: u64) {
        let i = index_of(value.min(HIST_HIGH_US));
        match self.counts.get_mut(i) {
            Some(c) => *c += n,
            None => self.grow_and_record(i, n),
        }
    }

    #[cold]
    #[inline(never)]
    fn grow_and_record(&mut self, i: usize, n: u64) {
        let len = (i + 1)
            .max(self.counts.len() * 2)
            .max(SUB_BUCKET_COUNT as usize);
        self.counts.resize(len, 0);
        self.counts[i] += n;
    }

    /// Whether nothing is counted.
    pub fn is_empty(&self) -> bool {
        self.counts.iter().all(|&c| c == 0)
    }

    /// Adds every count to `h` and forgets them, releasing the buffer (a finished run keeps
    /// only its histograms).
    pub fn drain_into(&mut self, h: &mut Histogram<u64>) {
        let counts = std::mem::take(&mut self.counts);
        // The largest value first: a growing histogram then resizes once, not at every new
        // power of two on the way up (a histogram's state does not depend on the order).
        let Some(top) = counts.iter().rposition(|&c| c > 0) else {
            return;
        };
        let mut record = |i: usize| {
            h.record_n(value_of(i), counts[i])
                .expect("values are clamped to the histogram's bound");
        };
        record(top);
        for (i, _) in counts[..top].iter().enumerate().filter(|(_, c)| **c > 0) {
            record(i);
        }
    }

    /// Forgets every count (keeping the buffer).
    pub fn clear(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
    }
}

/// A histogram of a run's own values: HdrHistogram's layout at [`HIST_SIGFIG`] digits from 1,
/// growing as values need (up to [`HIST_HIGH_US`], the bound of values given to
/// [`SpanCounts`]), so that it takes only the memory its values need.
pub fn run_histogram() -> Histogram<u64> {
    Histogram::new(HIST_SIGFIG).expect("static bounds are valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::new_histogram;
    use rand::{Rng, SeedableRng};

    /// Every value of the first buckets, bucket edges up to the bound, and random values:
    /// the same counts, total, min, max, mean and quantiles as recording into the crate.
    #[test]
    fn matches_hdrhistogram_record_by_record() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let mut values: Vec<u64> = (0..5000).collect();
        for shift in 0..40 {
            let edge = 1u64 << shift;
            values.extend([edge.saturating_sub(1), edge, edge + 1]);
        }
        values.extend([HIST_HIGH_US - 1, HIST_HIGH_US, HIST_HIGH_US + 1, u64::MAX]);
        for _ in 0..20_000 {
            let bits = rng.random_range(0..45);
            values.push(rng.random::<u64>() >> (64 - bits.max(1)));
        }
        let mut direct = new_histogram();
        let mut counts = SpanCounts::default();
        for (k, &v) in values.iter().enumerate() {
            let n = (k % 3 + 1) as u64;
            direct.record_n(v.min(HIST_HIGH_US), n).unwrap();
            counts.record(v, n);
        }
        for mut h in [new_histogram(), run_histogram()] {
            counts.clone().drain_into(&mut h);
            assert_eq!(h, direct);
            assert_eq!(h.len(), direct.len());
            assert_eq!(h.max(), direct.max());
            assert_eq!(h.min(), direct.min());
            assert_eq!(h.min_nz(), direct.min_nz());
            assert_eq!(h.mean().to_bits(), direct.mean().to_bits());
            assert_eq!(h.stdev().to_bits(), direct.stdev().to_bits());
            for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
                assert_eq!(h.value_at_quantile(q), direct.value_at_quantile(q));
            }
        }
        counts.drain_into(&mut new_histogram());
        assert!(counts.is_empty());
    }

    #[test]
    fn index_and_value_are_inverse_on_bucket_starts() {
        let h = new_histogram();
        for i in 0..h.distinct_values() {
            let v = value_of(i);
            assert_eq!(index_of(v), i, "index {i}, value {v}");
            assert_eq!(h.lowest_equivalent(v), v);
        }
    }

    /// A run histogram grows to its values: a run whose latencies stay under a second takes
    /// well under half the memory of the full-bound histogram.
    #[test]
    fn run_histogram_takes_the_memory_its_values_need() {
        let mut counts = SpanCounts::default();
        for us in (0..1_000_000).step_by(7) {
            counts.record(us, 1);
        }
        let mut h = run_histogram();
        counts.drain_into(&mut h);
        assert!(h.distinct_values() * 2 < new_histogram().distinct_values());
        assert_eq!(h.len(), (0..1_000_000).step_by(7).count() as u64);
    }
}
