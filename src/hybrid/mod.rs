//! The Exchange layer: everything mailflow knows about hybrid Exchange deployments, over a
//! core ([`crate::engine`], [`crate::model`], [`crate::stats`], [`crate::runner`]) that knows
//! nothing of mail.
//!
//! - [`hops`]: the hops and links as types (names, which side a hop is on);
//! - [`routes`]: the seed's routes per [`Variant`] as typed steps, compiled to route specs;
//! - [`work`]: what each visit does (its role) and costs, the per-recipient look-up;
//! - [`defaults`]: default hops, links, retry, options;
//! - [`names`]: sources, flows, recipient groups, copy routes and link directions as types;
//! - [`load`]: the mailbox profile and the hybrid sources it drives;
//! - [`costs`]: traffic meters and the cost basis of `costs.csv`;
//! - [`build`]: a `[hybrid]` scenario's variants, from its raw tables.
//!
//! Must not: reach into the event loop or add special cases to the engine — a hybrid variant
//! is an ordinary compiled [`crate::model::network::Network`].

pub mod build;
pub mod costs;
pub mod defaults;
pub mod hops;
pub mod load;
pub mod names;
pub mod routes;
pub mod work;

pub use costs::{CostBasis, Meter};
pub use hops::{Hop, Link, Side};
pub use names::{Direction, FLOWS, Flow, GROUPS, Group, RouteName, SOURCES, Source};

use crate::model::dist::Dist;

/// Where the MX record points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mx {
    /// Exchange Online Protection (the seed's recommended configuration).
    Eop,
    /// The on-premises organization (an Exchange 2007 Hub Transport server).
    Onprem,
}

/// One routing option: MX target × centralized mail transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    pub mx: Mx,
    pub centralized_mail_transport: bool,
}

impl Variant {
    pub const ALL: [Variant; 4] = [
        Variant {
            mx: Mx::Eop,
            centralized_mail_transport: false,
        },
        Variant {
            mx: Mx::Eop,
            centralized_mail_transport: true,
        },
        Variant {
            mx: Mx::Onprem,
            centralized_mail_transport: false,
        },
        Variant {
            mx: Mx::Onprem,
            centralized_mail_transport: true,
        },
    ];

    /// A name safe in CSV cells and file names, e.g. `mx-eop_cmt-off`.
    pub fn name(self) -> String {
        let mx = match self.mx {
            Mx::Eop => "eop",
            Mx::Onprem => "onprem",
        };
        let cmt = if self.centralized_mail_transport {
            "on"
        } else {
            "off"
        };
        format!("mx-{mx}_cmt-{cmt}")
    }
}

/// Spam filtering along the inbound routes (probabilities that a spam copy is caught).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpamFiltering {
    /// EOP's first pass when the MX points at it.
    pub eop: f64,
    /// On-premises anti-spam on the Hub that receives Internet mail (MX on-premises).
    pub onprem: f64,
    /// EOP/Exchange Online behind an on-premises MX, without connection filtering.
    pub eop_behind_onprem: f64,
}

/// An SMTP-rewriting device between on-premises and Office 365: cross-premises mail through it
/// loses its internal attribution and is processed as external where it arrives.
#[derive(Clone, Debug)]
pub struct Appliance {
    /// Extra processing (anti-spam, rules) at the receiving hop, in nanoseconds.
    pub external_processing: Dist,
    /// Probability that such a message is quarantined as a false positive.
    pub false_positive: f64,
}

/// What a hybrid scenario adds to the seed's routes (defaults in [`defaults`]).
#[derive(Clone, Debug)]
pub struct HybridOptions {
    pub spam: SpamFiltering,
    /// An Edge Transport server inside the on-premises side.
    pub edge: bool,
    pub appliance: Option<Appliance>,
    /// Per-visit work of each hop's roles and the global-catalog round trip.
    pub work: work::WorkTable,
}
