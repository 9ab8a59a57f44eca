//! Numbers and names checked in the units the engine uses, around [`super::validate`]:
//! [`check_raw`] before validation (published Exchange ranges, durations that must fit the
//! clock, names that become file names), [`scaled_dist`] while distributions are converted
//! to nanoseconds, and [`check_model`] after (every rate, work time and offered utilization
//! finite, whatever `--allow-unstable` says). Every guard is written so that NaN fails.
//!
//! Architecture invariant: nothing that passes these checks can overflow the integer
//! nanosecond clock at conversion or make a rate, product or sum infinite or NaN.

use super::Scenario;
use super::messages::figure;
use super::raw::{RawDist, RawOutage, RawRetry, RawScenario, RawShape};
use super::validate::{Bad, V, bad};
use crate::model::dist::Dist;

/// The longest duration anything may have, in nanoseconds: about 31.7 years. A `u64` of
/// nanoseconds holds 584 years, so sums of a few such spans still fit.
pub const MAX_NS: f64 = 1e18;
/// [`MAX_NS`] in seconds.
pub const MAX_S: f64 = MAX_NS / 1e9;
/// The largest message size parameter (KB): a terabyte, beyond any mail system.
pub const MAX_SIZE_KB: f64 = 1e9;
/// The highest arrival rate of a source (messages per second).
pub const MAX_RATE_PER_S: f64 = 1e9;
/// 90 days: Exchange's longest MessageExpirationTimeout (Set-TransportService, [ODE]).
pub const MAX_EXPIRATION_S: f64 = 90.0 * 86_400.0;
/// 5 s: Exchange's shortest MessageExpirationTimeout ([ODE]).
pub const MIN_EXPIRATION_S: f64 = 5.0;
/// 1 s: the shortest retry interval Set-TransportService accepts (00:00:01).
pub const MIN_RETRY_INTERVAL_S: f64 = 1.0;
/// Names that become file names: their longest length.
pub const NAME_MAX: usize = 64;
/// What a name that becomes a file name may hold, in words (for messages and README).
pub const NAME_RULE: &str = "1 to 64 characters of ASCII letters, digits, `_`, `-` and `.`, \
    not starting with `.`";

/// Whether `name` may become part of a file name: [`NAME_RULE`].
pub fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn name_bad<T>(field: String, what: &str, name: &str) -> V<T> {
    bad(
        field,
        format!(
            "{what} `{}` names files (--out, latency-<flow>.svg, hgrm/<variant>.<flow>.hgrm); \
             accepted: {NAME_RULE}",
            super::messages::quote(name)
        ),
    )
}

/// Checks a scenario's (or the file's default) name.
pub fn check_name(name: &str, given: bool) -> V<()> {
    if is_file_name(name) {
        return Ok(());
    }
    let what = if given {
        "the name"
    } else {
        "the file's name, used as the scenario's name when `name` is not given,"
    };
    name_bad("name".into(), what, name)
}

fn seconds_in(v: f64, field: &str, lo: f64, hi: f64, range: &str) -> V<()> {
    if lo <= v && v <= hi {
        return Ok(());
    }
    bad(field, format!("must be {range}, got {} s", figure(v)))
}

fn fits_clock(v: f64, field: &str) -> V<()> {
    // Negative and NaN values are the validator's to refuse with its own words.
    if v.is_nan() || v <= MAX_S {
        return Ok(());
    }
    bad(
        field,
        format!(
            "is {} s; at most {} s (about 31 years) fits the simulator's clock",
            figure(v),
            figure(MAX_S)
        ),
    )
}

fn check_retry(r: &RawRetry, field: &str) -> V<()> {
    for (v, name) in [
        (r.transient_retry_interval_s, "transient_retry_interval_s"),
        (r.message_retry_interval_s, "message_retry_interval_s"),
    ] {
        if let Some(v) = v {
            seconds_in(
                v,
                &format!("{field}.{name}"),
                MIN_RETRY_INTERVAL_S,
                MAX_EXPIRATION_S,
                "from 1 s (Exchange's shortest retry interval) to 90 days (its longest expiration, after which no retry happens)",
            )?;
        }
    }
    if let Some(v) = r.expiration_timeout_s {
        seconds_in(
            v,
            &format!("{field}.expiration_timeout_s"),
            MIN_EXPIRATION_S,
            MAX_EXPIRATION_S,
            "from 5 s to 90 days (Exchange's MessageExpirationTimeout range)",
        )?;
    }
    Ok(())
}

