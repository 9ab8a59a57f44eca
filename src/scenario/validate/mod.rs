//! Stage two: from the raw file structs to a model the simulation can trust.
//!
//! Every check names the field's dotted path; [`super::load`] turns the path into a line.
//! Nothing here reads files or prints. This module holds the generic checks (numbers,
//! distributions, hops, links, routes, sources) and the custom-topology builder; [`traffic`]
//! the offered utilizations and the stability check; a `[hybrid]` scenario is built by
//! [`crate::hybrid::build`] from these same checks.

mod traffic;

use traffic::check_stability;
pub use traffic::{offered_utilization, stability};

use indexmap::IndexMap;

use super::messages::figure;
use super::raw::*;
use super::{RunSpec, VariantModel};
use crate::engine::SimTime;
use crate::hybrid;
use crate::load::arrivals::{Burst, ShapeField, ShapeInput};
use crate::load::trace::Trace;
use crate::load::{ArrivalSpec, MAX_GROUPS, Recipients, Shape, Source};
use crate::model::dist::{Dist, DistError};
use crate::model::network::{Servers, StationKind, VisitWork, WhenFull};
use crate::model::topology::{
    HopSpec, LinkSpec, RouteEnd, RouteSpec, Step, Target, TopologyError, TopologySpec, compile,
};
use crate::model::transport::{Availability, RetryPolicy};

/// A rejected value: the dotted path of the field and what is wrong with it.
#[derive(Debug)]
pub struct Bad {
    pub field: String,
    pub message: String,
    /// The offered load was too high (refused unless the user allows it).
    pub unstable: bool,
}

pub type V<T> = Result<T, Bad>;

pub fn bad<T>(field: impl Into<String>, message: impl Into<String>) -> V<T> {
    Err(Bad {
        field: field.into(),
        message: message.into(),
        unstable: false,
    })
}

pub(crate) fn positive(v: f64, field: &str) -> V<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        bad(
            field,
            format!("must be a number greater than 0, got {}", figure(v)),
        )
    }
}

pub(crate) fn non_negative(v: f64, field: &str) -> V<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        bad(
            field,
            format!("must be a number of 0 or more, got {}", figure(v)),
        )
    }
}

pub(crate) fn share(v: f64, field: &str) -> V<f64> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        bad(
            field,
            format!("must be a share from 0 to 1, got {}", figure(v)),
        )
    }
}

/// The accepted size of a message when a scenario gives none: a log-normal with a mean of
/// 75 KB, the classic LoadSim mailbox profile's average message size; sigma 1 is an assumption.
pub fn default_size_kb() -> Dist {
    Dist::lognormal(75.0 / (0.5f64).exp(), 1.0).expect("valid default")
}

/// Converts a raw distribution; `to_base` converts the field's unit to the model's (ms → ns is
/// 1e6); `duration` says whether `rate_per_s` makes sense.
pub(crate) fn dist(raw: &RawDist, field: &str, to_base: f64, duration: bool) -> V<Dist> {
    let r = match raw {
        RawDist::Exponential { mean, rate_per_s } => match (mean, rate_per_s) {
            (Some(m), None) => Dist::exponential(*m),
            (None, Some(r)) if duration => {
                let r = positive(*r, &format!("{field}.rate_per_s"))?;
                // A rate per second is a mean of 1/r seconds, expressed in the field's unit.
                Dist::exponential(1e9 / r / to_base)
            }
            (None, Some(_)) => {
                return bad(
                    format!("{field}.rate_per_s"),
                    "applies to durations only; give `mean`",
                );
            }
            _ => {
                return bad(
                    field,
                    "an exponential needs exactly one of `mean` or `rate_per_s`",
                );
            }
        },
        RawDist::Lognormal { median, sigma } => Dist::lognormal(*median, *sigma),
        RawDist::Gamma { shape, mean } => Dist::gamma(*shape, *mean),
        RawDist::Deterministic { value } => Dist::deterministic(*value),
        RawDist::Uniform { min, max } => Dist::uniform(*min, *max),
        RawDist::Empirical { samples } => Dist::empirical(samples.clone()),
    };
    match r {
        Ok(d) => super::limits::scaled_dist(&d, to_base, field, raw),
        Err(e) => {
            let sub = match e {
                DistError::NotPositive(n) | DistError::Negative(n) => format!("{field}.{n}"),
                DistError::EmptyRange => format!("{field}.min"),
                DistError::BadSamples => format!("{field}.samples"),
            };
            bad(sub, e.to_string())
        }
    }
}

