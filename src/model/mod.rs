//! The generic transport model: distributions, the station network and its compilation from
//! named specs, transport behaviour (retries, availability), and the simulation that moves
//! message copies through them. Knows no Exchange hop or route (those are [`crate::hybrid`]).
//!
//! Architecture invariant: the model does no I/O. It receives validated specs from
//! [`crate::scenario`] and returns measurements to [`crate::runner`].

pub mod dist;
pub mod network;
pub mod sim;
pub mod topology;
pub mod transport;
