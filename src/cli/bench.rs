//! `ccperf bench`: the benchmark suite (or named scenarios) over several seeds, in parallel.

use super::{EXIT_FAILED, bad_input, load, output};
use crate::bench::{BUILTIN_BENCHMARKS, BenchmarkResult, ConsensusBenchmark, DEFAULT_SEEDS};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `ccperf bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Built-in names or scenario files (default: baseline, high_load, byzantine_fault,
    /// network_partition).
    pub scenarios: Vec<String>,
    /// Seeds per scenario: the scenario's seed, seed + 1, …, seed + K - 1.
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
}

/// Run `ccperf bench` with the simulator.
pub fn bench(args: &BenchArgs) -> i32 {
    bench_with(args, ConsensusBenchmark::new())
}

/// Run `ccperf bench` with a configured benchmark (its runner, for tests); returns the exit
/// code: 1 when a success criterion failed, 2 on bad input.
pub fn bench_with(args: &BenchArgs, benchmark: ConsensusBenchmark) -> i32 {
    let names: Vec<String> = if args.scenarios.is_empty() {
        BUILTIN_BENCHMARKS.iter().map(|s| s.to_string()).collect()
    } else {
        args.scenarios.clone()
    };
    let scenarios = match names.iter().map(|n| load(n)).collect::<Result<Vec<_>, _>>() {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
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
