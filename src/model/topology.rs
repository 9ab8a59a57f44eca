//! Topology specs (hops, links, routes by name) and their compilation into a [`Network`].
//!
//! Both kinds of scenario end here: a custom topology's tables map one to one onto
//! [`TopologySpec`], and the hybrid builder ([`super::hybrid`]) writes the seed's routes as the
//! same specs. Compilation resolves names to indices, checks probabilities and that every
//! route can end, and produces the flat node graph the simulation walks.

use std::collections::{HashMap, VecDeque};

use super::dist::Dist;
use super::network::{
    ExtraId, MeterId, Network, Node, NodeId, Servers, Station, StationId, StationKind, VisitWork,
};
use super::transport::Availability;
use crate::load::MAX_GROUPS;

/// A hop: a station with servers and a service time. Hops compile to stations as they are.
pub type HopSpec = Station;

/// A link: a delay (latency plus optional TLS set-up) and optional bandwidth.
#[derive(Clone, Debug)]
pub struct LinkSpec {
    pub name: String,
    /// One-way latency in nanoseconds.
    pub latency: Dist,
    /// TLS set-up time in nanoseconds, added to the latency of every message.
    pub tls_setup: Option<Dist>,
    /// Bandwidth in megabits per second; messages are serialized through it one at a time.
    pub bandwidth_mbps: Option<f64>,
    /// Concurrent connections; None: unlimited.
    pub max_connections: Option<u32>,
    /// Full duplex: the names of the link's two directions, each with its own bandwidth
    /// (`<link>.bandwidth.<direction>`); a step picks one with its `direction`. Empty: one
    /// bandwidth shared by both directions.
    pub directions: Vec<String>,
    pub availability: Availability,
}

/// Where a branch leads.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Route(String),
    Deliver(String),
}

/// What happens at the end of a route's steps.
#[derive(Clone, Debug, PartialEq)]
pub enum RouteEnd {
    /// Delivery (or hand-off to the Internet), recorded under the named flow.
    Deliver(String),
    /// Probabilistic branches: (target, probability); probabilities sum to 1.
    Branch(Vec<(Target, f64)>),
    /// Bifurcation: one copy per recipient group present in the message, each to its route.
    Split(Vec<(String, String)>),
}

/// One step of a route.
// Steps are compile-time specs, a few hundred per scenario, never on the hot path: a large
// `Station` variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Step {
    /// Visit a hop or link. `work` is what this visit costs when it is not the station's plain
    /// service (a role's own service time, extra processing such as anti-spam on mail treated
    /// as external, a look-up per recipient); `meter` tags the visit for traffic counters;
    /// `direction` picks a full-duplex link's direction (None: its first).
    Station {
        name: String,
        work: VisitWork,
        meter: Option<MeterId>,
        direction: Option<String>,
    },
    /// A content filter: a spam copy is filtered with probability `spam_detection`; any other
    /// copy is quarantined with probability `false_positive`.
    Filter {
        spam_detection: f64,
        false_positive: f64,
    },
}

impl Step {
    pub fn visit(name: &str) -> Self {
        Step::Station {
            name: name.to_string(),
            work: VisitWork::default(),
            meter: None,
            direction: None,
        }
    }

