//! The mail simulation: message copies walking the route graph through stations.
//!
//! This is the engine's [`Model`] and the hot path. Per event it does array look-ups, one or
//! two random draws, a `VecDeque` push or pop and a heap push; it allocates nothing once the
//! copy slab, the station queues and the event heap have grown to the run's high-water mark,
//! so memory is bounded by the copies in flight, not by the messages simulated.

use std::collections::VecDeque;

use rand::Rng;
use slab::Slab;

use crate::engine::{self, EventQueue, Model, RngStreams, SimRng, SimTime};
use crate::load::{ArrivalProcess, MAX_GROUPS, Source};
use crate::model::network::{Network, Node, NodeId, StationId};
use crate::stats::{Accounting, ConservationError, FlowStats, StationStats};

/// Random-stream namespaces (see [`crate::engine::RngStreams`]): arrivals and message
/// attributes per source, service per station, and one stream for routing choices.
pub mod streams {
    pub const ARRIVALS: u32 = 1;
    pub const MESSAGE: u32 = 2;
    pub const SERVICE: u32 = 3;
    pub const ROUTING: u32 = 4;
}

#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The next message of source `0` arrives.
    Arrival(u32),
    /// Copy `0` finishes at the station of its current node.
    Done(u32),
    /// Statistics restart: warm-up is over.
    WarmupEnd,
}

/// When a run stops.
#[derive(Clone, Copy, Debug)]
pub struct RunLimits {
    /// Statistics cover `[warmup, end)`.
    pub warmup: SimTime,
    /// Stop at this simulated time; copies still moving are counted in flight.
    pub duration: Option<SimTime>,
    /// Stop generating after this many messages, then run until every copy has ended.
    pub max_messages: Option<u64>,
}

/// One message copy in flight: where it is, since when, and what it carries.
#[derive(Clone, Copy, Debug)]
struct MsgCopy {
    /// When its message entered the first modeled hop.
    born: SimTime,
    /// When it arrived at its current station.
    entered: SimTime,
    node: NodeId,
    recipients: u32,
    groups: [u32; MAX_GROUPS],
    size_kb: f64,
}

struct StationState {
    /// `u32::MAX` for unlimited.
    servers: u32,
    busy: u32,
    queue: VecDeque<u32>,
    rng: SimRng,
    stats: StationStats,
}

struct SourceState<'a> {
    entry: NodeId,
    process: ArrivalProcess<'a>,
    arrivals: SimRng,
    message: SimRng,
}

/// The measurements of one finished run (one variant × one replication).
#[derive(Clone, Debug)]
pub struct RunResult {
    pub flows: Vec<FlowStats>,
    pub stations: Vec<StationStats>,
    pub accounting: Accounting,
    pub events: u64,
    /// Simulated time at the end of the run.
    pub end: SimTime,
    /// Length of the statistics window (end − warm-up).
    pub window: SimTime,
}

pub struct MailSim<'a> {
    net: &'a Network,
    sources: &'a [Source],
    source_state: Vec<SourceState<'a>>,
    stations: Vec<StationState>,
    copies: Slab<MsgCopy>,
    routing: SimRng,
    limits: RunLimits,
    flows: Vec<FlowStats>,
    accounting: Accounting,
}

impl<'a> MailSim<'a> {
    /// Builds the run state; `sources[i].route` must name a route of `net` (checked by the
    /// scenario loader) and rates must be positive.
    pub fn new(
        net: &'a Network,
        sources: &'a [Source],
        rng: RngStreams,
        limits: RunLimits,
    ) -> Self {
        let stations = net
            .stations
            .iter()
            .enumerate()
            .map(|(i, s)| StationState {
                servers: s.servers.count().unwrap_or(u32::MAX),
                busy: 0,
                queue: VecDeque::new(),
                rng: rng.stream(streams::SERVICE, i as u64),
                stats: StationStats::default(),
            })
            .collect();
        let source_state = sources
            .iter()
            .enumerate()
            .map(|(i, s)| SourceState {
                entry: net
                    .route_entry(&s.route)
                    .expect("source routes are checked when loading"),
                process: ArrivalProcess::new(&s.arrivals, s.rate_per_s),
                arrivals: rng.stream(streams::ARRIVALS, i as u64),
                message: rng.stream(streams::MESSAGE, i as u64),
            })
            .collect();
        MailSim {
            net,
            sources,
            source_state,
            stations,
            copies: Slab::new(),
            routing: rng.stream(streams::ROUTING, 0),
            limits,
            flows: vec![FlowStats::default(); net.flows.len()],
            accounting: Accounting::default(),
        }
    }

