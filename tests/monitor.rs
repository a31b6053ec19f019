//! The performance monitor, throughput tracker and Prometheus exporter, driven by a virtual
//! clock so every expected number is exact.

use consensus_performance::export::PrometheusExporter;
use consensus_performance::monitor::MetricSample;
use consensus_performance::{
    AlertConfig, Anomaly, AnomalyKind, AnomalySeverity, AnomalyThresholds, ConsensusMetrics,
    LatencyPercentiles, MonitorError, PerformanceMonitor, ResourceUsage, ThroughputTracker,
    VirtualClock,
};
use std::collections::BTreeMap;
use std::time::Duration;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// A round's metrics with the fields anomaly rules read.
fn round(duration_s: f64, throughput: f64) -> ConsensusMetrics {
    ConsensusMetrics {
        round_duration: secs(duration_s),
        throughput,
        resource_usage: ResourceUsage {
            cpu_percent: 40.0,
            memory_mb: 512,
            network_bytes_in: 500_000,
            network_bytes_out: 500_000,
            disk_io_bytes: 0,
        },
        ..ConsensusMetrics::default()
    }
}

/// A monitor on a virtual clock, with the clock handle to move it.
fn monitor() -> (PerformanceMonitor, VirtualClock) {
    let clock = VirtualClock::new();
    (PerformanceMonitor::with_clock(clock.clone()), clock)
}

/// Records `series` one per second of virtual time, rounds numbered from 1.
fn feed(monitor: &mut PerformanceMonitor, clock: &VirtualClock, series: &[ConsensusMetrics]) {
    for metrics in series {
        clock.advance(Duration::from_secs(1));
        let next = monitor.history().len() as u64 + 1;
        monitor.record_round(next, metrics.clone());
    }
}

/// Calm rounds: ~1 s each, ~100 tx/s, small deterministic jitter.
fn calm(n: usize) -> Vec<ConsensusMetrics> {
    (0..n)
        .map(|i| {
            let jitter = [
                0.0, 0.05, -0.04, 0.08, -0.06, 0.02, -0.02, 0.07, -0.08, 0.03,
            ][i % 10];
            let mut m = round(1.0 + jitter, 100.0 * (1.0 - jitter));
            m.resource_usage.memory_mb = 512 + (i as u64 % 3) * 8; // wobbles, never leaks
            m.resource_usage.network_bytes_in = 500_000 + (i as u64 % 4) * 20_000;
            m
        })
        .collect()
}

fn kinds(anomalies: &[Anomaly]) -> Vec<AnomalyKind> {
    anomalies.iter().map(|a| a.kind).collect()
}

// ---- end_round: what a round's metrics are made of --------------------------------------

#[test]
fn end_round_times_the_round_and_its_phases() -> Result<(), MonitorError> {
    let (mut monitor, clock) = monitor();
    monitor.start_round(7);
    monitor.start_operation("proposal")?;
    clock.set(secs(0.3));
    monitor.end_operation("proposal")?;
    monitor.start_operation("prevote")?;
    clock.set(secs(0.5));
    monitor.end_operation("prevote")?;
    monitor.start_operation("precommit")?;
    clock.set(secs(0.6));
    monitor.end_operation("precommit")?;
    monitor.start_operation("commit")?;
    clock.set(secs(0.8));
    monitor.end_operation("commit")?;
    monitor.record_resource_usage(ResourceUsage {
        cpu_percent: 55.0,
        ..ResourceUsage::default()
    });
    let metrics = monitor.end_round(7, 400)?;
    assert_eq!(metrics.round_duration, secs(0.8));
    assert_eq!(metrics.proposal_time, secs(0.3));
    assert_eq!(metrics.voting_time, secs(0.3)); // prevote 0.2 + precommit 0.1
    assert_eq!(metrics.commit_time, secs(0.2));
    assert_eq!(metrics.throughput, 500.0); // 400 tx / 0.8 s
    assert_eq!(metrics.resource_usage.cpu_percent, 55.0);
    assert_eq!(monitor.get_latest_metrics(), metrics);
    assert_eq!(
        monitor.history().next().map(|s| (s.round, s.at)),
        Some((7, secs(0.8)))
    );
    Ok(())
}

