//! The compiled network: stations (hops and links) and the node graph copies walk.
//!
//! Everything is an index into a flat `Vec`, so the simulation's hot path does no hashing
//! and no pointer chasing beyond one array look-up per step.

use std::num::{NonZeroU8, NonZeroU32};

use super::dist::Dist;
use super::transport::{Availability, RetryPolicy};
use crate::load::MAX_GROUPS;

/// What one visit costs when it differs from its station's plain service: the work a role
/// does on this visit (e.g. a relay pass instead of a first filtering pass, a look-up per
/// recipient). The core draws it; what the roles mean belongs to whoever wrote the route.
#[derive(Clone, Debug, Default)]
pub struct VisitWork {
    /// Replaces the station's service time on this visit (ns); None: the station's.
    pub service: Option<Dist>,
    /// Added to the service on this visit (ns).
    pub extra: Option<Dist>,
    /// Drawn once per recipient the copy carries and added (ns): a recipient look-up.
    pub per_recipient: Option<Dist>,
    /// What the visit does, in words, for `explain` (empty: nothing to say).
    pub label: String,
}

impl VisitWork {
    /// Whether the visit costs just its station's service.
    pub fn is_plain(&self) -> bool {
        self.service.is_none() && self.extra.is_none() && self.per_recipient.is_none()
    }

    /// Mean cost in ns of this visit at `station` for a copy of `mean_size_kb` carrying
    /// `mean_recipients`.
    pub fn mean_ns(&self, station: &Station, mean_size_kb: f64, mean_recipients: f64) -> f64 {
        let base = self
            .service
            .as_ref()
            .map_or(station.service.mean(), Dist::mean);
        base + station.per_kb_ns * mean_size_kb
            + self.extra.as_ref().map_or(0.0, Dist::mean)
            + self.per_recipient.as_ref().map_or(0.0, Dist::mean) * mean_recipients
    }
}

/// Index of a visit's own work in [`Network::extras`], stored as index + 1 so that
/// `Option<ExtraId>` (a visit with or without work of its own) stays four bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExtraId(NonZeroU32);

impl ExtraId {
    /// The id of `extras[index]`.
    pub fn new(index: usize) -> Self {
        let raw = u32::try_from(index + 1).expect("fewer than 2^32 extra distributions");
        ExtraId(NonZeroU32::new(raw).expect("index + 1 is not zero"))
    }

    pub fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// A traffic meter: an index into a run's meter counters. Never 0, so `Option<MeterId>` (a
/// visit counted or not) is one byte. What a meter means belongs to whoever wrote the route
/// (e.g. [`crate::hybrid::Meter`]); the core only counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MeterId(NonZeroU8);

impl MeterId {
    /// Meter `n` (1 or more).
    pub const fn new(n: u8) -> Option<Self> {
        match NonZeroU8::new(n) {
            Some(v) => Some(MeterId(v)),
            None => None,
        }
    }

    /// The meter's slot in a run's counters (slot 0 is never used).
    pub fn index(self) -> usize {
        usize::from(self.0.get())
    }
}

/// Index of a station in [`Network::stations`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StationId(pub u32);

/// Index of a node in [`Network::nodes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(pub u32);

/// What a station whose queue is full answers an arriving copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenFull {
    /// A transient (4xx) refusal: the sender keeps the copy and retries.
    Defer,
    /// A permanent (5xx) refusal: the copy ends `rejected` (a loss system, M/M/c/K).
    Reject,
}

/// How many copies a station serves at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Servers {
    Finite(u32),
    /// A pure delay: every arrival starts service at once (a link's latency, a DNS resolver).
    Unlimited,
}

