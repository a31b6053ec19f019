//! Safety invariants, checked on every decision of every run (not only in tests):
//! agreement, validity, and accountability.
//!
//! Accountability is judged from the votes that reached correct validators (the checker is
//! told of each): a fork names the validators those votes prove faulty, by equivocation or by
//! amnesia (`accountability`).

mod accountability;

use crate::consensus::{Evidence, Height, Round, ValidatorIndex, ValidatorSet, ValueId, Vote};
use accountability::{Equivocations, HeightVotes};
use serde::{Deserialize, Serialize};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

/// Heights whose received votes are kept while not every correct validator has decided them
/// (a validator cut off for good leaves its heights open); older ones are judged with what
/// arrived by then. Bounds memory on long runs, like the decisions kept for catch-up.
pub const OPEN_HEIGHTS_KEPT: usize = 4096;

/// Forked heights whose received votes are kept to the end of the run, so votes that arrive
/// after the fork still count; later forks are judged when their height is decided everywhere.
pub const FORKED_HEIGHTS_KEPT: usize = 256;

/// A broken invariant, with the evidence that names who caused it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// `agreement` or `validity`.
    pub invariant: String,
    /// Height it happened at.
    pub height: Height,
    /// What happened.
    pub description: String,
    /// Validators proven Byzantine by the votes correct validators received: equivocation at
    /// any height, amnesia at this one.
    pub culprits: Vec<ValidatorIndex>,
}

/// What the checker knows about one height.
#[derive(Clone, Debug)]
struct HeightDecisions {
    first: (ValidatorIndex, ValueId),
    /// Correct validators that decided it.
    decided: usize,
    /// Index in `violations` of its agreement violation, if any.
    fork: Option<usize>,
    /// A fork whose received votes are kept to the end of the run.
    keep_votes: bool,
}

/// Watches every decision of every correct validator and the votes that reach them.
#[derive(Debug)]
pub struct SafetyChecker {
    validators: ValidatorSet,
    correct: usize,
    decisions: BTreeMap<Height, HeightDecisions>,
    violations: Vec<Violation>,
    /// Amnesia culprits of forks whose votes are no longer kept, by violation index.
    judged: BTreeMap<usize, Vec<ValidatorIndex>>,
    /// Received votes of heights not yet decided by every correct validator, and of forks.
    votes: BTreeMap<Height, HeightVotes>,
    forked_kept: usize,
    /// Heights below this, and those in `closed`, keep no votes (decided everywhere or old).
    closed_below: Height,
    closed: BTreeSet<Height>,
    spare: Vec<HeightVotes>,
    equivocations: Equivocations,
}

impl SafetyChecker {
    /// A checker for `validators`, `correct` of which are correct, that has seen nothing.
    pub fn new(validators: ValidatorSet, correct: usize) -> Self {
        SafetyChecker {
            validators,
            correct,
            decisions: BTreeMap::new(),
            violations: Vec::new(),
            judged: BTreeMap::new(),
            votes: BTreeMap::new(),
            forked_kept: 0,
            closed_below: 1,
            closed: BTreeSet::new(),
            spare: Vec::new(),
            equivocations: Equivocations::default(),
        }
    }

    /// `vote` reached a correct validator (or a correct validator signed it): file it as
    /// evidence. Two different votes of one signer for the same height, round and type prove it
    /// equivocated, whichever correct validators received them.
    pub fn vote_received(&mut self, vote: Vote) {
        let height = vote.height;
        // Nearly every vote is of a height already open: one search of the map.
        if let Some(table) = self.votes.get_mut(&height) {
            if let Some(earlier) = table.add(vote) {
                self.equivocations.prove(earlier, vote);
            }
            return;
        }
        if height < self.closed_below || self.closed.contains(&height) {
            return;
        }
        let mut table = self.spare.pop().unwrap_or_default();
        table.reset(self.validators.len());
        self.votes.insert(height, table);
        if self.votes.len().saturating_sub(self.forked_kept) > OPEN_HEIGHTS_KEPT {
            self.evict_oldest_open();
        }
        // Open now, unless it was the oldest and the eviction closed it at once.
        if self.votes.contains_key(&height) {
            self.vote_received(vote);
        }
    }

    /// Whether filing `vote` again would change nothing: its height keeps no votes any more,
    /// or they hold it. For debug assertions of callers that skip votes already filed.
    pub fn holds(&self, vote: &Vote) -> bool {
        match self.votes.get(&vote.height) {
            Some(table) => table.holds(vote),
            None => vote.height < self.closed_below || self.closed.contains(&vote.height),
        }
    }

