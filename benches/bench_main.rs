//! Criterion benches, one aggregator (`cargo bench`; filter with `cargo bench -- tandem`).
//!
//! - `event_queue`: the hold model on [`EventQueue`] at 1e3, 1e5 and 1e6 pending events —
//!   pop the earliest, schedule one at its time plus an exponential increment — so the size
//!   stays constant; throughput in hold operations (one pop + one schedule). Beside it, the
//!   same on a std `BinaryHeap` keyed on (time, seq) (the engine's queue before it became a
//!   4-ary heap, and the bare loop's), as the reference.
//! - `tandem`: `scenarios/tandem-mmc.toml` bounded at 1e6 messages, through the library with
//!   full statistics (`runner::simulate`), beside the bare loop of `support/bare_loop.rs` on
//!   the same model; throughput in messages.
//! - `hybrid`: the bundled hybrid scenario, first variant, one replication (one simulated peak
//!   hour); throughput in messages.
//! - `hybrid_threads`: the whole bundled hybrid comparison (4 variants × 5 replications) through
//!   `runner::run` on 1 and on 2 worker threads (target 2 of `results/performance.md`).
//! - `studies`: the README's capacity quick start and its 88-point grid sweep, each with
//!   `run.duration_s=60` and `run.warmup_s=10` so that one iteration takes seconds, not minutes (target 4; the
//!   full-length figures come from `benches/perf_targets.sh 4`).
//!
//! Sample counts and times are kept small so that the whole suite runs in a few minutes on
//! two cores.

mod support;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_xoshiro::Xoshiro256PlusPlus;

use mailflow::engine::{EventQueue, SimTime};
use mailflow::model::sim::Event;
use mailflow::runner::{self, RunOptions, Unit};
use mailflow::scenario::{LoadOptions, ScenarioFile};
use mailflow::{capacity, sweep};

const UNIT: Unit = Unit {
    variant: 0,
    replication: 0,
};

/// Hold operations per timed iteration, so that per-iteration overhead is negligible.
const HOLD_BATCH: u64 = 10_000;

/// The reference queue: std's binary heap on (time, seq), reversed into a min-heap.
struct StdQueue {
    heap: BinaryHeap<(Reverse<(SimTime, u64)>, StdEvent)>,
    next_seq: u64,
}

/// `Event` has no order of its own; the heap orders on the key, which is unique.
#[derive(Clone, Copy)]
struct StdEvent(Event);
impl PartialEq for StdEvent {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for StdEvent {}
impl PartialOrd for StdEvent {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for StdEvent {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl StdQueue {
    fn with_capacity(n: usize) -> Self {
        StdQueue {
            heap: BinaryHeap::with_capacity(n),
            next_seq: 0,
        }
    }
    fn schedule(&mut self, t: SimTime, e: Event) {
        self.heap.push((Reverse((t, self.next_seq)), StdEvent(e)));
        self.next_seq += 1;
    }
    fn pop(&mut self) -> Option<(SimTime, Event)> {
        self.heap.pop().map(|(Reverse((t, _)), e)| (t, e.0))
    }
}

/// Registers the hold benchmark `name/size` on a queue built by `new` with `size` events.
macro_rules! hold {
    ($g:expr, $name:expr, $size:expr, $new:expr) => {{
        let size: u64 = $size;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(size);
        // Mean increment 1 ms; the queue's pending events spread over `size` ms.
        let incr = Exp::new(1e-6).expect("positive rate");
        let mut q = $new(size as usize);
        for i in 0..size {
            let t = SimTime::from_nanos_f64(incr.sample(&mut rng) * size as f64);
            q.schedule(
                t,
                Event::Done {
                    copy: i as u32,
                    service_gen: 0,
                },
            );
        }
        $g.bench_function(format!("{}/{size}", $name), |b| {
            b.iter(|| {
                for _ in 0..HOLD_BATCH {
                    let (now, ev) = q.pop().expect("hold keeps the size constant");
                    let t = now + SimTime::from_nanos_f64(incr.sample(&mut rng));
                    q.schedule(t, black_box(ev));
                }
            })
        });
    }};
}

fn event_queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(HOLD_BATCH));
    for size in [1_000u64, 100_000, 1_000_000] {
        hold!(g, "hold", size, EventQueue::with_capacity);
        hold!(g, "std_binary_heap", size, StdQueue::with_capacity);
    }
    g.finish();
}

fn tandem(c: &mut Criterion) {
    const MESSAGES: u64 = 1_000_000;
    let scn = support::with_messages(support::TANDEM, MESSAGES);
    let mut g = c.benchmark_group("tandem");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(12))
        .throughput(Throughput::Elements(MESSAGES));
    g.bench_function("mailflow/1e6", |b| {
        b.iter(|| {
            let r = runner::simulate(&scn, UNIT, scn.run.seed).expect("run conserves recipients");
            assert_eq!(r.accounting.messages, MESSAGES);
            r
        })
    });
    g.bench_function("bare_loop/1e6", |b| {
        b.iter(|| {
            let out = support::bare_loop::run(MESSAGES, scn.run.seed);
            assert_eq!(out.delivered, MESSAGES);
            out
        })
    });
    g.finish();
}