impl Servers {
    pub fn count(self) -> Option<u32> {
        match self {
            Servers::Finite(n) => Some(n),
            Servers::Unlimited => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StationKind {
    Hop,
    /// A link's latency (plus TLS set-up): unlimited servers.
    Link,
    /// A link's bandwidth: one server serializing messages by size.
    LinkBandwidth,
}

impl StationKind {
    pub fn label(self) -> &'static str {
        match self {
            StationKind::Hop => "hop",
            StationKind::Link => "link",
            StationKind::LinkBandwidth => "link_bandwidth",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Station {
    pub name: String,
    pub kind: StationKind,
    pub servers: Servers,
    /// Service time in nanoseconds.
    pub service: Dist,
    /// Added service time per kilobyte, in nanoseconds.
    pub per_kb_ns: f64,
    /// Most copies that may wait; a full queue refuses (see `when_full`).
    pub queue_limit: Option<u32>,
    /// What a full queue answers: a transient refusal the sender retries, or a permanent one.
    pub when_full: WhenFull,
    /// A lower limit for copies from outside the organization (back pressure at Medium).
    pub queue_limit_external: Option<u32>,
    /// Shadow redundancy: copies held when the station fails are resubmitted by their senders
    /// (Exchange 2013 and later); without it they wait on disk for the restart (2007).
    pub shadow_redundancy: bool,
    /// Back pressure tarpits before refusing: a sender refused for a full queue is held
    /// [`crate::model::transport::tarpit`] before its 4xx (Exchange 2013's MAIL FROM tarpit).
    pub tarpit: bool,
    pub availability: Availability,
    /// How this station retries messages it holds that the next one refuses; None: the
    /// scenario's.
    pub retry: Option<RetryPolicy>,
}

impl Station {
    /// A hop with no queue limit, always up, with the scenario's retry policy.
    pub fn new(name: &str, servers: Servers, service: Dist, per_kb_ns: f64) -> Self {
        Station {
            per_kb_ns,
            ..Station::plain(name.to_string(), StationKind::Hop, servers, service)
        }
    }

    /// A station with no queue limit, always up, without shadow redundancy.
    pub fn plain(name: String, kind: StationKind, servers: Servers, service: Dist) -> Self {
        Station {
            name,
            kind,
            servers,
            service,
            per_kb_ns: 0.0,
            queue_limit: None,
            when_full: WhenFull::Defer,
            queue_limit_external: None,
            shadow_redundancy: false,
            tarpit: false,
            availability: Availability::default(),
            retry: None,
        }
    }

    /// Mean service time in nanoseconds for a message of `mean_size_kb`.
    pub fn mean_service_ns(&self, mean_size_kb: f64) -> f64 {
        self.service.mean() + self.per_kb_ns * mean_size_kb
    }
}

/// One step of the route graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Node {
    /// Be served at `station` (with the work `extras[extra]` when there is one), then go to
    /// `next`.
    Visit {
        station: StationId,
        next: NodeId,
        extra: Option<ExtraId>,
    },
    /// Content filter `filters[index]`, then `next` if the copy passes.
    Filter { index: u32, next: NodeId },
    /// Pick one of `branches[start..end]` by probability.
    Branch { start: u32, end: u32 },
    /// One copy per recipient group present, each to its target in `splits[start..end]`.
    Split { start: u32, end: u32 },
    /// Delivered: latency recorded under flow `flow`.
    Deliver { flow: u16 },
}

#[derive(Clone, Debug)]
pub struct Network {
    pub stations: Vec<Station>,
    pub nodes: Vec<Node>,
    /// (cumulative probability, target); the last positive branch has an infinite bound.
    pub branches: Vec<(f64, NodeId)>,
    /// (recipient group, target).
    pub splits: Vec<(u8, NodeId)>,
    pub flows: Vec<String>,
    pub groups: Vec<String>,
    /// Route names and their entry nodes, in definition order.
    pub routes: Vec<(String, NodeId)>,
    /// Per node: the traffic meter a visit counts toward, if any.
    pub meters: Vec<Option<MeterId>>,
    /// Visits' own work, referenced by visit nodes.
    pub extras: Vec<VisitWork>,
    /// (spam detection, false-positive) probabilities referenced by filter nodes.
    pub filters: Vec<(f64, f64)>,
    /// Per node and recipient group: the flow such a copy ends in, if any.
    pub flow_of: Vec<[Option<u16>; MAX_GROUPS]>,
}

impl Network {
    pub fn node(&self, id: NodeId) -> Node {
        self.nodes[id.0 as usize]
    }

    pub fn route_entry(&self, name: &str) -> Option<NodeId> {
        self.routes.iter().find(|(n, _)| n == name).map(|(_, e)| *e)
    }

    /// The nodes reachable in one step with positive probability (used when compiling, not
    /// per event).
    pub fn successors(&self, id: NodeId) -> Vec<NodeId> {
        match self.node(id) {
            Node::Visit { next, .. } | Node::Filter { next, .. } => vec![next],
            Node::Deliver { .. } => Vec::new(),
            Node::Branch { start, end } => {
                let mut prev = 0.0;
                self.branches[start as usize..end as usize]
                    .iter()
                    .filter_map(|&(c, n)| {
                        let positive = c > prev;
                        prev = c;
                        positive.then_some(n)
                    })
                    .collect()
            }
            Node::Split { start, end } => self.splits[start as usize..end as usize]
                .iter()
                .map(|&(_, n)| n)
                .collect(),
        }
    }

    /// Expected visits to each node by one message entering at `entry`, where
    /// `group_present[g]` is the probability that the message has a recipient in group `g`
    /// (so a split sends a copy to `g`'s route with that probability). Solves the traffic
    /// equations by fixed-point iteration, which converges because every node can exit
    /// (checked at compile time). Filters pass a spam copy with probability 1 − detection and any other copy with
    /// probability 1 − false-positive rate; `spam` says which kind of message this is.
    pub fn expected_node_visits(
        &self,
        entry: NodeId,
        group_present: &[f64],
        spam: bool,
    ) -> Vec<f64> {
        let n = self.nodes.len();
        let mut inflow = vec![0.0; n];
        let mut next = vec![0.0; n];
        for _ in 0..1_000_000 {
            next.iter_mut().for_each(|x| *x = 0.0);
            next[entry.0 as usize] += 1.0;
            for (i, &x) in inflow.iter().enumerate() {
                if x == 0.0 {
                    continue;
                }
                match self.nodes[i] {
                    Node::Visit { next: to, .. } => next[to.0 as usize] += x,
                    Node::Filter { index, next: to } => {
                        let (detection, false_positive) = self.filters[index as usize];
                        next[to.0 as usize] +=
                            x * (1.0 - if spam { detection } else { false_positive });
                    }
                    Node::Deliver { .. } => {}
                    Node::Branch { start, end } => {
                        let mut prev = 0.0f64;
                        for &(c, to) in &self.branches[start as usize..end as usize] {
                            let p = (c.min(1.0) - prev).max(0.0);
                            prev = c.min(1.0);
                            next[to.0 as usize] += x * p;
                        }
                    }
                    Node::Split { start, end } => {
                        for &(g, to) in &self.splits[start as usize..end as usize] {
                            let p = group_present.get(g as usize).copied().unwrap_or(1.0);
                            next[to.0 as usize] += x * p;
                        }
                    }
                }
            }
            let diff: f64 = inflow.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
            std::mem::swap(&mut inflow, &mut next);
            if diff < 1e-13 {
                break;
            }
        }
        inflow
    }

    /// Expected work (server-seconds) one message entering at `entry` brings to each station,
    /// for a mean message size of `mean_size_kb` and `mean_recipients` per message; `spam` as
    /// in [`Self::expected_node_visits`]. Per-recipient work counts the message's mean
    /// recipients at every visit (exact before a split, an upper bound after one).
    pub fn expected_work_s(
        &self,
        entry: NodeId,
        group_present: &[f64],
        mean_size_kb: f64,
        mean_recipients: f64,
        spam: bool,
    ) -> Vec<f64> {
        let visits = self.expected_node_visits(entry, group_present, spam);
        let mut work = vec![0.0; self.stations.len()];
        for (node, v) in self.nodes.iter().zip(visits) {
            if let Node::Visit { station, extra, .. } = node {
                let st = &self.stations[station.0 as usize];
                let ns = match extra {
                    None => st.mean_service_ns(mean_size_kb),
                    Some(e) => self.extras[e.index()].mean_ns(st, mean_size_kb, mean_recipients),
                };
                work[station.0 as usize] += v * ns / 1e9;
            }
        }
        work
    }

    /// Every path from `entry` to a delivery, as (flow, probability, steps), for `explain` and
    /// for tests that compare routes with the seed. Steps are (kind, station name); a link's
    /// bandwidth station is folded into the link. A path that would revisit a node ends with a
    /// `("loop", route)` step instead of unrolling the loop.
    pub fn paths(&self, entry: NodeId) -> Vec<RoutePath> {
        let mut out = Vec::new();
        let mut walk = RoutePath {
            flow: String::new(),
            probability: 1.0,
            steps: Vec::new(),
        };
        self.paths_from(entry, &mut walk, &mut Vec::new(), &mut out);
        out
    }

    fn paths_from(
        &self,
        id: NodeId,
        walk: &mut RoutePath,
        seen: &mut Vec<NodeId>,
        out: &mut Vec<RoutePath>,
    ) {
        if seen.contains(&id) {
            let name = self
                .routes
                .iter()
                .find(|(_, e)| *e == id)
                .map(|(n, _)| n.clone())
                .unwrap_or_default();
            let mut done = walk.clone();
            done.flow = "(loop)".into();
            done.steps.push(("loop".into(), name));
            out.push(done);
            return;
        }
        seen.push(id);
        let mark = walk.steps.len();
        match self.node(id) {
            Node::Filter { index, next } => {
                let (spam, fp) = self.filters[index as usize];
                walk.steps.push((
                    "filter".into(),
                    format!("spam detection {spam}, false positives {fp}"),
                ));
                self.paths_from(next, walk, seen, out);
            }
            Node::Visit {
                station,
                next,
                extra,
            } => {
                let s = &self.stations[station.0 as usize];
                if s.kind != StationKind::LinkBandwidth {
                    walk.steps.push((s.kind.label().into(), s.name.clone()));
                }
                if let Some(e) = extra {
                    let label = &self.extras[e.index()].label;
                    if !label.is_empty() {
                        walk.steps.push(("work".into(), label.clone()));
                    }
                }
                self.paths_from(next, walk, seen, out);
            }
            Node::Deliver { flow } => {
                let mut done = walk.clone();
                done.flow = self.flows[flow as usize].clone();
                out.push(done);
            }
            Node::Branch { start, end } => {
                let mut prev = 0.0f64;
                let base = walk.probability;
                for &(c, to) in &self.branches[start as usize..end as usize] {
                    let p = (c.min(1.0) - prev).max(0.0);
                    prev = c.min(1.0);
                    if p > 0.0 {
                        walk.probability = base * p;
                        self.paths_from(to, walk, seen, out);
                    }
                }
                walk.probability = base;
            }
            Node::Split { start, end } => {
                for &(g, to) in &self.splits[start as usize..end as usize] {
                    walk.steps
                        .push(("split".into(), self.groups[g as usize].clone()));
                    self.paths_from(to, walk, seen, out);
                    walk.steps.pop();
                }
            }
        }
        walk.steps.truncate(mark);
        seen.pop();
    }
}

/// One path through the route graph; see [`Network::paths`].
#[derive(Clone, Debug, PartialEq)]
pub struct RoutePath {
    pub flow: String,
    pub probability: f64,
    /// (kind, name): kind is `hop`, `link`, `split` (name = the copy's group), `filter` or `loop`.
    pub steps: Vec<(String, String)>,
}

impl RoutePath {
    /// The hop names alone, in order (what the seed's route table lists).
    pub fn hops(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|(k, _)| k == "hop")
            .map(|(_, n)| n.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::{self, LoadOptions};

    /// `front` (servers 2, 10 ms + 1 ms/KB) → a filter catching 90% of spam and 1% of the rest
    /// → a branch: 30% back to `front` (a retry loop), 70% to `back` (20 ms) → split by group:
    /// `x` delivers, `y` visits `back` again and delivers.
    fn network() -> super::Network {
        let text = r#"
            groups = ["x", "y"]
            [run]
            duration_s = 10
            [sources.a]
            rate_per_s = 1
            route = "r"
            groups = { x = 0.5, y = 0.5 }
            [hops.front]
            servers = 2
            service_ms = { dist = "deterministic", value = 10 }
            per_kb_ms = 1
            [hops.back]
            servers = 1
            service_ms = { dist = "deterministic", value = 20 }
            [routes.r]
            steps = ["front", { spam_detection = 0.9, false_positive = 0.01 }]
            next = [{ p = 0.3, route = "r" }, { p = 0.7, route = "s" }]
            [routes.s]
            steps = ["back"]
            split = { x = "dx", y = "dy" }
            [routes.dx]
            deliver = "fx"
            [routes.dy]
            steps = ["back"]
            deliver = "fy"
        "#;
        let scn = scenario::from_text(text, "t.toml", "t", LoadOptions::default()).unwrap();
        scn.variants[0].network.clone()
    }

    fn station(net: &super::Network, name: &str) -> usize {
        net.stations.iter().position(|s| s.name == name).unwrap()
    }

    /// The traffic equations with a loop, a filter and a split, against the closed form: a
    /// copy passing the filter with probability q goes round the loop a geometric number of
    /// times, so `front` is visited 1 / (1 − 0.3 q) times; `back` gets the 0.7 q share of
    /// those once, plus once more for a `y` recipient (present with probability 0.5).
    #[test]
    fn expected_work_solves_the_traffic_equations() {
        let net = network();
        let entry = net.route_entry("r").unwrap();
        for (spam, q) in [(false, 0.99), (true, 0.1)] {
            let front_visits = 1.0 / (1.0 - 0.3 * q);
            let back_visits = front_visits * 0.7 * q * (1.0 + 0.5);
            let w = net.expected_work_s(entry, &[1.0, 0.5], 4.0, 1.0, spam);
            let (f, b) = (station(&net, "front"), station(&net, "back"));
            // Work = visits × mean service: front 10 ms + 4 KB × 1 ms/KB, back 20 ms.
            assert!((w[f] - front_visits * 0.014).abs() < 1e-9, "{w:?}");
            assert!((w[b] - back_visits * 0.020).abs() < 1e-9, "{w:?}");
        }
    }

    /// `paths` lists every way to a delivery once (the loop is cut, not unrolled), with the
    /// branch probabilities and the split's groups.
    #[test]
    fn paths_list_each_delivery_and_cut_loops() {
        let net = network();
        let paths = net.paths(net.route_entry("r").unwrap());
        let flows: Vec<&str> = paths.iter().map(|p| p.flow.as_str()).collect();
        assert_eq!(flows, ["(loop)", "fx", "fy"]);
        assert!((paths[0].probability - 0.3).abs() < 1e-12);
        assert!((paths[1].probability - 0.7).abs() < 1e-12);
        assert_eq!(paths[1].hops(), ["front", "back"]);
        assert_eq!(paths[2].hops(), ["front", "back", "back"]);
        assert!(paths[2].steps.contains(&("split".into(), "y".into())));
        assert!(paths[0].steps.iter().any(|(k, _)| k == "filter"));
        assert_eq!(net.route_entry("nowhere"), None);
    }

    /// `successors` skips a branch of probability zero (the compile-time exit check relies
    /// on it) and a delivery has none.
    #[test]
    fn successors_follow_positive_branches_only() {
        let net = network();
        for (i, node) in net.nodes.iter().enumerate() {
            let id = super::NodeId(i as u32);
            match node {
                super::Node::Deliver { .. } => assert!(net.successors(id).is_empty()),
                super::Node::Branch { .. } => assert_eq!(net.successors(id).len(), 2),
                super::Node::Split { .. } => assert_eq!(net.successors(id).len(), 2),
                _ => assert_eq!(net.successors(id).len(), 1),
            }
        }
    }
}
