//! The built-in scenarios of the seed, kept as YAML files in `scenarios/` and embedded in the
//! binary, so that `ccperf run baseline` works anywhere and the files document themselves.

use super::{ConfigError, Scenario, parse_scenario};

/// Name and text of each built-in scenario, in the order they are listed.
const BUILTINS: [(&str, &str); 4] = [
    ("baseline", include_str!("../../scenarios/baseline.yaml")),
    ("high_load", include_str!("../../scenarios/high_load.yaml")),
    (
        "byzantine_fault",
        include_str!("../../scenarios/byzantine_fault.yaml"),
    ),
    (
        "network_partition",
        include_str!("../../scenarios/network_partition.yaml"),
    ),
];

const NAMES: [&str; 4] = [BUILTINS[0].0, BUILTINS[1].0, BUILTINS[2].0, BUILTINS[3].0];

/// Names of the built-in scenarios: baseline, high_load, byzantine_fault, network_partition.
pub fn builtin_names() -> &'static [&'static str] {
    &NAMES
}

/// The YAML text of a built-in scenario, or `None` for an unknown name.
pub fn builtin_scenario_text(name: &str) -> Option<&'static str> {
    BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Name and text of the example networks in `scenarios/`: runnable by name, not part of the
/// `bench` default set (they are 150 to 200-node runs).
const EXAMPLES: [(&str, &str); 3] = [
    (
        "cometbft_qa_v038",
        include_str!("../../scenarios/cometbft_qa_v038.yaml"),
    ),
    (
        "cometbft_qa_v1_latency",
        include_str!("../../scenarios/cometbft_qa_v1_latency.yaml"),
    ),
    (
        "global_150",
        include_str!("../../scenarios/global_150.yaml"),
    ),
];

const EXAMPLE_NAMES: [&str; 3] = [EXAMPLES[0].0, EXAMPLES[1].0, EXAMPLES[2].0];

/// Names of the example networks: cometbft_qa_v038, cometbft_qa_v1_latency, global_150.
pub fn example_names() -> &'static [&'static str] {
    &EXAMPLE_NAMES
}

/// An example network, parsed and validated; `None` for an unknown name.
pub fn example_scenario(name: &str) -> Option<Result<Scenario, ConfigError>> {
    EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| parse_scenario(text, &format!("scenarios/{n}.yaml")))
}

/// A built-in scenario, parsed and validated; `None` for an unknown name.
pub fn builtin_scenario(name: &str) -> Option<Result<Scenario, ConfigError>> {
    builtin_scenario_text(name)
        .map(|text| parse_scenario(text, &format!("built-in scenario `{name}`")))
}
