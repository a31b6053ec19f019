//! Clocks the monitor and the throughput tracker read: the wall clock for a live node, a virtual
//! clock the simulator advances. Nothing else in the crate reads the wall clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A source of "now", as the time elapsed since the clock's own origin.
///
/// `Send` so a monitor holding a clock can move to another thread (e.g. a rayon sweep worker).
pub trait Clock: Send {
    /// Time elapsed since this clock's origin.
    fn now(&self) -> Duration;
}

/// The wall clock: time since the clock was created, from `std::time::Instant` (monotonic).
#[derive(Clone, Copy, Debug)]
pub struct WallClock {
    origin: Instant,
}

impl WallClock {
    /// A wall clock whose origin is now.
    pub fn new() -> Self {
        WallClock {
            origin: Instant::now(),
        }
    }
}

impl Default for WallClock {
    fn default() -> Self {
        WallClock::new()
    }
}

impl Clock for WallClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that only moves when told to: a cheap, cloneable handle on shared nanoseconds.
///
/// The simulator keeps one handle and calls [`VirtualClock::set`] as virtual time advances;
/// the monitor holds a clone and reads the same value. Clones share the time.
#[derive(Clone, Debug, Default)]
pub struct VirtualClock {
    nanos: Arc<AtomicU64>,
}

impl VirtualClock {
    /// A virtual clock at time zero.
    pub fn new() -> Self {
        VirtualClock::default()
    }

    /// Moves the clock to `now` (saturating at `u64::MAX` nanoseconds). It may move backwards:
    /// the caller owns time.
    pub fn set(&self, now: Duration) {
        let nanos = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.store(nanos, Ordering::Release);
    }

    /// Moves the clock forward by `step` (saturating).
    pub fn advance(&self, step: Duration) {
        let step = u64::try_from(step.as_nanos()).unwrap_or(u64::MAX);
        // The closure always returns `Some`, so the update cannot fail.
        let _ = self
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                Some(now.saturating_add(step))
            });
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_clones_share_time() {
        let sim = VirtualClock::new();
        let monitor_side = sim.clone();
        sim.set(Duration::from_millis(1500));
        sim.advance(Duration::from_millis(500));
        assert_eq!(monitor_side.now(), Duration::from_secs(2));
    }

    #[test]
    fn wall_clock_is_monotonic() {
        let clock = WallClock::new();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
    }
}
