//! The rules a parsed scenario must follow before anything runs; each refusal names the field,
//! says what is wrong and what is allowed.

use super::{
    AppSpec, ByzantineSpec, ConfigError, CostsSpec, EntryNodes, GossipModel, LatencySpec, LoadSpec,
    NetworkSpec, PartitionSpec, RegionsSpec, Scenario, Topology, ValidatorsSpec,
};
use crate::params::{OptimizationParameters, PerformanceTargets};
use crate::workload::BLOCK_OVERHEAD_BYTES;
use std::time::Duration;

/// Most validators a scenario may have.
pub const MAX_VALIDATORS: u32 = 10_000;
/// Most total voting power (2^60), so that priorities and tallies never overflow.
pub const MAX_TOTAL_POWER: u64 = 1 << 60;
/// Longest virtual time a scenario may simulate (366 days).
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);
/// Longest timeout, latency parameter or gossip interval.
const MAX_STEP: Duration = Duration::from_secs(3600);
/// Highest transaction rate, transactions per second.
const MAX_TRANSACTION_RATE: f64 = 10_000_000.0;
/// Most CPU cores of a validator in a cost model.
const MAX_CORES: u32 = 4096;
/// Largest idle memory of a validator in a cost model, MB (1 TiB): with per-operation costs of
/// at most [`MAX_STEP`] it keeps every resource sum far from overflowing.
const MAX_BASE_MEMORY_MB: u64 = 1 << 20;

/// Check a scenario; the first problem found is returned with its field path (`network.loss`).
/// The error's origin is the scenario's name; [`super::parse_scenario`] replaces it by the file.
pub fn validate(scenario: &Scenario) -> Result<(), ConfigError> {
    check_scenario(scenario).map_err(|r| ConfigError::at_field(&scenario.name, r.field, r.message))
}

