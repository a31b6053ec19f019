//! The event loop's side of CometBFT's gossip layer (`network.gossip: cometbft`, the model is
//! `crate::p2p`): publishing what a node signs or receives, its gossip routines waking to send
//! each peer what it lacks, and deliveries over rate-limited connections.

use super::*;
use crate::p2p::batches::VoteBatches;
use crate::p2p::conn::{ConnParams, Link, next_tick};
use crate::p2p::peers::PeerGraph;
use crate::p2p::{
    Filed, NodeBook, PeerKnowledge, RoundStep, part_bytes, part_count, type_index, vote_type_of,
    word_set,
};

/// CometBFT's `consensus.peer_query_maj23_sleep_duration` (default 2s): how often a node
/// queries each peer with VoteSetMaj23, nanoseconds.
const PEER_QUERY_MAJ23_SLEEP_NS: u64 = 2_000_000_000;
use rand::Rng;

/// The gossip layer's state: the peer graph, each node's book, each connection's knowledge
/// and timing.
pub(super) struct P2pState {
    pub(super) graph: PeerGraph,
    pub(super) params: ConnParams,
    /// `peer_gossip_sleep_duration`, nanoseconds.
    sleep_ns: u64,
    pub(super) books: Vec<NodeBook>,
    /// Per connection `a → b`: what `a` knows `b` has.
    knowledge: Vec<PeerKnowledge>,
    pub(super) links: Vec<Link>,
    /// Per connection `a → b`: how long after `b` changes (a step, a vote) `a` hears of it:
    /// one mean latency plus half a flush interval.
    news_delay: Vec<u64>,
    rng: SimRng,
    /// Nodes clients submit to.
    pub(super) entries: Vec<u16>,
    scratch: Vec<u16>,
    /// Votes of each batch on its way (`Envelope::Votes`).
    batches: VoteBatches,
    /// Scratch: what one wake-up sends one peer.
    sends: Vec<Envelope>,
    /// Part sets made from a polka's or a commit's header (`NodeBook::fetch`).
    pub(super) fetches: u64,
}

impl P2pState {
    /// The layer for `nodes` nodes (validators first) of which `validators` vote; `silent[v]`
    /// says validator `v` has crashed (no client submits to it).
    pub(super) fn new(
        scenario: &Scenario,
        nodes: usize,
        validators: usize,
        silent: &[bool],
        net: &Network,
        seed: u64,
    ) -> P2pState {
        let spec = &scenario.network.p2p;
        let mut peers_rng = rng::stream(seed, Stream::Peers);
        let graph = match scenario.network.topology {
            crate::config::Topology::FullMesh => PeerGraph::dial(
                nodes,
                spec.max_num_outbound_peers,
                spec.max_num_inbound_peers,
                &mut peers_rng,
            ),
            _ => PeerGraph::from_edges(nodes, net.edges()),
        };
        let mut rng = rng::stream(seed, Stream::Gossip);
        let sleep_ns = saturating_nanos(spec.peer_gossip_sleep_duration).max(1);
        let flush_ns = saturating_nanos(spec.flush_throttle_timeout);
        let bandwidth_ns = net.serialisation_delay(1_000_000).as_nanos() as f64 / 1e6;
        let params = ConnParams {
            send_ns_per_byte: (1e9 / spec.send_rate.max(1) as f64).max(bandwidth_ns),
            recv_ns_per_byte: (1e9 / spec.recv_rate.max(1) as f64).max(bandwidth_ns),
            flush_throttle_ns: flush_ns,
        };
        let books = (0..nodes)
            .map(|_| NodeBook::new(validators, rng.random_range(0..sleep_ns)))
            .collect();
        let conns = graph.connections();
        let links = (0..conns)
            .map(|_| {
                Link::new(if flush_ns == 0 {
                    0
                } else {
                    rng.random_range(0..flush_ns)
                })
            })
            .collect();
        let news_delay = (0..conns as u32)
            .map(|c| {
                let (a, b) = (graph.source(c), graph.target(c));
                net.mean_hop_latency_ns(b, a) + flush_ns / 2
            })
            .collect();
        let entries = entry_nodes(scenario, nodes, validators, silent, &mut peers_rng);
        P2pState {
            graph,
            params,
            sleep_ns,
            books,
            knowledge: vec![PeerKnowledge::default(); conns],
            links,
            news_delay,
            rng,
            entries,
            scratch: Vec::new(),
            batches: VoteBatches::default(),
            sends: Vec::new(),
            fetches: 0,
        }
    }
}

