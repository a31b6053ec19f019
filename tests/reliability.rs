//! Reproducers of what went wrong in long random campaigns: runs that ran away (events and
//! memory growing without bound) or never ended (decisions at one instant of virtual time),
//! with the bounds they now keep, and a fork reported without its culprits.

use consensus_performance::config::parse_scenario;
use consensus_performance::sim::Simulation;

/// What a run did and the most work it ever had pending.
struct Bounds {
    events: u64,
    heights: u64,
    max_pending_events: usize,
    max_buffered_messages: usize,
    end_s: f64,
}

/// Run `yaml` step by step, watching the queue and the validators' buffers.
fn run_watched(yaml: &str, seed: u64) -> Bounds {
    let scenario = parse_scenario(yaml, "reliability").unwrap_or_else(|e| panic!("{e}"));
    let mut simulation = Simulation::new(&scenario, seed).unwrap();
    simulation.start();
    let (mut max_pending_events, mut max_buffered_messages) = (0, 0);
    let mut steps = 0u64;
    while simulation.step() {
        steps += 1;
        // Sampling every 64 steps keeps the watch cheap; a backlog builds over many steps.
        if steps.is_multiple_of(64) {
            max_pending_events = max_pending_events.max(simulation.pending_events());
            max_buffered_messages = max_buffered_messages.max(simulation.buffered_messages());
        }
    }
    let end_s = simulation.now().as_secs_f64();
    let report = simulation.report();
    assert!(report.safety.held(), "{:?}", report.safety.violations);
    Bounds {
        events: report.events,
        heights: report.heights_committed,
        max_pending_events,
        max_buffered_messages,
        end_s,
    }
}

/// Issue 10's first runaway: validator 1 holds a quorum alone and `block_interval` is 0, so it
/// decided endlessly at one instant (over 4 GB before).
const SWARM_215: &str = r#"
name: swarm_215
duration: 60s
validators: { count: 5, voting_power: [1, 1000000000000, 1000000, 1, 1] }
network:
  gossip: direct
  topology: full_mesh
  latency: { distribution: exponential, mean: 12ms }
  bandwidth_mbps: 50
  partitions:
    - { at: 26988ms, groups: [[0, 4], [1, 3], [2]] }
    - { at: 24420ms, heal_at: 44840ms, groups: [[1, 2, 3], [4], [0]] }
    - { at: 13053ms, heal_at: 35481ms, groups: [[0, 1, 2, 4]] }
load: { transaction_rate: 100, tx_size: 100 }
byzantine: { validators: [3], behavior: withhold_precommits }
parameters: { timeout_propose: 1799ms, timeout_propose_delta: 44ms, timeout_prevote: 694ms,
  timeout_prevote_delta: 35ms, timeout_precommit: 1058ms, timeout_precommit_delta: 90ms,
  block_interval: 0ms, batch_size: 148 }
costs: none
"#;

/// The second: validator 2 holds a quorum alone on a ring of bandwidth-limited links, one
/// equivocator, `block_interval` 0 (over 3.5 GB before).
const SWARM_3865: &str = r#"
name: swarm_3865
duration: 55s
validators: { count: 4, voting_power: [1000000, 1000000, 1000000000000, 1000000] }
network:
  gossip: direct
  topology: ring
  latency: { distribution: normal, mean: 8ms, stddev: 7ms }
  bandwidth_mbps: 67.858
  gossip_interval: 20ms
  partitions: [ { at: 36901ms, heal_at: 56209ms, groups: [[0, 1, 2]] } ]
load: { transaction_rate: 100, tx_size: 2000 }
byzantine: { validators: [3], behavior: equivocate }
parameters: { timeout_propose: 2928ms, timeout_propose_delta: 146ms, timeout_prevote: 461ms,
  timeout_prevote_delta: 558ms, timeout_precommit: 196ms, timeout_precommit_delta: 142ms,
  block_interval: 0ms, batch_size: 305, parallel_verification: false }
costs: none
"#;

/// Events a height of one round costs `n` validators at most in the direct model: a proposal
/// and two votes from each to every peer, and four timers each.
fn events_per_height(n: u64) -> u64 {
    3 * n * (n - 1) + 4 * n
}

/// Peak resident memory of this test process, in MB (Linux; `None` elsewhere).
fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// The memory bound these runs keep: the whole test process, every test of this file included.
const MAX_RSS_MB: u64 = 300;

/// A height takes at least `MIN_HEIGHT_TIME` (1 ms), so a validator holding a quorum alone
/// commits at most one height a millisecond and the run ends at its duration.
fn assert_bounded(b: &Bounds, n: u64, duration_s: u64) {
    let max_heights = duration_s * 1000 + 1;
    assert!(
        b.heights <= max_heights,
        "{} heights in {duration_s} s",
        b.heights
    );
    assert!(
        b.events <= events_per_height(n) * max_heights,
        "{} events for at most {max_heights} heights",
        b.events
    );
    // Messages blocked by a partition wait in the queue until it heals: one event per message
    // and link whatever the resends, so at most the partition's length in heights times 3
    // messages times the links it cuts.
    assert!(
        b.max_pending_events <= 100_000,
        "{} events pending",
        b.max_pending_events
    );
    assert!(
        b.max_buffered_messages <= 100_000,
        "{} messages buffered",
        b.max_buffered_messages
    );
    assert_eq!(b.end_s, duration_s as f64, "the run ends at its duration");
    if let Some(mb) = peak_rss_mb() {
        assert!(mb <= MAX_RSS_MB, "peak resident memory {mb} MB");
    }
}