pub fn run_spec(r: &RawRun) -> V<RunSpec> {
    let duration = match r.duration_s {
        Some(d) => Some(positive(d, "run.duration_s")?),
        None => None,
    };
    if let Some(0) = r.messages {
        return bad("run.messages", "must be 1 or more");
    }
    if duration.is_none() && r.messages.is_none() {
        return bad(
            "run",
            "give `duration_s` (simulated seconds) or `messages` (messages to generate), or both",
        );
    }
    // Default warm-up: a tenth of the duration, enough for the queues of a stable network to
    // forget their empty start; none for message-bounded runs.
    let warmup = match r.warmup_s {
        Some(crate::scenario::raw::RawWarmup::Seconds(w)) => non_negative(w, "run.warmup_s")?,
        // Chosen later by a pilot run (`runner::resolve_warmup`); statistics start at 0 there.
        Some(crate::scenario::raw::RawWarmup::Auto) => 0.0,
        None => duration.map_or(0.0, |d| d / 10.0),
    };
    if let Some(d) = duration
        && warmup >= d
    {
        return bad(
            "run.warmup_s",
            format!(
                "must be shorter than `duration_s` ({} s), got {}",
                figure(d),
                figure(warmup)
            ),
        );
    }
    let replications = r.replications.unwrap_or(1);
    if replications == 0 {
        return bad("run.replications", "must be 1 or more");
    }
    let load_scale = positive(r.load_scale.unwrap_or(1.0), "run.load_scale")?;
    Ok(RunSpec {
        retry: RetryPolicy::default(),
        duration: duration.map(SimTime::from_secs_f64),
        max_messages: r.messages,
        warmup: SimTime::from_secs_f64(warmup),
        warmup_auto: r.warmup_s == Some(crate::scenario::raw::RawWarmup::Auto),
        seed: r.seed.unwrap_or(1),
        replications,
        load_scale,
    })
}

/// Converts a raw load shape; `field` is its dotted path (`load.shape`, `sources.x.shape`).
pub fn shape(r: &RawShape, field: &str) -> V<Shape> {
    let input = ShapeInput {
        hourly_weights: r.hourly_weights.clone(),
        weekday_factor: r.weekday_factor,
        weekend_factor: r.weekend_factor,
        start_day: r.start_day.clone(),
        start_hour: r.start_hour,
        bursts: r
            .bursts
            .iter()
            .map(|b| Burst {
                start_s: b.start_s,
                duration_s: b.duration_s,
                multiplier: b.multiplier,
            })
            .collect(),
    };
    Shape::new(&input).or_else(|(f, e)| {
        let sub = match f {
            ShapeField::HourlyWeights => "hourly_weights".to_string(),
            ShapeField::WeekdayFactor => "weekday_factor".to_string(),
            ShapeField::WeekendFactor => "weekend_factor".to_string(),
            ShapeField::StartDay => "start_day".to_string(),
            ShapeField::StartHour => "start_hour".to_string(),
            ShapeField::BurstStart(i) => format!("bursts.{i}.start_s"),
            ShapeField::BurstDuration(i) => format!("bursts.{i}.duration_s"),
            ShapeField::BurstMultiplier(i) => format!("bursts.{i}.multiplier"),
        };
        bad(format!("{field}.{sub}"), e.to_string())
    })
}

/// The arrivals of source `name` replayed from `trace` (whose sources are `names`), and the
/// mean rate they make over `window_s` seconds; None if the trace has no row for it.
pub(crate) fn traced(
    trace: &Trace,
    names: &[&str],
    name: &str,
    window_s: f64,
) -> Option<(ArrivalSpec, f64)> {
    let i = names.iter().position(|n| *n == name)?;
    let rows = trace.per_source[i].clone();
    if rows.is_empty() {
        return None;
    }
    let rate = rows.len() as f64 / window_s.max(1e-9);
    Some((ArrivalSpec::Trace { rows, speedup: 1.0 }, rate))
}

/// The seconds over which a trace's rate is averaged: the run's duration, or the trace's span.
pub(crate) fn trace_window_s(raw: &RawScenario, trace: &Trace) -> f64 {
    raw.run
        .duration_s
        .unwrap_or_else(|| trace.span.as_secs_f64())
}

