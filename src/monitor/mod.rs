//! The performance monitor: one API over a live node's wall clock or the simulator's virtual
//! clock. It times rounds and operations, keeps a bounded history of [`ConsensusMetrics`],
//! and derives averages, statistics, trends, anomalies and alerts from it.
//!
//! Misuse (ending a round or an operation that was never started) returns a typed
//! [`MonitorError`]; the monitor's state is unchanged by a call that fails, so a caller that
//! chooses to ignore the error (`.ok()`) loses nothing but that one measurement.

pub mod alert;
pub mod anomaly;
pub mod trend;

pub use crate::metrics::clock::{Clock, VirtualClock, WallClock};
pub use alert::{Alert, AlertConfig};
pub use anomaly::{
    Anomaly, AnomalyGroup, AnomalyKind, AnomalySeverity, AnomalyThresholds, SHOWN_PER_GROUP,
    group_anomalies,
};
pub use trend::PerformanceTrend;

use crate::metrics::{ConsensusMetrics, LatencyHistogram, ResourceUsage};
use alert::AlertMetric;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::time::Duration;

/// History kept when no size is given (the seed's `CC_PERFORMANCE_WINDOW_SIZE` default).
pub const DEFAULT_WINDOW_SIZE: usize = 1000;

/// Misuse of the monitor; the call that returns it changes nothing.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MonitorError {
    /// `end_round` named a round that is not the one in progress: call `start_round` first.
    #[error(
        "round {round} was never started (round in progress: {open:?}); call start_round({round}) first"
    )]
    RoundNotStarted {
        /// The round `end_round` was given.
        round: u64,
        /// The round in progress, if any.
        open: Option<u64>,
    },
    /// `end_operation` named an operation not in progress (never started, or ended already).
    #[error(
        "operation {name:?} is not in progress; call start_operation({name:?}) before ending it, once"
    )]
    OperationNotStarted {
        /// The operation's name.
        name: String,
    },
    /// `start_operation` named an operation already in progress: end it first.
    #[error("operation {name:?} is already in progress; end it before starting it again")]
    OperationAlreadyStarted {
        /// The operation's name.
        name: String,
    },
    /// No sample falls within the window asked for: widen it or record rounds first.
    #[error("no metrics recorded in the last {window:?}")]
    EmptyWindow {
        /// The window asked for.
        window: Duration,
    },
    /// An alert threshold name the monitor does not know.
    #[error(
        "unknown alert threshold {name:?}; expected throughput, latency, cpu, memory or round_duration"
    )]
    UnknownAlertMetric {
        /// The name given.
        name: String,
    },
    /// A threshold that is negative, not a number, or outside its range.
    #[error("invalid threshold {name} = {value}: must be finite and within its documented range")]
    InvalidThreshold {
        /// The threshold's name.
        name: String,
        /// The value given.
        value: f64,
    },
}

/// What one sample of the monitor is: the word anomaly descriptions and alert messages use.
///
/// The seed's API times rounds (`start_round`/`end_round`), so a monitor speaks of rounds by
/// default; the simulator and `ccperf watch` feed one sample per committed height and say so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleUnit {
    /// A consensus round (the default).
    #[default]
    Round,
    /// A committed height.
    Height,
}

impl SampleUnit {
    /// The word for one sample: `round` or `height`.
    pub fn singular(self) -> &'static str {
        match self {
            SampleUnit::Round => "round",
            SampleUnit::Height => "height",
        }
    }

    /// The word for several: `rounds` or `heights`.
    pub fn plural(self) -> &'static str {
        match self {
            SampleUnit::Round => "rounds",
            SampleUnit::Height => "heights",
        }
    }
}

/// One entry of the history: the metrics of a round, stamped with the monitor's clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSample {
    /// Monitor time when the round ended (or was recorded); `at_s` in JSON.
    #[serde(rename = "at_s", with = "crate::metrics::seconds")]
    pub at: Duration,
    /// The round (or height) number.
    pub round: u64,
    /// Its metrics.
    pub metrics: ConsensusMetrics,
}

