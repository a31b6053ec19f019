//! The tune loop: it shortens the block interval of a chain with a silent validator, rolls back
//! changes that make things worse or break safety, is deterministic, writes a scenario that
//! parses back, and refuses bad input with exit code 2.

use consensus_performance::bench;
use consensus_performance::cli::tune::default_out;
use consensus_performance::config::{self, Scenario};
use consensus_performance::optimize::tune::{
    Objective, StopReason, TuneError, TuneOptions, TuneOutcome, observe, tune,
};
use consensus_performance::optimize::{
    Observations, OptimizationEngine, OptimizationParameters, Parameter, ParameterValue,
    PerformanceTargets,
};
use consensus_performance::report::RunReport;
use consensus_performance::{ConsensusMetrics, LatencyPercentiles};
use std::path::PathBuf;
mod support;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::ccperf;

const SILENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/tune_silent_validator.yaml"
);

fn silent_validator() -> Scenario {
    config::load_scenario(std::path::Path::new(SILENT)).unwrap()
}

fn options(iterations: u32, seeds: u32) -> TuneOptions {
    TuneOptions {
        iterations,
        seeds,
        jobs: Some(2),
        ..TuneOptions::default()
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Mean over seeds of each report's mean block interval, and whether every seed was safe.
fn rerun(scenario: &Scenario, seeds: &[u64]) -> (f64, bool) {
    let reports: Vec<RunReport> = seeds
        .iter()
        .map(|&seed| consensus_performance::sim::run(scenario, seed).unwrap())
        .collect();
    let mean = reports.iter().map(|r| r.block_interval_s.mean).sum::<f64>() / seeds.len() as f64;
    (mean, reports.iter().all(|r| r.safety.held()))
}

#[test]
fn tuning_a_silent_validator_chain_cuts_the_block_interval_by_a_third() {
    let scenario = silent_validator();
    let outcome = tune(&scenario, &options(6, 2), &bench::simulate).unwrap();
    assert_eq!(outcome.seeds, vec![1, 2]);
    assert_eq!(outcome.objective, Objective::Targets);

    // The numbers, recomputed from fresh runs of the original and the tuned scenario.
    let (before, before_safe) = rerun(&scenario, &outcome.seeds);
    let (after, after_safe) = rerun(&outcome.scenario, &outcome.seeds);
    let cut = (before - after) / before;
    println!(
        "mean block interval {before:.3} s -> {after:.3} s ({:.1} % shorter); tuned: {:?}",
        cut * 100.0,
        outcome.scenario.parameters
    );
    assert!(before_safe && after_safe);
    assert!((outcome.baseline.block_interval_s - before).abs() < 1e-9);
    assert!((outcome.tuned.block_interval_s - after).abs() < 1e-9);
    // The silent proposer costs a 3 s propose timeout every fourth height: ~2.1 s per block.
    assert!((2.0..2.3).contains(&before), "baseline {before}");
    assert!(cut >= 0.30, "block interval cut {:.1} %", cut * 100.0);
    assert!(
        (outcome.block_interval_reduction() - cut).abs() < 1e-9,
        "{}",
        outcome.block_interval_reduction()
    );

    // Every kept change held safety on every seed and improved the score.
    for step in outcome.kept() {
        let after = step.after.as_ref().unwrap();
        assert!(after.safe(), "{step:#?}");
        assert!(after.score < step.before.score, "{step:#?}");
    }
    assert!(outcome.tuned.score < outcome.baseline.score);
    // timeout_propose went first, toward (never below) its floor of 3 × 50 ms + processing.
    let first = &outcome.steps[0];
    assert_eq!(first.parameter, Parameter::TimeoutPropose);
    assert_eq!(
        (first.from, first.to),
        (
            ParameterValue::Duration(ms(3000)),
            ParameterValue::Duration(ms(2250))
        )
    );
    let tuned = &outcome.scenario.parameters;
    assert!(tuned.timeout_propose >= ms(150) && tuned.timeout_propose < ms(1000));
    // Near its floor, timeout_propose yields to the block interval.
    assert!(
        outcome
            .kept()
            .any(|s| s.parameter == Parameter::BlockInterval),
        "{:#?}",
        outcome.steps
    );
    // Only the parameters changed.
    assert_eq!(
        Scenario {
            parameters: scenario.parameters.clone(),
            ..outcome.scenario.clone()
        },
        scenario
    );
}

#[test]
fn observations_come_from_the_reports_and_the_topology() {
    let scenario = silent_validator();
    let reports: Vec<RunReport> = [1, 2]
        .iter()
        .map(|&seed| consensus_performance::sim::run(&scenario, seed).unwrap())
        .collect();
    let obs = observe(&scenario, &reports);
    // Constant 50 ms links, one hop, plus the block's serialisation for three peers.
    let max = obs.max_message_delay.unwrap();
    assert!(max >= ms(50) && max < ms(52), "{max:?}");
    assert_eq!(obs.p99_message_delay, Some(max));
    // Validator 3 of 4 proposes (and stays silent) every fourth height.
    let fraction = obs.multi_round_fraction.unwrap();
    assert!((0.2..0.3).contains(&fraction), "{fraction}");
    assert!((obs.rounds_per_height_mean.unwrap() - (1.0 + fraction)).abs() < 0.02);
    let arrival = obs.proposal_arrival.unwrap();
    assert!(arrival >= ms(50) && arrival < ms(100), "{arrival:?}");
    // 100 tx/s over ~2 s blocks of 250-byte transactions in a 4 MiB limit.
    let txs = obs.mean_txs_per_block.unwrap();
    assert!((150.0..250.0).contains(&txs), "{txs}");
    let fill = obs.block_fill_ratio.unwrap();
    assert!((fill - txs * 250.0 / 4_194_304.0).abs() < 1e-12);
    assert_eq!(obs.mempool_backlog, None);

    // A ring of 8 has a diameter of 4 hops; a normal latency is unbounded: p99 only.
    let mut ring = scenario.clone();
    ring.validators.count = 8;
    ring.byzantine = None;
    ring.network.topology = config::Topology::Ring;
    ring.network.bandwidth_mbps = None;
    ring.network.latency = config::LatencySpec::Normal {
        mean: ms(40),
        stddev: ms(10),
    };
    let obs = observe(&ring, &[]);
    assert_eq!(obs.max_message_delay, None);
    let p99 = obs.p99_message_delay.unwrap().as_secs_f64();
    assert!(
        (p99 - 4.0 * (0.040 + 2.326_348 * 0.010)).abs() < 1e-6,
        "{p99}"
    );
    assert_eq!(obs.multi_round_fraction, None);
}

/// The simulator, with runs made worse (3× latency, 2× height time) whenever
/// `timeout_propose` is not its default 3 s.
fn worse_without_default_propose(scenario: &Scenario, seed: u64) -> Result<RunReport, String> {
    let mut report = bench::simulate(scenario, seed)?;
    if scenario.parameters.timeout_propose != ms(3000) {
        report.latency_s.p99 *= 3.0;
        report.round_duration_s.mean *= 2.0;
        report.block_interval_s.mean *= 2.0;
    }
    Ok(report)
}

#[test]
fn a_change_that_makes_things_worse_is_rolled_back() {
    let scenario = silent_validator();
    let outcome = tune(&scenario, &options(2, 2), &worse_without_default_propose).unwrap();
    let first = &outcome.steps[0];
    assert_eq!(first.parameter, Parameter::TimeoutPropose);
    assert!(!first.kept);
    let after = first.after.as_ref().unwrap();
    assert!(after.score > first.before.score, "{first:#?}");
    assert!(
        first.verdict.contains("no improvement"),
        "{}",
        first.verdict
    );
    // Rolled back exactly; the next suggestion of the same iteration was tried and kept.
    assert_eq!(outcome.scenario.parameters.timeout_propose, ms(3000));
    let second = &outcome.steps[1];
    assert_eq!(
        (second.iteration, second.parameter, second.kept),
        (1, Parameter::BlockInterval, true)
    );
    let last_interval = outcome
        .kept()
        .filter(|s| s.parameter == Parameter::BlockInterval)
        .last()
        .unwrap();
    assert_eq!(
        outcome.scenario.parameters.block_interval,
        last_interval.to.as_duration().unwrap()
    );
    // Every iteration tries timeout_propose again (it is still the top suggestion) and rolls
    // it back.
    assert!(
        outcome
            .steps
            .iter()
            .filter(|s| s.parameter == Parameter::TimeoutPropose)
            .all(|s| !s.kept)
    );
}

#[test]
fn a_change_that_breaks_safety_on_one_seed_is_rolled_back() {
    // Seed 2 reports a violation whenever timeout_propose changed: never kept, even though
    // the runs are otherwise faster.
    let unsafe_on_seed_2 = |scenario: &Scenario, seed: u64| {
        let mut report = bench::simulate(scenario, seed)?;
        if seed == 2 && scenario.parameters.timeout_propose != ms(3000) {
            report.safety.agreement = false;
        }
        Ok(report)
    };
    let outcome = tune(&silent_validator(), &options(1, 2), &unsafe_on_seed_2).unwrap();
    let first = &outcome.steps[0];
    assert_eq!(first.parameter, Parameter::TimeoutPropose);
    assert!(!first.kept);
    assert_eq!(first.verdict, "safety violated on 1 of 2 seeds");
    assert!(first.after.as_ref().unwrap().score < first.before.score);
    assert_eq!(outcome.scenario.parameters.timeout_propose, ms(3000));
    assert_eq!(outcome.tuned.safety_held, 2);
}

#[test]
fn without_targets_the_block_interval_is_the_objective_and_throughput_is_guarded() {
    let mut scenario = silent_validator();
    scenario.targets = None;
    // Any shorter block interval loses 5 % of throughput: rolled back by the 98 % guard.
    let slower = |scenario: &Scenario, seed: u64| {
        let mut report = bench::simulate(scenario, seed)?;
        if scenario.parameters.block_interval < ms(1000) {
            report.throughput_tps *= 0.95;
        }
        Ok(report)
    };
    // Aggressiveness 1: timeout_propose halves to near its floor in three steps, then the
    // block interval is tried.
    let bold = TuneOptions {
        aggressiveness: 1.0,
        ..options(5, 1)
    };
    let outcome = tune(&scenario, &bold, &slower).unwrap();
    assert_eq!(outcome.objective, Objective::BlockInterval);
    assert_eq!(outcome.baseline.score, outcome.baseline.block_interval_s);
    assert_eq!(outcome.targets.max_latency, Duration::ZERO);
    assert!(
        (outcome.targets.target_throughput - 0.98 * outcome.baseline.throughput_tps).abs() < 1e-9
    );
    let interval_steps: Vec<_> = outcome
        .steps
        .iter()
        .filter(|s| s.parameter == Parameter::BlockInterval)
        .collect();
    assert!(!interval_steps.is_empty(), "{:#?}", outcome.steps);
    for step in &interval_steps {
        assert!(!step.kept);
        assert!(step.verdict.contains("below 98 %"), "{}", step.verdict);
    }
    assert_eq!(outcome.scenario.parameters.block_interval, ms(1000));
    // The other changes (timeouts) still shorten the block interval.
    assert!(outcome.tuned.block_interval_s < outcome.baseline.block_interval_s);
}

#[test]
fn the_same_input_gives_the_same_steps_on_any_thread_count() {
    let scenario = silent_validator();
    let run = |jobs| {
        tune(
            &scenario,
            &TuneOptions {
                jobs: Some(jobs),
                ..options(3, 3)
            },
            &bench::simulate,
        )
        .unwrap()
    };
    let (one, two): (TuneOutcome, TuneOutcome) = (run(1), run(2));
    assert_eq!(one, two);
    assert_eq!(one.steps.len(), 3);
    assert_eq!(one.stop, StopReason::IterationLimit);
}

#[test]
fn bad_options_are_refused_before_anything_runs() {
    let calls = AtomicUsize::new(0);
    let counting = |scenario: &Scenario, seed: u64| {
        calls.fetch_add(1, Ordering::SeqCst);
        bench::simulate(scenario, seed)
    };
    let scenario = silent_validator();
    let bad = |o: TuneOptions| tune(&scenario, &o, &counting).unwrap_err();
    assert_eq!(bad(options(0, 2)), TuneError::NoIterations);
    assert_eq!(bad(options(1, 0)), TuneError::NoSeeds);
    for a in [-0.1, 1.01, f64::NAN] {
        let err = bad(TuneOptions {
            aggressiveness: a,
            ..options(1, 1)
        });
        assert!(err.to_string().contains("between 0.0 and 1.0"), "{err}");
    }
    let err = bad(TuneOptions {
        jobs: Some(0),
        ..options(1, 1)
    });
    assert!(matches!(err, TuneError::Pool(_)), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // A runner failure on the scenario as given names the seed.
    let failing = |_: &Scenario, seed: u64| -> Result<RunReport, String> {
        Err(format!("no simulator for seed {seed}"))
    };
    let err = tune(&scenario, &options(1, 2), &failing).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tune_silent_validator with seed 1: no simulator for seed 1"
    );
}

#[test]
fn near_its_floor_timeout_propose_yields_to_the_block_interval() {
    // 25 % of heights need a second round and finality is over target, on a 50 ms network
    // (propose floor 3 × 50 + 10 = 160 ms).
    let metrics = ConsensusMetrics {
        round_duration: ms(1200),
        proposal_time: ms(60),
        voting_time: ms(100),
        commit_time: ms(5),
        throughput: 100.0,
        latency_percentiles: LatencyPercentiles {
            p99: ms(1500),
            ..LatencyPercentiles::default()
        },
        ..ConsensusMetrics::default()
    };
    let obs = Observations {
        max_message_delay: Some(ms(50)),
        proposal_arrival: Some(ms(60)),
        multi_round_fraction: Some(0.25),
        rounds_per_height_mean: Some(1.25),
        ..Observations::default()
    };
    let targets = PerformanceTargets {
        target_throughput: 95.0,
        max_latency: ms(2000),
        target_finality_time: ms(1000),
        ..PerformanceTargets::default()
    };
    let first = |propose: u64| {
        let parameters = OptimizationParameters {
            timeout_propose: ms(propose),
            ..OptimizationParameters::default()
        };
        let mut engine = OptimizationEngine::new(parameters, targets.clone());
        let s = engine.analyze_with(&metrics, &obs).unwrap();
        (s[0].parameter, s[0].priority)
    };
    // Far above the floor: 0.9 × (1 - 0.16 / 3) × urgency 0.25 (the slow-round share).
    let (p, priority) = first(3000);
    assert_eq!(p, Parameter::TimeoutPropose);
    assert!(
        (priority - 0.9 * (1.0 - 0.16 / 3.0) * 0.25).abs() < 1e-9,
        "{priority}"
    );
    // At 640 ms only 3/4 of it is waste: 0.675 < 0.7, block_interval first.
    let (p, priority) = first(640);
    assert_eq!(p, Parameter::BlockInterval);
    assert!((priority - 0.7 * 0.25).abs() < 1e-9, "{priority}");
}

#[test]
fn default_output_is_named_after_the_scenario() {
    assert_eq!(
        default_out("tune_silent_validator"),
        PathBuf::from("tune_silent_validator.tuned.yaml")
    );
    assert_eq!(default_out("../a b/c"), PathBuf::from("_a_b_c.tuned.yaml"));
    assert_eq!(default_out(""), PathBuf::from("scenario.tuned.yaml"));
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-tune-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cli_exits_2_on_bad_input() {
    let dir = temp_dir("bad");
    let bad_yaml = dir.join("bad.yaml");
    std::fs::write(
        &bad_yaml,
        "name: x\nduration: 10s\nvalidators: { count: 0 }\n",
    )
    .unwrap();
    let out_arg = dir.join("never.yaml");
    let out_path = out_arg.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--iterations", "0"], "iterations must be at least 1"),
        (&["--seeds", "0"], "seeds must be at least 1"),
        (&["--aggressiveness", "1.5"], "between 0.0 and 1.0"),
        (&["--aggressiveness=-0.2"], "between 0.0 and 1.0"),
        (&["--jobs", "0"], "--jobs must be at least 1"),
        (&["--iterations", "many"], "invalid value"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["tune", SILENT, "--out", out_path];
        args.extend_from_slice(extra);
        let out = ccperf(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(needle), "{extra:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(out.stdout.is_empty(), "{extra:?}: nothing printed");
    }
    for scenario in [bad_yaml.to_str().unwrap(), "/no/such/scenario.yaml"] {
        let out = ccperf(&["tune", scenario, "--out", out_path]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(scenario), "names the file: {stderr}");
    }
    assert!(!out_arg.exists());
}

#[test]
fn cli_prints_the_table_before_failing_to_write_the_file() {
    let missing_dir = temp_dir("unwritable").join("no-such-dir").join("t.yaml");
    let out = ccperf(&[
        "tune",
        SILENT,
        "--iterations",
        "1",
        "--seeds",
        "1",
        "--out",
        missing_dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stdout.contains("timeout_propose"), "{stdout}");
    assert!(stdout.contains("kept"), "{stdout}");
    assert!(
        stderr.contains(missing_dir.to_str().unwrap()),
        "names the path: {stderr}"
    );
}

#[test]
fn cli_writes_a_tuned_scenario_that_parses_back() {
    let dir = temp_dir("out");
    let path = dir.join("tuned.yaml");
    let out = ccperf(&[
        "tune",
        SILENT,
        "--iterations",
        "2",
        "--seeds",
        "2",
        "--json",
        "--out",
        path.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["out"], path.to_str().unwrap());
    let steps = doc["tune"]["steps"].as_array().unwrap();
    let kept: Vec<&serde_json::Value> = steps.iter().filter(|s| s["kept"] == true).collect();
    assert_eq!(kept.len(), 2, "{steps:#?}");

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# Tuned by `ccperf tune"), "{text}");
    let parsed = config::parse_scenario(&text, "tuned.yaml").unwrap();
    assert_eq!(parsed.name, "tune_silent_validator");
    // Each kept step's new value is in the file (the last for a parameter changed twice).
    for step in &kept {
        let parameter: Parameter = step["parameter"].as_str().unwrap().parse().unwrap();
        let last = kept
            .iter()
            .rev()
            .find(|s| s["parameter"] == step["parameter"])
            .unwrap();
        assert_eq!(
            parameter.get(&parsed.parameters).to_string(),
            last["to"].as_str().unwrap()
        );
    }
    // Two reductions of timeout_propose: 3 s × 0.75 × 0.75.
    assert_eq!(parsed.parameters.timeout_propose, ms(1688));
    assert_eq!(
        parsed.parameters.timeout_propose.as_secs_f64(),
        doc["tune"]["scenario"]["parameters"]["timeout_propose"]
            .as_str()
            .map(|s| config::duration::parse(s).unwrap().as_secs_f64())
            .unwrap()
    );
    // Everything else is the scenario as written.
    let original = silent_validator();
    assert_eq!(
        Scenario {
            parameters: original.parameters.clone(),
            ..parsed
        },
        original
    );
}
