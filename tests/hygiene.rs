//! Crate hygiene a user or packager relies on: the declared licence is shipped, the declared
//! minimum Rust version covers every dependency, deprecated or redundant crates stay out, and
//! release builds carry line tables only.

use std::path::Path;
use std::process::Command;

fn root_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn manifest() -> toml::Table {
    toml::from_str(&root_file("Cargo.toml")).expect("Cargo.toml parses")
}

fn version(text: &str) -> (u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[test]
fn the_declared_apache_licence_is_shipped() {
    let package = &manifest()["package"];
    assert_eq!(package["license"].as_str(), Some("Apache-2.0"));
    let licence = root_file("LICENSE");
    assert!(licence.contains("Apache License") && licence.contains("Version 2.0, January 2004"));
    assert!(
        licence.contains("END OF TERMS AND CONDITIONS"),
        "the full text, not a pointer"
    );
}

#[test]
fn rust_version_covers_edition_let_chains_and_every_dependency() {
    let package = &manifest()["package"];
    let declared = version(
        package["rust-version"]
            .as_str()
            .expect("rust-version is declared"),
    );
    // Edition 2024 needs 1.85; `if let … && let …` chains (used throughout) need 1.88.
    assert!(declared >= (1, 88), "{declared:?}");
    // Not `--offline`: `cargo test` on a fresh machine fetches only this platform's packages,
    // while `cargo metadata` reads every package's manifest, so it may have to download some.
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let packages = metadata["packages"].as_array().expect("packages");
    let (needed, by) = packages
        .iter()
        .filter_map(|p| Some((version(p["rust_version"].as_str()?), p["name"].as_str()?)))
        .max()
        .expect("some dependency declares a rust-version");
    assert!(
        declared >= needed,
        "{by} needs {needed:?}, rust-version says {declared:?}"
    );
}

#[test]
fn deprecated_and_redundant_crates_are_not_dependencies() {
    let manifest = manifest();
    let dependencies = manifest["dependencies"].as_table().expect("dependencies");
    // serde_yaml 0.9 is deprecated upstream; rand_distr only re-exported rand's Uniform.
    for name in ["serde_yaml", "serde_yml", "rand_distr"] {
        assert!(!dependencies.contains_key(name), "{name} is a dependency");
    }
    let lock = root_file("Cargo.lock");
    for name in ["serde_yaml", "rand_distr"] {
        assert!(
            !lock.contains(&format!("name = \"{name}\"\n")),
            "{name} in Cargo.lock"
        );
    }
    let toml_version = dependencies["toml"].as_str().expect("toml version");
    assert!(version(toml_version) >= (1, 0), "toml {toml_version}");
}

#[test]
fn release_and_bench_builds_keep_line_tables_only() {
    let manifest = manifest();
    for profile in ["release", "bench"] {
        let debug = &manifest["profile"][profile]["debug"];
        assert_eq!(
            debug.as_str(),
            Some("line-tables-only"),
            "profile.{profile}"
        );
    }
}

/// Every `.rs` file under `src/<dir>`, with its path.
fn sources_under(dir: &str) -> Vec<(std::path::PathBuf, String)> {
    let mut pending = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir)];
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source reads");
                files.push((path, text));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn config_and_sim_do_not_import_from_the_optimizer() {
    // OptimizationParameters and PerformanceTargets are ground data (crate::params); the layers
    // below the optimizer read them from there, never from `optimize`.
    let mut scanned = 0;
    for layer in ["config", "sim"] {
        for (path, text) in sources_under(layer) {
            scanned += 1;
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                assert!(
                    !code.contains("optimize::"),
                    "{}:{}: imports from the optimizer: {line}",
                    path.display(),
                    number + 1
                );
            }
        }
    }
    assert!(scanned >= 10, "only {scanned} files scanned");
}

#[test]
fn parameter_types_keep_their_public_paths() {
    use consensus_performance::params;
    let by_optimize = consensus_performance::optimize::OptimizationParameters::default();
    let by_root: consensus_performance::OptimizationParameters = by_optimize.clone();
    let by_ground: params::OptimizationParameters = by_root;
    assert_eq!(by_ground.block_size_limit, 4_194_304);
    let targets: consensus_performance::optimize::PerformanceTargets =
        consensus_performance::PerformanceTargets::default();
    let ground: params::PerformanceTargets = targets;
    assert_eq!(ground.target_throughput, 1000.0);
}
