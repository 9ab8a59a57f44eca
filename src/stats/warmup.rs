//! The warm-up check: MSER-5 on the batch means of a flow's latencies, in delivery order.
//!
//! MSER (the Marginal Standard Error Rule; White 1997, "An effective truncation heuristic for
//! bias reduction in simulation output", Simulation 69(6); White, Cobb & Spratt 2000, "A
//! comparison of five steady-state truncation heuristics for simulation", WSC) truncates the
//! first d of n batch means Y₁…Yₙ where d minimizes
//!
//! ```text
//! MSER(d) = Σ_{i>d} (Yᵢ − Ȳ_d)² / (n − d)²,   0 ≤ d ≤ n/2,
//! ```
//!
//! Ȳ_d the mean of the batches after d: the truncation that best trades the bias of the
//! transient against the variance of fewer observations. MSER-5 batches five consecutive
//! observations. To keep memory fixed whatever the run's length, [`BatchSeries`] holds at most
//! [`MAX_BATCHES`] batch means; when full it merges neighbours pairwise, doubling the batch
//! size (5, 10, 20, … observations: MSER-m with m = 5·2^k), so a run's series always has
//! between `MAX_BATCHES / 2` and `MAX_BATCHES − 1` batches once the first halving happened. Recording is a few additions per
//! delivered copy and allocates nothing after construction.

use crate::engine::SimTime;

/// The most batch means a series keeps.
pub const MAX_BATCHES: usize = 512;
/// Observations per batch before any merge: MSER-5.
pub const FIRST_BATCH: u32 = 5;

/// Batch means of one flow's latencies in delivery order, with each batch's end time.
#[derive(Clone, Debug)]
pub struct BatchSeries {
    /// (Σ latency ns of the batch's observations, time of its last observation).
    batches: Vec<(f64, SimTime)>,
    batch_size: u32,
    /// The batch being filled.
    open_sum: f64,
    open_count: u32,
}

impl Default for BatchSeries {
    fn default() -> Self {
        BatchSeries {
            batches: Vec::with_capacity(MAX_BATCHES),
            batch_size: FIRST_BATCH,
            open_sum: 0.0,
            open_count: 0,
        }
    }
}

impl BatchSeries {
    /// Adds one observation (`latency`, delivered at `now`).
    #[inline(always)]
    pub fn record(&mut self, now: SimTime, latency: SimTime) {
        self.open_sum += latency.as_nanos() as f64;
        self.open_count += 1;
        if self.open_count == self.batch_size {
            self.batches.push((self.open_sum, now));
            self.open_sum = 0.0;
            self.open_count = 0;
            if self.batches.len() == MAX_BATCHES {
                self.halve();
            }
        }
    }

    /// Merges neighbouring batches pairwise (in place), doubling the batch size.
    #[cold]
    fn halve(&mut self) {
        let n = self.batches.len() / 2;
        for i in 0..n {
            let (a, b) = (self.batches[2 * i], self.batches[2 * i + 1]);
            self.batches[i] = (a.0 + b.0, b.1);
        }
        self.batches.truncate(n);
        self.batch_size *= 2;
    }

    /// The series as [`PROFILE_BUCKETS`] sums over equal stretches of `[0, horizon)` (by each
    /// batch's end time), so replications can be averaged stretch by stretch.
    pub fn profile(&self, horizon: SimTime) -> Vec<(f64, u64)> {
        let mut out = vec![(0.0, 0u64); PROFILE_BUCKETS];
        let h = horizon.as_nanos().max(1);
        for &(sum, end) in &self.batches {
            let k = ((u128::from(end.as_nanos()) * PROFILE_BUCKETS as u128) / u128::from(h))
                .min(PROFILE_BUCKETS as u128 - 1) as usize;
            out[k].0 += sum;
            out[k].1 += u64::from(self.batch_size);
        }
        out
    }

    /// The MSER truncation of the series: what warm-up it would have chosen.
    pub fn check(&self, horizon: SimTime) -> WarmupCheck {
        let size = f64::from(self.batch_size);
        let means: Vec<f64> = self.batches.iter().map(|b| b.0 / size).collect();
        let d = mser(&means);
        WarmupCheck {
            chosen: if d == 0 {
                SimTime::ZERO
            } else {
                self.batches[d - 1].1
            },
            batches: means.len() as u32,
            batch_size: self.batch_size,
            at_limit: means.len() >= 4 && d == means.len() / 2,
            profile: self.profile(horizon),
        }
    }
}

/// Stretches of the run in a [`WarmupCheck::profile`].
pub const PROFILE_BUCKETS: usize = 128;

