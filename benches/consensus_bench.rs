//! Simulator speed: events (message deliveries and timer firings) per second, at 4, 100 and 1000
//! validators with direct delivery, at 1000 validators with CometBFT's gossip layer and at 200
//! nodes shaped like CometBFT's QA testnet, on one core. `cargo bench --bench consensus_bench`.

use consensus_performance::config::parse_scenario;
use consensus_performance::sim;
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn scenario(validators: u32, duration: &str, rate: u32) -> consensus_performance::Scenario {
    scenario_with(validators, duration, rate, "gossip: direct")
}

/// The bench network (full mesh, lognormal 50 ± 20 ms latency) with `gossip` as the network's
/// gossip settings.
fn scenario_with(
    validators: u32,
    duration: &str,
    rate: u32,
    gossip: &str,
) -> consensus_performance::Scenario {
    let yaml = format!(
        r#"
name: bench_{validators}
duration: {duration}
validators: {{ count: {validators} }}
network: {{ {gossip}, latency: {{ distribution: lognormal, mean: 50ms, stddev: 20ms }} }}
load: {{ transaction_rate: {rate} }}
"#
    );
    match parse_scenario(&yaml, "bench") {
        Ok(s) => s,
        Err(e) => panic!("bench scenario: {e}"),
    }
}

fn events_per_second(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate");
    // Transactions are not events, but each one still costs an arrival draw and a latency
    // record: the 4-validator case is shown with and without load to separate the two.
    for (validators, duration, rate) in
        [(4u32, "120s", 0u32), (4, "120s", 1000), (100, "10s", 1000)]
    {
        let s = scenario(validators, duration, rate);
        let events = sim::run(&s, 1).map(|r| r.events).unwrap_or(1);
        group.throughput(Throughput::Elements(events));
        group.sample_size(10);
        group.bench_function(format!("{validators}_validators_{rate}_tps"), |b| {
            b.iter_batched(
                || sim::Simulation::new(&s, 1),
                |simulation| simulation.map(|s| black_box(s.run().events)),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// CometBFT's gossip layer on a network shaped like CometBFT's 200-node QA testnet: 175
/// validators and 25 full nodes, 400 tx/s of 1 KiB into one node, 2 ms links, v0.38's block size
/// limit, default costs. 10 s of virtual time per run.
fn gossip_qa_network(c: &mut Criterion) {
    let yaml = r#"
name: bench_qa_200
duration: 10s
validators: { count: 175 }
network:
  gossip: cometbft
  full_nodes: 25
  latency: { distribution: normal, mean: 2ms, stddev: 0.5ms }
load: { transaction_rate: 400, tx_size: 1024 }
parameters: { block_size_limit: 22020096 }
costs: default
"#;
    let s = match parse_scenario(yaml, "bench") {
        Ok(s) => s,
        Err(e) => panic!("bench scenario: {e}"),
    };
    let events = sim::run(&s, 1).map(|r| r.events).unwrap_or(1);
    let mut group = c.benchmark_group("gossip");
    group.throughput(Throughput::Elements(events));
    group.sample_size(10);
    group.bench_function("175_validators_25_full_nodes_400_tps_10s", |b| {
        b.iter_batched(
            || sim::Simulation::new(&s, 1),
            |simulation| simulation.map(|s| black_box(s.run().events)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// 1000 validators, 1000 tx/s, 2 s of virtual time (one or two heights), with direct delivery
/// and with CometBFT's gossip layer over 10 outbound peers a node: the scenarios
/// `benches/scale_1000_direct.yaml` and `benches/scale_1000_cometbft.yaml` (files, so that
/// `ccperf run` can measure their memory). One run is a second or more,
/// so each sample is one run (flat sampling) and there are 10; divide 2 s by the time per run
/// for virtual seconds per wall second. Under `cargo test --bench` (criterion's test mode, one
/// unoptimised run of each) the runs are 250 ms long and the event count is not taken, so the
/// test stays a few seconds.
fn thousand_validators(c: &mut Criterion) {
    // `cargo bench` passes `--bench`; `cargo test --bench` does not.
    let measuring = std::env::args().any(|a| a == "--bench");
    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    for (label, yaml) in [
        ("direct", include_str!("scale_1000_direct.yaml")),
        (
            "cometbft_10_peers",
            include_str!("scale_1000_cometbft.yaml"),
        ),
    ] {
        let mut s = match parse_scenario(yaml, "bench") {
            Ok(s) => s,
            Err(e) => panic!("bench scenario: {e}"),
        };
        if !measuring {
            s.duration = std::time::Duration::from_millis(250);
        }
        if measuring {
            let events = sim::run(&s, 1).map(|r| r.events).unwrap_or(1);
            group.throughput(Throughput::Elements(events));
        }
        group.bench_function(format!("1000_validators_{label}_1000_tps_2s"), |b| {
            b.iter_batched(
                || sim::Simulation::new(&s, 1),
                |simulation| simulation.map(|s| black_box(s.run().events)),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    events_per_second,
    gossip_qa_network,
    thousand_validators
);

/// A 16-point sweep (100 validators, 4 × 4 grid, one seed) on 1 and on 2 threads: the ratio of
/// the two times is the parallel speed-up of `ccperf sweep`.
fn sweep_threads(c: &mut Criterion) {
    use consensus_performance::bench::simulate;
    use consensus_performance::bench::sweep::{Existing, SweepOptions, SweepSpec, run_sweep};
    let spec = SweepSpec::parse(
        r#"
name: speed
base:
  name: speed
  duration: 20s
  validators: { count: 60 }
  network: { gossip: direct, latency: { distribution: lognormal, mean: 50ms, stddev: 20ms } }
  load: { transaction_rate: 500 }
grid:
  parameters.timeout_propose: [500ms, 1s, 2s, 3s]
  parameters.block_interval: [0s, 250ms, 500ms, 1s]
seeds: 1
"#,
        "bench",
    )
    .unwrap_or_else(|e| panic!("sweep spec: {e}"));
    let mut group = c.benchmark_group("sweep_16_points");
    group.sample_size(10);
    for threads in [1usize, 2] {
        let options = SweepOptions {
            out: None,
            existing: Existing::Refuse,
            jobs: Some(threads),
            shard: None,
            progress: false,
        };
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| black_box(run_sweep(&spec, &options, &simulate).map(|s| s.ran)))
        });
    }
    group.finish();
}

criterion_group!(sweeps, sweep_threads);
criterion_main!(benches, sweeps);
