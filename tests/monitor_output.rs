//! What the monitor's findings look like to a person: anomalies grouped by kind and severity
//! with counts and the first few in the text and HTML reports (JSON keeps every one), and
//! descriptions that call a height a height.

mod support;

use consensus_performance::cli::render_table;
use consensus_performance::config::parse_scenario;
use consensus_performance::export::html;
use consensus_performance::monitor::{SHOWN_PER_GROUP, group_anomalies};
use consensus_performance::report::RunReport;
use consensus_performance::{Anomaly, AnomalyKind, AnomalySeverity, sim};
use std::time::Duration;

fn anomaly(kind: AnomalyKind, severity: AnomalySeverity, height: u64) -> Anomaly {
    Anomaly {
        kind,
        severity,
        description: format!("height {height} was slow"),
        value: 5.4,
        threshold: 1.8,
        round: height,
        at: Duration::from_secs(height * 3),
    }
}

/// A 30-minute run's worth: a silent validator makes every fourth of 1800 heights slow (450
/// high anomalies), and 8 heights have no throughput at all (critical).
fn silent_validator_report() -> RunReport {
    let mut report = support::report(0, 99.0, 2.0, true);
    report.monitor.anomalies = (1..=450)
        .map(|i| anomaly(AnomalyKind::HighRoundDuration, AnomalySeverity::High, 4 * i))
        .collect();
    for h in [100, 101, 102, 103, 900, 901, 902, 903] {
        report.monitor.anomalies.push(anomaly(
            AnomalyKind::LowThroughput,
            AnomalySeverity::Critical,
            h,
        ));
    }
    report
}

#[test]
fn anomalies_group_by_kind_and_severity_worst_first_with_the_first_three() {
    let report = silent_validator_report();
    let groups = group_anomalies(&report.monitor.anomalies, SHOWN_PER_GROUP);
    let summary: Vec<(AnomalyKind, AnomalySeverity, usize, Vec<u64>, u64)> = groups
        .iter()
        .map(|g| {
            (
                g.kind,
                g.severity,
                g.count,
                g.first.iter().map(|a| a.round).collect(),
                g.last.round,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                AnomalyKind::LowThroughput,
                AnomalySeverity::Critical,
                8,
                vec![100, 101, 102],
                903
            ),
            (
                AnomalyKind::HighRoundDuration,
                AnomalySeverity::High,
                450,
                vec![4, 8, 12],
                1800
            ),
        ]
    );
    assert_eq!([groups[0].more(), groups[1].more()], [5, 447]);
    // The same kind at two severities is two groups.
    let mixed = [
        anomaly(AnomalyKind::HighCpu, AnomalySeverity::Low, 1),
        anomaly(AnomalyKind::HighCpu, AnomalySeverity::High, 2),
        anomaly(AnomalyKind::HighCpu, AnomalySeverity::Low, 3),
    ];
    let counts: Vec<(AnomalySeverity, usize)> = group_anomalies(&mixed, 3)
        .iter()
        .map(|g| (g.severity, g.count))
        .collect();
    assert_eq!(
        counts,
        [(AnomalySeverity::High, 1), (AnomalySeverity::Low, 2)]
    );
}

#[test]
fn the_text_report_prints_a_row_per_group_not_per_anomaly() {
    let text = render_table(&silent_validator_report(), false);
    assert!(
        text.contains("monitor       458 anomalies, 0 alerts;"),
        "{text}"
    );
    assert!(
        text.contains("  critical low_throughput × 8, heights 100 to 903\n"),
        "{text}"
    );
    assert!(
        text.contains("  high     high_round_duration × 450, heights 4 to 1800\n"),
        "{text}"
    );
    assert!(text.contains("… and 447 more (all in --json)"), "{text}");
    assert!(text.contains("… and 5 more (all in --json)"), "{text}");
    // Three descriptions per group, six in all, where there used to be 458.
    assert_eq!(text.matches(" was slow\n").count(), 6, "{text}");
    assert!(text.contains("           height 12 was slow\n"));
    assert!(!text.contains("height 16 was slow"));
}

#[test]
fn the_html_report_prints_a_header_and_three_rows_per_group() {
    let page = html::render_run(&silent_validator_report());
    assert!(
        page.contains("low_throughput &times; 8 (critical), heights 100 to 903"),
        "{page}"
    );
    assert!(page.contains("high_round_duration &times; 450 (high), heights 4 to 1800"));
    assert_eq!(page.matches(" was slow</td>").count(), 6);
    assert!(page.contains("&hellip; and 447 more, the last at height 1800 (5400 s)"));
    assert!(page.contains("&hellip; and 5 more, the last at height 903 (2709 s)"));
}