/// A refused field and why.
struct Refusal {
    field: String,
    message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> Refusal {
    Refusal {
        field: field.into(),
        message: message.into(),
    }
}

type Checked = Result<(), Refusal>;

fn check_scenario(s: &Scenario) -> Checked {
    check_duration(s.duration)?;
    check_validators(&s.validators)?;
    let count = s.validators.count;
    check_gossip(s)?;
    // Partitions may name full nodes too: they are numbered after the validators.
    let nodes = count.saturating_add(s.network.full_nodes);
    check_network(&s.network, nodes, s.duration)?;
    check_load(&s.load)?;
    if let Some(byzantine) = &s.byzantine {
        check_byzantine(byzantine, count)?;
    }
    check_parameters(&s.parameters, s.load.tx_size)?;
    check_costs(&s.costs)?;
    check_app(&s.app)?;
    if let Some(targets) = &s.targets {
        check_targets(targets)?;
    }
    Ok(())
}

fn fmt_duration(d: Duration) -> String {
    super::duration::format(d)
}

fn check_duration(duration: Duration) -> Checked {
    if duration.is_zero() {
        return Err(refuse(
            "duration",
            "must be more than 0s: it is the virtual time to simulate, e.g. `60s` or `5m`",
        ));
    }
    if duration > MAX_DURATION {
        return Err(refuse(
            "duration",
            format!(
                "{} is too long: at most {} (366 days) of virtual time",
                fmt_duration(duration),
                fmt_duration(MAX_DURATION)
            ),
        ));
    }
    Ok(())
}

fn check_validators(v: &ValidatorsSpec) -> Checked {
    if v.count == 0 || v.count > MAX_VALIDATORS {
        return Err(refuse(
            "validators.count",
            format!(
                "{} validators: a scenario needs from 1 to {MAX_VALIDATORS} validators",
                v.count
            ),
        ));
    }
    let Some(powers) = &v.voting_power else {
        return Ok(());
    };
    if powers.len() != v.count as usize {
        return Err(refuse(
            "validators.voting_power",
            format!(
                "lists {} powers for {} validators: give one power per validator, \
                 or omit it for equal power",
                powers.len(),
                v.count
            ),
        ));
    }
    if let Some(i) = powers.iter().position(|&p| p == 0) {
        return Err(refuse(
            format!("validators.voting_power[{i}]"),
            format!("validator {i} has power 0: every validator needs a power of at least 1"),
        ));
    }
    let total: u128 = powers.iter().map(|&p| u128::from(p)).sum();
    if total > u128::from(MAX_TOTAL_POWER) {
        return Err(refuse(
            "validators.voting_power",
            format!("total voting power {total} is too large: at most 2^60 ({MAX_TOTAL_POWER})"),
        ));
    }
    Ok(())
}

fn check_network(n: &NetworkSpec, count: u32, duration: Duration) -> Checked {
    check_topology(n, count)?;
    check_latency(&n.latency)?;
    check_regions(n, count)?;
    if let Some(b) = n.bandwidth_mbps
        && !(b.is_finite() && b > 0.0)
    {
        return Err(refuse(
            "network.bandwidth_mbps",
            format!(
                "{b} Mbit/s: bandwidth must be a positive finite number of megabits per \
                     second; omit it for unlimited bandwidth"
            ),
        ));
    }
    if !(n.loss >= 0.0 && n.loss < 1.0) {
        return Err(refuse(
            "network.loss",
            format!(
                "{}: the loss probability must be in [0, 1) (0 is a perfect network; \
                 1 would never deliver anything)",
                n.loss
            ),
        ));
    }
    if n.gossip_interval.is_zero() || n.gossip_interval > MAX_STEP {
        return Err(refuse(
            "network.gossip_interval",
            format!(
                "{}: a lost or blocked message is sent again after this long; \
                 it must be more than 0s and at most 1h",
                fmt_duration(n.gossip_interval)
            ),
        ));
    }
    for (i, p) in n.partitions.iter().enumerate() {
        check_partition(i, p, count, duration)?;
    }
    Ok(())
}

fn check_topology(n: &NetworkSpec, count: u32) -> Checked {
    let name = topology_name(n.topology);
    if n.topology != Topology::RandomRegular && n.degree.is_some() {
        return Err(refuse(
            "network.degree",
            format!(
                "`degree` is only used by topology `random_regular`, not `{name}`: remove it \
                 or set `topology: random_regular`"
            ),
        ));
    }
    if n.topology != Topology::Explicit && n.edges.is_some() {
        return Err(refuse(
            "network.edges",
            format!(
                "`edges` is only used by topology `explicit`, not `{name}`: remove it \
                 or set `topology: explicit`"
            ),
        ));
    }
    match n.topology {
        Topology::RandomRegular => {
            let Some(degree) = n.degree else {
                return Err(refuse(
                    "network.degree",
                    "topology `random_regular` needs `degree`, the number of links per validator",
                ));
            };
            if degree == 0 || degree >= count {
                return Err(refuse(
                    "network.degree",
                    format!(
                        "degree {degree} with {count} validators: each validator links to \
                         from 1 to {} others",
                        count.saturating_sub(1)
                    ),
                ));
            }
            if degree == 1 && count > 2 {
                return Err(refuse(
                    "network.degree",
                    format!(
                        "degree 1 with {count} validators: links of one per validator pair them \
                         off, which cannot connect more than 2; use degree 2 or more"
                    ),
                ));
            }
            if u64::from(count) * u64::from(degree) % 2 == 1 {
                return Err(refuse(
                    "network.degree",
                    format!(
                        "degree {degree} with {count} validators: a regular graph needs \
                         count × degree to be even; change the degree by one"
                    ),
                ));
            }
        }
        Topology::Explicit => {
            let Some(edges) = &n.edges else {
                return Err(refuse(
                    "network.edges",
                    "topology `explicit` needs `edges`, a list of validator pairs like [[0, 1], [1, 2]]",
                ));
            };
            check_edges(edges, count)?;
        }
        Topology::FullMesh | Topology::Ring | Topology::Star => {}
    }
    Ok(())
}

fn topology_name(t: Topology) -> &'static str {
    match t {
        Topology::FullMesh => "full_mesh",
        Topology::Ring => "ring",
        Topology::Star => "star",
        Topology::RandomRegular => "random_regular",
        Topology::Explicit => "explicit",
    }
}

