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
    #[inline(always)]
    pub fn from_nanos_f64(ns: f64) -> Self {
        /// The bits of 2^63. A float whose bits, read as an unsigned integer, are below them
        /// is a non-negative number below 2^63 (the sign bit is clear, and the bits of
        /// non-negative floats are ordered as their values); negative numbers, -0.0, NaN and
        /// anything from 2^63 up are not.
        const SIGNED_LIMIT_BITS: u64 = 0x43e0_0000_0000_0000;
        let x = ns + 0.5;
        if x.to_bits() < SIGNED_LIMIT_BITS {
            // Every sample a model draws lands here. One conversion instruction, where `as`
            // adds the range and NaN checks of a saturating conversion (a dozen instructions
            // per draw); the result is the same truncation toward zero.
            // SAFETY: 0 <= x < 2^63 (checked above), so its truncation fits an i64.
            SimTime(unsafe { x.to_int_unchecked::<i64>() } as u64)
        } else {
            Self::saturating_from_f64(x)
        }
    }

    /// The rest of [`Self::from_nanos_f64`], out of line so that the compiler does not compute
    /// it beside the common case and select between the two.
    #[cold]
    #[inline(never)]
    fn saturating_from_f64(x: f64) -> Self {
        // `as` saturates for out-of-range floats and maps NaN and negatives to 0.
        SimTime(x as u64)
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

    /// The two-range conversion gives what `(ns + 0.5) as u64` gives for every kind of input:
    /// around zero, near and past 2^63 and 2^64, infinities, NaN, and random magnitudes.
    #[test]
    fn from_nanos_f64_is_the_saturating_conversion() {
        use rand::{Rng, SeedableRng};
        let reference = |ns: f64| (ns + 0.5) as u64;
        let two63 = 9_223_372_036_854_775_808.0_f64;
        let mut cases = vec![
            0.0,
            -0.0,
            -0.5,
            -0.4,
            -0.6,
            -1.0,
            0.49999999999999994,
            0.5,
            1.5,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            two63,
            two63 - 1024.0,
            two63 - 2048.0,
            two63 + 2048.0,
            2.0 * two63,
            4.0 * two63,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ];
        for k in 0..64 {
            let p = 2f64.powi(k);
            cases.extend([p, p - 0.5, p + 0.5, -p, p.next_up(), p.next_down()]);
        }
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(23);
        for _ in 0..100_000 {
            let m: f64 = rng.random();
            let e = rng.random_range(-10..70);
            cases.push(m * 2f64.powi(e) * if rng.random_bool(0.1) { -1.0 } else { 1.0 });
        }
        for ns in cases {
            assert_eq!(
                SimTime::from_nanos_f64(ns).as_nanos(),
                reference(ns),
                "{ns:e}"
            );
        }
    }
}
