//! The event loop: validators running the consensus core over the simulated network, in virtual
//! time, from one seed.
//!
//! Each validator is a pure `ConsensusState`; this module feeds it deliveries and timer firings,
//! carries out its outputs (broadcasts over the network, timers, block building), applies the
//! Byzantine behaviours to what faulty validators send, charges processing costs, checks the
//! safety invariants at every decision, and measures the observer's view.

mod byzantine;
mod catchup;
mod mempool;
mod p2p;
mod spread;

use super::gossip::Gossip;
use super::observer::{Commit, Counters, Observer};
use super::prefetch;
use super::queue::{Event, EventQueue};
use super::rng::{self, Stream};
use super::trace::TraceHash;
use super::{SimRng, SimTime};
use crate::check::SafetyChecker;
use crate::config::{AppSpec, ByzantineBehavior, ConfigError, GossipModel, Scenario};
use crate::consensus::proposer::ProposerSchedule;
use crate::consensus::state_machine::{Config, ConsensusState, Context, Input, Output};
use crate::consensus::{
    Height, Message, Round, Step, TimeoutKind, ValidatorIndex, ValidatorSet, ValueId, Vote,
    VoteType, VotingPower,
};
use crate::monitor::{Alert, PerformanceMonitor};
use crate::net::Network;
use crate::params::{OptimizationParameters, PerformanceTargets};
use crate::report::{
    FiredAlert, HeightRecord, LatencyBucket, Quantiles, Resources, Rounds, RunReport, Safety,
    Summary, target_criteria,
};
use crate::sim::time::saturating_nanos;
use crate::workload::{BlockContent, Costs, Mempool, Work, extension_tx_bytes};
use catchup::Decisions;
use hdrhistogram::Histogram;
use mempool::MempoolGossip;
use p2p::P2pState;
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, VecDeque};
use std::io::Write as _;
use std::time::Duration;

/// Bytes of a signed vote on the wire (CometBFT's vote with signature and extension-free).
pub const VOTE_BYTES: u32 = 150;
/// Bytes of a proposal message beyond its block.
pub const PROPOSAL_OVERHEAD_BYTES: u32 = 200;
/// The least virtual time between a validator's starts of two heights, whatever
/// `block_interval`, latency and costs are. CometBFT block times grow by at least 1 ms a height
/// (BFT time's `timeIota`) and a proposer waits until its clock passes the previous block's
/// time (PBTS), so no chain runs faster; without a floor a validator holding a quorum alone
/// with `block_interval: 0s` would decide endlessly at one instant.
pub const MIN_HEIGHT_TIME: Duration = Duration::from_millis(1);
/// How far ahead [`Simulation::prefetch_ahead`] hints a receiver's record, its newest round's
/// record and a vote's bitmap word, as [`EventQueue::delivery_ahead`] counts (0 is the next
/// event). Each stage needs the line the one before asked for. Distances from 8/4/2 to
/// 32/16/6 ran alike at 1,000 validators (README Speed).
const PREFETCH_NODE: usize = 16;
const PREFETCH_ROUND: usize = 8;
const PREFETCH_FLAGS: usize = 3;
/// [`Simulation::run_to_end_with`] shows its progress callback the run this often, in events
/// (a few milliseconds of a release build's time).
pub const PROGRESS_EVENTS: u64 = 1 << 14;

/// Run `scenario` with master seed `seed` to the end and report.
pub fn run(scenario: &Scenario, seed: u64) -> Result<RunReport, ConfigError> {
    Ok(Simulation::new(scenario, seed)?.run())
}

/// One simulation, built from a validated scenario and a seed.
pub struct Simulation {
    scenario_name: String,
    /// The scenario's targets, judged on the report.
    targets: Option<PerformanceTargets>,
    seed: u64,
    end: SimTime,
    params: OptimizationParameters,
    validators: ValidatorSet,
    schedule: ProposerSchedule,
    /// Validators first (`0..validator_count`), then full nodes (`gossip: cometbft`).
    nodes: Vec<Node>,
    /// `behaviors[v]`: node `v`'s behaviour, as in its `Node` (fixed for the run), one byte
    /// each: a broadcast asks every destination whether it is silent and a delivery asks
    /// whether the signer is correct, and here that reads no line of another `Node`.
    behaviors: Vec<Option<ByzantineBehavior>>,
    validator_count: usize,
    /// Whether a delivery gives the cache hints of [`Simulation::prefetch_ahead`]: always, but
    /// for the test that checks that they change nothing.
    prefetch: bool,
    /// CometBFT's gossip layer, when `network.gossip` is `cometbft`.
    p2p: Option<Box<P2pState>>,
    /// The mempool reactor's traffic over the gossip layer's connections.
    txg: Option<Box<MempoolGossip>>,
    /// The first correct validator: per-height records, resources, the monitor.
    observer: Observer,
    byzantine: Vec<ValidatorIndex>,
    behavior: Option<ByzantineBehavior>,
    byzantine_delay: u64,
    /// For equivocation: true for the validators that receive the second of two values.
    second_side: Vec<bool>,
    /// Values proposed by equivocating proposers: (height, round) → (first, second).
    splits: BTreeMap<(Height, Round), (ValueId, ValueId)>,
    net: Network,
    net_rng: SimRng,
    queue: EventQueue,
    arena: Arena,
    /// Block gossip, used when links have a finite bandwidth.
    gossip: Gossip,
    /// Arena indices of spreads that just ended (scratch).
    released: Vec<u32>,
    blocks: Vec<Block>,
    mempool: Mempool,
    costs: Costs,
    /// The application's ABCI behaviour (`app:`): vote extensions from which height.
    app: AppSpec,
    base_memory_mb: u64,
    tx_size: u64,
    checker: SafetyChecker,
    /// `certificate_sent[v * n + p]`: the highest height `v` sent `p` a commit certificate for.
    certificate_sent: Vec<Height>,
    /// `catch_up_due[v * n + p]`: the highest height `v` has a deferred certificate for `p`
    /// scheduled for ([`Event::CatchUp`]).
    catch_up_due: Vec<Height>,
    trace: TraceHash,
    events: u64,
    /// Where every processed event is written as a JSON line, if anywhere.
    event_log: Option<Box<dyn std::io::Write + Send>>,
    /// The first error writing the event log (the log stops there; the run goes on).
    event_log_error: Option<String>,
    started: bool,
    now: SimTime,
    inputs: VecDeque<Input>,
    outputs: Vec<Output>,
    /// A broadcast's deliveries, `(when, to)`, between drawing them and queueing them
    /// (`send_to`), kept for its buffer.
    sends: Vec<(SimTime, u16)>,
    tx_latency: Histogram<u64>,
    /// Latency as CometBFT's QA measures it (`test/loadtime/report`): arrival to the timestamp of
    /// the next block, BFT time, the power-weighted median of the precommit times of the height
    /// that committed the transaction (`types.MedianTime` of the next block's LastCommit).
    tx_latency_bft: Histogram<u64>,
    /// When each correct validator signed its precommit: (height, round, time, power), for the
    /// heights not yet committed.
    precommit_times: Vec<(Height, Round, SimTime, u64)>,
    transactions_committed: u64,
}

/// One validator: its consensus state, what it is, and what it has used.
struct Node {
    state: ConsensusState,
    behavior: Option<ByzantineBehavior>,
    busy_until: SimTime,
    cpu_ns: u64,
    bytes_in: u64,
    bytes_out: u64,
    disk_bytes: u64,
    /// What this validator decided at its latest `DECISIONS_KEPT` heights.
    decisions: Decisions,
    /// The values of the last proposals it received or made (a ring), so a commit certificate
    /// sent to it carries the block only when it lacks it.
    seen: [Option<ValueId>; SEEN_KEPT],
    seen_next: usize,
    /// The earliest time it may start its next height ([`MIN_HEIGHT_TIME`] after this one).
    next_height_at: SimTime,
    /// When it last decided (CometBFT's CommitTime: the next height starts `block_interval`
    /// after it, or when execution ends, whichever is later).
    decided_at: SimTime,
    /// When the latest-due of the timers it has scheduled fires.
    timer_due: SimTime,
}