    /// A correct validator decided `value` at `height`. `proposed` tells whether that value was
    /// really proposed at that height by its round's proposer (validity).
    /// Returns true when this is the first correct decision at `height` (the chain's commit).
    pub fn record_decision(
        &mut self,
        validator: ValidatorIndex,
        height: Height,
        round: Round,
        value: ValueId,
        proposed: bool,
    ) -> bool {
        if !proposed {
            self.violations.push(Violation {
                invariant: "validity".to_string(),
                height,
                description: format!(
                    "validator {validator} decided value {} at height {height} round {round}, which no proposer proposed",
                    value.0
                ),
                culprits: Vec::new(),
            });
        }
        let (first, d) = match self.decisions.entry(height) {
            Entry::Occupied(d) => (false, d.into_mut()),
            Entry::Vacant(d) => (
                true,
                d.insert(HeightDecisions {
                    first: (validator, value),
                    decided: 0,
                    fork: None,
                    keep_votes: false,
                }),
            ),
        };
        d.decided += 1;
        if d.first.1 != value && d.fork.is_none() {
            let (other, other_value) = d.first;
            d.fork = Some(self.violations.len());
            self.violations.push(Violation {
                invariant: "agreement".to_string(),
                height,
                description: format!(
                    "validators {other} and {validator} decided different values ({} and {}) at height {height}",
                    other_value.0, value.0
                ),
                culprits: Vec::new(),
            });
            if self.forked_kept < FORKED_HEIGHTS_KEPT {
                self.forked_kept += 1;
                d.keep_votes = true;
            }
        }
        if d.decided >= self.correct && !d.keep_votes {
            self.close(height);
        }
        first
    }

    /// True when no correct validators disagreed.
    pub fn agreement(&self) -> bool {
        !self.violations.iter().any(|v| v.invariant == "agreement")
    }

    /// True when every decision was a proposed value.
    pub fn validity(&self) -> bool {
        !self.violations.iter().any(|v| v.invariant == "validity")
    }

    /// Every violation, in the order found; a fork with the culprits the votes received so far
    /// prove.
    pub fn violations(&self) -> Vec<Violation> {
        let mut out = self.violations.clone();
        for (i, violation) in out.iter_mut().enumerate() {
            if violation.invariant != "agreement" {
                continue;
            }
            let mut culprits: Vec<ValidatorIndex> = self.equivocations.culprits().collect();
            let equivocators = culprits.len();
            let amnesia = match self.votes.get(&violation.height) {
                Some(table) => table.amnesia(&self.validators),
                None => self.judged.get(&i).cloned().unwrap_or_default(),
            };
            culprits.extend(amnesia.iter().copied());
            culprits.sort_unstable();
            culprits.dedup();
            violation.description = format!(
                "{}; {} validator(s) proven faulty: {culprits:?} ({equivocators} by equivocation, \
                 {:?} by amnesia at this height)",
                violation.description,
                culprits.len(),
                amnesia
            );
            violation.culprits = culprits;
        }
        out
    }

    /// The equivocation proofs the correct validators hold between them, one per culprit.
    pub fn equivocations(&self) -> &[Evidence] {
        self.equivocations.proofs()
    }

    /// Heights decided by at least one correct validator.
    pub fn heights_decided(&self) -> usize {
        self.decisions.len()
    }

    /// Stop keeping the votes of `height`: judge its fork, if it has one, with what arrived.
    fn close(&mut self, height: Height) {
        if let Some(table) = self.votes.remove(&height) {
            if let Some(fork) = self.decisions.get(&height).and_then(|d| d.fork) {
                self.judged.insert(fork, table.amnesia(&self.validators));
            }
            self.spare.push(table);
        }
        // Heights below `closed_below` are closed already; the next one moves it on directly.
        if height == self.closed_below {
            self.closed_below += 1;
        } else if height > self.closed_below {
            self.closed.insert(height);
        }
        while self.closed.remove(&self.closed_below) {
            self.closed_below += 1;
        }
    }

