//! Prometheus exposition of a chain's metrics as CometBFT exposes them (`consensus/metrics.go`,
//! `mempool/metrics.go`, `p2p/metrics.go`): the same names, types, buckets and step labels, a
//! `chain_id` label on every series, plus this crate's own `ccperf_*` metrics.
//!
//! [`PrometheusExporter::encode_text_format`] gives the classic text format (0.0.4) that
//! `promtool check metrics` accepts, for `/metrics` and node_exporter's textfile collector;
//! [`PrometheusExporter::encode`] the OpenMetrics text. Families and label values come in a
//! fixed order, so the same observations encode to the same bytes.
//!
//! One difference from CometBFT's Go client: counters carry Prometheus' `_total` suffix
//! (`cometbft_consensus_duplicate_vote_total`), as the exposition format's linter requires.

use crate::metrics::LatencyPercentiles;
use crate::monitor::{Alert, Anomaly, AnomalySeverity};
use crate::report::{HeightRecord, RunReport};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The content type of [`PrometheusExporter::encode`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The namespace CometBFT uses for its metrics.
pub const DEFAULT_NAMESPACE: &str = "cometbft";

/// The consensus steps `consensus_step_duration_seconds` reports, as CometBFT names them
/// (`RoundStepPropose` without its prefix), in exposition order. `NewHeight` is the wait
/// for `timeout_commit` (`block_interval`) between a commit and the next height.
pub const STEPS: [&str; 5] = ["NewHeight", "Propose", "Prevote", "Precommit", "Commit"];

/// The latency quantiles `ccperf_latency_seconds` reports, in exposition order.
const QUANTILES: [&str; 4] = ["0.5", "0.9", "0.95", "0.99"];

/// CometBFT's `round_duration_seconds` and `step_duration_seconds` buckets:
/// `ExponentialBucketsRange(0.1, 100, 8)`.
fn step_buckets() -> Vec<f64> {
    let growth = libm::pow(100.0 / 0.1, 1.0 / 7.0);
    (0..8)
        .map(|i| 0.1 * libm::pow(growth, f64::from(i)))
        .collect()
}

/// `block_interval_seconds` buckets: CometBFT's (the Go client's defaults, 5 ms to 10 s) with
/// steps of at most 0.25 s between 0.5 s and 3 s, where block intervals live, so that
/// `histogram_quantile` lands within a tenth of a second or so of the truth there.
const BLOCK_INTERVAL_BUCKETS: [f64; 33] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5,
    1.6, 1.8, 2.0, 2.25, 2.5, 2.75, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0,
];

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

/// A chain's metrics, updated as blocks commit and encoded on demand. Shareable between
/// threads: every method takes `&self`.
#[derive(Debug)]
pub struct PrometheusExporter {
    namespace: String,
    state: Mutex<State>,
}

/// The values behind every series.
#[derive(Debug)]
struct State {
    chain_id: String,
    height: u64,
    latest_block_height: u64,
    rounds: u64,
    validators: u64,
    validators_power: u64,
    missing_validators: u64,
    missing_validators_power: u64,
    byzantine_validators: u64,
    byzantine_validators_power: u64,
    num_txs: u64,
    block_size_bytes: u64,
    total_txs: u64,
    chain_size_bytes: u64,
    duplicate_vote: u64,
    round_duration: Buckets,
    block_interval: Buckets,
    step_duration: Vec<Buckets>,
    /// By proposer (validator index).
    quorum_prevote_delay: BTreeMap<u16, f64>,
    full_prevote_delay: BTreeMap<u16, f64>,
    mempool_size: u64,
    mempool_rejected_txs: u64,
    p2p_peers: u64,
    throughput: f64,
    latency: [f64; 4],
    latency_sum: f64,
    latency_count: u64,
    anomalies: [u64; 4],
    alerts_active: [u64; 4],
}

