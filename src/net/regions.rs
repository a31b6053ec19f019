//! Cloud regions: an embedded matrix of measured median round-trip times between AWS regions
//! (cloudping.co, see `regions_p50.json`) and the placement of nodes in them. One hop between
//! two nodes takes half the median RTT of their regions, with a normal jitter.
//!
//! The matrix holds two measurements per pair (one from each end); they are averaged, so a hop
//! takes as long in both directions. A region's diagonal entry (the RTT between two machines
//! of the same region) is the latency of nodes placed together.

use super::NetError;
use super::latency::{Gaussian, round_nanos};
use crate::config::RegionsSpec;
use crate::sim::SimRng;
use rand::Rng;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Where the figures come from, in one line (the data file says more).
pub const SOURCE: &str = "cloudping.co median (p50) round-trip times between AWS regions over \
    one year, as embedded in commonwarexyz/monorepo examples/estimator/src/p50.json (July 2025)";

/// Jitter when `network.region_jitter` is not given: a standard deviation of 5% of the hop's
/// latency, as CometBFT's QA latency emulation sets with `netem delay L 0.05L distribution normal`.
pub const DEFAULT_JITTER: f64 = 0.05;

/// The measured matrix, as written in `regions_p50.json`.
const MATRIX_JSON: &str = include_str!("regions_p50.json");

/// The regions and their median round-trip times.
#[derive(Debug)]
pub struct RegionMatrix {
    /// Region names, sorted.
    names: Vec<String>,
    /// Median RTT in milliseconds between regions `a` and `b` at `a * len + b`, the mean of
    /// the two directions' measurements.
    rtt_ms: Vec<f64>,
}

/// `regions_p50.json`: its attribution and `data[from][to]` in milliseconds.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    #[allow(dead_code)]
    source: String,
    data: BTreeMap<String, BTreeMap<String, f64>>,
}

/// The embedded matrix, parsed on first use.
pub fn matrix() -> &'static RegionMatrix {
    static MATRIX: OnceLock<RegionMatrix> = OnceLock::new();
    MATRIX.get_or_init(|| {
        // The file is part of the source and a test parses it: it cannot be malformed here.
        RegionMatrix::parse(MATRIX_JSON).expect("the embedded region matrix is valid")
    })
}

impl RegionMatrix {
    /// Parse a matrix in the format of `regions_p50.json`; every pair must be measured.
    fn parse(text: &str) -> Result<RegionMatrix, String> {
        let raw: RawMatrix = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let names: Vec<String> = raw.data.keys().cloned().collect();
        let len = names.len();
        let measured = |a: &str, b: &str| -> Result<f64, String> {
            match raw.data.get(a).and_then(|row| row.get(b)) {
                Some(&ms) if ms.is_finite() && ms > 0.0 => Ok(ms),
                Some(ms) => Err(format!("{a} -> {b}: {ms} ms is not a round-trip time")),
                None => Err(format!("{a} -> {b} is not measured")),
            }
        };
        let mut rtt_ms = vec![0.0; len * len];
        for (i, a) in names.iter().enumerate() {
            for (j, b) in names.iter().enumerate() {
                rtt_ms[i * len + j] = (measured(a, b)? + measured(b, a)?) / 2.0;
            }
        }
        Ok(RegionMatrix { names, rtt_ms })
    }

    /// The region names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The index of region `name`, or `None` when the matrix does not have it.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.binary_search_by(|n| n.as_str().cmp(name)).ok()
    }

    /// Median round-trip time between regions `a` and `b` (indices), milliseconds.
    pub fn rtt_ms(&self, a: usize, b: usize) -> f64 {
        self.rtt_ms[a * self.names.len() + b]
    }

    /// Mean one-way latency of a hop between regions `a` and `b`: half the median RTT, in
    /// nanoseconds.
    pub fn one_way_nanos(&self, a: usize, b: usize) -> f64 {
        self.rtt_ms(a, b) * 1e6 / 2.0
    }

    /// The known regions as one comma-separated line, for error messages.
    pub fn known(&self) -> String {
        self.names.join(", ")
    }
}

