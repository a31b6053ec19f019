//! Fork accountability: what the votes the correct validators received prove about who broke
//! the protocol (CometBFT spec, `spec/light-client/accountability`).
//!
//! Two misbehaviours can cause a fork, and both are proven from received votes alone:
//! - **equivocation** (F1): two different votes of one validator for the same height, round
//!   and type, which one correct validator received both of, or different ones received each;
//! - **amnesia** (F2, flip-flopping): a precommit for `v` in round `r` and a prevote for another
//!   value `v'` in a later round `r'`, with no polka (prevotes of more than 2/3 of the power) for
//!   `v'` in any round from `r` to `r' - 1` that could have unlocked it. A correct validator
//!   prevotes `v'` after locking `v` only on such a polka (the paper's L28–29, `vr ≥ lockedRound`),
//!   so the pair proves the signer faulty; the polka is looked for among the received prevotes,
//!   which hold every polka a correct validator acted on.

use crate::consensus::{Evidence, Round, ValidatorIndex, ValidatorSet, ValueId, Vote, VoteType};

/// One vote as the table keeps it (height and signer are where it is filed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cast {
    round: Round,
    vote_type: VoteType,
    value: Option<ValueId>,
}

/// The distinct votes of one height that reached correct validators, per signer.
#[derive(Debug, Default)]
pub(super) struct HeightVotes {
    by_signer: Vec<Vec<Cast>>,
}

impl HeightVotes {
    /// Ready for a height of `n` validators (reuses the buffers of a former height).
    pub(super) fn reset(&mut self, n: usize) {
        self.by_signer.resize_with(n, Vec::new);
        for casts in &mut self.by_signer {
            casts.clear();
        }
    }

    /// File `vote`; returns the vote it conflicts with (same round and type, another value)
    /// when it is the first conflict of its signer at this round and type.
    pub(super) fn add(&mut self, vote: Vote) -> Option<Vote> {
        let casts = self.by_signer.get_mut(usize::from(vote.validator))?;
        let cast = Cast {
            round: vote.round,
            vote_type: vote.vote_type,
            value: vote.value,
        };
        let mut conflict = None;
        for c in casts.iter() {
            if *c == cast {
                return None;
            }
            if c.round == cast.round && c.vote_type == cast.vote_type && conflict.is_none() {
                conflict = Some(Vote {
                    value: c.value,
                    ..vote
                });
            }
        }
        casts.push(cast);
        conflict
    }

    /// Whether `vote` is filed (or its signer is out of range, so it never would be).
    pub(super) fn holds(&self, vote: &Vote) -> bool {
        let cast = Cast {
            round: vote.round,
            vote_type: vote.vote_type,
            value: vote.value,
        };
        self.by_signer
            .get(usize::from(vote.validator))
            .is_none_or(|casts| casts.contains(&cast))
    }

    /// Validators proven to have flip-flopped at `height` (amnesia), sorted.
    pub(super) fn amnesia(&self, validators: &ValidatorSet) -> Vec<ValidatorIndex> {
        let mut culprits = Vec::new();
        for (signer, casts) in self.by_signer.iter().enumerate() {
            let flipped = casts.iter().any(|precommit| {
                let (Some(locked), VoteType::Precommit) = (precommit.value, precommit.vote_type)
                else {
                    return false;
                };
                casts.iter().any(|prevote| {
                    prevote.vote_type == VoteType::Prevote
                        && prevote.round > precommit.round
                        && prevote.value.is_some_and(|other| other != locked)
                        && !(precommit.round..prevote.round)
                            .any(|r| self.polka(validators, r, prevote.value))
                })
            });
            if flipped {
                culprits.push(signer as ValidatorIndex);
            }
        }
        culprits
    }

    /// Whether prevotes of more than 2/3 of the power for `value` in `round` were received.
    fn polka(&self, validators: &ValidatorSet, round: Round, value: Option<ValueId>) -> bool {
        let power: u128 = self
            .by_signer
            .iter()
            .enumerate()
            .filter(|(_, casts)| {
                casts.iter().any(|c| {
                    c.round == round && c.vote_type == VoteType::Prevote && c.value == value
                })
            })
            .map(|(signer, _)| u128::from(validators.power(signer as ValidatorIndex)))
            .sum();
        3 * power > 2 * u128::from(validators.total_power())
    }
}

