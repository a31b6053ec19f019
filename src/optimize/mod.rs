//! The optimization engine: parameters, targets, suggestions and the tune loop.

mod params;

pub use params::{OptimizationParameters, PerformanceTargets};
