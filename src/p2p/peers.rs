//! The peer graph as CometBFT's switch builds it: each node dials `max_num_outbound_peers`
//! peers it learned of (PEX) and accepts at most `max_num_inbound_peers` dials, so a 200-node
//! network ends up with about 20 peers per node (p2p/switch.go, p2p/pex/pex_reactor.go).
//!
//! Connections are directed halves of one TCP connection: `conn` ids run node by node, so the
//! connections of node `a` are `offsets[a]..offsets[a + 1]`, to `peers[a][k]` in order.

use crate::sim::SimRng;
use rand::seq::SliceRandom;

/// Who is connected to whom, with an id per directed connection.
#[derive(Debug)]
pub struct PeerGraph {
    /// Peers of each node, ascending.
    peers: Vec<Vec<u16>>,
    /// First connection id of each node (one more entry at the end).
    offsets: Vec<u32>,
    /// The node each connection reaches.
    target: Vec<u16>,
    /// The node each connection leaves from.
    source: Vec<u16>,
    /// The id of the opposite direction of each connection.
    reverse: Vec<u32>,
}

impl PeerGraph {
    /// CometBFT's dialing: nodes, in an order drawn from `rng`, dial peers drawn from `rng`
    /// until they have `max_outbound` outbound peers; a node accepts a dial while it has fewer
    /// than `max_inbound` inbound peers.
    pub fn dial(n: usize, max_outbound: u32, max_inbound: u32, rng: &mut SimRng) -> PeerGraph {
        let mut order: Vec<u16> = (0..n as u16).collect();
        order.shuffle(rng);
        let mut inbound = vec![0u32; n];
        let mut edges: Vec<(u16, u16)> = Vec::new();
        let mut connected = vec![Vec::<u16>::new(); n];
        let mut candidates: Vec<u16> = (0..n as u16).collect();
        for &a in &order {
            candidates.shuffle(rng);
            let mut outbound = 0;
            for &b in &candidates {
                if outbound >= max_outbound {
                    break;
                }
                let (ua, ub) = (usize::from(a), usize::from(b));
                if a == b || inbound[ub] >= max_inbound || connected[ua].contains(&b) {
                    continue;
                }
                inbound[ub] += 1;
                outbound += 1;
                connected[ua].push(b);
                connected[ub].push(a);
                edges.push((a, b));
            }
        }
        PeerGraph::from_edges(n, &edges)
    }

    /// The graph of the given undirected `edges` (persistent peers, or a fixed topology).
    pub fn from_edges(n: usize, edges: &[(u16, u16)]) -> PeerGraph {
        let mut peers = vec![Vec::<u16>::new(); n];
        for &(a, b) in edges {
            if a != b && usize::from(a) < n && usize::from(b) < n {
                peers[usize::from(a)].push(b);
                peers[usize::from(b)].push(a);
            }
        }
        for p in &mut peers {
            p.sort_unstable();
            p.dedup();
        }
        let mut offsets = Vec::with_capacity(n + 1);
        let mut target = Vec::new();
        let mut source = Vec::new();
        offsets.push(0u32);
        for (a, p) in peers.iter().enumerate() {
            target.extend_from_slice(p);
            source.extend(std::iter::repeat_n(a as u16, p.len()));
            offsets.push(target.len() as u32);
        }
        let mut graph = PeerGraph {
            peers,
            offsets,
            target,
            source,
            reverse: Vec::new(),
        };
        graph.reverse = (0..graph.target.len() as u32)
            .map(|c| {
                let (a, b) = (graph.source[c as usize], graph.target[c as usize]);
                graph.conn(b, a).unwrap_or(c)
            })
            .collect();
        graph
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// True when there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Number of directed connections (twice the number of peerings).
    pub fn connections(&self) -> usize {
        self.target.len()
    }

    /// Peers of `node`, ascending.
    pub fn peers(&self, node: u16) -> &[u16] {
        &self.peers[usize::from(node)]
    }

    /// The connection ids of `node`, in the order of [`Self::peers`].
    pub fn conns(&self, node: u16) -> std::ops::Range<u32> {
        let a = usize::from(node);
        self.offsets[a]..self.offsets[a + 1]
    }

    /// The connection from `a` to `b`, if they are peers.
    pub fn conn(&self, a: u16, b: u16) -> Option<u32> {
        let k = self.peers[usize::from(a)].binary_search(&b).ok()?;
        Some(self.offsets[usize::from(a)] + k as u32)
    }

    /// The node connection `c` leaves from.
    pub fn source(&self, c: u32) -> u16 {
        self.source[c as usize]
    }

    /// The node connection `c` reaches.
    pub fn target(&self, c: u32) -> u16 {
        self.target[c as usize]
    }

    /// The opposite direction of connection `c`.
    pub fn reverse(&self, c: u32) -> u32 {
        self.reverse[c as usize]
    }

    /// The undirected peerings, each once as `(low, high)`, sorted.
    pub fn edges(&self) -> Vec<(u16, u16)> {
        let mut edges = Vec::new();
        for (a, p) in self.peers.iter().enumerate() {
            for &b in p {
                if (a as u16) < b {
                    edges.push((a as u16, b));
                }
            }
        }
        edges
    }

    /// Fewest hops from `src` to every node (`u32::MAX` when unreachable).
    pub fn hops_from(&self, src: u16) -> Vec<u32> {
        let mut hops = vec![u32::MAX; self.len()];
        let mut queue = std::collections::VecDeque::new();
        hops[usize::from(src)] = 0;
        queue.push_back(src);
        while let Some(u) = queue.pop_front() {
            let h = hops[usize::from(u)];
            for &v in self.peers(u) {
                if hops[usize::from(v)] == u32::MAX {
                    hops[usize::from(v)] = h + 1;
                    queue.push_back(v);
                }
            }
        }
        hops
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Stream, stream};

    #[test]
    fn dialing_gives_each_node_its_outbound_peers_within_the_inbound_cap() {
        let g = PeerGraph::dial(200, 10, 40, &mut stream(3, Stream::Peers));
        let mut degrees: Vec<usize> = (0..200u16).map(|a| g.peers(a).len()).collect();
        // Every node dialled 10 (there are always enough candidates) and accepted at most 40.
        assert!(
            degrees.iter().all(|&d| (10..=50).contains(&d)),
            "{degrees:?}"
        );
        assert_eq!(
            g.connections(),
            2 * 200 * 10,
            "10 outbound per node, each a peering"
        );
        degrees.sort_unstable();
        let mean = degrees.iter().sum::<usize>() as f64 / 200.0;
        assert!((mean - 20.0).abs() < 1e-9, "mean degree {mean}");
        // Connected: every node reaches every other in a few hops.
        let hops = g.hops_from(0);
        assert!(hops.iter().all(|&h| h <= 4), "{hops:?}");
    }

    #[test]
    fn connections_know_their_ends_and_their_reverse() {
        let g = PeerGraph::from_edges(4, &[(0, 1), (1, 2), (2, 3), (1, 0)]);
        assert_eq!(g.peers(1), &[0, 2]);
        let c = g.conn(1, 2).unwrap();
        assert_eq!((g.source(c), g.target(c)), (1, 2));
        let r = g.reverse(c);
        assert_eq!((g.source(r), g.target(r)), (2, 1));
        assert_eq!(g.conn(0, 3), None);
        assert_eq!(g.hops_from(0), vec![0, 1, 2, 3]);
        assert_eq!(g.edges(), vec![(0, 1), (1, 2), (2, 3)]);
    }
}
