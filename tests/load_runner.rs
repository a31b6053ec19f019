//! `load.send_period`: transactions sent as CometBFT's load runner sends them, one batch of
//! `transaction_rate × send_period` every period from one period on, none at the run's end.

use consensus_performance::config::parse_scenario;
use consensus_performance::sim::{self, Simulation};

/// Four validators on 10 ms links, no costs, no `timeout_commit`, `gossip: direct`: every height
/// takes exactly 30 ms, the next proposal leaves at the commit.
fn four(load: &str) -> String {
    format!(
        "duration: 10s\nvalidators: {{ count: 4 }}\n\
         network: {{ gossip: direct, latency: {{ distribution: constant, mean: 10ms }} }}\n\
         load: {load}\nparameters: {{ block_interval: 0s }}\ncosts: none\n"
    )
}

#[test]
fn a_batch_a_second_waits_for_the_next_30_ms_proposal() {
    let scenario =
        parse_scenario(&four("{ transaction_rate: 100, send_period: 1s }"), "t").unwrap();
    let r = sim::run(&scenario, 1).unwrap();
    assert!(r.safety.held());
    // Batches at 1 s … 9 s (the one at 10 s coincides with the end and is not sent), 100 each,
    // every one committed.
    assert_eq!(r.transactions_committed, 900);
    assert_eq!(r.transactions_dropped, 0);
    // Proposals leave every 30 ms from 0, so the batch at k s goes in the proposal at the next
    // multiple of 30 ms and commits 30 ms later: k = 1 → 1020 + 30 − 1000 = 50 ms, k = 2 → 40,
    // k = 3 → 30 (a proposal at 3000 ms exactly), repeating. Mean 40 ms.
    let close = |a: f64, b: f64| (a - b).abs() <= b * 2e-3;
    assert!(close(r.latency_s.max, 0.050), "{:?}", r.latency_s);
    assert!(close(r.latency_s.mean, 0.040), "{:?}", r.latency_s);
    let mut sim = Simulation::new(&scenario, 1).unwrap();
    sim.start();
    while sim.step() {}
    let latencies = sim.transaction_latencies();
    assert!(
        close(latencies.min() as f64 / 1e9, 0.030),
        "min {}",
        latencies.min()
    );
    assert_eq!(latencies.len(), 900);
    // A third of the transactions at each of 30, 40 and 50 ms.
    assert_eq!(latencies.count_between(29_000_000, 31_000_000), 300);
    assert_eq!(latencies.count_between(39_000_000, 41_000_000), 300);
}

#[test]
fn a_batch_beyond_the_mempool_size_is_cut_at_it() {
    // `mempool.size` 60: each batch of 100 arrives at an empty mempool (the previous one was
    // committed 50 ms after it arrived), 60 are admitted and 40 refused.
    let text = four("{ transaction_rate: 100, send_period: 1s, mempool: { size: 60 } }");
    let r = sim::run(&parse_scenario(&text, "t").unwrap(), 1).unwrap();
    assert_eq!(r.transactions_committed, 9 * 60);
    assert_eq!(r.transactions_dropped, 9 * 40);
}

#[test]
fn half_second_periods_send_half_the_rate_each_time_and_no_period_is_poisson() {
    let text = four("{ transaction_rate: 100, send_period: 500ms }");
    let r = sim::run(&parse_scenario(&text, "t").unwrap(), 1).unwrap();
    // 19 batches (0.5 s … 9.5 s) of 50.
    assert_eq!(r.transactions_committed, 19 * 50);
    // Without `send_period`, Poisson arrivals at the same rate: a count drawn from the seed
    // (not the 1000 of ten batches), each waiting at most one 30 ms height for a proposal and
    // one for its commit.
    let poisson = sim::run(
        &parse_scenario(&four("{ transaction_rate: 100 }"), "t").unwrap(),
        1,
    )
    .unwrap();
    assert!(poisson.latency_s.max <= 0.0601, "{:?}", poisson.latency_s);
    assert_ne!(poisson.transactions_committed, 1000);
}

#[test]
fn a_zero_or_hour_long_send_period_is_refused() {
    for period in ["0s", "2h"] {
        let text = four(&format!(
            "{{ transaction_rate: 100, send_period: {period} }}"
        ));
        let err = parse_scenario(&text, "t").expect_err("refused");
        assert!(err.to_string().contains("load.send_period"), "{err}");
    }
}

#[test]
fn the_qa_latency_ends_at_the_precommits_median_time_one_hop_before_the_commit() {
    // CometBFT's QA (test/loadtime/report) takes a transaction's latency to the next block's
    // time, the weighted median of the precommit times. Here every validator signs its
    // precommit 20 ms into the 30 ms height (proposal and prevote hops), so each latency is
    // 10 ms shorter than to the commit: 20, 30 and 40 ms a third each, mean 30 ms.
    let scenario =
        parse_scenario(&four("{ transaction_rate: 100, send_period: 1s }"), "t").unwrap();
    let mut sim = Simulation::new(&scenario, 1).unwrap();
    sim.start();
    while sim.step() {}
    let (commit, bft) = (
        sim.transaction_latencies(),
        sim.transaction_latencies_bft_time(),
    );
    assert_eq!(bft.len(), 900);
    assert!(
        (commit.mean() / 1e6 - 40.0).abs() < 0.1,
        "{}",
        commit.mean()
    );
    assert!((bft.mean() / 1e6 - 30.0).abs() < 0.1, "{}", bft.mean());
    assert_eq!(bft.count_between(19_000_000, 21_000_000), 300);
    assert_eq!(bft.count_between(39_000_000, 41_000_000), 300);
}
