//! A deterministic stand-in for the simulator: a `RunReport` computed from (scenario, seed), so
//! benchmark and sweep logic can be tested without running consensus.
#![allow(dead_code)]

use consensus_performance::Scenario;
use consensus_performance::report::{
    HeightRecord, Quantiles, Resources, Rounds, RunReport, Safety, Summary,
};
use std::time::Duration;

/// A report with these headline numbers; everything else fixed.
pub fn report(seed: u64, throughput: f64, p99: f64, safe: bool) -> RunReport {
    RunReport {
        scenario: "fake".to_string(),
        seed,
        trace_hash: format!("{seed:016x}"),
        duration_s: 60.0,
        validators: 4,
        byzantine: Vec::new(),
        byzantine_behavior: None,
        observer: 0,
        heights_committed: 40,
        transactions_committed: (throughput * 60.0) as u64,
        transactions_dropped: 0,
        throughput_tps: throughput,
        latency_distribution: Vec::new(),
        latency_s: Quantiles {
            p50: p99 / 2.0,
            p90: p99 * 0.8,
            p95: p99 * 0.9,
            p99,
            max: p99 * 1.5,
            ..Default::default()
        },
        round_duration_s: Summary {
            mean: 1.5,
            p50: 1.4,
            p99: 2.0,
            max: 2.5,
        },
        block_interval_s: Summary::default(),
        rounds: Rounds { mean: 1.25, max: 2 },
        resources: Resources {
            cpu_percent: 40.0,
            memory_mb: 300,
            network_bytes_in: 1000,
            network_bytes_out: 2000,
            disk_io_bytes: 500,
        },
        safety: Safety {
            agreement: safe,
            validity: true,
            violations: Vec::new(),
        },
        events: 1234,
        monitor: Default::default(),
        targets: Vec::new(),
        wall_time_s: 0.5 + seed as f64, // never deterministic in real runs
        heights: vec![HeightRecord {
            height: 1,
            round: 0,
            proposer: 0,
            commit_time_s: 1.5,
            txs: 10,
            round_duration_s: 1.5,
            proposal_time_s: 0.1,
            voting_time_s: 0.2,
            commit_cost_s: 0.01,
            ..Default::default()
        }],
    }
}

/// The fake simulator: throughput falls as timeout_propose and block_interval grow, latency
/// grows with the network latency, the seed wobbles both, and it sleeps a seed-dependent few
/// milliseconds so parallel runs finish out of order.
pub fn fake_run(scenario: &Scenario, seed: u64) -> Result<RunReport, String> {
    let p = &scenario.parameters;
    let wait = p.timeout_propose.as_secs_f64() / 4.0 + p.block_interval.as_secs_f64();
    let wobble = (seed % 5) as f64 * 0.01;
    let throughput = scenario.load.transaction_rate / (1.0 + wait) * (1.0 - wobble);
    let p99 = scenario.network.latency.mean().as_secs_f64() * 3.0 + wait + wobble;
    let mut r = report(seed, throughput, p99, true);
    r.scenario = scenario.name.clone();
    r.validators = scenario.validators.count as usize;
    r.trace_hash = format!(
        "{:016x}",
        fnv(&format!("{scenario:?}")) ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    );
    std::thread::sleep(Duration::from_millis((seed * 7 + throughput as u64) % 4));
    Ok(r)
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Run the `ccperf` binary with `args` (progress bars off, as in CI).
pub fn ccperf(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ccperf"))
        .args(args)
        .env("CI", "true")
        .output()
        .expect("ccperf runs")
}
