//! Quorums are strictly more than 2/3 of the voting power, and the round skip strictly more
//! than 1/3: at exactly 2/3 (and exactly 1/3) no rule of Algorithm 1 fires, one step above it
//! does. Each case is a validator set in which a set of validators holds exactly 2/3 of the
//! power, so a threshold of "at least 2/3" (or "at least 1/3") fails these tests.

use consensus_performance::config::parse_scenario;
use consensus_performance::consensus::state_machine::{
    Config, ConsensusState, Context, Input, Output,
};
use consensus_performance::consensus::{
    Height, Message, Proposal, Round, Step, TimeoutKind, ValidatorIndex, ValidatorSet, ValueId,
    Vote, VoteType, VotingPower,
};
use consensus_performance::sim;

const V: ValueId = ValueId(10);
const W: ValueId = ValueId(20);

/// A validator set in which `holders` have exactly 2/3 of the power (so the others exactly
/// 1/3) and `holders` plus `extra` more than 2/3.
struct Case {
    powers: Vec<VotingPower>,
    holders: Vec<ValidatorIndex>,
    extra: ValidatorIndex,
}

impl Case {
    fn new(powers: &[VotingPower], holders: &[ValidatorIndex], extra: ValidatorIndex) -> Self {
        let case = Case {
            powers: powers.to_vec(),
            holders: holders.to_vec(),
            extra,
        };
        let total: VotingPower = powers.iter().sum();
        let held = case.power_of(holders);
        assert_eq!(
            3 * held,
            2 * total,
            "{powers:?}: {holders:?} hold exactly 2/3"
        );
        assert!(!holders.contains(&extra) && holders.len() >= 2);
        case
    }

    fn power_of(&self, set: &[ValidatorIndex]) -> VotingPower {
        set.iter().map(|&v| self.powers[usize::from(v)]).sum()
    }

    /// The validator under test: the first holder.
    fn me(&self) -> ValidatorIndex {
        self.holders[0]
    }

    /// The other holders.
    fn others(&self) -> Vec<ValidatorIndex> {
        self.holders[1..].to_vec()
    }

    /// The validators outside `holders`: exactly 1/3 of the power.
    fn outsiders(&self) -> Vec<ValidatorIndex> {
        (0..self.powers.len() as ValidatorIndex)
            .filter(|v| !self.holders.contains(v))
            .collect()
    }

    fn context(&self, proposer: ValidatorIndex) -> Fixed {
        Fixed {
            validators: ValidatorSet::new(self.powers.clone()),
            proposer,
        }
    }
}

/// Every case: equal and weighted powers whose total is a multiple of 3.
fn cases() -> Vec<Case> {
    vec![
        // 2 of 3 equal validators.
        Case::new(&[1, 1, 1], &[0, 1], 2),
        // 4 of 6 equal validators; 5 of 6 is above.
        Case::new(&[1; 6], &[0, 1, 2, 3], 4),
        // 8 of 12; one more unit of power (9 of 12) is above.
        Case::new(&[4, 4, 3, 1], &[0, 1], 3),
        // 10 of 15 from three validators.
        Case::new(&[5, 2, 3, 5], &[1, 2, 3], 0),
        // 4 of 6: the heaviest and the lightest.
        Case::new(&[1, 2, 3], &[0, 2], 1),
        // 20 of 30 with the single largest validator outside.
        Case::new(&[10, 7, 6, 4, 3], &[1, 2, 3, 4], 0),
    ]
}

/// Validators by power; one proposer for every height and round.
struct Fixed {
    validators: ValidatorSet,
    proposer: ValidatorIndex,
}

impl Context for Fixed {
    fn validators(&self) -> &ValidatorSet {
        &self.validators
    }

    fn proposer(&self, _height: Height, _round: Round) -> ValidatorIndex {
        self.proposer
    }
}

fn vote(t: VoteType, r: Round, v: Option<ValueId>, from: ValidatorIndex) -> Input {
    Input::Vote(Vote {
        height: 1,
        round: r,
        vote_type: t,
        value: v,
        validator: from,
    })
}

fn prevote(r: Round, v: Option<ValueId>, from: ValidatorIndex) -> Input {
    vote(VoteType::Prevote, r, v, from)
}