/// The region (matrix index) of each of `nodes` nodes: validators first, then full nodes.
/// `random` draws one uniform index per node from `rng`, in node order; the other forms draw
/// nothing.
pub fn place(spec: &RegionsSpec, nodes: usize, rng: &mut SimRng) -> Result<Vec<u16>, NetError> {
    let m = matrix();
    let index = |name: &str| -> Result<u16, NetError> {
        m.index(name)
            .and_then(|i| u16::try_from(i).ok())
            .ok_or_else(|| {
                NetError(format!(
                    "unknown region `{name}`; the known regions are {}",
                    m.known()
                ))
            })
    };
    let placed: Vec<u16> = match spec {
        RegionsSpec::Counts(counts) => {
            let mut placed = Vec::with_capacity(nodes);
            for (name, count) in counts {
                let i = index(name)?;
                placed.extend(std::iter::repeat_n(i, *count as usize));
            }
            placed
        }
        RegionsSpec::PerNode(list) => list.iter().map(|r| index(r)).collect::<Result<_, _>>()?,
        RegionsSpec::Random(list) | RegionsSpec::RoundRobin(list) => {
            let choices: Vec<u16> = list.iter().map(|r| index(r)).collect::<Result<_, _>>()?;
            let len = u32::try_from(choices.len()).unwrap_or(u32::MAX);
            if len == 0 {
                return Err(NetError("regions: the list of regions is empty".into()));
            }
            if matches!(spec, RegionsSpec::Random(_)) {
                (0..nodes)
                    .map(|_| choices[rng.random_range(0..len) as usize])
                    .collect()
            } else {
                (0..nodes).map(|i| choices[i % choices.len()]).collect()
            }
        }
    };
    if placed.len() != nodes {
        return Err(NetError(format!(
            "regions place {} nodes but there are {nodes}",
            placed.len()
        )));
    }
    Ok(placed)
}

/// The mean one-way latency between the two farthest regions `spec` names (a hop's worst case
/// before jitter), or `None` when it names no known region.
pub fn farthest_one_way(spec: &RegionsSpec) -> Option<std::time::Duration> {
    let m = matrix();
    let used: Vec<usize> = spec.names().iter().filter_map(|r| m.index(r)).collect();
    used.iter()
        .flat_map(|&a| used.iter().map(move |&b| m.one_way_nanos(a, b)))
        .reduce(f64::max)
        .map(|ns| std::time::Duration::from_nanos(ns.round() as u64))
}

/// Hop latencies between nodes placed in regions: normal around half the regions' median RTT,
/// with a standard deviation of `jitter` times that, clamped at zero.
#[derive(Clone, Debug)]
pub struct RegionDelays {
    /// Matrix index of each node's region.
    region_of: Vec<u16>,
    /// Regions in the matrix.
    regions: usize,
    jitter: f64,
    /// Standard normal draws.
    normal: Gaussian,
}

impl RegionDelays {
    /// Place `nodes` nodes as `spec` says (drawing from `rng` for `random`) with this jitter.
    pub fn new(
        spec: &RegionsSpec,
        jitter: f64,
        nodes: usize,
        rng: &mut SimRng,
    ) -> Result<RegionDelays, NetError> {
        if !(jitter.is_finite() && (0.0..=1.0).contains(&jitter)) {
            return Err(NetError(format!(
                "region_jitter {jitter} must be a fraction in [0, 1]"
            )));
        }
        Ok(RegionDelays {
            region_of: place(spec, nodes, rng)?,
            regions: matrix().names().len(),
            jitter,
            normal: Gaussian::standard(),
        })
    }

    /// One hop's latency from node `a` to node `b`, nanoseconds (never negative). Draws one
    /// standard normal when the jitter is above zero.
    #[inline]
    pub fn sample(&mut self, a: usize, b: usize, rng: &mut SimRng) -> u64 {
        let mean = self.mean_nanos(a, b);
        if self.jitter == 0.0 {
            return round_nanos(mean);
        }
        let z = self.normal.sample(rng);
        // A negative or NaN value becomes 0, a huge one saturates.
        round_nanos(mean + self.jitter * mean * z)
    }

    /// Mean latency of a hop from node `a` to node `b`, nanoseconds.
    #[inline]
    pub fn mean_nanos(&self, a: usize, b: usize) -> f64 {
        let (ra, rb) = (
            usize::from(self.region_of[a]),
            usize::from(self.region_of[b]),
        );
        debug_assert!(ra < self.regions && rb < self.regions);
        matrix().one_way_nanos(ra, rb)
    }

    /// The smallest latency a hop can take: the closest pair's mean without jitter, 0 with it
    /// (a normal has no floor above zero).
    pub fn min_nanos(&self) -> u64 {
        if self.jitter > 0.0 {
            return 0;
        }
        let mut used: Vec<u16> = self.region_of.clone();
        used.sort_unstable();
        used.dedup();
        let m = matrix();
        let closest = used
            .iter()
            .flat_map(|&a| used.iter().map(move |&b| (a, b)))
            .filter(|&(a, b)| a != b || self.region_of.iter().filter(|&&r| r == a).count() > 1)
            .map(|(a, b)| m.one_way_nanos(usize::from(a), usize::from(b)))
            .fold(f64::INFINITY, f64::min);
        if closest.is_finite() {
            closest.round() as u64
        } else {
            0
        }
    }

