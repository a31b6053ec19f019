//! Why the optimizer refused something: one error enum, each variant says the rule and the fix.

use super::parameter::{Parameter, ParameterValue};

/// An optimizer operation that could not be done; nothing was changed when it is returned.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OptimizeError {
    /// Aggressiveness scales step sizes and must lie in 0.0–1.0.
    #[error("aggressiveness must be between 0.0 and 1.0, got {0}")]
    AggressivenessOutOfRange(f64),
    /// A parameter name that is not one of the scenario keys under `parameters:`.
    #[error("unknown parameter `{name}`; known parameters: {known}")]
    UnknownParameter {
        /// The name given.
        name: String,
        /// The accepted names, comma separated.
        known: String,
    },
    /// A value that does not parse as the parameter's kind (`3s`, `100`, `true`).
    #[error("{parameter}: `{value}` is not a valid value: {reason}")]
    InvalidValue {
        /// The parameter being set.
        parameter: Parameter,
        /// The text given.
        value: String,
        /// What is wrong and how to write it.
        reason: String,
    },
    /// A value of the wrong kind, such as a duration for `batch_size`.
    #[error("{parameter} takes a {expected}, not `{value}`")]
    WrongKind {
        /// The parameter being set.
        parameter: Parameter,
        /// The kind it takes: "duration", "count" or "flag".
        expected: &'static str,
        /// The value given.
        value: ParameterValue,
    },
    /// A value outside what any parameter set may hold (e.g. `batch_size` 0).
    #[error("{parameter}: {value} is outside the allowed range {min}..={max}")]
    OutOfRange {
        /// The parameter being set.
        parameter: Parameter,
        /// The value given.
        value: ParameterValue,
        /// Smallest allowed value.
        min: ParameterValue,
        /// Largest allowed value.
        max: ParameterValue,
    },
    /// A value outside the safe bounds for the message delays of the last analysis.
    #[error(
        "{parameter}: {value} is outside the safe range {min}..={max} for the observed message delays"
    )]
    Unsafe {
        /// The parameter being set.
        parameter: Parameter,
        /// The value given.
        value: ParameterValue,
        /// Smallest safe value.
        min: ParameterValue,
        /// Largest safe value.
        max: ParameterValue,
    },
    /// The suggestion was made for a value the parameter no longer has: analyse again.
    #[error(
        "stale suggestion for {parameter}: it was made when the value was {expected}, but it is now {actual}; analyse again"
    )]
    StaleSuggestion {
        /// The parameter the suggestion changes.
        parameter: Parameter,
        /// The value the suggestion was made against.
        expected: ParameterValue,
        /// The value the parameter has now.
        actual: ParameterValue,
    },
    /// Every applied optimization has been rolled back already (or none was applied).
    #[error("nothing to roll back: no applied optimization is left in the history")]
    NothingToRollBack,
    /// `record_outcome` needs a last applied optimization that is not rolled back.
    #[error("no applied optimization to record an outcome for: apply one first")]
    NoAppliedOptimization,
    /// A metric, observation or target that is not a usable number.
    #[error("{field} = {value}: {rule}")]
    InvalidInput {
        /// Which input field.
        field: &'static str,
        /// Its value, as given.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
}
