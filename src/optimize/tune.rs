//! The tune loop: run a scenario on several seeds, let the [`OptimizationEngine`] suggest
//! changes, try the most important one on the same seeds, keep it when the score improves and
//! roll it back otherwise; repeat for a number of iterations.
//!
//! - **Seeds.** Every run uses the seeds `scenario.seed .. scenario.seed + K - 1`, in parallel
//!   (rayon), collected by index: the same input gives the same steps on any thread count.
//! - **Score.** With `targets`, [`score`](super::score()) of the metrics averaged over the seeds
//!   (lower is better, 0 when every target is met). Without targets the objective is the mean
//!   block interval (commit to commit, averaged over seeds): lower is better, and a change that
//!   costs more than 2 % of throughput ([`THROUGHPUT_FLOOR`]) is rolled back. The engine then
//!   aims at targets derived from the first run ([`derived_targets`]).
//! - **Keep or roll back.** A change is kept when safety held on every seed and the score
//!   dropped, or stayed equal while the mean block interval dropped. Each iteration tries the
//!   suggestions of one analysis in priority order and keeps the first that improves; an
//!   iteration where none does ends the loop.
//! - **Observations** ([`observe`]) come from the reports and the scenario: the one-way message
//!   delay from the latency distribution and the topology's diameter, proposal arrival, rounds
//!   per height, block fill and mempool backlog.

use super::{
    DEFAULT_AGGRESSIVENESS, Observations, OptimizationEngine, OptimizationSuggestion,
    OptimizeError, Parameter, ParameterValue, PerformanceTargets, Strategy, score,
};
use crate::bench;
use crate::config::{LatencySpec, RegionsSpec, Scenario, Topology};
use crate::metrics::ConsensusMetrics;
use crate::report::RunReport;
use crate::sim::{PROPOSAL_OVERHEAD_BYTES, Stream, rng};
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::Serialize;
use std::time::Duration;

/// Iterations when none are given.
pub const DEFAULT_ITERATIONS: u32 = 5;
/// Without targets, a change must keep at least this share of the throughput before it.
pub const THROUGHPUT_FLOOR: f64 = 0.98;
/// Scores closer than this count as equal (float noise of averaging).
pub const SCORE_EPSILON: f64 = 1e-9;
/// Standard normal quantile of 0.99: the p99 of a normal latency is `mean + Z99 × stddev`.
const Z99: f64 = 2.326_348;

/// How to tune: iterations, seeds, step size, worker threads, progress bar.
#[derive(Clone, Debug, PartialEq)]
pub struct TuneOptions {
    /// Most changes kept (each iteration keeps at most one); at least 1.
    pub iterations: u32,
    /// Seeds every run is repeated on; at least 1.
    pub seeds: u32,
    /// Step size of the engine's suggestions, 0.0–1.0.
    pub aggressiveness: f64,
    /// Worker threads (`None`: `RAYON_NUM_THREADS` or every core).
    pub jobs: Option<usize>,
    /// Show a progress bar on stderr (only on a terminal and when `CI` is not `true`).
    pub progress: bool,
}

impl Default for TuneOptions {
    fn default() -> Self {
        TuneOptions {
            iterations: DEFAULT_ITERATIONS,
            seeds: bench::DEFAULT_SEEDS,
            aggressiveness: DEFAULT_AGGRESSIVENESS,
            jobs: None,
            progress: false,
        }
    }
}

/// What the loop minimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// The scenario's targets: the sum of normalised shortfalls (0 when all are met).
    Targets,
    /// No targets: the mean block interval in seconds, throughput kept within 2 %.
    BlockInterval,
}

/// The numbers of one set of runs (one per seed), averaged over the seeds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measurement {
    /// The objective's score; lower is better.
    pub score: f64,
    /// Mean block interval (commit to commit), seconds.
    pub block_interval_s: f64,
    /// Mean height time (height start to commit), seconds.
    pub round_duration_s: f64,
    /// Committed transactions per second.
    pub throughput_tps: f64,
    /// 99th percentile transaction latency, seconds.
    pub latency_p99_s: f64,
    /// Mean rounds per height.
    pub rounds_per_height: f64,
    /// Seeds on which agreement and validity held.
    pub safety_held: usize,
    /// Seeds run.
    pub seeds: usize,
}

impl Measurement {
    /// Whether safety held on every seed.
    pub fn safe(&self) -> bool {
        self.safety_held == self.seeds
    }
}

