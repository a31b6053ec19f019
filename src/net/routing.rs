//! Routing per partition epoch. The times where the set of active partitions changes split
//! time into epochs; in each, messages take the fewest-hop path over the links no active
//! partition cuts. With one latency distribution on every link that is the lowest-latency path
//! and only its hop count matters; with regions (a latency per pair) the path's nodes matter
//! too, so the first hop of every path is kept as well.

use super::NetError;
use crate::config::PartitionSpec;
use crate::sim::SimTime;
use crate::sim::time::saturating_nanos;
use std::collections::{BTreeMap, VecDeque};

/// Hop counts of every ordered pair in every epoch.
#[derive(Debug)]
pub struct Routing {
    /// Start of each epoch in nanoseconds, ascending; the first is 0.
    starts: Vec<u64>,
    /// Index into `tables` of each epoch.
    table_of: Vec<usize>,
    /// Hop count `hops[src * n + dst]`; 0 when `dst` cannot be reached (or `src == dst`).
    tables: Vec<Vec<u16>>,
    /// First hop `next[src * n + dst]` of a fewest-hop path, per table; empty unless paths
    /// were asked for.
    next: Vec<Vec<u16>>,
}

impl Routing {
    /// Routing for every epoch of `partitions` over the graph `adjacency` (`full_mesh` lets
    /// it skip the path search: in a full mesh reachable means one hop); `paths` keeps the
    /// first hop of every path too (see [`Routing::next_hop`]).
    pub fn new(
        n: usize,
        adjacency: &[Vec<u16>],
        full_mesh: bool,
        partitions: &[PartitionSpec],
        paths: bool,
    ) -> Result<Routing, NetError> {
        let labels = partitions
            .iter()
            .enumerate()
            .map(|(i, p)| group_labels(i, p, n))
            .collect::<Result<Vec<_>, _>>()?;
        let mut boundaries: Vec<u64> = std::iter::once(0)
            .chain(partitions.iter().map(|p| saturating_nanos(p.at)))
            .chain(
                partitions
                    .iter()
                    .filter_map(|p| p.heal_at.map(saturating_nanos)),
            )
            .collect();
        boundaries.sort_unstable();
        boundaries.dedup();

        let mut routing = Routing {
            starts: Vec::new(),
            table_of: Vec::new(),
            tables: Vec::new(),
            next: Vec::new(),
        };
        let mut active_sets: Vec<Vec<usize>> = Vec::new();
        for &start in &boundaries {
            let active: Vec<usize> = partitions
                .iter()
                .enumerate()
                .filter(|(_, p)| is_active(p, start))
                .map(|(i, _)| i)
                .collect();
            // Only a change of the active set starts a new epoch.
            if routing
                .table_of
                .last()
                .is_some_and(|&t| active_sets[t] == active)
            {
                continue;
            }
            let table = match active_sets.iter().position(|a| *a == active) {
                Some(t) => t,
                None => {
                    let class = classes(n, &active, &labels);
                    let (hops, next) = hop_table(n, adjacency, full_mesh, &class, paths);
                    routing.tables.push(hops);
                    routing.next.push(next);
                    active_sets.push(active);
                    routing.tables.len() - 1
                }
            };
            routing.starts.push(start);
            routing.table_of.push(table);
        }
        Ok(routing)
    }

    /// The epoch `t` falls in.
    #[inline]
    pub fn epoch_at(&self, t: SimTime) -> usize {
        if self.starts.len() == 1 {
            return 0;
        }
        self.starts
            .partition_point(|&s| s <= t.as_nanos())
            .saturating_sub(1)
    }

    /// Where epoch `e + 1` starts (`u64::MAX` after the last).
    #[inline]
    pub fn end_of(&self, e: usize) -> u64 {
        self.starts.get(e + 1).copied().unwrap_or(u64::MAX)
    }

    /// Hops from `link = src * n + dst` in epoch `e`; 0 when unreachable.
    #[inline]
    pub fn hops(&self, e: usize, link: usize) -> u16 {
        self.tables[self.table_of[e]][link]
    }

