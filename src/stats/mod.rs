//! What a run measures: per-station and per-flow statistics, the accounting of end states,
//! and summaries across replications.
//!
//! Collectors here are updated from the simulation's hot path, so they allocate nothing after
//! warm-up: values go to [`SpanCounts`] (HdrHistogram's layout, grown to the largest value
//! seen) and reach the histograms when the run ends (`flush`); time averages are integer
//! areas.

pub mod compare;
mod record;
mod replications;
pub mod summary;
pub mod warmup;

pub use record::{SpanCounts, run_histogram};
pub use replications::{MeanCi, mean_ci, prediction95, t_quantile};

use hdrhistogram::Histogram;

use crate::engine::SimTime;

/// Histograms record microseconds, 3 significant digits, up to about 11.6 days: longer than
/// Exchange's longest message expiration timeout (MessageExpirationTimeout, up to 90 days, is
/// clamped at this bound, which is reported as the `max`).
pub const HIST_HIGH_US: u64 = 1_000_000_000_000;
pub const HIST_SIGFIG: u8 = 3;

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIST_HIGH_US, HIST_SIGFIG).expect("static bounds are valid")
}

/// Records `span` (as microseconds) `count` times, clamping at the histogram's bound.
#[inline]
pub fn record_span(h: &mut Histogram<u64>, span: SimTime, count: u64) {
    let us = span.as_micros().min(HIST_HIGH_US);
    h.record_n(us, count)
        .expect("value clamped to the histogram's bound");
}

/// The time integral of a level (a queue length, busy servers), exact in integer arithmetic:
/// a run's result. The hot path keeps a [`StepIntegral`] and closes it into one.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TimeAverage {
    last: SimTime,
    level: u64,
    /// Σ level × nanoseconds.
    area: u128,
}

impl TimeAverage {
    /// Advances the integral to `now` and sets the level: the direct form, the reference
    /// the step form is tested against.
    #[cfg(test)]
    pub(crate) fn set(&mut self, now: SimTime, level: u64) {
        self.area += u128::from(self.level) * u128::from((now - self.last).as_nanos());
        self.last = now;
        self.level = level;
    }

    /// Restarts the integral at `now`, keeping the current level (the reference for
    /// [`StepIntegral::restart`]'s test).
    #[cfg(test)]
    fn restart(&mut self, now: SimTime) {
        self.set(now, self.level);
        self.area = 0;
    }

    /// Time-average level over `span` (the integral must have been advanced to its end).
    pub fn mean_over(&self, span: SimTime) -> f64 {
        if span == SimTime::ZERO {
            0.0
        } else {
            self.area as f64 / span.as_nanos() as f64
        }
    }
}

/// The time integral of a level that moves in steps (servers in use, copies waiting), kept
/// so that the hot path's step costs one addition and no multiplication: over `[t₀, T]`,
///
/// ```text
/// ∫ level dt = level(T)·T − level(t₀)·t₀ − Σ rises' times + Σ falls' times
/// ```
///
/// (each unit step at time t contributes ±(T − t)). Exact in integer arithmetic, like the
/// [`TimeAverage`] it becomes when the run ends ([`StepIntegral::close`]); it holds no
/// level of its own, so the caller's count (a busy counter, a queue's length) is the one truth.
#[derive(Clone, Debug, Default)]
pub struct StepIntegral {
    /// level(t₀)·t₀ (nanoseconds).
    start: u128,
    /// Σ time of every unit rise since t₀ (nanoseconds).
    rises: u128,
    /// Σ time of every unit fall since t₀.
    falls: u128,
}

impl StepIntegral {
    /// The level rises by one at `now`.
    #[inline(always)]
    pub fn rise(&mut self, now: SimTime) {
        self.rises += u128::from(now.as_nanos());
    }

    /// The level falls by one at `now`.
    #[inline(always)]
    pub fn fall(&mut self, now: SimTime) {
        self.falls += u128::from(now.as_nanos());
    }

    /// The level moves from `from` to `to` at `now`, by any step.
    pub fn step(&mut self, now: SimTime, from: u64, to: u64) {
        let t = u128::from(now.as_nanos());
        if to >= from {
            self.rises += u128::from(to - from) * t;
        } else {
            self.falls += u128::from(from - to) * t;
        }
    }

