//! The seed's hybrid routing variants, written as ordinary route specs.
//!
//! Source: "Transport routing in Exchange 2013/Exchange 2007 hybrid deployments". The hop
//! sequences below follow its numbered steps; links (Internet, the TLS hybrid connector between
//! EOP and on-premises, the 2013↔2007 routing group connector) sit between hops where the seed
//! says mail crosses a network. Nothing here is special to the engine: a custom scenario could
//! write the same routes by hand.

use super::dist::Dist;
use super::network::Servers;
use super::topology::{HopSpec, LinkSpec, RouteEnd, RouteSpec, Step, TopologySpec};
use super::transport::{Availability, RetryPolicy};
use crate::engine::SimTime;

/// Where the MX record points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mx {
    /// Exchange Online Protection (the seed's recommended configuration).
    Eop,
    /// The on-premises organization (an Exchange 2007 Hub Transport server).
    Onprem,
}

/// One routing option: MX target × centralized mail transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    pub mx: Mx,
    pub centralized_mail_transport: bool,
}

impl Variant {
    pub const ALL: [Variant; 4] = [
        Variant {
            mx: Mx::Eop,
            centralized_mail_transport: false,
        },
        Variant {
            mx: Mx::Eop,
            centralized_mail_transport: true,
        },
        Variant {
            mx: Mx::Onprem,
            centralized_mail_transport: false,
        },
        Variant {
            mx: Mx::Onprem,
            centralized_mail_transport: true,
        },
    ];

    /// A name safe in CSV cells and file names, e.g. `mx-eop_cmt-off`.
    pub fn name(self) -> String {
        let mx = match self.mx {
            Mx::Eop => "eop",
            Mx::Onprem => "onprem",
        };
        let cmt = if self.centralized_mail_transport {
            "on"
        } else {
            "off"
        };
        format!("mx-{mx}_cmt-{cmt}")
    }
}

/// Hops every hybrid variant uses.
pub const HOPS: [&str; 8] = [
    "eop",
    "exo",
    "exo_mailbox",
    "cas2013",
    "hub2007",
    "mbx2007",
    "gc",
    "dns",
];
/// Hops that options add: an Edge Transport server and an SMTP-rewriting device.
pub const OPTIONAL_HOPS: [&str; 2] = ["edge", "appliance"];
/// Links every hybrid variant uses.
pub const LINKS: [&str; 4] = ["internet_in", "internet_out", "hybrid", "rgc"];
/// Recipient groups: where a recipient's mailbox is.
pub const GROUPS: [&str; 2] = ["onprem", "cloud"];
/// The sources of hybrid load and the routes they start on.
pub const SOURCES: [&str; 5] = [
    "inbound",
    "outbound_from_onprem",
    "outbound_from_cloud",
    "onprem_to_cloud",
    "cloud_to_onprem",
];
/// Flows, in report order.
pub const FLOWS: [&str; 6] = [
    "inbound_to_onprem",
    "inbound_to_cloud",
    "outbound_from_onprem",
    "outbound_from_cloud",
    "onprem_to_cloud",
    "cloud_to_onprem",
];

/// Traffic meters on route steps (see [`Step::Station`]): what crosses the hybrid connector in
/// each direction, and what uses the on-premises Internet link.
pub mod meters {
    pub const TO_CLOUD: u8 = 1;
    pub const TO_ONPREM: u8 = 2;
    pub const ONPREM_INTERNET_IN: u8 = 3;
    pub const ONPREM_INTERNET_OUT: u8 = 4;
    pub const COUNT: usize = 5;
    /// Meters whose traffic crosses the on-premises Internet connection.
    pub const ONPREM_INTERNET: [u8; 4] =
        [TO_CLOUD, TO_ONPREM, ONPREM_INTERNET_IN, ONPREM_INTERNET_OUT];
}

/// Spam filtering along the inbound routes (probabilities that a spam copy is caught).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpamFiltering {
    /// EOP's first pass when the MX points at it.
    pub eop: f64,
    /// On-premises anti-spam on the Hub that receives Internet mail (MX on-premises).
    pub onprem: f64,
    /// EOP/Exchange Online behind an on-premises MX, without connection filtering.
    pub eop_behind_onprem: f64,
}

