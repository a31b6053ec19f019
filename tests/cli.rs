//! The command line's contract: exit codes and clear errors for bad input, never a panic.

mod support;

use std::io::Write;
use std::process::Output;
use support::ccperf;

fn scenario_file(name: &str, yaml: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    path
}

/// Runs `ccperf validate` and `ccperf run` on `yaml`; both must exit 2 and say `needles`.
fn refused(name: &str, yaml: &str, needles: &[&str]) {
    let path = scenario_file(name, yaml);
    for command in ["validate", "run"] {
        let out = ccperf(&[command, path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command} {name}: {stderr}");
        assert!(
            !stderr.contains("panicked"),
            "{command} {name} panicked: {stderr}"
        );
        assert!(
            stderr.contains(name),
            "{command} {name}: the error names the file: {stderr}"
        );
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "{command} {name}: expected `{needle}` in: {stderr}"
            );
        }
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "one clear message: {stderr}"
        );
    }
}

#[test]
fn missing_file_is_bad_input() {
    let out = ccperf(&["run", "/no/such/scenario.yaml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("/no/such/scenario.yaml"), "{stderr}");
}

#[test]
fn malformed_yaml_names_line_and_column() {
    refused(
        "malformed.yaml",
        "duration: 10s\nvalidators: { count: 4\n",
        &["malformed.yaml:"],
    );
}

#[test]
fn unknown_key_is_refused() {
    refused(
        "unknown.yaml",
        "duration: 10s\nvalidators: { count: 4 }\nvalidatorz: 3\n",
        &["validatorz"],
    );
}

#[test]
fn wrong_type_is_refused() {
    refused(
        "wrong_type.yaml",
        "duration: 10s\nvalidators: { count: four }\n",
        &["count"],
    );
}

#[test]
fn zero_validators_are_refused() {
    refused(
        "zero.yaml",
        "duration: 10s\nvalidators: { count: 0 }\n",
        &["validators.count"],
    );
}

#[test]
fn byzantine_ratio_outside_zero_one_is_refused() {
    refused(
        "ratio.yaml",
        "duration: 10s\nvalidators: { count: 4 }\nbyzantine: { ratio: 1.5, behavior: silent }\n",
        &["byzantine.ratio"],
    );
}

#[test]
fn partition_naming_a_missing_validator_is_refused() {
    refused(
        "partition.yaml",
        "duration: 10s\nvalidators: { count: 4 }\nnetwork:\n  partitions:\n    - { at: 1s, heal_at: 2s, groups: [[0, 1], [2, 9]] }\n",
        &["partitions", "9"],
    );
}

#[test]
fn zero_and_negative_durations_are_refused() {
    refused(
        "zero_duration.yaml",
        "duration: 0s\nvalidators: { count: 4 }\n",
        &["duration"],
    );
    refused(
        "negative_duration.yaml",
        "duration: -5s\nvalidators: { count: 4 }\n",
        &["duration"],
    );
    refused(
        "zero_timeout.yaml",
        "duration: 5s\nvalidators: { count: 4 }\nparameters: { timeout_propose: 0s }\n",
        &["timeout_propose"],
    );
}

#[test]
fn unknown_builtin_and_bad_flags_are_usage_errors() {
    let out = ccperf(&["run", "no_such_builtin"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ccperf(&["run", "baseline", "--seed", "minus-one"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ccperf(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn run_json_has_the_contract_fields_and_exit_zero() {
    let path = scenario_file(
        "small.yaml",
        "name: small\nduration: 5s\nvalidators: { count: 4 }\nnetwork: { latency: { distribution: constant, mean: 20ms } }\n",
    );
    let out = ccperf(&[
        "run",
        path.to_str().unwrap(),
        "--seed",
        "9",
        "--json",
        "--heights",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    for field in [
        "scenario",
        "seed",
        "trace_hash",
        "heights_committed",
        "transactions_committed",
        "throughput_tps",
        "latency_s",
        "round_duration_s",
        "rounds",
        "resources",
        "safety",
        "events",
        "wall_time_s",
        "heights",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    for (group, keys) in [
        ("latency_s", &["p50", "p90", "p95", "p99", "max"][..]),
        ("round_duration_s", &["mean", "p50", "p99", "max"][..]),
        ("rounds", &["mean", "max"][..]),
        (
            "resources",
            &[
                "cpu_percent",
                "memory_mb",
                "network_bytes_in",
                "network_bytes_out",
                "disk_io_bytes",
            ][..],
        ),
        ("safety", &["agreement", "validity", "violations"][..]),
    ] {
        for key in keys {
            assert!(v[group].get(key).is_some(), "missing {group}.{key}");
        }
    }
    assert_eq!(v["seed"], 9);
    let h = &v["heights"][0];
    for key in ["height", "round", "proposer", "commit_time_s", "txs"] {
        assert!(h.get(key).is_some(), "missing heights[].{key}");
    }
    assert!(v["heights_committed"].as_u64().unwrap() > 3);
}

#[test]
fn an_invariant_violation_exits_one() {
    let path = scenario_file(
        "fork.yaml",
        "duration: 20s\nvalidators: { count: 4 }\nnetwork: { gossip: direct }\nbyzantine: { behavior: equivocate, validators: [2, 3] }\ncosts: none\n",
    );
    let out = ccperf(&["run", path.to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["safety"]["agreement"], false);
}

#[test]
fn the_observer_can_be_chosen_but_not_a_missing_or_byzantine_one() {
    let path = scenario_file(
        "observer.yaml",
        "duration: 20s\nvalidators: { count: 4 }\nnetwork:\n  partitions:\n    - { at: 5s, heal_at: 15s, groups: [[0]] }\nbyzantine: { behavior: silent, validators: [3] }\ncosts: none\n",
    );
    let path = path.to_str().unwrap();
    let json = |args: &[&str]| {
        let out = ccperf(&[&["run", path, "--json", "--heights"], args].concat());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    // Validator 0 is cut off from 5 s to 15 s (the other two correct validators cannot commit
    // without it either: 2 of 4); validator 1 sees the same chain from the other side.
    let default = json(&[]);
    let chosen = json(&["--observer", "1"]);
    assert_eq!(
        (default["observer"].as_u64(), chosen["observer"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(
        default["trace_hash"], chosen["trace_hash"],
        "observing does not change the run"
    );
    assert_ne!(default["resources"], chosen["resources"]);
    for (args, needle) in [
        (["--observer", "9"], "does not exist"),
        (["--observer", "3"], "Byzantine"),
    ] {
        let out = ccperf(&[&["run", path], &args[..]].concat());
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(needle));
    }
}

#[test]
fn the_event_log_has_one_json_line_per_event_and_changes_nothing() {
    let dir = std::env::temp_dir().join(format!("ccperf-events-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("events.jsonl");
    let logged = ccperf(&[
        "run",
        "baseline",
        "--json",
        "--events",
        log.to_str().unwrap(),
    ]);
    assert_eq!(
        logged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&logged.stderr)
    );
    let plain = ccperf(&["run", "baseline", "--json"]);
    let report = |out: &Output| serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
    let (with_log, without) = (report(&logged), report(&plain));
    assert_eq!(
        with_log["trace_hash"], without["trace_hash"],
        "logging must not change the run"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, with_log["events"].as_u64().unwrap());
    let kinds = |kind: &str| lines.iter().filter(|l| l["event"] == kind).count();
    // Under CometBFT gossip (the default) messages arrive as relayed votes, proposals and
    // block parts, and gossip routines wake.
    let deliveries = kinds("votes") + kinds("relay") + kinds("part");
    assert!(
        deliveries > 1000 && kinds("wake") > 500 && kinds("timeout") > 50,
        "{deliveries} deliveries"
    );
    assert!(
        lines
            .windows(2)
            .all(|w| w[0]["t_ns"].as_u64() <= w[1]["t_ns"].as_u64()),
        "in time order"
    );
    // A log file that cannot be created is bad input, refused before anything runs.
    let out = ccperf(&["run", "baseline", "--events", "/no/such/dir/events.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/dir/events.jsonl"));
}