    /// Runs to the limits and returns the measurements, after checking that every generated
    /// recipient is accounted for.
    pub fn run(mut self) -> Result<RunResult, ConservationError> {
        let mut queue = EventQueue::with_capacity(1024);
        for i in 0..self.source_state.len() {
            let first = self.next_arrival(SimTime::ZERO, i);
            if let Some(t) = first {
                queue.schedule(t, Event::Arrival(i as u32));
            }
        }
        if self.limits.warmup > SimTime::ZERO {
            queue.schedule(self.limits.warmup, Event::WarmupEnd);
        }
        let horizon = self.limits.duration;
        let outcome = engine::run(&mut self, &mut queue, horizon);
        self.finish(outcome.end, outcome.events)
    }

    fn finish(mut self, end: SimTime, events: u64) -> Result<RunResult, ConservationError> {
        for st in &mut self.stations {
            let (b, q) = (st.stats.busy.level(), st.stats.queue.level());
            st.stats.busy.set(end, b);
            st.stats.queue.set(end, q);
        }
        self.accounting.in_flight = self
            .copies
            .iter()
            .map(|(_, c)| u64::from(c.recipients))
            .sum();
        self.accounting.check()?;
        Ok(RunResult {
            flows: self.flows,
            stations: self.stations.into_iter().map(|s| s.stats).collect(),
            accounting: self.accounting,
            events,
            end,
            window: end.saturating_sub(self.limits.warmup),
        })
    }

    /// The time of source `i`'s next arrival after `now`, if it falls before the end.
    fn next_arrival(&mut self, now: SimTime, i: usize) -> Option<SimTime> {
        if self
            .limits
            .max_messages
            .is_some_and(|m| self.accounting.messages >= m)
        {
            return None;
        }
        let s = &mut self.source_state[i];
        s.process
            .next_after(now, self.limits.duration, &mut s.arrivals)
    }

    fn on_arrival(&mut self, now: SimTime, i: usize, queue: &mut EventQueue<Event>) {
        if self
            .limits
            .max_messages
            .is_some_and(|m| self.accounting.messages >= m)
        {
            return; // another source reached the message bound first
        }
        let spec = &self.sources[i];
        let st = &mut self.source_state[i];
        let (recipients, groups, size_kb) = match st.process.recorded() {
            Some(m) => (
                m.recipients,
                spec.place_recipients(m.recipients, &mut st.message),
                m.size_kb,
            ),
            None => {
                let (n, groups) = spec.draw_groups(&mut st.message);
                (n, groups, spec.size_kb.sample(&mut st.message))
            }
        };
        let entry = st.entry;
        self.accounting.messages += 1;
        self.accounting.generated += u64::from(recipients);
        if let Some(t) = self.next_arrival(now, i) {
            queue.schedule(t, Event::Arrival(i as u32));
        }
        let id = self.copies.insert(MsgCopy {
            born: now,
            entered: now,
            node: entry,
            recipients,
            groups,
            size_kb,
        });
        self.enter(now, id, entry, queue);
    }

    /// Moves copy `id` into `node` and onward through branch, split and delivery nodes until it
    /// reaches a station.
    fn enter(&mut self, now: SimTime, id: usize, mut node: NodeId, queue: &mut EventQueue<Event>) {
        loop {
            match self.net.node(node) {
                Node::Visit { station, .. } => {
                    self.copies[id].node = node;
                    self.arrive(now, id, station, queue);
                    return;
                }
                Node::Branch { start, end } => {
                    let u: f64 = self.routing.random();
                    let table = &self.net.branches[start as usize..end as usize];
                    node = table[table.partition_point(|&(c, _)| c <= u)].1;
                }
                Node::Split { start, end } => {
                    self.split(now, id, start as usize..end as usize, queue);
                    return;
                }
                Node::Deliver { flow } => {
                    let c = self.copies.remove(id);
                    self.accounting.delivered += u64::from(c.recipients);
                    if c.born >= self.limits.warmup {
                        self.flows[usize::from(flow)].record(now - c.born, c.recipients);
                    }
                    return;
                }
            }
        }
    }

