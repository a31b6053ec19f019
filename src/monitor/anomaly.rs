//! Anomaly detection: each sample judged against the run's own recent history.
//!
//! Relative rules (round duration, throughput, network traffic) compare a sample with the
//! median of the samples before it, so the same defaults work for a live node's milliseconds
//! and a simulation's seconds; they wait for `min_samples` earlier samples before judging.
//! Absolute rules (CPU, a throughput target) judge from the first sample.

use super::trend::{least_squares_slope, sample_times};
use super::{MetricSample, SampleUnit};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

/// What kind of problem an anomaly is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// A round took much longer than the recent median.
    HighRoundDuration,
    /// Throughput fell far below the recent median or below the target.
    LowThroughput,
    /// CPU use above the limit.
    HighCpu,
    /// Memory rising steadily over the last samples.
    MemoryLeak,
    /// Network traffic far from the recent median, or none at all.
    NetworkIssues,
}

impl AnomalyKind {
    /// The snake_case name, as serialised and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::HighRoundDuration => "high_round_duration",
            AnomalyKind::LowThroughput => "low_throughput",
            AnomalyKind::HighCpu => "high_cpu",
            AnomalyKind::MemoryLeak => "memory_leak",
            AnomalyKind::NetworkIssues => "network_issues",
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad an anomaly or alert is, by how far its value is past the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalySeverity {
    /// Up to 1.5× past the threshold: watch the trend.
    Low,
    /// 1.5–2× past: log for review.
    Medium,
    /// 2–4× past: investigate.
    High,
    /// 4× or more past: act now.
    Critical,
}

impl AnomalySeverity {
    /// Every severity, mildest first.
    pub const ALL: [AnomalySeverity; 4] = [
        AnomalySeverity::Low,
        AnomalySeverity::Medium,
        AnomalySeverity::High,
        AnomalySeverity::Critical,
    ];

    /// Severity of a value `ratio` times past its threshold (`ratio >= 1`; infinite for a
    /// value of zero where a floor was expected): <1.5 Low, <2 Medium, <4 High, else Critical.
    pub fn from_ratio(ratio: f64) -> Self {
        if ratio.is_nan() || ratio < 1.5 {
            AnomalySeverity::Low
        } else if ratio < 2.0 {
            AnomalySeverity::Medium
        } else if ratio < 4.0 {
            AnomalySeverity::High
        } else {
            AnomalySeverity::Critical
        }
    }

    /// Severity of a percentage above its limit, by the share of the headroom to 100 % it
    /// used up: <25 % Low, <50 % Medium, <100 % High, saturated Critical.
    pub fn from_headroom(percent: f64, limit: f64) -> Self {
        let headroom = 100.0 - limit;
        if headroom <= 0.0 {
            return AnomalySeverity::Critical;
        }
        let used = (percent - limit) / headroom;
        if used < 0.25 {
            AnomalySeverity::Low
        } else if used < 0.5 {
            AnomalySeverity::Medium
        } else if used < 1.0 {
            AnomalySeverity::High
        } else {
            AnomalySeverity::Critical
        }
    }

    /// The lowercase name, as exported in labels.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalySeverity::Low => "low",
            AnomalySeverity::Medium => "medium",
            AnomalySeverity::High => "high",
            AnomalySeverity::Critical => "critical",
        }
    }
}

impl fmt::Display for AnomalySeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One detected problem, with the numbers behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// What went wrong.
    pub kind: AnomalyKind,
    /// How far past the threshold.
    pub severity: AnomalySeverity,
    /// What happened and what to check, with numbers.
    pub description: String,
    /// The observed value: seconds (round duration), tx/s (throughput), percent (CPU),
    /// MB of growth (memory), bytes in + out (network).
    pub value: f64,
    /// The threshold it crossed, in the same unit.
    pub threshold: f64,
    /// The round (or height) of the judged sample.
    pub round: u64,
    /// Monitor time of the judged sample; `at_s` (seconds) in JSON.
    #[serde(rename = "at_s", with = "crate::metrics::seconds")]
    pub at: Duration,
}

/// Anomalies shown per kind and severity in the text and HTML reports (JSON keeps them all).
pub const SHOWN_PER_GROUP: usize = 3;