    /// The first hop of the path of `link = src * n + dst` in epoch `e`: a neighbour of `src`
    /// one hop closer to `dst`. Only for a routing built with `paths` and a reachable link.
    #[inline]
    pub fn next_hop(&self, e: usize, link: usize) -> u16 {
        self.next[self.table_of[e]][link]
    }

    /// Whether every message takes one hop at any time: one epoch, in which every node reaches
    /// every other directly (a full mesh no partition ever cuts).
    pub fn always_one_hop(&self, n: usize) -> bool {
        self.starts.len() == 1
            && self.tables[self.table_of[0]]
                .iter()
                .enumerate()
                .all(|(link, &hops)| hops == u16::from(link / n != link % n))
    }

    /// The first epoch after `e` in which `link` is reachable, with its start time.
    pub fn next_connected(&self, e: usize, link: usize) -> Option<u64> {
        (e + 1..self.starts.len())
            .find(|&j| self.hops(j, link) != 0)
            .map(|j| self.starts[j])
    }
}

/// Active at `t`: opened at or before `t` and not yet healed.
fn is_active(p: &PartitionSpec, t: u64) -> bool {
    saturating_nanos(p.at) <= t && p.heal_at.is_none_or(|h| t < saturating_nanos(h))
}

/// Each validator's group in partition `index`; validators in no group share the last label.
fn group_labels(index: usize, p: &PartitionSpec, n: usize) -> Result<Vec<u32>, NetError> {
    let rest = u32::try_from(p.groups.len())
        .map_err(|_| NetError(format!("partitions[{index}] has too many groups")))?;
    let mut label = vec![rest; n];
    for (g, group) in (0u32..).zip(&p.groups) {
        for &v in group {
            let v = usize::from(v);
            if v >= n {
                return Err(NetError(format!(
                    "partitions[{index}] names validator {v}, but there are only {n}"
                )));
            }
            if label[v] != rest {
                return Err(NetError(format!(
                    "partitions[{index}] lists validator {v} in more than one group"
                )));
            }
            label[v] = g;
        }
    }
    Ok(label)
}

/// Validators that no active partition separates share a class id.
fn classes(n: usize, active: &[usize], labels: &[Vec<u32>]) -> Vec<u32> {
    let mut ids: BTreeMap<Vec<u32>, u32> = BTreeMap::new();
    (0..n)
        .map(|v| {
            let key: Vec<u32> = active.iter().map(|&p| labels[p][v]).collect();
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            *ids.entry(key).or_insert(next)
        })
        .collect()
}

/// Fewest hops between every ordered pair over links inside a class (0 = unreachable), and
/// with `paths` the first hop of each such path (empty without).
fn hop_table(
    n: usize,
    adjacency: &[Vec<u16>],
    full_mesh: bool,
    class: &[u32],
    paths: bool,
) -> (Vec<u16>, Vec<u16>) {
    let mut hops = vec![0u16; n * n];
    if full_mesh {
        for s in 0..n {
            for d in 0..n {
                if s != d && class[s] == class[d] {
                    hops[s * n + d] = 1;
                }
            }
        }
        return (hops, Vec::new());
    }
    let mut next = if paths { vec![0u16; n * n] } else { Vec::new() };
    let mut queue = VecDeque::with_capacity(n);
    let mut seen = vec![false; n];
    for s in 0..n {
        seen.iter_mut().for_each(|x| *x = false);
        seen[s] = true;
        // (node, hops from s, first hop from s toward it)
        queue.push_back((s, 0u16, 0u16));
        while let Some((u, h, first)) = queue.pop_front() {
            for &w in &adjacency[u] {
                let wi = usize::from(w);
                if !seen[wi] && class[wi] == class[s] {
                    seen[wi] = true;
                    let hw = h.saturating_add(1);
                    hops[s * n + wi] = hw;
                    let first_w = if u == s { w } else { first };
                    if paths {
                        next[s * n + wi] = first_w;
                    }
                    queue.push_back((wi, hw, first_w));
                }
            }
        }
    }
    (hops, next)
}
