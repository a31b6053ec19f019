//! The Prometheus exposition as a CometBFT operator uses it: `promtool check metrics` accepts
//! it, every series carries `chain_id`, steps are labelled as CometBFT labels them and timed
//! exactly, and the consensus metrics a simulator knows (missing and Byzantine validators and
//! their power, block size, prevote delays, mempool, peers) hold the run's numbers.

mod support;

use consensus_performance::config::parse_scenario;
use consensus_performance::export::PrometheusExporter;
use consensus_performance::sim::Simulation;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use support::ccperf;

fn builtin_text(name: &str) -> String {
    let path = format!("{}/scenarios/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).expect("built-in scenario file")
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ccperf-prom-{}-{name}", std::process::id()))
}

/// The exposition of `yaml` run with `extra` flags, written by `ccperf run --prometheus`.
fn exposition(yaml: &str, name: &str, extra: &[&str]) -> String {
    let scenario = temp_path(&format!("{name}.yaml"));
    std::fs::write(&scenario, yaml).expect("scenario written");
    let out = temp_path(&format!("{name}.prom"));
    let mut args = vec![
        "run",
        scenario.to_str().expect("utf-8"),
        "--prometheus",
        out.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let run = ccperf(&args);
    assert!(
        run.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("textfile written");
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&scenario);
    text
}

/// Sample values by their full series text (`name{labels}`).
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(series, value)| (series.to_string(), value.parse().expect("a number")))
        .collect()
}

fn value(text: &str, series: &str) -> f64 {
    *samples(text)
        .get(series)
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
}

const SILENT: &str = r#"
name: one_silent
duration: 60s
validators: { count: 4, voting_power: [10, 20, 30, 40] }
network: { gossip: direct, latency: { distribution: constant, mean: 50ms } }
load: { transaction_rate: 200, tx_size: 250 }
byzantine: { validators: [0], behavior: silent }
costs: none
"#;

#[test]
fn promtool_accepts_the_exposition() {
    let Ok(probe) = Command::new("promtool").arg("--version").output() else {
        eprintln!("promtool is not installed (Debian package `prometheus`): skipped");
        return;
    };
    assert!(probe.status.success());
    let partition = exposition(&builtin_text("network_partition"), "partition", &[]);
    let rich = PrometheusExporter::new("rich");
    rich.set_validators(&[1, 2, 3], &[2]);
    for text in [
        exposition(SILENT, "promtool", &[]),
        partition,
        rich.encode_text_format(),
    ] {
        let mut child = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("promtool starts");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), text.as_bytes())
            .expect("piped");
        let out = child.wait_with_output().expect("promtool ends");
        let complaints = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "promtool: {complaints}\n{text}");
        assert_eq!(complaints.trim(), "", "{text}");
    }
}

#[test]
fn chain_id_is_the_scenario_name_unless_given() {
    let text = exposition(SILENT, "chain", &[]);
    assert_eq!(
        value(
            &text,
            "cometbft_consensus_validators{chain_id=\"one_silent\"}"
        ),
        4.0
    );
    let text = exposition(SILENT, "chain-flag", &["--chain-id", "cosmoshub-4"]);
    let series: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(series.len() > 100);
    assert!(
        series
            .iter()
            .all(|l| l.contains("{chain_id=\"cosmoshub-4\"")),
        "{text}"
    );
}

#[test]
fn a_silent_validator_is_missing_from_every_commit_with_its_power() {
    let text = exposition(SILENT, "silent", &["--json"]);
    let v = |name: &str| {
        value(
            &text,
            &format!("cometbft_{name}{{chain_id=\"one_silent\"}}"),
        )
    };
    assert_eq!(v("consensus_validators"), 4.0);
    assert_eq!(v("consensus_validators_power"), 100.0);
    assert_eq!(v("consensus_byzantine_validators"), 1.0);
    assert_eq!(v("consensus_byzantine_validators_power"), 10.0);
    assert_eq!(v("consensus_missing_validators"), 1.0);
    assert_eq!(v("consensus_missing_validators_power"), 10.0);
    assert_eq!(v("p2p_peers"), 3.0, "a full mesh of four");
    assert_eq!(
        v("consensus_duplicate_vote_total"),
        0.0,
        "direct: no resends"
    );
    assert_eq!(v("mempool_failed_txs_total"), 0.0);
    let height = v("consensus_latest_block_height");
    assert_eq!(
        v("consensus_height"),
        height + 1.0,
        "the height being decided"
    );
    // Every block holds its transactions plus the block overhead.
    let (txs, bytes) = (
        v("consensus_total_txs"),
        v("consensus_chain_size_bytes_total"),
    );
    assert!(
        bytes >= txs * 250.0 && bytes < txs * 250.0 + height * 4096.0,
        "{bytes}"
    );
}

#[test]
fn per_height_records_count_missing_signers_and_prevote_delays() {
    let scenario = parse_scenario(SILENT, "silent.yaml").expect("valid");
    let report = Simulation::new(&scenario, 1).expect("builds").run();
    let heights = &report.heights;
    assert!(heights.len() > 20, "{}", heights.len());
    // Height 1 has no previous commit; every later one misses validator 0's precommit.
    assert_eq!(
        (heights[0].missing_validators, heights[0].missing_power),
        (0, 0)
    );
    for h in &heights[1..] {
        assert_eq!((h.missing_validators, h.missing_power), (1, 10), "{h:?}");
        // 90 of 100 power prevoted: a quorum, never all of it.
        assert!(h.full_prevote_delay_s.is_none());
    }
    // With constant 50 ms links the quorum of prevotes arrives one link after the proposal,
    // except at the observer's own proposals, where the others' prevotes need two.
    for h in heights.iter().filter(|h| h.round == 0) {
        let delay = h.quorum_prevote_delay_s.expect("a quorum of prevotes");
        let expected = if h.proposer == report.observer {
            0.1
        } else {
            0.05
        };
        assert!((delay - expected).abs() < 1e-9, "{h:?}");
    }
}

