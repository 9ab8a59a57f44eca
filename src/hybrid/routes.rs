//! The seed's hybrid routes per variant, written as typed steps and compiled to ordinary
//! route specs.
//!
//! Source: "Transport routing in Exchange 2013/Exchange 2007 hybrid deployments". The hop
//! sequences below follow its numbered steps; links (Internet, the TLS hybrid connector between
//! EOP and on-premises, the 2013↔2007 routing group connector) sit between hops where the seed
//! says mail crosses a network. A route change is an edit of one of the typed lists in
//! [`routes`]. Nothing here is special to the engine: a custom scenario could write the same
//! routes by hand.

use super::costs::Meter;
use super::hops::{Hop, Link, Side};
use super::{GROUPS, HybridOptions, Mx, Variant};
use crate::model::topology::{HopSpec, LinkSpec, RouteEnd, RouteSpec, Step, TopologySpec};

/// One step of a seed route, before the options (Edge, rewriting device) are woven in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seed {
    /// A visit to a hop.
    At(Hop),
    /// A crossing of a link.
    Over(Link),
    /// A spam filter.
    Spam(SpamPass),
    /// The next station processes cross-premises mail as external when a rewriting device
    /// strips its attribution (extra service, then a false-positive filter).
    External,
}

/// Which spam filtering a [`Seed::Spam`] step applies (probabilities in
/// [`super::SpamFiltering`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpamPass {
    /// EOP's first pass when the MX points at it.
    EopFirstPass,
    /// On-premises anti-spam on the Hub that receives Internet mail (MX on-premises).
    Onprem,
    /// EOP/Exchange Online behind an on-premises MX.
    EopBehindOnprem,
}

/// A station step of a seed route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Station {
    Hop(Hop),
    Link(Link),
}

impl Station {
    fn name(self) -> &'static str {
        match self {
            Station::Hop(h) => h.name(),
            Station::Link(l) => l.name(),
        }
    }

    fn is_onprem(self) -> bool {
        matches!(self, Station::Hop(h) if h.side() == Side::Onprem)
    }
}

impl Seed {
    fn station(self) -> Option<Station> {
        match self {
            Seed::At(h) => Some(Station::Hop(h)),
            Seed::Over(l) => Some(Station::Link(l)),
            Seed::Spam(_) | Seed::External => None,
        }
    }
}

fn visit(h: Hop) -> Step {
    Step::visit(h.name())
}

fn station_step(s: Station, meter: Option<Meter>, extra: Option<crate::model::dist::Dist>) -> Step {
    Step::Station {
        name: s.name().into(),
        extra_service: extra,
        meter: meter.map(Meter::id),
    }
}

fn deliver(flow: &str) -> RouteEnd {
    RouteEnd::Deliver(flow.into())
}

fn split(onprem: &str, cloud: &str) -> RouteEnd {
    RouteEnd::Split(vec![
        (GROUPS[0].into(), onprem.into()),
        (GROUPS[1].into(), cloud.into()),
    ])
}

