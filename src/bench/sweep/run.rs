//! Running a sweep: every (point, seed) in parallel, lines written in index order as runs
//! complete, resumable, shardable.

use super::record::{SweepRecord, read_lines};
use super::{Shard, SweepError, SweepPoint, SweepSpec, show};
use crate::bench::runner::{self, Runner};
use crate::bench::stats::mean;
use crate::report::RunReport;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// What to do when the output file already exists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Existing {
    /// Refuse (the default): never lose results by accident.
    #[default]
    Refuse,
    /// Check it belongs to this sweep, keep its complete lines, run only what is missing.
    Resume,
    /// Start it again.
    Overwrite,
}

/// How to run a sweep.
#[derive(Clone, Debug, Default)]
pub struct SweepOptions {
    /// JSONL output file; `None` keeps the records in the summary only.
    pub out: Option<PathBuf>,
    /// What to do when `out` exists.
    pub existing: Existing,
    /// Worker threads (default: `RAYON_NUM_THREADS` or every core).
    pub jobs: Option<usize>,
    /// Run only this shard's runs.
    pub shard: Option<Shard>,
    /// Show a progress bar on stderr (when a terminal and `CI` is not `true`).
    pub progress: bool,
}

/// What a sweep did and, per point, the means of its runs.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSummary {
    /// Sweep name.
    pub name: String,
    /// Runs in the whole sweep.
    pub total_runs: usize,
    /// The shard that ran, if sharded.
    pub shard: Option<Shard>,
    /// Runs found already done in the output (resume).
    pub resumed: usize,
    /// Runs simulated now.
    pub ran: usize,
    /// What was repaired or could not be ensured in the output (a damaged line run again, no
    /// lock), for the user to read.
    pub notes: Vec<String>,
    /// Every record of this shard, in index order (resumed and new).
    pub records: Vec<SweepRecord>,
    /// Per point with at least one record, in point order.
    pub points: Vec<PointSummary>,
}

/// Means over one point's runs.
#[derive(Clone, Debug, PartialEq)]
pub struct PointSummary {
    /// Point index.
    pub point: usize,
    /// `key=value, …`.
    pub values: String,
    /// Runs (seeds) averaged.
    pub runs: usize,
    /// Mean committed transactions per second.
    pub throughput_tps: f64,
    /// Mean p99 transaction latency, seconds.
    pub latency_p99_s: f64,
    /// Mean of the runs' mean height time, seconds.
    pub round_duration_s: f64,
    /// Mean rounds per height.
    pub rounds_mean: f64,
    /// Runs whose invariants held.
    pub safety_held: usize,
}

/// A run to do: which point, which seed, which line.
#[derive(Clone, Copy, Debug)]
struct RunSlot {
    index: usize,
    point: usize,
    seed: u64,
}

/// Run `spec` (every point validated first, before any simulation) with `runner`, writing one
/// JSONL line per run in index order to `options.out` as runs complete.
pub fn run_sweep(
    spec: &SweepSpec,
    options: &SweepOptions,
    runner: &Runner,
) -> Result<SweepSummary, SweepError> {
    let points = spec.points()?;
    let slots: Vec<RunSlot> = (0..spec.run_count())
        .map(|index| RunSlot {
            index,
            point: index / spec.seeds.len(),
            seed: spec.seeds[index % spec.seeds.len()],
        })
        .filter(|slot| options.shard.is_none_or(|s| s.contains(slot.index)))
        .collect();
    if let Some(jobs) = options.jobs {
        runner::check_jobs(jobs).map_err(SweepError::Pool)?;
    }

    let sweep = spec.fingerprint();
    let runs = spec.run_count();
    let (mut records, mut sink, notes) = match &options.out {
        None => (Vec::new(), None, Vec::new()),
        Some(path) => {
            let output = open_output(path, options.existing, &slots, &points, &sweep, runs)?;
            (output.records, Some(output.file), output.notes)
        }
    };
    let resumed = records.len();
    let pending = &slots[resumed..];
    // No more threads than runs left: idle threads only cost start-up time and memory.
    let jobs = options.jobs.map(|jobs| jobs.min(pending.len().max(1)));
    let pool = runner::thread_pool(jobs).map_err(SweepError::Pool)?;
    let bar = runner::progress_bar(slots.len() as u64, options.progress);
    bar.set_prefix(format!("sweep {}", spec.name));
    bar.inc(resumed as u64);
    let path = options.out.as_ref().map(|p| p.display().to_string());
    let seal = |slot: RunSlot, report| record_of(slot, &points[slot.point], report, &sweep, runs);
    execute(pending, &points, &pool, runner, seal, |record| {
        if let (Some(file), Some(path)) = (sink.as_mut(), &path) {
            file.write_all(record.to_line().as_bytes())
                .map_err(|e| io_error(path, e))?;
        }
        records.push(record);
        bar.inc(1);
        Ok(())
    })?;
    bar.finish_and_clear();

    Ok(SweepSummary {
        name: spec.name.clone(),
        total_runs: spec.run_count(),
        shard: options.shard,
        resumed,
        ran: pending.len(),
        notes,
        points: summarise(&records, &points),
        records,
    })
}

