//! The traffic equations' consequences: each station's offered utilization, and whether a
//! variant's offered load is within every station's capacity.

use super::{Bad, V};
use crate::load::Source;
use crate::model::network::{Network, StationKind};
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
            let work = net.expected_work_s(entry, &s.group_presence(), s.size_kb.mean(), spam);
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
