//! consensus-performance: a deterministic discrete-event simulator of Tendermint-style BFT
//! consensus, with a performance monitor, an optimization engine and a benchmark suite.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod check;
pub mod cli;
pub mod config;
pub mod consensus;
pub mod export;
pub mod live;
pub mod metrics;
pub mod monitor;
pub mod net;
pub mod optimize;
pub mod p2p;
pub mod params;
pub mod report;
pub mod sim;
pub mod workload;

pub use bench::{BenchmarkResult, BenchmarkScenario, ConsensusBenchmark};
pub use config::Scenario;
pub use metrics::{
    Clock, ConsensusMetrics, LatencyHistogram, LatencyPercentiles, ResourceUsage,
    ThroughputTracker, VirtualClock, WallClock,
};
pub use monitor::{
    Alert, AlertConfig, Anomaly, AnomalyKind, AnomalySeverity, AnomalyThresholds, MonitorError,
    PerformanceMonitor, PerformanceTrend, SampleUnit,
};
pub use optimize::{
    Observations, OptimizationEngine, OptimizationSuggestion, OptimizeError, Parameter,
    ParameterValue, Strategy,
};
pub use params::{OptimizationParameters, PerformanceTargets};
