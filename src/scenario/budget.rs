//! Run-size budgets: how many events a study will simulate and how much memory it will hold,
//! estimated from the validated model before anything runs, and refused beyond a budget
//! unless the user passes `--allow-long`.
//!
//! The estimate is deliberately simple and errs high: per replication, the messages a
//! source generates (rate × the shape's mean factor × duration, or the message bound), each
//! bringing one arrival and two events per expected hop visit; the failure and repair events
//! of stations with random failures; the copies in flight by Little's law (rate × expected
//! time in the network, plus the backlog an overloaded station builds over the run, capped
//! by its queue limit); the candidates thinning draws for a shaped source (its rate at the
//! busiest moment of the run × the run's length, most rejected, each costing about an
//! event); and every unit's stored result until the reports are written.

use super::{Scenario, ScenarioError};
use crate::load::ArrivalSpec;
use crate::model::network::Node;

/// Events a study may simulate without `--allow-long`: minutes on a laptop (the simulator
/// does about ten million events per second per core).
pub const MAX_EVENTS: f64 = 2e10;
/// Memory a study may hold without `--allow-long` (bytes): 8 GiB.
pub const MAX_MEMORY: f64 = 8.0 * 1024.0 * 1024.0 * 1024.0;
/// Bytes per copy in flight: its slab entry and its pending event.
const BYTES_PER_COPY: f64 = 200.0;
/// Bytes of a unit's stored result per flow (an HdrHistogram and counters) and per station.
const BYTES_PER_FLOW: f64 = 64.0 * 1024.0;
const BYTES_PER_STATION: f64 = 4.0 * 1024.0;

/// What a study will cost, before it runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub events: f64,
    pub memory_bytes: f64,
    pub units: f64,
}

impl Estimate {
    pub fn add(&mut self, o: Estimate) {
        self.events += o.events;
        self.units += o.units;
        self.memory_bytes = self.memory_bytes.max(o.memory_bytes);
    }
}

/// The cost of running every variant of `scn` for `replications` on `threads` workers.
pub fn estimate(scn: &Scenario, replications: u32, threads: usize) -> Estimate {
    let reps = f64::from(replications);
    let duration_s = scn.run.duration.map(|d| d.as_secs_f64());
    let mut events = 0.0;
    let mut in_flight_max: f64 = 0.0;
    let mut result_bytes = 0.0;
    for v in &scn.variants {
        let net = &v.network;
        // Messages per replication, before a message bound.
        let mut messages = 0.0;
        // Events per message, weighted by each source's share of the messages.
        let (mut weight, mut weighted_events) = (0.0, 0.0);
        let mut in_flight = 0.0;
        // Candidates per second that thinning draws for shaped sources (most are rejected,
        // each costing about an event).
        let mut candidates_per_s = 0.0;
        for s in &v.sources {
            if let ArrivalSpec::Shaped(sh) = &s.arrivals {
                candidates_per_s += s.rate_per_s * sh.max_factor();
            }
            let m = match (&s.arrivals, duration_s) {
                (ArrivalSpec::Trace { rows, .. }, _) => rows.len() as f64,
                (ArrivalSpec::Shaped(sh), Some(d)) => s.rate_per_s * sh.mean_factor(0.0, d) * d,
                (_, Some(d)) => s.rate_per_s * d,
                (_, None) => f64::INFINITY,
            };
            messages += m;
            let Some(entry) = net.route_entry(&s.route) else {
                continue;
            };
            let visits = net.expected_node_visits(entry, &s.group_presence(), false);
            let (mut hop_visits, mut time_s) = (0.0, 0.0);
            for (node, x) in net.nodes.iter().zip(&visits) {
                if let Node::Visit { station, .. } = node {
                    hop_visits += x;
                    let st = &net.stations[station.0 as usize];
                    time_s += x * st.mean_service_ns(s.size_kb.mean()) / 1e9;
                }
            }
            let w = if m.is_finite() { m } else { s.rate_per_s };
            weight += w;
            weighted_events += w * (1.0 + 2.0 * hop_visits);
            in_flight += s.rate_per_s * time_s;
        }
        let bound = scn.run.max_messages.map_or(f64::INFINITY, |n| n as f64);
        let generated = messages.min(bound);
        let mut unit_events = if weight > 0.0 {
            generated * weighted_events / weight
        } else {
            0.0
        };
        // Overloaded stations build a backlog over the run (capped by a queue limit), and
        // random failures add two events per cycle.
        let run_s = duration_s.unwrap_or_else(|| {
            let rate: f64 = v.sources.iter().map(|s| s.rate_per_s).sum();
            if rate > 0.0 { generated / rate } else { 0.0 }
        });
        unit_events += candidates_per_s * run_s;
        for (st, u) in net.stations.iter().zip(v.offered_utilization()) {
            if let (Some(u), Some(c)) = (u, st.servers.count())
                && u > 1.0
            {
                let service_s = st.service.mean() / 1e9;
                let excess_per_s = if service_s > 0.0 {
                    f64::from(c) * (u - 1.0) / service_s
                } else {
                    f64::INFINITY
                };
                let backlog = excess_per_s * run_s;
                in_flight += match st.queue_limit {
                    Some(q) => backlog.min(f64::from(q)),
                    None => backlog,
                };
            }
            if let Some((mtbf_ns, mttr_ns)) = st.availability.failures {
                unit_events += 2.0 * run_s * 1e9 / (mtbf_ns + mttr_ns);
            }
        }
        events += unit_events * reps;
        in_flight_max = in_flight_max.max(in_flight);
        result_bytes += reps
            * (net.flows.len() as f64 * BYTES_PER_FLOW
                + net.stations.len() as f64 * BYTES_PER_STATION);
    }
    let parallel = (threads.max(1) as f64).min(reps * scn.variants.len() as f64);
    Estimate {
        events,
        memory_bytes: parallel * in_flight_max * BYTES_PER_COPY + result_bytes,
        units: reps * scn.variants.len() as f64,
    }
}

