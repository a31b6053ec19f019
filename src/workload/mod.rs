//! Transaction arrivals, the mempool, block building, and the processing-cost model.
//!
//! Arrivals are Poisson at `transaction_rate`, but they are not events: the mempool is advanced
//! lazily, to the time a block is built or committed, drawing inter-arrival times as it goes.

use crate::config::{AppSpec, CostModel};
use crate::sim::time::saturating_nanos;
use crate::sim::{SimRng, SimTime};
use rand::Rng;
use std::collections::VecDeque;
use std::time::Duration;

/// CometBFT's default mempool capacity (`mempool.size`): arrivals beyond it are dropped.
pub const MEMPOOL_CAPACITY: usize = 5_000;
/// Bytes of a block that are not transactions (header, commit, evidence).
pub const BLOCK_OVERHEAD_BYTES: u32 = 1_024;

/// Bytes one vote takes in an `abci.ExtendedCommitInfo` as the e2e application encodes it:
/// an `ExtendedVoteInfo` of the validator (20-byte address and a 1-byte power, 26 bytes with
/// their tags and lengths), the extension (a varint of a number below 128, 1 or 2 bytes, 4
/// with its tag and length), its 64-byte signature (66) and the block-ID flag (2), in a
/// `votes` field (2): 99 bytes.
pub const EXTENDED_VOTE_INFO_BYTES: u32 = 99;

/// Bytes of the transaction the e2e application's PrepareProposal adds to a block when vote
/// extensions are on (`test/e2e/app/app.go`): `extensionSum=<sum>|<hex of the extended commit>`,
/// so two hex digits per byte of `extended_votes` votes, after a prefix of at most 34 bytes
/// (the key, a sum below 2^64 and the separator); nothing without extensions.
pub fn extension_tx_bytes(extended_votes: u32) -> u32 {
    match extended_votes {
        0 => 0,
        n => 34 + 2 * EXTENDED_VOTE_INFO_BYTES * n,
    }
}

/// The shared mempool: pending transactions by arrival time, oldest first.
#[derive(Debug)]
pub struct Mempool {
    rate: f64,
    tx_size: u32,
    rng: SimRng,
    /// Batched arrivals (`load.send_period`), or `None` for Poisson ones.
    batches: Option<Batches>,
    /// Transactions it holds at most (`mempool.size`); arrivals beyond are dropped.
    capacity: usize,
    next_arrival: SimTime,
    /// Arrival times of pending transactions; the front has sequence number `front_seq`.
    pending: VecDeque<SimTime>,
    front_seq: u64,
    dropped: u64,
    peak_bytes: u64,
}

/// Arrivals in batches, as CometBFT's load runner sends them (`load.send_period`).
#[derive(Clone, Copy, Debug)]
struct Batches {
    period_ns: u64,
    size: u64,
    /// No batch at or after this (the run's end).
    stop: SimTime,
}

/// The transactions a proposed block carries: a run of the mempool from `first_tx`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContent {
    /// Sequence number of the first transaction.
    pub first_tx: u64,
    /// Number of transactions.
    pub txs: u32,
    /// Block size in bytes (transactions plus overhead).
    pub bytes: u32,
}

impl Mempool {
    /// A mempool of `capacity` transactions fed at `rate` tx/s with `tx_size`-byte
    /// transactions from `rng`.
    pub fn new(rate: f64, tx_size: u32, capacity: usize, mut rng: SimRng) -> Self {
        let next_arrival =
            next_gap(rate, &mut rng).map_or(SimTime::MAX, |gap| SimTime::ZERO.plus_nanos(gap));
        Mempool {
            rate,
            tx_size,
            rng,
            batches: None,
            capacity,
            next_arrival,
            pending: VecDeque::new(),
            front_seq: 0,
            dropped: 0,
            peak_bytes: 0,
        }
    }