#[test]
fn a_voting_operation_takes_precedence_over_prevote_and_precommit() -> Result<(), MonitorError> {
    let (mut monitor, clock) = monitor();
    monitor.start_round(1);
    monitor.start_operation("voting")?;
    clock.set(secs(0.4));
    monitor.end_operation("voting")?;
    let metrics = monitor.end_round(1, 0)?;
    assert_eq!(metrics.voting_time, secs(0.4));
    assert_eq!(metrics.throughput, 0.0);
    Ok(())
}

#[test]
fn transaction_latency_percentiles_match_a_sorted_oracle() -> Result<(), MonitorError> {
    let (mut monitor, clock) = monitor();
    monitor.start_round(1);
    let mut latencies: Vec<u64> = (1..=1000u64)
        .map(|i| i * 3_217 % 2_000_000 + 50_000)
        .collect();
    for &us in &latencies {
        monitor.record_transaction_latency(Duration::from_micros(us));
    }
    clock.set(secs(1.0));
    let p = monitor.end_round(1, 1000)?.latency_percentiles;
    latencies.sort_unstable();
    let oracle = |q: f64| latencies[(q * 1000.0).ceil() as usize - 1] as f64 * 1000.0;
    for (q, got) in [(0.5, p.p50), (0.9, p.p90), (0.95, p.p95), (0.99, p.p99)] {
        let relative = (got.as_nanos() as f64 - oracle(q)).abs() / oracle(q);
        assert!(relative <= 1e-3, "p{q}: {got:?} vs {} ns", oracle(q));
    }
    Ok(())
}

#[test]
fn without_transaction_latencies_percentiles_come_from_round_durations() -> Result<(), MonitorError>
{
    let (mut monitor, clock) = monitor();
    for (r, end) in [(1u64, 1.0), (2, 3.0), (3, 6.0), (4, 10.0)] {
        monitor.start_round(r);
        clock.set(secs(end));
        monitor.end_round(r, 10)?;
    }
    // Round durations 1, 2, 3, 4 s: p50 is the 2nd (to histogram precision), p99 the 4th.
    let p = monitor.get_latest_metrics().latency_percentiles;
    assert!((p.p50.as_secs_f64() - 2.0).abs() <= 2.0e-3, "{:?}", p.p50);
    assert_eq!(p.p99, secs(4.0), "capped at the exact maximum");
    Ok(())
}

// ---- misuse -----------------------------------------------------------------------------

#[test]
fn ending_a_round_never_started_is_an_error() {
    let (mut monitor, _clock) = monitor();
    assert_eq!(
        monitor.end_round(3, 10),
        Err(MonitorError::RoundNotStarted {
            round: 3,
            open: None
        })
    );
    monitor.start_round(4);
    assert_eq!(
        monitor.end_round(3, 10),
        Err(MonitorError::RoundNotStarted {
            round: 3,
            open: Some(4)
        })
    );
    assert!(
        monitor.end_round(4, 10).is_ok(),
        "the open round survives a wrong end_round"
    );
    assert_eq!(monitor.history().len(), 1);
}

#[test]
fn ending_an_operation_twice_is_an_error() -> Result<(), MonitorError> {
    let (mut monitor, _clock) = monitor();
    monitor.start_operation("commit")?;
    assert_eq!(
        monitor.start_operation("commit"),
        Err(MonitorError::OperationAlreadyStarted {
            name: "commit".into()
        })
    );
    monitor.end_operation("commit")?;
    assert_eq!(
        monitor.end_operation("commit"),
        Err(MonitorError::OperationNotStarted {
            name: "commit".into()
        })
    );
    assert_eq!(monitor.get_stats()["operation.commit"].2, 1);
    Ok(())
}

#[test]
fn an_empty_window_is_an_error_and_latest_defaults() {
    let (mut monitor, clock) = monitor();
    let window = Duration::from_secs(60);
    assert_eq!(
        monitor.get_average_metrics(window),
        Err(MonitorError::EmptyWindow { window })
    );
    assert_eq!(monitor.get_latest_metrics(), ConsensusMetrics::default());
    assert_eq!(monitor.latest(), None);
    feed(&mut monitor, &clock, &[round(1.0, 100.0)]);
    clock.advance(Duration::from_secs(120));
    assert!(
        monitor.get_average_metrics(window).is_err(),
        "the only sample is 120 s old"
    );
}

