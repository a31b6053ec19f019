//! Where parameters may go: the valid range any parameter set may hold, and the safe range the
//! engine keeps its suggestions in, whose timeout floors sit a margin above the observed delays.
//!
//! A Tendermint round can only succeed when its timeouts outlast the messages they wait for:
//! the proposal needs one hop plus the proposer's work, and a vote step needs every validator's
//! vote to cross the network. So the floors are
//!
//! - `timeout_propose >= 3 × max one-way delay + proposal processing`
//!   (processing = observed proposal arrival minus one delay: building and sending the block),
//! - `timeout_prevote, timeout_precommit >= 2 × max one-way delay`,
//! - and every base timeout `>= 50 ms` ([`MIN_TIMEOUT`]), whatever the network.

use super::Observations;
use super::parameter::{Parameter, ParameterValue};
use crate::metrics::ConsensusMetrics;
use crate::params::OptimizationParameters;
use std::time::Duration;

/// Absolute floor of the base propose, prevote and precommit timeouts in suggestions.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(50);
/// `timeout_propose` must cover this many maximal one-way delays, plus proposal processing.
pub const PROPOSE_DELAY_FACTOR: u32 = 3;
/// `timeout_prevote` and `timeout_precommit` must cover this many maximal one-way delays.
pub const VOTE_DELAY_FACTOR: u32 = 2;
/// Smallest block size limit: the block header plus 1 KiB of transactions (a scenario's
/// limit must hold a transaction beside the header).
pub const MIN_BLOCK_SIZE: u32 = crate::workload::BLOCK_OVERHEAD_BYTES + 1024;
/// Largest block size limit: 100 MiB, CometBFT's `MaxBlockSizeBytes`.
pub const MAX_BLOCK_SIZE: u32 = 104_857_600;
/// Smallest verification batch.
pub const MIN_BATCH_SIZE: u32 = 1;
/// Largest verification batch.
pub const MAX_BATCH_SIZE: u32 = 10_000;
/// Longest duration any parameter may hold: one hour.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// An inclusive range of values of one kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// Smallest value in the range.
    pub min: ParameterValue,
    /// Largest value in the range.
    pub max: ParameterValue,
}

impl Range {
    /// Whether `value` is of the range's kind and between `min` and `max`.
    pub fn contains(&self, value: ParameterValue) -> bool {
        value >= self.min && value <= self.max
    }

    /// `value` moved into the range; a value of another kind is returned unchanged.
    pub fn clamp(&self, value: ParameterValue) -> ParameterValue {
        if value < self.min {
            self.min
        } else if value > self.max {
            self.max
        } else {
            value
        }
    }
}

/// The message delays a run showed: the basis of the timeout floors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DelayEstimate {
    /// Largest one-way message delay.
    pub max_one_way: Duration,
    /// Round start to proposal arrival (includes one delay and the proposer's work).
    pub proposal_arrival: Duration,
}

impl DelayEstimate {
    /// The delays from observations, falling back on what the metrics imply.
    ///
    /// Without an observed delay the estimate is conservative (too large, never too small):
    /// the larger of the proposal time and half the voting time (two vote hops), both of which
    /// include processing on top of the pure network delay.
    pub fn from_run(metrics: &ConsensusMetrics, observations: &Observations) -> Self {
        let implied = metrics.proposal_time.max(metrics.voting_time / 2);
        let max_one_way = observations
            .max_message_delay
            .or(observations.p99_message_delay)
            .unwrap_or(implied);
        let proposal_arrival = observations
            .proposal_arrival
            .unwrap_or(metrics.proposal_time)
            .max(max_one_way);
        DelayEstimate {
            max_one_way,
            proposal_arrival,
        }
    }

    /// Time a proposal takes beyond its network hop: building, serialising, verifying.
    pub fn proposal_processing(&self) -> Duration {
        self.proposal_arrival.saturating_sub(self.max_one_way)
    }

    /// The smallest safe value of a base timeout; `None` for other parameters.
    pub fn timeout_floor(&self, parameter: Parameter) -> Option<Duration> {
        let floor = match parameter {
            Parameter::TimeoutPropose => {
                self.max_one_way.saturating_mul(PROPOSE_DELAY_FACTOR) + self.proposal_processing()
            }
            Parameter::TimeoutPrevote | Parameter::TimeoutPrecommit => {
                self.max_one_way.saturating_mul(VOTE_DELAY_FACTOR)
            }
            _ => return None,
        };
        Some(floor.max(MIN_TIMEOUT).min(MAX_DURATION))
    }
}

/// The range any parameter set may hold; [`Parameter::apply`] refuses values outside it.
pub fn valid_range(parameter: Parameter) -> Range {
    use ParameterValue::{Count, Duration as D, Flag};
    match parameter {
        Parameter::BlockSizeLimit => Range {
            min: Count(MIN_BLOCK_SIZE),
            max: Count(MAX_BLOCK_SIZE),
        },
        Parameter::BatchSize => Range {
            min: Count(MIN_BATCH_SIZE),
            max: Count(MAX_BATCH_SIZE),
        },
        Parameter::ParallelVerification => Range {
            min: Flag(false),
            max: Flag(true),
        },
        _ => Range {
            min: D(Duration::ZERO),
            max: D(MAX_DURATION),
        },
    }
}

