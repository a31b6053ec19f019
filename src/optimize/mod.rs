//! The optimization engine: parameters, targets, suggestions, safe bounds and the score the
//! tune loop uses to keep or roll back a change.

pub mod bounds;
mod engine;
mod error;
mod observations;
mod parameter;
mod params;
mod score;
mod strategy;
pub mod tune;

pub use engine::{AppliedOptimization, DEFAULT_AGGRESSIVENESS, HistoryEntry, OptimizationEngine};
pub use error::OptimizeError;
pub use observations::Observations;
pub use parameter::{Parameter, ParameterValue, ValueKind, set_parameter};
pub use params::{OptimizationParameters, PerformanceTargets};
pub use score::{Shortfalls, score};
pub use strategy::{
    CPU_BOUND_SHARE, FAR_ABOVE_FLOOR, FULL_BLOCK_RATIO, OptimizationSuggestion,
    SLOW_ROUND_FRACTION, Strategy,
};
