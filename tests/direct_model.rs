//! `network.gossip: direct` is the original model, kept byte for byte for analytic work: the
//! built-in scenarios under it give exactly the trace hashes they gave before the CometBFT gossip
//! layer existed. A change to these hashes is a change to the direct model: make it on purpose.

use consensus_performance::config::{GossipModel, resolve_scenario};
use consensus_performance::sim;

/// (built-in, seed, trace hash, heights, events) as measured before the gossip layer.
const PINNED: [(&str, u64, &str, u64, u64); 4] = [
    ("baseline", 1, "8e4b82f73ae1d796", 55, 2242),
    ("high_load", 1, "e3224fa95cb9c10f", 217, 25153),
    ("byzantine_fault", 1, "5d61a02ae5633c83", 137, 34360),
    ("network_partition", 1, "e1afb78c2060f574", 153, 17729),
];

#[test]
fn direct_gossip_reproduces_the_pinned_trace_hashes_of_the_builtins() {
    for (name, seed, hash, heights, events) in PINNED {
        let mut scenario = resolve_scenario(name).expect("built-in");
        scenario.network.gossip = GossipModel::Direct;
        let report = sim::run(&scenario, seed).expect("runs");
        assert_eq!(report.trace_hash, hash, "{name} seed {seed}: trace hash");
        assert_eq!(report.heights_committed, heights, "{name}: heights");
        assert_eq!(report.events, events, "{name}: events");
    }
}
