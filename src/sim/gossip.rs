//! Block gossip on links of limited bandwidth, as CometBFT spreads block parts: every validator
//! that has a block serves it, one copy at a time on its uplink, to peers that neither have it
//! nor have a copy on the way; a peer keeps the first copy that arrives and starts serving too.
//! So a block reaches `n` validators in a few uplink times instead of `n - 1` of the proposer's.
//!
//! This module is the bookkeeping (who has which block, who serves what); the event loop sends
//! the copies and schedules the `Serve` events.

use crate::consensus::ValidatorIndex;
use std::collections::VecDeque;

/// One block being spread.
#[derive(Debug)]
struct Spread {
    /// Arena index of the proposal message.
    msg: u32,
    /// Validators that have the block.
    has: Vec<bool>,
    /// Validators a copy is on its way to.
    in_flight: Vec<bool>,
    /// Validators it may go to (an equivocator shows each block to one side only).
    allowed: Vec<bool>,
    /// Validators serving it (the spread lives while any does or a copy is on its way).
    servers: u32,
    /// Copies on their way.
    pending: u32,
}

/// Every block being spread, and what each validator serves next.
#[derive(Debug, Default)]
pub(super) struct Gossip {
    spreads: Vec<Option<Spread>>,
    free: Vec<u32>,
    /// Per validator: the spreads it serves, oldest first.
    serving: Vec<VecDeque<u32>>,
    /// Per validator: whether a `Serve` event is already scheduled.
    scheduled: Vec<bool>,
}

impl Gossip {
    /// Bookkeeping for `n` validators.
    pub(super) fn new(n: usize) -> Self {
        Gossip {
            spreads: Vec::new(),
            free: Vec::new(),
            serving: vec![VecDeque::new(); n],
            scheduled: vec![false; n],
        }
    }

    /// Start spreading message `msg` from `origin` to the validators `allowed` accepts; the
    /// origin serves it. Returns the spread's id.
    pub(super) fn start(
        &mut self,
        msg: u32,
        origin: ValidatorIndex,
        allowed: impl Fn(ValidatorIndex) -> bool,
    ) -> u32 {
        let n = self.serving.len();
        let mut spread = Spread {
            msg,
            has: vec![false; n],
            in_flight: vec![false; n],
            allowed: (0..n as u16).map(allowed).collect(),
            servers: 1,
            pending: 0,
        };
        spread.has[usize::from(origin)] = true;
        let id = match self.free.pop() {
            Some(id) => {
                self.spreads[id as usize] = Some(spread);
                id
            }
            None => {
                self.spreads.push(Some(spread));
                (self.spreads.len() - 1) as u32
            }
        };
        self.serving[usize::from(origin)].push_back(id);
        id
    }

    /// The next copy `server` should send: a spread it serves and a peer that lacks the block,
    /// accepted by `eligible` (e.g. not silent). The copy is marked on its way. Spreads with
    /// nobody left to serve are dropped from the server's queue; `released` gets the arena index
    /// of every spread that ended.
    pub(super) fn next_copy(
        &mut self,
        server: ValidatorIndex,
        eligible: impl Fn(ValidatorIndex) -> bool,
        released: &mut Vec<u32>,
    ) -> Option<(u32, u32, ValidatorIndex)> {
        let n = self.serving.len();
        let s = usize::from(server);
        while let Some(&id) = self.serving[s].front() {
            let spread = self.spreads[id as usize].as_mut()?;
            // Start after the server's own index, so servers spread their copies around.
            let peer = (1..n).map(|k| ((s + k) % n) as u16).find(|&p| {
                let i = usize::from(p);
                spread.allowed[i] && !spread.has[i] && !spread.in_flight[i] && eligible(p)
            });
            if let Some(peer) = peer {
                spread.in_flight[usize::from(peer)] = true;
                spread.pending += 1;
                return Some((id, spread.msg, peer));
            }
            self.serving[s].pop_front();
            spread.servers -= 1;
            self.end_if_done(id, released);
        }
        None
    }

