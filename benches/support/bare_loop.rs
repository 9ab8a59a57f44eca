//! The bare event loop the performance targets are measured against: the tandem M/M/c model of
//! `scenarios/tandem-mmc.toml` written as plainly as possible — a std `BinaryHeap` of
//! (Reverse((time, seq)), event), one `VecDeque` per station, exponential sampling with the
//! same generator mailflow uses, integer-nanosecond time, and nothing else (no statistics,
//! no slab, no route graph).
//!
//! Shared by `benches/bench_main.rs` and `examples/tandem_throughput.rs` through `#[path]`, so
//! both time the same code. It must stay bare: adding bookkeeping here would flatter mailflow.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Arrival rate and stations (servers, service rate per server) of `scenarios/tandem-mmc.toml`.
pub const ARRIVAL_RATE: f64 = 90.0;
pub const STATIONS: [(u32, f64); 3] = [(4, 30.0), (2, 60.0), (8, 15.0)];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrival,
    /// Station index; the message's birth time travels with it.
    Done(u8, u64),
}

/// Generates `messages` arrivals, runs until every message has left the last station, and
/// returns (messages delivered, events handled). `seed` seeds one xoshiro256++ stream per
/// source of randomness.
pub fn run(messages: u64, seed: u64) -> (u64, u64) {
    let ns = |rate_per_s: f64| Exp::new(rate_per_s / 1e9).expect("positive rate");
    let arrival = ns(ARRIVAL_RATE);
    let service: Vec<Exp<f64>> = STATIONS.iter().map(|&(_, r)| ns(r)).collect();
    let mut arr_rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut svc_rng: Vec<Xoshiro256PlusPlus> = (0..STATIONS.len() as u64)
        .map(|i| Xoshiro256PlusPlus::seed_from_u64(seed ^ (i + 1).wrapping_mul(0x9E37_79B9)))
        .collect();
    let mut busy = [0u32; 3];
    let mut waiting: Vec<VecDeque<u64>> = (0..STATIONS.len()).map(|_| VecDeque::new()).collect();
    let mut heap: BinaryHeap<(Reverse<(u64, u64)>, Ev)> = BinaryHeap::with_capacity(64);
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<_>, t: u64, e: Ev| {
        heap.push((Reverse((t, seq)), e));
        seq += 1;
    };
    let sample = |d: &Exp<f64>, rng: &mut Xoshiro256PlusPlus| (d.sample(rng) + 0.5) as u64;

    let mut generated = 0u64;
    let mut delivered = 0u64;
    let mut events = 0u64;
    let mut latency_sum = 0u64;
    push(&mut heap, sample(&arrival, &mut arr_rng), Ev::Arrival);
    while let Some((Reverse((now, _)), ev)) = heap.pop() {
        events += 1;
        // (station, born) of a message entering a station now, if any.
        let enter = match ev {
            Ev::Arrival => {
                generated += 1;
                if generated < messages {
                    let t = now + sample(&arrival, &mut arr_rng);
                    push(&mut heap, t, Ev::Arrival);
                }
                Some((0usize, now))
            }
            Ev::Done(s, born) => {
                let s = s as usize;
                if let Some(next_born) = waiting[s].pop_front() {
                    let t = now + sample(&service[s], &mut svc_rng[s]);
                    push(&mut heap, t, Ev::Done(s as u8, next_born));
                } else {
                    busy[s] -= 1;
                }
                if s + 1 < STATIONS.len() {
                    Some((s + 1, born))
                } else {
                    delivered += 1;
                    latency_sum = latency_sum.wrapping_add(now - born);
                    None
                }
            }
        };
        if let Some((s, born)) = enter {
            if busy[s] < STATIONS[s].0 {
                busy[s] += 1;
                let t = now + sample(&service[s], &mut svc_rng[s]);
                push(&mut heap, t, Ev::Done(s as u8, born));
            } else {
                waiting[s].push_back(born);
            }
        }
    }
    // Keeps the latency arithmetic (the one thing a caller would want) from being optimized out.
    std::hint::black_box(latency_sum);
    (delivered, events)
}
