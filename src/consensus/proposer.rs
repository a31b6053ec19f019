//! CometBFT's proposer selection: weighted round robin with proposer priorities.
//!
//! What CometBFT does, read in `cometbft/cometbft` (spec `spec/consensus/proposer-selection.md`):
//!
//! - `types/validator_set.go`, `NewValidatorSet`: every new validator gets priority
//!   `-(P + P >> 3)` (`computeNewPriorities`), the set is rescaled and centred (so all priorities
//!   become 0), then `IncrementProposerPriority(1)` runs once. [`ProposerPriorities::new`] is
//!   that state: all zeros, then one increment.
//! - `IncrementProposerPriority(times)`: first `RescalePriorities(2 * P)`, then
//!   `shiftByAvgProposerPriority`, both once per call, then `times` single steps
//!   (`incrementProposerPriority`): every priority `+= power` (`safeAddClip`), the highest
//!   becomes proposer (`CompareProposerPriority`: ties go to the smaller address), its priority
//!   `-= P` (`safeSubClip`). The set's `Proposer` is the one chosen by the last step, so
//!   `GetProposer` is not the current maximum priority. Because rescaling and centring run once
//!   per call, `increment(3)` and three `increment(1)` can differ (only when a rescale fires:
//!   centring shifts everyone equally and never changes a choice).
//! - `RescalePriorities(diffMax)`: if `max - min > diffMax`, every priority is divided by
//!   `ceil(diff / diffMax)` with Go's `/` (truncation towards zero). Skipped if `diffMax <= 0`.
//! - `computeAvgProposerPriority`: the sum in a `big.Int`, divided with `big.Int.Div`, which is
//!   Euclidean division: the floor for a positive count (`-1 / 3` is `-1`, not Go's `0`).
//! - `safeAddClip` / `safeSubClip` saturate at `i64::MIN` / `i64::MAX`: Rust's `saturating_*`.
//! - The set is kept sorted by power (descending) then address, but neither the sum nor the
//!   address tie-break depends on that order; our `ValidatorIndex` plays the address order.
//!
//! How heights and rounds use it:
//!
//! - `state/state.go`, `MakeGenesisState`: `Validators = NewValidatorSet(vals)` (height 1) and
//!   `NextValidators = NewValidatorSet(vals).CopyIncrementProposerPriority(1)`.
//! - `state/execution.go`, `updateState`: after a block, `nValSet = NextValidators.Copy()`,
//!   `UpdateWithChangeSet` only if the application sent updates (ours never does), then
//!   `nValSet.IncrementProposerPriority(1)`; the new `Validators` is the old `NextValidators`.
//!   So height `h`'s set is `NewValidatorSet` followed by `h - 1` calls of `increment(1)`.
//! - `consensus/state.go`: `updateToState` sets `cs.Validators = state.Validators` for round 0;
//!   `enterNewRound(height, round)` copies `cs.Validators` and calls
//!   `IncrementProposerPriority(round - cs.Round)` when `cs.Round < round`. We use the height's
//!   set incremented by `r` in one call, what a node does when it enters round `r` from round 0;
//!   a node that walks the rounds one by one differs only if a rescale fires within the height.
//!   With a fixed set started by `new` we never saw one fire (300 random sets of up to 30
//!   validators, 2000 steps each), so both paths give the same proposers in practice.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::{Height, Round, ValidatorIndex, VotingPower};

/// CometBFT's `MaxTotalVotingPower` (`i64::MAX / 8`); CometBFT refuses larger sets, here the
/// arithmetic saturates instead, so a larger set still gets a defined (non-CometBFT) schedule.
pub const MAX_TOTAL_VOTING_POWER: VotingPower = (i64::MAX / 8) as VotingPower;

/// CometBFT's `PriorityWindowSizeFactor`: priorities are rescaled once their spread exceeds this
/// many times the total voting power.
const PRIORITY_WINDOW_SIZE_FACTOR: i64 = 2;

/// The most validators a set holds: one per `ValidatorIndex` value; later entries are ignored.
const MAX_VALIDATORS: usize = ValidatorIndex::MAX as usize + 1;

/// One validator set's proposer priorities, as CometBFT's `ValidatorSet` keeps them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposerPriorities {
    priorities: Vec<i64>,
    powers: Vec<VotingPower>,
    total: i64,
    proposer: ValidatorIndex,
}

