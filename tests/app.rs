//! The application's ABCI behaviour (`app:`), after CometBFT's e2e application and its manifest
//! options: the delays of its ABCI calls, and vote extensions with their signatures.

use consensus_performance::config::{parse_scenario, to_yaml};
use consensus_performance::sim;
use consensus_performance::workload::{EXTENDED_VOTE_INFO_BYTES, extension_tx_bytes};

/// Four validators on 10 ms links, no `timeout_commit`, no load, `gossip: direct`.
fn four(costs: &str, app: &str) -> String {
    format!(
        "duration: 3s\nvalidators: {{ count: 4 }}\n\
         network: {{ gossip: direct, latency: {{ distribution: constant, mean: 10ms }} }}\n\
         load: {{ transaction_rate: 0 }}\nparameters: {{ block_interval: 0s }}\n\
         costs: {costs}\n{app}"
    )
}

/// Milliseconds from each of the observer's commits to the next (the first from 0).
fn height_ms(text: &str) -> Vec<i64> {
    let scenario = parse_scenario(text, "t").unwrap();
    let r = sim::run(&scenario, 1).unwrap();
    assert!(r.safety.held());
    let mut previous = 0.0;
    r.heights
        .iter()
        .map(|h| {
            let took = ((h.commit_time_s - previous) * 1e3).round() as i64;
            previous = h.commit_time_s;
            took
        })
        .collect()
}

#[test]
fn abci_delays_add_to_every_height_on_the_critical_path() {
    // Without costs a height is three 10 ms hops (proposal, prevotes, precommits). The proposer
    // waits prepare_proposal_delay before it proposes, every validator waits
    // process_proposal_delay before it prevotes, and finalize_block_delay after it commits
    // (the observer's commit counts once its block is finalised, the next proposer starts
    // after its own): 30 + 200 + 300 + 50 ms.
    let plain = height_ms(&four("none", ""));
    assert!(
        plain.len() > 50 && plain.iter().all(|&ms| ms == 30),
        "{plain:?}"
    );
    let app = "app: { prepare_proposal_delay: 200ms, process_proposal_delay: 300ms, \
               finalize_block_delay: 50ms, check_tx_delay: 7ms }\n";
    let delayed = height_ms(&four("none", app));
    // 3 s / 580 ms: five heights.
    assert_eq!(delayed, vec![580; 5]);
    // A delay is waited, not computed: the CPU stays at zero.
    let scenario = parse_scenario(&four("none", app), "t").unwrap();
    assert_eq!(sim::run(&scenario, 1).unwrap().resources.cpu_percent, 0.0);
}

#[test]
fn vote_extensions_sign_and_verify_each_precommit_twice_and_the_last_commit_in_both_proposal_calls()
{
    // One core, 1 ms per signature verification, everything else free. Without extensions a
    // height (after the first) is 35 ms: the proposer verifies the last of the previous
    // height's three precommits (1 ms after the quorum), its proposal crosses (10) and is
    // verified (1); the others' prevotes cross (10), the second arriving one gives the quorum
    // (1); the precommits cross (10) and two are verified (2).
    let costs = "{ cores: 1, sign: 0ms, verify_vote: 1ms, build_per_tx: 0ms, verify_per_tx: 0ms, \
                 verify_batch_overhead: 0ms, commit_per_tx: 0ms, commit_per_block: 0ms, \
                 check_tx: 0ms }";
    let plain = height_ms(&four(costs, ""));
    assert_eq!(plain[0], 34, "no earlier precommit to finish at height 1");
    assert!(plain[1..].iter().all(|&ms| ms == 35), "{plain:?}");
    // With extensions from height 1 a precommit costs 2 ms to verify (vote and extension):
    // +2 ms at the observer's quorum, +1 ms for the proposer's trailing third precommit. From
    // height 2 on, PrepareProposal verifies the last commit's 4 extensions (+4 ms before the
    // proposal leaves) and ProcessProposal verifies them again at each receiver (+4 ms before
    // its prevote): 35 + 2 + 1 + 4 + 4 = 46 ms.
    let extended = height_ms(&four(costs, "app: { vote_extensions_enable_height: 1 }\n"));
    assert_eq!(
        extended[0], 36,
        "height 1: only the precommits carry extensions"
    );
    assert!(extended[1..].iter().all(|&ms| ms == 46), "{extended:?}");
    // Enabled from height 3: heights 1 and 2 as without, height 3 pays for its precommits only
    // (its proposal's last commit has none), height 4 on pays for everything.
    let late = height_ms(&four(costs, "app: { vote_extensions_enable_height: 3 }\n"));
    assert_eq!(late[..3], [34, 35, 37], "{late:?}");
    assert!(late[3..].iter().all(|&ms| ms == 46), "{late:?}");
}

#[test]
fn the_extended_commit_transaction_is_two_hex_digits_per_byte_of_each_vote() {
    assert_eq!(extension_tx_bytes(0), 0);
    // 175 validators, as on CometBFT's QA testnet: 34 + 2 × 99 × 175 bytes.
    assert_eq!(EXTENDED_VOTE_INFO_BYTES, 99);
    assert_eq!(extension_tx_bytes(175), 34_684);
}

#[test]
fn app_options_parse_print_back_and_refuse_an_hour_long_call() {
    let text = four(
        "none",
        "app: { vote_extensions_enable_height: 1, check_tx_delay: 3ms }\n",
    );
    let scenario = parse_scenario(&text, "t").unwrap();
    assert_eq!(scenario.app.vote_extensions_enable_height, 1);
    let yaml = to_yaml(&scenario);
    assert!(yaml.contains("vote_extensions_enable_height: 1"), "{yaml}");
    assert_eq!(parse_scenario(&yaml, "back").unwrap(), scenario);
    // Off: no `app:` section printed.
    let off = parse_scenario(&four("none", ""), "t").unwrap();
    assert!(!to_yaml(&off).contains("app:"));

    let err = parse_scenario(&four("none", "app: { finalize_block_delay: 2h }\n"), "t")
        .expect_err("an hour-long call is refused");
    let message = err.to_string();
    assert!(message.contains("app.finalize_block_delay"), "{message}");
    let err = parse_scenario(&four("none", "app: { prepare_proposal_sleep: 1s }\n"), "t")
        .expect_err("unknown key refused");
    assert!(err.to_string().contains("prepare_proposal_sleep"), "{err}");
}
