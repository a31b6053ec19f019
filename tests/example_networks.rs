//! The example networks of `scenarios/` (CometBFT's QA testnets and a global validator set),
//! run for 20 s: safety holds and the block rate stays in the band the calibration measured
//! (docs/calibration.md), so a change to the gossip model that moves it fails here.
//!
//! Each band is the rate the 90 s (180 s, 120 s) runs settle to over 5 seeds, ±15 % (the
//! calibration's target for blocks per minute), as whole heights in 20 s. Independent of the
//! calibration, no height can be shorter than `timeout_commit` (1 s) plus the proposal, prevote
//! and precommit hops, so 20 s never hold more than 20 heights.

mod support;

use consensus_performance::config::{example_names, example_scenario};
use consensus_performance::sim;
use std::time::Duration;

/// Heights the observer commits in the first 20 s of example network `name` with `seed`.
fn heights_in_20s(name: &str, seed: u64) -> (u64, f64) {
    let mut scenario = example_scenario(name)
        .expect("an example network")
        .expect("it parses");
    scenario.duration = Duration::from_secs(20);
    let report = sim::run(&scenario, seed).expect("it runs");
    assert!(
        report.safety.held(),
        "{name} seed {seed}: {:?}",
        report.safety
    );
    assert!(
        report.heights_committed < 20,
        "{name}: faster than timeout_commit allows"
    );
    (report.heights_committed, report.rounds.mean)
}

#[test]
fn every_example_network_parses_and_says_what_it_is() {
    assert_eq!(
        example_names(),
        ["cometbft_qa_v038", "cometbft_qa_v1_latency", "global_150"]
    );
    for name in example_names() {
        let s = example_scenario(name).unwrap().unwrap();
        assert_eq!(s.name, *name);
        assert!(!s.description.is_empty(), "{name}");
        assert!(
            s.network.regions.is_some(),
            "{name} places its nodes in regions"
        );
    }
}

#[test]
fn cometbft_qa_v038_commits_a_block_every_1_7_seconds() {
    // Calibrated (docs/calibration.md, 5 seeds): 34.7 blocks a minute (1.73 s a height: 1 s
    // timeout_commit, 0.73 s of consensus, with every transaction crossing the connections,
    // the load in batches of 400 a second and vote extensions on); ±15 % is 29.5 to 39.9 a
    // minute, 9.8 to 13.3 heights in 20 s.
    let (heights, rounds) = heights_in_20s("cometbft_qa_v038", 1);
    assert!((10..=13).contains(&heights), "{heights} heights");
    assert_eq!(
        rounds, 1.0,
        "one data centre: every height decides in round 0"
    );
}

#[test]
fn cometbft_qa_v1_latency_pays_the_ocean_every_height() {
    // Calibrated: 27.1 blocks a minute (2.2 s a height: 1 s timeout_commit and 1.2 s of
    // consensus over 13 regions); ±15 % is 23.0 to 31.2 a minute, 7.7 to 10.4 heights in 20 s.
    // (The v0.38 testnet in one region commits 12 in the same 20 s.)
    let (heights, _) = heights_in_20s("cometbft_qa_v1_latency", 1);
    assert!((8..=10).contains(&heights), "{heights} heights");
}

#[test]
fn global_150_commits_a_block_every_2_seconds() {
    // Calibrated: 30 blocks a minute (2.0 s a height); ±15 % is 25.5 to 34.5 a minute, 8.5 to
    // 11.5 heights in 20 s.
    let (heights, _) = heights_in_20s("global_150", 1);
    assert!((9..=11).contains(&heights), "{heights} heights");
}

#[test]
fn calibrate_refuses_zero_seeds_and_zero_jobs() {
    let out = support::ccperf(&["calibrate", "--seeds", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--seeds must be at least 1"));
    let out = support::ccperf(&["calibrate", "--jobs", "0"]);
    assert_eq!(out.status.code(), Some(2));
}
