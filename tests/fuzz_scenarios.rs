//! A property test over scenario parsing and validation, run by CI for a fixed number of
//! generated inputs from a fixed seed (so a failure reproduces): whatever the text, parsing
//! never panics and refuses with a message naming the file; and what `validate` accepts, the
//! simulator builds (`validate` and `run` agree).

use consensus_performance::config::parse_scenario;
use consensus_performance::sim::Simulation;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Generated inputs per property: enough to cover every field a few times, quick in CI.
const CASES: u32 = 600;

/// The same inputs on every run.
const SEED: [u8; 32] = *b"ccperf scenario fuzz, fixed seed";

fn runner() -> TestRunner {
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED))
}

/// Durations as a user might write them: mostly valid, sometimes at or past an edge.
fn duration() -> BoxedStrategy<String> {
    let edge = prop::sample::select(vec![
        "0s", "1ns", "2562047h", "-5ms", "soon", "1.5s", "400d",
    ]);
    prop_oneof![
        6 => (1u64..5000).prop_map(|ms| format!("{ms}ms")),
        3 => (1u64..60).prop_map(|s| format!("{s}s")),
        1 => edge.prop_map(str::to_string),
    ]
    .boxed()
}

/// Numbers: mostly small and valid, sometimes around the edges of every range.
fn number() -> BoxedStrategy<String> {
    let edge = prop::sample::select(vec![
        "0",
        "-1",
        "18446744073709551615",
        "1e308",
        ".nan",
        "~",
        "0.5",
        "1.0",
    ]);
    prop_oneof![
        5 => (1u64..10).prop_map(|n| n.to_string()),
        3 => (1u64..2000).prop_map(|n| n.to_string()),
        1 => (0.0f64..1.0).prop_map(|x| format!("{x:.3}")),
        1 => edge.prop_map(str::to_string),
    ]
    .boxed()
}

fn latency() -> BoxedStrategy<String> {
    prop_oneof![
        duration().prop_map(|m| format!("{{ distribution: constant, mean: {m} }}")),
        (duration(), duration())
            .prop_map(|(a, b)| format!("{{ distribution: uniform, min: {a}, max: {b} }}")),
        (duration(), duration())
            .prop_map(|(m, s)| format!("{{ distribution: normal, mean: {m}, stddev: {s} }}")),
        (duration(), duration())
            .prop_map(|(m, s)| format!("{{ distribution: lognormal, mean: {m}, stddev: {s} }}")),
        duration().prop_map(|m| format!("{{ distribution: exponential, mean: {m} }}")),
    ]
    .boxed()
}

fn indices(max: u16) -> BoxedStrategy<String> {
    prop::collection::vec(0..max, 0..5)
        .prop_map(|v| {
            format!(
                "[{}]",
                v.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
            )
        })
        .boxed()
}

fn network() -> BoxedStrategy<String> {
    let topology = prop_oneof![
        Just("full_mesh".to_string()),
        Just("ring".to_string()),
        Just("star".to_string()),
        (0u32..7).prop_map(|d| format!("random_regular, degree: {d}")),
        prop::collection::vec((0u16..12, 0u16..12), 0..12).prop_map(|edges| {
            let list: Vec<String> = edges.iter().map(|(a, b)| format!("[{a}, {b}]")).collect();
            format!("explicit, edges: [{}]", list.join(", "))
        }),
    ];
    let partition = (
        duration(),
        prop::option::of(duration()),
        indices(12),
        indices(12),
    )
        .prop_map(|(at, heal, a, b)| {
            let heal = heal.map(|h| format!(", heal_at: {h}")).unwrap_or_default();
            format!("{{ at: {at}{heal}, groups: [{a}, {b}] }}")
        });
    (
        topology,
        latency(),
        prop::option::of(number()),
        number(),
        duration(),
        prop::collection::vec(partition, 0..3),
        prop::bool::ANY,
    )
        .prop_map(
            |(topology, latency, bandwidth, loss, interval, partitions, direct)| {
                let bandwidth = bandwidth
                    .map(|b| format!(", bandwidth_mbps: {b}"))
                    .unwrap_or_default();
                format!(
                    "{{ topology: {topology}, latency: {latency}{bandwidth}, loss: {loss}, \
                 gossip_interval: {interval}, partitions: [{}], gossip: {} }}",
                    partitions.join(", "),
                    if direct { "direct" } else { "cometbft" }
                )
            },
        )
        .boxed()
}

