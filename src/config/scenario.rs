//! The scenario file: what a run simulates. Unknown fields are refused; every value is validated.

use crate::params::{OptimizationParameters, PerformanceTargets};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One simulated chain: validators, network, load, faults, parameters, and success criteria.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, used in reports.
    #[serde(default = "default_name")]
    pub name: String,
    /// One line for people.
    #[serde(default)]
    pub description: String,
    /// Master seed of the run (`--seed` overrides it).
    #[serde(default)]
    pub seed: u64,
    /// Virtual time to simulate.
    #[serde(with = "crate::config::duration")]
    pub duration: Duration,
    /// The validator set.
    pub validators: ValidatorsSpec,
    /// The network between validators.
    #[serde(default)]
    pub network: NetworkSpec,
    /// The transaction load.
    #[serde(default)]
    pub load: LoadSpec,
    /// Byzantine validators, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byzantine: Option<ByzantineSpec>,
    /// Consensus parameters (CometBFT defaults).
    #[serde(default)]
    pub parameters: OptimizationParameters,
    /// Per-operation processing costs.
    #[serde(default)]
    pub costs: CostsSpec,
    /// The application's ABCI behaviour: CometBFT's e2e application options (all off by
    /// default).
    #[serde(default, skip_serializing_if = "AppSpec::is_off")]
    pub app: AppSpec,
    /// Success criteria; none means the run only has to be safe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<PerformanceTargets>,
}

fn default_name() -> String {
    "unnamed".to_string()
}

/// How many validators and with what power.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorsSpec {
    /// Number of validators.
    pub count: u32,
    /// Voting power per validator (default: 1 each, equal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voting_power: Option<Vec<u64>>,
}

/// Shape of the network graph.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topology {
    /// Every pair connected.
    #[default]
    FullMesh,
    /// Each validator linked to the next, the last to the first.
    Ring,
    /// Validator 0 in the middle, linked to all others.
    Star,
    /// A random graph where every validator has `degree` links (drawn from the seed).
    RandomRegular,
    /// The links listed in `edges`.
    Explicit,
}

/// Latency of one link, drawn per message.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "distribution", rename_all = "snake_case")]
pub enum LatencySpec {
    /// Always `mean`.
    Constant {
        /// The latency.
        #[serde(with = "crate::config::duration")]
        mean: Duration,
    },
    /// Uniform in `[min, max]`.
    Uniform {
        /// Lower bound.
        #[serde(with = "crate::config::duration")]
        min: Duration,
        /// Upper bound.
        #[serde(with = "crate::config::duration")]
        max: Duration,
    },
    /// Normal, truncated at zero.
    Normal {
        /// Mean.
        #[serde(with = "crate::config::duration")]
        mean: Duration,
        /// Standard deviation.
        #[serde(with = "crate::config::duration")]
        stddev: Duration,
    },
    /// Log-normal with this mean and standard deviation (of the latency itself).
    Lognormal {
        /// Mean.
        #[serde(with = "crate::config::duration")]
        mean: Duration,
        /// Standard deviation.
        #[serde(with = "crate::config::duration")]
        stddev: Duration,
    },
    /// Exponential with this mean.
    Exponential {
        /// Mean.
        #[serde(with = "crate::config::duration")]
        mean: Duration,
    },
}

impl<'de> Deserialize<'de> for LatencySpec {
    /// By hand rather than an internally tagged derive, so that a missing or extra parameter is
    /// reported at `network.latency.<parameter>` with the position of the latency.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LatencyVisitor;

        impl<'de> serde::de::Visitor<'de> for LatencyVisitor {
            type Value = LatencySpec;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a latency like `{ distribution: constant, mean: 50ms }`")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<LatencySpec, A::Error> {
                RawLatency::deserialize(serde::de::value::MapAccessDeserializer::new(map))?
                    .into_spec()
                    .map_err(serde::de::Error::custom)
            }
        }

        d.deserialize_map(LatencyVisitor)
    }
}

/// A latency as written: the distribution and whichever parameters were given.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLatency {
    distribution: Distribution,
    #[serde(default, with = "crate::config::duration::option")]
    mean: Option<Duration>,
    #[serde(default, with = "crate::config::duration::option")]
    min: Option<Duration>,
    #[serde(default, with = "crate::config::duration::option")]
    max: Option<Duration>,
    #[serde(default, with = "crate::config::duration::option")]
    stddev: Option<Duration>,
}