/// The anomalies of one kind and severity: how many there were, and the first few of them.
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalyGroup<'a> {
    /// Their kind.
    pub kind: AnomalyKind,
    /// Their severity.
    pub severity: AnomalySeverity,
    /// How many there were.
    pub count: usize,
    /// The first few, in the order found.
    pub first: Vec<&'a Anomaly>,
    /// The last one found.
    pub last: &'a Anomaly,
}

impl AnomalyGroup<'_> {
    /// The heights the group covers, as the reports write them: "height 8" for one anomaly,
    /// "heights 3 to 9" for several.
    pub fn span(&self) -> String {
        if self.count == 1 {
            format!("height {}", self.last.round)
        } else {
            format!("heights {} to {}", self.first[0].round, self.last.round)
        }
    }
}

impl AnomalyGroup<'_> {
    /// How many are not among `first`.
    pub fn more(&self) -> usize {
        self.count - self.first.len()
    }
}

/// Groups `anomalies` by kind and severity, worst severity first and then in kind order
/// (round duration, throughput, CPU, memory, network), keeping the first `shown` of each.
pub fn group_anomalies(anomalies: &[Anomaly], shown: usize) -> Vec<AnomalyGroup<'_>> {
    let mut groups: Vec<AnomalyGroup<'_>> = Vec::new();
    for anomaly in anomalies {
        match groups
            .iter_mut()
            .find(|g| g.kind == anomaly.kind && g.severity == anomaly.severity)
        {
            Some(group) => {
                group.count += 1;
                if group.first.len() < shown {
                    group.first.push(anomaly);
                }
                group.last = anomaly;
            }
            None => groups.push(AnomalyGroup {
                kind: anomaly.kind,
                severity: anomaly.severity,
                count: 1,
                first: if shown > 0 { vec![anomaly] } else { Vec::new() },
                last: anomaly,
            }),
        }
    }
    groups.sort_by_key(|g| (std::cmp::Reverse(g.severity), g.kind));
    groups
}

/// The thresholds anomaly detection uses; the defaults are relative to the run's own history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyThresholds {
    /// Earlier samples needed before the relative rules judge a sample.
    pub min_samples: usize,
    /// How many earlier samples (at most) form the baseline median.
    pub baseline_samples: usize,
    /// A round is slow above this many times the baseline median round duration…
    pub round_duration_factor: f64,
    /// …and never below this duration (`round_duration_floor_s`, seconds, in JSON).
    #[serde(rename = "round_duration_floor_s", with = "crate::metrics::seconds")]
    pub round_duration_floor: Duration,
    /// Throughput is low below this fraction of the baseline median throughput.
    pub throughput_fraction: f64,
    /// Throughput is low below this absolute tx/s, from the first sample; `None` = no target.
    pub target_throughput: Option<f64>,
    /// CPU is high above this percentage.
    pub cpu_percent: f64,
    /// Memory growth is judged over this many most recent samples.
    pub memory_samples: usize,
    /// Share of memory steps that must not decrease for a leak.
    pub memory_monotonic_fraction: f64,
    /// Memory must grow at least this many MB over the samples for a leak.
    pub memory_min_growth_mb: u64,
    /// Traffic is unusual above this many times, or below one over this many times, the
    /// baseline median of bytes in + out.
    pub network_factor: f64,
}

impl Default for AnomalyThresholds {
    fn default() -> Self {
        AnomalyThresholds {
            min_samples: 5,
            baseline_samples: 20,
            round_duration_factor: 2.0,
            round_duration_floor: Duration::from_millis(1),
            throughput_fraction: 0.5,
            target_throughput: None,
            cpu_percent: 90.0,
            memory_samples: 10,
            memory_monotonic_fraction: 0.8,
            memory_min_growth_mb: 64,
            network_factor: 4.0,
        }
    }
}

