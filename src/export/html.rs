//! The HTML report: one self-contained page (inline CSS and SVG, no scripts, no external assets)
//! for one run report (`ccperf run --json --heights`) or for a sweep's JSONL results.
//! Deterministic: the same input gives the same bytes.

use super::svg::{self, BarChart, Bin, Heatmap, Histogram, LineChart, ScatterChart, escape};
use crate::bench::stats::Interval;
use crate::report::RunReport;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One line of a sweep's JSONL results: one run of one grid point with one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepRecord {
    /// Position of the run in the sweep.
    pub index: usize,
    /// Grid point the run belongs to (runs of a point differ only by seed).
    pub point: usize,
    /// Seed of the run.
    pub seed: u64,
    /// The swept parameters of the point, by dotted key (`parameters.timeout_propose`).
    #[serde(default)]
    pub values: BTreeMap<String, Value>,
    /// The run's report.
    pub report: RunReport,
}

/// What a report page is made from.
#[derive(Clone, Debug, PartialEq)]
pub enum ReportInput {
    /// One run.
    Run(Box<RunReport>),
    /// The records of a sweep, in file order.
    Sweep(Vec<SweepRecord>),
}

/// Why an input cannot be turned into a report.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InputError {
    /// Nothing but whitespace.
    #[error(
        "it is empty: expected a run report (`ccperf run --json --heights`) or sweep results (JSONL)"
    )]
    Empty,
    /// Not JSON at all.
    #[error("it is not JSON: {0}")]
    NotJson(String),
    /// A line of sweep results that is not a sweep record.
    #[error("line {line} is not a sweep record: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// JSON, but neither a run report nor sweep results.
    #[error(
        "unknown format: {0}; expected a run report (`ccperf run --json --heights`) or sweep results (one JSON object with a \"report\" per line)"
    )]
    UnknownFormat(String),
}

/// Recognise `text` by its content: a run report (one JSON object, on one line or several) or
/// sweep results (JSON lines whose first record has a `"report"`).
pub fn parse_input(text: &str) -> Result<ReportInput, InputError> {
    // Whole-text parses keep the leading blank lines so that errors give the file's lines.
    let text = text.trim_start_matches('\u{feff}');
    let Some(first_char) = text.trim().chars().next() else {
        return Err(InputError::Empty);
    };
    if first_char != '{' {
        return Err(InputError::NotJson(format!(
            "it starts with `{}` where a JSON object `{{` was expected",
            first_char.escape_debug()
        )));
    }
    if let Ok(report) = serde_json::from_str::<RunReport>(text) {
        return Ok(ReportInput::Run(Box::new(report)));
    }
    let first_line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    match serde_json::from_str::<Value>(first_line) {
        Ok(Value::Object(map)) if map.contains_key("report") => {
            parse_sweep(text).map(ReportInput::Sweep)
        }
        Ok(_) => match serde_json::from_str::<RunReport>(first_line) {
            Ok(_) => Err(InputError::UnknownFormat(
                "line 1 is a run report but more follows it; give one report per file".to_string(),
            )),
            Err(e) => Err(InputError::UnknownFormat(format!(
                "the first JSON object is neither a run report ({e}) nor a sweep record (it has no \"report\")"
            ))),
        },
        Err(_) => match serde_json::from_str::<Value>(text) {
            Ok(_) => Err(InputError::UnknownFormat(format!(
                "the JSON is not a run report ({})",
                serde_json::from_str::<RunReport>(text)
                    .err()
                    .map_or_else(String::new, |e| e.to_string())
            ))),
            Err(e) => Err(InputError::NotJson(e.to_string())),
        },
    }
}

/// Every non-blank line of `text` as a sweep record; the first bad line is named.
fn parse_sweep(text: &str) -> Result<Vec<SweepRecord>, InputError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str::<SweepRecord>(line).map_err(|e| InputError::BadLine {
                line: i + 1,
                reason: within_line(&e),
            })
        })
        .collect()
}

/// A JSON error on one line, located by column only (serde counts that line as line 1).
fn within_line(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    format!("{message} (column {})", e.column())
}

/// The report page for `input`.
pub fn render(input: &ReportInput) -> String {
    match input {
        ReportInput::Run(report) => render_run(report),
        ReportInput::Sweep(records) => render_sweep(records),
    }
}

