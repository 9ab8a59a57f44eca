//! The mail simulation: message copies walking the route graph through stations.
//!
//! This is the engine's [`Model`] and the hot path. Per event it does array look-ups, one or
//! two random draws, a `VecDeque` push or pop and a heap push; it allocates nothing once the
//! copy slots, the station queues and the event heap have grown to the run's high-water mark,
//! so memory is bounded by the copies in flight, not by the messages simulated.
//!
//! Transport behaviour: a station that is down or whose queue is full refuses a copy with a
//! transient error; the copy's holder (the station it last left, or the Internet sender) keeps
//! it and retries on its retry schedule until the expiration timeout, when it expires. A
//! station failing with shadow redundancy hands the copies it holds back to their senders;
//! without it they wait for the restart and in-service work starts over.

use std::collections::VecDeque;

use rand::Rng;

use crate::engine::{self, EventQueue, Model, RngStreams, SimRng, SimTime};
use crate::load::{ArrivalProcess, MAX_GROUPS, Source};
use crate::model::network::{ExtraId, Network, Node, NodeId, StationId, WhenFull};
use crate::model::transport::{self, RetryPolicy};
use crate::stats::warmup::{BatchSeries, WarmupCheck};
use crate::stats::{
    Accounting, ConservationError, FlowStats, MeterStats, OutageRecord, StationStats, StepIntegral,
};

/// Random-stream namespaces (see [`crate::engine::RngStreams`]): arrivals and message
/// attributes per source, service per station, one stream for routing choices, and failures
/// per station.
pub mod streams {
    pub const ARRIVALS: u32 = 1;
    pub const MESSAGE: u32 = 2;
    pub const SERVICE: u32 = 3;
    pub const ROUTING: u32 = 4;
    pub const FAILURES: u32 = 5;
}

/// What happens next: a completion or an arrival (nearly every event), or one of the rare
/// kinds. The rare kinds sit in their own enum so that dispatching an event is two
/// comparisons of its tag; a flat enum of six kinds compiled to a jump table (an indirect
/// jump and a table load on every event).
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// Copy `copy` finishes service at the station of its current node, if its service
    /// generation is still `service_gen` (an outage may have cancelled it).
    Done { copy: u32, service_gen: u32 },
    /// The next message of source `0` arrives.
    Arrival(u32),
    /// Retries, outages and the end of warm-up.
    Rare(Rare),
}

/// The events that are neither completions nor arrivals.
#[derive(Clone, Copy, Debug)]
pub enum Rare {
    /// Copy `0`'s sender retries it.
    Retry(u32),
    /// Station `station` goes down; `random` for a failure (vs. a scheduled window).
    Down { station: u32, random: bool },
    /// Station `station` comes back.
    Up { station: u32, random: bool },
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

/// How a copy ended, if not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EndState {
    Expired,
    Rejected,
    Quarantined,
    FilteredSpam,
}

/// One message copy in flight: where it is, since when, and what it carries.
#[derive(Clone, Copy, Debug)]
struct MsgCopy {
    /// When its message entered the first modeled hop.
    born: SimTime,
    /// When it arrived at its current station (or was last deferred).
    entered: SimTime,
    node: NodeId,
    recipients: u32,
    groups: [u32; MAX_GROUPS],
    size_kb: f64,
    spam: bool,
    in_service: bool,
    /// Service generation: matches the pending `Done` event, if any.
    service_gen: u32,
    /// The station holding the copy for retries (the last one it left); None while the copy is
    /// still with its original sender outside the network.
    holder: Option<StationId>,
    /// Retries toward the current station.
    attempts: u32,
    deferrals: u32,
    deferred_ns: u64,
    /// Whether the slot holds a copy (false once it ended; see [`Copies`]).
    live: bool,
}

/// The copies in flight: slots in a `Vec`, ended copies' slots reused last-freed first (the
/// order `slab` used, so slot numbers — and the order of an outage's scan — are as before).
/// An index is a bounds check, not a bounds check plus an occupancy match.
#[derive(Default)]
struct Copies {
    slots: Vec<MsgCopy>,
    free: Vec<u32>,
    live: usize,
}

impl Copies {
    #[inline]
    fn insert(&mut self, copy: MsgCopy) -> usize {
        debug_assert!(copy.live);
        self.live += 1;
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = copy;
                i as usize
            }
            None => {
                self.slots.push(copy);
                self.slots.len() - 1
            }
        }
    }

    /// Ends copy `id` and returns it. Its slot keeps no service: a pending `Done` for it
    /// finds it not in service.
    #[inline]
    fn remove(&mut self, id: usize) -> MsgCopy {
        let slot = &mut self.slots[id];
        debug_assert!(slot.live, "copy {id} ended twice");
        let c = *slot;
        slot.live = false;
        slot.in_service = false;
        slot.recipients = 0;
        self.free.push(id as u32);
        self.live -= 1;
        c
    }

    fn iter(&self) -> impl Iterator<Item = (usize, &MsgCopy)> {
        self.slots.iter().enumerate().filter(|(_, c)| c.live)
    }

    fn is_empty(&self) -> bool {
        self.live == 0
    }
}

