//! The cluster examples in docs/cluster run as written: a retried Slurm array task or a
//! replaced Kubernetes pod continues its shard (`--resume`), the merge step joins the shards
//! into exactly the unsharded sweep, the Kubernetes volume is ReadWriteMany, and the image the
//! manifests name is the one the Dockerfile builds, with `ccperf` where the commands call it.
//! Docker and Kubernetes do not run here; the commands inside them do.

#![cfg(unix)]
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ccperf");

/// Four points, one seed: two runs per shard of two.
const SWEEP: &str = "name: cluster\nbase:\n  name: cluster\n  seed: 1\n  duration: 10s\n  \
    validators: { count: 4 }\n  network: { gossip: direct }\n\
    grid:\n  parameters.timeout_propose: [500ms, 1s, 2s, 3s]\nseeds: 1\n";

fn root_file(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-cluster-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join("sweep.yaml"), SWEEP).expect("sweep file");
    dir
}

/// `PATH` with the directory of the ccperf under test first, as the image and the cluster
/// nodes have it.
fn path_with_ccperf() -> String {
    let bin_dir = Path::new(BIN)
        .parent()
        .expect("binary dir")
        .display()
        .to_string();
    format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default())
}

/// Runs `shell -c script` (or `shell script_file`) in `dir` with `env`; returns its output.
fn shell(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(args[0]);
    command
        .args(&args[1..])
        .current_dir(dir)
        .env("PATH", path_with_ccperf());
    for var in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_STEP",
        "SLURM_ARRAY_TASK_COUNT",
        "JOB_COMPLETION_INDEX",
        "CCPERF_SHARDS",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    command.output().expect("shell runs")
}

fn ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The JSONL one unsharded sweep writes.
fn unsharded(dir: &Path) -> String {
    let out = dir.join("whole.jsonl");
    let output = Command::new(BIN)
        .args(["sweep", "sweep.yaml", "--out"])
        .arg(&out)
        .current_dir(dir)
        .output()
        .expect("ccperf runs");
    ok(&output, "unsharded sweep");
    let text = std::fs::read_to_string(out).expect("whole.jsonl");
    assert_eq!(text.lines().count(), 4);
    text
}

#[test]
fn a_retried_slurm_task_resumes_and_the_merge_job_joins_the_shards() {
    let dir = scratch("slurm");
    std::fs::create_dir_all(dir.join("logs")).expect("logs");
    let sweep = root_file("docs/cluster/sweep.sbatch");
    let merge = root_file("docs/cluster/merge.sbatch");
    assert!(sweep.contains("#SBATCH --array=1-8"), "{sweep}");
    assert!(sweep.contains("--dependency=afterok:$jobid docs/cluster/merge.sbatch"));
    let sweep_script = dir.join("sweep.sbatch");
    let merge_script = dir.join("merge.sbatch");
    std::fs::write(&sweep_script, &sweep).expect("copy");
    std::fs::write(&merge_script, &merge).expect("copy");
    let script = sweep_script.display().to_string();
    let task = |id: &'static str| {
        shell(
            &dir,
            &["bash", &script],
            &[
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "2"),
                ("SLURM_CPUS_PER_TASK", "1"),
            ],
        )
    };
    ok(&task("1"), "array task 1");
    let first = std::fs::read_to_string(dir.join("results/part-1.jsonl")).expect("part 1");
    assert_eq!(first.lines().count(), 2);
    // The task is requeued (node failure, preemption) after it wrote its file: it continues.
    let retry = task("1");
    ok(&retry, "requeued array task 1");
    assert!(
        String::from_utf8_lossy(&retry.stdout).contains("2 resumed, 0 run now"),
        "{}",
        String::from_utf8_lossy(&retry.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("results/part-1.jsonl")).expect("part 1"),
        first
    );
    ok(&task("2"), "array task 2");
    ok(
        &shell(&dir, &["bash", &merge_script.display().to_string()], &[]),
        "merge.sbatch",
    );
    let merged = std::fs::read_to_string(dir.join("results/results.jsonl")).expect("merged");
    assert_eq!(merged, unsharded(&dir));
    assert!(dir.join("results/report/index.html").is_file());
}