/// What one validator is doing at the current virtual time ([`Simulation::validator_status`]):
/// for tests and diagnosis of stalls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidatorStatus {
    /// Whether it follows the protocol (no Byzantine behaviour).
    pub correct: bool,
    /// The height it is deciding (or has decided and waits `block_interval` after).
    pub height: Height,
    /// Its round at that height.
    pub round: Round,
    /// Its step in that round.
    pub step: Step,
    /// The highest height it has decided (0 before its first decision).
    pub decided: Height,
    /// When the latest-due of the timers it scheduled fires (or fired): before now, it has no
    /// timer pending and moves only when messages arrive.
    pub timer_due: SimTime,
}

/// Proposed values a validator remembers having seen.
const SEEN_KEPT: usize = 8;

impl Node {
    fn is_correct(&self) -> bool {
        self.behavior.is_none()
    }

    fn is_silent(&self) -> bool {
        self.behavior == Some(ByzantineBehavior::Silent)
    }

    /// Remember having seen a proposal of `value`.
    fn saw(&mut self, value: ValueId) {
        if !self.has_seen(value) {
            self.seen[self.seen_next] = Some(value);
            self.seen_next = (self.seen_next + 1) % SEEN_KEPT;
        }
    }

    /// Whether a proposal of `value` reached it lately.
    fn has_seen(&self, value: ValueId) -> bool {
        self.seen.contains(&Some(value))
    }

    /// Occupy the validator with `work` starting no earlier than `t`; returns when it is done.
    fn charge(&mut self, t: SimTime, work: Work) -> SimTime {
        let start = t.max(self.busy_until);
        self.busy_until = start.plus_nanos(work.elapsed_ns);
        self.cpu_ns = self.cpu_ns.saturating_add(work.cpu_ns);
        self.busy_until
    }
}

/// A proposed block: who proposed it where, and what it carries.
#[derive(Clone, Copy, Debug)]
struct Block {
    height: Height,
    proposer: ValidatorIndex,
    content: BlockContent,
}

/// What travels between validators: consensus messages, and commit certificates that a
/// validator ahead sends to one that fell behind (CometBFT's catch-up commit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Envelope {
    Consensus(Message),
    /// A proposal spread by block gossip (`spread` is its id in `Gossip`).
    Gossip {
        message: Message,
        spread: u32,
    },
    Certificate {
        height: Height,
        round: Round,
        value: ValueId,
        /// Whether the block travels too (the peer has not seen a proposal of it).
        with_block: bool,
    },
    /// A vote or a proposal relayed on gossip-layer connection `conn`.
    Relay {
        message: Message,
        conn: u32,
    },
    /// The votes one wake of a gossip routine wrote to connection `conn` (one flush), stored
    /// in the gossip layer's batch `batch`.
    Votes {
        batch: u32,
        conn: u32,
    },
    /// Part `index` of block `value` on gossip-layer connection `conn`.
    Part {
        value: ValueId,
        index: u16,
        conn: u32,
    },
    /// A `delay` validator's proposal, delivered to itself when the delay is over: block
    /// gossip starts from there.
    Held(Message),
    /// The transactions one flush of connection `conn` carried (the mempool reactor's batch
    /// `batch`).
    Txs {
        conn: u32,
        batch: u32,
    },
    /// Entry node `entry` (an index into the entry nodes) admits the client transactions that
    /// arrived since its last admission.
    TxAdmit {
        entry: u32,
    },
}

/// Messages in flight, stored once and referred to by index from delivery events.
#[derive(Default)]
struct Arena {
    slots: Vec<(Envelope, u32)>,
    free: Vec<u32>,
}

impl Arena {
    fn alloc(&mut self, msg: Envelope, refs: u32) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = (msg, refs);
                id
            }
            None => {
                self.slots.push((msg, refs));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// The message at `id`, if any, without taking it (for cache hints).
    #[inline(always)]
    fn peek(&self, id: u32) -> Option<Envelope> {
        self.slots.get(id as usize).map(|slot| slot.0)
    }

    /// The message, dropping one reference (the slot is reused once none are left).
    fn take(&mut self, id: u32) -> Envelope {
        let slot = &mut self.slots[id as usize];
        slot.1 -= 1;
        if slot.1 == 0 {
            self.free.push(id);
        }
        slot.0
    }

    /// Replace the envelope stored at `id`.
    fn set(&mut self, id: u32, envelope: Envelope) {
        self.slots[id as usize].0 = envelope;
    }

    /// One more reference to `id` (a copy scheduled for delivery).
    fn add_ref(&mut self, id: u32) {
        self.slots[id as usize].1 += 1;
    }

    /// Drop references that were reserved but never scheduled.
    fn release(&mut self, id: u32, unused: u32) {
        let slot = &mut self.slots[id as usize];
        slot.1 -= unused;
        if slot.1 == 0 {
            self.free.push(id);
        }
    }
}

/// Read-only view the consensus core consults.
struct Ctx<'a> {
    validators: &'a ValidatorSet,
    schedule: &'a ProposerSchedule,
}

impl Context for Ctx<'_> {
    fn validators(&self) -> &ValidatorSet {
        self.validators
    }

    fn proposer(&self, height: Height, round: Round) -> ValidatorIndex {
        self.schedule.proposer(height, round)
    }
}