fn precommit(r: Round, v: Option<ValueId>, from: ValidatorIndex) -> Input {
    vote(VoteType::Precommit, r, v, from)
}

fn proposal(ctx: &Fixed, r: Round, v: ValueId, vr: Option<Round>) -> Input {
    Input::Proposal(Proposal {
        height: 1,
        round: r,
        value: v,
        valid_round: vr,
        proposer: ctx.proposer,
    })
}

fn sent_vote(t: VoteType, r: Round, v: Option<ValueId>, me: ValidatorIndex) -> Output {
    Output::Broadcast(Message::Vote(Vote {
        height: 1,
        round: r,
        vote_type: t,
        value: v,
        validator: me,
    }))
}

fn schedule(kind: TimeoutKind, round: Round) -> Output {
    Output::ScheduleTimeout {
        kind,
        height: 1,
        round,
    }
}

/// Apply inputs in order; all their outputs.
fn feed(ctx: &Fixed, state: &mut ConsensusState, inputs: Vec<Input>) -> Vec<Output> {
    let mut out = Vec::new();
    for input in inputs {
        state.apply(ctx, input, &mut out);
    }
    out
}

/// `me` started at height 1, received the round-0 proposal of V from `extra` and prevoted V.
fn prevoted_v(case: &Case) -> (Fixed, ConsensusState) {
    let ctx = case.context(case.extra);
    let mut me = ConsensusState::new(case.me(), Config::default());
    let out = feed(
        &ctx,
        &mut me,
        vec![Input::StartHeight(1), proposal(&ctx, 0, V, None)],
    );
    assert_eq!(
        out,
        vec![
            schedule(TimeoutKind::Propose, 0),
            sent_vote(VoteType::Prevote, 0, Some(V), case.me())
        ]
    );
    (ctx, me)
}

#[test]
fn prevotes_of_exactly_two_thirds_for_the_proposal_are_no_polka() {
    for case in cases() {
        let (ctx, mut me) = prevoted_v(&case);
        let votes = case
            .others()
            .iter()
            .map(|&v| prevote(0, Some(V), v))
            .collect();
        // L36 (precommit V, lock) and L34 (timeout prevote) both need more than 2/3.
        assert_eq!(feed(&ctx, &mut me, votes), vec![], "{:?}", case.powers);
        assert_eq!(
            (me.step(), me.locked(), me.valid()),
            (Step::Prevote, None, None)
        );
        assert_eq!(
            feed(&ctx, &mut me, vec![prevote(0, Some(V), case.extra)]),
            vec![sent_vote(VoteType::Precommit, 0, Some(V), case.me())],
            "{:?}: {} of {} is a polka",
            case.powers,
            case.power_of(&case.holders) + case.powers[usize::from(case.extra)],
            ctx.validators.total_power()
        );
        assert_eq!(me.locked(), Some((0, V)));
    }
}

#[test]
fn prevotes_of_exactly_two_thirds_for_nil_are_no_polka_for_nil() {
    for case in cases() {
        let ctx = case.context(case.extra);
        let mut me = ConsensusState::new(case.me(), Config::default());
        let out = feed(
            &ctx,
            &mut me,
            vec![
                Input::StartHeight(1),
                Input::Timeout {
                    kind: TimeoutKind::Propose,
                    height: 1,
                    round: 0,
                },
            ],
        );
        assert_eq!(
            out.last(),
            Some(&sent_vote(VoteType::Prevote, 0, None, case.me()))
        );
        let votes = case.others().iter().map(|&v| prevote(0, None, v)).collect();
        // L44 (precommit nil) and L34 need more than 2/3.
        assert_eq!(feed(&ctx, &mut me, votes), vec![], "{:?}", case.powers);
        assert_eq!(me.step(), Step::Prevote);
        assert_eq!(
            feed(&ctx, &mut me, vec![prevote(0, None, case.extra)]),
            vec![sent_vote(VoteType::Precommit, 0, None, case.me())],
            "{:?}",
            case.powers
        );
    }
}

