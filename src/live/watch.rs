//! The watch loop: polls a node's RPC and metrics, turns each committed height into a
//! [`HeightReport`], and feeds the [`PerformanceMonitor`] on the wall clock, so anomalies,
//! alerts and the optimization engine's suggestions come from the live chain.
//!
//! A height's sample for the monitor: its block interval (header time minus the previous
//! header's) as the round duration, the step durations the node's metrics show (when given),
//! throughput over the last heights, the percentiles of recent block intervals as latency
//! (a transaction waits about a block; the RPC shows no submit times), and the node's network
//! bytes. Every failure is reported through [`Event::Note`] and the loop goes on.

use super::exposition::WatchExposition;
use super::http::{FetchError, Fetcher};
use super::prom::{self, MetricsClient, NodeMetrics};
use super::rpc::{Block, RpcClient, Status, Validator};
use super::ws::{NewBlockSubscription, Signal};
use crate::export::prometheus::STEPS;
use crate::metrics::{ConsensusMetrics, LatencyHistogram, ResourceUsage};
use crate::monitor::{Alert, Anomaly, PerformanceMonitor, PerformanceTrend, SampleUnit};
use crate::optimize::{Observations, OptimizationEngine, OptimizationSuggestion, ParameterValue};
use crate::params::{OptimizationParameters, PerformanceTargets};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Heights fetched one by one after a gap at most; beyond, the watch jumps to the newest.
pub const MAX_BACKFILL: u64 = 50;
/// Heights kept for throughput, round shares and the optimization engine.
const RECENT_HEIGHTS: usize = 100;
/// Heights the throughput of a sample is measured over.
const THROUGHPUT_HEIGHTS: usize = 10;
/// Judged heights needed before the optimization engine is asked, and how often after.
const SUGGEST_AFTER: u64 = 20;
const SUGGEST_EVERY: u64 = 10;
/// The window the trend is fitted over.
pub const TREND_WINDOW: Duration = Duration::from_secs(600);
/// A failure that goes on is reported again this often.
const REPEAT_NOTE: Duration = Duration::from_secs(10);
/// `/net_info` is asked at most this often.
const NET_INFO_EVERY: Duration = Duration::from_secs(5);
/// An RPC error for one height (say, pruned) skips it after this many attempts.
const HEIGHT_ATTEMPTS: u32 = 3;

/// How to watch: where the node is, how often to ask, what to alert on.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// The node's RPC, `http://host:26657`.
    pub rpc: Option<String>,
    /// The node's metrics, `http://host:26660/metrics`.
    pub metrics: Option<String>,
    /// Time between polls.
    pub poll_interval: Duration,
    /// Longest wait for one response.
    pub timeout: Duration,
    /// Largest response body read.
    pub max_response_bytes: u64,
    /// Alert while the mean block interval of the alert window is above this.
    pub alert_block_interval: Duration,
    /// Alert while throughput is below this many tx/s.
    pub alert_throughput: Option<f64>,
    /// Heights the alerts average over.
    pub alert_window: usize,
    /// Subscribe to `NewBlock` on the RPC's WebSocket and poll as each block lands.
    pub websocket: bool,
    /// Heights the monitor keeps (`performance.window_size`).
    pub window_size: usize,
    /// Check and report alerts (`performance.alerts_enabled`).
    pub alerts: bool,
    /// Ask the optimization engine for suggestions (`optimization.auto_tune`).
    pub suggestions: bool,
    /// The engine's step size, 0 to 1 (`optimization.aggressiveness`).
    pub aggressiveness: f64,
}

/// What the watch tells its caller.
#[derive(Debug)]
pub enum Event<'a> {
    /// A height was followed.
    Height(&'a HeightReport),
    /// Something went wrong or changed (for stderr).
    Note(String),
    /// No new height yet: the next expected and the time since the last one arrived.
    Waiting {
        /// The height awaited.
        next_height: u64,
        /// Wall time since the last new height.
        since_last: Duration,
    },
}

