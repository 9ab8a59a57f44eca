//! Transport behaviour around stations: when a hop refuses work (outages, full queues) and how
//! a sender retries and gives up (the Exchange retry schedule and expiration timeout).

use crate::engine::SimTime;

/// How a sender that holds a refused message retries, and when the message expires.
///
/// Defaults are Exchange 2013's (Set-TransportService): TransientFailureRetryCount 6,
/// TransientFailureRetryInterval 5 min, MessageRetryInterval 15 min (2013-era docs),
/// MessageExpirationTimeout 2 days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub transient_retry_count: u32,
    pub transient_retry_interval: SimTime,
    pub message_retry_interval: SimTime,
    pub expiration_timeout: SimTime,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            transient_retry_count: 6,
            transient_retry_interval: SimTime::from_secs_f64(300.0),
            message_retry_interval: SimTime::from_secs_f64(900.0),
            expiration_timeout: SimTime::from_secs_f64(2.0 * 86_400.0),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based): the transient interval for the first
    /// `transient_retry_count` attempts, then the message retry interval.
    #[inline]
    pub fn delay(&self, attempt: u32) -> SimTime {
        if attempt <= self.transient_retry_count {
            self.transient_retry_interval
        } else {
            self.message_retry_interval
        }
    }
}

/// Exchange 2013 back pressure tarpits MAIL FROM before rejecting it: 10 s, rising in 5 s steps
/// to 55 s ([ODE] back pressure). `attempt` counts the refusals of this copy by this hop
/// (1-based).
pub fn tarpit(attempt: u32) -> SimTime {
    let secs = (10 + 5 * u64::from(attempt.saturating_sub(1))).min(55);
    SimTime::from_nanos(secs * 1_000_000_000)
}

/// When a station is down: scheduled windows and random failures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Availability {
    /// Scheduled outages: (start, duration).
    pub windows: Vec<(SimTime, SimTime)>,
    /// Random failures: mean time between failures and mean time to repair, in nanoseconds
    /// (both exponential).
    pub failures: Option<(f64, f64)>,
}

impl Availability {
    pub fn is_always_up(&self) -> bool {
        self.windows.is_empty() && self.failures.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarpit_rises_in_five_second_steps_to_55() {
        let s = |a| tarpit(a).as_secs_f64();
        assert_eq!(
            (s(1), s(2), s(10), s(11), s(50)),
            (10.0, 15.0, 55.0, 55.0, 55.0)
        );
    }

    #[test]
    fn retry_schedule_switches_after_transient_retries() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1), SimTime::from_secs_f64(300.0));
        assert_eq!(p.delay(6), SimTime::from_secs_f64(300.0));
        assert_eq!(p.delay(7), SimTime::from_secs_f64(900.0));
    }
}
