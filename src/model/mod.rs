//! The mail-transport model: distributions, the station network, the hybrid routes, and the
//! simulation that moves message copies through them.
//!
//! Architecture invariant: the model does no I/O. It receives validated specs from
//! [`crate::scenario`] and returns measurements to [`crate::runner`].

pub mod dist;
pub mod hybrid;
pub mod network;
pub mod sim;
pub mod topology;
pub mod transport;