impl std::ops::Index<usize> for Copies {
    type Output = MsgCopy;
    #[inline(always)]
    fn index(&self, id: usize) -> &MsgCopy {
        &self.slots[id]
    }
}

impl std::ops::IndexMut<usize> for Copies {
    #[inline(always)]
    fn index_mut(&mut self, id: usize) -> &mut MsgCopy {
        &mut self.slots[id]
    }
}

struct StationState {
    /// `u32::MAX` for unlimited.
    servers: u32,
    /// No queue limit and always up: an arrival is served or queued, never refused, so it
    /// skips those checks (decided once, when the run is built).
    plain: bool,
    /// Some visit to this station adds its own work (else a waiting copy starting service
    /// needs no look-up of its node).
    any_extra: bool,
    busy: u32,
    queue: VecDeque<u32>,
    /// The time integrals of `busy` and of the queue's length (`stats.busy` and
    /// `stats.queue` when the run ends).
    busy_time: StepIntegral,
    queue_time: StepIntegral,
    rng: SimRng,
    failures: SimRng,
    stats: StationStats,
    /// Overlapping outages in force (down while > 0).
    down: u32,
    /// Copies deferred by their senders, waiting to retry into this station.
    deferred: u64,
    /// Index in `outages` of the record still being tracked (down or draining).
    outage: Option<usize>,
    policy: RetryPolicy,
}

struct SourceState<'a> {
    entry: NodeId,
    process: ArrivalProcess<'a>,
    arrivals: SimRng,
    message: SimRng,
}

/// The measurements of one finished run (one variant × one replication). Serializable for
/// shard files; the histograms are skipped (they travel in an interval log).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunResult {
    pub flows: Vec<FlowStats>,
    pub stations: Vec<StationStats>,
    /// Per traffic meter id (index 0 unused).
    pub meters: Vec<MeterStats>,
    pub outages: Vec<OutageRecord>,
    pub accounting: Accounting,
    pub events: u64,
    /// Simulated time at the end of the run.
    pub end: SimTime,
    /// Length of the statistics window (end − warm-up).
    pub window: SimTime,
    /// Per flow, the warm-up MSER-5 would have chosen over the whole run (warm-up included).
    #[serde(default)]
    pub warmup_checks: Vec<WarmupCheck>,
}

pub struct MailSim<'a> {
    net: &'a Network,
    sources: &'a [Source],
    source_state: Vec<SourceState<'a>>,
    stations: Vec<StationState>,
    copies: Copies,
    routing: SimRng,
    limits: RunLimits,
    /// The retry policy of senders outside the network.
    external_policy: RetryPolicy,
    flows: Vec<FlowStats>,
    /// Per flow, every delivery's latency in delivery order (warm-up included), as bounded
    /// batch means for the MSER-5 warm-up check.
    series: Vec<BatchSeries>,
    meters: Vec<MeterStats>,
    outages: Vec<OutageRecord>,
    accounting: Accounting,
    next_gen: u32,
    /// Whether message sizes matter: some station has a per-KB cost, or a meter counts bytes.
    needs_size: bool,
    /// Whether some node counts toward a traffic meter (else completions skip the look-up).
    has_meters: bool,
    /// Whether some station can go down (an outage window or random failures): only then
    /// can a pending completion have been cancelled, so only then is it checked.
    can_cancel: bool,
    /// Messages still to generate under `limits.max_messages` (`u64::MAX` without a bound,
    /// a count no run reaches): each arrival tests and decrements one integer instead of
    /// comparing the optional bound with the messages generated, twice.
    messages_left: u64,
}

