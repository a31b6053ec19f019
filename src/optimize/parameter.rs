//! The tunable parameters by name: read, write and parse them as scenario files write them.

use super::bounds;
use super::error::OptimizeError;
use crate::config::duration;
use crate::params::OptimizationParameters;
use serde::{Deserialize, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One field of [`OptimizationParameters`]; displays as its scenario key (`timeout_propose`).
///
/// The declaration order is the field order and breaks ties when suggestions are sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parameter {
    /// `block_size_limit` (bytes).
    BlockSizeLimit,
    /// `block_interval` (CometBFT's `timeout_commit`).
    BlockInterval,
    /// `timeout_propose`.
    TimeoutPropose,
    /// `timeout_propose_delta`.
    TimeoutProposeDelta,
    /// `timeout_prevote`.
    TimeoutPrevote,
    /// `timeout_prevote_delta`.
    TimeoutPrevoteDelta,
    /// `timeout_precommit`.
    TimeoutPrecommit,
    /// `timeout_precommit_delta`.
    TimeoutPrecommitDelta,
    /// `batch_size`.
    BatchSize,
    /// `parallel_verification`.
    ParallelVerification,
}

/// The kind of value a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A duration, written `500ms`, `3s`.
    Duration,
    /// A whole number, written `100`.
    Count,
    /// A switch, written `true` or `false`.
    Flag,
}

/// A parameter's value; displays as a scenario file writes it: `3s`, `100`, `true`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParameterValue {
    /// A duration parameter's value.
    Duration(Duration),
    /// A count parameter's value (bytes or transactions).
    Count(u32),
    /// A flag parameter's value.
    Flag(bool),
}

impl Parameter {
    /// Every parameter, in field order.
    pub const ALL: [Parameter; 10] = [
        Parameter::BlockSizeLimit,
        Parameter::BlockInterval,
        Parameter::TimeoutPropose,
        Parameter::TimeoutProposeDelta,
        Parameter::TimeoutPrevote,
        Parameter::TimeoutPrevoteDelta,
        Parameter::TimeoutPrecommit,
        Parameter::TimeoutPrecommitDelta,
        Parameter::BatchSize,
        Parameter::ParallelVerification,
    ];

