//! Safety invariants, checked on every decision of every run (not only in tests):
//! agreement, validity, and accountability.

use crate::consensus::{Evidence, Height, Round, ValidatorIndex, ValueId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A broken invariant, with the evidence that names who caused it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// `agreement` or `validity`.
    pub invariant: String,
    /// Height it happened at.
    pub height: Height,
    /// What happened.
    pub description: String,
    /// Validators proven Byzantine by equivocation evidence held by correct validators.
    pub culprits: Vec<ValidatorIndex>,
}

/// What the checker knows about one height.
#[derive(Clone, Debug)]
struct HeightDecisions {
    first: (ValidatorIndex, ValueId),
    conflicting: bool,
}

/// Watches every decision of every correct validator.
#[derive(Debug, Default)]
pub struct SafetyChecker {
    decisions: BTreeMap<Height, HeightDecisions>,
    violations: Vec<Violation>,
}

impl SafetyChecker {
    /// A checker that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// A correct validator decided `value` at `height`. `proposed` tells whether that value was
    /// really proposed at that height by its round's proposer (validity); `evidence` gives the
    /// equivocation evidence correct validators hold, consulted only when something breaks.
    /// Returns true when this is the first correct decision at `height` (the chain's commit).
    pub fn record_decision<'e>(
        &mut self,
        validator: ValidatorIndex,
        height: Height,
        round: Round,
        value: ValueId,
        proposed: bool,
        evidence: impl FnOnce() -> Vec<&'e Evidence>,
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
        match self.decisions.get_mut(&height) {
            None => {
                self.decisions.insert(
                    height,
                    HeightDecisions {
                        first: (validator, value),
                        conflicting: false,
                    },
                );
                true
            }
            Some(d) if d.first.1 != value && !d.conflicting => {
                d.conflicting = true;
                let (other, other_value) = d.first;
                let culprits = culprits(evidence());
                self.violations.push(Violation {
                    invariant: "agreement".to_string(),
                    height,
                    description: format!(
                        "validators {other} and {validator} decided different values ({} and {}) at height {height}; \
                         {} validator(s) proven to have equivocated: {culprits:?}",
                        other_value.0,
                        value.0,
                        culprits.len()
                    ),
                    culprits,
                });
                false
            }
            Some(_) => false,
        }
    }

    /// True when no correct validators disagreed.
    pub fn agreement(&self) -> bool {
        !self.violations.iter().any(|v| v.invariant == "agreement")
    }

    /// True when every decision was a proposed value.
    pub fn validity(&self) -> bool {
        !self.violations.iter().any(|v| v.invariant == "validity")
    }

    /// Every violation, in the order found.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Heights decided by at least one correct validator.
    pub fn heights_decided(&self) -> usize {
        self.decisions.len()
    }
}

/// The distinct validators that equivocated, sorted.
fn culprits(evidence: Vec<&Evidence>) -> Vec<ValidatorIndex> {
    let mut who: Vec<ValidatorIndex> = evidence.iter().map(|e| e.first.validator).collect();
    who.sort_unstable();
    who.dedup();
    who
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::{Vote, VoteType};

    fn vote(validator: ValidatorIndex, value: u64) -> Vote {
        Vote {
            height: 1,
            round: 0,
            vote_type: VoteType::Prevote,
            value: Some(ValueId(value)),
            validator,
        }
    }

    #[test]
    fn same_value_everywhere_holds() {
        let mut c = SafetyChecker::new();
        let firsts: Vec<bool> = (0..4)
            .map(|v| c.record_decision(v, 1, 0, ValueId(9), true, Vec::new))
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
    fn disagreement_is_reported_once_with_the_culprits() {
        let mut c = SafetyChecker::new();
        let ev = [
            Evidence {
                first: vote(3, 1),
                second: vote(3, 2),
            },
            Evidence {
                first: vote(2, 1),
                second: vote(2, 2),
            },
            Evidence {
                first: vote(3, 1),
                second: vote(3, 2),
            },
        ];
        c.record_decision(0, 5, 0, ValueId(1), true, Vec::new);
        c.record_decision(1, 5, 0, ValueId(2), true, || ev.iter().collect());
        c.record_decision(1, 5, 0, ValueId(2), true, || ev.iter().collect());
        assert!(!c.agreement());
        assert_eq!(c.violations().len(), 1);
        assert_eq!(c.violations()[0].culprits, vec![2, 3]);
        assert_eq!(c.violations()[0].height, 5);
    }

    #[test]
    fn deciding_an_unproposed_value_breaks_validity() {
        let mut c = SafetyChecker::new();
        c.record_decision(0, 1, 0, ValueId(7), false, Vec::new);
        assert!(!c.validity());
        assert!(c.agreement());
    }
}