#[test]
fn steps_are_cometbfts_and_add_up_to_the_block_interval() {
    // Constant 100 ms links, no costs: prevote and precommit each take one link delay (two
    // for the prevote when the observer proposed: the others see the proposal a link later).
    let yaml = r#"
name: steps
duration: 20s
validators: { count: 4 }
network: { gossip: direct, latency: { distribution: constant, mean: 100ms } }
load: { transaction_rate: 0 }
parameters: { block_interval: 500ms }
costs: none
"#;
    let scenario = parse_scenario(yaml, "steps.yaml").expect("valid");
    let report = Simulation::new(&scenario, 1).expect("builds").run();
    let ns = |s: f64| (s * 1e9).round() as i64;
    for h in &report.heights {
        assert_eq!(ns(h.precommit_time_s), 100_000_000, "{h:?}");
        let prevote = if h.proposer == report.observer {
            200
        } else {
            100
        };
        assert_eq!(ns(h.prevote_time_s), prevote * 1_000_000, "{h:?}");
        assert_eq!(
            ns(h.prevote_time_s + h.precommit_time_s),
            ns(h.voting_time_s)
        );
    }
    let text = exposition(yaml, "steps", &[]);
    let sum = |step: &str| {
        value(
            &text,
            &format!(
                "cometbft_consensus_step_duration_seconds_sum{{chain_id=\"steps\",step=\"{step}\"}}"
            ),
        )
    };
    let n = report.heights.len() as f64;
    assert!((sum("Precommit") - 0.1 * n).abs() < 1e-6);
    assert!(
        (sum("NewHeight") - 0.5 * (n - 1.0)).abs() < 1e-6,
        "{}",
        sum("NewHeight")
    );
    let steps: f64 = ["NewHeight", "Propose", "Prevote", "Precommit", "Commit"]
        .iter()
        .map(|s| sum(s))
        .sum();
    let intervals = value(
        &text,
        "cometbft_consensus_block_interval_seconds_sum{chain_id=\"steps\"}",
    );
    assert!((steps - intervals).abs() < 1e-6, "{steps} vs {intervals}");
    assert!(!text.contains("step=\"voting\""));
}

/// `histogram_quantile(q, …)` as Prometheus computes it: linear within the bucket.
fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> f64 {
    let total = buckets.last().expect("+Inf").1;
    let rank = q * total;
    let mut previous = (0.0, 0.0);
    for &(le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return previous.0;
            }
            return previous.0 + (le - previous.0) * (rank - previous.1) / (count - previous.1);
        }
        previous = (le, count);
    }
    f64::NAN
}

#[test]
fn block_interval_buckets_put_the_90th_percentile_within_a_tenth_of_a_second() {
    let yaml = builtin_text("baseline");
    let scenario = parse_scenario(&yaml, "baseline.yaml").expect("valid");
    let report = Simulation::new(&scenario, 42).expect("builds").run();
    let mut intervals: Vec<f64> = Vec::new();
    let mut previous = 0.0;
    for h in &report.heights {
        intervals.push(h.commit_time_s - previous);
        previous = h.commit_time_s;
    }
    intervals.sort_by(f64::total_cmp);
    let exact = intervals[(0.9 * intervals.len() as f64).ceil() as usize - 1];
    let text = exposition(&yaml, "interval", &["--seed", "42"]);
    let buckets: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("cometbft_consensus_block_interval_seconds_bucket{"))
        .map(|rest| {
            let le = rest.split("le=\"").nth(1).and_then(|r| r.split('"').next());
            let le = match le.expect("le") {
                "+Inf" => f64::INFINITY,
                x => x.parse().expect("bound"),
            };
            let count = rest
                .rsplit_once(' ')
                .expect("value")
                .1
                .parse()
                .expect("count");
            (le, count)
        })
        .collect();
    let estimate = histogram_quantile(0.9, &buckets);
    // CometBFT's default buckets (…, 1, 2.5, …) would say 2.35 s here.
    assert!((estimate - exact).abs() <= 0.1, "{estimate} vs {exact}");
    assert!(buckets.iter().any(|&(le, _)| le == 2.5) && buckets.iter().any(|&(le, _)| le == 0.005));
}

#[test]
fn latency_is_a_summary_with_sum_and_count() {
    let text = exposition(SILENT, "latency", &[]);
    assert!(text.contains("# TYPE ccperf_latency_seconds summary\n"));
    let count = value(
        &text,
        "ccperf_latency_seconds_count{chain_id=\"one_silent\"}",
    );
    let sum = value(&text, "ccperf_latency_seconds_sum{chain_id=\"one_silent\"}");
    let p50 = value(
        &text,
        "ccperf_latency_seconds{chain_id=\"one_silent\",quantile=\"0.5\"}",
    );
    let scenario = parse_scenario(SILENT, "silent.yaml").expect("valid");
    let report = Simulation::new(&scenario, scenario.seed)
        .expect("builds")
        .run();
    assert_eq!(count, report.transactions_committed as f64);
    assert!((sum - report.latency_s.mean * count).abs() < 1e-6 * sum);
    let mean = sum / count;
    assert!(
        mean > 0.2 * p50 && mean < 5.0 * p50,
        "mean {mean}, p50 {p50}"
    );
}
