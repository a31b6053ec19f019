//! Prometheus exposition of a chain's consensus metrics, named as CometBFT names them
//! (`<namespace>_consensus_height`, …) plus this crate's own `ccperf_*` metrics.
//!
//! [`PrometheusExporter::encode`] gives the OpenMetrics text a scraper reads from `/metrics`
//! (serve it with [`OPENMETRICS_CONTENT_TYPE`]); [`PrometheusExporter::write_textfile`] writes
//! the classic Prometheus text format for node_exporter's textfile collector. Labelled metrics
//! list their label values in a fixed order, so the same observations encode to the same bytes.

use crate::metrics::LatencyPercentiles;
use crate::monitor::{Alert, Anomaly, AnomalySeverity};
use crate::report::{HeightRecord, RunReport};
use prometheus_client::encoding::text;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// The content type of [`PrometheusExporter::encode`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The namespace CometBFT uses for its metrics.
pub const DEFAULT_NAMESPACE: &str = "cometbft";

/// The consensus steps `consensus_step_duration_seconds` reports, in exposition order.
/// `voting` is prevote and precommit together, for sources (the simulator) that time them as one.
pub const STEPS: [&str; 5] = ["propose", "prevote", "precommit", "voting", "commit"];

/// The latency quantiles `ccperf_latency_seconds` reports, in exposition order.
const QUANTILES: [&str; 4] = ["0.5", "0.9", "0.95", "0.99"];

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A namespace must match `[a-zA-Z_][a-zA-Z0-9_]*` (or be empty for none).
    #[error(
        "invalid metric namespace {0:?}: use letters, digits and '_', not starting with a digit"
    )]
    InvalidNamespace(String),
    /// Writing the textfile failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A registry of a chain's metrics, updated as blocks commit and encoded on demand.
#[derive(Debug)]
pub struct PrometheusExporter {
    registry: Registry,
    height: Gauge,
    rounds: Gauge,
    validators: Gauge,
    byzantine_validators: Gauge,
    num_txs: Gauge,
    total_txs: Gauge,
    block_interval: Histogram,
    round_duration: Histogram,
    step_duration: Labelled<Histogram>,
    throughput: Gauge<f64, AtomicU64>,
    latency: Labelled<Gauge<f64, AtomicU64>>,
    anomalies: Labelled<Counter>,
    alerts_active: Labelled<Gauge>,
}

impl PrometheusExporter {
    /// An exporter with CometBFT's namespace: `cometbft_consensus_height`, ….
    pub fn new() -> Self {
        PrometheusExporter::build(DEFAULT_NAMESPACE)
    }

