//! `ccperf config` through the binary: defaults < ccperf.toml < CC_* environment < --set,
//! each value shown with where it came from; bad values exit 2 naming their source.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `CC_*` variables the settings read, removed so the test's own environment cannot leak in.
const VARIABLES: [&str; 6] = [
    "CC_PERFORMANCE_SAMPLING_RATE",
    "CC_PERFORMANCE_WINDOW_SIZE",
    "CC_PERFORMANCE_ALERTS_ENABLED",
    "CC_AUTO_OPTIMIZATION",
    "CC_OPTIMIZATION_AGGRESSIVENESS",
    "CC_OPTIMIZATION_INTERVAL",
];

/// Runs ccperf in `dir` with only the `env` variables of the settings set.
fn ccperf(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ccperf"));
    command.args(args).current_dir(dir).env("CI", "true");
    for var in VARIABLES {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    command.output().expect("ccperf runs")
}

/// A fresh directory holding `ccperf.toml` with `toml` (none when empty).
fn workdir(name: &str, toml: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-settings-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    if !toml.is_empty() {
        std::fs::write(dir.join("ccperf.toml"), toml).expect("settings file");
    }
    dir
}

/// The line of `key` (`window_size`) in a section of `ccperf config`'s output, whitespace
/// squeezed: `window_size = 20 # env CC_PERFORMANCE_WINDOW_SIZE`.
fn line_of(stdout: &str, section: &str, key: &str) -> String {
    let mut in_section = false;
    for line in stdout.lines() {
        if line.starts_with('[') {
            in_section = line == format!("[{section}]");
        } else if in_section && line.starts_with(&format!("{key} ")) {
            return line.split_whitespace().collect::<Vec<_>>().join(" ");
        }
    }
    String::new()
}

const FILE: &str = "[performance]\nwindow_size = 10\n\n[optimization]\naggressiveness = 0.2\n\n\
                    [benchmarks]\nseeds = 7\n";

#[test]
fn flag_beats_env_beats_file_beats_default_and_each_source_is_shown() {
    let dir = workdir("precedence", FILE);
    let file = dir.join("ccperf.toml");
    let out = ccperf(
        &dir,
        &["config", "--set", "optimization.aggressiveness=0.9"],
        &[
            ("CC_PERFORMANCE_WINDOW_SIZE", "20"),
            ("CC_OPTIMIZATION_AGGRESSIVENESS", "0.3"),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("# settings file: {}\n", file.display())),
        "{stdout}"
    );
    assert_eq!(
        line_of(&stdout, "performance", "window_size"),
        "window_size = 20 # env CC_PERFORMANCE_WINDOW_SIZE"
    );
    assert_eq!(
        line_of(&stdout, "optimization", "aggressiveness"),
        "aggressiveness = 0.9 # flag"
    );
    assert_eq!(
        line_of(&stdout, "benchmarks", "seeds"),
        format!("seeds = 7 # file {}", file.display())
    );
    // A setting without effect is never shown as one in force: it is listed as read and
    // ignored, with the reason.
    assert_eq!(line_of(&stdout, "optimization", "interval_s"), "");
    assert!(
        stdout.contains(
            "#   optimization.interval_s: watch asks the engine every 10 heights (default)"
        ),
        "{stdout}"
    );
}

#[test]
fn config_shows_only_settings_with_an_effect_and_what_reads_each() {
    let dir = workdir("effects", "[performance]\nmetrics_retention = \"1h\"\n");
    let out = ccperf(&dir, &["config"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    let shown: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(" = "))
        .map(|l| l.split(" = ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        shown,
        [
            "sampling_interval",
            "window_size",
            "alerts_enabled",
            "auto_tune",
            "aggressiveness",
            "stress_test_enabled",
            "seeds"
        ],
        "{stdout}"
    );
    // What reads each: serve reads window_size and alerts_enabled, not sampling_interval
    // (it publishes every height as it commits).
    assert!(
        stdout.contains("\n# watch: --poll-interval\nsampling_interval = "),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "\n# watch: heights the monitor keeps; serve: heights ccperf_throughput_tps covers\n\
             window_size = "
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n# watch and serve: alerts\nalerts_enabled = "),
        "{stdout}"
    );
    // The targets apply once set: commented out at their defaults, shown when set.
    assert!(stdout.contains("# target_throughput = 1000.0"), "{stdout}");
    let set = ccperf(
        &dir,
        &["config", "--set", "optimization.max_latency_ms=800"],
        &[],
    );
    let set = String::from_utf8_lossy(&set.stdout);
    assert_eq!(
        line_of(&set, "optimization", "max_latency_ms"),
        "max_latency_ms = 800 # flag"
    );
    // Ignored keys still load (the seed's example file has them) and say they are ignored.
    let file = dir.join("ccperf.toml");
    for key in [
        "performance.monitoring_enabled",
        "optimization.aggressive_mode",
        "benchmarks.default_duration",
    ] {
        assert!(stdout.contains(&format!("#   {key}: ")), "{key}: {stdout}");
    }
    assert!(
        stdout.contains("#   performance.metrics_retention: "),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("(file {})", file.display())),
        "{stdout}"
    );
}

#[test]
fn only_the_commands_that_read_settings_take_config() {
    let dir = workdir("flags", "");
    for command in ["bench", "tune", "watch", "serve", "config"] {
        let out = ccperf(&dir, &[command, "--help"], &[]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("--config <FILE>"), "{command}: {help}");
    }
    for command in [
        "run",
        "sweep",
        "merge",
        "report",
        "validate",
        "scenarios",
        "regions",
    ] {
        let out = ccperf(&dir, &[command, "--help"], &[]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(!help.contains("--config"), "{command}: {help}");
    }
    let out = ccperf(&dir, &["run", "baseline", "--config", "x.toml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    // Flags whose defaults come from settings say so.
    let help = |command: &str| {
        String::from_utf8_lossy(&ccperf(&dir, &[command, "--help"], &[]).stdout).to_string()
    };
    assert!(help("bench").contains("`benchmarks.seeds`"));
    assert!(help("bench").contains("`benchmarks.stress_test_enabled`"));
    assert!(help("tune").contains("`optimization.aggressiveness`"));
    assert!(help("watch").contains("`performance.sampling_interval`"));
}

/// A short scenario without `targets`.
const UNTARGETED: &str = "name: untargeted\nseed: 4\nduration: 20s\nvalidators: { count: 4 }\n\
    network: { gossip: direct }\nload: { transaction_rate: 50 }\n";

#[test]
fn target_settings_judge_bench_and_steer_tune_once_set() {
    let dir = workdir("targets", "");
    std::fs::write(dir.join("untargeted.yaml"), UNTARGETED).expect("scenario");
    let bench = |env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["bench", "untargeted.yaml", "--seeds", "1", "--json"];
        args.extend(extra);
        let out = ccperf(&dir, &args, env);
        let document: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("bench prints JSON");
        let criteria: Vec<String> = document["benchmarks"][0]["criteria"]
            .as_array()
            .expect("criteria")
            .iter()
            .map(|c| format!("{}:{}", c["name"].as_str().unwrap_or(""), c["met"]))
            .collect();
        (out.status.code(), criteria)
    };
    // Defaults: no targets, only safety is judged.
    assert_eq!(bench(&[], &[]), (Some(0), vec!["safety:true".to_string()]));
    // Set in a settings file: 100,000 tx/s cannot be met by 50 tx/s.
    std::fs::write(
        dir.join("strict.toml"),
        "[optimization]\ntarget_throughput = 100000.0\n",
    )
    .expect("settings");
    let (code, criteria) = bench(&[], &["--config", "strict.toml"]);
    assert_eq!(code, Some(1), "{criteria:?}");
    assert_eq!(criteria[0], "throughput_tps:false");
    assert!(
        criteria.contains(&"latency_p99_s:true".to_string()),
        "{criteria:?}"
    );
    assert_eq!(criteria.len(), 6, "{criteria:?}");
    // Tune: the objective becomes the targets.
    let tuned = dir.join("t.yaml").display().to_string();
    let tune = |config: &[&str]| {
        let mut args = vec![
            "tune",
            "untargeted.yaml",
            "--iterations",
            "1",
            "--seeds",
            "1",
            "--json",
            "--out",
            &tuned,
        ];
        args.extend(config);
        let out = ccperf(&dir, &args, &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let document: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        document["tune"]["objective"].clone()
    };
    assert_eq!(tune(&[]), "block_interval");
    assert_eq!(tune(&["--config", "strict.toml"]), "targets");
}

#[test]
fn an_explicit_config_file_is_read_instead_of_the_local_one() {
    let dir = workdir("explicit", FILE);
    let other = dir.join("other.toml");
    std::fs::write(&other, "[benchmarks]\nseeds = 2\n").expect("settings file");
    let out = ccperf(
        &dir,
        &["config", "--config", other.to_str().expect("utf-8")],
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        line_of(&stdout, "benchmarks", "seeds"),
        format!("seeds = 2 # file {}", other.display())
    );
    assert_eq!(
        line_of(&stdout, "performance", "window_size"),
        "window_size = 1000 # default"
    );
}

#[test]
fn without_a_file_every_value_is_a_default() {
    let dir = workdir("none", "");
    let out = ccperf(&dir, &["config"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.starts_with("# settings file: none"), "{stdout}");
    let settings = stdout.lines().filter(|l| l.contains(" = ")).count();
    let defaults = stdout.lines().filter(|l| l.ends_with("# default")).count();
    // 7 settings in force and the two targets, commented out until set.
    assert_eq!((settings, defaults), (9, 9), "{stdout}");
}

#[test]
fn a_bad_environment_value_exits_2_naming_the_variable() {
    let dir = workdir("bad-env", "");
    let out = ccperf(&dir, &["config"], &[("CC_PERFORMANCE_WINDOW_SIZE", "lots")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("CC_PERFORMANCE_WINDOW_SIZE"), "{stderr}");
    assert!(stderr.contains("lots"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_bad_file_value_exits_2_naming_the_file_and_key() {
    let dir = workdir("bad-file", "[optimization]\naggressiveness = 1.5\n");
    let out = ccperf(&dir, &["config"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ccperf.toml"), "{stderr}");
    assert!(stderr.contains("optimization.aggressiveness"), "{stderr}");
}

#[test]
fn a_missing_config_file_or_unknown_key_exits_2_naming_it() {
    let dir = workdir("missing", "");
    let out = ccperf(&dir, &["config", "--config", "/no/such/ccperf.toml"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("/no/such/ccperf.toml"), "{stderr}");
    let out = ccperf(&dir, &["config", "--set", "performance.speed=3"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("performance.speed"), "{stderr}");
}

#[test]
fn bench_takes_its_default_seed_count_from_the_settings() {
    let dir = workdir("bench", "[benchmarks]\nseeds = 1\n");
    let seeds = |args: &[&str]| {
        let out = ccperf(&dir, args, &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let document: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("bench prints JSON");
        document["seeds"].as_u64()
    };
    assert_eq!(seeds(&["bench", "baseline", "--json"]), Some(1));
    assert_eq!(
        seeds(&["bench", "baseline", "--json", "--seeds", "2"]),
        Some(2)
    );
}

#[test]
fn tune_takes_its_aggressiveness_from_the_settings_unless_given() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/tune_silent_validator.yaml"
    );
    let out =
        std::env::temp_dir().join(format!("ccperf-tune-settings-{}.yaml", std::process::id()));
    let tune = |env: Option<&str>, extra: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ccperf"));
        command.args([
            "tune",
            scenario,
            "--iterations",
            "1",
            "--seeds",
            "1",
            "--out",
            out.to_str().unwrap(),
        ]);
        command
            .args(extra)
            .env("CI", "true")
            .env_remove("CC_OPTIMIZATION_AGGRESSIVENESS");
        if let Some(value) = env {
            command.env("CC_OPTIMIZATION_AGGRESSIVENESS", value);
        }
        let output = command.output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    // The first step cuts timeout_propose by 0.5 × aggressiveness.
    assert!(tune(None, &[]).contains("3s -> 2250ms"), "default 0.5");
    assert!(
        tune(Some("0.2"), &[]).contains("3s -> 2700ms"),
        "environment 0.2"
    );
    assert!(
        tune(Some("0.2"), &["--aggressiveness", "0.8"]).contains("3s -> 1800ms"),
        "flag 0.8 wins"
    );
    let _ = std::fs::remove_file(&out);
}