#[derive(Deserialize)]
struct Manifest {
    kind: String,
    spec: serde_norway::Value,
}

fn manifests(path: &str) -> Vec<Manifest> {
    let text = root_file(path);
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Manifest::deserialize(doc).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

/// The one container of a Job's pod template: its image and its `sh -c` script.
fn container(job: &Manifest) -> (String, String) {
    let c = &job.spec["template"]["spec"]["containers"][0];
    let command: Vec<&str> = c["command"]
        .as_sequence()
        .expect("command")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(command[..2], ["sh", "-c"], "{command:?}");
    (
        c["image"].as_str().expect("image").to_string(),
        command[2].to_string(),
    )
}

/// The tag `docker build -t TAG .` gives in the Dockerfile's comment.
fn built_tag(dockerfile: &str) -> String {
    let line = dockerfile
        .lines()
        .find(|l| l.contains("docker build -t "))
        .expect("the Dockerfile says how to build it");
    let after = line.split("docker build -t ").nth(1).unwrap_or_default();
    after
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_kubernetes_jobs_resume_share_a_read_write_many_volume_and_merge() {
    let sweep = manifests("docs/cluster/sweep-job.yaml");
    let claim = sweep
        .iter()
        .find(|m| m.kind == "PersistentVolumeClaim")
        .expect("a claim");
    let modes: Vec<&str> = claim.spec["accessModes"]
        .as_sequence()
        .expect("accessModes")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(modes, ["ReadWriteMany"]);
    let job = sweep
        .iter()
        .find(|m| m.kind == "Job")
        .expect("the sweep job");
    assert_eq!(job.spec["completionMode"].as_str(), Some("Indexed"));
    let (image, script) = container(job);
    assert!(script.contains("--resume"), "{script}");
    let merge = manifests("docs/cluster/merge-job.yaml");
    let (merge_image, merge_script) = container(&merge[0]);
    assert_eq!(merge_image, image);
    assert_eq!(built_tag(&root_file("Dockerfile")), image);

    // The pods' commands, on a local directory standing for the volume and the config map.
    let dir = scratch("k8s");
    let local = |s: &str| {
        s.replace("/sweeps/", &format!("{}/", dir.display()))
            .replace("/results/", &format!("{}/results/", dir.display()))
    };
    std::fs::create_dir_all(dir.join("results")).expect("volume");
    let pod = |index: &'static str| {
        shell(
            &dir,
            &["sh", "-c", &local(&script)],
            &[("JOB_COMPLETION_INDEX", index), ("CCPERF_SHARDS", "2")],
        )
    };
    ok(&pod("0"), "pod 0");
    // Pod 0 is evicted after writing its shard; its replacement runs the same command.
    ok(&pod("0"), "replacement pod 0");
    ok(&pod("1"), "pod 1");
    ok(
        &shell(&dir, &["sh", "-c", &local(&merge_script)], &[]),
        "merge job",
    );
    let merged = std::fs::read_to_string(dir.join("results/results.jsonl")).expect("merged");
    assert_eq!(merged, unsharded(&dir));
}

#[test]
fn the_dockerfile_builds_the_binary_the_manifests_call() {
    let dockerfile = root_file("Dockerfile");
    let manifest: toml::Table = toml::from_str(&root_file("Cargo.toml")).expect("Cargo.toml");
    let bins = manifest["bin"].as_array().expect("[[bin]]");
    assert!(bins.iter().any(|b| b["name"].as_str() == Some("ccperf")));
    assert!(
        dockerfile.contains("RUN cargo build --release --locked --bin ccperf"),
        "{dockerfile}"
    );
    assert!(
        dockerfile.contains("COPY --from=build /src/target/release/ccperf /usr/local/bin/ccperf")
    );
    // The builder's toolchain is at least the declared rust-version.
    let declared = manifest["package"]["rust-version"]
        .as_str()
        .expect("rust-version");
    let builder = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("FROM rust:"))
        .and_then(|l| l.split('-').next())
        .expect("a rust builder stage");
    let version = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    assert!(
        version(builder) >= version(declared),
        "{builder} < {declared}"
    );
    // A local target/ is not sent as build context.
    assert!(
        root_file(".dockerignore")
            .lines()
            .any(|l| l.trim() == "target")
    );
}