/// The `distribution:` of a latency.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Distribution {
    Constant,
    Uniform,
    Normal,
    Lognormal,
    Exponential,
}

impl RawLatency {
    /// The latency, if exactly the distribution's parameters were given.
    fn into_spec(self) -> Result<LatencySpec, String> {
        let (name, takes): (&str, &[&str]) = match self.distribution {
            Distribution::Constant => ("constant", &["mean"]),
            Distribution::Uniform => ("uniform", &["min", "max"]),
            Distribution::Normal => ("normal", &["mean", "stddev"]),
            Distribution::Lognormal => ("lognormal", &["mean", "stddev"]),
            Distribution::Exponential => ("exponential", &["mean"]),
        };
        let takes_text = takes
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        let given = [
            ("mean", self.mean),
            ("min", self.min),
            ("max", self.max),
            ("stddev", self.stddev),
        ];
        for (key, value) in given {
            if value.is_some() && !takes.contains(&key) {
                return Err(format!(
                    "unknown field `{key}` for distribution `{name}`, which takes {takes_text}"
                ));
            }
            if value.is_none() && takes.contains(&key) {
                return Err(format!(
                    "missing field `{key}`: distribution `{name}` takes {takes_text}"
                ));
            }
        }
        let (mean, min, max, stddev) = (
            self.mean.unwrap_or_default(),
            self.min.unwrap_or_default(),
            self.max.unwrap_or_default(),
            self.stddev.unwrap_or_default(),
        );
        Ok(match self.distribution {
            Distribution::Constant => LatencySpec::Constant { mean },
            Distribution::Uniform => LatencySpec::Uniform { min, max },
            Distribution::Normal => LatencySpec::Normal { mean, stddev },
            Distribution::Lognormal => LatencySpec::Lognormal { mean, stddev },
            Distribution::Exponential => LatencySpec::Exponential { mean },
        })
    }
}

impl LatencySpec {
    /// The mean latency of the distribution (routing weight).
    pub fn mean(&self) -> Duration {
        match *self {
            LatencySpec::Constant { mean }
            | LatencySpec::Normal { mean, .. }
            | LatencySpec::Lognormal { mean, .. }
            | LatencySpec::Exponential { mean } => mean,
            LatencySpec::Uniform { min, max } => (min + max) / 2,
        }
    }
}

impl Default for LatencySpec {
    fn default() -> Self {
        LatencySpec::Constant {
            mean: Duration::from_millis(50),
        }
    }
}

/// A partition: from `at` until `heal_at` (forever when absent), validators in different
/// `groups` cannot reach each other. Validators in no group form one more group together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionSpec {
    /// When it opens.
    #[serde(with = "crate::config::duration")]
    pub at: Duration,
    /// When it heals.
    #[serde(
        default,
        with = "crate::config::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub heal_at: Option<Duration>,
    /// The sides, as lists of validator indices.
    pub groups: Vec<Vec<u16>>,
}

/// The network between validators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSpec {
    /// Graph shape.
    pub topology: Topology,
    /// Links per validator for `random_regular`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degree: Option<u32>,
    /// Links for `explicit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edges: Option<Vec<[u16; 2]>>,
    /// Latency of every link.
    pub latency: LatencySpec,
    /// Link bandwidth in megabits per second; none is unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_mbps: Option<f64>,
    /// Probability that one transmission over a link is lost, in [0, 1).
    pub loss: f64,
    /// Gossip resends a lost or blocked message after this long.
    #[serde(with = "crate::config::duration")]
    pub gossip_interval: Duration,
    /// Partitions that open and heal.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<PartitionSpec>,
    /// How messages travel: CometBFT's peer-to-peer gossip, or straight from the signer.
    pub gossip: GossipModel,
    /// Nodes placed in named cloud regions: every hop takes half the measured median round-trip
    /// time of its two regions (with `region_jitter`) instead of `latency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions: Option<RegionsSpec>,
    /// Standard deviation of a region hop's latency as a fraction of its mean (default 0.05, as
    /// CometBFT's QA latency emulation sets with netem); only with `regions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_jitter: Option<f64>,
    /// Non-voting nodes (sentries, RPC nodes) that relay gossip and keep a mempool; indexed
    /// after the validators. Only with `gossip: cometbft`.
    pub full_nodes: u32,
    /// CometBFT's `[p2p]` and `[consensus]` gossip settings (with `gossip: cometbft`).
    pub p2p: P2pSpec,
}