    /// Bifurcation: one copy per recipient group present, each carrying that group's
    /// recipients. The original copy becomes the first of them.
    fn split(
        &mut self,
        now: SimTime,
        id: usize,
        targets: std::ops::Range<usize>,
        queue: &mut EventQueue<Event>,
    ) {
        let original = self.copies[id];
        let mut out = [(0usize, NodeId(0)); MAX_GROUPS];
        let mut n = 0;
        for &(g, to) in &self.net.splits[targets] {
            let count = original.groups[usize::from(g)];
            if count == 0 {
                continue;
            }
            let mut groups = [0; MAX_GROUPS];
            groups[usize::from(g)] = count;
            let copy = MsgCopy {
                recipients: count,
                groups,
                ..original
            };
            let cid = if n == 0 {
                self.copies[id] = copy;
                id
            } else {
                self.copies.insert(copy)
            };
            out[n] = (cid, to);
            n += 1;
        }
        for &(cid, to) in &out[..n] {
            self.enter(now, cid, to, queue);
        }
    }

    #[inline]
    fn service_time(&mut self, s: StationId, size_kb: f64) -> SimTime {
        let spec = &self.net.stations[s.0 as usize];
        let st = &mut self.stations[s.0 as usize];
        SimTime::from_nanos_f64(spec.service.sample(&mut st.rng) + spec.per_kb_ns * size_kb)
    }

    fn arrive(&mut self, now: SimTime, id: usize, s: StationId, queue: &mut EventQueue<Event>) {
        let c = &mut self.copies[id];
        c.entered = now;
        let size_kb = c.size_kb;
        let st = &mut self.stations[s.0 as usize];
        st.stats.arrivals += 1;
        if st.busy < st.servers {
            st.busy += 1;
            st.stats.busy.set(now, u64::from(st.busy));
            st.stats.record_wait(SimTime::ZERO);
            let t = now + self.service_time(s, size_kb);
            queue.schedule(t, Event::Done(id as u32));
        } else {
            st.queue.push_back(id as u32);
            let len = st.queue.len() as u64;
            st.stats.queue.set(now, len);
            st.stats.max_queue = st.stats.max_queue.max(len);
        }
    }

    fn on_done(&mut self, now: SimTime, id: usize, queue: &mut EventQueue<Event>) {
        let c = self.copies[id];
        let Node::Visit { station: s, next } = self.net.node(c.node) else {
            unreachable!("a copy in service sits on a visit node")
        };
        let st = &mut self.stations[s.0 as usize];
        st.stats.completions += 1;
        st.stats.sojourn_sum_ns += u128::from((now - c.entered).as_nanos());
        if let Some(waiting) = st.queue.pop_front() {
            st.stats.queue.set(now, st.queue.len() as u64);
            let w = self.copies[waiting as usize];
            st.stats.record_wait(now - w.entered);
            let t = now + self.service_time(s, w.size_kb);
            queue.schedule(t, Event::Done(waiting));
        } else {
            st.busy -= 1;
            st.stats.busy.set(now, u64::from(st.busy));
        }
        self.enter(now, id, next, queue);
    }
}

impl Model for MailSim<'_> {
    type Event = Event;

    #[inline]
    fn handle(&mut self, now: SimTime, event: Event, queue: &mut EventQueue<Event>) {
        match event {
            Event::Arrival(i) => self.on_arrival(now, i as usize, queue),
            Event::Done(id) => self.on_done(now, id as usize, queue),
            Event::WarmupEnd => {
                for st in &mut self.stations {
                    st.stats.restart(now);
                }
            }
        }
    }
}