/// MSER over the replications' profiles pooled stretch by stretch (the ensemble average of
/// the replications, which keeps the transient's bias and divides the stationary noise by
/// √replications): the warm-up it would choose, the end of the last truncated stretch of
/// `[0, horizon)`. Empty stretches are skipped.
pub fn pooled_choice(profiles: &[&[(f64, u64)]], horizon: SimTime) -> (SimTime, bool) {
    let mut pooled = vec![(0.0, 0u64); PROFILE_BUCKETS];
    for p in profiles {
        for (k, &(s, n)) in p.iter().enumerate().take(PROFILE_BUCKETS) {
            pooled[k].0 += s;
            pooled[k].1 += n;
        }
    }
    let kept: Vec<(usize, f64)> = pooled
        .iter()
        .enumerate()
        .filter(|(_, (_, n))| *n > 0)
        .map(|(k, (s, n))| (k, s / *n as f64))
        .collect();
    let means: Vec<f64> = kept.iter().map(|x| x.1).collect();
    let d = mser(&means);
    let at_limit = means.len() >= 4 && d == means.len() / 2;
    if d == 0 {
        return (SimTime::ZERO, at_limit);
    }
    let bucket = kept[d - 1].0 as u128 + 1;
    let t = u128::from(horizon.as_nanos()) * bucket / PROFILE_BUCKETS as u128;
    (SimTime::from_nanos(t as u64), at_limit)
}

/// The index d (0 ≤ d ≤ n/2) minimizing MSER(d) over `means`; 0 with fewer than 4 batches.
/// Ties go to the smaller d. O(n) from suffix sums.
pub fn mser(means: &[f64]) -> usize {
    let n = means.len();
    if n < 4 {
        return 0;
    }
    // Suffix sums of y and y² from the end.
    let (mut s, mut s2) = (0.0f64, 0.0f64);
    let mut suffix = vec![(0.0, 0.0); n + 1];
    for i in (0..n).rev() {
        s += means[i];
        s2 += means[i] * means[i];
        suffix[i] = (s, s2);
    }
    let mut best = (f64::INFINITY, 0);
    for (d, &(sum, sum2)) in suffix.iter().enumerate().take(n / 2 + 1) {
        let k = (n - d) as f64;
        let ss = (sum2 - sum * sum / k).max(0.0);
        let v = ss / (k * k);
        if v < best.0 {
            best = (v, d);
        }
    }
    best.1
}

/// What MSER chose for one flow in one replication. Serialized in shard files.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WarmupCheck {
    /// The end of the last truncated batch: the warm-up MSER would have chosen (0: none).
    pub chosen: SimTime,
    pub batches: u32,
    /// Observations per batch (5 · 2^k).
    pub batch_size: u32,
    /// MSER chose the largest truncation allowed (half the series): the run is too short to
    /// tell where the transient ends.
    pub at_limit: bool,
    /// Σ latency ns and observations per stretch of the run ([`BatchSeries::profile`]).
    pub profile: Vec<(f64, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mser_cuts_a_step_and_leaves_a_flat_series() {
        // 20 high batches, then 180 around 1: the cut is at the step.
        let mut v: Vec<f64> = (0..200)
            .map(|i| 1.0 + 0.1 * ((i * 7919 % 13) as f64 - 6.0) / 6.0)
            .collect();
        for x in v.iter_mut().take(20) {
            *x += 5.0;
        }
        assert_eq!(mser(&v), 20);
        // A constant series: nothing to cut.
        assert_eq!(mser(&[2.0; 50]), 0);
        assert_eq!(mser(&[1.0, 9.0, 1.0]), 0, "too short to judge");
    }

    #[test]
    fn series_stays_bounded_and_keeps_exact_means() {
        let mut s = BatchSeries::default();
        let n = 5 * MAX_BATCHES as u64 * 8 + 3;
        for i in 0..n {
            s.record(SimTime::from_nanos(i), SimTime::from_nanos(1000));
        }
        assert!(s.batches.len() < MAX_BATCHES && s.batches.len() >= MAX_BATCHES / 2);
        assert_eq!(
            s.batches.capacity(),
            MAX_BATCHES,
            "no growth after construction"
        );
        let c = s.check(SimTime::from_nanos(n));
        assert_eq!(c.batch_size, 5 * 16, "halved on reaching the bound");
        assert_eq!(c.chosen, SimTime::ZERO, "a flat series needs no warm-up");
        let size = f64::from(s.batch_size);
        assert!(s.batches.iter().all(|b| (b.0 / size - 1000.0).abs() < 1e-9));
    }
}