fn check_outages(o: &Option<Vec<RawOutage>>, field: &str, run_s: Option<f64>) -> V<()> {
    for (i, w) in o.iter().flatten().enumerate() {
        fits_clock(w.start_s, &format!("{field}.outages.{i}.start_s"))?;
        fits_clock(w.duration_s, &format!("{field}.outages.{i}.duration_s"))?;
        if let Some(d) = run_s
            && w.start_s >= d
        {
            return bad(
                format!("{field}.outages.{i}.start_s"),
                format!(
                    "starts at {} s, after the run ends (run.duration_s = {} s): it would never happen; \
                     start it earlier or remove it",
                    figure(w.start_s),
                    figure(d)
                ),
            );
        }
    }
    Ok(())
}

fn check_shape(s: &Option<RawShape>, field: &str) -> V<()> {
    for (i, b) in s.iter().flat_map(|s| &s.bursts).enumerate() {
        fits_clock(b.start_s, &format!("{field}.bursts.{i}.start_s"))?;
        fits_clock(b.duration_s, &format!("{field}.bursts.{i}.duration_s"))?;
    }
    Ok(())
}

/// Checks what must hold before validation converts units: published ranges, durations that
/// fit the clock, flow names that become file names.
pub fn check_raw(raw: &RawScenario) -> V<()> {
    let r = &raw.run;
    if let Some(d) = r.duration_s {
        fits_clock(d, "run.duration_s")?;
    }
    if let Some(crate::scenario::raw::RawWarmup::Seconds(w)) = r.warmup_s {
        fits_clock(w, "run.warmup_s")?;
    }
    if let Some(t) = &raw.transport {
        check_retry(t, "transport")?;
    }
    for (name, h) in &raw.hops {
        let field = format!("hops.{name}");
        if let Some(t) = &h.retry {
            check_retry(t, &format!("{field}.retry"))?;
        }
        check_outages(&h.outages, &field, r.duration_s)?;
        if let Some(f) = &h.failures {
            fits_clock(f.mtbf_s, &format!("{field}.failures.mtbf_s"))?;
            fits_clock(f.mttr_s, &format!("{field}.failures.mttr_s"))?;
        }
    }
    for (name, l) in &raw.links {
        let field = format!("links.{name}");
        check_outages(&l.outages, &field, r.duration_s)?;
        if let Some(f) = &l.failures {
            fits_clock(f.mtbf_s, &format!("{field}.failures.mtbf_s"))?;
            fits_clock(f.mttr_s, &format!("{field}.failures.mttr_s"))?;
        }
    }
    if let Some(l) = &raw.load {
        check_shape(&l.shape, "load.shape")?;
    }
    for (name, s) in &raw.sources {
        check_shape(&s.shape, &format!("sources.{name}.shape"))?;
    }
    for (name, route) in &raw.routes {
        if let Some(f) = &route.deliver
            && !is_file_name(f)
        {
            return name_bad(format!("routes.{name}.deliver"), "the flow", f);
        }
        for (i, b) in route.next.iter().flatten().enumerate() {
            if let Some(f) = &b.deliver
                && !is_file_name(f)
            {
                return name_bad(format!("routes.{name}.next.{i}.deliver"), "the flow", f);
            }
        }
    }
    Ok(())
}

