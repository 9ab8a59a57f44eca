//! Exit codes and how an error chain picks one.
//!
//! Each library error enum carries its own `exit_code()`: [`BAD_INPUT`] (2) for bad input or
//! usage, [`FAILED_CHECK`] (1) for a run that completed but failed its own check. The binary
//! asks [`exit_code`] for the first library error in a chain; anything else is 1.

use std::error::Error;

/// Bad input or usage (a scenario, a flag, a shard, an output folder).
pub const BAD_INPUT: u8 = 2;
/// A run that completed but failed its own check (conservation, a validation case).
pub const FAILED_CHECK: u8 = 1;

/// The exit code of `err` if it is one of the library's error types.
pub fn code_of(err: &(dyn Error + 'static)) -> Option<u8> {
    use crate::{calibrate, capacity, report, runner, scenario, shard, sweep, validate};
    if let Some(e) = err.downcast_ref::<calibrate::CalibrateError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<calibrate::pipeline::PipelineError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<calibrate::scenario_out::OutputError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<calibrate::backtest::BacktestError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<scenario::ScenarioError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<report::ReportError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<shard::ShardError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<runner::RunError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<validate::ValidateError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<sweep::SweepError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = err.downcast_ref::<capacity::CapacityError>() {
        return Some(e.exit_code());
    }
    None
}

/// The exit code for an error chain (outermost first): the first library error's, else
/// [`FAILED_CHECK`].
pub fn exit_code<'a>(chain: impl IntoIterator<Item = &'a (dyn Error + 'static)>) -> u8 {
    chain.into_iter().find_map(code_of).unwrap_or(FAILED_CHECK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::RunError;
    use crate::sweep::SweepError;

    #[test]
    fn codes_follow_the_error_not_its_wrapping() {
        let conservation = || RunError::Conservation {
            variant: "v".into(),
            replication: 0,
            source: crate::stats::ConservationError {
                generated: 2,
                ended: 1,
            },
        };
        assert_eq!(conservation().exit_code(), FAILED_CHECK);
        assert_eq!(SweepError::Run(conservation()).exit_code(), FAILED_CHECK);
        assert_eq!(SweepError::TooLarge { points: 1 }.exit_code(), BAD_INPUT);
        let io = std::io::Error::other("x");
        assert_eq!(exit_code([&io as &(dyn Error + 'static)]), FAILED_CHECK);
        let sweep = SweepError::TooLarge { points: 1 };
        assert_eq!(
            exit_code([&io as &(dyn Error + 'static), &sweep]),
            BAD_INPUT
        );
    }
}