impl Simulation {
    /// Build the simulation of `scenario` from master seed `seed`. The scenario is validated
    /// (as a parsed file already is): one built in code gets the same errors, never a panic.
    pub fn new(scenario: &Scenario, seed: u64) -> Result<Self, ConfigError> {
        crate::config::validate(scenario)?;
        let err = |field: &str, message: String| ConfigError {
            origin: scenario.name.clone(),
            field: Some(field.to_string()),
            location: None,
            message,
        };
        let validator_count = scenario.validators.count as usize;
        let cometbft = scenario.network.gossip == GossipModel::Cometbft;
        let n = match cometbft {
            true => validator_count + scenario.network.full_nodes as usize,
            false => validator_count,
        };
        let powers = scenario
            .validators
            .voting_power
            .clone()
            .unwrap_or_else(|| vec![1; validator_count]);
        let validators = ValidatorSet::new(powers);
        let schedule = ProposerSchedule::new(validators.powers());

        let (byzantine, behavior, byzantine_delay) = match &scenario.byzantine {
            None => (Vec::new(), None, 0),
            Some(b) => {
                let chosen = match (&b.validators, b.count, b.ratio) {
                    (Some(list), _, _) => list.clone(),
                    (None, count, ratio) => {
                        let k = match (count, ratio) {
                            (Some(c), _) => c as usize,
                            (None, Some(r)) => (r * n as f64).floor() as usize,
                            (None, None) => 0,
                        };
                        let mut ids: Vec<ValidatorIndex> = (0..validator_count as u16).collect();
                        ids.shuffle(&mut rng::stream(seed, Stream::ByzantineSelection));
                        ids.truncate(k.min(validator_count));
                        ids
                    }
                };
                let mut chosen = chosen;
                chosen.sort_unstable();
                chosen.dedup();
                (chosen, Some(b.behavior), saturating_nanos(b.delay))
            }
        };

        let nodes: Vec<Node> = (0..n as u16)
            .map(|i| {
                let node_behavior = if byzantine.contains(&i) {
                    behavior
                } else {
                    None
                };
                let config = Config {
                    ignore_lock: node_behavior == Some(ByzantineBehavior::Amnesia),
                    non_validator: usize::from(i) >= validator_count,
                };
                Node {
                    state: ConsensusState::new(i, config),
                    behavior: node_behavior,
                    busy_until: SimTime::ZERO,
                    cpu_ns: 0,
                    bytes_in: 0,
                    bytes_out: 0,
                    disk_bytes: 0,
                    decisions: Decisions::default(),
                    seen: [None; SEEN_KEPT],
                    seen_next: 0,
                    next_height_at: SimTime::from_duration(MIN_HEIGHT_TIME),
                    decided_at: SimTime::ZERO,
                    timer_due: SimTime::ZERO,
                }
            })
            .collect();
        let observer_index = nodes.iter().position(Node::is_correct).unwrap_or(0) as ValidatorIndex;

        // Equivocators show one value to one half of the correct validators' power (and to
        // themselves) and another to the other half.
        let correct: Vec<(usize, VotingPower)> = (0..validator_count)
            .filter(|&i| nodes[i].is_correct())
            .map(|i| (i, validators.power(i as ValidatorIndex)))
            .collect();
        let mut second_side = vec![false; validator_count];
        for i in byzantine::split_by_power(&correct) {
            second_side[i] = true;
        }

        let net = Network::new(
            &scenario.network,
            n,
            &mut rng::stream(seed, Stream::Topology),
        )
        .map_err(|e| err("network", e.0))?;
        let model = scenario.costs.model();
        let params = scenario.parameters.clone();
        let costs = Costs::new(&model, params.batch_size, params.parallel_verification)
            .with_app(&scenario.app);
        let silent: Vec<bool> = nodes.iter().map(Node::is_silent).collect();
        let p2p = cometbft.then(|| {
            Box::new(P2pState::new(
                scenario,
                n,
                validator_count,
                &silent,
                &net,
                seed,
            ))
        });
        let txg = p2p
            .as_ref()
            .map(|p2p| Box::new(MempoolGossip::new(p2p, scenario.load.tx_size)));
        let mempool_capacity = match &p2p {
            // Each entry node's mempool holds `mempool.size` (and `max_txs_bytes`).
            Some(p2p) => {
                let by_bytes =
                    scenario.load.mempool.max_txs_bytes / u64::from(scenario.load.tx_size.max(1));
                (u64::from(scenario.load.mempool.size).min(by_bytes) as usize)
                    .saturating_mul(p2p.entries.len())
            }
            None => scenario.load.mempool.size as usize,
        };
        let mempool = Mempool::new(
            scenario.load.transaction_rate,
            scenario.load.tx_size,
            mempool_capacity,
            rng::stream(seed, Stream::Workload),
        );
        let mempool = match scenario.load.send_period {
            Some(period) => mempool.with_batches(period, SimTime::from_duration(scenario.duration)),
            None => mempool,
        };
        let tx_latency = Histogram::new_with_bounds(1, 1_000_000_000_000_000, 3)
            .map_err(|e| err("load", format!("latency histogram: {e}")))?;
        let observer = Observer::new(
            observer_index,
            validators.powers(),
            scenario.targets.as_ref(),
        )
        .map_err(|e| err("targets", e.to_string()))?;

        let checker = SafetyChecker::new(validators.clone(), correct.len());
        Ok(Simulation {
            scenario_name: scenario.name.clone(),
            targets: scenario.targets.clone(),
            seed,
            end: SimTime::from_duration(scenario.duration),
            params,
            validators,
            schedule,
            behaviors: nodes.iter().map(|node| node.behavior).collect(),
            prefetch: true,
            nodes,
            validator_count,
            p2p,
            txg,
            observer,
            byzantine,
            behavior,
            byzantine_delay,
            second_side,
            splits: BTreeMap::new(),
            net,
            net_rng: rng::stream(seed, Stream::Network),
            queue: EventQueue::new(),
            arena: Arena::default(),
            gossip: Gossip::new(n),
            released: Vec::new(),
            blocks: Vec::new(),
            mempool,
            costs,
            app: scenario.app.clone(),
            base_memory_mb: model.base_memory_mb,
            tx_size: u64::from(scenario.load.tx_size),
            checker,
            certificate_sent: if cometbft { Vec::new() } else { vec![0; n * n] },
            catch_up_due: if cometbft { Vec::new() } else { vec![0; n * n] },
            trace: TraceHash::default(),
            events: 0,
            event_log: None,
            event_log_error: None,
            started: false,
            now: SimTime::ZERO,
            inputs: VecDeque::new(),
            outputs: Vec::new(),
            sends: Vec::new(),
            tx_latency: tx_latency.clone(),
            tx_latency_bft: tx_latency,
            precommit_times: Vec::new(),
            transactions_committed: 0,
        })
    }

    /// Run to the scenario's end and report.
    pub fn run(mut self) -> RunReport {
        self.run_to_end()
    }

    /// Start, run to the scenario's end and report, keeping the simulation to inspect after
    /// (its [`Self::firing_alerts`], its [`Self::monitor`]).
    pub fn run_to_end(&mut self) -> RunReport {
        self.run_to_end_with(&mut |_| {})
    }

    /// [`Self::run_to_end`], showing the simulation to `progress` every `PROGRESS_EVENTS`
    /// events (`ccperf run`'s progress lines). It gets a shared reference: what it does cannot
    /// change the run.
    pub fn run_to_end_with(&mut self, progress: &mut dyn FnMut(&Simulation)) -> RunReport {
        // The report's one non-deterministic field: how long the run took on this machine.
        // The wall clock is read here, around the event loop, never inside it.
        let wall_clock_start = std::time::Instant::now();
        self.start();
        while self.step() {
            if self.events.is_multiple_of(PROGRESS_EVENTS) {
                progress(self);
            }
        }
        let mut report = self.report();
        report.wall_time_s = wall_clock_start.elapsed().as_secs_f64();
        report
    }

    /// Take the per-height records, resources and monitor samples from validator `v` instead
    /// of the first correct one. Only before the run starts, and only a correct validator
    /// (a Byzantine one's view is not the chain's).
    pub fn observe(&mut self, v: ValidatorIndex) -> Result<(), ConfigError> {
        let refuse = |message: String| ConfigError {
            origin: self.scenario_name.clone(),
            field: Some("observer".to_string()),
            location: None,
            message,
        };
        let Some(node) = self.nodes[..self.validator_count].get(usize::from(v)) else {
            return Err(refuse(format!(
                "validator {v} does not exist ({} validators)",
                self.validator_count
            )));
        };
        if !node.is_correct() {
            return Err(refuse(format!(
                "validator {v} is Byzantine ({}); observe a correct one",
                self.behavior.map_or("?", ByzantineBehavior::as_str)
            )));
        }
        if self.started {
            return Err(refuse(
                "the observer is chosen before the run starts".to_string(),
            ));
        }
        self.observer.index = v;
        Ok(())
    }

    /// Write every processed event to `sink` as one JSON line:
    /// `{"t_ns", "event": "deliver" | "certificate" | "serve" | "timeout", ...}`.
    pub fn log_events(&mut self, sink: Box<dyn std::io::Write + Send>) {
        self.event_log = Some(sink);
    }

    /// The error that stopped the event log, if one did; flushes it otherwise.
    pub fn finish_event_log(&mut self) -> Option<String> {
        if let Some(log) = &mut self.event_log
            && let Err(e) = log.flush()
        {
            self.event_log_error.get_or_insert(e.to_string());
        }
        self.event_log = None;
        self.event_log_error.clone()
    }

    /// Write one line to the event log, if there is one; `line` only runs when there is.
    fn log(&mut self, line: impl FnOnce() -> String) {
        if let Some(log) = &mut self.event_log
            && let Err(e) = writeln!(log, "{}", line())
        {
            self.event_log_error = Some(e.to_string());
            self.event_log = None;
        }
    }

