//! Vote tallies of one height, per round and vote type, on voting power, with equivocation
//! evidence.
//!
//! Each validator counts at most once per (round, type): its first vote. A second, different
//! vote is recorded as `Evidence` and not counted; an identical one is a duplicate and ignored.
//! For the round skip (L55) the keeper also sums the power of every distinct sender of any
//! message in a round. Adding a vote costs a search over the rounds of the height (few) and over
//! the distinct values voted in that round (few); nothing is hashed and, once the buffers have
//! grown, nothing is allocated, also across heights.

use super::{
    Evidence, Height, Round, ValidatorIndex, ValidatorSet, ValueId, Vote, VoteType, VotingPower,
};

/// The votes of the current height.
#[derive(Clone, Debug, Default)]
pub struct VoteKeeper {
    height: Height,
    validator_count: usize,
    /// Rounds that received a message, sorted by round.
    rounds: Vec<RoundVotes>,
    /// Round records of earlier heights, kept for their buffers.
    spare: Vec<RoundVotes>,
    /// Conflicting votes seen, across all heights, in the order seen: the first proof against
    /// each validator (one pair of conflicting votes proves it Byzantine; keeping every later
    /// one would grow memory with each height of a long run).
    evidence: Vec<Evidence>,
    /// `proven[v]`: evidence against validator `v` is already kept.
    proven: Vec<bool>,
}

/// What happened to a vote given to [`VoteKeeper::add_vote`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteOutcome {
    /// First vote of this validator for this round and type: its power was added.
    Counted,
    /// The same vote was already counted; nothing changed.
    Duplicate,
    /// A different vote from a validator that already voted: recorded as evidence, not counted.
    Equivocation,
    /// Wrong height or unknown validator: ignored.
    Rejected,
}

impl VoteKeeper {
    /// An empty keeper for `height` with `validator_count` validators.
    pub fn new(height: Height, validator_count: usize) -> Self {
        VoteKeeper {
            height,
            validator_count,
            ..VoteKeeper::default()
        }
    }

    /// Count `vote` with the power `validators` gives its signer (see [`VoteOutcome`]).
    pub fn add_vote(&mut self, vote: Vote, validators: &ValidatorSet) -> VoteOutcome {
        let index = usize::from(vote.validator);
        if vote.height != self.height || index >= self.validator_count || index >= validators.len()
        {
            return VoteOutcome::Rejected;
        }
        let power = validators.power(vote.validator);
        let round = self.round_mut(vote.round);
        let tally = round.tally_mut(vote.vote_type);
        let first = match tally.cast[index] {
            Cast::Absent => {
                tally.cast[index] = Cast::Voted(vote.value);
                tally.add(vote.value, power);
                round.add_sender(index, power);
                return VoteOutcome::Counted;
            }
            Cast::Voted(first) | Cast::Equivocated(first) if first == vote.value => {
                return VoteOutcome::Duplicate;
            }
            // One piece of evidence per validator, round and type is proof enough.
            Cast::Equivocated(_) => return VoteOutcome::Duplicate,
            Cast::Voted(first) => {
                tally.cast[index] = Cast::Equivocated(first);
                first
            }
        };
        if self.proven.len() <= index {
            self.proven.resize(index + 1, false);
        }
        if !self.proven[index] {
            self.proven[index] = true;
            self.evidence.push(Evidence {
                first: Vote {
                    value: first,
                    ..vote
                },
                second: vote,
            });
        }
        VoteOutcome::Equivocation
    }

    /// Note that `validator` sent a (non-vote) message in `round`, for L55; true if it is new.
    pub fn add_sender(
        &mut self,
        round: Round,
        validator: ValidatorIndex,
        validators: &ValidatorSet,
    ) -> bool {
        let index = usize::from(validator);
        if index >= self.validator_count || index >= validators.len() {
            return false;
        }
        let power = validators.power(validator);
        self.round_mut(round).add_sender(index, power)
    }

    /// Power of the validators whose counted `vote_type` vote in `round` is for `value`.
    pub fn power_for(
        &self,
        round: Round,
        vote_type: VoteType,
        value: Option<ValueId>,
    ) -> VotingPower {
        self.round(round)
            .map_or(0, |r| r.tally(vote_type).power_for(value))
    }

    /// Power of all counted `vote_type` votes in `round`, whatever their value.
    pub fn total(&self, round: Round, vote_type: VoteType) -> VotingPower {
        self.round(round).map_or(0, |r| r.tally(vote_type).total)
    }

