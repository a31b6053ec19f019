//! `ccperf tune`: the closed loop. Runs the scenario on several seeds, tries the optimizer's
//! suggestions one at a time on the same seeds, keeps what improves the score, and writes the
//! tuned scenario as YAML.

use super::{EXIT_BAD_INPUT, bad_input, load, output};
use crate::bench::{self, Runner};
use crate::config;
use crate::optimize::DEFAULT_AGGRESSIVENESS;
use crate::optimize::tune::{
    self, DEFAULT_ITERATIONS, Measurement, Objective, StopReason, TuneOptions, TuneOutcome,
};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Arguments of `ccperf tune`.
#[derive(Debug, clap::Args)]
pub struct TuneArgs {
    /// Scenario file (YAML) or built-in name.
    pub scenario: String,
    /// Most iterations; each keeps at most one change.
    #[arg(long, default_value_t = DEFAULT_ITERATIONS)]
    pub iterations: u32,
    /// Seeds every run is repeated on: the scenario's seed, seed + 1, …, seed + K - 1.
    #[arg(long, default_value_t = bench::DEFAULT_SEEDS)]
    pub seeds: u32,
    /// Step size of the suggestions, 0.0 (none) to 1.0 (reductions halve, increases double);
    /// without it, `optimization.aggressiveness` from the settings.
    #[arg(long, default_value_t = DEFAULT_AGGRESSIVENESS)]
    pub aggressiveness: f64,
    /// Where to write the tuned scenario (default: `<scenario name>.tuned.yaml`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Settings file (default: ./ccperf.toml when there is one); see `ccperf config`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Run `ccperf tune` with the simulator.
pub fn tune(args: &TuneArgs) -> i32 {
    tune_with(args, &bench::simulate)
}

/// Run `ccperf tune` with `runner` (tests inject a fake); returns the exit code: 0, or 2 on bad
/// input or when the tuned scenario cannot be written (after the results are printed).
pub fn tune_with(args: &TuneArgs, runner: &Runner) -> i32 {
    tune_with_targets(args, None, runner)
}

/// [`tune_with`], giving a scenario without `targets` these (the settings'
/// `optimization.target_throughput` and `max_latency_ms`, once set): the score is then the
/// distance from them instead of the mean block interval.
pub fn tune_with_targets(
    args: &TuneArgs,
    default_targets: Option<crate::params::PerformanceTargets>,
    runner: &Runner,
) -> i32 {
    let mut scenario = match load(&args.scenario) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    if scenario.targets.is_none() {
        scenario.targets = default_targets;
    }
    let options = TuneOptions {
        iterations: args.iterations,
        seeds: args.seeds,
        aggressiveness: args.aggressiveness,
        jobs: args.jobs,
        progress: true,
    };
    let outcome = match tune::tune(&scenario, &options, runner) {
        Ok(o) => o,
        Err(e) => return bad_input(&e),
    };
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&outcome.scenario.name));
    let printed = if args.json {
        let document = serde_json::json!({ "out": path, "tune": outcome });
        output::print(&format!("{document}\n"))
    } else {
        output::print(&render_table(&outcome))
    };
    let text = format!(
        "{}{}",
        yaml_header(&args.scenario, &outcome),
        config::to_yaml(&outcome.scenario)
    );
    match crate::export::file::write_atomically(&path, text.as_bytes()) {
        Ok(()) => {
            let line = format!("tuned scenario written to {}", path.display());
            if args.json {
                output::note(&line);
                printed
            } else {
                output::worst(printed, output::print(&(line + "\n")))
            }
        }
        Err(e) => {
            output::note(&format!(
                "error: cannot write the tuned scenario to {}: {e}",
                path.display()
            ));
            EXIT_BAD_INPUT
        }
    }
}

/// `<name>.tuned.yaml` in the current directory, the name made safe for a file name.
pub fn default_out(name: &str) -> PathBuf {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.');
    let stem = if stem.is_empty() { "scenario" } else { stem };
    PathBuf::from(format!("{stem}.tuned.yaml"))
}