impl ProposerPriorities {
    /// A new set with these powers (index = address order), as `NewValidatorSet` leaves it:
    /// priorities from 0, incremented once. An empty set stays empty, its proposer is 0.
    pub fn new(powers: &[VotingPower]) -> Self {
        let validators: Vec<(VotingPower, i64)> = powers.iter().map(|&power| (power, 0)).collect();
        let mut set = Self::with_priorities(&validators);
        set.increment(1);
        set
    }

    /// A set with explicit `(power, priority)` pairs and no increment (a `ValidatorSet` literal);
    /// its proposer is the highest priority, ties to the lower index.
    pub fn with_priorities(validators: &[(VotingPower, i64)]) -> Self {
        let validators = &validators[..validators.len().min(MAX_VALIDATORS)];
        let powers: Vec<VotingPower> = validators.iter().map(|&(power, _)| power).collect();
        let total = powers
            .iter()
            .fold(0i64, |sum, &power| sum.saturating_add(as_priority(power)));
        let mut set = ProposerPriorities {
            priorities: validators.iter().map(|&(_, priority)| priority).collect(),
            powers,
            total,
            proposer: 0,
        };
        set.proposer = set.highest_priority();
        set
    }

    /// `IncrementProposerPriority(times)`: rescale, centre, then `times` selection steps; the
    /// proposer becomes the last one chosen. `times == 0` (a panic in CometBFT) does nothing.
    pub fn increment(&mut self, times: u32) {
        if times == 0 || self.priorities.is_empty() {
            return;
        }
        self.rescale(PRIORITY_WINDOW_SIZE_FACTOR.saturating_mul(self.total));
        self.centre();
        for _ in 0..times {
            self.proposer = self.step();
        }
    }

    /// The current proposer, as `ValidatorSet.GetProposer`.
    pub fn proposer(&self) -> ValidatorIndex {
        self.proposer
    }

    /// Every validator's priority, by index.
    pub fn priorities(&self) -> &[i64] {
        &self.priorities
    }

    /// Every validator's voting power, by index.
    pub fn powers(&self) -> &[VotingPower] {
        &self.powers
    }

    /// The total voting power (saturated at `i64::MAX`).
    pub fn total_power(&self) -> VotingPower {
        self.total.unsigned_abs()
    }

    /// One `incrementProposerPriority`: everyone gains its power, the highest pays the total.
    fn step(&mut self) -> ValidatorIndex {
        for (priority, &power) in self.priorities.iter_mut().zip(&self.powers) {
            *priority = priority.saturating_add(as_priority(power));
        }
        let proposer = self.highest_priority();
        if let Some(priority) = self.priorities.get_mut(usize::from(proposer)) {
            *priority = priority.saturating_sub(self.total);
        }
        proposer
    }

    /// The index of the highest priority, the lowest index among equals (0 if empty).
    fn highest_priority(&self) -> ValidatorIndex {
        let mut best: Option<(usize, i64)> = None;
        for (index, &priority) in self.priorities.iter().enumerate() {
            if best.is_none_or(|(_, highest)| priority > highest) {
                best = Some((index, priority));
            }
        }
        best.map_or(0, |(index, _)| {
            ValidatorIndex::try_from(index).unwrap_or(ValidatorIndex::MAX)
        })
    }

    /// `RescalePriorities`: if the spread exceeds `diff_max`, divide every priority by
    /// `ceil(spread / diff_max)`, truncating towards zero.
    fn rescale(&mut self, diff_max: i64) {
        if diff_max <= 0 {
            return;
        }
        let (Some(&min), Some(&max)) = (self.priorities.iter().min(), self.priorities.iter().max())
        else {
            return;
        };
        let diff = i128::from(max) - i128::from(min);
        let diff_max = i128::from(diff_max);
        if diff > diff_max {
            let ratio = (diff + diff_max - 1) / diff_max;
            for priority in &mut self.priorities {
                // |priority / ratio| <= |priority|, so it always fits back.
                *priority = i64::try_from(i128::from(*priority) / ratio).unwrap_or(*priority);
            }
        }
    }

    /// `shiftByAvgProposerPriority`: subtract the floored average from every priority.
    fn centre(&mut self) {
        let average = average_priority(&self.priorities);
        for priority in &mut self.priorities {
            *priority = priority.saturating_sub(average);
        }
    }
}

