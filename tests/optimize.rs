//! The optimization engine: each strategy fires on what it targets, steps scale with
//! aggressiveness, suggestions stay in the safe bounds, history and rollback are exact.

use consensus_performance::metrics::{ConsensusMetrics, LatencyPercentiles, ResourceUsage};
use consensus_performance::optimize::bounds::{self, DelayEstimate};
use consensus_performance::optimize::{
    Observations, OptimizationEngine, OptimizationParameters, OptimizationSuggestion,
    OptimizeError, Parameter, ParameterValue, PerformanceTargets, Strategy, score, set_parameter,
};
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn dur(n: u64) -> ParameterValue {
    ParameterValue::Duration(ms(n))
}

/// Meets every default target (1000 tx/s, 5 s p99, 15 s finality, 80 % CPU, 1024 MB).
fn healthy() -> ConsensusMetrics {
    ConsensusMetrics {
        round_duration: ms(1500),
        proposal_time: ms(100),
        voting_time: ms(200),
        commit_time: ms(50),
        throughput: 1200.0,
        latency_percentiles: LatencyPercentiles {
            p50: ms(1000),
            p90: ms(2000),
            p95: ms(2500),
            p99: ms(3000),
        },
        resource_usage: ResourceUsage {
            cpu_percent: 40.0,
            memory_mb: 512,
            ..ResourceUsage::default()
        },
    }
}

/// A 100 ms network, single-round heights, half-full blocks, no backlog.
fn calm() -> Observations {
    Observations {
        max_message_delay: Some(ms(100)),
        p99_message_delay: Some(ms(90)),
        proposal_arrival: Some(ms(150)),
        rounds_per_height_mean: Some(1.0),
        multi_round_fraction: Some(0.0),
        mean_txs_per_block: Some(1000.0),
        block_fill_ratio: Some(0.5),
        mempool_backlog: Some(0),
    }
}

fn engine() -> OptimizationEngine {
    OptimizationEngine::new(
        OptimizationParameters::default(),
        PerformanceTargets::default(),
    )
}

fn engine_with(parameters: OptimizationParameters) -> OptimizationEngine {
    OptimizationEngine::new(parameters, PerformanceTargets::default())
}

fn find(suggestions: &[OptimizationSuggestion], p: Parameter) -> Option<&OptimizationSuggestion> {
    suggestions.iter().find(|s| s.parameter == p)
}

fn value_of(suggestions: &[OptimizationSuggestion], p: Parameter) -> ParameterValue {
    match find(suggestions, p) {
        Some(s) => s.suggested_value,
        None => panic!("no suggestion for {p} in {suggestions:#?}"),
    }
}

#[test]
fn healthy_run_gets_no_suggestions() {
    let mut e = engine();
    assert_eq!(e.analyze_and_optimize(&healthy()).unwrap(), vec![]);
    assert_eq!(e.analyze_with(&healthy(), &calm()).unwrap(), vec![]);
    // Even with parallel verification off: nothing is missed, so nothing is changed.
    let mut off = engine_with(OptimizationParameters {
        parallel_verification: false,
        ..OptimizationParameters::default()
    });
    assert_eq!(off.analyze_with(&healthy(), &calm()).unwrap(), vec![]);
}

#[test]
fn low_throughput_turns_parallel_verification_on() {
    let mut e = engine_with(OptimizationParameters {
        parallel_verification: false,
        ..OptimizationParameters::default()
    });
    let metrics = ConsensusMetrics {
        throughput: 600.0,
        ..healthy()
    };
    let s = e.analyze_with(&metrics, &calm()).unwrap();
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].parameter, Parameter::ParallelVerification);
    assert_eq!(s[0].current_value, ParameterValue::Flag(false));
    assert_eq!(s[0].suggested_value, ParameterValue::Flag(true));
    assert_eq!(s[0].strategy, Strategy::Throughput);
    // priority = 0.9 × shortfall 0.4
    assert!((s[0].priority - 0.36).abs() < 1e-9, "{}", s[0].priority);
    assert!(s[0].reason.contains("600.0 tx/s"), "{}", s[0].reason);
}