/// Writes one route from the seed's steps, adding what the options ask for:
/// - `edge` on the on-premises side of every crossing to or from the Internet or EOP (as the
///   seed says, it changes routing only inside the on-premises organization);
/// - `appliance` between on-premises and the hybrid link;
/// - meters on hybrid-link visits (by direction) and on-premises Internet crossings;
/// - [`Seed::Spam`] steps become spam filters;
/// - [`Seed::External`] marks the next station as processing cross-premises mail as external
///   when an appliance strips its attribution (extra service, then a false-positive filter).
fn route(name: &str, seeds: &[Seed], end: RouteEnd, o: &HybridOptions) -> RouteSpec {
    let mut steps: Vec<Step> = Vec::new();
    let mut external_next = false;
    let mut prev: Option<Station> = None;
    for (i, &seed) in seeds.iter().enumerate() {
        let next = seeds[i + 1..].iter().find_map(|s| s.station());
        let spam = |p: f64| Step::Filter {
            spam_detection: p,
            false_positive: 0.0,
        };
        match seed {
            Seed::Spam(SpamPass::EopFirstPass) => steps.push(spam(o.spam.eop)),
            Seed::Spam(SpamPass::Onprem) => steps.push(spam(o.spam.onprem)),
            Seed::Spam(SpamPass::EopBehindOnprem) => steps.push(spam(o.spam.eop_behind_onprem)),
            Seed::External => external_next = o.appliance.is_some(),
            Seed::Over(Link::Hybrid) => {
                // On-premises → EOP: [edge] → [appliance] → link; the reverse on the way in.
                let to_cloud = next == Some(Station::Hop(Hop::Eop));
                let meter = if to_cloud {
                    Meter::ToCloud
                } else {
                    Meter::ToOnprem
                };
                let mut around = Vec::new();
                if o.edge {
                    around.push(visit(Hop::Edge));
                }
                if o.appliance.is_some() {
                    around.push(visit(Hop::Appliance));
                }
                let link = station_step(Station::Link(Link::Hybrid), Some(meter), None);
                if to_cloud {
                    steps.extend(around);
                    steps.push(link);
                } else {
                    steps.push(link);
                    steps.extend(around.into_iter().rev());
                }
            }
            Seed::At(_) | Seed::Over(_) => {
                let here = seed.station().expect("a station step");
                let prev_onprem = prev.is_some_and(Station::is_onprem);
                // The Edge relays between internal servers and the Internet: before DNS on the
                // way out; right after the Internet link on the way in (below).
                if o.edge && seed == Seed::At(Hop::Dns) && prev_onprem {
                    steps.push(visit(Hop::Edge));
                }
                let next_is_hub = next == Some(Station::Hop(Hop::Hub2007));
                let meter = match seed {
                    Seed::Over(Link::InternetIn) if next_is_hub => Some(Meter::OnpremInternetIn),
                    Seed::Over(Link::InternetOut)
                        if prev_onprem || seeds.contains(&Seed::At(Hop::Hub2007)) =>
                    {
                        Some(Meter::OnpremInternetOut)
                    }
                    _ => None,
                };
                let extra = if external_next {
                    o.appliance.as_ref().map(|a| a.external_processing.clone())
                } else {
                    None
                };
                steps.push(station_step(here, meter, extra));
                if external_next {
                    let fp = o.appliance.as_ref().map_or(0.0, |a| a.false_positive);
                    steps.push(Step::Filter {
                        spam_detection: 0.0,
                        false_positive: fp,
                    });
                    external_next = false;
                }
                if o.edge && seed == Seed::Over(Link::InternetIn) && next_is_hub {
                    steps.push(visit(Hop::Edge));
                }
            }
        }
        if let Some(st) = seed.station() {
            prev = Some(st);
        }
    }
    RouteSpec {
        name: name.into(),
        steps,
        end,
    }
}

