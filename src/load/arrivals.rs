//! When a source's messages arrive: constant-rate Poisson streams, shaped (non-homogeneous)
//! Poisson streams, and replay of a recorded trace.
//!
//! A [`Shape`] is a rate multiplier as a function of simulated time: 24 hourly weights (a
//! diurnal curve, normalized so its busiest hour is 1), a weekday and a weekend factor, and
//! bursts (start, duration, multiplier). It is piecewise constant, changing only at hour
//! boundaries and burst edges. Shaped arrivals are generated exactly by thinning (Lewis &
//! Shedler 1979): candidates come from a homogeneous stream at the largest rate the shape ever
//! reaches, and each candidate at time t is kept with probability rate(t) ÷ that maximum. No
//! time stepping, so no discretization error.
//!
//! This module decides *when*; what a message carries is decided in [`super`]; moving it is
//! the simulation's job. Nothing here allocates per arrival.

use rand::Rng;
use rand_distr::{Distribution, Exp};

use super::trace::TraceMsg;
use crate::engine::{SimRng, SimTime};
use crate::scenario::messages::figure;

pub const HOUR_S: f64 = 3600.0;
pub const DAY_S: f64 = 86_400.0;
pub const WEEK_S: f64 = 7.0 * DAY_S;

/// The default diurnal curve, hour 0 = midnight to 01:00: an office mail day — low overnight,
/// a ramp from 07:00, the busiest hour 09:00–10:00, a dip over lunch, a second peak mid
/// afternoon, tailing off after 17:00. An assumption (no published hourly profile of Exchange
/// traffic is cited); its busiest hour is 2.21 × the 24-hour mean.
pub const BUSINESS_DAY: [f64; 24] = [
    0.10, 0.08, 0.07, 0.07, 0.08, 0.12, // 00–06
    0.25, 0.50, 0.85, 1.00, 0.95, 0.90, // 06–12
    0.75, 0.85, 0.90, 0.85, 0.75, 0.55, // 12–18
    0.35, 0.25, 0.20, 0.17, 0.14, 0.12, // 18–24
];

/// Default weekend factor: weekend days carry a fifth of a weekday's mail (an assumption).
pub const DEFAULT_WEEKEND_FACTOR: f64 = 0.2;

/// A temporary rate multiplier (a marketing blast).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Burst {
    /// Seconds from the start of the run.
    pub start_s: f64,
    pub duration_s: f64,
    /// Rate multiplier while the burst lasts; overlapping bursts multiply.
    pub multiplier: f64,
}

/// A rate multiplier over simulated time. Construct with [`Shape::new`].
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    /// Normalized: the largest weight is 1.
    hourly: [f64; 24],
    weekday: f64,
    weekend: f64,
    /// Seconds into the week (Monday 00:00 = 0) at simulated time zero.
    offset_s: f64,
    bursts: Vec<Burst>,
    /// The largest value [`Shape::factor`] takes.
    max: f64,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ShapeError {
    #[error("needs 24 hourly weights (hour 0 = 00:00–01:00), got {0}")]
    HourCount(usize),
    #[error("hourly weights must be finite, 0 or more, and not all 0")]
    BadWeights,
    #[error("must be a number of 0 or more, got {}", figure(*.0))]
    BadFactor(f64),
    #[error("weekday and weekend factors cannot both be 0: no mail would ever arrive")]
    NoDays,
    #[error("must be a day of the week: mon, tue, wed, thu, fri, sat or sun; got `{0}`")]
    BadDay(String),
    #[error("must be an hour from 0 up to (not including) 24, got {}", figure(*.0))]
    BadHour(f64),
    #[error("must be a number greater than 0, got {}", figure(*.0))]
    NotPositive(f64),
}

/// Which field of a shape an error concerns, for the caller's dotted path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShapeField {
    HourlyWeights,
    WeekdayFactor,
    WeekendFactor,
    StartDay,
    StartHour,
    BurstStart(usize),
    BurstDuration(usize),
    BurstMultiplier(usize),
}

/// The parts of a shape as a scenario gives them, before checking.
#[derive(Clone, Debug, Default)]
pub struct ShapeInput {
    pub hourly_weights: Option<Vec<f64>>,
    pub weekday_factor: Option<f64>,
    pub weekend_factor: Option<f64>,
    pub start_day: Option<String>,
    pub start_hour: Option<f64>,
    pub bursts: Vec<Burst>,
}

pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Shape {
    /// Checks `input` and builds the shape; defaults: [`BUSINESS_DAY`], weekday factor 1,
    /// weekend factor [`DEFAULT_WEEKEND_FACTOR`], the run starting Monday 00:00.
    pub fn new(input: &ShapeInput) -> Result<Shape, (ShapeField, ShapeError)> {
        use ShapeField as F;
        let raw = input.hourly_weights.as_deref().unwrap_or(&BUSINESS_DAY);
        if raw.len() != 24 {
            return Err((F::HourlyWeights, ShapeError::HourCount(raw.len())));
        }
        let top = raw.iter().copied().fold(0.0, f64::max);
        if raw.iter().any(|w| !w.is_finite() || *w < 0.0) || !(top > 0.0) {
            return Err((F::HourlyWeights, ShapeError::BadWeights));
        }
        let mut hourly = [0.0; 24];
        for (h, w) in hourly.iter_mut().zip(raw) {
            *h = w / top;
        }
        let factor = |v: Option<f64>, default: f64, f: ShapeField| {
            let v = v.unwrap_or(default);
            if v.is_finite() && v >= 0.0 {
                Ok(v)
            } else {
                Err((f, ShapeError::BadFactor(v)))
            }
        };
        let weekday = factor(input.weekday_factor, 1.0, F::WeekdayFactor)?;
        let weekend = factor(
            input.weekend_factor,
            DEFAULT_WEEKEND_FACTOR,
            F::WeekendFactor,
        )?;
        if weekday == 0.0 && weekend == 0.0 {
            return Err((F::WeekendFactor, ShapeError::NoDays));
        }
        let day = match &input.start_day {
            None => 0,
            Some(d) => DAYS
                .iter()
                .position(|x| x.eq_ignore_ascii_case(d))
                .ok_or_else(|| (F::StartDay, ShapeError::BadDay(d.clone())))?,
        };
        let hour = input.start_hour.unwrap_or(0.0);
        if !(hour.is_finite() && (0.0..24.0).contains(&hour)) {
            return Err((F::StartHour, ShapeError::BadHour(hour)));
        }
        for (i, b) in input.bursts.iter().enumerate() {
            if !(b.start_s.is_finite() && b.start_s >= 0.0) {
                return Err((F::BurstStart(i), ShapeError::BadFactor(b.start_s)));
            }
            if !(b.duration_s.is_finite() && b.duration_s > 0.0) {
                return Err((F::BurstDuration(i), ShapeError::NotPositive(b.duration_s)));
            }
            if !(b.multiplier.is_finite() && b.multiplier >= 0.0) {
                return Err((F::BurstMultiplier(i), ShapeError::BadFactor(b.multiplier)));
            }
        }
        let mut shape = Shape {
            hourly,
            weekday,
            weekend,
            offset_s: day as f64 * DAY_S + hour * HOUR_S,
            bursts: input.bursts.clone(),
            max: 0.0,
        };
        // The busiest hour of the busier kind of day, times the largest product of bursts in
        // force at once (attained at some burst's start, as every product changes only there).
        let burst_max = shape
            .bursts
            .iter()
            .map(|b| shape.burst_factor(b.start_s))
            .fold(1.0, f64::max);
        shape.max = weekday.max(weekend) * burst_max;
        Ok(shape)
    }

    /// The rate multiplier at `t_s` seconds after the start of the run.
    #[inline]
    pub fn factor(&self, t_s: f64) -> f64 {
        let week_s = (t_s + self.offset_s) % WEEK_S;
        let day = (week_s / DAY_S) as usize;
        let hour = ((week_s % DAY_S) / HOUR_S) as usize;
        let day_factor = if day >= 5 { self.weekend } else { self.weekday };
        self.hourly[hour.min(23)] * day_factor * self.burst_factor(t_s)
    }

    #[inline]
    fn burst_factor(&self, t_s: f64) -> f64 {
        let mut f = 1.0;
        for b in &self.bursts {
            if t_s >= b.start_s && t_s < b.start_s + b.duration_s {
                f *= b.multiplier;
            }
        }
        f
    }

    /// The largest value of [`Shape::factor`]: the thinning bound.
    pub fn max_factor(&self) -> f64 {
        self.max
    }

    /// Lowers the thinning bound to one that holds over `[0, until_s)` only: the busiest hour
    /// of the days the run covers times the largest burst product starting in it. A Monday-only
    /// run then draws no candidates at the weekend's (or a later burst's) rate, so a huge
    /// factor outside the simulated period costs nothing. Still ≥ every factor in the period,
    /// so thinning stays exact.
    pub fn limit_envelope(&mut self, until_s: f64) {
        if until_s.is_nan() || until_s <= 0.0 {
            return;
        }
        let diurnal = if until_s >= WEEK_S {
            self.weekday.max(self.weekend)
        } else {
            // Every hour the run touches (at most 168 + 1).
            let mut m: f64 = 0.0;
            let mut t = 0.0;
            while t < until_s {
                let week_s = (t + self.offset_s) % WEEK_S;
                let day = (week_s / DAY_S) as usize;
                let hour = ((week_s % DAY_S) / HOUR_S) as usize;
                let day_factor = if day >= 5 { self.weekend } else { self.weekday };
                m = m.max(self.hourly[hour.min(23)] * day_factor);
                // The start of the next hour of the week.
                t += (HOUR_S - (week_s % HOUR_S)).max(1.0);
            }
            m
        };
        let bursts = self
            .bursts
            .iter()
            .filter(|b| b.start_s < until_s)
            .map(|b| self.burst_factor(b.start_s))
            .fold(1.0, f64::max);
        let envelope = diurnal * bursts;
        if envelope < self.max {
            self.max = envelope;
        }
    }

    /// The busiest hour's weight ÷ the mean hourly weight: the peak factor the curve implies.
    pub fn diurnal_peak_factor(&self) -> f64 {
        24.0 / self.hourly.iter().sum::<f64>()
    }

    /// The normalized hourly weights (busiest hour = 1).
    pub fn hourly(&self) -> &[f64; 24] {
        &self.hourly
    }

    /// The mean of the factor over `[from_s, to_s)`, exact: the factor is piecewise constant
    /// between hour boundaries and burst edges, so it integrates segment by segment.
    pub fn mean_factor(&self, from_s: f64, to_s: f64) -> f64 {
        if to_s <= from_s {
            return self.factor(from_s);
        }
        let mut edges: Vec<f64> = self
            .bursts
            .iter()
            .flat_map(|b| [b.start_s, b.start_s + b.duration_s])
            .filter(|e| *e > from_s && *e < to_s)
            .collect();
        // Hour boundaries in run time: t such that (t + offset) is a multiple of an hour.
        let first = ((from_s + self.offset_s) / HOUR_S).floor() * HOUR_S - self.offset_s;
        let mut h = first + HOUR_S;
        while h < to_s {
            edges.push(h);
            h += HOUR_S;
        }
        edges.push(to_s);
        edges.sort_by(f64::total_cmp);
        let (mut area, mut t) = (0.0, from_s);
        for e in edges {
            if e > t {
                area += self.factor(0.5 * (t + e)) * (e - t);
                t = e;
            }
        }
        area / (to_s - from_s)
    }
}

