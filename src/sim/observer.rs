//! The observer: the first correct validator, whose view of the chain the per-height metrics,
//! the resources and the performance monitor's samples are taken from.
//!
//! The simulator tells it when the observer's height or round moves, when a proposal reaches
//! it, and when it commits a height; it keeps the per-height records and feeds the monitor
//! through its public API on the virtual clock.

use super::SimTime;
use crate::consensus::{Height, Round, Step, ValidatorIndex, ValueId, Vote, VoteType, VotingPower};
use crate::metrics::{
    ConsensusMetrics, LatencyPercentiles, ResourceUsage, ThroughputTracker, VirtualClock,
};
use crate::monitor::{Alert, MonitorError, PerformanceMonitor, SampleUnit};
use crate::params::PerformanceTargets;
use crate::report::{FiredAlert, HeightRecord, MonitorReport};
use std::time::Duration;

/// The sliding window of the throughput and CPU the monitor sees per height: per-block rates
/// are meaningless when a catch-up commits several heights at one instant.
pub const THROUGHPUT_WINDOW: Duration = Duration::from_secs(10);
/// Heights an alert averages over before it fires or clears.
pub const ALERT_WINDOW: usize = 10;

/// What the observer saw, and the monitor it feeds.
pub(super) struct Observer {
    /// The observer's validator index.
    pub(super) index: ValidatorIndex,
    height: Height,
    height_start: SimTime,
    round_starts: Vec<SimTime>,
    proposal_at: Vec<Option<SimTime>>,
    /// When the observer entered the prevote and precommit steps of each round of its height.
    prevote_at: Vec<Option<SimTime>>,
    precommit_at: Vec<Option<SimTime>>,
    /// The votes that reached the observer, for CometBFT's vote metrics.
    votes: VoteLog,
    /// The previous committed height, round and value, whose precommits the next block's
    /// `LastCommit` holds.
    previous_decision: Option<(Height, Round, ValueId)>,
    last_commit: SimTime,
    records: Vec<HeightRecord>,
    /// Latencies (ns) of the transactions committed since the observer's last commit; exact
    /// percentiles by selection, and no histogram to clear per height.
    recent_latency: Vec<u64>,
    monitor: PerformanceMonitor,
    clock: VirtualClock,
    /// Committed transactions over the last `THROUGHPUT_WINDOW`.
    throughput: ThroughputTracker,
    /// The observer's CPU nanoseconds over the same window (a rate, like throughput).
    cpu: ThroughputTracker,
    /// Samples taken after the warm-up.
    warm_samples: usize,
    alerts: Vec<FiredAlert>,
    /// The alerts firing at the latest check.
    firing: Vec<Alert>,
    /// The counters at the previous commit, for per-height deltas.
    last: Counters,
}

/// A height the observer committed.
#[derive(Clone, Copy, Debug)]
pub(super) struct Commit {
    pub(super) height: Height,
    pub(super) round: Round,
    pub(super) value: ValueId,
    pub(super) proposer: ValidatorIndex,
    pub(super) txs: u32,
    /// Block size, bytes.
    pub(super) bytes: u32,
    /// When it decided.
    pub(super) decided: SimTime,
    /// When it finished applying the block.
    pub(super) done: SimTime,
}

/// Cumulative resource counters at a commit.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Counters {
    /// The observer's CPU time over all its cores.
    pub(super) cpu_ns: u64,
    /// Bytes received, mean over all validators (the observer's own traffic swings by design
    /// with its turn as proposer; the chain's does not).
    pub(super) mean_bytes_in: u64,
    /// Bytes sent, mean over all validators.
    pub(super) mean_bytes_out: u64,
    /// The observer's bytes written.
    pub(super) disk_bytes: u64,
    /// The observer's memory now.
    pub(super) memory_mb: u64,
    /// The observer's cores.
    pub(super) cores: u64,
    /// Transactions in the mempool now.
    pub(super) mempool_txs: u64,
    /// Transactions a full mempool refused so far.
    pub(super) dropped_txs: u64,
}