/// The entry nodes of `load.entry_nodes`: listed, or drawn from the full nodes (the validators
/// that have not crashed when there are none: a client's submission to a crashed node fails,
/// and CometBFT's load runner submits to nodes that answer).
fn entry_nodes(
    scenario: &Scenario,
    nodes: usize,
    validators: usize,
    silent: &[bool],
    rng: &mut SimRng,
) -> Vec<u16> {
    match &scenario.load.entry_nodes {
        crate::config::EntryNodes::List(list) if !list.is_empty() => list.clone(),
        crate::config::EntryNodes::List(_) => vec![0],
        crate::config::EntryNodes::Count(k) => {
            let mut pool: Vec<u16> = if nodes > validators {
                (validators as u16..nodes as u16).collect()
            } else {
                let up: Vec<u16> = (0..nodes as u16)
                    .filter(|&v| !silent[usize::from(v)])
                    .collect();
                match up.is_empty() {
                    true => (0..nodes as u16).collect(),
                    false => up,
                }
            };
            pool.shuffle(rng);
            pool.truncate((*k as usize).clamp(1, pool.len().max(1)));
            pool.sort_unstable();
            pool
        }
    }
}

impl P2pState {
    /// Votes `from..` of batch `batch` arrive at `to` on `conn`: mix each into `trace`, and
    /// for each that `to` already holds (in its slot, at its height) note that the peer across
    /// `conn` has it, all that receiving it again does (`p2p_deliver_vote` with
    /// `Filed::Held`); up to the first it does not hold, which is returned (mixed, not
    /// settled) with its index, for the full path.
    fn settle_held(
        &mut self,
        to: ValidatorIndex,
        batch: u32,
        conn: u32,
        from: usize,
        validators: usize,
        trace: &mut TraceHash,
    ) -> Option<(usize, Vote)> {
        let votes = self.batches.batch(batch)?;
        let height = votes.height;
        let first = votes.get(from)?.vote(height);
        let book = &self.books[usize::from(to)];
        if height != book.height {
            trace.mix(message_word(&Message::Vote(first)));
            return Some((from, first));
        }
        // Every vote of the batch is of `height`: the first one held, or the full path,
        // sets the connection's knowledge to this height.
        let k = &mut self.knowledge[self.graph.reverse(conn) as usize];
        k.at_height(height);
        // A batch is runs of one round and type (the votes routine sends them so): the
        // book's votes, the peer's known set (on the run's first vote held, as `knows` would
        // create it) and the trace word's part common to the run are looked up once per run.
        let mut hash = *trace;
        let mut j = from;
        let mut stop = None;
        'runs: while let Some(first) = votes.get(j) {
            let (round, kind) = (first.round, first.kind);
            let held = book
                .round(round)
                .map(|r| r.of_kind(kind))
                .unwrap_or_default();
            let run_word = vote_run_word(height, round, vote_type_of(kind));
            let mut known: Option<&mut [u64]> = None;
            while let Some(vote) = votes.get(j) {
                if (vote.round, vote.kind) != (round, kind) {
                    continue 'runs;
                }
                hash.mix(run_word ^ signer_word(vote.validator, vote.value));
                let i = usize::from(vote.validator);
                if !held.holds(i, vote.value) {
                    stop = Some((j, vote.vote(height)));
                    break 'runs;
                }
                if known.is_none() {
                    known = Some(k.votes_mut(round, kind, validators));
                }
                if let Some(words) = known.as_deref_mut() {
                    word_set(words, i);
                }
                j += 1;
            }
        }
        *trace = hash;
        stop
    }
}

impl Simulation {
    fn p2p(&mut self) -> &mut P2pState {
        self.p2p.as_mut().expect("the gossip layer is on")
    }