/// The routes of `v`. Each source's route carries its name (see [`super::SOURCES`]).
pub fn routes(v: Variant, o: &HybridOptions) -> Vec<RouteSpec> {
    use Hop::*;
    use Link::*;
    use Seed::{At, External, Over, Spam};
    let mut r = Vec::new();
    // Inbound from the Internet: the seed's three inbound procedures.
    match (v.mx, v.centralized_mail_transport) {
        (Mx::Eop, false) => {
            // Steps 2–5: EOP (filtering spam first), then Exchange Online scans, looks up,
            // splits.
            r.push(route(
                "inbound",
                &[
                    Over(InternetIn),
                    At(Eop),
                    Spam(SpamPass::EopFirstPass),
                    At(Exo),
                ],
                split("inbound_onprem_copy", "inbound_cloud_copy"),
                o,
            ));
            // Steps 6–8: back to EOP, over TLS to the 2013 server, through the RGC to 2007.
            r.push(route(
                "inbound_onprem_copy",
                &[At(Eop), Over(Hybrid), At(Cas2013), Over(Rgc), At(Mbx2007)],
                deliver("inbound_to_onprem"),
                o,
            ));
            r.push(route(
                "inbound_cloud_copy",
                &[At(ExoMailbox)],
                deliver("inbound_to_cloud"),
                o,
            ));
        }
        (Mx::Eop, true) => {
            // Steps 2–5: EOP scans, hands both to the 2013 server, which looks up and splits.
            r.push(route(
                "inbound",
                &[
                    Over(InternetIn),
                    At(Eop),
                    Spam(SpamPass::EopFirstPass),
                    Over(Hybrid),
                    At(Cas2013),
                ],
                split("inbound_onprem_copy", "inbound_cloud_copy"),
                o,
            ));
            r.push(route(
                "inbound_onprem_copy",
                &[Over(Rgc), At(Mbx2007)],
                deliver("inbound_to_onprem"),
                o,
            ));
            // Steps 6–8: back to EOP over TLS, then Exchange Online.
            r.push(route(
                "inbound_cloud_copy",
                &[Over(Hybrid), At(Eop), At(Exo), At(ExoMailbox)],
                deliver("inbound_to_cloud"),
                o,
            ));
        }
        (Mx::Onprem, _) => {
            // Steps 2–4: a 2007 Hub receives all Internet mail, spam included, filters what it
            // can, looks recipients up in the global catalog and splits.
            r.push(route(
                "inbound",
                &[
                    Over(InternetIn),
                    At(Hub2007),
                    Spam(SpamPass::Onprem),
                    At(Gc),
                ],
                split("inbound_onprem_copy", "inbound_cloud_copy"),
                o,
            ));
            r.push(route(
                "inbound_onprem_copy",
                &[At(Mbx2007)],
                deliver("inbound_to_onprem"),
                o,
            ));
            // Steps 5–7: RGC to 2013, TLS send connector to EOP, Exchange Online scans for
            // viruses and content-based spam, delivers.
            r.push(route(
                "inbound_cloud_copy",
                &[
                    Over(Rgc),
                    At(Cas2013),
                    Over(Hybrid),
                    At(Eop),
                    At(Exo),
                    Spam(SpamPass::EopBehindOnprem),
                    At(ExoMailbox),
                ],
                deliver("inbound_to_cloud"),
                o,
            ));
        }
    }
    // Outbound from on-premises: always straight out through the 2007 Hub and DNS.
    r.push(route(
        "outbound_from_onprem",
        &[At(Mbx2007), At(Hub2007), At(Dns), Over(InternetOut)],
        deliver("outbound_from_onprem"),
        o,
    ));
    // Outbound from Exchange Online: direct (CMT off) or hairpinned through on-premises.
    let cloud_out: &[Seed] = if v.centralized_mail_transport {
        &[
            At(Exo),
            At(Eop),
            Over(Hybrid),
            At(Cas2013),
            Over(Rgc),
            At(Hub2007),
            At(Dns),
            Over(InternetOut),
        ]
    } else {
        &[At(Exo), At(Eop), At(Dns), Over(InternetOut)]
    };
    r.push(route(
        "outbound_from_cloud",
        cloud_out,
        deliver("outbound_from_cloud"),
        o,
    ));
    // Cross-premises mail rides the hybrid connectors in every variant: on-premises mail for a
    // cloud mailbox leaves through the 2013 server's TLS send connector to EOP; Exchange
    // Online's outbound connector sends on-premises-bound mail through EOP to the 2013 server.
    // A rewriting device makes the receiving side treat it as external.
    r.push(route(
        "onprem_to_cloud",
        &[
            At(Mbx2007),
            At(Hub2007),
            Over(Rgc),
            At(Cas2013),
            Over(Hybrid),
            External,
            At(Eop),
            At(Exo),
            At(ExoMailbox),
        ],
        deliver("onprem_to_cloud"),
        o,
    ));
    r.push(route(
        "cloud_to_onprem",
        &[
            At(Exo),
            At(Eop),
            Over(Hybrid),
            External,
            At(Cas2013),
            Over(Rgc),
            At(Mbx2007),
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
        .filter(|h| match Hop::from_name(&h.name) {
            Some(Hop::Edge) => o.edge,
            Some(Hop::Appliance) => o.appliance.is_some(),
            _ => true,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hybrid::defaults::{default_hops, default_links};
    use crate::hybrid::{Appliance, FLOWS, SOURCES};
    use crate::model::dist::Dist;
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
