//! The event loop's side of the mempool reactor's traffic (`network.gossip: cometbft`; the model
//! is `crate::p2p::mempool`): entry nodes admitting client transactions, each node forwarding
//! what it admitted to every peer that did not send it, one batch per connection per flush,
//! CheckTx on every new transaction and a cache lookup on every copy.

use super::*;
use crate::net::ceil_nanos;
use crate::p2p::conn::next_tick;
use crate::p2p::mempool::{TxGossip, tx_wire_bytes, uncommitted};

/// How often an entry node admits the client transactions that arrived since its last
/// admission: a simulator granularity, not a CometBFT setting (DESIGN rule 5: arrivals are not
/// one event each). A transaction waits at most this long beyond its arrival before CheckTx,
/// a tenth of the `flush_throttle_timeout` (100 ms) it then waits on each connection.
pub const ENTRY_ADMISSION_STEP: Duration = Duration::from_millis(10);

/// The mempool reactor's state: who holds what, what each connection carries.
pub(super) struct MempoolGossip {
    pub(super) state: TxGossip,
    /// Bytes of one transaction's `Txs` message on the wire.
    wire_bytes: u32,
    step_ns: u64,
}

impl MempoolGossip {
    /// The state for the gossip layer `p2p` and transactions of `tx_size` bytes.
    pub(super) fn new(p2p: &P2pState, tx_size: u32) -> MempoolGossip {
        MempoolGossip {
            state: TxGossip::new(p2p.graph.len(), p2p.graph.connections(), p2p.entries.len()),
            wire_bytes: tx_wire_bytes(tx_size),
            step_ns: saturating_nanos(ENTRY_ADMISSION_STEP).max(1),
        }
    }

    /// Whether node `v` can reap the transaction with sequence number `seq` at `t`.
    pub(super) fn reached(&self, seq: u64, v: u16, t: SimTime) -> bool {
        let n = self.state.entries() as u64;
        seq / n < self.state.usable(v, (seq % n) as usize, t)
    }

    /// Transactions in node `v`'s mempool: what it holds at or after sequence `front`.
    pub(super) fn held(&self, v: u16, front: u64) -> u64 {
        let n = self.state.entries();
        (0..n)
            .map(|e| uncommitted(0, self.state.known(v, e), e, n, front))
            .sum()
    }
}

impl Simulation {
    /// Schedule each entry node's first admission (nothing to admit at a zero rate).
    pub(super) fn txg_start(&mut self) {
        let (Some(txg), Some(p2p)) = (&self.txg, &self.p2p) else {
            return;
        };
        if self.mempool.rate() <= 0.0 {
            return;
        }
        let at = SimTime::ZERO.plus_nanos(txg.step_ns);
        for e in 0..p2p.entries.len() as u32 {
            let to = p2p.entries[e as usize];
            let id = self.arena.alloc(Envelope::TxAdmit { entry: e }, 1);
            self.queue.push(at, Event::Deliver { to, msg: id });
        }
    }

    /// Entry node `to` (entry `e`) admits the client transactions that arrived by `t`: CheckTx
    /// on each, then the reactor sends them on.
    pub(super) fn txg_admit(&mut self, to: ValidatorIndex, e: u32, t: SimTime) {
        self.mempool.advance_to(t);
        let Some(txg) = &mut self.txg else { return };
        let n = txg.state.entries() as u64;
        let arrived = self
            .mempool
            .accepted()
            .saturating_sub(u64::from(e))
            .div_ceil(n);
        let e = e as usize;
        let held = txg.state.known(to, e);
        let next = t.plus_nanos(txg.step_ns);
        if next <= self.end {
            let id = self.arena.alloc(Envelope::TxAdmit { entry: e as u32 }, 1);
            self.queue.push(next, Event::Deliver { to, msg: id });
        }
        if arrived <= held || self.nodes[usize::from(to)].is_silent() {
            return;
        }
        let front = self.mempool.front_seq();
        let new = uncommitted(held, arrived, e, n as usize, front);
        let done = self.txg_check(to, new, t);
        let Some(txg) = &mut self.txg else { return };
        txg.state.admit(to, e, arrived, t, done);
        self.txg_forward(to, None, done);
    }

