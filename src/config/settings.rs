//! `ccperf.toml` settings with `CC_*` environment variables and command-line flags on top:
//! defaults < file < environment < flags, and every value remembers where it came from.
//!
//! ```toml
//! [performance]
//! monitoring_enabled = true
//! metrics_retention = "24h"
//! sampling_interval = "1s"
//!
//! [optimization]
//! auto_tune = true
//! target_throughput = 1000.0
//! max_latency_ms = 5000
//! aggressive_mode = false
//!
//! [benchmarks]
//! default_duration = "5m"
//! stress_test_enabled = true
//! ```

use super::{ConfigError, duration};
use crate::params::PerformanceTargets;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings file looked for in the current directory when no `--config` is given.
pub const DEFAULT_FILE: &str = "ccperf.toml";

/// Everything `ccperf.toml` can set; defaults are the values of the README's example.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `[performance]`: the performance monitor.
    pub performance: PerformanceSettings,
    /// `[optimization]`: the optimization engine.
    pub optimization: OptimizationSettings,
    /// `[benchmarks]`: the benchmark suite.
    pub benchmarks: BenchmarkSettings,
}

/// `[performance]`: what the monitor keeps and how often it samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerformanceSettings {
    /// Collect metrics at all.
    pub monitoring_enabled: bool,
    /// How long metrics are kept.
    #[serde(with = "crate::config::duration")]
    pub metrics_retention: Duration,
    /// Time between two samples (`CC_PERFORMANCE_SAMPLING_RATE`, in ms).
    #[serde(with = "crate::config::duration")]
    pub sampling_interval: Duration,
    /// Rounds kept in the metrics history (`CC_PERFORMANCE_WINDOW_SIZE`).
    pub window_size: usize,
    /// Raise alerts when targets are missed (`CC_PERFORMANCE_ALERTS_ENABLED`).
    pub alerts_enabled: bool,
}

impl Default for PerformanceSettings {
    fn default() -> Self {
        PerformanceSettings {
            monitoring_enabled: true,
            metrics_retention: Duration::from_secs(24 * 3600),
            sampling_interval: Duration::from_secs(1),
            window_size: 1000,
            alerts_enabled: true,
        }
    }
}

/// `[optimization]`: whether and how hard the engine tunes parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizationSettings {
    /// Tune parameters automatically (`CC_AUTO_OPTIMIZATION`).
    pub auto_tune: bool,
    /// Throughput to aim for, transactions per second.
    pub target_throughput: f64,
    /// Latency not to exceed, milliseconds.
    pub max_latency_ms: u64,
    /// Take larger steps when tuning.
    pub aggressive_mode: bool,
    /// Step size of the tuning, from 0 (cautious) to 1 (bold) (`CC_OPTIMIZATION_AGGRESSIVENESS`).
    pub aggressiveness: f64,
    /// Seconds between two optimization checks (`CC_OPTIMIZATION_INTERVAL`).
    pub interval_s: u64,
}

impl Default for OptimizationSettings {
    fn default() -> Self {
        OptimizationSettings {
            auto_tune: true,
            target_throughput: 1000.0,
            max_latency_ms: 5000,
            aggressive_mode: false,
            aggressiveness: 0.5,
            interval_s: 300,
        }
    }
}

/// `[benchmarks]`: defaults of the benchmark suite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BenchmarkSettings {
    /// Virtual time of a benchmark run when its scenario does not say.
    #[serde(with = "crate::config::duration")]
    pub default_duration: Duration,
    /// Include the stress tests.
    pub stress_test_enabled: bool,
    /// Seeds each benchmark is run with.
    pub seeds: u32,
}

impl Default for BenchmarkSettings {
    fn default() -> Self {
        BenchmarkSettings {
            default_duration: Duration::from_secs(300),
            stress_test_enabled: true,
            seeds: 3,
        }
    }
}

/// Where the value of one setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Nobody set it.
    Default,
    /// The settings file at this path.
    File(PathBuf),
    /// This environment variable.
    Env(String),
    /// A command-line flag.
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Flag => f.write_str("flag"),
        }
    }
}

/// The settings in force and, for every key, where its value came from.
#[derive(Clone, Debug, PartialEq)]
pub struct EffectiveSettings {
    /// The values.
    pub settings: Settings,
    /// `(key, source)` for every key, in the order of [`Settings::keys`].
    pub sources: Vec<(&'static str, Source)>,
}

impl EffectiveSettings {
    /// Where the value of `key` (`optimization.aggressiveness`) came from.
    pub fn source(&self, key: &str) -> Option<&Source> {
        self.sources.iter().find(|(k, _)| *k == key).map(|(_, s)| s)
    }