    /// Node `v` signed `message` at `t` (its own proposal or vote): it holds it now, and its
    /// gossip routines will send it on.
    pub(super) fn p2p_publish(&mut self, v: ValidatorIndex, message: Message, t: SimTime) {
        let height = self.nodes[usize::from(v)].state.height();
        let p2p = self.p2p.as_mut().expect("gossip layer");
        let book = &mut p2p.books[usize::from(v)];
        book.start_height(height);
        match message {
            Message::Vote(vote) if vote.height == book.height => {
                book.store(vote, t);
            }
            Message::Vote(_) => return,
            Message::Proposal(p) => {
                let bytes = self
                    .blocks
                    .get(p.value.0 as usize)
                    .map_or(0, |b| b.content.bytes);
                let total = part_count(bytes);
                if p.height != book.height {
                    return;
                }
                book.keep_proposal(p);
                if let Some(kept) = book.proposals.iter_mut().find(|(k, _)| *k == p) {
                    kept.1 = true; // its own: consensus already counted it
                }
                let parts = book.parts_mut(p.value, total);
                for i in 0..total {
                    parts.have.set(usize::from(i));
                }
            }
        }
        self.p2p_schedule_wake(v, t);
    }

    /// `v` publishes `message` at `at` (a `delay` Byzantine validator holds it back until then).
    pub(super) fn p2p_publish_at(&mut self, v: ValidatorIndex, message: Message, at: SimTime) {
        self.p2p().books[usize::from(v)].delayed.push((at, message));
        self.p2p_schedule_wake(v, at);
    }

    /// Schedule `v`'s gossip routines to run at their first wake-up at or after `ready`.
    pub(super) fn p2p_schedule_wake(&mut self, v: ValidatorIndex, ready: SimTime) {
        if self.nodes[usize::from(v)].is_silent() {
            return;
        }
        let p2p = self.p2p.as_mut().expect("gossip layer");
        let sleep = p2p.sleep_ns;
        let book = &mut p2p.books[usize::from(v)];
        let mut at = next_tick(ready, book.phase, sleep);
        if book.last_wake == Some(at) {
            at = at.plus_nanos(sleep);
        }
        if book.wakes.contains(&at) {
            return;
        }
        book.wakes.push(at);
        self.queue.push(at, Event::Wake { node: v });
    }

    /// After `v`'s consensus state changed: record its round state (what NewRoundStep tells its
    /// peers) and wake the peers when they will have heard.
    pub(super) fn p2p_track(&mut self, v: ValidatorIndex, t: SimTime) {
        let state = &self.nodes[usize::from(v)].state;
        let step = RoundStep {
            since: t,
            height: state.height(),
            round: state.round(),
            step: state.step(),
        };
        let p2p = self.p2p.as_mut().expect("gossip layer");
        let book = &mut p2p.books[usize::from(v)];
        if !book.enter(step) {
            return;
        }
        book.start_height(step.height);
        self.p2p_schedule_wake(v, t);
        self.p2p_wake_peers(v, t);
    }

    /// Wake `v`'s peers when news of a change of `v` at `t` (NewRoundStep, NewValidBlock)
    /// reaches them.
    fn p2p_wake_peers(&mut self, v: ValidatorIndex, t: SimTime) {
        let p2p = self.p2p.as_mut().expect("gossip layer");
        let mut wake = Vec::new();
        for c in p2p.graph.conns(v) {
            let peer = p2p.graph.target(c);
            wake.push((
                peer,
                t.plus_nanos(p2p.news_delay[p2p.graph.reverse(c) as usize]),
            ));
        }
        for (peer, at) in wake {
            self.p2p_schedule_wake(peer, at);
        }
    }

    /// `v`'s gossip routines run at `t`: for each peer, the data routine sends the proposal and
    /// the block parts it lacks, the votes routine the votes it lacks for its height and round;
    /// a peer a height behind gets the commit.
    pub(super) fn p2p_wake(&mut self, v: ValidatorIndex, t: SimTime) {
        let vi = usize::from(v);
        {
            let book = &mut self.p2p().books[vi];
            book.wakes.retain(|&w| w != t);
            book.last_wake = Some(t);
        }
        if self.nodes[vi].is_silent() {
            return;
        }
        // A `delay` validator's messages that are due.
        let due: Vec<(SimTime, Message)> = {
            let book = &mut self.p2p().books[vi];
            let (due, later): (Vec<_>, Vec<_>) =
                book.delayed.drain(..).partition(|(at, _)| *at <= t);
            book.delayed = later;
            due
        };
        for (_, message) in due {
            self.p2p_publish(v, message, t);
        }
        let conns = self.p2p().graph.conns(v);
        let mut blocked_until: Option<SimTime> = None;
        for c in conns {
            let peer = self.p2p().graph.target(c);
            if self.nodes[usize::from(peer)].is_silent() {
                continue;
            }
            if !self.net.is_connected_at(v, peer, t) {
                let heal = self.net.next_change_after(t);
                blocked_until = match (blocked_until, heal) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                continue;
            }
            self.p2p_serve_peer(v, c, t);
        }
        if let Some(heal) = blocked_until {
            self.p2p_schedule_wake(v, heal);
        }
    }