/// One followed height, as `--json` prints it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HeightReport {
    /// The height.
    pub height: u64,
    /// Heights this report covers: 1, or more when only the metrics endpoint shows them.
    pub heights: u64,
    /// Header time, RFC 3339 with nanoseconds.
    pub time: Option<String>,
    /// Seconds since the previous block (header times; the metrics' mean without RPC).
    pub interval_s: Option<f64>,
    /// The round that decided the height (0-based).
    pub round: Option<u32>,
    /// Transactions in the block.
    pub txs: Option<u64>,
    /// Address of the proposer.
    pub proposer: Option<String>,
    /// The signatures of the previous height carried in this block.
    pub last_commit: Option<Signatures>,
    /// Validators in the set.
    pub validators: Option<u64>,
    /// Connected peers.
    pub peers: Option<u64>,
    /// Transactions waiting in the mempool.
    pub mempool_size: Option<u64>,
    /// Throughput over the last heights, tx/s.
    pub throughput_tps: Option<f64>,
    /// Anomalies the monitor found at this height.
    pub anomalies: Vec<Anomaly>,
    /// Alerts that fired at this height.
    pub alerts_fired: Vec<Alert>,
    /// Alerts that stopped firing at this height, by name.
    pub alerts_cleared: Vec<String>,
    /// The optimization engine's suggestions, when they changed at this height.
    pub suggestions: Vec<OptimizationSuggestion>,
    /// The monitor's trend over the last [`TREND_WINDOW`], every 10 heights after 20.
    pub trend: Option<PerformanceTrend>,
}

/// How a LastCommit was signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Signatures {
    /// The height the commit is for (the block's height minus one).
    pub height: u64,
    /// Precommits for the block.
    pub signed: usize,
    /// Precommits for nil.
    pub nil: usize,
    /// No signature (`block_id_flag` 1).
    pub absent: usize,
    /// Entries (validators in the set).
    pub total: usize,
}

/// A source that stopped answering, and since when.
struct Outage {
    since: Instant,
    failures: u64,
    kind: &'static str,
    noted: Instant,
}

/// What is remembered of a recent height.
#[derive(Clone, Copy, Debug)]
struct Recent {
    round: u32,
    txs: u64,
    interval: Duration,
    spread: Option<Duration>,
}

/// What the node's metrics show per height since the last judged heights.
#[derive(Clone, Debug, Default)]
struct Deltas {
    /// Proposal, voting and commit time.
    phases: [Duration; 3],
    /// Time per step, named as the exporter names steps (those it knows).
    steps: Vec<(&'static str, Duration)>,
    /// Network bytes in and out.
    bytes: (u64, u64),
}

/// Follows one node.
pub struct Watcher {
    config: WatchConfig,
    rpc: Option<RpcClient>,
    metrics: Option<MetricsClient>,
    monitor: PerformanceMonitor,
    exposition: Arc<Mutex<WatchExposition>>,
    next_height: Option<u64>,
    previous: Option<(u64, DateTime<Utc>)>,
    height_failures: u32,
    validators: Option<(String, Vec<Validator>)>,
    peers: Option<u64>,
    net_info_at: Option<Instant>,
    catching_up: bool,
    scrape: Option<NodeMetrics>,
    /// The scrape the last heights' step and byte deltas are measured from.
    scrape_base: Option<NodeMetrics>,
    recent: VecDeque<Recent>,
    outages: BTreeMap<&'static str, Outage>,
    firing: BTreeSet<String>,
    judged: u64,
    suggested: Vec<(String, ParameterValue)>,
    last_new_height: Instant,
    subscription: Option<NewBlockSubscription>,
    /// The subscription's last state the watch reported: subscribed, or lost.
    subscribed: Option<bool>,
    gaps_noted: u64,
    gap_noted_at: Option<Instant>,
}

impl Watcher {
    /// Connects to the node: the first `/status` and scrape must succeed, or the error names
    /// the URL and what failed.
    pub fn connect(
        config: WatchConfig,
        exposition: Arc<Mutex<WatchExposition>>,
    ) -> Result<(Watcher, String), FetchError> {
        let fetcher = Fetcher::new(config.timeout, config.max_response_bytes);
        let rpc = config
            .rpc
            .clone()
            .map(|url| RpcClient::new(url, fetcher.clone()));
        let metrics = config
            .metrics
            .clone()
            .map(|url| MetricsClient::new(url, fetcher));
        let mut about = Vec::new();
        let status = match &rpc {
            Some(rpc) => {
                let status = rpc.status()?;
                about.push(format!(
                    "{} (chain {}, CometBFT {}) at {}: latest height {}{}",
                    status.moniker,
                    status.chain_id,
                    status.version,
                    rpc.url(),
                    status.latest_height,
                    if status.catching_up {
                        ", catching up"
                    } else {
                        ""
                    }
                ));
                Some(status)
            }
            None => None,
        };
        let scrape = match &metrics {
            Some(metrics) => {
                let scrape = metrics.scrape()?;
                about.push(format!(
                    "metrics at {} ({} namespace, height {})",
                    metrics.url(),
                    scrape.namespace,
                    scrape.height.unwrap_or(0)
                ));
                Some(scrape)
            }
            None => None,
        };
        let mut monitor = PerformanceMonitor::new()
            .with_window_size(config.window_size.max(1))
            .with_sample_unit(SampleUnit::Height);
        monitor.set_alert_window(config.alert_window);
        // Thresholds come from checked flags; a refusal would leave that alert unset.
        let _ = monitor
            .set_alert_threshold("round_duration", config.alert_block_interval.as_secs_f64());
        if let Some(tps) = config.alert_throughput {
            let _ = monitor.set_alert_threshold("throughput", tps);
        }
        lock(&exposition).node_up.set(1);
        if let Some(status) = &status {
            lock(&exposition).chain.set_chain_id(&status.chain_id);
        }
        let mut watcher = Watcher {
            config,
            rpc,
            metrics,
            monitor,
            exposition,
            next_height: None,
            previous: None,
            height_failures: 0,
            validators: None,
            peers: None,
            net_info_at: None,
            catching_up: status.as_ref().is_some_and(|s| s.catching_up),
            scrape: None,
            scrape_base: scrape.clone(),
            recent: VecDeque::new(),
            outages: BTreeMap::new(),
            firing: BTreeSet::new(),
            judged: 0,
            suggested: Vec::new(),
            last_new_height: Instant::now(),
            subscription: None,
            subscribed: None,
            gaps_noted: 0,
            gap_noted_at: None,
        };
        watcher.scrape = scrape;
        if watcher.config.websocket
            && let Some(rpc) = &watcher.rpc
        {
            watcher.subscription = Some(NewBlockSubscription::start(
                rpc.url(),
                watcher.config.timeout,
                watcher.config.max_response_bytes,
            ));
        }
        if watcher.catching_up {
            lock(&watcher.exposition).catching_up.set(1);
        }
        Ok((watcher, about.join("; ")))
    }

