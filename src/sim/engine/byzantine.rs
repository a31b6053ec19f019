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