/// CometBFT's peer-to-peer settings, with CometBFT's defaults (config/config.go,
/// docs "config.toml" reference).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pSpec {
    /// `p2p.max_num_outbound_peers` (default 10): peers each node dials.
    pub max_num_outbound_peers: u32,
    /// `p2p.max_num_inbound_peers` (default 40): dials a node accepts.
    pub max_num_inbound_peers: u32,
    /// `p2p.send_rate` in bytes per second per connection (default 5120000).
    pub send_rate: u64,
    /// `p2p.recv_rate` in bytes per second per connection (default 5120000).
    pub recv_rate: u64,
    /// `p2p.flush_throttle_timeout` (default 100ms): how long written messages may wait in a
    /// connection's buffer before it is flushed.
    #[serde(with = "crate::config::duration")]
    pub flush_throttle_timeout: Duration,
    /// `consensus.peer_gossip_sleep_duration` (default 100ms): how long a peer's gossip routine
    /// sleeps when it has nothing to send.
    #[serde(with = "crate::config::duration")]
    pub peer_gossip_sleep_duration: Duration,
}

impl Default for P2pSpec {
    fn default() -> Self {
        P2pSpec {
            max_num_outbound_peers: 10,
            max_num_inbound_peers: 40,
            send_rate: 5_120_000,
            recv_rate: 5_120_000,
            flush_throttle_timeout: Duration::from_millis(100),
            peer_gossip_sleep_duration: Duration::from_millis(100),
        }
    }
}

/// Where the nodes are: named cloud regions (`ccperf regions` lists them), validators first in
/// index order, then full nodes.
#[derive(Clone, Debug, PartialEq)]
pub enum RegionsSpec {
    /// `{ us-east-1: 30, eu-west-1: 20 }`: that many nodes in each region, in the order written.
    Counts(Vec<(String, u32)>),
    /// `[us-east-1, eu-west-1, ...]`: the region of each node.
    PerNode(Vec<String>),
    /// `{ random: [us-east-1, eu-west-1] }`: each node in one of these, drawn from the seed.
    Random(Vec<String>),
    /// `{ round_robin: [us-east-1, eu-west-1] }`: node `i` in the `i mod len`-th of these.
    RoundRobin(Vec<String>),
}

impl RegionsSpec {
    /// Every region name written, in the order written.
    pub fn names(&self) -> Vec<&str> {
        match self {
            RegionsSpec::Counts(counts) => counts.iter().map(|(r, _)| r.as_str()).collect(),
            RegionsSpec::PerNode(list)
            | RegionsSpec::Random(list)
            | RegionsSpec::RoundRobin(list) => list.iter().map(String::as_str).collect(),
        }
    }
}

/// The keys that make `regions:` a placement rule rather than counts.
const REGIONS_RANDOM: &str = "random";
const REGIONS_ROUND_ROBIN: &str = "round_robin";

/// What `regions:` may be, for error messages.
const REGIONS_EXPECTED: &str = "a map of node counts per region (`{ us-east-1: 30, eu-west-1: 20 }`), \
     a list with one region per node, `{ random: [regions] }` or `{ round_robin: [regions] }`";