    /// What `v` sends on connection `c` at `t`.
    fn p2p_serve_peer(&mut self, v: ValidatorIndex, c: u32, t: SimTime) {
        let vi = usize::from(v);
        let validators = self.validator_count;
        let p2p = self.p2p.as_mut().expect("gossip layer");
        let peer = p2p.graph.target(c);
        let delay = p2p.news_delay[c as usize];
        let view =
            p2p.books[usize::from(peer)].step_at(SimTime(t.as_nanos().saturating_sub(delay)));
        let me = p2p.books[vi].step_now();
        if me.height == 0 || view.height == 0 {
            return;
        }
        if view.height < me.height {
            self.p2p_catch_up(v, c, view.height, t);
            return;
        }
        if view.height > me.height {
            return;
        }
        // HasVote: what the peer announced having, once its announcements reached us.
        {
            let (books, knowledge) = (&p2p.books, &mut p2p.knowledge);
            let k = &mut knowledge[c as usize];
            k.at_height(me.height);
            let peer_book = &books[usize::from(peer)];
            if peer_book.height == me.height {
                let heard_by = t.as_nanos().saturating_sub(delay);
                k.hear_has_votes(&peer_book.arrivals, heard_by, validators);
                // NewValidBlock: blocks the peer is fetching, once its announcement arrived.
                for fetching in &peer_book.blocks {
                    if fetching.fetched.is_some_and(|at| at.as_nanos() <= heard_by)
                        && let Some(parts) = books[vi].parts(fetching.value)
                    {
                        k.knows_header(parts.value, parts.total);
                    }
                }
            }
        }
        // Reused buffers: what this peer gets, and a vote batch (dropped if left empty).
        let mut sends = std::mem::take(&mut p2p.sends);
        let batch = p2p.batches.begin(p2p.books[vi].height);
        // The data routine: the proposal of the peer's round, then the parts it lacks.
        let book = &p2p.books[vi];
        let k = &mut p2p.knowledge[c as usize];
        if view.round == me.round
            && let Some(proposal) = book.proposal(me.round)
            && !k.proposals.contains(&me.round)
        {
            // An equivocating proposer shows the second side its twin.
            let second = usize::from(peer) < validators && self.second_side[usize::from(peer)];
            let proposal = match book.twin(me.round) {
                Some(twin) if second => twin,
                _ => proposal,
            };
            k.proposals.push(me.round);
            let total = book.parts(proposal.value).map_or(1, |p| p.total);
            k.knows_header(proposal.value, total);
            sends.push(Envelope::Relay {
                message: Message::Proposal(proposal),
                conn: c,
            });
        }
        for parts in &book.blocks {
            let Some((_, exchanged)) = k.parts.iter_mut().find(|(value, _)| *value == parts.value)
            else {
                continue;
            };
            p2p.scratch.clear();
            parts.have.missing_from(exchanged, &mut p2p.scratch);
            // The data routine picks a random missing part each time (PickRandom).
            p2p.scratch.shuffle(&mut p2p.rng);
            for &index in &p2p.scratch {
                exchanged.set(usize::from(index));
                sends.push(Envelope::Part {
                    value: parts.value,
                    index,
                    conn: c,
                });
            }
        }
        // The votes routine: the peer's round's prevotes and precommits, and the prevotes of
        // the POL round of its proposal.
        if view.round <= me.round && view.step != Step::Commit {
            let pol = book.proposal(view.round).and_then(|p| p.valid_round);
            let wanted: [(Option<Round>, &[usize]); 2] = [(Some(view.round), &[0, 1]), (pol, &[0])];
            for (round, kinds) in wanted {
                let Some(round) = round else {
                    continue;
                };
                let Some(held) = book.round(round) else {
                    continue;
                };
                for &kind in kinds {
                    let known = k.votes_mut(round, kind, validators);
                    p2p.batches.push_missing(held, round, kind, known);
                }
            }
            // VoteSetMaj23 (consensus/reactor.go `queryMaj23Routine`, every
            // `peer_query_maj23_sleep_duration`): the node tells the peer which value it holds
            // two thirds of the votes for in the same rounds, the peer answers with VoteSetBits
            // (read here from its book), and the votes for that value whose slot the peer holds
            // with another value go to it, to be counted toward that value
            // (`VoteSet.SetPeerMaj23`). Without it, correct validators locked on values whose
            // polka included an equivocator's votes never see each other's polka.
            let peer_book = &p2p.books[usize::from(peer)];
            if t >= k.maj23_next && peer_book.height == me.height {
                k.maj23_next = t.plus_nanos(PEER_QUERY_MAJ23_SLEEP_NS);
                let (powers, quorum) = (self.validators.powers(), self.validators.quorum());
                for (round, kinds) in wanted {
                    let Some(round) = round else {
                        continue;
                    };
                    for &kind in kinds {
                        let Some(value) = book.two_thirds(round, kind, powers, quorum) else {
                            continue;
                        };
                        let conflicts = book.conflicts.iter().copied();
                        let held = book
                            .round(round)
                            .into_iter()
                            .flat_map(|r| r.votes(kind, book.height, round));
                        for vote in held.chain(conflicts) {
                            if vote.round == round
                                && type_index(vote.vote_type) == kind
                                && vote.value == value
                                && peer_book.held(&vote).is_some_and(|other| other != vote)
                                && !peer_book.holds(&vote)
                                && !k.maj23_sent.contains(&vote)
                            {
                                k.maj23_sent.push(vote);
                                p2p.batches.push(vote);
                            }
                        }
                    }
                }
            }
        }
        if p2p.batches.finish(batch) {
            sends.push(Envelope::Votes { batch, conn: c });
        }
        for &envelope in &sends {
            self.p2p_send(c, envelope, t);
        }
        sends.clear();
        self.p2p().sends = sends;
    }