/// The votes that reached the observer, by height, kept from the previous committed height
/// on. Storage is recycled between heights: no allocation per vote or, after warm-up, per height.
#[derive(Default)]
struct VoteLog {
    /// Voting power of each validator.
    powers: Vec<VotingPower>,
    /// The heights held, in no particular order (a handful).
    heights: Vec<HeightVotes>,
    /// Cleared ones, for reuse.
    spare: Vec<HeightVotes>,
}

/// No vote in a slot of [`RoundVotes`].
const NO_VOTE: u64 = u64::MAX - 1;
/// A vote for nil in a slot of [`RoundVotes`].
const NIL: u64 = u64::MAX;

#[derive(Default)]
struct HeightVotes {
    height: Height,
    /// `rounds[..used]` are this height's; the rest are spare.
    rounds: Vec<RoundVotes>,
    used: usize,
    /// Votes received a second time.
    duplicates: u32,
}

/// The votes of one round: per validator, the first two values it prevoted and precommitted
/// (an equivocator signs two), and the prevotes' tally.
#[derive(Default)]
struct RoundVotes {
    round: Round,
    prevotes: Vec<[u64; 2]>,
    precommits: Vec<[u64; 2]>,
    tally: PrevoteTally,
}

#[derive(Clone, Copy, Default)]
struct PrevoteTally {
    power: VotingPower,
    signers: usize,
    quorum_at: Option<SimTime>,
    last_at: SimTime,
}

impl VoteLog {
    /// A vote reached the observer at `t`.
    fn received(&mut self, vote: Vote, t: SimTime) {
        let n = self.powers.len();
        let signer = usize::from(vote.validator);
        if signer >= n {
            return;
        }
        let total: VotingPower = self.powers.iter().sum();
        let power = self.powers[signer];
        let height = self.height_mut(vote.height);
        let round = height.round_mut(vote.round, n);
        let precommit = vote.vote_type == VoteType::Precommit;
        let slots = if precommit {
            &mut round.precommits[signer]
        } else {
            &mut round.prevotes[signer]
        };
        let value = vote.value.map_or(NIL, |v| v.0);
        if slots.contains(&value) {
            height.duplicates += 1;
            return;
        }
        let first = slots[0] == NO_VOTE;
        if first {
            slots[0] = value;
        } else if slots[1] == NO_VOTE {
            slots[1] = value;
        }
        if precommit || !first {
            return;
        }
        let tally = &mut round.tally;
        tally.power += power;
        tally.signers += 1;
        tally.last_at = t;
        if tally.quorum_at.is_none() && tally.power * 3 > total * 2 {
            tally.quorum_at = Some(t);
        }
    }

    fn height(&self, height: Height) -> Option<&HeightVotes> {
        self.heights.iter().find(|h| h.height == height)
    }

    fn height_mut(&mut self, height: Height) -> &mut HeightVotes {
        let i = match self.heights.iter().position(|h| h.height == height) {
            Some(i) => i,
            None => {
                let mut fresh = self.spare.pop().unwrap_or_default();
                fresh.height = height;
                fresh.used = 0;
                fresh.duplicates = 0;
                self.heights.push(fresh);
                self.heights.len() - 1
            }
        };
        &mut self.heights[i]
    }

    fn tally(&self, height: Height, round: Round) -> Option<PrevoteTally> {
        self.height(height)?.round(round).map(|r| r.tally)
    }

    fn duplicates(&self, height: Height) -> u32 {
        self.height(height).map_or(0, |h| h.duplicates)
    }

    /// The validators (and their power) without a precommit for `value` at `height`, `round`.
    fn missing(&self, height: Height, round: Round, value: ValueId) -> (u32, VotingPower) {
        let precommits = self
            .height(height)
            .and_then(|h| h.round(round))
            .map(|r| r.precommits.as_slice());
        let mut absent = (0, 0);
        for (v, &power) in self.powers.iter().enumerate() {
            if !precommits.is_some_and(|p| p[v].contains(&value.0)) {
                absent = (absent.0 + 1, absent.1 + power);
            }
        }
        absent
    }

    /// Forget heights below `height`.
    fn prune_below(&mut self, height: Height) {
        let mut i = 0;
        while i < self.heights.len() {
            if self.heights[i].height < height {
                let old = self.heights.swap_remove(i);
                self.spare.push(old);
            } else {
                i += 1;
            }
        }
    }
}

