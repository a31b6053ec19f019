//! Seeded random streams. One master seed; every subsystem draws from its own ChaCha stream, so
//! adding a validator or a Byzantine behaviour does not reshuffle the network's draws.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random stream of one subsystem, derived from the master seed.
pub type SimRng = ChaCha8Rng;

/// Named streams. The numbers are part of the determinism contract: never renumber them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Link latencies and losses.
    Network,
    /// Transaction arrivals.
    Workload,
    /// Which validators are Byzantine.
    ByzantineSelection,
    /// Random-regular topology construction.
    Topology,
    /// The private stream of Byzantine validator `i`.
    Byzantine(u16),
    /// CometBFT's peer graph: who dials whom, and which nodes take client transactions.
    Peers,
    /// The gossip layer's draws: block-part order, gossip routine phases, flush timers.
    Gossip,
}

impl Stream {
    fn id(self) -> u64 {
        match self {
            Stream::Network => 1,
            Stream::Workload => 2,
            Stream::ByzantineSelection => 3,
            Stream::Topology => 4,
            Stream::Byzantine(i) => 1_000 + u64::from(i),
            Stream::Peers => 5,
            Stream::Gossip => 6,
        }
    }
}

/// The ChaCha stream `stream` of master seed `seed`.
pub fn stream(seed: u64, stream: Stream) -> SimRng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream.id());
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, Stream::Network), |r, _| Some(r.random()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, Stream::Network), |r, _| Some(r.random()))
            .collect();
        let c: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, Stream::Workload), |r, _| Some(r.random()))
            .collect();
        let d: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(8, Stream::Network), |r, _| Some(r.random()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
