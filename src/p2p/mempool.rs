//! The mempool reactor's traffic (CometBFT v0.38 `mempool/reactor.go`): every transaction a
//! node admits is sent to every peer that did not send it to that node, one `Txs` message per
//! transaction (`broadcastTxRoutine`), on the connection's mempool channel; a copy that arrives
//! where the transaction already is costs its bytes and a cache lookup (`CheckTx` answers
//! `ErrTxInCache`, clist_mempool.go) and nothing more.
//!
//! What a node holds is kept as a prefix per entry node: clients submit to the entry nodes in
//! arrival order, each connection is FIFO, and a node forwards to each peer everything it
//! admitted except what that peer sent it (which the peer holds), so by induction every node
//! holds the first `k` transactions of each entry node's stream. A batch on a connection is
//! therefore one range per entry node, and a node's mempool is `k` per entry node: no
//! per-transaction state, no per-transaction event. The transactions one connection carries
//! between two flushes of its buffered writer (`flush_throttle_timeout`) travel as one batch,
//! one delivery event.
//!
//! Channel priorities (p2p/conn/connection.go `sendPacketMsg`): the send routine writes the
//! next packet from the channel whose `recentlySent / priority` is least (the mempool channel
//! has priority 5, the consensus DataChannel 10, VoteChannel 7, StateChannel 6;
//! `recentlySent` decays by 0.8 every 2 s). Under a transaction load the mempool channel's
//! recent bytes are many times the consensus channels' (400 tx/s of 1 KiB is about 420 KB/s on
//! every connection, a block's parts a few tens of KB/s a connection), so its ratio is the
//! larger and consensus packets go first: the model gives consensus traffic strict priority,
//! and transactions the connection's remaining send rate.

use crate::sim::SimTime;

/// CometBFT's `defaultMaxPacketMsgPayloadSize` (p2p/conn/connection.go): a message travels in
/// packets of at most this many bytes of payload.
pub const MAX_PACKET_MSG_PAYLOAD_BYTES: u32 = 1_024;

/// Bytes a packet adds to its payload: the uvarint length delimiter (2), the `Packet` oneof
/// field's tag and length (3), `channel_id` (2), `eof` (2) and the `data` field's tag and
/// length (3) of `tendermint.p2p.PacketMsg` (proto/tendermint/p2p/conn.proto).
pub const PACKET_OVERHEAD_BYTES: u32 = 12;

/// Bytes of a protobuf varint holding `n`.
fn varint_len(n: u32) -> u32 {
    let bits = 32 - n.max(1).leading_zeros();
    bits.div_ceil(7)
}

/// Bytes on the wire of one transaction of `tx_size` bytes as the mempool reactor sends it: a
/// `tendermint.mempool.Message` holding `Txs { txs: [tx] }`, cut into packets.
pub fn tx_wire_bytes(tx_size: u32) -> u32 {
    let txs = 1 + varint_len(tx_size) + tx_size; // `txs` field: tag, length, bytes
    let message = 1 + varint_len(txs) + txs; // the `Txs` field of the Message oneof
    let packets = message.div_ceil(MAX_PACKET_MSG_PAYLOAD_BYTES).max(1);
    message + packets * PACKET_OVERHEAD_BYTES
}

/// Transactions one connection carries in one flush: per entry node `e`, the transactions
/// `ranges[e].0 .. ranges[e].1` of its stream (the receiver holds those below the range);
/// `txs` of them are on the wire (the rest were committed before they were sent).
#[derive(Clone, Debug, Default)]
pub struct TxBatch {
    /// Per entry node: the stream indices the batch covers.
    pub ranges: Vec<(u64, u64)>,
    /// Transactions on the wire.
    pub txs: u32,
}

/// Which transactions every node holds and what every connection has sent.
#[derive(Debug)]
pub struct TxGossip {
    entries: usize,
    /// `known[v * E + e]`: node `v` holds the first `known` transactions of entry `e`'s stream.
    known: Vec<u64>,
    /// `before[v * E + e]`: what it held before its latest admission, which becomes usable
    /// (CheckTx done) at `ready_at[v]`.
    before: Vec<u64>,
    ready_at: Vec<SimTime>,
    /// `sent[c * E + e]`: the stream index up to which connection `c`'s sender has written
    /// entry `e`'s transactions (or skipped them: its peer sent them).
    sent: Vec<u64>,
    /// Per connection: when its mempool channel's last byte passed the send limiter.
    pub lane_free: Vec<SimTime>,
    /// Per connection: the batch still filling (its slot and the flush tick it goes out at).
    pub open: Vec<Option<(u32, SimTime)>>,
    /// Per connection: the latest arrival scheduled (TCP order).
    pub last_arrival: Vec<SimTime>,
    slots: Vec<TxBatch>,
    free: Vec<u32>,
    /// Transactions that crossed a connection.
    pub sent_txs: u64,
    /// Copies that reached a node already holding them.
    pub duplicates: u64,
}

impl TxGossip {
    /// The state of `nodes` nodes with `conns` directed connections and `entries` entry nodes.
    pub fn new(nodes: usize, conns: usize, entries: usize) -> TxGossip {
        let e = entries.max(1);
        TxGossip {
            entries: e,
            known: vec![0; nodes * e],
            before: vec![0; nodes * e],
            ready_at: vec![SimTime::ZERO; nodes],
            sent: vec![0; conns * e],
            lane_free: vec![SimTime::ZERO; conns],
            open: vec![None; conns],
            last_arrival: vec![SimTime::ZERO; conns],
            slots: Vec::new(),
            free: Vec::new(),
            sent_txs: 0,
            duplicates: 0,
        }
    }

