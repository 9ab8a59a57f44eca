//! The hybrid layer's sources, flows, recipient groups, copy routes and link directions as
//! types. The core ([`crate::model`]) knows routes, flows and groups only by the names these
//! types give it; everything in the Exchange layer that builds a route or a rate names them
//! through these enums, so a misspelt flow is a compile error, not a route that delivers to
//! nowhere.
//!
//! Must not: know routes or rates (those are [`super::routes`] and [`super::load`]).

/// A source of hybrid load: where a message enters the organization. Each starts on the route
/// of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Internet mail to the organization (recipients split between the two sides).
    Inbound,
    OutboundFromOnprem,
    OutboundFromCloud,
    OnpremToCloud,
    CloudToOnprem,
    /// Mail that stays on-premises (mbx2007 → hub2007 → mbx2007).
    OnpremInternal,
    /// Mail that stays in Exchange Online.
    CloudInternal,
}

impl Source {
    pub const ALL: [Source; 7] = [
        Source::Inbound,
        Source::OutboundFromOnprem,
        Source::OutboundFromCloud,
        Source::OnpremToCloud,
        Source::CloudToOnprem,
        Source::OnpremInternal,
        Source::CloudInternal,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Source::Inbound => "inbound",
            Source::OutboundFromOnprem => "outbound_from_onprem",
            Source::OutboundFromCloud => "outbound_from_cloud",
            Source::OnpremToCloud => "onprem_to_cloud",
            Source::CloudToOnprem => "cloud_to_onprem",
            Source::OnpremInternal => "onprem_internal",
            Source::CloudInternal => "cloud_internal",
        }
    }

    /// The position in [`Source::ALL`] (and [`SOURCES`]).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Mail that stays on its own side (older scenarios have no rate for it).
    pub const fn is_internal(self) -> bool {
        matches!(self, Source::OnpremInternal | Source::CloudInternal)
    }

    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A flow: what a delivered copy is reported as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flow {
    InboundToOnprem,
    InboundToCloud,
    OutboundFromOnprem,
    OutboundFromCloud,
    OnpremToCloud,
    CloudToOnprem,
    OnpremInternal,
    CloudInternal,
}

impl Flow {
    /// In report order.
    pub const ALL: [Flow; 8] = [
        Flow::InboundToOnprem,
        Flow::InboundToCloud,
        Flow::OutboundFromOnprem,
        Flow::OutboundFromCloud,
        Flow::OnpremToCloud,
        Flow::CloudToOnprem,
        Flow::OnpremInternal,
        Flow::CloudInternal,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Flow::InboundToOnprem => "inbound_to_onprem",
            Flow::InboundToCloud => "inbound_to_cloud",
            Flow::OutboundFromOnprem => "outbound_from_onprem",
            Flow::OutboundFromCloud => "outbound_from_cloud",
            Flow::OnpremToCloud => "onprem_to_cloud",
            Flow::CloudToOnprem => "cloud_to_onprem",
            Flow::OnpremInternal => "onprem_internal",
            Flow::CloudInternal => "cloud_internal",
        }
    }

    /// The position in [`Flow::ALL`] (and [`FLOWS`]).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Where a recipient's mailbox is: the groups an inbound message splits into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    Onprem,
    Cloud,
}

impl Group {
    /// In the order of a source's `group_shares`.
    pub const ALL: [Group; 2] = [Group::Onprem, Group::Cloud];

    pub const fn name(self) -> &'static str {
        match self {
            Group::Onprem => "onprem",
            Group::Cloud => "cloud",
        }
    }
}

/// A route of the hybrid model: each source's own, and the two an inbound message's copies
/// continue on after the split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteName {
    Source(Source),
    /// The on-premises recipients' copy after the split.
    InboundOnpremCopy,
    /// The cloud recipients' copy after the split.
    InboundCloudCopy,
}

impl RouteName {
    pub const fn name(self) -> &'static str {
        match self {
            RouteName::Source(s) => s.name(),
            RouteName::InboundOnpremCopy => "inbound_onprem_copy",
            RouteName::InboundCloudCopy => "inbound_cloud_copy",
        }
    }

    /// The copy route that carries `group`'s recipients after the split.
    pub const fn copy_for(group: Group) -> RouteName {
        match group {
            Group::Onprem => RouteName::InboundOnpremCopy,
            Group::Cloud => RouteName::InboundCloudCopy,
        }
    }
}

/// A direction of the full-duplex hybrid link; each has its own bandwidth
/// (`hybrid.bandwidth.to_cloud`, `hybrid.bandwidth.to_onprem`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    ToCloud,
    ToOnprem,
}

impl Direction {
    pub const ALL: [Direction; 2] = [Direction::ToCloud, Direction::ToOnprem];

    pub const fn name(self) -> &'static str {
        match self {
            Direction::ToCloud => "to_cloud",
            Direction::ToOnprem => "to_onprem",
        }
    }
}

/// `names[i] = f(all[i])`, at compile time, for the `&str` tables other layers read.
macro_rules! name_table {
    ($all:expr, $n:literal) => {{
        let mut names = [""; $n];
        let mut i = 0;
        while i < $n {
            names[i] = $all[i].name();
            i += 1;
        }
        names
    }};
}

/// Source names, in [`Source::ALL`] order (what a trace's `flow` column and
/// `load.rates_per_s` accept).
pub const SOURCES: [&str; 7] = name_table!(Source::ALL, 7);
/// Flow names, in report order.
pub const FLOWS: [&str; 8] = name_table!(Flow::ALL, 8);
/// Recipient group names, in `group_shares` order.
pub const GROUPS: [&str; 2] = name_table!(Group::ALL, 2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_distinct() {
        for (i, s) in Source::ALL.into_iter().enumerate() {
            assert_eq!(Source::from_name(s.name()), Some(s));
            assert_eq!(s.index(), i);
        }
        for (i, f) in Flow::ALL.into_iter().enumerate() {
            assert_eq!(f.index(), i);
        }
        assert_eq!(Source::from_name("inbound_to_onprem"), None);
        let mut all: Vec<&str> = SOURCES.iter().chain(&GROUPS).copied().collect();
        all.extend([
            RouteName::InboundOnpremCopy.name(),
            RouteName::InboundCloudCopy.name(),
        ]);
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(
            all.len(),
            n,
            "source, group and copy-route names are distinct"
        );
        let mut flows = FLOWS.to_vec();
        flows.dedup();
        assert_eq!(flows.len(), 8);
    }

    #[test]
    fn every_non_inbound_source_is_a_flow_of_the_same_name() {
        // The report relies on it: a source that does not split delivers as its own flow.
        for s in Source::ALL.into_iter().filter(|s| *s != Source::Inbound) {
            assert!(FLOWS.contains(&s.name()), "{}", s.name());
        }
        assert_eq!(
            Source::ALL.iter().filter(|s| s.is_internal()).count(),
            2,
            "two internal sources"
        );
    }
}