#[test]
fn unknown_or_invalid_alert_thresholds_are_errors() {
    let (mut monitor, _clock) = monitor();
    assert_eq!(
        monitor.set_alert_threshold("tps", 1.0),
        Err(MonitorError::UnknownAlertMetric { name: "tps".into() })
    );
    assert!(matches!(
        monitor.set_alert_threshold("cpu", f64::NAN),
        Err(MonitorError::InvalidThreshold { .. })
    ));
    assert!(monitor.alert_thresholds().is_empty());
}

// ---- windows, averages, stats, trends ---------------------------------------------------

#[test]
fn averages_cover_exactly_the_samples_in_the_window() -> Result<(), MonitorError> {
    let (mut monitor, clock) = monitor();
    let series: Vec<ConsensusMetrics> = (1..=10)
        .map(|i| round(f64::from(i), 10.0 * f64::from(i)))
        .collect();
    feed(&mut monitor, &clock, &series); // samples at 1..=10 s, now = 10 s
    let last4 = monitor.get_average_metrics(Duration::from_secs(3))?; // at >= 7 s
    assert_eq!(last4.round_duration, secs(8.5));
    assert_eq!(last4.throughput, 85.0);
    assert_eq!(monitor.get_metrics_window(Duration::from_secs(3)).len(), 4);
    let all = monitor.get_average_metrics(Duration::from_secs(3600))?;
    assert_eq!(all.round_duration, secs(5.5));
    assert_eq!(all.resource_usage.memory_mb, 512);
    assert_eq!(
        monitor.get_metrics_window(Duration::from_secs(3600)).len(),
        10
    );
    Ok(())
}

#[test]
fn stats_give_average_max_and_count_per_operation_and_metric() -> Result<(), MonitorError> {
    let (mut monitor, clock) = monitor();
    for (r, proposal_ms) in [(1u64, 100u64), (2, 300)] {
        monitor.start_round(r);
        monitor.start_operation("proposal")?;
        clock.advance(Duration::from_millis(proposal_ms));
        monitor.end_operation("proposal")?;
        clock.advance(Duration::from_millis(900));
        monitor.end_round(r, 10)?;
    }
    let stats: BTreeMap<String, (Duration, Duration, usize)> = monitor.get_stats();
    assert_eq!(
        stats["operation.proposal"],
        (Duration::from_millis(200), Duration::from_millis(300), 2)
    );
    assert_eq!(
        stats["round_duration"],
        (Duration::from_millis(1100), Duration::from_millis(1200), 2)
    );
    assert_eq!(stats["proposal_time"].0, Duration::from_millis(200));
    assert!(stats.contains_key("latency_p99"));
    Ok(())
}

#[test]
fn trend_slopes_are_exact_on_linear_series() {
    let (mut monitor, clock) = monitor();
    let series: Vec<ConsensusMetrics> = (0..10)
        .map(|i| {
            let mut m = round(1.0 + 0.5 * f64::from(i), 100.0 + 10.0 * f64::from(i));
            m.resource_usage.cpu_percent = 50.0 - 2.0 * f64::from(i);
            m.resource_usage.memory_mb = 1000 + 4 * i as u64;
            m
        })
        .collect();
    feed(&mut monitor, &clock, &series);
    let trend = monitor.calculate_trend(Duration::from_secs(3600));
    assert_eq!(trend.samples, 10);
    assert_eq!(trend.throughput_slope, 10.0);
    assert_eq!(trend.round_duration_slope, 0.5);
    assert_eq!(trend.cpu_slope, -2.0);
    assert_eq!(trend.memory_slope, 4.0);
    let short = monitor.calculate_trend(Duration::from_secs(2)); // 3 samples
    assert_eq!(short.samples, 3);
    assert_eq!(short.throughput_slope, 10.0);
    assert_eq!(
        monitor.calculate_trend(Duration::ZERO).throughput_slope,
        0.0
    ); // 1 sample
}

