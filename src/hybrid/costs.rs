//! What a hybrid variant's traffic costs: the meters the routes put on hybrid-connector and
//! Internet-link visits, and the basis that turns them into `costs.csv` figures.
//!
//! Owns the meaning of each meter; the core ([`crate::model`], [`crate::runner`]) only counts
//! [`MeterId`]s it is given.

use crate::model::network::MeterId;

/// Traffic meters on hybrid route steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meter {
    /// On-premises → EOP over the hybrid connector.
    ToCloud,
    /// EOP → on-premises over the hybrid connector.
    ToOnprem,
    /// Internet mail arriving at an on-premises MX.
    OnpremInternetIn,
    /// Mail leaving for the Internet from on-premises.
    OnpremInternetOut,
}

impl Meter {
    pub const fn id(self) -> MeterId {
        let n = match self {
            Meter::ToCloud => 1,
            Meter::ToOnprem => 2,
            Meter::OnpremInternetIn => 3,
            Meter::OnpremInternetOut => 4,
        };
        match MeterId::new(n) {
            Some(m) => m,
            None => unreachable!(),
        }
    }

    /// The slot of the meter's counters in a run's results.
    pub fn index(self) -> usize {
        self.id().index()
    }
}

/// Meters whose traffic crosses the on-premises Internet connection (the hybrid connector both
/// ways, and Internet mail to and from on-premises hops).
pub const ONPREM_INTERNET: [MeterId; 4] = [
    Meter::ToCloud.id(),
    Meter::ToOnprem.id(),
    Meter::OnpremInternetIn.id(),
    Meter::OnpremInternetOut.id(),
];

/// What turns a hybrid variant's measured traffic into `costs.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostBasis {
    /// On-premises mailboxes that receive Internet mail through EOP (None: mailbox counts not
    /// given).
    pub eop_licences: Option<f64>,
    /// The simulated rates are the peak hour's; a day carries 86 400 s ÷ this factor of them.
    pub peak_factor: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meters_have_distinct_slots() {
        let mut slots: Vec<usize> = ONPREM_INTERNET.iter().map(|m| m.index()).collect();
        slots.dedup();
        assert_eq!(slots, [1, 2, 3, 4]);
        assert_eq!(Meter::ToOnprem.index(), 2);
    }
}