/// A retry policy from `raw`, each missing field taken from `base`.
pub fn retry_policy(raw: &RawRetry, base: RetryPolicy, field: &str) -> V<RetryPolicy> {
    let secs = |v: Option<f64>, name: &str, dflt: SimTime| -> V<SimTime> {
        match v {
            Some(x) => Ok(SimTime::from_secs_f64(positive(
                x,
                &format!("{field}.{name}"),
            )?)),
            None => Ok(dflt),
        }
    };
    let transient_retry_count = match raw.transient_retry_count {
        // Set-TransportService accepts 0 to 15.
        Some(n) if (0..=15).contains(&n) => n as u32,
        Some(n) => {
            return bad(
                format!("{field}.transient_retry_count"),
                format!("must be a whole number from 0 to 15, got {n}"),
            );
        }
        None => base.transient_retry_count,
    };
    Ok(RetryPolicy {
        transient_retry_count,
        transient_retry_interval: secs(
            raw.transient_retry_interval_s,
            "transient_retry_interval_s",
            base.transient_retry_interval,
        )?,
        message_retry_interval: secs(
            raw.message_retry_interval_s,
            "message_retry_interval_s",
            base.message_retry_interval,
        )?,
        expiration_timeout: secs(
            raw.expiration_timeout_s,
            "expiration_timeout_s",
            base.expiration_timeout,
        )?,
    })
}

fn availability(
    outages: &Option<Vec<RawOutage>>,
    failures: &Option<RawFailures>,
    field: &str,
) -> V<Availability> {
    let mut a = Availability::default();
    for (i, o) in outages.iter().flatten().enumerate() {
        let start = non_negative(o.start_s, &format!("{field}.outages.{i}.start_s"))?;
        let len = positive(o.duration_s, &format!("{field}.outages.{i}.duration_s"))?;
        a.windows
            .push((SimTime::from_secs_f64(start), SimTime::from_secs_f64(len)));
    }
    if let Some(f) = failures {
        let mtbf = positive(f.mtbf_s, &format!("{field}.failures.mtbf_s"))?;
        let mttr = positive(f.mttr_s, &format!("{field}.failures.mttr_s"))?;
        a.failures = Some((mtbf * 1e9, mttr * 1e9));
    }
    Ok(a)
}

/// Copies that may wait in a queue: 0 (none: a copy that finds every server busy is refused)
/// to 100 000 000.
fn queue_room(v: i64, field: &str) -> V<u32> {
    if (0..=100_000_000).contains(&v) {
        Ok(v as u32)
    } else {
        bad(
            field,
            format!("must be a whole number from 0 to 100000000, got {v}"),
        )
    }
}

pub(crate) fn count(v: i64, field: &str) -> V<u32> {
    if (1..=100_000_000).contains(&v) {
        Ok(v as u32)
    } else {
        bad(
            field,
            format!("must be a whole number from 1 to 100000000, got {v}"),
        )
    }
}

