//! The vocabulary of Tendermint consensus: heights, rounds, validators, values, messages.

use serde::{Deserialize, Serialize};

/// A block height (the first block is height 1).
pub type Height = u64;
/// A round within a height, from 0.
pub type Round = u32;
/// A validator's index in the validator set.
pub type ValidatorIndex = u16;
/// Voting power of one validator.
pub type VotingPower = u64;

/// The identity of a proposed value (a block hash, in the simulation a unique number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ValueId(pub u64);

/// The two kinds of vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteType {
    /// First voting step.
    Prevote,
    /// Second voting step.
    Precommit,
}

/// A signed vote `⟨PREVOTE|PRECOMMIT, h, r, id(v) or nil⟩` from `validator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Vote {
    /// Height voted at.
    pub height: Height,
    /// Round voted at.
    pub round: Round,
    /// Prevote or precommit.
    pub vote_type: VoteType,
    /// The value voted for; `None` is a vote for nil.
    pub value: Option<ValueId>,
    /// Who signed it.
    pub validator: ValidatorIndex,
}

/// A proposal `⟨PROPOSAL, h, r, v, validRound⟩`; `valid_round` `None` is the paper's −1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Proposal {
    /// Height proposed at.
    pub height: Height,
    /// Round proposed at.
    pub round: Round,
    /// The proposed value.
    pub value: ValueId,
    /// The round in which the proposer saw a polka for `value`, if it re-proposes it.
    pub valid_round: Option<Round>,
    /// Who proposed it.
    pub proposer: ValidatorIndex,
}

/// Every message a validator sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Message {
    /// A block proposal.
    Proposal(Proposal),
    /// A prevote or precommit.
    Vote(Vote),
}

impl Message {
    /// The height the message belongs to.
    pub fn height(&self) -> Height {
        match self {
            Message::Proposal(p) => p.height,
            Message::Vote(v) => v.height,
        }
    }

    /// The round the message belongs to.
    pub fn round(&self) -> Round {
        match self {
            Message::Proposal(p) => p.round,
            Message::Vote(v) => v.round,
        }
    }

    /// The validator that signed it.
    pub fn sender(&self) -> ValidatorIndex {
        match self {
            Message::Proposal(p) => p.proposer,
            Message::Vote(v) => v.validator,
        }
    }
}

/// The timers of the algorithm (`Commit` is CometBFT's `timeout_commit`, our `block_interval`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutKind {
    /// OnTimeoutPropose (L57).
    Propose,
    /// OnTimeoutPrevote (L61).
    Prevote,
    /// OnTimeoutPrecommit (L65).
    Precommit,
    /// Wait after a decision before starting the next height.
    Commit,
}

/// The step of a validator within a round (`Commit`: decided, waiting for the next height).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Waiting for a proposal.
    Propose,
    /// Prevoted, waiting for a polka.
    Prevote,
    /// Precommitted, waiting for a commit.
    Precommit,
    /// Decided the height, waiting for the commit timeout.
    Commit,
}

/// Two conflicting votes signed by the same validator for the same height, round and type:
/// proof that it is Byzantine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Evidence {
    /// The vote seen first.
    pub first: Vote,
    /// The conflicting vote.
    pub second: Vote,
}

/// Validators and their voting powers; quorum is more than 2/3 of the total power.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    powers: Vec<VotingPower>,
    total: VotingPower,
}

impl ValidatorSet {
    /// A set with these powers (index = validator index). Powers must be positive.
    pub fn new(powers: Vec<VotingPower>) -> Self {
        let total = powers.iter().sum();
        ValidatorSet { powers, total }
    }

    /// `n` validators of power 1 each.
    pub fn equal(n: usize) -> Self {
        Self::new(vec![1; n])
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.powers.len()
    }

    /// True when there are no validators.
    pub fn is_empty(&self) -> bool {
        self.powers.is_empty()
    }

    /// Power of validator `v`.
    pub fn power(&self, v: ValidatorIndex) -> VotingPower {
        self.powers[usize::from(v)]
    }

    /// All powers, by index.
    pub fn powers(&self) -> &[VotingPower] {
        &self.powers
    }

    /// Total voting power.
    pub fn total_power(&self) -> VotingPower {
        self.total
    }

    /// Smallest power that is more than 2/3 of the total ("2f+1").
    pub fn quorum(&self) -> VotingPower {
        self.total * 2 / 3 + 1
    }

    /// Smallest power that is more than 1/3 of the total ("f+1").
    pub fn one_third_plus(&self) -> VotingPower {
        self.total / 3 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_strictly_more_than_two_thirds_and_one_third() {
        let four = ValidatorSet::equal(4);
        assert_eq!((four.quorum(), four.one_third_plus()), (3, 2));
        let three = ValidatorSet::equal(3);
        assert_eq!((three.quorum(), three.one_third_plus()), (3, 2));
        let weighted = ValidatorSet::new(vec![10, 20, 30, 40]);
        assert_eq!((weighted.quorum(), weighted.one_third_plus()), (67, 34));
    }
}
