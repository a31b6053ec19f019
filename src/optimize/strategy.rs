//! The seed's three strategies as rules: each reads a [`Diagnosis`] of one run and proposes
//! parameter changes; [`suggest`] clamps them into the safe bounds, resolves conflicts and
//! orders them.
//!
//! - **Throughput** (throughput below target): parallel verification on; larger batches when
//!   verification is CPU-bound; larger blocks when blocks are full or the mempool backs up;
//!   a shorter `block_interval` when blocks are not full and latency is over target.
//! - **Latency** (p99 latency or finality over target, or heights needing extra rounds):
//!   base timeouts raised to their safe floor when below it; `timeout_propose` reduced when
//!   heights need extra rounds or it sits far above its floor; prevote/precommit timeouts
//!   reduced when heights need extra rounds; a shorter `block_interval`; smaller blocks when
//!   moving and applying the block costs more than the vote hops. A timeout reduced for extra
//!   rounds ranks by the share of it above its floor (`1 - floor / current`, the time a failed
//!   round wastes): far above, it comes first; near its floor, `block_interval` overtakes it.
//! - **Resource** (CPU or memory over its limit): parallel verification on and larger batches
//!   for CPU; smaller blocks and batches for memory.
//!
//! Steps scale with aggressiveness `a`: reductions multiply by `1 - 0.5a`, increases by `1 + a`.

use super::bounds::{self, DelayEstimate};
use super::observations::Observations;
use super::parameter::{Parameter, ParameterValue};
use super::score::Shortfalls;
use crate::metrics::ConsensusMetrics;
use crate::params::{OptimizationParameters, PerformanceTargets};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Which of the seed's strategies made a suggestion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// More committed transactions per second.
    Throughput,
    /// Lower transaction latency and time to finality.
    Latency,
    /// CPU and memory within their limits.
    Resource,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strategy::Throughput => "throughput",
            Strategy::Latency => "latency",
            Strategy::Resource => "resource",
        })
    }
}

/// One proposed parameter change, with why, what it should do, and how sure the engine is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OptimizationSuggestion {
    /// The parameter to change.
    pub parameter: Parameter,
    /// Its value when the suggestion was made (a suggestion for another value is stale).
    pub current_value: ParameterValue,
    /// The value to set; always within the safe bounds.
    pub suggested_value: ParameterValue,
    /// What in the run called for it, with the numbers.
    pub reason: String,
    /// What the change should do.
    pub expected_effect: String,
    /// The strategy that made it.
    pub strategy: Strategy,
    /// How much it matters, 0.0–1.0: the rule's weight times the severity of the miss.
    pub priority: f64,
    /// How sure the engine is, 0.0–1.0: lower when it rests on inferred, not observed, facts.
    pub confidence: f64,
}

/// Heights needing more than one round matter above this fraction of heights.
pub const SLOW_ROUND_FRACTION: f64 = 0.05;
/// CPU use at or above this share of `max_cpu_usage` counts as CPU-bound verification.
pub const CPU_BOUND_SHARE: f64 = 0.75;
/// Blocks at least this full (bytes used over `block_size_limit`) count as full.
pub const FULL_BLOCK_RATIO: f64 = 0.9;
/// A `timeout_propose` above this many times its safe floor is "far above" the delays.
pub const FAR_ABOVE_FLOOR: u32 = 2;

/// The facts about one run the rules act on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Diagnosis {
    /// Misses against the targets.
    pub shortfalls: Shortfalls,
    /// Fraction of heights that needed extra rounds (0.0 when below [`SLOW_ROUND_FRACTION`]).
    pub slow_rounds: f64,
    /// Whether `slow_rounds` was observed rather than inferred from the metrics.
    pub slow_rounds_observed: bool,
    /// CPU at or above [`CPU_BOUND_SHARE`] of its limit.
    pub cpu_bound: bool,
    /// Blocks full, when the fill was observed.
    pub blocks_full: Option<bool>,
    /// Block fill ratio, when observed.
    pub fill: Option<f64>,
    /// More than a block's worth of transactions left waiting.
    pub backlog: bool,
    /// Moving and applying a block costs more than two vote hops.
    pub block_heavy: bool,
    /// Message delays, observed or estimated.
    pub delays: DelayEstimate,
    /// Whether the delays were observed rather than estimated from the metrics.
    pub delays_observed: bool,
}

