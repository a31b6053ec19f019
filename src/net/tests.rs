use super::*;
use crate::config::{LatencySpec, PartitionSpec};
use crate::sim::rng::{Stream, stream};

const MS: u64 = 1_000_000;

fn constant(ms: u64) -> LatencySpec {
    LatencySpec::Constant {
        mean: Duration::from_millis(ms),
    }
}

fn spec(topology: Topology, latency: LatencySpec) -> NetworkSpec {
    NetworkSpec {
        topology,
        latency,
        ..NetworkSpec::default()
    }
}

fn build(spec: &NetworkSpec, n: usize) -> Network {
    Network::new(spec, n, &mut stream(7, Stream::Topology)).unwrap()
}

fn partition(at_ms: u64, heal_ms: Option<u64>, groups: &[&[u16]]) -> PartitionSpec {
    PartitionSpec {
        at: Duration::from_millis(at_ms),
        heal_at: heal_ms.map(Duration::from_millis),
        groups: groups.iter().map(|g| g.to_vec()).collect(),
    }
}

fn ms(t: u64) -> SimTime {
    SimTime::from_millis(t)
}

#[test]
fn constant_latency_on_a_ring_costs_mean_per_hop() {
    let mut net = build(&spec(Topology::Ring, constant(100)), 6);
    let mut rng = stream(1, Stream::Network);
    assert_eq!(net.hops(0, 3), Some(3));
    assert_eq!(net.hops(0, 5), Some(1));
    assert_eq!(net.hops(1, 4), Some(3));
    assert_eq!(net.mean_latency(0, 2), Some(Duration::from_millis(200)));
    let d = net.send(0, 3, 500, ms(10), &mut rng).unwrap();
    assert_eq!(
        d,
        Delivery {
            at: ms(310),
            attempts: 1
        }
    );
    let d = net.send(4, 5, 500, ms(10), &mut rng).unwrap();
    assert_eq!(d.at, ms(110));
    assert_eq!(
        net.edges(),
        &[(0, 1), (0, 5), (1, 2), (2, 3), (3, 4), (4, 5)]
    );
}

#[test]
fn full_mesh_is_one_hop_everywhere() {
    let mut net = build(&spec(Topology::FullMesh, constant(40)), 5);
    let mut rng = stream(1, Stream::Network);
    assert_eq!(net.edges().len(), 10);
    for s in 0..5u16 {
        for d in (0..5u16).filter(|&d| d != s) {
            assert_eq!(net.hops(s, d), Some(1));
            assert_eq!(net.send(s, d, 100, ms(0), &mut rng).unwrap().at, ms(40));
        }
    }
}

#[test]
fn star_routes_between_leaves_through_the_hub() {
    let mut net = build(&spec(Topology::Star, constant(30)), 5);
    let mut rng = stream(1, Stream::Network);
    assert_eq!(net.edges(), &[(0, 1), (0, 2), (0, 3), (0, 4)]);
    assert_eq!(net.hops(0, 3), Some(1));
    assert_eq!(net.hops(2, 4), Some(2));
    assert_eq!(net.send(2, 4, 1, ms(0), &mut rng).unwrap().at, ms(60));
    assert_eq!(net.send(3, 0, 1, ms(0), &mut rng).unwrap().at, ms(30));
}

