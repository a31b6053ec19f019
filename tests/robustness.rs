//! No input may make the program panic: scenario texts mutated at random (deterministically)
//! are either refused with an error or run to the end.

use consensus_performance::config::parse_scenario;
use consensus_performance::sim;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BASE: &str = r#"
name: mutant
seed: 3
duration: 20s
validators: { count: 5, voting_power: [1, 2, 3, 4, 5] }
network:
  topology: ring
  latency: { distribution: lognormal, mean: 40ms, stddev: 10ms }
  bandwidth_mbps: 100
  loss: 0.05
  gossip_interval: 100ms
  partitions:
    - { at: 5s, heal_at: 9s, groups: [[0, 1], [2, 3, 4]] }
load: { transaction_rate: 300, tx_size: 400 }
byzantine: { count: 1, behavior: equivocate }
parameters: { block_interval: 500ms, timeout_propose: 1s, batch_size: 50 }
costs: { cores: 2, verify_per_tx: 40us }
targets: { target_throughput: 100, max_latency: 4s }
"#;

const REPLACEMENTS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "7",
    "1000000",
    "99999999999999999999",
    "0.5",
    "1.0",
    "NaN",
    "-0.1",
    "0s",
    "1ns",
    "5h",
    "[]",
    "{}",
    "~",
    "\"\"",
    "ring",
    "star",
    "full_mesh",
    "random_regular",
    "explicit",
    "silent",
    "amnesia",
    "delay",
    "withhold_precommits",
    "none",
    "default",
    "uniform",
    "exponential",
    "normal",
    "true",
    "[[0]]",
    "[[0, 9]]",
];

fn mutate(rng: &mut ChaCha8Rng) -> String {
    let mut text = BASE.to_string();
    for _ in 0..rng.random_range(1..3) {
        let tokens: Vec<(usize, usize)> = token_spans(&text);
        let (start, end) = tokens[rng.random_range(0..tokens.len())];
        match rng.random_range(0..8) {
            0..5 => text.replace_range(
                start..end,
                REPLACEMENTS[rng.random_range(0..REPLACEMENTS.len())],
            ),
            5 => text.replace_range(start..end, ""),
            6 => {
                let lines: Vec<&str> = text.lines().collect();
                let line = lines[rng.random_range(0..lines.len())].to_string();
                text.push('\n');
                text.push_str(&line);
            }
            _ => {
                let at = rng.random_range(0..text.len());
                if text.is_char_boundary(at) {
                    text.insert(
                        at,
                        [':', '{', ']', ' ', '\n', '-', ','][rng.random_range(0..7)],
                    );
                }
            }
        }
    }
    text
}

/// Spans of values (words, numbers, durations after `:`, `,` or `[`) in `text`.
fn token_spans(text: &str) -> Vec<(usize, usize)> {
    let is_value = |start: usize| {
        text[..start]
            .trim_end_matches(' ')
            .ends_with([':', ',', '['])
    };
    all_token_spans(text)
        .into_iter()
        .filter(|&(s, _)| is_value(s))
        .collect()
}

/// Spans of words, numbers and durations in `text`.
fn all_token_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let word = c.is_ascii_alphanumeric() || c == '_' || c == '.';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    spans
}

#[test]
fn mutated_scenarios_are_refused_or_run_but_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let (mut refused, mut ran) = (0, 0);
    for case in 0..600 {
        let text = mutate(&mut rng);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            match parse_scenario(&text, "mutant.yaml") {
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    if std::env::var("SHOW").is_ok() {
                        println!("{e}");
                    }
                    false
                }
                Ok(mut scenario) => {
                    // Keep each run small: the point is that nothing panics, not long runs.
                    scenario.duration = scenario.duration.min(Duration::from_secs(20));
                    if scenario.validators.count > 40 || scenario.load.transaction_rate > 20_000.0 {
                        return false;
                    }
                    let report = sim::run(&scenario, 1).expect("a validated scenario builds");
                    assert!(report.events > 0 || report.heights_committed == 0);
                    true
                }
            }
        }));
        match outcome {
            Ok(true) => ran += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("case {case} panicked on:\n{text}"),
        }
    }
    println!("{ran} mutants ran, {refused} were refused or skipped");
    assert!(
        ran >= 15 && refused >= 100,
        "{ran} ran, {refused} refused: the mutations should exercise both"
    );
}

