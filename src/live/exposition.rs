//! The watch's own metrics, for Prometheus to scrape from `ccperf watch --listen`.
//!
//! The chain's metrics go through the crate's [`PrometheusExporter`] under the namespace
//! `ccperf_watch` (`ccperf_watch_consensus_height`, …, and the shared `ccperf_throughput_tps`,
//! `ccperf_latency_seconds`, `ccperf_anomalies_total`, `ccperf_alerts_active`), so a dashboard
//! reads a watched node as it reads `ccperf serve` (the mempool's size too:
//! `ccperf_watch_mempool_size`); what only a live node has (signatures, peers, reachability,
//! errors) is in a second registry of `ccperf_watch_*` metrics.

use crate::export::PrometheusExporter;
use crate::live::http::FetchError;
use prometheus_client::encoding::text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// The namespace of the watched chain's consensus metrics.
pub const WATCH_NAMESPACE: &str = "ccperf_watch";

/// Everything `ccperf watch` exposes.
#[derive(Debug)]
pub struct WatchExposition {
    /// The chain's consensus metrics and the monitor's, as `ccperf serve` exposes them.
    pub chain: PrometheusExporter,
    registry: Registry,
    /// Heights followed.
    pub heights: Counter,
    /// Heights decided in a round above 0.
    pub multi_round_heights: Counter,
    /// Absent signatures in the latest block's LastCommit.
    pub missing_signatures: Gauge,
    /// Absent signatures over every LastCommit followed.
    pub absent_signatures: Counter,
    /// Connected peers.
    pub peers: Gauge,
    /// 1 while the node reports `catching_up`.
    pub catching_up: Gauge,
    /// 1 while the node answers, 0 while it does not.
    pub node_up: Gauge,
    /// Header time of the latest block, in seconds since the Unix epoch.
    pub last_block_time: Gauge<f64, AtomicU64>,
    /// Failed requests to the node, by kind.
    pub errors: Family<Vec<(String, String)>, Counter>,
}

impl WatchExposition {
    /// Every metric at zero (errors listed for every kind).
    pub fn new() -> Self {
        // The namespace is a valid constant: the fallback is never taken. The chain id is
        // learnt from the node's /status.
        let chain = PrometheusExporter::with_namespace(WATCH_NAMESPACE, "")
            .unwrap_or_else(|_| PrometheusExporter::new(""));
        let mut exposition = WatchExposition {
            chain,
            registry: Registry::default(),
            heights: Counter::default(),
            multi_round_heights: Counter::default(),
            missing_signatures: Gauge::default(),
            absent_signatures: Counter::default(),
            peers: Gauge::default(),
            catching_up: Gauge::default(),
            node_up: Gauge::default(),
            last_block_time: Gauge::default(),
            errors: Family::default(),
        };
        for kind in FetchError::KINDS {
            let _ = exposition.errors.get_or_create(&labels(kind));
        }
        let r = &mut exposition.registry;
        let p = WATCH_NAMESPACE;
        r.register(
            format!("{p}_heights"),
            "Heights followed",
            exposition.heights.clone(),
        );
        r.register(
            format!("{p}_multi_round_heights"),
            "Heights decided in a round above 0",
            exposition.multi_round_heights.clone(),
        );
        r.register(
            format!("{p}_missing_signatures"),
            "Absent signatures in the latest block's LastCommit",
            exposition.missing_signatures.clone(),
        );
        r.register(
            format!("{p}_absent_signatures"),
            "Absent signatures over every LastCommit followed",
            exposition.absent_signatures.clone(),
        );
        r.register(
            format!("{p}_peers"),
            "Connected peers",
            exposition.peers.clone(),
        );
        r.register(
            format!("{p}_catching_up"),
            "1 while the node is catching up (block sync)",
            exposition.catching_up.clone(),
        );
        r.register(
            format!("{p}_node_up"),
            "1 while the node answers, 0 while it does not",
            exposition.node_up.clone(),
        );
        r.register(
            format!("{p}_last_block_timestamp_seconds"),
            "Header time of the latest block followed, Unix seconds",
            exposition.last_block_time.clone(),
        );
        r.register(
            format!("{p}_errors"),
            "Failed requests to the node, by kind",
            exposition.errors.clone(),
        );
        exposition
    }

    /// Counts one failed request.
    pub fn count_error(&self, error: &FetchError) {
        self.errors.get_or_create(&labels(error.kind())).inc();
    }

    /// The OpenMetrics exposition of both registries (one `# EOF`).
    pub fn encode(&self) -> String {
        let chain = self.chain.encode();
        let mut out = chain.strip_suffix("# EOF\n").unwrap_or(&chain).to_string();
        // Writing into a String cannot fail, and these metrics encode without error.
        let _ = text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for WatchExposition {
    fn default() -> Self {
        WatchExposition::new()
    }
}

fn labels(kind: &str) -> Vec<(String, String)> {
    vec![("kind".to_string(), kind.to_string())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_document_with_both_registries() {
        let exposition = WatchExposition::new();
        exposition.heights.inc();
        exposition.count_error(&FetchError::Timeout {
            url: "u".into(),
            timeout: std::time::Duration::from_secs(1),
        });
        let text = exposition.encode();
        assert_eq!(text.matches("# EOF").count(), 1);
        assert!(text.ends_with("# EOF\n"));
        assert!(
            text.contains("\nccperf_watch_consensus_height{chain_id=\"\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("\nccperf_watch_heights_total 1\n"), "{text}");
        assert!(
            text.contains("ccperf_watch_errors_total{kind=\"timeout\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("ccperf_watch_errors_total{kind=\"malformed\"} 0\n"),
            "{text}"
        );
    }
}