#[test]
fn cpu_bound_low_throughput_grows_the_batch() {
    let mut e = engine();
    let mut metrics = ConsensusMetrics {
        throughput: 600.0,
        ..healthy()
    };
    metrics.resource_usage.cpu_percent = 70.0; // ≥ 0.75 × 80 %: CPU-bound, not over the limit
    let s = e.analyze_with(&metrics, &calm()).unwrap();
    assert_eq!(
        value_of(&s, Parameter::BatchSize),
        ParameterValue::Count(150)
    );
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].strategy, Strategy::Throughput);
    // Not CPU-bound: no batch change.
    metrics.resource_usage.cpu_percent = 30.0;
    assert_eq!(e.analyze_with(&metrics, &calm()).unwrap(), vec![]);
}

#[test]
fn full_blocks_or_backlog_grow_the_block_size() {
    let mut e = engine();
    let metrics = ConsensusMetrics {
        throughput: 700.0,
        ..healthy()
    };
    let full = Observations {
        block_fill_ratio: Some(0.95),
        ..calm()
    };
    let s = e.analyze_with(&metrics, &full).unwrap();
    assert_eq!(
        value_of(&s, Parameter::BlockSizeLimit),
        ParameterValue::Count(6_291_456) // 4 MiB × 1.5
    );
    assert!(s[0].reason.contains("95 % full"), "{}", s[0].reason);
    let backlog = Observations {
        mempool_backlog: Some(5000),
        ..calm()
    };
    let s = e.analyze_with(&metrics, &backlog).unwrap();
    assert_eq!(
        value_of(&s, Parameter::BlockSizeLimit),
        ParameterValue::Count(6_291_456)
    );
    assert!(s[0].reason.contains("mempool backs up"), "{}", s[0].reason);
}

#[test]
fn block_size_never_grows_past_cometbft_max() {
    let mut e = engine_with(OptimizationParameters {
        block_size_limit: 90_000_000,
        ..OptimizationParameters::default()
    });
    let metrics = ConsensusMetrics {
        throughput: 700.0,
        ..healthy()
    };
    let full = Observations {
        block_fill_ratio: Some(1.0),
        ..calm()
    };
    let s = e.analyze_with(&metrics, &full).unwrap();
    assert_eq!(
        value_of(&s, Parameter::BlockSizeLimit),
        ParameterValue::Count(bounds::MAX_BLOCK_SIZE)
    );
    // At the maximum already: the clamped suggestion would change nothing, so none is made.
    let mut at_max = engine_with(OptimizationParameters {
        block_size_limit: bounds::MAX_BLOCK_SIZE,
        ..OptimizationParameters::default()
    });
    assert_eq!(at_max.analyze_with(&metrics, &full).unwrap(), vec![]);
}

#[test]
fn low_throughput_with_unfull_blocks_and_high_latency_shortens_the_block_interval() {
    let mut e = engine();
    let mut metrics = ConsensusMetrics {
        throughput: 700.0,
        ..healthy()
    };
    metrics.latency_percentiles.p99 = ms(6000);
    let s = e.analyze_with(&metrics, &calm()).unwrap();
    assert_eq!(value_of(&s, Parameter::BlockInterval), dur(750));
    // Full blocks: the interval is left to the block size rule.
    let full = Observations {
        block_fill_ratio: Some(0.95),
        ..calm()
    };
    let s = e.analyze_with(&metrics, &full).unwrap();
    assert_eq!(
        value_of(&s, Parameter::BlockSizeLimit),
        ParameterValue::Count(6_291_456)
    );
}