#[test]
fn history_is_bounded_by_the_window_size() {
    let clock = VirtualClock::new();
    let mut monitor = PerformanceMonitor::with_clock(clock.clone()).with_window_size(50);
    let series: Vec<ConsensusMetrics> = (0..500).map(|i| round(1.0, f64::from(i))).collect();
    feed(&mut monitor, &clock, &series);
    assert_eq!(monitor.history().len(), 50);
    assert_eq!(
        monitor.history().next().map(|s| s.metrics.throughput),
        Some(450.0)
    );
    assert!(monitor.anomaly_history().len() <= 50);
}

// ---- anomalies --------------------------------------------------------------------------

#[test]
fn a_calm_run_has_no_anomalies() {
    let (mut monitor, clock) = monitor();
    feed(&mut monitor, &clock, &calm(200));
    assert_eq!(monitor.detect_anomalies(), Vec::new());
    assert_eq!(monitor.anomaly_history().count(), 0);
}

/// Calm history then one judged round; the anomalies of that round.
fn judge_after_calm(last: ConsensusMetrics) -> Vec<Anomaly> {
    let (mut monitor, clock) = monitor();
    feed(&mut monitor, &clock, &calm(20));
    feed(&mut monitor, &clock, &[last]);
    monitor.detect_anomalies()
}

#[test]
fn slow_rounds_are_graded_by_how_far_past_twice_the_median() {
    // Calm median round is 1.01 s, so the threshold is 2.02 s.
    for (duration, severity) in [
        (2.5, AnomalySeverity::Low),
        (3.5, AnomalySeverity::Medium),
        (6.0, AnomalySeverity::High),
        (12.3, AnomalySeverity::Critical),
    ] {
        let anomalies = judge_after_calm(round(duration, 100.0));
        assert_eq!(
            kinds(&anomalies),
            [AnomalyKind::HighRoundDuration],
            "{duration} s"
        );
        assert_eq!(anomalies[0].severity, severity, "{duration} s");
        assert_eq!(anomalies[0].round, 21);
        assert!(
            anomalies[0].description.contains("round 21 took"),
            "{}",
            anomalies[0].description
        );
    }
    assert_eq!(judge_after_calm(round(1.9, 100.0)), Vec::new());
}

#[test]
fn low_throughput_is_judged_against_half_the_median() {
    let anomalies = judge_after_calm(round(1.0, 20.0));
    assert_eq!(kinds(&anomalies), [AnomalyKind::LowThroughput]);
    // Calm median throughput is 99 tx/s: the threshold is 49.5, and 49.5 / 20 = 2.5.
    assert_eq!(anomalies[0].threshold, 49.5);
    assert_eq!(anomalies[0].severity, AnomalySeverity::High);
    assert_eq!(
        judge_after_calm(round(1.0, 0.0))[0].severity,
        AnomalySeverity::Critical
    );
    assert_eq!(judge_after_calm(round(1.0, 60.0)), Vec::new());
}

#[test]
fn high_cpu_is_graded_by_used_headroom() {
    let mut busy = round(1.0, 100.0);
    busy.resource_usage.cpu_percent = 93.0; // 3 of the 10 points of headroom above 90 %
    let anomalies = judge_after_calm(busy);
    assert_eq!(kinds(&anomalies), [AnomalyKind::HighCpu]);
    assert_eq!(anomalies[0].severity, AnomalySeverity::Medium);
    assert_eq!(anomalies[0].threshold, 90.0);
}