/// `d` (valid, in the field's unit) converted by `k` to the engine's unit, refused when a
/// parameter or the mean would not be a finite number of at most `max` (nanoseconds for
/// durations, [`MAX_SIZE_KB`] for sizes) — so the conversion never overflows.
pub fn scaled_dist(d: &Dist, k: f64, field: &str, raw: &RawDist) -> V<Dist> {
    let (max, unit, per, why) = if k == 1.0 {
        (MAX_SIZE_KB, "KB", 1.0, "a terabyte")
    } else {
        (
            MAX_NS,
            "ms",
            1e6,
            "about 31 years: the simulator counts integer nanoseconds",
        )
    };
    let sub = match raw {
        RawDist::Exponential { mean: Some(_), .. } => "mean",
        RawDist::Exponential { .. } => "rate_per_s",
        RawDist::Lognormal { .. } => "median",
        RawDist::Gamma { .. } => "mean",
        RawDist::Empirical { .. } => "samples",
        RawDist::Deterministic { .. } => "value",
        RawDist::Uniform { .. } => "max",
    };
    let too_big = |what: String| {
        bad(
            format!("{field}.{sub}"),
            format!(
                "{what}; accepted: at most {} {unit} ({why})",
                figure(max / per)
            ),
        )
    };
    let mean = d.mean() * k;
    if mean.is_nan() || mean > max {
        let what = format!("makes a mean of {} {unit}", figure(d.mean()));
        if let RawDist::Lognormal { median, sigma } = raw
            && median * k <= max
        {
            return bad(
                format!("{field}.sigma"),
                format!(
                    "{} {what}; accepted: a mean of at most {} {unit} ({why})",
                    figure(*sigma),
                    figure(max / per)
                ),
            );
        }
        return too_big(what);
    }
    let Some(scaled) = d.try_scaled(k) else {
        return too_big("is too large to convert".into());
    };
    if let RawDist::Lognormal { sigma, .. } = raw {
        // E[X²] must be finite too (queueing theory and variance use it).
        if !scaled.second_moment().is_finite() {
            return bad(
                format!("{field}.sigma"),
                format!(
                    "{} is too large: the distribution's variance is infinite",
                    figure(*sigma)
                ),
            );
        }
    }
    Ok(scaled)
}

fn unfinite(field: String, what: &str, v: f64) -> Bad {
    Bad {
        field,
        message: format!(
            "makes {what} {}, which the simulator cannot use; lower the numbers that multiply into it",
            figure(v)
        ),
        unstable: false,
    }
}

/// Checks every variant of the validated model ([`check_variant`], [`check_peaks`]).
pub fn check_model(scn: &Scenario) -> V<()> {
    scn.variants
        .iter()
        .try_for_each(|v| check_variant(v).and_then(|()| check_peaks(v)))
}

/// Checks every shaped source's rate at the busiest moment of the run, once the thinning
/// envelope has been limited to the simulated period (so a weekend factor outside a
/// weekday run does not count).
pub fn check_peaks(v: &super::VariantModel) -> V<()> {
    for s in &v.sources {
        let field = format!("sources.{}", s.name);
        if let crate::load::ArrivalSpec::Shaped(shape) = &s.arrivals {
            // Thinning draws candidates at the busiest rate within the run: a burst of
            // 1e300 would draw them faster than the clock ticks and never finish.
            let peak = s.rate_per_s * shape.max_factor();
            if peak.is_nan() || peak > MAX_RATE_PER_S {
                return Err(Bad {
                    field: if v.costs.is_some() {
                        "load.shape".into()
                    } else {
                        format!("{field}.shape")
                    },
                    message: format!(
                        "makes source `{}` send {} messages per second at its busiest (its \
                         busiest-hour rate {} × the day's factor × every burst then); \
                         accepted: at most {}",
                        s.name,
                        figure(peak),
                        figure(s.rate_per_s),
                        figure(MAX_RATE_PER_S)
                    ),
                    unstable: false,
                });
            }
        }
    }
    Ok(())
}

