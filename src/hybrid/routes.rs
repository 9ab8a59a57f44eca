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
use super::names::{Direction, Flow, Group, RouteName, Source};
use super::work::Role;
use super::{HybridOptions, Mx, Variant};
use crate::model::network::VisitWork;
use crate::model::topology::{HopSpec, LinkSpec, RouteEnd, RouteSpec, Step, TopologySpec};

/// One step of a seed route, before the options (Edge, rewriting device) are woven in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seed {
    /// A visit to a hop, doing the role's work.
    At(Hop, Role),
    /// The preceding visit also looks every recipient up (per recipient; on-premises against
    /// the global catalog) — the look-up that decides the split.
    LookUp,
    /// A crossing of a link.
    Over(Link),
    /// A spam filter.
    Spam(SpamPass),
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
    fn is_onprem(self) -> bool {
        matches!(self, Station::Hop(h) if h.side() == Side::Onprem)
    }
}

impl Seed {
    fn station(self) -> Option<Station> {
        match self {
            Seed::At(h, _) => Some(Station::Hop(h)),
            Seed::Over(l) => Some(Station::Link(l)),
            Seed::Spam(_) | Seed::LookUp => None,
        }
    }
}

/// A visit to `h` in role `r` with the options' work table.
fn visit(h: Hop, r: Role, look_up: bool, o: &HybridOptions) -> Step {
    let work = if h == Hop::Dns {
        // A resolver answers the MX query: the hop's own service time.
        VisitWork {
            label: "MX look-up".into(),
            ..VisitWork::default()
        }
    } else {
        o.work.visit(h, r, look_up)
    };
    Step::Station {
        name: h.name().into(),
        work,
        meter: None,
        direction: None,
    }
}

fn deliver(flow: Flow) -> RouteEnd {
    RouteEnd::Deliver(flow.name().into())
}

/// The split after the look-up: each recipient group's copy continues on its own route.
fn split() -> RouteEnd {
    RouteEnd::Split(
        Group::ALL
            .into_iter()
            .map(|g| (g.name().into(), RouteName::copy_for(g).name().into()))
            .collect(),
    )
}

/// Writes one route from the seed's steps, adding what the options ask for:
/// - each visit's work from its role (and a per-recipient look-up after [`Seed::LookUp`]);
/// - `edge` on the on-premises side of every crossing to or from the Internet or EOP (as the
///   seed says, it changes routing only inside the on-premises organization);
/// - `appliance` between on-premises and the hybrid link;
/// - meters on hybrid-link visits (by direction) and on-premises Internet crossings;
/// - [`Seed::Spam`] steps become spam filters;
/// - with an appliance, the station after every crossing of the hybrid link processes the copy
///   as external, whatever the flow (the device strips the attribution of everything it
///   passes): extra service, then a false-positive filter.
fn route(name: RouteName, seeds: &[Seed], end: RouteEnd, o: &HybridOptions) -> RouteSpec {
    let mut steps: Vec<Step> = Vec::new();
    let mut external_next = false;
    let mut prev: Option<Station> = None;
    let has_hub = seeds.iter().any(|s| matches!(s, Seed::At(Hop::Hub2007, _)));
    for (i, &seed) in seeds.iter().enumerate() {
        let next = seeds[i + 1..].iter().find_map(|s| s.station());
        let look_up = seeds.get(i + 1) == Some(&Seed::LookUp);
        let spam = |p: f64| Step::Filter {
            spam_detection: p,
            false_positive: 0.0,
        };
        match seed {
            Seed::Spam(SpamPass::EopFirstPass) => steps.push(spam(o.spam.eop)),
            Seed::Spam(SpamPass::Onprem) => steps.push(spam(o.spam.onprem)),
            Seed::Spam(SpamPass::EopBehindOnprem) => steps.push(spam(o.spam.eop_behind_onprem)),
            Seed::LookUp => {}
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
                    around.push(visit(Hop::Edge, Role::Relay, false, o));
                }
                if o.appliance.is_some() {
                    around.push(visit(Hop::Appliance, Role::Relay, false, o));
                }
                let direction = if to_cloud {
                    Direction::ToCloud
                } else {
                    Direction::ToOnprem
                };
                let link = Step::Station {
                    name: Link::Hybrid.name().into(),
                    work: VisitWork::default(),
                    meter: Some(meter.id()),
                    direction: Some(direction.name().into()),
                };
                external_next = o.appliance.is_some();
                if to_cloud {
                    steps.extend(around);
                    steps.push(link);
                } else {
                    steps.push(link);
                    steps.extend(around.into_iter().rev());
                }
            }
            Seed::At(..) | Seed::Over(_) => {
                let prev_onprem = prev.is_some_and(Station::is_onprem);
                // The Edge relays between internal servers and the Internet: before DNS on the
                // way out; right after the Internet link on the way in (below).
                if o.edge && matches!(seed, Seed::At(Hop::Dns, _)) && prev_onprem {
                    steps.push(visit(Hop::Edge, Role::Relay, false, o));
                }
                let next_is_hub = next == Some(Station::Hop(Hop::Hub2007));
                let meter = match seed {
                    Seed::Over(Link::InternetIn) if next_is_hub => Some(Meter::OnpremInternetIn),
                    Seed::Over(Link::InternetOut) if prev_onprem || has_hub => {
                        Some(Meter::OnpremInternetOut)
                    }
                    _ => None,
                };
                let mut step = match seed {
                    Seed::At(h, r) => visit(h, r, look_up, o),
                    Seed::Over(l) => Step::Station {
                        name: l.name().into(),
                        work: VisitWork::default(),
                        meter: None,
                        direction: None,
                    },
                    _ => unreachable!("a station step"),
                };
                if let Step::Station {
                    meter: m, work: w, ..
                } = &mut step
                {
                    *m = meter.map(Meter::id);
                    if external_next && let Some(a) = &o.appliance {
                        w.extra = Some(a.external_processing.clone());
                        w.label.push_str(
                            ", processed as external (the device stripped its attribution)",
                        );
                    }
                }
                steps.push(step);
                if external_next {
                    let fp = o.appliance.as_ref().map_or(0.0, |a| a.false_positive);
                    steps.push(Step::Filter {
                        spam_detection: 0.0,
                        false_positive: fp,
                    });
                    external_next = false;
                }
                if o.edge && seed == Seed::Over(Link::InternetIn) && next_is_hub {
                    steps.push(visit(Hop::Edge, Role::Relay, false, o));
                }
            }
        }
        if let Some(st) = seed.station() {
            prev = Some(st);
        }
    }
    RouteSpec {
        name: name.name().into(),
        steps,
        end,
    }
}

