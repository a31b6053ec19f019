//! A node's Prometheus endpoint (CometBFT serves it on port 26660 when
//! `instrumentation.prometheus` is on): the consensus, mempool and p2p metrics, parsed from
//! the text exposition format with `prometheus-parse`.
//!
//! Series of one name are summed over their labels (a node exports one chain; per-peer byte
//! counters add up to the node's traffic).

use super::http::{FetchError, Fetcher};
use prometheus_parse::{Scrape, Value};
use std::collections::BTreeMap;

/// Namespaces tried, in order, when finding the node's metrics (CometBFT's, then Tendermint's).
pub const NAMESPACES: [&str; 2] = ["cometbft", "tendermint"];

/// A client of one node's metrics endpoint.
#[derive(Clone, Debug)]
pub struct MetricsClient {
    url: String,
    fetcher: Fetcher,
}

/// Sum and count of a histogram or summary: the mean of what it observed is their ratio.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals {
    /// Sum of the observations.
    pub sum: f64,
    /// Number of observations.
    pub count: f64,
}

impl Totals {
    /// What was observed since `earlier`: `(sum, count)` differences, or `None` when the
    /// counters went back (the node restarted) or nothing was observed.
    pub fn since(&self, earlier: &Totals) -> Option<Totals> {
        let count = self.count - earlier.count;
        let sum = self.sum - earlier.sum;
        (count > 0.0 && sum >= 0.0).then_some(Totals { sum, count })
    }

    /// Sum over count (0 for no observations).
    pub fn mean(&self) -> f64 {
        if self.count > 0.0 {
            self.sum / self.count
        } else {
            0.0
        }
    }
}

/// One scrape of a node's metrics; `None` for what it does not export.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeMetrics {
    /// The namespace found (`cometbft`, `tendermint`), empty if none.
    pub namespace: String,
    /// `consensus_height`.
    pub height: Option<u64>,
    /// `consensus_rounds`: the round of the latest height.
    pub rounds: Option<u64>,
    /// `consensus_num_txs`: transactions in the latest block.
    pub num_txs: Option<u64>,
    /// `consensus_total_txs`.
    pub total_txs: Option<u64>,
    /// `consensus_validators`.
    pub validators: Option<u64>,
    /// `consensus_missing_validators`: validators absent from the latest LastCommit.
    pub missing_validators: Option<u64>,
    /// `consensus_byzantine_validators`.
    pub byzantine_validators: Option<u64>,
    /// `consensus_block_syncing` (or `fast_syncing`): 1 while syncing blocks.
    pub block_syncing: Option<bool>,
    /// `consensus_block_interval_seconds`.
    pub block_interval: Option<Totals>,
    /// `consensus_round_duration_seconds`.
    pub round_duration: Option<Totals>,
    /// `consensus_step_duration_seconds`, by its `step` label as the node spells it.
    pub steps: BTreeMap<String, Totals>,
    /// `mempool_size`: transactions waiting.
    pub mempool_size: Option<u64>,
    /// `p2p_peers`.
    pub peers: Option<u64>,
    /// `p2p_peer_receive_bytes_total`, over all peers and channels.
    pub bytes_received: Option<f64>,
    /// `p2p_peer_send_bytes_total`, over all peers and channels.
    pub bytes_sent: Option<f64>,
}

