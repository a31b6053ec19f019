//! The report of one run: the contract of `ccperf run --json` (DESIGN.md, "Contract").

use crate::check::Violation;
use crate::monitor::{Alert, Anomaly, AnomalySeverity, PerformanceTrend};
use crate::params::PerformanceTargets;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Everything one simulation run measured. Every field but `wall_time_s` is deterministic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Master seed of the run.
    pub seed: u64,
    /// Fingerprint of every processed event (16 hex digits).
    pub trace_hash: String,
    /// Virtual time simulated, seconds.
    pub duration_s: f64,
    /// Number of validators.
    pub validators: usize,
    /// Indices of the Byzantine validators.
    pub byzantine: Vec<u16>,
    /// What the Byzantine validators do, if any.
    pub byzantine_behavior: Option<String>,
    /// The correct validator whose view the per-height metrics and resources are taken from.
    pub observer: u16,
    /// Heights the observer committed.
    pub heights_committed: u64,
    /// Transactions in blocks committed by correct validators.
    pub transactions_committed: u64,
    /// Transactions refused because the mempool was full.
    pub transactions_dropped: u64,
    /// Committed transactions per second of simulated time.
    pub throughput_tps: f64,
    /// Transaction latency, submission to commit, seconds.
    pub latency_s: Quantiles,
    /// How many transactions had each latency: buckets doubling from 1 ms (`le_s` is the bucket's
    /// upper bound, seconds), up to the largest latency.
    #[serde(default)]
    pub latency_distribution: Vec<LatencyBucket>,
    /// Height start to commit at the observer, seconds.
    pub round_duration_s: Summary,
    /// Commit to commit at the observer, seconds (includes `block_interval`).
    pub block_interval_s: Summary,
    /// Rounds per height.
    pub rounds: Rounds,
    /// Resources the observer used.
    pub resources: Resources,
    /// Whether the invariants held.
    pub safety: Safety,
    /// The scenario's `targets` judged on this run (absent when it has none); each one missed
    /// also raises an alert in `monitor.alerts`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<CriterionOutcome>,
    /// Events processed (message deliveries and timer firings).
    pub events: u64,
    /// What the performance monitor saw: anomalies, alerts and the trend.
    pub monitor: MonitorReport,
    /// Wall-clock seconds the run took (the one field that is not deterministic).
    pub wall_time_s: f64,
    /// Per-height records (printed with `--heights`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heights: Vec<HeightRecord>,
}

/// The performance monitor's findings over a run (fed one sample per committed height).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitorReport {
    /// Every anomaly detected, in the order found.
    pub anomalies: Vec<Anomaly>,
    /// Every alert that fired (set from the scenario's `targets`), when it fired.
    pub alerts: Vec<FiredAlert>,
    /// Least-squares trends over the whole run.
    pub trend: PerformanceTrend,
}

/// Whether a criterion is a floor or a ceiling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// `actual >= target`.
    AtLeast,
    /// `actual <= target`.
    AtMost,
}

/// One success criterion (a target of `PerformanceTargets`, or safety) and how a run, or the
/// mean over a benchmark's seeds, did against it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriterionOutcome {
    /// What is measured, with its unit (`throughput_tps`, `latency_p99_s`, …, `safety`).
    pub name: String,
    /// Floor or ceiling.
    pub bound: Bound,
    /// The target.
    pub target: f64,
    /// The measured value (for a benchmark the mean over seeds; for `safety` the fraction of
    /// seeds where it held).
    pub actual: f64,
    /// Whether the target was met.
    pub met: bool,
}

/// What each target criterion watches: name, alert name, words for a person, unit.
const TARGETS: [(&str, &str, &str, &str); 5] = [
    ("throughput_tps", "throughput", "throughput", "tx/s"),
    ("latency_p99_s", "latency", "p99 transaction latency", "s"),
    ("finality_s", "round_duration", "mean height time", "s"),
    ("cpu_percent", "cpu", "CPU", "%"),
    ("memory_mb", "memory", "memory", "MB"),
];