    /// The votes of batch `batch`.
    pub(super) fn p2p_batch(&self, batch: u32) -> Vec<Vote> {
        self.p2p
            .as_ref()
            .map_or(Vec::new(), |p2p| p2p.batches.votes(batch).collect())
    }

    /// A peer on `c` is at `height`, which `v` has decided: send the commit (its precommits,
    /// and the block when the peer has not seen it), once per height.
    fn p2p_catch_up(&mut self, v: ValidatorIndex, c: u32, height: Height, t: SimTime) {
        let p2p = self.p2p.as_mut().expect("gossip layer");
        let peer = p2p.graph.target(c);
        if p2p.knowledge[c as usize].certificate_sent >= height {
            return;
        }
        let Some((round, value, _)) = self.nodes[usize::from(v)].decisions.get(height) else {
            return;
        };
        let peer_state = &self.nodes[usize::from(peer)].state;
        if peer_state.height() != height || peer_state.step() == Step::Commit {
            return;
        }
        p2p.knowledge[c as usize].certificate_sent = height;
        let envelope = Envelope::Certificate {
            height,
            round,
            value,
            with_block: !self.nodes[usize::from(peer)].has_seen(value),
        };
        self.p2p_send(c, envelope, t);
    }

    /// Put `envelope` on connection `c` at `t`: through its limiters and flush timer, lost and
    /// retransmitted with probability `loss`, and delivered unless a partition cuts it first.
    fn p2p_send(&mut self, c: u32, envelope: Envelope, t: SimTime) {
        let size = self.envelope_size(&envelope);
        let p2p = self.p2p.as_mut().expect("gossip layer");
        let (from, to) = (p2p.graph.source(c), p2p.graph.target(c));
        let mut sent = t;
        let mut attempts = 1u64;
        if self.net.loss() > 0.0 {
            while self.net_rng.random::<f64>() < self.net.loss() {
                attempts += 1;
                sent = sent.plus_nanos(self.net.gossip_interval_nanos());
                if attempts > u64::from(crate::net::MAX_LOSSES) {
                    return self.p2p_drop(envelope);
                }
            }
        }
        // A partition that opened meanwhile holds it back until it heals (the connection's
        // sender retransmits, as TCP does after a reconnect).
        while !self.net.is_connected_at(from, to, sent) {
            match self.net.next_change_after(sent) {
                Some(heal) => sent = heal,
                None => return self.p2p_drop(envelope),
            }
        }
        let latency = self.net.hop_latency_ns(from, to, &mut self.net_rng);
        let p2p = self.p2p.as_mut().expect("gossip layer");
        let at = p2p.links[c as usize].transmit(&p2p.params, sent, size, latency);
        self.txg_preempt(c, sent, size);
        self.nodes[usize::from(from)].bytes_out += u64::from(size) * attempts;
        let id = self.arena.alloc(envelope, 1);
        self.queue.push(at, Event::Deliver { to, msg: id });
    }

