//! Benchmarks and sweeps: scenarios run over several seeds in parallel and judged against their
//! success criteria (`ConsensusBenchmark`), and parameter grids run as ordered, resumable,
//! shardable JSONL (`sweep`).
//!
//! Simulations run through an injected [`Runner`] (`Fn(&Scenario, seed) -> RunReport`); the
//! default is the simulator, tests use a deterministic fake.

mod benchmark;
pub mod calibration;
mod runner;
mod scenario;
pub mod stats;
pub mod sweep;

pub use benchmark::{
    BenchError, BenchSummary, BenchmarkResult, Bound, ConsensusBenchmark, CriterionOutcome,
    DEFAULT_SEEDS, average_metrics, evaluate_criteria,
};
pub use runner::{
    MAX_JOBS, PROGRESS_INTERVAL, PROGRESS_INTERVAL_VAR, Runner, check_jobs, progress_bar,
    progress_interval, progress_is_live, simulate, thread_pool,
};
pub use scenario::{BUILTIN_BENCHMARKS, BenchmarkScenario};
pub use stats::Interval;