/// An SMTP-rewriting device between on-premises and Office 365: cross-premises mail through it
/// loses its internal attribution and is processed as external where it arrives.
#[derive(Clone, Debug)]
pub struct Appliance {
    /// Extra processing (anti-spam, rules) at the receiving hop, in nanoseconds.
    pub external_processing: Dist,
    /// Probability that such a message is quarantined as a false positive.
    pub false_positive: f64,
}

/// What a hybrid scenario adds to the seed's routes.
#[derive(Clone, Debug)]
pub struct HybridOptions {
    pub spam: SpamFiltering,
    /// An Edge Transport server inside the on-premises side.
    pub edge: bool,
    pub appliance: Option<Appliance>,
}

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
        }
    }
}

fn deliver(flow: &str) -> RouteEnd {
    RouteEnd::Deliver(flow.into())
}

fn split(onprem: &str, cloud: &str) -> RouteEnd {
    RouteEnd::Split(vec![
        ("onprem".into(), onprem.into()),
        ("cloud".into(), cloud.into()),
    ])
}

/// Writes one route from the seed's step names, adding what the options ask for:
/// - `edge` on the on-premises side of every crossing to or from the Internet or EOP (as the
///   seed says, it changes routing only inside the on-premises organization);
/// - `appliance` between on-premises and the hybrid link;
/// - meters on hybrid-link visits (by direction) and on-premises Internet crossings;
/// - tokens `!spam_eop`, `!spam_onprem`, `!spam_behind` become spam filters;
/// - token `!external` marks the next hop as processing cross-premises mail as external when
///   an appliance strips its attribution (extra service, then a false-positive filter).
fn route(name: &str, tokens: &[&str], end: RouteEnd, o: &HybridOptions) -> RouteSpec {
    let onprem_side = |t: &str| matches!(t, "cas2013" | "hub2007" | "mbx2007" | "gc" | "edge");
    let mut steps: Vec<Step> = Vec::new();
    let mut external_next = false;
    for (i, &t) in tokens.iter().enumerate() {
        let next_station = tokens[i + 1..]
            .iter()
            .copied()
            .find(|x| !x.starts_with('!'))
            .unwrap_or("");
        let prev = steps
            .iter()
            .rev()
            .find_map(|s| s.station_name().map(str::to_string))
            .unwrap_or_default();
        match t {
            "!spam_eop" => steps.push(Step::Filter {
                spam_detection: o.spam.eop,
                false_positive: 0.0,
            }),
            "!spam_onprem" => steps.push(Step::Filter {
                spam_detection: o.spam.onprem,
                false_positive: 0.0,
            }),
            "!spam_behind" => steps.push(Step::Filter {
                spam_detection: o.spam.eop_behind_onprem,
                false_positive: 0.0,
            }),
            "!external" => external_next = o.appliance.is_some(),
            "hybrid" => {
                // On-premises → EOP: [edge] → [appliance] → link; the reverse on the way in.
                let to_cloud = next_station == "eop";
                let meter = if to_cloud {
                    meters::TO_CLOUD
                } else {
                    meters::TO_ONPREM
                };
                let mut around = Vec::new();
                if o.edge {
                    around.push(Step::visit("edge"));
                }
                if o.appliance.is_some() {
                    around.push(Step::visit("appliance"));
                }
                if to_cloud {
                    steps.extend(around);
                    steps.push(Step::Station {
                        name: t.into(),
                        extra_service: None,
                        meter,
                    });
                } else {
                    steps.push(Step::Station {
                        name: t.into(),
                        extra_service: None,
                        meter,
                    });
                    steps.extend(around.into_iter().rev());
                }
            }
            _ => {
                // The Edge relays between internal servers and the Internet: before DNS on the
                // way out; right after the Internet link on the way in (below).
                if o.edge && t == "dns" && onprem_side(&prev) {
                    steps.push(Step::visit("edge"));
                }
                let meter = match t {
                    "internet_in" if next_station == "hub2007" => meters::ONPREM_INTERNET_IN,
                    "internet_out" if onprem_side(&prev) || tokens.contains(&"hub2007") => {
                        meters::ONPREM_INTERNET_OUT
                    }
                    _ => 0,
                };
                let extra_service = if external_next {
                    o.appliance.as_ref().map(|a| a.external_processing.clone())
                } else {
                    None
                };
                steps.push(Step::Station {
                    name: t.into(),
                    extra_service,
                    meter,
                });
                if external_next {
                    let fp = o.appliance.as_ref().map_or(0.0, |a| a.false_positive);
                    steps.push(Step::Filter {
                        spam_detection: 0.0,
                        false_positive: fp,
                    });
                    external_next = false;
                }
                if o.edge && t == "internet_in" && next_station == "hub2007" {
                    steps.push(Step::visit("edge"));
                }
            }
        }
    }
    RouteSpec {
        name: name.into(),
        steps,
        end,
    }
}