/// One suggestion tried: what changed, why, what the runs measured and whether it was kept.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TuneStep {
    /// 1-based iteration.
    pub iteration: u32,
    /// The parameter changed.
    pub parameter: Parameter,
    /// Its value before.
    pub from: ParameterValue,
    /// The value tried.
    pub to: ParameterValue,
    /// The strategy that suggested it.
    pub strategy: Strategy,
    /// Why the engine suggested it.
    pub reason: String,
    /// The runs before the change.
    pub before: Measurement,
    /// The runs with the change (`None` when it could not be run).
    pub after: Option<Measurement>,
    /// Whether the change was kept (otherwise it was rolled back).
    pub kept: bool,
    /// Why it was kept or rolled back, with the numbers.
    pub verdict: String,
}

/// Why the loop stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every iteration kept a change.
    IterationLimit,
    /// An iteration tried every suggestion and none improved the score.
    NoImprovement,
    /// The engine had nothing to suggest: every target met and heights decide in one round,
    /// or every suggested step is already at its bound (or aggressiveness is 0).
    NothingToSuggest,
}

/// What tuning found: the tuned scenario, every step tried, and the runs before and after.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TuneOutcome {
    /// The scenario with the tuned parameters (everything else unchanged).
    pub scenario: Scenario,
    /// The seeds every run used, in order.
    pub seeds: Vec<u64>,
    /// What was minimised.
    pub objective: Objective,
    /// The targets the engine aimed at: the scenario's, or [`derived_targets`].
    pub targets: PerformanceTargets,
    /// Iterations run (the last may have kept nothing).
    pub iterations: u32,
    /// Why the loop stopped.
    pub stop: StopReason,
    /// The runs with the scenario's own parameters.
    pub baseline: Measurement,
    /// The runs with the tuned parameters.
    pub tuned: Measurement,
    /// Every suggestion tried, in order.
    pub steps: Vec<TuneStep>,
}

impl TuneOutcome {
    /// The steps that were kept, in order.
    pub fn kept(&self) -> impl Iterator<Item = &TuneStep> {
        self.steps.iter().filter(|s| s.kept)
    }

    /// Relative drop of the mean block interval, baseline to tuned (0.3 is 30 % shorter).
    pub fn block_interval_reduction(&self) -> f64 {
        let before = self.baseline.block_interval_s;
        if before > 0.0 {
            (before - self.tuned.block_interval_s) / before
        } else {
            0.0
        }
    }
}

/// Why tuning could not run; nothing is tuned when it is returned.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TuneError {
    /// `iterations` was 0: there would be nothing to do.
    #[error("iterations must be at least 1")]
    NoIterations,
    /// `seeds` was 0: there would be nothing to average.
    #[error("seeds must be at least 1")]
    NoSeeds,
    /// The worker pool could not start (e.g. `jobs` 0).
    #[error("{0}")]
    Pool(String),
    /// A run of the scenario as given failed.
    #[error("{scenario} with seed {seed}: {message}")]
    Run {
        /// Scenario name.
        scenario: String,
        /// Seed of the failed run.
        seed: u64,
        /// The runner's error.
        message: String,
    },
    /// The engine refused an input (aggressiveness outside 0.0–1.0, a metric out of range).
    #[error("{0}")]
    Optimize(#[from] OptimizeError),
}

impl TuneOptions {
    /// Refuse options that cannot tune anything.
    pub fn validate(&self) -> Result<(), TuneError> {
        if self.iterations == 0 {
            return Err(TuneError::NoIterations);
        }
        if self.seeds == 0 {
            return Err(TuneError::NoSeeds);
        }
        if !(0.0..=1.0).contains(&self.aggressiveness) {
            return Err(OptimizeError::AggressivenessOutOfRange(self.aggressiveness).into());
        }
        Ok(())
    }
}