    /// Forget an envelope that will never arrive.
    fn p2p_drop(&mut self, envelope: Envelope) {
        if let Envelope::Votes { batch, .. } = envelope {
            self.p2p().batches.release(batch);
        }
    }

    /// Something arrived at `to` over the gossip layer.
    pub(super) fn p2p_deliver(&mut self, to: ValidatorIndex, envelope: Envelope, t: SimTime) {
        let size = self.envelope_size(&envelope);
        self.nodes[usize::from(to)].bytes_in += u64::from(size);
        match envelope {
            Envelope::Votes { batch, conn } => {
                // Read vote by vote: delivering one can reach consensus, never a new batch.
                // Most votes of a batch are ones `to` already holds (a node hears each vote
                // from several peers before their HasVote reaches them: 26 M of 28 M received
                // at 1,000 validators); those are settled here, without the full path.
                let validators = self.validator_count;
                let mut from = 0;
                loop {
                    let p2p = self.p2p.as_mut().expect("gossip layer");
                    let Some((i, vote)) =
                        p2p.settle_held(to, batch, conn, from, validators, &mut self.trace)
                    else {
                        break;
                    };
                    self.p2p_deliver_vote(to, vote, conn, t);
                    from = i + 1;
                }
                self.p2p().batches.release(batch);
            }
            Envelope::Relay {
                message: Message::Vote(vote),
                conn,
            } => self.p2p_deliver_vote(to, vote, conn, t),
            Envelope::Relay {
                message: Message::Proposal(proposal),
                conn,
            } => {
                let bytes = self
                    .blocks
                    .get(proposal.value.0 as usize)
                    .map_or(0, |b| b.content.bytes);
                let total = part_count(bytes);
                let p2p = self.p2p.as_mut().expect("gossip layer");
                let rc = p2p.graph.reverse(conn);
                let book = &mut p2p.books[usize::from(to)];
                if proposal.height != book.height {
                    return;
                }
                let height = book.height;
                p2p.knowledge[rc as usize].at_height(height);
                let k = &mut p2p.knowledge[rc as usize];
                if !k.proposals.contains(&proposal.round) {
                    k.proposals.push(proposal.round);
                }
                k.knows_header(proposal.value, total);
                let book = &mut p2p.books[usize::from(to)];
                if book.keep_proposal(proposal) {
                    book.parts_mut(proposal.value, total);
                    self.nodes[usize::from(to)].disk_bytes += u64::from(size); // WAL
                    self.p2p_hand_over(to, t);
                    self.p2p_schedule_wake(to, t);
                }
            }
            Envelope::Part { value, index, conn } => {
                let bytes = self
                    .blocks
                    .get(value.0 as usize)
                    .map_or(0, |b| b.content.bytes);
                let total = part_count(bytes);
                let p2p = self.p2p.as_mut().expect("gossip layer");
                let rc = p2p.graph.reverse(conn);
                let book = &mut p2p.books[usize::from(to)];
                let height = book.height;
                let block_height = self.blocks.get(value.0 as usize).map(|b| b.height);
                if block_height != Some(height) {
                    return;
                }
                p2p.knowledge[rc as usize].at_height(height);
                p2p.knowledge[rc as usize].knows_part(value, total, index);
                let book = &mut p2p.books[usize::from(to)];
                let Some(parts) = book.blocks.iter_mut().find(|b| b.value == value) else {
                    return;
                };
                if parts.have.get(usize::from(index)) {
                    return;
                }
                parts.have.set(usize::from(index));
                let complete = parts.complete();
                self.nodes[usize::from(to)].disk_bytes += u64::from(size); // WAL
                if complete {
                    self.p2p_hand_over(to, t);
                }
                self.p2p_schedule_wake(to, t);
            }
            certificate @ Envelope::Certificate { .. } => {
                self.deliver_certificate(to, certificate, t);
            }
            Envelope::Consensus(_)
            | Envelope::Gossip { .. }
            | Envelope::Txs { .. }
            | Envelope::TxAdmit { .. }
            | Envelope::Held(_) => {}
        }
    }