impl MetricsClient {
    /// A client of the metrics at `url` (`http://host:26660/metrics`).
    pub fn new(url: String, fetcher: Fetcher) -> Self {
        MetricsClient { url, fetcher }
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Scrape and parse once.
    pub fn scrape(&self) -> Result<NodeMetrics, FetchError> {
        let (status, body) = self.fetcher.get(&self.url)?;
        if status != 200 {
            return Err(FetchError::Status {
                url: self.url.clone(),
                status,
            });
        }
        parse(&body).map_err(|detail| FetchError::Malformed {
            url: self.url.clone(),
            detail,
        })
    }
}

/// Reads the node's metrics out of exposition text; an error when it holds no sample at all
/// or no consensus metrics under any known namespace.
pub fn parse(text: &str) -> Result<NodeMetrics, String> {
    let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_string())))
        .map_err(|e| format!("unreadable exposition: {e}"))?;
    if scrape.samples.is_empty() {
        let start: String = text.chars().take(60).collect();
        return Err(format!(
            "no Prometheus samples in the response (it starts {start:?})"
        ));
    }
    let mut plain: BTreeMap<String, f64> = BTreeMap::new();
    let mut steps: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for sample in &scrape.samples {
        let value = match sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            Value::Histogram(_) | Value::Summary(_) => continue,
        };
        if !value.is_finite() {
            continue;
        }
        *plain.entry(sample.metric.clone()).or_default() += value;
        if let Some(step) = sample.labels.get("step") {
            let entry = steps
                .entry(format!("{}\u{0}{step}", sample.metric))
                .or_default();
            entry.0 += value;
        }
    }
    let namespace = NAMESPACES
        .into_iter()
        .find(|ns| plain.contains_key(&format!("{ns}_consensus_height")))
        .ok_or_else(|| {
            format!(
                "no {}_consensus_height in {} samples: is this a CometBFT node's metrics \
                 endpoint, with instrumentation.prometheus = true?",
                NAMESPACES.join("_consensus_height or "),
                scrape.samples.len()
            )
        })?;
    let get = |name: &str| plain.get(&format!("{namespace}_{name}")).copied();
    let count = |name: &str| get(name).map(|v| v.max(0.0) as u64);
    let totals = |name: &str| {
        Some(Totals {
            sum: get(&format!("{name}_sum"))?,
            count: get(&format!("{name}_count"))?,
        })
    };
    let step_prefix = format!("{namespace}_consensus_step_duration_seconds");
    let mut step_totals: BTreeMap<String, Totals> = BTreeMap::new();
    for (key, (value, _)) in &steps {
        let Some((metric, step)) = key.split_once('\u{0}') else {
            continue;
        };
        let entry = step_totals.entry(step.to_string()).or_default();
        if metric == format!("{step_prefix}_sum") {
            entry.sum += value;
        } else if metric == format!("{step_prefix}_count") {
            entry.count += value;
        }
    }
    step_totals.retain(|_, t| t.count > 0.0 || t.sum > 0.0);
    Ok(NodeMetrics {
        namespace: namespace.to_string(),
        height: count("consensus_height"),
        rounds: count("consensus_rounds"),
        num_txs: count("consensus_num_txs"),
        total_txs: count("consensus_total_txs"),
        validators: count("consensus_validators"),
        missing_validators: count("consensus_missing_validators"),
        byzantine_validators: count("consensus_byzantine_validators"),
        block_syncing: get("consensus_block_syncing")
            .or_else(|| get("consensus_fast_syncing"))
            .map(|v| v > 0.0),
        block_interval: totals("consensus_block_interval_seconds"),
        round_duration: totals("consensus_round_duration_seconds"),
        steps: step_totals,
        mempool_size: count("mempool_size"),
        peers: count("p2p_peers"),
        bytes_received: get("p2p_peer_receive_bytes_total"),
        bytes_sent: get("p2p_peer_send_bytes_total"),
    })
}