impl CriterionOutcome {
    /// `actual` judged against `target` as a floor or a ceiling.
    pub fn new(name: &str, bound: Bound, target: f64, actual: f64) -> Self {
        let met = match bound {
            Bound::AtLeast => actual >= target,
            Bound::AtMost => actual <= target,
        };
        CriterionOutcome {
            name: name.to_string(),
            bound,
            target,
            actual,
            met,
        }
    }

    /// The alert a missed target raises (none when met, or for `safety`, which the report
    /// judges on its own); `basis` says what was measured ("whole run", "mean over 3 seeds").
    /// The name is the monitor's threshold name (`throughput`, `latency`, `round_duration`,
    /// `cpu`, `memory`); severity as for the monitor's alerts, by how far past the target.
    pub fn alert(&self, basis: &str) -> Option<Alert> {
        if self.met {
            return None;
        }
        let &(_, name, words, unit) = TARGETS.iter().find(|t| t.0 == self.name)?;
        let (value, threshold) = (self.actual, self.target);
        let (severity, relation) = match (name, self.bound) {
            ("cpu", _) => (AnomalySeverity::from_headroom(value, threshold), "above"),
            (_, Bound::AtLeast) => (AnomalySeverity::from_ratio(threshold / value), "below"),
            (_, Bound::AtMost) => (AnomalySeverity::from_ratio(value / threshold), "above"),
        };
        Some(Alert {
            name: name.to_string(),
            value,
            threshold,
            severity,
            message: format!(
                "{severity}: {words} {value:.2} {unit} is {relation} the scenario's \
                 {threshold:.2} {unit} target ({basis})"
            ),
            newly_fired: true,
        })
    }
}

impl fmt::Display for CriterionOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.bound {
            Bound::AtLeast => ">=",
            Bound::AtMost => "<=",
        };
        let verdict = if self.met { "met" } else { "NOT met" };
        write!(
            f,
            "{} = {:.3} (target {op} {:.3}): {verdict}",
            self.name, self.actual, self.target
        )
    }
}

/// The five targets of `targets` judged on the mean over `reports` (in report order):
/// throughput at least `target_throughput`, p99 latency at most `max_latency`, mean height time
/// at most `target_finality_time`, CPU and memory at most their maxima.
pub fn target_criteria(
    targets: &PerformanceTargets,
    reports: &[RunReport],
) -> Vec<CriterionOutcome> {
    let avg = |metric: fn(&RunReport) -> f64| {
        if reports.is_empty() {
            0.0
        } else {
            reports.iter().map(metric).sum::<f64>() / reports.len() as f64
        }
    };
    let t = targets;
    vec![
        CriterionOutcome::new(
            "throughput_tps",
            Bound::AtLeast,
            t.target_throughput,
            avg(|r| r.throughput_tps),
        ),
        CriterionOutcome::new(
            "latency_p99_s",
            Bound::AtMost,
            t.max_latency.as_secs_f64(),
            avg(|r| r.latency_s.p99),
        ),
        CriterionOutcome::new(
            "finality_s",
            Bound::AtMost,
            t.target_finality_time.as_secs_f64(),
            avg(|r| r.round_duration_s.mean),
        ),
        CriterionOutcome::new(
            "cpu_percent",
            Bound::AtMost,
            t.max_cpu_usage,
            avg(|r| r.resources.cpu_percent),
        ),
        CriterionOutcome::new(
            "memory_mb",
            Bound::AtMost,
            t.max_memory_usage as f64,
            avg(|r| r.resources.memory_mb as f64),
        ),
    ]
}

/// An alert that fired at a height.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FiredAlert {
    /// Height whose sample fired it.
    pub height: u64,
    /// Virtual time it fired, seconds.
    pub at_s: f64,
    /// The alert.
    pub alert: Alert,
}