impl HeightVotes {
    fn round(&self, round: Round) -> Option<&RoundVotes> {
        self.rounds[..self.used].iter().find(|r| r.round == round)
    }

    fn round_mut(&mut self, round: Round, validators: usize) -> &mut RoundVotes {
        if let Some(i) = self.rounds[..self.used]
            .iter()
            .position(|r| r.round == round)
        {
            return &mut self.rounds[i];
        }
        if self.used == self.rounds.len() {
            self.rounds.push(RoundVotes::default());
        }
        let slot = &mut self.rounds[self.used];
        self.used += 1;
        slot.round = round;
        slot.tally = PrevoteTally::default();
        for votes in [&mut slot.prevotes, &mut slot.precommits] {
            votes.clear();
            votes.resize(validators, [NO_VOTE; 2]);
        }
        slot
    }
}

impl Observer {
    /// Observe validator `index`; alert thresholds come from `targets`.
    pub(super) fn new(
        index: ValidatorIndex,
        powers: &[VotingPower],
        targets: Option<&PerformanceTargets>,
    ) -> Result<Self, MonitorError> {
        let clock = VirtualClock::new();
        let mut monitor =
            PerformanceMonitor::with_clock(clock.clone()).with_sample_unit(SampleUnit::Height);
        monitor.set_alert_window(ALERT_WINDOW);
        if let Some(targets) = targets {
            let thresholds = [
                ("throughput", targets.target_throughput),
                ("latency", targets.max_latency.as_secs_f64()),
                ("cpu", targets.max_cpu_usage),
                ("memory", targets.max_memory_usage as f64),
            ];
            for (name, value) in thresholds {
                if value > 0.0 {
                    monitor.set_alert_threshold(name, value)?;
                }
            }
        }
        Ok(Observer {
            index,
            height: 0,
            height_start: SimTime::ZERO,
            round_starts: Vec::new(),
            proposal_at: Vec::new(),
            prevote_at: Vec::new(),
            precommit_at: Vec::new(),
            votes: VoteLog {
                powers: powers.to_vec(),
                ..VoteLog::default()
            },
            previous_decision: None,
            last_commit: SimTime::ZERO,
            records: Vec::new(),
            recent_latency: Vec::new(),
            monitor,
            throughput: ThroughputTracker::with_clock(THROUGHPUT_WINDOW, clock.clone()),
            cpu: ThroughputTracker::with_clock(THROUGHPUT_WINDOW, clock.clone()),
            clock,
            warm_samples: 0,
            alerts: Vec::new(),
            firing: Vec::new(),
            last: Counters::default(),
        })
    }

    /// The observer is at `height`, `round`, `step` after something it processed at `t`.
    pub(super) fn track(&mut self, height: Height, round: Round, step: Step, t: SimTime) {
        if height != self.height {
            self.height = height;
            self.height_start = t;
            self.round_starts.clear();
            self.proposal_at.clear();
            self.prevote_at.clear();
            self.precommit_at.clear();
        }
        while self.round_starts.len() <= round as usize {
            self.round_starts.push(t);
            self.proposal_at.push(None);
            self.prevote_at.push(None);
            self.precommit_at.push(None);
        }
        let entered = match step {
            Step::Prevote => self.prevote_at.get_mut(round as usize),
            Step::Precommit => self.precommit_at.get_mut(round as usize),
            Step::Propose | Step::Commit => None,
        };
        if let Some(slot) = entered
            && slot.is_none()
        {
            *slot = Some(t);
        }
    }

    /// A vote reached the observer at `t`.
    pub(super) fn vote_arrived(&mut self, vote: Vote, t: SimTime) {
        self.votes.received(vote, t);
    }

    /// A proposal of `height`, `round` reached the observer (and was verified) at `t`.
    pub(super) fn proposal_arrived(&mut self, height: Height, round: Round, t: SimTime) {
        if height == self.height
            && let Some(slot) = self.proposal_at.get_mut(round as usize)
            && slot.is_none()
        {
            *slot = Some(t);
        }
    }