/// A hop from its table; optional fields not given come from `base` (a hybrid default).
pub(crate) fn hop(name: &str, h: &RawHop, base: Option<&HopSpec>) -> V<HopSpec> {
    let field = format!("hops.{name}");
    let servers = match h.servers {
        RawServers::Unlimited => Servers::Unlimited,
        RawServers::Count(n) if (1..=1_000_000).contains(&n) => Servers::Finite(n as u32),
        RawServers::Count(n) => {
            return bad(
                format!("{field}.servers"),
                format!("must be a whole number from 1 to 1000000 or \"unlimited\", got {n}"),
            );
        }
    };
    let (mut queue_limit, mut queue_limit_external, tarpit) = match &h.queue_limit {
        None => (None, None, false),
        Some(RawQueueLimit::Count(n)) => (
            Some(queue_room(*n, &format!("{field}.queue_limit"))?),
            None,
            false,
        ),
        Some(RawQueueLimit::Preset(p)) if p == "exchange2013" => (
            Some(hybrid::defaults::EXCHANGE2013_QUEUE_LIMITS.1),
            Some(hybrid::defaults::EXCHANGE2013_QUEUE_LIMITS.0),
            true,
        ),
        Some(RawQueueLimit::Preset(p)) => {
            return bad(
                format!("{field}.queue_limit"),
                format!(
                    "unknown preset \"{p}\"; accepted: a whole number of messages or \"exchange2013\""
                ),
            );
        }
    };
    if let Some(n) = h.queue_limit_external {
        queue_limit_external = Some(count(n, &format!("{field}.queue_limit_external"))?);
        queue_limit = queue_limit.or(queue_limit_external);
    }
    if matches!(h.when_full, Some(RawWhenFull::Reject)) && queue_limit.is_none() {
        return bad(
            format!("{field}.when_full"),
            "\"reject\" needs a `queue_limit` (the copies that may wait; 0 for none) to say when the hop is full",
        );
    }
    let retry = match &h.retry {
        Some(r) => Some(retry_policy(
            r,
            base.and_then(|b| b.retry).unwrap_or_default(),
            &format!("{field}.retry"),
        )?),
        None => base.and_then(|b| b.retry),
    };
    Ok(HopSpec {
        name: name.to_string(),
        kind: StationKind::Hop,
        servers,
        service: dist(&h.service_ms, &format!("{field}.service_ms"), 1e6, true)?,
        per_kb_ns: non_negative(h.per_kb_ms.unwrap_or(0.0), &format!("{field}.per_kb_ms"))? * 1e6,
        queue_limit,
        queue_limit_external,
        when_full: match h.when_full {
            None => base.map_or(WhenFull::Defer, |b| b.when_full),
            Some(RawWhenFull::Defer) => WhenFull::Defer,
            Some(RawWhenFull::Reject) => WhenFull::Reject,
        },
        shadow_redundancy: h
            .shadow_redundancy
            .unwrap_or(base.is_some_and(|b| b.shadow_redundancy)),
        tarpit: h.tarpit.unwrap_or(tarpit),
        availability: availability(&h.outages, &h.failures, &field)?,
        retry,
    })
}

pub(crate) fn link(name: &str, l: &RawLink, hybrid: bool) -> V<LinkSpec> {
    let field = format!("links.{name}");
    if !hybrid && matches!(l.duplex, Some(RawDuplex::Full)) {
        return bad(
            format!("{field}.duplex"),
            "\"full\" applies to a `[hybrid]` scenario's hybrid link, whose routes say each crossing's direction; a custom route's steps cannot, so use \"half\" or leave it out",
        );
    }
    Ok(LinkSpec {
        name: name.to_string(),
        latency: dist(&l.latency_ms, &format!("{field}.latency_ms"), 1e6, true)?,
        tls_setup: match &l.tls_setup_ms {
            Some(t) => Some(dist(t, &format!("{field}.tls_setup_ms"), 1e6, true)?),
            None => None,
        },
        bandwidth_mbps: match l.bandwidth_mbps {
            Some(b) => Some(positive(b, &format!("{field}.bandwidth_mbps"))?),
            None => None,
        },
        max_connections: match l.max_connections {
            Some(n) => Some(count(n, &format!("{field}.max_connections"))?),
            None => None,
        },
        availability: availability(&l.outages, &l.failures, &field)?,
        directions: Vec::new(),
    })
}

fn step(raw: &RawStep, field: &str) -> V<Step> {
    match raw {
        RawStep::Name(n) => Ok(Step::visit(n)),
        RawStep::Table(t) => match (&t.hop, t.spam_detection, t.false_positive) {
            (Some(h), None, None) => {
                let ms = |d: &Option<RawDist>, name: &str| -> V<Option<Dist>> {
                    match d {
                        Some(d) => Ok(Some(dist(d, &format!("{field}.{name}"), 1e6, true)?)),
                        None => Ok(None),
                    }
                };
                Ok(Step::Station {
                    name: h.clone(),
                    work: VisitWork {
                        service: ms(&t.service_ms, "service_ms")?,
                        extra: ms(&t.extra_service_ms, "extra_service_ms")?,
                        per_recipient: ms(&t.per_recipient_ms, "per_recipient_ms")?,
                        label: String::new(),
                    },
                    meter: None,
                    direction: None,
                })
            }
            (None, spam, fp)
                if (spam.is_some() || fp.is_some())
                    && t.extra_service_ms.is_none()
                    && t.service_ms.is_none()
                    && t.per_recipient_ms.is_none() =>
            {
                Ok(Step::Filter {
                    spam_detection: share(spam.unwrap_or(0.0), &format!("{field}.spam_detection"))?,
                    false_positive: share(fp.unwrap_or(0.0), &format!("{field}.false_positive"))?,
                })
            }
            _ => bad(
                field,
                "a step table is either a visit `{ hop = \"<name>\", service_ms = …, extra_service_ms = …, per_recipient_ms = … }` or a filter `{ spam_detection = …, false_positive = … }`",
            ),
        },
    }
}