/// How a source's arrivals are described in the scenario.
#[derive(Clone, Debug)]
pub enum ArrivalSpec {
    /// A constant-rate Poisson stream at the source's `rate_per_s`.
    Poisson,
    /// A non-homogeneous Poisson stream: `rate_per_s` × the shape's factor.
    Shaped(Shape),
    /// Replay of recorded messages; `speedup` divides their times (a load scale of 2 replays
    /// the trace twice as fast).
    Trace {
        rows: std::sync::Arc<[TraceMsg]>,
        speedup: f64,
    },
}

impl ArrivalSpec {
    /// A few words for `explain`: how arrivals are generated.
    pub fn describe(&self) -> String {
        match self {
            ArrivalSpec::Poisson => "Poisson".into(),
            ArrivalSpec::Shaped(s) => format!(
                "shaped: the busiest hour's rate, busiest ÷ mean hour {:.2}, {} burst(s), at most {:.2} × it",
                s.diurnal_peak_factor(),
                s.bursts.len(),
                s.max_factor()
            ),
            ArrivalSpec::Trace { rows, speedup } => format!(
                "replayed trace of {} messages{}",
                rows.len(),
                if *speedup != 1.0 {
                    format!(", {speedup} × as fast")
                } else {
                    String::new()
                }
            ),
        }
    }
}

/// The arrival state of one source during one run. An enum, so the hot path does no dynamic
/// dispatch.
#[derive(Clone, Debug)]
pub enum ArrivalProcess<'a> {
    Poisson {
        /// Interarrival time in nanoseconds.
        gap: Exp<f64>,
    },
    Shaped {
        /// Candidate gaps (ns) at the largest rate the shape reaches.
        gap: Exp<f64>,
        shape: &'a Shape,
    },
    Trace {
        rows: &'a [TraceMsg],
        /// Index of the next row to schedule.
        next: usize,
        speedup: f64,
    },
}

