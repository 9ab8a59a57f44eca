//! `mailflow explain`: the scenario in words — run settings, sources and their rates, and for
//! each variant the numbered hop list of every flow, so a reader can check routes against the
//! seed's numbered steps, then each station's capacity and offered utilization.

use std::fmt::Write;

use crate::scenario::Scenario;

pub fn explain(scn: &Scenario) -> String {
    let mut o = String::new();
    let r = &scn.run;
    let _ = writeln!(
        o,
        "scenario {} ({}), sha256 {}",
        scn.name,
        scn.file.display(),
        &scn.hash[..16]
    );
    if let Some(d) = &scn.description {
        let _ = writeln!(o, "  {d}");
    }
    let stop = match (r.duration, r.max_messages) {
        (Some(d), Some(m)) => format!("{} s or {m} messages, whichever first", d.as_secs_f64()),
        (Some(d), None) => format!("{} s simulated", d.as_secs_f64()),
        (None, Some(m)) => format!("{m} messages, then until all have ended"),
        (None, None) => unreachable!("validated"),
    };
    let _ = writeln!(
        o,
        "run: {stop}; warm-up {} s; seed {}; {} replication(s)\n",
        r.warmup.as_secs_f64(),
        r.seed,
        r.replications
    );
    for v in &scn.variants {
        let _ = writeln!(o, "variant {}", v.name);
        let _ = writeln!(o, "  sources:");
        for s in &v.sources {
            let groups = if s.group_shares.len() > 1 {
                let parts: Vec<String> = v
                    .network
                    .groups
                    .iter()
                    .zip(&s.group_shares)
                    .map(|(g, x)| format!("{g} {x:.3}"))
                    .collect();
                format!("; recipient groups {}", parts.join(", "))
            } else {
                String::new()
            };
            let _ = writeln!(
                o,
                "    {:<22} {:>10.4} msg/s ({}); recipients {}; size {}{groups}",
                s.name,
                s.rate_per_s,
                s.arrivals.describe(),
                s.recipients.describe(),
                s.size_kb.describe("KB")
            );
        }
        for s in &v.sources {
            let entry = v.network.route_entry(&s.route).expect("validated");
            for p in v.network.paths(entry) {
                let prob = if p.probability < 1.0 {
                    format!(" (probability {:.4})", p.probability)
                } else {
                    String::new()
                };
                let _ = writeln!(o, "  flow {} from source {}{prob}:", p.flow, s.name);
                let mut n = 0;
                for (kind, name) in &p.steps {
                    match kind.as_str() {
                        "split" => {
                            let _ = writeln!(
                                o,
                                "       split: this copy carries the {name} recipients"
                            );
                        }
                        "filter" => {
                            let _ = writeln!(o, "       filter: {name}");
                        }
                        "loop" => {
                            let _ = writeln!(o, "       back to route {name}");
                        }
                        _ => {
                            n += 1;
                            let _ = writeln!(o, "    {n:>2}. {kind} {name}");
                        }
                    }
                }
            }
        }
        let _ = writeln!(o, "  stations:");
        for (st, u) in v.network.stations.iter().zip(v.offered_utilization()) {
            let servers = st
                .servers
                .count()
                .map_or("unlimited".to_string(), |c| c.to_string());
            let util = u.map_or(String::new(), |u| format!("; offered utilization {u:.3}"));
            let per_kb = if st.per_kb_ns > 0.0 {
                format!(" + {:.4} ms/KB", st.per_kb_ns / 1e6)
            } else {
                String::new()
            };
            let _ = writeln!(
                o,
                "    {:<5} {:<22} servers {:>9}; service {}{per_kb}{util}",
                st.kind.label().split('_').next().unwrap_or(""),
                st.name,
                servers,
                st.service.scaled(1e-6).describe("ms")
            );
        }
        let _ = writeln!(o);
    }
    o
}