impl AnomalyThresholds {
    /// The first field that breaks its rule, as `(field name, value)`.
    pub(crate) fn invalid_field(&self) -> Option<(&'static str, f64)> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if self.min_samples == 0 {
            return Some(("min_samples", 0.0));
        }
        if self.baseline_samples == 0 {
            return Some(("baseline_samples", 0.0));
        }
        if !positive(self.round_duration_factor) {
            return Some(("round_duration_factor", self.round_duration_factor));
        }
        if !(positive(self.throughput_fraction) && self.throughput_fraction <= 1.0) {
            return Some(("throughput_fraction", self.throughput_fraction));
        }
        if let Some(target) = self.target_throughput
            && !positive(target)
        {
            return Some(("target_throughput", target));
        }
        if !(self.cpu_percent.is_finite() && self.cpu_percent >= 0.0) {
            return Some(("cpu_percent", self.cpu_percent));
        }
        if self.memory_samples < 2 {
            return Some(("memory_samples", self.memory_samples as f64));
        }
        if !(positive(self.memory_monotonic_fraction) && self.memory_monotonic_fraction <= 1.0) {
            return Some(("memory_monotonic_fraction", self.memory_monotonic_fraction));
        }
        if !(positive(self.network_factor) && self.network_factor > 1.0) {
            return Some(("network_factor", self.network_factor));
        }
        None
    }
}

/// Judges the sample at `index` of `history` against the samples before it.
///
/// Anomalies come in a fixed kind order: round duration, throughput, CPU, memory, network.
pub(crate) fn judge(
    history: &VecDeque<MetricSample>,
    index: usize,
    thresholds: &AnomalyThresholds,
    unit: SampleUnit,
) -> Vec<Anomaly> {
    let baseline_start = index.saturating_sub(thresholds.baseline_samples);
    let medians = || {
        let range = || history.range(baseline_start..index);
        let of = |value: fn(&MetricSample) -> f64| median(range().map(value).collect());
        BaselineMedians {
            round_duration: of(round_seconds),
            throughput: of(throughput),
            network: of(bytes_on_wire),
        }
    };
    judge_with(history, index, thresholds, unit, medians)
}

