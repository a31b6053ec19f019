//! consensus-performance: a deterministic discrete-event simulator of Tendermint-style BFT
//! consensus, with a performance monitor, an optimization engine and a benchmark suite.
//!
//! # Quick start
//!
//! Resolve a scenario (a built-in name, as `ccperf scenarios` lists them, or a YAML file with
//! [`config::load_scenario`]), run it with a seed, and read the [`report::RunReport`]. The run
//! is in virtual time, and the same scenario and seed give the same report, byte for byte
//! (`wall_time_s` aside):
//!
//! ```
//! use consensus_performance::{config, sim};
//! use std::time::Duration;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut scenario = config::resolve_scenario("baseline")?; // 4 validators, 100 tx/s, 60 s
//! scenario.duration = Duration::from_secs(5); // a shorter run of the same network
//! let report = sim::run(&scenario, 42)?;
//!
//! println!(
//!     "{} heights, {:.1} tx/s, p99 latency {:.3} s, trace {}",
//!     report.heights_committed, report.throughput_tps, report.latency_s.p99, report.trace_hash
//! );
//! assert!(report.heights_committed > 0);
//! assert!(report.transactions_committed > 0);
//! assert!(report.safety.agreement && report.safety.validity);
//! assert!(report.latency_s.p50 <= report.latency_s.p99);
//! // Deterministic: the same seed replays the same events.
//! assert_eq!(sim::run(&scenario, 42)?.trace_hash, report.trace_hash);
//! # Ok(())
//! # }
//! ```
//!
//! Step by step, [`sim::Simulation`] shows the run between events (its time, committed
//! heights, monitor); [`ConsensusBenchmark`] runs scenarios over several seeds and judges them
//! against their targets; [`PerformanceMonitor`] and [`OptimizationEngine`] work on a live
//! node's metrics as well as on simulated ones. The README (tested here as doc tests) covers
//! each, and where the API differs from the seed's specification.
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

/// The README's Rust snippets, compiled and run as doc tests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