/// A histogram: counts per upper bound (non-cumulative; the last slot is `+Inf`), sum, count.
#[derive(Clone, Debug)]
struct Buckets {
    bounds: Vec<f64>,
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Buckets {
    fn new(bounds: Vec<f64>) -> Self {
        let counts = vec![0; bounds.len() + 1];
        Buckets {
            bounds,
            counts,
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, value: f64) {
        let slot = self.bounds.partition_point(|&b| b < value);
        self.counts[slot] += 1;
        self.sum += value;
        self.count += 1;
    }
}

impl State {
    fn new(chain_id: &str) -> Self {
        State {
            chain_id: chain_id.to_string(),
            height: 0,
            latest_block_height: 0,
            rounds: 0,
            validators: 0,
            validators_power: 0,
            missing_validators: 0,
            missing_validators_power: 0,
            byzantine_validators: 0,
            byzantine_validators_power: 0,
            num_txs: 0,
            block_size_bytes: 0,
            total_txs: 0,
            chain_size_bytes: 0,
            duplicate_vote: 0,
            round_duration: Buckets::new(step_buckets()),
            block_interval: Buckets::new(BLOCK_INTERVAL_BUCKETS.to_vec()),
            step_duration: STEPS.map(|_| Buckets::new(step_buckets())).to_vec(),
            quorum_prevote_delay: BTreeMap::new(),
            full_prevote_delay: BTreeMap::new(),
            mempool_size: 0,
            mempool_rejected_txs: 0,
            p2p_peers: 0,
            throughput: 0.0,
            latency: [0.0; 4],
            latency_sum: 0.0,
            latency_count: 0,
            anomalies: [0; 4],
            alerts_active: [0; 4],
        }
    }
}

impl PrometheusExporter {
    /// An exporter with CometBFT's namespace (`cometbft_consensus_height`, …) whose series
    /// carry `chain_id="<chain_id>"`.
    pub fn new(chain_id: &str) -> Self {
        PrometheusExporter {
            namespace: DEFAULT_NAMESPACE.to_string(),
            state: Mutex::new(State::new(chain_id)),
        }
    }

    /// An exporter whose CometBFT metrics are prefixed `<namespace>_` (none when empty).
    /// The `ccperf_*` metrics are never prefixed.
    pub fn with_namespace(namespace: &str, chain_id: &str) -> Result<Self, ExportError> {
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
        let mut exporter = PrometheusExporter::new(chain_id);
        exporter.namespace = namespace.to_string();
        Ok(exporter)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the plain numbers inconsistent.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Records a committed block at `height`: `round` is the round that decided it (0-based,
    /// exposed as `consensus_rounds`), `steps` the time per step by CometBFT's step name
    /// ([`STEPS`]; others are ignored).
    pub fn observe_block(
        &self,
        height: u64,
        round: u64,
        num_txs: u64,
        block_interval: Duration,
        round_duration: Duration,
        steps: &[(&str, Duration)],
    ) {
        let mut s = self.state();
        s.latest_block_height = height;
        s.height = height.saturating_add(1);
        s.rounds = round;
        s.num_txs = num_txs;
        s.total_txs = s.total_txs.saturating_add(num_txs);
        s.block_interval.observe(block_interval.as_secs_f64());
        s.round_duration.observe(round_duration.as_secs_f64());
        for (step, duration) in steps {
            if let Some(i) = STEPS.iter().position(|name| name == step) {
                s.step_duration[i].observe(duration.as_secs_f64());
            }
        }
    }

    /// Records one height a simulation committed; its block interval runs from
    /// `previous_commit_s` (0 for the first height). Steps are those of the deciding round,
    /// plus `NewHeight`, the wait between the previous commit and this height's start.
    pub fn observe_height(&self, record: &HeightRecord, previous_commit_s: f64) {
        let interval_s = record.commit_time_s - previous_commit_s;
        let new_height_s = interval_s - record.round_duration_s;
        self.observe_block(
            record.height,
            u64::from(record.round),
            u64::from(record.txs),
            seconds(interval_s),
            seconds(record.round_duration_s),
            &[
                ("NewHeight", seconds(new_height_s)),
                ("Propose", seconds(record.proposal_time_s)),
                ("Prevote", seconds(record.prevote_time_s)),
                ("Precommit", seconds(record.precommit_time_s)),
                ("Commit", seconds(record.commit_cost_s)),
            ],
        );
        let mut s = self.state();
        s.block_size_bytes = record.block_bytes;
        s.chain_size_bytes = s.chain_size_bytes.saturating_add(record.block_bytes);
        s.missing_validators = u64::from(record.missing_validators);
        s.missing_validators_power = record.missing_power;
        s.duplicate_vote = s
            .duplicate_vote
            .saturating_add(u64::from(record.duplicate_votes));
        if let Some(delay) = record.quorum_prevote_delay_s {
            s.quorum_prevote_delay.insert(record.proposer, delay);
        }
        if let Some(delay) = record.full_prevote_delay_s {
            s.full_prevote_delay.insert(record.proposer, delay);
        }
        s.mempool_size = record.mempool_txs;
        s.mempool_rejected_txs = s.mempool_rejected_txs.saturating_add(record.dropped_txs);
    }

    /// Fills every metric from a finished run (call once, on a fresh exporter): each height
    /// in order, the validators' `powers`, the observer's `peers`, throughput, latency,
    /// anomalies, and `firing`, the alerts firing when the run ended.
    pub fn observe_report(&self, report: &RunReport, powers: &[u64], peers: u64, firing: &[Alert]) {
        self.set_validators(powers, &report.byzantine);
        self.set_peers(peers);
        let mut previous_commit_s = 0.0;
        for record in &report.heights {
            self.observe_height(record, previous_commit_s);
            previous_commit_s = record.commit_time_s;
        }
        // Arrivals refused after the last commit count too.
        self.state().mempool_rejected_txs = report.transactions_dropped;
        self.set_throughput(report.throughput_tps);
        let l = &report.latency_s;
        self.set_latency(LatencyPercentiles {
            p50: seconds(l.p50),
            p90: seconds(l.p90),
            p95: seconds(l.p95),
            p99: seconds(l.p99),
        });
        let count = report.transactions_committed;
        self.set_latency_totals(count, l.mean * count as f64);
        self.record_anomalies(&report.monitor.anomalies);
        self.set_alerts(firing);
    }

    /// Sets the validator set: count and total power, and of them the Byzantine ones (indices
    /// into `powers`).
    pub fn set_validators(&self, powers: &[u64], byzantine: &[u16]) {
        let mut s = self.state();
        s.validators = powers.len() as u64;
        s.validators_power = powers.iter().sum();
        s.byzantine_validators = byzantine.len() as u64;
        s.byzantine_validators_power = byzantine
            .iter()
            .filter_map(|&v| powers.get(usize::from(v)))
            .sum();
    }

    /// Sets the validator and Byzantine validator counts alone, for a source that knows no
    /// voting powers (a scraped node's own metrics).
    pub fn set_validator_counts(&self, validators: u64, byzantine: u64) {
        let mut s = self.state();
        s.validators = validators;
        s.byzantine_validators = byzantine;
    }

    /// Sets the `chain_id` label, for a source that learns it after start (a live node's
    /// `/status`).
    pub fn set_chain_id(&self, chain_id: &str) {
        self.state().chain_id = chain_id.to_string();
    }

    /// Sets the number of transactions waiting in the mempool (`mempool_size`).
    pub fn set_mempool_size(&self, transactions: u64) {
        self.state().mempool_size = transactions;
    }

    /// Sets the number of peers the node has (`p2p_peers`).
    pub fn set_peers(&self, peers: u64) {
        self.state().p2p_peers = peers;
    }

    /// Sets the throughput gauge (tx/s).
    pub fn set_throughput(&self, tps: f64) {
        self.state().throughput = tps;
    }

    /// Sets the latency summary's quantiles.
    pub fn set_latency(&self, latency: LatencyPercentiles) {
        let values = [latency.p50, latency.p90, latency.p95, latency.p99];
        self.state().latency = values.map(|d| d.as_secs_f64());
    }

    /// Sets the latency summary's count of transactions and their summed latency, seconds.
    pub fn set_latency_totals(&self, count: u64, sum_s: f64) {
        let mut s = self.state();
        s.latency_count = count;
        s.latency_sum = sum_s;
    }

    /// Counts newly detected anomalies by severity (call once per anomaly).
    pub fn record_anomalies(&self, anomalies: &[Anomaly]) {
        let mut s = self.state();
        for anomaly in anomalies {
            if let Some(i) = AnomalySeverity::ALL
                .iter()
                .position(|&x| x == anomaly.severity)
            {
                s.anomalies[i] += 1;
            }
        }
    }

    /// Sets the active alert gauges to the count per severity in `alerts` (the firing set).
    pub fn set_alerts(&self, alerts: &[Alert]) {
        let mut s = self.state();
        for (i, severity) in AnomalySeverity::ALL.into_iter().enumerate() {
            s.alerts_active[i] = alerts.iter().filter(|a| a.severity == severity).count() as u64;
        }
    }

    /// The OpenMetrics text exposition (ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = self.exposition(true);
        out.push_str("# EOF\n");
        out
    }

    /// The classic Prometheus text format (version 0.0.4), as Prometheus scrapes it from
    /// `/metrics` and node_exporter's textfile collector reads it.
    pub fn encode_text_format(&self) -> String {
        self.exposition(false)
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

    /// Every family, in a fixed order.
    fn exposition(&self, openmetrics: bool) -> String {
        let s = self.state();
        let mut w = Exposition {
            out: String::new(),
            openmetrics,
            chain: format!("chain_id=\"{}\"", escape_label(&s.chain_id)),
        };
        let ns = |name: &str| match self.namespace.as_str() {
            "" => name.to_string(),
            namespace => format!("{namespace}_{name}"),
        };
        let gauges = [
            ("consensus_height", "Height of the chain.", s.height),
            ("consensus_rounds", "Number of rounds.", s.rounds),
            (
                "consensus_validators",
                "Number of validators.",
                s.validators,
            ),
            (
                "consensus_validators_power",
                "Total power of all validators.",
                s.validators_power,
            ),
            (
                "consensus_missing_validators",
                "Number of validators who did not sign.",
                s.missing_validators,
            ),
            (
                "consensus_missing_validators_power",
                "Total power of the missing validators.",
                s.missing_validators_power,
            ),
            (
                "consensus_byzantine_validators",
                "Number of validators who tried to double sign.",
                s.byzantine_validators,
            ),
            (
                "consensus_byzantine_validators_power",
                "Total power of the byzantine validators.",
                s.byzantine_validators_power,
            ),
            ("consensus_num_txs", "Number of transactions.", s.num_txs),
            (
                "consensus_block_size_bytes",
                "Size of the block.",
                s.block_size_bytes,
            ),
            (
                "consensus_total_txs",
                "Total number of transactions.",
                s.total_txs,
            ),
            (
                "consensus_latest_block_height",
                "The latest block height.",
                s.latest_block_height,
            ),
        ];
        for (name, help, value) in gauges {
            w.family(&ns(name), "gauge", help);
            w.sample(&ns(name), &[], value as f64);
        }
        w.histogram(
            &ns("consensus_round_duration_seconds"),
            "Histogram of round duration.",
            &[(None, &s.round_duration)],
        );
        w.histogram(
            &ns("consensus_block_interval_seconds"),
            "Time between this and the last block.",
            &[(None, &s.block_interval)],
        );
        let steps: Vec<_> = STEPS
            .iter()
            .zip(&s.step_duration)
            .map(|(step, buckets)| (Some(("step", *step)), buckets))
            .collect();
        w.histogram(
            &ns("consensus_step_duration_seconds"),
            "Histogram of durations for each step in the consensus protocol.",
            &steps,
        );
        w.counter(
            &ns("consensus_chain_size_bytes"),
            "Size of the chain in bytes.",
            &[(None, s.chain_size_bytes)],
        );
        w.counter(
            &ns("consensus_duplicate_vote"),
            "Number of times we received a duplicate vote.",
            &[(None, s.duplicate_vote)],
        );
        let delays = [
            (
                "consensus_quorum_prevote_delay",
                "Interval in seconds between the proposal timestamp and the timestamp of the \
                 earliest prevote that achieved a quorum.",
                &s.quorum_prevote_delay,
            ),
            (
                "consensus_full_prevote_delay",
                "Interval in seconds between the proposal timestamp and the timestamp of the \
                 latest prevote in a round where all validators voted.",
                &s.full_prevote_delay,
            ),
        ];
        for (name, help, by_proposer) in delays {
            w.family(&ns(name), "gauge", help);
            for (proposer, delay) in by_proposer {
                let proposer = proposer.to_string();
                w.sample(&ns(name), &[("proposer_address", &proposer)], *delay);
            }
        }
        w.family(
            &ns("mempool_size"),
            "gauge",
            "Number of uncommitted transactions in the mempool.",
        );
        w.sample(&ns("mempool_size"), &[], s.mempool_size as f64);
        // The simulator's transactions are all valid: none fails CheckTx.
        w.counter(
            &ns("mempool_failed_txs"),
            "Number of failed transactions.",
            &[(None, 0)],
        );
        w.counter(
            &ns("mempool_rejected_txs"),
            "Number of rejected transactions.",
            &[(None, s.mempool_rejected_txs)],
        );
        w.family(&ns("p2p_peers"), "gauge", "Number of peers.");
        w.sample(&ns("p2p_peers"), &[], s.p2p_peers as f64);

        w.family(
            "ccperf_throughput_tps",
            "gauge",
            "Transactions per second committed.",
        );
        w.sample("ccperf_throughput_tps", &[], s.throughput);
        w.family(
            "ccperf_latency_seconds",
            "summary",
            "Transaction latency, submit to commit.",
        );
        for (quantile, value) in QUANTILES.iter().zip(s.latency) {
            w.sample("ccperf_latency_seconds", &[("quantile", quantile)], value);
        }
        w.sample("ccperf_latency_seconds_sum", &[], s.latency_sum);
        w.sample("ccperf_latency_seconds_count", &[], s.latency_count as f64);
        let severities: Vec<_> = AnomalySeverity::ALL
            .iter()
            .zip(s.anomalies)
            .map(|(severity, n)| (Some(("severity", severity.as_str())), n))
            .collect();
        w.counter(
            "ccperf_anomalies",
            "Anomalies detected, by severity.",
            &severities,
        );
        w.family(
            "ccperf_alerts_active",
            "gauge",
            "Alerts currently firing, by severity.",
        );
        for (severity, n) in AnomalySeverity::ALL.iter().zip(s.alerts_active) {
            let label = [("severity", severity.as_str())];
            w.sample("ccperf_alerts_active", &label, n as f64);
        }
        w.out
    }
}

/// Text being written, in either format.
struct Exposition {
    out: String,
    openmetrics: bool,
    /// `chain_id="…"`, the label every sample carries.
    chain: String,
}

impl Exposition {
    /// `# HELP` and `# TYPE` of a family (a counter's is named without `_total` in
    /// OpenMetrics, with it in the classic format).
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let suffix = if kind == "counter" && !self.openmetrics {
            "_total"
        } else {
            ""
        };
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name}{suffix} {help}");
        let _ = writeln!(self.out, "# TYPE {name}{suffix} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let _ = write!(self.out, "{name}{{{}", self.chain);
        for (key, value) in labels {
            let _ = write!(self.out, ",{key}=\"{}\"", escape_label(value));
        }
        let _ = writeln!(self.out, "}} {}", number(value));
    }

    fn counter(&mut self, name: &str, help: &str, series: &[(Option<(&str, &str)>, u64)]) {
        self.family(name, "counter", help);
        let total = format!("{name}_total");
        for (label, value) in series {
            let labels: Vec<_> = label.iter().copied().collect();
            self.sample(&total, &labels, *value as f64);
        }
    }

    fn histogram(&mut self, name: &str, help: &str, series: &[(Option<(&str, &str)>, &Buckets)]) {
        self.family(name, "histogram", help);
        let (bucket, sum, count) = (
            format!("{name}_bucket"),
            format!("{name}_sum"),
            format!("{name}_count"),
        );
        for (label, h) in series {
            let labels: Vec<(&str, &str)> = label.iter().copied().collect();
            let mut cumulative = 0;
            for (i, n) in h.counts.iter().enumerate() {
                cumulative += n;
                let le = h.bounds.get(i).map_or("+Inf".to_string(), |&b| number(b));
                let mut with_le = labels.clone();
                with_le.push(("le", &le));
                self.sample(&bucket, &with_le, cumulative as f64);
            }
            self.sample(&sum, &labels, h.sum);
            self.sample(&count, &labels, h.count as f64);
        }
    }
}

/// A sample value as the exposition formats write it.
fn number(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{x}")
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `s` seconds as a duration; negative, NaN or huge values become zero.
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_typed_under_their_total_name_in_text_format() {
        let exporter = PrometheusExporter::new("chain");
        let text = exporter.encode_text_format();
        assert!(text.contains("# TYPE ccperf_anomalies_total counter\n"));
        assert!(text.contains("# HELP ccperf_anomalies_total "));
        assert!(!text.contains("# EOF"));
        let openmetrics = exporter.encode();
        assert!(openmetrics.contains("# TYPE ccperf_anomalies counter\n"));
        assert!(openmetrics.ends_with("# EOF\n"));
    }

    #[test]
    fn step_buckets_are_cometbfts_exponential_range() {
        let b = step_buckets();
        assert_eq!(b.len(), 8);
        assert_eq!(b[0], 0.1);
        assert!((b[7] - 100.0).abs() < 1e-9, "{}", b[7]);
        assert!((b[1] - 0.268_269_579_527_972_6).abs() < 1e-12, "{}", b[1]);
    }

    #[test]
    fn observe_height_times_each_step_from_the_record() {
        let exporter = PrometheusExporter::new("test-chain");
        let record = HeightRecord {
            height: 7,
            round: 2,
            proposer: 1,
            commit_time_s: 10.5,
            txs: 40,
            round_duration_s: 1.25,
            proposal_time_s: 0.5,
            voting_time_s: 0.5,
            commit_cost_s: 0.25,
            prevote_time_s: 0.375,
            precommit_time_s: 0.125,
            block_bytes: 10_000,
            missing_validators: 1,
            missing_power: 10,
            quorum_prevote_delay_s: Some(0.25),
            full_prevote_delay_s: None,
            duplicate_votes: 3,
            mempool_txs: 12,
            dropped_txs: 2,
        };
        exporter.observe_height(&record, 9.0);
        let text = exporter.encode_text_format();
        let c = "chain_id=\"test-chain\"";
        for line in [
            format!("cometbft_consensus_height{{{c}}} 8"),
            format!("cometbft_consensus_latest_block_height{{{c}}} 7"),
            format!("cometbft_consensus_rounds{{{c}}} 2"),
            format!("cometbft_consensus_num_txs{{{c}}} 40"),
            format!("cometbft_consensus_block_size_bytes{{{c}}} 10000"),
            format!("cometbft_consensus_missing_validators{{{c}}} 1"),
            format!("cometbft_consensus_missing_validators_power{{{c}}} 10"),
            format!("cometbft_consensus_duplicate_vote_total{{{c}}} 3"),
            format!("cometbft_consensus_quorum_prevote_delay{{{c},proposer_address=\"1\"}} 0.25"),
            format!("cometbft_consensus_block_interval_seconds_sum{{{c}}} 1.5"),
            format!("cometbft_consensus_round_duration_seconds_sum{{{c}}} 1.25"),
            format!("cometbft_consensus_step_duration_seconds_sum{{{c},step=\"NewHeight\"}} 0.25"),
            format!("cometbft_consensus_step_duration_seconds_sum{{{c},step=\"Propose\"}} 0.5"),
            format!("cometbft_consensus_step_duration_seconds_sum{{{c},step=\"Prevote\"}} 0.375"),
            format!("cometbft_consensus_step_duration_seconds_sum{{{c},step=\"Precommit\"}} 0.125"),
            format!("cometbft_consensus_step_duration_seconds_sum{{{c},step=\"Commit\"}} 0.25"),
            format!("cometbft_mempool_size{{{c}}} 12"),
            format!("cometbft_mempool_rejected_txs_total{{{c}}} 2"),
        ] {
            assert!(text.contains(&format!("\n{line}\n")), "{line} in:\n{text}");
        }
        assert!(
            !text.contains("full_prevote_delay{"),
            "no full round of prevotes"
        );
        assert!(!text.contains("voting"));
    }

    #[test]
    fn every_sample_carries_the_chain_id() {
        let exporter = PrometheusExporter::new("a \"quoted\" chain");
        exporter.set_validators(&[10, 10, 10, 30], &[3]);
        let text = exporter.encode_text_format();
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(samples.len() > 100, "{}", samples.len());
        for line in samples {
            assert!(
                line.contains("{chain_id=\"a \\\"quoted\\\" chain\""),
                "{line}"
            );
        }
        assert!(text.contains(
            "cometbft_consensus_validators_power{chain_id=\"a \\\"quoted\\\" chain\"} 60\n"
        ));
        assert!(text.contains("cometbft_consensus_byzantine_validators_power{chain_id=\"a \\\"quoted\\\" chain\"} 30\n"));
    }

    #[test]
    fn namespace_is_checked() {
        assert!(PrometheusExporter::with_namespace("9chain", "c").is_err());
        assert!(PrometheusExporter::with_namespace("tendermint", "c").is_ok());
        let bare = PrometheusExporter::with_namespace("", "c").map(|e| e.encode());
        assert!(bare.is_ok_and(|t| t.contains("\nconsensus_height{chain_id=\"c\"} 0\n")));
    }
}