    /// The region of node `v`, when there is such a node.
    pub fn region_of(&self, v: usize) -> Option<&'static str> {
        let i = usize::from(*self.region_of.get(v)?);
        matrix().names().get(i).map(String::as_str)
    }

    /// The jitter: standard deviation as a fraction of the mean.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Stream, stream};

    #[test]
    fn embedded_matrix_is_complete_and_symmetric() {
        let m = matrix();
        assert_eq!(m.names().len(), 33);
        assert!(m.names().windows(2).all(|w| w[0] < w[1]));
        for a in 0..33 {
            for b in 0..33 {
                let rtt = m.rtt_ms(a, b);
                assert!(rtt > 0.0 && rtt < 500.0, "{a} {b} {rtt}");
                assert_eq!(rtt, m.rtt_ms(b, a));
            }
        }
        // Figures from the file: us-east-1 <-> eu-west-1 is 67.1 ms measured from us-east-1
        // and 68.1 ms from eu-west-1.
        let (us, eu) = (m.index("us-east-1").unwrap(), m.index("eu-west-1").unwrap());
        let raw: RawMatrix = serde_json::from_str(MATRIX_JSON).unwrap();
        let expected =
            (raw.data["us-east-1"]["eu-west-1"] + raw.data["eu-west-1"]["us-east-1"]) / 2.0;
        assert_eq!(m.rtt_ms(us, eu), expected);
        assert!((60.0..75.0).contains(&expected), "{expected}");
        assert_eq!(m.index("mars-north-1"), None);
    }

    #[test]
    fn counts_place_nodes_in_the_order_written() {
        let spec = RegionsSpec::Counts(vec![("eu-west-1".into(), 2), ("us-east-1".into(), 1)]);
        let placed = place(&spec, 3, &mut stream(1, Stream::Topology)).unwrap();
        let m = matrix();
        let eu = m.index("eu-west-1").unwrap() as u16;
        let us = m.index("us-east-1").unwrap() as u16;
        assert_eq!(placed, vec![eu, eu, us]);
        assert!(place(&spec, 4, &mut stream(1, Stream::Topology)).is_err());
    }

    #[test]
    fn random_placement_is_reproducible_and_uses_every_region() {
        let list: Vec<String> = ["us-east-1", "eu-west-1", "ap-northeast-1"]
            .map(String::from)
            .to_vec();
        let spec = RegionsSpec::Random(list.clone());
        let a = place(&spec, 300, &mut stream(5, Stream::Topology)).unwrap();
        let b = place(&spec, 300, &mut stream(5, Stream::Topology)).unwrap();
        let c = place(&spec, 300, &mut stream(6, Stream::Topology)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        for name in &list {
            let i = matrix().index(name).unwrap() as u16;
            let count = a.iter().filter(|&&r| r == i).count();
            // Binomial(300, 1/3): mean 100, sd 8.2; 60..140 is beyond 4.8 sd.
            assert!((60..140).contains(&count), "{name}: {count}");
        }
        let cycled = place(
            &RegionsSpec::RoundRobin(list),
            4,
            &mut stream(5, Stream::Topology),
        )
        .unwrap();
        assert_eq!(cycled[0], cycled[3]);
        assert_ne!(cycled[0], cycled[1]);
    }

    use crate::config::{NetworkSpec, Topology};
    use crate::net::Network;
    use crate::sim::SimTime;

    fn network(topology: Topology, regions: RegionsSpec, jitter: Option<f64>, n: usize) -> Network {
        let spec = NetworkSpec {
            topology,
            regions: Some(regions),
            region_jitter: jitter,
            ..NetworkSpec::default()
        };
        Network::new(&spec, n, &mut stream(3, Stream::Topology)).unwrap()
    }

    /// Mean and standard deviation of `count` hop samples from `a` to `b`, with their extremes.
    fn hop_stats(net: &mut Network, a: u16, b: u16, count: usize) -> (f64, f64, u64, u64) {
        let mut rng = stream(9, Stream::Network);
        let xs: Vec<u64> = (0..count)
            .map(|_| net.hop_latency_ns(a, b, &mut rng))
            .collect();
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / count as f64;
        let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / count as f64;
        (
            mean,
            var.sqrt(),
            *xs.iter().min().unwrap(),
            *xs.iter().max().unwrap(),
        )
    }

    #[test]
    fn two_region_hops_take_half_the_median_rtt_with_five_percent_jitter() {
        let spec = RegionsSpec::Counts(vec![("us-east-1".into(), 3), ("eu-west-1".into(), 2)]);
        let mut net = network(Topology::FullMesh, spec, None, 5);
        let m = matrix();
        let (us, eu) = (m.index("us-east-1").unwrap(), m.index("eu-west-1").unwrap());
        assert_eq!(net.region_of(2), Some("us-east-1"));
        assert_eq!(net.region_of(3), Some("eu-west-1"));
        // (from, to, regions): inside us-east-1, inside eu-west-1, across in both directions.
        for (a, b, ra, rb) in [
            (0, 1, us, us),
            (3, 4, eu, eu),
            (0, 3, us, eu),
            (4, 2, eu, us),
        ] {
            let expected = m.rtt_ms(ra, rb) * 1e6 / 2.0;
            let (mean, sd, min, max) = hop_stats(&mut net, a, b, 40_000);
            // Standard error of the mean: 0.05 / sqrt(40000) = 0.025 % of it.
            assert!(
                (mean - expected).abs() < 0.002 * expected,
                "{a}->{b}: mean {mean} vs {expected}"
            );
            assert!(
                (sd - 0.05 * expected).abs() < 0.03 * 0.05 * expected,
                "{a}->{b}: sd {sd}"
            );
            // Within 5 standard deviations of the mean, the jitter's bounds for 40 000 draws.
            let (lo, hi) = (0.75 * expected, 1.25 * expected);
            assert!(
                min as f64 > lo && (max as f64) < hi,
                "{a}->{b}: [{min}, {max}]"
            );
            assert_eq!(
                net.mean_latency(a, b),
                Some(std::time::Duration::from_nanos(expected.round() as u64))
            );
        }
        // Across the Atlantic is more than ten times a hop inside either region.
        assert!(m.rtt_ms(us, eu) > 10.0 * m.rtt_ms(us, us).max(m.rtt_ms(eu, eu)));
        assert_eq!(net.hop_latency_ns(2, 2, &mut stream(1, Stream::Network)), 0);
        assert_eq!(net.min_latency(), std::time::Duration::ZERO);
    }

    #[test]
    fn without_jitter_a_message_takes_exactly_its_regions_latency_on_every_hop() {
        let m = matrix();
        let one_way = |a: &str, b: &str| {
            (m.rtt_ms(m.index(a).unwrap(), m.index(b).unwrap()) * 1e6 / 2.0).round() as u64
        };
        let spec = RegionsSpec::PerNode(
            ["us-east-1", "eu-west-1", "ap-northeast-1", "eu-west-1"]
                .map(String::from)
                .to_vec(),
        );
        let mut mesh = network(Topology::FullMesh, spec.clone(), Some(0.0), 4);
        let mut rng = stream(1, Stream::Network);
        let d = mesh.send(0, 2, 100, SimTime::ZERO, &mut rng).unwrap();
        assert_eq!(d.at.as_nanos(), one_way("us-east-1", "ap-northeast-1"));
        assert_eq!(
            mesh.min_latency().as_nanos() as u64,
            one_way("eu-west-1", "eu-west-1")
        );
        // On a ring 0-1-2-3-0 the message from 0 to 2 goes through 1 (the lower-numbered
        // neighbour), paying us-east-1 -> eu-west-1 and then eu-west-1 -> ap-northeast-1.
        let mut ring = network(Topology::Ring, spec, Some(0.0), 4);
        let d = ring.send(0, 2, 100, SimTime::ZERO, &mut rng).unwrap();
        let through_1 = one_way("us-east-1", "eu-west-1") + one_way("eu-west-1", "ap-northeast-1");
        assert_eq!(d.at.as_nanos(), through_1);
        assert_eq!(
            ring.mean_latency(0, 2).unwrap().as_nanos() as u64,
            through_1
        );
        // A direct hop is one hop whatever the graph: 0 -> 2 directly.
        assert_eq!(
            ring.hop_latency_ns(0, 2, &mut rng),
            one_way("us-east-1", "ap-northeast-1")
        );
    }

    #[test]
    fn unknown_region_names_the_known_ones() {
        let spec = RegionsSpec::PerNode(vec!["us-east-1".into(), "moon-1".into()]);
        let e = place(&spec, 2, &mut stream(1, Stream::Topology)).unwrap_err();
        assert!(e.0.contains("unknown region `moon-1`"), "{e}");
        assert!(e.0.contains("af-south-1, ap-east-1"), "{e}");
    }
}
