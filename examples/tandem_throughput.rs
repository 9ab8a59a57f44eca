//! Messages per second on the tandem M/M/c model (`scenarios/tandem-mmc.toml`, bounded by a
//! message count): mailflow through the library with full statistics, and the bare event loop
//! of `benches/support/bare_loop.rs`, alternated in one process so that both see the same
//! machine load. Used by `benches/peers/report.sh`.
//!
//! ```sh
//! cargo run --release --example tandem_throughput -- [MESSAGES] [ROUNDS] [both|mailflow|bare]
//! ```
//!
//! The third argument runs one side only (for profiling).
//!
//! Prints one line per implementation, `key=value` pairs with the median over the rounds,
//! then the ratio mailflow / bare loop.

#[path = "../benches/support/mod.rs"]
mod support;

use std::time::Instant;

use mailflow::runner::{self, Unit};

fn main() {
    let mut args = std::env::args().skip(1);
    let messages: u64 = args.next().map_or(1_000_000, |a| {
        a.parse().expect("MESSAGES must be a positive integer")
    });
    let rounds: usize = args
        .next()
        .map_or(5, |a| a.parse().expect("ROUNDS must be a positive integer"));
    let which = args.next().unwrap_or_else(|| "both".into());
    let (run_lib, run_bare) = match which.as_str() {
        "both" => (true, true),
        "mailflow" => (true, false),
        "bare" => (false, true),
        other => panic!("unknown side `{other}`: give both, mailflow or bare"),
    };
    let scn = support::with_messages(support::TANDEM, messages);
    let unit = Unit {
        variant: 0,
        replication: 0,
    };

    let mut lib = Vec::with_capacity(rounds);
    let mut bare = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let seed = scn.run.seed + round as u64;
        if run_lib {
            let t = Instant::now();
            let r = runner::simulate(&scn, unit, seed).expect("tandem run conserves recipients");
            lib.push(t.elapsed().as_secs_f64());
            assert_eq!(
                r.accounting.delivered, messages,
                "every message is delivered"
            );
        }
        if run_bare {
            let t = Instant::now();
            let out = support::bare_loop::run(messages, seed);
            bare.push(t.elapsed().as_secs_f64());
            assert_eq!(out.delivered, messages, "every message is delivered");
        }
    }
    let (lib_s, bare_s) = (median(&mut lib), median(&mut bare));
    for (name, s) in [("mailflow", lib_s), ("bare_loop", bare_s)] {
        if s.is_nan() {
            continue;
        }
        println!(
            "impl={name} messages={messages} rounds={rounds} median_s={s:.4} msgs_per_s={:.0}",
            messages as f64 / s
        );
    }
    if run_lib && run_bare {
        println!("ratio mailflow/bare_loop={:.3}", bare_s / lib_s);
    }
}

/// The median, NaN for no values.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
