//! What equivocating validators send, and the evidence it leaves with the correct ones.

use super::*;

impl Simulation {
    /// Coordinated equivocation. A Byzantine proposer shows one value to each side of the correct
    /// validators; the coalition then votes for each side's value on that side, which forks the
    /// chain when the coalition holds at least a third of the power. When no split exists (a
    /// correct proposer), a Byzantine voter votes like everyone and then double-votes nil to the
    /// second side: evidence, but the first vote is the one counted.
    pub(super) fn equivocate(&mut self, v: ValidatorIndex, message: Message, t: SimTime) {
        let (first, second) = match message {
            Message::Proposal(p) => {
                let original = self.blocks[p.value.0 as usize];
                let twin = self.new_block(p.height, v, original.content);
                self.splits.insert((p.height, p.round), (p.value, twin));
                (
                    message,
                    Message::Proposal(crate::consensus::Proposal { value: twin, ..p }),
                )
            }
            Message::Vote(vote) => match self.splits.get(&(vote.height, vote.round)) {
                Some(&(a, b)) => (
                    Message::Vote(Vote {
                        value: Some(a),
                        ..vote
                    }),
                    Message::Vote(Vote {
                        value: Some(b),
                        ..vote
                    }),
                ),
                None => {
                    self.send_to(v, message, t, |_| true);
                    if vote.value.is_some() {
                        let sides = std::mem::take(&mut self.second_side);
                        let double = Vote {
                            value: None,
                            ..vote
                        };
                        self.send_to(v, Message::Vote(double), t, |dst| sides[usize::from(dst)]);
                        self.second_side = sides;
                    }
                    return;
                }
            },
        };
        let sides = std::mem::take(&mut self.second_side);
        if self.gossips(&first) {
            let own = v;
            self.spread(v, first, t, |dst| dst == own || !sides[usize::from(dst)]);
            self.spread(v, second, t, |dst| dst == own || sides[usize::from(dst)]);
        } else {
            self.send_to(v, first, t, |dst| !sides[usize::from(dst)]);
            self.send_to(v, second, t, |dst| sides[usize::from(dst)]);
        }
        self.second_side = sides;
    }
}

impl Simulation {
    /// The paper's gossip (a correct validator passes on what it receives) for the one thing
    /// direct delivery leaves out: every correct signer's messages reach every validator, but a
    /// coalition's votes for a split proposal reach each side with that side's value. The first
    /// correct validator of each side passes the votes for its side's value on to the correct
    /// validators of the other side, which count them toward that value: a polka that only one
    /// side saw becomes visible to all, and validators locked on different values can unlock
    /// (L28-L29) instead of changing rounds forever.
    pub(super) fn relay_split_vote(&mut self, to: ValidatorIndex, message: Message, t: SimTime) {
        let Message::Vote(vote) = message else {
            return;
        };
        let equivocator = |v: ValidatorIndex| {
            self.nodes[usize::from(v)].behavior == Some(ByzantineBehavior::Equivocate)
        };
        if self.p2p.is_some()
            || !equivocator(vote.validator)
            || usize::from(to) >= self.validator_count
            || !self.nodes[usize::from(to)].is_correct()
        {
            return;
        }
        let Some(&(first, second)) = self.splits.get(&(vote.height, vote.round)) else {
            return;
        };
        let side = self.second_side[usize::from(to)];
        if vote.value != Some(if side { second } else { first }) {
            return;
        }
        let correct = |i: usize| self.nodes[i].is_correct();
        let relay = (0..self.validator_count).find(|&i| correct(i) && self.second_side[i] == side);
        if relay != Some(usize::from(to)) {
            return;
        }
        let targets: Vec<bool> = (0..self.nodes.len())
            .map(|i| i < self.validator_count && correct(i) && self.second_side[i] != side)
            .collect();
        self.send_to(to, message, t, |dst| targets[usize::from(dst)]);
    }
}

/// Correct validators of at most this many are split exactly (all 2^n subsets).
const EXACT_SPLIT_MAX: usize = 16;