    pub fn station_name(&self) -> Option<&str> {
        match self {
            Step::Station { name, .. } => Some(name),
            Step::Filter { .. } => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct RouteSpec {
    pub name: String,
    /// Steps, in order.
    pub steps: Vec<Step>,
    pub end: RouteEnd,
}

#[derive(Clone, Debug, Default)]
pub struct TopologySpec {
    pub hops: Vec<HopSpec>,
    pub links: Vec<LinkSpec>,
    pub routes: Vec<RouteSpec>,
    /// Recipient groups that splits can tell apart (e.g. `onprem`, `cloud`).
    pub groups: Vec<String>,
}

/// Why a topology cannot be compiled. Each names the route (and step or branch) at fault so
/// the scenario loader can point at the line.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TopologyError {
    #[error(
        "route `{route}` step {step} names `{name}`, which is no hop or link; accepted: {accepted}"
    )]
    UnknownStep {
        route: String,
        step: usize,
        name: String,
        accepted: String,
    },
    #[error(
        "route `{route}` leads to route `{target}`, which is not defined; accepted: {accepted}"
    )]
    UnknownRoute {
        route: String,
        target: String,
        accepted: String,
    },
    #[error("route `{route}` branch {branch} has probability {}; use a number from 0 to 1", shown(*.p))]
    BadProbability {
        route: String,
        branch: usize,
        p: f64,
    },
    #[error("route `{route}` branch probabilities sum to {}; make them sum to 1", shown(*.sum))]
    BranchSum { route: String, sum: f64 },
    #[error("route `{route}` splits on group `{group}`, which is unknown; accepted: {accepted}")]
    UnknownGroup {
        route: String,
        group: String,
        accepted: String,
    },
    #[error("route `{route}` split must send every recipient group somewhere; missing: {missing}")]
    SplitIncomplete { route: String, missing: String },
    #[error(
        "route `{route}` can loop forever: from it no branch leads to a delivery; give the loop an exit"
    )]
    NoExit { route: String },
    #[error("route `{route}` is part of a loop that visits no hop or link; add a step to the loop")]
    EmptyLoop { route: String },
    #[error("name `{name}` is used by both a hop and a link; give them different names")]
    DuplicateName { name: String },
    #[error("route `{route}` step {step} has probability {}; use a number from 0 to 1", shown(*.p))]
    BadFilter { route: String, step: usize, p: f64 },
}

/// A probability as a message shows it: Rust's shortest form for ordinary sizes, scientific
/// notation beyond (an out-of-range `1e300` must not print as 301 digits). The core has no
/// access to the schema's message helpers, so this is its own small rule.
fn shown(p: f64) -> String {
    if p == 0.0 || (1e-6..1e6).contains(&p.abs()) {
        format!("{p}")
    } else {
        format!("{p:.3e}")
    }
}

