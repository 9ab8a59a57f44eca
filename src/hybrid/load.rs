//! The hybrid load: a mailbox profile (mailbox counts, messages sent and received per mailbox
//! per day, Internet shares, peak factor) and the hybrid sources whose rates follow from it, or
//! from `load.rates_per_s`, or from a replayed trace.

use crate::load::trace::Trace;
use crate::load::{ArrivalSpec, Recipients, Shape, Source};
use crate::model::dist::Dist;
use crate::scenario::raw::RawLoad;
use crate::scenario::validate::{
    V, bad, non_negative, positive, recipients, shape, share, size, traced,
};

use super::names::{SOURCES, Source as HybridSource};

/// Mailbox counts and a message profile, from which the hybrid sources' rates follow.
#[derive(Clone, Debug)]
pub struct MailProfile {
    pub onprem_mailboxes: f64,
    pub cloud_mailboxes: f64,
    pub sent_per_mailbox_per_day: f64,
    pub received_per_mailbox_per_day: f64,
    /// Share of received messages that come from the Internet.
    pub internet_share_of_received: f64,
    /// Share of sent messages that go to the Internet (the rest are internal).
    pub internet_share_of_sent: f64,
    /// Peak-hour rate divided by the 24-hour average rate.
    pub peak_factor: f64,
}

/// Message rates per second of the hybrid sources.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HybridRates {
    pub inbound: f64,
    pub outbound_from_onprem: f64,
    pub outbound_from_cloud: f64,
    pub onprem_to_cloud: f64,
    pub cloud_to_onprem: f64,
    pub onprem_internal: f64,
    pub cloud_internal: f64,
}

impl MailProfile {
    /// Share of the organization's mailboxes that are on-premises.
    pub fn onprem_share(&self) -> f64 {
        self.onprem_mailboxes / (self.onprem_mailboxes + self.cloud_mailboxes)
    }

    /// Peak rates, in messages per second:
    /// - inbound = all mailboxes × received × Internet share ÷ mean recipients per message
    ///   (a message to k of our mailboxes counts once);
    /// - outbound from a side = its mailboxes × sent × Internet share;
    /// - cross-premises from a side = its mailboxes × sent × internal share × the other side's
    ///   share of mailboxes (internal mail goes to a mailbox chosen in proportion);
    /// - internal to a side (`onprem_internal`, `cloud_internal`) = its mailboxes × sent ×
    ///   internal share × its own share of mailboxes.
    ///
    /// So a side's sent mail is Internet + cross-premises + internal, and the four internal
    /// rates sum to all mailboxes × sent × internal share.
    ///
    /// Each is a daily count × `peak_factor` ÷ 86 400 s.
    pub fn rates(&self, mean_recipients: f64) -> HybridRates {
        let k = self.peak_factor / 86_400.0;
        let total = self.onprem_mailboxes + self.cloud_mailboxes;
        let on = self.onprem_share();
        let internal = 1.0 - self.internet_share_of_sent;
        HybridRates {
            inbound: total * self.received_per_mailbox_per_day * self.internet_share_of_received
                / mean_recipients
                * k,
            outbound_from_onprem: self.onprem_mailboxes
                * self.sent_per_mailbox_per_day
                * self.internet_share_of_sent
                * k,
            outbound_from_cloud: self.cloud_mailboxes
                * self.sent_per_mailbox_per_day
                * self.internet_share_of_sent
                * k,
            onprem_to_cloud: self.onprem_mailboxes
                * self.sent_per_mailbox_per_day
                * internal
                * (1.0 - on)
                * k,
            cloud_to_onprem: self.cloud_mailboxes
                * self.sent_per_mailbox_per_day
                * internal
                * on
                * k,
            onprem_internal: self.onprem_mailboxes
                * self.sent_per_mailbox_per_day
                * internal
                * on
                * k,
            cloud_internal: self.cloud_mailboxes
                * self.sent_per_mailbox_per_day
                * internal
                * (1.0 - on)
                * k,
        }
    }
}

