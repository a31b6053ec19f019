//! The tunable parameters of a chain and the targets it should meet: ground data that the
//! scenario loader, the simulator, the benchmarks and the optimizer all read.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Consensus parameters an operator can tune; defaults are CometBFT's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizationParameters {
    /// Maximum block size in bytes.
    pub block_size_limit: u32,
    /// Wait after a commit before the next height (CometBFT's `timeout_commit`).
    #[serde(with = "crate::config::duration")]
    pub block_interval: Duration,
    /// Base propose timeout.
    #[serde(with = "crate::config::duration")]
    pub timeout_propose: Duration,
    /// Added to the propose timeout per round.
    #[serde(with = "crate::config::duration")]
    pub timeout_propose_delta: Duration,
    /// Base prevote timeout.
    #[serde(with = "crate::config::duration")]
    pub timeout_prevote: Duration,
    /// Added to the prevote timeout per round.
    #[serde(with = "crate::config::duration")]
    pub timeout_prevote_delta: Duration,
    /// Base precommit timeout.
    #[serde(with = "crate::config::duration")]
    pub timeout_precommit: Duration,
    /// Added to the precommit timeout per round.
    #[serde(with = "crate::config::duration")]
    pub timeout_precommit_delta: Duration,
    /// Transactions verified per batch.
    pub batch_size: u32,
    /// Spread verification batches over the validator's cores.
    pub parallel_verification: bool,
}

impl Default for OptimizationParameters {
    fn default() -> Self {
        OptimizationParameters {
            block_size_limit: 4_194_304,
            block_interval: Duration::from_secs(1),
            timeout_propose: Duration::from_secs(3),
            timeout_propose_delta: Duration::from_millis(500),
            timeout_prevote: Duration::from_secs(1),
            timeout_prevote_delta: Duration::from_millis(500),
            timeout_precommit: Duration::from_secs(1),
            timeout_precommit_delta: Duration::from_millis(500),
            batch_size: 100,
            parallel_verification: true,
        }
    }
}

impl OptimizationParameters {
    /// `timeout_propose + round * timeout_propose_delta`.
    pub fn timeout_propose(&self, round: u32) -> Duration {
        self.timeout_propose + self.timeout_propose_delta * round
    }

    /// `timeout_prevote + round * timeout_prevote_delta`.
    pub fn timeout_prevote(&self, round: u32) -> Duration {
        self.timeout_prevote + self.timeout_prevote_delta * round
    }

    /// `timeout_precommit + round * timeout_precommit_delta`.
    pub fn timeout_precommit(&self, round: u32) -> Duration {
        self.timeout_precommit + self.timeout_precommit_delta * round
    }
}

/// What a run should achieve: the success criteria of a benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerformanceTargets {
    /// Committed transactions per second, at least.
    pub target_throughput: f64,
    /// Transaction latency (submit to commit, p99), at most.
    #[serde(with = "crate::config::duration")]
    pub max_latency: Duration,
    /// Time to finality (mean height start to commit), at most.
    #[serde(with = "crate::config::duration")]
    pub target_finality_time: Duration,
    /// CPU use in percent, at most.
    pub max_cpu_usage: f64,
    /// Memory in megabytes, at most.
    pub max_memory_usage: u64,
}

impl Default for PerformanceTargets {
    fn default() -> Self {
        PerformanceTargets {
            target_throughput: 1000.0,
            max_latency: Duration::from_secs(5),
            target_finality_time: Duration::from_secs(15),
            max_cpu_usage: 80.0,
            max_memory_usage: 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_grow_by_delta_per_round() {
        let p = OptimizationParameters::default();
        assert_eq!(p.timeout_propose(0), Duration::from_secs(3));
        assert_eq!(p.timeout_propose(2), Duration::from_secs(4));
        assert_eq!(p.timeout_prevote(1), Duration::from_millis(1500));
        assert_eq!(p.timeout_precommit(3), Duration::from_millis(2500));
    }
}