fn byzantine() -> BoxedStrategy<String> {
    let behavior = prop_oneof![
        9 => prop::sample::select(vec!["silent", "equivocate", "amnesia", "delay", "withhold_precommits"]),
        1 => Just("chaotic"),
    ];
    let who = prop_oneof![
        number().prop_map(|n| format!("count: {n}")),
        number().prop_map(|r| format!("ratio: {r}")),
        indices(12).prop_map(|v| format!("validators: {v}")),
    ];
    (who, behavior, prop::option::of(duration()))
        .prop_map(|(who, behavior, delay)| {
            let delay = delay.map(|d| format!(", delay: {d}")).unwrap_or_default();
            format!("{{ {who}, behavior: {behavior}{delay} }}")
        })
        .boxed()
}

fn parameters() -> BoxedStrategy<String> {
    let key = prop_oneof![
        Just("block_interval"),
        Just("timeout_propose"),
        Just("timeout_propose_delta"),
        Just("timeout_prevote"),
        Just("timeout_prevote_delta"),
        Just("timeout_precommit"),
        Just("timeout_precommit_delta"),
    ];
    let timing = (key, duration()).prop_map(|(k, d)| format!("{k}: {d}"));
    let sized = (
        prop_oneof![Just("block_size_limit"), Just("batch_size")],
        number(),
    )
        .prop_map(|(k, n)| format!("{k}: {n}"));
    prop::collection::vec(prop_oneof![timing, sized], 0..5)
        .prop_map(|fields| {
            // One value per key (a duplicate key is a refusal the text test already reaches).
            let mut seen = Vec::new();
            let unique: Vec<String> = fields
                .into_iter()
                .filter(|f| {
                    let key = f.split(':').next().unwrap_or_default().to_string();
                    let new = !seen.contains(&key);
                    seen.push(key);
                    new
                })
                .collect();
            format!("{{ {} }}", unique.join(", "))
        })
        .boxed()
}

fn costs() -> BoxedStrategy<String> {
    let key = prop_oneof![
        Just("cores"),
        Just("sign"),
        Just("verify_vote"),
        Just("build_per_tx"),
        Just("verify_per_tx"),
        Just("verify_batch_overhead"),
        Just("commit_per_tx"),
        Just("commit_per_block"),
        Just("base_memory_mb"),
    ];
    let field = (key, prop_oneof![number(), duration()]).prop_map(|(k, v)| format!("{k}: {v}"));
    prop_oneof![
        Just("none".to_string()),
        Just("default".to_string()),
        prop::collection::vec(field, 0..4).prop_map(|f| format!("{{ {} }}", f.join(", "))),
    ]
    .boxed()
}

/// A whole scenario: every section optional, every value drawn from valid and invalid ones.
fn scenario_text() -> BoxedStrategy<String> {
    (
        duration(),
        prop_oneof![9 => (1u32..13).prop_map(|n| n.to_string()), 1 => number()],
        prop::option::weighted(
            0.3,
            (
                prop::collection::vec(1u64..1000, 13),
                0usize..14,
                prop::bool::weighted(0.8),
            ),
        ),
        prop::option::of(network()),
        prop::option::of((number(), number())),
        prop::option::of(byzantine()),
        prop::option::of(parameters()),
        costs(),
        prop::option::of((number(), duration())),
    )
        .prop_map(
            |(duration, count, powers, network, load, byzantine, parameters, costs, targets)| {
                let mut text =
                    format!("name: fuzz\nduration: {duration}\nvalidators: {{ count: {count}");
                if let Some((powers, other_len, matching)) = powers {
                    // Mostly one power per validator, sometimes a list of the wrong length.
                    let len = if matching {
                        count.parse().unwrap_or(other_len)
                    } else {
                        other_len
                    };
                    let list: Vec<String> = powers.iter().take(len).map(u64::to_string).collect();
                    text.push_str(&format!(", voting_power: [{}]", list.join(", ")));
                }
                text.push_str(" }\n");
                if let Some(network) = network {
                    text.push_str(&format!("network: {network}\n"));
                }
                if let Some((rate, size)) = load {
                    text.push_str(&format!(
                        "load: {{ transaction_rate: {rate}, tx_size: {size} }}\n"
                    ));
                }
                if let Some(byzantine) = byzantine {
                    text.push_str(&format!("byzantine: {byzantine}\n"));
                }
                if let Some(parameters) = parameters {
                    text.push_str(&format!("parameters: {parameters}\n"));
                }
                text.push_str(&format!("costs: {costs}\n"));
                if let Some((throughput, latency)) = targets {
                    text.push_str(&format!(
                        "targets: {{ target_throughput: {throughput}, max_latency: {latency} }}\n"
                    ));
                }
                text
            },
        )
        .boxed()
}

