//! Alerts: thresholds an operator sets on the latest samples; they fire while crossed and
//! clear when no longer.

use super::SampleUnit;
use super::anomaly::AnomalySeverity;
use crate::metrics::ConsensusMetrics;
use serde::{Deserialize, Serialize};

/// The seed's alert configuration: three thresholds at once.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// Alert while throughput is below this many tx/s (0 never fires).
    pub throughput_threshold: f64,
    /// Alert while p99 transaction latency is above this many milliseconds.
    pub latency_threshold_ms: u64,
    /// Alert while CPU is above this percentage.
    pub cpu_threshold: f64,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            throughput_threshold: 0.0,
            latency_threshold_ms: 10_000,
            cpu_threshold: 90.0,
        }
    }
}

/// One alert currently firing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The threshold's name: `throughput`, `latency`, `cpu`, `memory` or `round_duration`.
    pub name: String,
    /// The watched value (mean over the alert window), in the threshold's unit.
    pub value: f64,
    /// The threshold it crossed.
    pub threshold: f64,
    /// How far past the threshold.
    pub severity: AnomalySeverity,
    /// What crossed what, for a notification.
    pub message: String,
    /// True on the first check that saw it crossed; false while it stays crossed.
    pub newly_fired: bool,
}

/// A metric an alert threshold can watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum AlertMetric {
    /// tx/s, alert below.
    Throughput,
    /// p99 transaction latency in seconds, alert above.
    Latency,
    /// CPU percent, alert above.
    Cpu,
    /// Memory MB, alert above.
    Memory,
    /// Round duration in seconds, alert above.
    RoundDuration,
}

impl AlertMetric {
    /// Every alert metric, in check order.
    pub(crate) const ALL: [AlertMetric; 5] = [
        AlertMetric::Throughput,
        AlertMetric::Latency,
        AlertMetric::Cpu,
        AlertMetric::Memory,
        AlertMetric::RoundDuration,
    ];

    /// The metric called `name`, if any.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        AlertMetric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The name `set_alert_threshold` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            AlertMetric::Throughput => "throughput",
            AlertMetric::Latency => "latency",
            AlertMetric::Cpu => "cpu",
            AlertMetric::Memory => "memory",
            AlertMetric::RoundDuration => "round_duration",
        }
    }

    /// The watched value of one sample, in the threshold's unit.
    pub(crate) fn value(self, metrics: &ConsensusMetrics) -> f64 {
        match self {
            AlertMetric::Throughput => metrics.throughput,
            AlertMetric::Latency => metrics.latency_percentiles.p99.as_secs_f64(),
            AlertMetric::Cpu => metrics.resource_usage.cpu_percent,
            AlertMetric::Memory => metrics.resource_usage.memory_mb as f64,
            AlertMetric::RoundDuration => metrics.round_duration.as_secs_f64(),
        }
    }

    /// The alert for `value` against `threshold`, if crossed.
    pub(crate) fn check(
        self,
        value: f64,
        threshold: f64,
        samples: usize,
        sample: SampleUnit,
    ) -> Option<Alert> {
        let (crossed, ratio, relation) = if self == AlertMetric::Throughput {
            (value < threshold, threshold / value, "below")
        } else {
            (value > threshold, value / threshold, "above")
        };
        if !crossed {
            return None;
        }
        let severity = if self == AlertMetric::Cpu {
            AnomalySeverity::from_headroom(value, threshold)
        } else {
            AnomalySeverity::from_ratio(ratio)
        };
        let (name, unit) = match self {
            AlertMetric::Throughput => ("throughput", "tx/s"),
            AlertMetric::Latency => ("p99 transaction latency", "s"),
            AlertMetric::Cpu => ("CPU", "%"),
            AlertMetric::Memory => ("memory", "MB"),
            AlertMetric::RoundDuration => match sample {
                SampleUnit::Round => ("round duration", "s"),
                SampleUnit::Height => ("height time", "s"),
            },
        };
        let (one, many) = (sample.singular(), sample.plural());
        let basis = if samples == 1 {
            format!("the last {one}")
        } else {
            format!("mean of the last {samples} {many}")
        };
        Some(Alert {
            name: self.name().to_string(),
            value,
            threshold,
            severity,
            message: format!(
                "{severity}: {name} {value:.2} {unit} is {relation} the {threshold:.2} {unit} \
                 alert threshold ({basis})"
            ),
            newly_fired: false,
        })
    }
}
