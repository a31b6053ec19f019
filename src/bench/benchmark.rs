//! `ConsensusBenchmark`: run scenarios over several seeds in parallel and judge them against
//! their success criteria.

use super::runner::{self, Runner};
use super::scenario::{BUILTIN_BENCHMARKS, BenchmarkScenario};
use super::stats::{Interval, mean};
use crate::config::{self, ConfigError, Scenario};
use crate::metrics::{ConsensusMetrics, LatencyPercentiles, ResourceUsage};
use crate::monitor::Alert;
use crate::params::PerformanceTargets;
pub use crate::report::{Bound, CriterionOutcome};
use crate::report::{RunReport, target_criteria};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Seeds per scenario unless `with_seeds` says otherwise.
pub const DEFAULT_SEEDS: u32 = 3;

/// Runs benchmark scenarios, each over `k` seeds: `scenario.seed, scenario.seed + 1, …,
/// scenario.seed + k - 1` (a `BenchmarkScenario` has seed 0, so `0..k`). All (scenario, seed)
/// runs share one rayon pool; results are collected by index, so they never depend on which
/// run finished first.
#[derive(Clone)]
pub struct ConsensusBenchmark {
    seeds: u32,
    jobs: Option<usize>,
    progress: bool,
    runner: Arc<Runner>,
}

/// Why a benchmark could not produce results (a failed criterion is a result, not an error).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BenchError {
    /// A scenario file or built-in is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// No built-in scenario has this name.
    #[error("no built-in scenario `{0}` (see `ccperf scenarios`)")]
    UnknownBuiltin(String),
    /// `with_seeds(0)`: there would be nothing to average.
    #[error("a benchmark needs at least one seed")]
    NoSeeds,
    /// The worker pool could not start.
    #[error("{0}")]
    Pool(String),
    /// A simulation refused to run.
    #[error("{scenario} with seed {seed}: {message}")]
    Run {
        /// Scenario name.
        scenario: String,
        /// Seed of the failed run.
        seed: u64,
        /// The simulator's error.
        message: String,
    },
}

/// The outcome of one benchmark scenario over all its seeds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchmarkResult {
    /// Scenario name.
    pub name: String,
    /// Wall time spent simulating it, summed over its seeds (independent of the thread count).
    #[serde(
        rename = "execution_time_s",
        serialize_with = "crate::metrics::seconds::serialize"
    )]
    pub execution_time: Duration,
    /// Metrics averaged over the seeds.
    pub average_metrics: ConsensusMetrics,
    /// Every criterion held (safety always counts).
    pub success_criteria_met: bool,
    /// Each criterion, judged on the mean over seeds (safety: on every seed).
    pub criteria: Vec<CriterionOutcome>,
    /// One alert per target the mean over seeds missed (safety is judged, not alerted).
    pub alerts: Vec<Alert>,
    /// One report per seed, in seed order (not serialised; `ccperf bench --out` writes them).
    #[serde(skip_serializing)]
    pub reports: Vec<RunReport>,
    /// Means and 95 % intervals across seeds.
    pub summary: BenchSummary,
}

/// Means and 95 % intervals across seeds of the headline metrics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchSummary {
    /// The seeds, in run order.
    pub seeds: Vec<u64>,
    /// Committed transactions per second.
    pub throughput_tps: Interval,
    /// Median transaction latency, seconds.
    pub latency_p50_s: Interval,
    /// 99th percentile transaction latency, seconds.
    pub latency_p99_s: Interval,
    /// Mean height start to commit, seconds.
    pub round_duration_s: Interval,
    /// Mean rounds per height.
    pub rounds_per_height: Interval,
    /// Seeds whose run kept agreement and validity.
    pub safety_held: usize,
}

impl ConsensusBenchmark {
    /// A benchmark of [`DEFAULT_SEEDS`] seeds that runs the simulator on every core.
    pub fn new() -> Self {
        ConsensusBenchmark {
            seeds: DEFAULT_SEEDS,
            jobs: None,
            progress: false,
            runner: Arc::new(runner::simulate),
        }
    }

    /// Run every scenario over `k` seeds.
    pub fn with_seeds(mut self, k: u32) -> Self {
        self.seeds = k;
        self
    }

    /// Use `n` worker threads (default: `RAYON_NUM_THREADS` or every core).
    pub fn with_jobs(mut self, n: usize) -> Self {
        self.jobs = Some(n);
        self
    }