/// Times consensus rounds and keeps the last `window_size` of them.
///
/// All queries read the bounded history, so memory stays flat over a day-long run (operation
/// durations are kept per distinct operation name, `window_size` each).
pub struct PerformanceMonitor {
    clock: Box<dyn Clock>,
    window_size: usize,
    unit: SampleUnit,
    history: VecDeque<MetricSample>,
    /// The round in progress and when it started.
    open_round: Option<(u64, Duration)>,
    /// Operation durations that ended since the current round started, summed per name.
    round_operations: BTreeMap<String, Duration>,
    open_operations: BTreeMap<String, Duration>,
    operation_durations: BTreeMap<String, VecDeque<Duration>>,
    /// Transaction latencies recorded for the next `end_round`.
    pending_latencies: LatencyHistogram,
    /// Resource usage recorded for the next `end_round`.
    pending_resources: Option<ResourceUsage>,
    thresholds: AnomalyThresholds,
    /// The sorted baselines of the samples as they come, for judging each one.
    baselines: anomaly::BaselineWindow,
    anomaly_log: VecDeque<Anomaly>,
    /// The latest sample showed a memory leak (the log records only its onset).
    leak_active: bool,
    alert_thresholds: BTreeMap<AlertMetric, f64>,
    alert_window: usize,
    active_alerts: BTreeSet<AlertMetric>,
}

impl PerformanceMonitor {
    /// A monitor on the wall clock, keeping the last 1000 rounds.
    pub fn new() -> Self {
        PerformanceMonitor::with_clock(WallClock::new())
    }

