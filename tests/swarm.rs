//! Swarm testing, after FoundationDB's and TigerBeetle's simulators: every seed draws its own
//! faults (validator count, Byzantine behaviour and members below a third of the power,
//! latency, loss, bandwidth, a partition that heals) and the invariants must hold on every one
//! of them.
//! A failure prints the scenario and the seed that reproduce it.

use consensus_performance::config::parse_scenario;
use consensus_performance::sim;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BEHAVIORS: [&str; 5] = [
    "silent",
    "equivocate",
    "amnesia",
    "delay",
    "withhold_precommits",
];

fn swarm_scenario(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n: u32 = [4, 5, 7, 10, 13][rng.random_range(0..5)];
    let byzantine = (n - 1) / 3; // strictly less than a third of equal power
    let behavior = BEHAVIORS[rng.random_range(0..BEHAVIORS.len())];
    let mean_ms = rng.random_range(5..200);
    let loss = f64::from(rng.random_range(0..10u32)) / 100.0;
    let split_at = rng.random_range(1..20);
    let split_for = rng.random_range(1..15);
    let cut = rng.random_range(1..n);
    let side: Vec<String> = (0..cut).map(|v| v.to_string()).collect();
    // Half the runs have links of limited bandwidth, where blocks spread by gossip.
    let bandwidth = match rng.random_range(0..6) {
        0 => "bandwidth_mbps: 5",
        1 => "bandwidth_mbps: 50",
        2 => "bandwidth_mbps: 500",
        _ => "",
    };
    format!(
        r#"
name: swarm_{seed}
duration: 45s
validators: {{ count: {n} }}
network:
  gossip: direct
  latency: {{ distribution: lognormal, mean: {mean_ms}ms, stddev: {stddev}ms }}
  loss: {loss}
  {bandwidth}
  partitions:
    - {{ at: {split_at}s, heal_at: {heal}s, groups: [[{side}]] }}
byzantine: {{ count: {byzantine}, behavior: {behavior} }}
load: {{ transaction_rate: {rate} }}
parameters: {{ timeout_propose: {propose}ms, block_interval: {interval}ms }}
"#,
        stddev = mean_ms / 2 + 1,
        heal = split_at + split_for,
        side = side.join(", "),
        rate = rng.random_range(0..400),
        propose = rng.random_range(300..3000),
        interval = rng.random_range(0..1000),
    )
}

#[test]
fn drawn_faults_below_a_third_never_break_safety() {
    let mut decided = 0;
    for seed in 0..60 {
        let yaml = swarm_scenario(seed);
        let scenario = parse_scenario(&yaml, "swarm").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let report = sim::run(&scenario, seed).unwrap();
        assert!(
            report.safety.held(),
            "safety broken: reproduce with seed={seed} on\n{yaml}\n{:?}",
            report.safety.violations
        );
        if report.heights_committed > 0 {
            decided += 1;
        }
    }
    // Liveness is not an invariant under arbitrary faults, but with the partition healed after
    // at most 34 s nearly every run must make progress.
    assert!(
        decided >= 55,
        "only {decided} of 60 swarm runs committed anything"
    );
}

#[test]
fn every_fork_above_a_third_proves_more_than_a_third_faulty_and_only_byzantine_ones() {
    let mut forks = 0;
    for seed in 0..40u64 {
        let n = [4u32, 7, 10][(seed % 3) as usize];
        let byzantine = n / 3 + 1; // more than a third
        let bandwidth = if seed % 2 == 0 {
            ", bandwidth_mbps: 20"
        } else {
            ""
        };
        let yaml = format!(
            r#"
duration: 40s
validators: {{ count: {n} }}
network: {{ gossip: direct, latency: {{ distribution: uniform, min: 20ms, max: 120ms }}{bandwidth} }}
byzantine: {{ count: {byzantine}, behavior: equivocate }}
load: {{ transaction_rate: 50 }}
"#
        );
        let report = sim::run(&parse_scenario(&yaml, "fork").unwrap(), seed).unwrap();
        for violation in &report.safety.violations {
            // Accountability: a fork proves more than a third of the power faulty.
            assert!(
                3 * violation.culprits.len() > n as usize,
                "seed={seed}: only {:?} proven faulty among {n}",
                violation.culprits
            );
            assert!(
                violation
                    .culprits
                    .iter()
                    .all(|c| report.byzantine.contains(c)),
                "seed={seed}: culprits {:?} are not all Byzantine {:?}",
                violation.culprits,
                report.byzantine
            );
        }
        forks += usize::from(!report.safety.agreement);
    }
    assert!(
        forks >= 30,
        "only {forks} of 40 coalitions above a third forked the chain"
    );
}