impl Serialize for RegionsSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            RegionsSpec::Counts(counts) => {
                let mut map = s.serialize_map(Some(counts.len()))?;
                for (region, count) in counts {
                    map.serialize_entry(region, count)?;
                }
                map.end()
            }
            RegionsSpec::PerNode(list) => list.serialize(s),
            RegionsSpec::Random(list) | RegionsSpec::RoundRobin(list) => {
                let key = if matches!(self, RegionsSpec::Random(_)) {
                    REGIONS_RANDOM
                } else {
                    REGIONS_ROUND_ROBIN
                };
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(key, list)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for RegionsSpec {
    /// By hand: a map is counts unless its one key is `random` or `round_robin`; counts keep
    /// the order written (it decides which nodes go where) and a region may appear once.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RegionsVisitor;

        impl<'de> serde::de::Visitor<'de> for RegionsVisitor {
            type Value = RegionsSpec;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(REGIONS_EXPECTED)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RegionsSpec, A::Error> {
                let mut list = Vec::new();
                while let Some(region) = seq.next_element::<String>()? {
                    list.push(region);
                }
                Ok(RegionsSpec::PerNode(list))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RegionsSpec, A::Error> {
                use serde::de::Error;
                let mut counts: Vec<(String, u32)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == REGIONS_RANDOM || key == REGIONS_ROUND_ROBIN {
                        let list = map.next_value::<Vec<String>>()?;
                        if !counts.is_empty() || map.next_key::<String>()?.is_some() {
                            return Err(A::Error::custom(format!(
                                "`{key}` takes the list of regions to place nodes in and stands \
                                 alone: write `regions: {{ {key}: [us-east-1, eu-west-1] }}`"
                            )));
                        }
                        return Ok(if key == REGIONS_RANDOM {
                            RegionsSpec::Random(list)
                        } else {
                            RegionsSpec::RoundRobin(list)
                        });
                    }
                    let count = map.next_value::<u32>()?;
                    if counts.iter().any(|(r, _)| *r == key) {
                        return Err(A::Error::custom(format!(
                            "region `{key}` is listed twice: give each region's node count once"
                        )));
                    }
                    counts.push((key, count));
                }
                Ok(RegionsSpec::Counts(counts))
            }
        }

        d.deserialize_any(RegionsVisitor)
    }
}

/// How consensus messages, blocks and transactions travel between nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GossipModel {
    /// CometBFT's gossip layer: votes and block parts relayed peer to peer over a sparse peer
    /// graph, per-node mempools fed by the mempool reactor, rate-limited connections.
    #[default]
    Cometbft,
    /// Every message straight from its signer to each validator over the lowest-latency path
    /// (the analytic model: exact message delays, one shared mempool).
    Direct,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            topology: Topology::FullMesh,
            degree: None,
            edges: None,
            latency: LatencySpec::default(),
            bandwidth_mbps: None,
            loss: 0.0,
            gossip_interval: Duration::from_millis(100),
            partitions: Vec::new(),
            gossip: GossipModel::default(),
            regions: None,
            region_jitter: None,
            full_nodes: 0,
            p2p: P2pSpec::default(),
        }
    }
}

/// The transaction load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoadSpec {
    /// Arrival rate, transactions per second; 0 gives empty blocks.
    pub transaction_rate: f64,
    /// How the clients send (absent: Poisson arrivals at `transaction_rate`). Set, it is the
    /// `--send-period` of CometBFT's load runner (`test/loadtime/cmd/load`, built on
    /// informalsystems/tm-load-test, default 1 s, as the QA runs used it): every period, from
    /// one period after the start (Go's `time.NewTicker`), one batch of
    /// `transaction_rate × send_period` transactions sent back to back
    /// (`Transactor.sendTransactions`); none at or after the run's end, where the load
    /// runner's time limit fires with the last tick (so a 90 s run gets 89 batches, as
    /// CometBFT's QA counts 89 s of load in 90).
    #[serde(
        default,
        with = "crate::config::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub send_period: Option<Duration>,
    /// Size of one transaction in bytes.
    pub tx_size: u32,
    /// The nodes clients submit transactions to (with `gossip: cometbft`): a count, drawn from
    /// the seed among the full nodes (or the validators when there are none), or a list of
    /// node indices (full nodes are numbered after the validators).
    pub entry_nodes: EntryNodes,
    /// CometBFT's `[mempool]` limits.
    pub mempool: MempoolSpec,
}

/// Which nodes clients submit transactions to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EntryNodes {
    /// This many, drawn from the seed.
    Count(u32),
    /// These node indices.
    List(Vec<u16>),
}

impl Default for EntryNodes {
    fn default() -> Self {
        EntryNodes::Count(1)
    }
}

/// CometBFT's mempool limits (config.toml `[mempool]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolSpec {
    /// `mempool.size` (default 5000): transactions a mempool holds; more are refused.
    pub size: u32,
    /// `mempool.max_txs_bytes` (default 1073741824): bytes a mempool holds.
    pub max_txs_bytes: u64,
}

impl Default for MempoolSpec {
    fn default() -> Self {
        MempoolSpec {
            size: 5_000,
            max_txs_bytes: 1 << 30,
        }
    }
}

