//! Benchmarks: success criteria judged with numbers, intervals across seeds with known answers,
//! seeds and parallelism that do not change results.

mod support;

use consensus_performance::bench::{
    BenchError, Bound, Interval, average_metrics, evaluate_criteria, stats::t_critical_95,
};
use consensus_performance::config::{ByzantineBehavior, LatencySpec};
use consensus_performance::{
    BenchmarkScenario, ConsensusBenchmark, OptimizationParameters, PerformanceTargets,
};
use std::time::Duration;
use support::{fake_run, report};

fn targets() -> PerformanceTargets {
    PerformanceTargets {
        target_throughput: 95.0,
        max_latency: Duration::from_secs(5),
        target_finality_time: Duration::from_secs(2),
        max_cpu_usage: 80.0,
        max_memory_usage: 1024,
    }
}

fn small() -> BenchmarkScenario {
    BenchmarkScenario {
        name: "small".to_string(),
        description: "four validators".to_string(),
        validator_count: 4,
        transaction_rate: 100.0,
        duration: Duration::from_secs(30),
        network_latency: Duration::from_millis(100),
        byzantine_ratio: 0.0,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-3
}

#[test]
fn throughput_below_target_fails_only_that_criterion() {
    // Mean throughput (90 + 96) / 2 = 93 < 95; everything else within target.
    let reports = [report(0, 90.0, 3.0, true), report(1, 96.0, 4.0, true)];
    let criteria = evaluate_criteria(Some(&targets()), &reports);
    let names: Vec<&str> = criteria.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "throughput_tps",
            "latency_p99_s",
            "finality_s",
            "cpu_percent",
            "memory_mb",
            "safety"
        ]
    );
    let throughput = &criteria[0];
    assert_eq!(
        (throughput.bound, throughput.target),
        (Bound::AtLeast, 95.0)
    );
    assert!(close(throughput.actual, 93.0));
    assert!(!throughput.met);
    assert!(close(criteria[1].actual, 3.5), "mean p99 of 3 s and 4 s");
    assert!(criteria[1..].iter().all(|c| c.met));
    assert_eq!(
        throughput.to_string(),
        "throughput_tps = 93.000 (target >= 95.000): NOT met"
    );
}

#[test]
fn latency_above_max_fails() {
    let reports = [report(0, 100.0, 5.5, true)];
    let criteria = evaluate_criteria(Some(&targets()), &reports);
    let latency = &criteria[1];
    assert_eq!((latency.bound, latency.target), (Bound::AtMost, 5.0));
    assert!(!latency.met);
}

#[test]
fn a_safety_violation_fails_even_without_targets() {
    let reports = [report(0, 100.0, 1.0, true), report(1, 100.0, 1.0, false)];
    let criteria = evaluate_criteria(None, &reports);
    assert_eq!(criteria.len(), 1, "no targets: safety only");
    assert_eq!(criteria[0].name, "safety");
    assert!(close(criteria[0].actual, 0.5), "held on one seed of two");
    assert!(!criteria[0].met);
    let safe = evaluate_criteria(None, &reports[..1]);
    assert!(safe[0].met);
}

#[test]
fn intervals_match_hand_computed_answers() {
    // s = sqrt(2.5), t(4) = 2.776: 2.776 * 1.5811 / sqrt(5) = 1.9630.
    let a = Interval::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!((a.n, a.mean), (5, 3.0));
    assert!(close(a.half_width.expect("two or more"), 1.9630), "{a:?}");
    // s = sqrt(32 / 7) = 2.1381, t(7) = 2.365: 2.365 * 2.1381 / sqrt(8) = 1.7878.
    let b = Interval::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
    assert_eq!(b.mean, 5.0);
    assert!(close(b.half_width.expect("two or more"), 1.7878), "{b:?}");
    assert!(close(b.low(), 3.2122) && close(b.high(), 6.7878));
    assert_eq!(Interval::of(&[10.0, 10.0, 10.0]).half_width, Some(0.0));
    let one = Interval::of(&[7.0]);
    assert_eq!((one.mean, one.half_width), (7.0, None));
    assert_eq!(one.display(1), "7.0");
    assert_eq!(a.display(2), "3.00 ± 1.96");
    assert_eq!(t_critical_95(2), 4.303);
}

#[test]
fn average_metrics_are_means_over_seeds() {
    let m = average_metrics(&[report(0, 90.0, 3.0, true), report(1, 110.0, 5.0, true)]);
    assert_eq!(m.throughput, 100.0);
    assert_eq!(m.latency_percentiles.p99, Duration::from_secs(4));
    assert_eq!(m.latency_percentiles.p50, Duration::from_secs(2));
    assert_eq!(m.round_duration, Duration::from_millis(1500));
    assert_eq!(m.proposal_time, Duration::from_millis(100));
    assert_eq!(m.resource_usage.memory_mb, 300);
}