#[test]
fn a_validator_with_a_quorum_alone_and_no_block_interval_runs_one_height_a_millisecond() {
    let b = run_watched(SWARM_215, 6652119268661108317);
    assert_bounded(&b, 5, 60);
    // The observer (validator 0) commits until the partition of 24.42 s cuts it off for good.
    assert_eq!(b.heights, 24420);
}

#[test]
fn a_ring_with_a_dominant_validator_and_an_equivocator_stays_bounded() {
    let b = run_watched(SWARM_3865, 452590326776375989);
    assert_bounded(&b, 4, 55);
    // The partition cuts off only the equivocator: validator 0 follows validator 2 all along.
    assert!(b.heights > 54_000, "{}", b.heights);
}

/// One validator, no block interval, free processing: before the floor, every height decided at
/// t = 0 and the run never ended. Now a height a millisecond: heights at 0, 1 ms, …, 10 s.
#[test]
fn a_single_validator_without_block_interval_commits_one_height_a_millisecond() {
    let yaml = "name: zeno\nduration: 10s\nvalidators: { count: 1 }\nnetwork: { gossip: direct }\n\
                parameters: { block_interval: 0s }\ncosts: none\n";
    let b = run_watched(yaml, 1);
    assert_eq!(b.heights, 10_001);
    assert_eq!(b.events, 10_000, "one commit timer a height");
    assert_bounded(&b, 1, 10);
}

/// Four validators on links of zero latency: every vote arrives at once, yet heights are 1 ms
/// apart.
#[test]
fn zero_latency_and_no_block_interval_commit_one_height_a_millisecond() {
    let yaml = "name: zeno\nduration: 10s\nvalidators: { count: 4 }\nnetwork: { gossip: direct, \
                latency: { distribution: constant, mean: 0ms } }\n\
                parameters: { block_interval: 0s }\ncosts: none\n";
    let b = run_watched(yaml, 1);
    assert_eq!(b.heights, 10_001);
    assert_bounded(&b, 4, 10);
}

/// A validator cut off for 20 s from one that commits every millisecond receives 20,000
/// heights of messages at the heal and catches up. Replaying its whole buffer at every height
/// made this quadratic (minutes); a height now replays only its own messages.
#[test]
fn a_validator_cut_off_from_a_fast_chain_catches_up_every_height() {
    let yaml = r#"
name: lag
duration: 25s
validators: { count: 4, voting_power: [1000000000000, 1, 1, 1] }
network:
  gossip: direct
  latency: { distribution: constant, mean: 5ms }
  partitions: [ { at: 1s, heal_at: 21s, groups: [[0], [1, 2, 3]] } ]
load: { transaction_rate: 0 }
parameters: { block_interval: 0s }
costs: none
"#;
    let scenario = parse_scenario(yaml, "lag").unwrap();
    let mut simulation = Simulation::new(&scenario, 3).unwrap();
    simulation.observe(1).unwrap();
    let report = simulation.run_to_end();
    assert!(report.safety.held());
    // Validator 0 commits a height a millisecond: 25,001 heights by 25 s, minus the few
    // its messages are still on their way for.
    assert!(
        (24_990..=25_001).contains(&report.heights_committed),
        "validator 1 committed {} heights",
        report.heights_committed
    );
}

/// Validators 2 and 3 (amnesia) precommit a value with 0 in round 0, are then cut off from 0
/// with 1, and prevote 1's proposal in round 1 with no polka for it in round 0: a fork whose
/// proof is the flip-flop in the votes validator 1 received (it was reported with no culprits).
#[test]
fn an_amnesia_fork_names_the_validators_that_flip_flopped() {
    let yaml = r#"
name: amnesia_fork
duration: 30s
validators: { count: 4 }
network:
  gossip: direct
  latency: { distribution: uniform, min: 10ms, max: 300ms }
  partitions:
    - { at: 0s, heal_at: 350ms, groups: [[0, 2, 3], [1]] }
    - { at: 350ms, groups: [[0], [1, 2, 3]] }
load: { transaction_rate: 0 }
byzantine: { validators: [2, 3], behavior: amnesia }
parameters: { block_interval: 0s }
costs: none
"#;
    let scenario = parse_scenario(yaml, "amnesia_fork").unwrap();
    for seed in [1, 3, 9, 12, 15, 16, 21, 25, 29, 30, 36, 39] {
        let report = consensus_performance::sim::run(&scenario, seed).unwrap();
        assert!(!report.safety.agreement, "seed {seed}: no fork");
        let forks: Vec<_> = report
            .safety
            .violations
            .iter()
            .filter(|v| v.invariant == "agreement")
            .collect();
        assert_eq!(forks.len(), 1, "seed {seed}");
        assert_eq!(forks[0].height, 1, "seed {seed}");
        assert_eq!(
            forks[0].culprits,
            vec![2, 3],
            "seed {seed}: {}",
            forks[0].description
        );
        assert!(
            forks[0]
                .description
                .contains("0 by equivocation, [2, 3] by amnesia"),
            "seed {seed}: {}",
            forks[0].description
        );
    }
}