    /// A monitor on the given clock (a `VirtualClock` for simulations), keeping 1000 rounds.
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        PerformanceMonitor {
            clock: Box::new(clock),
            window_size: DEFAULT_WINDOW_SIZE,
            unit: SampleUnit::Round,
            history: VecDeque::new(),
            open_round: None,
            round_operations: BTreeMap::new(),
            open_operations: BTreeMap::new(),
            operation_durations: BTreeMap::new(),
            pending_latencies: LatencyHistogram::new(),
            pending_resources: None,
            thresholds: AnomalyThresholds::default(),
            baselines: anomaly::BaselineWindow::default(),
            anomaly_log: VecDeque::new(),
            leak_active: false,
            alert_thresholds: BTreeMap::new(),
            alert_window: 1,
            active_alerts: BTreeSet::new(),
        }
    }

    /// Keeps the last `rounds` samples (at least 1), dropping older ones now if needed.
    pub fn with_window_size(mut self, rounds: usize) -> Self {
        self.window_size = rounds.max(1);
        while self.history.len() > self.window_size {
            self.history.pop_front();
        }
        while self.anomaly_log.len() > self.window_size {
            self.anomaly_log.pop_front();
        }
        for durations in self.operation_durations.values_mut() {
            while durations.len() > self.window_size {
                durations.pop_front();
            }
        }
        self
    }

    /// Names each sample a `unit` in anomaly descriptions and alert messages ("height 12
    /// took 5.40 s … the median of the last 20 heights"); the default is [`SampleUnit::Round`].
    pub fn with_sample_unit(mut self, unit: SampleUnit) -> Self {
        self.unit = unit;
        self
    }

    /// What one sample is.
    pub fn sample_unit(&self) -> SampleUnit {
        self.unit
    }

    // ---- timing rounds and operations -------------------------------------------------

    /// Starts timing `round`. A round still in progress is abandoned (never recorded).
    pub fn start_round(&mut self, round: u64) {
        self.open_round = Some((round, self.clock.now()));
        self.round_operations.clear();
    }

    /// Starts timing the operation `name` (e.g. "proposal", "prevote", "precommit", "commit").
    pub fn start_operation(&mut self, name: &str) -> Result<(), MonitorError> {
        if self.open_operations.contains_key(name) {
            return Err(MonitorError::OperationAlreadyStarted {
                name: name.to_string(),
            });
        }
        self.open_operations
            .insert(name.to_string(), self.clock.now());
        Ok(())
    }

    /// Ends the operation `name`, adding its duration to the statistics and to the round.
    pub fn end_operation(&mut self, name: &str) -> Result<(), MonitorError> {
        let started =
            self.open_operations
                .remove(name)
                .ok_or_else(|| MonitorError::OperationNotStarted {
                    name: name.to_string(),
                })?;
        let duration = self.clock.now().saturating_sub(started);
        let durations = self
            .operation_durations
            .entry(name.to_string())
            .or_default();
        if durations.len() == self.window_size {
            durations.pop_front();
        }
        durations.push_back(duration);
        let total = self.round_operations.entry(name.to_string()).or_default();
        *total = total.saturating_add(duration);
        Ok(())
    }

    /// Records one transaction's submit-to-commit latency for the round being timed.
    pub fn record_transaction_latency(&mut self, latency: Duration) {
        self.pending_latencies.record(latency);
    }

    /// Records the resources used during the round being timed (the last call wins).
    pub fn record_resource_usage(&mut self, usage: ResourceUsage) {
        self.pending_resources = Some(usage);
    }

    /// Ends `round`, records its metrics in the history and returns them.
    ///
    /// - `round_duration`: time since `start_round(round)`.
    /// - `proposal_time` / `commit_time`: operations "proposal" / "commit" ended during the
    ///   round; `voting_time`: "voting", or else "prevote" + "precommit" (summed if repeated).
    /// - `throughput`: `tx_count / round_duration` for this round alone (0 for a zero-length
    ///   round); use a [`crate::metrics::ThroughputTracker`] for a sliding-window rate.
    /// - `latency_percentiles`: of the transaction latencies recorded for this round; when
    ///   none were, of the round durations in the history (a transaction waits about a round).
    /// - `resource_usage`: the last `record_resource_usage`, or zeros.
    pub fn end_round(
        &mut self,
        round: u64,
        tx_count: u64,
    ) -> Result<ConsensusMetrics, MonitorError> {
        let started = match self.open_round {
            Some((open, started)) if open == round => started,
            open => {
                return Err(MonitorError::RoundNotStarted {
                    round,
                    open: open.map(|(r, _)| r),
                });
            }
        };
        let now = self.clock.now();
        let round_duration = now.saturating_sub(started);
        let seconds = round_duration.as_secs_f64();
        let latency_percentiles = if self.pending_latencies.is_empty() {
            self.history
                .iter()
                .map(|s| s.metrics.round_duration)
                .chain([round_duration])
                .collect::<LatencyHistogram>()
                .percentiles()
        } else {
            self.pending_latencies.percentiles()
        };
        let metrics = ConsensusMetrics {
            round_duration,
            proposal_time: self.round_operation("proposal"),
            voting_time: match self.round_operations.get("voting") {
                Some(voting) => *voting,
                None => self
                    .round_operation("prevote")
                    .saturating_add(self.round_operation("precommit")),
            },
            commit_time: self.round_operation("commit"),
            throughput: if seconds > 0.0 {
                tx_count as f64 / seconds
            } else {
                0.0
            },
            latency_percentiles,
            resource_usage: self.pending_resources.take().unwrap_or_default(),
        };
        self.open_round = None;
        self.round_operations.clear();
        self.pending_latencies.reset();
        self.push_sample(round, metrics.clone(), now);
        Ok(metrics)
    }

    /// Records a round whose metrics the caller computed (the simulator's entry point),
    /// stamped with the clock's now; it goes through history, anomalies and alerts like
    /// `end_round`.
    pub fn record_round(&mut self, round: u64, metrics: ConsensusMetrics) {
        let now = self.clock.now();
        self.push_sample(round, metrics, now);
    }

    fn round_operation(&self, name: &str) -> Duration {
        self.round_operations.get(name).copied().unwrap_or_default()
    }

    fn push_sample(&mut self, round: u64, metrics: ConsensusMetrics, at: Duration) {
        if self.history.len() == self.window_size {
            self.history.pop_front();
        }
        self.history.push_back(MetricSample { at, round, metrics });
        let latest = self.history.len() - 1;
        let anomalies = self
            .baselines
            .judge_latest(&self.history, &self.thresholds, self.unit);
        // Compared as text, so that a NaN value equals itself.
        debug_assert_eq!(
            format!("{anomalies:?}"),
            format!(
                "{:?}",
                anomaly::judge(&self.history, latest, &self.thresholds, self.unit)
            ),
            "the sorted baselines judge as the samples themselves do"
        );
        let leaking = anomalies.iter().any(|a| a.kind == AnomalyKind::MemoryLeak);
        for anomaly in anomalies {
            if anomaly.kind == AnomalyKind::MemoryLeak && self.leak_active {
                continue;
            }
            if self.anomaly_log.len() == self.window_size {
                self.anomaly_log.pop_front();
            }
            self.anomaly_log.push_back(anomaly);
        }
        self.leak_active = leaking;
    }

    // ---- queries over the history -----------------------------------------------------

    /// The mean of every metric over the samples of the last `window` of monitor time
    /// (samples stamped at or after `now - window`).
    pub fn get_average_metrics(&self, window: Duration) -> Result<ConsensusMetrics, MonitorError> {
        let samples = self.samples_within(window);
        if samples.is_empty() {
            return Err(MonitorError::EmptyWindow { window });
        }
        Ok(average(&samples))
    }

    /// The latest round's metrics, or all zeros before the first round.
    pub fn get_latest_metrics(&self) -> ConsensusMetrics {
        self.latest().cloned().unwrap_or_default()
    }

    /// The latest round's metrics, if any.
    pub fn latest(&self) -> Option<&ConsensusMetrics> {
        self.history.back().map(|s| &s.metrics)
    }

    /// The metrics of the last `window` of monitor time, oldest first.
    pub fn get_metrics_window(&self, window: Duration) -> Vec<ConsensusMetrics> {
        self.samples_within(window)
            .into_iter()
            .map(|s| s.metrics.clone())
            .collect()
    }

    /// The retained samples with their times and rounds, oldest first.
    pub fn history(&self) -> impl ExactSizeIterator<Item = &MetricSample> {
        self.history.iter()
    }

    /// `(average, maximum, count)` per timed operation (keyed `operation.<name>`, over its
    /// last `window_size` runs) and per duration metric over the history (`round_duration`,
    /// `proposal_time`, `voting_time`, `commit_time`, `latency_p50` … `latency_p99`).
    pub fn get_stats(&self) -> BTreeMap<String, (Duration, Duration, usize)> {
        let mut stats = BTreeMap::new();
        for (name, durations) in &self.operation_durations {
            if let Some(stat) = duration_stats(durations.iter().copied()) {
                stats.insert(format!("operation.{name}"), stat);
            }
        }
        let fields: [(&str, DurationField); 8] = [
            ("round_duration", |m| m.round_duration),
            ("proposal_time", |m| m.proposal_time),
            ("voting_time", |m| m.voting_time),
            ("commit_time", |m| m.commit_time),
            ("latency_p50", |m| m.latency_percentiles.p50),
            ("latency_p90", |m| m.latency_percentiles.p90),
            ("latency_p95", |m| m.latency_percentiles.p95),
            ("latency_p99", |m| m.latency_percentiles.p99),
        ];
        for (name, field) in fields {
            if let Some(stat) = duration_stats(self.history.iter().map(|s| field(&s.metrics))) {
                stats.insert(name.to_string(), stat);
            }
        }
        stats
    }

    /// Least-squares slopes of the metrics over the last `window` of monitor time.
    pub fn calculate_trend(&self, window: Duration) -> PerformanceTrend {
        PerformanceTrend::fit(&self.samples_within(window))
    }

    fn samples_within(&self, window: Duration) -> Vec<&MetricSample> {
        let since = self.clock.now().saturating_sub(window);
        self.history.iter().filter(|s| s.at >= since).collect()
    }

    // ---- anomalies --------------------------------------------------------------------

    /// The anomalies of the latest sample, judged now against the samples before it (empty
    /// before the first round). Same history and thresholds, same anomalies in the same order.
    pub fn detect_anomalies(&self) -> Vec<Anomaly> {
        match self.history.len() {
            0 => Vec::new(),
            n => anomaly::judge(&self.history, n - 1, &self.thresholds, self.unit),
        }
    }

    /// Every anomaly found as samples were recorded (the thresholds of that moment), oldest
    /// first, the last `window_size` kept; a memory leak is logged once when it starts.
    pub fn anomaly_history(&self) -> impl ExactSizeIterator<Item = &Anomaly> {
        self.anomaly_log.iter()
    }

    /// Replaces the anomaly thresholds (checked: see [`AnomalyThresholds`]).
    pub fn set_anomaly_thresholds(
        &mut self,
        thresholds: AnomalyThresholds,
    ) -> Result<(), MonitorError> {
        if let Some((name, value)) = thresholds.invalid_field() {
            return Err(MonitorError::InvalidThreshold {
                name: name.to_string(),
                value,
            });
        }
        self.thresholds = thresholds;
        Ok(())
    }

    /// The anomaly thresholds in use.
    pub fn anomaly_thresholds(&self) -> &AnomalyThresholds {
        &self.thresholds
    }

    // ---- alerts -----------------------------------------------------------------------

    /// Sets an alert threshold: `throughput` (tx/s, alert below), `latency` (p99 seconds,
    /// above), `cpu` (percent, above), `memory` (MB, above), `round_duration` (seconds, above).
    pub fn set_alert_threshold(&mut self, name: &str, value: f64) -> Result<(), MonitorError> {
        let metric = AlertMetric::parse(name).ok_or_else(|| MonitorError::UnknownAlertMetric {
            name: name.to_string(),
        })?;
        if !(value.is_finite() && value >= 0.0) {
            return Err(MonitorError::InvalidThreshold {
                name: name.to_string(),
                value,
            });
        }
        self.alert_thresholds.insert(metric, value);
        Ok(())
    }

    /// Sets the throughput, latency and CPU thresholds at once (others are kept).
    pub fn configure_alerts(&mut self, config: AlertConfig) -> Result<(), MonitorError> {
        for (name, value) in [
            ("throughput", config.throughput_threshold),
            ("cpu", config.cpu_threshold),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(MonitorError::InvalidThreshold {
                    name: name.to_string(),
                    value,
                });
            }
        }
        self.alert_thresholds
            .insert(AlertMetric::Throughput, config.throughput_threshold);
        self.alert_thresholds.insert(
            AlertMetric::Latency,
            config.latency_threshold_ms as f64 / 1000.0,
        );
        self.alert_thresholds
            .insert(AlertMetric::Cpu, config.cpu_threshold);
        Ok(())
    }

    /// The alert thresholds set, by name.
    pub fn alert_thresholds(&self) -> BTreeMap<String, f64> {
        self.alert_thresholds
            .iter()
            .map(|(metric, value)| (metric.name().to_string(), *value))
            .collect()
    }

    /// Alerts judge the mean of the last `rounds` samples (default 1: the latest round).
    pub fn set_alert_window(&mut self, rounds: usize) {
        self.alert_window = rounds.max(1);
    }

    /// The alerts firing now (in the order throughput, latency, cpu, memory,
    /// round_duration); each is `newly_fired` on the first check that sees it. An alert no
    /// longer crossed clears and will fire anew if crossed again.
    pub fn check_alerts(&mut self) -> Vec<Alert> {
        let recent: Vec<&MetricSample> =
            self.history.iter().rev().take(self.alert_window).collect();
        let mut alerts = Vec::new();
        let mut firing = BTreeSet::new();
        if !recent.is_empty() {
            for (&metric, &threshold) in &self.alert_thresholds {
                let value = recent
                    .iter()
                    .rev()
                    .map(|s| metric.value(&s.metrics))
                    .sum::<f64>()
                    / recent.len() as f64;
                if let Some(mut alert) = metric.check(value, threshold, recent.len(), self.unit) {
                    alert.newly_fired = !self.active_alerts.contains(&metric);
                    firing.insert(metric);
                    alerts.push(alert);
                }
            }
        }
        self.active_alerts = firing;
        alerts
    }

    /// The number of rounds kept.
    pub fn window_size(&self) -> usize {
        self.window_size
    }

    /// The clock's current time.
    pub fn now(&self) -> Duration {
        self.clock.now()
    }
}