    /// Number of entry nodes (streams).
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// How many transactions of entry `e`'s stream node `v` holds now (admitted or in CheckTx).
    pub fn known(&self, v: u16, e: usize) -> u64 {
        self.known[usize::from(v) * self.entries + e]
    }

    /// How many transactions of entry `e`'s stream node `v` can reap at `t` (CheckTx done).
    pub fn usable(&self, v: u16, e: usize, t: SimTime) -> u64 {
        let i = usize::from(v) * self.entries + e;
        if t >= self.ready_at[usize::from(v)] {
            self.known[i]
        } else {
            self.before[i]
        }
    }

    /// Node `v` admits entry `e`'s stream up to `hi`, usable from `ready`. Several admissions
    /// before `ready` keep the oldest usable state (conservative by at most one CheckTx run).
    pub fn admit(&mut self, v: u16, e: usize, hi: u64, now: SimTime, ready: SimTime) {
        let vi = usize::from(v);
        let i = vi * self.entries + e;
        if hi <= self.known[i] {
            return;
        }
        if now >= self.ready_at[vi] {
            let row = vi * self.entries..(vi + 1) * self.entries;
            let (before, known) = (&mut self.before[row.clone()], &self.known[row]);
            before.copy_from_slice(known);
        }
        self.known[i] = hi;
        self.ready_at[vi] = self.ready_at[vi].max(ready);
    }

    /// Where connection `c` has written entry `e`'s stream to.
    pub fn sent(&self, c: u32, e: usize) -> u64 {
        self.sent[c as usize * self.entries + e]
    }

    /// Connection `c` has written (or skipped) entry `e`'s stream up to `hi`.
    pub fn mark_sent(&mut self, c: u32, e: usize, hi: u64) {
        let s = &mut self.sent[c as usize * self.entries + e];
        *s = (*s).max(hi);
    }

    /// A new empty batch.
    pub fn new_batch(&mut self) -> u32 {
        let entries = self.entries;
        match self.free.pop() {
            Some(id) => {
                let b = &mut self.slots[id as usize];
                b.ranges.clear();
                b.ranges.resize(entries, (0, 0));
                b.txs = 0;
                id
            }
            None => {
                self.slots.push(TxBatch {
                    ranges: vec![(0, 0); entries],
                    txs: 0,
                });
                self.slots.len() as u32 - 1
            }
        }
    }

    /// The batch in slot `id`.
    pub fn batch(&self, id: u32) -> &TxBatch {
        &self.slots[id as usize]
    }

    /// The batch in slot `id`, to fill.
    pub fn batch_mut(&mut self, id: u32) -> &mut TxBatch {
        &mut self.slots[id as usize]
    }

    /// Return slot `id` once its batch was delivered.
    pub fn release(&mut self, id: u32) {
        self.free.push(id);
    }
}

/// Stream indices `lo..hi` of entry `e` (global sequence numbers `e + E · i`) that are at or
/// after global sequence `front` (not yet committed).
pub fn uncommitted(lo: u64, hi: u64, e: usize, entries: usize, front: u64) -> u64 {
    let (e, n) = (e as u64, entries.max(1) as u64);
    // First stream index whose sequence number e + n·i is >= front.
    let first = front.saturating_sub(e).div_ceil(n);
    hi.saturating_sub(lo.max(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_kib_transaction_takes_two_packets() {
        // 1024 + 3 (txs field) + 3 (Txs field) = 1030 bytes of message: two packets.
        assert_eq!(tx_wire_bytes(1024), 1030 + 2 * PACKET_OVERHEAD_BYTES);
        // 250 bytes: 250 + 3 + 3 = 256, one packet.
        assert_eq!(tx_wire_bytes(250), 256 + PACKET_OVERHEAD_BYTES);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
    }

    #[test]
    fn committed_transactions_are_not_counted() {
        // One entry: indices are sequence numbers.
        assert_eq!(uncommitted(0, 100, 0, 1, 40), 60);
        assert_eq!(uncommitted(50, 100, 0, 1, 40), 50);
        // Two entries: entry 1 holds sequences 1, 3, 5, …; front 6 leaves indices 3.. (7, 9, …).
        assert_eq!(uncommitted(0, 10, 1, 2, 6), 7);
        assert_eq!(uncommitted(0, 10, 0, 2, 6), 7);
        assert_eq!(uncommitted(0, 2, 0, 2, 6), 0);
    }

    #[test]
    fn a_node_reaps_only_what_checktx_has_admitted() {
        let mut g = TxGossip::new(2, 2, 1);
        g.admit(1, 0, 40, SimTime(10), SimTime(20));
        assert_eq!(g.known(1, 0), 40);
        assert_eq!(g.usable(1, 0, SimTime(15)), 0, "CheckTx still running");
        assert_eq!(g.usable(1, 0, SimTime(20)), 40);
        g.admit(1, 0, 30, SimTime(25), SimTime(30));
        assert_eq!(g.known(1, 0), 40, "a shorter prefix changes nothing");
        g.admit(1, 0, 90, SimTime(25), SimTime(35));
        assert_eq!(g.usable(1, 0, SimTime(30)), 40);
        assert_eq!(g.usable(1, 0, SimTime(35)), 90);
    }
}