/// Tune `scenario`'s parameters with simulations run by `runner` (see the module docs):
/// [`bench::simulate`] runs the simulator; tests inject a fake (any `Fn(&Scenario, seed)`,
/// including a [`Runner`](crate::bench::Runner)).
pub fn tune<R>(
    scenario: &Scenario,
    options: &TuneOptions,
    runner: &R,
) -> Result<TuneOutcome, TuneError>
where
    R: Fn(&Scenario, u64) -> Result<RunReport, String> + Sync + ?Sized,
{
    options.validate()?;
    let seeds: Vec<u64> = (0..u64::from(options.seeds))
        .map(|i| scenario.seed.wrapping_add(i))
        .collect();
    let trials = Trials {
        pool: bench::thread_pool(options.jobs).map_err(TuneError::Pool)?,
        bar: bench::progress_bar(0, options.progress),
        seeds: &seeds,
        runner,
    };
    trials.bar.set_prefix("tune: baseline");
    let reports = trials
        .run(scenario)
        .map_err(|(seed, message)| TuneError::Run {
            scenario: scenario.name.clone(),
            seed,
            message,
        })?;
    let first_metrics = bench::average_metrics(&reports);
    let (objective, targets) = match &scenario.targets {
        Some(t) => (Objective::Targets, t.clone()),
        None => (Objective::BlockInterval, derived_targets(&first_metrics)),
    };
    let judge = Judge {
        objective,
        targets: &targets,
    };
    let mut engine = OptimizationEngine::new(scenario.parameters.clone(), targets.clone())
        .with_aggressiveness(options.aggressiveness)?;
    let mut current = judge.read(scenario, &reports);
    let baseline = current.measurement.clone();
    let mut steps = Vec::new();
    let mut stop = StopReason::IterationLimit;
    let mut iterations = 0;

    for iteration in 1..=options.iterations {
        iterations = iteration;
        trials.bar.set_prefix(format!(
            "tune: iteration {iteration}/{}",
            options.iterations
        ));
        let suggestions = engine.analyze_with(&current.metrics, &current.observations)?;
        if suggestions.is_empty() {
            stop = StopReason::NothingToSuggest;
            break;
        }
        let mut improved = false;
        for suggestion in &suggestions {
            let step = Step {
                iteration,
                suggestion,
                before: &current.measurement,
            };
            if let Err(e) = engine.apply_optimization(suggestion, current.metrics.clone()) {
                steps.push(step.record(None, false, format!("refused: {e}")));
                continue;
            }
            let mut candidate = scenario.clone();
            candidate.parameters = engine.parameters().clone();
            let next = match trials.run(&candidate) {
                Ok(reports) => judge.read(&candidate, &reports),
                Err((seed, message)) => {
                    engine.rollback()?;
                    let verdict = format!("run with seed {seed} failed: {message}");
                    steps.push(step.record(None, false, verdict));
                    continue;
                }
            };
            engine.record_outcome(next.metrics.clone())?;
            match judge.verdict(&current.measurement, &next.measurement) {
                Ok(verdict) => {
                    steps.push(step.record(Some(next.measurement.clone()), true, verdict));
                    current = next;
                    improved = true;
                    break;
                }
                Err(verdict) => {
                    engine.rollback()?;
                    steps.push(step.record(Some(next.measurement), false, verdict));
                }
            }
        }
        if !improved {
            stop = StopReason::NoImprovement;
            break;
        }
    }
    trials.bar.finish_and_clear();

    let mut tuned = scenario.clone();
    tuned.parameters = engine.parameters().clone();
    Ok(TuneOutcome {
        scenario: tuned,
        seeds,
        objective,
        targets,
        iterations,
        stop,
        baseline,
        tuned: current.measurement,
        steps,
    })
}

/// Targets for a scenario without any: throughput at least [`THROUGHPUT_FLOOR`] of the first
/// run's, latency and finality as low as they go (limits of zero, always missed, so the latency
/// strategy keeps shortening), CPU and memory within the defaults or the first run's use.
pub fn derived_targets(first: &ConsensusMetrics) -> PerformanceTargets {
    let defaults = PerformanceTargets::default();
    PerformanceTargets {
        target_throughput: THROUGHPUT_FLOOR * first.throughput,
        max_latency: Duration::ZERO,
        target_finality_time: Duration::ZERO,
        max_cpu_usage: defaults.max_cpu_usage.max(first.resource_usage.cpu_percent),
        max_memory_usage: defaults
            .max_memory_usage
            .max(first.resource_usage.memory_mb),
    }
}