impl<'a> MailSim<'a> {
    /// Builds the run state; `sources[i].route` must name a route of `net` (checked by the
    /// scenario loader) and rates must be positive. `policy` is the scenario's retry policy,
    /// used by stations without their own and by senders outside the network.
    pub fn new(
        net: &'a Network,
        sources: &'a [Source],
        rng: RngStreams,
        limits: RunLimits,
        policy: RetryPolicy,
    ) -> Self {
        let stations = net
            .stations
            .iter()
            .enumerate()
            .map(|(i, s)| StationState {
                servers: s.servers.count().unwrap_or(u32::MAX),
                plain: s.queue_limit.is_none()
                    && s.queue_limit_external.is_none()
                    && s.availability.is_always_up(),
                any_extra: net.nodes.iter().any(|n| {
                    matches!(n, Node::Visit { station, extra: Some(_), .. } if station.0 as usize == i)
                }),
                busy: 0,
                queue: VecDeque::new(),
                busy_time: StepIntegral::default(),
                queue_time: StepIntegral::default(),
                rng: rng.stream(streams::SERVICE, i as u64),
                failures: rng.stream(streams::FAILURES, i as u64),
                stats: StationStats::default(),
                down: 0,
                deferred: 0,
                outage: None,
                policy: s.retry.unwrap_or(policy),
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
        let meter_count = net
            .meters
            .iter()
            .flatten()
            .map(|m| m.index())
            .max()
            .map_or(0, |m| m + 1);
        MailSim {
            net,
            sources,
            source_state,
            stations,
            copies: Copies::default(),
            routing: rng.stream(streams::ROUTING, 0),
            limits,
            external_policy: policy,
            flows: vec![FlowStats::default(); net.flows.len()],
            series: vec![BatchSeries::default(); net.flows.len()],
            meters: vec![MeterStats::default(); meter_count],
            outages: Vec::new(),
            accounting: Accounting::default(),
            next_gen: 0,
            needs_size: net.stations.iter().any(|s| s.per_kb_ns > 0.0)
                || net.meters.iter().any(Option::is_some),
            has_meters: meter_count > 0,
            can_cancel: net.stations.iter().any(|s| !s.availability.is_always_up()),
            messages_left: limits.max_messages.unwrap_or(u64::MAX),
        }
    }

    /// Runs to the limits and returns the measurements, after checking that every generated
    /// recipient is accounted for.
    pub fn run(mut self) -> Result<RunResult, ConservationError> {
        let mut queue = EventQueue::with_capacity(1024);
        for i in 0..self.source_state.len() {
            if let Some(t) = self.next_arrival(SimTime::ZERO, i) {
                schedule_arrival(&mut queue, t, i);
            }
        }
        for (i, st) in self.net.stations.iter().enumerate() {
            let station = i as u32;
            for &(start, len) in &st.availability.windows {
                queue.schedule(
                    start,
                    Event::Rare(Rare::Down {
                        station,
                        random: false,
                    }),
                );
                queue.schedule(
                    start + len,
                    Event::Rare(Rare::Up {
                        station,
                        random: false,
                    }),
                );
            }
            if let Some((mtbf, _)) = st.availability.failures {
                let t = self.draw_exp(i, mtbf);
                queue.schedule(
                    t,
                    Event::Rare(Rare::Down {
                        station,
                        random: true,
                    }),
                );
            }
        }
        if self.limits.warmup > SimTime::ZERO {
            queue.schedule(self.limits.warmup, Event::Rare(Rare::WarmupEnd));
        }
        let horizon = self.limits.duration;
        let outcome = engine::run(&mut self, &mut queue, horizon);
        self.finish(outcome.end, outcome.events)
    }

    fn finish(mut self, end: SimTime, events: u64) -> Result<RunResult, ConservationError> {
        for st in &mut self.stations {
            st.stats.busy = st.busy_time.close(end, u64::from(st.busy));
            st.stats.queue = st.queue_time.close(end, st.queue.len() as u64);
            st.stats.flush();
        }
        for f in &mut self.flows {
            f.flush();
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
            meters: self.meters,
            outages: self.outages,
            accounting: self.accounting,
            events,
            end,
            window: end.saturating_sub(self.limits.warmup),
            warmup_checks: {
                let horizon = self.limits.duration.unwrap_or(end);
                self.series.iter().map(|s| s.check(horizon)).collect()
            },
        })
    }

    /// An exponential draw with mean `mean_ns` from station `i`'s failure stream.
    fn draw_exp(&mut self, i: usize, mean_ns: f64) -> SimTime {
        let u: f64 = self.stations[i].failures.random();
        SimTime::from_nanos_f64(-mean_ns * (1.0 - u).ln())
    }

    /// The time of source `i`'s next arrival after `now`, if it falls before the end.
    #[inline(always)]
    fn next_arrival(&mut self, now: SimTime, i: usize) -> Option<SimTime> {
        if self.messages_left == 0 {
            return None;
        }
        let s = &mut self.source_state[i];
        s.process
            .next_after(now, self.limits.duration, &mut s.arrivals)
    }

    #[inline(always)]
    fn on_arrival(&mut self, now: SimTime, i: usize, queue: &mut EventQueue<Event>) {
        if self.messages_left == 0 {
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
                // Sizes are drawn only when something depends on them (a per-KB cost, a
                // bandwidth, a traffic meter): the draw was 6% of the hot path otherwise.
                let size = if self.needs_size {
                    spec.size_kb.sample(&mut st.message)
                } else {
                    0.0
                };
                (n, groups, size)
            }
        };
        // Drawn only when spam is possible, so scenarios without spam keep their streams.
        let spam = spec.spam_share > 0.0 && st.message.random::<f64>() < spec.spam_share;
        let entry = st.entry;
        self.accounting.messages += 1;
        self.accounting.generated += u64::from(recipients);
        self.messages_left -= 1;
        if let Some(t) = self.next_arrival(now, i) {
            schedule_arrival(queue, t, i);
        }
        let id = self.copies.insert(MsgCopy {
            born: now,
            entered: now,
            node: entry,
            recipients,
            groups,
            size_kb,
            spam,
            in_service: false,
            service_gen: 0,
            holder: None,
            attempts: 0,
            deferrals: 0,
            deferred_ns: 0,
            live: true,
        });
        self.enter(now, id, entry, queue);
    }

