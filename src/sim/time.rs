//! Virtual time: integer nanoseconds since the start of a run. No wall clock ever enters here.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// Whole nanoseconds in `d`, saturating at `u64::MAX` (about 584 years).
pub fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A point in virtual time, in nanoseconds since the simulation started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// A time later than any event a run can schedule.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Time from whole nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        SimTime(ns)
    }

    /// Time from whole milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms * 1_000_000)
    }

    /// Time from whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s * 1_000_000_000)
    }

    /// Time from a `Duration`, saturating at `SimTime::MAX`.
    pub fn from_duration(d: Duration) -> Self {
        SimTime(saturating_nanos(d))
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// This time as a `Duration` since the start.
    pub const fn as_duration(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    /// Seconds since the start, as a float (for reports only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// `self + ns`, saturating.
    pub const fn plus_nanos(self, ns: u64) -> Self {
        SimTime(self.0.saturating_add(ns))
    }

    /// `self - earlier` in nanoseconds, or 0 when `earlier` is later.
    pub const fn nanos_since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: Duration) -> SimTime {
        SimTime(self.0.saturating_add(saturating_nanos(rhs)))
    }
}

impl AddAssign<Duration> for SimTime {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub for SimTime {
    type Output = Duration;
    fn sub(self, rhs: SimTime) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(rhs.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_are_exact_in_nanoseconds() {
        assert_eq!(SimTime::from_millis(1500).as_nanos(), 1_500_000_000);
        assert_eq!(
            SimTime::from_secs(2) + Duration::from_millis(5),
            SimTime(2_005_000_000)
        );
        assert_eq!(
            SimTime::from_secs(3) - SimTime::from_secs(1),
            Duration::from_secs(2)
        );
        assert_eq!(
            SimTime::from_secs(1) - SimTime::from_secs(3),
            Duration::ZERO
        );
        assert_eq!(SimTime::MAX.plus_nanos(7), SimTime::MAX);
    }
}