impl Default for PerformanceMonitor {
    fn default() -> Self {
        PerformanceMonitor::new()
    }
}

impl fmt::Debug for PerformanceMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerformanceMonitor")
            .field("window_size", &self.window_size)
            .field("samples", &self.history.len())
            .field("open_round", &self.open_round)
            .field("open_operations", &self.open_operations.keys())
            .field("thresholds", &self.thresholds)
            .finish_non_exhaustive()
    }
}

/// Reads one duration out of a round's metrics.
type DurationField = fn(&ConsensusMetrics) -> Duration;

/// `(average, maximum, count)`, or `None` for no durations. Sums in order, in u128 ns.
fn duration_stats(
    durations: impl Iterator<Item = Duration>,
) -> Option<(Duration, Duration, usize)> {
    let (mut sum, mut max, mut count) = (0u128, Duration::ZERO, 0usize);
    for d in durations {
        sum = sum.saturating_add(d.as_nanos());
        max = max.max(d);
        count += 1;
    }
    (count > 0).then(|| (nanos(sum / count as u128), max, count))
}

/// The field-by-field mean of `samples` (not empty). Sums run in sample order.
fn average(samples: &[&MetricSample]) -> ConsensusMetrics {
    let n = samples.len().max(1);
    let mean_duration = |field: fn(&ConsensusMetrics) -> Duration| {
        let sum: u128 = samples.iter().map(|s| field(&s.metrics).as_nanos()).sum();
        nanos(sum / n as u128)
    };
    let mean_f64 = |field: fn(&ConsensusMetrics) -> f64| {
        samples.iter().map(|s| field(&s.metrics)).sum::<f64>() / n as f64
    };
    let mean_u64 = |field: fn(&ResourceUsage) -> u64| {
        let sum: u128 = samples
            .iter()
            .map(|s| u128::from(field(&s.metrics.resource_usage)))
            .sum();
        u64::try_from(sum / n as u128).unwrap_or(u64::MAX)
    };
    ConsensusMetrics {
        round_duration: mean_duration(|m| m.round_duration),
        proposal_time: mean_duration(|m| m.proposal_time),
        voting_time: mean_duration(|m| m.voting_time),
        commit_time: mean_duration(|m| m.commit_time),
        throughput: mean_f64(|m| m.throughput),
        latency_percentiles: crate::metrics::LatencyPercentiles {
            p50: mean_duration(|m| m.latency_percentiles.p50),
            p90: mean_duration(|m| m.latency_percentiles.p90),
            p95: mean_duration(|m| m.latency_percentiles.p95),
            p99: mean_duration(|m| m.latency_percentiles.p99),
        },
        resource_usage: ResourceUsage {
            cpu_percent: mean_f64(|m| m.resource_usage.cpu_percent),
            memory_mb: mean_u64(|r| r.memory_mb),
            network_bytes_in: mean_u64(|r| r.network_bytes_in),
            network_bytes_out: mean_u64(|r| r.network_bytes_out),
            disk_io_bytes: mean_u64(|r| r.disk_io_bytes),
        },
    }
}

fn nanos(n: u128) -> Duration {
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}
