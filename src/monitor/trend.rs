//! Least-squares trends of the monitored metrics over monitor time.

use super::MetricSample;
use serde::{Deserialize, Serialize};

/// How the metrics moved over a window: least-squares slopes per second of monitor time.
///
/// Each slope is 0 when the window holds fewer than two samples or all samples share one time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PerformanceTrend {
    /// Throughput change, (tx/s) per second.
    pub throughput_slope: f64,
    /// p99 transaction latency change, seconds per second.
    pub latency_slope: f64,
    /// Round duration change, seconds per second.
    pub round_duration_slope: f64,
    /// CPU change, percentage points per second.
    pub cpu_slope: f64,
    /// Memory change, MB per second.
    pub memory_slope: f64,
    /// Number of samples the slopes were fitted to.
    pub samples: usize,
}

impl PerformanceTrend {
    /// Fits every slope to `samples` (in time order).
    pub(crate) fn fit(samples: &[&MetricSample]) -> Self {
        let times = sample_times(samples);
        let fit = |value: fn(&MetricSample) -> f64| {
            let values: Vec<f64> = samples.iter().map(|s| value(s)).collect();
            least_squares_slope(&times, &values).unwrap_or(0.0)
        };
        PerformanceTrend {
            throughput_slope: fit(|s| s.metrics.throughput),
            latency_slope: fit(|s| s.metrics.latency_percentiles.p99.as_secs_f64()),
            round_duration_slope: fit(|s| s.metrics.round_duration.as_secs_f64()),
            cpu_slope: fit(|s| s.metrics.resource_usage.cpu_percent),
            memory_slope: fit(|s| s.metrics.resource_usage.memory_mb as f64),
            samples: samples.len(),
        }
    }
}

/// Sample times in seconds since the first sample (small numbers keep the fit precise).
pub(crate) fn sample_times(samples: &[&MetricSample]) -> Vec<f64> {
    let origin = samples.first().map(|s| s.at).unwrap_or_default();
    samples
        .iter()
        .map(|s| s.at.saturating_sub(origin).as_secs_f64())
        .collect()
}

/// The least-squares slope of `ys` against `xs`, summed in index order (deterministic);
/// `None` with fewer than two points or when every `x` is the same.
pub(crate) fn least_squares_slope(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n < 2 {
        return None;
    }
    let mean_x = xs[..n].iter().sum::<f64>() / n as f64;
    let mean_y = ys[..n].iter().sum::<f64>() / n as f64;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (x, y) in xs[..n].iter().zip(&ys[..n]) {
        let dx = x - mean_x;
        sxx += dx * dx;
        sxy += dx * (y - mean_y);
    }
    (sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line_is_exact() {
        let xs: Vec<f64> = (0..10).map(f64::from).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 100.0 + 10.0 * x).collect();
        assert_eq!(least_squares_slope(&xs, &ys), Some(10.0));
    }

    #[test]
    fn slope_is_undefined_without_spread_in_time() {
        assert_eq!(least_squares_slope(&[1.0], &[5.0]), None);
        assert_eq!(least_squares_slope(&[2.0, 2.0], &[5.0, 9.0]), None);
    }
}
