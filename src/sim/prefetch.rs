//! A cache hint for the event loop: ask for the cache line holding a value that an event a few
//! places ahead will read, so that its miss overlaps the work in between instead of stalling it.
//!
//! A delivery lands on a receiver picked by its latency draw, so each one reads another
//! receiver's vote records; those of 1,000 receivers (about 1.5 MB) do not stay in a core's
//! cache, and the reads were a third of that run's time (`perf record`, README Speed), while at
//! 30 or 100 validators they come from the second-level cache, still some cycles away. The
//! queue knows the next events of its current bucket, so the loop can name those records early.
//! A hint changes no value and no order: the run's reports and trace hash are the same with it
//! and without it.

/// Hint that `value` is about to be read.
#[cfg(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    target_feature = "sse"
))]
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    // `prefetcht0`: into every cache level. The instruction cannot fault and reads nothing.
    safe_arch::prefetch_t0(value);
}

/// Hint that `value` is about to be read (no hint on this target).
#[cfg(not(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    target_feature = "sse"
)))]
#[inline(always)]
pub(crate) fn prefetch<T>(_value: &T) {}