/// Compiles `spec`; `entries` are the routes sources start on, which must all end.
pub fn compile(spec: &TopologySpec) -> Result<Network, TopologyError> {
    let mut stations = Vec::new();
    // Each step name resolves to one or two stations (a link with bandwidth has two).
    let mut by_name: HashMap<&str, Vec<StationId>> = HashMap::new();
    // (link, direction) → stations, for full-duplex links.
    let mut lanes: HashMap<(&str, &str), Vec<StationId>> = HashMap::new();
    for hop in &spec.hops {
        let id = StationId(stations.len() as u32);
        stations.push(Station {
            kind: StationKind::Hop,
            ..hop.clone()
        });
        by_name.insert(&hop.name, vec![id]);
    }
    for link in &spec.links {
        if by_name.contains_key(link.name.as_str()) {
            return Err(TopologyError::DuplicateName {
                name: link.name.clone(),
            });
        }
        let mut ids = Vec::new();
        // One bandwidth station, or one per direction of a full-duplex link.
        let mut lane_ids = Vec::new();
        if let Some(mbps) = link.bandwidth_mbps {
            let lanes: Vec<Option<&str>> = if link.directions.is_empty() {
                vec![None]
            } else {
                link.directions.iter().map(|d| Some(d.as_str())).collect()
            };
            for lane in lanes {
                lane_ids.push((lane, StationId(stations.len() as u32)));
                let name = match lane {
                    None => format!("{}.bandwidth", link.name),
                    Some(d) => format!("{}.bandwidth.{d}", link.name),
                };
                stations.push(Station {
                    // 1 KB = 8192 bits; mbps * 1e6 bits per second; result in nanoseconds.
                    per_kb_ns: 8192.0 / (mbps * 1e6) * 1e9,
                    // A link refuses at its entrance: the bandwidth station when there is one
                    // (each direction's, for a full-duplex link).
                    availability: link.availability.clone(),
                    ..Station::plain(
                        name,
                        StationKind::LinkBandwidth,
                        Servers::Finite(1),
                        Dist::deterministic(0.0).expect("zero is a valid constant"),
                    )
                });
            }
            ids.push(lane_ids[0].1);
        }
        let latency_id = StationId(stations.len() as u32);
        ids.push(latency_id);
        for (lane, bw) in &lane_ids {
            if let Some(d) = lane {
                lanes.insert((link.name.as_str(), d), vec![*bw, latency_id]);
            }
        }
        let service = match &link.tls_setup {
            None => link.latency.clone(),
            Some(tls) => Dist::Sum(Box::new((link.latency.clone(), tls.clone()))),
        };
        let servers = link
            .max_connections
            .map_or(Servers::Unlimited, Servers::Finite);
        stations.push(Station {
            availability: if link.bandwidth_mbps.is_some() {
                Availability::default()
            } else {
                link.availability.clone()
            },
            ..Station::plain(link.name.clone(), StationKind::Link, servers, service)
        });
        by_name.insert(&link.name, ids);
    }

    let route_index: HashMap<&str, usize> = spec
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.as_str(), i))
        .collect();
    let accepted_routes = || join(spec.routes.iter().map(|r| r.name.as_str()));
    let accepted_steps = || {
        join(
            spec.hops
                .iter()
                .map(|h| h.name.as_str())
                .chain(spec.links.iter().map(|l| l.name.as_str())),
        )
    };

    // Pass 1: lay out each route's step nodes followed by its end node.
    let mut nodes: Vec<Node> = Vec::new();
    let mut meters: Vec<Option<MeterId>> = Vec::new();
    let mut extras: Vec<VisitWork> = Vec::new();
    let mut filters: Vec<(f64, f64)> = Vec::new();
    let mut entry = Vec::with_capacity(spec.routes.len());
    let mut end_node = Vec::with_capacity(spec.routes.len());
    let mut flows: Vec<String> = Vec::new();
    for route in &spec.routes {
        entry.push(NodeId(nodes.len() as u32));
        for (i, step) in route.steps.iter().enumerate() {
            match step {
                Step::Station {
                    name,
                    work,
                    meter,
                    direction,
                } => {
                    let lane = direction
                        .as_deref()
                        .and_then(|d| lanes.get(&(name.as_str(), d)));
                    let ids = lane.or_else(|| by_name.get(name.as_str())).ok_or_else(|| {
                        TopologyError::UnknownStep {
                            route: route.name.clone(),
                            step: i + 1,
                            name: name.clone(),
                            accepted: accepted_steps(),
                        }
                    })?;
                    for (k, st) in ids.iter().enumerate() {
                        let last = k + 1 == ids.len();
                        // A visit's own work applies once, at the station that does it (a
                        // link's latency station, not its bandwidth).
                        let extra = if last && !(work.is_plain() && work.label.is_empty()) {
                            extras.push(work.clone());
                            Some(ExtraId::new(extras.len() - 1))
                        } else {
                            None
                        };
                        let next = NodeId((nodes.len() + 1) as u32);
                        nodes.push(Node::Visit {
                            station: *st,
                            next,
                            extra,
                        });
                        meters.push(if last { *meter } else { None });
                    }
                }
                Step::Filter {
                    spam_detection,
                    false_positive,
                } => {
                    for p in [spam_detection, false_positive] {
                        if !(p.is_finite() && (0.0..=1.0).contains(p)) {
                            return Err(TopologyError::BadFilter {
                                route: route.name.clone(),
                                step: i + 1,
                                p: *p,
                            });
                        }
                    }
                    filters.push((*spam_detection, *false_positive));
                    let next = NodeId((nodes.len() + 1) as u32);
                    nodes.push(Node::Filter {
                        index: (filters.len() - 1) as u32,
                        next,
                    });
                    meters.push(None);
                }
            }
        }
        end_node.push(nodes.len());
        nodes.push(Node::Deliver { flow: 0 }); // placeholder, set in pass 2
        meters.push(None);
    }

    // Pass 2: resolve ends.
    let mut branch_table = Vec::new();
    let mut split_table = Vec::new();
    let flow_id = |name: &str, flows: &mut Vec<String>| -> u16 {
        match flows.iter().position(|f| f == name) {
            Some(i) => i as u16,
            None => {
                flows.push(name.to_string());
                (flows.len() - 1) as u16
            }
        }
    };
    for (ri, route) in spec.routes.iter().enumerate() {
        let resolve = |target: &str| -> Result<NodeId, TopologyError> {
            route_index
                .get(target)
                .map(|&i| entry[i])
                .ok_or_else(|| TopologyError::UnknownRoute {
                    route: route.name.clone(),
                    target: target.to_string(),
                    accepted: accepted_routes(),
                })
        };
        let node = match &route.end {
            RouteEnd::Deliver(flow) => Node::Deliver {
                flow: flow_id(flow, &mut flows),
            },
            RouteEnd::Branch(branches) => {
                let start = branch_table.len() as u32;
                let mut cum = 0.0;
                for (bi, (target, p)) in branches.iter().enumerate() {
                    if !(p.is_finite() && (0.0..=1.0).contains(p)) {
                        return Err(TopologyError::BadProbability {
                            route: route.name.clone(),
                            branch: bi + 1,
                            p: *p,
                        });
                    }
                    cum += p;
                    let to = match target {
                        Target::Route(r) => resolve(r)?,
                        Target::Deliver(flow) => {
                            let f = flow_id(flow, &mut flows);
                            nodes.push(Node::Deliver { flow: f });
                            meters.push(None);
                            NodeId((nodes.len() - 1) as u32)
                        }
                    };
                    branch_table.push((cum, to, *p));
                }
                // Rounding in decimal input is forgiven; a real mistake is not.
                if (cum - 1.0).abs() > 1e-9 {
                    return Err(TopologyError::BranchSum {
                        route: route.name.clone(),
                        sum: cum,
                    });
                }
                // The last positive branch catches draws in [cum, 1) left by rounding.
                if let Some(last) = branch_table[start as usize..]
                    .iter_mut()
                    .rev()
                    .find(|b| b.2 > 0.0)
                {
                    last.0 = f64::INFINITY;
                }
                Node::Branch {
                    start,
                    end: branch_table.len() as u32,
                }
            }
            RouteEnd::Split(targets) => {
                let start = split_table.len() as u32;
                for (group, target) in targets {
                    let g = spec.groups.iter().position(|x| x == group).ok_or_else(|| {
                        TopologyError::UnknownGroup {
                            route: route.name.clone(),
                            group: group.clone(),
                            accepted: join(spec.groups.iter().map(String::as_str)),
                        }
                    })?;
                    split_table.push((g as u8, resolve(target)?));
                }
                let missing: Vec<&str> = spec
                    .groups
                    .iter()
                    .filter(|g| !targets.iter().any(|(t, _)| t == *g))
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    return Err(TopologyError::SplitIncomplete {
                        route: route.name.clone(),
                        missing: join(missing.into_iter()),
                    });
                }
                Node::Split {
                    start,
                    end: split_table.len() as u32,
                }
            }
        };
        nodes[end_node[ri]] = node;
    }

    let mut network = Network {
        stations,
        nodes,
        branches: branch_table.into_iter().map(|(c, n, _)| (c, n)).collect(),
        splits: split_table,
        flows,
        groups: spec.groups.clone(),
        routes: spec
            .routes
            .iter()
            .zip(&entry)
            .map(|(r, e)| (r.name.clone(), *e))
            .collect(),
        meters,
        extras,
        filters,
        flow_of: Vec::new(),
    };
    check_termination(&network)?;
    network.flow_of = flow_of(&network);
    Ok(network)
}

