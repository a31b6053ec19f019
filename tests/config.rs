//! Configuration: scenario files, built-in scenarios and `ccperf.toml` settings. Bad input gets
//! an error naming the field and the problem; nothing panics.

use consensus_performance::config::{
    ByzantineBehavior, ConfigError, CostPreset, CostsSpec, LatencySpec, Settings, Source, Topology,
    builtin_names, builtin_scenario, builtin_scenario_text, load_scenario, parse_scenario,
    resolve_scenario, settings, to_yaml, validate,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

const MINIMAL: &str = "duration: 60s\nvalidators:\n  count: 4\n";

/// The minimal scenario plus `extra` lines at the top level.
fn with(extra: &str) -> String {
    format!("{MINIMAL}{extra}")
}

fn refusal(text: &str) -> ConfigError {
    match parse_scenario(text, "test.yaml") {
        Ok(s) => panic!("accepted a bad scenario:\n{text}\nparsed as {s:?}"),
        Err(e) => e,
    }
}

/// `text` is refused with an error on `field` whose message has every one of `words`.
fn assert_refused(text: &str, field: &str, words: &[&str]) -> ConfigError {
    let e = refusal(text);
    assert_eq!(e.origin, "test.yaml", "{e}");
    assert_eq!(
        e.field.as_deref(),
        Some(field),
        "wrong field in `{e}` for\n{text}"
    );
    for word in words {
        assert!(e.message.contains(word), "`{e}` does not say `{word}`");
    }
    e
}

// ---------------------------------------------------------------- parsing and locations

#[test]
fn minimal_scenario_takes_documented_defaults() {
    let s = parse_scenario(MINIMAL, "t").unwrap();
    assert_eq!(s.duration, Duration::from_secs(60));
    assert_eq!(s.validators.count, 4);
    assert_eq!(s.name, "unnamed");
    assert_eq!(s.network.topology, Topology::FullMesh);
    assert_eq!(s.network.loss, 0.0);
    assert_eq!(s.load.transaction_rate, 100.0);
    assert_eq!(s.costs, CostsSpec::Preset(CostPreset::Default));
    assert!(s.byzantine.is_none() && s.targets.is_none());
}

#[test]
fn syntax_error_has_line_and_column() {
    let e = refusal("duration: 60s\nvalidators:\n  count: 4\n bad\n");
    assert_eq!(e.location, Some((4, 2)), "{e}");
    assert!(e.message.contains("did not find expected key"), "{e}");
    assert!(
        e.to_string().starts_with("test.yaml:4:2: did not find"),
        "{e}"
    );
    let e = refusal("duration: 60s\n\tvalidators: 3\n");
    assert_eq!(e.location.map(|l| l.0), Some(2), "{e}");
    assert!(e.message.contains("tab"), "{e}");
}

#[test]
fn unknown_field_names_path_line_and_choices() {
    let e = assert_refused(
        "duration: 60s\nvalidators:\n  count: 4\nnetwork:\n  topology: ring\n  lossy: 0.1\n",
        "network.lossy",
        &["unknown field `lossy`", "loss"],
    );
    assert_eq!(e.location.map(|l| l.0), Some(6), "{e}");
    let e = assert_refused(&with("colour: blue\n"), "colour", &["unknown field"]);
    assert_eq!(e.location.map(|l| l.0), Some(4), "{e}");
}

#[test]
fn missing_required_fields_are_named() {
    let e = assert_refused("validators:\n  count: 4\n", "duration", &["missing field"]);
    assert!(e.location.is_some(), "{e}");
    assert_refused(
        "duration: 60s\nvalidators:\n  voting_power: [1]\n",
        "validators.count",
        &["missing field `count`"],
    );
}

#[test]
fn wrong_type_has_field_line_and_column() {
    let e = assert_refused(
        "duration: 60s\nvalidators:\n  count: four\n",
        "validators.count",
        &["invalid type", "four"],
    );
    assert_eq!(e.location, Some((3, 10)), "{e}");
    let e = assert_refused(&with("load:\n  tx_size: -5\n"), "load.tx_size", &["-5"]);
    assert_eq!(e.location.map(|l| l.0), Some(5), "{e}");
}

#[test]
fn bad_duration_says_how_to_write_one() {
    let e = assert_refused(
        "duration: 60\nvalidators:\n  count: 4\n",
        "duration",
        &["no unit", "500ms"],
    );
    assert_eq!(e.location.map(|l| l.0), Some(1), "{e}");
    assert_refused(
        &with("parameters:\n  timeout_propose: 3 parsecs\n"),
        "parameters.timeout_propose",
        &["unknown unit"],
    );
}

#[test]
fn unknown_enum_values_list_the_choices() {
    assert_refused(
        &with("network:\n  topology: hypercube\n"),
        "network.topology",
        &["hypercube", "full_mesh", "random_regular"],
    );
    assert_refused(
        &with("network:\n  latency: { distribution: gauss, mean: 1ms }\n"),
        "network.latency.distribution",
        &["gauss", "lognormal"],
    );
    assert_refused(
        &with("byzantine:\n  count: 1\n  behavior: lazy\n"),
        "byzantine.behavior",
        &["lazy", "equivocate"],
    );
}

#[test]
fn latency_fields_are_checked_per_distribution() {
    assert_refused(
        &with("network:\n  latency: { distribution: constant, mean: 1ms, stddev: 1ms }\n"),
        "network.latency.stddev",
        &["unknown field `stddev`"],
    );
    assert_refused(
        &with("network:\n  latency: { distribution: uniform, min: 1ms }\n"),
        "network.latency.max",
        &["missing field `max`"],
    );
}

#[test]
fn costs_say_what_they_may_be() {
    for bad in ["costs: fast\n", "costs: 3\n", "costs: [1, 2]\n"] {
        let e = assert_refused(
            &with(bad),
            "costs",
            &["`none`", "`default`", "map of costs"],
        );
        assert_eq!(e.location.map(|l| l.0), Some(4), "{e}");
    }
    let e = assert_refused(
        &with("costs:\n  cores: 2\n  sing: 30us\n"),
        "costs.sing",
        &["unknown field `sing`", "sign"],
    );
    assert_eq!(e.location.map(|l| l.0), Some(6), "{e}");
    assert_refused(
        &with("costs:\n  verify_vote: fast\n"),
        "costs.verify_vote",
        &["duration"],
    );
}

#[test]
fn costs_accept_presets_and_partial_maps() {
    let none = parse_scenario(&with("costs: none\n"), "t").unwrap();
    assert_eq!(none.costs, CostsSpec::Preset(CostPreset::None));
    assert_eq!(none.costs.model().verify_vote, Duration::ZERO);
    let custom = parse_scenario(&with("costs:\n  cores: 8\n  sign: 10us\n"), "t").unwrap();
    let model = custom.costs.model();
    assert_eq!(model.cores, 8);
    assert_eq!(model.sign, Duration::from_micros(10));
    assert_eq!(
        model.verify_vote,
        Duration::from_micros(60),
        "missing costs take the default"
    );
}

#[test]
fn garbage_input_is_refused_without_panicking() {
    let random: Vec<u8> = (0u32..512)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let lossy = String::from_utf8_lossy(&random).into_owned();
    let inputs = [
        "",
        "   \n# only a comment\n",
        "---",
        "[]",
        "42",
        "null",
        "duration: 60s\nvalidators: 4\n",
        "duration: [60s]\nvalidators:\n  count: 4\n",
        "{{{{",
        "duration: 60s\nvalidators:\n  count: 4\n---\nduration: 1s\n",
        "a: &x [*x]",
        "duration: 60s\nvalidators:\n  count: 99999999999999999999999\n",
        "\u{0}\u{1}\u{2}",
        lossy.as_str(),
    ];
    for input in inputs {
        let e = refusal(input);
        assert!(!e.message.is_empty(), "empty message for {input:?}");
    }
    assert!(refusal("").message.contains("empty"));
    assert!(refusal("---").message.contains("duration"));
}

// ---------------------------------------------------------------- validation

#[test]
fn validator_count_must_be_1_to_10000() {
    for count in [0, 10_001] {
        let text = format!("duration: 60s\nvalidators:\n  count: {count}\n");
        let e = assert_refused(&text, "validators.count", &["1 to 10000"]);
        assert_eq!(
            e.location,
            Some((3, 10)),
            "validation errors find their line: {e}"
        );
    }
}

#[test]
fn voting_power_must_match_count_and_be_positive() {
    assert_refused(
        "duration: 60s\nvalidators:\n  count: 4\n  voting_power: [1, 2, 3]\n",
        "validators.voting_power",
        &["3 powers for 4 validators"],
    );
    assert_refused(
        "duration: 60s\nvalidators:\n  count: 3\n  voting_power: [1, 0, 3]\n",
        "validators.voting_power[1]",
        &["validator 1", "power 0"],
    );
    assert_refused(
        "duration: 60s\nvalidators:\n  count: 2\n  voting_power: [1152921504606846976, 1]\n",
        "validators.voting_power",
        &["2^60"],
    );
}

#[test]
fn duration_must_be_positive() {
    let e = assert_refused(
        "duration: 0s\nvalidators:\n  count: 4\n",
        "duration",
        &["more than 0s"],
    );
    assert_eq!(e.location, Some((1, 11)), "{e}");
    assert_refused(
        "duration: 9000h\nvalidators:\n  count: 4\n",
        "duration",
        &["366 days"],
    );
}

#[test]
fn load_must_be_a_finite_rate_and_positive_size() {
    for rate in ["-1", ".nan", ".inf"] {
        assert_refused(
            &with(&format!("load:\n  transaction_rate: {rate}\n")),
            "load.transaction_rate",
            &["from 0"],
        );
    }
    assert_refused(
        &with("load:\n  tx_size: 0\n"),
        "load.tx_size",
        &["at least 1 byte"],
    );
}

#[test]
fn loss_must_be_below_one() {
    for loss in ["1.0", "-0.1", "2", ".nan"] {
        assert_refused(
            &with(&format!("network:\n  loss: {loss}\n")),
            "network.loss",
            &["[0, 1)"],
        );
    }
    assert!(parse_scenario(&with("network:\n  loss: 0.99\n"), "t").is_ok());
}

#[test]
fn latency_parameters_must_make_sense() {
    let e = assert_refused(
        &with("network:\n  latency: { distribution: uniform, min: 80ms, max: 20ms }\n"),
        "network.latency.min",
        &["80ms", "20ms", "min <= max"],
    );
    assert_eq!(e.location.map(|l| l.0), Some(5), "{e}");
    assert_refused(
        &with("network:\n  latency: { distribution: lognormal, mean: 0s, stddev: 1ms }\n"),
        "network.latency.mean",
        &["above 0s"],
    );
    assert!(
        parse_scenario(
            &with("network:\n  latency: { distribution: constant, mean: 0s }\n"),
            "t"
        )
        .is_ok(),
        "zero constant latency is allowed"
    );
}

#[test]
fn bandwidth_must_be_positive_and_finite() {
    for bw in ["0", "-10", ".inf"] {
        assert_refused(
            &with(&format!("network:\n  bandwidth_mbps: {bw}\n")),
            "network.bandwidth_mbps",
            &["positive finite", "omit it"],
        );
    }
}

#[test]
fn gossip_interval_must_be_positive() {
    assert_refused(
        &with("network:\n  gossip_interval: 0ms\n"),
        "network.gossip_interval",
        &["more than 0s"],
    );
}

#[test]
fn random_regular_needs_a_valid_degree() {
    assert_refused(
        &with("network:\n  topology: random_regular\n"),
        "network.degree",
        &["needs `degree`"],
    );
    assert_refused(
        &with("network:\n  topology: random_regular\n  degree: 4\n"),
        "network.degree",
        &["degree 4 with 4 validators", "1 to 3"],
    );
    assert_refused(
        "duration: 60s\nvalidators:\n  count: 5\nnetwork:\n  topology: random_regular\n  degree: 3\n",
        "network.degree",
        &["even"],
    );
    let ok = parse_scenario(
        &with("network:\n  topology: random_regular\n  degree: 2\n"),
        "t",
    )
    .unwrap();
    assert_eq!(ok.network.degree, Some(2));
}

#[test]
fn explicit_topology_needs_valid_connected_edges() {
    assert_refused(
        &with("network:\n  topology: explicit\n"),
        "network.edges",
        &["needs `edges`"],
    );
    assert_refused(
        &with("network:\n  topology: explicit\n  edges: [[0, 1], [1, 7]]\n"),
        "network.edges[1]",
        &["validator 7", "0 to 3"],
    );
    assert_refused(
        &with("network:\n  topology: explicit\n  edges: [[0, 1], [2, 2]]\n"),
        "network.edges[1]",
        &["itself"],
    );
    assert_refused(
        &with("network:\n  topology: explicit\n  edges: [[0, 1], [2, 3]]\n"),
        "network.edges",
        &["validator 2 cannot be reached"],
    );
    assert!(
        parse_scenario(
            &with("network:\n  topology: explicit\n  edges: [[0, 1], [1, 2], [2, 3]]\n"),
            "t"
        )
        .is_ok()
    );
}

#[test]
fn degree_and_edges_are_refused_where_unused() {
    assert_refused(
        &with("network:\n  topology: ring\n  degree: 2\n"),
        "network.degree",
        &["only used by topology `random_regular`", "`ring`"],
    );
    assert_refused(
        &with("network:\n  edges: [[0, 1]]\n"),
        "network.edges",
        &["only used by topology `explicit`", "`full_mesh`"],
    );
}

fn partition(spec: &str) -> String {
    with(&format!("network:\n  partitions:\n    - {spec}\n"))
}

#[test]
fn partitions_are_checked() {
    let e = assert_refused(
        &partition("{ at: 10s, groups: [[0, 1], [2, 9]] }"),
        "network.partitions[0].groups[1]",
        &["partition 0", "validator 9", "0 to 3"],
    );
    assert_eq!(e.location.map(|l| l.0), Some(6), "{e}");
    assert_refused(
        &partition("{ at: 10s, groups: [[0, 1], [1, 2]] }"),
        "network.partitions[0].groups[1]",
        &["validator 1", "group 0 and group 1"],
    );
    assert_refused(
        &partition("{ at: 10s, groups: [[0, 0]] }"),
        "network.partitions[0].groups[0]",
        &["twice"],
    );
    assert_refused(
        &partition("{ at: 20s, heal_at: 20s, groups: [[0, 1]] }"),
        "network.partitions[0].heal_at",
        &["later than at"],
    );
    assert_refused(
        &partition("{ at: 10s, groups: [] }"),
        "network.partitions[0].groups",
        &["no groups"],
    );
    assert_refused(
        &partition("{ at: 10s, groups: [[0], []] }"),
        "network.partitions[0].groups[1]",
        &["empty"],
    );
    assert_refused(
        &partition("{ at: 90s, groups: [[0]] }"),
        "network.partitions[0].at",
        &["before the end"],
    );
}

#[test]
fn second_partition_error_names_index_one() {
    let text = with(
        "network:\n  partitions:\n    - { at: 1s, heal_at: 2s, groups: [[0]] }\n    - { at: 3s, groups: [[4]] }\n",
    );
    let e = assert_refused(&text, "network.partitions[1].groups[0]", &["partition 1"]);
    assert_eq!(e.location.map(|l| l.0), Some(7), "{e}");
}

fn byzantine(spec: &str) -> String {
    format!("duration: 60s\nvalidators:\n  count: 10\nbyzantine:\n{spec}")
}

#[test]
fn byzantine_needs_one_way_to_choose() {
    assert_refused(
        &byzantine("  behavior: silent\n"),
        "byzantine",
        &["`count`, `ratio` or `validators`"],
    );
    assert_refused(
        &byzantine("  count: 1\n  ratio: 0.1\n  behavior: silent\n"),
        "byzantine.ratio",
        &["not both"],
    );
}

#[test]
fn byzantine_values_are_in_range() {
    for ratio in ["1.5", "-0.1", ".nan"] {
        assert_refused(
            &byzantine(&format!("  ratio: {ratio}\n  behavior: silent\n")),
            "byzantine.ratio",
            &["from 0 to 1"],
        );
    }
    assert_refused(
        &byzantine("  count: 11\n  behavior: silent\n"),
        "byzantine.count",
        &["only 10 validators"],
    );
    assert_refused(
        &byzantine("  validators: [1, 10]\n  behavior: silent\n"),
        "byzantine.validators[1]",
        &["validator 10", "0 to 9"],
    );
    assert_refused(
        &byzantine("  validators: [3, 3]\n  behavior: silent\n"),
        "byzantine.validators[1]",
        &["twice"],
    );
    assert_refused(
        &byzantine("  count: 2\n  validators: [3]\n  behavior: silent\n"),
        "byzantine.validators",
        &["must agree"],
    );
}

#[test]
fn byzantine_count_with_matching_validators_is_accepted() {
    let s = parse_scenario(
        &byzantine("  count: 1\n  validators: [3]\n  behavior: delay\n  delay: 2s\n"),
        "t",
    )
    .unwrap();
    let b = s.byzantine.unwrap();
    assert_eq!((b.count, b.validators), (Some(1), Some(vec![3])));
    assert_eq!(b.behavior, ByzantineBehavior::Delay);
    assert_eq!(b.delay, Duration::from_secs(2));
}

#[test]
fn parameters_are_checked() {
    assert_refused(
        &with("parameters:\n  block_size_limit: 0\n"),
        "parameters.block_size_limit",
        &["at least one transaction"],
    );
    assert_refused(
        &with("parameters:\n  block_size_limit: 100\n"),
        "parameters.block_size_limit",
        &["100 bytes", "tx_size 250"],
    );
    assert_refused(
        &with("parameters:\n  batch_size: 0\n"),
        "parameters.batch_size",
        &["at least 1"],
    );
    for timeout in ["timeout_propose", "timeout_prevote", "timeout_precommit"] {
        assert_refused(
            &with(&format!("parameters:\n  {timeout}: 0s\n")),
            &format!("parameters.{timeout}"),
            &["more than 0s"],
        );
    }
    let deltas = "parameters:\n  timeout_propose_delta: 0s\n  timeout_prevote_delta: 0s\n  \
                  timeout_precommit_delta: 0s\n  block_interval: 0s\n";
    assert!(
        parse_scenario(&with(deltas), "t").is_ok(),
        "deltas may be 0"
    );
}

#[test]
fn costs_and_targets_are_checked() {
    assert_refused(
        &with("costs:\n  cores: 0\n"),
        "costs.cores",
        &["at least 1"],
    );
    for (field, value) in [
        ("target_throughput", "-1"),
        ("target_throughput", ".nan"),
        ("max_cpu_usage", "-5"),
    ] {
        assert_refused(
            &with(&format!("targets:\n  {field}: {value}\n")),
            &format!("targets.{field}"),
            &["finite number"],
        );
    }
}

#[test]
fn costs_that_would_overflow_are_refused() {
    let e = assert_refused(
        &with("costs:\n  base_memory_mb: 18446744073709551615\n"),
        "costs.base_memory_mb",
        &["18446744073709551615 MB", "at most 1048576 MB"],
    );
    assert!(e.to_string().starts_with("test.yaml"), "{e}");
    assert_refused(
        &with("costs:\n  commit_per_tx: 2562047h\n"),
        "costs.commit_per_tx",
        &["2562047h", "at most 1h"],
    );
    assert_refused(
        &with("costs:\n  cores: 5000\n"),
        "costs.cores",
        &["5000 cores", "at most 4096"],
    );
    // The largest accepted values run (no overflow on the way).
    let s = parse_scenario(
        &with("costs:\n  base_memory_mb: 1048576\n  commit_per_tx: 1h\n  verify_per_tx: 1h\n"),
        "t",
    )
    .unwrap();
    let report = consensus_performance::sim::run(&s, 1).unwrap();
    // Base memory plus the mempool's peak (at most 5000 transactions of 250 bytes: 2 MB).
    assert!(
        (1_048_576..=1_048_578).contains(&report.resources.memory_mb),
        "{}",
        report.resources.memory_mb
    );
}

#[test]
fn a_block_must_hold_a_transaction_beside_its_header() {
    // tx_size 1000 and block_size_limit 1000 were accepted, yet the 1024-byte header leaves
    // no room: every block was empty.
    assert_refused(
        &with("load:\n  tx_size: 1000\nparameters:\n  block_size_limit: 1000\n"),
        "parameters.block_size_limit",
        &["1000 bytes", "1024-byte block header", "at least 2024"],
    );
    let s = parse_scenario(
        &with("network:\n  gossip: direct\nload:\n  tx_size: 1000\nparameters:\n  block_size_limit: 2024\n"),
        "t",
    )
    .unwrap();
    let report = consensus_performance::sim::run(&s, 1).unwrap();
    assert!(report.transactions_committed > 0);
    assert!(report.heights.iter().all(|h| h.txs <= 1));
}

#[test]
fn validate_alone_names_the_scenario() {
    let mut s = parse_scenario(MINIMAL, "t").unwrap();
    s.network.loss = 1.0;
    let e = validate(&s).unwrap_err();
    assert_eq!(e.origin, "unnamed");
    assert_eq!(e.field.as_deref(), Some("network.loss"));
    assert_eq!(e.location, None);
}

// ---------------------------------------------------------------- files, built-ins, YAML

#[test]
fn all_four_builtins_parse_and_validate() {
    assert_eq!(
        builtin_names(),
        [
            "baseline",
            "high_load",
            "byzantine_fault",
            "network_partition"
        ]
    );
    for name in builtin_names() {
        let s = builtin_scenario(name).unwrap().unwrap();
        assert_eq!(&s.name, name);
        assert!(s.targets.is_some(), "{name} has success criteria");
        assert!(
            builtin_scenario_text(name).unwrap().contains("# "),
            "{name} is commented"
        );
    }
    assert!(builtin_scenario("nope").is_none());
}

#[test]
fn builtins_match_the_seed() {
    let get = |n: &str| builtin_scenario(n).unwrap().unwrap();
    let baseline = get("baseline");
    assert_eq!(
        (
            baseline.validators.count,
            baseline.load.transaction_rate,
            baseline.duration
        ),
        (4, 100.0, Duration::from_secs(60))
    );
    let mean = baseline.network.latency.mean();
    assert!(mean >= Duration::from_millis(20) && mean <= Duration::from_millis(50));

    let high = get("high_load");
    assert_eq!(
        (
            high.validators.count,
            high.load.transaction_rate,
            high.duration
        ),
        (7, 1000.0, Duration::from_secs(300))
    );
    assert!(matches!(
        high.network.latency,
        LatencySpec::Lognormal { .. }
    ));

    let byz = get("byzantine_fault");
    assert_eq!(
        (byz.validators.count, byz.duration),
        (10, Duration::from_secs(180))
    );
    let b = byz.byzantine.unwrap();
    assert_eq!(
        (b.ratio, b.behavior),
        (Some(0.33), ByzantineBehavior::Equivocate)
    );
    assert_eq!((b.ratio.unwrap() * 10.0).floor(), 3.0);

    let part = get("network_partition");
    assert_eq!(
        (
            part.validators.count,
            part.load.transaction_rate,
            part.duration
        ),
        (7, 200.0, Duration::from_secs(240))
    );
    let p = &part.network.partitions[0];
    assert_eq!(
        (p.at, p.heal_at),
        (Duration::from_secs(60), Some(Duration::from_secs(120)))
    );
    // No side holds more than 2/3 of the power, so nothing commits while it lasts.
    assert!(p.groups.iter().all(|g| 3 * g.len() <= 2 * 7));

    for s in [&baseline, &high, &get("byzantine_fault")] {
        let t = s.targets.as_ref().unwrap();
        assert!(t.target_throughput < s.load.transaction_rate);
        assert!(t.target_throughput > 0.8 * s.load.transaction_rate);
    }
}

#[test]
fn to_yaml_round_trips_every_builtin_and_a_full_scenario() {
    let full = [
        "name: full",
        "seed: 9",
        "duration: 1500ms",
        "validators:",
        "  count: 4",
        "  voting_power: [1, 2, 3, 4]",
        "network:",
        "  topology: explicit",
        "  edges: [[0, 1], [1, 2], [2, 3]]",
        "  latency: { distribution: uniform, min: 1ms, max: 3ms }",
        "  bandwidth_mbps: 12.5",
        "  loss: 0.125",
        "  gossip_interval: 50ms",
        "  partitions:",
        "    - { at: 1s, groups: [[0], [1, 2]] }",
        "load:",
        "  transaction_rate: 33.3",
        "  tx_size: 100",
        "byzantine:",
        "  validators: [2]",
        "  behavior: amnesia",
        "costs:",
        "  cores: 2",
        "targets:",
        "  target_throughput: 10.5",
        "  max_latency: 2s",
    ]
    .join("\n");
    let mut scenarios: Vec<_> = builtin_names()
        .iter()
        .map(|n| builtin_scenario(n).unwrap().unwrap())
        .collect();
    scenarios.push(parse_scenario(&full, "full").unwrap());
    scenarios.push(parse_scenario(&with("costs: none\n"), "none").unwrap());
    for s in scenarios {
        let yaml = to_yaml(&s);
        let back = parse_scenario(&yaml, "round trip").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        assert_eq!(back, s, "{yaml}");
    }
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn load_scenario_names_missing_and_bad_files() {
    let e = load_scenario(Path::new("/nonexistent/dir/s.yaml")).unwrap_err();
    assert_eq!(e.origin, "/nonexistent/dir/s.yaml");
    assert!(e.message.contains("cannot read"), "{e}");

    let path = temp_file("bad-loss.yaml", &with("network:\n  loss: 1.0\n"));
    let e = load_scenario(&path).unwrap_err();
    assert_eq!(e.origin, path.display().to_string());
    assert_eq!(e.field.as_deref(), Some("network.loss"));
    assert_eq!(e.location.map(|l| l.0), Some(5));

    let path = temp_file("binary.yaml", "");
    std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
    assert!(load_scenario(&path).unwrap_err().message.contains("UTF-8"));
}

#[test]
fn resolve_scenario_takes_builtin_names_and_paths() {
    assert_eq!(resolve_scenario("high_load").unwrap().validators.count, 7);
    let path = temp_file("ok.yaml", MINIMAL);
    assert_eq!(
        resolve_scenario(path.to_str().unwrap())
            .unwrap()
            .validators
            .count,
        4
    );
    let e = resolve_scenario("basline").unwrap_err();
    assert!(
        e.message
            .contains("no built-in scenario or file named `basline`"),
        "{e}"
    );
    assert!(e.message.contains("baseline, high_load"), "{e}");
    let e = resolve_scenario("missing.yaml").unwrap_err();
    assert!(e.message.contains("cannot read"), "{e}");
}

// ---------------------------------------------------------------- ccperf.toml settings

fn no_env(_: &str) -> Option<String> {
    None
}

/// Environment variables as `(name, value)` pairs.
type Env = &'static [(&'static str, &'static str)];

fn env_of(pairs: Env) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

fn flags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const README_TOML: &str = "[performance]\nmonitoring_enabled = true\nmetrics_retention = \"24h\"\n\
sampling_interval = \"1s\"\n\n[optimization]\nauto_tune = true\ntarget_throughput = 1000.0\n\
max_latency_ms = 5000\naggressive_mode = false\n\n[benchmarks]\ndefault_duration = \"5m\"\n\
stress_test_enabled = true\n";

#[test]
fn defaults_match_the_readme() {
    let eff = Settings::load(None, &no_env, &[]).unwrap();
    let s = &eff.settings;
    assert_eq!(s.performance.window_size, 1000);
    assert_eq!(s.performance.sampling_interval, Duration::from_secs(1));
    assert_eq!(s.performance.metrics_retention, Duration::from_secs(86_400));
    assert_eq!(s.optimization.aggressiveness, 0.5);
    assert_eq!(s.optimization.interval_s, 300);
    assert_eq!(s.optimization.max_latency_ms, 5000);
    assert_eq!(s.benchmarks.default_duration, Duration::from_secs(300));
    assert_eq!(s.benchmarks.seeds, 3);
    assert!(eff.sources.iter().all(|(_, src)| *src == Source::Default));
    assert_eq!(eff.sources.len(), Settings::keys().count());
    let path = temp_file("readme.toml", README_TOML);
    assert_eq!(
        Settings::load(Some(&path), &no_env, &[]).unwrap().settings,
        *s
    );
}

#[test]
fn file_then_env_then_flag_with_provenance() {
    let path = temp_file(
        "precedence.toml",
        "[performance]\nwindow_size = 10\nsampling_interval = \"2s\"\n\n[optimization]\n\
         aggressiveness = 0.1\ninterval_s = 60\n",
    );
    let env = env_of(&[
        ("CC_PERFORMANCE_WINDOW_SIZE", "20"),
        ("CC_PERFORMANCE_SAMPLING_RATE", "250"),
        ("CC_OPTIMIZATION_AGGRESSIVENESS", "0.3"),
        ("CC_AUTO_OPTIMIZATION", "false"),
        ("CC_PERFORMANCE_ALERTS_ENABLED", ""),
    ]);
    let eff = Settings::load(
        Some(&path),
        &env,
        &flags(&[("optimization.aggressiveness", "0.9")]),
    )
    .unwrap();
    let s = &eff.settings;
    assert_eq!(s.performance.window_size, 20);
    assert_eq!(s.performance.sampling_interval, Duration::from_millis(250));
    assert_eq!(s.optimization.aggressiveness, 0.9);
    assert_eq!(s.optimization.interval_s, 60);
    assert!(!s.optimization.auto_tune);
    assert!(
        s.performance.alerts_enabled,
        "an empty variable counts as unset"
    );
    let file = Source::File(path.clone());
    let src = |k: &str| eff.source(k).cloned().unwrap();
    assert_eq!(src("optimization.interval_s"), file);
    assert_eq!(
        src("performance.window_size"),
        Source::Env("CC_PERFORMANCE_WINDOW_SIZE".into())
    );
    assert_eq!(
        src("performance.sampling_interval"),
        Source::Env("CC_PERFORMANCE_SAMPLING_RATE".into())
    );
    assert_eq!(src("optimization.aggressiveness"), Source::Flag);
    assert_eq!(src("benchmarks.seeds"), Source::Default);
    assert_eq!(src("performance.alerts_enabled"), Source::Default);

    let rendered = eff.render();
    // The 7 settings in force and the two targets (commented out until set); the settings
    // without effect are listed apart, interval_s with the file it was read from.
    assert_eq!(rendered.lines().filter(|l| l.contains(" = ")).count(), 9);
    assert!(rendered.contains("[performance]\n"), "{rendered}");
    let line = |key: &str| {
        rendered
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key} in\n{rendered}"))
            .to_string()
    };
    assert!(
        line("window_size").contains("= 20")
            && line("window_size").ends_with("# env CC_PERFORMANCE_WINDOW_SIZE")
    );
    assert!(line("sampling_interval").contains("= \"250ms\""));
    assert!(line("aggressiveness").contains("= 0.9") && line("aggressiveness").ends_with("# flag"));
    assert!(rendered.contains(&format!(
        "#   optimization.interval_s: watch asks the engine every 10 heights (file {})",
        path.display()
    )));
    assert!(line("seeds").ends_with("# default"));
    // What render prints is itself a valid settings file with the same values in force (the
    // ignored interval_s is not carried over).
    let mut in_force = eff.settings.clone();
    in_force.optimization.interval_s = Settings::default().optimization.interval_s;
    assert_eq!(
        Settings::from_toml(&rendered, "rendered").unwrap(),
        in_force
    );
}

#[test]
fn bad_environment_values_name_the_variable_and_range() {
    let cases: [(Env, &str, &str); 6] = [
        (
            &[("CC_OPTIMIZATION_AGGRESSIVENESS", "2")],
            "CC_OPTIMIZATION_AGGRESSIVENESS",
            "from 0 to 1",
        ),
        (
            &[("CC_OPTIMIZATION_AGGRESSIVENESS", "abc")],
            "CC_OPTIMIZATION_AGGRESSIVENESS",
            "from 0 to 1",
        ),
        (
            &[("CC_PERFORMANCE_WINDOW_SIZE", "0")],
            "CC_PERFORMANCE_WINDOW_SIZE",
            "whole number from 1",
        ),
        (
            &[("CC_PERFORMANCE_SAMPLING_RATE", "1s")],
            "CC_PERFORMANCE_SAMPLING_RATE",
            "milliseconds",
        ),
        (
            &[("CC_AUTO_OPTIMIZATION", "maybe")],
            "CC_AUTO_OPTIMIZATION",
            "true or false",
        ),
        (
            &[("CC_OPTIMIZATION_INTERVAL", "-5")],
            "CC_OPTIMIZATION_INTERVAL",
            "whole number",
        ),
    ];
    for (pairs, var, allowed) in cases {
        let e = Settings::load(None, &env_of(pairs), &[]).unwrap_err();
        assert_eq!(e.origin, "environment");
        assert_eq!(e.field.as_deref(), Some(var));
        assert!(
            e.message.contains(allowed),
            "`{e}` does not say `{allowed}`"
        );
        assert!(
            e.message.contains(pairs[0].1),
            "`{e}` does not quote the value"
        );
    }
}

#[test]
fn bad_flags_are_refused() {
    let e = Settings::load(
        None,
        &no_env,
        &flags(&[("optimization.aggressivenes", "1")]),
    )
    .unwrap_err();
    assert_eq!(e.origin, "command line");
    assert!(
        e.message.contains("unknown setting") && e.message.contains("optimization.aggressiveness"),
        "{e}"
    );
    let e = Settings::load(None, &no_env, &flags(&[("benchmarks.seeds", "0")])).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("benchmarks.seeds"));
    assert!(e.message.contains("from 1 to 1000"), "{e}");
    let ok = Settings::load(
        None,
        &no_env,
        &flags(&[("benchmarks.default_duration", "90s")]),
    )
    .unwrap();
    assert_eq!(
        ok.settings.benchmarks.default_duration,
        Duration::from_secs(90)
    );
}