/// The mailbox profile; `default_peak` stands in for a missing `peak_factor` (a shape's own).
pub fn profile(l: &RawLoad, default_peak: Option<f64>) -> V<MailProfile> {
    let need = |v: Option<f64>, f: &str| -> V<f64> {
        v.ok_or(()).or_else(|_| {
            bad(
                format!("load.{f}"),
                "is missing; give the mailbox profile (mailboxes, sent/received per mailbox per day, \
                 Internet shares, peak_factor) or `load.rates_per_s` for every source",
            )
        })
    };
    let Some(m) = &l.mailboxes else {
        return need(None, "mailboxes").map(|_| unreachable!());
    };
    let p = MailProfile {
        onprem_mailboxes: non_negative(m.onprem, "load.mailboxes.onprem")?,
        cloud_mailboxes: non_negative(m.cloud, "load.mailboxes.cloud")?,
        sent_per_mailbox_per_day: non_negative(
            need(l.sent_per_mailbox_per_day, "sent_per_mailbox_per_day")?,
            "load.sent_per_mailbox_per_day",
        )?,
        received_per_mailbox_per_day: non_negative(
            need(
                l.received_per_mailbox_per_day,
                "received_per_mailbox_per_day",
            )?,
            "load.received_per_mailbox_per_day",
        )?,
        internet_share_of_received: share(
            need(l.internet_share_of_received, "internet_share_of_received")?,
            "load.internet_share_of_received",
        )?,
        internet_share_of_sent: share(
            need(l.internet_share_of_sent, "internet_share_of_sent")?,
            "load.internet_share_of_sent",
        )?,
        peak_factor: positive(
            need(l.peak_factor.or(default_peak), "peak_factor")?,
            "load.peak_factor",
        )?,
    };
    if p.onprem_mailboxes + p.cloud_mailboxes <= 0.0 {
        return bad("load.mailboxes", "needs at least one mailbox");
    }
    Ok(p)
}

/// One hybrid source: inbound mail splits its recipients between on-premises and the cloud and
/// may be spam; the other sources are internal or outbound and are neither.
fn hybrid_source(
    source: HybridSource,
    rate_per_s: f64,
    arrivals: ArrivalSpec,
    recipients: &Recipients,
    size_kb: &Dist,
    onprem_share: f64,
    spam_share: f64,
) -> Source {
    let inbound = source == HybridSource::Inbound;
    Source {
        name: source.name().to_string(),
        rate_per_s,
        arrivals,
        route: source.name().to_string(),
        recipients: recipients.clone(),
        group_shares: if inbound {
            vec![onprem_share, 1.0 - onprem_share]
        } else {
            Vec::new()
        },
        size_kb: size_kb.clone(),
        spam_share: if inbound { spam_share } else { 0.0 },
    }
}

