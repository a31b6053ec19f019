//! CometBFT's gossip layer (`network.gossip: cometbft`): what lies between one node's consensus
//! state and another's in a real network.
//!
//! What it models, each after the CometBFT code it mirrors:
//! - **The peer graph** (`peers`): each node dials `max_num_outbound_peers` and accepts at most
//!   `max_num_inbound_peers` (p2p/switch.go, PEX), or a fixed topology's links as persistent
//!   peers. Full nodes relay and follow consensus but do not vote.
//! - **Connections** (`conn`): `send_rate`/`recv_rate` limiters and the
//!   `flush_throttle_timeout` of `MConnection` (p2p/conn/connection.go), TCP order, loss as a
//!   retransmission after `gossip_interval`, partitions that cut connections.
//! - **The consensus reactor** (consensus/reactor.go): per peer, a data routine that sends the
//!   proposal and the block parts (64 KiB, `types.BlockPartSizeBytes`) the peer lacks, and a
//!   votes routine that sends the votes the peer lacks for its height and round, both sleeping
//!   `peer_gossip_sleep_duration` when they have nothing to send; peers that fell a height
//!   behind get the commit (the catch-up commit and its block).
//! - **What a node knows of its peers** (`PeerState`): their height, round and step
//!   (NewRoundStep), the votes they have (HasVote) and the parts and votes sent on each
//!   connection. It is state read at the time those messages would arrive (one hop's latency
//!   plus half a flush interval after the change), not one event per message: the event count
//!   stays one per delivered vote, proposal or part, plus at most one wake-up per node per
//!   gossip sleep while it has something to send.
//! - **The mempool reactor** (`mempool`; mempool/reactor.go, clist_mempool.go): clients submit
//!   to `load.entry_nodes`, which run CheckTx on each transaction; every node sends each
//!   transaction it admitted to every peer that did not send it, as its own `Txs` message on
//!   the connection (bytes and send rate shared with consensus traffic, which has priority),
//!   batched per flush into one delivery; a copy the receiver already holds costs its bytes and
//!   a cache lookup, a new one CheckTx; a proposer reaps only what its own mempool admitted;
//!   every node rechecks what is left in its mempool after each block.
//! - **Fetching a block it lacks** (consensus/state.go `addVote`, `enterCommit`; reactor.go
//!   NewValidBlock): 2f+1 prevotes of a node's round, or 2f+1 precommits of any round, for a
//!   block it has no parts of make an empty part set from the votes' header; the node announces
//!   it, peers that hold the block send the parts, and the complete block stands for its
//!   proposal (a node that got an equivocator's twin locks on and commits the polka's block).
//! - **VoteSetMaj23** (consensus/reactor.go `queryMaj23Routine`): every
//!   `peer_query_maj23_sleep_duration` (2 s) a node offers each peer at its height the votes for
//!   the value it holds two thirds for in the peer's round and POL round that the peer holds
//!   with another value in their slot (an equivocator's), and the peer counts them toward that
//!   value: the answer (VoteSetBits) is read from the peer's book, not sent.
//!
//! What it leaves out: VoteSetBits as messages, vote extensions, the block-part Merkle proofs'
//! bytes, PEX churn (the graph is fixed
//! for the run), the per-peer phases of the gossip routines (a node's routines wake together),
//! the mempool reactor's wait for a peer more than one height behind, per-node mempool limits
//! (the entry nodes' `mempool.size` bounds the network), and blocksync (a node further behind
//! than the kept decisions does not catch up).

pub mod batches;
pub mod conn;
pub mod mempool;
pub mod peers;

use crate::consensus::{Height, Proposal, Round, Step, ValueId, Vote, VoteType};
use crate::sim::SimTime;

/// CometBFT's `types.BlockPartSizeBytes`: a block travels in parts of this size.
pub const BLOCK_PART_BYTES: u32 = 65_536;
/// Bytes of a block-part message beyond its payload (height, round, index, proof).
pub const PART_OVERHEAD_BYTES: u32 = 128;
/// Bytes of one `CommitSig` in a block's LastCommit: flag, 20-byte address, timestamp and
/// 64-byte signature with their protobuf framing (types/block.go).
pub const COMMIT_SIG_BYTES: u32 = 105;