impl Diagnosis {
    /// Read the run.
    pub fn new(
        parameters: &OptimizationParameters,
        targets: &PerformanceTargets,
        metrics: &ConsensusMetrics,
        observations: &Observations,
    ) -> Self {
        let delays = DelayEstimate::from_run(metrics, observations);
        let (slow, slow_rounds_observed) = extra_round_share(parameters, metrics, observations);
        let fill = observations.block_fill_ratio;
        let backlog = match (
            observations.mempool_backlog,
            observations.mean_txs_per_block,
        ) {
            (Some(waiting), Some(per_block)) => waiting as f64 > per_block.max(1.0),
            _ => false,
        };
        let block_cost = delays.proposal_processing() + metrics.commit_time;
        Diagnosis {
            shortfalls: Shortfalls::measure(metrics, targets),
            slow_rounds: if slow > SLOW_ROUND_FRACTION {
                slow
            } else {
                0.0
            },
            slow_rounds_observed,
            cpu_bound: metrics.resource_usage.cpu_percent
                >= CPU_BOUND_SHARE * targets.max_cpu_usage,
            blocks_full: fill.map(|f| f >= FULL_BLOCK_RATIO),
            fill,
            backlog,
            block_heavy: block_cost > delays.max_one_way * 2,
            delays,
            delays_observed: observations.max_message_delay.is_some()
                || observations.p99_message_delay.is_some(),
        }
    }

    /// Every target met and heights decide in one round: nothing to suggest.
    pub fn healthy(&self) -> bool {
        self.shortfalls.all_met() && self.slow_rounds == 0.0
    }
}

/// Fraction of heights that took extra rounds, and whether it was observed.
///
/// Without observations it is inferred from the time a height spent outside its deciding
/// round: `round_duration - proposal_time - voting_time - commit_time - block_interval`,
/// as a share of `round_duration`, counted only above a quarter (a conservative reading).
fn extra_round_share(
    parameters: &OptimizationParameters,
    metrics: &ConsensusMetrics,
    observations: &Observations,
) -> (f64, bool) {
    if let Some(fraction) = observations.multi_round_fraction {
        return (fraction, true);
    }
    if let Some(mean) = observations.rounds_per_height_mean {
        return ((mean - 1.0).clamp(0.0, 1.0), true);
    }
    let deciding = metrics.proposal_time
        + metrics.voting_time
        + metrics.commit_time
        + parameters.block_interval;
    let lost = metrics.round_duration.saturating_sub(deciding);
    let total = metrics.round_duration.as_secs_f64();
    let share = if total > 0.0 {
        lost.as_secs_f64() / total
    } else {
        0.0
    };
    (if share > 0.25 { share } else { 0.0 }, false)
}

/// Multipliers for one step, from aggressiveness.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Step {
    /// Reductions multiply by this: `1 - 0.5a`.
    pub shrink: f64,
    /// Increases multiply by this: `1 + a`.
    pub grow: f64,
}

impl Step {
    /// The step for aggressiveness `a` in 0.0–1.0.
    pub fn from_aggressiveness(a: f64) -> Self {
        Step {
            shrink: 1.0 - 0.5 * a,
            grow: 1.0 + a,
        }
    }
}

