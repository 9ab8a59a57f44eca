//! What a capacity search is checked for before it starts: that it can end, and what it can
//! cost over every round at most (for the run-size budget, [`crate::scenario::budget`]).
//!
//! - A servers search (`--hop X`) needs X to have a server count in every variant: an
//!   unlimited hop has no fewest count, and searching "from one server" would answer a question
//!   nobody asked.
//! - A load search needs a station that saturates in every variant: with every hop and link
//!   unlimited (or none reached by the load) no load is unstable, and a passing search would
//!   double the load without end.
//! - [`worst_case`] bounds the search's events from the rounds [`super::next_candidate`] can
//!   take: a load search simulates below the saturating scale only (the doubling rounds cost
//!   at most twice the last, each bisection round at most one round at that scale, the
//!   halving rounds at most one round at the start scale); a servers search at one load
//!   simulates at most the rounds that grow its count to `max_servers` and then bisect, and
//!   nothing when another station saturates at that load (the search stops at once).
//!
//! This module mirrors the search's bounds; it never runs anything.

use super::{CapacityError, Knob, SearchSpec};
use crate::model::network::StationKind;
use crate::scenario::budget::{Estimate, estimate};
use crate::scenario::{Scenario, limits};

/// Refuses a search that could not end or has nothing to find (see the module docs), and a
/// start scale at which a source's rate is beyond what a scenario may give.
pub fn check_searchable(scn: &Scenario, spec: &SearchSpec) -> Result<(), CapacityError> {
    let base = spec.start.unwrap_or(scn.run.load_scale);
    for (vi, v) in scn.variants.iter().enumerate() {
        let at = scn.one_variant_at_load_scale(vi, base);
        let checked = limits::check_variant(&at.variants[0])
            .and_then(|()| limits::check_peaks(&at.variants[0]));
        checked.map_err(|b| CapacityError::Bounds {
            message: format!(
                "at load scale {} variant `{}`'s `{}` {}; choose a lower --scale",
                crate::scenario::messages::figure(base),
                v.name,
                b.field,
                b.message
            ),
        })?;
        match &spec.knob {
            Knob::Servers(hop) => {
                let Some(st) = v
                    .network
                    .stations
                    .iter()
                    .find(|s| s.name == *hop && s.kind == StationKind::Hop)
                else {
                    // The search names the unknown hop with the accepted ones.
                    continue;
                };
                if st.servers.count().is_none() {
                    let limited: Vec<&str> = v
                        .network
                        .stations
                        .iter()
                        .filter(|s| s.kind == StationKind::Hop && s.servers.count().is_some())
                        .map(|s| s.name.as_str())
                        .collect();
                    return Err(CapacityError::Bounds {
                        message: format!(
                            "`--hop {hop}`: hop `{hop}` has unlimited servers (`servers = \
                             \"unlimited\"`) in variant `{}`, so there is no fewest count to \
                             find; accepted: a hop with a server count ({}), or give `{hop}` \
                             one with --set hops.{hop}.servers=N",
                            v.name,
                            if limited.is_empty() {
                                "this variant has none".to_string()
                            } else {
                                limited.join(", ")
                            }
                        ),
                    });
                }
            }
            Knob::LoadScale => {
                let rho = v.max_offered_utilization();
                if rho.is_nan() || rho <= 0.0 {
                    return Err(CapacityError::Bounds {
                        message: format!(
                            "variant `{}` has no hop or link with a server limit that its load \
                             reaches, so no load saturates it and a load search would raise the \
                             load without end; give a hop on its routes a server count \
                             (hops.<name>.servers = N), or search servers with --hop",
                            v.name
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Simulated rounds of a servers search, at most: the count grows from `stable_min` by a
/// quarter (at least one) to `max_servers`, failing each time, then could bisect down to
/// the last failing count.
fn servers_rounds(stable_min: u32, max_servers: u32) -> f64 {
    let (mut c, mut rounds) = (stable_min.max(1), 1u32);
    while c < max_servers {
        c = (c + (c / 4).max(1)).min(max_servers);
        rounds += 1;
    }
    f64::from(rounds) + f64::from(max_servers).log2().ceil()
}

/// The most a search of `scn`'s variants `which` can cost over all its rounds, with
/// `replications` per configuration on `threads` workers (see the module docs).
pub fn worst_case(
    scn: &Scenario,
    spec: &SearchSpec,
    which: &[usize],
    replications: u32,
    threads: usize,
) -> Estimate {
    let base = spec.start.unwrap_or(scn.run.load_scale);
    let mut total = Estimate {
        events: 0.0,
        memory_bytes: 0.0,
        units: 0.0,
    };
    let bisections = (1.0 / spec.bracket).log2().ceil().max(0.0) + 1.0;
    for &vi in which {
        let at_base = scn.one_variant_at_load_scale(vi, base);
        let v = &at_base.variants[0];
        let one = estimate(&at_base, replications, threads);
        let scaled = |rounds: f64, e: Estimate| Estimate {
            events: e.events * rounds,
            memory_bytes: e.memory_bytes,
            units: e.units * rounds,
        };
        match &spec.knob {
            Knob::LoadScale => {
                let rho = v.max_offered_utilization();
                let saturates = base / rho;
                let start = base.min(saturates);
                // Doubling up to the saturating scale, then bisecting below it.
                if saturates.is_finite() && saturates > 0.0 {
                    let top = estimate(
                        &scn.one_variant_at_load_scale(vi, saturates),
                        replications,
                        threads,
                    );
                    let ups = (saturates / start).log2().ceil().max(0.0);
                    total.add(scaled(2.0_f64.min(ups) + bisections, top));
                }
                // Halving from the start scale down to the smallest one.
                let downs = (start / spec.min_scale).log2().ceil().max(0.0);
                if downs > 0.0 {
                    total.add(scaled(1.0, one));
                }
            }
            Knob::Servers(hop) => {
                // Another station saturated at this load: the search stops at once, with
                // nothing simulated (`more_servers_cannot_help`).
                let elsewhere =
                    super::saturated(v).any(|(i, _)| v.network.stations[i].name != *hop);
                if elsewhere {
                    continue;
                }
                let station = v.network.stations.iter().position(|s| s.name == *hop);
                let work = station
                    .and_then(|i| {
                        let u = v.offered_utilization()[i]?;
                        Some(u * f64::from(v.network.stations[i].servers.count()?))
                    })
                    .unwrap_or(0.0);
                let stable_min = (work.floor() as u32).saturating_add(1).max(1);
                total.add(scaled(servers_rounds(stable_min, spec.max_servers), one));
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::spec_from_args;
    use crate::scenario::{LoadOptions, budget, from_text, load};

    const TANDEM: &str = "[run]\nduration_s = 100\nreplications = 2\n[sources.a]\nrate_per_s = 10\n\
        route = \"r\"\n[hops.h]\nservers = S\nservice_ms = { dist = \"exponential\", mean = 50 }\n\
        [hops.u]\nservers = \"unlimited\"\nservice_ms = { dist = \"exponential\", mean = 50 }\n\
        [routes.r]\nsteps = [\"h\", \"u\"]\ndeliver = \"f\"\n";

    fn tandem(servers: &str) -> Scenario {
        let text = TANDEM.replace("servers = S", &format!("servers = {servers}"));
        from_text(&text, "t.toml", "t", LoadOptions::default()).unwrap()
    }

    #[test]
    fn searches_that_cannot_end_are_refused() {
        let slo = ["f.p99<=5s".to_string()];
        let hop_u = spec_from_args(&slo, Some("u"), None, 0.02, None).unwrap();
        let e = check_searchable(&tandem("1"), &hop_u)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("`--hop u`: hop `u` has unlimited servers")
                && e.contains("accepted: a hop with a server count (h)"),
            "{e}"
        );
        let hop_h = spec_from_args(&slo, Some("h"), None, 0.02, None).unwrap();
        assert!(check_searchable(&tandem("1"), &hop_h).is_ok());
        let load = spec_from_args(&slo, None, None, 0.02, None).unwrap();
        assert!(check_searchable(&tandem("1"), &load).is_ok());
        let e = check_searchable(&tandem("\"unlimited\""), &load)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no load saturates it"), "{e}");
        // A start scale whose rates are beyond what a scenario may give.
        let huge = spec_from_args(&slo, Some("h"), Some(1e300), 0.02, None).unwrap();
        let e = check_searchable(&tandem("1"), &huge)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("at load scale 1.000e300") && e.contains("--scale"),
            "{e}"
        );
    }

    /// The bound covers every round: more than one round's cost, growing as the bracket
    /// narrows; and README's two searches stay within the budget.
    #[test]
    fn the_worst_case_covers_every_round() {
        let slo = ["f.p99<=5s".to_string()];
        let scn = tandem("1");
        let one = budget::estimate(&scn, 2, 1).events;
        let coarse = spec_from_args(&slo, None, None, 0.25, None).unwrap();
        let fine = spec_from_args(&slo, None, None, 0.001, None).unwrap();
        let c = worst_case(&scn, &coarse, &[0], 2, 1).events;
        let f = worst_case(&scn, &fine, &[0], 2, 1).events;
        // Utilization 0.5: the search goes up to twice the load, so each round costs up to
        // 2 × one; one doubling (2× is the saturating scale) + log2(1/bracket) + 1
        // bisections, plus one round's worth for the halving rounds.
        assert_eq!(c, 2.0 * one * (1.0 + 3.0) + one);
        assert!(f > c, "{f} vs {c}");
        let servers = spec_from_args(&slo, Some("h"), None, 0.02, None).unwrap();
        let s = worst_case(&scn, &servers, &[0], 2, 1).events;
        assert_eq!(s, one * servers_rounds(1, 100_000));

        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hybrid-routing.toml");
        let h = load(
            &path,
            LoadOptions {
                allow_unstable: true,
            },
        )
        .unwrap();
        let slos = [
            "inbound_to_onprem.p99<=5s".to_string(),
            "outbound_from_cloud.p99<=5s".to_string(),
        ];
        let all: Vec<usize> = (0..h.variants.len()).collect();
        for (hop, scale) in [(None, None), (Some("cas2013"), Some(1.5))] {
            let spec = spec_from_args(&slos, hop, scale, 0.02, None).unwrap();
            let e = worst_case(&h, &spec, &all, h.run.replications, 16);
            assert!(budget::check(&e, false, "x").is_ok(), "{hop:?}: {e:?}");
        }
    }

    #[test]
    fn servers_rounds_grow_by_a_quarter_then_bisect() {
        // 1, 2, 3, 4, 5, 6, 7, 8 (8 rounds), then at most 3 bisections of 8.
        assert_eq!(servers_rounds(1, 8), 8.0 + 3.0);
        // 100 → 125 → 156 → 195 → 200: 5 rounds, then 8 bisections of 200.
        assert_eq!(servers_rounds(100, 200), 5.0 + 8.0);
    }
}