    /// Power of the distinct validators that sent any message in `round` (L55).
    pub fn sender_power(&self, round: Round) -> VotingPower {
        self.round(round).map_or(0, |r| r.sender_power)
    }

    /// The first counted `vote_type` vote of `validator` in `round`, if any.
    pub fn vote_of(
        &self,
        round: Round,
        vote_type: VoteType,
        validator: ValidatorIndex,
    ) -> Option<Option<ValueId>> {
        let tally = self.round(round)?.tally(vote_type);
        match tally.cast.get(usize::from(validator))? {
            Cast::Absent => None,
            Cast::Voted(value) | Cast::Equivocated(value) => Some(*value),
        }
    }

    /// Forget the votes and move to `height` with `validator_count` validators; evidence stays.
    pub fn reset(&mut self, height: Height, validator_count: usize) {
        self.height = height;
        self.validator_count = validator_count;
        self.spare.append(&mut self.rounds);
    }

    /// The height whose votes are kept.
    pub fn height(&self) -> Height {
        self.height
    }

    /// Rounds of this height that received a message, in increasing order.
    pub fn rounds(&self) -> impl Iterator<Item = Round> + '_ {
        self.rounds.iter().map(|r| r.round)
    }

    /// Equivocation evidence seen so far (all heights), in the order seen: the first proof
    /// against each validator that equivocated.
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }

    fn round(&self, round: Round) -> Option<&RoundVotes> {
        // The newest round is the usual one.
        match self.rounds.last() {
            Some(last) if last.round == round => Some(last),
            _ => self
                .rounds
                .binary_search_by_key(&round, |r| r.round)
                .ok()
                .map(|i| &self.rounds[i]),
        }
    }

    fn round_mut(&mut self, round: Round) -> &mut RoundVotes {
        let at = match self.rounds.last() {
            Some(last) if last.round == round => Ok(self.rounds.len() - 1),
            _ => self.rounds.binary_search_by_key(&round, |r| r.round),
        };
        let i = match at {
            Ok(i) => i,
            Err(i) => {
                let mut fresh = self.spare.pop().unwrap_or_default();
                fresh.reset(round, self.validator_count);
                self.rounds.insert(i, fresh);
                i
            }
        };
        &mut self.rounds[i]
    }
}

/// The votes and senders of one round.
#[derive(Clone, Debug, Default)]
struct RoundVotes {
    round: Round,
    prevotes: Tally,
    precommits: Tally,
    /// Validators heard from in this round, any message (L55).
    senders: Vec<bool>,
    sender_power: VotingPower,
}

impl RoundVotes {
    fn reset(&mut self, round: Round, validator_count: usize) {
        self.round = round;
        self.prevotes.reset(validator_count);
        self.precommits.reset(validator_count);
        self.senders.clear();
        self.senders.resize(validator_count, false);
        self.sender_power = 0;
    }

    fn tally(&self, vote_type: VoteType) -> &Tally {
        match vote_type {
            VoteType::Prevote => &self.prevotes,
            VoteType::Precommit => &self.precommits,
        }
    }

    fn tally_mut(&mut self, vote_type: VoteType) -> &mut Tally {
        match vote_type {
            VoteType::Prevote => &mut self.prevotes,
            VoteType::Precommit => &mut self.precommits,
        }
    }

    /// Count `index`'s power once for this round; true if it was not counted yet.
    fn add_sender(&mut self, index: usize, power: VotingPower) -> bool {
        match self.senders.get_mut(index) {
            Some(seen) if !*seen => {
                *seen = true;
                self.sender_power += power;
                true
            }
            _ => false,
        }
    }
}

/// Prevotes or precommits of one round.
#[derive(Clone, Debug, Default)]
struct Tally {
    /// Power per value voted (`None` is nil), in the order values first appeared.
    by_value: Vec<(Option<ValueId>, VotingPower)>,
    total: VotingPower,
    /// Each validator's counted vote, by validator index.
    cast: Vec<Cast>,
}

impl Tally {
    fn reset(&mut self, validator_count: usize) {
        self.by_value.clear();
        self.total = 0;
        self.cast.clear();
        self.cast.resize(validator_count, Cast::Absent);
    }

    fn add(&mut self, value: Option<ValueId>, power: VotingPower) {
        self.total += power;
        match self.by_value.iter_mut().find(|(v, _)| *v == value) {
            Some((_, sum)) => *sum += power,
            None => self.by_value.push((value, power)),
        }
    }