    /// Vote `vote` arrived at `to` on connection `conn`.
    fn p2p_deliver_vote(&mut self, to: ValidatorIndex, vote: Vote, conn: u32, t: SimTime) {
        let size = VOTE_BYTES;
        let validators = self.validator_count;
        let p2p = self.p2p.as_mut().expect("gossip layer");
        let rc = p2p.graph.reverse(conn);
        let height = p2p.books[usize::from(to)].height;
        if vote.height == height {
            p2p.knowledge[rc as usize].at_height(height);
            p2p.knowledge[rc as usize].knows_vote(&vote, validators);
        }
        let book = &mut p2p.books[usize::from(to)];
        if vote.height > height {
            // A vote of a later height: consensus buffers it.
            self.consume(to, Message::Vote(vote), t);
            return;
        }
        if vote.height < height {
            return;
        }
        let filed = book.file(vote, t);
        if filed == Filed::New {
            self.nodes[usize::from(to)].disk_bytes += u64::from(size); // WAL
            let (done, _) = self.consume(to, Message::Vote(vote), t);
            self.p2p_fetch(to, vote, done);
            self.p2p_schedule_wake(to, t);
        } else if filed == Filed::Other {
            // A conflicting vote: not relayed by the votes routine (HasVote marks the slot),
            // evidence for consensus, which counts it toward its value; kept so that
            // VoteSetMaj23 can pass it on.
            book.store_conflict(vote);
            let (done, _) = self.consume(to, Message::Vote(vote), t);
            self.p2p_fetch(to, vote, done);
        }
    }

    /// After `vote` was counted at `to` (at `t`): if it completed 2f+1 prevotes of `to`'s
    /// round or 2f+1 precommits of any round for a block `to` has no parts of, start fetching
    /// that block (CometBFT's `addVote` and `enterCommit` make its part set from the votes'
    /// `PartSetHeader`, then publish NewValidBlock) and wake the peers when the announcement
    /// reaches them.
    pub(super) fn p2p_fetch(&mut self, to: ValidatorIndex, vote: Vote, t: SimTime) {
        let Some(value) = vote.value else {
            return;
        };
        let state = &self.nodes[usize::from(to)].state;
        if vote.height != state.height()
            || state.step() == Step::Commit
            || (vote.vote_type == VoteType::Prevote && vote.round != state.round())
            || state
                .votes()
                .power_for(vote.round, vote.vote_type, Some(value))
                < self.validators.quorum()
        {
            return;
        }
        let Some(block) = self.blocks.get(value.0 as usize) else {
            return;
        };
        let (height, total) = (block.height, part_count(block.content.bytes));
        let p2p = self.p2p.as_mut().expect("gossip layer");
        let book = &mut p2p.books[usize::from(to)];
        if height != book.height || !book.fetch(value, total, t) {
            return;
        }
        p2p.fetches += 1;
        self.p2p_wake_peers(to, t);
    }

    /// Give consensus every proposal of `to`'s height whose block is now complete (CometBFT
    /// handles a proposal once its last part arrives).
    fn p2p_hand_over(&mut self, to: ValidatorIndex, t: SimTime) {
        let p2p = self.p2p.as_mut().expect("gossip layer");
        let book = &mut p2p.books[usize::from(to)];
        let mut ready = Vec::new();
        for (proposal, handed) in &mut book.proposals {
            if !*handed
                && book
                    .blocks
                    .iter()
                    .any(|b| b.value == proposal.value && b.complete())
            {
                *handed = true;
                ready.push(*proposal);
            }
        }
        // A fetched block with no proposal of it handed: consensus gets the block itself.
        let mut fetched = Vec::new();
        for parts in &mut book.blocks {
            if parts.fetched.is_some() && !parts.handed && parts.complete() {
                parts.handed = true;
                let value = parts.value;
                if !book
                    .proposals
                    .iter()
                    .any(|(p, handed)| *handed && p.value == value)
                {
                    fetched.push(value);
                }
            }
        }
        for proposal in ready {
            self.consume(to, Message::Proposal(proposal), t);
        }
        for value in fetched {
            self.consume_block(to, value, t);
        }
    }