    /// Show a progress bar on stderr (when it is a terminal and `CI` is not `true`).
    pub fn with_progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Run simulations with `runner` instead of the simulator (tests, other engines).
    pub fn with_runner(
        mut self,
        runner: impl Fn(&Scenario, u64) -> Result<RunReport, String> + Send + Sync + 'static,
    ) -> Self {
        self.runner = Arc::new(runner);
        self
    }

    /// The seeds a scenario runs with.
    pub fn seeds_for(&self, scenario: &Scenario) -> Vec<u64> {
        (0..u64::from(self.seeds))
            .map(|i| scenario.seed.wrapping_add(i))
            .collect()
    }

    /// Run the built-in suite (baseline, high_load, byzantine_fault, network_partition), keyed
    /// by name.
    pub fn run_all_benchmarks(&self) -> Result<BTreeMap<String, BenchmarkResult>, BenchError> {
        let scenarios = BUILTIN_BENCHMARKS
            .iter()
            .map(|&name| match config::builtin_scenario(name) {
                Some(scenario) => Ok(scenario?),
                None => Err(BenchError::UnknownBuiltin(name.to_string())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let results = self.run_scenarios(&scenarios)?;
        Ok(results.into_iter().map(|r| (r.name.clone(), r)).collect())
    }

    /// Run one compact benchmark scenario (see [`BenchmarkScenario::to_scenario`]).
    pub fn run_scenario(
        &self,
        scenario: &BenchmarkScenario,
    ) -> Result<BenchmarkResult, BenchError> {
        self.run_file_scenario(&scenario.to_scenario())
    }

    /// Run one full scenario, judged against its `targets`.
    pub fn run_file_scenario(&self, scenario: &Scenario) -> Result<BenchmarkResult, BenchError> {
        let mut results = self.run_scenarios(std::slice::from_ref(scenario))?;
        results.pop().ok_or(BenchError::NoSeeds)
    }

    /// Run several scenarios, all their (scenario, seed) runs in one parallel batch; results in
    /// the order of `scenarios`.
    pub fn run_scenarios(
        &self,
        scenarios: &[Scenario],
    ) -> Result<Vec<BenchmarkResult>, BenchError> {
        if self.seeds == 0 {
            return Err(BenchError::NoSeeds);
        }
        let jobs: Vec<(usize, u64)> = scenarios
            .iter()
            .enumerate()
            .flat_map(|(i, s)| self.seeds_for(s).into_iter().map(move |seed| (i, seed)))
            .collect();
        let pool = runner::thread_pool(self.jobs).map_err(BenchError::Pool)?;
        let bar = runner::progress_bar(jobs.len() as u64, self.progress);
        bar.set_prefix("bench");
        let runner = &self.runner;
        let outcomes: Vec<(Result<RunReport, String>, Duration)> = pool.install(|| {
            jobs.par_iter()
                .map(|&(i, seed)| {
                    let wall_start = Instant::now();
                    let outcome = runner(&scenarios[i], seed);
                    bar.inc(1);
                    (outcome, wall_start.elapsed())
                })
                .collect()
        });
        bar.finish_and_clear();

        let mut outcomes = outcomes.into_iter().zip(jobs);
        scenarios
            .iter()
            .map(|scenario| {
                let mut reports = Vec::with_capacity(self.seeds as usize);
                let mut wall = Duration::ZERO;
                for ((outcome, took), (_, seed)) in outcomes.by_ref().take(self.seeds as usize) {
                    wall += took;
                    reports.push(outcome.map_err(|message| BenchError::Run {
                        scenario: scenario.name.clone(),
                        seed,
                        message,
                    })?);
                }
                Ok(BenchmarkResult::from_reports(scenario, reports, wall))
            })
            .collect()
    }
}

impl Default for ConsensusBenchmark {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ConsensusBenchmark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsensusBenchmark")
            .field("seeds", &self.seeds)
            .field("jobs", &self.jobs)
            .field("progress", &self.progress)
            .finish_non_exhaustive()
    }
}

impl BenchmarkResult {
    /// Judge `reports` (one per seed) of `scenario` against its targets.
    pub fn from_reports(scenario: &Scenario, reports: Vec<RunReport>, wall: Duration) -> Self {
        let criteria = evaluate_criteria(scenario.targets.as_ref(), &reports);
        let basis = match reports.len() {
            1 => "one seed".to_string(),
            n => format!("mean over {n} seeds"),
        };
        let alerts = criteria.iter().filter_map(|c| c.alert(&basis)).collect();
        BenchmarkResult {
            name: scenario.name.clone(),
            execution_time: wall,
            average_metrics: average_metrics(&reports),
            success_criteria_met: criteria.iter().all(|c| c.met),
            criteria,
            alerts,
            summary: BenchSummary::of(&reports),
            reports,
        }
    }

    /// The criteria that were not met.
    pub fn failed_criteria(&self) -> impl Iterator<Item = &CriterionOutcome> {
        self.criteria.iter().filter(|c| !c.met)
    }
}

impl BenchSummary {
    /// Means and intervals across `reports`.
    pub fn of(reports: &[RunReport]) -> Self {
        let across = |metric: fn(&RunReport) -> f64| {
            Interval::of(&reports.iter().map(metric).collect::<Vec<_>>())
        };
        BenchSummary {
            seeds: reports.iter().map(|r| r.seed).collect(),
            throughput_tps: across(|r| r.throughput_tps),
            latency_p50_s: across(|r| r.latency_s.p50),
            latency_p99_s: across(|r| r.latency_s.p99),
            round_duration_s: across(|r| r.round_duration_s.mean),
            rounds_per_height: across(|r| r.rounds.mean),
            safety_held: reports.iter().filter(|r| r.safety.held()).count(),
        }
    }
}

/// The success criteria of `targets` judged on the mean over `reports` — throughput at least
/// `target_throughput`, p99 latency at most `max_latency`, mean height time at most
/// `target_finality_time`, CPU and memory at most their maxima — plus safety on every report,
/// which always counts (no targets: safety only).
pub fn evaluate_criteria(
    targets: Option<&PerformanceTargets>,
    reports: &[RunReport],
) -> Vec<CriterionOutcome> {
    let avg = |metric: fn(&RunReport) -> f64| mean(&reports.iter().map(metric).collect::<Vec<_>>());
    let mut criteria = match targets {
        Some(t) => target_criteria(t, reports),
        None => Vec::new(),
    };
    let held = avg(|r| if r.safety.held() { 1.0 } else { 0.0 });
    criteria.push(CriterionOutcome::new("safety", Bound::AtLeast, 1.0, held));
    criteria
}

/// `ConsensusMetrics` averaged over `reports`; the phase times are each report's mean over its
/// committed heights (zero when a report carries no per-height records).
pub fn average_metrics(reports: &[RunReport]) -> ConsensusMetrics {
    let avg =
        |metric: &dyn Fn(&RunReport) -> f64| mean(&reports.iter().map(metric).collect::<Vec<_>>());
    let per_height = |r: &RunReport, phase: fn(&crate::report::HeightRecord) -> f64| {
        mean(&r.heights.iter().map(phase).collect::<Vec<_>>())
    };
    let secs = |x: f64| Duration::try_from_secs_f64(x).unwrap_or_default();
    let whole = |x: f64| x.round() as u64;
    ConsensusMetrics {
        round_duration: secs(avg(&|r| r.round_duration_s.mean)),
        proposal_time: secs(avg(&|r| per_height(r, |h| h.proposal_time_s))),
        voting_time: secs(avg(&|r| per_height(r, |h| h.voting_time_s))),
        commit_time: secs(avg(&|r| per_height(r, |h| h.commit_cost_s))),
        throughput: avg(&|r| r.throughput_tps),
        latency_percentiles: LatencyPercentiles {
            p50: secs(avg(&|r| r.latency_s.p50)),
            p90: secs(avg(&|r| r.latency_s.p90)),
            p95: secs(avg(&|r| r.latency_s.p95)),
            p99: secs(avg(&|r| r.latency_s.p99)),
        },
        resource_usage: ResourceUsage {
            cpu_percent: avg(&|r| r.resources.cpu_percent),
            memory_mb: whole(avg(&|r| r.resources.memory_mb as f64)),
            network_bytes_in: whole(avg(&|r| r.resources.network_bytes_in as f64)),
            network_bytes_out: whole(avg(&|r| r.resources.network_bytes_out as f64)),
            disk_io_bytes: whole(avg(&|r| r.resources.disk_io_bytes as f64)),
        },
    }
}