fn check_edges(edges: &[[u16; 2]], count: u32) -> Checked {
    for (i, &[a, b]) in edges.iter().enumerate() {
        if let Some(v) = [a, b].into_iter().find(|&v| u32::from(v) >= count) {
            return Err(refuse(
                format!("network.edges[{i}]"),
                format!(
                    "edge [{a}, {b}] names validator {v}, but validators are numbered 0 to {}",
                    count - 1
                ),
            ));
        }
        if a == b {
            return Err(refuse(
                format!("network.edges[{i}]"),
                format!(
                    "edge [{a}, {b}] links validator {a} to itself: an edge joins two validators"
                ),
            ));
        }
    }
    // Union-find: the explicit graph must connect every validator.
    let mut parent: Vec<usize> = (0..count as usize).collect();
    fn root(parent: &mut [usize], mut v: usize) -> usize {
        while parent[v] != v {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }
        v
    }
    for &[a, b] in edges {
        let (ra, rb) = (root(&mut parent, a.into()), root(&mut parent, b.into()));
        parent[ra] = rb;
    }
    let first = root(&mut parent, 0);
    if let Some(v) = (1..count as usize).find(|&v| root(&mut parent, v) != first) {
        return Err(refuse(
            "network.edges",
            format!(
                "validator {v} cannot be reached from validator 0: the edges must connect \
                 every validator (use `partitions` to cut the network for a while)"
            ),
        ));
    }
    Ok(())
}

fn check_latency(latency: &LatencySpec) -> Checked {
    let parameters: Vec<(&str, Duration)> = match *latency {
        LatencySpec::Constant { mean } | LatencySpec::Exponential { mean } => {
            vec![("mean", mean)]
        }
        LatencySpec::Uniform { min, max } => vec![("min", min), ("max", max)],
        LatencySpec::Normal { mean, stddev } | LatencySpec::Lognormal { mean, stddev } => {
            vec![("mean", mean), ("stddev", stddev)]
        }
    };
    for (name, value) in parameters {
        if value > MAX_STEP {
            return Err(refuse(
                format!("network.latency.{name}"),
                format!("{}: a latency parameter is at most 1h", fmt_duration(value)),
            ));
        }
    }
    match *latency {
        LatencySpec::Uniform { min, max } if min > max => Err(refuse(
            "network.latency.min",
            format!(
                "min {} is above max {}: a uniform latency needs min <= max",
                fmt_duration(min),
                fmt_duration(max)
            ),
        )),
        LatencySpec::Lognormal { mean, .. } if mean.is_zero() => Err(refuse(
            "network.latency.mean",
            "a lognormal latency needs a mean above 0s (use `distribution: constant` for zero latency)",
        )),
        LatencySpec::Exponential { mean } if mean.is_zero() => Err(refuse(
            "network.latency.mean",
            "an exponential latency needs a mean above 0s (use `distribution: constant` for zero latency)",
        )),
        _ => Ok(()),
    }
}