/// Every route must be able to end: from each node some path of positive probability reaches
/// a delivery (then, the graph being finite, a copy ends with probability 1), and no cycle may
/// consist of branch/split nodes alone (a copy would spin without simulated time passing).
fn check_termination(net: &Network) -> Result<(), TopologyError> {
    let n = net.nodes.len();
    let succ = |i: usize| -> Vec<usize> {
        net.successors(NodeId(i as u32))
            .into_iter()
            .map(|x| x.0 as usize)
            .collect()
    };
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for s in succ(i) {
            preds[s].push(i);
        }
    }
    let mut can_exit = vec![false; n];
    let mut todo: VecDeque<usize> = (0..n)
        .filter(|&i| matches!(net.nodes[i], Node::Deliver { .. }))
        .collect();
    for &i in &todo {
        can_exit[i] = true;
    }
    while let Some(i) = todo.pop_front() {
        for &p in &preds[i] {
            if !can_exit[p] {
                can_exit[p] = true;
                todo.push_back(p);
            }
        }
    }
    let route_of = |node: usize| -> String {
        // The route whose entry is the latest one at or before `node` owns it (layout order).
        net.routes
            .iter()
            .filter(|(_, e)| e.0 as usize <= node)
            .max_by_key(|(_, e)| e.0)
            .map(|(r, _)| r.clone())
            .unwrap_or_default()
    };
    if let Some(i) = (0..n).find(|&i| !can_exit[i]) {
        return Err(TopologyError::NoExit { route: route_of(i) });
    }
    // Cycles among non-visit nodes: depth-first search restricted to them.
    let is_free = |i: usize| !matches!(net.nodes[i], Node::Visit { .. });
    let mut color = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    for startn in (0..n).filter(|&i| is_free(i)) {
        if color[startn] != 0 {
            continue;
        }
        let mut stack = vec![(startn, succ(startn), 0usize)];
        color[startn] = 1;
        while let Some((node, next, k)) = stack.last_mut() {
            if *k < next.len() {
                let s = next[*k];
                *k += 1;
                if !is_free(s) {
                    continue;
                }
                if color[s] == 1 {
                    return Err(TopologyError::EmptyLoop { route: route_of(s) });
                }
                if color[s] == 0 {
                    color[s] = 1;
                    let ns = succ(s);
                    stack.push((s, ns, 0));
                }
            } else {
                color[*node] = 2;
                stack.pop();
            }
        }
    }
    Ok(())
}