    /// Polls until `deadline` (forever without one) or until `stop` says so, telling `emit`
    /// what happens.
    pub fn run(
        &mut self,
        deadline: Option<Instant>,
        stop: &dyn Fn() -> bool,
        emit: &mut dyn FnMut(Event<'_>),
    ) {
        loop {
            if stop() {
                return;
            }
            let started = Instant::now();
            self.poll(emit);
            let next_poll = started + self.config.poll_interval;
            loop {
                let now = Instant::now();
                if deadline.is_some_and(|d| now >= d) {
                    return;
                }
                if now >= next_poll || stop() {
                    break;
                }
                if let Some(next_height) = self.next_height {
                    emit(Event::Waiting {
                        next_height,
                        since_last: self.last_new_height.elapsed(),
                    });
                }
                let until = deadline.map_or(next_poll, |d| d.min(next_poll));
                let wait = until
                    .saturating_duration_since(now)
                    .min(Duration::from_millis(50));
                if self.await_new_block(wait, emit) {
                    break;
                }
            }
        }
    }

    /// Waits up to `wait` for the subscription's news (or sleeps without one); true when a
    /// block the watch has not followed yet was committed.
    fn await_new_block(&mut self, wait: Duration, emit: &mut dyn FnMut(Event<'_>)) -> bool {
        let Some(subscription) = &self.subscription else {
            std::thread::sleep(wait);
            return false;
        };
        match subscription.next(wait) {
            Some(Signal::NewBlock(height)) => self.next_height.is_none_or(|next| height >= next),
            Some(Signal::Subscribed) => {
                if self.subscribed != Some(true) {
                    emit(Event::Note(format!(
                        "subscribed to NewBlock at {}: polling as each block lands (and every {:?})",
                        subscription.url(),
                        self.config.poll_interval
                    )));
                    self.subscribed = Some(true);
                }
                false
            }
            Some(Signal::Lost(error)) => {
                if self.subscribed != Some(false) {
                    emit(Event::Note(format!(
                        "warning: {}: no NewBlock subscription ({error}); polling every {:?}, \
                         retrying the subscription",
                        subscription.url(),
                        self.config.poll_interval
                    )));
                    self.subscribed = Some(false);
                }
                false
            }
            None => false,
        }
    }

    /// One poll: the metrics, then the RPC's new heights (or the metrics' without RPC).
    pub fn poll(&mut self, emit: &mut dyn FnMut(Event<'_>)) {
        if let Some(metrics) = self.metrics.clone() {
            match metrics.scrape() {
                Ok(scrape) => {
                    self.recovered("metrics", metrics.url(), emit);
                    self.publish_node_metrics(&scrape);
                    self.scrape = Some(scrape);
                }
                Err(e) => self.failed("metrics", &e, emit),
            }
        }
        match self.rpc.clone() {
            Some(rpc) => self.poll_rpc(&rpc, emit),
            None => self.follow_metrics(emit),
        }
    }

    fn poll_rpc(&mut self, rpc: &RpcClient, emit: &mut dyn FnMut(Event<'_>)) {
        let status = match rpc.status() {
            Ok(status) => status,
            Err(e) => {
                lock(&self.exposition).node_up.set(0);
                self.failed("rpc", &e, emit);
                return;
            }
        };
        self.recovered("rpc", rpc.url(), emit);
        lock(&self.exposition).node_up.set(1);
        if !self.follow_sync_state(&status, emit) {
            return;
        }
        let latest = status.latest_height;
        let next = match self.next_height {
            Some(next) if next <= latest + 1 => next,
            Some(next) => {
                emit(Event::Note(format!(
                    "{}: the node's latest height went back from {} to {latest} (restarted on a \
                     fresh chain, or another node behind the URL?): following from {latest}",
                    rpc.url(),
                    next - 1
                )));
                self.restart_chain();
                latest
            }
            None => latest,
        };
        if latest < next {
            self.next_height = Some(next);
            return;
        }
        let mut first = next;
        if latest - next + 1 > MAX_BACKFILL {
            first = latest + 1 - MAX_BACKFILL;
            emit(Event::Note(format!(
                "{} heights behind the node (next {next}, latest {latest}): skipping to {first}; \
                 heights {next}..{} are not judged",
                latest + 1 - next,
                first - 1
            )));
            self.previous = None;
        } else if latest > next {
            self.note_gap(next, latest, emit);
        }
        for height in first..=latest {
            match self.follow_height(rpc, height, emit) {
                Ok(report) => {
                    self.height_failures = 0;
                    self.next_height = Some(height + 1);
                    self.last_new_height = Instant::now();
                    emit(Event::Height(&report));
                }
                Err(e) => {
                    self.next_height = Some(height);
                    self.height_failures += 1;
                    let permanent = matches!(e, FetchError::Rpc { .. });
                    if permanent && self.height_failures >= HEIGHT_ATTEMPTS {
                        emit(Event::Note(format!(
                            "height {height} skipped after {HEIGHT_ATTEMPTS} attempts ({e}); \
                             its interval and round are not judged"
                        )));
                        self.height_failures = 0;
                        self.next_height = Some(height + 1);
                        self.previous = None;
                        continue;
                    }
                    self.failed("rpc", &e, emit);
                    return;
                }
            }
        }
    }

    /// Notes and publishes a change of `catching_up`; true when heights should be followed.
    fn follow_sync_state(&mut self, status: &Status, emit: &mut dyn FnMut(Event<'_>)) -> bool {
        if status.catching_up != self.catching_up {
            self.catching_up = status.catching_up;
            lock(&self.exposition)
                .catching_up
                .set(i64::from(status.catching_up));
            emit(Event::Note(if status.catching_up {
                format!(
                    "the node is catching up (catching_up: true, latest height {}, block time \
                     {}): the heights it syncs are not judged; waiting until it has caught up",
                    status.latest_height,
                    rfc3339(status.latest_time)
                )
            } else {
                format!(
                    "the node has caught up at height {}: following from there",
                    status.latest_height
                )
            }));
            if !status.catching_up {
                self.next_height = Some(status.latest_height);
                self.previous = None;
            }
        }
        if self.catching_up {
            self.next_height = None;
            self.previous = None;
        }
        !self.catching_up
    }

    /// Several heights arrived between two polls: say so, at most once a minute.
    fn note_gap(&mut self, next: u64, latest: u64, emit: &mut dyn FnMut(Event<'_>)) {
        self.gaps_noted += 1;
        let due = self
            .gap_noted_at
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(60));
        if due {
            emit(Event::Note(format!(
                "heights {next}..{latest} were committed between two polls: fetching each \
                 ({} such gap(s) so far; a shorter --poll-interval avoids them)",
                self.gaps_noted
            )));
            self.gap_noted_at = Some(Instant::now());
        }
    }

    /// The node went back to a lower height: forget the chain followed so far.
    fn restart_chain(&mut self) {
        self.previous = None;
        self.validators = None;
        self.recent.clear();
        self.scrape_base = self.scrape.clone();
    }

    /// Fetches height `height` and judges it.
    fn follow_height(
        &mut self,
        rpc: &RpcClient,
        height: u64,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> Result<HeightReport, FetchError> {
        let block = rpc.block(height)?;
        let commit = rpc.commit(height)?;
        self.refresh_validators(rpc, &block, emit);
        self.refresh_peers(rpc, emit);
        let interval = match self.previous {
            Some((h, time)) if h + 1 == height => {
                Some((block.time - time).to_std().unwrap_or(Duration::ZERO))
            }
            _ => None,
        };
        self.previous = Some((height, block.time));
        let last_commit = block.last_commit.as_ref().map(|c| Signatures {
            height: c.height,
            signed: c.signatures.len() - c.absent() - c.nil(),
            nil: c.nil(),
            absent: c.absent(),
            total: c.signatures.len(),
        });
        let spread = block
            .last_commit
            .as_ref()
            .and_then(|c| c.precommit_spread());
        let mut report = HeightReport {
            height,
            heights: 1,
            time: Some(rfc3339(block.time)),
            interval_s: interval.map(|d| d.as_secs_f64()),
            round: Some(commit.round),
            txs: Some(block.txs),
            proposer: Some(block.proposer.clone()),
            last_commit,
            validators: self.validators.as_ref().map(|(_, v)| v.len() as u64),
            peers: self.peers.or(self.scrape.as_ref().and_then(|s| s.peers)),
            mempool_size: self.scrape.as_ref().and_then(|s| s.mempool_size),
            ..HeightReport::default()
        };
        let deltas = self.node_deltas();
        self.publish_block(&report, &block, &deltas.steps);
        if let Some(interval) = interval {
            self.judge(&mut report, interval, spread, &deltas);
        }
        Ok(report)
    }

    /// Without RPC: a report whenever the metrics' height moves.
    fn follow_metrics(&mut self, emit: &mut dyn FnMut(Event<'_>)) {
        let (Some(scrape), Some(base)) = (self.scrape.clone(), self.scrape_base.clone()) else {
            self.scrape_base = self.scrape.clone();
            return;
        };
        let (Some(height), Some(before)) = (scrape.height, base.height) else {
            return;
        };
        if height < before {
            emit(Event::Note(format!(
                "the node's height went back from {before} to {height} (restarted?): following \
                 from {height}"
            )));
            self.restart_chain();
            return;
        }
        if height == before {
            self.next_height = Some(height + 1);
            return;
        }
        let covered = height - before;
        let interval = match (scrape.block_interval, base.block_interval) {
            (Some(now), Some(then)) => now.since(&then).map(|t| t.mean()),
            _ => None,
        };
        let txs = match (scrape.total_txs, base.total_txs) {
            (Some(now), Some(then)) if now >= then => Some(now - then),
            _ => scrape.num_txs,
        };
        let mut report = HeightReport {
            height,
            heights: covered,
            interval_s: interval,
            round: scrape.rounds.and_then(|r| u32::try_from(r).ok()),
            txs,
            validators: scrape.validators,
            peers: scrape.peers,
            mempool_size: scrape.mempool_size,
            ..HeightReport::default()
        };
        if let Some(missing) = scrape.missing_validators {
            let total = scrape.validators.unwrap_or(0) as usize;
            report.last_commit = Some(Signatures {
                height: height.saturating_sub(1),
                signed: total.saturating_sub(missing as usize),
                nil: 0,
                absent: missing as usize,
                total,
            });
        }
        let deltas = self.node_deltas();
        self.publish_heights(&report, &deltas.steps);
        if let Some(seconds) = interval {
            let per_height = Duration::try_from_secs_f64(seconds).unwrap_or_default();
            self.judge(&mut report, per_height, None, &deltas);
        }
        self.scrape_base = Some(scrape);
        self.next_height = Some(height + 1);
        self.last_new_height = Instant::now();
        emit(Event::Height(&report));
    }

    /// Feeds one height to the monitor, then reads its anomalies, alerts and suggestions.
    fn judge(
        &mut self,
        report: &mut HeightReport,
        interval: Duration,
        spread: Option<Duration>,
        deltas: &Deltas,
    ) {
        let (phases, bytes) = (deltas.phases, deltas.bytes);
        let round = report.round.unwrap_or(0);
        let txs = report.txs.unwrap_or(0);
        if self.recent.len() == RECENT_HEIGHTS {
            self.recent.pop_front();
        }
        self.recent.push_back(Recent {
            round,
            txs: txs / report.heights.max(1),
            interval,
            spread,
        });
        let window: Vec<&Recent> = self.recent.iter().rev().take(THROUGHPUT_HEIGHTS).collect();
        let span: f64 = window.iter().map(|r| r.interval.as_secs_f64()).sum();
        let throughput = if span > 0.0 {
            window.iter().map(|r| r.txs as f64).sum::<f64>() / span
        } else {
            0.0
        };
        report.throughput_tps = Some(throughput);
        let latency = self
            .recent
            .iter()
            .map(|r| r.interval)
            .collect::<LatencyHistogram>()
            .percentiles();
        let metrics = ConsensusMetrics {
            round_duration: interval,
            proposal_time: phases[0],
            voting_time: phases[1],
            commit_time: phases[2],
            throughput,
            latency_percentiles: latency,
            resource_usage: ResourceUsage {
                network_bytes_in: bytes.0,
                network_bytes_out: bytes.1,
                ..ResourceUsage::default()
            },
        };
        self.monitor.record_round(report.height, metrics);
        report.anomalies = self.monitor.detect_anomalies();
        let alerts = if self.config.alerts {
            self.monitor.check_alerts()
        } else {
            Vec::new()
        };
        let now_firing: BTreeSet<String> = alerts.iter().map(|a| a.name.clone()).collect();
        report.alerts_cleared = self.firing.difference(&now_firing).cloned().collect();
        report.alerts_fired = alerts.iter().filter(|a| a.newly_fired).cloned().collect();
        self.firing = now_firing;
        {
            let exposition = lock(&self.exposition);
            exposition.chain.set_throughput(throughput);
            exposition.chain.set_latency(latency);
            exposition.chain.record_anomalies(&report.anomalies);
            exposition.chain.set_alerts(&alerts);
        }
        self.judged += 1;
        if self.judged >= SUGGEST_AFTER && self.judged.is_multiple_of(SUGGEST_EVERY) {
            if self.config.suggestions {
                report.suggestions = self.new_suggestions(report.mempool_size);
            }
            report.trend = Some(self.monitor.calculate_trend(TREND_WINDOW));
        }
    }

    /// Per-height proposal, voting and commit time, and network bytes in/out, from the
    /// metrics since the last judged heights (zeros without metrics).
    fn node_deltas(&mut self) -> Deltas {
        let (Some(now), Some(base)) = (&self.scrape, &self.scrape_base) else {
            return Deltas::default();
        };
        let heights = match (now.height, base.height) {
            (Some(a), Some(b)) if a > b => (a - b) as f64,
            _ => return Deltas::default(),
        };
        let mut phases = [0.0f64; 3];
        let mut steps = Vec::new();
        for (step, totals) in &now.steps {
            let Some(delta) = base
                .steps
                .get(step)
                .map_or(Some(*totals), |then| totals.since(then))
            else {
                continue;
            };
            if let Some(name) = STEPS.iter().find(|s| s.eq_ignore_ascii_case(step)) {
                steps.push((*name, seconds(delta.sum / heights)));
            }
            let slot = match prom::step_phase(step) {
                Some("proposal") => 0,
                Some("voting") => 1,
                Some("commit") => 2,
                _ => continue,
            };
            phases[slot] += delta.sum / heights;
        }
        let bytes = |now: Option<f64>, then: Option<f64>| match (now, then) {
            (Some(a), Some(b)) if a >= b => ((a - b) / heights) as u64,
            _ => 0,
        };
        let traffic = (
            bytes(now.bytes_received, base.bytes_received),
            bytes(now.bytes_sent, base.bytes_sent),
        );
        if self.rpc.is_some() {
            self.scrape_base = self.scrape.clone();
        }
        Deltas {
            phases: phases.map(seconds),
            steps,
            bytes: traffic,
        }
    }

    /// The engine's suggestions from the recent heights, when they differ from the last ones.
    fn new_suggestions(&mut self, mempool: Option<u64>) -> Vec<OptimizationSuggestion> {
        let Ok(average) = self.monitor.get_average_metrics(Duration::MAX) else {
            return Vec::new();
        };
        let n = self.recent.len().max(1) as f64;
        let multi = self.recent.iter().filter(|r| r.round > 0).count() as f64 / n;
        let rounds_mean = self
            .recent
            .iter()
            .map(|r| f64::from(r.round) + 1.0)
            .sum::<f64>()
            / n;
        let txs_mean = self.recent.iter().map(|r| r.txs as f64).sum::<f64>() / n;
        let spreads: LatencyHistogram = self.recent.iter().filter_map(|r| r.spread).collect();
        let observations = Observations {
            p99_message_delay: (!spreads.is_empty()).then(|| spreads.quantile(0.9)),
            multi_round_fraction: Some(multi),
            rounds_per_height_mean: Some(rounds_mean),
            mean_txs_per_block: Some(txs_mean),
            mempool_backlog: mempool,
            ..Observations::default()
        };
        let targets = PerformanceTargets {
            target_throughput: self.config.alert_throughput.unwrap_or(0.0),
            max_latency: self.config.alert_block_interval,
            target_finality_time: self.config.alert_block_interval,
            max_cpu_usage: 100.0,
            max_memory_usage: u64::MAX,
        };
        let engine = OptimizationEngine::new(OptimizationParameters::default(), targets.clone());
        let mut engine = engine
            .with_aggressiveness(self.config.aggressiveness)
            .unwrap_or_else(|_| {
                OptimizationEngine::new(OptimizationParameters::default(), targets)
            });
        let suggestions = engine
            .analyze_with(&average, &observations)
            .unwrap_or_default();
        let key: Vec<(String, ParameterValue)> = suggestions
            .iter()
            .map(|s| (s.parameter.name().to_string(), s.suggested_value))
            .collect();
        if key == self.suggested {
            return Vec::new();
        }
        self.suggested = key;
        suggestions
    }

    /// Fetches the validator set when the block names a new one.
    fn refresh_validators(
        &mut self,
        rpc: &RpcClient,
        block: &Block,
        emit: &mut dyn FnMut(Event<'_>),
    ) {
        if self
            .validators
            .as_ref()
            .is_some_and(|(hash, _)| *hash == block.validators_hash)
        {
            return;
        }
        match rpc.validators(block.height) {
            Ok(validators) => {
                self.recovered("validators", rpc.url(), emit);
                let power = validators.iter().map(|v| v.voting_power).sum::<u64>();
                let exposition = lock(&self.exposition);
                let powers: Vec<u64> = validators.iter().map(|v| v.voting_power).collect();
                exposition.chain.set_validators(&powers, &[]);
                drop(exposition);
                if self.validators.is_some() {
                    emit(Event::Note(format!(
                        "height {}: the validator set changed: {} validators, total power {power}",
                        block.height,
                        validators.len()
                    )));
                }
                self.validators = Some((block.validators_hash.clone(), validators));
            }
            Err(e) => self.failed("validators", &e, emit),
        }
    }

    /// Asks `/net_info` when the last answer is older than [`NET_INFO_EVERY`].
    fn refresh_peers(&mut self, rpc: &RpcClient, emit: &mut dyn FnMut(Event<'_>)) {
        if self
            .net_info_at
            .is_some_and(|t| t.elapsed() < NET_INFO_EVERY)
        {
            return;
        }
        self.net_info_at = Some(Instant::now());
        match rpc.net_info() {
            Ok(info) => {
                self.recovered("net_info", rpc.url(), emit);
                self.peers = Some(info.peers);
                lock(&self.exposition).peers.set(to_i64(info.peers));
            }
            Err(e) => self.failed("net_info", &e, emit),
        }
    }

    /// Publishes one block followed over RPC.
    fn publish_block(&self, report: &HeightReport, block: &Block, steps: &[(&str, Duration)]) {
        self.publish_heights(report, steps);
        let exposition = lock(&self.exposition);
        let seconds =
            block.time.timestamp() as f64 + f64::from(block.time.timestamp_subsec_nanos()) / 1e9;
        exposition.last_block_time.set(seconds);
    }

    /// Publishes a report's heights, round, transactions, step times and signatures.
    fn publish_heights(&self, report: &HeightReport, steps: &[(&str, Duration)]) {
        let exposition = lock(&self.exposition);
        let round = u64::from(report.round.unwrap_or(0));
        let interval = Duration::try_from_secs_f64(report.interval_s.unwrap_or(0.0).max(0.0))
            .unwrap_or_default();
        if report.interval_s.is_some() {
            exposition.chain.observe_block(
                report.height,
                round,
                report.txs.unwrap_or(0),
                interval,
                interval,
                steps,
            );
        }
        exposition.heights.inc_by(report.heights);
        if round > 0 {
            exposition.multi_round_heights.inc();
        }
        if let Some(signatures) = report.last_commit {
            exposition
                .missing_signatures
                .set(to_i64(signatures.absent as u64));
            exposition
                .absent_signatures
                .inc_by(signatures.absent as u64);
        }
        if let Some(mempool) = report.mempool_size {
            exposition.chain.set_mempool_size(mempool);
        }
    }

    /// Publishes what a scrape says about mempool, peers and sync.
    fn publish_node_metrics(&self, scrape: &NodeMetrics) {
        let exposition = lock(&self.exposition);
        if let Some(mempool) = scrape.mempool_size {
            exposition.chain.set_mempool_size(mempool);
        }
        if self.rpc.is_none() {
            if let Some(peers) = scrape.peers {
                exposition.peers.set(to_i64(peers));
            }
            if let Some(validators) = scrape.validators {
                exposition
                    .chain
                    .set_validator_counts(validators, scrape.byzantine_validators.unwrap_or(0));
            }
            if let Some(syncing) = scrape.block_syncing {
                exposition.catching_up.set(i64::from(syncing));
            }
            exposition.node_up.set(1);
        }
    }

    /// A request failed: count it, and say so unless the same failure was said lately.
    fn failed(
        &mut self,
        source: &'static str,
        error: &FetchError,
        emit: &mut dyn FnMut(Event<'_>),
    ) {
        lock(&self.exposition).count_error(error);
        if source == "metrics" && self.rpc.is_none() {
            lock(&self.exposition).node_up.set(0);
        }
        let now = Instant::now();
        let outage = self.outages.entry(source).or_insert(Outage {
            since: now,
            failures: 0,
            kind: "",
            noted: now,
        });
        outage.failures += 1;
        let changed = outage.kind != error.kind();
        if outage.failures == 1 || changed || outage.noted.elapsed() >= REPEAT_NOTE {
            let ongoing = if outage.failures > 1 {
                format!(
                    " (failing for {:.1} s, {} attempts)",
                    outage.since.elapsed().as_secs_f64(),
                    outage.failures
                )
            } else {
                String::new()
            };
            emit(Event::Note(format!(
                "warning: {error}{ongoing}; still watching, retrying every {:?}",
                self.config.poll_interval
            )));
            outage.noted = now;
            outage.kind = error.kind();
        }
    }

    /// A request to `source` succeeded: if it had been failing, say it answers again.
    fn recovered(&mut self, source: &'static str, url: &str, emit: &mut dyn FnMut(Event<'_>)) {
        if let Some(outage) = self.outages.remove(source) {
            emit(Event::Note(format!(
                "{url} answers again ({source}) after {:.1} s and {} failed attempt(s)",
                outage.since.elapsed().as_secs_f64(),
                outage.failures
            )));
        }
    }

    /// The exposition this watcher publishes into.
    pub fn exposition(&self) -> &Arc<Mutex<WatchExposition>> {
        &self.exposition
    }

    /// The monitor fed so far.
    pub fn monitor(&self) -> &PerformanceMonitor {
        &self.monitor
    }
}

/// RFC 3339 with nanoseconds and `Z`, as CometBFT writes times.
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The exposition, even if a thread panicked while holding it.
pub fn lock(exposition: &Mutex<WatchExposition>) -> MutexGuard<'_, WatchExposition> {
    exposition.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `s` seconds as a duration; negative or not finite is zero.
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or_default()
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
