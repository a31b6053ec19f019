//! Transactions per second over a sliding time window, in bounded memory.

use super::clock::{Clock, WallClock};
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

/// The window is cut into this many slots; counts are kept per slot.
const SLOTS_PER_WINDOW: u64 = 100;

/// Counts transactions and reports their rate over the last `window` of clock time.
///
/// Memory is bounded: transactions are counted per slot of `window / 100`, and at most 101
/// slots are kept however many calls are made. A batch recorded at time `t` counts while
/// `now - t < window`, at slot resolution (exact when record times fall on slot boundaries).
///
/// [`ThroughputTracker::current_throughput`] divides by the full window length, even during
/// the first window: it under-reports while warming up but never spikes on the first batch.
pub struct ThroughputTracker {
    clock: Box<dyn Clock>,
    window: Duration,
    slot_nanos: u64,
    /// `(slot index, transactions)` in increasing slot order.
    slots: VecDeque<(u64, u64)>,
    total: u64,
}

impl ThroughputTracker {
    /// A tracker over `window` of wall-clock time.
    pub fn new(window: Duration) -> Self {
        ThroughputTracker::with_clock(window, WallClock::new())
    }

    /// A tracker over `window` of the given clock's time (e.g. a `VirtualClock`).
    pub fn with_clock(window: Duration, clock: impl Clock + 'static) -> Self {
        let window_nanos = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
        ThroughputTracker {
            clock: Box::new(clock),
            window,
            slot_nanos: (window_nanos / SLOTS_PER_WINDOW).max(1),
            slots: VecDeque::new(),
            total: 0,
        }
    }

    /// Records `count` transactions processed now.
    pub fn record_transactions(&mut self, count: u64) {
        let slot = self.current_slot();
        self.forget_before(slot);
        match self.slots.back_mut() {
            Some((last, n)) if *last == slot => *n = n.saturating_add(count),
            _ => self.slots.push_back((slot, count)),
        }
        self.total = self.total.saturating_add(count);
    }

    /// Transactions per second over the window: transactions recorded in the last `window`
    /// divided by the window length in seconds; 0 for a zero window.
    pub fn current_throughput(&self) -> f64 {
        let seconds = self.window.as_secs_f64();
        if seconds <= 0.0 {
            return 0.0;
        }
        self.transactions_in_window() as f64 / seconds
    }

    /// Transactions recorded within the last `window`.
    pub fn transactions_in_window(&self) -> u64 {
        let oldest = self.oldest_counted_slot(self.current_slot());
        self.slots
            .iter()
            .filter(|(slot, _)| *slot >= oldest)
            .fold(0u64, |sum, (_, n)| sum.saturating_add(*n))
    }

    /// Transactions recorded since the tracker was created.
    pub fn total_transactions(&self) -> u64 {
        self.total
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.window
    }

    fn current_slot(&self) -> u64 {
        let now = u64::try_from(self.clock.now().as_nanos()).unwrap_or(u64::MAX);
        now / self.slot_nanos
    }

    /// The first slot still inside the window ending in `slot`; a zero window counts nothing.
    fn oldest_counted_slot(&self, slot: u64) -> u64 {
        if self.window.is_zero() {
            return u64::MAX;
        }
        (slot + 1).saturating_sub(SLOTS_PER_WINDOW)
    }

    fn forget_before(&mut self, slot: u64) {
        let oldest = self.oldest_counted_slot(slot);
        while self.slots.front().is_some_and(|(s, _)| *s < oldest) {
            self.slots.pop_front();
        }
    }
}

impl fmt::Debug for ThroughputTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThroughputTracker")
            .field("window", &self.window)
            .field("slots", &self.slots.len())
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::clock::VirtualClock;

    #[test]
    fn throughput_counts_only_the_last_window() {
        let clock = VirtualClock::new();
        let mut tracker = ThroughputTracker::with_clock(Duration::from_secs(10), clock.clone());
        tracker.record_transactions(50);
        clock.set(Duration::from_secs(5));
        tracker.record_transactions(30);
        clock.set(Duration::from_secs(9));
        assert_eq!(tracker.current_throughput(), 8.0);
        clock.set(Duration::from_secs(12));
        assert_eq!(tracker.current_throughput(), 3.0);
        clock.set(Duration::from_millis(14_900));
        assert_eq!(tracker.current_throughput(), 3.0);
        clock.set(Duration::from_secs(15));
        assert_eq!(tracker.current_throughput(), 0.0);
        assert_eq!(tracker.total_transactions(), 80);
    }

    #[test]
    fn memory_stays_bounded_over_a_long_run() {
        let clock = VirtualClock::new();
        let mut tracker = ThroughputTracker::with_clock(Duration::from_secs(1), clock.clone());
        for ms in 0..100_000u64 {
            clock.set(Duration::from_millis(ms));
            tracker.record_transactions(1);
        }
        assert!(tracker.slots.len() <= SLOTS_PER_WINDOW as usize + 1);
        // 1 tx per ms, 1 s window at 10 ms slots: exactly 1000 in the window.
        assert_eq!(tracker.transactions_in_window(), 1000);
        assert_eq!(tracker.current_throughput(), 1000.0);
    }

    #[test]
    fn zero_window_reports_zero() {
        let mut tracker = ThroughputTracker::with_clock(Duration::ZERO, VirtualClock::new());
        tracker.record_transactions(10);
        assert_eq!(tracker.current_throughput(), 0.0);
        assert_eq!(tracker.total_transactions(), 10);
    }
}