    /// Every setting with an effect, its value, where the value came from and what reads it,
    /// as TOML with comments (`ccperf config`). A setting that applies only once set is
    /// commented out while at its default; settings without effect are listed at the end,
    /// never as settings in force.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut section = "";
        let mut ignored = Vec::new();
        for (spec, (key, source)) in KEYS.iter().zip(&self.sources) {
            let (sec, name) = key.split_once('.').unwrap_or(("", key));
            let line = format!("{name} = {}", value_text(&self.settings, key));
            let (line, used_by) = match spec.effect {
                Effect::None(why) => {
                    ignored.push(format!("#   {key}: {why} ({source})\n"));
                    continue;
                }
                Effect::Used(by) => (line, by.to_string()),
                Effect::WhenSet(by) if *source == Source::Default => {
                    (format!("# {line}"), format!("{by}; not applied until set"))
                }
                Effect::WhenSet(by) => (line, by.to_string()),
            };
            if sec != section {
                if !section.is_empty() {
                    out.push('\n');
                }
                out.push_str(&format!("[{sec}]\n"));
                section = sec;
            }
            out.push_str(&format!("# {used_by}\n{line:<36} # {source}\n"));
        }
        if !ignored.is_empty() {
            out.push_str(
                "\n# read but without effect in ccperf (so the seed's example file loads):\n",
            );
            out.extend(ignored);
        }
        out
    }

    /// The targets `optimization.target_throughput` and `optimization.max_latency_ms` give a
    /// scenario without `targets`, once either is set (file, environment or flag); the other
    /// criteria are [`PerformanceTargets`]' defaults. `None` while both are at their defaults.
    pub fn default_targets(&self) -> Option<PerformanceTargets> {
        let set = |key: &str| self.source(key).is_some_and(|s| *s != Source::Default);
        if !set("optimization.target_throughput") && !set("optimization.max_latency_ms") {
            return None;
        }
        let o = &self.settings.optimization;
        Some(PerformanceTargets {
            target_throughput: o.target_throughput,
            max_latency: Duration::from_millis(o.max_latency_ms),
            ..PerformanceTargets::default()
        })
    }
}

/// The environment of this process, for [`Settings::load`]; unset or non-UTF-8 is `None`.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The settings file to read: `explicit` when given (it must then exist), else `ccperf.toml`
/// in `dir` if there is one, else none.
pub fn discover_file(explicit: Option<&Path>, dir: &Path) -> Option<PathBuf> {
    match explicit {
        Some(path) => Some(path.to_path_buf()),
        None => Some(dir.join(DEFAULT_FILE)).filter(|p| p.is_file()),
    }
}

impl Settings {
    /// Defaults, then `file` (which must exist when given), then the `CC_*` variables `env`
    /// returns (empty counts as unset), then `flags` as `(key, value)` pairs
    /// (`("optimization.aggressiveness", "0.8")`). Every bad value is an error naming its source.
    pub fn load(
        file: Option<&Path>,
        env: &impl Fn(&str) -> Option<String>,
        flags: &[(String, String)],
    ) -> Result<EffectiveSettings, ConfigError> {
        let mut settings = Settings::default();
        let mut sources: Vec<(&'static str, Source)> =
            KEYS.iter().map(|k| (k.key, Source::Default)).collect();
        if let Some(path) = file {
            let origin = path.display().to_string();
            let text =
                super::input::read_text(path, super::input::MAX_INPUT_BYTES).map_err(|e| {
                    ConfigError::new(&origin, format!("cannot read settings file: {e}"))
                })?;
            settings = Settings::from_toml(&text, &origin)?;
            let written = written_keys(&text);
            for (key, source) in &mut sources {
                if written.iter().any(|w| w == key) {
                    *source = Source::File(path.to_path_buf());
                }
            }
        }
        for (spec, (_, source)) in KEYS.iter().zip(&mut sources) {
            let Some((var, unit)) = spec.env else {
                continue;
            };
            let Some(text) = env(var).filter(|t| !t.trim().is_empty()) else {
                continue;
            };
            set(&mut settings, spec, text.trim(), unit)
                .map_err(|m| ConfigError::at_field("environment", var, m))?;
            *source = Source::Env(var.to_string());
        }
        for (key, text) in flags {
            let Some(i) = KEYS.iter().position(|k| k.key == key) else {
                return Err(ConfigError::at_field(
                    "command line",
                    key,
                    format!("unknown setting; the settings are {}", key_list()),
                ));
            };
            set(&mut settings, &KEYS[i], text.trim(), Unit::Natural)
                .map_err(|m| ConfigError::at_field("command line", key, m))?;
            sources[i].1 = Source::Flag;
        }
        Ok(EffectiveSettings { settings, sources })
    }

    /// Parse and check the text of a settings file; unknown sections and keys are refused.
    pub fn from_toml(text: &str, origin: &str) -> Result<Settings, ConfigError> {
        let settings: Settings = toml::from_str(text).map_err(|e| {
            let location = e.span().map(|s| line_column(text, s.start));
            ConfigError {
                origin: origin.to_string(),
                field: e.span().and_then(|s| key_at(text, s.start)),
                location,
                message: e.message().trim().to_string(),
            }
        })?;
        for spec in &KEYS {
            check(&settings, spec).map_err(|m| ConfigError {
                origin: origin.to_string(),
                field: Some(spec.key.to_string()),
                location: key_line(text, spec.key).map(|line| (line, 1)),
                message: m,
            })?;
        }
        Ok(settings)
    }

    /// Every key (`performance.window_size`, …), in file order.
    pub fn keys() -> impl Iterator<Item = &'static str> {
        KEYS.iter().map(|k| k.key)
    }
}