#[test]
fn settings_file_refuses_unknown_keys_bad_types_and_ranges() {
    let e = Settings::from_toml(
        "[performance]\nwindow_size = 5\ncolour = \"red\"\n",
        "c.toml",
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("performance.colour"), "{e}");
    assert!(e.message.contains("unknown field `colour`"), "{e}");
    assert_eq!(e.location.map(|l| l.0), Some(3), "{e}");

    let e = Settings::from_toml("[telemetry]\non = true\n", "c.toml").unwrap_err();
    assert!(e.message.contains("unknown field `telemetry`"), "{e}");
    assert_eq!(e.location.map(|l| l.0), Some(1), "{e}");

    let e =
        Settings::from_toml("[optimization]\nmax_latency_ms = \"fast\"\n", "c.toml").unwrap_err();
    assert_eq!(
        e.field.as_deref(),
        Some("optimization.max_latency_ms"),
        "{e}"
    );
    assert_eq!(e.location.map(|l| l.0), Some(2), "{e}");

    let e = Settings::from_toml(
        "[performance]\nsampling_interval = \"1 fortnight\"\n",
        "c.toml",
    )
    .unwrap_err();
    assert!(e.message.contains("unknown unit"), "{e}");

    let e = Settings::from_toml("\n[optimization]\naggressiveness = 1.5\n", "c.toml").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("optimization.aggressiveness"));
    assert_eq!(e.location, Some((3, 1)));
    assert!(
        e.message.contains("1.5") && e.message.contains("from 0 to 1"),
        "{e}"
    );

    for garbage in ["[[[", "= 3", "performance = 3", "\u{0}"] {
        assert!(
            Settings::from_toml(garbage, "g.toml").is_err(),
            "{garbage:?}"
        );
    }
}

#[test]
fn settings_file_must_exist_when_named_and_is_found_by_default() {
    let e = Settings::load(Some(Path::new("/nonexistent/ccperf.toml")), &no_env, &[]).unwrap_err();
    assert_eq!(e.origin, "/nonexistent/ccperf.toml");
    assert!(e.message.contains("cannot read settings file"), "{e}");

    let path = temp_file(settings::DEFAULT_FILE, "[benchmarks]\nseeds = 7\n");
    let dir = path.parent().unwrap();
    assert_eq!(settings::discover_file(None, dir), Some(path.clone()));
    assert_eq!(
        settings::discover_file(None, Path::new("/nonexistent")),
        None
    );
    let explicit = Path::new("elsewhere.toml");
    assert_eq!(
        settings::discover_file(Some(explicit), dir),
        Some(explicit.to_path_buf())
    );
    let found = settings::discover_file(None, dir);
    let eff = Settings::load(found.as_deref(), &no_env, &[]).unwrap();
    assert_eq!(eff.settings.benchmarks.seeds, 7);
}