/// Whether bit `i` of a set kept as 64-bit words is set (false when out of range).
#[inline]
pub fn word_has(words: &[u64], i: usize) -> bool {
    words.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
}

/// Set bit `i` of a set kept as 64-bit words (ignored when out of range).
#[inline]
pub fn word_set(words: &mut [u64], i: usize) {
    if let Some(w) = words.get_mut(i / 64) {
        *w |= 1 << (i % 64);
    }
}

/// A fixed-size set of small integers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bits(Vec<u64>);

impl Bits {
    /// An empty set able to hold `0..n`.
    pub fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }

    /// Whether `i` is in the set.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        word_has(&self.0, i)
    }

    /// Add `i` (ignored when out of range).
    pub fn set(&mut self, i: usize) {
        word_set(&mut self.0, i);
    }

    /// Empty, able to hold `0..n` (reusing the buffer).
    pub fn reset(&mut self, n: usize) {
        self.0.clear();
        self.0.resize(n.div_ceil(64), 0);
    }

    /// Empty the set.
    pub fn clear(&mut self) {
        self.0.iter_mut().for_each(|w| *w = 0);
    }

    /// How many are in the set.
    pub fn count(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// The members of `self` that are not in `other`, ascending, appended to `out`.
    pub fn missing_from(&self, other: &Bits, out: &mut Vec<u16>) {
        self.missing_from_words(&other.0, out);
    }

    /// The members of `self` that are not in the set whose words are `other`, ascending,
    /// appended to `out`.
    pub fn missing_from_words(&self, other: &[u64], out: &mut Vec<u16>) {
        for (i, (&a, &b)) in self.0.iter().zip(other.iter()).enumerate() {
            let mut w = a & !b;
            while w != 0 {
                let bit = w.trailing_zeros() as usize;
                out.push((i * 64 + bit) as u16);
                w &= w - 1;
            }
        }
    }
}

/// The two vote types, as an index.
pub fn type_index(t: VoteType) -> usize {
    match t {
        VoteType::Prevote => 0,
        VoteType::Precommit => 1,
    }
}

/// The vote type of type index `k` (the inverse of [`type_index`]).
#[inline]
pub fn vote_type_of(k: usize) -> VoteType {
    [VoteType::Prevote, VoteType::Precommit][k]
}

/// One node's votes of one round: the first vote it received from each validator, as the
/// slot of its value among the round's distinct values (height, round, type and signer are
/// where it is filed), so a 1,000-validator round takes 4 KB rather than 80 KB of `Vote`s.
#[derive(Clone, Debug, Default)]
pub struct RoundVotes {
    /// `[prevotes, precommits]`: which validators' votes are present.
    pub have: [Bits; 2],
    /// `slots[k][v]`: the slot in `values[k]` of `v`'s vote, where `have[k]` has `v`.
    slots: [Vec<u16>; 2],
    /// The distinct values voted, in order of first arrival (nil and the proposal, a few
    /// more under equivocation).
    values: [Vec<Option<ValueId>>; 2],
}

impl RoundVotes {
    /// Empty, for `validators` validators (reusing the buffers).
    fn reset(&mut self, validators: usize) {
        for k in 0..2 {
            self.have[k].reset(validators);
            // Stale slots are never read: a slot is read only where `have` is set.
            self.slots[k].resize(validators, 0);
            self.values[k].clear();
        }
    }

    /// The value of validator `v`'s vote of type index `k`, if present.
    #[inline]
    pub fn value(&self, k: usize, v: usize) -> Option<Option<ValueId>> {
        self.have[k]
            .get(v)
            .then(|| self.values[k][usize::from(self.slots[k][v])])
    }