/// The routes of `v`. Each source's route carries its name (see [`SOURCES`]).
pub fn routes(v: Variant, o: &HybridOptions) -> Vec<RouteSpec> {
    let mut r = Vec::new();
    // Inbound from the Internet: the seed's three inbound procedures.
    match (v.mx, v.centralized_mail_transport) {
        (Mx::Eop, false) => {
            // Steps 2–5: EOP (filtering spam first), then Exchange Online scans, looks up,
            // splits.
            r.push(route(
                "inbound",
                &["internet_in", "eop", "!spam_eop", "exo"],
                split("inbound_onprem_copy", "inbound_cloud_copy"),
                o,
            ));
            // Steps 6–8: back to EOP, over TLS to the 2013 server, through the RGC to 2007.
            r.push(route(
                "inbound_onprem_copy",
                &["eop", "hybrid", "cas2013", "rgc", "mbx2007"],
                deliver("inbound_to_onprem"),
                o,
            ));
            r.push(route(
                "inbound_cloud_copy",
                &["exo_mailbox"],
                deliver("inbound_to_cloud"),
                o,
            ));
        }
        (Mx::Eop, true) => {
            // Steps 2–5: EOP scans, hands both to the 2013 server, which looks up and splits.
            r.push(route(
                "inbound",
                &["internet_in", "eop", "!spam_eop", "hybrid", "cas2013"],
                split("inbound_onprem_copy", "inbound_cloud_copy"),
                o,
            ));
            r.push(route(
                "inbound_onprem_copy",
                &["rgc", "mbx2007"],
                deliver("inbound_to_onprem"),
                o,
            ));
            // Steps 6–8: back to EOP over TLS, then Exchange Online.
            r.push(route(
                "inbound_cloud_copy",
                &["hybrid", "eop", "exo", "exo_mailbox"],
                deliver("inbound_to_cloud"),
                o,
            ));
        }
        (Mx::Onprem, _) => {
            // Steps 2–4: a 2007 Hub receives all Internet mail, spam included, filters what it
            // can, looks recipients up in the global catalog and splits.
            r.push(route(
                "inbound",
                &["internet_in", "hub2007", "!spam_onprem", "gc"],
                split("inbound_onprem_copy", "inbound_cloud_copy"),
                o,
            ));
            r.push(route(
                "inbound_onprem_copy",
                &["mbx2007"],
                deliver("inbound_to_onprem"),
                o,
            ));
            // Steps 5–7: RGC to 2013, TLS send connector to EOP, Exchange Online scans for
            // viruses and content-based spam, delivers.
            r.push(route(
                "inbound_cloud_copy",
                &[
                    "rgc",
                    "cas2013",
                    "hybrid",
                    "eop",
                    "exo",
                    "!spam_behind",
                    "exo_mailbox",
                ],
                deliver("inbound_to_cloud"),
                o,
            ));
        }
    }
    // Outbound from on-premises: always straight out through the 2007 Hub and DNS.
    r.push(route(
        "outbound_from_onprem",
        &["mbx2007", "hub2007", "dns", "internet_out"],
        deliver("outbound_from_onprem"),
        o,
    ));
    // Outbound from Exchange Online: direct (CMT off) or hairpinned through on-premises.
    if v.centralized_mail_transport {
        r.push(route(
            "outbound_from_cloud",
            &[
                "exo",
                "eop",
                "hybrid",
                "cas2013",
                "rgc",
                "hub2007",
                "dns",
                "internet_out",
            ],
            deliver("outbound_from_cloud"),
            o,
        ));
    } else {
        r.push(route(
            "outbound_from_cloud",
            &["exo", "eop", "dns", "internet_out"],
            deliver("outbound_from_cloud"),
            o,
        ));
    }
    // Cross-premises mail rides the hybrid connectors in every variant: on-premises mail for a
    // cloud mailbox leaves through the 2013 server's TLS send connector to EOP; Exchange
    // Online's outbound connector sends on-premises-bound mail through EOP to the 2013 server.
    // A rewriting device makes the receiving side treat it as external.
    r.push(route(
        "onprem_to_cloud",
        &[
            "mbx2007",
            "hub2007",
            "rgc",
            "cas2013",
            "hybrid",
            "!external",
            "eop",
            "exo",
            "exo_mailbox",
        ],
        deliver("onprem_to_cloud"),
        o,
    ));
    r.push(route(
        "cloud_to_onprem",
        &[
            "exo",
            "eop",
            "hybrid",
            "!external",
            "cas2013",
            "rgc",
            "mbx2007",
        ],
        deliver("cloud_to_onprem"),
        o,
    ));
    r
}

