//! The simulated network: a petgraph topology with per-link latency, bandwidth, loss, FIFO
//! order, partitions that open and heal, and gossip resends.
//!
//! A message from `src` to `dst` takes the fewest-hop path over the links no active partition
//! cuts (with one latency distribution on every link, that is the lowest-latency path; with
//! `regions`, ties go to the lower-numbered neighbour). Its delay is one latency sample per hop
//! (per pair of regions with `regions`) plus, per hop, the serialisation time of its bytes.
//! A transmission blocked by a partition or lost (probability `1 - (1 - loss)^hops`) is sent
//! again one gossip interval later, until it gets through.

mod latency;
pub mod regions;
mod routing;
mod topology;

pub use latency::LinkLatency;
pub(crate) use latency::ceil_nanos;
pub use regions::{RegionDelays, RegionMatrix};

use crate::config::{NetworkSpec, Topology};
use crate::sim::{SimRng, SimTime};
use rand::Rng;
use routing::Routing;
use std::time::Duration;

/// Lost transmissions of one message before it is given up as undeliverable (only a loss rate
/// near 1 on a long path gets here; time blocked by a partition does not count).
pub const MAX_LOSSES: u32 = 100_000;

/// Why a network spec cannot be built (beyond what scenario validation already refused).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("network: {0}")]
pub struct NetError(pub String);

/// When and how a message reaches one destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Arrival time at the destination.
    pub at: SimTime,
    /// Transmissions it took (1 when nothing was lost or blocked; resends add one each).
    pub attempts: u32,
}

/// How long one hop takes.
#[derive(Debug)]
enum HopDelays {
    /// The same distribution on every link.
    Link(LinkLatency),
    /// Per pair of nodes, from the regions they are placed in.
    Regions(RegionDelays),
}

/// The network between `n` nodes (validators, then full nodes).
#[derive(Debug)]
pub struct Network {
    n: usize,
    edges: Vec<(u16, u16)>,
    delays: HopDelays,
    mean_latency_ns: u64,
    routing: Routing,
    /// Serialisation time per byte in nanoseconds; `None` is unlimited bandwidth.
    nanos_per_byte: Option<f64>,
    loss: f64,
    gossip_interval_ns: u64,
    /// When each sender's uplink is next idle.
    uplink_free_at: Vec<SimTime>,
    /// Latest arrival per ordered pair, `src * n + dst` (FIFO order).
    last_arrival: Vec<SimTime>,
    /// Every transmission is one hop of the link distribution, neither lost, blocked nor
    /// serialised (a full mesh with unlimited bandwidth, no loss, no partitions, no regions):
    /// [`Network::send`] then draws one latency and nothing else.
    one_hop: bool,
}