#[test]
fn silent_proposer_rounds_reduce_timeout_propose_first() {
    let mut e = engine();
    let metrics = ConsensusMetrics {
        round_duration: ms(2400),
        ..healthy()
    };
    let obs = Observations {
        rounds_per_height_mean: Some(1.25),
        multi_round_fraction: Some(0.25),
        ..calm()
    };
    let s = e.analyze_with(&metrics, &obs).unwrap();
    assert_eq!(s[0].parameter, Parameter::TimeoutPropose);
    assert_eq!(s[0].strategy, Strategy::Latency);
    assert_eq!(s[0].current_value, dur(3000));
    assert_eq!(s[0].suggested_value, dur(2250)); // 3 s × (1 − 0.5 × 0.5)
    assert!(s[0].reason.contains("25 % of heights"), "{}", s[0].reason);
    assert_eq!(value_of(&s, Parameter::TimeoutPrevote), dur(750));
    assert_eq!(value_of(&s, Parameter::TimeoutPrecommit), dur(750));
    // Targets are met: the block interval is not the problem.
    assert!(find(&s, Parameter::BlockInterval).is_none(), "{s:#?}");
    assert_eq!(s.len(), 3);
}

#[test]
fn high_latency_in_single_round_heights_leaves_vote_timeouts_alone() {
    let mut e = engine();
    let mut metrics = healthy();
    metrics.latency_percentiles.p99 = ms(7500);
    let s = e.analyze_with(&metrics, &calm()).unwrap();
    // timeout_propose 3 s is far above its 350 ms floor: reduced, at a low weight.
    assert_eq!(value_of(&s, Parameter::TimeoutPropose), dur(2250));
    assert_eq!(value_of(&s, Parameter::BlockInterval), dur(750));
    assert!(find(&s, Parameter::TimeoutPrevote).is_none());
    assert!(find(&s, Parameter::TimeoutPrecommit).is_none());
    // block_interval (0.7 × 0.5) outranks timeout_propose (0.4 × 0.5).
    assert_eq!(s[0].parameter, Parameter::BlockInterval);
    assert!((s[0].priority - 0.35).abs() < 1e-9);
    assert!((s[1].priority - 0.2).abs() < 1e-9);
}

#[test]
fn timeout_below_its_floor_is_raised_to_the_floor() {
    let mut e = engine();
    let metrics = ConsensusMetrics {
        round_duration: ms(6000),
        ..healthy()
    };
    let slow_net = Observations {
        max_message_delay: Some(ms(600)),
        proposal_arrival: Some(ms(700)),
        multi_round_fraction: Some(0.5),
        ..calm()
    };
    let s = e.analyze_with(&metrics, &slow_net).unwrap();
    // prevote and precommit 1 s < 2 × 600 ms.
    assert_eq!(value_of(&s, Parameter::TimeoutPrevote), dur(1200));
    assert_eq!(value_of(&s, Parameter::TimeoutPrecommit), dur(1200));
    // propose floor 3 × 600 + 100 = 1.9 s; 3 s × 0.75 = 2.25 s stays above it.
    assert_eq!(value_of(&s, Parameter::TimeoutPropose), dur(2250));
    let prevote = find(&s, Parameter::TimeoutPrevote).unwrap();
    assert!(
        prevote.reason.contains("below its safe floor 1.200s"),
        "{}",
        prevote.reason
    );
}

#[test]
fn timeout_is_never_suggested_below_the_observed_delay_bound() {
    let metrics = ConsensusMetrics {
        round_duration: ms(9000),
        ..healthy()
    };
    let obs = Observations {
        max_message_delay: Some(ms(900)),
        proposal_arrival: Some(ms(1000)),
        multi_round_fraction: Some(0.6),
        ..calm()
    };
    let mut e = engine_with(OptimizationParameters {
        timeout_propose: ms(3000),
        timeout_prevote: ms(2000),
        timeout_precommit: ms(2000),
        ..OptimizationParameters::default()
    })
    .with_aggressiveness(1.0)
    .unwrap();
    let s = e.analyze_with(&metrics, &obs).unwrap();
    // Halving 3 s would give 1.5 s; the floor is 3 × 900 + 100 = 2.8 s.
    assert_eq!(value_of(&s, Parameter::TimeoutPropose), dur(2800));
    // Halving 2 s would give 1 s; the floor is 2 × 900 = 1.8 s.
    assert_eq!(value_of(&s, Parameter::TimeoutPrevote), dur(1800));
    assert_eq!(value_of(&s, Parameter::TimeoutPrecommit), dur(1800));
}

