//! The graph of links: which validators are directly connected, built from the spec as an
//! undirected petgraph graph. Random regular graphs are drawn from the topology stream.

use super::NetError;
use crate::config::{NetworkSpec, Topology};
use crate::sim::SimRng;
use petgraph::graph::{NodeIndex, UnGraph};
use rand::Rng;
use rand::seq::SliceRandom;

/// Whole random graphs drawn before `random_regular` gives up.
const RANDOM_REGULAR_ATTEMPTS: usize = 100;

/// The links of the network, each once as `(low, high)`, sorted.
pub fn build_edges(
    spec: &NetworkSpec,
    n: usize,
    rng: &mut SimRng,
) -> Result<Vec<(u16, u16)>, NetError> {
    let raw = match spec.topology {
        Topology::FullMesh => (0..n)
            .flat_map(|u| (u + 1..n).map(move |v| (u, v)))
            .collect(),
        Topology::Ring => (0..n).map(|u| (u, (u + 1) % n)).collect(),
        Topology::Star => (1..n).map(|v| (0, v)).collect(),
        Topology::RandomRegular => {
            let degree = spec.degree.ok_or_else(|| {
                NetError("topology random_regular needs `degree` (links per validator)".into())
            })?;
            random_regular(n, usize::try_from(degree).unwrap_or(usize::MAX), rng)?
        }
        Topology::Explicit => explicit(spec.edges.as_deref(), n)?,
    };
    let edges = normalise(raw);
    let graph = to_graph(n, &edges);
    if n > 1 && petgraph::algo::connected_components(&graph) != 1 {
        return Err(NetError(format!(
            "topology {:?} does not connect all {n} validators",
            spec.topology
        )));
    }
    Ok(edges)
}

/// Each validator's neighbours, ascending, from the edge list.
pub fn adjacency(n: usize, edges: &[(u16, u16)]) -> Vec<Vec<u16>> {
    let graph = to_graph(n, edges);
    (0..n)
        .map(|u| {
            let mut next: Vec<u16> = graph
                .neighbors(NodeIndex::new(u))
                .filter_map(|v| u16::try_from(v.index()).ok())
                .collect();
            next.sort_unstable();
            next
        })
        .collect()
}

fn to_graph(n: usize, edges: &[(u16, u16)]) -> UnGraph<(), ()> {
    let mut graph = UnGraph::with_capacity(n, edges.len());
    for _ in 0..n {
        graph.add_node(());
    }
    for &(u, v) in edges {
        graph.add_edge(
            NodeIndex::new(usize::from(u)),
            NodeIndex::new(usize::from(v)),
            (),
        );
    }
    graph
}

/// `(low, high)` pairs, sorted, without self-loops or duplicates. Indices are below `n` <= 2^16.
fn normalise(raw: Vec<(usize, usize)>) -> Vec<(u16, u16)> {
    let mut edges: Vec<(u16, u16)> = raw
        .into_iter()
        .filter(|(u, v)| u != v)
        .filter_map(|(u, v)| Some((u16::try_from(u.min(v)).ok()?, u16::try_from(u.max(v)).ok()?)))
        .collect();
    edges.sort_unstable();
    edges.dedup();
    edges
}

fn explicit(edges: Option<&[[u16; 2]]>, n: usize) -> Result<Vec<(usize, usize)>, NetError> {
    let edges =
        edges.ok_or_else(|| NetError("topology explicit needs `edges` ([[a, b], ...])".into()))?;
    edges
        .iter()
        .map(|&[a, b]| {
            let (u, v) = (usize::from(a), usize::from(b));
            if u >= n || v >= n {
                Err(NetError(format!(
                    "edge [{a}, {b}] names a validator beyond the {n} there are (indices 0..{n})"
                )))
            } else if u == v {
                Err(NetError(format!(
                    "edge [{a}, {b}] links a validator to itself"
                )))
            } else {
                Ok((u, v))
            }
        })
        .collect()
}

/// A connected simple graph where every validator has `degree` links, drawn from `rng`.
fn random_regular(
    n: usize,
    degree: usize,
    rng: &mut SimRng,
) -> Result<Vec<(usize, usize)>, NetError> {
    if n <= 1 {
        return if degree == 0 {
            Ok(Vec::new())
        } else {
            Err(NetError(format!(
                "random_regular degree {degree} needs more than {n} validators"
            )))
        };
    }
    if degree >= n {
        return Err(NetError(format!(
            "random_regular degree {degree} must be below the validator count {n}"
        )));
    }
    if (n * degree) % 2 == 1 {
        return Err(NetError(format!(
            "random_regular needs validators x degree even, got {n} x {degree}"
        )));
    }
    if degree == 0 || (degree == 1 && n > 2) {
        return Err(NetError(format!(
            "random_regular degree {degree} cannot connect {n} validators"
        )));
    }
    // A dense graph is the complement of a sparse one (which is connected once degree >= n/2).
    let complement = degree > (n - 1) / 2;
    let drawn = if complement { n - 1 - degree } else { degree };
    for _ in 0..RANDOM_REGULAR_ATTEMPTS {
        let Some(edges) = draw_regular(n, drawn, rng) else {
            continue;
        };
        let edges = if complement {
            complement_of(n, &edges)
        } else {
            edges
        };
        let normal = normalise(edges.clone());
        if petgraph::algo::connected_components(&to_graph(n, &normal)) == 1 {
            return Ok(edges);
        }
    }
    Err(NetError(format!(
        "no connected random_regular graph of degree {degree} on {n} validators found in \
         {RANDOM_REGULAR_ATTEMPTS} attempts; try another degree"
    )))
}

/// One simple `degree`-regular graph (not necessarily connected), or `None` when the draw got
/// stuck. Degree 2 is a random Hamiltonian cycle; otherwise points are paired at random,
/// skipping pairs that would make a loop or a double link (Steger and Wormald).
fn draw_regular(n: usize, degree: usize, rng: &mut SimRng) -> Option<Vec<(usize, usize)>> {
    if degree == 0 {
        return Some(Vec::new());
    }
    if degree == 2 {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(rng);
        return Some((0..n).map(|i| (order[i], order[(i + 1) % n])).collect());
    }
    let mut points: Vec<usize> = (0..n)
        .flat_map(|u| std::iter::repeat_n(u, degree))
        .collect();
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::with_capacity(degree); n];
    let mut edges = Vec::with_capacity(n * degree / 2);
    while !points.is_empty() {
        let len = u32::try_from(points.len()).ok()?;
        let mut tries = 0usize;
        let (i, j) = loop {
            let i = rng.random_range(0..len) as usize;
            let j = rng.random_range(0..len) as usize;
            let (u, v) = (points[i], points[j]);
            if u != v && !neighbours[u].contains(&v) {
                break (i, j);
            }
            tries += 1;
            if tries > 64 * points.len() {
                return None;
            }
        };
        let (u, v) = (points[i], points[j]);
        neighbours[u].push(v);
        neighbours[v].push(u);
        edges.push((u, v));
        points.swap_remove(i.max(j));
        points.swap_remove(i.min(j));
    }
    Some(edges)
}

fn complement_of(n: usize, edges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut linked = vec![false; n * n];
    for &(u, v) in edges {
        linked[u * n + v] = true;
        linked[v * n + u] = true;
    }
    (0..n)
        .flat_map(|u| (u + 1..n).map(move |v| (u, v)))
        .filter(|&(u, v)| !linked[u * n + v])
        .collect()
}
