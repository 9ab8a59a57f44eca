//! The lean hand-written loop the performance targets are measured against: the tandem M/M/c
//! model of `scenarios/tandem-mmc.toml` as a careful engineer would write it for this one
//! model (issue 14's reference):
//!
//! - events in a `std::collections::BinaryHeap<Reverse<(u64 time_ns, u64 seq, u32 kind,
//!   u32 id)>>` (`kind` 0 is the next arrival, `1 + s` a completion at station `s`; `id` the
//!   customer);
//! - per station a busy-server counter and a `VecDeque<u32>` of waiting customers;
//! - `SmallRng` streams with `rand_distr::Exp`, integer-nanosecond time;
//! - no trait objects, no allocation per event (the heap, queues and the two `Vec`s below
//!   grow amortized), the finished customer moved straight into the next station;
//! - every sojourn kept in a `Vec` and sorted at the end for exact percentiles.
//!
//! Shared by `benches/bench_main.rs`, `examples/lean_loop.rs` (the whole-process reference of
//! `results/performance.md`) and `examples/tandem_throughput.rs` through `#[path]`, so all
//! time the same code. It must stay lean: bookkeeping added here would flatter mailflow.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, Exp};

/// Arrival rate and stations (servers, service rate per server) of `scenarios/tandem-mmc.toml`.
pub const ARRIVAL_RATE: f64 = 90.0;
pub const STATIONS: [(u32, f64); 3] = [(4, 30.0), (2, 60.0), (8, 15.0)];

/// What one run produced.
pub struct Outcome {
    pub delivered: u64,
    pub events: u64,
    /// End-to-end sojourn of every message in nanoseconds, sorted.
    pub sojourns: Vec<u64>,
}

impl Outcome {
    /// The sojourn at `q` (0..=1) in nanoseconds (nearest rank); 0 with no messages.
    pub fn quantile(&self, q: f64) -> u64 {
        let n = self.sojourns.len();
        if n == 0 {
            return 0;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        self.sojourns[rank - 1]
    }

    pub fn mean(&self) -> f64 {
        let sum: u128 = self.sojourns.iter().map(|&s| u128::from(s)).sum();
        sum as f64 / self.sojourns.len().max(1) as f64
    }
}

/// Generates `messages` arrivals, runs until every message has left the last station, and
/// sorts the sojourns. `seed` seeds one `SmallRng` per source of randomness.
pub fn run(messages: u64, seed: u64) -> Outcome {
    let exp = |rate_per_s: f64| Exp::new(rate_per_s / 1e9).expect("positive rate");
    let arrival = exp(ARRIVAL_RATE);
    let service = STATIONS.map(|(_, r)| exp(r));
    let mut arr_rng = SmallRng::seed_from_u64(seed);
    let mut svc_rng: [SmallRng; 3] =
        std::array::from_fn(|i| SmallRng::seed_from_u64(seed.wrapping_add(1 + i as u64)));
    let mut busy = [0u32; 3];
    let mut waiting: [VecDeque<u32>; 3] = Default::default();
    let mut born: Vec<u64> = Vec::with_capacity(messages as usize);
    let mut sojourns: Vec<u64> = Vec::with_capacity(messages as usize);
    let mut heap: BinaryHeap<Reverse<(u64, u64, u32, u32)>> = BinaryHeap::with_capacity(64);
    let mut seq = 0u64;

    let mut events = 0u64;
    heap.push(Reverse((arrival.sample(&mut arr_rng) as u64, seq, 0, 0)));
    seq += 1;
    while let Some(Reverse((now, _, kind, id))) = heap.pop() {
        events += 1;
        // The station the customer `id` enters now, if any.
        let to = if kind == 0 {
            born.push(now);
            if (born.len() as u64) < messages {
                let t = now + arrival.sample(&mut arr_rng) as u64;
                heap.push(Reverse((t, seq, 0, born.len() as u32)));
                seq += 1;
            }
            0
        } else {
            let s = (kind - 1) as usize;
            if let Some(next) = waiting[s].pop_front() {
                let t = now + service[s].sample(&mut svc_rng[s]) as u64;
                heap.push(Reverse((t, seq, kind, next)));
                seq += 1;
            } else {
                busy[s] -= 1;
            }
            s + 1
        };
        if to < STATIONS.len() {
            if busy[to] < STATIONS[to].0 {
                busy[to] += 1;
                let t = now + service[to].sample(&mut svc_rng[to]) as u64;
                heap.push(Reverse((t, seq, to as u32 + 1, id)));
                seq += 1;
            } else {
                waiting[to].push_back(id);
            }
        } else {
            sojourns.push(now - born[id as usize]);
        }
    }
    sojourns.sort_unstable();
    Outcome {
        delivered: sojourns.len() as u64,
        events,
        sojourns,
    }
}