#[test]
fn benchmark_runs_seeds_from_the_scenario_seed_in_order() {
    let mut scenario = small().to_scenario();
    scenario.seed = 40;
    scenario.targets = Some(targets());
    let result = ConsensusBenchmark::new()
        .with_runner(fake_run)
        .with_seeds(4)
        .run_file_scenario(&scenario)
        .expect("runs");
    let seeds: Vec<u64> = result.reports.iter().map(|r| r.seed).collect();
    assert_eq!(seeds, [40, 41, 42, 43]);
    assert_eq!(result.summary.seeds, seeds);
    // fake: 100 / (1 + 3 s / 4 + 1 s) * (1 - (seed % 5) / 100) for seeds 40..43: wobble 0..3 %.
    let expected = 100.0 / 2.75 * (1.0 - 0.015);
    assert!(close(result.average_metrics.throughput, expected));
    assert!(close(result.summary.throughput_tps.mean, expected));
    assert!(
        !result.success_criteria_met,
        "36 tx/s is below the 95 tx/s target"
    );
    let failed: Vec<&str> = result.failed_criteria().map(|c| c.name.as_str()).collect();
    assert_eq!(failed, ["throughput_tps"]);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let scenarios = [small().to_scenario(), {
        let mut s = small().to_scenario();
        s.name = "slow".to_string();
        s.parameters = OptimizationParameters {
            timeout_propose: Duration::from_secs(1),
            ..OptimizationParameters::default()
        };
        s
    }];
    let run = |jobs| {
        ConsensusBenchmark::new()
            .with_runner(fake_run)
            .with_jobs(jobs)
            .run_scenarios(&scenarios)
            .expect("runs")
    };
    let one = run(1);
    let two = run(2);
    let reports = |r: &[consensus_performance::BenchmarkResult]| {
        r.iter().map(|b| b.reports.clone()).collect::<Vec<_>>()
    };
    assert_eq!(reports(&one), reports(&two));
    assert_eq!(one[1].name, "slow");
    assert!(one[1].summary.throughput_tps.mean > one[0].summary.throughput_tps.mean);
}

#[test]
fn runner_errors_and_zero_seeds_are_errors() {
    let failing = ConsensusBenchmark::new().with_runner(|_, seed| {
        if seed == 1 {
            Err("no such validator".to_string())
        } else {
            Ok(report(seed, 1.0, 1.0, true))
        }
    });
    let err = failing.run_scenario(&small()).expect_err("seed 1 fails");
    assert_eq!(
        err,
        BenchError::Run {
            scenario: "small".to_string(),
            seed: 1,
            message: "no such validator".to_string()
        }
    );
    let none = ConsensusBenchmark::new()
        .with_runner(fake_run)
        .with_seeds(0);
    assert_eq!(none.run_scenario(&small()), Err(BenchError::NoSeeds));
}

#[test]
fn benchmark_scenario_becomes_a_full_scenario_and_back() {
    let seed_example = BenchmarkScenario {
        name: "custom_stress_test".to_string(),
        description: "Custom high-stress scenario".to_string(),
        validator_count: 15,
        transaction_rate: 2000.0,
        duration: Duration::from_secs(600),
        network_latency: Duration::from_millis(100),
        byzantine_ratio: 0.2,
    };
    let scenario = seed_example.to_scenario();
    assert_eq!(scenario.validators.count, 15);
    assert_eq!(scenario.load.transaction_rate, 2000.0);
    assert_eq!(
        scenario.network.latency,
        LatencySpec::Constant {
            mean: Duration::from_millis(100)
        }
    );
    let byzantine = scenario.byzantine.as_ref().expect("20 % Byzantine");
    assert_eq!(
        (byzantine.ratio, byzantine.behavior),
        (Some(0.2), ByzantineBehavior::Equivocate)
    );
    assert_eq!(scenario.targets, None);
    assert_eq!(BenchmarkScenario::from_scenario(&scenario), seed_example);
    assert_eq!(small().to_scenario().byzantine, None);
}

#[test]
fn cli_exits_2_on_a_missing_scenario_file() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccperf"))
        .args(["bench", "no/such/scenario.yaml", "--seeds", "2"])
        .output()
        .expect("ccperf runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_builtin_suite_runs_and_is_safe() {
    let results = ConsensusBenchmark::new()
        .with_seeds(1)
        .run_all_benchmarks()
        .expect("runs");
    let names: Vec<&str> = results.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "baseline",
            "byzantine_fault",
            "high_load",
            "network_partition"
        ]
    );
    for result in results.values() {
        assert_eq!(result.reports.len(), 1);
        assert!(result.reports[0].safety.held(), "{}", result.name);
    }
}

#[test]
fn real_benchmark_is_the_same_with_one_and_two_threads() {
    let run = |jobs| {
        ConsensusBenchmark::new()
            .with_seeds(2)
            .with_jobs(jobs)
            .run_scenario(&small())
            .expect("runs")
            .reports
            .into_iter()
            .map(|mut r| {
                r.wall_time_s = 0.0;
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn cli_bench_exits_1_when_a_criterion_fails_and_writes_every_report() {
    use consensus_performance::cli::bench::{BenchArgs, bench_with};
    let dir = std::env::temp_dir().join(format!("ccperf-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let file = dir.join("small.yaml");
    let args = |min_tps: f64, out: Option<std::path::PathBuf>| {
        std::fs::write(
            &file,
            format!(
                "name: small\nseed: 3\nduration: 30s\nvalidators: {{ count: 4 }}\n\
                 targets: {{ target_throughput: {min_tps} }}\n"
            ),
        )
        .expect("write");
        BenchArgs {
            scenarios: vec![file.display().to_string()],
            seeds: 2,
            json: true,
            out,
            jobs: Some(2),
            config: None,
        }
    };
    let fake = || ConsensusBenchmark::new().with_runner(fake_run);
    let out = dir.join("results");
    // fake: 100 tx/s / 2.75 ≈ 36 tx/s, below 95 but above 30.
    assert_eq!(bench_with(&args(95.0, Some(out.clone())), fake()), 1);
    for name in ["small-seed3.json", "small-seed4.json", "summary.json"] {
        assert!(out.join(name).is_file(), "{name} written");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("read"))
            .expect("json");
    assert_eq!(summary["success"], false);
    assert_eq!(
        summary["benchmarks"][0]["summary"]["seeds"],
        serde_json::json!([3, 4])
    );
    assert_eq!(bench_with(&args(30.0, None), fake()), 0);
    let _ = std::fs::remove_dir_all(dir);
}