    /// The votes of type index `k`, for a reader of many: the words of the set of signers
    /// present, the slot of each present signer's value, and the values.
    #[inline]
    pub fn of_kind(&self, k: usize) -> HeldVotes<'_> {
        HeldVotes {
            have: &self.have[k].0,
            slots: &self.slots[k],
            values: &self.values[k],
        }
    }

    /// The votes of type index `k` present, by validator, as `Vote`s of `height` and `round`.
    pub fn votes(&self, k: usize, height: Height, round: Round) -> impl Iterator<Item = Vote> + '_ {
        let vote_type = vote_type_of(k);
        (0..self.slots[k].len()).filter_map(move |v| {
            self.value(k, v).map(|value| Vote {
                height,
                round,
                vote_type,
                value,
                validator: v as u16,
            })
        })
    }

    /// File `value` as `v`'s vote of type index `k`; false when the slot is taken.
    fn store(&mut self, k: usize, v: usize, value: Option<ValueId>) -> bool {
        if self.have[k].get(v) {
            return false;
        }
        let values = &mut self.values[k];
        let slot = match values.iter().position(|x| *x == value) {
            Some(slot) => slot,
            None => {
                values.push(value);
                values.len() - 1
            }
        };
        // One slot at most per validator (`u16` indices): it fits.
        self.slots[k][v] = slot as u16;
        self.have[k].set(v);
        true
    }
}

/// One round's votes of one type, as `RoundVotes::of_kind` lends them.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeldVotes<'a> {
    have: &'a [u64],
    slots: &'a [u16],
    values: &'a [Option<ValueId>],
}

impl HeldVotes<'_> {
    /// Whether validator `v`'s vote is present with `value`.
    #[inline]
    pub fn holds(&self, v: usize, value: Option<ValueId>) -> bool {
        word_has(self.have, v) && self.values[usize::from(self.slots[v])] == value
    }
}

/// A block being assembled from its parts.
#[derive(Clone, Debug)]
pub struct PartSet {
    /// The block.
    pub value: ValueId,
    /// Its number of parts.
    pub total: u16,
    /// Parts present.
    pub have: Bits,
    /// When it was made from a polka's or a commit's header rather than from a proposal
    /// (CometBFT's `NewPartSetFromHeader` in `addVote` and `enterCommit`): what the node's
    /// NewValidBlock tells its peers, who then send it the parts; consensus is given the
    /// block itself once complete.
    pub fetched: Option<SimTime>,
    /// The complete block was given to consensus (`Input::Block`).
    pub handed: bool,
}

impl PartSet {
    /// True when every part is present.
    pub fn complete(&self) -> bool {
        self.have.count() >= u32::from(self.total)
    }
}

/// A node's round state as its peers learn it (NewRoundStep).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundStep {
    /// When the node entered it.
    pub since: SimTime,
    /// Its height (0 before it starts).
    pub height: Height,
    /// Its round.
    pub round: Round,
    /// Its step.
    pub step: Step,
}

impl Default for RoundStep {
    fn default() -> Self {
        RoundStep {
            since: SimTime::ZERO,
            height: 0,
            round: 0,
            step: Step::Propose,
        }
    }
}

/// Round-state changes kept per node: enough to answer "what did a peer one hop away know".
const STEPS_KEPT: usize = 8;

/// What one node holds of its current height for gossip, and its gossip routines' schedule.
#[derive(Clone, Debug)]
pub struct NodeBook {
    validators: usize,
    /// The height the votes, proposals and parts below belong to.
    pub height: Height,
    /// Votes by round.
    pub rounds: Vec<RoundVotes>,
    /// Round records of earlier heights, kept for their buffers.
    spare_rounds: Vec<RoundVotes>,
    /// `(arrival, round, type, validator)` of each vote stored at this height, in arrival order:
    /// what the node's HasVote messages tell its peers.
    pub arrivals: Vec<(SimTime, Round, u8, u16)>,
    /// The first proposal of each round, with whether consensus has been given it.
    pub proposals: Vec<(Proposal, bool)>,
    /// Blocks of this height being assembled or complete.
    pub blocks: Vec<PartSet>,
    /// Recent round-state changes, oldest first.
    steps: Vec<RoundStep>,
    /// Times of this node's scheduled gossip wake-ups.
    pub wakes: Vec<SimTime>,
    /// When its gossip routines last ran.
    pub last_wake: Option<SimTime>,
    /// Phase of its gossip routines: they check their peers at `phase + k · sleep`.
    pub phase: u64,
    /// Messages a `delay` Byzantine validator will publish later, with when.
    pub delayed: Vec<(SimTime, crate::consensus::Message)>,
    /// An equivocating proposer's second proposal of each round, which its data routine shows
    /// the second side instead of the first.
    pub twins: Vec<Proposal>,
    /// Conflicting votes of this height (a second value from a signer whose slot is taken), at
    /// most one per slot: what VoteSetMaj23 can pass on to peers.
    pub conflicts: Vec<Vote>,
}

