//! `ccperf`'s commands. Thin: parse, call the library, print. Exit codes: 0 success, 1 the run
//! finished but an invariant (or a success criterion, where asked) failed, 2 bad input.

use crate::config::{self, ConfigError, Scenario};
use crate::report::RunReport;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::fmt::Write as _;
use std::path::PathBuf;

pub mod bench;
pub mod calibrate;
pub mod output;
pub mod regions;
pub mod report;
pub mod serve;
pub mod settings;
pub mod sweep;
pub mod tune;
pub mod watch;

/// Exit code: the run finished but an invariant or a success criterion failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit code: bad input (usage, file, validation).
pub const EXIT_BAD_INPUT: i32 = 2;

/// Deterministic performance simulator, monitor and tuner for Tendermint-style BFT chains.
#[derive(Debug, Parser)]
#[command(name = "ccperf", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one simulation and print its report.
    Run(RunArgs),
    /// Check a scenario file and print it with every default filled in.
    Validate {
        /// Scenario file (YAML) or built-in name.
        scenario: String,
    },
    /// List the built-in scenarios.
    Scenarios,
    /// List the cloud regions `network.regions` can place nodes in, with measured latencies.
    Regions(regions::RegionsArgs),
    /// Run benchmark scenarios over several seeds and judge their success criteria.
    Bench(bench::BenchArgs),
    /// Run a parameter sweep (scenario × grid × seeds) into ordered JSONL.
    Sweep(sweep::SweepArgs),
    /// Join the shard outputs of a sweep.
    Merge(sweep::MergeArgs),
    /// Write an HTML page with plots of a run report or of sweep results.
    Report(report::ReportArgs),
    /// Run a simulation paced against the wall clock and serve its metrics over HTTP.
    Serve(serve::ServeArgs),
    /// Print the settings in force (ccperf.toml < CC_* environment < --set) and their sources.
    Config(settings::ConfigArgs),
    /// Tune a scenario's parameters: suggest, rerun on the same seeds, keep or roll back.
    Tune(tune::TuneArgs),
    /// Follow a running CometBFT node (RPC and/or metrics) with the performance monitor.
    Watch(watch::WatchArgs),
    /// Run CometBFT's v0.38 QA testnet scenario at its loads and write the calibration document.
    Calibrate(calibrate::CalibrateArgs),
}

/// Arguments of `ccperf run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (YAML) or built-in name (see `ccperf scenarios`).
    pub scenario: String,
    /// Master seed (default: the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Include one record per committed height.
    #[arg(long)]
    pub heights: bool,
    /// Validator whose view the per-height records and resources show (default: the first
    /// correct one).
    #[arg(long, value_name = "INDEX")]
    pub observer: Option<u16>,
    /// Also write the run's metrics to FILE in Prometheus text format (node_exporter textfile).
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,
    /// The `chain_id` label of the Prometheus metrics (default: the scenario's name).
    #[arg(long, value_name = "ID")]
    pub chain_id: Option<String>,
    /// Also write every processed event to FILE, one JSON object a line (deliveries with their
    /// message, commit certificates, block serves, timer firings).
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
}

/// Run the command line `args`; returns the process exit code.
pub fn main_with(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
        }
    };
    match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate { scenario } => validate(&scenario),
        Command::Report(args) => report::report(&args),
        Command::Regions(args) => regions::regions(&args),
        Command::Calibrate(args) => calibrate::calibrate(&args),
        Command::Scenarios => {
            let mut list = String::new();
            for name in config::builtin_names() {
                let description = config::builtin_scenario(name)
                    .and_then(Result::ok)
                    .map(|s| s.description)
                    .unwrap_or_default();
                let _ = writeln!(list, "{name:<20} {description}");
            }
            let _ = writeln!(
                list,
                "\nexample networks (by name; not in `bench`'s default set):"
            );
            for name in config::example_names() {
                let description = config::example_scenario(name)
                    .and_then(Result::ok)
                    .map(|s| s.description)
                    .unwrap_or_default();
                let _ = writeln!(list, "{name:<24} {description}");
            }
            output::print(&list)
        }
        Command::Bench(mut args) => {
            let effective = match settings::effective(args.config.as_deref()) {
                Ok(effective) => effective,
                Err(e) => return bad_input(&e),
            };
            settings::default_bench_seeds(&mut args, &matches, &effective);
            bench::bench_with_settings(&args, &effective)
        }
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => sweep::merge(&args),
        Command::Serve(args) => match settings::effective(args.config.as_deref()) {
            Ok(effective) => serve::serve_with_settings(&args, &effective.settings),
            Err(e) => bad_input(&e),
        },
        Command::Config(args) => settings::config(args.config.as_deref(), &args),
        Command::Tune(mut args) => {
            let effective = match settings::effective(args.config.as_deref()) {
                Ok(effective) => effective,
                Err(e) => return bad_input(&e),
            };
            settings::default_tune_aggressiveness(&mut args, &matches, &effective);
            tune::tune_with_targets(&args, effective.default_targets(), &crate::bench::simulate)
        }
        Command::Watch(args) => match settings::effective(args.config.as_deref()) {
            Ok(effective) => watch::watch_with_settings(&args, &effective.settings),
            Err(e) => bad_input(&e),
        },
    }
}

