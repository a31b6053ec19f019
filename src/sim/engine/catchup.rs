//! Catch-up: a validator ahead sends a peer stuck at a height it decided the commit
//! certificate of that height (CometBFT's catch-up commit), and remembers recent decisions to
//! do so.

use super::*;

/// Heights whose decisions a validator keeps to send commit certificates to peers that fell
/// behind; a peer further behind than this would need CometBFT's blocksync, which is not
/// modelled. Bounds memory on long runs.
pub const DECISIONS_KEPT: usize = 4096;

/// `(round, value, when)` decided at each of the latest `DECISIONS_KEPT` heights.
#[derive(Debug, Default)]
pub(super) struct Decisions {
    /// Height of `recent[0]`.
    first: Height,
    recent: VecDeque<(Round, ValueId, SimTime)>,
}

impl Decisions {
    /// Record the decision of `height`, the height after the last one recorded.
    pub(super) fn push(&mut self, height: Height, round: Round, value: ValueId, at: SimTime) {
        if self.recent.is_empty() {
            self.first = height;
        } else if self.first + self.recent.len() as Height != height {
            return;
        }
        if self.recent.len() == DECISIONS_KEPT {
            self.recent.pop_front();
            self.first += 1;
        }
        self.recent.push_back((round, value, at));
    }

    /// The highest height decided (0 before the first decision).
    pub(super) fn last_height(&self) -> Height {
        match self.recent.len() {
            0 => 0,
            k => self.first + k as Height - 1,
        }
    }

    /// The decision of `height`, if still kept.
    pub(super) fn get(&self, height: Height) -> Option<(Round, ValueId, SimTime)> {
        let offset = height.checked_sub(self.first)?;
        self.recent.get(usize::try_from(offset).ok()?).copied()
    }
}

impl Simulation {
    /// `to` learned that `peer` is still at `height`, which `to` decided: send it the commit
    /// certificate of that height (once per height and peer), as CometBFT's gossip does.
    pub(super) fn send_certificate(
        &mut self,
        to: ValidatorIndex,
        peer: ValidatorIndex,
        height: Height,
        t: SimTime,
    ) {
        let n = self.nodes.len();
        let slot = usize::from(to) * n + usize::from(peer);
        let Some((round, value, decided_at)) = self.nodes[usize::from(to)].decisions.get(height)
        else {
            return;
        };
        // Only a peer still deciding `height` needs it: a late vote of an old height usually
        // comes from a peer that has moved on too. (CometBFT peers announce their height and
        // step in NewRoundStep messages; the simulator reads the peer's state directly.)
        let peer_state = &self.nodes[usize::from(peer)].state;
        let still_deciding = peer_state.height() == height && peer_state.step() != Step::Commit;
        // Like CometBFT's gossip routines, which wake every so often, help only a peer that has
        // been stuck a gossip interval: one a few votes behind gets them on its own.
        let stuck_at = decided_at.plus_nanos(self.net.gossip_interval_nanos());
        if self.certificate_sent[slot] >= height
            || peer == to
            || !still_deciding
            || self.nodes[usize::from(peer)].is_silent()
        {
            return;
        }
        if t < stuck_at {
            // Not stuck long enough yet: look again once it has been, as the gossip routine
            // that wakes later would. The message that showed it behind may be its last (a
            // validator waiting for votes in its prevote step has no timer), so dropping the
            // certificate here could leave it waiting for good.
            if self.catch_up_due[slot] < height {
                self.catch_up_due[slot] = height;
                self.queue.push(
                    stuck_at,
                    Event::CatchUp {
                        validator: to,
                        peer,
                    },
                );
            }
            return;
        }
        self.certificate_sent[slot] = height;
        let envelope = Envelope::Certificate {
            height,
            round,
            value,
            with_block: !self.nodes[usize::from(peer)].has_seen(value),
        };
        let size = self.envelope_size(&envelope);
        let id = self.arena.alloc(envelope, 1);
        match self.net.send(to, peer, size, t, &mut self.net_rng) {
            Some(d) => {
                self.nodes[usize::from(to)].bytes_out += u64::from(size) * u64::from(d.attempts);
                self.queue.push(d.at, Event::Deliver { to: peer, msg: id });
            }
            None => self.arena.release(id, 1),
        }
    }

    /// A commit certificate reached `to`: verify its 2f+1 precommits (and its block, when it
    /// carries one), then decide.
    pub(super) fn deliver_certificate(
        &mut self,
        to: ValidatorIndex,
        certificate: Envelope,
        t: SimTime,
    ) {
        let Envelope::Certificate {
            height,
            round,
            value,
            with_block,
        } = certificate
        else {
            return;
        };
        let size = self.envelope_size(&certificate);
        let txs = match with_block {
            true => self
                .blocks
                .get(value.0 as usize)
                .map_or(0, |b| b.content.txs),
            false => 0,
        };
        let quorum_votes = (self.validator_count * 2 / 3 + 1) as u64;
        let node = &mut self.nodes[usize::from(to)];
        node.bytes_in += u64::from(size);
        node.saw(value);
        let mut work = match with_block {
            true => self.costs.verify_block(txs),
            false => Work::default(),
        };
        work.elapsed_ns += quorum_votes * self.costs.verify_vote().elapsed_ns;
        work.cpu_ns += quorum_votes * self.costs.verify_vote().cpu_ns;
        let done = node.charge(t, work);
        self.feed(
            to,
            Input::Certificate {
                height,
                round,
                value,
            },
            done,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_keep_the_latest_heights_only() {
        let mut d = Decisions::default();
        let total = DECISIONS_KEPT as Height + 10;
        for h in 1..=total {
            d.push(h, (h % 3) as Round, ValueId(h * 7), SimTime(h));
        }
        assert_eq!(d.recent.len(), DECISIONS_KEPT);
        assert_eq!(d.get(10), None, "forgotten");
        assert_eq!(d.get(11), Some((2, ValueId(77), SimTime(11))));
        assert_eq!(
            d.get(total),
            Some(((total % 3) as Round, ValueId(total * 7), SimTime(total)))
        );
        assert_eq!(d.get(total + 1), None);
        // Out-of-order pushes are ignored rather than misfiled.
        d.push(total + 5, 0, ValueId(1), SimTime(0));
        assert_eq!(d.get(total + 5), None);
    }
}
