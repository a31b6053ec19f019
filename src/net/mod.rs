//! The simulated network: a petgraph topology with per-link latency, bandwidth, loss, FIFO
//! order, partitions that open and heal, and gossip resends.
//!
//! A message from `src` to `dst` takes the fewest-hop path over the links no active partition
//! cuts (every link has the same latency distribution, so that is the lowest-latency path).
//! Its delay is one latency sample per hop plus, per hop, the serialisation time of its bytes.
//! A transmission blocked by a partition or lost (probability `1 - (1 - loss)^hops`) is sent
//! again one gossip interval later, until it gets through.

mod latency;
mod routing;
mod topology;

pub use latency::LinkLatency;

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

/// The network between `n` validators.
#[derive(Debug)]
pub struct Network {
    n: usize,
    edges: Vec<(u16, u16)>,
    latency: LinkLatency,
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
}

impl Network {
    /// Build the topology (random_regular draws from `topology_rng`) and the routing of every
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
        let latency = LinkLatency::new(&spec.latency)?;
        let edges = topology::build_edges(spec, n, topology_rng)?;
        let adjacency = topology::adjacency(n, &edges);
        let routing = Routing::new(
            n,
            &adjacency,
            spec.topology == Topology::FullMesh,
            &spec.partitions,
        )?;
        Ok(Network {
            n,
            edges,
            latency,
            mean_latency_ns: SimTime::from_duration(spec.latency.mean()).as_nanos(),
            routing,
            nanos_per_byte,
            loss: spec.loss,
            gossip_interval_ns: SimTime::from_duration(spec.gossip_interval).as_nanos(),
            uplink_free_at: vec![SimTime::ZERO; n],
            last_arrival: vec![SimTime::ZERO; n * n],
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
        let serialisation = self.serialisation_nanos(size);
        let start = if self.nanos_per_byte.is_some() {
            let start = now.max(self.uplink_free_at[s]);
            self.uplink_free_at[s] = start.plus_nanos(serialisation);
            start
        } else {
            now
        };
        let (sent, hops, attempts) = self.first_successful_attempt(link, start, rng)?;
        let mut travel = serialisation.saturating_mul(u64::from(hops));
        for _ in 0..hops {
            travel = travel.saturating_add(self.latency.sample(rng));
        }
        let at = sent.plus_nanos(travel).max(self.last_arrival[link]);
        self.last_arrival[link] = at;
        Some(Delivery { at, attempts })
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

    /// Fewest hops from `src` to `dst` at `t`, with the partitions active then.
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
        Some(Duration::from_nanos(
            self.mean_latency_ns.saturating_mul(u64::from(hops)),
        ))
    }

    /// The smallest delay any message between two validators can have: one hop at the
    /// distribution's floor (a lower bound for the optimizer).
    pub fn min_latency(&self) -> Duration {
        Duration::from_nanos(self.latency.min_nanos())
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

    #[inline]
    fn serialisation_nanos(&self, size: u32) -> u64 {
        match self.nanos_per_byte {
            None => 0,
            // `as` saturates; the product is finite and non-negative.
            Some(per_byte) => (f64::from(size) * per_byte).round() as u64,
        }
    }

    fn link(&self, src: u16, dst: u16) -> Option<usize> {
        let (s, d) = (usize::from(src), usize::from(dst));
        (s < self.n && d < self.n && s != d).then_some(s * self.n + d)
    }
}

#[cfg(test)]
mod tests;