/// What the engine is told about runs beyond their metrics, derived from the reports (one per
/// seed) and the scenario:
///
/// - message delay: per hop, the latency distribution's maximum (constant, uniform) or 99th
///   percentile (normal `mean + 2.326σ`, lognormal, exponential `mean × ln 100`), times the
///   topology's diameter in hops (the largest over the seeds' graphs), plus the serialisation
///   of the mean block for the `n - 1` copies a broadcast queues on the sender's uplink and each
///   further hop, plus the gossip resends the 99th percentile message needs on a lossy path.
///   It is `max_message_delay` when the links are bounded and lossless, else
///   `p99_message_delay` only. Partitions are faults, not delays, and are left out.
/// - proposal arrival: the largest `proposal_time` of heights decided in round 0, over seeds.
/// - rounds per height and the share of heights needing more than one round: means over seeds.
/// - transactions per block and block fill (`txs × tx_size / block_size_limit`): means.
/// - mempool backlog: the mean of transactions dropped by a full mempool, when any were.
pub fn observe(scenario: &Scenario, reports: &[RunReport]) -> Observations {
    let with_heights: Vec<&RunReport> = reports.iter().filter(|r| !r.heights.is_empty()).collect();
    let over_heights = |f: &dyn Fn(&RunReport) -> f64| -> Option<f64> {
        (!with_heights.is_empty())
            .then(|| bench::stats::mean(&with_heights.iter().map(|r| f(r)).collect::<Vec<_>>()))
    };
    let mean_txs = over_heights(&|r| {
        bench::stats::mean(
            &r.heights
                .iter()
                .map(|h| f64::from(h.txs))
                .collect::<Vec<_>>(),
        )
    });
    let multi_round = over_heights(&|r| {
        r.heights.iter().filter(|h| h.round > 0).count() as f64 / r.heights.len() as f64
    });
    let rounds = over_heights(&|r| r.rounds.mean);
    let limit = f64::from(scenario.parameters.block_size_limit.max(1));
    let fill = mean_txs.map(|txs| (txs * f64::from(scenario.load.tx_size) / limit).clamp(0.0, 1.0));
    let proposal_arrival = reports
        .iter()
        .flat_map(|r| r.heights.iter())
        .filter(|h| h.round == 0)
        .map(|h| h.proposal_time_s)
        .fold(None, |worst: Option<f64>, t| {
            Some(worst.map_or(t, |w| w.max(t)))
        })
        .and_then(|t| Duration::try_from_secs_f64(t).ok());
    let dropped: Vec<f64> = reports
        .iter()
        .map(|r| r.transactions_dropped as f64)
        .collect();
    let backlog = dropped
        .iter()
        .any(|&d| d > 0.0)
        .then(|| bench::stats::mean(&dropped).round() as u64);
    let mut seeds: Vec<u64> = reports.iter().map(|r| r.seed).collect();
    if seeds.is_empty() {
        seeds.push(scenario.seed);
    }
    let delay = message_delay(scenario, &seeds, mean_txs.unwrap_or(0.0));
    Observations {
        max_message_delay: delay.bounded.then_some(delay.delay),
        p99_message_delay: Some(delay.delay),
        proposal_arrival,
        rounds_per_height_mean: rounds,
        multi_round_fraction: multi_round.map(|f| f.clamp(0.0, 1.0)),
        mean_txs_per_block: mean_txs,
        block_fill_ratio: fill,
        mempool_backlog: backlog,
    }
}

/// The one-way delay between the two farthest validators (see [`observe`]).
struct MessageDelay {
    delay: Duration,
    /// True when no message can take longer (bounded latency, no loss).
    bounded: bool,
}

fn message_delay(scenario: &Scenario, seeds: &[u64], mean_txs: f64) -> MessageDelay {
    let net = &scenario.network;
    let n = scenario.validators.count as usize;
    let (per_hop, bounded_hop) = match &net.regions {
        Some(regions) => region_hop_delay(regions, net.region_jitter),
        None => hop_delay(&net.latency),
    };
    let block_bytes =
        f64::from(PROPOSAL_OVERHEAD_BYTES) + mean_txs * f64::from(scenario.load.tx_size);
    let serialisation = match net.bandwidth_mbps {
        Some(mbps) if mbps > 0.0 => block_bytes * 8.0 / (mbps * 1e6),
        _ => 0.0,
    };
    let hops = seeds
        .iter()
        .map(|&seed| diameter(scenario, seed))
        .max()
        .unwrap_or(1)
        .max(1);
    let copies = (n.saturating_sub(1) + hops as usize - 1) as f64;
    let path_loss = 1.0 - (1.0 - net.loss).powi(hops as i32);
    let resends = resends_at_p99(path_loss);
    let seconds = per_hop.as_secs_f64() * f64::from(hops)
        + serialisation * copies
        + net.gossip_interval.as_secs_f64() * f64::from(resends);
    MessageDelay {
        delay: Duration::try_from_secs_f64(seconds).unwrap_or(super::bounds::MAX_DURATION),
        bounded: bounded_hop && net.loss == 0.0,
    }
}

