//! Seeded random streams: one per replication and per source of randomness.
//!
//! Derivation from the master seed, documented because results depend on it:
//!
//! ```text
//! seed(master, replication, namespace, index) =
//!     splitmix64(splitmix64(splitmix64(master ^ R) ^ replication ^ N(namespace)) ^ index)
//! ```
//!
//! where `splitmix64` is the finalizer of Steele et al.'s SplitMix64 and `R`, `N(…)` are fixed
//! odd constants. The 64-bit result seeds a xoshiro256++ generator through `seed_from_u64`.
//! A stream depends only on those four numbers, never on thread scheduling or on how many
//! other streams exist, so work units can run in any order, on any thread or machine. The
//! model picks namespaces (e.g. "arrivals of source i", "service at station j"); because the
//! variant is not an input, every variant of a replication sees the same arrivals (common
//! random numbers), which sharpens comparisons between variants.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator behind every stream: small, fast, and with a fixed, portable algorithm.
pub type SimRng = Xoshiro256PlusPlus;

const REPLICATION_SALT: u64 = 0x9E37_79B9_7F4A_7C15;
const NAMESPACE_SALT: u64 = 0xD1B5_4A32_D192_ED03;

#[inline]
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The 64-bit seed of one stream; see the module documentation for the formula.
pub fn stream_seed(master: u64, replication: u64, namespace: u32, index: u64) -> u64 {
    let rep = splitmix64(master ^ REPLICATION_SALT);
    let ns =
        splitmix64(rep ^ replication ^ (u64::from(namespace).wrapping_mul(NAMESPACE_SALT) | 1));
    splitmix64(ns ^ index)
}

/// The streams of one replication.
#[derive(Clone, Copy, Debug)]
pub struct RngStreams {
    master: u64,
    replication: u64,
}

impl RngStreams {
    pub fn new(master: u64, replication: u64) -> Self {
        RngStreams {
            master,
            replication,
        }
    }

    /// The generator for stream `index` of `namespace`.
    pub fn stream(&self, namespace: u32, index: u64) -> SimRng {
        SimRng::seed_from_u64(stream_seed(self.master, self.replication, namespace, index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = RngStreams::new(42, 0);
        let x: Vec<u64> = (0..4).map(|_| a.stream(1, 2).random()).collect();
        assert!(
            x.windows(2).all(|w| w[0] == w[1]),
            "same stream, same first draw"
        );
        let mut seeds = std::collections::HashSet::new();
        for rep in 0..20 {
            for ns in 0..5 {
                for i in 0..20 {
                    assert!(seeds.insert(stream_seed(42, rep, ns, i)));
                }
            }
        }
        assert_ne!(stream_seed(42, 0, 0, 0), stream_seed(43, 0, 0, 0));
    }

    #[test]
    fn derivation_is_pinned() {
        // Changing the derivation changes every published result; this test makes it deliberate.
        let v = stream_seed(2026, 3, 7, 11);
        assert_eq!(v, PINNED);
    }
    const PINNED: u64 = 10_417_465_500_972_921_657;
}
