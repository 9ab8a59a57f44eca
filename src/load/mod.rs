//! Synthetic load: message sources, recipients, sizes, and rates derived from mailbox counts.
//!
//! A [`Source`] is a stream of messages entering one route: Poisson at a constant rate, shaped
//! over the day and week ([`arrivals`]), or replayed from a trace ([`trace`]). This module
//! decides when messages arrive and what they look like (recipient count, which group each
//! recipient is in, size); it does not move messages: that is the simulation's job in
//! [`crate::model::sim`].

pub mod arrivals;
pub mod trace;

use rand::Rng;

pub use arrivals::{ArrivalProcess, ArrivalSpec, Shape};

use crate::engine::SimRng;
use crate::model::dist::Dist;

/// Most recipient groups a network may have (`onprem`, `cloud`, …); fixed so a message's
/// per-group counts live inline, without allocation.
pub const MAX_GROUPS: usize = 4;

/// A discrete distribution of recipients per message.
#[derive(Clone, Debug)]
pub struct Recipients {
    counts: Vec<u32>,
    /// Cumulative weights, normalized; the last is 1.
    cum: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RecipientsError {
    #[error("`counts` and `weights` must have the same, non-zero length")]
    Length,
    #[error("every count must be 1 or more")]
    ZeroCount,
    #[error("weights must be finite, zero or more, and not all zero")]
    BadWeights,
}

impl Recipients {
    pub fn one() -> Self {
        Recipients {
            counts: vec![1],
            cum: vec![1.0],
        }
    }

    pub fn new(counts: Vec<u32>, weights: &[f64]) -> Result<Self, RecipientsError> {
        if counts.is_empty() || counts.len() != weights.len() {
            return Err(RecipientsError::Length);
        }
        if counts.contains(&0) {
            return Err(RecipientsError::ZeroCount);
        }
        let total: f64 = weights.iter().sum();
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) || total <= 0.0 || total.is_nan() {
            return Err(RecipientsError::BadWeights);
        }
        let mut acc = 0.0;
        let mut cum: Vec<f64> = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        *cum.last_mut().expect("non-empty") = 1.0;
        Ok(Recipients { counts, cum })
    }

    fn weights(&self) -> impl Iterator<Item = (u32, f64)> + '_ {
        let mut prev = 0.0;
        self.counts.iter().zip(&self.cum).map(move |(&c, &k)| {
            let w = k - prev;
            prev = k;
            (c, w)
        })
    }

    pub fn mean(&self) -> f64 {
        self.weights().map(|(c, w)| c as f64 * w).sum()
    }

    /// Probability that a message has at least one recipient in a group whose share is `share`
    /// (each recipient independently in it): 1 − E[(1 − share)^N].
    pub fn prob_any(&self, share: f64) -> f64 {
        1.0 - self
            .weights()
            .map(|(c, w)| w * (1.0 - share).powi(c as i32))
            .sum::<f64>()
    }

    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> u32 {
        if self.counts.len() == 1 {
            return self.counts[0];
        }
        let u: f64 = rng.random();
        let i = self
            .cum
            .partition_point(|&c| c <= u)
            .min(self.counts.len() - 1);
        self.counts[i]
    }

    pub fn describe(&self) -> String {
        self.weights()
            .map(|(c, w)| format!("{c}:{w:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A stream of messages entering the network at one route.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    /// Mean arrivals per second; with a shape, the rate at its busiest hour (factor 1); for a
    /// trace, its messages ÷ the run's length (used for offered utilization only).
    pub rate_per_s: f64,
    /// When messages arrive.
    pub arrivals: ArrivalSpec,
    /// The route messages start on.
    pub route: String,
    pub recipients: Recipients,
    /// Share of recipients in each of the network's groups (sums to 1; empty means all in
    /// group 0).
    pub group_shares: Vec<f64>,
    /// Message size in kilobytes.
    pub size_kb: Dist,
    /// Share of messages that are spam (0 for internal mail).
    pub spam_share: f64,
}

impl Source {
    /// Draws the per-group recipient counts of one message: `n` recipients, each placed in a
    /// group independently by `group_shares`.
    #[inline]
    pub fn draw_groups(&self, rng: &mut SimRng) -> (u32, [u32; MAX_GROUPS]) {
        let n = self.recipients.sample(rng);
        (n, self.place_recipients(n, rng))
    }

    /// Places `n` recipients in groups independently by `group_shares`.
    #[inline]
    pub fn place_recipients(&self, n: u32, rng: &mut SimRng) -> [u32; MAX_GROUPS] {
        let mut groups = [0u32; MAX_GROUPS];
        if self.group_shares.len() <= 1 {
            groups[0] = n;
            return groups;
        }
        for _ in 0..n {
            let mut u: f64 = rng.random();
            let mut g = self.group_shares.len() - 1;
            for (i, s) in self.group_shares.iter().enumerate() {
                if u < *s {
                    g = i;
                    break;
                }
                u -= s;
            }
            groups[g] += 1;
        }
        groups
    }

    /// Multiplies the arrival rate by `k` (a trace is replayed `k` times as fast).
    pub fn scale_load(&mut self, k: f64) {
        self.rate_per_s *= k;
        if let ArrivalSpec::Trace { speedup, .. } = &mut self.arrivals {
            *speedup *= k;
        }
    }

    /// Probability that a message has a recipient in each group.
    pub fn group_presence(&self) -> Vec<f64> {
        if self.group_shares.len() <= 1 {
            return vec![1.0];
        }
        self.group_shares
            .iter()
            .map(|&s| self.recipients.prob_any(s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn recipients_mean_and_presence() {
        let r = Recipients::new(vec![1, 3], &[1.0, 1.0]).unwrap();
        assert!((r.mean() - 2.0).abs() < 1e-12);
        // P(any of N in a group of share 0.5) = 1 - (0.5*0.5 + 0.5*0.125)
        assert!((r.prob_any(0.5) - (1.0 - 0.3125)).abs() < 1e-12);
        assert_eq!(
            Recipients::new(vec![], &[]).unwrap_err(),
            RecipientsError::Length
        );
        assert_eq!(
            Recipients::new(vec![0], &[1.0]).unwrap_err(),
            RecipientsError::ZeroCount
        );
        assert_eq!(
            Recipients::new(vec![1], &[0.0]).unwrap_err(),
            RecipientsError::BadWeights
        );
    }

    /// The share of recipients drawn into group 0 matches its share within 5 standard errors
    /// of a binomial proportion.
    #[test]
    fn groups_follow_shares() {
        let s = Source {
            name: "x".into(),
            rate_per_s: 1.0,
            arrivals: ArrivalSpec::Poisson,
            route: "r".into(),
            recipients: Recipients::new(vec![1, 2, 5], &[0.5, 0.3, 0.2]).unwrap(),
            group_shares: vec![0.3, 0.7],
            size_kb: Dist::deterministic(1.0).unwrap(),
            spam_share: 0.0,
        };
        let mut rng = SimRng::seed_from_u64(3);
        let (mut total, mut g0) = (0u64, 0u64);
        for _ in 0..100_000 {
            let (n, g) = s.draw_groups(&mut rng);
            assert_eq!(n, g[0] + g[1]);
            total += n as u64;
            g0 += g[0] as u64;
        }
        let p = g0 as f64 / total as f64;
        let se = (0.3 * 0.7 / total as f64).sqrt();
        assert!((p - 0.3).abs() < 5.0 * se, "{p}");
    }
}