/// [`judge`], with the baseline's medians from `medians` (called only for a sample that
/// exists; it must give what [`judge`]'s own computation does).
fn judge_with(
    history: &VecDeque<MetricSample>,
    index: usize,
    thresholds: &AnomalyThresholds,
    unit: SampleUnit,
    medians: impl FnOnce() -> BaselineMedians,
) -> Vec<Anomaly> {
    let Some(sample) = history.get(index) else {
        return Vec::new();
    };
    let baseline_len = index - index.saturating_sub(thresholds.baseline_samples);
    let judged = Judged {
        sample,
        baseline_len,
        medians: medians(),
        relative: baseline_len >= thresholds.min_samples,
        thresholds,
        unit,
    };
    let recent_start = (index + 1).saturating_sub(thresholds.memory_samples);
    [
        judged.round_duration(),
        judged.throughput(),
        judged.cpu(),
        judged.memory(history.range(recent_start..=index)),
        judged.network(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The medians of a baseline's values for the three relative rules (0 for an empty baseline).
#[derive(Clone, Copy, Debug, PartialEq)]
struct BaselineMedians {
    round_duration: f64,
    throughput: f64,
    network: f64,
}

/// The values of a sample the relative rules compare, as [`median`]'s order keys.
type BaselineKeys = [i64; 3];

/// The baselines of a monitor's successive samples, kept sorted as samples come, so that
/// judging a sample costs a binary search and a short shift per rule rather than a selection
/// over the whole baseline. Judging with it gives exactly what [`judge`] gives.
#[derive(Clone, Debug, Default)]
pub(crate) struct BaselineWindow {
    /// The keys of the most recent samples, oldest first: the newest judged sample and, before
    /// it, at least its baseline.
    recent: VecDeque<BaselineKeys>,
    /// The same keys, each rule's sorted.
    sorted: [Vec<i64>; 3],
}

impl BaselineWindow {
    /// [`judge`] for the newest sample of `history`, which must come right after the samples
    /// this window was given before (`PerformanceMonitor::push_sample` keeps to that); a
    /// window holding fewer samples than the baseline needs is rebuilt from `history`.
    pub(crate) fn judge_latest(
        &mut self,
        history: &VecDeque<MetricSample>,
        thresholds: &AnomalyThresholds,
        unit: SampleUnit,
    ) -> Vec<Anomaly> {
        let Some(latest) = history.len().checked_sub(1) else {
            return Vec::new();
        };
        let wanted = latest.min(thresholds.baseline_samples);
        if self.recent.len() < wanted {
            self.rebuild(history.range(latest - wanted..latest));
        }
        while self.recent.len() > wanted {
            if let Some(old) = self.recent.pop_front() {
                for (sorted, key) in self.sorted.iter_mut().zip(old) {
                    if let Ok(at) = sorted.binary_search(&key) {
                        sorted.remove(at);
                    }
                }
            }
        }
        let medians = || BaselineMedians {
            round_duration: sorted_median(&self.sorted[0]),
            throughput: sorted_median(&self.sorted[1]),
            network: sorted_median(&self.sorted[2]),
        };
        let anomalies = judge_with(history, latest, thresholds, unit, medians);
        self.add(&history[latest]);
        anomalies
    }

    /// Forget everything and hold the keys of `samples`.
    fn rebuild<'a>(&mut self, samples: impl Iterator<Item = &'a MetricSample>) {
        self.recent.clear();
        self.sorted.iter_mut().for_each(Vec::clear);
        for sample in samples {
            self.add(sample);
        }
    }

    fn add(&mut self, sample: &MetricSample) {
        let keys = [round_seconds, throughput, bytes_on_wire].map(|value| order_key(value(sample)));
        for (sorted, key) in self.sorted.iter_mut().zip(keys) {
            let at = sorted.partition_point(|&k| k < key);
            sorted.insert(at, key);
        }
        self.recent.push_back(keys);
    }
}

/// One sample and the history it is judged against.
struct Judged<'a> {
    sample: &'a MetricSample,
    /// How many samples before it form its baseline.
    baseline_len: usize,
    medians: BaselineMedians,
    /// Enough baseline for the relative rules.
    relative: bool,
    thresholds: &'a AnomalyThresholds,
    /// What a sample is, for the descriptions.
    unit: SampleUnit,
}

impl Judged<'_> {
    /// "height 12" or "round 12": the judged sample.
    fn this(&self) -> String {
        format!("{} {}", self.unit.singular(), self.sample.round)
    }

    /// "the last 20 heights": the baseline.
    fn last(&self, n: usize) -> String {
        if n == 1 {
            format!("the last {}", self.unit.singular())
        } else {
            format!("the last {n} {}", self.unit.plural())
        }
    }

    fn anomaly(
        &self,
        kind: AnomalyKind,
        severity: AnomalySeverity,
        value: f64,
        threshold: f64,
        description: String,
    ) -> Anomaly {
        Anomaly {
            kind,
            severity,
            description,
            value,
            threshold,
            round: self.sample.round,
            at: self.sample.at,
        }
    }

    fn round_duration(&self) -> Option<Anomaly> {
        if !self.relative {
            return None;
        }
        let t = self.thresholds;
        let value = self.sample.metrics.round_duration.as_secs_f64();
        let median = self.medians.round_duration;
        let relative = median * t.round_duration_factor;
        let threshold = relative.max(t.round_duration_floor.as_secs_f64());
        if value <= threshold || threshold <= 0.0 {
            return None;
        }
        let ratio = value / threshold;
        let basis = if relative >= threshold {
            format!(
                "{}× the median {} of {}",
                t.round_duration_factor,
                seconds(median),
                self.last(self.baseline_len)
            )
        } else {
            "the configured floor".to_string()
        };
        Some(self.anomaly(
            AnomalyKind::HighRoundDuration,
            AnomalySeverity::from_ratio(ratio),
            value,
            threshold,
            format!(
                "{} took {}, {ratio:.1}× the {} threshold ({basis}): check for a silent \
                 or slow proposer, a network partition, or timeouts set too high",
                self.this(),
                seconds(value),
                seconds(threshold),
            ),
        ))
    }

    fn throughput(&self) -> Option<Anomaly> {
        let t = self.thresholds;
        let value = self.sample.metrics.throughput;
        let median = self.medians.throughput;
        let relative = (self.relative && median > 0.0).then_some(median * t.throughput_fraction);
        let threshold = match (relative, t.target_throughput) {
            (Some(r), Some(target)) => r.max(target),
            (Some(r), None) => r,
            (None, Some(target)) => target,
            (None, None) => return None,
        };
        if value >= threshold {
            return None;
        }
        let ratio = threshold / value; // infinite for zero throughput: Critical
        let basis = match relative {
            Some(r) if r >= threshold => format!(
                "{}× the median {median:.1} tx/s of {}",
                t.throughput_fraction,
                self.last(self.baseline_len)
            ),
            _ => "the target".to_string(),
        };
        Some(self.anomaly(
            AnomalyKind::LowThroughput,
            AnomalySeverity::from_ratio(ratio),
            value,
            threshold,
            format!(
                "{} processed {value:.1} tx/s, below the {threshold:.1} tx/s threshold \
                 ({basis}): check for a stalled mempool, empty blocks from a slow proposer, \
                 the block size limit, or lost peers",
                self.this()
            ),
        ))
    }

    fn cpu(&self) -> Option<Anomaly> {
        let limit = self.thresholds.cpu_percent;
        let value = self.sample.metrics.resource_usage.cpu_percent;
        if value <= limit {
            return None;
        }
        Some(self.anomaly(
            AnomalyKind::HighCpu,
            AnomalySeverity::from_headroom(value, limit),
            value,
            limit,
            format!(
                "{} used {value:.1} % CPU, above the {limit:.1} % limit: check signature \
                 verification cost, enable parallel verification or raise the batch size, or \
                 add cores",
                self.this()
            ),
        ))
    }

    fn memory<'s, I>(&self, recent: I) -> Option<Anomaly>
    where
        I: ExactSizeIterator<Item = &'s MetricSample> + Clone,
    {
        let t = self.thresholds;
        if recent.len() < t.memory_samples {
            return None;
        }
        let megabytes = |s: &MetricSample| s.metrics.resource_usage.memory_mb as f64;
        // One pass for the steps, the first and the last; the samples are collected only for
        // memory that rose enough (below).
        let steps = recent.len() - 1;
        let (mut rising, mut first, mut last) = (0, None, 0.0);
        for m in recent.clone().map(megabytes) {
            if first.is_none() {
                first = Some(m);
            } else if m >= last {
                rising += 1;
            }
            last = m;
        }
        let first = first.unwrap_or_default();
        let growth = last - first;
        let min_growth = t.memory_min_growth_mb as f64;
        let sustained = (rising as f64) >= t.memory_monotonic_fraction * steps as f64;
        if !sustained || growth < min_growth.max(f64::MIN_POSITIVE) {
            return None;
        }
        let recent: Vec<&MetricSample> = recent.collect();
        let memory: Vec<f64> = recent.iter().map(|s| megabytes(s)).collect();
        let slope = least_squares_slope(&sample_times(&recent), &memory);
        if slope.is_some_and(|s| s <= 0.0) {
            return None;
        }
        let rate = slope.map_or(String::new(), |s| format!("{s:.2} MB/s, "));
        Some(self.anomaly(
            AnomalyKind::MemoryLeak,
            AnomalySeverity::from_ratio(growth / min_growth.max(1.0)),
            growth,
            min_growth,
            format!(
                "memory rose from {first:.0} MB to {last:.0} MB over {} \
                 ({rate}{rising} of {steps} steps up or flat), more than the {min_growth:.0} MB \
                 allowed: look for an unbounded mempool, block cache or evidence pool",
                self.last(recent.len())
            ),
        ))
    }

    fn network(&self) -> Option<Anomaly> {
        if !self.relative {
            return None;
        }
        let factor = self.thresholds.network_factor;
        let value = bytes_on_wire(self.sample);
        let median = self.medians.network;
        if median <= 0.0 {
            return None;
        }
        // The descriptions are written only for a sample that is judged anomalous.
        let (this, last) = (|| self.this(), || self.last(self.baseline_len));
        let (threshold, ratio, description) = if value > median * factor {
            let ratio = value / median;
            (
                median * factor,
                ratio,
                format!(
                    "{} moved {value:.0} bytes, {ratio:.1}× the median {median:.0} \
                     bytes of {}: check for gossip storms, retransmissions \
                     after a partition, or a flooding peer",
                    this(),
                    last()
                ),
            )
        } else if value * factor < median {
            let ratio = median / value; // infinite for no traffic: Critical
            let what = if value == 0.0 {
                "no bytes".to_string()
            } else {
                format!("{value:.0} bytes, 1/{ratio:.1} of")
            };
            (
                median / factor,
                ratio,
                format!(
                    "{} moved {what} the median {median:.0} bytes of {} while \
                     {} still complete: check peer connectivity, firewall \
                     rules and the persistent peers list",
                    this(),
                    last(),
                    self.unit.plural()
                ),
            )
        } else {
            return None;
        };
        Some(self.anomaly(
            AnomalyKind::NetworkIssues,
            AnomalySeverity::from_ratio(ratio / factor),
            value,
            threshold,
            description,
        ))
    }
}

