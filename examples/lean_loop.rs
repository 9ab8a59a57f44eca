//! The lean hand-written loop of `benches/support/bare_loop.rs` as a whole process: the
//! reference `mailflow run` is measured against in `results/performance.md` (wall time and
//! callgrind instruction counts, process start to exit).
//!
//! ```sh
//! cargo build --profile perf --example lean_loop
//! target/perf/examples/lean_loop [MESSAGES] [SEED]     # defaults 1000000 and 1
//! ```
//!
//! Prints the end-to-end sojourn percentiles (exact, from the sorted sojourns) in
//! milliseconds; theory gives a mean of 166.98 ms.

#[path = "../benches/support/bare_loop.rs"]
mod bare_loop;

fn main() {
    let mut args = std::env::args().skip(1);
    let messages: u64 = args.next().map_or(1_000_000, |a| {
        a.parse().expect("MESSAGES must be a positive integer")
    });
    let seed: u64 = args
        .next()
        .map_or(1, |a| a.parse().expect("SEED must be an integer"));
    let out = bare_loop::run(messages, seed);
    assert_eq!(out.delivered, messages, "every message is delivered");
    let ms = |ns: u64| ns as f64 / 1e6;
    println!(
        "messages={messages} events={} mean_ms={:.3} p50_ms={:.3} p90_ms={:.3} p99_ms={:.3} \
         p99.9_ms={:.3} max_ms={:.3}",
        out.events,
        out.mean() / 1e6,
        ms(out.quantile(0.5)),
        ms(out.quantile(0.9)),
        ms(out.quantile(0.99)),
        ms(out.quantile(0.999)),
        ms(out.quantile(1.0)),
    );
}