impl<'a> ArrivalProcess<'a> {
    /// The process of a source with mean (or peak, for a shape) rate `rate_per_s`, which must
    /// be positive for synthetic arrivals.
    pub fn new(spec: &'a ArrivalSpec, rate_per_s: f64) -> Self {
        match spec {
            ArrivalSpec::Poisson => ArrivalProcess::Poisson {
                gap: Exp::new(rate_per_s / 1e9).expect("rates are checked when loading"),
            },
            ArrivalSpec::Shaped(shape) => ArrivalProcess::Shaped {
                gap: Exp::new(rate_per_s * shape.max_factor() / 1e9)
                    .expect("rates are checked when loading"),
                shape,
            },
            ArrivalSpec::Trace { rows, speedup } => ArrivalProcess::Trace {
                rows,
                next: 0,
                speedup: *speedup,
            },
        }
    }

    /// The next arrival after `now`, or None if there is none before `until`.
    /// The constant-rate stream, the common case, is drawn at the call site; the others
    /// through one call.
    #[inline(always)]
    pub fn next_after(
        &mut self,
        now: SimTime,
        until: Option<SimTime>,
        rng: &mut SimRng,
    ) -> Option<SimTime> {
        if let ArrivalProcess::Poisson { gap } = self {
            let t = now + SimTime::from_nanos_f64(gap.sample(rng));
            return (t <= until.unwrap_or(SimTime::MAX)).then_some(t);
        }
        self.next_after_other(now, until, rng)
    }

    #[inline(never)]
    fn next_after_other(
        &mut self,
        now: SimTime,
        until: Option<SimTime>,
        rng: &mut SimRng,
    ) -> Option<SimTime> {
        let until = until.unwrap_or(SimTime::MAX);
        let t = match self {
            ArrivalProcess::Poisson { gap } => now + SimTime::from_nanos_f64(gap.sample(rng)),
            ArrivalProcess::Shaped { gap, shape } => {
                let max = shape.max_factor();
                let mut t = now;
                loop {
                    t += SimTime::from_nanos_f64(gap.sample(rng));
                    if t > until {
                        return None;
                    }
                    let u: f64 = rng.random();
                    if u * max < shape.factor(t.as_secs_f64()) {
                        break t;
                    }
                }
            }
            ArrivalProcess::Trace {
                rows,
                next,
                speedup,
            } => {
                let row = rows.get(*next)?;
                *next += 1;
                SimTime::from_nanos_f64(row.at.as_nanos() as f64 / *speedup).max(now)
            }
        };
        (t <= until).then_some(t)
    }