impl Network {
    /// Build the topology of `n` nodes (random_regular draws from `topology_rng`), place them in
    /// their regions (`random` placement draws from `topology_rng` next) and route every
    /// partition epoch.
    pub fn new(
        spec: &NetworkSpec,
        n: usize,
        topology_rng: &mut SimRng,
    ) -> Result<Network, NetError> {
        if n > usize::from(u16::MAX) + 1 {
            return Err(NetError(format!(
                "{n} validators is more than the {} a u16 index can name",
                usize::from(u16::MAX) + 1
            )));
        }
        if !(0.0..=1.0).contains(&spec.loss) {
            return Err(NetError(format!(
                "loss {} must be a probability in [0, 1]",
                spec.loss
            )));
        }
        let nanos_per_byte = match spec.bandwidth_mbps {
            None => None,
            Some(mbps) if mbps.is_finite() && mbps > 0.0 => Some(8_000.0 / mbps),
            Some(mbps) => {
                return Err(NetError(format!(
                    "bandwidth_mbps {mbps} must be a positive number (omit it for unlimited)"
                )));
            }
        };
        let edges = topology::build_edges(spec, n, topology_rng)?;
        let delays = match &spec.regions {
            None => HopDelays::Link(LinkLatency::new(&spec.latency)?),
            Some(regions) => HopDelays::Regions(RegionDelays::new(
                regions,
                spec.region_jitter.unwrap_or(regions::DEFAULT_JITTER),
                n,
                topology_rng,
            )?),
        };
        let adjacency = topology::adjacency(n, &edges);
        let full_mesh = spec.topology == Topology::FullMesh;
        let routing = Routing::new(
            n,
            &adjacency,
            full_mesh,
            &spec.partitions,
            // Region hops differ by pair: a multi-hop path needs its nodes, not only its length.
            spec.regions.is_some() && !full_mesh,
        )?;
        let one_hop = nanos_per_byte.is_none()
            && spec.loss == 0.0
            && matches!(delays, HopDelays::Link(_))
            && routing.always_one_hop(n);
        Ok(Network {
            n,
            edges,
            delays,
            mean_latency_ns: SimTime::from_duration(spec.latency.mean()).as_nanos(),
            routing,
            nanos_per_byte,
            loss: spec.loss,
            gossip_interval_ns: SimTime::from_duration(spec.gossip_interval).as_nanos(),
            uplink_free_at: vec![SimTime::ZERO; n],
            last_arrival: vec![SimTime::ZERO; n * n],
            one_hop,
        })
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when there are no validators.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Send `size` bytes from `src` to `dst` at `now`: when it arrives, or `None` when no path
    /// will ever exist again. Draws latency and loss from `rng`; keeps per-link FIFO order and
    /// the sender's uplink busy for the serialisation time.
    ///
    /// The uplink is occupied once per message, from `max(now, uplink free)`; resends after a
    /// loss or a partition are gossip and do not queue again. Random draws, in order: one
    /// uniform per attempt that has a path (when `loss > 0`), then one latency per hop of the
    /// attempt that gets through.
    ///
    /// Inlined into its callers (a broadcast sends to every validator in a loop): the checks and
    /// the one-hop path of a full mesh without bandwidth or loss are a few instructions, where
    /// the call was as many again; the general path is `Network::send_by_paths`.
    #[inline(always)]
    pub fn send(
        &mut self,
        src: u16,
        dst: u16,
        size: u32,
        now: SimTime,
        rng: &mut SimRng,
    ) -> Option<Delivery> {
        let (s, d) = (usize::from(src), usize::from(dst));
        if s >= self.n || d >= self.n {
            return None;
        }
        if s == d {
            return Some(Delivery {
                at: now,
                attempts: 1,
            });
        }
        if self.loss >= 1.0 {
            return None;
        }
        let link = s * self.n + d;
        if self.one_hop
            && let HopDelays::Link(latency) = &mut self.delays
        {
            // What the general path below computes here: no serialisation, the first attempt
            // gets through, one hop.
            let at = now
                .plus_nanos(latency.sample(rng))
                .max(self.last_arrival[link]);
            self.last_arrival[link] = at;
            return Some(Delivery { at, attempts: 1 });
        }
        self.send_by_paths(s, d, size, now, rng)
    }

    /// [`Network::send`] from `s` to `d` (distinct nodes of the network) but for the one-hop
    /// path: serialisation on the uplink, attempts through loss and partitions, the hops of the
    /// attempt that gets through.
    #[inline(never)]
    fn send_by_paths(
        &mut self,
        s: usize,
        d: usize,
        size: u32,
        now: SimTime,
        rng: &mut SimRng,
    ) -> Option<Delivery> {
        // Recomputed rather than passed in: one more argument cost the inlined fast path in
        // `send` 0.5 % more instructions at 100 validators (callgrind).
        let link = s * self.n + d;
        let serialisation = self.serialisation_nanos(size);
        let start = if self.nanos_per_byte.is_some() {
            let start = now.max(self.uplink_free_at[s]);
            self.uplink_free_at[s] = start.plus_nanos(serialisation);
            start
        } else {
            now
        };
        let (sent, hops, attempts) = self.first_successful_attempt(link, start, rng)?;
        let travel = serialisation
            .saturating_mul(u64::from(hops))
            .saturating_add(self.path_latency(s, d, hops, sent, rng));
        let at = sent.plus_nanos(travel).max(self.last_arrival[link]);
        self.last_arrival[link] = at;
        Some(Delivery { at, attempts })
    }

    /// One latency sample for a direct connection from node `a` to node `b` (one hop, whatever
    /// the topology): the link distribution, or the pair's region latency. Nanoseconds; 0 from
    /// a node to itself or for a node that does not exist.
    #[inline]
    pub fn hop_latency_ns(&mut self, a: u16, b: u16, rng: &mut SimRng) -> u64 {
        let (a, b) = (usize::from(a), usize::from(b));
        if a == b || a >= self.n || b >= self.n {
            return 0;
        }
        match &mut self.delays {
            HopDelays::Link(latency) => latency.sample(rng),
            HopDelays::Regions(regions) => regions.sample(a, b, rng),
        }
    }

    /// The cloud region node `v` is in, when the network has regions.
    pub fn region_of(&self, v: u16) -> Option<&'static str> {
        match &self.delays {
            HopDelays::Link(_) => None,
            HopDelays::Regions(regions) => regions.region_of(usize::from(v)),
        }
    }