pub(crate) fn recipients(r: &Option<RawRecipients>, field: &str) -> V<Recipients> {
    match r {
        None => Ok(Recipients::one()),
        Some(r) => {
            Recipients::new(r.counts.clone(), &r.weights).or_else(|e| bad(field, e.to_string()))
        }
    }
}

pub(crate) fn size(r: &Option<RawDist>, field: &str) -> V<Dist> {
    match r {
        None => Ok(default_size_kb()),
        Some(d) => dist(d, field, 1.0, false),
    }
}

fn route(name: &str, r: &RawRoute) -> V<RouteSpec> {
    let field = format!("routes.{name}");
    let end = match (&r.deliver, &r.next, &r.split) {
        (Some(flow), None, None) => RouteEnd::Deliver(flow.clone()),
        (None, Some(next), None) => {
            let mut branches = Vec::new();
            for (i, b) in next.iter().enumerate() {
                let target = match (&b.route, &b.deliver) {
                    (Some(r), None) => Target::Route(r.clone()),
                    (None, Some(f)) => Target::Deliver(f.clone()),
                    _ => {
                        return bad(
                            format!("{field}.next.{i}"),
                            "a branch needs exactly one of `route = \"<route>\"` or `deliver = \"<flow>\"`",
                        );
                    }
                };
                branches.push((target, b.p));
            }
            if branches.is_empty() {
                return bad(format!("{field}.next"), "needs at least one branch");
            }
            RouteEnd::Branch(branches)
        }
        (None, None, Some(split)) => {
            RouteEnd::Split(split.iter().map(|(g, r)| (g.clone(), r.clone())).collect())
        }
        _ => {
            return bad(
                field,
                "a route needs exactly one ending: `deliver = \"<flow>\"`, `next = [{ p = …, route = … }, …]` or `split = { <group> = \"<route>\", … }`",
            );
        }
    };
    let steps = r
        .steps
        .iter()
        .enumerate()
        .map(|(i, st)| step(st, &format!("{field}.steps.{i}")))
        .collect::<V<_>>()?;
    Ok(RouteSpec {
        name: name.to_string(),
        steps,
        end,
    })
}

/// Maps a compile error to the field it concerns.
pub(crate) fn topology_bad(e: TopologyError, hybrid: bool) -> Bad {
    let field = if hybrid {
        "hybrid".to_string()
    } else {
        match &e {
            TopologyError::UnknownStep { route, step, .. } => {
                format!("routes.{route}.steps.{}", step - 1)
            }
            TopologyError::UnknownRoute { route, .. } => format!("routes.{route}"),
            TopologyError::BadProbability { route, branch, .. } => {
                format!("routes.{route}.next.{}.p", branch - 1)
            }
            TopologyError::BranchSum { route, .. } => format!("routes.{route}.next"),
            TopologyError::UnknownGroup { route, .. }
            | TopologyError::SplitIncomplete { route, .. } => {
                format!("routes.{route}.split")
            }
            TopologyError::NoExit { route } | TopologyError::EmptyLoop { route } => {
                format!("routes.{route}")
            }
            TopologyError::DuplicateName { name } => format!("links.{name}"),
            TopologyError::BadFilter { route, step, .. } => {
                format!("routes.{route}.steps.{}", step - 1)
            }
        }
    };
    Bad {
        field,
        message: e.to_string(),
        unstable: false,
    }
}