impl NodeBook {
    /// An empty book for a network of `validators` validators.
    pub fn new(validators: usize, phase: u64) -> NodeBook {
        NodeBook {
            validators,
            height: 0,
            rounds: Vec::new(),
            spare_rounds: Vec::new(),
            arrivals: Vec::new(),
            proposals: Vec::new(),
            blocks: Vec::new(),
            steps: vec![RoundStep::default()],
            wakes: Vec::new(),
            last_wake: None,
            phase,
            delayed: Vec::new(),
            twins: Vec::new(),
            conflicts: Vec::new(),
        }
    }

    /// Move to `height` (the node's consensus height), forgetting the previous height's votes,
    /// proposals and parts; nothing happens when it is already there.
    pub fn start_height(&mut self, height: Height) {
        if self.height == height {
            return;
        }
        self.height = height;
        self.spare_rounds.append(&mut self.rounds);
        self.arrivals.clear();
        self.proposals.clear();
        self.blocks.clear();
        self.twins.clear();
        self.conflicts.clear();
    }

    /// Keep `vote`, which conflicts with the vote holding its slot, unless the slot already has
    /// a conflict; true when kept.
    pub fn store_conflict(&mut self, vote: Vote) -> bool {
        let same_slot = |c: &Vote| {
            (c.round, c.vote_type, c.validator) == (vote.round, vote.vote_type, vote.validator)
        };
        if vote.height != self.height || self.conflicts.iter().any(same_slot) {
            return false;
        }
        self.conflicts.push(vote);
        true
    }

    /// Whether this node holds `vote` (in its slot or as its slot's conflict).
    pub fn holds(&self, vote: &Vote) -> bool {
        self.held(vote) == Some(*vote) || self.conflicts.contains(vote)
    }

    /// The value (nil included) that `round`'s votes of type `kind` held here, conflicts
    /// included, give at least `quorum` of the power, if any (CometBFT's
    /// `VoteSet.TwoThirdsMajority`, which counts a conflicting vote toward a block a peer
    /// claimed two thirds for).
    pub fn two_thirds(
        &self,
        round: Round,
        kind: usize,
        powers: &[u64],
        quorum: u64,
    ) -> Option<Option<ValueId>> {
        let held = self.round(round)?;
        let mut sums: Vec<(Option<ValueId>, u64)> = Vec::new();
        let conflicts = self
            .conflicts
            .iter()
            .filter(|c| c.round == round && type_index(c.vote_type) == kind);
        for vote in held
            .votes(kind, self.height, round)
            .chain(conflicts.copied())
        {
            let power = powers
                .get(usize::from(vote.validator))
                .copied()
                .unwrap_or(0);
            match sums.iter_mut().find(|(value, _)| *value == vote.value) {
                Some((_, sum)) => *sum += power,
                None => sums.push((vote.value, power)),
            }
        }
        sums.into_iter()
            .find(|&(_, sum)| sum >= quorum)
            .map(|(value, _)| value)
    }

    /// The votes of `round`, created on first use.
    pub fn round_mut(&mut self, round: Round) -> &mut RoundVotes {
        let r = round as usize;
        while self.rounds.len() <= r {
            let mut fresh = self.spare_rounds.pop().unwrap_or_default();
            fresh.reset(self.validators);
            self.rounds.push(fresh);
        }
        &mut self.rounds[r]
    }