    /// The same mempool fed in batches instead: every `period` from one period on, until
    /// before `stop`, `round(rate × period)` transactions arriving at the same instant (CometBFT's
    /// load runner sending a batch back to back; the entry node's CheckTx then takes them one
    /// after another). No random draws.
    pub fn with_batches(mut self, period: Duration, stop: SimTime) -> Self {
        let period_ns = saturating_nanos(period).max(1);
        let size = (self.rate * period_ns as f64 / 1e9).round();
        let size = if size.is_finite() && size > 0.0 {
            size as u64
        } else {
            0
        };
        self.next_arrival = match size {
            0 => SimTime::MAX,
            _ => SimTime::ZERO.plus_nanos(period_ns),
        };
        if self.next_arrival >= stop {
            self.next_arrival = SimTime::MAX;
        }
        self.batches = Some(Batches {
            period_ns,
            size,
            stop,
        });
        self
    }

    /// Add every arrival up to and including `now`.
    pub fn advance_to(&mut self, now: SimTime) {
        if let Some(b) = self.batches {
            while self.next_arrival <= now {
                let room = self.capacity.saturating_sub(self.pending.len()) as u64;
                let admitted = b.size.min(room);
                self.pending
                    .extend(std::iter::repeat_n(self.next_arrival, admitted as usize));
                self.dropped += b.size - admitted;
                self.next_arrival = self.next_arrival.plus_nanos(b.period_ns);
                if self.next_arrival >= b.stop {
                    self.next_arrival = SimTime::MAX;
                }
            }
            self.peak_bytes = self
                .peak_bytes
                .max(self.pending.len() as u64 * u64::from(self.tx_size));
            return;
        }
        while self.next_arrival <= now {
            if self.pending.len() < self.capacity {
                self.pending.push_back(self.next_arrival);
            } else {
                self.dropped += 1;
            }
            self.next_arrival = match next_gap(self.rate, &mut self.rng) {
                Some(gap) => self.next_arrival.plus_nanos(gap),
                None => SimTime::MAX,
            };
        }
        self.peak_bytes = self
            .peak_bytes
            .max(self.pending.len() as u64 * u64::from(self.tx_size));
    }

    /// The block a proposer builds at `now` under `block_size_limit`: the oldest pending
    /// transactions that fit. Nothing is removed until the block commits.
    pub fn build_block(&mut self, now: SimTime, block_size_limit: u32) -> BlockContent {
        self.advance_to(now);
        let room = block_size_limit.saturating_sub(BLOCK_OVERHEAD_BYTES) / self.tx_size.max(1);
        let txs = room.min(u32::try_from(self.pending.len()).unwrap_or(u32::MAX));
        BlockContent {
            first_tx: self.front_seq,
            txs,
            bytes: BLOCK_OVERHEAD_BYTES + txs * self.tx_size,
        }
    }

    /// The block a proposer builds at `now` from the transactions that have reached its own
    /// mempool: the oldest pending ones for which `reached(sequence, arrival)` holds, up to the
    /// first that has not (a block is a run of the arrival order).
    pub fn build_block_visible(
        &mut self,
        now: SimTime,
        block_size_limit: u32,
        reached: impl Fn(u64, SimTime) -> bool,
    ) -> BlockContent {
        self.advance_to(now);
        let room = block_size_limit.saturating_sub(BLOCK_OVERHEAD_BYTES) / self.tx_size.max(1);
        let mut txs = 0u32;
        for (i, &arrival) in self.pending.iter().enumerate() {
            if txs >= room || !reached(self.front_seq + i as u64, arrival) {
                break;
            }
            txs += 1;
        }
        BlockContent {
            first_tx: self.front_seq,
            txs,
            bytes: BLOCK_OVERHEAD_BYTES + txs * self.tx_size,
        }
    }

    /// Remove a committed block's transactions, calling `latency` with each one's arrival time.
    /// Transactions already removed (a block built before an earlier commit) are skipped.
    pub fn commit(&mut self, block: BlockContent, mut arrival: impl FnMut(SimTime)) -> u32 {
        let end = block.first_tx + u64::from(block.txs);
        let mut removed = 0;
        while self.front_seq < end {
            match self.pending.pop_front() {
                Some(t) => {
                    if self.front_seq >= block.first_tx {
                        arrival(t);
                        removed += 1;
                    }
                    self.front_seq += 1;
                }
                None => break,
            }
        }
        removed
    }