/// The 99th percentile of a hop between the two farthest regions (the maximum without
/// jitter), and whether it is a maximum.
fn region_hop_delay(regions: &RegionsSpec, jitter: Option<f64>) -> (Duration, bool) {
    let jitter = jitter.unwrap_or(crate::net::regions::DEFAULT_JITTER);
    let farthest = crate::net::regions::farthest_one_way(regions).unwrap_or_default();
    (farthest.mul_f64(1.0 + Z99 * jitter), jitter == 0.0)
}

/// One hop's maximum (bounded distributions) or 99th percentile, and whether it is a maximum.
fn hop_delay(latency: &LatencySpec) -> (Duration, bool) {
    let secs = |x: f64| Duration::try_from_secs_f64(x.max(0.0)).unwrap_or_default();
    match *latency {
        LatencySpec::Constant { mean } => (mean, true),
        LatencySpec::Uniform { max, .. } => (max, true),
        LatencySpec::Normal { mean, stddev } => {
            (secs(mean.as_secs_f64() + Z99 * stddev.as_secs_f64()), false)
        }
        LatencySpec::Lognormal { mean, stddev } => {
            let (m, s) = (mean.as_secs_f64(), stddev.as_secs_f64());
            if m <= 0.0 {
                return (Duration::ZERO, true);
            }
            // Pure-Rust maths, so a tune loop suggests the same values on every platform.
            let sigma2 = libm::log(1.0 + (s * s) / (m * m));
            let mu = libm::log(m) - sigma2 / 2.0;
            (secs(libm::exp(mu + Z99 * libm::sqrt(sigma2))), s == 0.0)
        }
        LatencySpec::Exponential { mean } => (mean.mul_f64(libm::log(100.0)), mean.is_zero()),
    }
}

/// The most hops between two validators (a full mesh: 1) on the graph of `seed` (random graphs differ by
/// seed); `n - 1`, the longest possible path, when the graph cannot be built.
fn diameter(scenario: &Scenario, seed: u64) -> u16 {
    let n = scenario.validators.count as usize;
    if scenario.network.topology == Topology::FullMesh {
        return 1;
    }
    let worst = u16::try_from(n.saturating_sub(1)).unwrap_or(u16::MAX);
    let Ok(n16) = u16::try_from(n) else {
        return worst;
    };
    match crate::net::Network::new(
        &scenario.network,
        n,
        &mut rng::stream(seed, Stream::Topology),
    ) {
        Ok(net) => (0..n16)
            .flat_map(|a| (a + 1..n16).map(move |b| (a, b)))
            .filter_map(|(a, b)| net.hops(a, b))
            .max()
            .unwrap_or(1),
        Err(_) => worst,
    }
}

/// Gossip resends of the 99th percentile message when a path loses `loss` of transmissions:
/// the fewest `r` with `loss^(r + 1) <= 1 %` (at most 1000).
fn resends_at_p99(loss: f64) -> u32 {
    if loss.is_nan() || loss <= 0.0 {
        return 0;
    }
    let mut resends = 0;
    let mut tail = loss;
    while tail > 0.01 && resends < 1000 {
        tail *= loss;
        resends += 1;
    }
    resends
}

/// The seeds of every run, the pool they run in and the progress bar.
struct Trials<'a, R: ?Sized> {
    pool: rayon::ThreadPool,
    bar: ProgressBar,
    seeds: &'a [u64],
    runner: &'a R,
}

impl<R> Trials<'_, R>
where
    R: Fn(&Scenario, u64) -> Result<RunReport, String> + Sync + ?Sized,
{
    /// One report per seed, in seed order; the first failure as `(seed, message)`.
    fn run(&self, scenario: &Scenario) -> Result<Vec<RunReport>, (u64, String)> {
        self.bar.inc_length(self.seeds.len() as u64);
        let outcomes: Vec<Result<RunReport, String>> = self.pool.install(|| {
            self.seeds
                .par_iter()
                .map(|&seed| {
                    let outcome = (self.runner)(scenario, seed);
                    self.bar.inc(1);
                    outcome
                })
                .collect()
        });
        outcomes
            .into_iter()
            .zip(self.seeds)
            .map(|(outcome, &seed)| outcome.map_err(|message| (seed, message)))
            .collect()
    }
}

/// One set of runs as the loop reads it.
struct Reading {
    metrics: ConsensusMetrics,
    observations: Observations,
    measurement: Measurement,
}

/// Scores runs and decides whether a change is kept.
struct Judge<'a> {
    objective: Objective,
    targets: &'a PerformanceTargets,
}

