//! Latency distributions: an HdrHistogram of nanoseconds, 3 significant digits, auto-resizing.

use super::LatencyPercentiles;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Significant decimal digits kept: every percentile is within 1/1024 of the exact value.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency distribution recorded in nanoseconds.
///
/// Percentiles come from the histogram (relative error below 10^-3, never above the exact
/// maximum); `count`, `mean` and `max` are exact.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    /// `None` only if hdrhistogram refused the constant configuration, which it does not;
    /// then percentiles fall back to the exact maximum.
    histogram: Option<Histogram<u64>>,
    count: u64,
    sum_nanos: u128,
    max_nanos: u64,
}

/// A latency distribution summarised: what a report prints (durations in seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Exact mean.
    #[serde(rename = "mean_s", with = "super::seconds")]
    pub mean: Duration,
    /// Exact maximum.
    #[serde(rename = "max_s", with = "super::seconds")]
    pub max: Duration,
    /// p50, p90, p95, p99.
    #[serde(rename = "percentiles_s")]
    pub percentiles: LatencyPercentiles,
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        LatencyHistogram {
            histogram: Histogram::new(SIGNIFICANT_DIGITS).ok(),
            count: 0,
            sum_nanos: 0,
            max_nanos: 0,
        }
    }

    /// Records one latency (durations beyond `u64::MAX` ns, 584 years, saturate).
    pub fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        if let Some(histogram) = self.histogram.as_mut()
            && histogram.record(nanos).is_err()
        {
            histogram.saturating_record(nanos);
        }
        self.count = self.count.saturating_add(1);
        self.sum_nanos = self.sum_nanos.saturating_add(u128::from(nanos));
        self.max_nanos = self.max_nanos.max(nanos);
    }

    /// p50, p90, p95 and p99; all zero when empty.
    pub fn percentiles(&self) -> LatencyPercentiles {
        LatencyPercentiles {
            p50: self.quantile(0.50),
            p90: self.quantile(0.90),
            p95: self.quantile(0.95),
            p99: self.quantile(0.99),
        }
    }

    /// The latency at quantile `q` in `[0, 1]`: the smallest recorded value (to histogram
    /// precision) that at least `q` of the samples do not exceed; zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let nanos = match &self.histogram {
            // The histogram answers with the top of a bucket: cap it at the exact maximum.
            Some(histogram) => histogram.value_at_quantile(q).min(self.max_nanos),
            None => self.max_nanos,
        };
        Duration::from_nanos(nanos)
    }

    /// The largest latency recorded (exact); zero when empty.
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_nanos)
    }

    /// The exact mean; zero when empty.
    pub fn mean(&self) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let mean = self.sum_nanos / u128::from(self.count);
        Duration::from_nanos(u64::try_from(mean).unwrap_or(u64::MAX))
    }

    /// Number of latencies recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// True when nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Count, mean, max and percentiles in one value.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.count,
            mean: self.mean(),
            max: self.max(),
            percentiles: self.percentiles(),
        }
    }

    /// Forgets every sample, keeping the allocated buckets.
    pub fn reset(&mut self) {
        if let Some(histogram) = self.histogram.as_mut() {
            histogram.reset();
        }
        self.count = 0;
        self.sum_nanos = 0;
        self.max_nanos = 0;
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram::new()
    }
}

impl Extend<Duration> for LatencyHistogram {
    fn extend<I: IntoIterator<Item = Duration>>(&mut self, latencies: I) {
        for latency in latencies {
            self.record(latency);
        }
    }
}

impl FromIterator<Duration> for LatencyHistogram {
    fn from_iter<I: IntoIterator<Item = Duration>>(latencies: I) -> Self {
        let mut histogram = LatencyHistogram::new();
        histogram.extend(latencies);
        histogram
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact quantile of sorted samples, by the same rule as hdrhistogram.
    fn exact_quantile(sorted: &[u64], q: f64) -> u64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    #[test]
    fn percentiles_match_sorted_oracle_within_one_bucket() {
        // A deterministic spread from 1 µs to ~10 s (multiplicative LCG-ish walk).
        let mut samples: Vec<u64> = (0..5_000u64)
            .map(|i| 1_000 + (i * i * 7_919 + i * 104_729) % 10_000_000_000)
            .collect();
        let histogram: LatencyHistogram =
            samples.iter().map(|&ns| Duration::from_nanos(ns)).collect();
        samples.sort_unstable();
        for q in [0.5, 0.9, 0.95, 0.99, 1.0] {
            let exact = exact_quantile(&samples, q) as f64;
            let got = histogram.quantile(q).as_nanos() as f64;
            let relative = (got - exact).abs() / exact;
            assert!(
                relative <= 1e-3,
                "q={q}: got {got}, exact {exact}, rel {relative}"
            );
        }
        let p = histogram.percentiles();
        assert!(p.p50 <= p.p90 && p.p90 <= p.p95 && p.p95 <= p.p99);
    }

    #[test]
    fn count_mean_and_max_are_exact() {
        let histogram: LatencyHistogram = [10u64, 20, 30, 40]
            .into_iter()
            .map(Duration::from_millis)
            .collect();
        assert_eq!(histogram.count(), 4);
        assert_eq!(histogram.mean(), Duration::from_millis(25));
        assert_eq!(histogram.max(), Duration::from_millis(40));
        assert_eq!(histogram.quantile(1.0), Duration::from_millis(40));
    }

    #[test]
    fn empty_histogram_reports_zeros_and_reset_empties() {
        let mut histogram = LatencyHistogram::new();
        assert_eq!(histogram.percentiles(), LatencyPercentiles::default());
        assert_eq!(histogram.mean(), Duration::ZERO);
        histogram.record(Duration::from_secs(3));
        assert_eq!(histogram.percentiles().p50, Duration::from_secs(3));
        histogram.reset();
        assert!(histogram.is_empty());
        assert_eq!(histogram.max(), Duration::ZERO);
    }

    #[test]
    fn huge_durations_saturate_instead_of_failing() {
        let mut histogram = LatencyHistogram::new();
        histogram.record(Duration::MAX);
        assert_eq!(histogram.count(), 1);
        assert_eq!(histogram.max(), Duration::from_nanos(u64::MAX));
    }
}