/// The correct validators (index, power) that get an equivocator's second value: the two sides'
/// powers as equal as found, so that a coalition above a third of the power can reach a quorum
/// with each. Candidates are the shortest prefix in index order holding at least half the power
/// (for equal powers the first half by count, as before), the best of all subsets when there
/// are at most [`EXACT_SPLIT_MAX`] correct validators, and otherwise the largest-first greedy
/// split (within the largest power of even); the most even wins, the earlier on a tie. The first
/// correct validator is always on the first side.
pub(super) fn split_by_power(correct: &[(usize, VotingPower)]) -> Vec<usize> {
    let total: u128 = correct.iter().map(|&(_, p)| u128::from(p)).sum();
    let gap = |second: u128| total.abs_diff(2 * second);

    // The prefix: the first side is the shortest index-order prefix with at least half.
    let mut first = 0u128;
    let mut cut = correct.len();
    for (k, &(_, p)) in correct.iter().enumerate() {
        if 2 * first >= total {
            cut = k;
            break;
        }
        first += u128::from(p);
    }
    let mut best: Vec<bool> = (0..correct.len()).map(|k| k >= cut).collect();
    let best_gap = gap(total - first);

    let other = if correct.len() <= EXACT_SPLIT_MAX {
        exact_split(correct)
    } else {
        greedy_split(correct)
    };
    let other_second: u128 = correct
        .iter()
        .zip(&other)
        .filter(|(_, s)| **s)
        .map(|(&(_, p), _)| u128::from(p))
        .sum();
    if gap(other_second) < best_gap {
        best = other;
    }
    if best.first() == Some(&true) {
        best.iter_mut().for_each(|s| *s = !*s);
    }
    correct
        .iter()
        .zip(&best)
        .filter(|(_, s)| **s)
        .map(|(&(i, _), _)| i)
        .collect()
}

/// The most even of all splits (side flags by position), the first found in Gray-code order.
fn exact_split(correct: &[(usize, VotingPower)]) -> Vec<bool> {
    let total: u128 = correct.iter().map(|&(_, p)| u128::from(p)).sum();
    let n = correct.len();
    let (mut mask, mut second, mut best_mask) = (0u32, 0u128, 0u32);
    let mut best_gap = total;
    for step in 1..(1u32 << n) {
        // Gray code: one member changes side per step.
        let bit = step.trailing_zeros() as usize;
        mask ^= 1 << bit;
        let p = u128::from(correct[bit].1);
        second = if mask & (1 << bit) != 0 {
            second + p
        } else {
            second - p
        };
        let gap = total.abs_diff(2 * second);
        if gap < best_gap {
            (best_gap, best_mask) = (gap, mask);
        }
    }
    (0..n).map(|k| best_mask & (1 << k) != 0).collect()
}

/// Largest power first (lower index on a tie), each to the lighter side (the first on a tie).
fn greedy_split(correct: &[(usize, VotingPower)]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..correct.len()).collect();
    order.sort_by_key(|&k| (std::cmp::Reverse(correct[k].1), correct[k].0));
    let mut sides = vec![false; correct.len()];
    let (mut first, mut second) = (0u128, 0u128);
    for k in order {
        let p = u128::from(correct[k].1);
        if second < first {
            sides[k] = true;
            second += p;
        } else {
            first += p;
        }
    }
    sides
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(powers: &[VotingPower]) -> Vec<usize> {
        let correct: Vec<(usize, VotingPower)> = powers.iter().copied().enumerate().collect();
        split_by_power(&correct)
    }

    fn second_power(powers: &[VotingPower], second: &[usize]) -> VotingPower {
        second.iter().map(|&i| powers[i]).sum()
    }

    #[test]
    fn equal_powers_split_as_the_first_half_by_count() {
        for k in 0..40usize {
            assert_eq!(
                split(&vec![7; k]),
                (k.div_ceil(2)..k).collect::<Vec<_>>(),
                "{k}"
            );
        }
        // Non-consecutive indices (Byzantine ones left out) keep their order.
        let correct = [(1, 1), (2, 1), (4, 1), (7, 1), (9, 1)];
        assert_eq!(split_by_power(&correct), vec![7, 9]);
    }

    #[test]
    fn weighted_powers_split_by_power_not_by_count() {
        // By count, 6 + 6 against 1 + 1; by power 7 and 7.
        let powers = [6, 6, 1, 1];
        let second = split(&powers);
        assert_eq!(second_power(&powers, &second), 7, "{second:?}");
        assert!(!second.contains(&0));
        // An odd total: 9 against 10 is the best.
        let powers = [10, 3, 3, 3];
        assert_eq!(second_power(&powers, &split(&powers)), 9);
        // No even split: 5 against 1.
        assert_eq!(split(&[5, 1]), vec![1]);
    }

    #[test]
    fn large_sets_split_greedily_within_the_largest_power() {
        let powers: Vec<VotingPower> = (0..40).map(|i| 1 + (i * 37 % 23) as VotingPower).collect();
        let total: VotingPower = powers.iter().sum();
        let second = second_power(&powers, &split(&powers));
        let max = *powers.iter().max().unwrap();
        assert!(total.abs_diff(2 * second) <= max, "{second} of {total}");
        // By count the first 20 hold 515 against 20; the best split is 300 against 235.
        let mut skewed = vec![100; 5];
        skewed.extend([1; 35]);
        let second = second_power(&skewed, &split(&skewed));
        assert_eq!(second, 235);
    }
}
