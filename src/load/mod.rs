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

/// Mailbox counts and a message profile, from which the hybrid sources' rates follow.
#[derive(Clone, Debug)]
pub struct MailProfile {
    pub onprem_mailboxes: f64,
    pub cloud_mailboxes: f64,
    pub sent_per_mailbox_per_day: f64,
    pub received_per_mailbox_per_day: f64,
    /// Share of received messages that come from the Internet.
    pub internet_share_of_received: f64,
    /// Share of sent messages that go to the Internet (the rest are internal).
    pub internet_share_of_sent: f64,
    /// Peak-hour rate divided by the 24-hour average rate.
    pub peak_factor: f64,
}

/// Message rates per second of the five hybrid sources.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HybridRates {
    pub inbound: f64,
    pub outbound_from_onprem: f64,
    pub outbound_from_cloud: f64,
    pub onprem_to_cloud: f64,
    pub cloud_to_onprem: f64,
}

impl MailProfile {
    /// Share of the organization's mailboxes that are on-premises.
    pub fn onprem_share(&self) -> f64 {
        self.onprem_mailboxes / (self.onprem_mailboxes + self.cloud_mailboxes)
    }

    /// Peak rates, in messages per second:
    /// - inbound = all mailboxes × received × Internet share ÷ mean recipients per message
    ///   (a message to k of our mailboxes counts once);
    /// - outbound from a side = its mailboxes × sent × Internet share;
    /// - cross-premises from a side = its mailboxes × sent × internal share × the other side's
    ///   share of mailboxes (internal mail goes to a mailbox chosen in proportion).
    ///
    /// Each is a daily count × `peak_factor` ÷ 86 400 s.
    pub fn rates(&self, mean_recipients: f64) -> HybridRates {
        let k = self.peak_factor / 86_400.0;
        let total = self.onprem_mailboxes + self.cloud_mailboxes;
        let on = self.onprem_share();
        let internal = 1.0 - self.internet_share_of_sent;
        HybridRates {
            inbound: total * self.received_per_mailbox_per_day * self.internet_share_of_received
                / mean_recipients
                * k,
            outbound_from_onprem: self.onprem_mailboxes
                * self.sent_per_mailbox_per_day
                * self.internet_share_of_sent
                * k,
            outbound_from_cloud: self.cloud_mailboxes
                * self.sent_per_mailbox_per_day
                * self.internet_share_of_sent
                * k,
            onprem_to_cloud: self.onprem_mailboxes
                * self.sent_per_mailbox_per_day
                * internal
                * (1.0 - on)
                * k,
            cloud_to_onprem: self.cloud_mailboxes
                * self.sent_per_mailbox_per_day
                * internal
                * on
                * k,
        }
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

    #[test]
    fn rates_follow_the_profile() {
        let p = MailProfile {
            onprem_mailboxes: 1000.0,
            cloud_mailboxes: 3000.0,
            sent_per_mailbox_per_day: 20.0,
            received_per_mailbox_per_day: 80.0,
            internet_share_of_received: 0.5,
            internet_share_of_sent: 0.25,
            peak_factor: 2.0,
        };
        let r = p.rates(2.0);
        let k = 2.0 / 86_400.0;
        assert!((r.inbound - 4000.0 * 80.0 * 0.5 / 2.0 * k).abs() < 1e-12);
        assert!((r.outbound_from_cloud - 3000.0 * 20.0 * 0.25 * k).abs() < 1e-12);
        assert!((r.onprem_to_cloud - 1000.0 * 20.0 * 0.75 * 0.75 * k).abs() < 1e-12);
        assert!((r.cloud_to_onprem - 3000.0 * 20.0 * 0.75 * 0.25 * k).abs() < 1e-12);
    }
}