    /// Mean one-way latency of a direct connection from `src` to `dst`, nanoseconds.
    pub fn mean_hop_latency_ns(&self, src: u16, dst: u16) -> u64 {
        match &self.delays {
            HopDelays::Link(_) => self.mean_latency_ns,
            HopDelays::Regions(regions) => regions
                .mean_nanos(usize::from(src), usize::from(dst))
                .round() as u64,
        }
    }

    /// Probability that one transmission is lost.
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// The first time after `t` at which the set of active partitions changes, if any.
    pub fn next_change_after(&self, t: SimTime) -> Option<SimTime> {
        let end = self.routing.end_of(self.routing.epoch_at(t));
        (end != u64::MAX).then_some(SimTime(end))
    }

    /// The gossip resend interval, nanoseconds.
    pub fn gossip_interval_nanos(&self) -> u64 {
        self.gossip_interval_ns
    }

    /// True when links have a finite bandwidth (messages take time to serialise).
    pub fn limits_bandwidth(&self) -> bool {
        self.nanos_per_byte.is_some()
    }

    /// When validator `v`'s uplink is next idle.
    pub fn uplink_free_at(&self, v: u16) -> SimTime {
        self.uplink_free_at
            .get(usize::from(v))
            .copied()
            .unwrap_or(SimTime::ZERO)
    }

    /// Fewest hops from `src` to `dst` at time zero (`None` when unreachable or the same).
    pub fn hops(&self, src: u16, dst: u16) -> Option<u16> {
        self.hops_at(src, dst, SimTime::ZERO)
    }

    /// Fewest hops from `src` to `dst` at `t`, with the partitions active then. Inlined: the
    /// gossip layer asks it for every peer a transaction or a vote may go to (2.5 million
    /// times in 10 s of the QA-shaped bench).
    #[inline]
    pub fn hops_at(&self, src: u16, dst: u16, t: SimTime) -> Option<u16> {
        let link = self.link(src, dst)?;
        match self.routing.hops(self.routing.epoch_at(t), link) {
            0 => None,
            h => Some(h),
        }
    }

    /// Whether a message from `src` can reach `dst` at `t` (a validator always reaches itself).
    pub fn is_connected_at(&self, src: u16, dst: u16, t: SimTime) -> bool {
        (src == dst && usize::from(src) < self.n) || self.hops_at(src, dst, t).is_some()
    }

    /// Mean one-way latency from `src` to `dst` at time zero, without serialisation or loss.
    pub fn mean_latency(&self, src: u16, dst: u16) -> Option<Duration> {
        let hops = self.hops(src, dst)?;
        let nanos = match &self.delays {
            HopDelays::Link(_) => self.mean_latency_ns.saturating_mul(u64::from(hops)),
            HopDelays::Regions(regions) => {
                let (s, d) = (usize::from(src), usize::from(dst));
                let mut total = 0.0;
                let mut at = s;
                for _ in 0..hops {
                    let next = self.next_on_path(0, at, d, hops);
                    total += regions.mean_nanos(at, next);
                    at = next;
                }
                total.round() as u64
            }
        };
        Some(Duration::from_nanos(nanos))
    }

