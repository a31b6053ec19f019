//! Parameter sweeps: a base scenario × a grid of parameter values × seeds, run in parallel,
//! written as JSONL in a fixed order — resumable after an interruption and shardable over a
//! cluster (Slurm arrays, Kubernetes indexed jobs), with `merge` joining the shards.
//!
//! ```yaml
//! name: timeouts            # optional; default: the base scenario's name
//! base: baseline            # a built-in name, a scenario file, or an inline scenario mapping
//! grid:                     # dotted scenario path -> values; first key varies slowest
//!   parameters.timeout_propose: [500ms, 1s, 3s]
//!   validators.count: [4, 7]
//! seeds: 3                  # or a list [1, 2, 5]; a count K runs base.seed, …, base.seed + K-1
//! ```

mod merge;
mod record;
mod run;
mod shard;

pub use merge::{merge_files, merge_lines};
pub use record::{MAX_RECORD_BYTES, RecordError, SweepRecord};
pub use run::{Existing, PointSummary, SweepOptions, SweepSummary, run_sweep};
pub use shard::Shard;

use crate::config::{self, ConfigError, Scenario, input};
use serde::Deserialize;
use serde_norway::{Mapping, Value};
use std::path::Path;

/// A parsed sweep file: every grid value has been checked against the base scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    /// Name of the sweep.
    pub name: String,
    /// The file (or text) it came from, for error messages.
    pub origin: String,
    /// The scenario every point starts from.
    pub base: Scenario,
    /// The axes, in the order they are written.
    pub grid: Vec<GridAxis>,
    /// Seeds each point runs with, in order.
    pub seeds: Vec<u64>,
}

/// One axis of the grid: a dotted scenario path and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct GridAxis {
    /// Dotted path into the scenario (`parameters.timeout_propose`).
    pub key: String,
    /// The values, as written.
    pub values: Vec<Value>,
}

/// One point of the grid: a value per axis and the validated scenario they give.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPoint {
    /// Position in the cartesian product (first axis slowest).
    pub index: usize,
    /// `(key, value)` per axis, in axis order.
    pub values: Vec<(String, Value)>,
    /// The base scenario with these values set.
    pub scenario: Scenario,
}

/// Why a sweep could not be read, run, resumed or merged. Every variant is bad input (exit 2)
/// except `Run`, a simulation that refused to start.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The sweep file is not valid YAML or has an unknown or missing key.
    #[error("{origin}: {message}")]
    Spec {
        /// The sweep file.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// The base scenario is invalid or cannot be found.
    #[error("{origin}: base: {error}")]
    Base {
        /// The sweep file.
        origin: String,
        /// The scenario error.
        error: ConfigError,
    },
    /// A grid value does not give a valid scenario.
    #[error("{origin}: grid key `{key}` value `{value}`: {message}")]
    BadValue {
        /// The sweep file.
        origin: String,
        /// The grid key.
        key: String,
        /// The value, as written.
        value: String,
        /// What is wrong.
        message: String,
    },
    /// A combination of grid values does not give a valid scenario.
    #[error("{origin}: grid point {point} ({values}): {message}")]
    BadPoint {
        /// The sweep file.
        origin: String,
        /// Index of the point.
        point: usize,
        /// `key=value, …`.
        values: String,
        /// What is wrong.
        message: String,
    },
    /// A bad `--shard` or shard environment.
    #[error("{0}")]
    Shard(String),
    /// Reading or writing a file failed.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// Another sweep holds the output file's lock.
    #[error(
        "{0} is being written by another ccperf sweep (it is locked): wait for that one to \
         finish, or write to another file"
    )]
    Locked(String),
    /// The output file exists and neither resuming nor overwriting was asked for.
    #[error("{0} exists: pass --resume to continue it or --force to overwrite it")]
    OutputExists(String),
    /// The existing output does not belong to this sweep (or shard).
    #[error("{path}:{line}: cannot resume: {message}")]
    Resume {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// What does not match.
        message: String,
    },
    /// Shard files that cannot be merged.
    #[error("merge: {0}")]
    Merge(String),
    /// The worker pool could not start.
    #[error("{0}")]
    Pool(String),
    /// A simulation refused to run.
    #[error("run {index} (point {point}, seed {seed}): {message}")]
    Run {
        /// Run index.
        index: usize,
        /// Point index.
        point: usize,
        /// Seed.
        seed: u64,
        /// The simulator's error.
        message: String,
    },
}

/// The sweep file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    #[serde(default)]
    name: Option<String>,
    base: Value,
    #[serde(default)]
    grid: Mapping,
    #[serde(default)]
    seeds: Option<SeedsFile>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SeedsFile {
    Count(u64),
    List(Vec<u64>),
}