    /// Starts the integral again at `now`, where the level is `level`.
    pub fn restart(&mut self, now: SimTime, level: u64) {
        *self = StepIntegral {
            start: u128::from(level) * u128::from(now.as_nanos()),
            rises: 0,
            falls: 0,
        };
    }

    /// The integral up to `end` (no step after it), where the level is `level`.
    pub fn close(&self, end: SimTime, level: u64) -> TimeAverage {
        // Both sides are non-negative and the integral is, so the subtraction cannot wrap.
        let area = (u128::from(level) * u128::from(end.as_nanos()) + self.falls)
            - (self.start + self.rises);
        TimeAverage {
            last: end,
            level,
            area,
        }
    }
}

/// Measurements of one station during the statistics window.
///
/// Serializable for shard files without the histogram, which travels in an interval log
/// (see `crate::shard`); a deserialized value has an empty `wait` until it is restored.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StationStats {
    pub arrivals: u64,
    pub completions: u64,
    /// Servers in use; set when the run ends (the hot path keeps a [`StepIntegral`]).
    pub busy: TimeAverage,
    /// Copies waiting (not in service); set when the run ends, like `busy`.
    pub queue: TimeAverage,
    pub max_queue: u64,
    /// Waiting time before service, per copy that started service in the window; complete
    /// after [`StationStats::flush`].
    #[serde(skip, default = "run_histogram")]
    pub wait: Histogram<u64>,
    /// Non-zero waits recorded since the last flush (the hot path's cheap record).
    #[serde(skip)]
    pub wait_counts: SpanCounts,
    pub wait_sum_ns: u128,
    pub waits: u64,
    /// Copies among `waits` that waited longer than zero (found every server busy).
    pub delayed: u64,
    /// Time in station (wait + service) of copies that completed in the window.
    pub sojourn_sum_ns: u128,
    /// Zero waits counted in `waits` but not yet in the histogram: recording them one by one
    /// was an eighth of the hot path, so [`StationStats::flush`] adds them in one call.
    pub unflushed_zero_waits: u64,
    /// Transient refusals (full queue or outage) the station answered.
    pub refusals: u64,
    /// Copies that expired while waiting for this station.
    pub expired: u64,
    /// Copies refused for good (5xx) by a full hop that rejects (`when_full = "reject"`):
    /// not deferrals, since no one retries them. Default 0 for shard files written before.
    #[serde(default)]
    pub rejections: u64,
}

impl Default for StationStats {
    fn default() -> Self {
        StationStats {
            arrivals: 0,
            completions: 0,
            busy: TimeAverage::default(),
            queue: TimeAverage::default(),
            max_queue: 0,
            wait: run_histogram(),
            wait_counts: SpanCounts::default(),
            wait_sum_ns: 0,
            waits: 0,
            delayed: 0,
            sojourn_sum_ns: 0,
            unflushed_zero_waits: 0,
            refusals: 0,
            expired: 0,
            rejections: 0,
        }
    }
}

impl StationStats {
    #[inline(always)]
    pub fn record_wait(&mut self, wait: SimTime) {
        self.wait_counts.record(wait.as_micros(), 1);
        self.wait_sum_ns += u128::from(wait.as_nanos());
        self.waits += 1;
        self.delayed += u64::from(wait > SimTime::ZERO);
    }

    /// A copy served at once: counted now, added to the histogram by [`Self::flush`].
    #[inline]
    pub fn record_zero_wait(&mut self) {
        self.waits += 1;
        self.unflushed_zero_waits += 1;
    }

    /// Adds the pending waits (zero and non-zero) to the wait histogram; call before reading
    /// it.
    pub fn flush(&mut self) {
        let n = std::mem::take(&mut self.unflushed_zero_waits);
        if n > 0 {
            self.wait_counts.record(0, n);
        }
        self.wait_counts.drain_into(&mut self.wait);
    }

    /// Zeroes the counters at the end of warm-up, when `queue_len` copies wait (the caller
    /// restarts its level integrals, which become `busy` and `queue` when the run ends).
    pub fn restart(&mut self, queue_len: u64) {
        self.arrivals = 0;
        self.completions = 0;
        self.max_queue = queue_len;
        self.wait.reset();
        self.wait_counts.clear();
        self.wait_sum_ns = 0;
        self.waits = 0;
        self.delayed = 0;
        self.unflushed_zero_waits = 0;
        self.sojourn_sum_ns = 0;
        self.refusals = 0;
        self.expired = 0;
        self.rejections = 0;
    }
}