#[test]
fn prevotes_of_any_kind_from_exactly_two_thirds_do_not_start_timeout_prevote() {
    for case in cases() {
        let (ctx, mut me) = prevoted_v(&case);
        // Split so that no value has a polka even with the extra validator: me V, the other
        // holders nil, the extra validator W.
        let votes = case.others().iter().map(|&v| prevote(0, None, v)).collect();
        assert_eq!(feed(&ctx, &mut me, votes), vec![], "{:?}", case.powers);
        assert_eq!(
            feed(&ctx, &mut me, vec![prevote(0, Some(W), case.extra)]),
            vec![schedule(TimeoutKind::Prevote, 0)],
            "{:?}: L34 above 2/3",
            case.powers
        );
        assert_eq!(me.step(), Step::Prevote);
    }
}

/// `me` prevoted V and precommitted V after a polka of every validator.
fn precommitted_v(case: &Case) -> (Fixed, ConsensusState) {
    let (ctx, mut me) = prevoted_v(case);
    let everyone = (0..case.powers.len() as ValidatorIndex)
        .filter(|&v| v != case.me())
        .map(|v| prevote(0, Some(V), v))
        .collect();
    let out = feed(&ctx, &mut me, everyone);
    assert_eq!(
        out,
        vec![sent_vote(VoteType::Precommit, 0, Some(V), case.me())]
    );
    (ctx, me)
}

#[test]
fn precommits_of_exactly_two_thirds_for_the_proposal_do_not_decide() {
    for case in cases() {
        let (ctx, mut me) = precommitted_v(&case);
        let votes = case
            .others()
            .iter()
            .map(|&v| precommit(0, Some(V), v))
            .collect();
        // L49 (decide) and L47 (timeout precommit) need more than 2/3.
        assert_eq!(feed(&ctx, &mut me, votes), vec![], "{:?}", case.powers);
        assert_eq!((me.step(), me.decision()), (Step::Precommit, None));
        assert_eq!(
            feed(&ctx, &mut me, vec![precommit(0, Some(V), case.extra)]),
            vec![
                Output::Decide {
                    height: 1,
                    round: 0,
                    value: V
                },
                schedule(TimeoutKind::Commit, 0)
            ],
            "{:?}",
            case.powers
        );
    }
}

#[test]
fn precommits_of_exactly_two_thirds_in_a_later_round_do_not_decide() {
    // L49 in a round other than the current one: me is in round 0 and receives round 1's
    // proposal and precommits.
    for case in cases() {
        let ctx = case.context(case.extra);
        let mut me = ConsensusState::new(case.me(), Config::default());
        feed(&ctx, &mut me, vec![Input::StartHeight(1)]);
        let mut inputs = vec![proposal(&ctx, 1, V, None)];
        inputs.extend(case.holders.iter().map(|&v| precommit(1, Some(V), v)));
        let out = feed(&ctx, &mut me, inputs);
        assert!(
            !out.iter().any(|o| matches!(o, Output::Decide { .. })),
            "{:?}: {out:?}",
            case.powers
        );
        assert_eq!(me.decision(), None);
        let out = feed(&ctx, &mut me, vec![precommit(1, Some(V), case.extra)]);
        assert!(
            out.contains(&Output::Decide {
                height: 1,
                round: 1,
                value: V
            }),
            "{:?}: {out:?}",
            case.powers
        );
    }
}

#[test]
fn precommits_of_any_kind_from_exactly_two_thirds_do_not_start_timeout_precommit() {
    for case in cases() {
        let (ctx, mut me) = precommitted_v(&case);
        let votes = case
            .others()
            .iter()
            .map(|&v| precommit(0, None, v))
            .collect();
        assert_eq!(feed(&ctx, &mut me, votes), vec![], "{:?}", case.powers);
        assert_eq!(
            feed(&ctx, &mut me, vec![precommit(0, Some(W), case.extra)]),
            vec![schedule(TimeoutKind::Precommit, 0)],
            "{:?}: L47 above 2/3",
            case.powers
        );
        assert_eq!(me.decision(), None);
    }
}