    /// The smallest delay any message between two nodes can have: one hop at the
    /// distribution's floor (a lower bound for the optimizer).
    pub fn min_latency(&self) -> Duration {
        Duration::from_nanos(match &self.delays {
            HopDelays::Link(latency) => latency.min_nanos(),
            HopDelays::Regions(regions) => regions.min_nanos(),
        })
    }

    /// Time to put `size` bytes on one link (zero with unlimited bandwidth).
    pub fn serialisation_delay(&self, size: u32) -> Duration {
        Duration::from_nanos(self.serialisation_nanos(size))
    }

    /// The links, each once as `(low, high)`, sorted.
    pub fn edges(&self) -> &[(u16, u16)] {
        &self.edges
    }

    /// The first attempt from `start` on that is neither blocked nor lost: its time, its hop
    /// count and how many attempts it took; `None` when none ever will be.
    fn first_successful_attempt(
        &self,
        link: usize,
        start: SimTime,
        rng: &mut SimRng,
    ) -> Option<(SimTime, u16, u32)> {
        let interval = self.gossip_interval_ns;
        let mut t = start.as_nanos();
        let mut attempts = 1u32;
        let mut losses = 0u32;
        let mut epoch = self.routing.epoch_at(start);
        loop {
            let hops = self.routing.hops(epoch, link);
            if hops == 0 {
                // Blocked: jump to the first resend at or after the next epoch with a path.
                let open = self.routing.next_connected(epoch, link)?;
                let resends = if interval == 0 {
                    t = open;
                    1
                } else {
                    let k = open.saturating_sub(t).div_ceil(interval);
                    t = t.saturating_add(k.saturating_mul(interval));
                    k
                };
                attempts = attempts.saturating_add(u32::try_from(resends).unwrap_or(u32::MAX));
                epoch = self.routing.epoch_at(SimTime(t));
                continue;
            }
            if self.loss == 0.0 || rng.random::<f64>() < (1.0 - self.loss).powi(i32::from(hops)) {
                return Some((SimTime(t), hops, attempts));
            }
            losses += 1;
            if losses >= MAX_LOSSES {
                return None;
            }
            attempts = attempts.saturating_add(1);
            t = t.saturating_add(interval);
            if t >= self.routing.end_of(epoch) {
                epoch = self.routing.epoch_at(SimTime(t));
            }
        }
    }

    /// Latency of the `hops` hops from `s` to `d` of a transmission sent at `sent`: one draw
    /// per hop, from the link distribution or from each hop's pair of regions.
    #[inline]
    fn path_latency(
        &mut self,
        s: usize,
        d: usize,
        hops: u16,
        sent: SimTime,
        rng: &mut SimRng,
    ) -> u64 {
        let epoch = match &self.delays {
            HopDelays::Regions(_) if hops > 1 => self.routing.epoch_at(sent),
            _ => 0,
        };
        let mut travel = 0u64;
        let mut at = s;
        for _ in 0..hops {
            let delay = match &mut self.delays {
                HopDelays::Link(latency) => latency.sample(rng),
                HopDelays::Regions(regions) => {
                    let next = if hops == 1 {
                        d
                    } else {
                        usize::from(self.routing.next_hop(epoch, at * self.n + d))
                    };
                    let delay = regions.sample(at, next, rng);
                    at = next;
                    delay
                }
            };
            travel = travel.saturating_add(delay);
        }
        travel
    }

    /// The node after `at` on the path to `d` in `epoch` (`d` itself for a one-hop path).
    fn next_on_path(&self, epoch: usize, at: usize, d: usize, hops: u16) -> usize {
        if hops == 1 {
            d
        } else {
            usize::from(self.routing.next_hop(epoch, at * self.n + d))
        }
    }

    #[inline]
    fn serialisation_nanos(&self, size: u32) -> u64 {
        match self.nanos_per_byte {
            None => 0,
            // `as` saturates; the product is finite and non-negative.
            Some(per_byte) => latency::round_nanos(f64::from(size) * per_byte),
        }
    }

    #[inline]
    fn link(&self, src: u16, dst: u16) -> Option<usize> {
        let (s, d) = (usize::from(src), usize::from(dst));
        (s < self.n && d < self.n && s != d).then_some(s * self.n + d)
    }
}

#[cfg(test)]
mod tests;