    /// Too many heights open: close the lowest one that is not a kept fork, and every height
    /// below it that has no votes kept.
    fn evict_oldest_open(&mut self) {
        let kept = |h: &Height, d: &BTreeMap<Height, HeightDecisions>| {
            d.get(h).is_some_and(|d| d.keep_votes)
        };
        let Some(&oldest) = self.votes.keys().find(|h| !kept(h, &self.decisions)) else {
            return;
        };
        self.close(oldest);
        self.closed_below = self.closed_below.max(oldest + 1);
        let below = self.closed_below;
        self.closed.retain(|&h| h >= below);
        while self.closed.remove(&self.closed_below) {
            self.closed_below += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::VoteType;

    fn vote(validator: ValidatorIndex, height: Height, round: Round, value: Option<u64>) -> Vote {
        Vote {
            height,
            round,
            vote_type: VoteType::Prevote,
            value: value.map(ValueId),
            validator,
        }
    }

    fn precommit(validator: ValidatorIndex, round: Round, value: u64) -> Vote {
        Vote {
            vote_type: VoteType::Precommit,
            ..vote(validator, 1, round, Some(value))
        }
    }

    #[test]
    fn same_value_everywhere_holds() {
        let mut c = SafetyChecker::new(ValidatorSet::equal(4), 4);
        let firsts: Vec<bool> = (0..4)
            .map(|v| c.record_decision(v, 1, 0, ValueId(9), true))
            .collect();
        assert_eq!(
            firsts,
            [true, false, false, false],
            "only the first decision commits"
        );
        assert!(c.agreement() && c.validity());
        assert_eq!(c.heights_decided(), 1);
    }

    #[test]
    fn disagreement_is_reported_once_with_the_equivocators_whose_votes_were_received() {
        let mut c = SafetyChecker::new(ValidatorSet::equal(4), 2);
        // 3 and 2 signed two prevotes each at round 0; the correct validators received both of
        // 3's and of 2's (not necessarily the same validator); 1 sent its conflict to nobody.
        for v in [
            vote(3, 5, 0, Some(1)),
            vote(2, 5, 0, Some(1)),
            vote(3, 5, 0, Some(2)),
        ] {
            c.vote_received(v);
        }
        c.vote_received(vote(2, 5, 0, Some(2)));
        c.vote_received(vote(1, 5, 0, Some(1)));
        c.record_decision(0, 5, 0, ValueId(1), true);
        c.record_decision(1, 5, 0, ValueId(2), true);
        c.record_decision(1, 5, 0, ValueId(2), true);
        assert!(!c.agreement());
        let violations = c.violations();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].culprits, vec![2, 3]);
        assert_eq!(violations[0].height, 5);
        assert_eq!(c.equivocations().len(), 2);
        assert_eq!(c.equivocations()[0].first, vote(3, 5, 0, Some(1)));
    }

    #[test]
    fn evidence_that_arrives_after_the_fork_still_names_its_culprits() {
        let mut c = SafetyChecker::new(ValidatorSet::equal(4), 2);
        c.record_decision(0, 1, 0, ValueId(1), true);
        c.record_decision(1, 1, 1, ValueId(2), true);
        assert!(
            c.violations()[0].culprits.is_empty(),
            "nothing received yet"
        );
        // Validators 2 and 3 precommitted 1 in round 0 and prevoted 2 in round 1, with no
        // polka for 2 in round 0: amnesia.
        for v in [2, 3] {
            c.vote_received(precommit(v, 0, 1));
            c.vote_received(vote(v, 1, 1, Some(2)));
        }
        assert_eq!(c.violations()[0].culprits, vec![2, 3]);
        assert!(c.violations()[0].description.contains("[2, 3] by amnesia"));
    }

    #[test]
    fn votes_of_heights_decided_everywhere_are_not_kept() {
        let mut c = SafetyChecker::new(ValidatorSet::equal(4), 4);
        for h in 1..=10_000 {
            c.vote_received(vote(0, h, 0, Some(h)));
            for v in 0..4 {
                c.record_decision(v, h, 0, ValueId(h), true);
            }
            // A late vote of a decided height is not filed again.
            c.vote_received(vote(1, h, 0, Some(h)));
        }
        assert!(c.votes.is_empty());
        assert!(c.closed.is_empty(), "decided heights close in order");
        assert_eq!(c.closed_below, 10_001);
    }

    #[test]
    fn heights_a_correct_validator_never_decides_are_kept_a_bounded_while() {
        let mut c = SafetyChecker::new(ValidatorSet::equal(4), 4);
        let total = OPEN_HEIGHTS_KEPT as Height + 100;
        for h in 1..=total {
            c.vote_received(vote(0, h, 0, Some(h)));
            for v in 0..3 {
                c.record_decision(v, h, 0, ValueId(h), true);
            }
        }
        assert_eq!(c.votes.len(), OPEN_HEIGHTS_KEPT);
        assert_eq!(c.closed_below, 101);
        assert!(c.closed.is_empty());
    }

    #[test]
    fn deciding_an_unproposed_value_breaks_validity() {
        let mut c = SafetyChecker::new(ValidatorSet::equal(4), 4);
        c.record_decision(0, 1, 0, ValueId(7), false);
        assert!(!c.validity());
        assert!(c.agreement());
    }
}