/// Every step as a row (its reason on the line below), framed by the baseline and the result.
pub fn render_table(o: &TuneOutcome) -> String {
    let mut s = String::new();
    let seeds: Vec<String> = o.seeds.iter().map(u64::to_string).collect();
    let objective = match o.objective {
        Objective::Targets => "the scenario's targets (score = sum of shortfalls, 0 = all met)",
        Objective::BlockInterval => {
            "no targets: mean block interval (s), throughput kept within 2 %"
        }
    };
    let _ = writeln!(
        s,
        "tuning {} on seeds {}; objective: {objective}",
        o.scenario.name,
        seeds.join(", ")
    );
    let _ = writeln!(s, "baseline  {}", summary(&o.baseline));
    let _ = writeln!(
        s,
        "\n{:>4}  {:<24} {:<20} {:<18} {:<20} {:<18} {:<16} result",
        "iter",
        "parameter",
        "from -> to",
        "score",
        "block interval (s)",
        "throughput (tx/s)",
        "p99 latency (s)",
    );
    for step in &o.steps {
        let b = &step.before;
        let pair = |before: f64, after: Option<f64>, decimals: usize| match after {
            Some(a) => format!("{before:.decimals$} -> {a:.decimals$}"),
            None => format!("{before:.decimals$} -> -"),
        };
        let after = step.after.as_ref();
        let _ = writeln!(
            s,
            "{:>4}  {:<24} {:<20} {:<18} {:<20} {:<18} {:<16} {}",
            step.iteration,
            step.parameter.name(),
            format!("{} -> {}", step.from, step.to),
            pair(b.score, after.map(|a| a.score), 3),
            pair(b.block_interval_s, after.map(|a| a.block_interval_s), 3),
            pair(b.throughput_tps, after.map(|a| a.throughput_tps), 1),
            pair(b.latency_p99_s, after.map(|a| a.latency_p99_s), 3),
            if step.kept { "kept" } else { "rolled back" }
        );
        let _ = writeln!(s, "      why: {}", step.reason);
        let _ = writeln!(s, "      verdict: {}", step.verdict);
    }
    if o.steps.is_empty() {
        let _ = writeln!(s, "      (no step tried)");
    }
    let _ = writeln!(s, "\ntuned     {}", summary(&o.tuned));
    let _ = writeln!(
        s,
        "block interval {:.3} s -> {:.3} s ({:+.1} %), {} of {} changes kept, {} iteration(s); {}",
        o.baseline.block_interval_s,
        o.tuned.block_interval_s,
        percent_change(o.baseline.block_interval_s, o.tuned.block_interval_s),
        o.kept().count(),
        o.steps.len(),
        o.iterations,
        stop_text(o.stop)
    );
    let changed = changes(o);
    if !changed.is_empty() {
        let _ = writeln!(s, "changed   {}", changed.join(", "));
    }
    s
}

/// `(after - before) / before` in percent; 0 when `before` is not positive.
fn percent_change(before: f64, after: f64) -> f64 {
    if before > 0.0 {
        100.0 * (after - before) / before
    } else {
        0.0
    }
}

fn summary(m: &Measurement) -> String {
    format!(
        "score {:.3}  block interval {:.3} s  height time {:.3} s  throughput {:.1} tx/s  p99 latency {:.3} s  rounds/height {:.2}  safety {}/{}",
        m.score,
        m.block_interval_s,
        m.round_duration_s,
        m.throughput_tps,
        m.latency_p99_s,
        m.rounds_per_height,
        m.safety_held,
        m.seeds
    )
}

fn stop_text(stop: StopReason) -> &'static str {
    match stop {
        StopReason::IterationLimit => "stopped at the iteration limit",
        StopReason::NoImprovement => "stopped: no suggestion improved the score",
        StopReason::NothingToSuggest => {
            "stopped: nothing left to suggest (targets met and heights decide in one round, or every step is at its bound)"
        }
    }
}

/// Each parameter the kept steps changed, first value to last: `timeout_propose 3s -> 1.2s`.
fn changes(o: &TuneOutcome) -> Vec<String> {
    let mut firsts: Vec<(crate::optimize::Parameter, String)> = Vec::new();
    for step in o.kept() {
        if !firsts.iter().any(|(p, _)| *p == step.parameter) {
            firsts.push((step.parameter, step.from.to_string()));
        }
    }
    firsts
        .into_iter()
        .map(|(p, from)| format!("{p} {from} -> {}", p.get(&o.scenario.parameters)))
        .collect()
}

/// Comment lines on top of the written scenario: where it came from and what changed.
fn yaml_header(source: &str, o: &TuneOutcome) -> String {
    let mut s = format!(
        "# Tuned by `ccperf tune {source}` on seeds {:?}: mean block interval {:.3} s -> {:.3} s, score {:.3} -> {:.3}.\n",
        o.seeds,
        o.baseline.block_interval_s,
        o.tuned.block_interval_s,
        o.baseline.score,
        o.tuned.score
    );
    let changed = changes(o);
    if changed.is_empty() {
        s.push_str("# No change improved the score: the parameters are the original ones.\n");
    } else {
        let _ = writeln!(s, "# Changed: {}.", changed.join(", "));
    }
    s
}
