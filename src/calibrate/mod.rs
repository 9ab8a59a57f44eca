//! Calibration from an organization's own logs: reading message tracking logs and message
//! trace exports ([`record`], [`read`]) and a generator of realistic logs from a known model
//! for tests and examples.
//!
//! Must not: run simulations itself or depend on the engine's internals.

pub mod read;
pub mod record;

// Classification, estimation, outputs and the back-test (issue 11b).
pub mod classify;
pub mod estimate;
pub mod scenario_out;
pub mod tally;

pub use read::{read_bytes, read_inputs};
pub use record::{
    CalibrateError, EventId, LatencyComponents, LogFormat, LogRecord, Origin, ReadOptions,
    ReadReport, TraceStatus,
};
