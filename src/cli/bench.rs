//! `ccperf bench`: the benchmark suite (or named scenarios) over several seeds, in parallel.

use super::{EXIT_FAILED, bad_input, load, output};
use crate::bench::{BUILTIN_BENCHMARKS, BenchmarkResult, ConsensusBenchmark, DEFAULT_SEEDS};
use crate::config::settings::EffectiveSettings;
use crate::params::PerformanceTargets;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `ccperf bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Built-in names or scenario files (default: baseline, high_load, byzantine_fault,
    /// network_partition; without high_load, the stress test, when
    /// `benchmarks.stress_test_enabled` is false).
    pub scenarios: Vec<String>,
    /// Seeds per scenario: the scenario's seed, seed + 1, …, seed + K - 1; without it,
    /// `benchmarks.seeds` from the settings.
    #[arg(long, default_value_t = DEFAULT_SEEDS)]
    pub seeds: u32,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write each run's report (DIR/SCENARIO-seedK.json) and summary.json to DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Settings file (default: ./ccperf.toml when there is one); see `ccperf config`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The built-in scenarios `ccperf bench` runs when none is named: all four, or without
/// `high_load` (the stress test: 1000 tx/s for 5 minutes) when `stress_tests` is false.
pub fn default_scenarios(stress_tests: bool) -> Vec<String> {
    BUILTIN_BENCHMARKS
        .iter()
        .filter(|name| stress_tests || **name != "high_load")
        .map(|name| name.to_string())
        .collect()
}

/// Run `ccperf bench` with the simulator and these settings: `benchmarks.stress_test_enabled`
/// picks the default set, and the targets of `optimization.target_throughput` and
/// `max_latency_ms`, once set, judge every scenario that has no `targets`.
pub fn bench_with_settings(args: &BenchArgs, effective: &EffectiveSettings) -> i32 {
    let names = if args.scenarios.is_empty() {
        default_scenarios(effective.settings.benchmarks.stress_test_enabled)
    } else {
        args.scenarios.clone()
    };
    let targets = effective.default_targets();
    run_named(args, &names, targets.as_ref(), ConsensusBenchmark::new())
}

/// Run `ccperf bench` with the simulator.
pub fn bench(args: &BenchArgs) -> i32 {
    bench_with(args, ConsensusBenchmark::new())
}

/// Run `ccperf bench` with a configured benchmark (its runner, for tests); returns the exit
/// code: 1 when a success criterion failed, 2 on bad input.
pub fn bench_with(args: &BenchArgs, benchmark: ConsensusBenchmark) -> i32 {
    let names: Vec<String> = if args.scenarios.is_empty() {
        default_scenarios(true)
    } else {
        args.scenarios.clone()
    };
    run_named(args, &names, None, benchmark)
}

/// Load `names`, give those without targets `default_targets`, run and print.
fn run_named(
    args: &BenchArgs,
    names: &[String],
    default_targets: Option<&PerformanceTargets>,
    benchmark: ConsensusBenchmark,
) -> i32 {
    let mut scenarios = match names.iter().map(|n| load(n)).collect::<Result<Vec<_>, _>>() {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    for scenario in &mut scenarios {
        if scenario.targets.is_none() {
            scenario.targets = default_targets.cloned();
        }
    }
    let mut benchmark = benchmark.with_seeds(args.seeds).with_progress(true);
    if let Some(jobs) = args.jobs {
        benchmark = benchmark.with_jobs(jobs);
    }
    let results = match benchmark.run_scenarios(&scenarios) {
        Ok(r) => r,
        Err(e) => return bad_input(&e),
    };
    let document = serde_json::json!({
        "seeds": args.seeds,
        "success": results.iter().all(|r| r.success_criteria_met),
        "benchmarks": results,
    });
    if let Some(dir) = &args.out
        && let Err(e) = write_out(dir, &results, &document)
    {
        return bad_input(&e);
    }
    let mut code = if args.json {
        output::print(&format!("{document}\n"))
    } else {
        output::print(&render_table(&results))
    };
    for r in &results {
        for c in r.failed_criteria() {
            output::note(&format!("{}: {c}", r.name));
            code = output::worst(code, EXIT_FAILED);
        }
    }
    code
}

/// Per scenario: mean ± 95 % interval across seeds (Student's t) of the headline metrics, then
/// an alert line per target a scenario missed (on the mean over its seeds).
pub fn render_table(results: &[BenchmarkResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<20} {:>5} {:>20} {:>18} {:>18} {:>18} {:>14} {:>7} {:>8}",
        "scenario",
        "seeds",
        "throughput (tx/s)",
        "latency p50 (s)",
        "latency p99 (s)",
        "height time (s)",
        "rounds/height",
        "safety",
        "success"
    );
    for r in results {
        let m = &r.summary;
        let _ = writeln!(
            s,
            "{:<20} {:>5} {:>20} {:>18} {:>18} {:>18} {:>14} {:>7} {:>8}",
            r.name,
            m.seeds.len(),
            m.throughput_tps.display(1),
            m.latency_p50_s.display(3),
            m.latency_p99_s.display(3),
            m.round_duration_s.display(3),
            m.rounds_per_height.display(2),
            format!("{}/{}", m.safety_held, m.seeds.len()),
            if r.success_criteria_met { "yes" } else { "NO" }
        );
    }
    let _ = writeln!(
        s,
        "(mean ± half-width of the 95 % interval across seeds, Student's t)"
    );
    for r in results {
        for alert in &r.alerts {
            let _ = writeln!(s, "alert  {}: {}", r.name, alert.message);
        }
    }
    s
}

fn write_out(
    dir: &Path,
    results: &[BenchmarkResult],
    document: &serde_json::Value,
) -> Result<(), String> {
    let fail = |path: &Path, e: std::io::Error| format!("{}: {e}", path.display());
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    for r in results {
        let stem: String = r
            .name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        for report in &r.reports {
            let path = dir.join(format!("{stem}-seed{}.json", report.seed));
            std::fs::write(&path, report.to_json(true) + "\n").map_err(|e| fail(&path, e))?;
        }
    }
    let path = dir.join("summary.json");
    std::fs::write(&path, format!("{document:#}\n")).map_err(|e| fail(&path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stress_test_enabled_false_leaves_high_load_out_of_the_default_set() {
        assert_eq!(
            default_scenarios(true),
            [
                "baseline",
                "high_load",
                "byzantine_fault",
                "network_partition"
            ]
        );
        assert_eq!(
            default_scenarios(false),
            ["baseline", "byzantine_fault", "network_partition"]
        );
    }
}