/// `computeAvgProposerPriority`: the exact sum, Euclidean-divided by the count (0 if empty).
fn average_priority(priorities: &[i64]) -> i64 {
    let count = i128::try_from(priorities.len()).unwrap_or(i128::MAX);
    if count == 0 {
        return 0;
    }
    let sum: i128 = priorities.iter().map(|&p| i128::from(p)).sum();
    // The floored mean lies between the smallest and largest priority, so it fits an i64.
    i64::try_from(sum.div_euclid(count)).unwrap_or(0)
}

/// A voting power as a priority term (saturated at `i64::MAX`).
fn as_priority(power: VotingPower) -> i64 {
    i64::try_from(power).unwrap_or(i64::MAX)
}

/// Heights whose base priorities are kept for good: 1, 1 + this, 1 + 2 × this, ...
const CHECKPOINT_INTERVAL: Height = 64;

/// How many `(height, round)` proposers are remembered; the lowest are forgotten first.
const PROPOSER_CACHE_CAPACITY: usize = 4096;

/// Slots of the direct-mapped table in front of the remembered proposers (a power of two):
/// every validator asks for the same few `(height, round)`s many times in a row, and a slot
/// answers them without the ordered map's search.
const RECENT_SLOTS: usize = 64;

/// `proposer(h, r)` for a fixed validator set, as CometBFT's heights and rounds derive it:
/// height `h`'s set is `new` then `h - 1` calls of `increment(1)`; round `r` adds `increment(r)`.
///
/// Answers are cached. The highest height's base priorities are kept, plus a checkpoint every
/// 64 heights (memory: validators × 8 bytes × heights / 64) and the last height computed below
/// the highest, so a lagging validator moving forward costs one step per height.
#[derive(Clone, Debug)]
pub struct ProposerSchedule {
    cache: RefCell<ScheduleCache>,
    /// `(height, round, proposer)` answers, each in slot `(height + round) % RECENT_SLOTS`; the
    /// height 0 that no answer has (heights start at 1) marks an empty slot.
    recent: RefCell<[(Height, Round, ValidatorIndex); RECENT_SLOTS]>,
}

impl ProposerSchedule {
    /// The schedule of a validator set with these powers (index = address order).
    pub fn new(powers: &[VotingPower]) -> Self {
        let genesis = ProposerPriorities::new(powers);
        let mut checkpoints = BTreeMap::new();
        checkpoints.insert(1, genesis.clone());
        ProposerSchedule {
            cache: RefCell::new(ScheduleCache {
                checkpoints,
                highest: (1, genesis),
                below_highest: None,
                proposers: BTreeMap::new(),
            }),
            recent: RefCell::new([(0, 0, 0); RECENT_SLOTS]),
        }
    }

    /// The proposer of round `round` at height `height`; height 0 is taken as height 1.
    pub fn proposer(&self, height: Height, round: Round) -> ValidatorIndex {
        let height = height.max(1);
        let slot = (height as usize).wrapping_add(round as usize) % RECENT_SLOTS;
        let mut recent = self.recent.borrow_mut();
        let (h, r, p) = recent[slot];
        if h == height && r == round {
            return p;
        }
        let mut cache = self.cache.borrow_mut();
        if let Some(&proposer) = cache.proposers.get(&(height, round)) {
            return proposer;
        }
        let base = cache.base(height);
        let proposer = if round == 0 {
            base.proposer()
        } else {
            let mut in_round = base.clone();
            in_round.increment(round);
            in_round.proposer()
        };
        cache.remember(height, round, proposer);
        recent[slot] = (height, round, proposer);
        proposer
    }

    /// Height `height`'s priorities at round 0 (CometBFT's `state.Validators` for that height).
    pub fn priorities(&self, height: Height) -> ProposerPriorities {
        self.cache.borrow_mut().base(height.max(1)).clone()
    }
}

/// The mutable part of a `ProposerSchedule`.
#[derive(Clone, Debug)]
struct ScheduleCache {
    /// Base priorities at heights 1, 1 + `CHECKPOINT_INTERVAL`, ... up to the highest.
    checkpoints: BTreeMap<Height, ProposerPriorities>,
    /// The highest height computed and its base priorities.
    highest: (Height, ProposerPriorities),
    /// The last height computed below the highest, for lagging validators.
    below_highest: Option<(Height, ProposerPriorities)>,
    /// Proposers already computed.
    proposers: BTreeMap<(Height, Round), ValidatorIndex>,
}

