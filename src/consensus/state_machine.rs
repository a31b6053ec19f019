//! Algorithm 1 of "The latest gossip on BFT consensus" as a pure state machine.
//!
//! [`ConsensusState::apply`] takes one [`Input`] and appends the [`Output`]s it causes, in order.
//! The validator counts its own proposals and votes at once, as if delivered to itself, and the
//! "upon" rules are evaluated until none fires. Comments `// L22` name the paper's lines.
//! Messages of later heights are buffered and replayed when that height starts, which is how a
//! validator that fell behind catches up from a commit certificate (L49).

use super::votekeeper::{VoteKeeper, VoteOutcome};
use super::{
    Evidence, Height, Message, Proposal, Round, Step, TimeoutKind, ValidatorIndex, ValidatorSet,
    ValueId, Vote, VoteType,
};
use std::collections::BTreeMap;

/// What the state machine needs to know about the world, read-only.
pub trait Context {
    /// The validator set (powers, quorum thresholds).
    fn validators(&self) -> &ValidatorSet;
    /// `proposer(h, r)` of the paper.
    fn proposer(&self, height: Height, round: Round) -> ValidatorIndex;
}

/// Per-validator behaviour switches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Amnesia: ignore the lock at L23 and L29 (a Byzantine behaviour).
    pub ignore_lock: bool,
    /// A full node: follows rounds and decides like a validator but signs nothing (its votes
    /// are neither sent nor counted). Its index lies outside the validator set.
    pub non_validator: bool,
}

/// Something that happened to the validator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Start height `h` at round 0 (only the first height; later ones start on `Timeout(Commit)`).
    StartHeight(Height),
    /// The value to propose, answering `Output::GetValue` (L17 getValue()).
    ProposeValue {
        /// Height asked for.
        height: Height,
        /// Round asked for.
        round: Round,
        /// The new value.
        value: ValueId,
    },
    /// A proposal arrived.
    Proposal(Proposal),
    /// A vote arrived.
    Vote(Vote),
    /// A commit certificate for the current height, already verified by the caller: the decided
    /// proposal of `round` and 2f+1 precommits for `value` (CometBFT's catch-up commit). A
    /// validator that fell behind decides from it as L49 would.
    Certificate {
        /// Height decided.
        height: Height,
        /// Round whose precommits decided it.
        round: Round,
        /// The decided value.
        value: ValueId,
    },
    /// The whole block of `value` at `height` arrived without a proposal of it in hand.
    /// CometBFT fetches the block a polka or a commit is for: `addVote` and `enterCommit`
    /// (consensus/state.go) make a part set from the votes' `PartSetHeader` and peers send the
    /// parts. Once it is complete, CometBFT locks on it (`enterPrecommit` checks
    /// `ProposalBlock`, not the proposal), makes it the valid block and commits it
    /// (`handleCompleteProposal`): here a held block stands for the proposal of L36 and L49.
    Block {
        /// Height of the block.
        height: Height,
        /// The block.
        value: ValueId,
    },
    /// A timer fired.
    Timeout {
        /// Which timer.
        kind: TimeoutKind,
        /// Height it was scheduled at.
        height: Height,
        /// Round it was scheduled at.
        round: Round,
    },
}

/// What the validator wants done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send to every other validator (the state machine has already counted it itself).
    Broadcast(Message),
    /// Ask for a new value to propose; answer with `Input::ProposeValue`.
    GetValue {
        /// Height.
        height: Height,
        /// Round.
        round: Round,
    },
    /// Start a timer; it comes back as `Input::Timeout`.
    ScheduleTimeout {
        /// Which timer.
        kind: TimeoutKind,
        /// Height.
        height: Height,
        /// Round.
        round: Round,
    },
    /// The height is decided (L51).
    Decide {
        /// Height decided.
        height: Height,
        /// Round whose precommits decided it.
        round: Round,
        /// The decided value.
        value: ValueId,
    },
}

/// One validator's consensus state.
#[derive(Clone, Debug)]
pub struct ConsensusState {
    id: ValidatorIndex,
    config: Config,
    /// `h_p`; 0 until `Input::StartHeight`.
    height: Height,
    /// `round_p`.
    round: Round,
    /// `step_p`.
    step: Step,
    /// `(lockedRound_p, lockedValue_p)`; `None` is the paper's (−1, nil).
    locked: Option<(Round, ValueId)>,
    /// `(validRound_p, validValue_p)`; `None` is the paper's (−1, nil).
    valid: Option<(Round, ValueId)>,
    /// The round and value decided at the current height (step `Commit`).
    decision: Option<(Round, ValueId)>,
    /// As proposer of the current round, waiting for `Input::ProposeValue` (L17).
    awaiting_value: bool,
    /// Which "for the first time" rules already fired in the current round.
    fired: FiredInRound,
    /// Proposals of the current height from the round's proposer, the first per round, sorted
    /// by round.
    proposals: Vec<Proposal>,
    /// Blocks of the current height held without their proposal (`Input::Block`).
    held: Vec<ValueId>,
    /// Prevotes and precommits of the current height; evidence of all heights.
    votes: VoteKeeper,
    /// Messages of later heights, per height in arrival order: a height's start replays its
    /// own messages only, so catching up many heights costs each buffered message once.
    future: BTreeMap<Height, Vec<Message>>,
    /// Messages in `future`.
    future_len: usize,
    /// Emptied buffers of replayed heights, reused (keeps their capacity).
    spare: Vec<Vec<Message>>,
}

/// The rules of Algorithm 1 that fire once per round.
#[derive(Clone, Copy, Debug, Default)]
struct FiredInRound {
    /// L34: timeout prevote scheduled.
    prevote_timeout: bool,
    /// L36: polka for the proposal seen.
    polka_for_value: bool,
    /// L47: timeout precommit scheduled.
    precommit_timeout: bool,
}

impl ConsensusState {
    /// A validator `id` that has not started yet.
    pub fn new(id: ValidatorIndex, config: Config) -> Self {
        ConsensusState {
            id,
            config,
            height: 0,
            round: 0,
            step: Step::Propose,
            locked: None,
            valid: None,
            decision: None,
            awaiting_value: false,
            fired: FiredInRound::default(),
            proposals: Vec::new(),
            held: Vec::new(),
            votes: VoteKeeper::default(),
            future: BTreeMap::new(),
            future_len: 0,
            spare: Vec::new(),
        }
    }

    /// Apply one input; outputs are appended to `out` (in the order they happen). Inlined into
    /// the simulator's event loop with `on_message`: every delivered message passes
    /// here, and the calls were a tenth of an event's instructions.
    #[inline(always)]
    pub fn apply<C: Context>(&mut self, ctx: &C, input: Input, out: &mut Vec<Output>) {
        match input {
            // L11
            Input::StartHeight(height) if height > self.height => {
                self.start_height(ctx, height, out)
            }
            Input::StartHeight(_) => {}
            Input::ProposeValue {
                height,
                round,
                value,
            } => self.on_propose_value(ctx, height, round, value, out),
            Input::Proposal(proposal) => self.on_message(ctx, Message::Proposal(proposal), out),
            Input::Vote(vote) => self.on_message(ctx, Message::Vote(vote), out),
            Input::Certificate {
                height,
                round,
                value,
            } => {
                // L49 from a certificate: only the height being decided can use it.
                if height == self.height && self.height > 0 && self.step != Step::Commit {
                    self.commit(round, value, out);
                }
            }
            Input::Block { height, value } => self.on_block(ctx, height, value, out),
            Input::Timeout {
                kind,
                height,
                round,
            } => self.on_timeout(ctx, kind, height, round, out),
        }
    }

    /// Equivocation evidence this validator has seen, in the order seen.
    pub fn evidence(&self) -> &[Evidence] {
        self.votes.evidence()
    }

    /// This validator's index.
    pub fn id(&self) -> ValidatorIndex {
        self.id
    }

    /// Its behaviour switches.
    pub fn config(&self) -> Config {
        self.config
    }

    /// The current height `h_p` (0 before `StartHeight`).
    pub fn height(&self) -> Height {
        self.height
    }

    /// The current round `round_p`.
    pub fn round(&self) -> Round {
        self.round
    }