    /// A transaction was committed `latency_ns` after it arrived.
    pub(super) fn transaction_committed(&mut self, latency_ns: u64) {
        self.recent_latency.push(latency_ns);
    }

    /// The observer committed a height: record it and feed the monitor.
    pub(super) fn committed(&mut self, commit: Commit, counters: Counters) {
        // A height decided in a catch-up cascade (several heights in one step) was never seen
        // to start: it started when the previous one was committed.
        let current = self.height == commit.height;
        let height_start = if current {
            self.height_start
        } else {
            self.last_commit
        };
        let round = commit.round as usize;
        let round_start = match self.round_starts.get(round) {
            Some(&t) if current => t,
            _ => height_start,
        };
        let proposal_at = match self.proposal_at.get(round) {
            Some(&Some(t)) if current => t,
            _ => round_start,
        };
        // Steps the observer skipped (a decision straight from the propose step) take no time.
        let step_at = |at: &[Option<SimTime>], or: SimTime| match at.get(round) {
            Some(&Some(t)) if current => t.max(round_start).min(commit.decided),
            _ => or,
        };
        let precommit_at = step_at(&self.precommit_at, commit.decided);
        let prevote_at = step_at(&self.prevote_at, precommit_at).min(precommit_at);
        // Timed from the proposal's arrival (the round's start for the observer's own, or
        // one it had buffered before the height began).
        let proposal_seen = current;
        let tally = self.votes.tally(commit.height, commit.round);
        let since_proposal = |t: SimTime| t.as_secs_f64() - proposal_at.as_secs_f64();
        let quorum_prevote_delay_s = tally
            .and_then(|t| t.quorum_at)
            .filter(|_| proposal_seen)
            .map(since_proposal);
        let full_prevote_delay_s = tally
            .filter(|t| proposal_seen && t.signers == self.votes.powers.len())
            .map(|t| since_proposal(t.last_at));
        let (missing_validators, missing_power) = match self.previous_decision {
            Some((height, round, value)) => self.votes.missing(height, round, value),
            None => (0, 0),
        };
        let duplicate_votes = self.votes.duplicates(commit.height);
        self.previous_decision = Some((commit.height, commit.round, commit.value));
        self.votes.prune_below(commit.height);
        self.last_commit = commit.done;
        let record = HeightRecord {
            height: commit.height,
            round: commit.round,
            proposer: commit.proposer,
            commit_time_s: commit.done.as_secs_f64(),
            txs: commit.txs,
            round_duration_s: (commit.done - height_start).as_secs_f64(),
            proposal_time_s: (proposal_at - round_start).as_secs_f64(),
            voting_time_s: (commit.decided - proposal_at).as_secs_f64(),
            commit_cost_s: (commit.done - commit.decided).as_secs_f64(),
            prevote_time_s: (precommit_at - prevote_at).as_secs_f64(),
            precommit_time_s: (commit.decided - precommit_at).as_secs_f64(),
            block_bytes: u64::from(commit.bytes),
            missing_validators,
            missing_power,
            quorum_prevote_delay_s,
            full_prevote_delay_s,
            duplicate_votes,
            mempool_txs: counters.mempool_txs,
            dropped_txs: counters.dropped_txs.saturating_sub(self.last.dropped_txs),
        };
        self.records.push(record);
        self.sample(&record, commit.done, counters);
    }

