//! `ccperf report <results.jsonl | report.json> --out DIR`: write `DIR/index.html`, a
//! self-contained page with plots of a run report or of a sweep's results.

use super::bad_input;
use crate::config::input::ReadError;
use crate::export::html::{self, InputError};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Arguments of `ccperf report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A run report (`ccperf run --json --heights > report.json`) or sweep results (JSONL).
    pub input: PathBuf,
    /// Directory to write `index.html` into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

/// Why `ccperf report` could not write its page.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The input file is not there.
    #[error(
        "`{0}` does not exist: give a run report (`ccperf run --json --heights > report.json`) or sweep results (JSONL)"
    )]
    Missing(PathBuf),
    /// The input file could not be read.
    #[error("cannot read `{path}`: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// The input was read but is not a report.
    #[error("`{path}`: {error}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong with its content.
        error: InputError,
    },
    /// The output directory could not be made or written.
    #[error("cannot write `{path}`: {reason}")]
    Output {
        /// The directory or file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// Run `ccperf report`; returns the exit code (2 for any bad input or unwritable output).
pub fn report(args: &ReportArgs) -> i32 {
    match write_report(&args.input, &args.out) {
        Ok(page) => super::output::print(&format!("wrote {}\n", page.display())),
        Err(e) => bad_input(&e),
    }
}

/// Read `input`, render its page and write it to `out/index.html`; returns the page's path.
pub fn write_report(input: &Path, out: &Path) -> Result<PathBuf, ReportError> {
    let text = read_input(input)?;
    let parsed = html::parse_input(&text).map_err(|error| ReportError::Input {
        path: input.to_path_buf(),
        error,
    })?;
    if out.exists() && !out.is_dir() {
        return Err(ReportError::Output {
            path: out.to_path_buf(),
            reason: "it exists and is not a directory; give a directory for --out".to_string(),
        });
    }
    std::fs::create_dir_all(out).map_err(|e| ReportError::Output {
        path: out.to_path_buf(),
        reason: e.to_string(),
    })?;
    let page = out.join("index.html");
    std::fs::write(&page, html::render(&parsed)).map_err(|e| ReportError::Output {
        path: page.clone(),
        reason: e.to_string(),
    })?;
    Ok(page)
}

/// Largest report or sweep file read: 256 MiB (a sweep of 50,000 runs is about 150 MB).
const MAX_INPUT_BYTES: u64 = 256 << 20;

fn read_input(path: &Path) -> Result<String, ReportError> {
    if path.is_dir() {
        return Err(ReportError::Unreadable {
            path: path.to_path_buf(),
            reason: "it is a directory, not a file".to_string(),
        });
    }
    // Bounded: `ccperf report /dev/zero` is refused instead of read forever.
    crate::config::input::read_text(path, MAX_INPUT_BYTES).map_err(|e| match e {
        ReadError::Io(e) if e.kind() == ErrorKind::NotFound => {
            ReportError::Missing(path.to_path_buf())
        }
        ReadError::Io(e) => ReportError::Unreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
        ReadError::NotText { offset } => ReportError::Unreadable {
            path: path.to_path_buf(),
            reason: format!("it is not UTF-8 text (invalid byte at offset {offset})"),
        },
        too_large => ReportError::Unreadable {
            path: path.to_path_buf(),
            reason: format!("it is {too_large}"),
        },
    })
}