    /// The votes of `round`, if any arrived.
    pub fn round(&self, round: Round) -> Option<&RoundVotes> {
        self.rounds.get(round as usize)
    }

    /// The vote held for `vote`'s slot (same round, type and signer), if any.
    pub fn held(&self, vote: &Vote) -> Option<Vote> {
        let value = self
            .round(vote.round)?
            .value(type_index(vote.vote_type), usize::from(vote.validator))?;
        Some(Vote {
            height: self.height,
            value,
            ..*vote
        })
    }

    /// Store `vote` (of this height) arriving at `t` if its slot is free; false when a vote
    /// already holds it.
    pub fn store(&mut self, vote: Vote, t: SimTime) -> bool {
        let (k, i) = (type_index(vote.vote_type), usize::from(vote.validator));
        if i >= self.validators {
            return false;
        }
        if vote.height != self.height || !self.round_mut(vote.round).store(k, i, vote.value) {
            return false;
        }
        self.arrivals.push((t, vote.round, k as u8, vote.validator));
        true
    }

    /// File `vote` (of any height) arriving at `t`: stored when its slot is free (as `store`),
    /// else said whether the slot holds this very vote. One lookup where `store` then `held`
    /// took two: a node receives most votes several times.
    pub fn file(&mut self, vote: Vote, t: SimTime) -> Filed {
        let (k, i) = (type_index(vote.vote_type), usize::from(vote.validator));
        if vote.height != self.height || i >= self.validators {
            return Filed::Other;
        }
        let round = self.round_mut(vote.round);
        match round.value(k, i) {
            Some(value) if value == vote.value => Filed::Held,
            Some(_) => Filed::Other,
            None => {
                round.store(k, i, vote.value);
                self.arrivals.push((t, vote.round, k as u8, vote.validator));
                Filed::New
            }
        }
    }

    /// The proposal kept for `round`.
    pub fn proposal(&self, round: Round) -> Option<Proposal> {
        self.proposals
            .iter()
            .find(|(p, _)| p.round == round)
            .map(|(p, _)| *p)
    }

    /// The second proposal of `round` an equivocating proposer shows the second side.
    pub fn twin(&self, round: Round) -> Option<Proposal> {
        self.twins.iter().find(|p| p.round == round).copied()
    }

    /// Keep `proposal` if it is the first of its round; true when kept.
    pub fn keep_proposal(&mut self, proposal: Proposal) -> bool {
        if self.proposal(proposal.round).is_some() {
            return false;
        }
        self.proposals.push((proposal, false));
        true
    }

    /// The part set of `value`, if the node knows its header.
    pub fn parts(&self, value: ValueId) -> Option<&PartSet> {
        self.blocks.iter().find(|b| b.value == value)
    }

    /// The part set of `value`, created empty with `total` parts if new.
    pub fn parts_mut(&mut self, value: ValueId, total: u16) -> &mut PartSet {
        match self.blocks.iter().position(|b| b.value == value) {
            Some(i) => &mut self.blocks[i],
            None => {
                self.blocks.push(PartSet {
                    value,
                    total,
                    have: Bits::new(usize::from(total)),
                    fetched: None,
                    handed: false,
                });
                self.blocks.last_mut().expect("just pushed")
            }
        }
    }

    /// Start fetching `value` (`total` parts), whose header came with a polka or a commit, at
    /// `t`: an empty part set, announced to peers (NewValidBlock); false when the node already
    /// has a part set of it.
    pub fn fetch(&mut self, value: ValueId, total: u16, t: SimTime) -> bool {
        if self.parts(value).is_some() {
            return false;
        }
        self.parts_mut(value, total).fetched = Some(t);
        true
    }

    /// Record a round-state change at `since`; false when nothing changed.
    pub fn enter(&mut self, step: RoundStep) -> bool {
        let last = self.steps[self.steps.len() - 1];
        if (last.height, last.round, last.step) == (step.height, step.round, step.step) {
            return false;
        }
        if self.steps.len() == STEPS_KEPT {
            self.steps.remove(0);
        }
        self.steps.push(step);
        true
    }

