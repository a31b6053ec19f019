//! Block gossip wiring: proposals spread by validators that have them, on links of limited
//! bandwidth (the bookkeeping is `sim::gossip`).

use super::*;

impl Simulation {
    /// Whether `message` goes by block gossip: proposals, when links have a finite bandwidth.
    pub(super) fn gossips(&self, message: &Message) -> bool {
        matches!(message, Message::Proposal(_)) && self.net.limits_bandwidth()
    }

    /// Start spreading a proposal from `v` at `t` by block gossip to the validators `allowed`
    /// accepts.
    pub(super) fn spread(
        &mut self,
        v: ValidatorIndex,
        message: Message,
        t: SimTime,
        allowed: impl Fn(ValidatorIndex) -> bool,
    ) {
        let id = self.arena.alloc(Envelope::Consensus(message), 1);
        let spread = self.gossip.start(id, v, allowed);
        self.arena.set(id, Envelope::Gossip { message, spread });
        self.schedule_serve(v, t);
    }

    /// Schedule `v`'s next `Serve` event, when its uplink is free, if it serves anything.
    pub(super) fn schedule_serve(&mut self, v: ValidatorIndex, t: SimTime) {
        if !self.nodes[usize::from(v)].is_silent() && self.gossip.wants_serve(v) {
            let at = t.max(self.net.uplink_free_at(v));
            self.queue.push(at, Event::Serve { validator: v });
        }
    }

    /// `v`'s uplink is free: send one copy of a block it serves to a peer that lacks it.
    pub(super) fn serve(&mut self, v: ValidatorIndex, t: SimTime) {
        self.gossip.served(v);
        loop {
            let nodes = &self.nodes;
            let next = self.gossip.next_copy(
                v,
                |p| !nodes[usize::from(p)].is_silent(),
                &mut self.released,
            );
            let Some((spread, msg, peer)) = next else {
                break;
            };
            let size = match self.arena.slots[msg as usize].0 {
                Envelope::Gossip { message, .. } => self.message_size(&message),
                _ => 0,
            };
            match self.net.send(v, peer, size, t, &mut self.net_rng) {
                Some(d) => {
                    self.nodes[usize::from(v)].bytes_out += u64::from(size) * u64::from(d.attempts);
                    self.arena.add_ref(msg);
                    self.queue.push(d.at, Event::Deliver { to: peer, msg });
                    break;
                }
                None => self.gossip.abandoned(spread, &mut self.released),
            }
        }
        self.release_spreads();
        self.schedule_serve(v, t);
    }

    /// Drop the arena reference of every spread that ended.
    pub(super) fn release_spreads(&mut self) {
        for msg in self.released.drain(..) {
            self.arena.release(msg, 1);
        }
    }
}