impl ScheduleCache {
    /// The base priorities of `height` (>= 1), stepping from the nearest earlier state.
    fn base(&mut self, height: Height) -> &ProposerPriorities {
        if height >= self.highest.0 {
            advance(&mut self.highest, height, &mut self.checkpoints);
            return &self.highest.1;
        }
        let checkpoint = self.checkpoints.range(..=height).next_back();
        let checkpoint_height = checkpoint.map_or(0, |(&h, _)| h);
        let reusable = self
            .below_highest
            .take()
            .filter(|(h, _)| *h <= height && *h >= checkpoint_height);
        let mut state = match (reusable, checkpoint) {
            (Some(state), _) => state,
            (None, Some((&h, priorities))) => (h, priorities.clone()),
            (None, None) => (1, ProposerPriorities::new(self.highest.1.powers())),
        };
        advance(&mut state, height, &mut self.checkpoints);
        &self.below_highest.insert(state).1
    }

    /// Cache one answer, forgetting the lowest `(height, round)` when full.
    fn remember(&mut self, height: Height, round: Round, proposer: ValidatorIndex) {
        self.proposers.insert((height, round), proposer);
        if self.proposers.len() > PROPOSER_CACHE_CAPACITY {
            self.proposers.pop_first();
        }
    }
}

/// Step `state` forward one height at a time up to `to`, keeping checkpoints passed on the way.
fn advance(
    state: &mut (Height, ProposerPriorities),
    to: Height,
    checkpoints: &mut BTreeMap<Height, ProposerPriorities>,
) {
    while state.0 < to {
        state.1.increment(1);
        state.0 += 1;
        if (state.0 - 1).is_multiple_of(CHECKPOINT_INTERVAL) {
            checkpoints
                .entry(state.0)
                .or_insert_with(|| state.1.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CometBFT's `TestProposerSelection1`: bar(300), baz(330), foo(1000) in address order.
    #[test]
    fn cometbft_proposer_selection_1_sequence() {
        let names = ["bar", "baz", "foo"];
        let mut set = ProposerPriorities::new(&[300, 330, 1000]);
        let mut proposers = Vec::new();
        for _ in 0..99 {
            proposers.push(names[usize::from(set.proposer())]);
            set.increment(1);
        }
        let expected = "foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar \
             foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar \
             foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz \
             foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo \
             foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo";
        assert_eq!(proposers.join(" "), expected);
    }

    /// The sequence of `times` proposers starting from `set`'s current one.
    fn sequence(set: &mut ProposerPriorities, times: usize) -> Vec<ValidatorIndex> {
        let mut proposers = Vec::with_capacity(times);
        for _ in 0..times {
            proposers.push(set.proposer());
            set.increment(1);
        }
        proposers
    }

    /// CometBFT's `TestProposerSelection2`, first part: equal powers go in address order.
    #[test]
    fn equal_powers_rotate_in_index_order() {
        let mut set = ProposerPriorities::new(&[100, 100, 100]);
        let expected: Vec<ValidatorIndex> = (0..15).map(|i| i % 3).collect();
        assert_eq!(sequence(&mut set, 15), expected);
        let mut seven = ProposerPriorities::new(&[5; 7]);
        let expected: Vec<ValidatorIndex> = (0..21).map(|i| i % 7).collect();
        assert_eq!(sequence(&mut seven, 21), expected);
    }

    /// `TestProposerSelection2`: 400 of 600 is not enough to propose twice in a row, 401 is.
    #[test]
    fn cometbft_proposer_selection_2_twice_in_a_row_threshold() {
        let mut set = ProposerPriorities::new(&[100, 100, 400]);
        assert_eq!(sequence(&mut set, 2), vec![2, 0]);
        let mut set = ProposerPriorities::new(&[100, 100, 401]);
        assert_eq!(sequence(&mut set, 3), vec![2, 2, 0]);
    }

    /// `TestProposerSelection2`, last part: powers 4, 5, 3 propose 40, 50, 30 of 120 times.
    #[test]
    fn cometbft_proposer_selection_2_proportional_counts() {
        let mut set = ProposerPriorities::new(&[4, 5, 3]);
        let mut counts = [0u32; 3];
        for proposer in sequence(&mut set, 120) {
            counts[usize::from(proposer)] += 1;
        }
        assert_eq!(counts, [40, 50, 30]);
    }

    /// A validator with k times the power proposes exactly k times as often over a window of
    /// whole multiples of the total power.
    #[test]
    fn k_times_the_power_proposes_k_times_as_often() {
        let powers = [1, 2, 3, 4, 10];
        let mut set = ProposerPriorities::new(&powers);
        let mut counts = [0u32; 5];
        for proposer in sequence(&mut set, 20 * 50) {
            counts[usize::from(proposer)] += 1;
        }
        assert_eq!(counts, [50, 100, 150, 200, 500]);
    }

    /// `TestProposerSelection3`: four validators of power 1 keep their order for ever, even
    /// when incremented several steps at once.
    #[test]
    fn cometbft_proposer_selection_3_order_survives_multi_step_increments() {
        let mut set = ProposerPriorities::new(&[1, 1, 1, 1]);
        let order = sequence(&mut set, 4);
        assert_eq!(order, vec![0, 1, 2, 3]);
        let mut steps: usize = 0;
        let mut lcg: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..2000 {
            assert_eq!(set.proposer(), order[steps % 4], "after {steps} steps");
            lcg = lcg
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let times = u32::try_from((lcg >> 33) % 4).unwrap_or(0) + 1;
            set.increment(times);
            steps += times as usize;
        }
    }

    /// `TestAveragingInIncrementProposerPriority`: with zero powers only the centring moves
    /// priorities, by the floored average, once per call whatever `times` is.
    #[test]
    fn cometbft_averaging_in_increment() {
        let cases: [([i64; 3], u32, i64); 3] = [
            ([1, 2, 3], 1, 2),
            ([10, -10, 1], 11, 0),
            ([100, -10, 1], 1, 91 / 3),
        ];
        for (priorities, times, average) in cases {
            let validators: Vec<(VotingPower, i64)> = priorities.iter().map(|&p| (0, p)).collect();
            let mut set = ProposerPriorities::with_priorities(&validators);
            set.increment(times);
            let expected: Vec<i64> = priorities.iter().map(|p| p - average).collect();
            assert_eq!(
                set.priorities(),
                expected.as_slice(),
                "{priorities:?} x{times}"
            );
        }
    }

    /// `TestAveragingInIncrementProposerPriorityWithVotingPower`: powers 10, 1, 1 from zero
    /// priorities, incremented 1..=11 times in one call, exact priorities and proposer.
    #[test]
    fn cometbft_averaging_with_voting_power() {
        let (vp0, vp1, vp2) = (10i64, 1i64, 1i64);
        let total = vp0 + vp1 + vp2;
        let cases: [(u32, [i64; 3], ValidatorIndex); 11] = [
            (1, [vp0 - total, vp1, vp2], 0),
            (2, [2 * (vp0 - total), 2 * vp1, 2 * vp2], 0),
            (3, [3 * (vp0 - total), 3 * vp1, 3 * vp2], 0),
            (4, [4 * (vp0 - total), 4 * vp1, 4 * vp2], 0),
            (5, [4 * (vp0 - total) + vp0, 5 * vp1 - total, 5 * vp2], 1),
            (6, [6 * vp0 - 5 * total, 6 * vp1 - total, 6 * vp2], 0),
            (7, [7 * vp0 - 6 * total, 7 * vp1 - total, 7 * vp2], 0),
            (8, [8 * vp0 - 7 * total, 8 * vp1 - total, 8 * vp2], 0),
            (
                9,
                [9 * vp0 - 7 * total, 9 * vp1 - total, 9 * vp2 - total],
                2,
            ),
            (
                10,
                [10 * vp0 - 8 * total, 10 * vp1 - total, 10 * vp2 - total],
                0,
            ),
            (
                11,
                [11 * vp0 - 9 * total, 11 * vp1 - total, 11 * vp2 - total],
                0,
            ),
        ];
        for (times, expected, proposer) in cases {
            let mut set = ProposerPriorities::with_priorities(&[(10, 0), (1, 0), (1, 0)]);
            set.increment(times);
            assert_eq!(set.priorities(), expected.as_slice(), "x{times}");
            assert_eq!(set.proposer(), proposer, "x{times}");
        }
    }

    /// `TestProposerPriorityDoesNotGetResetToZero` (state_test.go): priorities -38, 39 with
    /// powers 10, 1 exceed 2 * 11; ratio ceil(77 / 22) = 4 gives -9, 9, then one step.
    #[test]
    fn cometbft_rescale_before_step() {
        let mut set = ProposerPriorities::with_priorities(&[(10, -38), (1, 39)]);
        set.increment(1);
        assert_eq!(set.priorities(), &[1, -1]);
        assert_eq!(set.proposer(), 1);
    }

    /// The rescale divides with truncation towards zero: -7 / 3 is -2, not -3.
    #[test]
    fn rescale_truncates_towards_zero() {
        let mut set = ProposerPriorities::with_priorities(&[(1, -7), (1, 0), (1, 7)]);
        set.rescale(6);
        assert_eq!(set.priorities(), &[-2, 0, 2]);
        set.increment(1);
        assert_eq!(set.priorities(), &[-1, 1, 0]);
        assert_eq!(set.proposer(), 2);
    }

    /// No rescale at a spread of exactly 2 * total, nor with zero total power.
    #[test]
    fn rescale_only_above_the_window() {
        let mut set = ProposerPriorities::with_priorities(&[(1, -3), (2, 3)]);
        set.rescale(6);
        assert_eq!(set.priorities(), &[-3, 3]);
        let mut zero = ProposerPriorities::with_priorities(&[(0, -300), (0, 300)]);
        zero.increment(1);
        assert_eq!(zero.priorities(), &[-300, 300]);
    }

    /// `TestAvgProposerPriority` plus the floor of a negative mean (big.Int.Div is Euclidean).
    #[test]
    fn average_is_exact_and_floored() {
        assert_eq!(average_priority(&[0, 0, 0]), 0);
        assert_eq!(average_priority(&[i64::MAX, 0, 0]), i64::MAX / 3);
        assert_eq!(average_priority(&[i64::MAX, 0]), i64::MAX / 2);
        assert_eq!(average_priority(&[i64::MAX, i64::MAX]), i64::MAX);
        assert_eq!(average_priority(&[i64::MIN, i64::MIN]), i64::MIN);
        assert_eq!(average_priority(&[-1, 0, 0]), -1);
        assert_eq!(average_priority(&[-7, 0]), -4);
        let mut set = ProposerPriorities::with_priorities(&[(0, -1), (0, 0), (0, 0)]);
        set.increment(1);
        assert_eq!(set.priorities(), &[0, 1, 1]);
        assert_eq!(set.proposer(), 1);
    }

    /// `TestSafeAddClip` / `TestSafeSubClip`: the clipping CometBFT applies is saturation.
    #[test]
    fn priorities_clip_at_the_i64_bounds() {
        assert_eq!(i64::MAX.saturating_add(10), i64::MAX);
        assert_eq!(i64::MIN.saturating_sub(i64::MIN), 0);
        assert_eq!(i64::MIN.saturating_sub(i64::MAX), i64::MIN);
        // Far above MAX_TOTAL_VOTING_POWER (CometBFT refuses it): saturates, never panics.
        let huge = i64::MAX.unsigned_abs();
        let mut set = ProposerPriorities::new(&[huge, huge]);
        assert_eq!(set.total_power(), huge);
        assert_eq!(set.priorities(), &[0, i64::MAX]);
        set.increment(1);
        assert_eq!(set.priorities(), &[i64::MAX / 2 + 1, 0]);
        assert_eq!(set.proposer(), 1);
    }

    /// Equal priorities go to the lower index, wherever they sit.
    #[test]
    fn ties_go_to_the_lower_index() {
        let set = ProposerPriorities::with_priorities(&[(1, 3), (5, 7), (2, 7), (9, 7)]);
        assert_eq!(set.proposer(), 1);
        let mut set = ProposerPriorities::with_priorities(&[(3, 0), (3, 0)]);
        set.increment(1);
        assert_eq!(set.proposer(), 0);
        set.increment(1);
        assert_eq!(set.proposer(), 1);
    }

    /// `new` is all zeros plus one step; an empty set does nothing and reports index 0.
    #[test]
    fn new_is_one_step_from_zero() {
        let set = ProposerPriorities::new(&[1, 3]);
        assert_eq!(set.priorities(), &[1, -1]);
        assert_eq!(set.proposer(), 1);
        assert_eq!(set.total_power(), 4);
        let mut empty = ProposerPriorities::new(&[]);
        empty.increment(3);
        assert_eq!(empty.proposer(), 0);
        assert!(empty.priorities().is_empty());
    }

    /// The spec's stable set p1 = 1, p2 = 3 repeats `p2, p1, p2, p2`.
    #[test]
    fn spec_stable_set_sequence() {
        let mut set = ProposerPriorities::new(&[1, 3]);
        assert_eq!(sequence(&mut set, 8), vec![1, 0, 1, 1, 1, 0, 1, 1]);
    }

    /// The reference: `new`, `h - 1` single increments, then one increment by `r`.
    fn reference(powers: &[VotingPower], height: Height, round: Round) -> ValidatorIndex {
        let mut set = ProposerPriorities::new(powers);
        for _ in 1..height {
            set.increment(1);
        }
        set.increment(round);
        set.proposer()
    }

    /// The cached schedule answers as the reference, queried forwards, backwards, lagging.
    #[test]
    fn schedule_matches_fresh_increments_in_any_query_order() {
        let powers = [5, 3, 1, 7, 2, 40];
        let schedule = ProposerSchedule::new(&powers);
        let mut queries: Vec<(Height, Round)> = Vec::new();
        for height in [300, 1, 2, 64, 65, 66, 129, 131, 130, 299, 301, 200, 201, 7] {
            for round in 0..4 {
                queries.push((height, round));
            }
        }
        for height in 90..110 {
            queries.push((height, 0));
            queries.push((height + 250, 1));
        }
        for (height, round) in queries {
            let expected = reference(&powers, height, round);
            assert_eq!(
                schedule.proposer(height, round),
                expected,
                "h={height} r={round}"
            );
            assert_eq!(
                schedule.proposer(height, round),
                expected,
                "cached h={height}"
            );
        }
        assert_eq!(schedule.proposer(0, 0), schedule.proposer(1, 0));
    }

    /// With no rescale firing, `(h, r)` is `new` incremented `(h - 1) + r` single steps.
    #[test]
    fn schedule_is_the_single_step_sequence() {
        let powers = [300, 330, 1000];
        let mut set = ProposerPriorities::new(&powers);
        let singles = sequence(&mut set, 80);
        let schedule = ProposerSchedule::new(&powers);
        for height in 1..=60u64 {
            for round in 0..20u32 {
                let steps = usize::try_from(height - 1).unwrap_or(0) + round as usize;
                assert_eq!(
                    schedule.proposer(height, round),
                    singles[steps],
                    "h={height} r={round}"
                );
            }
        }
    }

    /// Round-0 proposers of consecutive heights follow round robin; `priorities` is the base.
    #[test]
    fn schedule_heights_rotate_equal_powers() {
        let schedule = ProposerSchedule::new(&[1, 1, 1, 1]);
        let by_height: Vec<ValidatorIndex> = (1..=8).map(|h| schedule.proposer(h, 0)).collect();
        assert_eq!(by_height, vec![0, 1, 2, 3, 0, 1, 2, 3]);
        assert_eq!(schedule.proposer(5, 2), 2);
        assert_eq!(
            schedule.priorities(1),
            ProposerPriorities::new(&[1, 1, 1, 1])
        );
        assert_eq!(schedule.priorities(3).proposer(), 2);
    }

    /// More distinct answers than the cache holds still come out right.
    #[test]
    fn schedule_survives_cache_eviction() {
        let powers = [2, 3, 5];
        let schedule = ProposerSchedule::new(&powers);
        let mut set = ProposerPriorities::new(&powers);
        let singles = sequence(&mut set, PROPOSER_CACHE_CAPACITY + 200);
        for height in 1..=(PROPOSER_CACHE_CAPACITY as u64 + 100) {
            assert_eq!(schedule.proposer(height, 0), singles[(height - 1) as usize]);
        }
        assert_eq!(schedule.proposer(3, 0), singles[2]);
        assert_eq!(schedule.proposer(3, 1), singles[3]);
    }

    /// `ProposerSchedule` can move to another thread (one simulation per thread).
    #[test]
    fn schedule_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        assert_send(&ProposerSchedule::new(&[1]));
    }
}