/// Latency of delivered recipient copies of one flow, for copies that entered the network
/// after warm-up.
///
/// Serializable for shard files without the histogram, like [`StationStats`].
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FlowStats {
    /// Complete after [`FlowStats::flush`].
    #[serde(skip, default = "run_histogram")]
    pub latency: Histogram<u64>,
    /// Latencies recorded since the last flush (the hot path's cheap record).
    #[serde(skip)]
    pub latency_counts: SpanCounts,
    /// Recipients delivered.
    pub delivered: u64,
    /// Copies delivered (a copy carries one or more recipients).
    pub copies: u64,
    /// Σ latency × recipients, in nanoseconds.
    pub sum_ns: u128,
    pub max: SimTime,
    /// Deferrals (transient refusals) met by the copies delivered.
    pub deferrals: u64,
    /// Σ time spent deferred × recipients, in nanoseconds: the latency retries added.
    pub deferred_sum_ns: u128,
    /// Recipients of copies that ended otherwise, attributed to the flow they were heading for.
    pub expired: u64,
    pub quarantined: u64,
    pub filtered_spam: u64,
    /// Recipients of copies refused permanently (5xx) by a hop that rejects when full.
    #[serde(default)]
    pub rejected: u64,
}

impl Default for FlowStats {
    fn default() -> Self {
        FlowStats {
            latency: run_histogram(),
            latency_counts: SpanCounts::default(),
            delivered: 0,
            copies: 0,
            sum_ns: 0,
            max: SimTime::ZERO,
            deferrals: 0,
            deferred_sum_ns: 0,
            expired: 0,
            quarantined: 0,
            filtered_spam: 0,
            rejected: 0,
        }
    }
}

impl FlowStats {
    #[inline(always)]
    pub fn record(&mut self, latency: SimTime, recipients: u32) {
        self.latency_counts
            .record(latency.as_micros(), u64::from(recipients));
        self.delivered += u64::from(recipients);
        self.copies += 1;
        self.sum_ns += u128::from(latency.as_nanos()) * u128::from(recipients);
        self.max = self.max.max(latency);
    }

    /// Adds the pending latencies to the histogram; call before reading it.
    pub fn flush(&mut self) {
        self.latency_counts.drain_into(&mut self.latency);
    }

    /// Mean time a delivered recipient spent deferred, in milliseconds.
    pub fn mean_retry_delay_ms(&self) -> f64 {
        if self.delivered == 0 {
            f64::NAN
        } else {
            self.deferred_sum_ns as f64 / self.delivered as f64 / 1e6
        }
    }

    pub fn mean_ms(&self) -> f64 {
        if self.delivered == 0 {
            f64::NAN
        } else {
            self.sum_ns as f64 / self.delivered as f64 / 1e6
        }
    }

    /// The latency at `quantile` (0..=1) in milliseconds; NaN with no deliveries.
    pub fn quantile_ms(&self, quantile: f64) -> f64 {
        if self.delivered == 0 {
            return f64::NAN;
        }
        // hdrhistogram reports the highest value equivalent to the bucket; microseconds → ms.
        self.latency.value_at_quantile(quantile) as f64 / 1e3
    }
}

/// Traffic counted on tagged route steps (e.g. the hybrid connector in one direction), in the
/// statistics window.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MeterStats {
    pub copies: u64,
    pub kb: f64,
    /// Kilobytes per minute of the window, for peak rates.
    pub per_minute_kb: Vec<f64>,
}

impl MeterStats {
    #[inline]
    pub fn record(&mut self, since_warmup: SimTime, kb: f64) {
        self.copies += 1;
        self.kb += kb;
        let minute = (since_warmup.as_nanos() / 60_000_000_000) as usize;
        if minute >= self.per_minute_kb.len() {
            self.per_minute_kb.resize(minute + 1, 0.0);
        }
        self.per_minute_kb[minute] += kb;
    }
}

/// One outage of one station and what it did.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutageRecord {
    pub station: u32,
    pub start: SimTime,
    /// When the station came back (None: still down at the end of the run).
    pub end: Option<SimTime>,
    /// Most copies waiting for the station at once (queued or deferred by their senders).
    pub peak_backlog: u64,
    /// Waiting copies at the start, the level the backlog must return to.
    pub backlog_at_start: u64,
    /// When the backlog had drained after recovery (None: not by the end of the run).
    pub drained: Option<SimTime>,
    /// Recipients that expired waiting for the station during the outage or its drain.
    pub expired: u64,
}