    /// Feed the monitor the metrics of one committed height, through its public API.
    fn sample(&mut self, record: &HeightRecord, at: SimTime, counters: Counters) {
        self.clock.set(at.as_duration());
        self.throughput.record_transactions(u64::from(record.txs));
        self.cpu
            .record_transactions(counters.cpu_ns - self.last.cpu_ns);
        // Rates over the window, or over the time so far while less than a window has passed.
        let window = THROUGHPUT_WINDOW
            .min(at.as_duration())
            .as_secs_f64()
            .max(1e-9);
        let usage = ResourceUsage {
            cpu_percent: self.cpu.transactions_in_window() as f64 / window / 1e9 * 100.0
                / counters.cores.max(1) as f64,
            memory_mb: counters.memory_mb,
            network_bytes_in: counters
                .mean_bytes_in
                .saturating_sub(self.last.mean_bytes_in),
            network_bytes_out: counters
                .mean_bytes_out
                .saturating_sub(self.last.mean_bytes_out),
            disk_io_bytes: counters.disk_bytes.saturating_sub(self.last.disk_bytes),
        };
        self.last = counters;
        let latency = exact_percentiles(&mut self.recent_latency);
        self.recent_latency.clear();
        let secs = |s: f64| Duration::from_secs_f64(s.max(0.0));
        let metrics = ConsensusMetrics {
            round_duration: secs(record.round_duration_s),
            proposal_time: secs(record.proposal_time_s),
            voting_time: secs(record.voting_time_s),
            commit_time: secs(record.commit_cost_s),
            throughput: self.throughput.transactions_in_window() as f64 / window,
            latency_percentiles: latency,
            resource_usage: usage,
        };
        self.monitor.record_round(record.height, metrics);
        // Alerts judge the mean of the last `ALERT_WINDOW` heights, all committed after a first
        // `THROUGHPUT_WINDOW` of warm-up (the first block is empty, the first window partial).
        if at.as_duration() >= THROUGHPUT_WINDOW {
            self.warm_samples += 1;
        }
        if self.warm_samples < ALERT_WINDOW {
            return;
        }
        self.firing = self.monitor.check_alerts();
        for alert in &self.firing {
            if alert.newly_fired {
                self.alerts.push(FiredAlert {
                    height: record.height,
                    at_s: at.as_secs_f64(),
                    alert: alert.clone(),
                });
            }
        }
    }

    /// The heights committed so far.
    pub(super) fn records(&self) -> &[HeightRecord] {
        &self.records
    }

    /// The monitor it feeds.
    pub(super) fn monitor(&self) -> &PerformanceMonitor {
        &self.monitor
    }

    /// The alerts firing at the latest committed height; empty before the warm-up is over.
    pub(super) fn firing(&self) -> &[Alert] {
        &self.firing
    }

    /// The monitor's findings over a run of `duration`.
    pub(super) fn monitor_report(&self, duration: Duration) -> MonitorReport {
        MonitorReport {
            anomalies: self.monitor.anomaly_history().cloned().collect(),
            alerts: self.alerts.clone(),
            trend: self.monitor.calculate_trend(duration),
        }
    }
}

/// Exact nearest-rank percentiles of `xs` (reordered in place), by selection.
fn exact_percentiles(xs: &mut [u64]) -> LatencyPercentiles {
    if xs.is_empty() {
        return LatencyPercentiles::default();
    }
    let mut at = |p: f64| {
        let rank = ((p * xs.len() as f64).ceil() as usize).clamp(1, xs.len()) - 1;
        Duration::from_nanos(*xs.select_nth_unstable(rank).1)
    };
    LatencyPercentiles {
        p50: at(0.5),
        p90: at(0.9),
        p95: at(0.95),
        p99: at(0.99),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_percentiles_are_nearest_rank() {
        let mut xs: Vec<u64> = (1..=200).rev().collect();
        let p = exact_percentiles(&mut xs);
        assert_eq!(
            [p.p50, p.p90, p.p95, p.p99].map(|d| d.as_nanos()),
            [100, 180, 190, 198]
        );
        assert_eq!(exact_percentiles(&mut []), LatencyPercentiles::default());
    }

    #[test]
    fn a_cascade_height_starts_at_the_previous_commit() {
        let mut o = Observer::new(0, &[1; 4], None).unwrap();
        o.track(1, 0, Step::Propose, SimTime::ZERO);
        let commit = |height, decided: u64| Commit {
            height,
            round: 0,
            value: ValueId(height),
            proposer: 1,
            txs: 0,
            bytes: 0,
            decided: SimTime::from_millis(decided),
            done: SimTime::from_millis(decided),
        };
        o.committed(commit(1, 300), Counters::default());
        // Heights 2 and 3 decide together at 5 s without the observer seeing them start.
        o.committed(commit(2, 5_000), Counters::default());
        o.committed(commit(3, 5_000), Counters::default());
        let took: Vec<f64> = o.records().iter().map(|r| r.round_duration_s).collect();
        assert_eq!(took, vec![0.3, 4.7, 0.0]);
    }
}