impl Default for LoadSpec {
    fn default() -> Self {
        LoadSpec {
            transaction_rate: 100.0,
            tx_size: 250,
            send_period: None,
            entry_nodes: EntryNodes::default(),
            mempool: MempoolSpec::default(),
        }
    }
}

/// What a Byzantine validator does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ByzantineBehavior {
    /// Crashed: sends nothing.
    Silent,
    /// Conflicting proposals to different peers and double votes (coordinated).
    Equivocate,
    /// Ignores its lock.
    Amnesia,
    /// Sends everything late by `delay`.
    Delay,
    /// Never sends precommits.
    WithholdPrecommits,
}

impl ByzantineBehavior {
    /// The name a scenario file uses: `silent`, `withhold_precommits`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            ByzantineBehavior::Silent => "silent",
            ByzantineBehavior::Equivocate => "equivocate",
            ByzantineBehavior::Amnesia => "amnesia",
            ByzantineBehavior::Delay => "delay",
            ByzantineBehavior::WithholdPrecommits => "withhold_precommits",
        }
    }
}

/// Which validators are Byzantine and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByzantineSpec {
    /// How many (or use `ratio` or `validators`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Fraction of the validators, in [0, 1], rounded down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// What they do.
    pub behavior: ByzantineBehavior,
    /// Exactly these validators; default drawn from the seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validators: Option<Vec<u16>>,
    /// Extra delay for `delay`.
    #[serde(default = "default_byzantine_delay", with = "crate::config::duration")]
    pub delay: Duration,
}

fn default_byzantine_delay() -> Duration {
    Duration::from_secs(1)
}

/// The application the nodes run, as CometBFT's e2e application (`test/e2e/app/app.go`, the
/// one its QA testnets ran) is configured by its testnet manifest (`test/e2e/pkg/manifest.go`,
/// v0.38.0-alpha.2). Every option is off by default; each is named after its manifest key.
///
/// A delay is the e2e application's `time.Sleep` inside that ABCI call: the node waits (the
/// ABCI call is synchronous) but burns no CPU.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppSpec {
    /// `vote_extensions_enable_height` (consensus param `abci.vote_extensions_enable_height`,
    /// default 0 = off): from this height on every non-nil precommit carries a vote extension
    /// and its signature (`consensus/state.go`, `signVote` and `addVote`): the signer signs
    /// twice, every other node verifies the extension's signature too, and the next height's
    /// PrepareProposal (at the proposer) and ProcessProposal (at every node) verify the
    /// extension signatures of the last commit again (`verifyAndSum`), carried in the block as
    /// a transaction holding the extended commit.
    pub vote_extensions_enable_height: u64,
    /// `prepare_proposal_delay` (default 0).
    #[serde(with = "crate::config::duration")]
    pub prepare_proposal_delay: Duration,
    /// `process_proposal_delay` (default 0).
    #[serde(with = "crate::config::duration")]
    pub process_proposal_delay: Duration,
    /// `check_tx_delay` (default 0): every CheckTx, rechecks included.
    #[serde(with = "crate::config::duration")]
    pub check_tx_delay: Duration,
    /// `vote_extension_delay` (default 0): ExtendVote, once per extended precommit.
    #[serde(with = "crate::config::duration")]
    pub vote_extension_delay: Duration,
    /// `finalize_block_delay` (default 0).
    #[serde(with = "crate::config::duration")]
    pub finalize_block_delay: Duration,
}

impl AppSpec {
    /// True when nothing is set (the scenario prints without an `app:` section).
    pub fn is_off(&self) -> bool {
        *self == AppSpec::default()
    }

    /// Whether precommits of `height` carry vote extensions.
    pub fn extensions_at(&self, height: u64) -> bool {
        self.vote_extensions_enable_height != 0 && height >= self.vote_extensions_enable_height
    }
}

