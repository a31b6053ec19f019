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

/// A built-in scenario, parsed and validated; `None` for an unknown name.
pub fn builtin_scenario(name: &str) -> Option<Result<Scenario, ConfigError>> {
    builtin_scenario_text(name)
        .map(|text| parse_scenario(text, &format!("built-in scenario `{name}`")))
}