    /// The scenario key, e.g. `timeout_propose`.
    pub fn name(self) -> &'static str {
        match self {
            Parameter::BlockSizeLimit => "block_size_limit",
            Parameter::BlockInterval => "block_interval",
            Parameter::TimeoutPropose => "timeout_propose",
            Parameter::TimeoutProposeDelta => "timeout_propose_delta",
            Parameter::TimeoutPrevote => "timeout_prevote",
            Parameter::TimeoutPrevoteDelta => "timeout_prevote_delta",
            Parameter::TimeoutPrecommit => "timeout_precommit",
            Parameter::TimeoutPrecommitDelta => "timeout_precommit_delta",
            Parameter::BatchSize => "batch_size",
            Parameter::ParallelVerification => "parallel_verification",
        }
    }

    /// The kind of value the parameter takes.
    pub fn kind(self) -> ValueKind {
        match self {
            Parameter::BlockSizeLimit | Parameter::BatchSize => ValueKind::Count,
            Parameter::ParallelVerification => ValueKind::Flag,
            _ => ValueKind::Duration,
        }
    }

    /// The parameter's current value in `parameters`.
    pub fn get(self, parameters: &OptimizationParameters) -> ParameterValue {
        use ParameterValue::{Count, Duration as D, Flag};
        match self {
            Parameter::BlockSizeLimit => Count(parameters.block_size_limit),
            Parameter::BlockInterval => D(parameters.block_interval),
            Parameter::TimeoutPropose => D(parameters.timeout_propose),
            Parameter::TimeoutProposeDelta => D(parameters.timeout_propose_delta),
            Parameter::TimeoutPrevote => D(parameters.timeout_prevote),
            Parameter::TimeoutPrevoteDelta => D(parameters.timeout_prevote_delta),
            Parameter::TimeoutPrecommit => D(parameters.timeout_precommit),
            Parameter::TimeoutPrecommitDelta => D(parameters.timeout_precommit_delta),
            Parameter::BatchSize => Count(parameters.batch_size),
            Parameter::ParallelVerification => Flag(parameters.parallel_verification),
        }
    }

    /// Set the parameter in `parameters`; refuses a value of the wrong kind or outside
    /// [`bounds::valid_range`], leaving `parameters` unchanged.
    pub fn apply(
        self,
        parameters: &mut OptimizationParameters,
        value: ParameterValue,
    ) -> Result<(), OptimizeError> {
        let range = bounds::valid_range(self);
        if value.kind() != self.kind() {
            return Err(OptimizeError::WrongKind {
                parameter: self,
                expected: self.kind().name(),
                value,
            });
        }
        if !range.contains(value) {
            return Err(OptimizeError::OutOfRange {
                parameter: self,
                value,
                min: range.min,
                max: range.max,
            });
        }
        match (self, value) {
            (Parameter::BlockSizeLimit, ParameterValue::Count(n)) => {
                parameters.block_size_limit = n
            }
            (Parameter::BatchSize, ParameterValue::Count(n)) => parameters.batch_size = n,
            (Parameter::ParallelVerification, ParameterValue::Flag(b)) => {
                parameters.parallel_verification = b
            }
            (Parameter::BlockInterval, ParameterValue::Duration(d)) => {
                parameters.block_interval = d
            }
            (Parameter::TimeoutPropose, ParameterValue::Duration(d)) => {
                parameters.timeout_propose = d
            }
            (Parameter::TimeoutProposeDelta, ParameterValue::Duration(d)) => {
                parameters.timeout_propose_delta = d
            }
            (Parameter::TimeoutPrevote, ParameterValue::Duration(d)) => {
                parameters.timeout_prevote = d
            }
            (Parameter::TimeoutPrevoteDelta, ParameterValue::Duration(d)) => {
                parameters.timeout_prevote_delta = d
            }
            (Parameter::TimeoutPrecommit, ParameterValue::Duration(d)) => {
                parameters.timeout_precommit = d
            }
            (Parameter::TimeoutPrecommitDelta, ParameterValue::Duration(d)) => {
                parameters.timeout_precommit_delta = d
            }
            // Kinds were checked above; this arm is unreachable but must not panic.
            _ => {
                return Err(OptimizeError::WrongKind {
                    parameter: self,
                    expected: self.kind().name(),
                    value,
                });
            }
        }
        Ok(())
    }

    /// Parse a value written as in a scenario file: `3s` / `500ms`, `100`, `true` / `false`.
    pub fn parse_value(self, text: &str) -> Result<ParameterValue, OptimizeError> {
        let invalid = |reason: String| OptimizeError::InvalidValue {
            parameter: self,
            value: text.to_string(),
            reason,
        };
        let t = text.trim();
        match self.kind() {
            ValueKind::Duration => duration::parse(t)
                .map(ParameterValue::Duration)
                .map_err(invalid),
            ValueKind::Count => t.parse::<u32>().map(ParameterValue::Count).map_err(|_| {
                invalid(format!(
                    "expected a whole number from 0 to {} like `100`",
                    u32::MAX
                ))
            }),
            ValueKind::Flag => match t {
                "true" => Ok(ParameterValue::Flag(true)),
                "false" => Ok(ParameterValue::Flag(false)),
                _ => Err(invalid("expected `true` or `false`".to_string())),
            },
        }
    }
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Parameter {
    type Err = OptimizeError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let wanted = name.trim();
        Parameter::ALL
            .into_iter()
            .find(|p| p.name() == wanted)
            .ok_or_else(|| OptimizeError::UnknownParameter {
                name: name.to_string(),
                known: Parameter::ALL.map(Parameter::name).join(", "),
            })
    }
}

impl ValueKind {
    /// "duration", "count" or "flag".
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Duration => "duration",
            ValueKind::Count => "count",
            ValueKind::Flag => "flag",
        }
    }
}

impl ParameterValue {
    /// The kind of this value.
    pub fn kind(self) -> ValueKind {
        match self {
            ParameterValue::Duration(_) => ValueKind::Duration,
            ParameterValue::Count(_) => ValueKind::Count,
            ParameterValue::Flag(_) => ValueKind::Flag,
        }
    }