/// How an environment variable writes its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    /// As the file does (durations as `1s`).
    Natural,
    /// A duration as a whole number of milliseconds.
    Millis,
}

/// The type of a setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    Duration,
    Whole,
    Number,
}

/// What a setting does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Its value is the default of these commands' behaviour, always.
    Used(&'static str),
    /// It applies (to these commands) only once it is set in the file, the environment or a
    /// flag: its default value is not applied.
    WhenSet(&'static str),
    /// Read (so the seed's example `ccperf.toml` loads) but without effect; `ccperf config`
    /// lists it as such, never as a setting in force.
    None(&'static str),
}

/// One setting: its key, type, environment variable, the range allowed, and what it does.
struct KeySpec {
    key: &'static str,
    kind: Kind,
    env: Option<(&'static str, Unit)>,
    /// Smallest and largest value (seconds for durations); unused for booleans.
    range: (f64, f64),
    effect: Effect,
}

const fn spec(
    key: &'static str,
    kind: Kind,
    env: Option<(&'static str, Unit)>,
    range: (f64, f64),
    effect: Effect,
) -> KeySpec {
    KeySpec {
        key,
        kind,
        env,
        range,
        effect,
    }
}

const ANY: (f64, f64) = (0.0, 0.0);
const DAY: f64 = 86_400.0;

const KEYS: [KeySpec; 14] = [
    spec(
        "performance.monitoring_enabled",
        Kind::Bool,
        None,
        ANY,
        Effect::None("the monitor is part of every run and watch"),
    ),
    spec(
        "performance.metrics_retention",
        Kind::Duration,
        None,
        (1.0, 366.0 * DAY),
        Effect::None(
            "history is bounded by window_size; keeping metrics for a time is Prometheus' job",
        ),
    ),
    spec(
        "performance.sampling_interval",
        Kind::Duration,
        Some(("CC_PERFORMANCE_SAMPLING_RATE", Unit::Millis)),
        (0.001, 3600.0),
        Effect::Used("watch: --poll-interval"),
    ),
    spec(
        "performance.window_size",
        Kind::Whole,
        Some(("CC_PERFORMANCE_WINDOW_SIZE", Unit::Natural)),
        (1.0, 10_000_000.0),
        Effect::Used(
            "watch: heights the monitor keeps; serve: heights ccperf_throughput_tps covers",
        ),
    ),
    spec(
        "performance.alerts_enabled",
        Kind::Bool,
        Some(("CC_PERFORMANCE_ALERTS_ENABLED", Unit::Natural)),
        ANY,
        Effect::Used("watch and serve: alerts"),
    ),
    spec(
        "optimization.auto_tune",
        Kind::Bool,
        Some(("CC_AUTO_OPTIMIZATION", Unit::Natural)),
        ANY,
        Effect::Used("watch: the optimization engine's suggestions"),
    ),
    spec(
        "optimization.target_throughput",
        Kind::Number,
        None,
        (0.0, 1e9),
        Effect::WhenSet("bench, tune: targets of scenarios without `targets`"),
    ),
    spec(
        "optimization.max_latency_ms",
        Kind::Whole,
        None,
        (1.0, 1000.0 * DAY),
        Effect::WhenSet("bench, tune: targets of scenarios without `targets`"),
    ),
    spec(
        "optimization.aggressive_mode",
        Kind::Bool,
        None,
        ANY,
        Effect::None("aggressiveness sets the step size"),
    ),
    spec(
        "optimization.aggressiveness",
        Kind::Number,
        Some(("CC_OPTIMIZATION_AGGRESSIVENESS", Unit::Natural)),
        (0.0, 1.0),
        Effect::Used("tune: --aggressiveness; watch: the suggestions' step"),
    ),
    spec(
        "optimization.interval_s",
        Kind::Whole,
        Some(("CC_OPTIMIZATION_INTERVAL", Unit::Natural)),
        (1.0, 7.0 * DAY),
        Effect::None("watch asks the engine every 10 heights"),
    ),
    spec(
        "benchmarks.default_duration",
        Kind::Duration,
        None,
        (0.001, 366.0 * DAY),
        Effect::None("every scenario states its duration"),
    ),
    spec(
        "benchmarks.stress_test_enabled",
        Kind::Bool,
        None,
        ANY,
        Effect::Used("bench: high_load in the default set"),
    ),
    spec(
        "benchmarks.seeds",
        Kind::Whole,
        None,
        (1.0, 1000.0),
        Effect::Used("bench: --seeds"),
    ),
];

fn key_list() -> String {
    KEYS.iter().map(|k| k.key).collect::<Vec<_>>().join(", ")
}

/// A parsed value of one setting.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Value {
    Bool(bool),
    Duration(Duration),
    Whole(u64),
    Number(f64),
}

impl Value {
    /// The number range checks compare (seconds for durations).
    fn magnitude(self) -> Option<f64> {
        match self {
            Value::Bool(_) => None,
            Value::Duration(d) => Some(d.as_secs_f64()),
            Value::Whole(n) => Some(n as f64),
            Value::Number(x) => Some(x),
        }
    }
}

/// The value of `key` in `s`.
fn get(s: &Settings, key: &str) -> Option<Value> {
    let (p, o, b) = (&s.performance, &s.optimization, &s.benchmarks);
    Some(match key {
        "performance.monitoring_enabled" => Value::Bool(p.monitoring_enabled),
        "performance.metrics_retention" => Value::Duration(p.metrics_retention),
        "performance.sampling_interval" => Value::Duration(p.sampling_interval),
        "performance.window_size" => Value::Whole(p.window_size as u64),
        "performance.alerts_enabled" => Value::Bool(p.alerts_enabled),
        "optimization.auto_tune" => Value::Bool(o.auto_tune),
        "optimization.target_throughput" => Value::Number(o.target_throughput),
        "optimization.max_latency_ms" => Value::Whole(o.max_latency_ms),
        "optimization.aggressive_mode" => Value::Bool(o.aggressive_mode),
        "optimization.aggressiveness" => Value::Number(o.aggressiveness),
        "optimization.interval_s" => Value::Whole(o.interval_s),
        "benchmarks.default_duration" => Value::Duration(b.default_duration),
        "benchmarks.stress_test_enabled" => Value::Bool(b.stress_test_enabled),
        "benchmarks.seeds" => Value::Whole(u64::from(b.seeds)),
        _ => return None,
    })
}

/// Store `value` (already range-checked, of the key's kind) under `key`.
fn put(s: &mut Settings, key: &str, value: Value) {
    let (p, o, b) = (&mut s.performance, &mut s.optimization, &mut s.benchmarks);
    match (key, value) {
        ("performance.monitoring_enabled", Value::Bool(v)) => p.monitoring_enabled = v,
        ("performance.metrics_retention", Value::Duration(v)) => p.metrics_retention = v,
        ("performance.sampling_interval", Value::Duration(v)) => p.sampling_interval = v,
        ("performance.window_size", Value::Whole(v)) => {
            p.window_size = usize::try_from(v).unwrap_or(usize::MAX)
        }
        ("performance.alerts_enabled", Value::Bool(v)) => p.alerts_enabled = v,
        ("optimization.auto_tune", Value::Bool(v)) => o.auto_tune = v,
        ("optimization.target_throughput", Value::Number(v)) => o.target_throughput = v,
        ("optimization.max_latency_ms", Value::Whole(v)) => o.max_latency_ms = v,
        ("optimization.aggressive_mode", Value::Bool(v)) => o.aggressive_mode = v,
        ("optimization.aggressiveness", Value::Number(v)) => o.aggressiveness = v,
        ("optimization.interval_s", Value::Whole(v)) => o.interval_s = v,
        ("benchmarks.default_duration", Value::Duration(v)) => b.default_duration = v,
        ("benchmarks.stress_test_enabled", Value::Bool(v)) => b.stress_test_enabled = v,
        ("benchmarks.seeds", Value::Whole(v)) => b.seeds = u32::try_from(v).unwrap_or(u32::MAX),
        _ => {}
    }
}

/// The value of `key` as TOML (`true`, `"24h"`, `0.5`).
fn value_text(s: &Settings, key: &str) -> String {
    match get(s, key) {
        Some(Value::Bool(v)) => v.to_string(),
        Some(Value::Duration(v)) => format!("\"{}\"", duration::format(v)),
        Some(Value::Whole(v)) => v.to_string(),
        Some(Value::Number(v)) => format!("{v:?}"),
        None => String::new(),
    }
}

/// What `spec` allows, written in `unit`, for messages.
fn allowed(spec: &KeySpec, unit: Unit) -> String {
    let (lo, hi) = spec.range;
    match (spec.kind, unit) {
        (Kind::Bool, _) => "true or false".to_string(),
        (Kind::Duration, Unit::Millis) => format!(
            "a whole number of milliseconds from {} to {}",
            lo * 1000.0,
            hi * 1000.0
        ),
        (Kind::Duration, Unit::Natural) => format!(
            "a duration like `1s` or `5m`, from {} to {}",
            duration::format(Duration::from_secs_f64(lo)),
            duration::format(Duration::from_secs_f64(hi))
        ),
        (Kind::Whole, _) => format!("a whole number from {lo} to {hi}"),
        (Kind::Number, _) => format!("a number from {lo} to {hi}"),
    }
}

/// Parse `text` (written in `unit`) for `spec`, check its range and store it.
fn set(settings: &mut Settings, spec: &KeySpec, text: &str, unit: Unit) -> Result<(), String> {
    let parsed = match (spec.kind, unit) {
        (Kind::Bool, _) => parse_bool(text).map(Value::Bool),
        (Kind::Duration, Unit::Millis) => text
            .parse()
            .ok()
            .map(Duration::from_millis)
            .map(Value::Duration),
        (Kind::Duration, Unit::Natural) => duration::parse(text).ok().map(Value::Duration),
        (Kind::Whole, _) => text.parse().ok().map(Value::Whole),
        (Kind::Number, _) => text.parse().ok().map(Value::Number),
    };
    let value = parsed.ok_or_else(|| {
        format!(
            "`{text}` is not valid for {}: allowed is {}",
            spec.key,
            allowed(spec, unit)
        )
    })?;
    if !in_range(spec, value) {
        return Err(format!(
            "`{text}` is out of range for {}: allowed is {}",
            spec.key,
            allowed(spec, unit)
        ));
    }
    put(settings, spec.key, value);
    Ok(())
}

fn in_range(spec: &KeySpec, value: Value) -> bool {
    let (lo, hi) = spec.range;
    value.magnitude().is_none_or(|x| x >= lo && x <= hi)
}

/// Is the value of `spec` in its range? The error says what is allowed.
fn check(settings: &Settings, spec: &KeySpec) -> Result<(), String> {
    match get(settings, spec.key) {
        Some(value) if !in_range(spec, value) => Err(format!(
            "{} is out of range: allowed is {}",
            value_text(settings, spec.key),
            allowed(spec, Unit::Natural)
        )),
        _ => Ok(()),
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The dotted keys written in a settings file (`[performance]` + `window_size = 5`).
fn written_keys(text: &str) -> Vec<String> {
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for (section, value) in &table {
        if let Some(inner) = value.as_table() {
            keys.extend(inner.keys().map(|k| format!("{section}.{k}")));
        }
    }
    keys
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The dotted key whose line holds byte `offset`: the section header above it plus the key
/// before `=` on that line (or the section alone when the line is a header).
fn key_at(text: &str, offset: usize) -> Option<String> {
    let (line_no, _) = line_column(text, offset);
    let mut section = String::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            section = header.trim().to_string();
        }
        if i + 1 == line_no {
            let key = line
                .split_once('=')
                .map(|(k, _)| k.trim().trim_matches('"'));
            return match (section.is_empty(), key) {
                (_, None) if line.starts_with('[') => Some(section),
                (true, Some(k)) => Some(k.to_string()),
                (false, Some(k)) => Some(format!("{section}.{k}")),
                _ => None,
            };
        }
    }
    None
}

/// 1-based line where dotted `key` is written in `text`, if it is.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let (wanted_section, wanted_key) = key.split_once('.')?;
    let mut section = "";
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            section = header.trim();
        } else if let Some((k, _)) = line.split_once('=')
            && section == wanted_section
            && k.trim() == wanted_key
        {
            return Some(i + 1);
        }
    }
    None
}