    /// The current step `step_p` (`Commit` once the height is decided).
    pub fn step(&self) -> Step {
        self.step
    }

    /// `(lockedRound_p, lockedValue_p)`, `None` when not locked.
    pub fn locked(&self) -> Option<(Round, ValueId)> {
        self.locked
    }

    /// `(validRound_p, validValue_p)`, `None` when no polka for a proposal was seen.
    pub fn valid(&self) -> Option<(Round, ValueId)> {
        self.valid
    }

    /// The round and value decided at the current height, while waiting in step `Commit`.
    pub fn decision(&self) -> Option<(Round, ValueId)> {
        self.decision
    }

    /// The votes counted at the current height.
    pub fn votes(&self) -> &VoteKeeper {
        &self.votes
    }

    /// Number of buffered messages for later heights.
    pub fn buffered(&self) -> usize {
        self.future_len
    }

    // ---- inputs ----

    /// L11 and L53–54: forget the height's state, StartRound(0), replay buffered messages.
    fn start_height<C: Context>(&mut self, ctx: &C, height: Height, out: &mut Vec<Output>) {
        self.height = height;
        self.locked = None;
        self.valid = None;
        self.decision = None;
        self.proposals.clear();
        self.held.clear();
        self.votes.reset(height, ctx.validators().len());
        self.start_round(ctx, 0, out);
        self.run_rules(ctx, out);

        // Lower heights are dropped, this one replayed; later ones stay buffered.
        while let Some(entry) = self.future.first_entry()
            && *entry.key() <= height
        {
            let (buffered_height, mut pending) = entry.remove_entry();
            self.future_len -= pending.len();
            if buffered_height == height {
                for message in pending.drain(..) {
                    self.on_message(ctx, message, out);
                }
            }
            pending.clear();
            self.spare.push(pending);
        }
    }

    /// L17–19: the value asked for by `GetValue` arrived.
    fn on_propose_value<C: Context>(
        &mut self,
        ctx: &C,
        height: Height,
        round: Round,
        value: ValueId,
        out: &mut Vec<Output>,
    ) {
        if !self.awaiting_value
            || height != self.height
            || round != self.round
            || self.step != Step::Propose
        {
            return;
        }
        self.awaiting_value = false;
        self.broadcast_proposal(ctx, value, None, out);
        self.run_rules(ctx, out);
    }

    /// A block of the current height arrived whole without its proposal: L49 in any round
    /// whose precommits it completes, then the rules of the current round (L36).
    fn on_block<C: Context>(
        &mut self,
        ctx: &C,
        height: Height,
        value: ValueId,
        out: &mut Vec<Output>,
    ) {
        if height != self.height
            || self.height == 0
            || self.step == Step::Commit
            || self.held.contains(&value)
        {
            return;
        }
        self.held.push(value);
        let rounds: Vec<Round> = self.votes.rounds().collect();
        for round in rounds {
            if self.decide_if_committed(ctx, round, out) {
                return;
            }
        }
        self.run_rules(ctx, out);
    }

    /// A proposal or vote arrived.
    #[inline(always)]
    fn on_message<C: Context>(&mut self, ctx: &C, message: Message, out: &mut Vec<Output>) {
        let height = message.height();
        if height > self.height {
            let spare = &mut self.spare;
            self.future
                .entry(height)
                .or_insert_with(|| spare.pop().unwrap_or_default())
                .push(message);
            self.future_len += 1;
            return;
        }
        if height < self.height || self.height == 0 || self.step == Step::Commit {
            return;
        }
        let counted = match message {
            Message::Proposal(proposal) => self.record_proposal(ctx, proposal),
            // A conflicting vote counts toward its value: it may complete a polka. The rules
            // ran to a fixed point after the last input, and every rule that reads votes is a
            // count reaching 2f+1 or f+1, so a vote that takes no count across its threshold
            // cannot make one fire: most votes stop here.
            Message::Vote(vote) => match self.votes.add_vote_crossing(vote, ctx.validators()) {
                (VoteOutcome::Counted | VoteOutcome::Equivocation, crossed) => crossed,
                (VoteOutcome::Duplicate | VoteOutcome::Rejected, _) => false,
            },
        };
        if !counted {
            return;
        }
        let round = message.round();
        // L49 in any round: only a message of that round can complete a commit there.
        if round != self.round && self.decide_if_committed(ctx, round, out) {
            return;
        }
        // L55
        if round > self.round && self.votes.sender_power(round) >= ctx.validators().one_third_plus()
        {
            self.start_round(ctx, round, out);
        }
        self.run_rules(ctx, out);
    }

    /// L57, L61, L65, and the end of the commit wait (L53–54).
    fn on_timeout<C: Context>(
        &mut self,
        ctx: &C,
        kind: TimeoutKind,
        height: Height,
        round: Round,
        out: &mut Vec<Output>,
    ) {
        if kind == TimeoutKind::Commit {
            if height == self.height
                && self.step == Step::Commit
                && let Some(next) = height.checked_add(1)
            {
                self.start_height(ctx, next, out);
            }
            return;
        }
        if height != self.height || round != self.round || self.step == Step::Commit {
            return;
        }
        match kind {
            // L57
            TimeoutKind::Propose if self.step == Step::Propose => {
                self.broadcast_vote(ctx, VoteType::Prevote, None, out);
                self.step = Step::Prevote;
            }
            // L61
            TimeoutKind::Prevote if self.step == Step::Prevote => {
                self.broadcast_vote(ctx, VoteType::Precommit, None, out);
                self.step = Step::Precommit;
            }
            // L65
            TimeoutKind::Precommit => match round.checked_add(1) {
                Some(next) => self.start_round(ctx, next, out),
                None => return,
            },
            _ => return,
        }
        self.run_rules(ctx, out);
    }

    // ---- the rules ----

    /// L11–21 StartRound(round).
    fn start_round<C: Context>(&mut self, ctx: &C, round: Round, out: &mut Vec<Output>) {
        self.round = round;
        self.step = Step::Propose;
        self.fired = FiredInRound::default();
        self.awaiting_value = false;
        if ctx.proposer(self.height, round) == self.id {
            match self.valid {
                // L15–16
                Some((valid_round, value)) => {
                    self.broadcast_proposal(ctx, value, Some(valid_round), out)
                }
                // L17–18
                None => {
                    self.awaiting_value = true;
                    out.push(Output::GetValue {
                        height: self.height,
                        round,
                    });
                }
            }
        } else {
            // L20
            out.push(Output::ScheduleTimeout {
                kind: TimeoutKind::Propose,
                height: self.height,
                round,
            });
        }
    }

    /// Evaluate the rules of the current round until none fires.
    fn run_rules<C: Context>(&mut self, ctx: &C, out: &mut Vec<Output>) {
        while self.step != Step::Commit {
            let round = self.round;
            if self.decide_if_committed(ctx, round, out) {
                return;
            }
            // Progress before timers: once L36 or L44 moved on, L34's timer is moot.
            let fired = self.upon_proposal(ctx, out)
                || self.upon_polka_for_proposal(ctx, out)
                || self.upon_polka_for_nil(ctx, out)
                || self.upon_polka_any(ctx, out)
                || self.upon_precommits_any(ctx, out);
            if !fired {
                return;
            }
        }
    }

    /// L22–27 and L28–33: prevote on the current round's proposal.
    fn upon_proposal<C: Context>(&mut self, ctx: &C, out: &mut Vec<Output>) -> bool {
        if self.step != Step::Propose {
            return false;
        }
        let Some(proposal) = self.proposal(self.round) else {
            return false;
        };
        let value = proposal.value;
        let prevote = match proposal.valid_round {
            // L22
            None => {
                // L23: lockedRound = −1 ∨ lockedValue = v
                let free = self.config.ignore_lock
                    || self.locked.is_none_or(|(_, locked)| locked == value);
                (valid(value) && free).then_some(value)
            }
            // L28
            Some(valid_round)
                if valid_round < self.round
                    && self
                        .votes
                        .power_for(valid_round, VoteType::Prevote, Some(value))
                        >= ctx.validators().quorum() =>
            {
                // L29: lockedRound ≤ vr ∨ lockedValue = v
                let free = self.config.ignore_lock
                    || self.locked.is_none_or(|(locked_round, locked)| {
                        locked_round <= valid_round || locked == value
                    });
                (valid(value) && free).then_some(value)
            }
            Some(_) => return false,
        };
        self.broadcast_vote(ctx, VoteType::Prevote, prevote, out);
        self.step = Step::Prevote;
        true
    }

