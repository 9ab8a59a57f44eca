//! Command-line tests: each runs the real `mailflow` binary in a fresh temporary directory.

mod sweep_capacity;