/// Print a bad-input error and give its exit code.
pub fn bad_input(e: &dyn std::fmt::Display) -> i32 {
    output::note(&format!("error: {e}"));
    EXIT_BAD_INPUT
}

/// Load a scenario from a file path or a built-in name.
pub fn load(arg: &str) -> Result<Scenario, ConfigError> {
    config::resolve_scenario(arg)
}

fn run(args: &RunArgs) -> i32 {
    let scenario = match load(&args.scenario) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    let seed = args.seed.unwrap_or(scenario.seed);
    let mut simulation = match crate::sim::Simulation::new(&scenario, seed) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    if let Some(v) = args.observer
        && let Err(e) = simulation.observe(v)
    {
        return bad_input(&e);
    }
    if let Some(path) = &args.events {
        match std::fs::File::create(path) {
            Ok(file) => simulation.log_events(Box::new(std::io::BufWriter::new(file))),
            Err(e) => return bad_input(&format!("{}: {e}", path.display())),
        }
    }
    let report = run_with_progress(&mut simulation, &scenario.name);
    let event_log_error = simulation.finish_event_log();
    // The files are written whatever happens to stdout: a failed print loses no result.
    let mut code = if args.json {
        output::print(&(report.to_json(args.heights) + "\n"))
    } else {
        output::print(&render_table(&report, args.heights))
    };
    if !report.safety.held() {
        output::note(&format!(
            "invariant violated: reproduce with `ccperf run {} --seed {seed}`",
            args.scenario
        ));
        code = output::worst(code, EXIT_FAILED);
    }
    if let (Some(path), Some(e)) = (&args.events, &event_log_error) {
        code = bad_input(&format!(
            "{}: writing the event log failed: {e}",
            path.display()
        ));
    }
    if let Some(path) = &args.prometheus {
        let chain_id = args.chain_id.as_deref().unwrap_or(&scenario.name);
        let exporter = crate::export::PrometheusExporter::new(chain_id);
        exporter.observe_report(
            &report,
            simulation.voting_powers(),
            simulation.peers(report.observer),
            simulation.firing_alerts(),
        );
        if let Err(e) = exporter.write_textfile(path) {
            code = bad_input(&e);
        }
    }
    code
}

/// Runs `simulation` to its end; when stderr is not a terminal (a Slurm or Kubernetes log),
/// writes a plain line every [`crate::bench::progress_interval`] of wall time:
/// `run baseline: 120.0 of 3600.0 virtual s (3 %), 95 heights, 1234567 events, 5 s elapsed`.
fn run_with_progress(simulation: &mut crate::sim::Simulation, name: &str) -> RunReport {
    if crate::bench::progress_is_live() {
        return simulation.run_to_end();
    }
    let interval = crate::bench::progress_interval();
    let started = std::time::Instant::now();
    let mut last = started;
    simulation.run_to_end_with(&mut |sim| {
        if last.elapsed() < interval {
            return;
        }
        last = std::time::Instant::now();
        let now = sim.now().as_secs_f64();
        let end = sim.end_time().as_secs_f64();
        output::note(&format!(
            "run {name}: {now:.1} of {end:.1} virtual s ({:.0} %), {} heights, {} events, {:.0} s elapsed",
            100.0 * now / end.max(f64::MIN_POSITIVE),
            sim.committed().len(),
            sim.events(),
            started.elapsed().as_secs_f64()
        ));
    })
}

fn validate(arg: &str) -> i32 {
    match load(arg) {
        Ok(s) => output::print(&format!("# {arg}: valid\n{}", config::to_yaml(&s))),
        Err(e) => bad_input(&e),
    }
}

/// One target for the `targets` line: `latency_p99_s 7.155 > 1.000 MISSED`.
fn target_word(c: &crate::report::CriterionOutcome) -> String {
    let places = match c.name.as_str() {
        "memory_mb" => 0,
        name if name.ends_with("_s") => 3,
        _ => 1,
    };
    let op = match (c.bound, c.met) {
        (crate::report::Bound::AtLeast, true) => ">=",
        (crate::report::Bound::AtLeast, false) => "<",
        (crate::report::Bound::AtMost, true) => "<=",
        (crate::report::Bound::AtMost, false) => ">",
    };
    let verdict = if c.met { "met" } else { "MISSED" };
    format!(
        "{} {:.places$} {op} {:.places$} {verdict}",
        c.name, c.actual, c.target
    )
}

