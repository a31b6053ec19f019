//! The seed README's code, as written there (the benchmark API is synchronous): every name and
//! call it shows exists and behaves. `Duration::from_hours` is written `from_secs(h * 3600)`:
//! it is std's from Rust 1.91, and this crate's tests build with its rust-version, 1.89
//! (clippy.toml has clippy's `incompatible_msrv` check the tests too).

use consensus_performance::{
    AlertConfig, AnomalySeverity, BenchmarkScenario, ConsensusBenchmark, OptimizationEngine,
    OptimizationParameters, PerformanceMonitor, PerformanceTargets, ThroughputTracker,
};
use std::time::Duration;

#[test]
fn performance_monitor_as_the_seed_uses_it() -> Result<(), Box<dyn std::error::Error>> {
    let mut monitor = PerformanceMonitor::new();
    let transaction_count = 150;
    for round_number in 1..=3u64 {
        monitor.start_round(round_number);
        monitor.start_operation("proposal")?;
        std::thread::sleep(Duration::from_millis(2));
        monitor.end_operation("proposal")?;
        monitor.end_round(round_number, transaction_count)?;
    }
    let avg_metrics = monitor.get_average_metrics(Duration::from_secs(60));
    assert!(avg_metrics?.round_duration >= Duration::from_millis(2));

    let stats = monitor.get_stats();
    let (avg, max, count) = stats["operation.proposal"];
    assert_eq!(count, 3);
    assert!(avg >= Duration::from_millis(2) && max >= avg);

    let metrics = monitor.get_metrics_window(Duration::from_secs(24 * 3600));
    let avg_throughput: f64 =
        metrics.iter().map(|m| m.throughput).sum::<f64>() / metrics.len() as f64;
    let max_latency = metrics
        .iter()
        .map(|m| m.round_duration)
        .max()
        .unwrap_or_default();
    assert_eq!(metrics.len(), 3);
    assert!(avg_throughput > 0.0 && max_latency >= Duration::from_millis(2));

    let performance_trend = monitor.calculate_trend(Duration::from_secs(6 * 3600));
    assert!(performance_trend.throughput_slope.is_finite());

    for anomaly in monitor.detect_anomalies() {
        match anomaly.severity {
            AnomalySeverity::Critical
            | AnomalySeverity::High
            | AnomalySeverity::Medium
            | AnomalySeverity::Low => {
                assert!(!anomaly.description.is_empty())
            }
        }
    }

    monitor.set_alert_threshold("throughput", 1_000_000.0)?; // alert below: fires
    monitor.set_alert_threshold("latency", 8.0)?;
    monitor.set_alert_threshold("cpu", 90.0)?;
    let alerts = monitor.check_alerts();
    assert!(alerts.iter().any(|a| a.name == "throughput"), "{alerts:?}");

    monitor.configure_alerts(AlertConfig {
        throughput_threshold: 500.0,
        latency_threshold_ms: 10_000,
        cpu_threshold: 85.0,
    })?;
    Ok(())
}

#[test]
fn throughput_tracker_as_the_seed_uses_it() {
    let mut tracker = ThroughputTracker::new(Duration::from_secs(10));
    tracker.record_transactions(150);
    let tps = tracker.current_throughput();
    assert!(
        (tps - 15.0).abs() < 1e-9,
        "150 tx over a 10 s window: {tps}"
    );
}

#[test]
fn optimization_engine_as_the_seed_uses_it() -> Result<(), Box<dyn std::error::Error>> {
    let parameters = OptimizationParameters::default();
    let targets = PerformanceTargets {
        target_throughput: 1000.0,
        max_latency: Duration::from_secs(5),
        target_finality_time: Duration::from_secs(15),
        max_cpu_usage: 80.0,
        max_memory_usage: 1024,
    };
    let mut engine = OptimizationEngine::new(parameters, targets);
    // A slow chain: 200 tx/s, 9 s rounds, CPU-bound.
    let current_metrics = consensus_performance::ConsensusMetrics {
        round_duration: Duration::from_secs(9),
        proposal_time: Duration::from_secs(3),
        voting_time: Duration::from_millis(400),
        commit_time: Duration::from_millis(50),
        throughput: 200.0,
        latency_percentiles: consensus_performance::LatencyPercentiles {
            p50: Duration::from_secs(4),
            p90: Duration::from_secs(8),
            p95: Duration::from_secs(9),
            p99: Duration::from_secs(12),
        },
        resource_usage: consensus_performance::ResourceUsage {
            cpu_percent: 95.0,
            memory_mb: 512,
            ..Default::default()
        },
    };
    let suggestions = engine.analyze_and_optimize(&current_metrics)?;
    assert!(!suggestions.is_empty());
    for suggestion in suggestions {
        assert!(!suggestion.reason.is_empty());
        let _ = format!("{} -> {}", suggestion.parameter, suggestion.suggested_value);
        engine.apply_optimization(&suggestion, current_metrics.clone())?;
    }
    assert_ne!(engine.parameters(), &OptimizationParameters::default());
    Ok(())
}

#[test]
fn benchmark_suite_as_the_seed_uses_it_synchronously() -> Result<(), Box<dyn std::error::Error>> {
    let benchmark = ConsensusBenchmark::new().with_seeds(1);
    let results = benchmark.run_all_benchmarks()?;
    assert_eq!(
        results.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "baseline",
            "byzantine_fault",
            "high_load",
            "network_partition"
        ]
    );
    for (name, result) in &results {
        assert!(result.average_metrics.throughput > 0.0, "{name}");
        assert!(result.success_criteria_met, "{name}: {:?}", result.criteria);
    }
    let custom_scenario = BenchmarkScenario {
        name: "custom_stress_test".to_string(),
        description: "Custom high-stress scenario".to_string(),
        validator_count: 15,
        transaction_rate: 2000.0,
        duration: Duration::from_secs(30),
        network_latency: Duration::from_millis(100),
        byzantine_ratio: 0.2,
    };
    let result = benchmark.run_scenario(&custom_scenario)?;
    assert!(
        result.reports[0].safety.agreement,
        "20% equivocators cannot fork"
    );
    assert_eq!(result.reports[0].byzantine.len(), 3);
    Ok(())
}

#[test]
fn the_readme_library_example_runs() -> Result<(), Box<dyn std::error::Error>> {
    use consensus_performance::{config, sim};
    let scenario = config::resolve_scenario("baseline")?;
    let report = sim::run(&scenario, 42)?;
    assert!(report.heights_committed > 40 && report.throughput_tps > 80.0);
    let mut simulation = sim::Simulation::new(&scenario, 42)?;
    simulation.start();
    while simulation.step() {}
    assert_eq!(
        simulation.committed().len() as u64,
        report.heights_committed
    );
    assert_eq!(simulation.report().trace_hash, report.trace_hash);
    Ok(())
}