#[test]
fn steadily_rising_memory_is_a_leak_and_wobbling_memory_is_not() {
    let (mut monitor, clock) = monitor();
    let leaking: Vec<ConsensusMetrics> = (0..10)
        .map(|i| {
            let mut m = round(1.0, 100.0);
            m.resource_usage.memory_mb = 500 + 20 * i;
            m
        })
        .collect();
    feed(&mut monitor, &clock, &leaking);
    let anomalies = monitor.detect_anomalies();
    assert_eq!(kinds(&anomalies), [AnomalyKind::MemoryLeak]);
    assert_eq!(anomalies[0].value, 180.0);
    assert_eq!(anomalies[0].severity, AnomalySeverity::High); // 180 / 64 = 2.8
    assert!(
        anomalies[0].description.contains("20.00 MB/s"),
        "{}",
        anomalies[0].description
    );
    // The leak continues: logged once, at its onset.
    feed(
        &mut monitor,
        &clock,
        &leaking[..1]
            .iter()
            .map(|m| {
                let mut m = m.clone();
                m.resource_usage.memory_mb = 700;
                m
            })
            .collect::<Vec<_>>(),
    );
    assert_eq!(monitor.detect_anomalies().len(), 1);
    assert_eq!(monitor.anomaly_history().count(), 1);

    // Up 40 MB, down 20 MB, …: over 100 MB of growth, but half the steps fall: no leak.
    let (mut monitor, clock) = self::monitor();
    let wobbling: Vec<ConsensusMetrics> = (0..20)
        .map(|i| {
            let mut m = round(1.0, 100.0);
            m.resource_usage.memory_mb = 500 + 10 * i + if i % 2 == 1 { 30 } else { 0 };
            m
        })
        .collect();
    feed(&mut monitor, &clock, &wobbling);
    assert_eq!(monitor.detect_anomalies(), Vec::new());
}

#[test]
fn unusual_network_traffic_is_flagged_both_ways() {
    let mut storm = round(1.0, 100.0);
    storm.resource_usage.network_bytes_out = 5_000_000; // ~5.5 MB vs ~1 MB median
    let anomalies = judge_after_calm(storm);
    assert_eq!(kinds(&anomalies), [AnomalyKind::NetworkIssues]);
    assert_eq!(anomalies[0].severity, AnomalySeverity::Low);

    let mut silent = round(1.0, 100.0);
    silent.resource_usage.network_bytes_in = 0;
    silent.resource_usage.network_bytes_out = 0;
    let anomalies = judge_after_calm(silent);
    assert_eq!(kinds(&anomalies), [AnomalyKind::NetworkIssues]);
    assert_eq!(anomalies[0].severity, AnomalySeverity::Critical);
    assert!(anomalies[0].description.contains("no bytes"));
}

#[test]
fn relative_rules_wait_for_enough_history() {
    let (mut monitor, clock) = monitor();
    feed(&mut monitor, &clock, &calm(4));
    feed(&mut monitor, &clock, &[round(30.0, 1.0)]);
    assert_eq!(
        monitor.detect_anomalies(),
        Vec::new(),
        "4 earlier samples < min_samples 5"
    );
}

#[test]
fn a_partition_height_stays_in_the_anomaly_history_after_recovery() {
    let (mut monitor, clock) = monitor();
    feed(&mut monitor, &clock, &calm(30));
    feed(&mut monitor, &clock, &[round(25.0, 100.0)]); // height 31 waited out a partition
    feed(&mut monitor, &clock, &calm(10));
    assert_eq!(monitor.detect_anomalies(), Vec::new());
    let logged: Vec<(AnomalyKind, AnomalySeverity, u64)> = monitor
        .anomaly_history()
        .map(|a| (a.kind, a.severity, a.round))
        .collect();
    assert_eq!(
        logged,
        [(
            AnomalyKind::HighRoundDuration,
            AnomalySeverity::Critical,
            31
        )]
    );
}

#[test]
fn thresholds_are_configurable_and_checked() {
    let (mut monitor, clock) = monitor();
    let strict = AnomalyThresholds {
        cpu_percent: 30.0,
        ..AnomalyThresholds::default()
    };
    assert!(monitor.set_anomaly_thresholds(strict).is_ok());
    feed(&mut monitor, &clock, &[round(1.0, 100.0)]); // cpu 40 %
    assert_eq!(kinds(&monitor.detect_anomalies()), [AnomalyKind::HighCpu]);
    let broken = AnomalyThresholds {
        throughput_fraction: 1.5,
        ..AnomalyThresholds::default()
    };
    assert!(matches!(
        monitor.set_anomaly_thresholds(broken),
        Err(MonitorError::InvalidThreshold { .. })
    ));
    assert_eq!(monitor.anomaly_thresholds().cpu_percent, 30.0);
}

// ---- alerts -----------------------------------------------------------------------------