    /// The latest round state entered at or before `t` (the oldest kept, if all are later).
    pub fn step_at(&self, t: SimTime) -> RoundStep {
        self.steps
            .iter()
            .rev()
            .find(|s| s.since <= t)
            .copied()
            .unwrap_or(self.steps[0])
    }

    /// The node's current round state.
    pub fn step_now(&self) -> RoundStep {
        self.steps[self.steps.len() - 1]
    }
}

/// What `NodeBook::file` did with a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filed {
    /// Stored: its slot was free.
    New,
    /// Its slot holds this very vote.
    Held,
    /// Not stored: another height, an unknown signer, or its slot holds another value.
    Other,
}

/// What a node knows of one peer, per direction of their connection (CometBFT's `PeerState`
/// as the sending side keeps it).
#[derive(Clone, Debug, Default)]
pub struct PeerKnowledge {
    /// The height the sets below are about.
    pub height: Height,
    /// Votes the peer is known to have: for each round from 0, the words of the prevote set
    /// then of the precommit set, one buffer kept across heights (cleared, not freed).
    votes: Vec<u64>,
    /// Rounds whose proposal was exchanged on this connection.
    pub proposals: Vec<Round>,
    /// Blocks whose header the peer knows, with the parts exchanged on this connection.
    pub parts: Vec<(ValueId, Bits)>,
    /// How far the peer's HasVote announcements have been read.
    pub has_vote_cursor: usize,
    /// The latest height whose commit was sent for catch-up.
    pub certificate_sent: Height,
    /// When the sender next queries the peer with VoteSetMaj23.
    pub maj23_next: SimTime,
    /// Votes sent on this connection because the peer's VoteSetBits lacked them.
    pub maj23_sent: Vec<Vote>,
}

impl PeerKnowledge {
    /// Start over for `height` (the sets of an older height say nothing about this one).
    pub fn at_height(&mut self, height: Height) {
        if self.height != height {
            self.height = height;
            self.votes.clear();
            self.proposals.clear();
            self.parts.clear();
            self.has_vote_cursor = 0;
            self.maj23_sent.clear();
        }
    }

    /// The words of the set of votes of `round` and type index `kind` the peer is known to
    /// have, among `validators` validators; created (with the rounds before) on first use.
    pub fn votes_mut(&mut self, round: Round, kind: usize, validators: usize) -> &mut [u64] {
        let words = validators.div_ceil(64);
        let start = (round as usize * 2 + kind) * words;
        if self.votes.len() < start + words {
            self.votes.resize((round as usize + 1) * 2 * words, 0);
        }
        &mut self.votes[start..start + words]
    }

    /// Mark that the peer has vote `validator` of `round` and type index `kind`.
    #[inline]
    pub fn knows(&mut self, round: Round, kind: usize, validator: u16, validators: usize) {
        word_set(
            self.votes_mut(round, kind, validators),
            usize::from(validator),
        );
    }

    /// Mark that the peer has `vote`.
    #[inline]
    pub fn knows_vote(&mut self, vote: &Vote, validators: usize) {
        self.knows(
            vote.round,
            type_index(vote.vote_type),
            vote.validator,
            validators,
        );
    }

    /// Read the peer's HasVote announcements: its `arrivals` (the peer's book's, at this
    /// height) from the cursor on, up to the last that arrived at or before `heard_by`.
    pub fn hear_has_votes(
        &mut self,
        arrivals: &[(SimTime, Round, u8, u16)],
        heard_by: u64,
        validators: usize,
    ) {
        let mut next = self.has_vote_cursor;
        // By runs of one round and type: the run's known set is looked up once.
        while let Some(&(at, round, kind, _)) = arrivals.get(next) {
            if at.as_nanos() > heard_by {
                break;
            }
            let known = self.votes_mut(round, usize::from(kind), validators);
            while let Some(&(at, r, k, validator)) = arrivals.get(next) {
                if at.as_nanos() > heard_by || (r, k) != (round, kind) {
                    break;
                }
                word_set(known, usize::from(validator));
                next += 1;
            }
        }
        self.has_vote_cursor = next;
    }

