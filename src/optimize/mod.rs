//! The optimization engine: suggestions, safe bounds and the score the tune loop uses to keep or
//! roll back a change. The parameters and targets it tunes are ground data in [`crate::params`],
//! re-exported here.

pub mod bounds;
mod engine;
mod error;
mod observations;
mod parameter;
mod score;
mod strategy;
pub mod tune;

pub use crate::params::{OptimizationParameters, PerformanceTargets};
pub use engine::{AppliedOptimization, DEFAULT_AGGRESSIVENESS, HistoryEntry, OptimizationEngine};
pub use error::OptimizeError;
pub use observations::Observations;
pub use parameter::{Parameter, ParameterValue, ValueKind, set_parameter};
pub use score::{Shortfalls, score};
pub use strategy::{
    CPU_BOUND_SHARE, FAR_ABOVE_FLOOR, FULL_BLOCK_RATIO, OptimizationSuggestion,
    SLOW_ROUND_FRACTION, Strategy,
};