    fn power_for(&self, value: Option<ValueId>) -> VotingPower {
        self.by_value
            .iter()
            .find(|(v, _)| *v == value)
            .map_or(0, |(_, sum)| *sum)
    }
}

/// A validator's vote in a tally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cast {
    /// Not voted yet.
    Absent,
    /// Voted once, for this value.
    Voted(Option<ValueId>),
    /// Voted for this value, then for another (evidence recorded).
    Equivocated(Option<ValueId>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(
        round: Round,
        vote_type: VoteType,
        value: Option<u64>,
        validator: ValidatorIndex,
    ) -> Vote {
        Vote {
            height: 1,
            round,
            vote_type,
            value: value.map(ValueId),
            validator,
        }
    }

    fn prevote(round: Round, value: Option<u64>, validator: ValidatorIndex) -> Vote {
        vote(round, VoteType::Prevote, value, validator)
    }

    fn precommit(round: Round, value: Option<u64>, validator: ValidatorIndex) -> Vote {
        vote(round, VoteType::Precommit, value, validator)
    }

    #[test]
    fn tallies_power_per_value_round_and_type() {
        let set = ValidatorSet::new(vec![2, 3, 2]);
        let mut keeper = VoteKeeper::new(1, 3);
        assert_eq!(
            keeper.add_vote(prevote(0, Some(7), 0), &set),
            VoteOutcome::Counted
        );
        assert_eq!(
            keeper.add_vote(prevote(0, Some(7), 1), &set),
            VoteOutcome::Counted
        );
        assert_eq!(
            keeper.add_vote(prevote(0, None, 2), &set),
            VoteOutcome::Counted
        );
        assert_eq!(
            keeper.add_vote(precommit(0, Some(7), 1), &set),
            VoteOutcome::Counted
        );
        assert_eq!(
            keeper.add_vote(prevote(2, Some(9), 2), &set),
            VoteOutcome::Counted
        );

        assert_eq!(keeper.power_for(0, VoteType::Prevote, Some(ValueId(7))), 5);
        assert_eq!(keeper.power_for(0, VoteType::Prevote, None), 2);
        assert_eq!(keeper.total(0, VoteType::Prevote), 7);
        assert_eq!(
            keeper.power_for(0, VoteType::Precommit, Some(ValueId(7))),
            3
        );
        assert_eq!(keeper.total(0, VoteType::Precommit), 3);
        assert_eq!(keeper.power_for(2, VoteType::Prevote, Some(ValueId(9))), 2);
        assert_eq!(keeper.power_for(1, VoteType::Prevote, Some(ValueId(7))), 0);
        assert_eq!(keeper.total(1, VoteType::Precommit), 0);
        assert_eq!(keeper.rounds().collect::<Vec<_>>(), vec![0, 2]);
    }

    #[test]
    fn rounds_arriving_out_of_order_stay_sorted() {
        let set = ValidatorSet::equal(4);
        let mut keeper = VoteKeeper::new(1, 4);
        for (round, validator) in [(5, 0), (1, 1), (3, 2), (0, 3), (3, 0)] {
            keeper.add_vote(prevote(round, Some(1), validator), &set);
        }
        assert_eq!(keeper.rounds().collect::<Vec<_>>(), vec![0, 1, 3, 5]);
        assert_eq!(keeper.total(3, VoteType::Prevote), 2);
        assert_eq!(keeper.total(5, VoteType::Prevote), 1);
    }

    #[test]
    fn identical_vote_is_a_duplicate_and_not_counted_twice() {
        let set = ValidatorSet::equal(4);
        let mut keeper = VoteKeeper::new(1, 4);
        keeper.add_vote(prevote(0, Some(1), 0), &set);
        assert_eq!(
            keeper.add_vote(prevote(0, Some(1), 0), &set),
            VoteOutcome::Duplicate
        );
        assert_eq!(keeper.total(0, VoteType::Prevote), 1);
        assert!(keeper.evidence().is_empty());
    }

    #[test]
    fn one_proof_per_validator_is_kept_however_often_it_equivocates() {
        let validators = ValidatorSet::equal(4);
        let mut keeper = VoteKeeper::new(1, 4);
        for height in 1..=50 {
            keeper.reset(height, 4);
            for round in 0..3 {
                let vote = |value| Vote {
                    height,
                    round,
                    vote_type: VoteType::Prevote,
                    value,
                    validator: 2,
                };
                assert_eq!(
                    keeper.add_vote(vote(Some(ValueId(1))), &validators),
                    VoteOutcome::Counted
                );
                assert_eq!(
                    keeper.add_vote(vote(None), &validators),
                    VoteOutcome::Equivocation
                );
            }
        }
        assert_eq!(
            keeper.evidence().len(),
            1,
            "150 equivocations, one proof kept"
        );
        assert_eq!(keeper.evidence()[0].first.height, 1);
    }

    #[test]
    fn conflicting_vote_is_evidence_and_not_counted() {
        let set = ValidatorSet::equal(4);
        let mut keeper = VoteKeeper::new(1, 4);
        keeper.add_vote(prevote(0, Some(1), 3), &set);
        assert_eq!(
            keeper.add_vote(prevote(0, Some(2), 3), &set),
            VoteOutcome::Equivocation
        );
        assert_eq!(
            keeper.add_vote(prevote(0, None, 3), &set),
            VoteOutcome::Duplicate
        );
        assert_eq!(
            keeper.add_vote(prevote(0, Some(2), 3), &set),
            VoteOutcome::Duplicate
        );
        assert_eq!(keeper.power_for(0, VoteType::Prevote, Some(ValueId(1))), 1);
        assert_eq!(keeper.power_for(0, VoteType::Prevote, Some(ValueId(2))), 0);
        assert_eq!(keeper.total(0, VoteType::Prevote), 1);
        assert_eq!(keeper.sender_power(0), 1);
        assert_eq!(
            keeper.evidence(),
            &[Evidence {
                first: prevote(0, Some(1), 3),
                second: prevote(0, Some(2), 3),
            }]
        );
        // A precommit is another vote type: no conflict with the prevote.
        assert_eq!(
            keeper.add_vote(precommit(0, Some(2), 3), &set),
            VoteOutcome::Counted
        );
        assert_eq!(
            keeper.vote_of(0, VoteType::Prevote, 3),
            Some(Some(ValueId(1)))
        );
        assert_eq!(
            keeper.vote_of(0, VoteType::Precommit, 3),
            Some(Some(ValueId(2)))
        );
        assert_eq!(keeper.vote_of(0, VoteType::Precommit, 2), None);
    }

    #[test]
    fn sender_power_counts_each_validator_once_per_round_any_message() {
        let set = ValidatorSet::new(vec![2, 3, 2]);
        let mut keeper = VoteKeeper::new(1, 3);
        keeper.add_vote(prevote(4, Some(1), 1), &set);
        keeper.add_vote(precommit(4, Some(1), 1), &set);
        assert!(!keeper.add_sender(4, 1, &set));
        assert!(keeper.add_sender(4, 0, &set));
        assert_eq!(keeper.sender_power(4), 5);
        assert_eq!(keeper.sender_power(3), 0);
    }

    #[test]
    fn wrong_height_or_unknown_validator_is_rejected() {
        let set = ValidatorSet::equal(4);
        let mut keeper = VoteKeeper::new(2, 4);
        assert_eq!(
            keeper.add_vote(prevote(0, Some(1), 0), &set),
            VoteOutcome::Rejected
        );
        let stranger = Vote {
            height: 2,
            ..prevote(0, Some(1), 4)
        };
        assert_eq!(keeper.add_vote(stranger, &set), VoteOutcome::Rejected);
        assert!(!keeper.add_sender(0, 9, &set));
        assert_eq!(keeper.total(0, VoteType::Prevote), 0);
    }

    #[test]
    fn reset_forgets_votes_but_keeps_evidence_and_buffers() {
        let set = ValidatorSet::equal(4);
        let mut keeper = VoteKeeper::new(1, 4);
        keeper.add_vote(prevote(0, Some(1), 0), &set);
        keeper.add_vote(prevote(0, Some(2), 0), &set);
        keeper.add_vote(prevote(1, Some(1), 0), &set);
        keeper.reset(2, 4);
        assert_eq!(keeper.height(), 2);
        assert_eq!(keeper.rounds().count(), 0);
        assert_eq!(keeper.total(0, VoteType::Prevote), 0);
        assert_eq!(keeper.evidence().len(), 1);
        assert_eq!(keeper.spare.len(), 2);
        let again = Vote {
            height: 2,
            ..prevote(0, Some(2), 0)
        };
        assert_eq!(keeper.add_vote(again, &set), VoteOutcome::Counted);
        assert_eq!(keeper.spare.len(), 1);
        assert_eq!(keeper.power_for(0, VoteType::Prevote, Some(ValueId(2))), 1);
        assert_eq!(keeper.power_for(0, VoteType::Prevote, Some(ValueId(1))), 0);
    }
}