/// The suggestions for one run: every strategy's rules, clamped into the safe range, those
/// that change nothing dropped, one per parameter, sorted by priority then parameter order.
///
/// When two strategies change the same parameter in opposite directions, Resource beats
/// Latency beats Throughput (limits before speed); in the same direction, the higher
/// priority stays.
pub(crate) fn suggest(
    parameters: &OptimizationParameters,
    targets: &PerformanceTargets,
    metrics: &ConsensusMetrics,
    diagnosis: &Diagnosis,
    step: Step,
) -> Vec<OptimizationSuggestion> {
    if diagnosis.healthy() {
        return Vec::new();
    }
    let rules = Rules {
        parameters,
        targets,
        metrics,
        d: diagnosis,
        step,
    };
    let mut candidates = rules.resource();
    candidates.extend(rules.latency());
    candidates.extend(rules.throughput());

    let mut chosen: Vec<OptimizationSuggestion> = Vec::new();
    for mut candidate in candidates {
        let current = candidate.parameter.get(parameters);
        let safe = bounds::safe_range(candidate.parameter, &diagnosis.delays);
        candidate.suggested_value = safe.clamp(candidate.suggested_value);
        candidate.current_value = current;
        if candidate.suggested_value == current {
            continue;
        }
        let direction = candidate.suggested_value.partial_cmp(&current);
        match chosen
            .iter_mut()
            .find(|s| s.parameter == candidate.parameter)
        {
            Some(existing) => {
                let same_way = existing.suggested_value.partial_cmp(&current) == direction;
                if same_way && candidate.priority > existing.priority {
                    *existing = candidate;
                }
            }
            None => chosen.push(candidate),
        }
    }
    chosen.sort_by(|a, b| {
        b.priority
            .total_cmp(&a.priority)
            .then(a.parameter.cmp(&b.parameter))
    });
    chosen
}

/// The rules, with what they read.
struct Rules<'a> {
    parameters: &'a OptimizationParameters,
    targets: &'a PerformanceTargets,
    metrics: &'a ConsensusMetrics,
    d: &'a Diagnosis,
    step: Step,
}

