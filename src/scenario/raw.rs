//! Stage one: serde structs that mirror the scenario file, unknown fields refused.
//!
//! Nothing here is checked beyond types; [`super::validate`] turns these into a model the
//! simulation can trust. Field names carry their units (`_ms`, `_s`, `_kb`, `_per_s`).

use std::fmt;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<String>,
    pub description: Option<String>,
    pub run: RawRun,
    pub transport: Option<RawRetry>,
    pub hybrid: Option<RawHybrid>,
    pub load: Option<RawLoad>,
    #[serde(default)]
    pub hops: IndexMap<String, RawHop>,
    #[serde(default)]
    pub links: IndexMap<String, RawLink>,
    #[serde(default)]
    pub routes: IndexMap<String, RawRoute>,
    #[serde(default)]
    pub sources: IndexMap<String, RawSource>,
    /// Recipient groups a custom topology's splits tell apart.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Replay recorded arrivals instead of generating them.
    pub trace: Option<RawTrace>,
    /// How `mailflow calibrate` reads this organization's logs; `run` ignores it.
    pub calibrate: Option<RawCalibrate>,
}

/// `[calibrate]`: server → hop, connector → role, accepted domains.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalibrate {
    /// Server name pattern (`*` wildcards) → hop of the scenario.
    #[serde(default)]
    pub servers: IndexMap<String, String>,
    /// Connector name pattern → role (`to_cloud`, `frontend`, `internet`, …).
    #[serde(default)]
    pub connectors: IndexMap<String, String>,
    #[serde(default)]
    pub accepted_domains: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrace {
    /// CSV file, relative to the scenario file's directory.
    pub file: String,
}

/// How the arrival rate varies over the day and week, and bursts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShape {
    pub hourly_weights: Option<Vec<f64>>,
    pub weekday_factor: Option<f64>,
    pub weekend_factor: Option<f64>,
    pub start_day: Option<String>,
    pub start_hour: Option<f64>,
    #[serde(default)]
    pub bursts: Vec<RawBurst>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBurst {
    pub start_s: f64,
    pub duration_s: f64,
    pub multiplier: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub duration_s: Option<f64>,
    pub messages: Option<u64>,
    /// Seconds, or `"auto"` (chosen by a pilot run and MSER-5; see `runner::resolve_warmup`).
    #[serde(default, deserialize_with = "warmup_seconds_or_auto")]
    pub warmup_s: Option<RawWarmup>,
    pub seed: Option<u64>,
    pub replications: Option<u32>,
    /// Multiplies every source's arrival rate.
    pub load_scale: Option<f64>,
}