fn hybrid(c: &mut Criterion) {
    let scn = support::load(support::HYBRID);
    let probe = runner::simulate(&scn, UNIT, scn.run.seed).expect("run conserves recipients");
    let mut g = c.benchmark_group("hybrid");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(probe.accounting.messages));
    let name = format!("{}/1rep", scn.variants[UNIT.variant].name);
    g.bench_function(name, |b| {
        b.iter(|| runner::simulate(&scn, UNIT, scn.run.seed).expect("run conserves recipients"))
    });
    g.finish();
}

/// Parsing a message tracking log (2016, 30 fields) of about 4 MB from memory: every field
/// decoded, latency breakdowns and custom-data parsed. results/performance.md "Log parsing"
/// gives the 1 GB figure.
fn log_parsing(c: &mut Criterion) {
    use mailflow::calibrate::synth::{self, SynthModel, SynthOutput};
    use mailflow::calibrate::{ReadOptions, read_bytes};
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = SynthOutput {
        hourly_files: false,
        trace_rows_per_file: None,
        stop_after_bytes: Some(4_000_000),
        ..SynthOutput::default()
    };
    let truth = synth::generate(&SynthModel::example(1), &out, dir.path()).expect("logs written");
    let path = truth
        .files
        .iter()
        .max_by_key(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .expect("a tracking log");
    let bytes = std::fs::read(path).expect("the log reads");
    let mut g = c.benchmark_group("log_parsing");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("tracking_log_2016", |b| {
        b.iter(|| {
            let mut n = 0u64;
            read_bytes(path, &bytes, &mut ReadOptions::default(), &mut |_| {
                n += 1;
                Ok(())
            })
            .expect("the generated log reads");
            n
        })
    });
    g.finish();
}

fn hybrid_threads(c: &mut Criterion) {
    let scn = support::load(support::HYBRID);
    let mut g = c.benchmark_group("hybrid_threads");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    for threads in [1, 2] {
        let opts = RunOptions {
            threads: Some(threads),
            ..Default::default()
        };
        g.bench_function(format!("threads-{threads}"), |b| {
            b.iter(|| runner::run(&scn, opts, &|| {}).expect("run conserves recipients"))
        });
    }
    g.finish();
}

fn studies(c: &mut Criterion) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(support::HYBRID);
    let file = ScenarioFile::read(&path).expect("bundled scenario is readable");
    let short = sweep::single_overrides(&[
        "run.duration_s=60".to_string(),
        "run.warmup_s=10".to_string(),
    ])
    .expect("valid --set");
    let scn = file
        .build(
            LoadOptions {
                allow_unstable: true,
            },
            &short,
        )
        .expect("bundled scenario is valid");
    let slos = [
        "inbound_to_onprem.p99<=5s".to_string(),
        "outbound_from_cloud.p99<=5s".to_string(),
    ];
    let spec = capacity::spec_from_args(&slos, None, None, 0.02, None).expect("valid SLOs");
    let axes: Vec<sweep::Axis> = [
        "hops.hub2007.servers=1..8",
        "load.scale=0.5..3:0.25",
        "run.duration_s=60",
        "run.warmup_s=10",
    ]
    .iter()
    .map(|a| sweep::parse_axis(a).expect("valid axis"))
    .collect();
    let mut g = c.benchmark_group("studies");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    g.bench_function("capacity_quick_start/60s", |b| {
        b.iter(|| capacity::search(&scn, &spec, RunOptions::default(), &|_| {}, &|| {}))
    });
    g.bench_function("sweep_88_points/60s", |b| {
        b.iter(|| {
            let points = sweep::build_points(&file, &axes).expect("valid grid");
            assert_eq!(points.len(), 88);
            sweep::run(points, &axes, RunOptions::default(), false, &|| {}).expect("sweep runs")
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    event_queue,
    tandem,
    hybrid,
    hybrid_threads,
    studies,
    log_parsing
);
criterion_main!(benches);
