//! How benchmarks and sweeps run simulations: through an injected runner, in a rayon pool,
//! with results collected by index and a progress bar on stderr.

use crate::config::Scenario;
use crate::report::RunReport;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

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

/// A progress bar of `len` runs on stderr, hidden unless `wanted`, stderr is a terminal and
/// `CI` is not `true`.
pub fn progress_bar(len: u64, wanted: bool) -> ProgressBar {
    let on_ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    if !wanted || on_ci || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} runs, {elapsed} (eta {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