/// `regions` names known regions and places exactly the scenario's nodes; it replaces `latency`.
fn check_regions(n: &NetworkSpec, nodes: u32) -> Checked {
    let Some(regions) = &n.regions else {
        if n.region_jitter.is_some() {
            return Err(refuse(
                "network.region_jitter",
                "`region_jitter` is only used with `regions`: remove it or place the nodes \
                 in regions",
            ));
        }
        return Ok(());
    };
    if n.latency != LatencySpec::default() {
        return Err(refuse(
            "network.latency",
            "`latency` and `regions` are both set: with regions every hop takes the measured \
             latency of its two regions, so remove `latency` (or `regions`)",
        ));
    }
    if let Some(jitter) = n.region_jitter
        && !(jitter.is_finite() && (0.0..=1.0).contains(&jitter))
    {
        return Err(refuse(
            "network.region_jitter",
            format!(
                "{jitter}: the jitter is the standard deviation of a hop's latency as a fraction \
                 of its mean, from 0 to 1 (default 0.05)"
            ),
        ));
    }
    let matrix = crate::net::regions::matrix();
    let unknown = |field: String, name: &str| {
        refuse(
            field,
            format!(
                "unknown region `{name}`; the known regions are {} (`ccperf regions` lists \
                 them with their latencies)",
                matrix.known()
            ),
        )
    };
    let placed: u64 = match regions {
        RegionsSpec::Counts(counts) => {
            if counts.is_empty() {
                return Err(refuse(
                    "network.regions",
                    "no regions: give the node count of each region, like \
                     `{ us-east-1: 30, eu-west-1: 20 }`",
                ));
            }
            for (name, count) in counts {
                let field = format!("network.regions.{name}");
                if matrix.index(name).is_none() {
                    return Err(unknown(field, name));
                }
                if *count == 0 {
                    return Err(refuse(
                        field,
                        format!("0 nodes in `{name}`: remove the region or give it nodes"),
                    ));
                }
            }
            counts.iter().map(|(_, c)| u64::from(*c)).sum()
        }
        RegionsSpec::PerNode(list) => {
            if let Some((i, name)) = list
                .iter()
                .enumerate()
                .find(|(_, r)| matrix.index(r).is_none())
            {
                return Err(unknown(format!("network.regions[{i}]"), name));
            }
            list.len() as u64
        }
        RegionsSpec::Random(list) | RegionsSpec::RoundRobin(list) => {
            let key = if matches!(regions, RegionsSpec::Random(_)) {
                "random"
            } else {
                "round_robin"
            };
            if list.is_empty() {
                return Err(refuse(
                    format!("network.regions.{key}"),
                    "an empty list: name the regions to place the nodes in",
                ));
            }
            for (i, name) in list.iter().enumerate() {
                let field = format!("network.regions.{key}[{i}]");
                if matrix.index(name).is_none() {
                    return Err(unknown(field, name));
                }
                if list[..i].contains(name) {
                    return Err(refuse(field, format!("region `{name}` is listed twice")));
                }
            }
            return Ok(());
        }
    };
    if placed != u64::from(nodes) {
        let form = if matches!(regions, RegionsSpec::PerNode(_)) {
            "lists"
        } else {
            "counts"
        };
        return Err(refuse(
            "network.regions",
            format!(
                "{form} {placed} nodes but the scenario has {nodes} ({nodes} validators): \
                 place every node exactly once, validators first, then full nodes"
            ),
        ));
    }
    Ok(())
}

fn check_partition(i: usize, p: &PartitionSpec, count: u32, duration: Duration) -> Checked {
    let field = format!("network.partitions[{i}]");
    if p.groups.is_empty() {
        return Err(refuse(
            format!("{field}.groups"),
            format!(
                "partition {i} has no groups: give at least one group of validator indices \
                 (validators in no group form one more group together)"
            ),
        ));
    }
    let mut group_of: Vec<Option<usize>> = vec![None; count as usize];
    for (g, group) in p.groups.iter().enumerate() {
        if group.is_empty() {
            return Err(refuse(
                format!("{field}.groups[{g}]"),
                format!("group {g} of partition {i} is empty: list at least one validator"),
            ));
        }
        for &v in group {
            let Some(slot) = group_of.get_mut(usize::from(v)) else {
                return Err(refuse(
                    format!("{field}.groups[{g}]"),
                    format!(
                        "partition {i} names validator {v}, but validators are numbered 0 to {}",
                        count - 1
                    ),
                ));
            };
            if let Some(other) = *slot {
                let message = if other == g {
                    format!("validator {v} is listed twice in group {g} of partition {i}")
                } else {
                    format!(
                        "validator {v} is in both group {other} and group {g} of partition {i}: \
                         a validator is on one side only"
                    )
                };
                return Err(refuse(format!("{field}.groups[{g}]"), message));
            }
            *slot = Some(g);
        }
    }
    if p.at >= duration {
        return Err(refuse(
            format!("{field}.at"),
            format!(
                "partition {i} opens at {}, when the run of {} is over: it must open before the end",
                fmt_duration(p.at),
                fmt_duration(duration)
            ),
        ));
    }
    if let Some(heal) = p.heal_at
        && heal <= p.at
    {
        return Err(refuse(
            format!("{field}.heal_at"),
            format!(
                "partition {i} heals at {}, not after it opens at {}: heal_at must be later \
                     than at (omit it for a partition that never heals)",
                fmt_duration(heal),
                fmt_duration(p.at)
            ),
        ));
    }
    Ok(())
}