    /// The recorded attributes of the arrival scheduled last (trace replay only).
    #[inline]
    pub fn recorded(&self) -> Option<&'a TraceMsg> {
        match self {
            ArrivalProcess::Trace { rows, next, .. } => rows.get(next.checked_sub(1)?),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn business_day() -> Shape {
        Shape::new(&ShapeInput::default()).unwrap()
    }

    #[test]
    fn factor_follows_hours_days_and_bursts() {
        let s = Shape::new(&ShapeInput {
            start_day: Some("fri".into()),
            start_hour: Some(9.0),
            bursts: vec![Burst {
                start_s: 1800.0,
                duration_s: 600.0,
                multiplier: 4.0,
            }],
            ..Default::default()
        })
        .unwrap();
        // Friday 09:00 is the busiest weekday hour.
        assert_eq!(s.factor(0.0), 1.0);
        assert_eq!(s.factor(1800.0), 4.0);
        assert_eq!(s.factor(2399.0), 4.0);
        assert_eq!(s.factor(2400.0), 1.0);
        assert_eq!(s.factor(3600.0), 0.95);
        // 15 hours later: Saturday 00:00.
        assert!((s.factor(15.0 * HOUR_S) - 0.10 * DEFAULT_WEEKEND_FACTOR).abs() < 1e-12);
        assert_eq!(s.max_factor(), 4.0);
        assert!((s.diurnal_peak_factor() - 24.0 / 10.85).abs() < 1e-9);
    }

    #[test]
    fn the_envelope_covers_only_the_simulated_period() {
        let input = ShapeInput {
            weekend_factor: Some(1e300),
            bursts: vec![Burst {
                start_s: 3.0 * DAY_S,
                duration_s: HOUR_S,
                multiplier: 50.0,
            }],
            ..ShapeInput::default()
        };
        let mut s = Shape::new(&input).unwrap();
        assert_eq!(s.max_factor(), 1e300 * 50.0);
        let full = s.clone();
        s.limit_envelope(DAY_S);
        assert_eq!(
            s.max_factor(),
            1.0,
            "Monday only: the busiest weekday hour, no burst"
        );
        // Still a bound: no factor in the period exceeds it.
        for k in 0..(DAY_S as usize / 60) {
            assert!(s.factor(k as f64 * 60.0) <= s.max_factor());
        }
        let mut week = full.clone();
        week.limit_envelope(WEEK_S);
        assert_eq!(week.max_factor(), full.max_factor());
    }

    #[test]
    fn mean_factor_integrates_exactly() {
        let s = business_day();
        let day_mean: f64 = BUSINESS_DAY.iter().sum::<f64>() / 24.0;
        assert!((s.mean_factor(0.0, DAY_S) - day_mean).abs() < 1e-12);
        // Half of hour 9 (1.0) and half of hour 10 (0.95).
        assert!((s.mean_factor(9.5 * HOUR_S, 10.5 * HOUR_S) - 0.975).abs() < 1e-12);
    }

    #[test]
    fn bad_shapes_name_their_field() {
        let e = Shape::new(&ShapeInput {
            hourly_weights: Some(vec![1.0; 23]),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e, (ShapeField::HourlyWeights, ShapeError::HourCount(23)));
        let e = Shape::new(&ShapeInput {
            start_day: Some("someday".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.0, ShapeField::StartDay);
        let e = Shape::new(&ShapeInput {
            bursts: vec![Burst {
                start_s: 0.0,
                duration_s: 0.0,
                multiplier: 2.0,
            }],
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.0, ShapeField::BurstDuration(0));
    }

    /// Thinning reproduces the diurnal curve hour by hour. Over 7 weekdays (weekend factor 1
    /// here so every day is the same) at a peak rate of 2 per second, hour h's count is Poisson
    /// with mean m_h = 7 × 3600 × 2 × w_h (w_h the normalized weight). A Poisson count's
    /// standard deviation is √m_h, so each hour must lie within 4.5 √m_h of m_h: over 24
    /// independent hours, a correct generator fails this with probability below 24 × 6.8e-6
    /// (two-sided normal tail at 4.5 σ) ≈ 1.6e-4. The χ² statistic over the 24 hours must stay
    /// below 51.2, the 0.999 quantile of χ² with 24 degrees of freedom.
    #[test]
    fn thinning_reproduces_hourly_counts() {
        let shape = Shape::new(&ShapeInput {
            weekend_factor: Some(1.0),
            ..Default::default()
        })
        .unwrap();
        let spec = ArrivalSpec::Shaped(shape.clone());
        let peak = 2.0;
        let mut p = ArrivalProcess::new(&spec, peak);
        let mut rng = SimRng::seed_from_u64(11);
        let days = 7.0;
        let until = SimTime::from_secs_f64(days * DAY_S);
        let mut counts = [0u64; 24];
        let mut now = SimTime::ZERO;
        while let Some(t) = p.next_after(now, Some(until), &mut rng) {
            assert!(t >= now);
            counts[((t.as_secs_f64() % DAY_S) / HOUR_S) as usize] += 1;
            now = t;
        }
        let mut chi2 = 0.0;
        for (h, &c) in counts.iter().enumerate() {
            let m = days * HOUR_S * peak * shape.hourly()[h];
            let z = (c as f64 - m) / m.sqrt();
            assert!(
                z.abs() < 4.5,
                "hour {h}: {c} arrivals, expected {m:.0} (z = {z:.2})"
            );
            chi2 += z * z;
        }
        assert!(chi2 < 51.2, "chi-square {chi2:.1} over 24 hours");
    }

    #[test]
    fn trace_replays_in_order_and_scales_time() {
        let rows: std::sync::Arc<[TraceMsg]> = vec![
            TraceMsg {
                at: SimTime::from_secs_f64(1.0),
                recipients: 2,
                size_kb: 10.0,
            },
            TraceMsg {
                at: SimTime::from_secs_f64(3.0),
                recipients: 1,
                size_kb: 20.0,
            },
        ]
        .into();
        let spec = ArrivalSpec::Trace { rows, speedup: 2.0 };
        let mut p = ArrivalProcess::new(&spec, 1.0);
        let mut rng = SimRng::seed_from_u64(1);
        assert_eq!(
            p.next_after(SimTime::ZERO, None, &mut rng),
            Some(SimTime::from_secs_f64(0.5))
        );
        assert_eq!(p.recorded().unwrap().recipients, 2);
        assert_eq!(
            p.next_after(SimTime::from_secs_f64(0.5), None, &mut rng),
            Some(SimTime::from_secs_f64(1.5))
        );
        assert_eq!(p.recorded().unwrap().size_kb, 20.0);
        assert_eq!(
            p.next_after(SimTime::from_secs_f64(1.5), None, &mut rng),
            None
        );
    }
}