/// "1 alert", "3 alerts".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The report as a table for people.
pub fn render_table(r: &RunReport, heights: bool) -> String {
    let mut s = String::new();
    let ok = |b: bool| if b { "held" } else { "VIOLATED" };
    let _ = writeln!(
        s,
        "scenario      {}  (seed {}, trace {})",
        r.scenario, r.seed, r.trace_hash
    );
    let byz = match &r.byzantine_behavior {
        Some(b) => format!(", byzantine {:?} ({b})", r.byzantine),
        None => String::new(),
    };
    let _ = writeln!(
        s,
        "simulated     {:.1} s, {} validators{byz}, observer {}",
        r.duration_s, r.validators, r.observer
    );
    let _ = writeln!(
        s,
        "heights       {} committed, rounds/height mean {:.2} max {}",
        r.heights_committed, r.rounds.mean, r.rounds.max
    );
    let _ = writeln!(
        s,
        "throughput    {:.1} tx/s ({} committed, {} dropped by a full mempool)",
        r.throughput_tps, r.transactions_committed, r.transactions_dropped
    );
    let l = &r.latency_s;
    let _ = writeln!(
        s,
        "tx latency    p50 {:.3} s  p90 {:.3} s  p95 {:.3} s  p99 {:.3} s  max {:.3} s",
        l.p50, l.p90, l.p95, l.p99, l.max
    );
    let d = &r.round_duration_s;
    let _ = writeln!(
        s,
        "height time   mean {:.3} s  p50 {:.3} s  p99 {:.3} s  max {:.3} s",
        d.mean, d.p50, d.p99, d.max
    );
    let b = &r.block_interval_s;
    let _ = writeln!(
        s,
        "block gap     mean {:.3} s  p50 {:.3} s  p99 {:.3} s  max {:.3} s",
        b.mean, b.p50, b.p99, b.max
    );
    let res = &r.resources;
    let _ = writeln!(
        s,
        "resources     cpu {:.1} %  memory {} MB  net in {} B  out {} B  disk {} B",
        res.cpu_percent,
        res.memory_mb,
        res.network_bytes_in,
        res.network_bytes_out,
        res.disk_io_bytes
    );
    let _ = writeln!(
        s,
        "safety        agreement {}, validity {}",
        ok(r.safety.agreement),
        ok(r.safety.validity)
    );
    for v in &r.safety.violations {
        let _ = writeln!(s, "  ! {}: {}", v.invariant, v.description);
    }
    if !r.targets.is_empty() {
        let missed = r.targets.iter().filter(|c| !c.met).count();
        let each: Vec<String> = r.targets.iter().map(target_word).collect();
        let _ = writeln!(
            s,
            "targets       {} of {} met: {}",
            r.targets.len() - missed,
            r.targets.len(),
            each.join(", ")
        );
    }
    let m = &r.monitor;
    let _ = writeln!(
        s,
        "monitor       {}, {}; trend: throughput {:+.3} tx/s per s, height time {:+.4} s per s",
        count(m.anomalies.len(), "anomaly", "anomalies"),
        count(m.alerts.len(), "alert", "alerts"),
        m.trend.throughput_slope,
        m.trend.round_duration_slope
    );
    for g in crate::monitor::group_anomalies(&m.anomalies, crate::monitor::SHOWN_PER_GROUP) {
        let span = g.span();
        let _ = writeln!(
            s,
            "  {:<8} {} × {}, {span}",
            g.severity.as_str(),
            g.kind,
            g.count
        );
        for a in &g.first {
            let _ = writeln!(s, "           {}", a.description);
        }
        if g.more() > 0 {
            let _ = writeln!(s, "           … and {} more (all in --json)", g.more());
        }
    }
    for f in &m.alerts {
        let _ = writeln!(
            s,
            "  alert    at {:.1} s (height {}): {}",
            f.at_s, f.height, f.alert.message
        );
    }
    let _ = writeln!(
        s,
        "events        {} in {:.3} s wall time",
        r.events, r.wall_time_s
    );
    if heights {
        let _ = writeln!(
            s,
            "\n{:>7} {:>5} {:>8} {:>12} {:>6} {:>10}",
            "height", "round", "proposer", "commit (s)", "txs", "took (s)"
        );
        for h in &r.heights {
            let _ = writeln!(
                s,
                "{:>7} {:>5} {:>8} {:>12.3} {:>6} {:>10.3}",
                h.height, h.round, h.proposer, h.commit_time_s, h.txs, h.round_duration_s
            );
        }
    }
    s
}