#[test]
fn alerts_fire_while_crossed_and_clear_after() -> Result<(), MonitorError> {
    let (mut monitor, clock) = monitor();
    monitor.set_alert_threshold("throughput", 80.0)?;
    monitor.set_alert_threshold("round_duration", 2.0)?;
    feed(&mut monitor, &clock, &[round(1.0, 100.0)]);
    assert_eq!(monitor.check_alerts(), Vec::new());

    feed(&mut monitor, &clock, &[round(3.0, 40.0)]);
    let alerts = monitor.check_alerts();
    let fired: Vec<(&str, bool, AnomalySeverity)> = alerts
        .iter()
        .map(|a| (a.name.as_str(), a.newly_fired, a.severity))
        .collect();
    assert_eq!(
        fired,
        [
            ("throughput", true, AnomalySeverity::High),
            ("round_duration", true, AnomalySeverity::Medium)
        ]
    );
    assert_eq!(alerts[0].value, 40.0);
    assert_eq!(alerts[0].threshold, 80.0);

    feed(&mut monitor, &clock, &[round(3.0, 100.0)]);
    let still: Vec<(String, bool)> = monitor
        .check_alerts()
        .into_iter()
        .map(|a| (a.name, a.newly_fired))
        .collect();
    assert_eq!(still, [("round_duration".to_string(), false)]);

    feed(&mut monitor, &clock, &[round(1.0, 100.0)]);
    assert_eq!(monitor.check_alerts(), Vec::new());
    feed(&mut monitor, &clock, &[round(3.0, 100.0)]);
    assert!(
        monitor.check_alerts()[0].newly_fired,
        "fires anew after clearing"
    );
    Ok(())
}

#[test]
fn configure_alerts_sets_the_seed_thresholds() -> Result<(), MonitorError> {
    let (mut monitor, clock) = monitor();
    monitor.configure_alerts(AlertConfig {
        throughput_threshold: 500.0,
        latency_threshold_ms: 10_000,
        cpu_threshold: 85.0,
    })?;
    let thresholds = monitor.alert_thresholds();
    assert_eq!(thresholds["latency"], 10.0);
    assert_eq!(thresholds["cpu"], 85.0);
    let mut slow = round(1.0, 600.0);
    slow.latency_percentiles = LatencyPercentiles {
        p99: secs(12.0),
        ..LatencyPercentiles::default()
    };
    slow.resource_usage.cpu_percent = 99.0;
    feed(&mut monitor, &clock, &[slow]);
    let names: Vec<String> = monitor.check_alerts().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["latency", "cpu"]);
    Ok(())
}

#[test]
fn the_alert_window_averages_recent_rounds() -> Result<(), MonitorError> {
    let (mut monitor, clock) = monitor();
    monitor.set_alert_threshold("cpu", 90.0)?;
    monitor.set_alert_window(3);
    let mut spike = round(1.0, 100.0);
    spike.resource_usage.cpu_percent = 100.0;
    feed(
        &mut monitor,
        &clock,
        &[round(1.0, 100.0), round(1.0, 100.0), spike],
    );
    assert_eq!(
        monitor.check_alerts(),
        Vec::new(),
        "mean of 40, 40, 100 is 60 %"
    );
    Ok(())
}

// ---- determinism, threads ---------------------------------------------------------------

fn simulated_run() -> (Vec<MetricSample>, Vec<Anomaly>, String) {
    let (mut monitor, clock) = monitor();
    let mut series = calm(40);
    series[25] = round(40.0, 100.0);
    series[33].resource_usage.cpu_percent = 97.0;
    feed(&mut monitor, &clock, &series);
    let history = monitor.history().cloned().collect();
    let anomalies = monitor.anomaly_history().cloned().collect();
    let trend = format!("{:?}", monitor.calculate_trend(Duration::from_secs(30)));
    (history, anomalies, trend)
}

#[test]
fn a_virtual_clock_run_is_reproducible() {
    let first = simulated_run();
    assert_eq!(first, simulated_run());
    assert_eq!(
        kinds(&first.1),
        [AnomalyKind::HighRoundDuration, AnomalyKind::HighCpu]
    );
}

#[test]
fn the_monitor_moves_to_other_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let (monitor, _clock) = monitor();
    assert_send(&monitor);
    let handle = std::thread::spawn(move || monitor.history().len());
    assert_eq!(handle.join().ok(), Some(0));
}

// ---- throughput tracker -----------------------------------------------------------------