/// Retry and expiry settings (Exchange's Set-TransportService names, in seconds).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub transient_retry_count: Option<i64>,
    pub transient_retry_interval_s: Option<f64>,
    pub message_retry_interval_s: Option<f64>,
    pub expiration_timeout_s: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutage {
    pub start_s: f64,
    pub duration_s: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailures {
    pub mtbf_s: f64,
    pub mttr_s: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHybrid {
    pub variants: Option<Vec<RawVariant>>,
    /// Adds an Edge Transport server (hop `edge`).
    pub edge: Option<bool>,
    /// Adds an SMTP-rewriting device (hop `appliance`) between on-premises and EOP.
    pub appliance: Option<RawAppliance>,
    pub spam_detection: Option<RawSpamDetection>,
    /// Per-visit work of a hop's roles: `[hybrid.work.<hop>]`.
    pub work: Option<IndexMap<String, RawHopWork>>,
    /// One global-catalog round trip, paid per recipient by on-premises look-ups.
    pub gc_round_trip_ms: Option<RawDist>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHopWork {
    pub filter_ms: Option<RawDist>,
    pub scan_ms: Option<RawDist>,
    pub relay_ms: Option<RawDist>,
    pub deliver_ms: Option<RawDist>,
    /// Per recipient of a look-up at this hop.
    pub lookup_ms: Option<RawDist>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAppliance {
    pub false_positive: f64,
    pub external_processing_ms: RawDist,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpamDetection {
    pub eop: Option<f64>,
    pub onprem: Option<f64>,
    pub eop_behind_onprem: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    pub mx: RawMx,
    pub centralized_mail_transport: bool,
    /// Overrides `[hybrid] edge` for this variant.
    pub edge: Option<bool>,
    /// Overrides whether this variant has the `[hybrid.appliance]` device.
    pub appliance: Option<bool>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawMx {
    Eop,
    Onprem,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    pub mailboxes: Option<RawMailboxes>,
    pub sent_per_mailbox_per_day: Option<f64>,
    pub received_per_mailbox_per_day: Option<f64>,
    pub internet_share_of_received: Option<f64>,
    pub internet_share_of_sent: Option<f64>,
    pub peak_factor: Option<f64>,
    pub onprem_recipient_share: Option<f64>,
    pub recipients: Option<RawRecipients>,
    pub size_kb: Option<RawDist>,
    pub rates_per_s: Option<IndexMap<String, f64>>,
    /// Share of inbound Internet messages that are spam.
    pub spam_share: Option<f64>,
    pub shape: Option<RawShape>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMailboxes {
    pub onprem: f64,
    pub cloud: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHop {
    pub servers: RawServers,
    pub service_ms: RawDist,
    pub per_kb_ms: Option<f64>,
    pub queue_limit: Option<RawQueueLimit>,
    pub queue_limit_external: Option<i64>,
    /// What a full queue answers: "defer" (4xx, the default) or "reject" (5xx).
    pub when_full: Option<RawWhenFull>,
    pub shadow_redundancy: Option<bool>,
    /// Hold refused senders before the 4xx, as Exchange 2013 back pressure does.
    pub tarpit: Option<bool>,
    pub outages: Option<Vec<RawOutage>>,
    pub failures: Option<RawFailures>,
    pub retry: Option<RawRetry>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawDuplex {
    Full,
    Half,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawWhenFull {
    Defer,
    Reject,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub latency_ms: RawDist,
    pub tls_setup_ms: Option<RawDist>,
    pub bandwidth_mbps: Option<f64>,
    pub max_connections: Option<i64>,
    /// "full": each direction has its own bandwidth (the hybrid link's default); "half": one
    /// bandwidth for both.
    pub duplex: Option<RawDuplex>,
    pub outages: Option<Vec<RawOutage>>,
    pub failures: Option<RawFailures>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    #[serde(default)]
    pub steps: Vec<RawStep>,
    pub deliver: Option<String>,
    pub next: Option<Vec<RawBranch>>,
    pub split: Option<IndexMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBranch {
    pub p: f64,
    pub route: Option<String>,
    pub deliver: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub rate_per_s: Option<f64>,
    pub route: String,
    pub recipients: Option<RawRecipients>,
    pub groups: Option<IndexMap<String, f64>>,
    pub size_kb: Option<RawDist>,
    pub spam_share: Option<f64>,
    pub shape: Option<RawShape>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecipients {
    pub counts: Vec<u32>,
    pub weights: Vec<f64>,
}

/// A distribution; values are in the unit of the field that holds it (`service_ms`, …).
#[derive(Debug, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawDist {
    Exponential {
        mean: Option<f64>,
        rate_per_s: Option<f64>,
    },
    Lognormal {
        median: f64,
        sigma: f64,
    },
    Gamma {
        shape: f64,
        mean: f64,
    },
    Deterministic {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Empirical {
        samples: Vec<f64>,
    },
}

/// A route step: a hop or link name, or a table — `{ hop = "x", extra_service_ms = … }` (a
/// visit with extra work) or `{ spam_detection = 0.9, false_positive = 0.001 }` (a filter).
#[derive(Debug)]
pub enum RawStep {
    Name(String),
    Table(RawStepTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStepTable {
    pub hop: Option<String>,
    /// This visit's service time instead of the hop's.
    pub service_ms: Option<RawDist>,
    pub extra_service_ms: Option<RawDist>,
    /// Added once per recipient the copy carries (a look-up).
    pub per_recipient_ms: Option<RawDist>,
    pub spam_detection: Option<f64>,
    pub false_positive: Option<f64>,
}

impl<'de> Deserialize<'de> for RawStep {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawStep;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a hop or link name, or a table with `hop` or with `spam_detection`/`false_positive`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawStep, E> {
                Ok(RawStep::Name(v.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawStep, A::Error> {
                RawStepTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawStep::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// `queue_limit = 5000` or `queue_limit = "exchange2013"` (the submission-queue back-pressure
/// preset).
#[derive(Clone, Debug, PartialEq)]
pub enum RawQueueLimit {
    Count(i64),
    Preset(String),
}

impl<'de> Deserialize<'de> for RawQueueLimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawQueueLimit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number of messages or \"exchange2013\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawQueueLimit, E> {
                Ok(RawQueueLimit::Count(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawQueueLimit, E> {
                Ok(RawQueueLimit::Count(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawQueueLimit, E> {
                Ok(RawQueueLimit::Preset(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `servers = 4` or `servers = "unlimited"`. Sign and size are checked in stage two, so that
/// the error can say what is accepted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RawServers {
    Count(i64),
    Unlimited,
}

impl<'de> Deserialize<'de> for RawServers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawServers;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number of servers (1 or more) or \"unlimited\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawServers, E> {
                Ok(RawServers::Count(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawServers, E> {
                Ok(RawServers::Count(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawServers, E> {
                if v == "unlimited" {
                    Ok(RawServers::Unlimited)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct T {
        d: RawDist,
        s: RawServers,
    }

    #[test]
    fn dist_and_servers_parse() {
        let t: T = toml::from_str("d = { dist = \"lognormal\", median = 2.0, sigma = 0.5 }\ns = 4")
            .unwrap();
        assert!(matches!(t.d, RawDist::Lognormal { .. }));
        assert_eq!(t.s, RawServers::Count(4));
        let t: T = toml::from_str("d = { dist = \"deterministic\", value = 1 }\ns = \"unlimited\"")
            .unwrap();
        assert_eq!(t.s, RawServers::Unlimited);
    }

    #[test]
    fn unknown_dist_field_is_refused() {
        let e = toml::from_str::<T>("d = { dist = \"deterministic\", value = 1, oops = 2 }\ns = 1")
            .unwrap_err();
        assert!(e.message().contains("oops"), "{}", e.message());
        let e = toml::from_str::<T>("d = { dist = \"weibull\" }\ns = 1").unwrap_err();
        assert!(e.message().contains("lognormal"), "{}", e.message());
        let e = toml::from_str::<T>("d = { dist = \"deterministic\", value = 1 }\ns = \"many\"")
            .unwrap_err();
        assert!(e.message().contains("unlimited"), "{}", e.message());
    }
}

/// `run.warmup_s`: seconds, or the word `auto`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RawWarmup {
    Seconds(f64),
    Auto,
}

fn warmup_seconds_or_auto<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<RawWarmup>, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Option<RawWarmup>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a number of seconds or \"auto\"")
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(RawWarmup::Seconds(v)))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(RawWarmup::Seconds(v as f64)))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(RawWarmup::Seconds(v as f64)))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if v == "auto" {
                Ok(Some(RawWarmup::Auto))
            } else {
                Err(E::custom(format!(
                    "expected a number of seconds or \"auto\", found \"{v}\""
                )))
            }
        }
    }
    d.deserialize_any(V)
}
