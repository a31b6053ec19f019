//! How benchmarks and sweeps run simulations: through an injected runner, in a rayon pool,
//! with results collected by index and a progress bar on stderr.

use crate::config::Scenario;
use crate::report::RunReport;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, WeakProgressBar};
use std::io::{IsTerminal, Write as _};
use std::time::{Duration, Instant};

/// Runs one simulation of a scenario with a seed. The default is [`simulate`]; tests inject a
/// deterministic fake.
pub type Runner = dyn Fn(&Scenario, u64) -> Result<RunReport, String> + Send + Sync;

/// The default runner: the simulator itself.
pub fn simulate(scenario: &Scenario, seed: u64) -> Result<RunReport, String> {
    crate::sim::run(scenario, seed).map_err(|e| e.to_string())
}

/// Most worker threads a pool may have: simulations are CPU-bound, so more threads than cores
/// only cost memory and start-up time (2,000 threads for 16 runs took a minute).
pub const MAX_JOBS: usize = 1024;

/// A rayon pool of `jobs` threads (`None`: `RAYON_NUM_THREADS` or every core), 1 to
/// [`MAX_JOBS`].
pub fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, String> {
    if let Some(jobs) = jobs {
        check_jobs(jobs)?;
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start {} worker threads: {e}", jobs.unwrap_or(0)))
}

/// `--jobs`: from 1 to [`MAX_JOBS`].
pub fn check_jobs(jobs: usize) -> Result<(), String> {
    if (1..=MAX_JOBS).contains(&jobs) {
        Ok(())
    } else {
        Err(format!(
            "--jobs must be at least 1 and at most {MAX_JOBS} worker threads, not {jobs} \
             (default: one per core)"
        ))
    }
}

/// Wall time between two plain progress lines when stderr is not a terminal (Slurm and
/// Kubernetes logs, CI): [`PROGRESS_INTERVAL_VAR`] in seconds, else this.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(5);

/// The environment variable that sets [`PROGRESS_INTERVAL`] (seconds, 0.01 to 86400).
pub const PROGRESS_INTERVAL_VAR: &str = "CCPERF_PROGRESS_INTERVAL";

/// The interval between plain progress lines: [`PROGRESS_INTERVAL_VAR`] when it holds a number
/// of seconds from 0.01 to 86400, else [`PROGRESS_INTERVAL`].
pub fn progress_interval() -> Duration {
    std::env::var(PROGRESS_INTERVAL_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| (0.01..=86_400.0).contains(s))
        .map_or(PROGRESS_INTERVAL, Duration::from_secs_f64)
}

/// Whether progress is drawn as a live bar: stderr is a terminal and `CI` is not `true`.
/// Otherwise it is written as a plain line every [`progress_interval`].
pub fn progress_is_live() -> bool {
    let on_ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    !on_ci && std::io::stderr().is_terminal()
}

/// A progress bar of `len` runs on stderr when `wanted`: drawn live when
/// [`progress_is_live`], else hidden with a plain line every [`progress_interval`] of wall time
/// (`bench: 3/12 runs done, 15 s elapsed`) until it finishes or is dropped.
/// Progress only reads the bar: it changes no result.
pub fn progress_bar(len: u64, wanted: bool) -> ProgressBar {
    if !wanted {
        return ProgressBar::hidden();
    }
    if !progress_is_live() {
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        let watched = bar.downgrade();
        let interval = progress_interval();
        std::thread::spawn(move || plain_progress_lines(&watched, interval));
        return bar;
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} runs, {elapsed} (eta {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Writes a line about `bar` to stderr every `interval` until the bar finishes or is dropped.
fn plain_progress_lines(bar: &WeakProgressBar, interval: Duration) {
    let mut last = Instant::now();
    loop {
        std::thread::sleep(interval.min(Duration::from_millis(100)));
        let Some(bar) = bar.upgrade() else {
            return;
        };
        if bar.is_finished() {
            return;
        }
        if last.elapsed() < interval {
            continue;
        }
        last = Instant::now();
        let done = bar.position();
        let mut line = format!("{}: {done}", bar.prefix());
        if let Some(len) = bar.length() {
            line.push_str(&format!("/{len}"));
        }
        line.push_str(&format!(
            " runs done, {:.0} s elapsed",
            bar.elapsed().as_secs_f64()
        ));
        // A closed stderr must not stop the work (`eprintln!` would panic).
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}
