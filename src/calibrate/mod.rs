//! Calibration from an organization's own logs: reading message tracking logs and message
//! trace exports ([`record`], [`read`]) and a generator of realistic logs from a known model
//! for tests and examples.
//!
//! Must not: run simulations itself or depend on the engine's internals.

pub mod read;
pub mod record;

pub use read::{read_bytes, read_inputs};
pub use record::{
    CalibrateError, EventId, LatencyComponents, LogFormat, LogRecord, Origin, ReadOptions,
    ReadReport, TraceStatus,
};
