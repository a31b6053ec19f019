//! `BenchmarkScenario`: the seed's compact description of a benchmark, and the built-in suite.

use crate::config::{
    ByzantineBehavior, ByzantineSpec, LatencySpec, LoadSpec, NetworkSpec, Scenario, ValidatorsSpec,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The built-in benchmark suite, in the order it runs (scenario files in `scenarios/`).
pub const BUILTIN_BENCHMARKS: [&str; 4] = [
    "baseline",
    "high_load",
    "byzantine_fault",
    "network_partition",
];

/// A benchmark in the seed's terms: a full mesh with constant latency, Poisson load, and
/// optionally a ratio of Byzantine validators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkScenario {
    /// Short name, used in reports and file names.
    pub name: String,
    /// One line for people.
    pub description: String,
    /// Number of validators, equal voting power.
    pub validator_count: u32,
    /// Transactions per second (Poisson arrivals).
    pub transaction_rate: f64,
    /// Virtual time to simulate.
    pub duration: Duration,
    /// Constant one-way latency of every link.
    pub network_latency: Duration,
    /// Fraction of validators that are Byzantine, in [0, 1], rounded down to whole validators.
    pub byzantine_ratio: f64,
}

impl BenchmarkScenario {
    /// The scenario this benchmark runs: seed 0, a full mesh with constant `network_latency`,
    /// CometBFT's default parameters and costs, no targets (so only safety must hold), and when
    /// `byzantine_ratio > 0` that ratio of validators *equivocating* (the seed's "Byzantine
    /// Fault Test" tests safety under attack, which a silent validator would not).
    pub fn to_scenario(&self) -> Scenario {
        let byzantine = (self.byzantine_ratio > 0.0).then(|| ByzantineSpec {
            count: None,
            ratio: Some(self.byzantine_ratio),
            behavior: ByzantineBehavior::Equivocate,
            validators: None,
            delay: Duration::from_secs(1),
        });
        Scenario {
            name: self.name.clone(),
            description: self.description.clone(),
            seed: 0,
            duration: self.duration,
            validators: ValidatorsSpec {
                count: self.validator_count,
                voting_power: None,
            },
            network: NetworkSpec {
                latency: LatencySpec::Constant {
                    mean: self.network_latency,
                },
                ..NetworkSpec::default()
            },
            load: LoadSpec {
                transaction_rate: self.transaction_rate,
                ..LoadSpec::default()
            },
            byzantine,
            parameters: Default::default(),
            costs: Default::default(),
            app: Default::default(),
            targets: None,
        }
    }

    /// The compact view of a full scenario: mean link latency, and the Byzantine fraction from
    /// `ratio`, `count` or `validators` (topology, partitions and parameters are dropped).
    pub fn from_scenario(scenario: &Scenario) -> BenchmarkScenario {
        let n = scenario.validators.count;
        let byzantine_ratio = match &scenario.byzantine {
            None => 0.0,
            Some(b) => match (b.ratio, b.count, &b.validators) {
                (Some(r), _, _) => r,
                (None, Some(c), _) if n > 0 => f64::from(c) / f64::from(n),
                (None, None, Some(v)) if n > 0 => v.len() as f64 / f64::from(n),
                _ => 0.0,
            },
        };
        BenchmarkScenario {
            name: scenario.name.clone(),
            description: scenario.description.clone(),
            validator_count: n,
            transaction_rate: scenario.load.transaction_rate,
            duration: scenario.duration,
            network_latency: scenario.network.latency.mean(),
            byzantine_ratio,
        }
    }
}