    /// Offered transactions per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Sequence number of the oldest transaction not yet committed.
    pub fn front_seq(&self) -> u64 {
        self.front_seq
    }

    /// Transactions accepted so far (committed or pending): the next one gets this sequence
    /// number.
    pub fn accepted(&self) -> u64 {
        self.front_seq + self.pending.len() as u64
    }

    /// Transactions waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Arrivals refused because the mempool was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The most bytes the mempool ever held.
    pub fn peak_bytes(&self) -> u64 {
        self.peak_bytes
    }
}

/// Nanoseconds to the next Poisson arrival, or `None` when the rate is zero.
fn next_gap(rate: f64, rng: &mut SimRng) -> Option<u64> {
    if rate <= 0.0 || !rate.is_finite() {
        return None;
    }
    // Inverse transform of a uniform in (0, 1]: -ln(u) / rate seconds.
    let u: f64 = 1.0 - rng.random::<f64>();
    Some(((-libm::log(u) / rate) * 1e9).round().max(1.0) as u64)
}

/// How long an operation keeps a validator busy (elapsed) and how much CPU it burns (summed over
/// cores), in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Wall (virtual) time the validator is busy.
    pub elapsed_ns: u64,
    /// CPU time over all cores.
    pub cpu_ns: u64,
}

impl Work {
    /// This work, then `next` on the same node.
    pub fn then(self, next: Work) -> Work {
        Work {
            elapsed_ns: self.elapsed_ns.saturating_add(next.elapsed_ns),
            cpu_ns: self.cpu_ns.saturating_add(next.cpu_ns),
        }
    }

    fn serial(ns: u64) -> Work {
        Work {
            elapsed_ns: ns,
            cpu_ns: ns,
        }
    }
}

/// Processing costs of each operation, from the cost model and the batch parameters.
#[derive(Clone, Copy, Debug)]
pub struct Costs {
    cores: u64,
    sign: u64,
    verify_vote: u64,
    build_per_tx: u64,
    verify_per_tx: u64,
    verify_batch_overhead: u64,
    commit_per_tx: u64,
    commit_per_block: u64,
    check_tx: u64,
    batch_size: u64,
    parallel: bool,
    /// The application's delays (`app:`), waited, not computed.
    prepare_proposal_delay: u64,
    process_proposal_delay: u64,
    check_tx_delay: u64,
    vote_extension_delay: u64,
    finalize_block_delay: u64,
}

impl Costs {
    /// Costs for `model` with verification in batches of `batch_size`, spread over the cores
    /// when `parallel`.
    pub fn new(model: &CostModel, batch_size: u32, parallel: bool) -> Self {
        Costs {
            cores: u64::from(model.cores.max(1)),
            sign: saturating_nanos(model.sign),
            verify_vote: saturating_nanos(model.verify_vote),
            build_per_tx: saturating_nanos(model.build_per_tx),
            verify_per_tx: saturating_nanos(model.verify_per_tx),
            verify_batch_overhead: saturating_nanos(model.verify_batch_overhead),
            commit_per_tx: saturating_nanos(model.commit_per_tx),
            commit_per_block: saturating_nanos(model.commit_per_block),
            check_tx: saturating_nanos(model.check_tx),
            batch_size: u64::from(batch_size.max(1)),
            parallel,
            prepare_proposal_delay: 0,
            process_proposal_delay: 0,
            check_tx_delay: 0,
            vote_extension_delay: 0,
            finalize_block_delay: 0,
        }
    }

    /// The same costs with the application's ABCI delays of `app` added where it sleeps.
    pub fn with_app(mut self, app: &AppSpec) -> Self {
        self.prepare_proposal_delay = saturating_nanos(app.prepare_proposal_delay);
        self.process_proposal_delay = saturating_nanos(app.process_proposal_delay);
        self.check_tx_delay = saturating_nanos(app.check_tx_delay);
        self.vote_extension_delay = saturating_nanos(app.vote_extension_delay);
        self.finalize_block_delay = saturating_nanos(app.finalize_block_delay);
        self
    }