#[test]
fn a_proposal_justified_by_exactly_two_thirds_of_earlier_prevotes_gets_no_prevote() {
    // L28: the proposal of round 1 carries valid round 0; me prevotes it only if it saw more
    // than 2/3 prevotes for it in round 0. me is outside the holders, so it needs a case with
    // a validator outside both the holders and `extra`.
    for case in cases().into_iter().filter(|c| c.outsiders().len() >= 2) {
        let me_index = case
            .outsiders()
            .into_iter()
            .find(|&v| v != case.extra)
            .expect("filtered");
        for (voters, expect_prevote) in [
            (case.holders.clone(), false),
            ([case.holders.clone(), vec![case.extra]].concat(), true),
        ] {
            let ctx = case.context(case.holders[0]);
            let mut me = ConsensusState::new(me_index, Config::default());
            let mut inputs = vec![Input::StartHeight(1)];
            inputs.extend(voters.iter().map(|&v| prevote(0, Some(V), v)));
            inputs.push(Input::Timeout {
                kind: TimeoutKind::Precommit,
                height: 1,
                round: 0,
            });
            feed(&ctx, &mut me, inputs);
            assert_eq!((me.round(), me.step()), (1, Step::Propose));
            let out = feed(&ctx, &mut me, vec![proposal(&ctx, 1, V, Some(0))]);
            let expected = if expect_prevote {
                vec![sent_vote(VoteType::Prevote, 1, Some(V), me_index)]
            } else {
                vec![]
            };
            assert_eq!(
                out, expected,
                "{:?}: round-0 prevotes from {voters:?}",
                case.powers
            );
        }
    }
}

#[test]
fn messages_of_a_higher_round_from_exactly_one_third_do_not_skip_rounds() {
    // L55: f+1 is more than 1/3. The outsiders hold exactly 1/3.
    for case in cases() {
        let ctx = case.context(case.extra);
        let mut me = ConsensusState::new(case.me(), Config::default());
        feed(&ctx, &mut me, vec![Input::StartHeight(1)]);
        let votes = case
            .outsiders()
            .iter()
            .map(|&v| prevote(3, None, v))
            .collect();
        assert_eq!(feed(&ctx, &mut me, votes), vec![], "{:?}", case.powers);
        assert_eq!(me.round(), 0);
        let out = feed(&ctx, &mut me, vec![prevote(3, None, case.others()[0])]);
        assert_eq!(
            out,
            vec![schedule(TimeoutKind::Propose, 3)],
            "{:?}",
            case.powers
        );
        assert_eq!(me.round(), 3);
    }
}

#[test]
fn thresholds_are_one_above_two_thirds_and_one_third_of_the_power() {
    for case in cases() {
        let set = ValidatorSet::new(case.powers.clone());
        let two_thirds = case.power_of(&case.holders);
        assert_eq!(set.quorum(), two_thirds + 1, "{:?}", case.powers);
        assert_eq!(
            set.one_third_plus(),
            case.power_of(&case.outsiders()) + 1,
            "{:?}",
            case.powers
        );
    }
}

/// A whole run in which only `connected` validators reach each other: the rest are cut off
/// from the start to the end.
fn heights_with_only(powers: &[VotingPower], connected: &[ValidatorIndex]) -> u64 {
    let rest: Vec<ValidatorIndex> = (0..powers.len() as ValidatorIndex)
        .filter(|v| !connected.contains(v))
        .collect();
    let mut groups = vec![format!("{connected:?}")];
    groups.extend(rest.iter().map(|v| format!("[{v}]")));
    let yaml = format!(
        "name: quorum\nduration: 20s\nvalidators: {{ count: {}, voting_power: {powers:?} }}\n\
         network:\n  latency: {{ distribution: constant, mean: 10ms }}\n  partitions:\n    \
         - {{ at: 0s, groups: [{}] }}\nload: {{ transaction_rate: 0 }}\n\
         parameters: {{ block_interval: 0s }}\ncosts: none\n",
        powers.len(),
        groups.join(", ")
    );
    let scenario = parse_scenario(&yaml, "quorum").expect("valid scenario");
    let report = sim::run(&scenario, 7).expect("runs");
    assert!(report.safety.held());
    report.heights_committed
}

#[test]
fn a_network_with_exactly_two_thirds_of_the_power_connected_commits_nothing() {
    for case in cases() {
        assert_eq!(
            heights_with_only(&case.powers, &case.holders),
            0,
            "{:?}: only {:?} (exactly 2/3) connected",
            case.powers,
            case.holders
        );
        let above = [case.holders.clone(), vec![case.extra]].concat();
        let heights = heights_with_only(&case.powers, &above);
        assert!(
            heights >= 5,
            "{:?}: {above:?} (more than 2/3) connected committed {heights} heights",
            case.powers
        );
    }
}
