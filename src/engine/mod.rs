//! The discrete-event engine: simulated time, the event queue and seeded random streams.
//!
//! It owns the clock and the order in which events happen, nothing else. Architecture
//! invariant: the engine does no I/O and knows nothing of mail; a model plugs in through
//! the [`Model`] trait and is monomorphized into the loop, so there is no dynamic dispatch
//! and no allocation per event (the queue's buffer grows amortized and is then reused).

mod queue;
mod rng;
mod time;

pub use queue::EventQueue;
pub use rng::{RngStreams, SimRng, stream_seed};
pub use time::SimTime;

/// A model driven by the engine: it reacts to one event at a time and may schedule more.
pub trait Model {
    /// The event payload. Kept `Copy` and small: it lives in the queue's buffer by value.
    type Event: Copy;

    /// Handles `event`, which happens at `now`; schedules follow-ups on `queue`.
    fn handle(&mut self, now: SimTime, event: Self::Event, queue: &mut EventQueue<Self::Event>);
}

/// What one call to [`run`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOutcome {
    /// Events handled.
    pub events: u64,
    /// Simulated time when the loop stopped: the horizon if one was reached, else the time of
    /// the last event handled.
    pub end: SimTime,
}

/// Runs `model` until the queue is empty or the next event lies beyond `horizon`.
///
/// Events at exactly `horizon` are handled; events after it stay in the queue, so a caller can
/// inspect or resume. Ties in time are handled in the order they were scheduled.
pub fn run<M: Model>(
    model: &mut M,
    queue: &mut EventQueue<M::Event>,
    horizon: Option<SimTime>,
) -> RunOutcome {
    let mut outcome = RunOutcome::default();
    let limit = horizon.unwrap_or(SimTime::MAX);
    while let Some((now, event)) = queue.pop_due(limit) {
        outcome.events += 1;
        outcome.end = now;
        model.handle(now, event, queue);
    }
    if let Some(h) = horizon {
        outcome.end = outcome.end.max(h);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model that counts down: each event schedules the next one a fixed step later.
    struct Countdown {
        left: u32,
        seen: Vec<SimTime>,
    }

    impl Model for Countdown {
        type Event = ();
        fn handle(&mut self, now: SimTime, _: (), queue: &mut EventQueue<()>) {
            self.seen.push(now);
            if self.left > 0 {
                self.left -= 1;
                queue.schedule(now + SimTime::from_nanos(10), ());
            }
        }
    }

    #[test]
    fn run_stops_at_horizon_and_keeps_later_events() {
        let mut m = Countdown {
            left: 100,
            seen: Vec::new(),
        };
        let mut q = EventQueue::new();
        q.schedule(SimTime::ZERO, ());
        let out = run(&mut m, &mut q, Some(SimTime::from_nanos(35)));
        assert_eq!(m.seen.len(), 4); // 0, 10, 20, 30
        assert_eq!(out.events, 4);
        assert_eq!(out.end, SimTime::from_nanos(35));
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn run_drains_without_horizon() {
        let mut m = Countdown {
            left: 3,
            seen: Vec::new(),
        };
        let mut q = EventQueue::new();
        q.schedule(SimTime::ZERO, ());
        let out = run(&mut m, &mut q, None);
        assert_eq!(out.events, 4);
        assert_eq!(out.end, SimTime::from_nanos(30));
        assert!(q.is_empty());
    }
}
