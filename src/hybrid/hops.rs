//! The hybrid deployment's hops and links as types: every name a hybrid route, default or
//! scenario table may use, and which side of the organization each hop sits on.
//!
//! Owns the names; must not know routes (see [`super::routes`]) or service times
//! ([`super::defaults`]).

/// A hop of the seed's hybrid deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hop {
    /// Exchange Online Protection.
    Eop,
    /// Exchange Online transport.
    Exo,
    /// Exchange Online mailbox delivery.
    ExoMailbox,
    /// The Exchange 2013 Client Access + Mailbox server (the hybrid server).
    Cas2013,
    /// The Exchange 2007 Hub Transport server.
    Hub2007,
    /// The Exchange 2007 Mailbox server.
    Mbx2007,
    /// Global catalog recipient look-ups.
    Gc,
    /// MX look-ups.
    Dns,
    /// An optional Exchange Edge Transport server.
    Edge,
    /// An optional SMTP-rewriting device between on-premises and Office 365.
    Appliance,
}

/// Which side of the organization a hop belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Onprem,
    Cloud,
    /// Neither: DNS, the rewriting device between the two.
    Between,
}

impl Hop {
    /// Hops every hybrid variant uses.
    pub const REQUIRED: [Hop; 8] = [
        Hop::Eop,
        Hop::Exo,
        Hop::ExoMailbox,
        Hop::Cas2013,
        Hop::Hub2007,
        Hop::Mbx2007,
        Hop::Gc,
        Hop::Dns,
    ];
    /// Hops that options add.
    pub const OPTIONAL: [Hop; 2] = [Hop::Edge, Hop::Appliance];

    /// The hop's name in scenario files and outputs.
    pub const fn name(self) -> &'static str {
        match self {
            Hop::Eop => "eop",
            Hop::Exo => "exo",
            Hop::ExoMailbox => "exo_mailbox",
            Hop::Cas2013 => "cas2013",
            Hop::Hub2007 => "hub2007",
            Hop::Mbx2007 => "mbx2007",
            Hop::Gc => "gc",
            Hop::Dns => "dns",
            Hop::Edge => "edge",
            Hop::Appliance => "appliance",
        }
    }

    pub fn side(self) -> Side {
        match self {
            Hop::Eop | Hop::Exo | Hop::ExoMailbox => Side::Cloud,
            Hop::Cas2013 | Hop::Hub2007 | Hop::Mbx2007 | Hop::Gc | Hop::Edge => Side::Onprem,
            Hop::Dns | Hop::Appliance => Side::Between,
        }
    }

    /// The hop named `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Hop> {
        Hop::REQUIRED
            .into_iter()
            .chain(Hop::OPTIONAL)
            .find(|h| h.name() == name)
    }
}

/// A link of the seed's hybrid deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Link {
    /// Internet sender → the MX host.
    InternetIn,
    /// Our last hop → the Internet recipient's MX.
    InternetOut,
    /// The TLS hybrid connector between EOP and on-premises.
    Hybrid,
    /// The 2013 ↔ 2007 routing group connector (internal SMTP).
    Rgc,
}

impl Link {
    pub const ALL: [Link; 4] = [Link::InternetIn, Link::InternetOut, Link::Hybrid, Link::Rgc];

    pub const fn name(self) -> &'static str {
        match self {
            Link::InternetIn => "internet_in",
            Link::InternetOut => "internet_out",
            Link::Hybrid => "hybrid",
            Link::Rgc => "rgc",
        }
    }
}

/// Comma-separated names, for "accepted:" lists in error messages.
pub fn names<T: Copy>(items: impl IntoIterator<Item = T>, name: fn(T) -> &'static str) -> String {
    items.into_iter().map(name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let all: Vec<Hop> = Hop::REQUIRED.into_iter().chain(Hop::OPTIONAL).collect();
        for h in &all {
            assert_eq!(Hop::from_name(h.name()), Some(*h));
        }
        let mut names: Vec<&str> = all.iter().map(|h| h.name()).collect();
        names.extend(Link::ALL.map(Link::name));
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a hop and a link share a name");
        assert_eq!(Hop::from_name("nope"), None);
    }

    #[test]
    fn sides() {
        assert_eq!(Hop::Edge.side(), Side::Onprem);
        assert_eq!(Hop::Eop.side(), Side::Cloud);
        assert_eq!(Hop::Dns.side(), Side::Between);
    }
}