#[test]
fn explicit_edges_route_over_the_lowest_latency_path() {
    // A long chain 0-1-2-3-4-5 with a shortcut 0-4: 0 reaches 3 in two hops via 4.
    let mut s = spec(Topology::Explicit, constant(10));
    s.edges = Some(vec![[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [4, 0], [1, 0]]);
    let mut net = build(&s, 6);
    let mut rng = stream(1, Stream::Network);
    assert_eq!(net.edges().len(), 6, "duplicate [1, 0] is merged");
    assert_eq!(net.hops(0, 3), Some(2));
    assert_eq!(net.hops(0, 5), Some(2));
    assert_eq!(net.hops(1, 5), Some(3));
    assert_eq!(net.send(0, 3, 1, ms(5), &mut rng).unwrap().at, ms(25));
}

#[test]
fn uniform_link_latency_stays_in_bounds_through_the_network() {
    let s = spec(
        Topology::FullMesh,
        LatencySpec::Uniform {
            min: Duration::from_millis(10),
            max: Duration::from_millis(20),
        },
    );
    let mut net = build(&s, 2);
    let mut rng = stream(3, Stream::Network);
    let mut sum = 0u64;
    for i in 0..20_000u64 {
        // One second apart: FIFO never holds a message back.
        let now = SimTime::from_secs(i);
        let lat = net
            .send(0, 1, 1, now, &mut rng)
            .unwrap()
            .at
            .nanos_since(now);
        assert!((10 * MS..=20 * MS).contains(&lat), "{lat}");
        sum += lat;
    }
    let mean = sum as f64 / 20_000.0;
    assert!((mean - 15e6).abs() < 0.01 * 15e6, "mean {mean}");
    assert_eq!(net.min_latency(), Duration::from_millis(10));
}

#[test]
fn multi_hop_latency_sums_one_sample_per_hop() {
    // Two hops of exponential(50 ms): mean 100 ms.
    let s = spec(
        Topology::Star,
        LatencySpec::Exponential {
            mean: Duration::from_millis(50),
        },
    );
    let mut net = build(&s, 3);
    let mut rng = stream(3, Stream::Network);
    let mut sum = 0u64;
    for i in 0..20_000u64 {
        let now = SimTime::from_secs(i * 10);
        sum += net
            .send(1, 2, 1, now, &mut rng)
            .unwrap()
            .at
            .nanos_since(now);
    }
    let mean = sum as f64 / 20_000.0;
    assert!((mean - 100e6).abs() < 0.03 * 100e6, "mean {mean}");
    assert_eq!(net.min_latency(), Duration::ZERO);
}

#[test]
fn a_later_send_never_arrives_before_an_earlier_one_on_the_same_link() {
    let s = spec(
        Topology::FullMesh,
        LatencySpec::Exponential {
            mean: Duration::from_millis(100),
        },
    );
    let mut net = build(&s, 3);
    let mut rng = stream(5, Stream::Network);
    let mut last = [SimTime::ZERO; 2];
    let mut held_back = 0;
    for i in 0..2_000u64 {
        let now = SimTime::from_nanos(i * 1_000);
        for (k, dst) in [1u16, 2].into_iter().enumerate() {
            let at = net.send(0, dst, 10, now, &mut rng).unwrap().at;
            assert!(
                at >= last[k],
                "message {i} to {dst} overtook the one before"
            );
            if at == last[k] {
                held_back += 1;
            }
            last[k] = at;
        }
    }
    // 1 µs apart with 100 ms jitter: most messages wait for an earlier one.
    assert!(held_back > 1_000, "held back {held_back}");
    // Links are independent: the reverse direction is not held back by them.
    let back = net.send(1, 0, 10, SimTime::ZERO, &mut rng).unwrap().at;
    assert!(back < last[0]);
}

#[test]
fn one_megabyte_at_8_mbps_takes_one_second_more_and_queues_on_the_uplink() {
    let mut s = spec(Topology::Star, constant(100));
    s.bandwidth_mbps = Some(8.0);
    let mut net = build(&s, 4);
    let mut rng = stream(1, Stream::Network);
    assert_eq!(net.serialisation_delay(1_000_000), Duration::from_secs(1));
    let first = net.send(0, 1, 1_000_000, ms(0), &mut rng).unwrap();
    assert_eq!(first.at, ms(1_100));
    // Back to back from the same sender: the second waits for the uplink.
    let second = net.send(0, 2, 1_000_000, ms(0), &mut rng).unwrap();
    assert_eq!(second.at, ms(2_100));
    // Another sender's uplink is free; two hops serialise twice.
    let relayed = net.send(1, 2, 1_000_000, ms(0), &mut rng).unwrap();
    assert_eq!(relayed.at, ms(2 * 1_100));
    // Once the uplink is idle again, no queueing.
    let later = net.send(0, 3, 1_000, ms(5_000), &mut rng).unwrap();
    assert_eq!(later.at, ms(5_101));
}

#[test]
fn unlimited_bandwidth_neither_delays_nor_queues() {
    let mut net = build(&spec(Topology::FullMesh, constant(20)), 3);
    let mut rng = stream(1, Stream::Network);
    assert_eq!(
        net.send(0, 1, 50_000_000, ms(0), &mut rng).unwrap().at,
        ms(20)
    );
    assert_eq!(
        net.send(0, 2, 50_000_000, ms(0), &mut rng).unwrap().at,
        ms(20)
    );
    assert_eq!(net.serialisation_delay(50_000_000), Duration::ZERO);
}

#[test]
fn partition_holds_messages_between_groups_until_the_first_retry_after_heal() {
    let mut s = spec(Topology::FullMesh, constant(50));
    s.gossip_interval = Duration::from_millis(100);
    s.partitions = vec![partition(1_000, Some(2_050), &[&[0, 1], &[2, 3]])];
    let mut net = build(&s, 4);
    let mut rng = stream(1, Stream::Network);
    // Before the partition: normal.
    assert_eq!(net.send(0, 2, 1, ms(500), &mut rng).unwrap().at, ms(550));
    // Across groups: tries at 1230, 1330, ..., first retry at or after 2050 is 2130.
    let across = net.send(0, 2, 1, ms(1_230), &mut rng).unwrap();
    assert_eq!(
        across,
        Delivery {
            at: ms(2_180),
            attempts: 10
        }
    );
    // Within a group: normal.
    let within = net.send(3, 2, 1, ms(1_230), &mut rng).unwrap();
    assert_eq!(
        within,
        Delivery {
            at: ms(1_280),
            attempts: 1
        }
    );
    assert!(!net.is_connected_at(1, 3, ms(1_000)));
    assert!(net.is_connected_at(1, 3, ms(2_050)));
    assert!(net.is_connected_at(1, 3, ms(999)));
}

#[test]
fn validators_in_no_group_form_a_group_of_their_own() {
    let mut s = spec(Topology::FullMesh, constant(10));
    s.partitions = vec![partition(0, None, &[&[0]])];
    let mut net = build(&s, 3);
    let mut rng = stream(1, Stream::Network);
    assert_eq!(net.send(1, 2, 1, ms(0), &mut rng).unwrap().at, ms(10));
    assert_eq!(net.send(0, 1, 1, ms(0), &mut rng), None);
    assert_eq!(net.send(2, 0, 1, ms(0), &mut rng), None);
}

#[test]
fn a_partition_that_never_heals_gives_none() {
    let mut s = spec(Topology::Ring, constant(10));
    s.partitions = vec![partition(100, None, &[&[0, 1, 2], &[3, 4, 5]])];
    let mut net = build(&s, 6);
    let mut rng = stream(1, Stream::Network);
    assert_eq!(net.send(1, 4, 1, ms(200), &mut rng), None);
    assert_eq!(net.send(1, 4, 1, ms(50), &mut rng).unwrap().at, ms(80));
    // The ring is cut at 2-3 and 5-0: 0 reaches 2 the long way round inside its group.
    assert_eq!(net.hops_at(0, 2, ms(200)), Some(2));
    assert_eq!(net.hops_at(2, 3, ms(200)), None);
}

#[test]
fn a_partition_reroutes_around_a_cut_off_validator() {
    // 0-1-2 is the short way; 0-3-4-2 the long one. Isolating 1 forces the long way.
    let mut s = spec(Topology::Explicit, constant(10));
    s.edges = Some(vec![[0, 1], [1, 2], [0, 3], [3, 4], [4, 2]]);
    s.partitions = vec![partition(1_000, Some(2_000), &[&[1]])];
    let mut net = build(&s, 5);
    let mut rng = stream(1, Stream::Network);
    assert_eq!(net.hops_at(0, 2, ms(0)), Some(2));
    assert_eq!(net.hops_at(0, 2, ms(1_500)), Some(3));
    assert_eq!(
        net.send(0, 2, 1, ms(1_500), &mut rng).unwrap().at,
        ms(1_530)
    );
    assert_eq!(net.hops_at(0, 2, ms(2_000)), Some(2));
}

#[test]
fn overlapping_partitions_cut_a_link_if_any_of_them_does() {
    let mut s = spec(Topology::FullMesh, constant(50));
    s.partitions = vec![
        partition(1_000, Some(3_000), &[&[0, 1], &[2, 3]]),
        partition(2_000, Some(4_000), &[&[0, 2], &[1, 3]]),
    ];
    let mut net = build(&s, 4);
    let mut rng = stream(1, Stream::Network);
    assert!(net.is_connected_at(0, 1, ms(1_500)));
    assert!(!net.is_connected_at(0, 1, ms(2_500)));
    assert!(!net.is_connected_at(0, 2, ms(2_500)));
    assert!(!net.is_connected_at(0, 3, ms(2_500)));
    assert!(net.is_connected_at(0, 2, ms(3_500)));
    // 0 -> 1 is cut from 2 s to 4 s: 2500 + 15 x 100 ms = 4000.
    let d = net.send(0, 1, 1, ms(2_500), &mut rng).unwrap();
    assert_eq!(
        d,
        Delivery {
            at: ms(4_050),
            attempts: 16
        }
    );
}

#[test]
fn a_retry_that_misses_a_short_heal_waits_for_the_next_one() {
    // Healed only between 2000 and 2020 ms: retries at 1950 and 2050 both miss it.
    let mut s = spec(Topology::FullMesh, constant(5));
    s.partitions = vec![
        partition(1_000, Some(2_000), &[&[0], &[1]]),
        partition(2_020, Some(3_000), &[&[0], &[1]]),
    ];
    let mut net = build(&s, 2);
    let mut rng = stream(1, Stream::Network);
    let d = net.send(0, 1, 1, ms(1_950), &mut rng).unwrap();
    assert_eq!(
        d,
        Delivery {
            at: ms(3_055),
            attempts: 12
        }
    );
    // Long blackouts are skipped, not stepped through: a day-long partition.
    s.partitions = vec![partition(0, Some(86_400_000), &[&[0], &[1]])];
    s.gossip_interval = Duration::from_millis(1);
    let mut net = build(&s, 2);
    let d = net.send(0, 1, 1, ms(0), &mut rng).unwrap();
    assert_eq!(
        d,
        Delivery {
            at: ms(86_400_005),
            attempts: 86_400_001
        }
    );
}

#[test]
fn loss_one_half_takes_two_attempts_on_average_in_whole_intervals() {
    let mut s = spec(Topology::FullMesh, constant(10));
    s.loss = 0.5;
    s.gossip_interval = Duration::from_millis(100);
    let mut net = build(&s, 2);
    let mut rng = stream(9, Stream::Network);
    let mut total = 0u64;
    for i in 0..20_000u64 {
        let now = SimTime::from_secs(i * 100);
        let d = net.send(0, 1, 1, now, &mut rng).unwrap();
        assert_eq!(
            d.at,
            now.plus_nanos(u64::from(d.attempts - 1) * 100 * MS + 10 * MS)
        );
        total += u64::from(d.attempts);
    }
    let mean = total as f64 / 20_000.0;
    assert!((mean - 2.0).abs() < 0.05, "mean attempts {mean}");
}

#[test]
fn loss_compounds_per_hop() {
    // Two hops at loss 0.5: through with probability 1/4, so 4 attempts on average.
    let mut s = spec(Topology::Star, constant(10));
    s.loss = 0.5;
    let mut net = build(&s, 3);
    let mut rng = stream(9, Stream::Network);
    let total: u64 = (0..20_000u64)
        .map(|i| {
            let d = net
                .send(1, 2, 1, SimTime::from_secs(i * 100), &mut rng)
                .unwrap();
            u64::from(d.attempts)
        })
        .sum();
    let mean = total as f64 / 20_000.0;
    assert!((mean - 4.0).abs() < 0.12, "mean attempts {mean}");
}

#[test]
fn certain_loss_gives_none_instead_of_looping() {
    let mut s = spec(Topology::FullMesh, constant(10));
    s.loss = 1.0;
    let mut net = build(&s, 2);
    assert_eq!(
        net.send(0, 1, 1, ms(0), &mut stream(1, Stream::Network)),
        None
    );
}

#[test]
fn random_regular_is_seeded_regular_and_connected() {
    for (n, degree) in [
        (20usize, 3u32),
        (20, 4),
        (10, 2),
        (20, 15),
        (12, 11),
        (2, 1),
    ] {
        let mut s = spec(Topology::RandomRegular, constant(10));
        s.degree = Some(degree);
        let a = build(&s, n);
        let b = build(&s, n);
        assert_eq!(
            a.edges(),
            b.edges(),
            "n {n} degree {degree}: same seed, same graph"
        );
        assert_eq!(a.edges().len(), n * degree as usize / 2);
        let mut deg = vec![0u32; n];
        for &(u, v) in a.edges() {
            assert!(u < v);
            deg[usize::from(u)] += 1;
            deg[usize::from(v)] += 1;
        }
        assert!(
            deg.iter().all(|&d| d == degree),
            "n {n} degree {degree}: {deg:?}"
        );
        for v in 1..n as u16 {
            assert!(
                a.hops(0, v).is_some(),
                "n {n} degree {degree}: {v} unreachable"
            );
        }
    }
    let mut s = spec(Topology::RandomRegular, constant(10));
    s.degree = Some(3);
    let other = Network::new(&s, 20, &mut stream(8, Stream::Topology)).unwrap();
    assert_ne!(
        other.edges(),
        build(&s, 20).edges(),
        "another seed, another graph"
    );
}

#[test]
fn impossible_topologies_are_errors_not_panics() {
    let regular = |n: usize, degree: Option<u32>| {
        let mut s = spec(Topology::RandomRegular, constant(10));
        s.degree = degree;
        Network::new(&s, n, &mut stream(1, Stream::Topology)).err()
    };
    assert!(regular(5, Some(3)).unwrap().0.contains("even"));
    assert!(regular(4, Some(4)).unwrap().0.contains("below"));
    assert!(regular(4, None).unwrap().0.contains("degree"));
    assert!(regular(4, Some(1)).unwrap().0.contains("cannot connect"));
    assert!(regular(4, Some(0)).is_some());

    let explicit = |n: usize, edges: Option<Vec<[u16; 2]>>| {
        let mut s = spec(Topology::Explicit, constant(10));
        s.edges = edges;
        Network::new(&s, n, &mut stream(1, Stream::Topology)).err()
    };
    assert!(explicit(3, None).unwrap().0.contains("edges"));
    assert!(
        explicit(3, Some(vec![[0, 1], [1, 3]]))
            .unwrap()
            .0
            .contains("beyond")
    );
    assert!(
        explicit(3, Some(vec![[0, 1], [1, 1]]))
            .unwrap()
            .0
            .contains("itself")
    );
    assert!(
        explicit(3, Some(vec![[0, 1]]))
            .unwrap()
            .0
            .contains("does not connect")
    );

    let mut s = spec(Topology::FullMesh, constant(10));
    s.partitions = vec![partition(0, None, &[&[0], &[4]])];
    let err = Network::new(&s, 4, &mut stream(1, Stream::Topology)).unwrap_err();
    assert!(err.0.contains("validator 4"), "{err}");
    s.partitions = vec![partition(0, None, &[&[0, 1], &[1]])];
    assert!(Network::new(&s, 4, &mut stream(1, Stream::Topology)).is_err());
    s.partitions = Vec::new();
    s.bandwidth_mbps = Some(0.0);
    assert!(Network::new(&s, 4, &mut stream(1, Stream::Topology)).is_err());
    s.bandwidth_mbps = None;
    s.loss = f64::NAN;
    assert!(Network::new(&s, 4, &mut stream(1, Stream::Topology)).is_err());
}

#[test]
fn out_of_range_or_self_sends_do_not_panic() {
    let mut net = build(&spec(Topology::FullMesh, constant(10)), 3);
    let mut rng = stream(1, Stream::Network);
    assert_eq!(net.send(0, 3, 1, ms(0), &mut rng), None);
    assert_eq!(
        net.send(1, 1, 1, ms(7), &mut rng),
        Some(Delivery {
            at: ms(7),
            attempts: 1
        })
    );
    assert_eq!(net.hops(0, 9), None);
    let empty = build(&spec(Topology::Ring, constant(10)), 0);
    assert!(empty.is_empty());
    assert_eq!(empty.len(), 0);
}

#[test]
fn same_seed_gives_the_same_deliveries() {
    let mut s = spec(
        Topology::RandomRegular,
        LatencySpec::Lognormal {
            mean: Duration::from_millis(80),
            stddev: Duration::from_millis(40),
        },
    );
    s.degree = Some(4);
    s.loss = 0.1;
    s.bandwidth_mbps = Some(100.0);
    s.partitions = vec![partition(500, Some(900), &[&[0, 1, 2]])];
    let run = |seed: u64| {
        let mut net = Network::new(&s, 12, &mut stream(seed, Stream::Topology)).unwrap();
        let mut rng = stream(seed, Stream::Network);
        let mut out = Vec::new();
        for i in 0..300u64 {
            let src = (i % 12) as u16;
            let dst = ((i * 7 + 3) % 12) as u16;
            out.push(net.send(src, dst, 2_000, ms(i * 5), &mut rng));
        }
        out
    };
    let a = run(42);
    assert_eq!(a, run(42));
    assert_ne!(a, run(43));
    assert!(a.iter().any(|d| d.is_some_and(|d| d.attempts > 1)));
}