/// The gossip layer's settings: full nodes, entry nodes, peers, rates and timers.
fn check_gossip(s: &Scenario) -> Checked {
    let n = &s.network;
    let count = s.validators.count;
    if n.gossip == GossipModel::Direct {
        if n.full_nodes > 0 {
            return Err(refuse(
                "network.full_nodes",
                format!(
                    "{}: full nodes relay CometBFT's gossip, so they need `gossip: cometbft` \
                     (the direct model sends every message straight from its signer)",
                    n.full_nodes
                ),
            ));
        }
        return Ok(());
    }
    let nodes = u64::from(count) + u64::from(n.full_nodes);
    if nodes > u64::from(MAX_VALIDATORS) {
        return Err(refuse(
            "network.full_nodes",
            format!(
                "{} validators and {} full nodes: at most {MAX_VALIDATORS} nodes in all",
                count, n.full_nodes
            ),
        ));
    }
    let p = &n.p2p;
    if p.max_num_outbound_peers == 0 && n.topology == Topology::FullMesh {
        return Err(refuse(
            "network.p2p.max_num_outbound_peers",
            "0: every node must dial at least one peer, or no gossip reaches it",
        ));
    }
    for (field, rate) in [("send_rate", p.send_rate), ("recv_rate", p.recv_rate)] {
        if rate == 0 {
            return Err(refuse(
                format!("network.p2p.{field}"),
                "0 B/s: a connection must move at least 1 byte per second (CometBFT's default \
                 is 5120000)",
            ));
        }
    }
    if p.peer_gossip_sleep_duration.is_zero() || p.peer_gossip_sleep_duration > MAX_STEP {
        return Err(refuse(
            "network.p2p.peer_gossip_sleep_duration",
            format!(
                "{}: the gossip routines sleep this long when idle; it must be more than 0s \
                 and at most 1h (CometBFT's default is 100ms)",
                fmt_duration(p.peer_gossip_sleep_duration)
            ),
        ));
    }
    if p.flush_throttle_timeout > MAX_STEP {
        return Err(refuse(
            "network.p2p.flush_throttle_timeout",
            format!(
                "{}: at most 1h (CometBFT's default is 100ms)",
                fmt_duration(p.flush_throttle_timeout)
            ),
        ));
    }
    match &s.load.entry_nodes {
        EntryNodes::Count(0) => {
            return Err(refuse(
                "load.entry_nodes",
                "0: clients submit to at least one node",
            ));
        }
        EntryNodes::Count(k) if u64::from(*k) > nodes => {
            return Err(refuse(
                "load.entry_nodes",
                format!("{k} entry nodes, but there are only {nodes} nodes"),
            ));
        }
        EntryNodes::List(list) if list.is_empty() => {
            return Err(refuse(
                "load.entry_nodes",
                "an empty list: name at least one node (or give a count)",
            ));
        }
        EntryNodes::List(list) => {
            if let Some(&bad) = list.iter().find(|&&i| u64::from(i) >= nodes) {
                return Err(refuse(
                    "load.entry_nodes",
                    format!(
                        "node {bad} does not exist: nodes are numbered 0 to {} (validators \
                         first, then full nodes)",
                        nodes - 1
                    ),
                ));
            }
        }
        EntryNodes::Count(_) => {}
    }
    Ok(())
}