impl SweepSpec {
    /// Parse a sweep from YAML `text`; `origin` names it in errors and anchors a relative base
    /// path. The base is resolved and every grid value is applied to it alone and validated.
    pub fn parse(text: &str, origin: &str) -> Result<SweepSpec, SweepError> {
        let spec_error = |message: String| SweepError::Spec {
            origin: origin.to_string(),
            message,
        };
        input::check_nesting(text, input::MAX_NESTING)
            .map_err(|deep| spec_error(format!("line {}: {deep}", deep.line)))?;
        let file: SweepFile =
            serde_norway::from_str(text).map_err(|e| spec_error(e.to_string()))?;
        let base = resolve_base(&file.base, origin)?;
        let mut grid = Vec::with_capacity(file.grid.len());
        for (key, values) in file.grid {
            let Value::String(key) = key else {
                return Err(spec_error(format!(
                    "grid keys are dotted scenario paths like `parameters.timeout_propose`, not `{}`",
                    show(&key)
                )));
            };
            let Value::Sequence(values) = values else {
                return Err(spec_error(format!(
                    "grid key `{key}` needs a list of values, like `{key}: [a, b]`"
                )));
            };
            if values.is_empty() {
                return Err(spec_error(format!(
                    "grid key `{key}` has an empty list of values"
                )));
            }
            grid.push(GridAxis { key, values });
        }
        let seeds = match file.seeds.unwrap_or(SeedsFile::Count(1)) {
            SeedsFile::Count(0) => return Err(spec_error("seeds must be at least 1".to_string())),
            SeedsFile::Count(k) => (0..k).map(|i| base.seed.wrapping_add(i)).collect(),
            SeedsFile::List(list) => {
                if list.is_empty() {
                    return Err(spec_error("seeds: the list is empty".to_string()));
                }
                let mut sorted = list.clone();
                sorted.sort_unstable();
                if let Some(pair) = sorted.windows(2).find(|w| w[0] == w[1]) {
                    return Err(spec_error(format!("seeds: {} is listed twice", pair[0])));
                }
                list
            }
        };
        let spec = SweepSpec {
            name: file.name.unwrap_or_else(|| base.name.clone()),
            origin: origin.to_string(),
            base,
            grid,
            seeds,
        };
        spec.check_each_value()?;
        Ok(spec)
    }

    /// Read and parse a sweep file.
    pub fn from_file(path: &Path) -> Result<SweepSpec, SweepError> {
        let origin = path.display().to_string();
        let text = input::read_text(path, input::MAX_INPUT_BYTES).map_err(|e| SweepError::Io {
            path: origin.clone(),
            message: format!("cannot read the sweep file: {e}"),
        })?;
        SweepSpec::parse(&text, &origin)
    }

    /// What identifies the sweep's results: 16 hex digits of a hash of the ccperf version,
    /// the name, the base scenario with every default filled in, the grid and the seeds. Every
    /// shard of the sweep has the same; a change to any of them gives another.
    pub fn fingerprint(&self) -> String {
        let mut text = format!(
            "ccperf {}\nname {}\nbase\n{}",
            env!("CARGO_PKG_VERSION"),
            self.name,
            config::to_yaml(&self.base)
        );
        for axis in &self.grid {
            let values: Vec<String> = axis.values.iter().map(show).collect();
            text.push_str(&format!("grid {} = [{}]\n", axis.key, values.join(", ")));
        }
        text.push_str(&format!("seeds {:?}\n", self.seeds));
        format!("{:016x}", record::fnv1a(text.as_bytes()))
    }

    /// Number of grid points (1 for an empty grid).
    pub fn point_count(&self) -> usize {
        self.grid.iter().map(|a| a.values.len()).product()
    }

    /// Number of runs: points × seeds.
    pub fn run_count(&self) -> usize {
        self.point_count() * self.seeds.len()
    }

    /// Every point of the cartesian product, first axis slowest, each validated.
    pub fn points(&self) -> Result<Vec<SweepPoint>, SweepError> {
        let base = self.base_value()?;
        (0..self.point_count())
            .map(|index| {
                let values = self.values_of(index);
                let scenario = apply(&base, &values, &self.origin).map_err(|message| {
                    SweepError::BadPoint {
                        origin: self.origin.clone(),
                        point: index,
                        values: describe(&values),
                        message,
                    }
                })?;
                Ok(SweepPoint {
                    index,
                    values,
                    scenario,
                })
            })
            .collect()
    }

    /// The axis values of point `index` (mixed radix, last axis fastest).
    fn values_of(&self, index: usize) -> Vec<(String, Value)> {
        let mut rest = index;
        let mut values: Vec<(String, Value)> = self
            .grid
            .iter()
            .rev()
            .map(|axis| {
                let n = axis.values.len();
                let value = axis.values[rest % n].clone();
                rest /= n;
                (axis.key.clone(), value)
            })
            .collect();
        values.reverse();
        values
    }

