//! A `delay` Byzantine proposer's block travels like any other block once the delay is over:
//! by block gossip on links of limited bandwidth (`gossip: direct`: the validators that have it
//! relay it), by 64 KiB block parts at the connections' send rate through the peer graph
//! (`gossip: cometbft`). Read from the event log.

use consensus_performance::config::parse_scenario;
use consensus_performance::sim::Simulation;
use serde_json::Value;
use std::sync::{Arc, Mutex};

const DELAY_NS: u64 = 500_000_000;
const LATENCY_NS: u64 = 10_000_000;

/// An event log kept in memory.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Eight validators, blocks of about 200 kB; validator 1, the proposer of height 2, delays
/// everything it sends by 500 ms. The run's events, one JSON object each.
fn events(network: &str) -> Vec<Value> {
    let yaml = format!(
        "name: delayed_block\nduration: 4s\nvalidators: {{ count: 8 }}\n\
         network: {{ {network}, latency: {{ distribution: constant, mean: 10ms }} }}\n\
         load: {{ transaction_rate: 200, tx_size: 1000 }}\n\
         byzantine: {{ validators: [1], behavior: delay, delay: 500ms }}\n\
         parameters: {{ block_interval: 1s }}\ncosts: none\n"
    );
    let scenario = parse_scenario(&yaml, "delay-test").expect("valid scenario");
    let mut sim = Simulation::new(&scenario, 1).expect("builds");
    let log = Log::default();
    sim.log_events(Box::new(log.clone()));
    let report = sim.run_to_end();
    assert_eq!(sim.finish_event_log(), None);
    assert_eq!(
        (report.heights[1].height, report.heights[1].proposer),
        (2, 1)
    );
    let text = String::from_utf8(log.0.lock().unwrap().clone()).expect("utf-8");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

fn ns(e: &Value) -> u64 {
    e["t_ns"].as_u64().expect("t_ns")
}

/// When validator 1 started height 2 (its commit wait of height 1 ended): it proposes then.
fn proposed_at(events: &[Value]) -> u64 {
    events
        .iter()
        .find(|e| {
            e["event"] == "timeout"
                && e["validator"] == 1
                && e["kind"] == "commit"
                && e["height"] == 1
        })
        .map(ns)
        .expect("validator 1 reached height 2")
}

fn is_height_two_proposal(m: &Value) -> bool {
    m["proposal"]["height"] == 2 && m["proposal"]["proposer"] == 1
}

#[test]
fn a_delaying_proposers_block_spreads_by_block_gossip() {
    let events = events("gossip: direct, bandwidth_mbps: 20");
    let proposed = proposed_at(&events);
    let release = proposed + DELAY_NS;
    let held: Vec<u64> = events
        .iter()
        .filter(|e| e["event"] == "release" && is_height_two_proposal(&e["message"]))
        .map(ns)
        .collect();
    assert_eq!(held, vec![release], "held back until the delay is over");
    let arrivals: Vec<(u64, u64)> = events
        .iter()
        .filter(|e| e["event"] == "deliver" && is_height_two_proposal(&e["message"]))
        .map(|e| (ns(e), e["to"].as_u64().unwrap()))
        .collect();
    let mut receivers: Vec<u64> = arrivals.iter().map(|a| a.1).collect();
    receivers.sort_unstable();
    assert_eq!(receivers, vec![0, 2, 3, 4, 5, 6, 7], "one copy each");
    // One copy takes `uplink` on a 20 Mbit/s link: the first arrives after one uplink time;
    // sent by the proposer alone, the seventh would take seven, relayed by those that have it
    // the copies double each uplink time and all seven arrive within three.
    let first = arrivals.iter().map(|a| a.0).min().unwrap() - release;
    let last = arrivals.iter().map(|a| a.0).max().unwrap() - release;
    let uplink = first - LATENCY_NS;
    assert!(uplink > 50_000_000, "a large block: {uplink} ns a copy");
    assert!(
        last <= 3 * (uplink + LATENCY_NS),
        "last copy {last} ns after the release, a copy takes {uplink} ns"
    );
}

#[test]
fn a_delaying_proposers_block_goes_out_in_parts_over_the_peer_graph() {
    let events = events("gossip: cometbft, topology: random_regular, degree: 3");
    let proposed = proposed_at(&events);
    let proposals: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "relay" && is_height_two_proposal(&e["message"]))
        .collect();
    let value = proposals[0]["message"]["proposal"]["value"].clone();
    // Nothing of it is on the wire before the delay is over.
    assert!(
        ns(proposals[0]) >= proposed + DELAY_NS,
        "proposal at {} ns, proposed at {proposed} ns",
        ns(proposals[0])
    );
    let parts: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "part" && e["value"] == value)
        .collect();
    assert!(ns(parts[0]) >= proposed + DELAY_NS);
    // Several 64 KiB parts, every one reaching all seven others.
    let count = parts
        .iter()
        .map(|p| p["index"].as_u64().unwrap())
        .max()
        .unwrap()
        + 1;
    assert!(count >= 3, "{count} parts");
    for to in [0, 2, 3, 4, 5, 6, 7] {
        // Two peers may send the same part before either hears the other did.
        let mut got: Vec<u64> = parts
            .iter()
            .filter(|p| p["to"] == to)
            .map(|p| p["index"].as_u64().unwrap())
            .collect();
        got.sort_unstable();
        got.dedup();
        assert_eq!(got.len() as u64, count, "validator {to} got parts {got:?}");
    }
    // Each validator has three peers: at least four of the seven got the parts relayed. On one
    // connection, parts follow each other no faster than send_rate allows (65,536 bytes at
    // 5,120,000 B/s: 12.8 ms).
    let mut conns: Vec<u64> = parts.iter().map(|p| p["conn"].as_u64().unwrap()).collect();
    conns.sort_unstable();
    conns.dedup();
    assert!(
        conns.len() >= 7,
        "{} connections carried parts",
        conns.len()
    );
    for conn in conns {
        let times: Vec<(u64, u64)> = parts
            .iter()
            .filter(|p| p["conn"] == conn)
            .map(|p| (ns(p), p["index"].as_u64().unwrap()))
            .collect();
        // (The last part is the block's remainder, shorter.)
        for pair in times.windows(2).filter(|pair| pair[1].1 != count - 1) {
            let (earlier, later) = (pair[0].0, pair[1].0);
            assert!(
                later - earlier >= 12_799_000,
                "connection {conn}: parts {} ns apart",
                later - earlier
            );
        }
    }
}