fn check_load(load: &LoadSpec) -> Checked {
    let rate = load.transaction_rate;
    if !(rate.is_finite() && (0.0..=MAX_TRANSACTION_RATE).contains(&rate)) {
        return Err(refuse(
            "load.transaction_rate",
            format!(
                "{rate} tx/s: the rate must be a number from 0 (empty blocks) to \
                 {MAX_TRANSACTION_RATE} transactions per second"
            ),
        ));
    }
    if let Some(period) = load.send_period
        && (period.is_zero() || period > MAX_STEP)
    {
        return Err(refuse(
            "load.send_period",
            format!(
                "{}: the load runner sends a batch every period, from 1ns to 1h \
                 (CometBFT's load runner: 1s)",
                fmt_duration(period)
            ),
        ));
    }
    if load.tx_size == 0 {
        return Err(refuse(
            "load.tx_size",
            "0 bytes: a transaction is at least 1 byte",
        ));
    }
    if load.mempool.size == 0 {
        return Err(refuse(
            "load.mempool.size",
            "0: a mempool holds at least one transaction (CometBFT's default is 5000)",
        ));
    }
    if load.mempool.max_txs_bytes < u64::from(load.tx_size) {
        return Err(refuse(
            "load.mempool.max_txs_bytes",
            format!(
                "{} bytes cannot hold one {}-byte transaction",
                load.mempool.max_txs_bytes, load.tx_size
            ),
        ));
    }
    Ok(())
}

fn check_byzantine(b: &ByzantineSpec, count: u32) -> Checked {
    let chosen = match (b.count, b.ratio, &b.validators) {
        (None, None, None) => {
            return Err(refuse(
                "byzantine",
                "say which validators are Byzantine: give one of `count`, `ratio` or `validators`",
            ));
        }
        (Some(_), Some(_), _) => {
            return Err(refuse(
                "byzantine.ratio",
                "give `count` or `ratio`, not both",
            ));
        }
        (Some(n), None, _) => {
            if n > count {
                return Err(refuse(
                    "byzantine.count",
                    format!(
                        "{n} Byzantine validators but only {count} validators: \
                         the count is from 0 to {count}"
                    ),
                ));
            }
            Some(("byzantine.count", n))
        }
        (None, Some(ratio), _) => {
            if !(0.0..=1.0).contains(&ratio) {
                return Err(refuse(
                    "byzantine.ratio",
                    format!(
                        "{ratio}: the ratio is the fraction of validators that are Byzantine, \
                         from 0 to 1 (rounded down to whole validators)"
                    ),
                ));
            }
            Some(("byzantine.ratio", (ratio * f64::from(count)).floor() as u32))
        }
        (None, None, Some(_)) => None,
    };
    let Some(list) = &b.validators else {
        return Ok(());
    };
    let mut seen = vec![false; count as usize];
    for (i, &v) in list.iter().enumerate() {
        let Some(slot) = seen.get_mut(usize::from(v)) else {
            return Err(refuse(
                format!("byzantine.validators[{i}]"),
                format!(
                    "validator {v} does not exist: validators are numbered 0 to {}",
                    count - 1
                ),
            ));
        };
        if *slot {
            return Err(refuse(
                format!("byzantine.validators[{i}]"),
                format!("validator {v} is listed twice"),
            ));
        }
        *slot = true;
    }
    if let Some((field, n)) = chosen
        && n as usize != list.len()
    {
        return Err(refuse(
            "byzantine.validators",
            format!(
                "lists {} validators but {field} gives {n}: they must agree \
                     (or give only `validators`)",
                list.len()
            ),
        ));
    }
    Ok(())
}

