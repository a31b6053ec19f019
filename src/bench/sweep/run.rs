//! Running a sweep: every (point, seed) in parallel, lines written in index order as runs
//! complete, resumable, shardable.

use super::{Shard, SweepError, SweepPoint, SweepSpec, show};
use crate::bench::runner::{self, Runner};
use crate::bench::stats::mean;
use crate::report::RunReport;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
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

/// One run of a sweep: one line of its JSONL output.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRecord {
    /// Run index: `point * seeds + seed position`.
    pub index: usize,
    /// Point index.
    pub point: usize,
    /// Seed.
    pub seed: u64,
    /// The point's grid values, in axis order.
    pub values: Vec<(String, serde_json::Value)>,
    /// The report, without per-height records and with `wall_time_s` 0 (so bytes repeat).
    pub report: RunReport,
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

    let (mut records, mut sink) = match &options.out {
        None => (Vec::new(), None),
        Some(path) => open_output(path, options.existing, &slots, &points)?,
    };
    let resumed = records.len();
    let pending = &slots[resumed..];
    // No more threads than runs left: idle threads only cost start-up time and memory.
    let jobs = options.jobs.map(|jobs| jobs.min(pending.len().max(1)));
    let pool = runner::thread_pool(jobs).map_err(SweepError::Pool)?;
    let bar = runner::progress_bar(slots.len() as u64, options.progress);
    bar.set_prefix(spec.name.clone());
    bar.inc(resumed as u64);
    let path = options.out.as_ref().map(|p| p.display().to_string());
    execute(pending, &points, &pool, runner, |record| {
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
                write(SweepRecord::new(slot, &points[slot.point], report))?;
                written += 1;
            }
        }
        Ok(())
    })
}

/// Open `path` for appending records in `slots` order; with `Existing::Resume`, keep the
/// complete lines that match the first slots (dropping a half-written last line) and return
/// them.
fn open_output(
    path: &Path,
    existing: Existing,
    slots: &[RunSlot],
    points: &[SweepPoint],
) -> Result<(Vec<SweepRecord>, Option<File>), SweepError> {
    let name = path.display().to_string();
    let exists = path.exists();
    if exists && existing == Existing::Refuse {
        return Err(SweepError::OutputExists(name));
    }
    if !exists || existing == Existing::Overwrite {
        let file = File::create(path).map_err(|e| io_error(&name, e))?;
        return Ok((Vec::new(), Some(file)));
    }
    let text = std::fs::read_to_string(path).map_err(|e| io_error(&name, e))?;
    let complete = text.rfind('\n').map_or(0, |i| i + 1);
    let mut records = Vec::new();
    for (line_no, line) in text[..complete].lines().enumerate() {
        let resume_error = |message: String| SweepError::Resume {
            path: name.clone(),
            line: line_no + 1,
            message,
        };
        let Some(slot) = slots.get(line_no) else {
            return Err(resume_error(format!(
                "the file has more lines than this sweep (or shard) has runs ({})",
                slots.len()
            )));
        };
        let record = SweepRecord::from_line(line)
            .map_err(|e| resume_error(format!("not a sweep record ({e})")))?;
        let expected = SweepRecord::new(*slot, &points[slot.point], record.report);
        let sorted = |values: &[(String, serde_json::Value)]| {
            values.iter().cloned().collect::<BTreeMap<_, _>>()
        };
        if (record.index, record.point, record.seed) != (slot.index, slot.point, slot.seed)
            || sorted(&record.values) != sorted(&expected.values)
        {
            return Err(resume_error(format!(
                "holds run {} (point {}, seed {}) where this sweep has run {} (point {}, seed \
                 {}): it belongs to another sweep or shard; use --force to start again",
                record.index, record.point, record.seed, slot.index, slot.point, slot.seed
            )));
        }
        records.push(expected);
    }
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| io_error(&name, e))?;
    file.set_len(complete as u64)
        .map_err(|e| io_error(&name, e))?;
    drop(file);
    let file = OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| io_error(&name, e))?;
    Ok((records, Some(file)))
}

impl SweepRecord {
    fn new(slot: RunSlot, point: &SweepPoint, mut report: RunReport) -> SweepRecord {
        report.heights.clear();
        report.wall_time_s = 0.0;
        SweepRecord {
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

    /// The JSONL line, newline included: `{"index","point","seed","values","report"}`.
    pub fn to_line(&self) -> String {
        let line = serde_json::to_string(&LineOut {
            index: self.index,
            point: self.point,
            seed: self.seed,
            values: OrderedValues(&self.values),
            report: &self.report,
        });
        // Numbers, strings and plain structs always serialise.
        line.map(|l| l + "\n")
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}\n"))
    }

    /// Read a line written by [`SweepRecord::to_line`] (values come back sorted by key).
    pub fn from_line(line: &str) -> Result<SweepRecord, serde_json::Error> {
        let parsed: LineIn = serde_json::from_str(line)?;
        Ok(SweepRecord {
            index: parsed.index,
            point: parsed.point,
            seed: parsed.seed,
            values: parsed.values.into_iter().collect(),
            report: parsed.report,
        })
    }
}

#[derive(Serialize)]
struct LineOut<'a> {
    index: usize,
    point: usize,
    seed: u64,
    values: OrderedValues<'a>,
    report: &'a RunReport,
}

#[derive(Deserialize)]
struct LineIn {
    index: usize,
    point: usize,
    seed: u64,
    values: BTreeMap<String, serde_json::Value>,
    report: RunReport,
}

/// Grid values as a JSON object in axis order (serde_json's own map would sort them).
struct OrderedValues<'a>(&'a [(String, serde_json::Value)]);

impl Serialize for OrderedValues<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
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