#[test]
fn the_json_report_keeps_every_anomaly() {
    let report = silent_validator_report();
    let json: serde_json::Value = serde_json::from_str(&report.to_json(false)).unwrap();
    assert_eq!(
        json["monitor"]["anomalies"].as_array().map(Vec::len),
        Some(458)
    );
}

#[test]
fn the_simulator_describes_heights_as_heights() {
    let scenario = parse_scenario(
        r#"
name: silent
duration: 2m
validators: { count: 4 }
network: { gossip: direct, latency: { distribution: constant, mean: 100ms } }
load: { transaction_rate: 100 }
byzantine: { count: 1, behavior: silent, validators: [3] }
targets: { target_throughput: 95.0, max_latency: 1s }
"#,
        "test",
    )
    .unwrap();
    let report = sim::run(&scenario, 1).unwrap();
    let anomalies = &report.monitor.anomalies;
    // Validator 3 proposes every fourth height: each of those is slow once the baseline is in.
    assert!(anomalies.len() >= 8, "{anomalies:?}");
    for a in anomalies {
        let this = format!("height {} ", a.round);
        assert!(a.description.starts_with(&this), "{}", a.description);
        assert!(!a.description.contains("round"), "{}", a.description);
    }
    assert!(
        anomalies[0]
            .description
            .contains(" heights): check for a silent"),
        "{}",
        anomalies[0].description
    );
    for f in &report.monitor.alerts {
        assert!(!f.alert.message.contains("round"), "{}", f.alert.message);
    }
}

#[test]
fn a_monitor_names_its_samples_rounds_by_default_and_heights_when_told() {
    use consensus_performance::{ConsensusMetrics, PerformanceMonitor, SampleUnit, VirtualClock};
    let descriptions = |unit: Option<SampleUnit>| {
        let clock = VirtualClock::new();
        let mut monitor = PerformanceMonitor::with_clock(clock.clone());
        if let Some(unit) = unit {
            monitor = monitor.with_sample_unit(unit);
        }
        monitor.set_alert_threshold("round_duration", 2.0).unwrap();
        for n in 1..=21u64 {
            clock.advance(Duration::from_secs(1));
            let seconds = if n == 21 { 6.0 } else { 1.0 };
            let metrics = ConsensusMetrics {
                round_duration: Duration::from_secs_f64(seconds),
                throughput: 100.0,
                ..ConsensusMetrics::default()
            };
            monitor.record_round(n, metrics);
        }
        let anomaly = monitor.detect_anomalies()[0].description.clone();
        let alert = monitor.check_alerts()[0].message.clone();
        (anomaly, alert)
    };
    let (anomaly, alert) = descriptions(None);
    assert!(
        anomaly.starts_with("round 21 took 6.00 s, 3.0× the 2.00 s threshold (2× the median 1.00 s of the last 20 rounds)"),
        "{anomaly}"
    );
    assert_eq!(
        alert,
        "high: round duration 6.00 s is above the 2.00 s alert threshold (the last round)"
    );
    let (anomaly, alert) = descriptions(Some(SampleUnit::Height));
    assert!(
        anomaly.starts_with("height 21 took 6.00 s, 3.0× the 2.00 s threshold (2× the median 1.00 s of the last 20 heights)"),
        "{anomaly}"
    );
    assert_eq!(
        alert,
        "high: height time 6.00 s is above the 2.00 s alert threshold (the last height)"
    );
}

// ---- targets: judged on the run, an alert per one missed --------------------------------

fn targets() -> consensus_performance::PerformanceTargets {
    consensus_performance::PerformanceTargets {
        target_throughput: 95.0,
        max_latency: Duration::from_secs(5),
        target_finality_time: Duration::from_secs(2),
        max_cpu_usage: 80.0,
        max_memory_usage: 1024,
    }
}

#[test]
fn each_missed_target_raises_one_alert_with_its_numbers() {
    use consensus_performance::report::target_criteria;
    // 90 tx/s against 95 (1.06× short: low), p99 20 s against 5 s (4×: critical); height time
    // 1.5 s, CPU 40 % and 300 MB are within their targets.
    let report = support::report(0, 90.0, 20.0, true);
    let criteria = target_criteria(&targets(), std::slice::from_ref(&report));
    let met: Vec<(&str, bool)> = criteria.iter().map(|c| (c.name.as_str(), c.met)).collect();
    assert_eq!(
        met,
        [
            ("throughput_tps", false),
            ("latency_p99_s", false),
            ("finality_s", true),
            ("cpu_percent", true),
            ("memory_mb", true)
        ]
    );
    let alerts: Vec<_> = criteria
        .iter()
        .filter_map(|c| c.alert("whole run"))
        .collect();
    let summary: Vec<(&str, AnomalySeverity, f64, f64, &str)> = alerts
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.severity,
                a.value,
                a.threshold,
                a.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "throughput",
                AnomalySeverity::Low,
                90.0,
                95.0,
                "low: throughput 90.00 tx/s is below the scenario's 95.00 tx/s target (whole run)"
            ),
            (
                "latency",
                AnomalySeverity::Critical,
                20.0,
                5.0,
                "critical: p99 transaction latency 20.00 s is above the scenario's 5.00 s target (whole run)"
            ),
        ]
    );
}