    /// CheckTx of `new` transactions at `v` from `t`; returns when it is done.
    fn txg_check(&mut self, v: ValidatorIndex, new: u64, t: SimTime) -> SimTime {
        let per_tx = self.costs.check_tx();
        self.nodes[usize::from(v)].charge(
            t,
            Work {
                elapsed_ns: per_tx.elapsed_ns.saturating_mul(new),
                cpu_ns: per_tx.cpu_ns.saturating_mul(new),
            },
        )
    }

    /// `v`'s broadcast routines at `t`: every connection gets what `v` holds beyond what it
    /// already sent, except the connection back to `from` (the peer that sent it), whose
    /// cursor skips ahead.
    fn txg_forward(&mut self, v: ValidatorIndex, from: Option<u32>, t: SimTime) {
        let (Some(txg), Some(p2p)) = (&mut self.txg, &mut self.p2p) else {
            return;
        };
        let entries = txg.state.entries();
        let back = from.map(|c| p2p.graph.reverse(c));
        let front = self.mempool.front_seq();
        let flush_ns = p2p.params.flush_throttle_ns;
        let send_ns = p2p.params.send_ns_per_byte;
        for c in p2p.graph.conns(v) {
            if Some(c) == back {
                for e in 0..entries {
                    let held = txg.state.known(v, e);
                    txg.state.mark_sent(c, e, held);
                }
                continue;
            }
            let peer = p2p.graph.target(c);
            if self.nodes[usize::from(peer)].is_silent() || !self.net.is_connected_at(v, peer, t) {
                // Nothing is written while the connection is down; the routine resumes from
                // where it was when it is back.
                continue;
            }
            let mut txs = 0u64;
            let mut any = false;
            for e in 0..entries {
                let (lo, hi) = (txg.state.sent(c, e), txg.state.known(v, e));
                if hi > lo {
                    any = true;
                    txs += uncommitted(lo, hi, e, entries, front);
                }
            }
            if !any {
                continue;
            }
            if txs == 0 {
                // Committed before the routine reached them: not sent.
                for e in 0..entries {
                    let held = txg.state.known(v, e);
                    txg.state.mark_sent(c, e, held);
                }
                continue;
            }
            let ci = c as usize;
            let bytes = txs.saturating_mul(u64::from(txg.wire_bytes));
            // The mempool channel writes after any consensus packet queued before it.
            let link = &p2p.links[ci];
            let start = t.max(txg.state.lane_free[ci]).max(link.send_free());
            let written = start.plus_nanos(ceil_nanos(bytes as f64 * send_ns));
            txg.state.lane_free[ci] = written;
            let slot = match txg.state.open[ci] {
                Some((slot, tick)) if written <= tick => slot,
                _ => {
                    let tick = match flush_ns {
                        0 => written,
                        _ => next_tick(written.max(t), link.flush_phase(), flush_ns),
                    };
                    let latency = self.net.hop_latency_ns(v, peer, &mut self.net_rng);
                    let at = tick.plus_nanos(latency).max(txg.state.last_arrival[ci]);
                    txg.state.last_arrival[ci] = at;
                    let slot = txg.state.new_batch();
                    for e in 0..entries {
                        let lo = txg.state.sent(c, e);
                        txg.state.batch_mut(slot).ranges[e] = (lo, lo);
                    }
                    txg.state.open[ci] = Some((slot, tick));
                    let id = self.arena.alloc(
                        Envelope::Txs {
                            conn: c,
                            batch: slot,
                        },
                        1,
                    );
                    self.queue.push(at, Event::Deliver { to: peer, msg: id });
                    slot
                }
            };
            for e in 0..entries {
                let hi = txg.state.known(v, e);
                let range = &mut txg.state.batch_mut(slot).ranges[e];
                range.1 = range.1.max(hi);
                txg.state.mark_sent(c, e, hi);
            }
            txg.state.batch_mut(slot).txs += txs as u32;
            txg.state.sent_txs += txs;
            self.nodes[usize::from(v)].bytes_out += bytes;
        }
    }