/// Where every recipient of every generated message ended, over the whole run (warm-up
/// included). The unit is the recipient: a message to three mailboxes is three deliveries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Accounting {
    /// Messages generated (each has one or more recipients).
    pub messages: u64,
    /// Recipients generated: the sum of every end state below.
    pub generated: u64,
    pub delivered: u64,
    pub expired: u64,
    pub quarantined: u64,
    pub rejected: u64,
    pub filtered_spam: u64,
    pub in_flight: u64,
}

/// The accounting did not add up: a bug in mailflow, never a user error.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "conservation check failed: generated {generated} recipients but end states add up to {ended}; \
     this is a bug in mailflow, please report it with the scenario and seed"
)]
pub struct ConservationError {
    pub generated: u64,
    pub ended: u64,
}

impl Accounting {
    pub fn ended(&self) -> u64 {
        self.delivered
            + self.expired
            + self.quarantined
            + self.rejected
            + self.filtered_spam
            + self.in_flight
    }

    /// Every generated recipient is in exactly one end state.
    pub fn check(&self) -> Result<(), ConservationError> {
        let ended = self.ended();
        if ended == self.generated {
            Ok(())
        } else {
            Err(ConservationError {
                generated: self.generated,
                ended,
            })
        }
    }

    pub fn add(&mut self, o: &Accounting) {
        self.messages += o.messages;
        self.generated += o.generated;
        self.delivered += o.delivered;
        self.expired += o.expired;
        self.quarantined += o.quarantined;
        self.rejected += o.rejected;
        self.filtered_spam += o.filtered_spam;
        self.in_flight += o.in_flight;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn time_average_integrates_exactly() {
        let mut t = TimeAverage::default();
        t.set(SimTime::from_nanos(0), 2);
        t.set(SimTime::from_nanos(10), 4);
        t.set(SimTime::from_nanos(20), 0);
        assert_eq!(t.mean_over(SimTime::from_nanos(20)), 3.0);
        t.restart(SimTime::from_nanos(30));
        t.set(SimTime::from_nanos(40), 1);
        assert_eq!(t.mean_over(SimTime::from_nanos(10)), 0.0);
    }

    /// The step form gives the area of setting each level in turn, bit for bit, with a
    /// restart in the middle and steps of any size.
    #[test]
    fn step_integral_matches_the_time_average() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let (mut direct, mut steps) = (TimeAverage::default(), StepIntegral::default());
        let (mut now, mut level) = (0u64, 0u64);
        for k in 0..10_000 {
            now += rng.random_range(0..1u64 << 40);
            let t = SimTime::from_nanos(now);
            if k == 5_000 {
                direct.restart(t);
                steps.restart(t, level);
            }
            let to = match rng.random_range(0..3) {
                0 => level + 1,
                1 => level.saturating_sub(1),
                _ => rng.random_range(0..1000),
            };
            if to == level + 1 {
                steps.rise(t);
            } else if to + 1 == level {
                steps.fall(t);
            } else {
                steps.step(t, level, to);
            }
            direct.set(t, to);
            level = to;
        }
        let end = SimTime::from_nanos(now + 12_345);
        direct.set(end, level);
        assert_eq!(steps.close(end, level), direct);
        assert!(direct.area > 0);
    }

    #[test]
    fn accounting_detects_a_lost_recipient() {
        let mut a = Accounting {
            messages: 1,
            generated: 3,
            delivered: 2,
            in_flight: 1,
            ..Default::default()
        };
        assert!(a.check().is_ok());
        a.in_flight = 0;
        assert_eq!(
            a.check(),
            Err(ConservationError {
                generated: 3,
                ended: 2
            })
        );
    }

    #[test]
    fn flow_quantiles_in_ms() {
        let mut f = FlowStats::default();
        for ms in 1..=100u64 {
            f.record(SimTime::from_nanos(ms * 1_000_000), 1);
        }
        f.flush();
        assert!((f.quantile_ms(0.5) - 50.0).abs() < 0.1);
        assert!((f.mean_ms() - 50.5).abs() < 1e-9);
        assert_eq!(f.delivered, 100);
    }
}