fn size_words(bytes: f64) -> String {
    let gib = bytes / (1024.0 * 1024.0 * 1024.0);
    if gib >= 1.0 {
        format!("{} GiB", super::messages::figure(gib))
    } else {
        format!("{} MiB", super::messages::figure(bytes / (1024.0 * 1024.0)))
    }
}

/// Refuses a study beyond the budget unless `allow_long`; `what` names it ("this run").
pub fn check(e: &Estimate, allow_long: bool, what: &str) -> Result<(), ScenarioError> {
    // Written so that NaN or infinite estimates are refused too.
    let within = e.events <= MAX_EVENTS && e.memory_bytes <= MAX_MEMORY;
    if allow_long || within {
        return Ok(());
    }
    let fig = super::messages::figure;
    Err(ScenarioError::TooLong {
        message: format!(
            "{what} would simulate about {} events in {} work units and hold about {} of memory \
             (the budget is {} events and {}); shorten run.duration_s or run.messages, lower the \
             replications or the load, or pass --allow-long to run it anyway",
            fig(e.events),
            fig(e.units),
            size_words(e.memory_bytes),
            fig(MAX_EVENTS),
            size_words(MAX_MEMORY)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadOptions, from_text};

    const MM1: &str = "[run]\nduration_s = 1000\n[sources.a]\nrate_per_s = 10\nroute = \"r\"\n\
        [hops.h]\nservers = 1\nservice_ms = { dist = \"exponential\", mean = 50 }\n\
        [routes.r]\nsteps = [\"h\"]\ndeliver = \"f\"\n";

    #[test]
    fn events_follow_rate_duration_and_visits() {
        let s = from_text(MM1, "t.toml", "t", LoadOptions::default()).unwrap();
        let e = estimate(&s, 3, 2);
        // 10/s × 1000 s × (1 arrival + 2 per visit) × 3 replications.
        assert_eq!(e.events, 10.0 * 1000.0 * 3.0 * 3.0);
        assert_eq!(e.units, 3.0);
        assert!(check(&e, false, "this run").is_ok());
    }

    #[test]
    fn huge_studies_are_refused_with_the_estimate_and_the_flag() {
        let s = from_text(MM1, "t.toml", "t", LoadOptions::default()).unwrap();
        let e = estimate(&s, 4_000_000_000, 2);
        let m = check(&e, false, "this run").unwrap_err().to_string();
        assert!(
            m.contains("--allow-long") && m.contains("4.000e9 work units"),
            "{m}"
        );
        assert!(check(&e, true, "this run").is_ok());
        let long = MM1.replace("duration_s = 1000", "duration_s = 1e9");
        let s = from_text(&long, "t.toml", "t", LoadOptions::default()).unwrap();
        assert!(check(&estimate(&s, 1, 1), false, "this run").is_err());
    }

    /// Thinning's rejected candidates cost time too: a burst of 1e8 for one second in a
    /// day-long run adds little to the mean rate but draws 1e8 × rate candidates per second
    /// over the whole day.
    #[test]
    fn thinning_candidates_count() {
        let shaped = MM1.replace(
            "route = \"r\"\n",
            "route = \"r\"\nshape = { bursts = [{ start_s = 0, duration_s = 1, multiplier = 1e7 }] }\n",
        );
        let s = from_text(&shaped, "t.toml", "t", LoadOptions::default()).unwrap();
        let e = estimate(&s, 1, 1);
        let src = &s.variants[0].sources[0];
        let ArrivalSpec::Shaped(sh) = &src.arrivals else {
            panic!("a shaped source")
        };
        // Every candidate over the 1000 s run, at the burst's rate.
        let candidates = src.rate_per_s * sh.max_factor() * 1000.0;
        assert!(candidates >= 1e9, "{candidates}");
        assert!(e.events >= candidates, "{e:?}");
        let flat = from_text(MM1, "t.toml", "t", LoadOptions::default()).unwrap();
        assert!(e.events > 100.0 * estimate(&flat, 1, 1).events, "{e:?}");
    }

    #[test]
    fn every_bundled_scenario_is_within_the_budget() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let s = crate::scenario::load(&p, LoadOptions::default()).unwrap();
            let est = estimate(&s, s.run.replications.max(20), 16);
            assert!(
                check(&est, false, "this run").is_ok(),
                "{}: {est:?}",
                p.display()
            );
            // Worth knowing how close they come: well below.
            assert!(est.events < MAX_EVENTS / 10.0, "{}: {est:?}", p.display());
        }
    }

    #[test]
    fn an_unlimited_hop_at_a_huge_rate_counts_its_copies_in_flight() {
        let t = MM1
            .replace("servers = 1", "servers = \"unlimited\"")
            .replace("rate_per_s = 10", "rate_per_s = 1e8")
            .replace("duration_s = 1000", "duration_s = 1\nwarmup_s = 0");
        let s = from_text(&t, "t.toml", "t", LoadOptions::default()).unwrap();
        let e = estimate(&s, 1, 1);
        // 1e8/s × 0.05 s in the hop = 5e6 copies in flight.
        assert!((e.memory_bytes - 5e6 * BYTES_PER_COPY).abs() < 1e6, "{e:?}");
    }
}