/// Runs ccperf with `args`, killing it (and failing) after 30 s: these inputs used to hang.
fn ccperf_bounded(args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_ccperf"))
        .args(args)
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ccperf starts");
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(output) => output.expect("ccperf ran"),
        Err(_) => {
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("ccperf {args:?} did not finish within 30 s");
        }
    }
}

/// Exit code 2 and a message on stderr containing `wanted`.
fn refused(args: &[&str], wanted: &str) {
    let out = ccperf_bounded(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(wanted), "{args:?}: {stderr}");
}

fn scratch(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-robust-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn endless_devices_as_input_are_refused_by_size() {
    for device in ["/dev/zero", "/dev/urandom"] {
        refused(
            &["run", device],
            &format!("{device}: scenario file is larger than 1 MiB"),
        );
        refused(&["validate", device], "larger than 1 MiB");
    }
    refused(
        &["config", "--config", "/dev/urandom"],
        "/dev/urandom: cannot read settings file: larger than 1 MiB",
    );
    refused(
        &["sweep", "/dev/zero"],
        "/dev/zero: cannot read the sweep file: larger than 1 MiB",
    );
}

#[test]
fn a_large_regular_file_is_refused_before_it_is_read() {
    let dir = scratch("large");
    let big = dir.join("big.yaml");
    let mut text = "duration: 10s\nvalidators: { count: 4 }\n".to_string();
    while text.len() <= 1 << 20 {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&big, text).expect("write");
    refused(&["run", big.to_str().expect("utf-8")], "larger than 1 MiB");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn deeply_nested_files_are_refused_before_parsing() {
    let dir = scratch("nested");
    // 160 KB of nested mappings (this took a minute to refuse when it reached the parser).
    let mut block = String::new();
    let mut depth = 0;
    while block.len() < 160_000 {
        block.push_str(&" ".repeat(depth));
        block.push_str("a:\n");
        depth += 1;
    }
    let flow = format!(
        "duration: {}1{}\n",
        "{a: ".repeat(40_000),
        "}".repeat(40_000)
    );
    for (name, text) in [("block.yaml", block), ("flow.yaml", flow)] {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        let path = path.to_str().expect("utf-8");
        refused(&["validate", path], "nested deeper than 32 levels");
        refused(&["run", path], &format!("{path}:"));
        let sweep = dir.join(format!("sweep-{name}"));
        std::fs::write(&sweep, format!("base: {path}\n")).expect("write");
        refused(
            &["sweep", sweep.to_str().expect("utf-8")],
            "nested deeper than 32 levels",
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn jobs_beyond_the_cap_are_refused_before_any_run() {
    let dir = scratch("jobs");
    let sweep = dir.join("sweep.yaml");
    std::fs::write(
        &sweep,
        "base: baseline\ngrid: { validators.count: [4, 5] }\n",
    )
    .expect("write");
    let out = dir.join("out.jsonl");
    let sweep = sweep.to_str().expect("utf-8");
    let out_arg = out.to_str().expect("utf-8");
    for jobs in ["100000", "1025", "0"] {
        refused(
            &["sweep", sweep, "--out", out_arg, "--jobs", jobs],
            &format!("--jobs must be at least 1 and at most 1024 worker threads, not {jobs}"),
        );
        assert!(
            !out.exists(),
            "nothing is written when --jobs {jobs} is refused"
        );
    }
    refused(&["bench", "baseline", "--jobs", "5000"], "not 5000");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn validate_and_run_agree_on_random_regular_degree_one() {
    let dir = scratch("degree");
    for (count, degree, valid) in [(2, 1, true), (4, 1, false), (6, 1, false), (4, 2, true)] {
        let path = dir.join(format!("d{count}-{degree}.yaml"));
        std::fs::write(
            &path,
            format!(
                "duration: 2s\nvalidators: {{ count: {count} }}\nnetwork: {{ topology: random_regular, degree: {degree}, gossip: direct }}\ncosts: none\n"
            ),
        )
        .expect("write");
        let path = path.to_str().expect("utf-8");
        let checked = ccperf_bounded(&["validate", path]);
        let ran = ccperf_bounded(&["run", path, "--json"]);
        let expected = if valid { 0 } else { 2 };
        assert_eq!(
            checked.status.code(),
            Some(expected),
            "validate {count}/{degree}"
        );
        assert_eq!(ran.status.code(), Some(expected), "run {count}/{degree}");
        if !valid {
            let stderr = String::from_utf8_lossy(&checked.stderr);
            assert!(stderr.contains("network.degree: degree 1 with"), "{stderr}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
