//! Simulated time: integer nanoseconds since the start of a run.
//!
//! Integer time makes every run exact and repeatable: no rounding drift, and ties are real
//! ties that the event queue breaks by insertion order.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in simulated time, or a span of it, in nanoseconds.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_nanos(ns: u64) -> Self {
        SimTime(ns)
    }

    /// Converts seconds to time, rounding to the nearest nanosecond and saturating at the
    /// largest representable time (about 584 years); negative or NaN input gives zero.
    pub fn from_secs_f64(s: f64) -> Self {
        Self::from_nanos_f64(s * 1e9)
    }

    /// Converts a (sampled) nanosecond count to time, rounding to nearest and saturating.
    #[inline]
    pub fn from_nanos_f64(ns: f64) -> Self {
        // `as` saturates for out-of-range floats and maps NaN to 0.
        SimTime((ns + 0.5) as u64)
    }

    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Whole microseconds, the resolution of latency histograms.
    pub const fn as_micros(self) -> u64 {
        self.0 / 1_000
    }

    pub fn saturating_sub(self, other: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(other.0))
    }
}

impl Add for SimTime {
    type Output = SimTime;
    #[inline]
    fn add(self, rhs: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for SimTime {
    #[inline]
    fn add_assign(&mut self, rhs: SimTime) {
        *self = *self + rhs;
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    /// The span between two times; panics in debug builds if `rhs` is later than `self`.
    #[inline]
    fn sub(self, rhs: SimTime) -> SimTime {
        debug_assert!(rhs.0 <= self.0, "time went backwards");
        SimTime(self.0 - rhs.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_and_saturate() {
        assert_eq!(SimTime::from_secs_f64(1.5).as_nanos(), 1_500_000_000);
        assert_eq!(SimTime::from_nanos_f64(0.4).as_nanos(), 0);
        assert_eq!(SimTime::from_nanos_f64(0.6).as_nanos(), 1);
        assert_eq!(SimTime::from_nanos_f64(-3.0), SimTime::ZERO);
        assert_eq!(SimTime::from_nanos_f64(f64::NAN), SimTime::ZERO);
        assert_eq!(SimTime::from_nanos_f64(1e30), SimTime::MAX);
        assert_eq!(SimTime::MAX + SimTime::from_nanos(1), SimTime::MAX);
    }
}
