//! Command-line tests: each runs the real `mailflow` binary in a fresh temporary directory.

mod browser;
mod calibrate;
mod compare;
mod deploy;
mod intervals;
mod outputs;
mod precision;
mod reliability;
mod run;
mod shard;
mod sweep_capacity;
mod validate;
