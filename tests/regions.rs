//! Cloud regions: nodes placed in named AWS regions take the measured latencies between them;
//! region names and counts are validated; `ccperf regions` lists them.

mod support;

use consensus_performance::config::{ConfigError, RegionsSpec, parse_scenario, to_yaml};
use consensus_performance::net::regions::matrix;
use consensus_performance::sim;
use support::ccperf;

fn refusal(text: &str) -> ConfigError {
    match parse_scenario(text, "test.yaml") {
        Ok(s) => panic!("accepted a bad scenario:\n{text}\nparsed as {s:?}"),
        Err(e) => e,
    }
}

fn network(lines: &str) -> String {
    format!("duration: 10s\nvalidators: {{ count: 4 }}\nnetwork:\n{lines}")
}

/// Half the median RTT between two regions, in whole nanoseconds (the simulator's rounding).
fn one_way_ns(a: &str, b: &str) -> i64 {
    let m = matrix();
    (m.rtt_ms(m.index(a).unwrap(), m.index(b).unwrap()) * 1e6 / 2.0).round() as i64
}

#[test]
fn heights_take_three_hops_inside_a_region_and_pay_the_ocean_when_the_far_validator_proposes() {
    // Three validators in eu-west-1 (a quorum of 4) and one in us-east-1, no jitter, no costs.
    let scenario = parse_scenario(
        "duration: 2s\nvalidators: { count: 4 }\n\
         network: { gossip: direct, regions: { eu-west-1: 3, us-east-1: 1 }, region_jitter: 0 }\n\
         load: { transaction_rate: 0 }\nparameters: { block_interval: 0s }\ncosts: none\n",
        "t",
    )
    .unwrap();
    let r = sim::run(&scenario, 1).unwrap();
    let (eu, ocean) = (
        one_way_ns("eu-west-1", "eu-west-1"),
        one_way_ns("eu-west-1", "us-east-1"),
    );
    assert!(r.heights.len() >= 20, "{} heights", r.heights.len());
    let mut previous = 0.0;
    for h in &r.heights {
        let took = ((h.commit_time_s - previous) * 1e9).round() as i64;
        previous = h.commit_time_s;
        // An eu proposer: proposal, prevotes and precommits inside eu-west-1. The us-east-1
        // proposer starts when it hears the eu precommits (one ocean crossing after the eu
        // commit), its proposal crosses back, then the eu trio votes among itself.
        let expected = if h.proposer == 3 {
            2 * ocean + eu
        } else {
            3 * eu
        };
        assert_eq!(took, expected, "height {} by {}", h.height, h.proposer);
        assert_eq!(h.round, 0);
    }
    assert!(r.safety.held());
}

#[test]
fn region_forms_parse_and_print_back() {
    for (text, expected) in [
        (
            "  regions: { us-east-1: 3, eu-west-1: 1 }\n",
            RegionsSpec::Counts(vec![("us-east-1".into(), 3), ("eu-west-1".into(), 1)]),
        ),
        (
            "  regions: [us-east-1, eu-west-1, us-east-1, sa-east-1]\n",
            RegionsSpec::PerNode(
                ["us-east-1", "eu-west-1", "us-east-1", "sa-east-1"]
                    .map(String::from)
                    .to_vec(),
            ),
        ),
        (
            "  regions: { random: [us-east-1, ap-south-1] }\n",
            RegionsSpec::Random(vec!["us-east-1".into(), "ap-south-1".into()]),
        ),
        (
            "  regions: { round_robin: [us-east-1, ap-south-1] }\n",
            RegionsSpec::RoundRobin(vec!["us-east-1".into(), "ap-south-1".into()]),
        ),
    ] {
        let s = parse_scenario(&network(text), "t").unwrap();
        assert_eq!(s.network.regions.as_ref(), Some(&expected), "{text}");
        let again = parse_scenario(&to_yaml(&s), "again").unwrap();
        assert_eq!(again, s, "{text}");
    }
}

#[test]
fn unknown_region_is_named_with_the_known_ones() {
    for (lines, field) in [
        (
            "  regions: { us-east-1: 2, eu-middle-9: 2 }\n",
            "network.regions.eu-middle-9",
        ),
        (
            "  regions: [us-east-1, us-east-1, eu-middle-9, us-east-1]\n",
            "network.regions[2]",
        ),
        (
            "  regions: { random: [us-east-1, eu-middle-9] }\n",
            "network.regions.random[1]",
        ),
    ] {
        let e = refusal(&network(lines));
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
        assert!(e.message.contains("unknown region `eu-middle-9`"), "{e}");
        assert!(
            e.message.contains("af-south-1, ap-east-1, ap-east-2")
                && e.message.contains("us-west-2"),
            "{e}"
        );
    }
}