    /// The duration, when this is one.
    pub fn as_duration(self) -> Option<Duration> {
        match self {
            ParameterValue::Duration(d) => Some(d),
            _ => None,
        }
    }

    /// The count, when this is one.
    pub fn as_count(self) -> Option<u32> {
        match self {
            ParameterValue::Count(n) => Some(n),
            _ => None,
        }
    }

    /// The flag, when this is one.
    pub fn as_flag(self) -> Option<bool> {
        match self {
            ParameterValue::Flag(b) => Some(b),
            _ => None,
        }
    }
}

/// Values of the same kind compare (`false < true`); values of different kinds do not.
impl PartialOrd for ParameterValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (ParameterValue::Duration(a), ParameterValue::Duration(b)) => Some(a.cmp(b)),
            (ParameterValue::Count(a), ParameterValue::Count(b)) => Some(a.cmp(b)),
            (ParameterValue::Flag(a), ParameterValue::Flag(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

impl fmt::Display for ParameterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParameterValue::Duration(d) => f.write_str(&duration::format(*d)),
            ParameterValue::Count(n) => write!(f, "{n}"),
            ParameterValue::Flag(b) => write!(f, "{b}"),
        }
    }
}

/// Serialized as its display text (`"3s"`, `"100"`, `"true"`), as `set_parameter` reads it.
impl Serialize for ParameterValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Set a parameter by scenario key from text, as sweeps and the command line write it:
/// `set_parameter(&mut p, "timeout_propose", "1500ms")`. Leaves `parameters` unchanged on error.
pub fn set_parameter(
    parameters: &mut OptimizationParameters,
    name: &str,
    value: &str,
) -> Result<(), OptimizeError> {
    let parameter: Parameter = name.parse()?;
    let parsed = parameter.parse_value(value)?;
    parameter.apply(parameters, parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_display_and_from_str() {
        for p in Parameter::ALL {
            assert_eq!(p.to_string().parse::<Parameter>(), Ok(p));
        }
        assert_eq!(Parameter::TimeoutPropose.to_string(), "timeout_propose");
    }

    #[test]
    fn get_after_apply_returns_the_value() {
        let mut p = OptimizationParameters::default();
        let v = ParameterValue::Duration(Duration::from_millis(1200));
        Parameter::TimeoutPrevoteDelta.apply(&mut p, v).unwrap();
        assert_eq!(p.timeout_prevote_delta, Duration::from_millis(1200));
        assert_eq!(Parameter::TimeoutPrevoteDelta.get(&p), v);
    }

    #[test]
    fn values_display_as_scenario_files_write_them() {
        assert_eq!(
            ParameterValue::Duration(Duration::from_secs(3)).to_string(),
            "3s"
        );
        assert_eq!(
            ParameterValue::Duration(Duration::from_millis(2250)).to_string(),
            "2250ms"
        );
        assert_eq!(ParameterValue::Count(100).to_string(), "100");
        assert_eq!(ParameterValue::Flag(true).to_string(), "true");
        assert_eq!(
            serde_json::to_string(&ParameterValue::Duration(Duration::from_millis(500))).unwrap(),
            "\"500ms\""
        );
    }

    #[test]
    fn values_of_different_kinds_do_not_compare() {
        let d = ParameterValue::Duration(Duration::from_secs(1));
        assert_eq!(d.partial_cmp(&ParameterValue::Count(1)), None);
        assert!(ParameterValue::Count(2) > ParameterValue::Count(1));
        assert!(ParameterValue::Flag(true) > ParameterValue::Flag(false));
    }

    #[test]
    fn apply_refuses_wrong_kind_and_leaves_parameters_unchanged() {
        let mut p = OptimizationParameters::default();
        let err = Parameter::BatchSize
            .apply(&mut p, ParameterValue::Flag(true))
            .unwrap_err();
        assert_eq!(err.to_string(), "batch_size takes a count, not `true`");
        assert_eq!(p, OptimizationParameters::default());
    }
}
