//! Per-visit work: what a hop does on one visit of a route (its role) and what that costs.
//!
//! The routing document gives each visit a job: EOP's first pass filters spam and malware,
//! its later passes only relay; Exchange Online scans for viruses, or delivers a copy EOP
//! already scanned; the server that looks recipients up does so per recipient (on-premises
//! against the global catalog) before it splits. A visit costs its role's time at that hop
//! when the scenario or [`super::defaults::default_work`] gives one, else the hop's
//! `service_ms`; a look-up adds its time once per recipient the copy carries.

use std::fmt::Write;

use super::hops::{Hop, Side};
use crate::model::dist::Dist;
use crate::model::network::VisitWork;

/// What a hop does on one visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// First-pass filtering of mail from the Internet (connection, spam and malware filters).
    Filter,
    /// Virus scan (and, where the document says so, compliance or content filtering).
    Scan,
    /// Receive and pass on: submission, categorization and hand-off, a relay pass.
    Relay,
    /// Delivery into a mailbox.
    Deliver,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Filter, Role::Scan, Role::Relay, Role::Deliver];

    /// The role's words in `explain`.
    pub fn words(self) -> &'static str {
        match self {
            Role::Filter => "first-pass filtering",
            Role::Scan => "virus scan",
            Role::Relay => "relay",
            Role::Deliver => "delivery",
        }
    }

    /// The key of the role's time in `[hybrid.work.<hop>]`.
    pub fn key(self) -> &'static str {
        match self {
            Role::Filter => "filter_ms",
            Role::Scan => "scan_ms",
            Role::Relay => "relay_ms",
            Role::Deliver => "deliver_ms",
        }
    }
}

/// The times (ns) of one hop's roles; None: the hop's `service_ms`.
#[derive(Clone, Debug, Default)]
pub struct HopWork {
    pub filter: Option<Dist>,
    pub scan: Option<Dist>,
    pub relay: Option<Dist>,
    pub deliver: Option<Dist>,
    /// Work per recipient of a look-up at this hop (not counting the global-catalog round
    /// trip, which on-premises look-ups add).
    pub lookup: Option<Dist>,
}

impl HopWork {
    pub fn role(&self, r: Role) -> Option<&Dist> {
        match r {
            Role::Filter => self.filter.as_ref(),
            Role::Scan => self.scan.as_ref(),
            Role::Relay => self.relay.as_ref(),
            Role::Deliver => self.deliver.as_ref(),
        }
    }

    pub fn role_mut(&mut self, r: Role) -> &mut Option<Dist> {
        match r {
            Role::Filter => &mut self.filter,
            Role::Scan => &mut self.scan,
            Role::Relay => &mut self.relay,
            Role::Deliver => &mut self.deliver,
        }
    }
}

/// Every hop's role times and the global-catalog round trip.
#[derive(Clone, Debug)]
pub struct WorkTable {
    /// Per hop, in [`Hop`] order of first mention.
    pub hops: Vec<(Hop, HopWork)>,
    /// One LDAP round trip to a global catalog server (ns), paid per recipient by on-premises
    /// look-ups.
    pub gc_round_trip: Dist,
}

impl WorkTable {
    pub fn of(&self, h: Hop) -> Option<&HopWork> {
        self.hops.iter().find(|(x, _)| *x == h).map(|(_, w)| w)
    }

    pub fn of_mut(&mut self, h: Hop) -> &mut HopWork {
        if let Some(i) = self.hops.iter().position(|(x, _)| *x == h) {
            return &mut self.hops[i].1;
        }
        self.hops.push((h, HopWork::default()));
        &mut self.hops.last_mut().expect("just pushed").1
    }

    /// The work of a visit to `h` in role `r`, with a per-recipient look-up if `look_up`.
    pub fn visit(&self, h: Hop, r: Role, look_up: bool) -> VisitWork {
        let w = self.of(h);
        let service = w.and_then(|w| w.role(r)).cloned();
        let mut label = r.words().to_string();
        match &service {
            Some(d) => {
                let _ = write!(label, " ({})", d.scaled(1e-6).describe("ms"));
            }
            None => label.push_str(" (the hop's service time)"),
        }
        let per_recipient = if look_up {
            let own = w.and_then(|w| w.lookup.clone());
            let gc = (h.side() == Side::Onprem).then(|| self.gc_round_trip.clone());
            label.push_str(", then a recipient look-up per recipient");
            match (&own, &gc) {
                (Some(o), Some(g)) => {
                    let _ = write!(
                        label,
                        " ({} + global-catalog round trip {})",
                        o.scaled(1e-6).describe("ms"),
                        g.scaled(1e-6).describe("ms")
                    );
                }
                (Some(d), None) => {
                    let _ = write!(label, " ({})", d.scaled(1e-6).describe("ms"));
                }
                (None, Some(g)) => {
                    let _ = write!(
                        label,
                        " (global-catalog round trip {})",
                        g.scaled(1e-6).describe("ms")
                    );
                }
                (None, None) => {}
            }
            match (own, gc) {
                (Some(o), Some(g)) => Some(Dist::Sum(Box::new((o, g)))),
                (o, g) => o.or(g),
            }
        } else {
            None
        };
        VisitWork {
            service,
            extra: None,
            per_recipient,
            label,
        }
    }
}
