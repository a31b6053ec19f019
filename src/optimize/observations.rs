//! What a run showed beyond [`ConsensusMetrics`](crate::metrics::ConsensusMetrics): the
//! evidence the strategies need to tell a slow network from a slow proposer or a full block.

use super::error::OptimizeError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Observations of one run; every field is optional and `None` means "not observed".
///
/// Missing observations are replaced by conservative defaults: delays are estimated from the
/// metrics (an over-estimate), and rules that need an unobserved fact (block fill, backlog)
/// do not fire.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Observations {
    /// Largest one-way message delay seen between validators.
    #[serde(with = "crate::config::duration::option")]
    pub max_message_delay: Option<Duration>,
    /// 99th percentile one-way message delay (used when the maximum is not known).
    #[serde(with = "crate::config::duration::option")]
    pub p99_message_delay: Option<Duration>,
    /// Round start to the arrival of the proposal at the validators (worst case or p99).
    #[serde(with = "crate::config::duration::option")]
    pub proposal_arrival: Option<Duration>,
    /// Mean number of rounds a height took (1.0 when every height decides in round 0).
    pub rounds_per_height_mean: Option<f64>,
    /// Fraction of heights, 0.0–1.0, that needed more than one round.
    pub multi_round_fraction: Option<f64>,
    /// Mean transactions per committed block.
    pub mean_txs_per_block: Option<f64>,
    /// Mean bytes used per block over `block_size_limit`, 0.0–1.0.
    pub block_fill_ratio: Option<f64>,
    /// Transactions still waiting in the mempool at the end of the run.
    pub mempool_backlog: Option<u64>,
}

impl Observations {
    /// Refuse numbers no run can produce (negative, not finite, fractions above 1).
    pub fn validate(&self) -> Result<(), OptimizeError> {
        let fraction = |field, value: Option<f64>| match value {
            Some(v) if !(0.0..=1.0).contains(&v) => Err(OptimizeError::InvalidInput {
                field,
                value: v.to_string(),
                rule: "must be a fraction between 0.0 and 1.0",
            }),
            _ => Ok(()),
        };
        let non_negative = |field, value: Option<f64>| match value {
            Some(v) if !(v.is_finite() && v >= 0.0) => Err(OptimizeError::InvalidInput {
                field,
                value: v.to_string(),
                rule: "must be a finite number, at least 0",
            }),
            _ => Ok(()),
        };
        fraction(
            "observations.multi_round_fraction",
            self.multi_round_fraction,
        )?;
        fraction("observations.block_fill_ratio", self.block_fill_ratio)?;
        non_negative(
            "observations.rounds_per_height_mean",
            self.rounds_per_height_mean,
        )?;
        non_negative("observations.mean_txs_per_block", self.mean_txs_per_block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations_as_scenario_files_write_them() {
        let obs: Observations =
            serde_json::from_str(r#"{"max_message_delay": "120ms", "multi_round_fraction": 0.25}"#)
                .unwrap();
        assert_eq!(obs.max_message_delay, Some(Duration::from_millis(120)));
        assert_eq!(obs.multi_round_fraction, Some(0.25));
        assert_eq!(obs.proposal_arrival, None);
        let err = serde_json::from_str::<Observations>(r#"{"max_delay": "1s"}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `max_delay`"),
            "{err}"
        );
    }

    #[test]
    fn refuses_impossible_numbers() {
        let bad_fill = Observations {
            block_fill_ratio: Some(f64::NAN),
            ..Observations::default()
        };
        assert!(matches!(
            bad_fill.validate(),
            Err(OptimizeError::InvalidInput {
                field: "observations.block_fill_ratio",
                ..
            })
        ));
        let bad_txs = Observations {
            mean_txs_per_block: Some(-1.0),
            ..Observations::default()
        };
        assert!(bad_txs.validate().is_err());
        assert_eq!(Observations::default().validate(), Ok(()));
    }
}