fn round_seconds(sample: &MetricSample) -> f64 {
    sample.metrics.round_duration.as_secs_f64()
}

fn throughput(sample: &MetricSample) -> f64 {
    sample.metrics.throughput
}

fn bytes_on_wire(sample: &MetricSample) -> f64 {
    let usage = &sample.metrics.resource_usage;
    usage.network_bytes_in as f64 + usage.network_bytes_out as f64
}

/// `x` as an integer that orders as `f64::total_cmp` does: its bits, with the magnitude bits of
/// a negative value flipped. The flip keeps the sign bit, so it is its own inverse.
fn order_key(x: f64) -> i64 {
    flip(x.to_bits() as i64)
}

fn flip(bits: i64) -> i64 {
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

fn key_value(key: i64) -> f64 {
    f64::from_bits(flip(key) as u64)
}

/// The median (mean of the two middle values for an even count); 0 for no values.
pub(crate) fn median(values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    // In `f64::total_cmp` order, taken as integers so that the comparisons are integer ones;
    // the conversion reuses the vector's buffer. The middle key, and for an even count the
    // largest below it, are what a full sort would put at `mid` and `mid - 1`.
    let mut keys: Vec<i64> = values.into_iter().map(order_key).collect();
    let mid = keys.len() / 2;
    let odd = keys.len() % 2 == 1;
    let (below, &mut middle, _) = keys.select_nth_unstable(mid);
    if odd {
        key_value(middle)
    } else {
        let before = below.iter().copied().max().unwrap_or(middle);
        (key_value(before) + key_value(middle)) / 2.0
    }
}

/// [`median`] of the values whose order keys are `sorted` (ascending).
fn sorted_median(sorted: &[i64]) -> f64 {
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => key_value(sorted[mid]),
        _ => (key_value(sorted[mid - 1]) + key_value(sorted[mid])) / 2.0,
    }
}