    /// An exporter whose consensus metrics are prefixed `<namespace>_` (none when empty).
    /// The `ccperf_*` metrics are never prefixed.
    pub fn with_namespace(namespace: &str) -> Result<Self, ExportError> {
        let mut chars = namespace.chars();
        let valid = match chars.next() {
            None => true,
            Some(first) => {
                (first.is_ascii_alphabetic() || first == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            }
        };
        if !valid {
            return Err(ExportError::InvalidNamespace(namespace.to_string()));
        }
        Ok(PrometheusExporter::build(namespace))
    }

    fn build(namespace: &str) -> Self {
        let exporter = PrometheusExporter {
            registry: Registry::default(),
            height: Gauge::default(),
            rounds: Gauge::default(),
            validators: Gauge::default(),
            byzantine_validators: Gauge::default(),
            num_txs: Gauge::default(),
            total_txs: Gauge::default(),
            block_interval: duration_histogram(),
            round_duration: duration_histogram(),
            step_duration: Labelled::new("step", &STEPS, duration_histogram),
            throughput: Gauge::default(),
            latency: Labelled::new("quantile", &QUANTILES, Gauge::default),
            anomalies: Labelled::new("severity", &severity_labels(), Counter::default),
            alerts_active: Labelled::new("severity", &severity_labels(), Gauge::default),
        };
        exporter.registered(namespace)
    }

    fn registered(mut self, namespace: &str) -> Self {
        let mut root = Registry::default();
        root.register(
            "ccperf_throughput_tps",
            "Transactions per second committed",
            self.throughput.clone(),
        );
        root.register(
            "ccperf_latency_seconds",
            "Transaction latency, submit to commit, at a quantile",
            self.latency.clone(),
        );
        // A counter's exposed name gains "_total": this is ccperf_anomalies_total.
        root.register(
            "ccperf_anomalies",
            "Anomalies detected, by severity",
            self.anomalies.clone(),
        );
        root.register(
            "ccperf_alerts_active",
            "Alerts currently firing, by severity",
            self.alerts_active.clone(),
        );
        let consensus = if namespace.is_empty() {
            &mut root
        } else {
            root.sub_registry_with_prefix(namespace)
        };
        let gauges = [
            ("consensus_height", "Height of the chain", &self.height),
            (
                "consensus_rounds",
                "Number of rounds at the latest height",
                &self.rounds,
            ),
            (
                "consensus_validators",
                "Number of validators",
                &self.validators,
            ),
            (
                "consensus_byzantine_validators",
                "Number of validators that misbehaved",
                &self.byzantine_validators,
            ),
            (
                "consensus_num_txs",
                "Number of transactions in the latest block",
                &self.num_txs,
            ),
            (
                "consensus_total_txs",
                "Total number of transactions committed",
                &self.total_txs,
            ),
        ];
        for (name, help, gauge) in gauges {
            consensus.register(name, help, gauge.clone());
        }
        consensus.register(
            "consensus_block_interval_seconds",
            "Time between this and the last block",
            self.block_interval.clone(),
        );
        consensus.register(
            "consensus_round_duration_seconds",
            "Time spent in a height, from its start to its commit",
            self.round_duration.clone(),
        );
        consensus.register(
            "consensus_step_duration_seconds",
            "Time spent per consensus step",
            self.step_duration.clone(),
        );
        self.registry = root;
        self
    }

    /// Records a committed block: `round` is the round that decided it (0-based, exposed as
    /// `consensus_rounds`), `steps` the time per step; steps not in [`STEPS`] are ignored.
    pub fn observe_block(
        &self,
        height: u64,
        round: u64,
        num_txs: u64,
        block_interval: Duration,
        round_duration: Duration,
        steps: &[(&str, Duration)],
    ) {
        self.height.set(to_i64(height));
        self.rounds.set(to_i64(round));
        self.num_txs.set(to_i64(num_txs));
        self.total_txs.inc_by(to_i64(num_txs));
        self.block_interval.observe(block_interval.as_secs_f64());
        self.round_duration.observe(round_duration.as_secs_f64());
        for (step, duration) in steps {
            if let Some(histogram) = self.step_duration.get(step) {
                histogram.observe(duration.as_secs_f64());
            }
        }
    }

    /// Records one height a simulation committed; its block interval runs from
    /// `previous_commit_s` (0 for the first height). Steps: `propose` (start of the deciding
    /// round to its proposal), `voting` (proposal to decision), `commit` (applying the block).
    pub fn observe_height(&self, record: &HeightRecord, previous_commit_s: f64) {
        self.observe_block(
            record.height,
            u64::from(record.round),
            u64::from(record.txs),
            seconds(record.commit_time_s - previous_commit_s),
            seconds(record.round_duration_s),
            &[
                ("propose", seconds(record.proposal_time_s)),
                ("voting", seconds(record.voting_time_s)),
                ("commit", seconds(record.commit_cost_s)),
            ],
        );
    }

    /// Fills every metric from a finished run (call once, on a fresh exporter): each height
    /// in order, validators, throughput, latency quantiles, anomalies, and `firing`, the
    /// alerts firing when the run ended (`Simulation::firing_alerts`).
    pub fn observe_report(&self, report: &RunReport, firing: &[Alert]) {
        let byzantine = u64::try_from(report.byzantine.len()).unwrap_or(u64::MAX);
        self.set_validators(
            u64::try_from(report.validators).unwrap_or(u64::MAX),
            byzantine,
        );
        let mut previous_commit_s = 0.0;
        for record in &report.heights {
            self.observe_height(record, previous_commit_s);
            previous_commit_s = record.commit_time_s;
        }
        self.set_throughput(report.throughput_tps);
        let l = &report.latency_s;
        self.set_latency(LatencyPercentiles {
            p50: seconds(l.p50),
            p90: seconds(l.p90),
            p95: seconds(l.p95),
            p99: seconds(l.p99),
        });
        self.record_anomalies(&report.monitor.anomalies);
        self.set_alerts(firing);
    }

    /// Sets the validator count and how many of them misbehaved.
    pub fn set_validators(&self, validators: u64, byzantine: u64) {
        self.validators.set(to_i64(validators));
        self.byzantine_validators.set(to_i64(byzantine));
    }

    /// Sets the throughput gauge (tx/s).
    pub fn set_throughput(&self, tps: f64) {
        self.throughput.set(tps);
    }

    /// Sets the latency gauges, one per quantile.
    pub fn set_latency(&self, latency: LatencyPercentiles) {
        let values = [latency.p50, latency.p90, latency.p95, latency.p99];
        for (quantile, value) in QUANTILES.iter().zip(values) {
            if let Some(gauge) = self.latency.get(quantile) {
                gauge.set(value.as_secs_f64());
            }
        }
    }

    /// Counts newly detected anomalies by severity (call once per anomaly).
    pub fn record_anomalies(&self, anomalies: &[Anomaly]) {
        for anomaly in anomalies {
            if let Some(counter) = self.anomalies.get(anomaly.severity.as_str()) {
                counter.inc();
            }
        }
    }

    /// Sets the active alert gauges to the count per severity in `alerts` (the firing set).
    pub fn set_alerts(&self, alerts: &[Alert]) {
        for severity in AnomalySeverity::ALL {
            let firing = alerts.iter().filter(|a| a.severity == severity).count();
            if let Some(gauge) = self.alerts_active.get(severity.as_str()) {
                gauge.set(i64::try_from(firing).unwrap_or(i64::MAX));
            }
        }
    }

    /// The OpenMetrics text exposition (ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail, and our metrics encode without error.
        let _ = text::encode(&mut out, &self.registry);
        out
    }