/// The five hybrid sources, with rates from `rates_per_s` where given and from the mailbox
/// profile otherwise. Sources whose derived rate is zero are left out. With a shape, every
/// source follows it and the rates are its busiest hour's; with a trace (`trace_window_s` its
/// averaging window), the sources replay it and the profile's rates are not used.
pub fn hybrid_sources(l: &RawLoad, trace: Option<(&Trace, f64)>) -> V<Vec<Source>> {
    let spam_share = share(l.spam_share.unwrap_or(0.0), "load.spam_share")?;
    let recipients = recipients(&l.recipients, "load.recipients")?;
    let size_kb = size(&l.size_kb, "load.size_kb")?;
    let shaped = match (&l.shape, trace) {
        (Some(_), Some(_)) => {
            return bad(
                "load.shape",
                "cannot apply to a replayed trace; remove `[trace]` or the shape",
            );
        }
        (Some(sh), None) => Some(shape(sh, "load.shape")?),
        (None, _) => None,
    };
    if let Some((t, window_s)) = trace {
        let onprem_share = match (l.onprem_recipient_share, &l.mailboxes) {
            (Some(s), _) => share(s, "load.onprem_recipient_share")?,
            (None, Some(m)) if m.onprem + m.cloud > 0.0 => {
                non_negative(m.onprem, "load.mailboxes.onprem")?
                    / (m.onprem + non_negative(m.cloud, "load.mailboxes.cloud")?)
            }
            _ => {
                return bad(
                    "load.onprem_recipient_share",
                    "is missing: with a trace, give the share of inbound recipients that are on-premises (or `mailboxes`)",
                );
            }
        };
        let mut out = Vec::new();
        for source in HybridSource::ALL {
            let Some((arrivals, rate_per_s)) = traced(t, &SOURCES, source.name(), window_s) else {
                continue;
            };
            out.push(hybrid_source(
                source,
                rate_per_s,
                arrivals,
                &recipients,
                &size_kb,
                onprem_share,
                spam_share,
            ));
        }
        return Ok(out);
    }
    let given = l.rates_per_s.clone().unwrap_or_default();
    for (k, v) in &given {
        if HybridSource::from_name(k).is_none() {
            return bad(
                format!("load.rates_per_s.{k}"),
                format!("is not a hybrid source; accepted: {}", SOURCES.join(", ")),
            );
        }
        positive(*v, &format!("load.rates_per_s.{k}"))?;
    }
    // Without a mailbox profile every boundary source needs its rate; the internal flows
    // (which older scenarios did not have) are then left out unless given.
    let all_given = HybridSource::ALL
        .iter()
        .filter(|s| !s.is_internal())
        .all(|s| given.contains_key(s.name()));
    let prof = if all_given && l.mailboxes.is_none() {
        None
    } else {
        Some(profile(l, shaped.as_ref().map(Shape::diurnal_peak_factor))?)
    };
    let derived = prof.as_ref().map(|p| p.rates(recipients.mean()));
    let onprem_share = match (l.onprem_recipient_share, &prof) {
        (Some(s), _) => share(s, "load.onprem_recipient_share")?,
        (None, Some(p)) => p.onprem_share(),
        (None, None) => {
            return bad(
                "load.onprem_recipient_share",
                "is missing: with no mailbox counts, give the share of inbound recipients that are on-premises",
            );
        }
    };
    let mut out = Vec::new();
    for source in HybridSource::ALL {
        let rate = match (given.get(source.name()), &derived) {
            (Some(r), _) => *r,
            (None, Some(d)) => match source {
                // The profile counts legitimate mail; spam arrives on top of it.
                HybridSource::Inbound => d.inbound / (1.0 - spam_share.min(0.999)),
                HybridSource::OutboundFromOnprem => d.outbound_from_onprem,
                HybridSource::OutboundFromCloud => d.outbound_from_cloud,
                HybridSource::OnpremToCloud => d.onprem_to_cloud,
                HybridSource::CloudToOnprem => d.cloud_to_onprem,
                HybridSource::OnpremInternal => d.onprem_internal,
                HybridSource::CloudInternal => d.cloud_internal,
            },
            (None, None) if source.is_internal() => 0.0,
            (None, None) => unreachable!("a profile exists unless every rate is given"),
        };
        if rate <= 0.0 {
            continue;
        }
        let arrivals = match &shaped {
            Some(sh) => ArrivalSpec::Shaped(sh.clone()),
            None => ArrivalSpec::Poisson,
        };
        out.push(hybrid_source(
            source,
            rate,
            arrivals,
            &recipients,
            &size_kb,
            onprem_share,
            spam_share,
        ));
    }
    if out.is_empty() {
        return bad("load", "every source's rate is zero; give a load");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_follow_the_profile() {
        let p = MailProfile {
            onprem_mailboxes: 1000.0,
            cloud_mailboxes: 3000.0,
            sent_per_mailbox_per_day: 20.0,
            received_per_mailbox_per_day: 80.0,
            internet_share_of_received: 0.5,
            internet_share_of_sent: 0.25,
            peak_factor: 2.0,
        };
        let r = p.rates(2.0);
        let k = 2.0 / 86_400.0;
        assert!((r.inbound - 4000.0 * 80.0 * 0.5 / 2.0 * k).abs() < 1e-12);
        assert!((r.outbound_from_cloud - 3000.0 * 20.0 * 0.25 * k).abs() < 1e-12);
        assert!((r.onprem_to_cloud - 1000.0 * 20.0 * 0.75 * 0.75 * k).abs() < 1e-12);
        assert!((r.cloud_to_onprem - 3000.0 * 20.0 * 0.75 * 0.25 * k).abs() < 1e-12);
        assert!((r.onprem_internal - 1000.0 * 20.0 * 0.75 * 0.25 * k).abs() < 1e-12);
        assert!((r.cloud_internal - 3000.0 * 20.0 * 0.75 * 0.75 * k).abs() < 1e-12);
        // Every internal message is counted once: the four internal flows are all internal mail.
        let internal = r.onprem_to_cloud + r.cloud_to_onprem + r.onprem_internal + r.cloud_internal;
        assert!((internal - 4000.0 * 20.0 * 0.75 * k).abs() < 1e-12);
    }
}
