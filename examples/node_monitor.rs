//! An operator wraps their own consensus loop with the wall-clock monitor.
//!
//! The "consensus" here is short sleeps; height 9 is slowed down on purpose so the monitor
//! has something to report. Run with `cargo run --example node_monitor`.

use consensus_performance::export::PrometheusExporter;
use consensus_performance::{
    AlertConfig, AnomalySeverity, MonitorError, PerformanceMonitor, ResourceUsage,
    ThroughputTracker,
};
use std::thread::sleep;
use std::time::Duration;

const HEIGHTS: u64 = 10;
const SLOW_HEIGHT: u64 = 9;

fn main() -> Result<(), MonitorError> {
    let mut monitor = PerformanceMonitor::new().with_window_size(1000);
    let mut tracker = ThroughputTracker::new(Duration::from_secs(1));
    let exporter = PrometheusExporter::new("node-monitor-example");
    exporter.set_validators(&[1, 1, 1, 1], &[]);
    monitor.configure_alerts(AlertConfig {
        throughput_threshold: 500.0,
        latency_threshold_ms: 10_000,
        cpu_threshold: 85.0,
    })?;
    monitor.set_alert_threshold("round_duration", 0.08)?;
    let mut last_commit = monitor.now();

    for height in 1..=HEIGHTS {
        let slow = if height == SLOW_HEIGHT { 6 } else { 1 };
        monitor.start_round(height);
        for (step, work_ms) in [
            ("propose", 8),
            ("prevote", 4),
            ("precommit", 4),
            ("commit", 4),
        ] {
            let operation = if step == "propose" { "proposal" } else { step };
            monitor.start_operation(operation)?;
            sleep(Duration::from_millis(work_ms * slow));
            monitor.end_operation(operation)?;
        }
        let txs = 20 + height;
        monitor.record_resource_usage(ResourceUsage {
            cpu_percent: 35.0 + height as f64,
            memory_mb: 400,
            network_bytes_in: 120_000,
            network_bytes_out: 110_000,
            disk_io_bytes: 4096 * txs,
        });
        let metrics = monitor.end_round(height, txs)?;
        tracker.record_transactions(txs);

        let steps = [
            ("Propose", metrics.proposal_time),
            ("Commit", metrics.commit_time),
        ];
        let block_interval = monitor.now().saturating_sub(last_commit);
        last_commit = monitor.now();
        exporter.observe_block(
            height,
            0,
            txs,
            block_interval,
            metrics.round_duration,
            &steps,
        );
        exporter.set_throughput(tracker.current_throughput());
        exporter.set_latency(metrics.latency_percentiles);
        let anomalies = monitor.detect_anomalies();
        exporter.record_anomalies(&anomalies);
        let alerts = monitor.check_alerts();
        exporter.set_alerts(&alerts);
        println!(
            "height {height:2}: {:>6.1} ms, {:>6.1} tx/s, {} anomalies",
            metrics.round_duration.as_secs_f64() * 1e3,
            metrics.throughput,
            anomalies.len()
        );
        for alert in alerts.iter().filter(|a| a.newly_fired) {
            println!("           alert fired: {}", alert.message);
        }
    }

    println!("\n== stats (avg / max / samples)");
    for (name, (avg, max, count)) in monitor.get_stats() {
        println!("{name:>22}: avg={avg:?}, max={max:?}, samples={count}");
    }

    println!("\n== anomalies found along the way");
    for anomaly in monitor.anomaly_history() {
        let tag = match anomaly.severity {
            AnomalySeverity::Critical => "CRITICAL",
            AnomalySeverity::High => "HIGH",
            AnomalySeverity::Medium => "MEDIUM",
            AnomalySeverity::Low => "LOW",
        };
        println!("{tag}: {}", anomaly.description);
    }

    println!("\n== alerts still firing");
    for alert in monitor.check_alerts() {
        println!("{}", alert.message);
    }

    let average = monitor.get_average_metrics(Duration::from_secs(60))?;
    let trend = monitor.calculate_trend(Duration::from_secs(60));
    println!(
        "\naverage round {:?}, {:.1} tx/s; throughput trend {:+.1} tx/s per second; tracker {:.1} tx/s",
        average.round_duration,
        average.throughput,
        trend.throughput_slope,
        tracker.current_throughput()
    );

    println!("\n== Prometheus exposition\n{}", exporter.encode());
    Ok(())
}
