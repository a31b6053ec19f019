//! The report of one run: the contract of `ccperf run --json` (DESIGN.md, "Contract").

use crate::check::Violation;
use crate::monitor::{Alert, Anomaly, PerformanceTrend};
use serde::{Deserialize, Serialize};

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