fn custom(raw: &RawScenario, name: &str, trace: Option<&Trace>) -> V<Vec<VariantModel>> {
    if raw.load.is_some() {
        return bad(
            "load",
            "`[load]` describes hybrid mail load; a custom topology gives rates in `[sources.<name>]`",
        );
    }
    if raw.sources.is_empty() {
        return bad(
            "sources",
            "define at least one source: `[sources.<name>]` with `rate_per_s` and `route`",
        );
    }
    if raw.groups.len() > MAX_GROUPS {
        return bad(
            "groups",
            format!("at most {MAX_GROUPS} recipient groups are supported"),
        );
    }
    let spec = TopologySpec {
        hops: raw
            .hops
            .iter()
            .map(|(n, h)| hop(n, h, None))
            .collect::<V<_>>()?,
        links: raw
            .links
            .iter()
            .map(|(n, l)| link(n, l, false))
            .collect::<V<_>>()?,
        routes: raw
            .routes
            .iter()
            .map(|(n, r)| route(n, r))
            .collect::<V<_>>()?,
        groups: raw.groups.clone(),
    };
    let network = compile(&spec).map_err(|e| topology_bad(e, false))?;
    let names: Vec<&str> = raw.sources.keys().map(String::as_str).collect();
    let mut sources = Vec::new();
    for (sname, s) in &raw.sources {
        let field = format!("sources.{sname}");
        if network.route_entry(&s.route).is_none() {
            let accepted: Vec<String> = raw.routes.keys().map(|r| format!("`{r}`")).collect();
            return bad(
                format!("{field}.route"),
                format!(
                    "names route `{}`, which is not defined; accepted: {}",
                    s.route,
                    accepted.join(", ")
                ),
            );
        }
        let group_shares = match &s.groups {
            None => Vec::new(),
            Some(g) => group_shares(g, &raw.groups, &format!("{field}.groups"))?,
        };
        let (arrivals, rate_per_s) = match (trace, &s.shape) {
            (Some(_), Some(_)) => {
                return bad(
                    format!("{field}.shape"),
                    "cannot apply to a replayed trace; remove `[trace]` or the shape",
                );
            }
            (Some(t), None) => match traced(t, &names, sname, trace_window_s(raw, t)) {
                Some(x) => x,
                None => continue, // no recorded messages for this source
            },
            (None, shape_raw) => {
                let Some(rate) = s.rate_per_s else {
                    return bad(
                        format!("{field}.rate_per_s"),
                        "is missing: give the mean messages per second (the busiest hour's, with a shape)",
                    );
                };
                let rate = positive(rate, &format!("{field}.rate_per_s"))?;
                match shape_raw {
                    Some(sh) => (
                        ArrivalSpec::Shaped(shape(sh, &format!("{field}.shape"))?),
                        rate,
                    ),
                    None => (ArrivalSpec::Poisson, rate),
                }
            }
        };
        sources.push(Source {
            name: sname.clone(),
            rate_per_s,
            arrivals,
            route: s.route.clone(),
            recipients: recipients(&s.recipients, &format!("{field}.recipients"))?,
            group_shares,
            size_kb: size(&s.size_kb, &format!("{field}.size_kb"))?,
            spam_share: share(s.spam_share.unwrap_or(0.0), &format!("{field}.spam_share"))?,
        });
    }
    if sources.is_empty() {
        return bad("trace.file", "has no rows for any source of the scenario");
    }
    Ok(vec![VariantModel {
        name: name.to_string(),
        network,
        sources,
        peak_meters: Vec::new(),
        costs: None,
    }])
}

fn group_shares(given: &IndexMap<String, f64>, groups: &[String], field: &str) -> V<Vec<f64>> {
    let mut shares = vec![0.0; groups.len()];
    for (g, v) in given {
        let Some(i) = groups.iter().position(|x| x == g) else {
            return bad(
                format!("{field}.{g}"),
                format!("is not a recipient group; accepted: {}", groups.join(", ")),
            );
        };
        shares[i] = share(*v, &format!("{field}.{g}"))?;
    }
    let sum: f64 = shares.iter().sum();
    if (sum - 1.0).abs() > 1e-9 {
        return bad(field, format!("shares sum to {sum}; make them sum to 1"));
    }
    Ok(shares)
}

/// The names of the sources a trace's `flow` column may name.
pub fn source_names(raw: &RawScenario) -> Vec<&str> {
    match &raw.hybrid {
        Some(_) => hybrid::SOURCES.to_vec(),
        None => raw.sources.keys().map(String::as_str).collect(),
    }
}