#[test]
fn throughput_is_transactions_in_the_window_over_its_length() {
    let clock = VirtualClock::new();
    let mut tracker = ThroughputTracker::with_clock(Duration::from_secs(10), clock.clone());
    tracker.record_transactions(150);
    assert_eq!(tracker.current_throughput(), 15.0);
    clock.set(Duration::from_secs(4));
    tracker.record_transactions(50);
    assert_eq!(tracker.current_throughput(), 20.0);
    clock.set(Duration::from_secs(10));
    assert_eq!(
        tracker.current_throughput(),
        5.0,
        "the first batch left the window"
    );
}

// ---- Prometheus ---------------------------------------------------------------------------

/// One sample line of the exposition: name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A small exposition parser: `# HELP`, `# TYPE`, `# EOF`, and `name{k="v",…} value`.
/// Returns the typed families and the samples, or the first bad line.
fn parse_exposition(text: &str) -> Result<(BTreeMap<String, String>, Vec<Sample>), String> {
    let mut types = BTreeMap::new();
    let mut samples = Vec::new();
    let mut saw_eof = false;
    for line in text.lines() {
        if saw_eof {
            return Err(format!("line after # EOF: {line}"));
        }
        if line == "# EOF" {
            saw_eof = true;
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or(line)?;
            if !["gauge", "counter", "histogram", "summary"].contains(&kind) {
                return Err(format!("unknown type: {line}"));
            }
            types.insert(name.to_string(), kind.to_string());
        } else if let Some(rest) = line.strip_prefix("# HELP ") {
            rest.split_once(' ').ok_or(line)?;
        } else {
            let (series, value) = line.rsplit_once(' ').ok_or(line)?;
            let value: f64 = value.parse().map_err(|_| format!("bad value: {line}"))?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.strip_suffix('}').ok_or(line)?),
                None => (series, ""),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("bad name: {line}"));
            }
            let mut parsed = BTreeMap::new();
            for pair in labels.split(',').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').ok_or(line)?;
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or(line)?;
                parsed.insert(k.to_string(), v.to_string());
            }
            samples.push(Sample {
                name: name.to_string(),
                labels: parsed,
                value,
            });
        }
    }
    Ok((types, samples))
}

fn value_of(samples: &[Sample], name: &str, label: Option<(&str, &str)>) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && label.is_none_or(|(k, v)| s.labels.get(k).map(String::as_str) == Some(v))
        })
        .map(|s| s.value)
}

fn observed_exporter() -> PrometheusExporter {
    let exporter = PrometheusExporter::new("test-chain");
    exporter.set_validators(&[1, 1, 1, 1], &[3]);
    exporter.observe_block(
        12,
        1,
        250,
        secs(1.2),
        secs(4.5),
        &[
            ("Propose", secs(3.1)),
            ("Prevote", secs(0.2)),
            ("Precommit", secs(0.1)),
            ("Commit", secs(1.0)),
        ],
    );
    exporter.observe_block(13, 0, 100, secs(1.1), secs(1.05), &[("Propose", secs(0.3))]);
    exporter.set_throughput(95.5);
    exporter.set_latency(LatencyPercentiles {
        p50: secs(1.0),
        p90: secs(1.5),
        p95: secs(2.0),
        p99: secs(3.0),
    });
    exporter
}

