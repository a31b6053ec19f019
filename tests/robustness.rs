//! No input may make the program panic: scenario texts mutated at random (deterministically)
//! are either refused with an error or run to the end.

use consensus_performance::config::parse_scenario;
use consensus_performance::sim;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::panic::{AssertUnwindSafe, catch_unwind};
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