    /// Start every validator that is not silent at height 1.
    pub fn start(&mut self) {
        self.started = true;
        for v in 0..self.nodes.len() as u16 {
            if !self.nodes[usize::from(v)].is_silent() {
                self.feed(v, Input::StartHeight(1), SimTime::ZERO);
            }
        }
        self.txg_start();
    }

    /// Cache hints for the deliveries after this one, in three stages along the chain of
    /// reads a vote's delivery makes at its receiver: the receiver's record
    /// ([`PREFETCH_NODE`] places ahead), its newest round's record ([`PREFETCH_ROUND`]) and the
    /// bitmap word of the vote's signer ([`PREFETCH_FLAGS`]). Each stage reads only lines an
    /// earlier stage asked for, so it seldom waits on memory itself. Only hints
    /// (`sim::prefetch`): nothing is changed, and the run is the same event for event.
    #[inline(always)]
    fn prefetch_ahead(&self) {
        if let Some((to, _)) = self.queue.delivery_ahead(PREFETCH_NODE)
            && let Some(node) = self.nodes.get(usize::from(to))
        {
            // The receiver's counters and its vote keeper, lines apart in its record.
            prefetch::prefetch(node);
            prefetch::prefetch(&node.bytes_in);
            prefetch::prefetch(node.state.votes().round_list());
        }
        if let Some((to, _)) = self.queue.delivery_ahead(PREFETCH_ROUND)
            && let Some(round) = self
                .nodes
                .get(usize::from(to))
                .and_then(|node| node.state.votes().newest_round())
        {
            prefetch::prefetch(round);
        }
        if let Some((to, msg)) = self.queue.delivery_ahead(PREFETCH_FLAGS)
            && let Some(Envelope::Consensus(Message::Vote(vote))) = self.arena.peek(msg)
            && let Some(flags) = self
                .nodes
                .get(usize::from(to))
                .and_then(|node| node.state.votes().newest_flags(vote.validator))
        {
            prefetch::prefetch(flags);
        }
    }

    /// Process the next event; false when the run is over.
    pub fn step(&mut self) -> bool {
        let Some((t, event)) = self.queue.pop_until(self.end) else {
            return false;
        };
        self.now = t;
        self.events += 1;
        match event {
            Event::Deliver { to, msg } => {
                if self.prefetch {
                    self.prefetch_ahead();
                }
                let envelope = self.arena.take(msg);
                self.trace.mix(t.as_nanos() ^ (u64::from(to) << 48));
                // The event log's line (`--events`); without a log, none of it is built.
                if self.event_log.is_some() {
                    let votes_json = match envelope {
                        Envelope::Votes { batch, .. } => {
                            serde_json::to_string(&self.p2p_batch(batch)).unwrap_or_default()
                        }
                        _ => String::new(),
                    };
                    let batch_txs = match envelope {
                        Envelope::Txs { batch, .. } => {
                            self.txg.as_ref().map_or(0, |g| g.state.batch(batch).txs)
                        }
                        _ => 0,
                    };
                    self.log(|| {
                        let what = match envelope {
                            Envelope::Consensus(m) | Envelope::Gossip { message: m, .. } => {
                                format!("\"deliver\",\"message\":{}", serde_json::to_string(&m).unwrap_or_default())
                            }
                            Envelope::Certificate { height, round, value, with_block } => format!(
                                "\"certificate\",\"height\":{height},\"round\":{round},\"value\":{},\"with_block\":{with_block}",
                                value.0
                            ),
                            Envelope::Relay { message: m, conn } => {
                                format!("\"relay\",\"conn\":{conn},\"message\":{}", serde_json::to_string(&m).unwrap_or_default())
                            }
                            Envelope::Part { value, index, conn } => format!(
                                "\"part\",\"conn\":{conn},\"value\":{},\"index\":{index}",
                                value.0
                            ),
                            Envelope::Votes { conn, .. } => {
                                format!("\"votes\",\"conn\":{conn},\"votes\":{votes_json}")
                            }
                            Envelope::Held(m) => {
                                format!("\"release\",\"message\":{}", serde_json::to_string(&m).unwrap_or_default())
                            }
                            Envelope::Txs { conn, .. } => {
                                format!("\"txs\",\"conn\":{conn},\"txs\":{batch_txs}")
                            }
                            Envelope::TxAdmit { entry } => format!("\"admit\",\"entry\":{entry}"),
                        };
                        format!("{{\"t_ns\":{},\"event\":{what},\"to\":{to}}}", t.as_nanos())
                    });
                }
                match envelope {
                    Envelope::Consensus(message) => {
                        self.trace.mix(message_word(&message));
                        self.deliver(to, message, t);
                    }
                    Envelope::Held(message) => {
                        self.trace.mix(message_word(&message) ^ 0x5);
                        self.spread(to, message, t, |_| true);
                    }
                    Envelope::Gossip { message, spread } => {
                        self.trace.mix(message_word(&message));
                        self.gossip.arrived(spread, to, &mut self.released);
                        self.release_spreads();
                        self.schedule_serve(to, t);
                        self.deliver(to, message, t);
                    }
                    certificate @ Envelope::Certificate {
                        height,
                        round,
                        value,
                        ..
                    } => {
                        self.trace
                            .mix(height << 32 ^ u64::from(round) << 8 ^ value.0 << 40 ^ 0x7);
                        if self.p2p.is_some() {
                            self.p2p_deliver(to, certificate, t);
                        } else {
                            self.deliver_certificate(to, certificate, t);
                        }
                    }
                    relay @ Envelope::Relay { message, conn } => {
                        self.trace
                            .mix(message_word(&message) ^ u64::from(conn) << 20);
                        self.p2p_deliver(to, relay, t);
                    }
                    votes @ Envelope::Votes { conn, .. } => {
                        self.trace.mix(u64::from(conn) << 20 ^ 0xb);
                        self.p2p_deliver(to, votes, t);
                    }
                    Envelope::Txs { conn, batch } => {
                        self.trace.mix(u64::from(conn) << 20 ^ 0xd);
                        self.txg_deliver(to, conn, batch, t);
                    }
                    Envelope::TxAdmit { entry } => {
                        self.trace.mix(u64::from(entry) << 20 ^ 0xe);
                        self.txg_admit(to, entry, t);
                    }
                    part @ Envelope::Part { value, index, conn } => {
                        self.trace
                            .mix(value.0 << 32 ^ u64::from(index) << 16 ^ u64::from(conn) ^ 0x9);
                        self.p2p_deliver(to, part, t);
                    }
                }
            }
            Event::Wake { node } => {
                self.log(|| {
                    format!(
                        "{{\"t_ns\":{},\"event\":\"wake\",\"node\":{node}}}",
                        t.as_nanos()
                    )
                });
                self.trace
                    .mix(t.as_nanos() ^ (u64::from(node) << 48) ^ (1 << 45));
                self.p2p_wake(node, t);
            }
            Event::Serve { validator } => {
                self.log(|| {
                    format!(
                        "{{\"t_ns\":{},\"event\":\"serve\",\"validator\":{validator}}}",
                        t.as_nanos()
                    )
                });
                self.trace
                    .mix(t.as_nanos() ^ (u64::from(validator) << 48) ^ (1 << 46));
                self.serve(validator, t);
            }
            Event::CatchUp { validator, peer } => {
                self.log(|| {
                    format!(
                        "{{\"t_ns\":{},\"event\":\"catch_up\",\"validator\":{validator},\"peer\":{peer}}}",
                        t.as_nanos()
                    )
                });
                self.trace
                    .mix(t.as_nanos() ^ (u64::from(validator) << 48) ^ u64::from(peer) << 32 ^ 0xc);
                let height = self.nodes[usize::from(peer)].state.height();
                self.send_certificate(validator, peer, height, t);
            }
            Event::Timeout {
                validator,
                kind,
                round,
                height,
            } => {
                self.log(|| {
                    format!(
                        "{{\"t_ns\":{},\"event\":\"timeout\",\"validator\":{validator},\"kind\":{},\"height\":{height},\"round\":{round}}}",
                        t.as_nanos(),
                        serde_json::to_string(&kind).unwrap_or_default()
                    )
                });
                self.trace
                    .mix(t.as_nanos() ^ (u64::from(validator) << 48) ^ (1 << 47));
                self.trace
                    .mix(height << 24 ^ u64::from(round) << 4 ^ kind as u64);
                let node = &self.nodes[usize::from(validator)];
                let at = t.max(node.busy_until);
                self.feed(
                    validator,
                    Input::Timeout {
                        kind,
                        height,
                        round,
                    },
                    at,
                );
            }
        }
        true
    }

