//! `ccperf config`: the settings in force and where each value came from, defaults <
//! `ccperf.toml` (or `--config FILE`) < `CC_*` environment variables < `--set key=value`.
//!
//! `bench`, `tune`, `watch` and `serve` read the same settings through [`effective`] (and
//! take `--config FILE`); `ccperf config` says which setting each reads. `ccperf run` and
//! `ccperf sweep` ignore them, so a run's report depends on its scenario and seed alone.

use super::bad_input;
use crate::config::ConfigError;
use crate::config::settings::{EffectiveSettings, Settings, discover_file, process_env};
use clap::ArgMatches;
use clap::parser::ValueSource;
use std::path::{Path, PathBuf};

/// Arguments of `ccperf config`.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Settings file (default: ./ccperf.toml when there is one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Set a value for this invocation, e.g. `--set optimization.aggressiveness=0.8`
    /// (repeatable; beats the file and the environment).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_assignment)]
    pub set: Vec<(String, String)>,
}

/// Run `ccperf config`: print the effective settings as TOML, each value commented with its
/// source; exit 2 naming the file, variable or flag when a value is bad.
pub fn config(file: Option<&Path>, args: &ConfigArgs) -> i32 {
    let file = settings_file(file);
    match Settings::load(file.as_deref(), &process_env, &args.set) {
        Ok(effective) => {
            let source = match &file {
                Some(path) => format!("# settings file: {}\n", path.display()),
                None => format!(
                    "# settings file: none ({} not found)\n",
                    default_path_text()
                ),
            };
            super::output::print(&(source + &effective.render()))
        }
        Err(e) => bad_input(&e),
    }
}

/// The settings in force for this process: `config` (which must exist when given) or else
/// `./ccperf.toml` if present, then the `CC_*` environment.
pub fn effective(config: Option<&Path>) -> Result<EffectiveSettings, ConfigError> {
    Settings::load(settings_file(config).as_deref(), &process_env, &[])
}

/// Sets `ccperf bench`'s seed count from `benchmarks.seeds` unless `--seeds` was given on
/// the command line (`matches` are the whole command line's).
pub fn default_bench_seeds(
    args: &mut super::bench::BenchArgs,
    matches: &ArgMatches,
    effective: &EffectiveSettings,
) {
    let given = matches
        .subcommand_matches("bench")
        .and_then(|bench| bench.value_source("seeds"))
        .is_some_and(|source| source != ValueSource::DefaultValue);
    if !given {
        args.seeds = effective.settings.benchmarks.seeds;
    }
}

/// `ccperf tune` takes its aggressiveness from `optimization.aggressiveness` unless
/// `--aggressiveness` was given.
pub fn default_tune_aggressiveness(
    args: &mut super::tune::TuneArgs,
    matches: &ArgMatches,
    effective: &EffectiveSettings,
) {
    let given = matches
        .subcommand_matches("tune")
        .and_then(|tune| tune.value_source("aggressiveness"))
        .is_some_and(|source| source != ValueSource::DefaultValue);
    if !given {
        args.aggressiveness = effective.settings.optimization.aggressiveness;
    }
}

/// The settings file to read: `explicit`, or `ccperf.toml` in the current directory.
fn settings_file(explicit: Option<&Path>) -> Option<PathBuf> {
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    discover_file(explicit, &dir)
}

fn default_path_text() -> String {
    std::env::current_dir()
        .map(|dir| dir.join(crate::config::settings::DEFAULT_FILE))
        .unwrap_or_else(|_| PathBuf::from(crate::config::settings::DEFAULT_FILE))
        .display()
        .to_string()
}

/// `key=value` → `(key, value)`; the key is checked when the settings load.
fn parse_assignment(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!(
            "`{text}` is not KEY=VALUE (e.g. performance.window_size=500); the keys are {}",
            Settings::keys().collect::<Vec<_>>().join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_splits_at_the_first_equals_sign() {
        assert_eq!(
            parse_assignment(" benchmarks.seeds = 5 "),
            Ok(("benchmarks.seeds".to_string(), "5".to_string()))
        );
        assert_eq!(
            parse_assignment("a=b=c"),
            Ok(("a".to_string(), "b=c".to_string()))
        );
        assert!(parse_assignment("benchmarks.seeds").is_err());
        assert!(parse_assignment("=5").is_err());
    }
}