impl Rules<'_> {
    fn throughput(&self) -> Vec<OptimizationSuggestion> {
        let miss = self.d.shortfalls.throughput;
        if miss <= 0.0 {
            return Vec::new();
        }
        let p = self.parameters;
        let tps = format!(
            "throughput {:.1} tx/s is below the target {:.1} tx/s",
            self.metrics.throughput, self.targets.target_throughput
        );
        let mut out = Vec::new();
        if !p.parallel_verification {
            out.push(self.make(
                Strategy::Throughput,
                Parameter::ParallelVerification,
                ParameterValue::Flag(true),
                0.9 * urgency(miss),
                0.7,
                format!("{tps} and transactions are verified on one core"),
                "verification spread over the cores: blocks verified sooner, more blocks per second",
            ));
        }
        if self.d.cpu_bound {
            out.push(self.make(
                Strategy::Throughput,
                Parameter::BatchSize,
                self.grown(Parameter::BatchSize),
                0.7 * urgency(miss),
                0.6,
                format!(
                    "{tps} with CPU at {:.1} % (CPU-bound verification)",
                    self.metrics.resource_usage.cpu_percent
                ),
                "larger batches amortise the per-batch verification overhead",
            ));
        }
        if self.d.blocks_full == Some(true) || self.d.backlog {
            out.push(self.make(
                Strategy::Throughput,
                Parameter::BlockSizeLimit,
                self.grown(Parameter::BlockSizeLimit),
                0.8 * urgency(miss),
                0.8,
                format!("{tps} while {}", self.fullness()),
                "more transactions per block: the waiting transactions commit sooner",
            ));
        }
        let slow = self.d.shortfalls.latency > 0.0 || self.d.shortfalls.finality > 0.0;
        if self.d.blocks_full != Some(true) && slow {
            out.push(self.make(
                Strategy::Throughput,
                Parameter::BlockInterval,
                self.shrunk(Parameter::BlockInterval),
                0.6 * urgency(miss),
                0.6,
                format!("{tps}, blocks are not full and {}", self.latency_text()),
                "blocks more often: transactions wait less for the next block",
            ));
        }
        out
    }

    fn latency(&self) -> Vec<OptimizationSuggestion> {
        let s = &self.d.shortfalls;
        let late = s.latency > 0.0 || s.finality > 0.0;
        let severity = s.latency.max(s.finality).max(self.d.slow_rounds);
        if severity <= 0.0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for parameter in [
            Parameter::TimeoutPropose,
            Parameter::TimeoutPrevote,
            Parameter::TimeoutPrecommit,
        ] {
            out.extend(self.timeout(parameter, severity));
        }
        if late {
            out.push(self.make(
                Strategy::Latency,
                Parameter::BlockInterval,
                self.shrunk(Parameter::BlockInterval),
                0.7 * urgency(severity),
                0.7,
                format!(
                    "{}; every height waits block_interval {} after its commit",
                    self.latency_text(),
                    Parameter::BlockInterval.get(self.parameters)
                ),
                "heights follow each other sooner: lower latency and finality",
            ));
        }
        if late && self.d.block_heavy {
            let smaller = self.shrunk(Parameter::BlockSizeLimit);
            let used = self
                .d
                .fill
                .map(|f| f * f64::from(self.parameters.block_size_limit));
            let binds = match (used, smaller.as_count()) {
                (Some(used), Some(limit)) => used > f64::from(limit),
                _ => true,
            };
            if binds {
                out.push(self.make(
                    Strategy::Latency,
                    Parameter::BlockSizeLimit,
                    smaller,
                    0.5 * urgency(severity),
                    if self.d.delays_observed { 0.7 } else { 0.5 },
                    format!(
                        "{}; moving and applying a block ({} processing + {} commit) costs more than two message delays ({})",
                        self.latency_text(),
                        secs(self.d.delays.proposal_processing()),
                        secs(self.metrics.commit_time),
                        secs(self.d.delays.max_one_way * 2)
                    ),
                    "smaller blocks propagate and verify faster",
                ));
            }
        }
        out
    }

    /// Raise a base timeout to its floor, or reduce it toward the floor when rounds fail
    /// (propose also when it sits far above its floor).
    fn timeout(&self, parameter: Parameter, severity: f64) -> Option<OptimizationSuggestion> {
        let current = parameter.get(self.parameters).as_duration()?;
        let floor = self.d.delays.timeout_floor(parameter)?;
        let basis = self.floor_text(parameter, floor);
        let observed = if self.d.delays_observed { 0.9 } else { 0.6 };
        if current < floor {
            return Some(self.make(
                Strategy::Latency,
                parameter,
                ParameterValue::Duration(floor),
                urgency(severity),
                observed,
                format!(
                    "{parameter} {} is below its safe floor {basis}: messages arriving after it make rounds fail",
                    secs(current)
                ),
                "rounds stop failing on messages that are late but not lost",
            ));
        }
        let slow = self.d.slow_rounds > 0.0;
        let far_above = current > floor * FAR_ABOVE_FLOOR;
        // A failed round waits the whole timeout; the part above the floor is the waste a
        // reduction can remove, so near its floor a timeout yields to other changes.
        let waste = slack_share(current, floor);
        let confidence = if self.d.slow_rounds_observed {
            0.8
        } else {
            0.5
        };
        if parameter == Parameter::TimeoutPropose && (slow || far_above) {
            let (weight, why) = if slow {
                (
                    0.9 * waste,
                    format!(
                        "{:.0} % of heights needed more than one round; each round with a silent or late proposer waits the whole timeout_propose {}, {:.1}× its safe floor {basis}",
                        self.d.slow_rounds * 100.0,
                        secs(current),
                        ratio(current, floor)
                    ),
                )
            } else {
                (
                    0.4,
                    format!(
                        "{}; timeout_propose {} is {:.1}× its safe floor {basis}",
                        self.latency_text(),
                        secs(current),
                        ratio(current, floor)
                    ),
                )
            };
            return Some(self.make(
                Strategy::Latency,
                parameter,
                self.shrunk(parameter),
                weight * urgency(severity),
                confidence,
                why,
                "a round with a silent proposer gives up sooner",
            ));
        }
        if parameter != Parameter::TimeoutPropose && slow && current > floor {
            return Some(self.make(
                Strategy::Latency,
                parameter,
                self.shrunk(parameter),
                0.6 * waste * urgency(severity),
                confidence,
                format!(
                    "{:.0} % of heights needed more than one round; {parameter} {} is {:.1}× its safe floor {basis}",
                    self.d.slow_rounds * 100.0,
                    secs(current),
                    ratio(current, floor)
                ),
                "a failed round moves on to the next round sooner",
            ));
        }
        None
    }

    fn resource(&self) -> Vec<OptimizationSuggestion> {
        let s = &self.d.shortfalls;
        let usage = &self.metrics.resource_usage;
        let mut out = Vec::new();
        if s.cpu > 0.0 {
            let cpu = format!(
                "CPU {:.1} % is over the {:.1} % limit",
                usage.cpu_percent, self.targets.max_cpu_usage
            );
            if !self.parameters.parallel_verification {
                out.push(self.make(
                    Strategy::Resource,
                    Parameter::ParallelVerification,
                    ParameterValue::Flag(true),
                    0.8 * urgency(s.cpu),
                    0.6,
                    format!("{cpu} and verification runs on one core"),
                    "verification load spread over the cores instead of saturating one",
                ));
            }
            if s.memory <= 0.0 {
                out.push(self.make(
                    Strategy::Resource,
                    Parameter::BatchSize,
                    self.grown(Parameter::BatchSize),
                    0.7 * urgency(s.cpu),
                    0.6,
                    cpu,
                    "larger batches amortise the per-batch verification overhead",
                ));
            }
        }
        if s.memory > 0.0 {
            let memory = format!(
                "memory {} MB is over the {} MB limit",
                usage.memory_mb, self.targets.max_memory_usage
            );
            out.push(self.make(
                Strategy::Resource,
                Parameter::BlockSizeLimit,
                self.shrunk(Parameter::BlockSizeLimit),
                0.8 * urgency(s.memory),
                0.6,
                memory.clone(),
                "smaller blocks: less held in memory while a block is built and verified",
            ));
            out.push(self.make(
                Strategy::Resource,
                Parameter::BatchSize,
                self.shrunk(Parameter::BatchSize),
                0.6 * urgency(s.memory),
                0.5,
                memory,
                "smaller verification batches: fewer transactions held at once",
            ));
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn make(
        &self,
        strategy: Strategy,
        parameter: Parameter,
        suggested_value: ParameterValue,
        priority: f64,
        confidence: f64,
        reason: String,
        expected_effect: &str,
    ) -> OptimizationSuggestion {
        OptimizationSuggestion {
            parameter,
            current_value: parameter.get(self.parameters),
            suggested_value,
            reason,
            expected_effect: expected_effect.to_string(),
            strategy,
            priority: priority.clamp(0.0, 1.0),
            confidence,
        }
    }

    fn grown(&self, parameter: Parameter) -> ParameterValue {
        let range = bounds::safe_range(parameter, &self.d.delays);
        bounds::scale(parameter.get(self.parameters), self.step.grow, &range)
    }

    fn shrunk(&self, parameter: Parameter) -> ParameterValue {
        let range = bounds::safe_range(parameter, &self.d.delays);
        bounds::scale(parameter.get(self.parameters), self.step.shrink, &range)
    }

    fn latency_text(&self) -> String {
        let s = &self.d.shortfalls;
        let mut parts = Vec::new();
        if s.latency > 0.0 {
            parts.push(format!(
                "latency p99 {} is over the {} target",
                secs(self.metrics.latency_percentiles.p99),
                secs(self.targets.max_latency)
            ));
        }
        if s.finality > 0.0 {
            parts.push(format!(
                "finality {} is over the {} target",
                secs(self.metrics.round_duration),
                secs(self.targets.target_finality_time)
            ));
        }
        if parts.is_empty() {
            parts.push(format!(
                "{:.0} % of heights needed more than one round",
                self.d.slow_rounds * 100.0
            ));
        }
        parts.join(" and ")
    }

    fn fullness(&self) -> String {
        match (self.d.fill, self.d.backlog) {
            (Some(f), true) => format!(
                "blocks are {:.0} % full and the mempool backs up",
                f * 100.0
            ),
            (Some(f), false) => format!("blocks are {:.0} % full", f * 100.0),
            (None, _) => "the mempool backs up".to_string(),
        }
    }

    fn floor_text(&self, parameter: Parameter, floor: Duration) -> String {
        let delay = secs(self.d.delays.max_one_way);
        let source = if self.d.delays_observed {
            "observed"
        } else {
            "estimated"
        };
        if floor == bounds::MIN_TIMEOUT {
            return format!("{} (the minimum; {source} max delay {delay})", secs(floor));
        }
        match parameter {
            Parameter::TimeoutPropose => format!(
                "{} (3 × {source} max delay {delay} + {} proposal processing)",
                secs(floor),
                secs(self.d.delays.proposal_processing())
            ),
            _ => format!("{} (2 × {source} max delay {delay})", secs(floor)),
        }
    }
}

/// Severity as a priority factor: at least 0.1 so small misses still rank, at most 1.
fn urgency(severity: f64) -> f64 {
    severity.clamp(0.1, 1.0)
}

/// The share of `current` above `floor`, 0.0–1.0: `1 - floor / current` (0 at or below it).
fn slack_share(current: Duration, floor: Duration) -> f64 {
    let c = current.as_secs_f64();
    if c > 0.0 {
        (1.0 - floor.as_secs_f64() / c).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// A measured duration for a reason text: `1.234s`.
fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn metrics(round: u64) -> ConsensusMetrics {
        ConsensusMetrics {
            round_duration: ms(round),
            proposal_time: ms(100),
            voting_time: ms(200),
            commit_time: ms(50),
            ..ConsensusMetrics::default()
        }
    }

    #[test]
    fn steps_scale_with_aggressiveness() {
        assert_eq!(
            Step::from_aggressiveness(0.5),
            Step {
                shrink: 0.75,
                grow: 1.5
            }
        );
        assert_eq!(Step::from_aggressiveness(1.0).shrink, 0.5);
        assert_eq!(Step::from_aggressiveness(0.0).grow, 1.0);
    }

    #[test]
    fn extra_rounds_are_inferred_from_time_outside_the_deciding_round() {
        let p = OptimizationParameters::default(); // block_interval 1 s
        let none = Observations::default();
        // 1.35 s deciding round + interval; 0.15 s of 1.5 s is noise.
        assert_eq!(extra_round_share(&p, &metrics(1500), &none), (0.0, false));
        // 4 s: 2.65 s lost of 4 s.
        let (share, observed) = extra_round_share(&p, &metrics(4000), &none);
        assert!((share - 0.6625).abs() < 1e-9 && !observed);
        // Observations win over inference.
        let seen = Observations {
            rounds_per_height_mean: Some(1.2),
            ..Observations::default()
        };
        let (share, observed) = extra_round_share(&p, &metrics(4000), &seen);
        assert!((share - 0.2).abs() < 1e-9 && observed);
    }

    #[test]
    fn diagnosis_reads_fill_backlog_and_cpu() {
        let p = OptimizationParameters::default();
        let t = PerformanceTargets::default();
        let mut m = metrics(1500);
        m.resource_usage.cpu_percent = 60.0; // exactly 0.75 × 80
        let obs = Observations {
            block_fill_ratio: Some(0.9),
            mempool_backlog: Some(1001),
            mean_txs_per_block: Some(1000.0),
            max_message_delay: Some(ms(100)),
            ..Observations::default()
        };
        let d = Diagnosis::new(&p, &t, &m, &obs);
        assert!(d.cpu_bound && d.backlog && d.delays_observed);
        assert_eq!(d.blocks_full, Some(true));
        assert!(!d.block_heavy); // 50 ms commit < 2 × 100 ms
        let d = Diagnosis::new(&p, &t, &m, &Observations::default());
        assert_eq!(d.blocks_full, None);
        assert!(!d.backlog && !d.delays_observed);
    }
}
