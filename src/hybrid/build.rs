//! A `[hybrid]` scenario's variants from its raw tables: default hops and links with the
//! scenario's replacements, the options, the sources from the load, one compiled network per
//! listed variant.

use crate::load::trace::Trace;
use crate::model::topology::compile;
use crate::scenario::VariantModel;
use crate::scenario::raw::{RawHybrid, RawMx, RawScenario};
use crate::scenario::validate::{V, bad, dist, hop, link, share, topology_bad, trace_window_s};

use super::costs::{CostBasis, ONPREM_INTERNET};
use super::defaults::{default_hops, default_links};
use super::hops::{Hop, Link, names};
use super::load::hybrid_sources;
use super::routes::topology;
use super::{Appliance, HybridOptions, Mx, Variant};

fn hybrid_options(h: &RawHybrid) -> V<HybridOptions> {
    let mut o = HybridOptions {
        edge: h.edge.unwrap_or(false),
        ..HybridOptions::default()
    };
    if let Some(d) = &h.spam_detection {
        let f = |v: Option<f64>, name: &str, dflt: f64| match v {
            Some(x) => share(x, &format!("hybrid.spam_detection.{name}")),
            None => Ok(dflt),
        };
        o.spam.eop = f(d.eop, "eop", o.spam.eop)?;
        o.spam.onprem = f(d.onprem, "onprem", o.spam.onprem)?;
        o.spam.eop_behind_onprem = f(
            d.eop_behind_onprem,
            "eop_behind_onprem",
            o.spam.eop_behind_onprem,
        )?;
    }
    if let Some(a) = &h.appliance {
        o.appliance = Some(Appliance {
            external_processing: dist(
                &a.external_processing_ms,
                "hybrid.appliance.external_processing_ms",
                1e6,
                true,
            )?,
            false_positive: share(a.false_positive, "hybrid.appliance.false_positive")?,
        });
    }
    Ok(o)
}

/// The variants of a `[hybrid]` scenario.
pub fn variants(raw: &RawScenario, h: &RawHybrid, trace: Option<&Trace>) -> V<Vec<VariantModel>> {
    for (key, present) in [
        ("routes", !raw.routes.is_empty()),
        ("sources", !raw.sources.is_empty()),
        ("groups", !raw.groups.is_empty()),
    ] {
        if present {
            return bad(
                key,
                format!(
                    "`{key}` belongs to custom topologies; a `[hybrid]` scenario builds its routes from the seed"
                ),
            );
        }
    }
    let Some(load) = &raw.load else {
        return bad(
            "load",
            "is missing: a hybrid scenario needs `[load]` (mailbox counts and a message profile, or `rates_per_s`)",
        );
    };
    let mut hops = default_hops();
    for (name, h) in &raw.hops {
        let Some(slot) = hops.iter_mut().find(|x| &x.name == name) else {
            return bad(
                format!("hops.{name}"),
                format!(
                    "is not a hop of the hybrid routes; accepted: {}, {}",
                    names(Hop::REQUIRED, Hop::name),
                    names(Hop::OPTIONAL, Hop::name)
                ),
            );
        };
        *slot = hop(name, h, Some(slot))?;
    }
    let mut links = default_links();
    for (name, l) in &raw.links {
        let Some(slot) = links.iter_mut().find(|x| &x.name == name) else {
            return bad(
                format!("links.{name}"),
                format!(
                    "is not a link of the hybrid routes; accepted: {}",
                    names(Link::ALL, Link::name)
                ),
            );
        };
        *slot = link(name, l)?;
    }
    let sources = hybrid_sources(load, trace.map(|t| (t, trace_window_s(raw, t))))?;
    if sources.is_empty() {
        return bad("trace.file", "has no rows for any source of the scenario");
    }
    let options = hybrid_options(h)?;
    // (variant, options, name): the options a variant asks for on top of the scenario's.
    let mut chosen: Vec<(Variant, HybridOptions, String)> = Vec::new();
    let raw_variants: Vec<(Variant, Option<bool>, Option<bool>)> = match &h.variants {
        None => Variant::ALL.iter().map(|v| (*v, None, None)).collect(),
        Some(list) => list
            .iter()
            .map(|v| {
                let mx = match v.mx {
                    RawMx::Eop => Mx::Eop,
                    RawMx::Onprem => Mx::Onprem,
                };
                (
                    Variant {
                        mx,
                        centralized_mail_transport: v.centralized_mail_transport,
                    },
                    v.edge,
                    v.appliance,
                )
            })
            .collect(),
    };
    if raw_variants.is_empty() {
        return bad("hybrid.variants", "list at least one variant");
    }
    for (i, (var, edge, appliance)) in raw_variants.into_iter().enumerate() {
        let mut o = options.clone();
        o.edge = edge.unwrap_or(o.edge);
        match appliance {
            Some(false) => o.appliance = None,
            Some(true) if o.appliance.is_none() => {
                return bad(
                    format!("hybrid.variants.{i}.appliance"),
                    "needs the device described: add `[hybrid.appliance]` with `false_positive` and `external_processing_ms`",
                );
            }
            _ => {}
        }
        let mut name = var.name();
        if o.edge {
            name.push_str("_edge");
        }
        if o.appliance.is_some() {
            name.push_str("_appliance");
        }
        if chosen.iter().any(|(_, _, n)| *n == name) {
            return bad(
                format!("hybrid.variants.{i}"),
                format!("variant `{name}` is listed twice"),
            );
        }
        chosen.push((var, o, name));
    }
    chosen
        .into_iter()
        .map(|(v, o, name)| {
            let network =
                compile(&topology(v, &hops, &links, &o)).map_err(|e| topology_bad(e, true))?;
            let eop_licences = match v.mx {
                Mx::Eop => load.mailboxes.as_ref().map(|m| m.onprem),
                Mx::Onprem => Some(0.0),
            };
            let costs = Some(CostBasis {
                eop_licences,
                peak_factor: load.peak_factor.unwrap_or(1.0),
            });
            Ok(VariantModel {
                name,
                network,
                sources: sources.clone(),
                peak_meters: ONPREM_INTERNET.to_vec(),
                costs,
            })
        })
        .collect()
}