    /// PrepareProposal at the proposer: the e2e application verifies the extension signature
    /// of each of the `extended_votes` precommits of the last commit, one after another
    /// (`verifyAndSum`), then waits `prepare_proposal_delay`.
    pub fn prepare_proposal(&self, extended_votes: u32) -> Work {
        let cpu = self.verify_vote * u64::from(extended_votes);
        Work {
            elapsed_ns: cpu + self.prepare_proposal_delay,
            cpu_ns: cpu,
        }
    }

    /// ProcessProposal at a node that received a proposal: the e2e application verifies the
    /// extended commit the block carries, `extended_votes` signatures one after another
    /// (`verifyExtensionTx` → `verifyAndSum`), then waits `process_proposal_delay`.
    pub fn process_proposal(&self, extended_votes: u32) -> Work {
        let cpu = self.verify_vote * u64::from(extended_votes);
        Work {
            elapsed_ns: cpu + self.process_proposal_delay,
            cpu_ns: cpu,
        }
    }

    /// ExtendVote and the extension's signature, at a validator sending a non-nil precommit
    /// with extensions on (`signVote` asks the application, waiting `vote_extension_delay`,
    /// then signs the vote and the extension).
    pub fn extend_vote(&self) -> Work {
        Work {
            elapsed_ns: self.sign + self.vote_extension_delay,
            cpu_ns: self.sign,
        }
    }

    /// Verifying the extension signature of a received non-nil precommit (`addVote` →
    /// `VerifyExtension`; the e2e application's VerifyVoteExtension only parses a varint).
    pub fn verify_extension(&self) -> Work {
        Work::serial(self.verify_vote)
    }

    /// Signing one vote.
    pub fn sign_vote(&self) -> Work {
        Work::serial(self.sign)
    }

    /// Verifying one received vote.
    pub fn verify_vote(&self) -> Work {
        Work::serial(self.verify_vote)
    }

    /// Building and signing a block of `txs` transactions.
    pub fn build_block(&self, txs: u32) -> Work {
        Work::serial(self.build_per_tx * u64::from(txs) + self.sign)
    }

    /// Verifying a received block: its signature, then `txs` transactions in batches of
    /// `batch_size`; with parallel verification the batches run `cores` at a time.
    pub fn verify_block(&self, txs: u32) -> Work {
        let txs = u64::from(txs);
        let batches = txs.div_ceil(self.batch_size);
        let cpu =
            self.verify_vote + batches * self.verify_batch_overhead + txs * self.verify_per_tx;
        if !self.parallel || batches <= 1 {
            return Work {
                elapsed_ns: cpu,
                cpu_ns: cpu,
            };
        }
        // Waves of `cores` batches; a wave lasts as long as its largest batch.
        let full = txs / self.batch_size;
        let last = txs % self.batch_size;
        let full_waves = full / self.cores;
        let leftover_full = full % self.cores;
        let batch_ns = |size: u64| self.verify_batch_overhead + size * self.verify_per_tx;
        let mut elapsed = self.verify_vote + full_waves * batch_ns(self.batch_size);
        if leftover_full > 0 {
            // Fewer than `cores` full batches left: the partial one runs beside them.
            elapsed += batch_ns(self.batch_size);
        } else if last > 0 {
            elapsed += batch_ns(last);
        }
        Work {
            elapsed_ns: elapsed,
            cpu_ns: cpu,
        }
    }

    /// Executing and storing a committed block of `txs` transactions.
    pub fn commit_block(&self, txs: u32) -> Work {
        let cpu = self.commit_per_block + self.commit_per_tx * u64::from(txs);
        Work {
            elapsed_ns: cpu + self.finalize_block_delay,
            cpu_ns: cpu,
        }
    }

    /// CheckTx of one transaction (and the application's `check_tx_delay`).
    pub fn check_tx(&self) -> Work {
        Work {
            elapsed_ns: self.check_tx + self.check_tx_delay,
            cpu_ns: self.check_tx,
        }
    }

