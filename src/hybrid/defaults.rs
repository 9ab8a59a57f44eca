//! Default hops, links, retry and options of a hybrid scenario: what a scenario gets for
//! anything it does not define. Service times and server counts are assumptions (no figures
//! are published); `scenarios/hybrid-routing.toml` repeats each with its reasoning.

use super::hops::{Hop, Link};
use super::work::WorkTable;
use super::{HybridOptions, SpamFiltering};
use crate::engine::SimTime;
use crate::model::dist::Dist;
use crate::model::network::Servers;
use crate::model::topology::{HopSpec, LinkSpec};
use crate::model::transport::{Availability, RetryPolicy};

/// The Exchange 2013 submission-queue back-pressure thresholds: at Medium (4000) MAIL FROM is
/// refused for non-Exchange senders, at High (10 000) for everyone (back pressure, [ODE]).
/// The scenario schema's `queue_limit = "exchange2013"` preset.
pub const EXCHANGE2013_QUEUE_LIMITS: (u32, u32) = (4000, 10_000);

impl Default for HybridOptions {
    fn default() -> Self {
        HybridOptions {
            // Assumptions: EOP's edge filtering catches nearly all spam; on-premises agents
            // less; EOP behind an on-premises MX cannot use connection filtering and catches
            // only what content filtering finds ("EOP will not be able to effectively scan").
            spam: SpamFiltering {
                eop: 0.98,
                onprem: 0.85,
                eop_behind_onprem: 0.5,
            },
            edge: false,
            appliance: None,
            work: default_work(),
        }
    }
}

/// Default per-visit work of the hops' roles (ns). A role not listed costs the hop's
/// `service_ms`. Every figure is an assumption (none is published); each says what it rests on.
pub fn default_work() -> WorkTable {
    let ms = |median: f64, sigma: f64| lognormal_ms(median, sigma).scaled(1e6);
    let mut w = WorkTable {
        hops: Vec::new(),
        // One LDAP query to a global catalog on the LAN (assumption; the former `gc` hop's
        // service time).
        gc_round_trip: ms(4.0, 0.5),
    };
    // EOP: `service_ms` is its first pass (connection, spam and malware filtering); a relay
    // pass of attributed mail skips connection filtering (assumption: a quarter of it).
    w.of_mut(Hop::Eop).relay = Some(ms(40.0, 0.5));
    // Exchange Online: `service_ms` is a virus scan; delivering a copy EOP already scanned
    // (CMT on) is a relay (assumption: under a third of it); a directory look-up per
    // recipient (assumption).
    w.of_mut(Hop::Exo).relay = Some(ms(60.0, 0.5));
    w.of_mut(Hop::Exo).lookup = Some(ms(2.0, 0.5));
    // The 2007 Hub: `service_ms` is categorization and hand-off; anti-spam agents on Internet
    // mail (MX on-premises) add half again (assumption); categorizer work per recipient
    // besides the global-catalog round trip (assumption).
    w.of_mut(Hop::Hub2007).filter = Some(ms(300.0, 0.7));
    w.of_mut(Hop::Hub2007).lookup = Some(ms(1.0, 0.5));
    // The 2013 server: `service_ms` for every role (categorizer, rules, anti-malware); a
    // look-up's categorizer work per recipient as the Hub's (assumption).
    w.of_mut(Hop::Cas2013).lookup = Some(ms(1.0, 0.5));
    // The 2007 Mailbox server: `service_ms` is delivery; a submission to the Hub is half of
    // it (assumption).
    w.of_mut(Hop::Mbx2007).relay = Some(ms(60.0, 0.6));
    w
}

fn hop(
    h: Hop,
    servers: Servers,
    service: Dist,
    per_kb_ms: f64,
    shadow_redundancy: bool,
) -> HopSpec {
    HopSpec {
        shadow_redundancy,
        ..HopSpec::new(h.name(), servers, service.scaled(1e6), per_kb_ms * 1e6)
    }
}

fn lognormal_ms(median: f64, sigma: f64) -> Dist {
    Dist::lognormal(median, sigma).expect("default parameters are valid")
}

/// Exchange Online retries a queued on-premises connector for 24 hours, then returns an NDR
/// (queued messages report); other retry settings as Exchange 2013's.
pub fn exchange_online_retry() -> RetryPolicy {
    RetryPolicy {
        expiration_timeout: SimTime::from_secs_f64(86_400.0),
        ..RetryPolicy::default()
    }
}

