//! How far a run is from its targets: the number the tune loop compares to keep a change or
//! roll it back.

use crate::metrics::ConsensusMetrics;
use crate::params::PerformanceTargets;
use serde::Serialize;
use std::time::Duration;

/// Normalised shortfalls of one run against its targets; each is 0.0 when its target is met.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Shortfalls {
    /// `(target_throughput - throughput) / target_throughput`, in 0.0–1.0.
    pub throughput: f64,
    /// `(p99 latency - max_latency) / max_latency`.
    pub latency: f64,
    /// `(round_duration - target_finality_time) / target_finality_time`.
    pub finality: f64,
    /// `(cpu_percent - max_cpu_usage) / max_cpu_usage`.
    pub cpu: f64,
    /// `(memory_mb - max_memory_usage) / max_memory_usage`.
    pub memory: f64,
}

impl Shortfalls {
    /// Measure `metrics` against `targets`. A zero limit counts any use above it as 1.0; a
    /// metric that is not a finite number counts as 1.0 (missed).
    pub fn measure(metrics: &ConsensusMetrics, targets: &PerformanceTargets) -> Self {
        Shortfalls {
            throughput: below(metrics.throughput, targets.target_throughput),
            latency: above_duration(metrics.latency_percentiles.p99, targets.max_latency),
            finality: above_duration(metrics.round_duration, targets.target_finality_time),
            cpu: above(metrics.resource_usage.cpu_percent, targets.max_cpu_usage),
            memory: above(
                metrics.resource_usage.memory_mb as f64,
                targets.max_memory_usage as f64,
            ),
        }
    }

    /// The sum of the five shortfalls: the score.
    pub fn total(&self) -> f64 {
        self.throughput + self.latency + self.finality + self.cpu + self.memory
    }

    /// Whether every target is met.
    pub fn all_met(&self) -> bool {
        self.total() == 0.0
    }
}

/// Distance of a run from its targets; lower is better and 0.0 means every target is met.
///
/// The sum of five normalised shortfalls ([`Shortfalls`]): throughput below target (0–1),
/// and p99 latency, finality (mean `round_duration`), CPU and memory above their limits, each
/// as a fraction of the limit (a run at twice the latency limit adds 1.0). Meeting a target
/// with room to spare earns nothing, so one target's slack never hides another's miss.
pub fn score(metrics: &ConsensusMetrics, targets: &PerformanceTargets) -> f64 {
    Shortfalls::measure(metrics, targets).total()
}

fn below(value: f64, target: f64) -> f64 {
    if !value.is_finite() {
        return 1.0;
    }
    if target.is_nan() || target <= 0.0 {
        return 0.0;
    }
    ((target - value) / target).clamp(0.0, 1.0)
}

fn above(value: f64, limit: f64) -> f64 {
    if !value.is_finite() {
        return 1.0;
    }
    if limit.is_nan() || limit <= 0.0 {
        return if value > 0.0 { 1.0 } else { 0.0 };
    }
    ((value - limit) / limit).max(0.0)
}

fn above_duration(value: Duration, limit: Duration) -> f64 {
    above(value.as_secs_f64(), limit.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{LatencyPercentiles, ResourceUsage};

    fn run(tps: f64, p99_ms: u64, round_ms: u64, cpu: f64, mem: u64) -> ConsensusMetrics {
        ConsensusMetrics {
            round_duration: Duration::from_millis(round_ms),
            throughput: tps,
            latency_percentiles: LatencyPercentiles {
                p99: Duration::from_millis(p99_ms),
                ..LatencyPercentiles::default()
            },
            resource_usage: ResourceUsage {
                cpu_percent: cpu,
                memory_mb: mem,
                ..ResourceUsage::default()
            },
            ..ConsensusMetrics::default()
        }
    }

    #[test]
    fn meeting_every_target_scores_zero() {
        let t = PerformanceTargets::default();
        assert_eq!(score(&run(1500.0, 4000, 10_000, 50.0, 512), &t), 0.0);
    }

    #[test]
    fn each_shortfall_is_a_fraction_of_its_target() {
        let t = PerformanceTargets::default(); // 1000 tps, 5s, 15s, 80 %, 1024 MB
        let s = Shortfalls::measure(&run(750.0, 7500, 30_000, 100.0, 1536), &t);
        assert!((s.throughput - 0.25).abs() < 1e-12);
        assert!((s.latency - 0.5).abs() < 1e-12);
        assert!((s.finality - 1.0).abs() < 1e-12);
        assert!((s.cpu - 0.25).abs() < 1e-12);
        assert!((s.memory - 0.5).abs() < 1e-12);
        assert!((s.total() - 2.5).abs() < 1e-12);
    }

    #[test]
    fn a_better_run_scores_lower() {
        let t = PerformanceTargets::default();
        let worse = score(&run(600.0, 9000, 20_000, 90.0, 900), &t);
        let better = score(&run(900.0, 6000, 16_000, 85.0, 900), &t);
        assert!(better < worse, "{better} < {worse}");
    }

    #[test]
    fn nan_throughput_counts_as_a_full_miss() {
        let t = PerformanceTargets::default();
        assert_eq!(score(&run(f64::NAN, 0, 0, 0.0, 0), &t), 1.0);
    }
}
