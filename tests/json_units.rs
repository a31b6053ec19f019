//! Every JSON the commands write gives durations in seconds (`*_s` numbers) and names things in
//! snake_case: no `{"secs":…,"nanos":…}` object anywhere, no CamelCase key, and the event log's
//! kinds, message types, vote types and timeouts in lower case.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ccperf");

/// Four validators, one silent (so the monitor finds anomalies), CometBFT's gossip.
const SILENT: &str = "name: silent_one\nseed: 2\nduration: 40s\nvalidators: { count: 4 }\n\
    byzantine: { count: 1, behavior: silent, validators: [0] }\nload: { transaction_rate: 50 }\n";

/// The same on the direct model, whose event log has proposals and votes straight from signers.
const DIRECT: &str = "name: direct_one\nseed: 2\nduration: 20s\nvalidators: { count: 4 }\n\
    network: { gossip: direct }\nbyzantine: { count: 1, behavior: silent, validators: [0] }\n";

const SWEEP: &str = "name: units\nbase:\n  name: units\n  seed: 1\n  duration: 30s\n  \
    validators: { count: 4 }\n  byzantine: { count: 1, behavior: silent, validators: [3] }\n\
    grid:\n  parameters.timeout_propose: [500ms, 1s]\nseeds: 1\n";

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-units-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

