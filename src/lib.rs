//! consensus-performance: a deterministic discrete-event simulator of Tendermint-style BFT
//! consensus, with a performance monitor, an optimization engine and a benchmark suite.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod config;
pub mod consensus;
pub mod export;
pub mod metrics;
pub mod net;
pub mod optimize;
pub mod report;
pub mod sim;
pub mod workload;

pub use config::Scenario;
pub use metrics::{ConsensusMetrics, LatencyPercentiles, ResourceUsage};
pub use optimize::{OptimizationParameters, PerformanceTargets};
