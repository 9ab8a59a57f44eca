//! Calibration from an organization's own logs: reading message tracking logs and message
//! trace exports ([`record`], [`read`]) and a generator of realistic logs from a known model
//! for tests and examples.
//!
//! Must not: run simulations itself or depend on the engine's internals.

mod fields;
mod powershell;
pub mod read;
pub mod record;
mod rows;
pub mod synth;
mod trace;
mod tracking;

// Classification, estimation, outputs and the back-test (issue 11b).
pub mod backtest;
pub mod classify;
pub mod estimate;
pub mod pipeline;
pub mod report;
pub mod scenario_out;
pub mod tally;

pub use fields::parse_message_info;
pub use read::{check_date_format, input_files, read_bytes, read_inputs, timezone};
pub use record::{
    CalibrateError, EventId, LatencyComponents, LogFormat, LogRecord, Origin, ReadOptions,
    ReadReport, Sides, TraceStatus,
};

#[cfg(test)]
mod read_tests;

#[cfg(test)]
mod recovery_tests;

#[cfg(test)]
mod combined_tests;