#[test]
fn prometheus_exposition_parses_and_names_every_metric() -> Result<(), String> {
    let exporter = observed_exporter();
    let anomalies = judge_after_calm(round(12.3, 100.0));
    exporter.record_anomalies(&anomalies);
    exporter.record_anomalies(&anomalies);
    let (mut monitor, clock) = monitor();
    monitor
        .set_alert_threshold("throughput", 500.0)
        .map_err(|e| e.to_string())?;
    feed(&mut monitor, &clock, &[round(1.0, 100.0)]);
    exporter.set_alerts(&monitor.check_alerts());

    let text = exporter.encode();
    assert!(text.ends_with("# EOF\n"));
    let (types, samples) = parse_exposition(&text)?;
    for (family, kind) in [
        ("cometbft_consensus_height", "gauge"),
        ("cometbft_consensus_rounds", "gauge"),
        ("cometbft_consensus_validators", "gauge"),
        ("cometbft_consensus_byzantine_validators", "gauge"),
        ("cometbft_consensus_num_txs", "gauge"),
        ("cometbft_consensus_total_txs", "gauge"),
        ("cometbft_consensus_block_interval_seconds", "histogram"),
        ("cometbft_consensus_round_duration_seconds", "histogram"),
        ("cometbft_consensus_step_duration_seconds", "histogram"),
        ("ccperf_throughput_tps", "gauge"),
        ("ccperf_latency_seconds", "summary"),
        ("ccperf_anomalies", "counter"),
        ("ccperf_alerts_active", "gauge"),
    ] {
        assert_eq!(
            types.get(family).map(String::as_str),
            Some(kind),
            "{family}"
        );
    }
    let v = |name, label| value_of(&samples, name, label);
    // CometBFT's `height` is the height being decided: one past the latest block.
    assert_eq!(v("cometbft_consensus_height", None), Some(14.0));
    assert_eq!(
        v("cometbft_consensus_latest_block_height", None),
        Some(13.0)
    );
    assert_eq!(v("cometbft_consensus_rounds", None), Some(0.0));
    assert_eq!(v("cometbft_consensus_validators", None), Some(4.0));
    assert_eq!(
        v("cometbft_consensus_byzantine_validators", None),
        Some(1.0)
    );
    assert_eq!(v("cometbft_consensus_num_txs", None), Some(100.0));
    assert_eq!(v("cometbft_consensus_total_txs", None), Some(350.0));
    assert_eq!(
        v("cometbft_consensus_block_interval_seconds_count", None),
        Some(2.0)
    );
    assert_eq!(
        v("cometbft_consensus_round_duration_seconds_sum", None),
        Some(5.55)
    );
    assert_eq!(
        v(
            "cometbft_consensus_step_duration_seconds_count",
            Some(("step", "Propose"))
        ),
        Some(2.0)
    );
    assert_eq!(
        v(
            "cometbft_consensus_step_duration_seconds_count",
            Some(("step", "Commit"))
        ),
        Some(1.0)
    );
    assert_eq!(v("ccperf_throughput_tps", None), Some(95.5));
    assert_eq!(
        v("ccperf_latency_seconds", Some(("quantile", "0.99"))),
        Some(3.0)
    );
    assert_eq!(
        v("ccperf_anomalies_total", Some(("severity", "critical"))),
        Some(2.0)
    );
    assert_eq!(
        v("ccperf_anomalies_total", Some(("severity", "low"))),
        Some(0.0)
    );
    assert_eq!(
        v("ccperf_alerts_active", Some(("severity", "critical"))),
        Some(1.0)
    );
    Ok(())
}

#[test]
fn prometheus_namespace_replaces_cometbft() -> Result<(), String> {
    let exporter =
        PrometheusExporter::with_namespace("tendermint", "c").map_err(|e| e.to_string())?;
    let (types, _) = parse_exposition(&exporter.encode())?;
    assert!(types.contains_key("tendermint_consensus_height"));
    assert!(types.contains_key("ccperf_throughput_tps"));
    assert!(!types.keys().any(|k| k.starts_with("cometbft")));
    Ok(())
}

#[test]
fn prometheus_encoding_is_byte_identical_for_the_same_observations() {
    assert_eq!(observed_exporter().encode(), observed_exporter().encode());
}

#[test]
fn the_textfile_is_written_whole_in_classic_text_format() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("ccperf-textfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("ccperf.prom");
    observed_exporter()
        .write_textfile(&path)
        .map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let leftovers = std::fs::read_dir(&dir).map_err(|e| e.to_string())?.count();
    std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    assert_eq!(leftovers, 1, "no temporary file left beside the textfile");
    assert!(!text.contains("# EOF"));
    let (types, samples) = parse_exposition(&text)?;
    assert_eq!(
        types.get("ccperf_anomalies_total").map(String::as_str),
        Some("counter")
    );
    assert_eq!(
        value_of(&samples, "cometbft_consensus_latest_block_height", None),
        Some(13.0)
    );
    let missing = PrometheusExporter::new("c").write_textfile(&dir.join("no/such/dir/x.prom"));
    assert!(missing.is_err());
    Ok(())
}
