//! Progress off a terminal: with stderr piped (as in a Slurm or Kubernetes log) the long
//! commands write a plain progress line every `CCPERF_PROGRESS_INTERVAL` seconds of wall time
//! (5 by default), and what they print on stdout is the same with or without them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ccperf");

/// 20 validators for a minute: about 108,000 events, so several progress checks.
const SCENARIO: &str = "name: progress\nseed: 3\nduration: 60s\nvalidators: { count: 20 }\n\
    load: { transaction_rate: 200 }\n";

const SWEEP: &str = "name: progress_sweep\nbase:\n  name: progress_sweep\n  seed: 1\n  \
    duration: 30s\n  validators: { count: 10 }\ngrid:\n  parameters.timeout_propose: [1s, 2s, 3s]\n\
    seeds: 1\n";

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-progress-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join("progress.yaml"), SCENARIO).expect("scenario");
    std::fs::write(dir.join("sweep.yaml"), SWEEP).expect("sweep");
    dir
}

/// Runs ccperf in `dir` with stdout and stderr piped and the progress interval `interval`
/// seconds (`None`: a day, so no line).
fn ccperf(dir: &Path, args: &[&str], interval: Option<&str>) -> Output {
    let output = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("CCPERF_PROGRESS_INTERVAL", interval.unwrap_or("86400"))
        .env_remove("CI")
        .output()
        .expect("ccperf runs");
    assert!(
        output.status.success(),
        "{args:?}: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stderr_lines(output: &Output, prefix: &str) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// The `--json` report without its one wall-clock field.
fn deterministic_part(stdout: &[u8]) -> serde_json::Value {
    let mut report: serde_json::Value = serde_json::from_slice(stdout).expect("json report");
    report
        .as_object_mut()
        .expect("object")
        .remove("wall_time_s");
    report
}

#[test]
fn a_piped_run_prints_progress_lines_and_the_same_report() {
    let dir = scratch("run");
    let args = ["run", "progress.yaml", "--json"];
    let with = ccperf(&dir, &args, Some("0.01"));
    let lines = stderr_lines(&with, "run progress: ");
    assert!(
        !lines.is_empty(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    // `run progress: 8.8 of 60.0 virtual s (15 %), 6 heights, 16384 events, 0 s elapsed`:
    // virtual time rises, events are counted in steps of 16384.
    let mut previous = -1.0;
    for line in &lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let virtual_s: f64 = words[2].parse().expect("virtual seconds");
        assert_eq!(words[3..6], ["of", "60.0", "virtual"], "{line}");
        assert!(virtual_s > previous && virtual_s <= 60.0, "{line}");
        previous = virtual_s;
        let events: u64 = words[11].parse().expect("events");
        assert_eq!(events % 16384, 0, "{line}");
    }
    let without = ccperf(&dir, &args, None);
    assert!(stderr_lines(&without, "run progress: ").is_empty());
    assert_eq!(
        deterministic_part(&with.stdout),
        deterministic_part(&without.stdout)
    );
}

#[test]
fn piped_bench_sweep_and_tune_print_runs_done() {
    let dir = scratch("batch");
    let bench = ["bench", "progress.yaml", "--seeds", "2", "--jobs", "1"];
    let with = ccperf(&dir, &bench, Some("0.01"));
    let lines = stderr_lines(&with, "bench: ");
    assert!(
        !lines.is_empty(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    for line in &lines {
        let done = line
            .strip_prefix("bench: ")
            .and_then(|l| l.split('/').next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(99);
        // The line can come between the last run's end and the bar's finish: 2/2 is possible.
        assert!(done <= 2 && line.contains("/2 runs done, "), "{line}");
    }
    let without = ccperf(&dir, &bench, None);
    assert!(stderr_lines(&without, "bench: ").is_empty());
    assert_eq!(with.stdout, without.stdout, "the table does not change");

    let out = dir.join("sweep.jsonl").display().to_string();
    let sweep = ccperf(
        &dir,
        &["sweep", "sweep.yaml", "--out", &out, "--jobs", "1"],
        Some("0.01"),
    );
    let lines = stderr_lines(&sweep, "sweep progress_sweep: ");
    assert!(
        lines.iter().any(|l| l.contains("/3 runs done")),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );

    let tuned = dir.join("tuned.yaml").display().to_string();
    let tune = ccperf(
        &dir,
        &[
            "tune",
            "progress.yaml",
            "--iterations",
            "1",
            "--seeds",
            "1",
            "--jobs",
            "1",
            "--out",
            &tuned,
        ],
        Some("0.01"),
    );
    assert!(
        !stderr_lines(&tune, "tune: ").is_empty(),
        "{}",
        String::from_utf8_lossy(&tune.stderr)
    );
}