/// The routes of `v`. Each source's route carries its name (see [`Source`]). Where
/// the split happens: at Exchange Online (MX at EOP, CMT off: the seed's steps 4–5), at the
/// Exchange 2013 server (MX at EOP, CMT on: steps 4–5), at the 2007 Hub that receives the
/// Internet mail (MX on-premises: steps 3–4); each time inside the visit that looks the
/// recipients up, so its server is held for the look-up.
pub fn routes(v: Variant, o: &HybridOptions) -> Vec<RouteSpec> {
    use Hop::*;
    use Link::*;
    use Role::{Deliver, Filter, Relay, Scan};
    use Seed::{At, LookUp, Over, Spam};
    let mut r = Vec::new();
    // Inbound from the Internet: the seed's three inbound procedures.
    match (v.mx, v.centralized_mail_transport) {
        (Mx::Eop, false) => {
            // Steps 2–5: EOP filters (spam first), then Exchange Online scans for viruses,
            // looks each recipient up and splits.
            r.push(route(
                RouteName::Source(Source::Inbound),
                &[
                    Over(InternetIn),
                    At(Eop, Filter),
                    Spam(SpamPass::EopFirstPass),
                    At(Exo, Scan),
                    LookUp,
                ],
                split(),
                o,
            ));
            // Steps 6–8: back to EOP (a relay pass), over TLS to the 2013 server, through the
            // RGC to 2007.
            r.push(route(
                RouteName::InboundOnpremCopy,
                &[
                    At(Eop, Relay),
                    Over(Hybrid),
                    At(Cas2013, Relay),
                    Over(Rgc),
                    At(Mbx2007, Deliver),
                ],
                deliver(Flow::InboundToOnprem),
                o,
            ));
            r.push(route(
                RouteName::InboundCloudCopy,
                &[At(ExoMailbox, Deliver)],
                deliver(Flow::InboundToCloud),
                o,
            ));
        }
        (Mx::Eop, true) => {
            // Steps 2–5: EOP filters and scans, hands both to the 2013 server, which looks
            // each recipient up and splits.
            r.push(route(
                RouteName::Source(Source::Inbound),
                &[
                    Over(InternetIn),
                    At(Eop, Filter),
                    Spam(SpamPass::EopFirstPass),
                    Over(Hybrid),
                    At(Cas2013, Relay),
                    LookUp,
                ],
                split(),
                o,
            ));
            r.push(route(
                RouteName::InboundOnpremCopy,
                &[Over(Rgc), At(Mbx2007, Deliver)],
                deliver(Flow::InboundToOnprem),
                o,
            ));
            // Steps 6–8: back to EOP over TLS (a relay pass), then Exchange Online delivers
            // the already scanned copy.
            r.push(route(
                RouteName::InboundCloudCopy,
                &[
                    Over(Hybrid),
                    At(Eop, Relay),
                    At(Exo, Relay),
                    At(ExoMailbox, Deliver),
                ],
                deliver(Flow::InboundToCloud),
                o,
            ));
        }
        (Mx::Onprem, _) => {
            // Steps 2–4: a 2007 Hub receives all Internet mail, spam included, filters what it
            // can, looks each recipient up in the global catalog and splits.
            r.push(route(
                RouteName::Source(Source::Inbound),
                &[
                    Over(InternetIn),
                    At(Hub2007, Filter),
                    Spam(SpamPass::Onprem),
                    LookUp,
                ],
                split(),
                o,
            ));
            r.push(route(
                RouteName::InboundOnpremCopy,
                &[At(Mbx2007, Deliver)],
                deliver(Flow::InboundToOnprem),
                o,
            ));
            // Steps 5–7: RGC to 2013, TLS send connector to EOP (a relay pass), Exchange Online
            // scans for viruses and content-based spam, delivers.
            r.push(route(
                RouteName::InboundCloudCopy,
                &[
                    Over(Rgc),
                    At(Cas2013, Relay),
                    Over(Hybrid),
                    At(Eop, Relay),
                    At(Exo, Scan),
                    Spam(SpamPass::EopBehindOnprem),
                    At(ExoMailbox, Deliver),
                ],
                deliver(Flow::InboundToCloud),
                o,
            ));
        }
    }
    // Outbound from on-premises: always straight out through the 2007 Hub (whose categorizer
    // looks the recipients up) and DNS.
    r.push(route(
        RouteName::Source(Source::OutboundFromOnprem),
        &[
            At(Mbx2007, Relay),
            At(Hub2007, Relay),
            LookUp,
            At(Dns, Relay),
            Over(InternetOut),
        ],
        deliver(Flow::OutboundFromOnprem),
        o,
    ));
    // Outbound from Exchange Online (virus scan first): direct (CMT off) or hairpinned
    // through on-premises, where the 2013 server applies compliance and anti-virus (CMT on).
    let cloud_out: &[Seed] = if v.centralized_mail_transport {
        &[
            At(Exo, Scan),
            LookUp,
            At(Eop, Relay),
            Over(Hybrid),
            At(Cas2013, Scan),
            Over(Rgc),
            At(Hub2007, Relay),
            At(Dns, Relay),
            Over(InternetOut),
        ]
    } else {
        &[
            At(Exo, Scan),
            LookUp,
            At(Eop, Relay),
            At(Dns, Relay),
            Over(InternetOut),
        ]
    };
    r.push(route(
        RouteName::Source(Source::OutboundFromCloud),
        cloud_out,
        deliver(Flow::OutboundFromCloud),
        o,
    ));
    // Cross-premises mail rides the hybrid connectors in every variant: on-premises mail for a
    // cloud mailbox leaves through the 2013 server's TLS send connector to EOP; Exchange
    // Online's outbound connector sends on-premises-bound mail through EOP to the 2013 server.
    r.push(route(
        RouteName::Source(Source::OnpremToCloud),
        &[
            At(Mbx2007, Relay),
            At(Hub2007, Relay),
            LookUp,
            Over(Rgc),
            At(Cas2013, Relay),
            Over(Hybrid),
            At(Eop, Relay),
            At(Exo, Scan),
            At(ExoMailbox, Deliver),
        ],
        deliver(Flow::OnpremToCloud),
        o,
    ));
    r.push(route(
        RouteName::Source(Source::CloudToOnprem),
        &[
            At(Exo, Scan),
            LookUp,
            At(Eop, Relay),
            Over(Hybrid),
            At(Cas2013, Relay),
            Over(Rgc),
            At(Mbx2007, Deliver),
        ],
        deliver(Flow::CloudToOnprem),
        o,
    ));
    // Mail that stays on its side. On-premises: the 2007 Mailbox server submits to the Hub,
    // whose categorizer looks the recipients up, and the Hub delivers back to the 2007
    // Mailbox server. Cloud: Exchange Online scans and looks up, then delivers.
    r.push(route(
        RouteName::Source(Source::OnpremInternal),
        &[
            At(Mbx2007, Relay),
            At(Hub2007, Relay),
            LookUp,
            At(Mbx2007, Deliver),
        ],
        deliver(Flow::OnpremInternal),
        o,
    ));
    r.push(route(
        RouteName::Source(Source::CloudInternal),
        &[At(Exo, Scan), LookUp, At(ExoMailbox, Deliver)],
        deliver(Flow::CloudInternal),
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
        groups: Group::ALL.iter().map(|g| g.name().to_string()).collect(),
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
            assert_eq!(hops_of(v, "inbound_to_onprem"), seq("hub2007 mbx2007"));
            assert_eq!(
                hops_of(v, "inbound_to_cloud"),
                seq("hub2007 cas2013 eop exo exo_mailbox")
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
            assert_eq!(
                hops_of(v, "onprem_internal"),
                seq("mbx2007 hub2007 mbx2007")
            );
            assert_eq!(hops_of(v, "cloud_internal"), seq("exo exo_mailbox"));
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
            s("edge hub2007 mbx2007")
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
        // The device's false-positive filter follows every crossing (below, on every variant).
        let _ = net;
    }

    /// Every copy that crosses the rewriting device is treated as external where it arrives,
    /// in every variant and flow (with CMT on, cloud outbound mail crosses it too): each
    /// crossing of the hybrid link is followed, after the device and the Edge, by one visit
    /// with the device's extra processing and then its false-positive filter; paths that do
    /// not cross have no such filter.
    #[test]
    fn the_device_marks_every_crossing_copy_external_in_every_variant() {
        let o = HybridOptions {
            appliance: Some(Appliance {
                external_processing: Dist::deterministic(1e8).unwrap(),
                false_positive: 0.01,
            }),
            edge: true,
            ..HybridOptions::default()
        };
        let fp = |k: &str, n: &str| k == "filter" && n.ends_with("false positives 0.01");
        for v in Variant::ALL {
            let net = compile(&topology(v, &default_hops(), &default_links(), &o)).unwrap();
            let mut crossings_seen = 0;
            for src in SOURCES {
                for p in net.paths(net.route_entry(src).unwrap()) {
                    let steps = &p.steps;
                    let crossings: Vec<usize> = (0..steps.len())
                        .filter(|&i| steps[i].1 == "hybrid")
                        .collect();
                    let filters = steps.iter().filter(|(k, n)| fp(k, n)).count();
                    assert_eq!(
                        filters,
                        crossings.len(),
                        "{} {}: {steps:?}",
                        v.name(),
                        p.flow
                    );
                    for &i in &crossings {
                        // Past the device and the Edge (and what they do), the receiving
                        // hop, what it does, then the filter.
                        let mut j = i + 1;
                        while steps[j].0 == "work"
                            || matches!(steps[j].1.as_str(), "appliance" | "edge")
                        {
                            j += 1;
                        }
                        let mut k = j + 1;
                        while steps[k].0 == "work" {
                            assert!(steps[k].1.contains("processed as external"), "{steps:?}");
                            k += 1;
                        }
                        assert!(
                            fp(&steps[k].0, &steps[k].1),
                            "{} {}: no filter after {}: {steps:?}",
                            v.name(),
                            p.flow,
                            steps[j].1
                        );
                    }
                    crossings_seen += crossings.len();
                }
            }
            assert!(crossings_seen > 0, "{}", v.name());
        }
        // With CMT on, cloud outbound mail crosses the device too.
        let net = compile(&topology(
            Variant::ALL[1],
            &default_hops(),
            &default_links(),
            &o,
        ))
        .unwrap();
        let p = &net.paths(net.route_entry("outbound_from_cloud").unwrap())[0];
        assert!(p.steps.iter().any(|(k, n)| fp(k, n)), "{:?}", p.steps);
    }

    /// The hybrid link is full duplex: each direction has its own bandwidth station, and each
    /// crossing uses its direction's (by the traffic equations: only the right one is worked).
    #[test]
    fn each_direction_of_the_hybrid_link_has_its_own_bandwidth() {
        let o = HybridOptions::default();
        for v in Variant::ALL {
            let net = compile(&topology(v, &default_hops(), &default_links(), &o)).unwrap();
            let lane = |d: &str| {
                net.stations
                    .iter()
                    .position(|st| st.name == format!("hybrid.bandwidth.{d}"))
                    .unwrap_or_else(|| panic!("{}: no {d} lane", v.name()))
            };
            let (up, down) = (
                lane(Direction::ToCloud.name()),
                lane(Direction::ToOnprem.name()),
            );
            assert!(!net.stations.iter().any(|st| st.name == "hybrid.bandwidth"));
            let work = |src: &str| {
                net.expected_work_s(net.route_entry(src).unwrap(), &[1.0, 0.0], 75.0, 1.0, false)
            };
            let w = work("onprem_to_cloud");
            assert!(w[up] > 0.0 && w[down] == 0.0, "{}: {w:?}", v.name());
            let w = work("cloud_to_onprem");
            assert!(w[down] > 0.0 && w[up] == 0.0, "{}: {w:?}", v.name());
        }
    }
}
