//! The optimization engine: reads a run, suggests parameter changes, applies them one at a time
//! and rolls them back, keeping a history of what was tried and what it did.

use super::bounds::{self, DelayEstimate};
use super::error::OptimizeError;
use super::observations::Observations;
use super::parameter::{Parameter, ParameterValue};
use super::strategy::{self, Diagnosis, OptimizationSuggestion, Step};
use crate::metrics::ConsensusMetrics;
use crate::params::{OptimizationParameters, PerformanceTargets};
use serde::Serialize;

/// Tunes [`OptimizationParameters`] toward [`PerformanceTargets`], one suggestion at a time.
#[derive(Clone, Debug)]
pub struct OptimizationEngine {
    parameters: OptimizationParameters,
    targets: PerformanceTargets,
    aggressiveness: f64,
    history: Vec<HistoryEntry>,
    /// Delays of the last analysis: suggestions are applied only within their safe range.
    delays: Option<DelayEstimate>,
}

/// One applied optimization: what changed, from what, and what the runs around it measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// 1-based, in order of application.
    pub id: u64,
    /// The suggestion applied.
    pub suggestion: OptimizationSuggestion,
    /// Parameters before it was applied (what a rollback restores).
    pub parameters_before: OptimizationParameters,
    /// Parameters after it was applied.
    pub parameters_after: OptimizationParameters,
    /// Metrics of the run the suggestion was made from.
    pub metrics_before: ConsensusMetrics,
    /// Metrics of the run after it, once recorded with `record_outcome`.
    pub metrics_after: Option<ConsensusMetrics>,
    /// Whether it has been rolled back.
    pub rolled_back: bool,
}

/// What `apply_optimization` changed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AppliedOptimization {
    /// The history entry's id.
    pub id: u64,
    /// The parameter changed.
    pub parameter: Parameter,
    /// Its value before.
    pub from: ParameterValue,
    /// Its value now.
    pub to: ParameterValue,
}

/// Aggressiveness when none is given: middle-sized steps.
pub const DEFAULT_AGGRESSIVENESS: f64 = 0.5;

impl OptimizationEngine {
    /// An engine starting from `parameters`, aiming at `targets`, aggressiveness 0.5.
    pub fn new(parameters: OptimizationParameters, targets: PerformanceTargets) -> Self {
        OptimizationEngine {
            parameters,
            targets,
            aggressiveness: DEFAULT_AGGRESSIVENESS,
            history: Vec::new(),
            delays: None,
        }
    }

    /// Set how large the steps are, 0.0 (none) to 1.0 (reductions halve, increases double).
    pub fn with_aggressiveness(mut self, aggressiveness: f64) -> Result<Self, OptimizeError> {
        if !(0.0..=1.0).contains(&aggressiveness) {
            return Err(OptimizeError::AggressivenessOutOfRange(aggressiveness));
        }
        self.aggressiveness = aggressiveness;
        Ok(self)
    }

    /// Suggestions from the metrics alone; unobserved facts get conservative defaults
    /// (see [`Observations`]).
    pub fn analyze_and_optimize(
        &mut self,
        metrics: &ConsensusMetrics,
    ) -> Result<Vec<OptimizationSuggestion>, OptimizeError> {
        self.analyze_with(metrics, &Observations::default())
    }

    /// Suggestions from the metrics and what else the run showed, most important first (ties in
    /// parameter order); empty when every target is met and heights decide in one round.
    pub fn analyze_with(
        &mut self,
        metrics: &ConsensusMetrics,
        observations: &Observations,
    ) -> Result<Vec<OptimizationSuggestion>, OptimizeError> {
        validate_metrics(metrics)?;
        validate_targets(&self.targets)?;
        observations.validate()?;
        let diagnosis = Diagnosis::new(&self.parameters, &self.targets, metrics, observations);
        self.delays = Some(diagnosis.delays);
        Ok(strategy::suggest(
            &self.parameters,
            &self.targets,
            metrics,
            &diagnosis,
            Step::from_aggressiveness(self.aggressiveness),
        ))
    }