/// For each node and recipient group, the flow a copy of that group at that node ends in: the
/// first delivery reachable (following a split's branch for the group). Used to attribute end
/// states other than delivery (expired, quarantined, filtered) to flows. None if none.
fn flow_of(net: &Network) -> Vec<[Option<u16>; MAX_GROUPS]> {
    let n = net.nodes.len();
    let mut out = vec![[None; MAX_GROUPS]; n];
    for (start, row) in out.iter_mut().enumerate() {
        for (g, slot) in row.iter_mut().enumerate() {
            let mut id = NodeId(start as u32);
            // Bounded walk: termination was checked, and a loop is cut after n steps.
            for _ in 0..=n {
                match net.node(id) {
                    Node::Visit { next, .. } | Node::Filter { next, .. } => id = next,
                    Node::Deliver { flow } => {
                        *slot = Some(flow);
                        break;
                    }
                    Node::Branch { start, end } => {
                        // The most likely branch.
                        let mut prev = 0.0f64;
                        let mut best = (f64::MIN, id);
                        for &(c, to) in &net.branches[start as usize..end as usize] {
                            let p = c.min(1.0) - prev;
                            prev = c.min(1.0);
                            if p > best.0 {
                                best = (p, to);
                            }
                        }
                        id = best.1;
                    }
                    Node::Split { start, end } => {
                        let t = net.splits[start as usize..end as usize]
                            .iter()
                            .find(|(x, _)| usize::from(*x) == g);
                        match t {
                            Some(&(_, to)) => id = to,
                            None => break,
                        }
                    }
                }
            }
        }
    }
    out
}

fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if v.is_empty() {
        "(none defined)".to_string()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A probability far out of range is shown in scientific notation, not as 301 digits;
    /// ordinary ones as written.
    #[test]
    fn probabilities_in_messages_stay_short() {
        assert_eq!(shown(0.3), "0.3");
        assert_eq!(shown(0.0), "0");
        assert_eq!(shown(1e300), "1.000e300");
        assert_eq!(shown(-2.5e-300), "-2.500e-300");
        let e = TopologyError::BadProbability {
            route: "r".into(),
            branch: 1,
            p: 1e300,
        };
        assert_eq!(
            e.to_string(),
            "route `r` branch 1 has probability 1.000e300; use a number from 0 to 1"
        );
    }

    fn hop(name: &str) -> HopSpec {
        Station::new(
            name,
            Servers::Finite(1),
            Dist::deterministic(1e6).unwrap(),
            0.0,
        )
    }

    fn link(name: &str, directions: &[&str]) -> LinkSpec {
        LinkSpec {
            name: name.into(),
            latency: Dist::deterministic(1e6).unwrap(),
            tls_setup: None,
            bandwidth_mbps: Some(10.0),
            max_connections: None,
            availability: Availability::default(),
            directions: directions.iter().map(|d| d.to_string()).collect(),
        }
    }

    fn over(l: &str, direction: Option<&str>) -> Step {
        Step::Station {
            name: l.into(),
            work: VisitWork::default(),
            meter: None,
            direction: direction.map(String::from),
        }
    }

    fn route(name: &str, steps: Vec<Step>) -> RouteSpec {
        RouteSpec {
            name: name.into(),
            steps,
            end: RouteEnd::Deliver(name.into()),
        }
    }

    fn station(net: &Network, name: &str) -> usize {
        net.stations.iter().position(|s| s.name == name).unwrap()
    }

    /// A full-duplex link has a bandwidth station per direction and a shared latency; each
    /// crossing works only its own direction's bandwidth.
    #[test]
    fn a_full_duplex_link_has_a_bandwidth_per_direction() {
        let spec = TopologySpec {
            hops: vec![hop("h")],
            links: vec![link("l", &["up", "down"])],
            routes: vec![
                route("a", vec![Step::visit("h"), over("l", Some("up"))]),
                route("b", vec![over("l", Some("down")), Step::visit("h")]),
            ],
            groups: Vec::new(),
        };
        let net = compile(&spec).unwrap();
        let (up, down, lat) = (
            station(&net, "l.bandwidth.up"),
            station(&net, "l.bandwidth.down"),
            station(&net, "l"),
        );
        let work =
            |r: &str| net.expected_work_s(net.route_entry(r).unwrap(), &[], 10.0, 1.0, false);
        let (a, b) = (work("a"), work("b"));
        assert!(a[up] > 0.0 && a[down] == 0.0 && a[lat] > 0.0, "{a:?}");
        assert!(b[down] > 0.0 && b[up] == 0.0 && b[lat] > 0.0, "{b:?}");
        // Half duplex: one shared bandwidth station.
        let half = TopologySpec {
            links: vec![link("l", &[])],
            ..spec
        };
        let net = compile(&half).unwrap();
        assert!(net.stations.iter().any(|s| s.name == "l.bandwidth"));
    }

    /// A visit's own work lands once, on the station that does it (a link's latency, not its
    /// bandwidth), and its mean enters the traffic equations per recipient.
    #[test]
    fn visit_work_applies_once_at_the_working_station() {
        let work = VisitWork {
            service: Some(Dist::deterministic(5e6).unwrap()),
            extra: Some(Dist::deterministic(1e6).unwrap()),
            per_recipient: Some(Dist::deterministic(2e6).unwrap()),
            label: "x".into(),
        };
        let spec = TopologySpec {
            hops: vec![hop("h")],
            links: vec![link("l", &[])],
            routes: vec![route(
                "a",
                vec![
                    Step::Station {
                        name: "h".into(),
                        work: work.clone(),
                        meter: None,
                        direction: None,
                    },
                    Step::Station {
                        name: "l".into(),
                        work,
                        meter: None,
                        direction: None,
                    },
                ],
            )],
            groups: Vec::new(),
        };
        let net = compile(&spec).unwrap();
        assert_eq!(net.extras.len(), 2);
        let w = net.expected_work_s(net.route_entry("a").unwrap(), &[], 0.0, 3.0, false);
        // 5 ms own service + 1 ms extra + 3 recipients × 2 ms, instead of the hop's 1 ms.
        assert!((w[station(&net, "h")] - 0.012).abs() < 1e-12, "{w:?}");
        assert!((w[station(&net, "l")] - 0.012).abs() < 1e-12, "{w:?}");
        assert_eq!(w[station(&net, "l.bandwidth")], 0.0);
        let p = &net.paths(net.route_entry("a").unwrap())[0];
        assert_eq!(p.steps.iter().filter(|(k, _)| k == "work").count(), 2);
    }

    #[test]
    fn unknown_steps_and_doubled_names_are_refused() {
        let spec = TopologySpec {
            hops: vec![hop("h")],
            links: vec![link("h", &[])],
            routes: vec![route("a", vec![Step::visit("h")])],
            groups: Vec::new(),
        };
        assert!(matches!(
            compile(&spec),
            Err(TopologyError::DuplicateName { .. })
        ));
        let spec = TopologySpec {
            hops: vec![hop("h")],
            links: Vec::new(),
            routes: vec![route("a", vec![Step::visit("nope")])],
            groups: Vec::new(),
        };
        assert!(matches!(
            compile(&spec),
            Err(TopologyError::UnknownStep { step: 1, .. })
        ));
    }
}