/// Which part of a height a CometBFT step belongs to, by its `step` label (any case):
/// `proposal`, `voting` (prevote and precommit, their waits, or a simulator's `voting`) or
/// `commit`; `None` for the others (`NewHeight`, `NewRound`).
pub fn step_phase(step: &str) -> Option<&'static str> {
    match step.to_ascii_lowercase().as_str() {
        "propose" => Some("proposal"),
        "prevote" | "prevotewait" | "precommit" | "precommitwait" | "voting" => Some("voting"),
        "commit" => Some("commit"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMETBFT: &str = "\
# HELP cometbft_consensus_height Height of the chain.
# TYPE cometbft_consensus_height gauge
cometbft_consensus_height{chain_id=\"test-chain\"} 1042
# TYPE cometbft_consensus_rounds gauge
cometbft_consensus_rounds{chain_id=\"test-chain\"} 1
# TYPE cometbft_consensus_missing_validators gauge
cometbft_consensus_missing_validators{chain_id=\"test-chain\"} 2
# TYPE cometbft_consensus_block_interval_seconds histogram
cometbft_consensus_block_interval_seconds_bucket{chain_id=\"test-chain\",le=\"1\"} 10
cometbft_consensus_block_interval_seconds_bucket{chain_id=\"test-chain\",le=\"+Inf\"} 12
cometbft_consensus_block_interval_seconds_sum{chain_id=\"test-chain\"} 13.5
cometbft_consensus_block_interval_seconds_count{chain_id=\"test-chain\"} 12
# TYPE cometbft_consensus_step_duration_seconds histogram
cometbft_consensus_step_duration_seconds_bucket{chain_id=\"test-chain\",step=\"Propose\",le=\"+Inf\"} 4
cometbft_consensus_step_duration_seconds_sum{chain_id=\"test-chain\",step=\"Propose\"} 0.8
cometbft_consensus_step_duration_seconds_count{chain_id=\"test-chain\",step=\"Propose\"} 4
cometbft_consensus_step_duration_seconds_sum{chain_id=\"test-chain\",step=\"Prevote\"} 0.4
cometbft_consensus_step_duration_seconds_count{chain_id=\"test-chain\",step=\"Prevote\"} 4
# TYPE cometbft_mempool_size gauge
cometbft_mempool_size{chain_id=\"test-chain\"} 37
# TYPE cometbft_p2p_peers gauge
cometbft_p2p_peers{chain_id=\"test-chain\"} 7
# TYPE cometbft_p2p_peer_receive_bytes_total counter
cometbft_p2p_peer_receive_bytes_total{chain_id=\"test-chain\",peer_id=\"a\",chID=\"0x20\"} 1000
cometbft_p2p_peer_receive_bytes_total{chain_id=\"test-chain\",peer_id=\"b\",chID=\"0x20\"} 500
";

    #[test]
    fn reads_cometbft_metrics_with_labels() {
        let m = parse(COMETBFT).unwrap();
        assert_eq!(m.namespace, "cometbft");
        assert_eq!(
            (m.height, m.rounds, m.missing_validators),
            (Some(1042), Some(1), Some(2))
        );
        assert_eq!((m.mempool_size, m.peers), (Some(37), Some(7)));
        assert_eq!(
            m.block_interval,
            Some(Totals {
                sum: 13.5,
                count: 12.0
            })
        );
        assert_eq!(
            m.steps.get("Propose"),
            Some(&Totals {
                sum: 0.8,
                count: 4.0
            })
        );
        assert_eq!(m.bytes_received, Some(1500.0));
        assert_eq!(m.num_txs, None);
    }

    #[test]
    fn refuses_text_without_consensus_metrics() {
        let e = parse("<html><body>hello</body></html>").unwrap_err();
        assert!(e.starts_with("no Prometheus samples"), "{e}");
        let e = parse("# TYPE go_goroutines gauge\ngo_goroutines 12\n").unwrap_err();
        assert!(e.contains("no cometbft_consensus_height"), "{e}");
    }

    #[test]
    fn totals_since_a_restart_are_none() {
        let before = Totals {
            sum: 10.0,
            count: 5.0,
        };
        let after = Totals {
            sum: 12.0,
            count: 6.0,
        };
        assert_eq!(
            after.since(&before),
            Some(Totals {
                sum: 2.0,
                count: 1.0
            })
        );
        assert_eq!(before.since(&after), None);
        assert_eq!(step_phase("PrevoteWait"), Some("voting"));
        assert_eq!(step_phase("NewHeight"), None);
    }
}
