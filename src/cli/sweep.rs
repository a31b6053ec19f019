//! `ccperf sweep` and `ccperf merge`: parameter grids as ordered, resumable, shardable JSONL.

use super::{EXIT_FAILED, bad_input, output};
use crate::bench::sweep::{
    Existing, Shard, SweepOptions, SweepRecord, SweepSpec, SweepSummary, merge_files,
};
use crate::bench::{Runner, simulate};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Arguments of `ccperf sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The sweep file (YAML: base, grid, seeds, name).
    pub sweep: PathBuf,
    /// JSONL output, one line per run in run order (without it: JSONL on stdout at the end,
    /// the summary table on stderr).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only shard K of N (1-based): the runs with index % N == K-1. Default: from
    /// SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX with CCPERF_SHARDS.
    #[arg(long, value_name = "K/N", conflicts_with = "shard_count")]
    pub shard: Option<String>,
    /// Number of shards when the index comes from the environment (overrides its count).
    #[arg(long, value_name = "N")]
    pub shard_count: Option<usize>,
    /// Continue an interrupted `--out` file: keep its complete lines, run what is missing.
    #[arg(long, requires = "out", conflicts_with = "force")]
    pub resume: bool,
    /// Overwrite an existing `--out` file.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// Arguments of `ccperf merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Shard outputs of one sweep.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The merged JSONL, in unsharded run order.
    #[arg(long)]
    pub out: PathBuf,
}

/// Run `ccperf sweep` with the simulator.
pub fn sweep(args: &SweepArgs) -> i32 {
    sweep_with(args, &simulate, |name| std::env::var(name).ok())
}

/// Run `ccperf sweep` with `runner` and environment `var`; returns the exit code: 1 when a run
/// violated an invariant, 2 on bad input (checked before any run).
pub fn sweep_with(args: &SweepArgs, runner: &Runner, var: impl Fn(&str) -> Option<String>) -> i32 {
    let shard = match &args.shard {
        Some(spec) => Shard::parse(spec).map(Some),
        None => Shard::from_env(args.shard_count, var).map(|found| {
            found.map(|(shard, source)| {
                output::note(&format!("shard {shard} (from {source})"));
                shard
            })
        }),
    };
    let shard = match shard {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    let spec = match SweepSpec::from_file(&args.sweep) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    let options = SweepOptions {
        out: args.out.clone(),
        existing: match (args.resume, args.force) {
            (true, _) => Existing::Resume,
            (false, true) => Existing::Overwrite,
            (false, false) => Existing::Refuse,
        },
        jobs: args.jobs,
        shard,
        progress: true,
    };
    let summary = match crate::bench::sweep::run_sweep(&spec, &options, runner) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    for note in &summary.notes {
        output::note(note);
    }
    let table = render_summary(&summary);
    let printed = if args.out.is_some() {
        output::print(&table)
    } else {
        let lines: String = summary.records.iter().map(SweepRecord::to_line).collect();
        let printed = output::print(&lines);
        output::note(table.trim_end());
        printed
    };
    let violated: Vec<usize> = summary
        .records
        .iter()
        .filter(|r| !r.report.safety.held())
        .map(|r| r.index)
        .collect();
    if violated.is_empty() {
        printed
    } else {
        output::note(&format!("invariant violated in runs {violated:?}"));
        output::worst(printed, EXIT_FAILED)
    }
}

/// Run `ccperf merge`.
pub fn merge(args: &MergeArgs) -> i32 {
    match merge_files(&args.files, &args.out) {
        Ok(runs) => {
            output::note(&format!("{}: {runs} runs", args.out.display()));
            0
        }
        Err(e) => bad_input(&e),
    }
}

/// Per point: its values, then the means over its seeds.
pub fn render_summary(summary: &SweepSummary) -> String {
    let mut s = String::new();
    let shard = summary
        .shard
        .map(|sh| format!(", shard {sh}"))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "sweep {}: {} runs{shard}, {} resumed, {} run now",
        summary.name, summary.total_runs, summary.resumed, summary.ran
    );
    let width = summary
        .points
        .iter()
        .map(|p| p.values.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let _ = writeln!(
        s,
        "{:>5}  {:<width$}  {:>4}  {:>12}  {:>10}  {:>14}  {:>6}  {:>6}",
        "point", "values", "runs", "tput (tx/s)", "p99 (s)", "height (s)", "rounds", "safety"
    );
    for p in &summary.points {
        let _ = writeln!(
            s,
            "{:>5}  {:<width$}  {:>4}  {:>12.1}  {:>10.3}  {:>14.3}  {:>6.2}  {:>6}",
            p.point,
            p.values,
            p.runs,
            p.throughput_tps,
            p.latency_p99_s,
            p.round_duration_s,
            p.rounds_mean,
            format!("{}/{}", p.safety_held, p.runs)
        );
    }
    s
}
