//! The traffic equations' consequences: each station's offered utilization, and whether a
//! variant's offered load is within every station's capacity.

use super::{Bad, V};
use crate::load::Source;
use crate::model::network::{Network, StationKind, WhenFull};
use crate::scenario::VariantModel;

/// Offered utilization of each station (None for unlimited servers): Σ over sources of rate ×
/// expected visits × mean service time, divided by the servers.
pub fn offered_utilization(net: &Network, sources: &[Source]) -> Vec<Option<f64>> {
    let mut busy = vec![0.0; net.stations.len()];
    for s in sources {
        let Some(entry) = net.route_entry(&s.route) else {
            continue;
        };
        // Spam and legitimate mail meet filters differently: weigh the two by the spam share.
        for (spam, share) in [(false, 1.0 - s.spam_share), (true, s.spam_share)] {
            if share == 0.0 {
                continue;
            }
            let work = net.expected_work_s(
                entry,
                &s.group_presence(),
                s.size_kb.mean(),
                s.recipients.mean(),
                spam,
            );
            for (b, w) in busy.iter_mut().zip(work) {
                *b += s.rate_per_s * share * w;
            }
        }
    }
    net.stations
        .iter()
        .zip(busy)
        .map(|(st, b)| st.servers.count().map(|c| b / f64::from(c)))
        .collect()
}

pub(super) fn check_stability(variant: &VariantModel, allow_unstable: bool) -> V<()> {
    if allow_unstable {
        return Ok(());
    }
    for (st, u) in variant
        .network
        .stations
        .iter()
        .zip(variant.offered_utilization())
    {
        let Some(u) = u else { continue };
        // A hop that rejects when full is a loss system: stable at any offered load (what it
        // turns away ends `rejected`).
        if st.when_full == WhenFull::Reject {
            continue;
        }
        // Written so that NaN (an undefined load) fails too.
        if u.is_nan() || u >= 1.0 {
            let (field, what) = match st.kind {
                StationKind::Hop => (
                    format!("hops.{}.servers", st.name),
                    format!("hop `{}`", st.name),
                ),
                _ => {
                    let link = st.name.trim_end_matches(".bandwidth");
                    (
                        format!("links.{link}.bandwidth_mbps"),
                        format!("link `{link}`'s bandwidth"),
                    )
                }
            };
            return Err(Bad {
                field,
                message: format!(
                    "{what} is offered more work than it can do in variant `{}`: utilization {}; \
                     add servers or lower the load, or pass --allow-unstable to simulate it anyway",
                    variant.name,
                    crate::scenario::messages::figure(u)
                ),
                unstable: true,
            });
        }
    }
    Ok(())
}

/// Whether a variant's offered load is within every station's capacity; the error says which
/// station is over and by how much.
pub fn stability(variant: &VariantModel) -> V<()> {
    check_stability(variant, false)
}

#[cfg(test)]
mod tests {
    use crate::scenario::{self, LoadOptions, Scenario};

    fn tandem(rate: f64, servers2: u32, when_full: &str) -> Result<Scenario, String> {
        let text = format!(
            r#"
            [run]
            duration_s = 100
            [sources.a]
            rate_per_s = {rate}
            route = "r"
            [hops.s1]
            servers = 4
            service_ms = {{ dist = "exponential", rate_per_s = 30 }}
            [hops.s2]
            servers = {servers2}
            {when_full}
            service_ms = {{ dist = "deterministic", value = 50 }}
            [hops.resolver]
            servers = "unlimited"
            service_ms = {{ dist = "deterministic", value = 5 }}
            [routes.r]
            steps = ["s1", "s2", "resolver"]
            deliver = "d"
            "#
        );
        scenario::from_text(&text, "t.toml", "t", LoadOptions::default()).map_err(|e| e.to_string())
    }

    /// Offered utilization is λ × E[S] ÷ c per station (exact: the traffic equations of a
    /// series of hops), and None where servers are unlimited.
    #[test]
    fn offered_utilization_is_the_traffic_equations() {
        let scn = tandem(60.0, 4, "").unwrap();
        let v = &scn.variants[0];
        let u = v.offered_utilization();
        let at = |name: &str| {
            let i = v.network.stations.iter().position(|st| st.name == name);
            u[i.unwrap_or_else(|| panic!("no station {name}"))]
        };
        let near = |x: Option<f64>, want: f64| (x.unwrap() - want).abs() < 1e-12;
        assert!(near(at("s1"), 60.0 / 30.0 / 4.0), "{u:?}");
        assert!(near(at("s2"), 60.0 * 0.050 / 4.0), "{u:?}");
        assert_eq!(
            at("resolver"),
            None,
            "unlimited servers have no utilization"
        );
    }

    /// A hop offered more than it can do is refused with the field to change and the
    /// utilization; a loss hop (rejects when full) is stable at any load.
    #[test]
    fn an_overloaded_hop_is_refused_unless_it_rejects() {
        let e = tandem(60.0, 2, "").unwrap_err();
        assert!(e.contains("hops.s2.servers"), "{e}");
        assert!(e.contains("utilization 1.5"), "{e}");
        assert!(e.contains("--allow-unstable"), "{e}");
        tandem(
            60.0,
            2,
            "queue_limit = 5\n            when_full = \"reject\"",
        )
        .unwrap();
        // Exactly at capacity is unstable too (ρ = 1 has no steady state).
        let e = tandem(40.0, 2, "").unwrap_err();
        assert!(e.contains("utilization 1"), "{e}");
    }
}