/// Runs ccperf in `dir` (no settings file there) and returns its stdout; it must exit 0 or 1.
fn ccperf(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("ccperf runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{args:?}: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

fn parse(text: &str, what: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"))
}

/// Every `(path, key)` of `value` that is a std Duration's serde form or not snake_case, and
/// the number of keys seen.
fn offending_keys(value: &Value, path: &str, bad: &mut Vec<String>) -> usize {
    match value {
        Value::Object(map) => {
            let mut seen = map.len();
            for (key, inner) in map {
                if key == "secs" || key == "nanos" || key.chars().any(|c| c.is_ascii_uppercase()) {
                    bad.push(format!("{path}.{key}"));
                }
                seen += offending_keys(inner, &format!("{path}.{key}"), bad);
            }
            seen
        }
        Value::Array(items) => items
            .iter()
            .map(|v| offending_keys(v, &format!("{path}[]"), bad))
            .sum(),
        _ => 0,
    }
}

fn assert_seconds_and_snake_case(value: &Value, what: &str) {
    let mut bad = Vec::new();
    let keys = offending_keys(value, "", &mut bad);
    assert!(keys > 10, "{what}: only {keys} keys");
    assert!(
        bad.is_empty(),
        "{what}: {} keys: {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
}

/// Each anomaly's `at_s` is a number of seconds within the run, and there are some.
fn assert_anomalies_in_seconds(report: &Value, duration_s: f64, what: &str) -> usize {
    let anomalies = report["monitor"]["anomalies"]
        .as_array()
        .expect("anomalies");
    for a in anomalies {
        let at = a["at_s"].as_f64().unwrap_or_else(|| panic!("{what}: {a}"));
        assert!((0.0..=duration_s).contains(&at), "{what}: at_s {at}");
    }
    anomalies.len()
}

#[test]
fn run_reports_give_anomaly_times_in_seconds() {
    let dir = scratch("run");
    let scenario = write(&dir, "silent.yaml", SILENT);
    let report = parse(
        &ccperf(&dir, &["run", &scenario, "--json", "--heights"]),
        "run",
    );
    assert_seconds_and_snake_case(&report, "run --json");
    // Written as the scenario says it (`silent`), not as the Rust variant (`Silent`).
    assert_eq!(report["byzantine_behavior"], "silent", "run --json");
    let found = assert_anomalies_in_seconds(&report, 40.0, "run --json");
    assert!(found >= 1, "a silent validator makes anomalies: {found}");
    // The monitor judges a height after five earlier samples, and heights here take at least
    // the 1 s block interval: the first anomaly is more than 5 s in (not 0, not nanoseconds).
    let first = report["monitor"]["anomalies"][0]["at_s"]
        .as_f64()
        .unwrap_or(0.0);
    assert!(first > 5.0, "first anomaly at {first} s");
}

#[test]
fn bench_json_and_its_files_give_durations_in_seconds() {
    let dir = scratch("bench");
    let scenario = write(&dir, "silent.yaml", SILENT);
    let out = dir.join("out");
    let printed = parse(
        &ccperf(
            &dir,
            &[
                "bench",
                &scenario,
                "--seeds",
                "2",
                "--json",
                "--out",
                &out.display().to_string(),
            ],
        ),
        "bench",
    );
    assert_seconds_and_snake_case(&printed, "bench --json");
    let metrics = &printed["benchmarks"][0]["average_metrics"];
    let round = metrics["round_duration_s"]
        .as_f64()
        .expect("round_duration_s");
    let p99 = metrics["latency_percentiles_s"]["p99"]
        .as_f64()
        .expect("p99");
    let report_round = printed["benchmarks"][0]["summary"]["round_duration_s"]["mean"]
        .as_f64()
        .expect("summary mean");
    assert!(
        (round - report_round).abs() < 1e-3,
        "{round} vs {report_round}"
    );
    assert!(p99 > 0.0 && p99 < 20.0, "p99 {p99} s");
    let summary = std::fs::read_to_string(out.join("summary.json")).expect("summary.json");
    assert_seconds_and_snake_case(&parse(&summary, "summary.json"), "summary.json");
    let mut reports = 0;
    for entry in std::fs::read_dir(&out).expect("out dir") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n != "summary.json") {
            let report = parse(&std::fs::read_to_string(&path).expect("read"), "seed file");
            assert_seconds_and_snake_case(&report, &path.display().to_string());
            assert!(assert_anomalies_in_seconds(&report, 40.0, "seed file") >= 1);
            reports += 1;
        }
    }
    assert_eq!(reports, 2);
}

#[test]
fn sweep_records_and_tune_json_give_durations_in_seconds() {
    let dir = scratch("sweep");
    let sweep = write(&dir, "sweep.yaml", SWEEP);
    let out = dir.join("units.jsonl");
    ccperf(
        &dir,
        &["sweep", &sweep, "--out", &out.display().to_string()],
    );
    let lines = std::fs::read_to_string(&out).expect("jsonl");
    assert_eq!(lines.lines().count(), 2);
    for line in lines.lines() {
        let record = parse(line, "sweep record");
        assert_seconds_and_snake_case(&record, "sweep record");
        assert!(assert_anomalies_in_seconds(&record["report"], 30.0, "sweep record") >= 1);
    }
    // The records still read back: merge parses every report.
    let merged = dir.join("merged.jsonl");
    ccperf(
        &dir,
        &[
            "merge",
            &out.display().to_string(),
            "--out",
            &merged.display().to_string(),
        ],
    );
    assert_eq!(std::fs::read_to_string(&merged).expect("merged"), lines);

    let scenario = write(&dir, "silent.yaml", SILENT);
    let tuned = dir.join("tuned.yaml").display().to_string();
    let tune = [
        "tune",
        &scenario,
        "--iterations",
        "1",
        "--seeds",
        "1",
        "--json",
        "--out",
        &tuned,
    ];
    assert_seconds_and_snake_case(&parse(&ccperf(&dir, &tune), "tune"), "tune --json");
}

/// Lines of `--events` for `scenario`: every key and every string value in lower snake_case.
fn assert_event_log_snake_case(dir: &Path, scenario: &str, name: &str) -> Vec<Value> {
    let log = dir.join(format!("{name}.jsonl"));
    ccperf(
        dir,
        &["run", scenario, "--events", &log.display().to_string()],
    );
    let text = std::fs::read_to_string(&log).expect("event log");
    let mut lines = Vec::new();
    for line in text.lines() {
        let event = parse(line, "event line");
        let mut bad = Vec::new();
        offending_keys(&event, "", &mut bad);
        let mut strings = Vec::new();
        collect_strings(&event, &mut strings);
        bad.extend(
            strings
                .into_iter()
                .filter(|s| s.chars().any(|c| c.is_ascii_uppercase())),
        );
        assert!(bad.is_empty(), "{name}: {bad:?} in {line}");
        lines.push(event);
    }
    assert!(lines.len() > 100, "{name}: {} events", lines.len());
    lines
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

#[test]
fn event_log_lines_are_snake_case() {
    let dir = scratch("events");
    let direct = write(&dir, "direct.yaml", DIRECT);
    let events = assert_event_log_snake_case(&dir, &direct, "direct");
    let has = |pred: &dyn Fn(&Value) -> bool| events.iter().any(pred);
    assert!(has(&|e| e["message"]["vote"]["vote_type"] == "prevote"));
    assert!(has(&|e| e["message"]["vote"]["vote_type"] == "precommit"));
    assert!(has(&|e| e["message"]["proposal"]["height"].is_u64()));
    // Validator 0 is silent: its proposer turns end in timeout_propose.
    assert!(has(&|e| e["event"] == "timeout" && e["kind"] == "propose"));
    assert!(has(&|e| e["event"] == "timeout" && e["kind"] == "commit"));
    let gossip = write(&dir, "gossip.yaml", SILENT);
    let events = assert_event_log_snake_case(&dir, &gossip, "gossip");
    let kinds: std::collections::BTreeSet<&str> =
        events.iter().filter_map(|e| e["event"].as_str()).collect();
    for kind in ["votes", "part", "wake", "timeout"] {
        assert!(kinds.contains(kind), "{kind} not in {kinds:?}");
    }
}