    /// Virtual time of the last processed event.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Virtual time the run ends at (the scenario's `duration`).
    pub fn end_time(&self) -> SimTime {
        self.end
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Virtual time of the next event, if any is queued (it may lie past the scenario's end,
    /// where [`Self::step`] stops). Lets a caller pace the run against another clock.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// Events queued now: the run's pending work (bounded: tests watch it on runaway cases).
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }

    /// What validator (or full node) `v` is doing now; `None` when it does not exist.
    pub fn validator_status(&self, v: ValidatorIndex) -> Option<ValidatorStatus> {
        let node = self.nodes.get(usize::from(v))?;
        Some(ValidatorStatus {
            correct: node.is_correct(),
            height: node.state.height(),
            round: node.state.round(),
            step: node.state.step(),
            decided: node.decisions.last_height(),
            timer_due: node.timer_due,
        })
    }

    /// The most hops a message between two validators takes at `t`: relays through the peer
    /// graph with `gossip: cometbft` (its diameter over the validators and the full nodes
    /// between them), links of the topology with `direct`. `None` when a partition active at
    /// `t` cuts some pair of validators apart.
    pub fn relay_hops(&self, t: SimTime) -> Option<u32> {
        let n = self.validator_count as u16;
        let mut most = 0;
        for a in 0..n {
            for b in 0..n {
                if a != b && !self.net.is_connected_at(a, b, t) {
                    return None;
                }
            }
            match &self.p2p {
                Some(p2p) => {
                    let hops = p2p.graph.hops_from(a);
                    let farthest = hops[..usize::from(n)].iter().copied().max().unwrap_or(0);
                    if farthest == u32::MAX {
                        return None;
                    }
                    most = most.max(farthest);
                }
                None => {
                    for b in (0..n).filter(|&b| b != a) {
                        most = most.max(u32::from(self.net.hops_at(a, b, t)?));
                    }
                }
            }
        }
        Some(most)
    }

    /// Messages of later heights the validators hold until they reach those heights.
    pub fn buffered_messages(&self) -> usize {
        self.nodes.iter().map(|n| n.state.buffered()).sum()
    }

    // A delivery runs `step` -> `deliver` -> `consume` -> `feed` -> `ConsensusState::apply` ->
    // `on_message` once per event: each call of that chain saved and restored registers and
    // moved its arguments through memory (about 15 % of the instructions of a 100-validator
    // run), so the chain is inlined into `step` (callgrind, bench's 100 validators 10 s, seed
    // 1: 187.8 M -> 157.4 M instructions with `Network::send` and `EventQueue::push`).
    #[inline(always)]
    fn deliver(&mut self, to: ValidatorIndex, message: Message, t: SimTime) {
        let size = self.message_size(&message);
        let node = &mut self.nodes[usize::from(to)];
        node.bytes_in += u64::from(size);
        node.disk_bytes += u64::from(size); // WAL
        let (done, behind) = self.consume(to, message, t);
        if behind {
            self.send_certificate(to, message.sender(), message.height(), done);
        }
        if !self.splits.is_empty() {
            self.relay_split_vote(to, message, done);
        }
    }

    /// Verify `message` at `to` and hand it to consensus; returns when verified and whether
    /// it came from a height `to` has left behind. Inlined (see `deliver`).
    #[inline(always)]
    fn consume(&mut self, to: ValidatorIndex, message: Message, t: SimTime) -> (SimTime, bool) {
        let (work, input) = match message {
            Message::Vote(vote) => {
                // A correct signer's vote was filed when it was signed (`broadcast`) and a
                // correct signer signs one vote per height, round and type, so a copy of it
                // that arrives adds nothing: only Byzantine signers' votes are filed here.
                let signer = self.behaviors.get(usize::from(vote.validator));
                let correct = self.nodes[usize::from(to)].is_correct();
                if correct && signer.is_none_or(Option::is_some) {
                    self.checker.vote_received(vote);
                } else {
                    debug_assert!(!correct || self.checker.holds(&vote), "{vote:?}");
                }
                let mut work = self.costs.verify_vote();
                if Self::extended(&self.app, &vote) && vote.validator != to {
                    work = work.then(self.costs.verify_extension());
                }
                (work, Input::Vote(vote))
            }
            Message::Proposal(p) => {
                self.nodes[usize::from(to)].saw(p.value);
                (self.block_work(p.value, p.height), Input::Proposal(p))
            }
        };
        let node = &mut self.nodes[usize::from(to)];
        let done = node.charge(t, work);
        // Behind: from a height `to` has left, or from a later round of the height `to` has
        // decided (the sender missed the commit and may wait on votes nobody will send again).
        let behind = node.is_correct()
            && (message.height() < node.state.height()
                || (message.height() == node.state.height()
                    && node.state.step() == Step::Commit
                    && node
                        .state
                        .decision()
                        .is_some_and(|(round, _)| message.round() > round)));
        if to == self.observer.index {
            match message {
                Message::Proposal(p) => self.observer.proposal_arrived(p.height, p.round, done),
                Message::Vote(vote) => self.observer.vote_arrived(vote, done),
            }
        }
        self.feed(to, input, done);
        (done, behind)
    }

    /// What receiving the block `value` of a proposal of `height` costs: verifying it, then
    /// ProcessProposal (with the last commit's vote extensions, when on).
    fn block_work(&self, value: ValueId, height: Height) -> Work {
        let txs = self
            .blocks
            .get(value.0 as usize)
            .map_or(0, |b| b.content.txs);
        let extended = Self::extended_votes(&self.app, self.validator_count, height);
        self.costs
            .verify_block(txs)
            .then(self.costs.process_proposal(extended))
    }

    /// `to` holds the whole block `value`, fetched over gossip without its proposal: verify it
    /// as a proposal's block, then hand it to consensus (`Input::Block`).
    fn consume_block(&mut self, to: ValidatorIndex, value: ValueId, t: SimTime) {
        let Some(height) = self.blocks.get(value.0 as usize).map(|b| b.height) else {
            return;
        };
        let work = self.block_work(value, height);
        let node = &mut self.nodes[usize::from(to)];
        node.saw(value);
        let done = node.charge(t, work);
        self.feed(to, Input::Block { height, value }, done);
    }

    /// Apply `input` to validator `v` at `t`, then everything it leads to. Inlined (see
    /// `deliver`).
    #[inline(always)]
    fn feed(&mut self, v: ValidatorIndex, mut input: Input, mut t: SimTime) {
        let mut outputs = std::mem::take(&mut self.outputs);
        loop {
            outputs.clear();
            let ctx = Ctx {
                validators: &self.validators,
                schedule: &self.schedule,
            };
            let node = &mut self.nodes[usize::from(v)];
            node.state.apply(&ctx, input, &mut outputs);
            if v == self.observer.index && node.state.step() != Step::Commit {
                let state = &node.state;
                self.observer
                    .track(state.height(), state.round(), state.step(), t);
            }
            for &output in &outputs {
                t = self.carry_out(v, output, t);
            }
            // Follow-up inputs (a value to propose) queue behind the first; most feeds have
            // none.
            match self.inputs.pop_front() {
                Some(next) => input = next,
                None => break,
            }
        }
        self.outputs = outputs;
        if self.p2p.is_some() {
            self.p2p_track(v, t);
        }
    }

    /// Carry out one output of validator `v` at `t`; returns when `v` is free again.
    fn carry_out(&mut self, v: ValidatorIndex, output: Output, t: SimTime) -> SimTime {
        match output {
            Output::Broadcast(message) => {
                // The observer counts its own votes as it counts those it receives.
                if v == self.observer.index
                    && let Message::Vote(vote) = message
                {
                    self.observer.vote_arrived(vote, t);
                }
                self.broadcast(v, message, t)
            }
            Output::GetValue { height, round } => {
                let content = match &self.p2p {
                    None => self.mempool.build_block(t, self.params.block_size_limit),
                    Some(_) => {
                        // The block carries the LastCommit: one CommitSig per validator.
                        let last_commit = match height {
                            1 => 0,
                            _ => self.validator_count as u32 * crate::p2p::COMMIT_SIG_BYTES,
                        };
                        let limit = self.params.block_size_limit.saturating_sub(last_commit);
                        let txg = self.txg.as_ref();
                        let mut content = self.mempool.build_block_visible(t, limit, |seq, _| {
                            txg.is_some_and(|g| g.reached(seq, v, t))
                        });
                        content.bytes = content.bytes.saturating_add(last_commit);
                        content
                    }
                };
                // With vote extensions, the e2e application's PrepareProposal puts the last
                // commit's extensions in the block as one transaction.
                let extended = Self::extended_votes(&self.app, self.validator_count, height);
                let mut content = content;
                content.bytes = content.bytes.saturating_add(extension_tx_bytes(extended));
                let value = self.new_block(height, v, content);
                let work = self
                    .costs
                    .build_block(content.txs)
                    .then(self.costs.prepare_proposal(extended));
                let done = self.nodes[usize::from(v)].charge(t, work);
                self.inputs.push_back(Input::ProposeValue {
                    height,
                    round,
                    value,
                });
                done
            }
            Output::ScheduleTimeout {
                kind,
                height,
                round,
            } => {
                let at = match kind {
                    TimeoutKind::Propose => t + self.params.timeout_propose(round),
                    TimeoutKind::Prevote => t + self.params.timeout_prevote(round),
                    TimeoutKind::Precommit => t + self.params.timeout_precommit(round),
                    TimeoutKind::Commit => {
                        let cometbft = self.p2p.is_some();
                        let node = &mut self.nodes[usize::from(v)];
                        // A validator that already holds messages of later heights is behind
                        // the chain: like a CometBFT node catching up, it moves on without the
                        // wait (the chain ahead kept the floor, so catching up ends).
                        let at = match node.state.buffered() > 0 {
                            true => t,
                            // CometBFT starts the next height at CommitTime + timeout_commit:
                            // execution overlaps the wait (the direct model adds it).
                            false if cometbft => (node.decided_at + self.params.block_interval)
                                .max(t)
                                .max(node.next_height_at),
                            false => (t + self.params.block_interval).max(node.next_height_at),
                        };
                        node.next_height_at = at + MIN_HEIGHT_TIME;
                        at
                    }
                };
                let node = &mut self.nodes[usize::from(v)];
                node.timer_due = node.timer_due.max(at);
                self.queue.push(
                    at,
                    Event::Timeout {
                        validator: v,
                        kind,
                        round,
                        height,
                    },
                );
                t
            }
            Output::Decide {
                height,
                round,
                value,
            } => self.decide(v, height, round, value, t),
        }
    }

    /// Whether `vote` carries a vote extension: a non-nil precommit of a height with
    /// extensions on (`app.vote_extensions_enable_height`).
    fn extended(app: &AppSpec, vote: &Vote) -> bool {
        vote.vote_type == VoteType::Precommit
            && vote.value.is_some()
            && app.extensions_at(vote.height)
    }

    /// Extended precommits in the last commit a proposal of `height` carries: with extensions
    /// on at the previous height, one per validator. The simulated heights gather every
    /// validator's precommit before the next proposal (`timeout_commit` lets the late ones in,
    /// as CometBFT's LastCommit does), so this is the validator count.
    fn extended_votes(app: &AppSpec, validators: usize, height: Height) -> u32 {
        match height > 1 && app.extensions_at(height - 1) {
            true => validators as u32,
            false => 0,
        }
    }

    /// BFT time of the block after `height`'s (`types.MedianTime`, `weightedMedian`): the
    /// earliest precommit time of round `round` by which half the total power had signed. The
    /// next block's LastCommit is taken to hold every validator's precommit (`timeout_commit`
    /// lets the late ones in); at the first commit at least two thirds have signed, so the half
    /// is among them. `None` when no correct validator's precommits reach it (Byzantine ones
    /// are not timed).
    fn bft_time(&self, height: Height, round: Round) -> Option<SimTime> {
        let mut times: Vec<(SimTime, u64)> = self
            .precommit_times
            .iter()
            .filter(|&&(h, r, ..)| h == height && r == round)
            .map(|&(_, _, t, power)| (t, power))
            .collect();
        times.sort_unstable();
        let mut median = self.validators.total_power() / 2;
        for (t, power) in times {
            if median <= power {
                return Some(t);
            }
            median -= power;
        }
        None
    }

    fn new_block(
        &mut self,
        height: Height,
        proposer: ValidatorIndex,
        content: BlockContent,
    ) -> ValueId {
        self.blocks.push(Block {
            height,
            proposer,
            content,
        });
        ValueId(self.blocks.len() as u64 - 1)
    }

    fn envelope_size(&self, envelope: &Envelope) -> u32 {
        match envelope {
            Envelope::Consensus(m) | Envelope::Gossip { message: m, .. } => self.message_size(m),
            Envelope::Certificate {
                value, with_block, ..
            } => {
                let votes = (self.validator_count * 2 / 3 + 1) as u32;
                let block = match with_block {
                    true => {
                        PROPOSAL_OVERHEAD_BYTES
                            + self
                                .blocks
                                .get(value.0 as usize)
                                .map_or(0, |b| b.content.bytes)
                    }
                    false => 0,
                };
                block + votes * VOTE_BYTES
            }
            Envelope::Relay { .. } | Envelope::Part { .. } | Envelope::Votes { .. } => {
                self.p2p_envelope_size(envelope)
            }
            // Never on the wire.
            Envelope::Held(_) => 0,
            Envelope::Txs { batch, .. } => self.txg_batch_bytes(*batch),
            Envelope::TxAdmit { .. } => 0,
        }
    }

    fn message_size(&self, message: &Message) -> u32 {
        match message {
            Message::Vote(_) => VOTE_BYTES,
            Message::Proposal(p) => {
                PROPOSAL_OVERHEAD_BYTES
                    + self
                        .blocks
                        .get(p.value.0 as usize)
                        .map_or(0, |b| b.content.bytes)
            }
        }
    }

    /// Send `message` from `v` to every other validator, as its behaviour dictates.
    fn broadcast(&mut self, v: ValidatorIndex, message: Message, t: SimTime) -> SimTime {
        let behavior = self.nodes[usize::from(v)].behavior;
        let mut t = t;
        if let Message::Vote(vote) = message {
            let mut work = self.costs.sign_vote();
            if Self::extended(&self.app, &vote) {
                work = work.then(self.costs.extend_vote());
            }
            t = self.nodes[usize::from(v)].charge(t, work);
            if vote.vote_type == VoteType::Precommit && behavior.is_none() {
                let power = self.validators.power(v);
                self.precommit_times
                    .push((vote.height, vote.round, t, power));
            }
        }
        let size = self.message_size(&message);
        self.nodes[usize::from(v)].disk_bytes += u64::from(size); // WAL
        match message {
            Message::Proposal(p) => self.nodes[usize::from(v)].saw(p.value),
            // A correct validator holds its own votes as evidence too.
            Message::Vote(vote) if behavior.is_none() => self.checker.vote_received(vote),
            Message::Vote(_) => {}
        }
        match behavior {
            Some(ByzantineBehavior::Silent) => {}
            Some(ByzantineBehavior::WithholdPrecommits)
                if matches!(
                    message,
                    Message::Vote(Vote {
                        vote_type: VoteType::Precommit,
                        ..
                    })
                ) => {}
            Some(ByzantineBehavior::Delay) if self.p2p.is_some() => {
                self.p2p_publish_at(v, message, t.plus_nanos(self.byzantine_delay));
            }
            Some(ByzantineBehavior::Delay) => {
                let late = t.plus_nanos(self.byzantine_delay);
                if self.gossips(&message) {
                    // Its block spreads by block gossip like any other, from `late` on.
                    let id = self.arena.alloc(Envelope::Held(message), 1);
                    self.queue.push(late, Event::Deliver { to: v, msg: id });
                } else {
                    self.send_to(v, message, late, |_| true);
                }
            }
            Some(ByzantineBehavior::Equivocate) if self.p2p.is_some() => {
                self.p2p_equivocate(v, message, t)
            }
            Some(ByzantineBehavior::Equivocate) => self.equivocate(v, message, t),
            _ if self.p2p.is_some() => self.p2p_publish(v, message, t),
            _ if self.gossips(&message) => self.spread(v, message, t, |_| true),
            _ => self.send_to(v, message, t, |_| true),
        }
        t
    }

    /// Send `message` from `v` at `t` to every other non-silent validator `to(dst)` accepts.
    fn send_to(
        &mut self,
        v: ValidatorIndex,
        message: Message,
        t: SimTime,
        to: impl Fn(ValidatorIndex) -> bool,
    ) {
        let size = self.message_size(&message);
        let n = self.nodes.len() as u16;
        let reserved = u32::from(n);
        let id = self.arena.alloc(Envelope::Consensus(message), reserved);
        let mut sent_bytes = 0u64;
        // The deliveries are drawn first and queued after, in the same order, so that the
        // queue can ask the cache for the bucket ends it will write ahead of the writes
        // ([`EventQueue::push_deliveries`]).
        let mut sends = std::mem::take(&mut self.sends);
        sends.clear();
        for dst in 0..n {
            if dst == v
                || !to(dst)
                || self.behaviors[usize::from(dst)] == Some(ByzantineBehavior::Silent)
            {
                continue;
            }
            if let Some(d) = self.net.send(v, dst, size, t, &mut self.net_rng) {
                sent_bytes += u64::from(size) * u64::from(d.attempts);
                sends.push((d.at, dst));
            }
        }
        self.queue.push_deliveries(&sends, id);
        let scheduled = sends.len() as u32;
        self.sends = sends;
        self.nodes[usize::from(v)].bytes_out += sent_bytes;
        self.arena.release(id, reserved - scheduled);
    }

    /// Validator `v` decided `value` at `height` in `round`.
    fn decide(
        &mut self,
        v: ValidatorIndex,
        height: Height,
        round: Round,
        value: ValueId,
        t: SimTime,
    ) -> SimTime {
        let block = self.blocks.get(value.0 as usize).copied();
        let txs = block.map_or(0, |b| b.content.txs);
        let done = self.nodes[usize::from(v)].charge(t, self.costs.commit_block(txs));
        let node = &mut self.nodes[usize::from(v)];
        node.disk_bytes += u64::from(block.map_or(0, |b| b.content.bytes));
        node.decisions.push(height, round, value, t);
        node.decided_at = t;
        let done = match &self.p2p {
            // Mempool recheck after the block (`mempool.recheck`, default true): CheckTx again
            // on every transaction left.
            Some(_) => {
                // What is left in this node's mempool once the block's transactions are out.
                let front = block.map_or(0, |b| b.content.first_tx + u64::from(b.content.txs));
                let front = front.max(self.mempool.front_seq());
                let left = self.txg.as_ref().map_or(0, |g| g.held(v, front));
                let per_tx = self.costs.check_tx();
                node.charge(
                    done,
                    Work {
                        elapsed_ns: per_tx.elapsed_ns.saturating_mul(left),
                        cpu_ns: per_tx.cpu_ns.saturating_mul(left),
                    },
                )
            }
            None => done,
        };
        if !node.is_correct() || usize::from(v) >= self.validator_count {
            return done;
        }
        let proposed = block.is_some_and(|b| b.height == height);
        let first_at_height = self
            .checker
            .record_decision(v, height, round, value, proposed);
        // The first correct decision of a height commits it for the chain: its transactions
        // leave the mempool.
        if let Some(block) = block
            && first_at_height
        {
            let bft_time = self.bft_time(height, round).unwrap_or(done);
            let (hist, observer) = (&mut self.tx_latency, &mut self.observer);
            let bft = &mut self.tx_latency_bft;
            let committed = self.mempool.commit(block.content, |arrival| {
                let latency = done.nanos_since(arrival).max(1);
                let _ = hist.record(latency);
                let _ = bft.record(bft_time.nanos_since(arrival).max(1));
                observer.transaction_committed(latency);
            });
            self.precommit_times.retain(|&(h, ..)| h > height);
            self.transactions_committed += u64::from(committed);
        }
        if v == self.observer.index {
            let commit = Commit {
                height,
                round,
                value,
                proposer: block.map_or(self.schedule.proposer(height, round), |b| b.proposer),
                txs: block.map_or(0, |b| b.content.txs),
                bytes: block.map_or(0, |b| b.content.bytes),
                decided: t,
                done,
            };
            let counters = self.counters();
            self.observer.committed(commit, counters);
        }
        done
    }

    /// The observer's cumulative resource counters now.
    fn counters(&self) -> Counters {
        let validators = &self.nodes[..self.validator_count];
        let n = validators.len().max(1) as u64;
        let observer = &self.nodes[usize::from(self.observer.index)];
        Counters {
            cpu_ns: observer.cpu_ns,
            mean_bytes_in: validators.iter().map(|v| v.bytes_in).sum::<u64>() / n,
            mean_bytes_out: validators.iter().map(|v| v.bytes_out).sum::<u64>() / n,
            disk_bytes: observer.disk_bytes,
            memory_mb: self.base_memory_mb
                + (self.mempool.len() as u64 * self.tx_size).div_ceil(1 << 20),
            cores: self.costs.cores(),
            mempool_txs: self.mempool.len() as u64,
            dropped_txs: self.mempool.dropped(),
        }
    }

    /// The monitor the simulation feeds (one sample per height the observer commits).
    pub fn monitor(&self) -> &PerformanceMonitor {
        self.observer.monitor()
    }

    /// The alerts firing at the observer's latest committed height (the scenario's
    /// `targets`, judged over the alert window); empty before a full window.
    pub fn firing_alerts(&self) -> &[Alert] {
        self.observer.firing()
    }

    /// Latency of every committed transaction so far, arrival to its first commit, in
    /// nanoseconds (the histogram the report's percentiles come from).
    pub fn transaction_latencies(&self) -> &Histogram<u64> {
        &self.tx_latency
    }

    /// Latency of every committed transaction so far as CometBFT's QA reports it: arrival to
    /// the BFT time of the next block (the weighted median of the committing height's
    /// precommit times), in nanoseconds.
    pub fn transaction_latencies_bft_time(&self) -> &Histogram<u64> {
        &self.tx_latency_bft
    }

    /// Transactions waiting in the mempool now (arrivals are added when a block is built).
    pub fn pending_transactions(&self) -> u64 {
        self.mempool.len() as u64
    }

    /// Mean number of transactions in a node's mempool now: with `gossip: cometbft` the mean
    /// over the nodes (validators and full nodes) of what has reached each and is not yet
    /// committed; with `direct` the one shared mempool.
    pub fn mean_mempool_size(&self) -> f64 {
        match &self.txg {
            Some(g) => {
                let front = self.mempool.front_seq();
                let n = self.nodes.len().max(1);
                let sum: u64 = (0..n as u16).map(|v| g.held(v, front)).sum();
                sum as f64 / n as f64
            }
            None => self.mempool.len() as f64,
        }
    }

    /// Blocks the gossip layer's nodes started fetching from a polka's or a commit's header
    /// because they held no part of them (0 with `gossip: direct`).
    pub fn blocks_fetched(&self) -> u64 {
        self.p2p.as_ref().map_or(0, |p2p| p2p.fetches)
    }

    /// The heights the observer has committed so far.
    pub fn committed(&self) -> &[HeightRecord] {
        self.observer.records()
    }

    /// The voting power of each validator.
    pub fn voting_powers(&self) -> &[u64] {
        self.validators.powers()
    }

    /// How many peers validator `v` has: its neighbours in the network graph.
    pub fn peers(&self, v: ValidatorIndex) -> u64 {
        let edges = self.net.edges().iter();
        edges
            .filter(|&&(a, b)| a != b && (a == v || b == v))
            .count() as u64
    }

    /// Transactions committed so far and their summed latency, seconds.
    pub fn latency_totals(&self) -> (u64, f64) {
        let count = self.tx_latency.len();
        (count, self.tx_latency.mean() / 1e9 * count as f64)
    }

    /// The report of what has run so far.
    pub fn report(&self) -> RunReport {
        let secs = self.end.as_secs_f64().max(f64::MIN_POSITIVE);
        let records = self.observer.records();
        let round_durations: Vec<f64> = records.iter().map(|r| r.round_duration_s).collect();
        let mut intervals = Vec::with_capacity(records.len());
        let mut previous = 0.0;
        for r in records {
            intervals.push(r.commit_time_s - previous);
            previous = r.commit_time_s;
        }
        let rounds: Vec<u32> = records.iter().map(|r| r.round + 1).collect();
        let observer = &self.nodes[usize::from(self.observer.index)];
        let q = |p: f64| self.tx_latency.value_at_quantile(p) as f64 / 1e9;
        let latency = if self.tx_latency.is_empty() {
            Quantiles::default()
        } else {
            Quantiles {
                p50: q(0.5),
                p90: q(0.9),
                p95: q(0.95),
                p99: q(0.99),
                max: self.tx_latency.max() as f64 / 1e9,
                mean: self.tx_latency.mean() / 1e9,
            }
        };
        let cores = self.costs.cores() as f64;
        let mut report = RunReport {
            scenario: self.scenario_name.clone(),
            seed: self.seed,
            trace_hash: self.trace.hex(),
            duration_s: self.end.as_secs_f64(),
            validators: self.validator_count,
            byzantine: self.byzantine.clone(),
            byzantine_behavior: self.behavior.map(|b| b.as_str().to_string()),
            observer: self.observer.index,
            heights_committed: records.len() as u64,
            transactions_committed: self.transactions_committed,
            transactions_dropped: self.mempool.dropped(),
            throughput_tps: self.transactions_committed as f64 / secs,
            latency_s: latency,
            latency_distribution: latency_distribution(&self.tx_latency),
            round_duration_s: summary(&round_durations),
            block_interval_s: summary(&intervals),
            rounds: Rounds {
                mean: if rounds.is_empty() {
                    0.0
                } else {
                    rounds.iter().map(|&r| f64::from(r)).sum::<f64>() / rounds.len() as f64
                },
                max: rounds.iter().copied().max().unwrap_or(0),
            },
            resources: Resources {
                cpu_percent: observer.cpu_ns as f64 / (self.end.as_nanos().max(1) as f64 * cores)
                    * 100.0,
                memory_mb: self.base_memory_mb + self.mempool.peak_bytes().div_ceil(1 << 20),
                network_bytes_in: observer.bytes_in,
                network_bytes_out: observer.bytes_out,
                disk_io_bytes: observer.disk_bytes,
            },
            safety: Safety {
                agreement: self.checker.agreement(),
                validity: self.checker.validity(),
                violations: self.checker.violations().to_vec(),
            },
            events: self.events,
            monitor: self.observer.monitor_report(self.end.as_duration()),
            wall_time_s: 0.0,
            heights: records.to_vec(),
            targets: Vec::new(),
        };
        if let Some(targets) = &self.targets {
            report.targets = target_criteria(targets, std::slice::from_ref(&report));
            let last_height = report.heights_committed;
            for criterion in &report.targets {
                if let Some(alert) = criterion.alert("whole run") {
                    report.monitor.alerts.push(FiredAlert {
                        height: last_height,
                        at_s: report.duration_s,
                        alert,
                    });
                }
            }
        }
        report
    }
}

/// A word summarising a message for the trace hash.
#[inline(always)]
fn message_word(m: &Message) -> u64 {
    match m {
        Message::Proposal(p) => {
            p.height << 32
                ^ u64::from(p.round) << 16
                ^ u64::from(p.proposer)
                ^ p.value.0 << 40
                ^ 0x5
        }
        Message::Vote(v) => {
            vote_run_word(v.height, v.round, v.vote_type) ^ signer_word(v.validator, v.value)
        }
    }
}

/// The part of a vote's trace word that its height, round and type make (shared by a batch's
/// run of votes of one round and type).
fn vote_run_word(height: Height, round: Round, vote_type: VoteType) -> u64 {
    let kind: u64 = if vote_type == VoteType::Prevote { 1 } else { 2 };
    height << 32 ^ u64::from(round) << 16 ^ kind << 62
}

/// The part of a vote's trace word that its signer and value make.
fn signer_word(validator: u16, value: Option<ValueId>) -> u64 {
    u64::from(validator) ^ value.map_or(0xffff, |x| x.0) << 40
}

/// Transaction latencies in buckets doubling from 1 ms, up to the largest one.
fn latency_distribution(hist: &Histogram<u64>) -> Vec<LatencyBucket> {
    if hist.is_empty() {
        return Vec::new();
    }
    hist.iter_log(1_000_000, 2.0)
        .enumerate()
        .map(|(i, v)| LatencyBucket {
            le_s: 0.001 * f64::from(1u32 << i.min(31)),
            count: v.count_since_last_iteration(),
        })
        .collect()
}

/// Mean, median, 99th percentile and max of `xs` (exact, by sorting).
fn summary(xs: &[f64]) -> Summary {
    if xs.is_empty() {
        return Summary::default();
    }
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at =
        |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    Summary {
        mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        p50: at(0.5),
        p99: at(0.99),
        max: sorted[sorted.len() - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_scenario;

    /// The cache hints change nothing: 300 validators with direct delivery (where they matter
    /// most) give the same report, trace hash and event count with the delivery's hints as
    /// without (the queue's are checked in its own tests).
    #[test]
    fn cache_hints_leave_the_run_unchanged() {
        let yaml = "name: hints\nduration: 400ms\nvalidators: { count: 300 }\n\
                    network: { gossip: direct, latency: { distribution: lognormal, mean: 30ms, stddev: 10ms } }\n\
                    load: { transaction_rate: 500 }\n";
        let scenario = parse_scenario(yaml, "test").expect("scenario");
        let run = |hints: bool| {
            let mut simulation = Simulation::new(&scenario, 7).expect("simulation");
            assert!(simulation.prefetch, "hints are on by default");
            simulation.prefetch = hints;
            let mut report = simulation.run();
            report.wall_time_s = 0.0;
            report
        };
        let (with, without) = (run(true), run(false));
        assert!(
            with.heights_committed >= 1 && with.events > 150_000,
            "{with:?}"
        );
        assert_eq!(with, without);
    }
}