/// Default hops, used for any hop a hybrid scenario does not define. Service times and server
/// counts are assumptions (no figures are published); `scenarios/hybrid-routing.toml` repeats
/// each with its reasoning. Shadow redundancy exists in Exchange 2013 and later (and in the
/// cloud services), not in Exchange 2007.
pub fn default_hops() -> Vec<HopSpec> {
    let cloud = |h: HopSpec| HopSpec {
        retry: Some(exchange_online_retry()),
        ..h
    };
    vec![
        // EOP and Exchange Online are multi-tenant services: capacity is effectively
        // unconstrained for one tenant (assumption), so many servers; service times assumed.
        cloud(hop(
            Hop::Eop,
            Servers::Finite(400),
            lognormal_ms(150.0, 0.6),
            0.01,
            true,
        )),
        cloud(hop(
            Hop::Exo,
            Servers::Finite(400),
            lognormal_ms(200.0, 0.6),
            0.01,
            true,
        )),
        cloud(hop(
            Hop::ExoMailbox,
            Servers::Finite(400),
            lognormal_ms(60.0, 0.5),
            0.005,
            true,
        )),
        // On-premises: the seed's single Exchange 2013 server (Client Access + Mailbox), one
        // 2007 Hub and one 2007 Mailbox server, each working 20 messages at a time
        // (MaxConcurrentMailboxSubmissions / Deliveries = 20, Set-TransportService).
        hop(
            Hop::Cas2013,
            Servers::Finite(20),
            lognormal_ms(250.0, 0.7),
            0.02,
            true,
        ),
        hop(
            Hop::Hub2007,
            Servers::Finite(20),
            lognormal_ms(200.0, 0.7),
            0.02,
            false,
        ),
        hop(
            Hop::Mbx2007,
            Servers::Finite(20),
            lognormal_ms(120.0, 0.6),
            0.01,
            false,
        ),
        // MX look-ups: a resolver, heavy-tailed (Jung et al. 2002); cached resolvers make the
        // tail lighter than those measurements (assumption).
        hop(
            Hop::Dns,
            Servers::Unlimited,
            lognormal_ms(20.0, 1.5),
            0.0,
            false,
        ),
        // Options. An Exchange 2013 Edge Transport server (assumption: like the Hub, lighter).
        hop(
            Hop::Edge,
            Servers::Finite(20),
            lognormal_ms(120.0, 0.6),
            0.01,
            true,
        ),
        // An SMTP-rewriting device (assumption: a fast relay).
        hop(
            Hop::Appliance,
            Servers::Finite(50),
            lognormal_ms(30.0, 0.5),
            0.005,
            false,
        ),
    ]
}

/// The hybrid link's two directions (full duplex: a TLS SMTP connection pair, one each way).
pub fn hybrid_directions() -> Vec<String> {
    super::Direction::ALL
        .iter()
        .map(|d| d.name().into())
        .collect()
}

/// Default links. Latencies are assumptions built on ~8 round trips per SMTP+TLS delivery
/// (IETF 68 talk on SMTP latency) at an assumed RTT.
pub fn default_links() -> Vec<LinkSpec> {
    let l = |link: Link, latency: Dist, tls: Option<Dist>, bw: Option<f64>| LinkSpec {
        name: link.name().into(),
        latency: latency.scaled(1e6),
        tls_setup: tls.map(|d| d.scaled(1e6)),
        bandwidth_mbps: bw,
        max_connections: None,
        availability: Availability::default(),
        directions: if link == Link::Hybrid {
            hybrid_directions()
        } else {
            Vec::new()
        },
    };
    vec![
        // Internet sender → MX host: 8 RTTs × 25 ms (assumed RTT).
        l(Link::InternetIn, lognormal_ms(200.0, 0.5), None, None),
        l(Link::InternetOut, lognormal_ms(200.0, 0.5), None, None),
        // EOP ↔ on-premises: SMTP round trips at 20 ms RTT, plus a TLS 1.2 handshake of 2 RTTs,
        // through a 100 Mbit/s Internet link (assumption), full duplex: 100 Mbit/s each way.
        l(
            Link::Hybrid,
            lognormal_ms(120.0, 0.4),
            Some(Dist::deterministic(40.0).expect("valid")),
            Some(100.0),
        ),
        // 2013 ↔ 2007 internal SMTP on a LAN (assumption).
        l(Link::Rgc, lognormal_ms(5.0, 0.5), None, None),
    ]
}