#[test]
fn heavy_blocks_under_high_latency_shrink_the_block_size() {
    let mut e = engine();
    let mut metrics = healthy();
    metrics.latency_percentiles.p99 = ms(6000);
    let heavy = Observations {
        proposal_arrival: Some(ms(900)), // 800 ms beyond the 100 ms hop
        block_fill_ratio: Some(0.9),
        ..calm()
    };
    let s = e.analyze_with(&metrics, &heavy).unwrap();
    assert_eq!(
        value_of(&s, Parameter::BlockSizeLimit),
        ParameterValue::Count(3_145_728) // 4 MiB × 0.75
    );
    // Blocks only 10 % full: a smaller limit would not bind, so it is not suggested.
    let sparse = Observations {
        block_fill_ratio: Some(0.1),
        ..heavy
    };
    let s = e.analyze_with(&metrics, &sparse).unwrap();
    assert!(find(&s, Parameter::BlockSizeLimit).is_none(), "{s:#?}");
}

#[test]
fn cpu_over_limit_turns_parallel_on_and_grows_the_batch() {
    let mut e = engine_with(OptimizationParameters {
        parallel_verification: false,
        ..OptimizationParameters::default()
    });
    let mut metrics = healthy();
    metrics.resource_usage.cpu_percent = 96.0; // 20 % over 80 %
    let s = e.analyze_with(&metrics, &calm()).unwrap();
    assert_eq!(s.len(), 2, "{s:#?}");
    assert!(s.iter().all(|x| x.strategy == Strategy::Resource));
    assert_eq!(s[0].parameter, Parameter::ParallelVerification); // 0.8 × 0.2
    assert_eq!(s[0].suggested_value, ParameterValue::Flag(true));
    assert_eq!(s[1].parameter, Parameter::BatchSize); // 0.7 × 0.2
    assert_eq!(s[1].suggested_value, ParameterValue::Count(150));
}

#[test]
fn memory_over_limit_shrinks_blocks_and_batches_and_beats_throughput() {
    let mut e = engine();
    let mut metrics = ConsensusMetrics {
        throughput: 500.0,
        ..healthy()
    };
    metrics.resource_usage.memory_mb = 2048;
    let full = Observations {
        block_fill_ratio: Some(0.95),
        ..calm()
    };
    let s = e.analyze_with(&metrics, &full).unwrap();
    // Throughput wants larger blocks, memory smaller: the resource limit wins.
    let block = find(&s, Parameter::BlockSizeLimit).unwrap();
    assert_eq!(block.strategy, Strategy::Resource);
    assert_eq!(block.suggested_value, ParameterValue::Count(3_145_728));
    assert_eq!(
        value_of(&s, Parameter::BatchSize),
        ParameterValue::Count(75)
    );
    assert_eq!(s.len(), 2, "{s:#?}");
}