    /// Mark that the peer knows the header of `value` (a proposal of it was exchanged, or the
    /// peer announced it with NewValidBlock).
    pub fn knows_header(&mut self, value: ValueId, total: u16) {
        if !self.parts.iter().any(|(v, _)| *v == value) {
            self.parts.push((value, Bits::new(usize::from(total))));
        }
    }

    /// Mark that part `index` of `value` was exchanged.
    pub fn knows_part(&mut self, value: ValueId, total: u16, index: u16) {
        self.knows_header(value, total);
        if let Some((_, bits)) = self.parts.iter_mut().find(|(v, _)| *v == value) {
            bits.set(usize::from(index));
        }
    }
}

/// Number of parts of a block of `bytes` bytes.
pub fn part_count(bytes: u32) -> u16 {
    u16::try_from(bytes.div_ceil(BLOCK_PART_BYTES).max(1)).unwrap_or(u16::MAX)
}

/// Bytes on the wire of part `index` of a block of `bytes` bytes.
pub fn part_bytes(bytes: u32, index: u16) -> u32 {
    let total = part_count(bytes);
    let payload = if index + 1 < total {
        BLOCK_PART_BYTES
    } else {
        bytes - BLOCK_PART_BYTES * u32::from(total - 1)
    };
    payload + PART_OVERHEAD_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_list_what_the_other_set_lacks() {
        let mut a = Bits::new(130);
        let mut b = Bits::new(130);
        for i in [0, 5, 64, 127, 129] {
            a.set(i);
        }
        b.set(5);
        b.set(129);
        let mut out = Vec::new();
        a.missing_from(&b, &mut out);
        assert_eq!(out, vec![0, 64, 127]);
        assert_eq!(a.count(), 5);
        a.clear();
        assert_eq!(a.count(), 0);
    }

    #[test]
    fn a_block_splits_into_64_kib_parts() {
        assert_eq!(part_count(1), 1);
        assert_eq!(part_count(65_536), 1);
        assert_eq!(part_count(1 << 20), 16);
        assert_eq!(part_count((1 << 20) + 1), 17);
        assert_eq!(part_bytes((1 << 20) + 1, 16), 1 + PART_OVERHEAD_BYTES);
        assert_eq!(part_bytes(1 << 20, 3), 65_536 + PART_OVERHEAD_BYTES);
    }

    #[test]
    fn a_book_keeps_the_first_vote_per_slot_and_logs_arrivals() {
        let mut book = NodeBook::new(4, 0);
        book.start_height(1);
        let vote = Vote {
            height: 1,
            round: 0,
            vote_type: VoteType::Prevote,
            value: Some(ValueId(3)),
            validator: 2,
        };
        assert!(book.store(vote, SimTime(5)));
        let conflicting = Vote {
            value: None,
            ..vote
        };
        assert!(!book.store(conflicting, SimTime(6)), "slot taken");
        assert_eq!(book.held(&conflicting), Some(vote));
        assert_eq!(book.arrivals, vec![(SimTime(5), 0, 0, 2)]);
        assert!(
            !book.store(
                Vote {
                    validator: 9,
                    ..vote
                },
                SimTime(7)
            ),
            "no such validator"
        );
    }

    #[test]
    fn peers_see_the_round_state_that_was_current_then() {
        let mut book = NodeBook::new(4, 0);
        let at = |t, round, step| RoundStep {
            since: SimTime(t),
            height: 1,
            round,
            step,
        };
        assert!(book.enter(at(10, 0, Step::Propose)));
        assert!(!book.enter(at(11, 0, Step::Propose)), "no change");
        book.enter(at(20, 0, Step::Prevote));
        book.enter(at(30, 1, Step::Propose));
        assert_eq!(book.step_at(SimTime(25)).step, Step::Prevote);
        assert_eq!(book.step_at(SimTime(35)).round, 1);
        assert_eq!(book.step_now().round, 1);
    }
}