    /// Bytes on the wire of a gossip-layer envelope.
    pub(super) fn p2p_envelope_size(&self, envelope: &Envelope) -> u32 {
        match envelope {
            Envelope::Relay {
                message: Message::Vote(_),
                ..
            } => VOTE_BYTES,
            Envelope::Relay {
                message: Message::Proposal(_),
                ..
            } => PROPOSAL_OVERHEAD_BYTES,
            Envelope::Votes { batch, .. } => {
                VOTE_BYTES * self.p2p.as_ref().map_or(0, |p2p| p2p.batches.len(*batch)) as u32
            }
            Envelope::Part { value, index, .. } => part_bytes(
                self.blocks
                    .get(value.0 as usize)
                    .map_or(0, |b| b.content.bytes),
                *index,
            ),
            _ => 0,
        }
    }

    /// Coordinated equivocation over the gossip layer: the coalition shows each side of the
    /// correct validators its own value: the proposer's data routine gives peers on the second
    /// side the twin proposal and its parts, the coalition sends its second votes straight to
    /// its peers on that side (full nodes count with the first side); what they relay on is
    /// their own first copy.
    pub(super) fn p2p_equivocate(&mut self, v: ValidatorIndex, message: Message, t: SimTime) {
        let second_of = |sim: &Simulation, peer: u16| {
            usize::from(peer) < sim.validator_count && sim.second_side[usize::from(peer)]
        };
        match message {
            Message::Proposal(p) => {
                let original = self.blocks[p.value.0 as usize];
                let twin = self.new_block(p.height, v, original.content);
                self.splits.insert((p.height, p.round), (p.value, twin));
                self.p2p_publish(v, message, t);
                // The data routine sends it to second-side peers once they are at its height
                // and round, as it sends any proposal.
                let total = part_count(original.content.bytes);
                let book = &mut self.p2p().books[usize::from(v)];
                book.twins
                    .push(crate::consensus::Proposal { value: twin, ..p });
                let parts = book.parts_mut(twin, total);
                for i in 0..total {
                    parts.have.set(usize::from(i));
                }
            }
            Message::Vote(vote) => {
                let (first, second, split) = match self.splits.get(&(vote.height, vote.round)) {
                    Some(&(a, b)) => (
                        Vote {
                            value: Some(a),
                            ..vote
                        },
                        Vote {
                            value: Some(b),
                            ..vote
                        },
                        true,
                    ),
                    None if vote.value.is_some() => (
                        vote,
                        Vote {
                            value: None,
                            ..vote
                        },
                        false,
                    ),
                    None => {
                        self.p2p_publish(v, message, t);
                        return;
                    }
                };
                self.p2p_publish(v, Message::Vote(first), t);
                // Straight to every peer, each side its own value, so that neither side hears
                // the other's value relayed before its own; the votes routine then has
                // nothing of these left to send.
                let validators = self.validator_count;
                for c in self.p2p().graph.conns(v) {
                    let peer = self.p2p().graph.target(c);
                    let second_side = second_of(self, peer);
                    let k = &mut self.p2p().knowledge[c as usize];
                    k.at_height(vote.height);
                    k.knows_vote(&first, validators);
                    let send = |sim: &mut Simulation, vote: Vote| {
                        let envelope = Envelope::Relay {
                            message: Message::Vote(vote),
                            conn: c,
                        };
                        sim.p2p_send(c, envelope, t);
                    };
                    match (second_side, split) {
                        (false, _) => send(self, first),
                        (true, true) => send(self, second),
                        // No split: the vote everyone gets, then the double vote for nil
                        // behind it on the same connection (evidence; the first is counted,
                        // as with direct delivery).
                        (true, false) => {
                            send(self, first);
                            send(self, second);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vote_word_is_its_run_word_xor_its_signer_word() {
        for (height, round, vote_type, value, validator) in [
            (1, 0, VoteType::Prevote, None, 0),
            (7, 3, VoteType::Precommit, Some(ValueId(12)), 999),
            (
                u64::from(u32::MAX) + 5,
                70_000,
                VoteType::Prevote,
                Some(ValueId(1 << 30)),
                65_535,
            ),
        ] {
            let vote = Vote {
                height,
                round,
                vote_type,
                value,
                validator,
            };
            let run = Vote {
                value: Some(ValueId(0)),
                validator: 0,
                ..vote
            };
            assert_eq!(
                message_word(&Message::Vote(vote)),
                message_word(&Message::Vote(run)) ^ signer_word(validator, value)
            );
        }
    }
}