#[test]
fn aggressiveness_scales_the_steps() {
    let metrics = ConsensusMetrics {
        throughput: 600.0,
        round_duration: ms(2400),
        resource_usage: ResourceUsage {
            cpu_percent: 70.0,
            ..healthy().resource_usage
        },
        ..healthy()
    };
    let obs = Observations {
        multi_round_fraction: Some(0.3),
        ..calm()
    };
    let run = |a: f64| {
        engine()
            .with_aggressiveness(a)
            .unwrap()
            .analyze_with(&metrics, &obs)
            .unwrap()
    };
    let (gentle, bold) = (run(0.2), run(0.8));
    assert_eq!(value_of(&gentle, Parameter::TimeoutPropose), dur(2700)); // × 0.9
    assert_eq!(value_of(&bold, Parameter::TimeoutPropose), dur(1800)); // × 0.6
    assert_eq!(
        value_of(&gentle, Parameter::BatchSize),
        ParameterValue::Count(120)
    ); // × 1.2
    assert_eq!(
        value_of(&bold, Parameter::BatchSize),
        ParameterValue::Count(180)
    ); // × 1.8
    assert_eq!(engine().aggressiveness(), 0.5);
    // Aggressiveness 0 takes no steps at all.
    assert_eq!(run(0.0), vec![]);
}

#[test]
fn aggressiveness_out_of_range_is_refused() {
    for bad in [-0.1, 1.5, f64::NAN] {
        let err = engine().with_aggressiveness(bad).unwrap_err();
        assert!(matches!(err, OptimizeError::AggressivenessOutOfRange(_)));
    }
    assert_eq!(
        engine().with_aggressiveness(2.0).unwrap_err().to_string(),
        "aggressiveness must be between 0.0 and 1.0, got 2"
    );
}

#[test]
fn metrics_alone_infer_extra_rounds_and_estimate_delays_conservatively() {
    let mut e = engine();
    // 8 s per height, of which 0.1 + 0.2 + 0.05 + 1 (block interval) is the deciding round.
    let metrics = ConsensusMetrics {
        round_duration: ms(8000),
        ..healthy()
    };
    let s = e.analyze_and_optimize(&metrics).unwrap();
    assert_eq!(s[0].parameter, Parameter::TimeoutPropose);
    assert_eq!(s[0].suggested_value, dur(2250));
    assert_eq!(s[0].confidence, 0.5); // inferred, not observed
    assert!(s[0].reason.contains("estimated"), "{}", s[0].reason);
    let estimate = DelayEstimate::from_run(&metrics, &Observations::default());
    assert_eq!(estimate.max_one_way, ms(100));
}

#[test]
fn suggestions_display_like_the_seed_prints_them() {
    let mut e = engine();
    let obs = Observations {
        multi_round_fraction: Some(0.25),
        ..calm()
    };
    let s = e.analyze_with(&healthy(), &obs).unwrap();
    let line = format!("{} -> {}", s[0].parameter, s[0].suggested_value);
    assert_eq!(line, "timeout_propose -> 2250ms");
    let json = serde_json::to_value(&s[0]).unwrap();
    assert_eq!(json["parameter"], "timeout_propose");
    assert_eq!(json["current_value"], "3s");
    assert_eq!(json["strategy"], "latency");
}