/// All variants of the scenario, their rates multiplied by `load_scale`, checked for stability
/// unless `allow_unstable`.
pub fn variants(
    raw: &RawScenario,
    name: &str,
    allow_unstable: bool,
    trace: Option<&Trace>,
    load_scale: f64,
) -> V<Vec<VariantModel>> {
    let mut variants = match &raw.hybrid {
        Some(h) => hybrid::build::variants(raw, h, trace)?,
        None => custom(raw, name, trace)?,
    };
    for v in &mut variants {
        v.scale_load(load_scale);
        super::limits::check_variant(v)?;
        check_stability(v, allow_unstable)?;
    }
    Ok(variants)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::raw::RawRun;

    fn run(text: &str) -> V<RunSpec> {
        run_spec(&toml::from_str::<RawRun>(text).unwrap())
    }

    /// The number checks accept their whole range, refuse what is outside it and NaN, and
    /// name the field they were given.
    #[test]
    fn number_checks_refuse_out_of_range_and_nan_with_the_field() {
        assert_eq!(positive(1e-9, "a").unwrap(), 1e-9);
        assert_eq!(non_negative(0.0, "a").unwrap(), 0.0);
        assert_eq!(share(1.0, "a").unwrap(), 1.0);
        for (r, field) in [
            (positive(0.0, "hops.x.servers"), "hops.x.servers"),
            (positive(f64::NAN, "p"), "p"),
            (positive(f64::INFINITY, "p"), "p"),
            (non_negative(-1e-12, "n"), "n"),
            (share(1.000_001, "load.spam_share"), "load.spam_share"),
            (share(f64::NAN, "s"), "s"),
        ] {
            assert_eq!(r.unwrap_err().field, field);
        }
        assert_eq!(count(20, "hops.x.servers").unwrap(), 20);
        assert!(count(0, "hops.x.servers").is_err());
        assert!(count(-3, "hops.x.servers").is_err());
        assert_eq!(queue_room(0, "hops.x.queue_limit").unwrap(), 0);
        assert!(queue_room(-1, "hops.x.queue_limit").is_err());
    }

    /// A `rate_per_s` is converted into the field's unit: 50 per second is a mean of 20 ms,
    /// 2 × 10⁷ ns; and it only applies where the value is a duration.
    #[test]
    fn a_rate_becomes_a_mean_duration_in_nanoseconds() {
        let raw: RawDist = toml::from_str(
            r#"dist = "exponential"
rate_per_s = 50"#,
        )
        .unwrap();
        let d = dist(&raw, "hops.s.service_ms", 1e6, true).unwrap();
        assert!((d.mean() - 2e7).abs() < 1e-3, "{}", d.mean());
        let e = dist(&raw, "load.size_kb", 1.0, false).unwrap_err();
        assert_eq!(e.field, "load.size_kb.rate_per_s");
        let both: RawDist =
            toml::from_str("dist = \"exponential\"\nmean = 3\nrate_per_s = 5").unwrap();
        assert_eq!(dist(&both, "f", 1e6, true).unwrap_err().field, "f");
        let lognormal: RawDist =
            toml::from_str("dist = \"lognormal\"\nmedian = 0\nsigma = 1").unwrap();
        assert_eq!(
            dist(&lognormal, "hops.s.service_ms", 1e6, true)
                .unwrap_err()
                .field,
            "hops.s.service_ms.median"
        );
    }

    /// The run block: a default warm-up of a tenth of the duration, none for a message-bound
    /// run; a warm-up as long as the run, no length at all, zero messages or zero
    /// replications are refused with the field to fix.
    #[test]
    fn the_run_block_defaults_and_refusals() {
        let r = run("duration_s = 600").unwrap();
        assert_eq!(r.warmup, SimTime::from_secs_f64(60.0));
        assert_eq!((r.replications, r.seed), (1, 1));
        let r = run("messages = 1000").unwrap();
        assert_eq!(
            (r.warmup, r.duration, r.max_messages),
            (SimTime::ZERO, None, Some(1000))
        );
        assert!(
            run(r#"duration_s = 600
warmup_s = "auto""#)
            .unwrap()
            .warmup_auto
        );
        for (text, field) in [
            ("duration_s = 60\nwarmup_s = 60", "run.warmup_s"),
            ("seed = 3", "run"),
            ("messages = 0", "run.messages"),
            ("duration_s = 60\nreplications = 0", "run.replications"),
            ("duration_s = -1", "run.duration_s"),
            ("duration_s = 60\nload_scale = 0", "run.load_scale"),
        ] {
            assert_eq!(run(text).unwrap_err().field, field, "{text}");
        }
    }
}
