//! Algorithm 1 of "The latest gossip on BFT consensus" as a pure state machine.
//! SKELETON: the interface is fixed; the bodies are being written.

use super::{
    Evidence, Height, Message, Proposal, Round, TimeoutKind, ValidatorIndex, ValidatorSet, ValueId,
    Vote,
};

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
    evidence: Vec<Evidence>,
}

impl ConsensusState {
    /// A validator `id` that has not started yet.
    pub fn new(id: ValidatorIndex, config: Config) -> Self {
        ConsensusState {
            id,
            config,
            evidence: Vec::new(),
        }
    }

    /// Apply one input; outputs are appended to `out` (in the order they happen).
    pub fn apply<C: Context>(&mut self, ctx: &C, input: Input, out: &mut Vec<Output>) {
        let _ = (ctx, input, out, self.id, self.config);
        todo!("being written")
    }

    /// Equivocation evidence this validator has seen, in the order seen.
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }
}
impl ConsensusState {
    /// stub
    pub fn height(&self) -> Height {
        0
    }
    /// stub
    pub fn round(&self) -> Round {
        0
    }
    /// stub
    pub fn step(&self) -> super::Step {
        super::Step::Propose
    }
}