    /// CPU cores of a validator.
    pub fn cores(&self) -> u64 {
        self.cores
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Stream, rng};

    #[test]
    fn poisson_arrivals_average_the_rate() {
        let mut pool = Mempool::new(
            200.0,
            250,
            MEMPOOL_CAPACITY,
            rng::stream(1, Stream::Workload),
        );
        pool.advance_to(SimTime::from_secs(20));
        let n = pool.len() as f64;
        assert!(
            (n - 4000.0).abs() < 4000.0 * 0.05,
            "{n} arrivals in 20 s at 200/s"
        );
    }

    #[test]
    fn zero_rate_gives_empty_blocks() {
        let mut pool = Mempool::new(0.0, 250, MEMPOOL_CAPACITY, rng::stream(1, Stream::Workload));
        let block = pool.build_block(SimTime::from_secs(100), 1 << 20);
        assert_eq!((block.txs, block.bytes), (0, BLOCK_OVERHEAD_BYTES));
    }

    #[test]
    fn blocks_fill_to_the_size_limit_and_commits_remove_their_transactions() {
        let mut pool = Mempool::new(
            1000.0,
            100,
            MEMPOOL_CAPACITY,
            rng::stream(3, Stream::Workload),
        );
        // Room for 10 transactions of 100 bytes after the overhead.
        let block = pool.build_block(SimTime::from_secs(1), BLOCK_OVERHEAD_BYTES + 1_050);
        assert_eq!(block.txs, 10);
        assert_eq!(block.bytes, BLOCK_OVERHEAD_BYTES + 1_000);
        let before = pool.len();
        let mut arrivals = Vec::new();
        assert_eq!(pool.commit(block, |t| arrivals.push(t)), 10);
        assert_eq!(pool.len(), before - 10);
        assert!(arrivals.windows(2).all(|w| w[0] <= w[1]));
        // A stale block over the same transactions removes nothing more.
        assert_eq!(pool.commit(block, |_| ()), 0);
        assert_eq!(pool.len(), before - 10);
    }

    #[test]
    fn mempool_drops_arrivals_beyond_capacity() {
        let mut pool = Mempool::new(
            10_000.0,
            250,
            MEMPOOL_CAPACITY,
            rng::stream(1, Stream::Workload),
        );
        pool.advance_to(SimTime::from_secs(1));
        assert_eq!(pool.len(), MEMPOOL_CAPACITY);
        assert!(pool.dropped() > 4_000, "{}", pool.dropped());
    }

    #[test]
    fn parallel_verification_divides_elapsed_time_by_cores() {
        let model = CostModel {
            cores: 4,
            verify_vote: Duration::ZERO,
            verify_per_tx: Duration::from_micros(10),
            verify_batch_overhead: Duration::from_micros(100),
            ..CostModel::zero()
        };
        // 800 txs in batches of 100: 8 batches of 1100 us each.
        let serial = Costs::new(&model, 100, false).verify_block(800);
        assert_eq!(
            serial,
            Work {
                elapsed_ns: 8_800_000,
                cpu_ns: 8_800_000
            }
        );
        let parallel = Costs::new(&model, 100, true).verify_block(800);
        assert_eq!(
            parallel,
            Work {
                elapsed_ns: 2_200_000,
                cpu_ns: 8_800_000
            }
        );
        // 850 txs: 8 full batches and one of 50 → 2 full waves + a wave of the 50-tx batch.
        let ragged = Costs::new(&model, 100, true).verify_block(850);
        assert_eq!(ragged.elapsed_ns, 2 * 1_100_000 + 600_000);
        // Batch size 1 pays the overhead per transaction.
        let tiny = Costs::new(&model, 1, false).verify_block(10);
        assert_eq!(tiny.elapsed_ns, 10 * 110_000);
    }

    #[test]
    fn zero_cost_model_costs_nothing() {
        let c = Costs::new(&CostModel::zero(), 100, true);
        assert_eq!(c.verify_block(5_000), Work::default());
        assert_eq!(c.commit_block(5_000), Work::default());
        assert_eq!(c.build_block(5_000), Work::default());
    }
}