fn check_parameters(p: &OptimizationParameters, tx_size: u32) -> Checked {
    if p.block_size_limit == 0 {
        return Err(refuse(
            "parameters.block_size_limit",
            "0 bytes: a block holds at least one transaction",
        ));
    }
    let least = u64::from(BLOCK_OVERHEAD_BYTES) + u64::from(tx_size);
    if u64::from(p.block_size_limit) < least {
        return Err(refuse(
            "parameters.block_size_limit",
            format!(
                "{} bytes cannot hold one transaction of load.tx_size {tx_size} bytes beside \
                 the {BLOCK_OVERHEAD_BYTES}-byte block header: make it at least {least}",
                p.block_size_limit
            ),
        ));
    }
    if p.batch_size == 0 {
        return Err(refuse(
            "parameters.batch_size",
            "0: transactions are verified in batches of at least 1",
        ));
    }
    let timeouts = [
        ("timeout_propose", p.timeout_propose, false),
        ("timeout_prevote", p.timeout_prevote, false),
        ("timeout_precommit", p.timeout_precommit, false),
        ("timeout_propose_delta", p.timeout_propose_delta, true),
        ("timeout_prevote_delta", p.timeout_prevote_delta, true),
        ("timeout_precommit_delta", p.timeout_precommit_delta, true),
        ("block_interval", p.block_interval, true),
    ];
    for (name, value, zero_allowed) in timeouts {
        if value.is_zero() && !zero_allowed {
            return Err(refuse(
                format!("parameters.{name}"),
                "must be more than 0s (the per-round deltas and block_interval may be 0s)",
            ));
        }
        if value > MAX_STEP {
            return Err(refuse(
                format!("parameters.{name}"),
                format!("{} is too long: at most 1h", fmt_duration(value)),
            ));
        }
    }
    Ok(())
}

fn check_costs(costs: &CostsSpec) -> Checked {
    let CostsSpec::Custom(model) = costs else {
        return Ok(());
    };
    if !(1..=MAX_CORES).contains(&model.cores) {
        return Err(refuse(
            "costs.cores",
            format!(
                "{} cores: a validator has at least 1 and at most {MAX_CORES} CPU cores",
                model.cores
            ),
        ));
    }
    let operations = [
        ("sign", model.sign),
        ("verify_vote", model.verify_vote),
        ("build_per_tx", model.build_per_tx),
        ("verify_per_tx", model.verify_per_tx),
        ("verify_batch_overhead", model.verify_batch_overhead),
        ("commit_per_tx", model.commit_per_tx),
        ("commit_per_block", model.commit_per_block),
    ];
    for (name, cost) in operations {
        if cost > MAX_STEP {
            return Err(refuse(
                format!("costs.{name}"),
                format!(
                    "{} is too long: one operation costs at most 1h",
                    fmt_duration(cost)
                ),
            ));
        }
    }
    if model.base_memory_mb > MAX_BASE_MEMORY_MB {
        return Err(refuse(
            "costs.base_memory_mb",
            format!(
                "{} MB: an idle validator's memory is at most {MAX_BASE_MEMORY_MB} MB (1 TiB)",
                model.base_memory_mb
            ),
        ));
    }
    Ok(())
}

fn check_app(app: &AppSpec) -> Checked {
    let delays = [
        ("prepare_proposal_delay", app.prepare_proposal_delay),
        ("process_proposal_delay", app.process_proposal_delay),
        ("check_tx_delay", app.check_tx_delay),
        ("vote_extension_delay", app.vote_extension_delay),
        ("finalize_block_delay", app.finalize_block_delay),
    ];
    for (name, delay) in delays {
        if delay > MAX_STEP {
            return Err(refuse(
                format!("app.{name}"),
                format!(
                    "{} is too long: one ABCI call waits at most 1h",
                    fmt_duration(delay)
                ),
            ));
        }
    }
    Ok(())
}

fn check_targets(t: &PerformanceTargets) -> Checked {
    for (name, value, unit) in [
        (
            "target_throughput",
            t.target_throughput,
            "transactions per second",
        ),
        ("max_cpu_usage", t.max_cpu_usage, "percent"),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(refuse(
                format!("targets.{name}"),
                format!("{value}: must be a finite number of {unit}, 0 or more"),
            ));
        }
    }
    Ok(())
}