/// Run `pending` on `pool`, handing records to `write` strictly in slot order: runs are
/// dispatched in order, completions that arrive early wait in a buffer.
fn execute(
    pending: &[RunSlot],
    points: &[SweepPoint],
    pool: &rayon::ThreadPool,
    runner: &Runner,
    seal: impl Fn(RunSlot, RunReport) -> SweepRecord,
    mut write: impl FnMut(SweepRecord) -> Result<(), SweepError>,
) -> Result<(), SweepError> {
    let next = AtomicUsize::new(0);
    let (done_tx, done_rx) = mpsc::channel::<(usize, Result<RunReport, String>)>();
    std::thread::scope(|scope| {
        let next = &next;
        scope.spawn(move || {
            pool.scope(|workers| {
                for _ in 0..pool.current_num_threads() {
                    let done_tx = done_tx.clone();
                    workers.spawn(move |_| {
                        loop {
                            let k = next.fetch_add(1, Ordering::Relaxed);
                            let Some(slot) = pending.get(k) else { break };
                            let outcome = runner(&points[slot.point].scenario, slot.seed);
                            if done_tx.send((k, outcome)).is_err() {
                                break; // the writer stopped: stop taking runs
                            }
                        }
                    });
                }
            });
        });
        let mut early = BTreeMap::new();
        let mut written = 0;
        for (k, outcome) in done_rx {
            early.insert(k, outcome);
            while let Some(outcome) = early.remove(&written) {
                let slot = pending[written];
                let report = outcome.map_err(|message| {
                    // Stop dispatching: workers see the closed channel after their current run.
                    next.store(pending.len(), Ordering::Relaxed);
                    SweepError::Run {
                        index: slot.index,
                        point: slot.point,
                        seed: slot.seed,
                        message,
                    }
                })?;
                write(seal(slot, report))?;
                written += 1;
            }
        }
        Ok(())
    })
}

/// The output file, locked, positioned for appending; the records kept from it (resume);
/// and what was repaired in it.
struct Output {
    records: Vec<SweepRecord>,
    file: File,
    notes: Vec<String>,
}