/// The topology of `v` with the given hops and links (which must include `edge` and
/// `appliance` when the options use them).
pub fn topology(
    v: Variant,
    hops: &[HopSpec],
    links: &[LinkSpec],
    o: &HybridOptions,
) -> TopologySpec {
    let hops = hops
        .iter()
        .filter(|h| {
            (h.name != "edge" || o.edge) && (h.name != "appliance" || o.appliance.is_some())
        })
        .cloned()
        .collect();
    TopologySpec {
        hops,
        links: links.to_vec(),
        routes: routes(v, o),
        groups: GROUPS.iter().map(|g| g.to_string()).collect(),
    }
}

fn hop(
    name: &str,
    servers: Servers,
    service: Dist,
    per_kb_ms: f64,
    shadow_redundancy: bool,
) -> HopSpec {
    HopSpec {
        shadow_redundancy,
        ..HopSpec::new(name, servers, service.scaled(1e6), per_kb_ms * 1e6)
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
            "eop",
            Servers::Finite(400),
            lognormal_ms(150.0, 0.6),
            0.01,
            true,
        )),
        cloud(hop(
            "exo",
            Servers::Finite(400),
            lognormal_ms(200.0, 0.6),
            0.01,
            true,
        )),
        cloud(hop(
            "exo_mailbox",
            Servers::Finite(400),
            lognormal_ms(60.0, 0.5),
            0.005,
            true,
        )),
        // On-premises: the seed's single Exchange 2013 server (Client Access + Mailbox), one
        // 2007 Hub and one 2007 Mailbox server, each working 20 messages at a time
        // (MaxConcurrentMailboxSubmissions / Deliveries = 20, Set-TransportService).
        hop(
            "cas2013",
            Servers::Finite(20),
            lognormal_ms(250.0, 0.7),
            0.02,
            true,
        ),
        hop(
            "hub2007",
            Servers::Finite(20),
            lognormal_ms(200.0, 0.7),
            0.02,
            false,
        ),
        hop(
            "mbx2007",
            Servers::Finite(20),
            lognormal_ms(120.0, 0.6),
            0.01,
            false,
        ),
        // Global catalog LDAP look-ups: fast, few threads (assumption).
        hop("gc", Servers::Finite(8), lognormal_ms(4.0, 0.5), 0.0, false),
        // MX look-ups: a resolver, heavy-tailed (Jung et al. 2002); cached resolvers make the
        // tail lighter than those measurements (assumption).
        hop(
            "dns",
            Servers::Unlimited,
            lognormal_ms(20.0, 1.5),
            0.0,
            false,
        ),
        // Options. An Exchange 2013 Edge Transport server (assumption: like the Hub, lighter).
        hop(
            "edge",
            Servers::Finite(20),
            lognormal_ms(120.0, 0.6),
            0.01,
            true,
        ),
        // An SMTP-rewriting device (assumption: a fast relay).
        hop(
            "appliance",
            Servers::Finite(50),
            lognormal_ms(30.0, 0.5),
            0.005,
            false,
        ),
    ]
}

