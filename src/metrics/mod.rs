//! The metrics every part of the crate speaks: defined once, here.
//!
//! Also the instruments that produce them: [`LatencyHistogram`] (hdrhistogram), the
//! [`ThroughputTracker`], and the [`Clock`]s they and the monitor read.

pub mod clock;
pub mod histogram;
pub mod seconds;
pub mod throughput;

pub use clock::{Clock, VirtualClock, WallClock};
pub use histogram::{LatencyHistogram, LatencySummary};
pub use throughput::ThroughputTracker;

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Latency percentiles of one distribution (serialised in seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyPercentiles {
    /// Median.
    #[serde(with = "seconds")]
    pub p50: Duration,
    /// 90th percentile.
    #[serde(with = "seconds")]
    pub p90: Duration,
    /// 95th percentile.
    #[serde(with = "seconds")]
    pub p95: Duration,
    /// 99th percentile.
    #[serde(with = "seconds")]
    pub p99: Duration,
}

/// Resources one validator used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceUsage {
    /// CPU utilisation, 0–100 % of the validator's cores.
    pub cpu_percent: f64,
    /// Memory in megabytes.
    pub memory_mb: u64,
    /// Bytes received.
    pub network_bytes_in: u64,
    /// Bytes sent.
    pub network_bytes_out: u64,
    /// Bytes written to disk.
    pub disk_io_bytes: u64,
}

/// The metrics of one consensus round (one height, from its start to its commit); durations
/// serialise as seconds, in fields named `*_s`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsensusMetrics {
    /// Height start to commit.
    #[serde(rename = "round_duration_s", with = "seconds")]
    pub round_duration: Duration,
    /// Start of the deciding round to the arrival of its proposal.
    #[serde(rename = "proposal_time_s", with = "seconds")]
    pub proposal_time: Duration,
    /// Arrival of the proposal to the decision.
    #[serde(rename = "voting_time_s", with = "seconds")]
    pub voting_time: Duration,
    /// Time spent applying the committed block.
    #[serde(rename = "commit_time_s", with = "seconds")]
    pub commit_time: Duration,
    /// Transactions per second.
    pub throughput: f64,
    /// Transaction latency, submit to commit.
    #[serde(rename = "latency_percentiles_s")]
    pub latency_percentiles: LatencyPercentiles,
    /// Resources used.
    pub resource_usage: ResourceUsage,
}