#[test]
fn region_counts_must_add_up_to_the_node_count() {
    let e = refusal(&network("  regions: { us-east-1: 2, eu-west-1: 1 }\n"));
    assert_eq!(e.field.as_deref(), Some("network.regions"));
    assert!(
        e.message.contains("counts 3 nodes but the scenario has 4"),
        "{e}"
    );
    let e = refusal(&network(
        "  regions: [us-east-1, eu-west-1, us-east-1, eu-west-1, us-east-1]\n",
    ));
    assert!(
        e.message.contains("lists 5 nodes but the scenario has 4"),
        "{e}"
    );
    let e = refusal(&network("  regions: { us-east-1: 4, eu-west-1: 0 }\n"));
    assert_eq!(e.field.as_deref(), Some("network.regions.eu-west-1"));
    assert!(e.message.contains("0 nodes"), "{e}");
}

#[test]
fn regions_replace_latency_and_take_a_sane_jitter() {
    let e = refusal(&network(
        "  regions: { us-east-1: 4 }\n  latency: { distribution: constant, mean: 10ms }\n",
    ));
    assert_eq!(e.field.as_deref(), Some("network.latency"));
    assert!(e.message.contains("both set"), "{e}");
    let e = refusal(&network(
        "  regions: { us-east-1: 4 }\n  region_jitter: 1.5\n",
    ));
    assert_eq!(e.field.as_deref(), Some("network.region_jitter"));
    let e = refusal(&network("  region_jitter: 0.1\n"));
    assert!(e.message.contains("only used with `regions`"), "{e}");
    let e = refusal(&network("  regions: { us-east-1: 2, us-east-1: 2 }\n"));
    assert!(e.message.contains("listed twice"), "{e}");
    let e = refusal(&network("  regions: { random: [] }\n"));
    assert_eq!(e.field.as_deref(), Some("network.regions.random"));
    let e = refusal(&network(
        "  regions: { random: [us-east-1], eu-west-1: 3 }\n",
    ));
    assert!(e.message.contains("stands alone"), "{e}");
    let e = refusal(&network("  regions: 3\n"));
    assert!(e.message.contains("a map of node counts per region"), "{e}");
}

#[test]
fn random_placement_follows_the_seed() {
    let text = "duration: 5s\nvalidators: { count: 12 }\n\
                network: { gossip: direct, regions: { random: [us-east-1, ap-southeast-2, eu-west-1] } }\n\
                load: { transaction_rate: 20 }\n";
    let scenario = parse_scenario(text, "t").unwrap();
    let a = sim::run(&scenario, 4).unwrap();
    let b = sim::run(&scenario, 4).unwrap();
    let c = sim::run(&scenario, 5).unwrap();
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_ne!(a.trace_hash, c.trace_hash);
    assert!(a.safety.held() && c.safety.held());
}

#[test]
fn ccperf_regions_lists_every_region_with_its_latencies() {
    let out = ccperf(&["regions"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let m = matrix();
    assert_eq!(m.names().len(), 33);
    for name in m.names() {
        assert!(
            text.lines().any(|l| l.starts_with(name.as_str())),
            "{name} missing"
        );
    }
    // us-east-1's nearest other region is us-east-2, at the measured median.
    let us = m.index("us-east-1").unwrap();
    let line = text.lines().find(|l| l.starts_with("us-east-1 ")).unwrap();
    assert!(line.contains("us-east-2"), "{line}");
    let rtt = format!("{:.1}", m.rtt_ms(us, m.index("us-east-2").unwrap()));
    assert!(line.contains(&rtt), "{line} lacks {rtt}");
    assert!(text.contains("cloudping.co"), "the source is named");

    let out = ccperf(&["regions", "eu-west-1"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("Source"))
        .collect();
    assert_eq!(rows.len(), 33);
    assert!(
        rows[0].starts_with("eu-west-1 "),
        "nearest is itself: {}",
        rows[0]
    );

    let out = ccperf(&["regions", "atlantis-1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown region `atlantis-1`") && err.contains("us-west-2"),
        "{err}"
    );
}

#[test]
fn a_scenario_with_an_unknown_region_exits_2_naming_it() {
    let dir = std::env::temp_dir().join(format!("ccperf-regions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad_region.yaml");
    std::fs::write(
        &path,
        network("  regions: { us-east-1: 2, eu-middle-9: 2 }\n"),
    )
    .unwrap();
    let out = ccperf(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bad_region.yaml:4:"), "{err}");
    assert!(
        err.contains("network.regions.eu-middle-9: unknown region"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
