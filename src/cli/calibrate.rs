//! `ccperf calibrate`: run the v0.38 QA testnet scenario at CometBFT's loads and write the
//! calibration document (`docs/calibration.md`) comparing it with CometBFT's published figures.

use crate::bench::{calibration, progress_bar, thread_pool};
use std::path::PathBuf;

/// The explanations of the differences, kept by hand and appended to the generated tables.
const NOTES: &str = include_str!("../../docs/calibration_notes.md");

/// Arguments of `ccperf calibrate`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// Write the document to FILE (default: print it).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Seeds per offered load (the scenario's seed, seed + 1, ...).
    #[arg(long, default_value_t = 5)]
    pub seeds: u32,
    /// Simulations at once (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
}

/// Run the calibration and write or print the document.
pub fn calibrate(args: &CalibrateArgs) -> i32 {
    if args.seeds == 0 {
        return super::bad_input(&"--seeds must be at least 1");
    }
    let (scenario, v1_latency) = match (
        calibration::v038_scenario(),
        calibration::v1_latency_scenario(),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return super::bad_input(&e),
    };
    let pool = match thread_pool(args.jobs) {
        Ok(p) => p,
        Err(e) => return super::bad_input(&e),
    };
    let seeds: Vec<u64> = (0..u64::from(args.seeds))
        .map(|i| scenario.seed.wrapping_add(i))
        .collect();
    let bar = progress_bar(calibration::run_count(seeds.len()) as u64, true);
    bar.set_prefix("calibrate");
    let result = calibration::calibrate(&scenario, &v1_latency, &seeds, &pool, &|| bar.inc(1));
    bar.finish_and_clear();
    let c = match result {
        Ok(c) => c,
        Err(e) => return super::bad_input(&e),
    };
    let document = calibration::render_markdown(&c, NOTES);
    match &args.out {
        None => super::output::print(&document),
        Some(path) => {
            if let Err(e) = crate::export::file::write_atomically(path, document.as_bytes()) {
                return super::bad_input(&format!("{}: {e}", path.display()));
            }
            super::output::note(&format!("wrote {}", path.display()));
            0
        }
    }
}