/// Latency quantiles, seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    #[serde(default)]
    pub mean: f64,
}

/// Transactions whose latency was at most `le_s` seconds and above the previous bucket's bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyBucket {
    /// Upper bound of the bucket, seconds.
    pub le_s: f64,
    /// Transactions in the bucket.
    pub count: u64,
}

/// Mean and quantiles of a duration, seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// Rounds a height took (1 when it decided in round 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rounds {
    /// Mean rounds per height.
    pub mean: f64,
    /// Most rounds any height took.
    pub max: u32,
}

/// Resources of the observer validator over the run: CPU busy share of its cores, peak memory
/// (base plus mempool), bytes received and sent (resends included), bytes written (WAL and
/// blocks). The same type the monitor's samples use.
pub type Resources = crate::metrics::ResourceUsage;

/// The invariants of the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Safety {
    /// No two correct validators decided differently at a height.
    pub agreement: bool,
    /// Every decided value was proposed.
    pub validity: bool,
    /// What broke, with the culprits named by evidence.
    pub violations: Vec<Violation>,
}

impl Safety {
    /// True when every invariant held.
    pub fn held(&self) -> bool {
        self.agreement && self.validity
    }
}

/// One committed height, as the observer saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HeightRecord {
    /// Height.
    pub height: u64,
    /// The 0-based round that decided it.
    pub round: u32,
    /// Index of the validator that proposed the decided block.
    pub proposer: u16,
    /// Virtual time of the commit, seconds.
    pub commit_time_s: f64,
    /// Transactions in the block.
    pub txs: u32,
    /// Height start to commit, seconds.
    pub round_duration_s: f64,
    /// Start of the deciding round to the arrival of its proposal, seconds.
    pub proposal_time_s: f64,
    /// Arrival of the proposal to the decision, seconds.
    pub voting_time_s: f64,
    /// Time spent applying the block, seconds.
    pub commit_cost_s: f64,
    /// Of the deciding round: prevote (sent) to precommit (sent), seconds; CometBFT's
    /// `Prevote` step. With `precommit_time_s`, it splits `voting_time_s` wherever both steps ran.
    #[serde(default)]
    pub prevote_time_s: f64,
    /// Of the deciding round: precommit (sent) to the decision, seconds; the `Precommit` step.
    #[serde(default)]
    pub precommit_time_s: f64,
    /// Size of the block, bytes (transactions plus overhead).
    #[serde(default)]
    pub block_bytes: u64,
    /// Validators whose precommit for the previous height's block had not reached the observer
    /// when it committed this one: CometBFT's `missing_validators` (absent from `LastCommit`).
    #[serde(default)]
    pub missing_validators: u32,
    /// Their voting power.
    #[serde(default)]
    pub missing_power: u64,
    /// Proposal arrival to the arrival of the prevote that made a quorum for the deciding
    /// round's proposal, at the observer, seconds (`None` when no quorum of prevotes arrived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum_prevote_delay_s: Option<f64>,
    /// Proposal arrival to the arrival of the last prevote, when every validator prevoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_prevote_delay_s: Option<f64>,
    /// Votes of this height that reached the observer a second time (gossip resends).
    #[serde(default)]
    pub duplicate_votes: u32,
    /// Transactions in the mempool when the block was committed.
    #[serde(default)]
    pub mempool_txs: u64,
    /// Transactions a full mempool refused since the previous commit.
    #[serde(default)]
    pub dropped_txs: u64,
}

impl RunReport {
    /// The report as one line of JSON; per-height records only when `heights` is set.
    pub fn to_json(&self, heights: bool) -> String {
        let result = if heights || self.heights.is_empty() {
            serde_json::to_string(self)
        } else {
            let mut lean = self.clone();
            lean.heights.clear();
            serde_json::to_string(&lean)
        };
        // Serialising plain numbers, strings and vectors cannot fail.
        result.unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