    /// Moves copy `id` into `node` and onward through branch, filter, split and delivery
    /// nodes until it reaches a station. A visit or a delivery, the common next steps, are
    /// handled inline at the call site (no call, no register spills: a fifth of the visit
    /// path's instructions were the calls of `enter` and `arrive`); branches, filters and
    /// splits go through [`Self::enter_graph`].
    #[inline(always)]
    fn enter(&mut self, now: SimTime, id: usize, node: NodeId, queue: &mut EventQueue<Event>) {
        match self.net.node(node) {
            Node::Visit { station, extra, .. } => {
                let c = &mut self.copies[id];
                c.node = node;
                c.entered = now;
                self.arrive(now, id, station, extra, queue);
            }
            Node::Deliver { flow } => self.deliver(now, id, flow),
            _ => self.enter_graph(now, id, node, queue),
        }
    }

    /// Copy `id` is delivered: its latency recorded under `flow`.
    #[inline(always)]
    fn deliver(&mut self, now: SimTime, id: usize, flow: u16) {
        let c = self.copies.remove(id);
        self.accounting.delivered += u64::from(c.recipients);
        self.series[usize::from(flow)].record(now, now - c.born);
        if c.born >= self.limits.warmup {
            let f = &mut self.flows[usize::from(flow)];
            f.record(now - c.born, c.recipients);
            // Most copies were never deferred: a test instead of a 128-bit multiply-add.
            if c.deferrals > 0 {
                f.deferrals += u64::from(c.deferrals);
                f.deferred_sum_ns += u128::from(c.deferred_ns) * u128::from(c.recipients);
            }
        }
    }

    /// [`Self::enter`] for any node: walks branch and filter nodes until a visit, a split
    /// or a delivery.
    #[inline(never)]
    fn enter_graph(
        &mut self,
        now: SimTime,
        id: usize,
        mut node: NodeId,
        queue: &mut EventQueue<Event>,
    ) {
        loop {
            match self.net.node(node) {
                Node::Visit { station, extra, .. } => {
                    let c = &mut self.copies[id];
                    c.node = node;
                    c.entered = now;
                    self.arrive(now, id, station, extra, queue);
                    return;
                }
                Node::Branch { start, end } => {
                    let u: f64 = self.routing.random();
                    let table = &self.net.branches[start as usize..end as usize];
                    node = table[table.partition_point(|&(c, _)| c <= u)].1;
                }
                Node::Filter { index, next } => {
                    let (spam_detection, false_positive) = self.net.filters[index as usize];
                    let p = if self.copies[id].spam {
                        spam_detection
                    } else {
                        false_positive
                    };
                    if p > 0.0 && self.routing.random::<f64>() < p {
                        let state = if self.copies[id].spam {
                            EndState::FilteredSpam
                        } else {
                            EndState::Quarantined
                        };
                        self.end_copy(id, node, state, None);
                        return;
                    }
                    node = next;
                }
                Node::Split { start, end } => {
                    self.split(now, id, start as usize..end as usize, queue);
                    return;
                }
                Node::Deliver { flow } => {
                    self.deliver(now, id, flow);
                    return;
                }
            }
        }
    }