/// The page for one run: a summary table and plots of latency, height durations, throughput
/// over time, round duration over time and rounds per height.
pub fn render_run(r: &RunReport) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Run report: {}</h1>\n<p class=\"lede\">Seed {} &middot; trace <code>{}</code> &middot; {} validators &middot; {} s simulated</p>\n",
        escape(&r.scenario),
        r.seed,
        escape(&r.trace_hash),
        r.validators,
        svg::format_number(r.duration_s)
    );
    body.push_str(&run_summary(r));

    body.push_str("<h2>Latency and rounds</h2>\n<div class=\"charts\">\n");
    body.push_str(&figure(
        &latency_chart(r),
        "Transaction latency, submission to commit, as percentiles over all committed transactions.",
    ));
    if let Some(chart) = latency_distribution_chart(r) {
        body.push_str(&figure(
            &chart,
            "How many transactions waited how long from submission to commit, in buckets that double.",
        ));
    }
    if !r.heights.is_empty() {
        body.push_str(&figure(
            &height_duration_histogram(r),
            "How long heights took from their start to their commit at the observer, counted in bins.",
        ));
        body.push_str(&figure(
            &rounds_per_height_chart(r),
            "Heights by the number of rounds they needed (round + 1); more than one means a round failed.",
        ));
    }
    body.push_str("</div>\n");

    if r.heights.is_empty() {
        let _ = writeln!(
            body,
            "<p class=\"note\">This report has no per-height records, so the height-duration distribution, rounds per height and the over-time plots are left out. Rerun with <code>ccperf run {} --seed {} --json --heights</code>.</p>",
            escape(&r.scenario),
            r.seed
        );
    } else {
        body.push_str("<h2>Over time</h2>\n<div class=\"wide\">\n");
        body.push_str(&figure(
            &throughput_over_time(r),
            "Transactions committed per second of simulated time, in equal time buckets; the dashed line is the run's overall throughput.",
        ));
        body.push_str(&figure(
            &round_duration_over_time(r),
            "Each point is one height, at its commit time; heights that needed more than one round are highlighted.",
        ));
        body.push_str("</div>\n");
    }
    body.push_str(&monitor_findings(r));
    page(&format!("ccperf report: {}", r.scenario), &body)
}

/// The performance monitor's anomalies and alerts, as a table (or a line saying there were none).
fn monitor_findings(r: &RunReport) -> String {
    let m = &r.monitor;
    let mut out = String::from("<h2>What the monitor saw</h2>\n");
    if m.anomalies.is_empty() && m.alerts.is_empty() {
        out.push_str("<p class=\"note\">No anomalies and no alerts.</p>\n");
        return out;
    }
    out.push_str("<table class=\"summary\">\n<tr><th>at (s)</th><th>height</th><th>what</th><th>severity</th><th>description</th></tr>\n");
    for g in crate::monitor::group_anomalies(&m.anomalies, crate::monitor::SHOWN_PER_GROUP) {
        let span = g.span();
        let _ = writeln!(
            out,
            "<tr class=\"group\"><th colspan=\"5\">{} &times; {} ({}), {span}</th></tr>",
            escape(g.kind.as_str()),
            g.count,
            escape(g.severity.as_str()),
        );
        for a in &g.first {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                svg::format_number(a.at.as_secs_f64()),
                a.round,
                escape(a.kind.as_str()),
                escape(a.severity.as_str()),
                escape(&a.description)
            );
        }
        if g.more() > 0 {
            let _ = writeln!(
                out,
                "<tr><td colspan=\"5\" class=\"more\">&hellip; and {} more, the last at height {} ({} s); the JSON report lists them all</td></tr>",
                g.more(),
                g.last.round,
                svg::format_number(g.last.at.as_secs_f64()),
            );
        }
    }
    for f in &m.alerts {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>alert: {}</td><td>{}</td><td>{}</td></tr>",
            svg::format_number(f.at_s),
            f.height,
            escape(&f.alert.name),
            escape(f.alert.severity.as_str()),
            escape(&f.alert.message)
        );
    }
    out.push_str("</table>\n");
    out
}