/// Open `path` for appending records in `slots` order, holding an exclusive lock on it for as
/// long as the sweep runs. With `Existing::Resume`, keep the complete lines that are sealed
/// records of this sweep matching the first slots; a half-written last line is dropped, and
/// from a line whose checksum fails on, runs are done again.
fn open_output(
    path: &Path,
    existing: Existing,
    slots: &[RunSlot],
    points: &[SweepPoint],
    sweep: &str,
    runs: usize,
) -> Result<Output, SweepError> {
    let name = path.display().to_string();
    let mut exists = path.exists();
    if exists && existing == Existing::Refuse {
        return Err(SweepError::OutputExists(name));
    }
    let open = |create: bool| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(create)
            .open(path)
    };
    let mut file = match open(!exists) {
        // Another sweep created it a moment ago: treat it as existing (its lock decides).
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if existing == Existing::Refuse {
                return Err(SweepError::OutputExists(name));
            }
            exists = true;
            open(false)
        }
        other => other,
    }
    .map_err(|e| io_error(&name, e))?;
    let mut notes = Vec::new();
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(SweepError::Locked(name)),
        Err(std::fs::TryLockError::Error(e)) => notes.push(format!(
            "{name}: cannot lock it ({e}): make sure no other sweep writes it"
        )),
    }
    if !exists || existing == Existing::Overwrite {
        file.set_len(0).map_err(|e| io_error(&name, e))?;
        return Ok(Output {
            records: Vec::new(),
            file,
            notes,
        });
    }
    let lines = read_lines(&file).map_err(|e| SweepError::Io {
        path: name.clone(),
        message: format!("cannot resume: {e}"),
    })?;
    let mut records = Vec::new();
    let mut kept_bytes = 0u64;
    for (line_no, line) in lines.complete.iter().enumerate() {
        let resume_error = |message: String| SweepError::Resume {
            path: name.clone(),
            line: line_no + 1,
            message,
        };
        let record = match SweepRecord::from_line(line) {
            Ok(record) => record,
            // Damage in a file this sweep wrote (earlier lines prove it, or the line still
            // names this sweep): run again from here.
            Err(e) if line_no > 0 || names_sweep(line, sweep) => {
                notes.push(format!(
                    "{name}:{}: {e}: that run and the {} after it in the file are run again",
                    line_no + 1,
                    lines.complete.len() - line_no - 1
                ));
                break;
            }
            Err(e) => {
                return Err(resume_error(format!(
                    "{e}; use --force to start the file again"
                )));
            }
        };
        if record.sweep != sweep || record.runs != runs {
            return Err(resume_error(format!(
                "a record of another sweep (fingerprint {}, {} runs; this one is {sweep}, \
                 {runs} runs): its base, grid, seeds, name or the ccperf version differ; use \
                 --force to start again",
                record.sweep, record.runs
            )));
        }
        let Some(slot) = slots.get(line_no) else {
            return Err(resume_error(format!(
                "the file has more lines than this sweep (or shard) has runs ({})",
                slots.len()
            )));
        };
        if (record.index, record.point, record.seed) != (slot.index, slot.point, slot.seed) {
            return Err(resume_error(format!(
                "holds run {} (point {}, seed {}) where this sweep has run {} (point {}, seed \
                 {}): it belongs to another shard; use --force to start again",
                record.index, record.point, record.seed, slot.index, slot.point, slot.seed
            )));
        }
        records.push(record_of(
            *slot,
            &points[slot.point],
            record.report,
            sweep,
            runs,
        ));
        kept_bytes += line.len() as u64 + 1;
    }
    if lines.torn && kept_bytes == lines.complete_bytes {
        notes.push(format!(
            "{name}: its half-written last line is dropped and that run done again"
        ));
    }
    file.set_len(kept_bytes).map_err(|e| io_error(&name, e))?;
    file.seek(SeekFrom::End(0))
        .map_err(|e| io_error(&name, e))?;
    Ok(Output {
        records,
        file,
        notes,
    })
}

/// Whether `line`, though not a sound record, still says it belongs to sweep `sweep`.
fn names_sweep(line: &str, sweep: &str) -> bool {
    line.starts_with(&format!("{{\"sweep\":\"{sweep}\","))
}

/// The record of run `slot` of the sweep `sweep` (fingerprint) of `runs` runs.
fn record_of(
    slot: RunSlot,
    point: &SweepPoint,
    mut report: RunReport,
    sweep: &str,
    runs: usize,
) -> SweepRecord {
    report.heights.clear();
    report.wall_time_s = 0.0;
    SweepRecord {
        sweep: sweep.to_string(),
        runs,
        index: slot.index,
        point: slot.point,
        seed: slot.seed,
        values: point
            .values
            .iter()
            .map(|(key, value)| (key.clone(), yaml_to_json(value)))
            .collect(),
        report,
    }
}

fn yaml_to_json(value: &serde_norway::Value) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_else(|_| serde_json::Value::String(show(value)))
}

fn summarise(records: &[SweepRecord], points: &[SweepPoint]) -> Vec<PointSummary> {
    let mut by_point: BTreeMap<usize, Vec<&RunReport>> = BTreeMap::new();
    for r in records {
        by_point.entry(r.point).or_default().push(&r.report);
    }
    by_point
        .into_iter()
        .map(|(point, reports)| {
            let avg = |metric: fn(&RunReport) -> f64| {
                mean(&reports.iter().map(|r| metric(r)).collect::<Vec<_>>())
            };
            PointSummary {
                point,
                values: points
                    .get(point)
                    .map(|p| super::describe(&p.values))
                    .unwrap_or_default(),
                runs: reports.len(),
                throughput_tps: avg(|r| r.throughput_tps),
                latency_p99_s: avg(|r| r.latency_s.p99),
                round_duration_s: avg(|r| r.round_duration_s.mean),
                rounds_mean: avg(|r| r.rounds.mean),
                safety_held: reports.iter().filter(|r| r.safety.held()).count(),
            }
        })
        .collect()
}

fn io_error(path: &str, e: std::io::Error) -> SweepError {
    SweepError::Io {
        path: path.to_string(),
        message: e.to_string(),
    }
}