#[test]
fn a_run_with_targets_prints_a_targets_line_with_each_verdict() {
    let mut report = support::report(0, 90.0, 20.0, true);
    assert!(!render_table(&report, false).contains("targets"));
    report.targets =
        consensus_performance::report::target_criteria(&targets(), std::slice::from_ref(&report));
    let text = render_table(&report, false);
    assert!(
        text.contains(
            "targets       3 of 5 met: throughput_tps 90.0 < 95.0 MISSED, latency_p99_s 20.000 > \
             5.000 MISSED, finality_s 1.500 <= 2.000 met, cpu_percent 40.0 <= 80.0 met, \
             memory_mb 300 <= 1024 met\n"
        ),
        "{text}"
    );
}

#[test]
fn the_simulator_judges_the_scenarios_targets_and_alerts_the_missed_ones() {
    // A silent validator costs every fourth height timeout_propose: p99 latency is far over the
    // 1 s target, while 100 tx/s is committed (the 95 tx/s target is met).
    let scenario = parse_scenario(
        r#"
name: silent
duration: 2m
validators: { count: 4 }
network: { gossip: direct, latency: { distribution: constant, mean: 100ms } }
load: { transaction_rate: 100 }
byzantine: { count: 1, behavior: silent, validators: [3] }
targets: { target_throughput: 95.0, max_latency: 1s }
"#,
        "test",
    )
    .unwrap();
    let report = sim::run(&scenario, 1).unwrap();
    let missed: Vec<&str> = report
        .targets
        .iter()
        .filter(|c| !c.met)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(missed, ["latency_p99_s"], "{:?}", report.targets);
    assert_eq!(report.targets[1].actual, report.latency_s.p99);
    assert!(report.latency_s.p99 > 4.0, "{}", report.latency_s.p99);
    let last = report
        .monitor
        .alerts
        .last()
        .expect("the missed target alerts");
    assert_eq!(last.alert.name, "latency");
    assert_eq!(last.alert.severity, AnomalySeverity::Critical);
    assert_eq!(last.alert.value, report.latency_s.p99);
    assert_eq!(last.alert.threshold, 1.0);
    assert_eq!((last.height, last.at_s), (report.heights_committed, 120.0));
    assert!(last.alert.message.ends_with("target (whole run)"));
    let text = render_table(&report, false);
    let line = format!("latency_p99_s {:.3} > 1.000 MISSED", report.latency_s.p99);
    assert!(text.contains("targets       4 of 5 met: "), "{text}");
    assert!(text.contains(&line), "{text}");
    // No targets: nothing judged, no target alert, no targets line.
    let mut free = scenario.clone();
    free.targets = None;
    let report = sim::run(&free, 1).unwrap();
    assert!(report.targets.is_empty());
    assert!(report.monitor.alerts.is_empty());
    assert!(!render_table(&report, false).contains("targets "));
}

#[test]
fn a_benchmark_alerts_each_target_its_mean_over_seeds_missed() {
    use consensus_performance::ConsensusBenchmark;
    let mut scenario = parse_scenario("duration: 30s\nvalidators: { count: 4 }\n", "test").unwrap();
    scenario.name = "slow".to_string();
    scenario.targets = Some(targets());
    // p99 of 18, 20 and 22 s: a mean of 20 s against 5 s. Throughput 100 tx/s meets 95.
    let result = ConsensusBenchmark::new()
        .with_seeds(3)
        .with_runner(|_, seed| Ok(support::report(seed, 100.0, 18.0 + 2.0 * seed as f64, true)))
        .run_file_scenario(&scenario)
        .unwrap();
    assert!(!result.success_criteria_met);
    let messages: Vec<&str> = result.alerts.iter().map(|a| a.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "critical: p99 transaction latency 20.00 s is above the scenario's 5.00 s target (mean over 3 seeds)"
        ]
    );
    let table = consensus_performance::cli::bench::render_table(std::slice::from_ref(&result));
    assert!(
        table.ends_with(
            "alert  slow: critical: p99 transaction latency 20.00 s is above the scenario's 5.00 s target (mean over 3 seeds)\n"
        ),
        "{table}"
    );
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["alerts"][0]["name"], "latency");
    assert_eq!(json["alerts"][0]["threshold"], 5.0);
}