/// The page for a sweep: for each swept key, the metrics against its values; for exactly two
/// keys a heatmap per metric; and a table of every point's mean metrics and safety.
pub fn render_sweep(records: &[SweepRecord]) -> String {
    let points = summarise_points(records);
    let keys = swept_keys(&points);
    let mut body = String::new();
    let scenarios: Vec<&str> = {
        let mut names: Vec<&str> = records.iter().map(|r| r.report.scenario.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
    };
    let _ = write!(
        body,
        "<h1>Sweep report: {}</h1>\n<p class=\"lede\">{} runs &middot; {} points &middot; {}</p>\n",
        escape(&scenarios.join(", ")),
        records.len(),
        points.len(),
        if keys.is_empty() {
            "no swept parameters".to_string()
        } else {
            format!(
                "swept: {}",
                keys.iter()
                    .map(|k| format!("<code>{}</code>", escape(&k.name)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    body.push_str(&sweep_summary(records, &points, &keys));

    for (k, key) in keys.iter().enumerate() {
        let _ = write!(
            body,
            "<h2>Effect of <code>{}</code></h2>\n<div class=\"charts\">\n",
            escape(&key.name)
        );
        for metric in &METRICS {
            let chart = key_line_chart(&points, &keys, k, metric);
            let bars = if keys.len() <= 2 && points.iter().any(|p| p.seeds.len() > 1) {
                " Bars: the 95 % interval over the seeds (Student's t)."
            } else {
                ""
            };
            let caption = if keys.len() == 2 {
                format!(
                    "{} (mean over seeds) against {}, one line per value of {}.{bars}",
                    metric.title,
                    key.name,
                    keys[1 - k].name
                )
            } else if keys.len() > 2 {
                format!(
                    "{} (mean over seeds and over the other swept keys) against {}.",
                    metric.title, key.name
                )
            } else {
                format!(
                    "{} (mean over seeds) against {}.{bars}",
                    metric.title, key.name
                )
            };
            body.push_str(&figure(&chart, &caption));
        }
        body.push_str("</div>\n");
    }
    if keys.len() == 2 {
        let _ = write!(
            body,
            "<h2>Heatmaps: <code>{}</code> &times; <code>{}</code></h2>\n<div class=\"charts\">\n",
            escape(&keys[0].name),
            escape(&keys[1].name)
        );
        for metric in &METRICS {
            body.push_str(&figure(
                &heatmap(&points, &keys, metric),
                &format!(
                    "{} (mean over seeds) for each pair of values; grey cells were not run.",
                    metric.title
                ),
            ));
        }
        body.push_str("</div>\n");
    }
    body.push_str("<h2>All points</h2>\n");
    body.push_str(&points_table(&points, &keys));
    page(
        &format!("ccperf sweep report: {}", scenarios.join(", ")),
        &body,
    )
}

const STYLE: &str = "\
body{margin:0;background:#f6f6f4;color:#1f1f1f;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,'DejaVu Sans',sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 20px 40px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:20px;margin:32px 0 12px;padding-bottom:4px;border-bottom:1px solid #d8d8d8}
.lede{color:#4d4d4d;margin:0 0 16px}
code{font-family:ui-monospace,'SFMono-Regular',Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:0.92em;background:#ececec;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;background:#fff;font-size:14px;margin:0 0 8px}
th,td{padding:5px 10px;border-bottom:1px solid #e6e6e6;text-align:left;vertical-align:top}
thead th{background:#eeeeea;border-bottom:2px solid #cfcfcf}
table.summary th{width:190px;color:#333;font-weight:600}
table.summary tr.group th{width:auto;background:#eeeeea}
td.more{color:#4d4d4d;font-style:italic}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.points{overflow-x:auto}
.ok{color:#006b4f;font-weight:600}
.bad{color:#b3001b;font-weight:700}
ul.violations{margin:4px 0 0;padding-left:20px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:16px}
.wide{display:grid;grid-template-columns:1fr;gap:16px}
figure{margin:0;background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:8px 8px 10px}
figure svg{display:block;max-width:100%;height:auto;margin:0 auto}
figcaption{font-size:13px;color:#4d4d4d;margin:4px 6px 0}
.note{background:#fff6e0;border-left:4px solid #E69F00;padding:10px 14px;margin:16px 0}
footer{margin-top:36px;color:#666;font-size:13px}
";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n{body}<footer>Generated by ccperf {} from the report alone: open this file anywhere, it needs nothing else.</footer>\n</main>\n</body>\n</html>\n",
        escape(title),
        env!("CARGO_PKG_VERSION")
    )
}

fn figure(svg: &str, caption: &str) -> String {
    format!(
        "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n",
        escape(caption)
    )
}

fn held(ok: bool) -> &'static str {
    if ok {
        "<span class=\"ok\">held &#10003;</span>"
    } else {
        "<span class=\"bad\">VIOLATED &#10007;</span>"
    }
}

fn run_summary(r: &RunReport) -> String {
    let mut rows: Vec<(&str, String)> = Vec::new();
    rows.push(("Scenario", escape(&r.scenario)));
    rows.push(("Seed", r.seed.to_string()));
    rows.push((
        "Trace hash",
        format!("<code>{}</code>", escape(&r.trace_hash)),
    ));
    let byzantine = match &r.byzantine_behavior {
        Some(b) if !r.byzantine.is_empty() => format!(
            "; Byzantine: {} ({})",
            r.byzantine
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            escape(b)
        ),
        _ => "; no Byzantine validators".to_string(),
    };
    rows.push((
        "Simulated",
        format!(
            "{} s, {} validators{byzantine}; observer {}",
            svg::format_number(r.duration_s),
            r.validators,
            r.observer
        ),
    ));
    let mut safety = format!(
        "agreement {}, validity {}",
        held(r.safety.agreement),
        held(r.safety.validity)
    );
    if !r.safety.violations.is_empty() {
        safety.push_str("<ul class=\"violations\">");
        for v in &r.safety.violations {
            let culprits = if v.culprits.is_empty() {
                "no culprit proven".to_string()
            } else {
                format!(
                    "culprits {}",
                    v.culprits
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = write!(
                safety,
                "<li><strong>{}</strong> at height {}: {} ({culprits})</li>",
                escape(&v.invariant),
                v.height,
                escape(&v.description)
            );
        }
        safety.push_str("</ul>");
    }
    rows.push(("Safety", safety));
    rows.push((
        "Throughput",
        format!(
            "{} tx/s ({} transactions committed, {} dropped by a full mempool)",
            svg::format_number(r.throughput_tps),
            r.transactions_committed,
            r.transactions_dropped
        ),
    ));
    let l = &r.latency_s;
    rows.push((
        "Transaction latency",
        format!(
            "p50 {} s &middot; p90 {} s &middot; p95 {} s &middot; p99 {} s &middot; max {} s",
            svg::format_number(l.p50),
            svg::format_number(l.p90),
            svg::format_number(l.p95),
            svg::format_number(l.p99),
            svg::format_number(l.max)
        ),
    ));
    rows.push((
        "Heights",
        format!(
            "{} committed; rounds per height mean {}, max {}",
            r.heights_committed,
            svg::format_number(r.rounds.mean),
            r.rounds.max
        ),
    ));
    let d = &r.round_duration_s;
    rows.push((
        "Height duration",
        format!(
            "mean {} s &middot; p50 {} s &middot; p99 {} s &middot; max {} s (start to commit)",
            svg::format_number(d.mean),
            svg::format_number(d.p50),
            svg::format_number(d.p99),
            svg::format_number(d.max)
        ),
    ));
    let b = &r.block_interval_s;
    rows.push((
        "Block interval",
        format!(
            "mean {} s &middot; p50 {} s &middot; p99 {} s &middot; max {} s (commit to commit)",
            svg::format_number(b.mean),
            svg::format_number(b.p50),
            svg::format_number(b.p99),
            svg::format_number(b.max)
        ),
    ));
    let res = &r.resources;
    rows.push((
        "Resources (observer)",
        format!(
            "CPU {} % &middot; memory {} MB &middot; network in {} &middot; out {} &middot; disk {}",
            svg::format_number(res.cpu_percent),
            res.memory_mb,
            bytes(res.network_bytes_in),
            bytes(res.network_bytes_out),
            bytes(res.disk_io_bytes)
        ),
    ));
    rows.push((
        "Events",
        format!(
            "{} processed in {} s of wall time",
            r.events,
            svg::format_number(r.wall_time_s)
        ),
    ));
    let mut s = String::from("<table class=\"summary\">\n");
    for (name, value) in rows {
        let _ = writeln!(s, "<tr><th>{name}</th><td>{value}</td></tr>");
    }
    s.push_str("</table>\n");
    s
}

fn latency_chart(r: &RunReport) -> String {
    let l = &r.latency_s;
    let (scale, unit) = time_unit(l.max.max(l.p99));
    BarChart::new(
        "Transaction latency percentiles",
        "percentile",
        &format!("latency ({unit})"),
    )
    .bar("p50", l.p50 * scale)
    .bar("p90", l.p90 * scale)
    .bar("p95", l.p95 * scale)
    .bar("p99", l.p99 * scale)
    .bar("max", l.max * scale)
    .render()
}

/// Transactions per latency bucket, from the first non-empty bucket to the last.
fn latency_distribution_chart(r: &RunReport) -> Option<String> {
    let buckets = &r.latency_distribution;
    let first = buckets.iter().position(|b| b.count > 0)?;
    let last = buckets.iter().rposition(|b| b.count > 0)?;
    let mut chart = BarChart::new(
        "Transaction latency distribution",
        "latency at most",
        "transactions",
    );
    for b in &buckets[first..=last] {
        let label = if b.le_s < 1.0 {
            format!("{} ms", svg::format_number(b.le_s * 1e3))
        } else {
            format!("{} s", svg::format_number(b.le_s))
        };
        chart = chart.bar(&label, b.count as f64);
    }
    Some(chart.render())
}

/// Heights counted into logarithmic bins of height duration (edges 1, 1.5, 2, 3, 5, 7 × 10ⁿ s:
/// a fast height and a height stuck for a minute both get bins of their own size), one bar per
/// bin from the first used to the last, each labelled with its round edges.
fn height_duration_histogram(r: &RunReport) -> String {
    let durations: Vec<f64> = r.heights.iter().map(|h| h.round_duration_s).collect();
    let mut chart = BarChart::new(
        "Distribution of height durations",
        "height duration, start to commit (s; logarithmic bins)",
        "heights",
    );
    let zero = durations.iter().filter(|d| **d <= 0.0).count();
    if zero > 0 {
        chart = chart.bar("0", zero as f64);
    }
    for bin in log_bins(&durations) {
        let label = format!(
            "{}–{}",
            svg::format_number(bin.lo),
            svg::format_number(bin.hi)
        );
        chart = chart.bar(&label, bin.value);
    }
    chart.render()
}

/// Bin edges per decade: round numbers about evenly spaced on a log scale.
const LOG_EDGES: [f64; 6] = [1.0, 1.5, 2.0, 3.0, 5.0, 7.0];

/// Counts the positive finite `values` into `[lo, hi)` bins with edges [`LOG_EDGES`] × 10ⁿ,
/// from the bin of the smallest to the bin of the largest (at most 120 bins: 20 decades).
/// Edges are computed as `edge * 10ⁿ` from exact integers, so they print round.
fn log_bins(values: &[f64]) -> Vec<Bin> {
    let positive: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let (Some(lo), Some(hi)) = (
        positive.iter().copied().reduce(f64::min),
        positive.iter().copied().reduce(f64::max),
    ) else {
        return Vec::new();
    };
    let edge = |i: i64| {
        let decade = i.div_euclid(LOG_EDGES.len() as i64) as i32;
        let e = LOG_EDGES[i.rem_euclid(LOG_EDGES.len() as i64) as usize];
        if decade >= 0 {
            e * 10f64.powi(decade)
        } else {
            e / 10f64.powi(-decade)
        }
    };
    // The index of the bin holding v: the last edge at or below it.
    let index = |v: f64| {
        let decade = v.log10().floor() as i64;
        let mut i = decade * LOG_EDGES.len() as i64 - 1;
        while edge(i + 1) <= v {
            i += 1;
        }
        while edge(i) > v {
            i -= 1;
        }
        i
    };
    let (first, last) = (index(lo), index(hi).min(index(lo) + 119));
    let mut bins: Vec<Bin> = (first..=last)
        .map(|i| Bin {
            lo: edge(i),
            hi: edge(i + 1),
            value: 0.0,
        })
        .collect();
    for v in positive {
        let i = (index(v) - first).clamp(0, last - first) as usize;
        bins[i].value += 1.0;
    }
    bins
}

fn rounds_per_height_chart(r: &RunReport) -> String {
    let mut counts: BTreeMap<u64, u64> = BTreeMap::new();
    for h in &r.heights {
        *counts.entry(u64::from(h.round) + 1).or_default() += 1;
    }
    let most = counts.keys().next_back().copied().unwrap_or(1);
    // Every round count from 1 up, zeros included, unless a runaway height makes that too many.
    if most <= 100 {
        for rounds in 1..most {
            counts.entry(rounds).or_default();
        }
    }
    let mut chart = BarChart::new(
        "Rounds per height",
        "rounds to decide (round + 1)",
        "heights",
    );
    for (rounds, heights) in &counts {
        chart = chart.bar(&rounds.to_string(), *heights as f64);
    }
    chart.render()
}

fn throughput_over_time(r: &RunReport) -> String {
    let end = r
        .heights
        .iter()
        .map(|h| h.commit_time_s)
        .fold(r.duration_s, f64::max);
    let end = if end > 0.0 { end } else { 1.0 };
    let buckets = (r.heights.len() / 3).clamp(20, 60);
    let width = end / buckets as f64;
    let mut txs = vec![0u64; buckets];
    for h in &r.heights {
        let i = ((h.commit_time_s / width).floor().max(0.0) as usize).min(buckets - 1);
        txs[i] += u64::from(h.txs);
    }
    let bins = txs
        .iter()
        .enumerate()
        .map(|(i, t)| Bin {
            lo: width * i as f64,
            hi: width * (i as f64 + 1.0),
            value: *t as f64 / width,
        })
        .collect();
    Histogram::new(
        "Throughput over time",
        "simulated time (s)",
        &format!("committed tx/s ({} s buckets)", svg::format_number(width)),
    )
    .bins(bins)
    .reference(
        &format!("overall {} tx/s", svg::format_number(r.throughput_tps)),
        r.throughput_tps,
    )
    .size(1120, 340)
    .render()
}

fn round_duration_over_time(r: &RunReport) -> String {
    let point = |h: &crate::report::HeightRecord| (h.commit_time_s, h.round_duration_s);
    let first: Vec<(f64, f64)> = r
        .heights
        .iter()
        .filter(|h| h.round == 0)
        .map(point)
        .collect();
    let later: Vec<(f64, f64)> = r
        .heights
        .iter()
        .filter(|h| h.round > 0)
        .map(point)
        .collect();
    let end = r
        .heights
        .iter()
        .map(|h| h.commit_time_s)
        .fold(r.duration_s, f64::max);
    let mut chart = ScatterChart::new(
        "Round duration over time",
        "commit time (s)",
        "height start to commit (s)",
    )
    .series("decided in round 0", first)
    .series("needed more than one round", later)
    .size(1120, 360);
    if end > 0.0 {
        chart = chart.x_range(0.0, end);
    }
    chart.render()
}

/// The factor and unit that show durations up to `largest` seconds best.
fn time_unit(largest: f64) -> (f64, &'static str) {
    if largest < 1.0 {
        (1000.0, "ms")
    } else {
        (1.0, "s")
    }
}

fn bytes(n: u64) -> String {
    let v = n as f64;
    if v >= 1e9 {
        format!("{} GB", svg::format_number(v / 1e9))
    } else if v >= 1e6 {
        format!("{} MB", svg::format_number(v / 1e6))
    } else if v >= 1e3 {
        format!("{} kB", svg::format_number(v / 1e3))
    } else {
        format!("{n} B")
    }
}

/// A metric plotted for sweeps.
struct Metric {
    key: &'static str,
    title: &'static str,
    unit: &'static str,
    of: fn(&RunReport) -> f64,
}

const METRICS: [Metric; 4] = [
    Metric {
        key: "throughput_tps",
        title: "Throughput",
        unit: "tx/s",
        of: |r| r.throughput_tps,
    },
    Metric {
        key: "latency_s.p99",
        title: "p99 transaction latency",
        unit: "s",
        of: |r| r.latency_s.p99,
    },
    Metric {
        key: "round_duration_s.mean",
        title: "Mean height duration",
        unit: "s",
        of: |r| r.round_duration_s.mean,
    },
    Metric {
        key: "rounds.mean",
        title: "Mean rounds per height",
        unit: "rounds",
        of: |r| r.rounds.mean,
    },
];

/// One grid point of a sweep, averaged over its seeds.
#[derive(Clone, Debug)]
struct PointSummary {
    point: usize,
    values: BTreeMap<String, Value>,
    seeds: Vec<u64>,
    /// Mean of each of [`METRICS`], in order.
    means: Vec<f64>,
    /// Each of [`METRICS`] per run (seed), in run order.
    samples: Vec<Vec<f64>>,
    violated_seeds: Vec<u64>,
}

/// A swept key and its distinct values, in the sweep file's order.
#[derive(Clone, Debug)]
struct SweptKey {
    name: String,
    values: Vec<String>,
}

fn summarise_points(records: &[SweepRecord]) -> Vec<PointSummary> {
    let mut by_point: BTreeMap<usize, Vec<&SweepRecord>> = BTreeMap::new();
    for r in records {
        by_point.entry(r.point).or_default().push(r);
    }
    by_point
        .into_iter()
        .map(|(point, mut runs)| {
            runs.sort_by_key(|r| (r.index, r.seed));
            let n = runs.len() as f64;
            let means = METRICS
                .iter()
                .map(|m| runs.iter().map(|r| (m.of)(&r.report)).sum::<f64>() / n)
                .collect();
            let samples = METRICS
                .iter()
                .map(|m| runs.iter().map(|r| (m.of)(&r.report)).collect())
                .collect();
            PointSummary {
                point,
                values: runs.first().map(|r| r.values.clone()).unwrap_or_default(),
                seeds: runs.iter().map(|r| r.seed).collect(),
                means,
                samples,
                violated_seeds: runs
                    .iter()
                    .filter(|r| !r.report.safety.held())
                    .map(|r| r.seed)
                    .collect(),
            }
        })
        .collect()
}

/// Every swept key with its values in the sweep file's order: the order they first appear
/// in when the points are taken in point order (the grid lists each key's values as written,
/// so this is the file's order whatever the values are; a chart of `[500ms, 100ms, 300ms]`
/// plots them so, not sorted by size).
fn swept_keys(points: &[PointSummary]) -> Vec<SweptKey> {
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in points {
        for (k, v) in &p.values {
            let label = value_label(v);
            let values = keys.entry(k.clone()).or_default();
            if !values.contains(&label) {
                values.push(label);
            }
        }
    }
    keys.into_iter()
        .map(|(name, values)| SweptKey { name, values })
        .collect()
}

fn value_label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn label_of(p: &PointSummary, key: &str) -> Option<String> {
    p.values.get(key).map(value_label)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn metric_index(metric: &Metric) -> usize {
    METRICS
        .iter()
        .position(|m| m.key == metric.key)
        .unwrap_or(0)
}

fn key_line_chart(points: &[PointSummary], keys: &[SweptKey], k: usize, metric: &Metric) -> String {
    let key = &keys[k];
    let m = metric_index(metric);
    let title = format!("{} vs {}", metric.title, key.name);
    let y_label = format!("{} ({})", metric.title, metric.unit);
    let mut chart = LineChart::new(&title, &key.name, &y_label, key.values.clone());
    let mean_at = |value: &str, other: Option<(&str, &str)>| {
        mean(
            points
                .iter()
                .filter(|p| label_of(p, &key.name).as_deref() == Some(value))
                .filter(|p| other.is_none_or(|(ok, ov)| label_of(p, ok).as_deref() == Some(ov)))
                .map(|p| p.means[m]),
        )
    };
    // The 95 % interval over the seeds of one grid point (Student's t), when it has several.
    let interval_at = |value: &str, other: Option<(&str, &str)>| {
        let mut matching = points
            .iter()
            .filter(|p| label_of(p, &key.name).as_deref() == Some(value))
            .filter(|p| other.is_none_or(|(ok, ov)| label_of(p, ok).as_deref() == Some(ov)));
        let (Some(point), None) = (matching.next(), matching.next()) else {
            return None;
        };
        let interval = Interval::of(&point.samples[m]);
        interval
            .half_width
            .map(|_| (interval.low(), interval.high()))
    };
    if keys.len() == 2 {
        let other = &keys[1 - k];
        for ov in &other.values {
            let at = Some((other.name.as_str(), ov.as_str()));
            let series = key.values.iter().map(|v| mean_at(v, at)).collect();
            let intervals = key.values.iter().map(|v| interval_at(v, at)).collect();
            chart = chart.series_with_intervals(ov, series, intervals);
        }
        chart = chart.legend_title(short_key(&other.name));
    } else if keys.len() == 1 {
        let series = key.values.iter().map(|v| mean_at(v, None)).collect();
        let intervals = key.values.iter().map(|v| interval_at(v, None)).collect();
        chart = chart.series_with_intervals(metric.title, series, intervals);
    } else {
        let series = key.values.iter().map(|v| mean_at(v, None)).collect();
        chart = chart.series("mean over the other keys", series);
    }
    chart.render()
}

/// The last part of a dotted key (`parameters.batch_size` → `batch_size`), for tight spots.
fn short_key(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

fn heatmap(points: &[PointSummary], keys: &[SweptKey], metric: &Metric) -> String {
    let m = metric_index(metric);
    let (columns, rows) = (&keys[0], &keys[1]);
    let mut chart = Heatmap::new(
        &format!("{} ({})", metric.title, metric.unit),
        &columns.name,
        &rows.name,
        columns.values.clone(),
        rows.values.clone(),
    )
    .unit(metric.unit);
    for (r, rv) in rows.values.iter().enumerate() {
        for (c, cv) in columns.values.iter().enumerate() {
            let value = mean(
                points
                    .iter()
                    .filter(|p| label_of(p, &columns.name).as_deref() == Some(cv.as_str()))
                    .filter(|p| label_of(p, &rows.name).as_deref() == Some(rv.as_str()))
                    .map(|p| p.means[m]),
            );
            if let Some(v) = value {
                chart = chart.cell(r, c, v);
            }
        }
    }
    chart.render()
}

fn sweep_summary(records: &[SweepRecord], points: &[PointSummary], keys: &[SweptKey]) -> String {
    let mut s = String::from("<table class=\"summary\">\n");
    for key in keys {
        let _ = writeln!(
            s,
            "<tr><th><code>{}</code></th><td>{}</td></tr>",
            escape(&key.name),
            escape(&key.values.join(", "))
        );
    }
    let mut seeds: Vec<u64> = records.iter().map(|r| r.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let _ = writeln!(
        s,
        "<tr><th>Seeds</th><td>{} distinct ({})</td></tr>",
        seeds.len(),
        escape(&cut_list(&seeds, 12))
    );
    let violated: Vec<&PointSummary> = points
        .iter()
        .filter(|p| !p.violated_seeds.is_empty())
        .collect();
    let safety = if violated.is_empty() {
        format!("{} in all {} runs", held(true), records.len())
    } else {
        let runs: usize = violated.iter().map(|p| p.violated_seeds.len()).sum();
        let mut text = format!(
            "{} in {runs} of {} runs:<ul class=\"violations\">",
            held(false),
            records.len()
        );
        for p in violated {
            let _ = write!(
                text,
                "<li>point {} ({}): {} {}</li>",
                p.point,
                escape(&point_values(p, keys)),
                if p.violated_seeds.len() == 1 {
                    "seed"
                } else {
                    "seeds"
                },
                escape(&cut_list(&p.violated_seeds, 12))
            );
        }
        text.push_str("</ul>");
        text
    };
    let _ = writeln!(s, "<tr><th>Safety</th><td>{safety}</td></tr>");
    s.push_str("</table>\n");
    s
}

fn points_table(points: &[PointSummary], keys: &[SweptKey]) -> String {
    let mut s =
        String::from("<div class=\"points\"><table>\n<thead><tr><th class=\"num\">point</th>");
    for key in keys {
        let _ = write!(s, "<th><code>{}</code></th>", escape(&key.name));
    }
    s.push_str("<th class=\"num\">seeds</th>");
    for m in &METRICS {
        let _ = write!(
            s,
            "<th class=\"num\">{} ({})</th>",
            escape(m.title),
            escape(m.unit)
        );
    }
    s.push_str("<th>safety (all seeds)</th></tr></thead>\n<tbody>\n");
    // Rows in point order: the sweep's own order (first key slowest, values as written).
    let mut ordered: Vec<&PointSummary> = points.iter().collect();
    ordered.sort_by_key(|p| p.point);
    for p in ordered {
        let _ = write!(s, "<tr><td class=\"num\">{}</td>", p.point);
        for key in keys {
            let _ = write!(
                s,
                "<td>{}</td>",
                escape(&label_of(p, &key.name).unwrap_or_else(|| "–".to_string()))
            );
        }
        let _ = write!(s, "<td class=\"num\">{}</td>", p.seeds.len());
        for v in &p.means {
            let _ = write!(s, "<td class=\"num\">{}</td>", svg::format_number(*v));
        }
        let safety = if p.violated_seeds.is_empty() {
            held(true).to_string()
        } else {
            format!(
                "{} ({} {})",
                held(false),
                if p.violated_seeds.len() == 1 {
                    "seed"
                } else {
                    "seeds"
                },
                escape(&cut_list(&p.violated_seeds, 8))
            )
        };
        let _ = writeln!(s, "<td>{safety}</td></tr>");
    }
    s.push_str("</tbody>\n</table></div>\n");
    s
}

fn point_values(p: &PointSummary, keys: &[SweptKey]) -> String {
    keys.iter()
        .filter_map(|k| label_of(p, &k.name).map(|v| format!("{} = {v}", k.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn cut_list(items: &[u64], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        let _ = write!(s, ", … ({} more)", items.len() - max);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_non_json_inputs_are_told_apart() {
        assert_eq!(parse_input("  \n\n"), Err(InputError::Empty));
        assert!(matches!(
            parse_input("name: x"),
            Err(InputError::NotJson(_))
        ));
        assert!(matches!(
            parse_input("{\"a\": 1}"),
            Err(InputError::UnknownFormat(_))
        ));
        assert!(matches!(
            parse_input("{\"a\": "),
            Err(InputError::NotJson(_))
        ));
    }

    #[test]
    fn bytes_use_decimal_units() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500), "1.5 kB");
        assert_eq!(bytes(12_340_000), "12.3 MB");
    }
}