/// A grid of runs: suggestions stay in the safe range, change something, are sorted and
/// deterministic, and a timeout never goes below its delay-derived floor.
#[test]
fn every_suggestion_stays_within_the_safe_bounds() {
    let mut checked = 0;
    for throughput in [300.0, 1200.0] {
        for p99 in [2000, 8000] {
            for round in [1500, 20_000] {
                for cpu in [30.0, 70.0, 95.0] {
                    for memory in [512, 2048] {
                        for delay in [1, 100, 700] {
                            for multi in [None, Some(0.0), Some(0.4)] {
                                for fill in [None, Some(0.3), Some(0.95)] {
                                    for (propose, parallel) in [(100, false), (3000, true)] {
                                        let metrics = ConsensusMetrics {
                                            throughput,
                                            round_duration: ms(round),
                                            latency_percentiles: LatencyPercentiles {
                                                p99: ms(p99),
                                                ..healthy().latency_percentiles
                                            },
                                            resource_usage: ResourceUsage {
                                                cpu_percent: cpu,
                                                memory_mb: memory,
                                                ..ResourceUsage::default()
                                            },
                                            ..healthy()
                                        };
                                        let obs = Observations {
                                            max_message_delay: Some(ms(delay)),
                                            proposal_arrival: Some(ms(delay + 50)),
                                            multi_round_fraction: multi,
                                            block_fill_ratio: fill,
                                            mempool_backlog: Some(3000),
                                            ..calm()
                                        };
                                        let parameters = OptimizationParameters {
                                            timeout_propose: ms(propose),
                                            parallel_verification: parallel,
                                            ..OptimizationParameters::default()
                                        };
                                        check_run(&parameters, &metrics, &obs);
                                        checked += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 2 * 2 * 2 * 3 * 2 * 3 * 3 * 3 * 2);
}

fn check_run(parameters: &OptimizationParameters, metrics: &ConsensusMetrics, obs: &Observations) {
    for a in [0.2, 1.0] {
        let mut e = engine_with(parameters.clone())
            .with_aggressiveness(a)
            .unwrap();
        let s = e.analyze_with(metrics, obs).unwrap();
        assert_eq!(s, e.analyze_with(metrics, obs).unwrap(), "deterministic");
        let delays = DelayEstimate::from_run(metrics, obs);
        let max_delay = obs.max_message_delay.unwrap_or_default();
        for (i, x) in s.iter().enumerate() {
            let safe = bounds::safe_range(x.parameter, &delays);
            assert!(safe.contains(x.suggested_value), "{x:#?} outside {safe:?}");
            assert_ne!(x.suggested_value, x.current_value, "{x:#?}");
            assert_eq!(x.current_value, x.parameter.get(parameters));
            assert!((0.0..=1.0).contains(&x.priority) && (0.0..=1.0).contains(&x.confidence));
            if let Some(d) = x.suggested_value.as_duration() {
                match x.parameter {
                    Parameter::TimeoutPropose => assert!(d >= max_delay * 3, "{x:#?}"),
                    Parameter::TimeoutPrevote | Parameter::TimeoutPrecommit => {
                        assert!(d >= max_delay * 2 && d >= bounds::MIN_TIMEOUT, "{x:#?}")
                    }
                    _ => {}
                }
            }
            if let Some(next) = s.get(i + 1) {
                assert!(
                    x.priority > next.priority
                        || (x.priority == next.priority && x.parameter < next.parameter),
                    "not sorted: {s:#?}"
                );
            }
        }
        let mut params = parameters.clone();
        for x in &s {
            x.parameter.apply(&mut params, x.suggested_value).unwrap();
        }
    }
}

#[test]
fn rollback_restores_the_previous_parameters_exactly() {
    let original = OptimizationParameters {
        parallel_verification: false,
        ..OptimizationParameters::default()
    };
    let mut e = engine_with(original.clone());
    let mut metrics = ConsensusMetrics {
        throughput: 600.0,
        round_duration: ms(2400),
        ..healthy()
    };
    metrics.resource_usage.cpu_percent = 70.0;
    let obs = Observations {
        multi_round_fraction: Some(0.25),
        ..calm()
    };
    let s = e.analyze_with(&metrics, &obs).unwrap();
    let first = e.apply_optimization(&s[0], metrics.clone()).unwrap();
    assert_eq!(first.id, 1);
    // Throughput misses by 40 %: parallel verification (0.9 × 0.4) ranks first.
    assert_eq!(first.parameter, Parameter::ParallelVerification);
    assert_eq!(
        (first.from, first.to),
        (ParameterValue::Flag(false), ParameterValue::Flag(true))
    );
    let after_first = e.parameters().clone();
    assert!(after_first.parallel_verification);
    let second = e.apply_optimization(&s[1], metrics.clone()).unwrap();
    assert_eq!(second.id, 2);
    assert_eq!(second.parameter, Parameter::BatchSize); // 0.7 × 0.4, CPU-bound
    assert_eq!(e.parameters().batch_size, 150);
    assert_ne!(e.parameters(), &after_first);

    assert_eq!(e.rollback().unwrap(), after_first);
    assert_eq!(e.parameters(), &after_first);
    assert_eq!(e.rollback().unwrap(), original);
    assert_eq!(e.parameters(), &original);
    assert_eq!(e.rollback(), Err(OptimizeError::NothingToRollBack));

    let h = e.history();
    assert_eq!(h.len(), 2);
    assert!(h.iter().all(|x| x.rolled_back));
    assert_eq!(h[0].parameters_before, original);
    assert_eq!(h[0].parameters_after, after_first);
    assert_eq!(h[1].parameters_before, after_first);
}

#[test]
fn stale_suggestions_are_refused() {
    let mut e = engine();
    let obs = Observations {
        multi_round_fraction: Some(0.25),
        ..calm()
    };
    let s = e.analyze_with(&healthy(), &obs).unwrap();
    e.apply_optimization(&s[0], healthy()).unwrap();
    let before = e.parameters().clone();
    let err = e.apply_optimization(&s[0], healthy()).unwrap_err();
    assert_eq!(
        err,
        OptimizeError::StaleSuggestion {
            parameter: Parameter::TimeoutPropose,
            expected: dur(3000),
            actual: dur(2250),
        }
    );
    assert!(
        err.to_string()
            .contains("it was made when the value was 3s, but it is now 2250ms")
    );
    assert_eq!(e.parameters(), &before);
    assert_eq!(e.history().len(), 1);
}

#[test]
fn unsafe_values_are_refused_on_apply() {
    let mut e = engine();
    let obs = Observations {
        multi_round_fraction: Some(0.25),
        ..calm()
    };
    let s = e.analyze_with(&healthy(), &obs).unwrap();
    let reckless = OptimizationSuggestion {
        suggested_value: dur(200), // floor is 350 ms
        ..s[0].clone()
    };
    let err = e.apply_optimization(&reckless, healthy()).unwrap_err();
    assert!(matches!(err, OptimizeError::Unsafe { .. }), "{err}");
    assert_eq!(e.parameters(), &OptimizationParameters::default());
    let wrong_kind = OptimizationSuggestion {
        suggested_value: ParameterValue::Count(5),
        ..s[0].clone()
    };
    assert_eq!(
        e.apply_optimization(&wrong_kind, healthy())
            .unwrap_err()
            .to_string(),
        "timeout_propose takes a duration, not `5`"
    );
}

#[test]
fn outcomes_are_recorded_on_the_last_applied_optimization() {
    let mut e = engine();
    assert_eq!(
        e.record_outcome(healthy()),
        Err(OptimizeError::NoAppliedOptimization)
    );
    let obs = Observations {
        multi_round_fraction: Some(0.25),
        ..calm()
    };
    let before = ConsensusMetrics {
        round_duration: ms(2400),
        ..healthy()
    };
    let s = e.analyze_with(&before, &obs).unwrap();
    e.apply_optimization(&s[0], before.clone()).unwrap();
    e.record_outcome(healthy()).unwrap();
    assert_eq!(e.history()[0].metrics_before, before);
    assert_eq!(e.history()[0].metrics_after, Some(healthy()));
    e.rollback().unwrap();
    assert_eq!(
        e.record_outcome(healthy()),
        Err(OptimizeError::NoAppliedOptimization)
    );
}

#[test]
fn set_parameter_parses_scenario_values() {
    let mut p = OptimizationParameters::default();
    set_parameter(&mut p, "timeout_propose", "1500ms").unwrap();
    set_parameter(&mut p, "block_interval", "0s").unwrap();
    set_parameter(&mut p, "batch_size", "200").unwrap();
    set_parameter(&mut p, "parallel_verification", "false").unwrap();
    set_parameter(&mut p, "block_size_limit", "1048576").unwrap();
    assert_eq!(
        p,
        OptimizationParameters {
            timeout_propose: ms(1500),
            block_interval: Duration::ZERO,
            batch_size: 200,
            parallel_verification: false,
            block_size_limit: 1_048_576,
            ..OptimizationParameters::default()
        }
    );
}

#[test]
fn set_parameter_refuses_bad_names_and_values_with_clear_messages() {
    let mut p = OptimizationParameters::default();
    let msg = |name: &str, value: &str, p: &mut OptimizationParameters| {
        set_parameter(p, name, value).unwrap_err().to_string()
    };
    let unknown = msg("timeout_proposal", "3s", &mut p);
    assert!(
        unknown.starts_with("unknown parameter `timeout_proposal`; known parameters: block_size_limit, block_interval, timeout_propose,"),
        "{unknown}"
    );
    assert_eq!(
        msg("timeout_propose", "3", &mut p),
        "timeout_propose: `3` is not a valid value: duration `3` has no unit: write it like `500ms`, `3s` or `5m`"
    );
    assert!(msg("batch_size", "ten", &mut p).contains("expected a whole number"));
    assert_eq!(
        msg("batch_size", "0", &mut p),
        "batch_size: 0 is outside the allowed range 1..=10000"
    );
    assert_eq!(
        msg("block_size_limit", "200000000", &mut p),
        "block_size_limit: 200000000 is outside the allowed range 2048..=104857600"
    );
    assert_eq!(
        msg("parallel_verification", "yes", &mut p),
        "parallel_verification: `yes` is not a valid value: expected `true` or `false`"
    );
    assert_eq!(p, OptimizationParameters::default(), "unchanged on error");
}

#[test]
fn invalid_inputs_are_refused() {
    let mut e = engine();
    let nan = ConsensusMetrics {
        throughput: f64::NAN,
        ..healthy()
    };
    assert_eq!(
        e.analyze_and_optimize(&nan).unwrap_err().to_string(),
        "metrics.throughput = NaN: must be a finite number, at least 0"
    );
    let obs = Observations {
        multi_round_fraction: Some(1.5),
        ..calm()
    };
    assert_eq!(
        e.analyze_with(&healthy(), &obs).unwrap_err().to_string(),
        "observations.multi_round_fraction = 1.5: must be a fraction between 0.0 and 1.0"
    );
}

#[test]
fn score_orders_a_better_run_below_a_worse_one() {
    let t = PerformanceTargets::default();
    let mut worse = healthy();
    worse.throughput = 500.0;
    worse.latency_percentiles.p99 = ms(10_000);
    let mut better = healthy();
    better.throughput = 900.0;
    better.latency_percentiles.p99 = ms(6000);
    assert!((score(&worse, &t) - 1.5).abs() < 1e-9); // 0.5 + 1.0
    assert!((score(&better, &t) - 0.3).abs() < 1e-9); // 0.1 + 0.2
    assert_eq!(score(&healthy(), &t), 0.0);
}

#[test]
fn the_seed_loop_applies_every_suggestion_of_one_analysis() {
    let mut e = engine_with(OptimizationParameters {
        parallel_verification: false,
        ..OptimizationParameters::default()
    });
    let mut current_metrics = ConsensusMetrics {
        throughput: 600.0,
        round_duration: ms(2400),
        ..healthy()
    };
    current_metrics.resource_usage.cpu_percent = 70.0;
    let suggestions = e.analyze_and_optimize(&current_metrics).unwrap();
    // Parallel on and batch 150; and, with 1.05 s of 2.4 s spent outside the deciding round
    // (inferred extra rounds), the three base timeouts reduced.
    assert_eq!(suggestions.len(), 5, "{suggestions:#?}");
    for suggestion in &suggestions {
        e.apply_optimization(suggestion, current_metrics.clone())
            .unwrap();
    }
    assert!(e.parameters().parallel_verification);
    assert_eq!(e.parameters().batch_size, 150);
    assert_eq!(e.parameters().timeout_propose, ms(2250));
    assert_eq!(e.parameters().timeout_prevote, ms(750));
    assert_eq!(e.parameters().timeout_precommit, ms(750));
    assert_eq!(e.history().len(), 5);
}