    /// Apply `suggestion` to the engine's parameters and record it in the history.
    ///
    /// Refused, changing nothing, when the parameter no longer has the suggestion's
    /// `current_value` (stale), or when the new value is outside the valid range or outside the
    /// safe range of the last analysis's message delays.
    pub fn apply_optimization(
        &mut self,
        suggestion: &OptimizationSuggestion,
        metrics_before: ConsensusMetrics,
    ) -> Result<AppliedOptimization, OptimizeError> {
        let parameter = suggestion.parameter;
        let actual = parameter.get(&self.parameters);
        if actual != suggestion.current_value {
            return Err(OptimizeError::StaleSuggestion {
                parameter,
                expected: suggestion.current_value,
                actual,
            });
        }
        let value = suggestion.suggested_value;
        if let Some(delays) = &self.delays {
            let safe = bounds::safe_range(parameter, delays);
            if value.kind() == parameter.kind() && !safe.contains(value) {
                return Err(OptimizeError::Unsafe {
                    parameter,
                    value,
                    min: safe.min,
                    max: safe.max,
                });
            }
        }
        let parameters_before = self.parameters.clone();
        let mut parameters_after = self.parameters.clone();
        parameter.apply(&mut parameters_after, value)?;
        self.parameters = parameters_after.clone();
        let id = self.history.len() as u64 + 1;
        self.history.push(HistoryEntry {
            id,
            suggestion: suggestion.clone(),
            parameters_before,
            parameters_after,
            metrics_before,
            metrics_after: None,
            rolled_back: false,
        });
        Ok(AppliedOptimization {
            id,
            parameter,
            from: actual,
            to: value,
        })
    }

    /// Record the metrics of the run after the last applied optimization (replacing any
    /// recorded before); refused when there is none or it was rolled back.
    pub fn record_outcome(&mut self, metrics_after: ConsensusMetrics) -> Result<(), OptimizeError> {
        match self.history.last_mut() {
            Some(entry) if !entry.rolled_back => {
                entry.metrics_after = Some(metrics_after);
                Ok(())
            }
            _ => Err(OptimizeError::NoAppliedOptimization),
        }
    }

    /// Undo the most recent optimization not yet rolled back: restore exactly the parameters
    /// before it, mark its entry rolled back, and return the restored parameters. Repeated
    /// calls undo earlier optimizations in turn.
    pub fn rollback(&mut self) -> Result<OptimizationParameters, OptimizeError> {
        let entry = self
            .history
            .iter_mut()
            .rev()
            .find(|e| !e.rolled_back)
            .ok_or(OptimizeError::NothingToRollBack)?;
        entry.rolled_back = true;
        self.parameters = entry.parameters_before.clone();
        Ok(self.parameters.clone())
    }

    /// The parameters as tuned so far.
    pub fn parameters(&self) -> &OptimizationParameters {
        &self.parameters
    }

    /// The targets the engine aims at.
    pub fn targets(&self) -> &PerformanceTargets {
        &self.targets
    }

    /// The aggressiveness, 0.0–1.0.
    pub fn aggressiveness(&self) -> f64 {
        self.aggressiveness
    }

    /// Every optimization applied, oldest first; rolled-back ones are marked, not removed.
    pub fn history(&self) -> &[HistoryEntry] {
        &self.history
    }
}

fn validate_metrics(metrics: &ConsensusMetrics) -> Result<(), OptimizeError> {
    non_negative("metrics.throughput", metrics.throughput)?;
    non_negative(
        "metrics.resource_usage.cpu_percent",
        metrics.resource_usage.cpu_percent,
    )
}

fn validate_targets(targets: &PerformanceTargets) -> Result<(), OptimizeError> {
    non_negative("targets.target_throughput", targets.target_throughput)?;
    non_negative("targets.max_cpu_usage", targets.max_cpu_usage)
}

fn non_negative(field: &'static str, value: f64) -> Result<(), OptimizeError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(OptimizeError::InvalidInput {
            field,
            value: value.to_string(),
            rule: "must be a finite number, at least 0",
        })
    }
}