/// The first equivocation proven of each validator, from votes that reached correct ones.
#[derive(Debug, Default)]
pub(super) struct Equivocations {
    proofs: Vec<Evidence>,
}

impl Equivocations {
    /// Keep `first`/`second` as the proof against their signer unless it already has one.
    pub(super) fn prove(&mut self, first: Vote, second: Vote) {
        if !self
            .proofs
            .iter()
            .any(|e| e.first.validator == first.validator)
        {
            self.proofs.push(Evidence { first, second });
        }
    }

    /// The proofs, one per culprit, in the order found.
    pub(super) fn proofs(&self) -> &[Evidence] {
        &self.proofs
    }

    /// The proven equivocators.
    pub(super) fn culprits(&self) -> impl Iterator<Item = ValidatorIndex> + '_ {
        self.proofs.iter().map(|e| e.first.validator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(
        validator: ValidatorIndex,
        round: Round,
        vote_type: VoteType,
        value: Option<u64>,
    ) -> Vote {
        Vote {
            height: 1,
            round,
            vote_type,
            value: value.map(ValueId),
            validator,
        }
    }

    fn table(votes: &[Vote]) -> HeightVotes {
        let mut t = HeightVotes::default();
        t.reset(4);
        for &v in votes {
            t.add(v);
        }
        t
    }

    use VoteType::{Precommit, Prevote};

    #[test]
    fn a_second_value_at_the_same_round_and_type_is_a_conflict_once() {
        let mut t = HeightVotes::default();
        t.reset(4);
        assert_eq!(t.add(vote(2, 0, Prevote, Some(1))), None);
        assert_eq!(
            t.add(vote(2, 0, Prevote, Some(1))),
            None,
            "the same vote again"
        );
        assert_eq!(t.add(vote(2, 0, Precommit, None)), None, "another type");
        assert_eq!(
            t.add(vote(2, 0, Prevote, None)),
            Some(vote(2, 0, Prevote, Some(1)))
        );
        assert_eq!(t.add(vote(2, 0, Prevote, None)), None, "already filed");
    }

    #[test]
    fn precommit_then_prevote_for_another_value_without_polka_is_amnesia() {
        let validators = ValidatorSet::equal(4);
        let t = table(&[
            vote(2, 0, Precommit, Some(7)),
            vote(2, 1, Prevote, Some(8)),
            vote(3, 0, Precommit, Some(7)),
            vote(3, 2, Prevote, None), // nil is always allowed
            vote(1, 0, Precommit, Some(7)),
            vote(1, 1, Prevote, Some(7)), // the locked value again
        ]);
        assert_eq!(t.amnesia(&validators), vec![2]);
    }

    #[test]
    fn a_polka_between_the_rounds_justifies_the_change() {
        let validators = ValidatorSet::equal(4);
        let mut votes = vec![vote(2, 0, Precommit, Some(7)), vote(2, 2, Prevote, Some(8))];
        // Prevotes for 8 in round 1 from three of four: a polka that unlocks 7.
        votes.extend([0, 1, 3].map(|v| vote(v, 1, Prevote, Some(8))));
        assert!(table(&votes).amnesia(&validators).is_empty());
        // Two of four is no polka; a polka before the precommit's round does not unlock either.
        let mut votes = vec![vote(2, 1, Precommit, Some(7)), vote(2, 2, Prevote, Some(8))];
        votes.extend((0..2).map(|v| vote(v, 1, Prevote, Some(8))));
        votes.extend((0..4).map(|v| vote(v, 0, Prevote, Some(8))));
        assert_eq!(table(&votes).amnesia(&validators), vec![2]);
    }

    #[test]
    fn a_polka_needs_more_than_two_thirds_of_the_power() {
        // Powers 1, 1, 1, 3: validators 0 and 3 hold 4 of 6, exactly 2/3.
        let validators = ValidatorSet::new(vec![1, 1, 1, 3]);
        let mut votes = vec![vote(1, 0, Precommit, Some(7)), vote(1, 2, Prevote, Some(8))];
        votes.extend([0, 3].map(|v| vote(v, 1, Prevote, Some(8))));
        assert_eq!(
            table(&votes).amnesia(&validators),
            vec![1],
            "exactly 2/3 is no polka"
        );
        votes.push(vote(2, 1, Prevote, Some(8)));
        assert!(
            table(&votes).amnesia(&validators).is_empty(),
            "5 of 6 is one"
        );
    }
}