    /// The classic Prometheus text format (version 0.0.4), as node_exporter's textfile
    /// collector reads it: counters are typed under their `_total` name, no `# EOF`.
    pub fn encode_text_format(&self) -> String {
        openmetrics_to_prometheus_text(&self.encode())
    }

    /// Writes [`Self::encode_text_format`] to `path` atomically (a temporary file beside it,
    /// then a rename, so the collector never reads a half-written file) when `path` is new or
    /// a regular file; see [`super::file::write_atomically`] for links, FIFOs and devices.
    pub fn write_textfile(&self, path: &Path) -> Result<(), ExportError> {
        let io = |source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        };
        super::file::write_atomically(path, self.encode_text_format().as_bytes()).map_err(io)?;
        Ok(())
    }
}

impl Default for PrometheusExporter {
    fn default() -> Self {
        PrometheusExporter::new()
    }
}

/// Rewrites OpenMetrics text as Prometheus 0.0.4 text: counter families are described
/// under their sample name (`x_total`), and `# UNIT` and `# EOF` lines are dropped.
fn openmetrics_to_prometheus_text(openmetrics: &str) -> String {
    let counters: BTreeSet<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let described = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|tag| line.strip_prefix(tag).map(|rest| (tag, rest)));
        match described {
            Some((tag, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let suffix = if counters.contains(name) {
                    "_total"
                } else {
                    ""
                };
                out.push_str(&format!("{tag}{name}{suffix} {tail}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Bucket bounds in seconds, 0.1 s to 100 s: the range CometBFT's consensus durations use.
const DURATION_BUCKETS: [f64; 10] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

fn severity_labels() -> [&'static str; 4] {
    AnomalySeverity::ALL.map(AnomalySeverity::as_str)
}

/// `s` seconds as a duration; negative, NaN or huge values become zero.
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or_default()
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A metric family with one label and a fixed list of values, encoded in that order
/// (prometheus-client's `Family` encodes in hash order).
#[derive(Clone, Debug)]
struct Labelled<M> {
    key: &'static str,
    members: Vec<(&'static str, M)>,
}

impl<M> Labelled<M> {
    fn new(key: &'static str, values: &[&'static str], make: fn() -> M) -> Self {
        Labelled {
            key,
            members: values.iter().map(|value| (*value, make())).collect(),
        }
    }

    fn get(&self, value: &str) -> Option<&M> {
        self.members
            .iter()
            .find(|(v, _)| *v == value)
            .map(|(_, m)| m)
    }
}

impl<M: EncodeMetric + TypedMetric> EncodeMetric for Labelled<M> {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), fmt::Error> {
        for (value, metric) in &self.members {
            let labels = [(self.key, *value)];
            metric.encode(encoder.encode_family(&labels)?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        M::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_typed_under_their_total_name_in_text_format() {
        let exporter = PrometheusExporter::new();
        let text = exporter.encode_text_format();
        assert!(text.contains("# TYPE ccperf_anomalies_total counter\n"));
        assert!(text.contains("# HELP ccperf_anomalies_total "));
        assert!(!text.contains("# EOF"));
        assert!(exporter.encode().ends_with("# EOF\n"));
    }

    #[test]
    fn observe_height_times_the_block_from_the_previous_commit() {
        let exporter = PrometheusExporter::new();
        let record = HeightRecord {
            height: 7,
            round: 2,
            proposer: 1,
            commit_time_s: 10.5,
            txs: 40,
            round_duration_s: 4.0,
            proposal_time_s: 3.25,
            voting_time_s: 0.5,
            commit_cost_s: 0.25,
        };
        exporter.observe_height(&record, 9.0);
        let text = exporter.encode_text_format();
        for line in [
            "cometbft_consensus_height 7",
            "cometbft_consensus_rounds 2",
            "cometbft_consensus_num_txs 40",
            "cometbft_consensus_block_interval_seconds_sum 1.5",
            "cometbft_consensus_round_duration_seconds_sum 4.0",
            "cometbft_consensus_step_duration_seconds_sum{step=\"propose\"} 3.25",
            "cometbft_consensus_step_duration_seconds_sum{step=\"voting\"} 0.5",
            "cometbft_consensus_step_duration_seconds_count{step=\"prevote\"} 0",
            "cometbft_consensus_step_duration_seconds_sum{step=\"commit\"} 0.25",
        ] {
            assert!(text.contains(&format!("\n{line}\n")), "{line} in:\n{text}");
        }
    }

    #[test]
    fn namespace_is_checked() {
        assert!(PrometheusExporter::with_namespace("9chain").is_err());
        assert!(PrometheusExporter::with_namespace("tendermint").is_ok());
        let bare = PrometheusExporter::with_namespace("").map(|e| e.encode());
        assert!(bare.is_ok_and(|t| t.contains("\nconsensus_height 0\n")));
    }
}
