//! The compiled network: stations (hops and links) and the node graph copies walk.
//!
//! Everything is an index into a flat `Vec`, so the simulation's hot path does no hashing
//! and no pointer chasing beyond one array look-up per step.

use super::dist::Dist;

/// Index of a station in [`Network::stations`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StationId(pub u32);

/// Index of a node in [`Network::nodes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(pub u32);

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
}

impl Station {
    /// Mean service time in nanoseconds for a message of `mean_size_kb`.
    pub fn mean_service_ns(&self, mean_size_kb: f64) -> f64 {
        self.service.mean() + self.per_kb_ns * mean_size_kb
    }
}

/// One step of the route graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Node {
    /// Be served at `station`, then go to `next`.
    Visit { station: StationId, next: NodeId },
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
}

impl Network {
    pub fn node(&self, id: NodeId) -> Node {
        self.nodes[id.0 as usize]
    }

    pub fn route_entry(&self, name: &str) -> Option<NodeId> {
        self.routes.iter().find(|(n, _)| n == name).map(|(_, e)| *e)
    }

    pub fn station_id(&self, name: &str) -> Option<StationId> {
        self.stations
            .iter()
            .position(|s| s.name == name)
            .map(|i| StationId(i as u32))
    }

    /// The nodes reachable in one step with positive probability.
    pub fn successors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let (a, b): (Option<NodeId>, &[NodeId]) = match self.node(id) {
            Node::Visit { next, .. } => (Some(next), &[]),
            Node::Deliver { .. } => (None, &[]),
            Node::Branch { .. } | Node::Split { .. } => (None, &[]),
        };
        let multi: Vec<NodeId> = match self.node(id) {
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
            _ => Vec::new(),
        };
        a.into_iter().chain(b.iter().copied()).chain(multi)
    }

    /// Expected visits to each station by one message entering at `entry`, where
    /// `group_present[g]` is the probability that the message has a recipient in group `g`
    /// (so a split sends a copy to `g`'s route with that probability). Solves the traffic
    /// equations by fixed-point iteration, which converges because every node can exit
    /// (checked at compile time).
    pub fn expected_visits(&self, entry: NodeId, group_present: &[f64]) -> Vec<f64> {
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
        let mut visits = vec![0.0; self.stations.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            if let Node::Visit { station, .. } = node {
                visits[station.0 as usize] += inflow[i];
            }
        }
        visits
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
            Node::Visit { station, next } => {
                let s = &self.stations[station.0 as usize];
                if s.kind != StationKind::LinkBandwidth {
                    walk.steps.push((s.kind.label().into(), s.name.clone()));
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
    /// (kind, name): kind is `hop`, `link`, `split` (name = the copy's group) or `loop`.
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