    /// Ends copy `id` at `node` in `state`, attributing its recipients to the flows they were
    /// heading for; `waiting_for` is the station it was waiting for, if any.
    #[inline(never)]
    fn end_copy(&mut self, id: usize, node: NodeId, state: EndState, waiting_for: Option<usize>) {
        let c = self.copies.remove(id);
        let n = u64::from(c.recipients);
        match state {
            EndState::Expired => self.accounting.expired += n,
            EndState::Rejected => self.accounting.rejected += n,
            EndState::Quarantined => self.accounting.quarantined += n,
            EndState::FilteredSpam => self.accounting.filtered_spam += n,
        }
        if let Some(s) = waiting_for {
            let st = &mut self.stations[s];
            st.stats.expired += 1;
            if let Some(o) = st.outage {
                self.outages[o].expired += n;
            }
        }
        if c.born < self.limits.warmup {
            return;
        }
        let flows_here = self.net.flow_of[node.0 as usize];
        for (g, &count) in c.groups.iter().enumerate() {
            let Some(f) = flows_here[g] else { continue };
            if count == 0 {
                continue;
            }
            let fs = &mut self.flows[usize::from(f)];
            let k = u64::from(count);
            match state {
                EndState::Expired => fs.expired += k,
                EndState::Rejected => fs.rejected += k,
                EndState::Quarantined => fs.quarantined += k,
                EndState::FilteredSpam => fs.filtered_spam += k,
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

    /// The retry policy of the sender holding copy `c`.
    #[inline]
    fn holder_policy(&self, c: &MsgCopy) -> RetryPolicy {
        match c.holder {
            None => self.external_policy,
            Some(h) => self.stations[h.0 as usize].policy,
        }
    }

    /// Copy `id` arrives at station `s` (its node is a visit there with `extra` work): served
    /// at once, queued, or refused. The caller has set the copy's node and arrival time.
    #[inline(always)]
    fn arrive(
        &mut self,
        now: SimTime,
        id: usize,
        s: StationId,
        extra: Option<ExtraId>,
        queue: &mut EventQueue<Event>,
    ) {
        let si = s.0 as usize;
        if !self.stations[si].plain && !self.admit(now, id, si, queue) {
            return;
        }
        let st = &mut self.stations[si];
        st.stats.arrivals += 1;
        if st.busy < st.servers {
            st.busy += 1;
            st.busy_time.rise(now);
            st.stats.record_zero_wait();
            self.start_service(now, id, si, extra, queue);
        } else {
            st.queue.push_back(id as u32);
            st.queue_time.rise(now);
            let len = st.queue.len() as u64;
            st.stats.max_queue = st.stats.max_queue.max(len);
        }
    }

    /// [`Self::arrive`]'s checks at a station with a queue limit or outages: whether copy
    /// `id` may go in; if not, it has been refused (4xx) or rejected (5xx).
    #[inline(never)]
    fn admit(&mut self, now: SimTime, id: usize, si: usize, queue: &mut EventQueue<Event>) -> bool {
        let spec = &self.net.stations[si];
        let c = &self.copies[id];
        let external = c.holder.is_none();
        let st = &mut self.stations[si];
        let has_server = st.busy < st.servers;
        let limit = if external {
            spec.queue_limit_external.or(spec.queue_limit)
        } else {
            spec.queue_limit
        };
        let full = !has_server && limit.is_some_and(|l| st.queue.len() >= l as usize);
        if full && st.down == 0 && spec.when_full == WhenFull::Reject {
            // A loss system: the copy is refused for good (5xx) and ends here.
            st.stats.rejections += 1;
            let node = c.node;
            self.end_copy(id, node, EndState::Rejected, None);
            return false;
        }
        if st.down > 0 || full {
            // Back pressure holds the sender before its 4xx; an outage refuses at once.
            let tarpit = full && spec.tarpit && st.down == 0;
            self.refuse(now, id, si, tarpit, queue);
            return false;
        }
        true
    }

    /// A transient (4xx) refusal: the copy's holder keeps it and retries on its schedule, after
    /// the tarpit if `tarpit`.
    #[inline(never)]
    fn refuse(
        &mut self,
        now: SimTime,
        id: usize,
        si: usize,
        tarpit: bool,
        queue: &mut EventQueue<Event>,
    ) {
        let policy = self.holder_policy(&self.copies[id]);
        let c = &mut self.copies[id];
        c.attempts += 1;
        c.deferrals += 1;
        c.entered = now;
        let mut delay = policy.delay(c.attempts);
        if tarpit {
            delay += transport::tarpit(c.attempts);
        }
        let st = &mut self.stations[si];
        st.stats.refusals += 1;
        st.deferred += 1;
        self.note_backlog(si);
        queue.schedule(now + delay, Event::Rare(Rare::Retry(id as u32)));
    }

    fn on_retry(&mut self, now: SimTime, id: usize, queue: &mut EventQueue<Event>) {
        let c = self.copies[id];
        let Node::Visit { station, extra, .. } = self.net.node(c.node) else {
            unreachable!("a deferred copy waits for a visit node")
        };
        let si = station.0 as usize;
        self.stations[si].deferred -= 1;
        self.copies[id].deferred_ns += (now - c.entered).as_nanos();
        if now - c.born >= self.holder_policy(&c).expiration_timeout {
            self.end_copy(id, c.node, EndState::Expired, Some(si));
        } else {
            self.copies[id].entered = now;
            self.arrive(now, id, station, extra, queue);
        }
        self.check_drain(now, si);
    }

    /// Starts serving copy `id` at station `si`, where its node adds `extra` work (a server
    /// is already reserved).
    #[inline(always)]
    fn start_service(
        &mut self,
        now: SimTime,
        id: usize,
        si: usize,
        extra: Option<ExtraId>,
        queue: &mut EventQueue<Event>,
    ) {
        let c = &mut self.copies[id];
        let spec = &self.net.stations[si];
        let st = &mut self.stations[si];
        // The per-KB cost only where sizes matter (else it is 0 × 0, and adding it changes
        // nothing).
        let per_kb = |ns: f64| {
            if self.needs_size {
                ns + spec.per_kb_ns * c.size_kb
            } else {
                ns
            }
        };
        let ns = match extra {
            None => per_kb(spec.service.sample(&mut st.rng)),
            Some(e) => {
                // The visit's own work: its service (or the station's), then what it adds.
                let w = &self.net.extras[e.index()];
                let base = w.service.as_ref().unwrap_or(&spec.service);
                let mut ns = per_kb(base.sample(&mut st.rng));
                if let Some(d) = &w.extra {
                    ns += d.sample(&mut st.rng);
                }
                if let Some(d) = &w.per_recipient {
                    for _ in 0..c.recipients {
                        ns += d.sample(&mut st.rng);
                    }
                }
                ns
            }
        };
        // A generation tells a cancelled completion from the current one; without outages
        // none is cancelled (see `on_done`), so every service keeps generation 0.
        if self.can_cancel {
            self.next_gen = self.next_gen.wrapping_add(1);
            c.service_gen = self.next_gen;
        }
        c.in_service = true;
        queue.schedule(
            now + SimTime::from_nanos_f64(ns),
            Event::Done {
                copy: id as u32,
                service_gen: c.service_gen,
            },
        );
    }

    /// Serves waiting copies at station `si` while servers are free; copies that waited past
    /// the station's expiration timeout expire instead. Inlined: it runs on most completions
    /// at a busy station.
    #[inline(always)]
    fn serve_waiting(&mut self, now: SimTime, si: usize, queue: &mut EventQueue<Event>) {
        loop {
            let st = &mut self.stations[si];
            if st.busy >= st.servers || st.down > 0 {
                return;
            }
            let Some(next) = st.queue.pop_front() else {
                return;
            };
            st.queue_time.fall(now);
            let w = &self.copies[next as usize];
            let (born, node, entered) = (w.born, w.node, w.entered);
            let extra = if st.any_extra {
                let Node::Visit { extra, .. } = self.net.node(node) else {
                    unreachable!("a queued copy waits at a visit node")
                };
                extra
            } else {
                None
            };
            if now - born >= st.policy.expiration_timeout {
                self.end_copy(next as usize, node, EndState::Expired, Some(si));
                continue;
            }
            st.busy += 1;
            st.busy_time.rise(now);
            st.stats.record_wait(now - entered);
            self.start_service(now, next as usize, si, extra, queue);
        }
    }

    #[inline(always)]
    fn on_done(
        &mut self,
        now: SimTime,
        id: usize,
        service_gen: u32,
        queue: &mut EventQueue<Event>,
    ) {
        // A slot not in service has no pending completion (an ended copy's slot is never in
        // service; see `Copies::remove`). Without outages nothing cancels a completion.
        if self.can_cancel
            && !matches!(self.copies.slots.get(id),
                Some(c) if c.in_service && c.service_gen == service_gen)
        {
            return; // cancelled by an outage
        }
        let c = &mut self.copies[id];
        c.in_service = false;
        let (node, entered, size_kb) = (c.node, c.entered, c.size_kb);
        let Node::Visit {
            station: s, next, ..
        } = self.net.node(node)
        else {
            unreachable!("a copy in service sits on a visit node")
        };
        let si = s.0 as usize;
        c.holder = Some(s);
        c.attempts = 0;
        let st = &mut self.stations[si];
        st.stats.completions += 1;
        st.stats.sojourn_sum_ns += u128::from((now - entered).as_nanos());
        st.busy -= 1;
        st.busy_time.fall(now);
        if !st.queue.is_empty() {
            self.serve_waiting(now, si, queue);
        }
        if self.has_meters || self.can_cancel {
            self.after_done(now, node, si, size_kb);
        }
        self.enter(now, id, next, queue);
    }

    /// What a completion may add where the network has meters or outages: the meter's
    /// count, and whether an outage's backlog has drained.
    #[inline(never)]
    fn after_done(&mut self, now: SimTime, node: NodeId, si: usize, size_kb: f64) {
        if self.has_meters
            && let Some(m) = self.net.meters[node.0 as usize]
            && now >= self.limits.warmup
        {
            self.meters[m.index()].record(now - self.limits.warmup, size_kb);
        }
        if self.stations[si].outage.is_some() {
            self.check_drain(now, si);
        }
    }

    fn on_down(&mut self, now: SimTime, si: usize, random: bool, queue: &mut EventQueue<Event>) {
        if random {
            let (_, mttr) = self.net.stations[si]
                .availability
                .failures
                .expect("random outages come from failures");
            let t = now + self.draw_exp(si, mttr);
            queue.schedule(
                t,
                Event::Rare(Rare::Up {
                    station: si as u32,
                    random: true,
                }),
            );
        }
        self.stations[si].down += 1;
        if self.stations[si].down > 1 {
            return; // already down
        }
        let waiting = self.stations[si].queue.len() as u64 + self.stations[si].deferred;
        self.outages.push(OutageRecord {
            station: si as u32,
            start: now,
            end: None,
            peak_backlog: waiting,
            backlog_at_start: waiting,
            drained: None,
            expired: 0,
        });
        self.stations[si].outage = Some(self.outages.len() - 1);
        let unlimited = self.net.stations[si].servers.count().is_none();
        if unlimited {
            return; // a link: messages already in transit arrive; new ones are refused
        }
        // Copies in service stop. Their pending completions are cancelled by `in_service`.
        let in_service: Vec<usize> = self
            .copies
            .iter()
            .filter(|(_, c)| c.in_service && matches!(self.net.node(c.node), Node::Visit { station, .. } if station.0 as usize == si))
            .map(|(i, _)| i)
            .collect();
        for &i in &in_service {
            self.copies[i].in_service = false;
        }
        let st = &mut self.stations[si];
        st.busy_time.step(now, u64::from(st.busy), 0);
        st.busy = 0;
        if self.net.stations[si].shadow_redundancy {
            // Resubmitted from the shadow copies: their senders hold them and retry.
            st.queue_time.step(now, st.queue.len() as u64, 0);
            let queued: Vec<u32> = st.queue.drain(..).collect();
            for i in in_service
                .into_iter()
                .chain(queued.into_iter().map(|q| q as usize))
            {
                self.refuse(now, i, si, false, queue);
            }
        } else {
            // Kept on disk: interrupted work starts over after the restart, first in line.
            let before = st.queue.len() as u64;
            for &i in in_service.iter().rev() {
                st.queue.push_front(i as u32);
            }
            st.queue_time.step(now, before, st.queue.len() as u64);
        }
        self.note_backlog(si);
    }

    /// Whether anything is left to simulate: a message-bounded run ends when the last copy
    /// has, so the failure process must not keep it going.
    fn has_work(&self) -> bool {
        !(self.messages_left == 0 && self.copies.is_empty())
    }

    fn on_up(&mut self, now: SimTime, si: usize, random: bool, queue: &mut EventQueue<Event>) {
        if random && self.has_work() {
            let (mtbf, _) = self.net.stations[si]
                .availability
                .failures
                .expect("random outages come from failures");
            let t = now + self.draw_exp(si, mtbf);
            queue.schedule(
                t,
                Event::Rare(Rare::Down {
                    station: si as u32,
                    random: true,
                }),
            );
        }
        let st = &mut self.stations[si];
        st.down -= 1;
        if st.down > 0 {
            return;
        }
        if let Some(o) = st.outage {
            self.outages[o].end = Some(now);
        }
        self.serve_waiting(now, si, queue);
        self.check_drain(now, si);
    }

    fn backlog(&self, si: usize) -> u64 {
        let st = &self.stations[si];
        st.queue.len() as u64 + st.deferred
    }

    fn note_backlog(&mut self, si: usize) {
        if let Some(o) = self.stations[si].outage {
            let b = self.backlog(si);
            let r = &mut self.outages[o];
            r.peak_backlog = r.peak_backlog.max(b);
        }
    }

    /// After recovery, the outage's backlog has drained once nothing waits on a retry for the
    /// station and its queue is back to its length at the outage's start.
    fn check_drain(&mut self, now: SimTime, si: usize) {
        let Some(o) = self.stations[si].outage else {
            return;
        };
        let r = &self.outages[o];
        let st = &self.stations[si];
        if r.end.is_some() && st.deferred == 0 && st.queue.len() as u64 <= r.backlog_at_start {
            self.outages[o].drained = Some(now);
            self.stations[si].outage = None;
        }
    }
}

/// Schedules source `i`'s next arrival. A source has one arrival pending at a time (the next
/// is drawn when it is handled), so the first source's go in the queue's lane, outside the
/// pending set, which then holds the service completions and the other sources' arrivals:
/// one insert and one reordering fewer per message of that source, and the same pop order.
#[inline(always)]
fn schedule_arrival(queue: &mut EventQueue<Event>, t: SimTime, i: usize) {
    if i == 0 {
        queue.schedule_lane(t, Event::Arrival(0));
    } else {
        queue.schedule(t, Event::Arrival(i as u32));
    }
}

impl Model for MailSim<'_> {
    type Event = Event;

    #[inline(always)]
    fn handle(&mut self, now: SimTime, event: Event, queue: &mut EventQueue<Event>) {
        match event {
            Event::Done { copy, service_gen } => {
                self.on_done(now, copy as usize, service_gen, queue)
            }
            Event::Arrival(i) => self.on_arrival(now, i as usize, queue),
            Event::Rare(rare) => self.handle_rare(now, rare, queue),
        }
    }
}

impl MailSim<'_> {
    /// [`Model::handle`] for retries, outages and the end of warm-up, out of line.
    #[inline(never)]
    fn handle_rare(&mut self, now: SimTime, event: Rare, queue: &mut EventQueue<Event>) {
        match event {
            Rare::Retry(id) => self.on_retry(now, id as usize, queue),
            Rare::Down { station, random } => self.on_down(now, station as usize, random, queue),
            Rare::Up { station, random } => self.on_up(now, station as usize, random, queue),
            Rare::WarmupEnd => {
                for st in &mut self.stations {
                    let waiting = st.queue.len() as u64;
                    st.stats.restart(waiting);
                    st.busy_time.restart(now, u64::from(st.busy));
                    st.queue_time.restart(now, waiting);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::runner::{self, RunOptions, StudyOutcome};
    use crate::scenario::{self, LoadOptions};

    fn run(text: &str) -> StudyOutcome {
        let scn = scenario::from_text(text, "t.toml", "t", LoadOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        runner::run(&scn, RunOptions::default(), &|| {}).unwrap()
    }

    const ONE_HOP: &str = r#"
        [run]
        duration_s = 200
        warmup_s = 10
        [sources.a]
        rate_per_s = 5
        route = "r"
        recipients = { counts = [3], weights = [1] }
        [hops.s]
        servers = "unlimited"
        service_ms = { dist = "deterministic", value = 100 }
    "#;

    /// A look-up's work is paid once per recipient: with deterministic times and unlimited
    /// servers every copy of a 3-recipient message takes exactly 100 + 3 × 10 ms.
    #[test]
    fn per_recipient_work_is_paid_per_recipient() {
        let text = format!(
            "{ONE_HOP}\n[routes.r]\nsteps = [{{ hop = \"s\", per_recipient_ms = {{ dist = \"deterministic\", value = 10 }} }}]\ndeliver = \"d\"\n"
        );
        let s = run(&text);
        let f = &s.variants[0].flows[0].1;
        assert!((f.mean_ms.mean - 130.0).abs() < 1e-6, "{}", f.mean_ms.mean);
        assert!(f.max_ms.mean < 130.001, "{}", f.max_ms.mean);
    }

    /// A visit's own service time replaces the hop's on that visit only.
    #[test]
    fn a_visit_service_replaces_the_hops() {
        let text = format!(
            "{ONE_HOP}\n[routes.r]\nsteps = [{{ hop = \"s\", service_ms = {{ dist = \"deterministic\", value = 20 }} }}, \"s\"]\ndeliver = \"d\"\n"
        );
        let s = run(&text);
        let f = &s.variants[0].flows[0].1;
        assert!((f.mean_ms.mean - 120.0).abs() < 1e-6, "{}", f.mean_ms.mean);
    }

    /// Servers in use are integrated exactly, also when the queue empties because every
    /// copy in it expired: one server, 15 s of work per copy, a copy arriving every 10 s on
    /// average and a 5 s expiration (the shortest allowed), so a completion often finds only
    /// expired copies. The run drains (a message bound, no warm-up), so the busy area is
    /// every completed service, 15 s each, to the nanosecond: the two means below are the
    /// same division.
    #[test]
    fn busy_servers_integrate_exactly_through_expiries() {
        let text = r#"
            [run]
            messages = 3000
            seed = 1
            [sources.a]
            rate_per_s = 0.1
            route = "r"
            [hops.s]
            servers = 1
            service_ms = { dist = "deterministic", value = 15000 }
            retry = { expiration_timeout_s = 5 }
            [routes.r]
            steps = ["s"]
            deliver = "d"
        "#;
        let opts = LoadOptions {
            allow_unstable: true,
        };
        let scn = scenario::from_text(text, "t.toml", "t", opts).unwrap_or_else(|e| panic!("{e}"));
        let unit = runner::Unit {
            variant: 0,
            replication: 0,
        };
        let r = runner::simulate(&scn, unit, 1).unwrap();
        let st = &r.stations[0];
        assert!(r.accounting.expired > 300, "{:?}", r.accounting);
        let served_ns = st.completions as f64 * 15e9;
        assert_eq!(
            st.busy.mean_over(r.window),
            served_ns / r.window.as_nanos() as f64
        );
    }

    /// A full hop that rejects ends the copy `rejected`; the end states add up; and the
    /// blocking probability of one server with no waiting room is Erlang B, a/(1 + a) at
    /// a = λ·E[S] = 2, whatever the service law (deterministic here). About 9500 arrivals in
    /// the window: the binomial standard error of the share is under 0.005; 5 of them allowed.
    #[test]
    fn a_full_hop_that_rejects_ends_copies_rejected() {
        let text = r#"
            [run]
            duration_s = 500
            warmup_s = 20
            [sources.a]
            rate_per_s = 20
            route = "r"
            [hops.s]
            servers = 1
            queue_limit = 0
            when_full = "reject"
            service_ms = { dist = "deterministic", value = 100 }
            [routes.r]
            steps = ["s"]
            deliver = "d"
        "#;
        let s = run(text);
        let v = &s.variants[0];
        let a = &v.accounting;
        assert!(a.rejected > 0 && a.delivered > 0, "{a:?}");
        assert_eq!(a.generated, a.ended(), "{a:?}");
        let share = v.flows[0].1.rejected_share.mean;
        assert!((share - 2.0 / 3.0).abs() < 0.025, "{share}");
        // The hop counts them as rejections, not as deferrals (no one retries a 5xx), and
        // rejections ÷ offered copies at the hop is the same Erlang B share (same tolerance).
        let hop = &v.stations.iter().find(|st| st.name == "s").unwrap().summary;
        assert_eq!(hop.refusals.mean, 0.0, "no deferrals at a rejecting hop");
        let (rejected, admitted) = (hop.rejections.mean, hop.processed.mean);
        let blocked = rejected / (rejected + admitted);
        assert!((blocked - 2.0 / 3.0).abs() < 0.025, "{blocked}");
    }
}
