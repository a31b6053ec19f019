//! Vote tallies of one height, per round and vote type, on voting power, with equivocation
//! evidence.
//!
//! Each validator counts at most once per (round, type) toward the round's total (L34, L47:
//! "2f+1 of any kind"): its first vote. A second, different vote is recorded as `Evidence` and
//! counts toward its own value only, as the paper counts messages per value ("2f+1
//! ⟨PREVOTE, h, r, id(v)⟩", distinct senders) and as CometBFT counts a conflicting vote toward a
//! block that a peer claimed two thirds for (VoteSetMaj23, `VoteSet.SetPeerMaj23`): without it,
//! correct validators locked on a value whose polka included an equivocator's votes could never
//! see it from the other side. Below a third of Byzantine power this is safe: two values with
//! two thirds each in one round and type would need a correct validator to have voted both.
//! Further values of the same signer are ignored (one conflict is proof enough, and it bounds
//! the count). An identical vote is a duplicate and ignored.
//! For the round skip (L55) the keeper also sums the power of every distinct sender of any
//! message in a round.
//!
//! A vote costs the same at 4 and at 1,000 validators: the round is found by its number (the
//! newest round first, else a binary search over the few rounds of the height), the vote's value
//! by its slot among the distinct values of that round and type (nil and the proposal; a few
//! more under equivocation), and whether its signer already voted or was heard is one bit of a
//! small bitmap (a cache line per 64 validators, 1 KiB a round at 1,000 validators, so the
//! bitmaps of 1,000 keepers stay in cache, where per-validator records of 24 bytes did not). The
//! slot of the value a validator voted is a flag there when it is slot 0, the round's first
//! value (the proposal's, for most votes), and otherwise written beside it; it is read only when
//! a second vote of the same type arrives (the evidence path). Powers per value and totals are
//! kept as votes arrive, so every threshold check reads one number. Nothing is hashed and, once
//! the buffers have grown, nothing is allocated, also across heights.

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
    /// The first vote of a validator that already voted for another value: recorded as
    /// evidence and counted toward its value, not toward the total.
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
        self.add_vote_crossing(vote, validators).0
    }

    /// [`VoteKeeper::add_vote`], also telling whether the vote took a count across the
    /// threshold a rule of the algorithm reads: its value's power or its type's total in its
    /// round to 2f+1 (L28, L34, L36, L44, L47, L49), or its round's sender power to f+1 (L55).
    /// Every rule that reads votes compares one of these counts with one of these thresholds,
    /// and counts only grow, so a vote that crosses none cannot make a rule fire that did not
    /// fire before it.
    pub fn add_vote_crossing(
        &mut self,
        vote: Vote,
        validators: &ValidatorSet,
    ) -> (VoteOutcome, bool) {
        let index = usize::from(vote.validator);
        if vote.height != self.height || index >= self.validator_count || index >= validators.len()
        {
            return (VoteOutcome::Rejected, false);
        }
        let power = validators.power(vote.validator);
        let round = self.round_mut(vote.round);
        let kind = vote.vote_type as usize;
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        let flags = round.flags[word];
        let quorum = validators.quorum();
        if flags.voted[kind] & bit == 0 {
            let tally = &mut round.tallies[kind];
            let slot = tally.add(vote.value, power);
            let mut crossed = crosses(tally.total, power, quorum)
                || crosses(tally.by_value[usize::from(slot)].1, power, quorum);
            let heard = (flags.voted[0] | flags.voted[1] | flags.message) & bit != 0;
            let record = &mut round.flags[word];
            record.voted[kind] |= bit;
            // Slot 0 (the round's first value, usually the proposal's) is told by the flags
            // alone: `slots`, one more cache line, is written only for the others.
            if slot != 0 {
                record.other_slot[kind] |= bit;
                round.slots[index][kind] = slot;
            }
            if !heard {
                round.sender_power += power;
                crossed |= crosses(round.sender_power, power, validators.one_third_plus());
            }
            return (VoteOutcome::Counted, crossed);
        }
        let first = round.tallies[kind].value_of(round.slot_of(index, kind));
        if first == vote.value || flags.equivocated[kind] & bit != 0 {
            // The same vote again, or a validator already proven at this round and type (one
            // piece of evidence per validator, round and type is proof enough).
            return (VoteOutcome::Duplicate, false);
        }
        round.flags[word].equivocated[kind] |= bit;
        let tally = &mut round.tallies[kind];
        let slot = tally.add_to_value(vote.value, power);
        let crossed = crosses(tally.by_value[usize::from(slot)].1, power, quorum);
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
        (VoteOutcome::Equivocation, crossed)
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
        let round = self.round_mut(round);
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        let flags = &mut round.flags[word];
        if (flags.voted[0] | flags.voted[1] | flags.message) & bit != 0 {
            return false;
        }
        flags.message |= bit;
        round.sender_power += power;
        true
    }

    /// Power of the validators whose counted `vote_type` vote in `round` is for `value`.
    pub fn power_for(
        &self,
        round: Round,
        vote_type: VoteType,
        value: Option<ValueId>,
    ) -> VotingPower {
        self.round(round)
            .map_or(0, |r| r.tallies[vote_type as usize].power_for(value))
    }

    /// Power of all counted `vote_type` votes in `round`, whatever their value.
    pub fn total(&self, round: Round, vote_type: VoteType) -> VotingPower {
        self.round(round)
            .map_or(0, |r| r.tallies[vote_type as usize].total)
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
        let round = self.round(round)?;
        let (kind, index) = (vote_type as usize, usize::from(validator));
        let flags = round.flags.get(index / 64)?;
        (flags.voted[kind] & 1 << (index % 64) != 0)
            .then(|| round.tallies[kind].value_of(round.slot_of(index, kind)))
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

    /// The keeper's list of rounds, which a vote reads before its round's record: for a cache
    /// hint, like [`Self::newest_round`].
    pub fn round_list(&self) -> &impl Sized {
        &self.rounds
    }

    /// The record of the newest round, which a vote of that round reads next: for a cache
    /// hint ahead of the vote (`sim::prefetch`); opaque, read nothing from it.
    pub fn newest_round(&self) -> Option<&impl Sized> {
        self.rounds.last()
    }

    /// The bitmap record that a vote of `validator` in the newest round reads after the
    /// round's record: for a cache hint, like [`Self::newest_round`].
    pub fn newest_flags(&self, validator: ValidatorIndex) -> Option<&impl Sized> {
        self.rounds.last()?.flags.get(usize::from(validator) / 64)
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

    /// The record of `round`, made if it has none. Inlined for the usual case, a vote of the
    /// newest round; the search and the making are out of line.
    #[inline]
    fn round_mut(&mut self, round: Round) -> &mut RoundVotes {
        let newest = self.rounds.len().wrapping_sub(1);
        if self.rounds.last().is_some_and(|last| last.round == round) {
            return &mut self.rounds[newest];
        }
        self.find_or_make_round(round)
    }

    #[cold]
    #[inline(never)]
    fn find_or_make_round(&mut self, round: Round) -> &mut RoundVotes {
        let i = match self.rounds.binary_search_by_key(&round, |r| r.round) {
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

/// Whether a count that is `after` once `added` was added reached `threshold` with it.
fn crosses(after: VotingPower, added: VotingPower, threshold: VotingPower) -> bool {
    after >= threshold && after - added < threshold
}

/// The votes and senders of one round.
#[derive(Clone, Debug, Default)]
struct RoundVotes {
    round: Round,
    /// Prevotes and precommits, indexed by `VoteType as usize`.
    tallies: [Tally; 2],
    /// Who voted and who was heard, 64 validators a record: what a vote reads first, 1 KiB
    /// for 1,000 validators.
    flags: Vec<Flags>,
    /// `slots[v][kind]`: the slot in `tallies[kind]` of the value `v` voted, valid where
    /// `flags` says it voted a value of a slot other than 0; written once, read only for a
    /// second vote of the same type ([`RoundVotes::slot_of`]).
    slots: Vec<[u16; 2]>,
    /// Power of the validators heard from in this round, any message (L55).
    sender_power: VotingPower,
}

impl RoundVotes {
    /// The slot of the value validator `index` voted in its counted vote of type `kind`
    /// (which it must have cast).
    fn slot_of(&self, index: usize, kind: usize) -> u16 {
        match self.flags[index / 64].other_slot[kind] & 1 << (index % 64) {
            0 => 0,
            _ => self.slots[index][kind],
        }
    }

    fn reset(&mut self, round: Round, validator_count: usize) {
        self.round = round;
        for tally in &mut self.tallies {
            tally.reset();
        }
        self.flags.clear();
        self.flags
            .resize(validator_count.div_ceil(64), Flags::default());
        // Stale slots are never read: a slot is read only where its `other_slot` flag is set.
        self.slots.resize(validator_count, [0; 2]);
        self.sender_power = 0;
    }
}

/// What 64 validators (bit `v % 64` of record `v / 64`) did in a round: one cache line.
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(64))]
struct Flags {
    /// Counted a vote of each type (`VoteType as usize`).
    voted: [u64; 2],
    /// Sent a non-vote message (a proposal).
    message: u64,
    /// Sent a second, conflicting vote of each type (evidence recorded).
    equivocated: [u64; 2],
    /// The counted vote of each type is for a value of a slot other than 0, written in
    /// `RoundVotes::slots`.
    other_slot: [u64; 2],
}

/// Prevotes or precommits of one round.
#[derive(Clone, Debug, Default)]
struct Tally {
    /// Power per value voted (`None` is nil), in the order values first appeared: a value's
    /// slot is its place here. Honest rounds have at most two (nil and the proposal).
    by_value: Vec<(Option<ValueId>, VotingPower)>,
    total: VotingPower,
}

impl Tally {
    fn reset(&mut self) {
        self.by_value.clear();
        self.total = 0;
    }

    /// Add `power` for `value`; returns the value's slot.
    fn add(&mut self, value: Option<ValueId>, power: VotingPower) -> u16 {
        self.total += power;
        self.add_to_value(value, power)
    }

    /// Count `power` toward `value` only (a signer's conflicting vote); returns its slot.
    fn add_to_value(&mut self, value: Option<ValueId>, power: VotingPower) -> u16 {
        let slot = match self.by_value.iter().position(|(v, _)| *v == value) {
            Some(slot) => {
                self.by_value[slot].1 += power;
                slot
            }
            None => {
                self.by_value.push((value, power));
                self.by_value.len() - 1
            }
        };
        // A slot is made only by a validator's first vote of the type or its first conflicting
        // one; slots are looked up only for first votes, and validator indices are `u16`.
        slot as u16
    }

    /// The value of slot `slot`.
    fn value_of(&self, slot: u16) -> Option<ValueId> {
        self.by_value[usize::from(slot)].0
    }

    fn power_for(&self, value: Option<ValueId>) -> VotingPower {
        self.by_value
            .iter()
            .find(|(v, _)| *v == value)
            .map_or(0, |(_, sum)| *sum)
    }
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
    fn a_vote_crosses_when_it_takes_a_count_to_two_thirds_or_a_sender_count_past_a_third() {
        // Four validators of power 1: 2f+1 = 3, f+1 = 2.
        let set = ValidatorSet::equal(4);
        let mut keeper = VoteKeeper::new(1, 4);
        let v1 = Some(1);
        let steps = [
            (prevote(0, v1, 0), VoteOutcome::Counted, false),
            // Sender power 2: f+1 (L55).
            (prevote(0, None, 1), VoteOutcome::Counted, true),
            // Prevote total 3: 2f+1 of any kind (L34), v1 at 2.
            (prevote(0, v1, 2), VoteOutcome::Counted, true),
            // v1 at 3: a polka (L36).
            (prevote(0, v1, 3), VoteOutcome::Counted, true),
            // Precommits: senders already heard, counts below 3.
            (precommit(0, v1, 0), VoteOutcome::Counted, false),
            (precommit(0, v1, 1), VoteOutcome::Counted, false),
            // Total and v1 both at 3 (L47, L49).
            (precommit(0, v1, 2), VoteOutcome::Counted, true),
            (precommit(0, v1, 2), VoteOutcome::Duplicate, false),
            (precommit(0, v1, 3), VoteOutcome::Counted, false),
            (precommit(0, Some(2), 0), VoteOutcome::Equivocation, false),
            // Round 1: a conflicting vote completes the two thirds of its value.
            (precommit(1, v1, 0), VoteOutcome::Counted, false),
            (precommit(1, Some(2), 1), VoteOutcome::Counted, true),
            (precommit(1, Some(2), 2), VoteOutcome::Counted, true),
            (precommit(1, Some(2), 0), VoteOutcome::Equivocation, true),
            (precommit(1, Some(2), 3), VoteOutcome::Counted, false),
        ];
        for (i, (vote, outcome, crossed)) in steps.into_iter().enumerate() {
            assert_eq!(
                keeper.add_vote_crossing(vote, &set),
                (outcome, crossed),
                "step {i}"
            );
        }
        assert_eq!(
            keeper.power_for(1, VoteType::Precommit, Some(ValueId(2))),
            4
        );
        assert_eq!(keeper.total(1, VoteType::Precommit), 4);
        let mut other_height = vote(0, VoteType::Prevote, v1, 0);
        other_height.height = 2;
        assert_eq!(
            keeper.add_vote_crossing(other_height, &set),
            (VoteOutcome::Rejected, false)
        );
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
    fn conflicting_vote_is_evidence_and_counts_toward_its_value_only() {
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
        // The second value counts for itself (a polka for it may include this signer); the
        // total counts the signer once, and a third value not at all.
        assert_eq!(keeper.power_for(0, VoteType::Prevote, Some(ValueId(1))), 1);
        assert_eq!(keeper.power_for(0, VoteType::Prevote, Some(ValueId(2))), 1);
        assert_eq!(keeper.power_for(0, VoteType::Prevote, None), 0);
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

    /// Votes for the round's first value (slot 0, kept as a flag), its second and third, also
    /// in a round record reused from an earlier height whose slots were others: each
    /// validator's vote reads back as cast, a repeat is a duplicate and a change evidence.
    #[test]
    fn the_value_voted_reads_back_whatever_its_slot() {
        let set = ValidatorSet::equal(130);
        let mut keeper = VoteKeeper::new(1, 130);
        let value = |v: ValidatorIndex, height: Height| match (v + height as u16) % 3 {
            0 => None,
            1 => Some(7),
            _ => Some(9),
        };
        for height in 1..=3 {
            keeper.reset(height, 130);
            for v in 0..130 {
                let cast = Vote {
                    height,
                    ..prevote(0, value(v, height), v)
                };
                assert_eq!(keeper.add_vote(cast, &set), VoteOutcome::Counted);
            }
            for v in 0..130 {
                let cast = value(v, height).map(ValueId);
                assert_eq!(keeper.vote_of(0, VoteType::Prevote, v), Some(cast));
                assert_eq!(keeper.vote_of(0, VoteType::Precommit, v), None);
                let again = Vote {
                    height,
                    ..prevote(0, value(v, height), v)
                };
                assert_eq!(keeper.add_vote(again, &set), VoteOutcome::Duplicate);
            }
            // One proof per validator is kept: a new one each height.
            let v = 60 + height as ValidatorIndex;
            let other = Vote {
                height,
                ..prevote(0, value(v, height + 1), v)
            };
            assert_eq!(keeper.add_vote(other, &set), VoteOutcome::Equivocation);
            let proof = keeper.evidence().last().copied();
            assert_eq!(
                proof.map(|e| e.first.value),
                Some(value(v, height).map(ValueId))
            );
        }
    }

    #[test]
    fn validators_beyond_the_first_bitmap_word_count_once_each() {
        let set = ValidatorSet::new((1..=130).collect());
        let mut keeper = VoteKeeper::new(1, 130);
        for v in [63, 64, 129] {
            assert_eq!(
                keeper.add_vote(prevote(0, Some(5), v), &set),
                VoteOutcome::Counted
            );
        }
        assert_eq!(
            keeper.add_vote(prevote(0, Some(5), 64), &set),
            VoteOutcome::Duplicate
        );
        assert_eq!(
            keeper.add_vote(prevote(0, None, 129), &set),
            VoteOutcome::Equivocation
        );
        assert_eq!(
            keeper.add_vote(precommit(0, None, 129), &set),
            VoteOutcome::Counted
        );
        assert!(keeper.add_sender(0, 65, &set));
        assert!(!keeper.add_sender(0, 64, &set));
        // Powers are index + 1: 64 + 65 + 130 prevoted, 66 only proposed.
        assert_eq!(
            keeper.power_for(0, VoteType::Prevote, Some(ValueId(5))),
            259
        );
        assert_eq!(keeper.total(0, VoteType::Precommit), 130);
        assert_eq!(keeper.sender_power(0), 259 + 66);
        assert_eq!(
            keeper.vote_of(0, VoteType::Prevote, 129),
            Some(Some(ValueId(5)))
        );
        assert_eq!(keeper.vote_of(0, VoteType::Prevote, 65), None);
        assert_eq!(keeper.evidence().len(), 1);
    }
}