/// Per-operation processing costs of a validator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CostModel {
    /// CPU cores per validator (parallel verification spreads batches over them).
    pub cores: u32,
    /// Signing one vote or proposal.
    #[serde(with = "crate::config::duration")]
    pub sign: Duration,
    /// Verifying one vote's signature.
    #[serde(with = "crate::config::duration")]
    pub verify_vote: Duration,
    /// Building a block, per transaction.
    #[serde(with = "crate::config::duration")]
    pub build_per_tx: Duration,
    /// Verifying one transaction.
    #[serde(with = "crate::config::duration")]
    pub verify_per_tx: Duration,
    /// Fixed cost of one verification batch.
    #[serde(with = "crate::config::duration")]
    pub verify_batch_overhead: Duration,
    /// Executing one committed transaction.
    #[serde(with = "crate::config::duration")]
    pub commit_per_tx: Duration,
    /// Fixed cost of committing a block (state write, fsync).
    #[serde(with = "crate::config::duration")]
    pub commit_per_block: Duration,
    /// Resident memory of an idle validator, megabytes.
    pub base_memory_mb: u64,
    /// CheckTx of one transaction, on arrival in a node's mempool and again at each recheck
    /// after a block (with `gossip: cometbft`).
    #[serde(with = "crate::config::duration")]
    pub check_tx: Duration,
}

impl CostModel {
    /// Zero cost for everything: for analytic cases.
    pub fn zero() -> Self {
        CostModel {
            cores: 1,
            sign: Duration::ZERO,
            verify_vote: Duration::ZERO,
            build_per_tx: Duration::ZERO,
            verify_per_tx: Duration::ZERO,
            verify_batch_overhead: Duration::ZERO,
            commit_per_tx: Duration::ZERO,
            commit_per_block: Duration::ZERO,
            base_memory_mb: 0,
            check_tx: Duration::ZERO,
        }
    }
}

impl Default for CostModel {
    /// Costs of a commodity 4-core validator with ed25519 signatures.
    fn default() -> Self {
        CostModel {
            cores: 4,
            sign: Duration::from_micros(30),
            verify_vote: Duration::from_micros(60),
            build_per_tx: Duration::from_micros(2),
            verify_per_tx: Duration::from_micros(60),
            verify_batch_overhead: Duration::from_micros(200),
            commit_per_tx: Duration::from_micros(20),
            commit_per_block: Duration::from_millis(5),
            base_memory_mb: 256,
            // The kvstore application's CheckTx parses `key=value` and answers: the cost is
            // CometBFT's mempool path (hashing, the cache, the local ABCI call), tens of µs.
            check_tx: Duration::from_micros(20),
        }
    }
}

/// `costs:` is `none` (zero cost), `default`, or a map of costs.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CostsSpec {
    /// `none` or `default`.
    Preset(CostPreset),
    /// Explicit per-operation costs (missing ones take the default).
    Custom(CostModel),
}

/// Named cost models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostPreset {
    /// Zero processing cost.
    None,
    /// `CostModel::default()`.
    Default,
}

impl Default for CostsSpec {
    fn default() -> Self {
        CostsSpec::Preset(CostPreset::Default)
    }
}

/// What `costs:` may be, for error messages.
const COSTS_EXPECTED: &str = "`none`, `default` or a map of costs (cores, sign, verify_vote, \
     build_per_tx, verify_per_tx, verify_batch_overhead, commit_per_tx, commit_per_block, \
     base_memory_mb)";

impl<'de> Deserialize<'de> for CostsSpec {
    /// By hand rather than `untagged`, so that a bad value says what `costs:` may be and an
    /// error inside the map keeps its field and position.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CostsVisitor;

        impl<'de> serde::de::Visitor<'de> for CostsVisitor {
            type Value = CostsSpec;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(COSTS_EXPECTED)
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CostsSpec, E> {
                match v {
                    "none" => Ok(CostsSpec::Preset(CostPreset::None)),
                    "default" => Ok(CostsSpec::Preset(CostPreset::Default)),
                    other => Err(E::custom(format!(
                        "unknown cost preset `{other}`: expected {COSTS_EXPECTED}"
                    ))),
                }
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<CostsSpec, E> {
                Ok(CostsSpec::default())
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<CostsSpec, A::Error> {
                CostModel::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(CostsSpec::Custom)
            }
        }

        d.deserialize_any(CostsVisitor)
    }
}

impl CostsSpec {
    /// The cost model this spec stands for.
    pub fn model(&self) -> CostModel {
        match self {
            CostsSpec::Preset(CostPreset::None) => CostModel::zero(),
            CostsSpec::Preset(CostPreset::Default) => CostModel::default(),
            CostsSpec::Custom(m) => m.clone(),
        }
    }
}