/// Parse `text`; an accepted scenario must build, a refused one must say why and where.
fn check(text: &str) -> Result<bool, TestCaseError> {
    match parse_scenario(text, "fuzz.yaml") {
        Ok(scenario) => {
            let built = Simulation::new(&scenario, 7);
            prop_assert!(
                built.is_ok(),
                "validate accepted what the simulator refuses: {:?}\n{text}",
                built.err().map(|e| e.to_string())
            );
            Ok(true)
        }
        Err(e) => {
            let message = e.to_string();
            if std::env::var("SHOW").is_ok() {
                eprintln!("{message}");
            }
            prop_assert!(message.starts_with("fuzz.yaml"), "{message}");
            prop_assert!(!e.message.trim().is_empty(), "{message}");
            Ok(false)
        }
    }
}

/// Run `f` on a thread with a 64 MiB stack: proptest's value trees for a whole scenario nest
/// deeply, and debug builds spend a lot of stack on them.
fn with_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn_scoped(scope, f)
            .expect("thread starts")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[test]
fn generated_scenarios_are_refused_with_a_message_or_build() {
    let accepted = std::sync::atomic::AtomicU32::new(0);
    let result = with_stack(|| {
        runner().run(&scenario_text(), |text| {
            if check(&text)? {
                accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator must reach both sides, or the property says little.
    let accepted = accepted.into_inner();
    assert!(
        (CASES / 10..CASES - CASES / 10).contains(&accepted),
        "{accepted} of {CASES} generated scenarios accepted"
    );
}

#[test]
fn arbitrary_text_never_panics_the_parser() {
    // YAML's structural characters and scenario words, in any order.
    let alphabet = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "-",
        " ",
        "\n",
        "  ",
        "#",
        "'",
        "\"",
        "&a",
        "*a",
        "!!str",
        "|",
        ">",
        "?",
        "duration",
        "validators",
        "count",
        "network",
        "partitions",
        "groups",
        "at",
        "1s",
        "0",
        "4",
        "-1",
        "~",
        "null",
        "true",
        "1e9",
        "\t",
        "é",
        "\u{feff}",
    ]);
    let text = prop::collection::vec(alphabet, 0..120).prop_map(|parts| parts.concat());
    let result = with_stack(|| runner().run(&text, |text| check(&text).map(|_| ())));
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn every_topology_that_validates_builds() {
    // Only the graph varies, the rest is valid: validate must check what building checks.
    let topology = prop_oneof![
        Just("full_mesh".to_string()),
        Just("ring".to_string()),
        Just("star".to_string()),
        (0u32..8).prop_map(|d| format!("random_regular, degree: {d}")),
        prop::collection::vec((0u16..12, 0u16..12), 0..16).prop_map(|edges| {
            let list: Vec<String> = edges.iter().map(|(a, b)| format!("[{a}, {b}]")).collect();
            format!("explicit, edges: [{}]", list.join(", "))
        }),
    ];
    let text = (1u32..13, topology).prop_map(|(count, topology)| {
        format!(
            "duration: 2s\nvalidators: {{ count: {count} }}\nnetwork: {{ topology: {topology}, gossip: direct }}\ncosts: none\n"
        )
    });
    let accepted = std::sync::atomic::AtomicU32::new(0);
    let result = with_stack(|| {
        runner().run(&text, |text| {
            if check(&text)? {
                accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let accepted = accepted.into_inner();
    assert!(
        (CASES / 10..CASES - CASES / 10).contains(&accepted),
        "{accepted} of {CASES} topologies accepted"
    );
}