impl Judge<'_> {
    fn read(&self, scenario: &Scenario, reports: &[RunReport]) -> Reading {
        let metrics = bench::average_metrics(reports);
        let avg = |f: fn(&RunReport) -> f64| {
            bench::stats::mean(&reports.iter().map(f).collect::<Vec<_>>())
        };
        let block_interval_s = avg(|r| r.block_interval_s.mean);
        let score = match self.objective {
            Objective::Targets => score(&metrics, self.targets),
            Objective::BlockInterval => block_interval_s,
        };
        let measurement = Measurement {
            score,
            block_interval_s,
            round_duration_s: avg(|r| r.round_duration_s.mean),
            throughput_tps: avg(|r| r.throughput_tps),
            latency_p99_s: avg(|r| r.latency_s.p99),
            rounds_per_height: avg(|r| r.rounds.mean),
            safety_held: reports.iter().filter(|r| r.safety.held()).count(),
            seeds: reports.len(),
        };
        Reading {
            observations: observe(scenario, reports),
            metrics,
            measurement,
        }
    }

    /// `Ok(why)` to keep the change that led from `before` to `after`, `Err(why)` to roll it
    /// back.
    fn verdict(&self, before: &Measurement, after: &Measurement) -> Result<String, String> {
        if !after.safe() {
            return Err(format!(
                "safety violated on {} of {} seeds",
                after.seeds - after.safety_held,
                after.seeds
            ));
        }
        if self.objective == Objective::BlockInterval
            && after.throughput_tps < THROUGHPUT_FLOOR * before.throughput_tps
        {
            return Err(format!(
                "throughput {:.1} tx/s is below 98 % of {:.1} tx/s",
                after.throughput_tps, before.throughput_tps
            ));
        }
        let (b, a) = (before.score, after.score);
        if a < b - SCORE_EPSILON {
            Ok(format!("score {b:.3} -> {a:.3}"))
        } else if (a - b).abs() <= SCORE_EPSILON && after.block_interval_s < before.block_interval_s
        {
            Ok(format!(
                "score {a:.3} unchanged, block interval {:.3}s -> {:.3}s",
                before.block_interval_s, after.block_interval_s
            ))
        } else {
            Err(format!("score {b:.3} -> {a:.3}: no improvement"))
        }
    }
}

/// A suggestion being tried, for its [`TuneStep`].
struct Step<'a> {
    iteration: u32,
    suggestion: &'a OptimizationSuggestion,
    before: &'a Measurement,
}

impl Step<'_> {
    fn record(&self, after: Option<Measurement>, kept: bool, verdict: String) -> TuneStep {
        TuneStep {
            iteration: self.iteration,
            parameter: self.suggestion.parameter,
            from: self.suggestion.current_value,
            to: self.suggestion.suggested_value,
            strategy: self.suggestion.strategy,
            reason: self.suggestion.reason.clone(),
            before: self.before.clone(),
            after,
            kept,
            verdict,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resends_cover_the_99th_percentile_of_losses() {
        assert_eq!(resends_at_p99(0.0), 0);
        assert_eq!(resends_at_p99(0.01), 0);
        assert_eq!(resends_at_p99(0.05), 1); // 0.05² = 0.0025
        assert_eq!(resends_at_p99(0.5), 6); // 0.5⁷ < 0.01 < 0.5⁶
    }

    #[test]
    fn hop_delay_is_the_maximum_or_the_99th_percentile() {
        let ms = Duration::from_millis;
        assert_eq!(
            hop_delay(&LatencySpec::Constant { mean: ms(50) }),
            (ms(50), true)
        );
        assert_eq!(
            hop_delay(&LatencySpec::Uniform {
                min: ms(10),
                max: ms(90)
            }),
            (ms(90), true)
        );
        let (normal, bounded) = hop_delay(&LatencySpec::Normal {
            mean: ms(50),
            stddev: ms(10),
        });
        assert!(!bounded);
        assert!(
            (normal.as_secs_f64() - 0.073_263).abs() < 1e-6,
            "{normal:?}"
        );
        let (exp, _) = hop_delay(&LatencySpec::Exponential { mean: ms(100) });
        assert!((exp.as_secs_f64() - 0.460_517).abs() < 1e-6, "{exp:?}");
        // Lognormal with stddev 0 is the constant mean.
        let (ln, _) = hop_delay(&LatencySpec::Lognormal {
            mean: ms(40),
            stddev: ms(0),
        });
        assert!((ln.as_secs_f64() - 0.04).abs() < 1e-9, "{ln:?}");
    }
}