    /// Apply each grid value alone to the base, so a bad value is named before any run.
    fn check_each_value(&self) -> Result<(), SweepError> {
        let base = self.base_value()?;
        for axis in &self.grid {
            for value in &axis.values {
                let values = [(axis.key.clone(), value.clone())];
                apply(&base, &values, &self.origin).map_err(|message| SweepError::BadValue {
                    origin: self.origin.clone(),
                    key: axis.key.clone(),
                    value: show(value),
                    message,
                })?;
            }
        }
        Ok(())
    }

    fn base_value(&self) -> Result<Value, SweepError> {
        serde_norway::to_value(&self.base).map_err(|e| SweepError::Spec {
            origin: self.origin.clone(),
            message: format!("base scenario cannot be written back as YAML: {e}"),
        })
    }
}

/// The base: a built-in name or a path (relative to the sweep file's folder when it exists
/// there), or an inline scenario mapping.
fn resolve_base(base: &Value, origin: &str) -> Result<Scenario, SweepError> {
    let base_error = |error: ConfigError| SweepError::Base {
        origin: origin.to_string(),
        error,
    };
    match base {
        Value::String(name) => {
            let beside = Path::new(origin)
                .parent()
                .map(|dir| dir.join(name))
                .filter(|p| p.is_file() && !Path::new(name).is_absolute());
            match beside {
                Some(path) => config::resolve_scenario(&path.display().to_string()),
                None => config::resolve_scenario(name),
            }
            .map_err(base_error)
        }
        Value::Mapping(_) => {
            let text = serde_norway::to_string(base).map_err(|e| SweepError::Spec {
                origin: origin.to_string(),
                message: format!("base: {e}"),
            })?;
            config::parse_scenario(&text, &format!("{origin} (inline base)")).map_err(base_error)
        }
        other => Err(SweepError::Spec {
            origin: origin.to_string(),
            message: format!(
                "base must be a built-in name, a scenario file or a scenario mapping, not `{}`",
                show(other)
            ),
        }),
    }
}

/// The scenario `base` becomes with `values` set, re-parsed and validated.
fn apply(base: &Value, values: &[(String, Value)], origin: &str) -> Result<Scenario, String> {
    let mut tree = base.clone();
    let mut created = Vec::new();
    for (key, value) in values {
        let section = key.split('.').next().unwrap_or_default();
        if tree.get(section).is_none() {
            created.push(section.to_string());
        }
        set_path(&mut tree, key, value.clone())?;
    }
    let text = serde_norway::to_string(&tree).map_err(|e| e.to_string())?;
    config::parse_scenario(&text, origin).map_err(|e| {
        let field = e.field.map(|f| format!("{f}: ")).unwrap_or_default();
        let hint = match created.as_slice() {
            [] => String::new(),
            sections => format!(
                " (the base scenario has no `{}` section, so this value started one: give the \
                 base a complete one)",
                sections.join("`, `")
            ),
        };
        format!("{field}{}{hint}", strip_location(&e.message))
    })
}

/// Set the dotted `key` in `root` to `value`, creating mappings for missing sections.
fn set_path(root: &mut Value, key: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err(format!(
            "`{key}` is not a dotted scenario path like `parameters.timeout_propose`"
        ));
    }
    let Some((last, parents)) = parts.split_last() else {
        return Err(format!("`{key}` is empty"));
    };
    let mut node = root;
    for (depth, part) in parents.iter().enumerate() {
        node = mapping_of(node, &parts[..depth])?
            .entry(Value::from(*part))
            .or_insert(Value::Null);
    }
    mapping_of(node, parents)?.insert(Value::from(*last), value);
    Ok(())
}

fn mapping_of<'v>(node: &'v mut Value, path: &[&str]) -> Result<&'v mut Mapping, String> {
    if node.is_null() {
        *node = Value::Mapping(Mapping::new());
    }
    match node {
        Value::Mapping(map) => Ok(map),
        other => Err(format!(
            "`{}` is `{}`, not a mapping, so it has no fields to set",
            path.join("."),
            show(other)
        )),
    }
}

/// serde_norway appends the position in the generated text, which means nothing to the user.
fn strip_location(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => &message[..i],
        _ => message,
    }
}

/// A YAML value as written: scalars plain, anything else as flow JSON.
pub fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => "null".to_string(),
        other => serde_json::to_string(other).unwrap_or_else(|_| format!("{other:?}")),
    }
}

/// `key=value, key=value`.
pub fn describe(values: &[(String, Value)]) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k}={}", show(v)))
        .collect::<Vec<_>>()
        .join(", ")
}