    /// L36–43: a polka for the current round's proposal (or a block held without it,
    /// `Input::Block`), for the first time.
    fn upon_polka_for_proposal<C: Context>(&mut self, ctx: &C, out: &mut Vec<Output>) -> bool {
        if self.fired.polka_for_value || !matches!(self.step, Step::Prevote | Step::Precommit) {
            return false;
        }
        let round = self.round;
        let Some(value) = self.block_with_quorum(ctx, round, VoteType::Prevote) else {
            return false;
        };
        self.fired.polka_for_value = true;
        if self.step == Step::Prevote {
            self.locked = Some((round, value));
            self.broadcast_vote(ctx, VoteType::Precommit, Some(value), out);
            self.step = Step::Precommit;
        }
        self.valid = Some((round, value));
        true
    }

    /// L44–46: a polka for nil in the current round.
    fn upon_polka_for_nil<C: Context>(&mut self, ctx: &C, out: &mut Vec<Output>) -> bool {
        if self.step != Step::Prevote
            || self.votes.power_for(self.round, VoteType::Prevote, None) < ctx.validators().quorum()
        {
            return false;
        }
        self.broadcast_vote(ctx, VoteType::Precommit, None, out);
        self.step = Step::Precommit;
        true
    }

    /// L34–35: 2f+1 prevotes of any kind in the current round, for the first time.
    fn upon_polka_any<C: Context>(&mut self, ctx: &C, out: &mut Vec<Output>) -> bool {
        if self.fired.prevote_timeout
            || self.step != Step::Prevote
            || self.votes.total(self.round, VoteType::Prevote) < ctx.validators().quorum()
        {
            return false;
        }
        self.fired.prevote_timeout = true;
        out.push(Output::ScheduleTimeout {
            kind: TimeoutKind::Prevote,
            height: self.height,
            round: self.round,
        });
        true
    }

    /// L47–48: 2f+1 precommits of any kind in the current round, for the first time.
    fn upon_precommits_any<C: Context>(&mut self, ctx: &C, out: &mut Vec<Output>) -> bool {
        if self.fired.precommit_timeout
            || self.votes.total(self.round, VoteType::Precommit) < ctx.validators().quorum()
        {
            return false;
        }
        self.fired.precommit_timeout = true;
        out.push(Output::ScheduleTimeout {
            kind: TimeoutKind::Precommit,
            height: self.height,
            round: self.round,
        });
        true
    }

    /// L49–54: the proposal of `round` (or a block held without it) has 2f+1 precommits: decide, then wait for the commit
    /// timeout before starting the next height.
    fn decide_if_committed<C: Context>(
        &mut self,
        ctx: &C,
        round: Round,
        out: &mut Vec<Output>,
    ) -> bool {
        if self.step == Step::Commit {
            return false;
        }
        let Some(value) = self.block_with_quorum(ctx, round, VoteType::Precommit) else {
            return false;
        };
        self.commit(round, value, out);
        true
    }

    /// L51: decide `value`, then wait for the commit timeout (L53–54 run when it fires).
    fn commit(&mut self, round: Round, value: ValueId, out: &mut Vec<Output>) {
        self.decision = Some((round, value));
        self.step = Step::Commit;
        self.awaiting_value = false;
        out.push(Output::Decide {
            height: self.height,
            round,
            value,
        });
        out.push(Output::ScheduleTimeout {
            kind: TimeoutKind::Commit,
            height: self.height,
            round,
        });
    }

    // ---- helpers ----

    /// Send a proposal for the current round and count it as received.
    fn broadcast_proposal<C: Context>(
        &mut self,
        ctx: &C,
        value: ValueId,
        valid_round: Option<Round>,
        out: &mut Vec<Output>,
    ) {
        let proposal = Proposal {
            height: self.height,
            round: self.round,
            value,
            valid_round,
            proposer: self.id,
        };
        out.push(Output::Broadcast(Message::Proposal(proposal)));
        self.record_proposal(ctx, proposal);
    }

    /// Send a vote for the current round and count it as received.
    fn broadcast_vote<C: Context>(
        &mut self,
        ctx: &C,
        vote_type: VoteType,
        value: Option<ValueId>,
        out: &mut Vec<Output>,
    ) {
        if self.config.non_validator {
            return;
        }
        let vote = Vote {
            height: self.height,
            round: self.round,
            vote_type,
            value,
            validator: self.id,
        };
        out.push(Output::Broadcast(Message::Vote(vote)));
        self.votes.add_vote(vote, ctx.validators());
    }

    /// Keep `proposal` if it is the first of its round from that round's proposer.
    fn record_proposal<C: Context>(&mut self, ctx: &C, proposal: Proposal) -> bool {
        if proposal.proposer != ctx.proposer(self.height, proposal.round) {
            return false;
        }
        let at = match self.proposals.last() {
            Some(last) if last.round < proposal.round => Err(self.proposals.len()),
            _ => self
                .proposals
                .binary_search_by_key(&proposal.round, |p| p.round),
        };
        let Err(at) = at else {
            return false;
        };
        self.proposals.insert(at, proposal);
        self.votes
            .add_sender(proposal.round, proposal.proposer, ctx.validators());
        true
    }

    /// The value of `round`'s proposal, or of a block held without one, that has 2f+1 votes
    /// of `vote_type` in `round`, if any (the proposal's first).
    fn block_with_quorum<C: Context>(
        &self,
        ctx: &C,
        round: Round,
        vote_type: VoteType,
    ) -> Option<ValueId> {
        let quorum = ctx.validators().quorum();
        let proposed = self.proposal(round).map(|p| p.value);
        proposed
            .into_iter()
            .chain(self.held.iter().copied())
            .find(|&value| {
                valid(value) && self.votes.power_for(round, vote_type, Some(value)) >= quorum
            })
    }

    /// The proposal kept for `round`, if any.
    fn proposal(&self, round: Round) -> Option<Proposal> {
        match self.proposals.last() {
            Some(last) if last.round == round => Some(*last),
            _ => self
                .proposals
                .binary_search_by_key(&round, |p| p.round)
                .ok()
                .map(|i| self.proposals[i]),
        }
    }
}