/// The range the engine's suggestions stay in: the valid range with the timeout floors of
/// `delays` (and [`MIN_TIMEOUT`]) as the minimum of the base timeouts.
pub fn safe_range(parameter: Parameter, delays: &DelayEstimate) -> Range {
    let mut range = valid_range(parameter);
    if let Some(floor) = delays.timeout_floor(parameter) {
        range.min = ParameterValue::Duration(floor);
    }
    range
}

/// Whether every parameter of `parameters` is in its safe range for `delays`.
pub fn is_safe(parameters: &OptimizationParameters, delays: &DelayEstimate) -> bool {
    Parameter::ALL
        .into_iter()
        .all(|p| safe_range(p, delays).contains(p.get(parameters)))
}

/// `value` scaled by `factor` and moved into `range`: durations rounded to whole milliseconds,
/// counts rounded up when growing and down when shrinking; flags unchanged.
pub(crate) fn scale(value: ParameterValue, factor: f64, range: &Range) -> ParameterValue {
    let scaled = match value {
        ParameterValue::Duration(d) => {
            let ms = (d.as_secs_f64() * 1000.0 * factor).round();
            let capped = ms.clamp(0.0, MAX_DURATION.as_millis() as f64);
            ParameterValue::Duration(Duration::from_millis(capped as u64))
        }
        ParameterValue::Count(n) => {
            let x = f64::from(n) * factor;
            let rounded = if factor >= 1.0 { x.ceil() } else { x.floor() };
            ParameterValue::Count(rounded.clamp(0.0, f64::from(u32::MAX)) as u32)
        }
        ParameterValue::Flag(_) => value,
    };
    range.clamp(scaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn propose_floor_is_three_delays_plus_processing() {
        let delays = DelayEstimate {
            max_one_way: ms(100),
            proposal_arrival: ms(250),
        };
        assert_eq!(delays.proposal_processing(), ms(150));
        assert_eq!(
            delays.timeout_floor(Parameter::TimeoutPropose),
            Some(ms(450))
        );
        assert_eq!(
            delays.timeout_floor(Parameter::TimeoutPrevote),
            Some(ms(200))
        );
        assert_eq!(
            delays.timeout_floor(Parameter::TimeoutPrecommit),
            Some(ms(200))
        );
        assert_eq!(delays.timeout_floor(Parameter::BlockInterval), None);
    }

    #[test]
    fn floors_never_go_below_fifty_milliseconds() {
        let lan = DelayEstimate {
            max_one_way: ms(1),
            proposal_arrival: ms(2),
        };
        assert_eq!(lan.timeout_floor(Parameter::TimeoutPropose), Some(ms(50)));
        assert_eq!(lan.timeout_floor(Parameter::TimeoutPrevote), Some(ms(50)));
    }

    #[test]
    fn estimate_prefers_observed_delays_and_falls_back_on_metrics() {
        let metrics = ConsensusMetrics {
            proposal_time: ms(300),
            voting_time: ms(800),
            ..ConsensusMetrics::default()
        };
        let none = DelayEstimate::from_run(&metrics, &Observations::default());
        assert_eq!(none.max_one_way, ms(400));
        assert_eq!(none.proposal_arrival, ms(400));
        let observed = Observations {
            p99_message_delay: Some(ms(80)),
            proposal_arrival: Some(ms(200)),
            ..Observations::default()
        };
        let seen = DelayEstimate::from_run(&metrics, &observed);
        assert_eq!(seen.max_one_way, ms(80));
        assert_eq!(seen.proposal_arrival, ms(200));
        let with_max = Observations {
            max_message_delay: Some(ms(120)),
            ..observed
        };
        assert_eq!(
            DelayEstimate::from_run(&metrics, &with_max).max_one_way,
            ms(120)
        );
    }

    #[test]
    fn block_size_range_is_header_plus_one_kib_to_cometbft_max() {
        let r = valid_range(Parameter::BlockSizeLimit);
        assert!(!r.contains(ParameterValue::Count(2047)));
        assert!(r.contains(ParameterValue::Count(2048)));
        assert!(r.contains(ParameterValue::Count(104_857_600)));
        assert!(!r.contains(ParameterValue::Count(104_857_601)));
        assert!(!r.contains(ParameterValue::Flag(true)));
    }

    #[test]
    fn scale_rounds_and_clamps() {
        let r = valid_range(Parameter::BatchSize);
        assert_eq!(
            scale(ParameterValue::Count(100), 1.5, &r),
            ParameterValue::Count(150)
        );
        assert_eq!(
            scale(ParameterValue::Count(9_000), 1.5, &r),
            ParameterValue::Count(10_000)
        );
        assert_eq!(
            scale(ParameterValue::Count(3), 0.6, &r),
            ParameterValue::Count(1)
        );
        let t = valid_range(Parameter::TimeoutPropose);
        assert_eq!(
            scale(ParameterValue::Duration(ms(3000)), 0.9, &t),
            ParameterValue::Duration(ms(2700))
        );
    }

    #[test]
    fn default_parameters_are_safe_on_a_100ms_network() {
        let delays = DelayEstimate {
            max_one_way: ms(100),
            proposal_arrival: ms(150),
        };
        assert!(is_safe(&OptimizationParameters::default(), &delays));
        let slow = DelayEstimate {
            max_one_way: ms(600),
            proposal_arrival: ms(700),
        };
        // prevote 1s < 2 × 600ms
        assert!(!is_safe(&OptimizationParameters::default(), &slow));
    }
}