/// Seconds for a person: "12.30 s", or "45.0 ms" under a second.
fn seconds(value: f64) -> String {
    if value < 1.0 {
        format!("{:.1} ms", value * 1000.0)
    } else {
        format!("{value:.2} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::ConsensusMetrics;

    #[test]
    fn severity_follows_the_ratio_bands() {
        assert_eq!(AnomalySeverity::from_ratio(1.2), AnomalySeverity::Low);
        assert_eq!(AnomalySeverity::from_ratio(1.5), AnomalySeverity::Medium);
        assert_eq!(AnomalySeverity::from_ratio(3.9), AnomalySeverity::High);
        assert_eq!(AnomalySeverity::from_ratio(4.0), AnomalySeverity::Critical);
        assert_eq!(
            AnomalySeverity::from_ratio(f64::INFINITY),
            AnomalySeverity::Critical
        );
    }

    #[test]
    fn cpu_severity_follows_used_headroom() {
        assert_eq!(
            AnomalySeverity::from_headroom(91.0, 90.0),
            AnomalySeverity::Low
        );
        assert_eq!(
            AnomalySeverity::from_headroom(93.0, 90.0),
            AnomalySeverity::Medium
        );
        assert_eq!(
            AnomalySeverity::from_headroom(96.0, 90.0),
            AnomalySeverity::High
        );
        assert_eq!(
            AnomalySeverity::from_headroom(100.0, 90.0),
            AnomalySeverity::Critical
        );
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }

    #[test]
    fn median_is_the_middle_of_the_sorted_values_bit_for_bit() {
        // Against the definition: sort, take the middle (or the mean of the two middle) values.
        // Lengths 1 to 40, repeated values, signed zeros and infinities included.
        fn sorted_median(mut values: Vec<f64>) -> f64 {
            values.sort_by(f64::total_cmp);
            let mid = values.len() / 2;
            if values.len() % 2 == 1 {
                values[mid]
            } else {
                (values[mid - 1] + values[mid]) / 2.0
            }
        }
        let pool = [
            0.0,
            -0.0,
            1.5,
            -2.25,
            7.0,
            1e-300,
            3.0e9,
            f64::INFINITY,
            0.1,
            0.2,
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for len in 1..=40 {
            for _ in 0..50 {
                let values: Vec<f64> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        match state % 3 {
                            0 => pool[(state >> 8) as usize % pool.len()],
                            _ => (state >> 11) as f64 / 1e12,
                        }
                    })
                    .collect();
                let (fast, slow) = (median(values.clone()), sorted_median(values.clone()));
                assert_eq!(fast.to_bits(), slow.to_bits(), "{values:?}");
            }
        }
    }

    #[test]
    fn sorted_baselines_judge_as_the_samples_do() {
        // A monitor's successive samples judged with the kept sorted baselines and judged from
        // the history itself give the same anomalies, text for text: baselines of 1 to 50
        // samples, histories kept to 1 to 1000 samples and shrunk on the way, thresholds
        // changed on the way, repeated values, zeros, NaN and infinite throughput.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut found = [0usize; 5];
        for (window, baseline) in [
            (1usize, 20),
            (3, 4),
            (7, 20),
            (25, 20),
            (1000, 1),
            (1000, 50),
        ] {
            let mut thresholds = AnomalyThresholds {
                baseline_samples: baseline,
                min_samples: baseline.min(5),
                memory_min_growth_mb: 8,
                ..AnomalyThresholds::default()
            };
            let mut history = VecDeque::new();
            let mut sorted = BaselineWindow::default();
            let (mut window, mut memory) = (window, 100u64);
            for round in 0..600u64 {
                if round == 300 {
                    thresholds.baseline_samples += 7;
                    window = window.div_ceil(2);
                    while history.len() > window {
                        history.pop_front();
                    }
                }
                let r = next();
                let pick = |values: &[f64], r: u64| values[r as usize % values.len()];
                memory = match r % 4 {
                    0 => memory.saturating_sub(r >> 60),
                    _ => memory + (r >> 61),
                };
                let mut metrics = ConsensusMetrics {
                    round_duration: Duration::from_millis(pick(
                        &[0.0, 5.0, 40.0, 41.0, 300.0],
                        r >> 8,
                    ) as u64),
                    throughput: pick(&[0.0, 10.0, 12.5, 900.0, f64::NAN, f64::INFINITY], r >> 16),
                    ..ConsensusMetrics::default()
                };
                metrics.resource_usage.memory_mb = memory;
                metrics.resource_usage.cpu_percent = pick(&[10.0, 95.0], r >> 24);
                metrics.resource_usage.network_bytes_in =
                    pick(&[0.0, 1e3, 1e5, 1e6], r >> 32) as u64;
                if history.len() == window {
                    history.pop_front();
                }
                let at = Duration::from_millis(100 * round);
                history.push_back(MetricSample { at, round, metrics });
                let latest = history.len() - 1;
                let kept = sorted.judge_latest(&history, &thresholds, SampleUnit::Height);
                let direct = judge(&history, latest, &thresholds, SampleUnit::Height);
                assert_eq!(format!("{kept:?}"), format!("{direct:?}"), "round {round}");
                for anomaly in &kept {
                    found[anomaly.kind as usize] += 1;
                }
            }
        }
        // Every rule fired, so every one was compared.
        assert!(found.iter().all(|&n| n > 20), "{found:?}");
    }

    #[test]
    fn default_thresholds_are_valid() {
        assert_eq!(AnomalyThresholds::default().invalid_field(), None);
        let bad = AnomalyThresholds {
            network_factor: 1.0,
            ..AnomalyThresholds::default()
        };
        assert_eq!(bad.invalid_field(), Some(("network_factor", 1.0)));
    }
}