/// `valid(v)` of the paper: every value is valid in this simulator.
fn valid(_value: ValueId) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::VotingPower;

    /// Validators by weight; `proposer(h, r) = (h + r) % n`.
    struct TestContext {
        validators: ValidatorSet,
    }

    impl Context for TestContext {
        fn validators(&self) -> &ValidatorSet {
            &self.validators
        }

        fn proposer(&self, height: Height, round: Round) -> ValidatorIndex {
            let n = self.validators.len() as u64;
            ((height + u64::from(round)) % n) as ValidatorIndex
        }
    }

    fn make_validators<const N: usize>(powers: [VotingPower; N]) -> TestContext {
        TestContext {
            validators: ValidatorSet::new(powers.to_vec()),
        }
    }

    /// One input and the outputs it must produce, in order.
    struct TestStep {
        desc: &'static str,
        input: Input,
        expected_outputs: Vec<Output>,
    }

    fn step(desc: &'static str, input: Input, expected_outputs: Vec<Output>) -> TestStep {
        TestStep {
            desc,
            input,
            expected_outputs,
        }
    }

    fn run_steps(ctx: &TestContext, state: &mut ConsensusState, steps: Vec<TestStep>) {
        let mut out = Vec::new();
        for (i, s) in steps.into_iter().enumerate() {
            out.clear();
            state.apply(ctx, s.input, &mut out);
            assert_eq!(out, s.expected_outputs, "step {i}: {}", s.desc);
        }
    }

    const V: ValueId = ValueId(10);
    const W: ValueId = ValueId(20);

    fn proposal(ctx: &TestContext, h: Height, r: Round, v: ValueId, vr: Option<Round>) -> Proposal {
        Proposal {
            height: h,
            round: r,
            value: v,
            valid_round: vr,
            proposer: ctx.proposer(h, r),
        }
    }

    fn propose_in(ctx: &TestContext, h: Height, r: Round, v: ValueId, vr: Option<Round>) -> Input {
        Input::Proposal(proposal(ctx, h, r, v, vr))
    }

    fn vote(t: VoteType, h: Height, r: Round, v: Option<ValueId>, from: ValidatorIndex) -> Vote {
        Vote {
            height: h,
            round: r,
            vote_type: t,
            value: v,
            validator: from,
        }
    }

    fn prevote(h: Height, r: Round, v: Option<ValueId>, from: ValidatorIndex) -> Input {
        Input::Vote(vote(VoteType::Prevote, h, r, v, from))
    }

    fn precommit(h: Height, r: Round, v: Option<ValueId>, from: ValidatorIndex) -> Input {
        Input::Vote(vote(VoteType::Precommit, h, r, v, from))
    }

    fn send_prevote(h: Height, r: Round, v: Option<ValueId>, me: ValidatorIndex) -> Output {
        Output::Broadcast(Message::Vote(vote(VoteType::Prevote, h, r, v, me)))
    }

    fn send_precommit(h: Height, r: Round, v: Option<ValueId>, me: ValidatorIndex) -> Output {
        Output::Broadcast(Message::Vote(vote(VoteType::Precommit, h, r, v, me)))
    }

    fn send_proposal(
        ctx: &TestContext,
        h: Height,
        r: Round,
        v: ValueId,
        vr: Option<Round>,
    ) -> Output {
        Output::Broadcast(Message::Proposal(proposal(ctx, h, r, v, vr)))
    }

    fn timeout(kind: TimeoutKind, height: Height, round: Round) -> Input {
        Input::Timeout {
            kind,
            height,
            round,
        }
    }

    fn schedule(kind: TimeoutKind, height: Height, round: Round) -> Output {
        Output::ScheduleTimeout {
            kind,
            height,
            round,
        }
    }

    fn decide(height: Height, round: Round, value: ValueId) -> Output {
        Output::Decide {
            height,
            round,
            value,
        }
    }

    /// Steps that take validator 0 of four to a lock on `value` in round 0 of height 1.
    fn lock_in_round_zero(ctx: &TestContext, value: ValueId) -> Vec<TestStep> {
        vec![
            step(
                "start: not the proposer",
                Input::StartHeight(1),
                vec![schedule(TimeoutKind::Propose, 1, 0)],
            ),
            step(
                "L22 prevote the proposal",
                propose_in(ctx, 1, 0, value, None),
                vec![send_prevote(1, 0, Some(value), 0)],
            ),
            step("one prevote", prevote(1, 0, Some(value), 1), vec![]),
            step(
                "L36 polka: lock and precommit",
                prevote(1, 0, Some(value), 2),
                vec![send_precommit(1, 0, Some(value), 0)],
            ),
        ]
    }

    /// Steps that move validator 0 from round 0 to round 1 by nil precommits and L65.
    fn fail_round_zero() -> Vec<TestStep> {
        vec![
            step("one nil precommit", precommit(1, 0, None, 1), vec![]),
            step(
                "L47 2f+1 precommits: timeout",
                precommit(1, 0, None, 2),
                vec![schedule(TimeoutKind::Precommit, 1, 0)],
            ),
            step(
                "L65 next round, proposer is 2",
                timeout(TimeoutKind::Precommit, 1, 0),
                vec![schedule(TimeoutKind::Propose, 1, 1)],
            ),
        ]
    }

    #[test]
    fn l14_l18_proposer_asks_for_a_value_then_proposes_and_prevotes_it() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(1, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "L17 proposer of (1, 0) asks for a value",
                    Input::StartHeight(1),
                    vec![Output::GetValue {
                        height: 1,
                        round: 0,
                    }],
                ),
                step(
                    "a value for another round is stale",
                    Input::ProposeValue {
                        height: 1,
                        round: 1,
                        value: W,
                    },
                    vec![],
                ),
                step(
                    "L18 broadcast the proposal, L22 prevote it",
                    Input::ProposeValue {
                        height: 1,
                        round: 0,
                        value: V,
                    },
                    vec![
                        send_proposal(&ctx, 1, 0, V, None),
                        send_prevote(1, 0, Some(V), 1),
                    ],
                ),
                step(
                    "a second value is ignored",
                    Input::ProposeValue {
                        height: 1,
                        round: 0,
                        value: W,
                    },
                    vec![],
                ),
            ],
        );
        assert_eq!((me.height(), me.round(), me.step()), (1, 0, Step::Prevote));
    }

    #[test]
    fn l20_non_proposer_schedules_the_propose_timeout() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "L20",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "starting the same height again does nothing",
                    Input::StartHeight(1),
                    vec![],
                ),
            ],
        );
        assert_eq!((me.height(), me.round(), me.step()), (1, 0, Step::Propose));
    }

    #[test]
    fn l22_prevotes_the_proposal_and_l36_locks_and_precommits_it() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(&ctx, &mut me, lock_in_round_zero(&ctx, V));
        assert_eq!(me.step(), Step::Precommit);
        assert_eq!(me.locked(), Some((0, V)));
        assert_eq!(me.valid(), Some((0, V)));
    }

    #[test]
    fn l22_prevotes_nil_when_locked_on_another_value() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        let mut steps = lock_in_round_zero(&ctx, W);
        steps.extend(fail_round_zero());
        steps.push(step(
            "L22 locked on W: prevote nil for V",
            propose_in(&ctx, 1, 1, V, None),
            vec![send_prevote(1, 1, None, 0)],
        ));
        run_steps(&ctx, &mut me, steps);
        assert_eq!(me.locked(), Some((0, W)));
    }

    #[test]
    fn amnesia_ignores_the_lock_at_l23() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(
            0,
            Config {
                ignore_lock: true,
                ..Config::default()
            },
        );
        let mut steps = lock_in_round_zero(&ctx, W);
        steps.extend(fail_round_zero());
        steps.push(step(
            "L22 with amnesia: prevote V despite the lock on W",
            propose_in(&ctx, 1, 1, V, None),
            vec![send_prevote(1, 1, Some(V), 0)],
        ));
        run_steps(&ctx, &mut me, steps);
        assert_eq!(me.locked(), Some((0, W)));
    }

    #[test]
    fn amnesia_ignores_the_lock_at_l29() {
        let ctx = make_validators([1, 1, 1, 1]);
        for (ignore_lock, expected) in [(false, None), (true, Some(V))] {
            let mut me = ConsensusState::new(
                0,
                Config {
                    ignore_lock,
                    ..Config::default()
                },
            );
            // Polka for V in round 0 that this validator saw without the proposal.
            let mut steps = vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step("prevote V", prevote(1, 0, Some(V), 1), vec![]),
                step("prevote V", prevote(1, 0, Some(V), 2), vec![]),
                step(
                    "prevote V: polka, no proposal",
                    prevote(1, 0, Some(V), 3),
                    vec![],
                ),
                step(
                    "L57",
                    timeout(TimeoutKind::Propose, 1, 0),
                    vec![
                        send_prevote(1, 0, None, 0),
                        schedule(TimeoutKind::Prevote, 1, 0),
                    ],
                ),
                step(
                    "L61",
                    timeout(TimeoutKind::Prevote, 1, 0),
                    vec![send_precommit(1, 0, None, 0)],
                ),
            ];
            steps.extend(fail_round_zero());
            // Locked on W in round 1.
            steps.extend([
                step(
                    "L22 proposal W in round 1",
                    propose_in(&ctx, 1, 1, W, None),
                    vec![send_prevote(1, 1, Some(W), 0)],
                ),
                step("prevote W", prevote(1, 1, Some(W), 1), vec![]),
                step(
                    "L36 lock W in round 1",
                    prevote(1, 1, Some(W), 2),
                    vec![send_precommit(1, 1, Some(W), 0)],
                ),
                step("precommit nil", precommit(1, 1, None, 1), vec![]),
                step(
                    "L47",
                    precommit(1, 1, None, 2),
                    vec![schedule(TimeoutKind::Precommit, 1, 1)],
                ),
                step(
                    "L65 round 2",
                    timeout(TimeoutKind::Precommit, 1, 1),
                    vec![schedule(TimeoutKind::Propose, 1, 2)],
                ),
                step(
                    "L28 re-proposal of V with vr 0 < lockedRound 1",
                    propose_in(&ctx, 1, 2, V, Some(0)),
                    vec![send_prevote(1, 2, expected, 0)],
                ),
            ]);
            run_steps(&ctx, &mut me, steps);
            assert_eq!(me.locked(), Some((1, W)));
        }
    }

    #[test]
    fn l28_reproposal_with_a_polka_in_its_valid_round_is_prevoted_even_if_locked_lower() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        let mut steps = lock_in_round_zero(&ctx, W);
        steps.extend(fail_round_zero());
        steps.extend([
            step(
                "L57 no proposal in round 1",
                timeout(TimeoutKind::Propose, 1, 1),
                vec![send_prevote(1, 1, None, 0)],
            ),
            step("prevote V in round 1", prevote(1, 1, Some(V), 1), vec![]),
            step(
                "L34",
                prevote(1, 1, Some(V), 2),
                vec![schedule(TimeoutKind::Prevote, 1, 1)],
            ),
            step(
                "polka V in round 1, no proposal",
                prevote(1, 1, Some(V), 3),
                vec![],
            ),
            step(
                "re-proposal for round 2 waits in the future round",
                propose_in(&ctx, 1, 2, V, Some(1)),
                vec![],
            ),
            step(
                "L55 f+1 in round 2, then L28: lockedRound 0 <= vr 1",
                prevote(1, 2, Some(V), 1),
                vec![
                    schedule(TimeoutKind::Propose, 1, 2),
                    send_prevote(1, 2, Some(V), 0),
                ],
            ),
        ]);
        run_steps(&ctx, &mut me, steps);
        assert_eq!((me.round(), me.step()), (2, Step::Prevote));
        assert_eq!(me.locked(), Some((0, W)));
    }

    #[test]
    fn l28_waits_for_the_polka_of_the_valid_round() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "proposal in round 1",
                    propose_in(&ctx, 1, 1, V, Some(0)),
                    vec![],
                ),
                step(
                    "L55 to round 1; vr 0 has no polka yet",
                    prevote(1, 1, None, 3),
                    vec![schedule(TimeoutKind::Propose, 1, 1)],
                ),
                step(
                    "a valid round not below the round is never used",
                    propose_in(&ctx, 1, 0, V, Some(0)),
                    vec![],
                ),
                step("prevote V in round 0", prevote(1, 0, Some(V), 1), vec![]),
                step("prevote V in round 0", prevote(1, 0, Some(V), 2), vec![]),
                step(
                    "L28 polka of round 0 complete",
                    prevote(1, 0, Some(V), 3),
                    vec![send_prevote(1, 1, Some(V), 0)],
                ),
            ],
        );
    }

    #[test]
    fn l34_schedules_the_prevote_timeout_once_per_round() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "L22",
                    propose_in(&ctx, 1, 0, V, None),
                    vec![send_prevote(1, 0, Some(V), 0)],
                ),
                step("prevote nil", prevote(1, 0, None, 1), vec![]),
                step(
                    "L34 2f+1 prevotes, mixed",
                    prevote(1, 0, Some(W), 2),
                    vec![schedule(TimeoutKind::Prevote, 1, 0)],
                ),
                step(
                    "fourth prevote: no second timeout",
                    prevote(1, 0, Some(W), 3),
                    vec![],
                ),
                step(
                    "L61",
                    timeout(TimeoutKind::Prevote, 1, 0),
                    vec![send_precommit(1, 0, None, 0)],
                ),
                step(
                    "L61 stale: already precommitted",
                    timeout(TimeoutKind::Prevote, 1, 0),
                    vec![],
                ),
            ],
        );
        assert_eq!(me.locked(), None);
    }

    #[test]
    fn l36_in_precommit_step_only_updates_the_valid_value_which_is_reproposed() {
        let ctx = make_validators([1, 1, 1, 1]);
        // Validator 2 proposes round 1 of height 1.
        let mut me = ConsensusState::new(2, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "L57",
                    timeout(TimeoutKind::Propose, 1, 0),
                    vec![send_prevote(1, 0, None, 2)],
                ),
                step("prevote V", prevote(1, 0, Some(V), 0), vec![]),
                step(
                    "L34",
                    prevote(1, 0, Some(V), 1),
                    vec![schedule(TimeoutKind::Prevote, 1, 0)],
                ),
                step(
                    "polka V, no proposal yet",
                    prevote(1, 0, Some(V), 3),
                    vec![],
                ),
                step(
                    "L61",
                    timeout(TimeoutKind::Prevote, 1, 0),
                    vec![send_precommit(1, 0, None, 2)],
                ),
                step(
                    "L36 late proposal: valid only",
                    propose_in(&ctx, 1, 0, V, None),
                    vec![],
                ),
            ],
        );
        assert_eq!(me.locked(), None);
        assert_eq!(me.valid(), Some((0, V)));
        run_steps(
            &ctx,
            &mut me,
            vec![
                step("precommit nil", precommit(1, 0, None, 0), vec![]),
                step(
                    "L47",
                    precommit(1, 0, None, 1),
                    vec![schedule(TimeoutKind::Precommit, 1, 0)],
                ),
                step(
                    "L15-16 re-propose the valid value with its round; L28 prevote it",
                    timeout(TimeoutKind::Precommit, 1, 0),
                    vec![
                        send_proposal(&ctx, 1, 1, V, Some(0)),
                        send_prevote(1, 1, Some(V), 2),
                    ],
                ),
            ],
        );
    }

    #[test]
    fn l44_precommits_nil_on_a_nil_polka() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "L57",
                    timeout(TimeoutKind::Propose, 1, 0),
                    vec![send_prevote(1, 0, None, 0)],
                ),
                step(
                    "L57 stale: already prevoted",
                    timeout(TimeoutKind::Propose, 1, 0),
                    vec![],
                ),
                step("prevote nil", prevote(1, 0, None, 1), vec![]),
                step(
                    "L44 before L34",
                    prevote(1, 0, None, 2),
                    vec![send_precommit(1, 0, None, 0)],
                ),
            ],
        );
        assert_eq!(me.step(), Step::Precommit);
    }

    #[test]
    fn l47_schedules_the_precommit_timeout_once_and_l65_starts_the_next_round() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step("precommit W", precommit(1, 0, Some(W), 1), vec![]),
                step("precommit nil", precommit(1, 0, None, 2), vec![]),
                step(
                    "L47 in step propose",
                    precommit(1, 0, Some(V), 3),
                    vec![schedule(TimeoutKind::Precommit, 1, 0)],
                ),
                step(
                    "L65 stale height",
                    timeout(TimeoutKind::Precommit, 2, 0),
                    vec![],
                ),
                step(
                    "L65",
                    timeout(TimeoutKind::Precommit, 1, 0),
                    vec![schedule(TimeoutKind::Propose, 1, 1)],
                ),
                step(
                    "L65 stale round",
                    timeout(TimeoutKind::Precommit, 1, 0),
                    vec![],
                ),
                step(
                    "L57 stale round",
                    timeout(TimeoutKind::Propose, 1, 0),
                    vec![],
                ),
            ],
        );
        assert_eq!((me.round(), me.step()), (1, Step::Propose));
    }

    #[test]
    fn l49_decides_in_the_current_round_and_waits_for_the_commit_timeout() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        let mut steps = lock_in_round_zero(&ctx, V);
        steps.extend([
            step("precommit V", precommit(1, 0, Some(V), 1), vec![]),
            step(
                "L49 decide",
                precommit(1, 0, Some(V), 2),
                vec![decide(1, 0, V), schedule(TimeoutKind::Commit, 1, 0)],
            ),
            step(
                "votes after the decision do nothing",
                precommit(1, 0, None, 3),
                vec![],
            ),
            step(
                "round timeouts of a decided height are stale",
                timeout(TimeoutKind::Precommit, 1, 0),
                vec![],
            ),
            step(
                "commit timeout of another height is stale",
                timeout(TimeoutKind::Commit, 2, 0),
                vec![],
            ),
        ]);
        run_steps(&ctx, &mut me, steps);
        assert_eq!(
            (me.height(), me.step(), me.decision()),
            (1, Step::Commit, Some((0, V)))
        );
        run_steps(
            &ctx,
            &mut me,
            vec![step(
                "L53-54 next height; proposer(2, 0) = 2",
                timeout(TimeoutKind::Commit, 1, 0),
                vec![schedule(TimeoutKind::Propose, 2, 0)],
            )],
        );
        assert_eq!((me.height(), me.round(), me.step()), (2, 0, Step::Propose));
        assert_eq!((me.locked(), me.valid(), me.decision()), (None, None, None));
        assert_eq!(me.votes().total(0, VoteType::Precommit), 0);
    }

    #[test]
    fn a_block_held_without_its_proposal_is_locked_on_its_polka_and_decided_on_its_precommits() {
        // Validator 0 got the equivocator's twin W; the polka is for V, whose parts it fetched.
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        let block = |height, value| Input::Block { height, value };
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "L22 prevote the twin",
                    propose_in(&ctx, 1, 0, W, None),
                    vec![send_prevote(1, 0, Some(W), 0)],
                ),
                step("prevote V", prevote(1, 0, Some(V), 1), vec![]),
                step(
                    "L34 2f+1 prevotes of any kind",
                    prevote(1, 0, Some(V), 2),
                    vec![schedule(TimeoutKind::Prevote, 1, 0)],
                ),
                step(
                    "a polka for V, whose block is not here: nothing yet",
                    prevote(1, 0, Some(V), 3),
                    vec![],
                ),
                step(
                    "a block of another height is not this one's",
                    block(2, V),
                    vec![],
                ),
                step(
                    "V arrives whole: L36 locks on it and precommits it",
                    block(1, V),
                    vec![send_precommit(1, 0, Some(V), 0)],
                ),
                step("the same block again does nothing", block(1, V), vec![]),
            ],
        );
        assert_eq!((me.locked(), me.valid()), (Some((0, V)), Some((0, V))));
        run_steps(
            &ctx,
            &mut me,
            vec![
                step("precommit V", precommit(1, 0, Some(V), 1), vec![]),
                step(
                    "L49 decide V",
                    precommit(1, 0, Some(V), 2),
                    vec![decide(1, 0, V), schedule(TimeoutKind::Commit, 1, 0)],
                ),
            ],
        );
    }

    #[test]
    fn a_block_fetched_after_its_commit_decides_in_the_round_of_the_precommits() {
        // Validator 0 saw no proposal at all; round 2's precommits for V came, then V.
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        let block = |height, value| Input::Block { height, value };
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step("precommit V", precommit(1, 2, Some(V), 1), vec![]),
                step(
                    "L55 skip to round 2: f+1 senders",
                    precommit(1, 2, Some(V), 2),
                    vec![schedule(TimeoutKind::Propose, 1, 2)],
                ),
                step(
                    "L47 2f+1 precommits of round 2; no block to decide",
                    precommit(1, 2, Some(V), 3),
                    vec![schedule(TimeoutKind::Precommit, 1, 2)],
                ),
                step(
                    "a block without precommits decides nothing",
                    block(1, W),
                    vec![],
                ),
                step(
                    "V arrives whole: L49 decides it in round 2",
                    block(1, V),
                    vec![decide(1, 2, V), schedule(TimeoutKind::Commit, 1, 2)],
                ),
            ],
        );
        assert_eq!(me.decision(), Some((2, V)));
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "next height: what was held is forgotten",
                    timeout(TimeoutKind::Commit, 1, 2),
                    vec![schedule(TimeoutKind::Propose, 2, 0)],
                ),
                step("prevote V at height 2", prevote(2, 0, Some(V), 1), vec![]),
                step("prevote V", prevote(2, 0, Some(V), 2), vec![]),
                step(
                    "precommits of height 2 for V do not find height 1's V held",
                    precommit(2, 0, Some(V), 1),
                    vec![],
                ),
                step("precommit V", precommit(2, 0, Some(V), 2), vec![]),
                step(
                    "L47 only",
                    precommit(2, 0, Some(V), 3),
                    vec![schedule(TimeoutKind::Precommit, 2, 0)],
                ),
            ],
        );
        assert_eq!(me.decision(), None);
    }

    #[test]
    fn certificate_of_the_current_height_decides_and_others_are_ignored() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        let certificate = |height, round, value| Input::Certificate {
            height,
            round,
            value,
        };
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "a certificate of a later height cannot be used yet",
                    certificate(2, 0, V),
                    vec![],
                ),
                step(
                    "a certificate of round 3 decides height 1",
                    certificate(1, 3, V),
                    vec![decide(1, 3, V), schedule(TimeoutKind::Commit, 1, 3)],
                ),
                step(
                    "a second certificate changes nothing",
                    certificate(1, 0, ValueId(99)),
                    vec![],
                ),
            ],
        );
        assert_eq!(me.decision(), Some((3, V)));
    }

    #[test]
    fn l49_decides_from_an_older_round() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step("prevote in round 1", prevote(1, 1, None, 2), vec![]),
                step(
                    "L55 to round 1",
                    prevote(1, 1, None, 3),
                    vec![schedule(TimeoutKind::Propose, 1, 1)],
                ),
                step(
                    "proposal of round 0",
                    propose_in(&ctx, 1, 0, V, None),
                    vec![],
                ),
                step("precommit V round 0", precommit(1, 0, Some(V), 1), vec![]),
                step("precommit V round 0", precommit(1, 0, Some(V), 2), vec![]),
                step(
                    "L49 in round 0 while in round 1",
                    precommit(1, 0, Some(V), 3),
                    vec![decide(1, 0, V), schedule(TimeoutKind::Commit, 1, 0)],
                ),
            ],
        );
        assert_eq!(me.step(), Step::Commit);
    }

    #[test]
    fn l55_skips_to_a_round_with_f_plus_one_distinct_senders() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step("prevote round 3 from 1", prevote(1, 3, None, 1), vec![]),
                step(
                    "precommit round 3 from 1: same sender",
                    precommit(1, 3, None, 1),
                    vec![],
                ),
                step("one sender in round 2", prevote(1, 2, Some(V), 2), vec![]),
                step(
                    "L55 second sender of round 3; L11 I propose round 3",
                    prevote(1, 3, None, 3),
                    vec![Output::GetValue {
                        height: 1,
                        round: 3,
                    }],
                ),
                step(
                    "a lower round does not move back",
                    prevote(1, 2, Some(V), 3),
                    vec![],
                ),
            ],
        );
        assert_eq!(me.round(), 3);
    }

    #[test]
    fn l55_counts_a_proposal_as_a_message_of_its_round() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "proposal of round 1 from its proposer 2",
                    propose_in(&ctx, 1, 1, V, None),
                    vec![],
                ),
                step(
                    "L55, then L22 on the stored proposal",
                    precommit(1, 1, None, 3),
                    vec![
                        schedule(TimeoutKind::Propose, 1, 1),
                        send_prevote(1, 1, Some(V), 0),
                    ],
                ),
            ],
        );
    }

    #[test]
    fn proposals_from_others_than_the_proposer_and_second_proposals_are_ignored() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        let impostor = Proposal {
            proposer: 3,
            ..proposal(&ctx, 1, 0, W, None)
        };
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "not from proposer(1, 0) = 1",
                    Input::Proposal(impostor),
                    vec![],
                ),
                step(
                    "the proposer's first proposal",
                    propose_in(&ctx, 1, 0, V, None),
                    vec![send_prevote(1, 0, Some(V), 0)],
                ),
                step(
                    "its second proposal",
                    propose_in(&ctx, 1, 0, W, None),
                    vec![],
                ),
                step("prevote W", prevote(1, 0, Some(W), 1), vec![]),
                step(
                    "polka W but the kept proposal is V: only L34",
                    prevote(1, 0, Some(W), 2),
                    vec![schedule(TimeoutKind::Prevote, 1, 0)],
                ),
                step("prevote W", prevote(1, 0, Some(W), 3), vec![]),
            ],
        );
        assert_eq!(me.locked(), None);
    }

    #[test]
    fn an_equivocators_second_vote_is_evidence_and_counts_toward_its_value() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "L22",
                    propose_in(&ctx, 1, 0, V, None),
                    vec![send_prevote(1, 0, Some(V), 0)],
                ),
                step("3 prevotes W", prevote(1, 0, Some(W), 3), vec![]),
                step(
                    "3 also prevotes V: 2 for V, 2 voters in all",
                    prevote(1, 0, Some(V), 3),
                    vec![],
                ),
                step(
                    "L36 on 3 for V (3 counted for W and for V); L34 moot",
                    prevote(1, 0, Some(V), 1),
                    vec![send_precommit(1, 0, Some(V), 0)],
                ),
            ],
        );
        assert_eq!(me.votes().power_for(0, VoteType::Prevote, Some(V)), 3);
        assert_eq!(me.votes().power_for(0, VoteType::Prevote, Some(W)), 1);
        assert_eq!(me.votes().total(0, VoteType::Prevote), 3);
        assert_eq!(
            me.evidence(),
            &[Evidence {
                first: vote(VoteType::Prevote, 1, 0, Some(W), 3),
                second: vote(VoteType::Prevote, 1, 0, Some(V), 3),
            }]
        );
        assert_eq!(me.step(), Step::Precommit);
        assert_eq!(me.locked(), Some((0, V)));
    }

    #[test]
    fn evidence_accumulates_across_heights() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        let mut steps = lock_in_round_zero(&ctx, V);
        steps.extend([
            step("equivocation at height 1", precommit(1, 0, None, 3), vec![]),
            step("conflict", precommit(1, 0, Some(W), 3), vec![]),
            step(
                "L47",
                precommit(1, 0, Some(V), 1),
                vec![schedule(TimeoutKind::Precommit, 1, 0)],
            ),
            step(
                "L49",
                precommit(1, 0, Some(V), 2),
                vec![decide(1, 0, V), schedule(TimeoutKind::Commit, 1, 0)],
            ),
            step(
                "next height",
                timeout(TimeoutKind::Commit, 1, 0),
                vec![schedule(TimeoutKind::Propose, 2, 0)],
            ),
            step(
                "equivocation at height 2",
                prevote(2, 0, Some(V), 1),
                vec![],
            ),
            step("conflict", prevote(2, 0, None, 1), vec![]),
        ]);
        run_steps(&ctx, &mut me, steps);
        let heights: Vec<_> = me
            .evidence()
            .iter()
            .map(|e| (e.first.height, e.first.validator))
            .collect();
        assert_eq!(heights, vec![(1, 3), (2, 1)]);
    }

    #[test]
    fn duplicate_votes_are_ignored() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "L22",
                    propose_in(&ctx, 1, 0, V, None),
                    vec![send_prevote(1, 0, Some(V), 0)],
                ),
                step("prevote V", prevote(1, 0, Some(V), 1), vec![]),
                step("same prevote again", prevote(1, 0, Some(V), 1), vec![]),
                step(
                    "my own prevote echoed back",
                    prevote(1, 0, Some(V), 0),
                    vec![],
                ),
                step(
                    "L36 on the third distinct voter",
                    prevote(1, 0, Some(V), 2),
                    vec![send_precommit(1, 0, Some(V), 0)],
                ),
            ],
        );
        assert!(me.evidence().is_empty());
    }

    #[test]
    fn later_heights_are_buffered_and_replayed_in_order_for_catch_up() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "before start: buffered",
                    propose_in(&ctx, 1, 0, V, None),
                    vec![],
                ),
                step(
                    "start and replay: L20, L22",
                    Input::StartHeight(1),
                    vec![
                        schedule(TimeoutKind::Propose, 1, 0),
                        send_prevote(1, 0, Some(V), 0),
                    ],
                ),
                // The others decided height 1 and moved on; their messages arrive late.
                step(
                    "height 2 proposal: buffered",
                    propose_in(&ctx, 2, 0, W, None),
                    vec![],
                ),
                step(
                    "height 2 prevote: buffered",
                    prevote(2, 0, Some(W), 1),
                    vec![],
                ),
                step("height 3 prevote: buffered", prevote(3, 0, None, 1), vec![]),
                step("precommit V", precommit(1, 0, Some(V), 1), vec![]),
                step("precommit V", precommit(1, 0, Some(V), 2), vec![]),
                step(
                    "L49 from the commit certificate",
                    precommit(1, 0, Some(V), 3),
                    vec![decide(1, 0, V), schedule(TimeoutKind::Commit, 1, 0)],
                ),
                step(
                    "in step Commit, height 2 is buffered",
                    prevote(2, 0, Some(W), 3),
                    vec![],
                ),
                step("lower height is dropped", prevote(1, 0, Some(V), 3), vec![]),
            ],
        );
        assert_eq!(me.buffered(), 4);
        run_steps(
            &ctx,
            &mut me,
            vec![step(
                "height 2 starts and replays: L20, L22, L36",
                timeout(TimeoutKind::Commit, 1, 0),
                vec![
                    schedule(TimeoutKind::Propose, 2, 0),
                    send_prevote(2, 0, Some(W), 0),
                    send_precommit(2, 0, Some(W), 0),
                ],
            )],
        );
        assert_eq!(me.buffered(), 1, "the height 3 vote stays buffered");
        assert_eq!(me.locked(), Some((0, W)));
    }

    #[test]
    fn catch_up_decides_a_buffered_height_during_replay() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        let mut steps = vec![
            step("height 2 proposal", propose_in(&ctx, 2, 0, W, None), vec![]),
            step("precommit", precommit(2, 0, Some(W), 1), vec![]),
            step("precommit", precommit(2, 0, Some(W), 2), vec![]),
            step("precommit", precommit(2, 0, Some(W), 3), vec![]),
            step("height 3 proposal", propose_in(&ctx, 3, 0, V, None), vec![]),
        ];
        steps.push(step(
            "start at 2: L22 prevote then L49 decide from the certificate",
            Input::StartHeight(2),
            vec![
                schedule(TimeoutKind::Propose, 2, 0),
                send_prevote(2, 0, Some(W), 0),
                decide(2, 0, W),
                schedule(TimeoutKind::Commit, 2, 0),
            ],
        ));
        run_steps(&ctx, &mut me, steps);
        assert_eq!(me.buffered(), 1);
        run_steps(
            &ctx,
            &mut me,
            vec![step(
                "height 3: proposer(3, 0) = 3, replayed proposal prevoted",
                timeout(TimeoutKind::Commit, 2, 0),
                vec![
                    schedule(TimeoutKind::Propose, 3, 0),
                    send_prevote(3, 0, Some(V), 0),
                ],
            )],
        );
    }

    #[test]
    fn weighted_powers_use_two_thirds_and_one_third_of_power() {
        // Total 7: quorum 5, f+1 3. proposer(1, 0) = 1.
        let ctx = make_validators([2, 3, 2]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "L22 (my power 2)",
                    propose_in(&ctx, 1, 0, V, None),
                    vec![send_prevote(1, 0, Some(V), 0)],
                ),
                step("power 2 + 2 = 4 < 5", prevote(1, 0, Some(V), 2), vec![]),
                step(
                    "power 7 >= 5: L36",
                    prevote(1, 0, Some(V), 1),
                    vec![send_precommit(1, 0, Some(V), 0)],
                ),
                step("round 1 from power 2 < 3", prevote(1, 1, None, 2), vec![]),
                step(
                    "precommit V: 2 + 2 = 4",
                    precommit(1, 0, Some(V), 2),
                    vec![],
                ),
                step(
                    "precommit V from power 3: L49",
                    precommit(1, 0, Some(V), 1),
                    vec![decide(1, 0, V), schedule(TimeoutKind::Commit, 1, 0)],
                ),
            ],
        );
        let mut other = ConsensusState::new(2, Config::default());
        run_steps(
            &ctx,
            &mut other,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step(
                    "L55 one validator of power 3 is f+1; proposer(1, 2) = 0",
                    prevote(1, 2, None, 1),
                    vec![schedule(TimeoutKind::Propose, 1, 2)],
                ),
            ],
        );
    }

    #[test]
    fn unknown_validators_and_lower_heights_are_ignored_without_panic() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut me = ConsensusState::new(0, Config::default());
        run_steps(
            &ctx,
            &mut me,
            vec![
                step(
                    "start",
                    Input::StartHeight(1),
                    vec![schedule(TimeoutKind::Propose, 1, 0)],
                ),
                step("validator 9 does not exist", prevote(1, 5, None, 9), vec![]),
                step("validator 7 does not exist", prevote(1, 5, None, 7), vec![]),
                step("height 0 is below", prevote(0, 0, None, 1), vec![]),
                step(
                    "commit timeout before a decision",
                    timeout(TimeoutKind::Commit, 1, 0),
                    vec![],
                ),
            ],
        );
        assert_eq!((me.height(), me.round()), (1, 0));
    }

    /// Four correct validators with instant FIFO delivery: every height decides in round 0.
    /// Whatever could still fire at the current height, given what the state holds: L49 in
    /// any round, L55 to any later round, then the current round's rules. Returns the outputs.
    fn settle_everything(ctx: &TestContext, state: &mut ConsensusState) -> Vec<Output> {
        let mut out = Vec::new();
        if state.height == 0 || state.step == Step::Commit {
            return out;
        }
        let rounds: Vec<Round> = state.votes.rounds().collect();
        for &round in &rounds {
            if state.decide_if_committed(ctx, round, &mut out) {
                return out;
            }
        }
        if let Some(&round) = rounds.iter().rev().find(|&&r| {
            r > state.round && state.votes.sender_power(r) >= ctx.validators().one_third_plus()
        }) {
            state.start_round(ctx, round, &mut out);
        }
        state.run_rules(ctx, &mut out);
        out
    }

    /// `on_message` stops at a vote that takes no count across 2f+1 or f+1, on the claim that
    /// the state is at a fixed point after every input: nothing could fire that has not.
    /// Random inputs (votes of several rounds, values and heights, equivocations, proposals
    /// with and without a valid round, timeouts, blocks held without a proposal) to weighted
    /// validators, with and without the lock: after each one, settling everything again must
    /// produce no output and change no state.
    #[test]
    fn after_every_input_nothing_is_left_to_fire() {
        use rand::{Rng, SeedableRng};
        let ctx = make_validators([1, 2, 3, 1, 2, 1, 3]);
        let values = [V, W, ValueId(30)];
        let (mut decided, mut round_skips, mut inputs) = (0, 0, 0);
        for seed in 0..60u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let config = Config {
                ignore_lock: seed % 3 == 0,
                ..Config::default()
            };
            let mut state = ConsensusState::new(2, config);
            let mut out = Vec::new();
            state.apply(&ctx, Input::StartHeight(1), &mut out);
            for _ in 0..400 {
                let (h, r) = (state.height, state.round);
                let height = if rng.random_bool(0.05) { h + 1 } else { h };
                let round = match rng.random_range(0..10) {
                    0..=5 => r,
                    6 | 7 => r + 1,
                    8 => r + 2,
                    _ => r.saturating_sub(1),
                };
                let input = match rng.random_range(0..100) {
                    // A decided height moves on at its commit timeout.
                    _ if state.step == Step::Commit && rng.random_bool(0.2) => Input::Timeout {
                        kind: TimeoutKind::Commit,
                        height: h,
                        round: r,
                    },
                    0..=79 => {
                        let vote_type = if rng.random_bool(0.5) {
                            VoteType::Prevote
                        } else {
                            VoteType::Precommit
                        };
                        // Mostly one value, so that quorums form; the rest split.
                        let value = match rng.random_range(0..20) {
                            0..=11 => Some(V),
                            12..=14 => Some(W),
                            15 | 16 => Some(ValueId(30)),
                            _ => None,
                        };
                        let from = rng.random_range(0..7) as ValidatorIndex;
                        Input::Vote(vote(vote_type, height, round, value, from))
                    }
                    80..=87 => {
                        let valid_round =
                            (round > 0 && rng.random_bool(0.4)).then(|| rng.random_range(0..round));
                        let value = values[rng.random_range(0..values.len())];
                        propose_in(&ctx, height, round, value, valid_round)
                    }
                    88..=92 => Input::Block {
                        height,
                        value: values[rng.random_range(0..values.len())],
                    },
                    93..=95 => Input::ProposeValue {
                        height,
                        round,
                        value: values[rng.random_range(0..values.len())],
                    },
                    _ => {
                        let kind = match rng.random_range(0..4) {
                            0 => TimeoutKind::Propose,
                            1 => TimeoutKind::Prevote,
                            2 => TimeoutKind::Precommit,
                            _ => TimeoutKind::Commit,
                        };
                        Input::Timeout {
                            kind,
                            height: h,
                            round: r,
                        }
                    }
                };
                out.clear();
                state.apply(&ctx, input, &mut out);
                inputs += 1;
                decided += out
                    .iter()
                    .filter(|o| matches!(o, Output::Decide { .. }))
                    .count();
                round_skips += usize::from(state.round > r && state.height == h);
                let before = format!("{state:?}");
                let left = settle_everything(&ctx, &mut state);
                assert!(
                    left.is_empty(),
                    "seed {seed}: after {input:?} settling again gave {left:?}"
                );
                assert_eq!(format!("{state:?}"), before, "seed {seed}: after {input:?}");
            }
        }
        // The inputs reach decisions and round changes, so the fixed points checked are not
        // only those of an idle validator.
        assert_eq!(inputs, 60 * 400);
        assert!(
            decided > 100,
            "{decided} decisions, {round_skips} round changes"
        );
        assert!(round_skips > 300, "{round_skips} round changes");
    }

    #[test]
    fn four_correct_validators_agree_on_five_heights_in_round_zero() {
        let ctx = make_validators([1, 1, 1, 1]);
        let mut nodes: Vec<ConsensusState> = (0..4)
            .map(|i| ConsensusState::new(i, Config::default()))
            .collect();
        let mut queue: std::collections::VecDeque<(usize, Input)> =
            (0..4).map(|i| (i, Input::StartHeight(1))).collect();
        let mut decisions: Vec<Vec<(Height, Round, ValueId)>> = vec![Vec::new(); 4];
        let mut commit_timers: Vec<(usize, Input)> = Vec::new();
        let mut out = Vec::new();
        while decisions.iter().any(|d| d.len() < 5) {
            let Some((node, input)) = queue.pop_front() else {
                // Only fire commit timers (the others would be late in a fast network).
                assert!(!commit_timers.is_empty(), "stuck: {decisions:?}");
                queue.extend(commit_timers.drain(..));
                continue;
            };
            out.clear();
            nodes[node].apply(&ctx, input, &mut out);
            for output in &out {
                match *output {
                    Output::Broadcast(Message::Proposal(p)) => queue.extend(
                        (0..4)
                            .filter(|&j| j != node)
                            .map(|j| (j, Input::Proposal(p))),
                    ),
                    Output::Broadcast(Message::Vote(v)) => {
                        queue.extend((0..4).filter(|&j| j != node).map(|j| (j, Input::Vote(v))))
                    }
                    Output::GetValue { height, round } => queue.push_back((
                        node,
                        Input::ProposeValue {
                            height,
                            round,
                            value: ValueId(height * 100 + u64::from(round)),
                        },
                    )),
                    Output::ScheduleTimeout {
                        kind: TimeoutKind::Commit,
                        height,
                        round,
                    } if decisions[node].len() < 5 => commit_timers.push((
                        node,
                        Input::Timeout {
                            kind: TimeoutKind::Commit,
                            height,
                            round,
                        },
                    )),
                    Output::ScheduleTimeout { .. } => {}
                    Output::Decide {
                        height,
                        round,
                        value,
                    } => decisions[node].push((height, round, value)),
                }
            }
        }
        let expected: Vec<_> = (1..=5).map(|h| (h, 0, ValueId(h * 100))).collect();
        for d in &decisions {
            assert_eq!(d, &expected);
        }
    }
}
