//! `network.gossip: direct` is the original model, kept byte for byte for analytic work: the
//! built-in scenarios under it give exactly the trace hashes they gave before the CometBFT gossip
//! layer existed. A change to these hashes is a change to the direct model: make it on purpose.

use consensus_performance::config::{GossipModel, resolve_scenario};
use consensus_performance::sim;

/// (built-in, seed, trace hash, heights, events) as measured before the gossip layer, but for
/// `byzantine_fault`: its equivocators' second votes now count toward their values and reach
/// the other side of the split, and a validator that missed a commit gets its certificate late
/// rather than never (137 heights and 34,360 events before, hash 5d61a02ae5633c83).
const PINNED: [(&str, u64, &str, u64, u64); 4] = [
    ("baseline", 1, "8e4b82f73ae1d796", 55, 2242),
    ("high_load", 1, "e3224fa95cb9c10f", 217, 25153),
    ("byzantine_fault", 1, "4c27c5782ed54e3c", 136, 35659),
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