/// Default links. Latencies are assumptions built on ~8 round trips per SMTP+TLS delivery
/// (IETF 68 talk on SMTP latency) at an assumed RTT.
pub fn default_links() -> Vec<LinkSpec> {
    let l = |name: &str, latency: Dist, tls: Option<Dist>, bw: Option<f64>| LinkSpec {
        name: name.into(),
        latency: latency.scaled(1e6),
        tls_setup: tls.map(|d| d.scaled(1e6)),
        bandwidth_mbps: bw,
        max_connections: None,
        availability: Availability::default(),
    };
    vec![
        // Internet sender → MX host: 8 RTTs × 25 ms (assumed RTT).
        l("internet_in", lognormal_ms(200.0, 0.5), None, None),
        l("internet_out", lognormal_ms(200.0, 0.5), None, None),
        // EOP ↔ on-premises: SMTP round trips at 20 ms RTT, plus a TLS 1.2 handshake of 2 RTTs,
        // through a 100 Mbit/s Internet link (assumption).
        l(
            "hybrid",
            lognormal_ms(120.0, 0.4),
            Some(Dist::deterministic(40.0).expect("valid")),
            Some(100.0),
        ),
        // 2013 ↔ 2007 internal SMTP on a LAN (assumption).
        l("rgc", lognormal_ms(5.0, 0.5), None, None),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::topology::compile;

    fn hops_of(v: Variant, flow: &str) -> Vec<Vec<String>> {
        let net = compile(&topology(
            v,
            &default_hops(),
            &default_links(),
            &HybridOptions::default(),
        ))
        .unwrap();
        let mut out = Vec::new();
        for src in SOURCES {
            for p in net.paths(net.route_entry(src).unwrap()) {
                if p.flow == flow {
                    out.push(p.hops().iter().map(|s| s.to_string()).collect());
                }
            }
        }
        out
    }

    fn seq(s: &str) -> Vec<Vec<String>> {
        vec![s.split_whitespace().map(String::from).collect()]
    }

    /// Each variant's hop sequence is the seed's, as PRODUCT.md's route table gives it.
    #[test]
    fn hop_sequences_match_the_seed() {
        let [eop_off, eop_on, onprem_off, onprem_on] = Variant::ALL;
        assert_eq!(
            hops_of(eop_off, "inbound_to_cloud"),
            seq("eop exo exo_mailbox")
        );
        assert_eq!(
            hops_of(eop_off, "inbound_to_onprem"),
            seq("eop exo eop cas2013 mbx2007")
        );
        assert_eq!(
            hops_of(eop_on, "inbound_to_onprem"),
            seq("eop cas2013 mbx2007")
        );
        assert_eq!(
            hops_of(eop_on, "inbound_to_cloud"),
            seq("eop cas2013 eop exo exo_mailbox")
        );
        for v in [onprem_off, onprem_on] {
            assert_eq!(hops_of(v, "inbound_to_onprem"), seq("hub2007 gc mbx2007"));
            assert_eq!(
                hops_of(v, "inbound_to_cloud"),
                seq("hub2007 gc cas2013 eop exo exo_mailbox")
            );
        }
        for v in Variant::ALL {
            assert_eq!(
                hops_of(v, "outbound_from_onprem"),
                seq("mbx2007 hub2007 dns")
            );
            let cloud_out = if v.centralized_mail_transport {
                "exo eop cas2013 hub2007 dns"
            } else {
                "exo eop dns"
            };
            assert_eq!(hops_of(v, "outbound_from_cloud"), seq(cloud_out));
            assert_eq!(
                hops_of(v, "onprem_to_cloud"),
                seq("mbx2007 hub2007 cas2013 eop exo exo_mailbox")
            );
            assert_eq!(
                hops_of(v, "cloud_to_onprem"),
                seq("exo eop cas2013 mbx2007")
            );
        }
    }

    #[test]
    fn flows_are_in_report_order_in_every_variant() {
        for v in Variant::ALL {
            let net = compile(&topology(
                v,
                &default_hops(),
                &default_links(),
                &HybridOptions::default(),
            ))
            .unwrap();
            assert_eq!(net.flows, FLOWS.map(String::from).to_vec(), "{}", v.name());
        }
    }

    #[test]
    fn eop_is_one_station_even_when_visited_twice() {
        let net = compile(&topology(
            Variant::ALL[0],
            &default_hops(),
            &default_links(),
            &HybridOptions::default(),
        ))
        .unwrap();
        assert_eq!(net.stations.iter().filter(|s| s.name == "eop").count(), 1);
    }

    fn hops_with(v: Variant, o: &HybridOptions, flow: &str) -> Vec<String> {
        let net = compile(&topology(v, &default_hops(), &default_links(), o)).unwrap();
        for src in SOURCES {
            for p in net.paths(net.route_entry(src).unwrap()) {
                if p.flow == flow {
                    return p.hops().iter().map(|s| s.to_string()).collect();
                }
            }
        }
        panic!("no flow {flow}")
    }

    /// The Edge changes routing only inside the on-premises organization: it sits on the
    /// on-premises side of every crossing to the Internet or EOP, and cloud-only paths are
    /// untouched.
    #[test]
    fn edge_sits_inside_the_onprem_side_only() {
        let o = HybridOptions {
            edge: true,
            ..HybridOptions::default()
        };
        let [eop_off, eop_on, onprem_off, _] = Variant::ALL;
        let s = |x: &str| x.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(
            hops_with(onprem_off, &o, "inbound_to_onprem"),
            s("edge hub2007 gc mbx2007")
        );
        assert_eq!(
            hops_with(eop_off, &o, "outbound_from_onprem"),
            s("mbx2007 hub2007 edge dns")
        );
        assert_eq!(
            hops_with(eop_off, &o, "onprem_to_cloud"),
            s("mbx2007 hub2007 cas2013 edge eop exo exo_mailbox")
        );
        assert_eq!(
            hops_with(eop_off, &o, "cloud_to_onprem"),
            s("exo eop edge cas2013 mbx2007")
        );
        assert_eq!(
            hops_with(eop_on, &o, "inbound_to_cloud"),
            s("eop edge cas2013 edge eop exo exo_mailbox")
        );
        assert_eq!(
            hops_with(eop_off, &o, "inbound_to_cloud"),
            s("eop exo exo_mailbox")
        );
        assert_eq!(
            hops_with(eop_off, &o, "outbound_from_cloud"),
            s("exo eop dns")
        );
    }

    #[test]
    fn appliance_sits_between_onprem_and_eop_and_marks_cross_premises_mail() {
        let appliance = Appliance {
            external_processing: Dist::deterministic(1e8).unwrap(),
            false_positive: 0.01,
        };
        let o = HybridOptions {
            appliance: Some(appliance),
            edge: true,
            ..HybridOptions::default()
        };
        let [eop_off, ..] = Variant::ALL;
        let s = |x: &str| x.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(
            hops_with(eop_off, &o, "cloud_to_onprem"),
            s("exo eop appliance edge cas2013 mbx2007")
        );
        assert_eq!(
            hops_with(eop_off, &o, "onprem_to_cloud"),
            s("mbx2007 hub2007 cas2013 edge appliance eop exo exo_mailbox")
        );
        let net = compile(&topology(eop_off, &default_hops(), &default_links(), &o)).unwrap();
        // Quarantine filters only on the two cross-premises routes.
        let with_fp: Vec<&str> = SOURCES
            .iter()
            .filter(|src| {
                net.paths(net.route_entry(src).unwrap()).iter().any(|p| {
                    p.steps
                        .iter()
                        .any(|(k, n)| k == "filter" && n.ends_with("false positives 0.01"))
                })
            })
            .copied()
            .collect();
        assert_eq!(with_fp, ["onprem_to_cloud", "cloud_to_onprem"]);
    }
}