    /// A batch of transactions arrived at `to` on connection `conn`: the cache answers for the
    /// copies `to` holds, CheckTx runs on the new ones, which `to` then sends on.
    pub(super) fn txg_deliver(&mut self, to: ValidatorIndex, conn: u32, slot: u32, t: SimTime) {
        let front = self.mempool.front_seq();
        let Some(txg) = &mut self.txg else { return };
        if txg.state.open[conn as usize].is_some_and(|(s, _)| s == slot) {
            txg.state.open[conn as usize] = None;
        }
        let entries = txg.state.entries();
        let batch_txs = u64::from(txg.state.batch(slot).txs);
        self.nodes[usize::from(to)].bytes_in += batch_txs * u64::from(txg.wire_bytes);
        let mut new = 0u64;
        let mut extends = false;
        for e in 0..entries {
            let (_, hi) = txg.state.batch(slot).ranges[e];
            let held = txg.state.known(to, e);
            if hi > held {
                extends = true;
                new += uncommitted(held, hi, e, entries, front);
            }
        }
        txg.state.duplicates += batch_txs.saturating_sub(new);
        if !extends || self.nodes[usize::from(to)].is_silent() {
            txg.state.release(slot);
            return;
        }
        let done = self.txg_check(to, new, t);
        let Some(txg) = &mut self.txg else { return };
        for e in 0..entries {
            let (_, hi) = txg.state.batch(slot).ranges[e];
            txg.state.admit(to, e, hi, t, done);
        }
        txg.state.release(slot);
        self.txg_forward(to, Some(conn), done);
    }

    /// A consensus message of `bytes` went out on connection `c` from `sent`: it has priority
    /// over transactions still waiting to be written there.
    pub(super) fn txg_preempt(&mut self, c: u32, sent: SimTime, bytes: u32) {
        let (Some(txg), Some(p2p)) = (&mut self.txg, &self.p2p) else {
            return;
        };
        let lane = &mut txg.state.lane_free[c as usize];
        if *lane > sent {
            let ns = ceil_nanos(f64::from(bytes) * p2p.params.send_ns_per_byte);
            *lane = lane.plus_nanos(ns);
        }
    }

