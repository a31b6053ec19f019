//! Configuration: scenario YAML files (and built-in scenarios), validated before anything runs,
//! and the `ccperf.toml` settings with their `CC_*` environment overrides.

mod builtin;
pub mod duration;
pub mod input;
mod locate;
mod scenario;
pub mod settings;
mod validate;

pub use builtin::{
    builtin_names, builtin_scenario, builtin_scenario_text, example_names, example_scenario,
};
pub use scenario::{
    AppSpec, ByzantineBehavior, ByzantineSpec, CostModel, CostPreset, CostsSpec, EntryNodes,
    GossipModel, LatencySpec, LoadSpec, MempoolSpec, NetworkSpec, P2pSpec, PartitionSpec,
    RegionsSpec, Scenario, Topology, ValidatorsSpec,
};
pub use settings::{EffectiveSettings, Settings, Source};
pub use validate::{MAX_DURATION, MAX_TOTAL_POWER, MAX_VALIDATORS, validate};

use std::fmt;
use std::path::Path;

/// Bad input: names where (file, field, line and column when known) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file or built-in scenario the error is in.
    pub origin: String,
    /// Dotted path of the offending field, when known (`network.loss`).
    pub field: Option<String>,
    /// 1-based line and column, when the parser knows them.
    pub location: Option<(usize, usize)>,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

impl ConfigError {
    /// An error about the whole input (no field, no location).
    pub fn new(origin: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            origin: origin.into(),
            field: None,
            location: None,
            message: message.into(),
        }
    }

    /// An error about one field of the input.
    pub fn at_field(
        origin: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            origin: origin.into(),
            field: Some(field.into()),
            location: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some((line, column)) = self.location {
            write!(f, ":{line}:{column}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Parse and validate a scenario from YAML text; `origin` names it in errors.
///
/// Syntax errors, unknown fields and wrong types carry the parser's line and column;
/// validation errors carry the field path and, when the field is written in `text`, its line.
pub fn parse_scenario(text: &str, origin: &str) -> Result<Scenario, ConfigError> {
    input::check_nesting(text, input::MAX_NESTING).map_err(|deep| ConfigError {
        location: Some((deep.line, 1)),
        ..ConfigError::new(origin, deep.to_string())
    })?;
    let scenario: Scenario =
        serde_norway::from_str(text).map_err(|e| locate::yaml_error(origin, text, &e))?;
    validate(&scenario).map_err(|mut e| {
        e.origin = origin.to_string();
        if e.location.is_none() {
            e.location = e
                .field
                .as_deref()
                .and_then(|f| locate::field_location(text, f));
        }
        e
    })?;
    Ok(scenario)
}

/// Read, parse and validate a scenario file; a missing or unreadable file is an error naming it.
pub fn load_scenario(path: &Path) -> Result<Scenario, ConfigError> {
    let origin = path.display().to_string();
    let text = input::read_text(path, input::MAX_INPUT_BYTES).map_err(|e| {
        ConfigError::new(
            &origin,
            match e {
                input::ReadError::Io(e) => format!("cannot read scenario file: {e}"),
                other => format!("scenario file is {other}"),
            },
        )
    })?;
    parse_scenario(&text, &origin)
}

/// A built-in scenario or example network by name (`baseline`, `global_150`, …) or a scenario
/// file by path.
///
/// An argument that looks like a path (has a `/` or ends in `.yaml`/`.yml`) is always a file;
/// otherwise a built-in name wins over a file of the same name in the current directory.
pub fn resolve_scenario(arg: &str) -> Result<Scenario, ConfigError> {
    let path = Path::new(arg);
    let looks_like_path = arg.contains('/')
        || arg.contains(std::path::MAIN_SEPARATOR)
        || matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
    if !looks_like_path {
        if let Some(result) = builtin_scenario(arg).or_else(|| example_scenario(arg)) {
            return result;
        }
        if !path.exists() {
            return Err(ConfigError::new(
                arg,
                format!(
                    "no built-in scenario or file named `{arg}`; the built-in scenarios are {} \
                     and the example networks {}",
                    builtin_names().join(", "),
                    example_names().join(", ")
                ),
            ));
        }
    }
    load_scenario(path)
}

/// The scenario as YAML; `parse_scenario(&to_yaml(s), _)` gives back `s`.
pub fn to_yaml(scenario: &Scenario) -> String {
    serde_norway::to_string(scenario)
        .unwrap_or_else(|e| format!("# the scenario could not be written as YAML: {e}\n"))
}