    /// The copy of spread `id` reached `to`, which now has the block and serves it too. (At
    /// most one copy is ever on its way to a validator, so every arrival is a first one.)
    pub(super) fn arrived(&mut self, id: u32, to: ValidatorIndex, released: &mut Vec<u32>) {
        let Some(spread) = self.spreads.get_mut(id as usize).and_then(Option::as_mut) else {
            return;
        };
        let i = usize::from(to);
        spread.pending = spread.pending.saturating_sub(1);
        spread.in_flight[i] = false;
        if !spread.has[i] {
            spread.has[i] = true;
            spread.servers += 1;
            self.serving[i].push_back(id);
        }
        self.end_if_done(id, released);
    }

    /// The copy of spread `id` marked on its way can never arrive (no path will ever exist):
    /// nobody tries that peer again.
    pub(super) fn abandoned(&mut self, id: u32, released: &mut Vec<u32>) {
        if let Some(spread) = self.spreads.get_mut(id as usize).and_then(Option::as_mut) {
            spread.pending = spread.pending.saturating_sub(1);
        }
        self.end_if_done(id, released);
    }

    /// Whether `server` needs a `Serve` event scheduled (it serves something and has none);
    /// marks it scheduled.
    pub(super) fn wants_serve(&mut self, server: ValidatorIndex) -> bool {
        let s = usize::from(server);
        let wants = !self.scheduled[s] && !self.serving[s].is_empty();
        if wants {
            self.scheduled[s] = true;
        }
        wants
    }

    /// The `Serve` event of `server` fired.
    pub(super) fn served(&mut self, server: ValidatorIndex) {
        self.scheduled[usize::from(server)] = false;
    }

    /// Blocks being spread now.
    #[cfg(test)]
    fn live(&self) -> usize {
        self.spreads.iter().filter(|s| s.is_some()).count()
    }

    fn end_if_done(&mut self, id: u32, released: &mut Vec<u32>) {
        let done = self.spreads[id as usize]
            .as_ref()
            .is_some_and(|s| s.servers == 0 && s.pending == 0);
        if done && let Some(spread) = self.spreads[id as usize].take() {
            released.push(spread.msg);
            self.free.push(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_spreads_to_every_allowed_peer_once_and_then_ends() {
        let mut g = Gossip::new(4);
        let mut released = Vec::new();
        let id = g.start(7, 0, |p| p != 3);
        assert!(g.wants_serve(0));
        assert!(!g.wants_serve(0), "already scheduled");
        // The origin sends to 1, then to 2; 3 is not allowed.
        assert_eq!(g.next_copy(0, |_| true, &mut released), Some((id, 7, 1)));
        assert_eq!(g.next_copy(0, |_| true, &mut released), Some((id, 7, 2)));
        // 1 receives first: it serves too, but nobody is left without a copy on its way.
        g.arrived(id, 1, &mut released);
        assert_eq!(g.next_copy(1, |_| true, &mut released), None);
        assert_eq!(g.next_copy(0, |_| true, &mut released), None);
        assert!(released.is_empty(), "a copy is still on its way to 2");
        g.arrived(id, 2, &mut released);
        assert_eq!(g.next_copy(2, |_| true, &mut released), None);
        assert_eq!(released, vec![7]);
        assert_eq!(g.live(), 0);
    }

    #[test]
    fn receivers_serve_the_rest_and_unreachable_peers_are_not_retried() {
        let mut g = Gossip::new(4);
        let mut released = Vec::new();
        let id = g.start(1, 0, |_| true);
        assert_eq!(g.next_copy(0, |_| true, &mut released), Some((id, 1, 1)));
        g.arrived(id, 1, &mut released);
        // 1 serves from after its own index: 2, then 3 (whose copy can never arrive).
        assert_eq!(g.next_copy(1, |_| true, &mut released), Some((id, 1, 2)));
        assert_eq!(g.next_copy(1, |_| true, &mut released), Some((id, 1, 3)));
        g.abandoned(id, &mut released);
        assert_eq!(
            g.next_copy(0, |_| true, &mut released),
            None,
            "3 is not tried again"
        );
        g.arrived(id, 2, &mut released);
        assert_eq!(g.next_copy(2, |_| true, &mut released), None);
        assert_eq!(g.next_copy(1, |_| true, &mut released), None);
        assert_eq!(released, vec![1]);
    }
}