/// Checks a built variant before its stability: every source's rate, every station's mean
/// work per visit and every offered utilization finite (refused even with
/// `--allow-unstable`), and the names of the variant and its flows usable as file names.
pub fn check_variant(v: &super::VariantModel) -> V<()> {
    {
        if !is_file_name(&v.name) {
            return name_bad("name".into(), "the variant", &v.name);
        }
        for f in &v.network.flows {
            if !is_file_name(f) {
                return name_bad("routes".into(), "the flow", f);
            }
        }
        for s in &v.sources {
            let field = format!("sources.{}", s.name);
            if !(s.rate_per_s > 0.0 && s.rate_per_s <= MAX_RATE_PER_S) {
                return Err(Bad {
                    field: if v.costs.is_some() {
                        "load".into()
                    } else {
                        format!("{field}.rate_per_s")
                    },
                    message: format!(
                        "makes source `{}` send {} messages per second; accepted: more than 0, at most {}",
                        s.name,
                        figure(s.rate_per_s),
                        figure(MAX_RATE_PER_S)
                    ),
                    unstable: false,
                });
            }
            let size = s.size_kb.mean();
            if size.is_nan() || size > MAX_SIZE_KB {
                return Err(unfinite(
                    format!("{field}.size_kb"),
                    "a mean size (KB) of",
                    size,
                ));
            }
        }
        let mean_size = v
            .sources
            .iter()
            .map(|s| s.size_kb.mean())
            .fold(0.0, f64::max);
        for st in &v.network.stations {
            let work = st.mean_service_ns(mean_size);
            if work.is_nan() || work > MAX_NS {
                let field = match st.kind {
                    crate::model::network::StationKind::Hop => format!("hops.{}", st.name),
                    _ => format!("links.{}", st.name.trim_end_matches(".bandwidth")),
                };
                return Err(unfinite(field, "a mean time per visit (ns) of", work));
            }
        }
        for (st, u) in v.network.stations.iter().zip(v.offered_utilization()) {
            if let Some(u) = u
                && !u.is_finite()
            {
                let field = match st.kind {
                    crate::model::network::StationKind::Hop => format!("hops.{}.servers", st.name),
                    _ => format!(
                        "links.{}.bandwidth_mbps",
                        st.name.trim_end_matches(".bandwidth")
                    ),
                };
                return Err(unfinite(
                    field,
                    &format!("the offered utilization in variant `{}`", v.name),
                    u,
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_the_rule() {
        for ok in [
            "a",
            "inbound_to_onprem",
            "mx-eop_cmt-off",
            "v1.2",
            &"x".repeat(64),
        ] {
            assert!(is_file_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            ".hidden",
            "a b",
            "é",
            &"x".repeat(65),
        ] {
            assert!(!is_file_name(bad), "{bad}");
        }
    }

    const SHAPED: &str = "[run]\nduration_s = 3600\n[sources.a]\nrate_per_s = 10\nroute = \"r\"\n\
        shape = { bursts = [{ start_s = 0, duration_s = 0.000001, multiplier = MULT }] }\n\
        [hops.h]\nservers = 1\nservice_ms = { dist = \"exponential\", mean = 50 }\n\
        [routes.r]\nsteps = [\"h\"]\ndeliver = \"f\"\n";

    /// A burst of 1e15 for a microsecond barely moves the mean rate (so the run-size budget
    /// passed it), but thinning drew candidates at the burst's rate all run long: a hang.
    /// Found by the mutation property test (`multiplier = 3e300` in peak-day.toml).
    #[test]
    fn a_burst_beyond_the_highest_rate_is_refused() {
        use crate::scenario::{LoadOptions, from_text};
        let text = SHAPED.replace("MULT", "1e15");
        let e = from_text(&text, "t.toml", "t", LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.toml:6: `sources.a.shape`: makes source `a` send")
                && e.contains("at its busiest")
                && e.contains("at most 1.000e9"),
            "{e}"
        );
        let text = SHAPED.replace("MULT", "3");
        assert!(from_text(&text, "t.toml", "t", LoadOptions::default()).is_ok());
    }

    #[test]
    fn a_huge_duration_is_refused_not_a_panic() {
        let d = Dist::deterministic(1e305).unwrap();
        let raw = RawDist::Deterministic { value: 1e305 };
        let e = scaled_dist(&d, 1e6, "hops.a.service_ms", &raw).unwrap_err();
        assert_eq!(e.field, "hops.a.service_ms.value");
        assert!(e.message.contains("at most"), "{}", e.message);
        let ok = scaled_dist(&Dist::deterministic(5.0).unwrap(), 1e6, "f", &raw).unwrap();
        assert_eq!(ok.mean(), 5e6);
    }
}
