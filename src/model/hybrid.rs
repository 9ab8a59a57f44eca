//! The seed's hybrid routing variants, written as ordinary route specs.
//!
//! Source: "Transport routing in Exchange 2013/Exchange 2007 hybrid deployments". The hop
//! sequences below follow its numbered steps; links (Internet, the TLS hybrid connector between
//! EOP and on-premises, the 2013↔2007 routing group connector) sit between hops where the seed
//! says mail crosses a network. Nothing here is special to the engine: a custom scenario could
//! write the same routes by hand.

use super::dist::Dist;
use super::network::Servers;
use super::topology::{HopSpec, LinkSpec, RouteEnd, RouteSpec, TopologySpec};

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

fn route(name: &str, steps: &[&str], end: RouteEnd) -> RouteSpec {
    RouteSpec {
        name: name.into(),
        steps: steps.iter().map(|s| s.to_string()).collect(),
        end,
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

/// The routes of `v`. Each source's route carries its name (see [`SOURCES`]).
pub fn routes(v: Variant) -> Vec<RouteSpec> {
    let mut r = Vec::new();
    // Inbound from the Internet: the seed's three inbound procedures.
    match (v.mx, v.centralized_mail_transport) {
        (Mx::Eop, false) => {
            // Steps 2–5: EOP, then Exchange Online scans, looks up and splits.
            r.push(route(
                "inbound",
                &["internet_in", "eop", "exo"],
                split("inbound_onprem_copy", "inbound_cloud_copy"),
            ));
            // Steps 6–8: back to EOP, over TLS to the 2013 server, through the RGC to 2007.
            r.push(route(
                "inbound_onprem_copy",
                &["eop", "hybrid", "cas2013", "rgc", "mbx2007"],
                deliver("inbound_to_onprem"),
            ));
            r.push(route(
                "inbound_cloud_copy",
                &["exo_mailbox"],
                deliver("inbound_to_cloud"),
            ));
        }
        (Mx::Eop, true) => {
            // Steps 2–5: EOP scans, hands both to the 2013 server, which looks up and splits.
            r.push(route(
                "inbound",
                &["internet_in", "eop", "hybrid", "cas2013"],
                split("inbound_onprem_copy", "inbound_cloud_copy"),
            ));
            r.push(route(
                "inbound_onprem_copy",
                &["rgc", "mbx2007"],
                deliver("inbound_to_onprem"),
            ));
            // Steps 6–8: back to EOP over TLS, then Exchange Online.
            r.push(route(
                "inbound_cloud_copy",
                &["hybrid", "eop", "exo", "exo_mailbox"],
                deliver("inbound_to_cloud"),
            ));
        }
        (Mx::Onprem, _) => {
            // Steps 2–4: a 2007 Hub receives, looks recipients up in the global catalog, splits.
            r.push(route(
                "inbound",
                &["internet_in", "hub2007", "gc"],
                split("inbound_onprem_copy", "inbound_cloud_copy"),
            ));
            r.push(route(
                "inbound_onprem_copy",
                &["mbx2007"],
                deliver("inbound_to_onprem"),
            ));
            // Steps 5–7: RGC to 2013, TLS send connector to EOP, Exchange Online scans, delivers.
            r.push(route(
                "inbound_cloud_copy",
                &["rgc", "cas2013", "hybrid", "eop", "exo", "exo_mailbox"],
                deliver("inbound_to_cloud"),
            ));
        }
    }
    // Outbound from on-premises: always straight out through the 2007 Hub and DNS.
    r.push(route(
        "outbound_from_onprem",
        &["mbx2007", "hub2007", "dns", "internet_out"],
        deliver("outbound_from_onprem"),
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
        ));
    } else {
        r.push(route(
            "outbound_from_cloud",
            &["exo", "eop", "dns", "internet_out"],
            deliver("outbound_from_cloud"),
        ));
    }
    // Cross-premises mail rides the hybrid connectors in every variant: on-premises mail for a
    // cloud mailbox leaves through the 2013 server's TLS send connector to EOP; Exchange
    // Online's outbound connector sends on-premises-bound mail through EOP to the 2013 server.
    r.push(route(
        "onprem_to_cloud",
        &[
            "mbx2007",
            "hub2007",
            "rgc",
            "cas2013",
            "hybrid",
            "eop",
            "exo",
            "exo_mailbox",
        ],
        deliver("onprem_to_cloud"),
    ));
    r.push(route(
        "cloud_to_onprem",
        &["exo", "eop", "hybrid", "cas2013", "rgc", "mbx2007"],
        deliver("cloud_to_onprem"),
    ));
    r
}

/// The topology of `v` with the given hops and links.
pub fn topology(v: Variant, hops: &[HopSpec], links: &[LinkSpec]) -> TopologySpec {
    TopologySpec {
        hops: hops.to_vec(),
        links: links.to_vec(),
        routes: routes(v),
        groups: GROUPS.iter().map(|g| g.to_string()).collect(),
    }
}

fn ms(v: f64) -> f64 {
    v * 1e6
}

fn hop(name: &str, servers: Servers, service: Dist, per_kb_ms: f64) -> HopSpec {
    HopSpec {
        name: name.into(),
        servers,
        service: service.scaled(1e6),
        per_kb_ns: ms(per_kb_ms),
    }
}

fn lognormal_ms(median: f64, sigma: f64) -> Dist {
    Dist::lognormal(median, sigma).expect("default parameters are valid")
}

/// Default hops, used for any hop a hybrid scenario does not define. Service times and server
/// counts are assumptions (no figures are published); `scenarios/hybrid-routing.toml` repeats
/// each with its reasoning.
pub fn default_hops() -> Vec<HopSpec> {
    vec![
        // EOP and Exchange Online are multi-tenant services: capacity is effectively
        // unconstrained for one tenant (assumption), so many servers; service times assumed.
        hop("eop", Servers::Finite(400), lognormal_ms(150.0, 0.6), 0.01),
        hop("exo", Servers::Finite(400), lognormal_ms(200.0, 0.6), 0.01),
        hop(
            "exo_mailbox",
            Servers::Finite(400),
            lognormal_ms(60.0, 0.5),
            0.005,
        ),
        // On-premises: the seed's single Exchange 2013 server (Client Access + Mailbox), one
        // 2007 Hub and one 2007 Mailbox server, each working 20 messages at a time
        // (MaxConcurrentMailboxSubmissions / Deliveries = 20, Set-TransportService).
        hop(
            "cas2013",
            Servers::Finite(20),
            lognormal_ms(250.0, 0.7),
            0.02,
        ),
        hop(
            "hub2007",
            Servers::Finite(20),
            lognormal_ms(200.0, 0.7),
            0.02,
        ),
        hop(
            "mbx2007",
            Servers::Finite(20),
            lognormal_ms(120.0, 0.6),
            0.01,
        ),
        // Global catalog LDAP look-ups: fast, few threads (assumption).
        hop("gc", Servers::Finite(8), lognormal_ms(4.0, 0.5), 0.0),
        // MX look-ups: a resolver, heavy-tailed (Jung et al. 2002); cached resolvers make the
        // tail lighter than those measurements (assumption).
        hop("dns", Servers::Unlimited, lognormal_ms(20.0, 1.5), 0.0),
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
        let net = compile(&topology(v, &default_hops(), &default_links())).unwrap();
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
            let net = compile(&topology(v, &default_hops(), &default_links())).unwrap();
            assert_eq!(net.flows, FLOWS.map(String::from).to_vec(), "{}", v.name());
        }
    }

    #[test]
    fn eop_is_one_station_even_when_visited_twice() {
        let net = compile(&topology(
            Variant::ALL[0],
            &default_hops(),
            &default_links(),
        ))
        .unwrap();
        assert_eq!(net.stations.iter().filter(|s| s.name == "eop").count(), 1);
    }
}