    /// Bytes on the wire of the transaction batch in `slot`.
    pub(super) fn txg_batch_bytes(&self, slot: u32) -> u32 {
        self.txg.as_ref().map_or(0, |txg| {
            txg.state.batch(slot).txs.saturating_mul(txg.wire_bytes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run `edges` (validators `0..n`, transactions into node 0 at 100 tx/s for 10 s, 5 ms
    /// links, no costs) and return the simulation after the run.
    fn run(n: usize, edges: &str) -> Simulation {
        let yaml = format!(
            r#"
name: tx_gossip
duration: 10s
validators: {{ count: {n} }}
network:
  gossip: cometbft
  topology: explicit
  edges: {edges}
  latency: {{ distribution: constant, mean: 5ms }}
load: {{ transaction_rate: 100, entry_nodes: [0] }}
costs: none
"#
        );
        let scenario = crate::config::parse_scenario(&yaml, "test").expect("valid");
        let mut sim = Simulation::new(&scenario, 3).expect("builds");
        sim.start();
        while sim.step() {}
        sim
    }

    #[test]
    fn on_a_line_each_transaction_crosses_each_connection_once_and_never_back() {
        let sim = run(4, "[[0, 1], [1, 2], [2, 3]]");
        let accepted = sim.mempool.accepted();
        let g = &sim.txg.as_ref().unwrap().state;
        assert!(accepted > 900, "{accepted}");
        // Three connections away from the entry, none back towards it: 3 copies a
        // transaction, less those committed before the last hops forwarded them.
        assert!(g.sent_txs <= 3 * accepted, "{} vs {accepted}", g.sent_txs);
        assert!(
            g.sent_txs >= 3 * accepted - 60,
            "{} vs {accepted}",
            g.sent_txs
        );
        assert_eq!(g.duplicates, 0);
        // Every node holds (or has seen committed) nearly every transaction.
        assert!(
            g.known(3, 0) + 40 >= accepted,
            "{} of {accepted}",
            g.known(3, 0)
        );
    }

    #[test]
    fn in_a_triangle_each_relay_sends_a_copy_the_other_already_has() {
        let sim = run(3, "[[0, 1], [1, 2], [0, 2]]");
        let accepted = sim.mempool.accepted();
        let g = &sim.txg.as_ref().unwrap().state;
        // 0 → 1 and 0 → 2, then 1 → 2 and 2 → 1 (neither is the other's sender): four copies,
        // two of them duplicates; nothing goes back to the entry node.
        assert!(g.sent_txs <= 4 * accepted, "{} vs {accepted}", g.sent_txs);
        assert!(
            g.sent_txs >= 4 * accepted - 80,
            "{} vs {accepted}",
            g.sent_txs
        );
        assert!(
            g.duplicates + 40 >= 2 * accepted && g.duplicates <= 2 * accepted,
            "{} duplicates of {accepted}",
            g.duplicates
        );
        // The bytes a node sends include one `Txs` message per copy.
        let wire = u64::from(tx_wire_bytes(250));
        let out1 = sim.nodes[1].bytes_out;
        assert!(out1 >= (accepted - 40) * wire, "{out1}");
    }
}

#[cfg(test)]
mod qa_testnet {
    use super::*;

    /// CometBFT's v0.38 QA testnet for 30 s: every node forwards each transaction to all its
    /// peers but the one that sent it, so a transaction crosses Σ (degree − 1) + 1 connections
    /// (the entry node sends to all of its peers), and each node but the entry receives it
    /// once new and (degree − 1) times as a duplicate on average. Heavy: run with --ignored.
    #[test]
    #[ignore]
    fn on_the_qa_testnet_each_transaction_crosses_nearly_every_connection() {
        let mut scenario = crate::bench::calibration::v038_scenario().expect("embedded");
        scenario.duration = Duration::from_secs(30);
        let mut sim = Simulation::new(&scenario, 1).expect("builds");
        sim.start();
        while sim.step() {}
        let p2p = sim.p2p.as_ref().unwrap();
        let g = &sim.txg.as_ref().unwrap().state;
        let nodes = p2p.graph.len() as u64;
        let conns = p2p.graph.connections() as u64;
        // Σ (deg − 1) over the relays plus deg of the entry = conns − (nodes − 1).
        let copies = conns - (nodes - 1);
        let accepted = sim.mempool.accepted();
        let per_tx = g.sent_txs as f64 / accepted as f64;
        let dup_per_tx = g.duplicates as f64 / accepted as f64;
        eprintln!(
            "{accepted} txs, {per_tx:.1} copies a tx of {copies} possible, {dup_per_tx:.1} duplicates, {} conns",
            conns
        );
        // The transactions of the last second are still spreading, and some are committed
        // before every relay forwarded them.
        assert!(
            per_tx <= copies as f64 && per_tx > 0.95 * copies as f64,
            "{per_tx}"
        );
        assert!(
            (per_tx - dup_per_tx - (nodes - 1) as f64).abs() < 0.05 * nodes as f64,
            "new copies {} vs {} nodes",
            per_tx - dup_per_tx,
            nodes - 1
        );
    }
}
