//! Sweeps: ordered JSONL whatever the thread count, resume after an interruption, shards that
//! merge back into the unsharded file, and clear errors for bad input.

mod support;

use consensus_performance::bench::Runner;
use consensus_performance::bench::sweep::{
    Existing, Shard, SweepError, SweepOptions, SweepRecord, SweepSpec, merge_files, merge_lines,
    run_sweep,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::fake_run;

const TWO_AXES: &str = r#"
name: two_axes
base:
  name: small
  seed: 5
  duration: 30s
  validators: { count: 4 }
  network: { latency: { distribution: constant, mean: 50ms } }
  byzantine: { count: 1, behavior: silent, validators: [3] }
grid:
  parameters.timeout_propose: [250ms, 500ms, 1s]
  parameters.block_interval: [0s, 1s]
seeds: 2
"#;

/// A scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-sweep-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn spec(text: &str) -> SweepSpec {
    SweepSpec::parse(text, "test.yaml").expect("valid sweep")
}

fn options(out: &Path, jobs: usize) -> SweepOptions {
    SweepOptions {
        out: Some(out.to_path_buf()),
        jobs: Some(jobs),
        ..SweepOptions::default()
    }
}

fn run_to_file(spec: &SweepSpec, out: &Path, jobs: usize) -> String {
    run_sweep(spec, &options(out, jobs), &fake_run).expect("sweep runs");
    std::fs::read_to_string(out).expect("output")
}

fn error_of(text: &str) -> String {
    SweepSpec::parse(text, "bad.yaml")
        .expect_err("must be refused")
        .to_string()
}

#[test]
fn points_are_the_cartesian_product_first_key_slowest() {
    let spec = spec(TWO_AXES);
    assert_eq!(
        spec.seeds,
        vec![5, 6],
        "a count runs base.seed, base.seed + 1"
    );
    assert_eq!(spec.run_count(), 12);
    let points = spec.points().expect("valid points");
    let shown: Vec<String> = points
        .iter()
        .map(|p| consensus_performance::bench::sweep::describe(&p.values))
        .collect();
    assert_eq!(
        shown,
        [
            "parameters.timeout_propose=250ms, parameters.block_interval=0s",
            "parameters.timeout_propose=250ms, parameters.block_interval=1s",
            "parameters.timeout_propose=500ms, parameters.block_interval=0s",
            "parameters.timeout_propose=500ms, parameters.block_interval=1s",
            "parameters.timeout_propose=1s, parameters.block_interval=0s",
            "parameters.timeout_propose=1s, parameters.block_interval=1s",
        ]
    );
    assert_eq!(
        points[3].scenario.parameters.timeout_propose.as_millis(),
        500
    );
    assert_eq!(points[3].scenario.parameters.block_interval.as_secs(), 1);
    // Untouched fields keep the base's values.
    assert_eq!(points[3].scenario.validators.count, 4);
    assert_eq!(points[3].scenario.parameters.timeout_prevote.as_secs(), 1);
}

#[test]
fn jsonl_is_byte_identical_with_one_and_two_threads() {
    let dir = scratch("threads");
    let spec = spec(TWO_AXES);
    let one = run_to_file(&spec, &dir.join("one.jsonl"), 1);
    let two = run_to_file(&spec, &dir.join("two.jsonl"), 2);
    assert_eq!(one, two);
    let lines: Vec<&str> = one.lines().collect();
    assert_eq!(lines.len(), 12);
    for (i, line) in lines.iter().enumerate() {
        let record = SweepRecord::from_line(line).expect("a record");
        assert_eq!(record.index, i);
        assert_eq!(record.point, i / 2);
        assert_eq!(record.seed, 5 + (i % 2) as u64);
        assert_eq!(record.report.wall_time_s, 0.0, "wall time zeroed");
        assert!(record.report.heights.is_empty(), "heights dropped");
    }
    // Values keep the grid's key order (not alphabetical: block_interval < timeout_propose).
    let sealed = format!(
        r#"{{"sweep":"{}","runs":12,"index":3,"point":1,"seed":6,"values":{{"parameters.timeout_propose":"250ms","parameters.block_interval":"1s"}},"report":{{"#,
        spec.fingerprint()
    );
    assert!(lines[3].starts_with(&sealed), "{}", lines[3]);
    assert!(lines[3].contains(r#"},"checksum":""#), "{}", lines[3]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn resumed_after_truncation_equals_uninterrupted() {
    let dir = scratch("resume");
    let spec = spec(TWO_AXES);
    let full = run_to_file(&spec, &dir.join("full.jsonl"), 2);
    // Interrupted after five lines and half of the sixth.
    let cut: usize = full.lines().take(5).map(|l| l.len() + 1).sum();
    let sixth = full.lines().nth(5).expect("a sixth line");
    let partial = dir.join("partial.jsonl");
    std::fs::write(
        &partial,
        format!("{}{}", &full[..cut], &sixth[..sixth.len() / 2]),
    )
    .expect("write");

    let resume = SweepOptions {
        existing: Existing::Resume,
        ..options(&partial, 2)
    };
    let summary = run_sweep(&spec, &resume, &fake_run).expect("resumes");
    assert_eq!((summary.resumed, summary.ran), (5, 7));
    assert_eq!(summary.records.len(), 12);
    assert_eq!(std::fs::read_to_string(&partial).expect("read"), full);

    // Resuming a finished file runs nothing and changes nothing.
    let again = run_sweep(&spec, &resume, &fake_run).expect("resumes");
    assert_eq!((again.resumed, again.ran), (12, 0));
    assert_eq!(std::fs::read_to_string(&partial).expect("read"), full);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn resume_refuses_the_output_of_another_sweep() {
    let dir = scratch("other");
    let out = dir.join("out.jsonl");
    let other = TWO_AXES.replace("seeds: 2", "seeds: [9, 10]");
    run_to_file(&spec(&other), &out, 1);
    let resume = SweepOptions {
        existing: Existing::Resume,
        ..options(&out, 1)
    };
    let err = run_sweep(&spec(TWO_AXES), &resume, &fake_run).expect_err("another sweep");
    assert!(matches!(err, SweepError::Resume { line: 1, .. }), "{err}");
    assert!(
        err.to_string().contains("a record of another sweep")
            && err.to_string().contains(&spec(&other).fingerprint()),
        "{err}"
    );
    // Its lines are untouched.
    assert_eq!(
        std::fs::read_to_string(&out).expect("read").lines().count(),
        12
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_existing_output_is_kept_unless_resume_or_force() {
    let dir = scratch("exists");
    let out = dir.join("out.jsonl");
    std::fs::write(&out, "precious\n").expect("write");
    let err = run_sweep(&spec(TWO_AXES), &options(&out, 1), &fake_run).expect_err("refused");
    assert!(err.to_string().contains("--resume"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "precious\n");
    let force = SweepOptions {
        existing: Existing::Overwrite,
        ..options(&out, 1)
    };
    run_sweep(&spec(TWO_AXES), &force, &fake_run).expect("overwrites");
    assert_eq!(
        std::fs::read_to_string(&out).expect("read").lines().count(),
        12
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn three_shards_merge_into_the_unsharded_file() {
    let dir = scratch("shards");
    let spec = spec(TWO_AXES);
    let whole = run_to_file(&spec, &dir.join("whole.jsonl"), 2);
    let mut files = Vec::new();
    for k in 1..=3 {
        let out = dir.join(format!("shard{k}.jsonl"));
        let sharded = SweepOptions {
            shard: Some(Shard::parse(&format!("{k}/3")).expect("shard")),
            ..options(&out, 2)
        };
        let summary = run_sweep(&spec, &sharded, &fake_run).expect("shard runs");
        assert_eq!(summary.ran, 4);
        let indices: Vec<usize> = summary.records.iter().map(|r| r.index).collect();
        let expected: Vec<usize> = (0..12).filter(|i| i % 3 == k - 1).collect();
        assert_eq!(indices, expected);
        files.push(out);
    }
    // Shards in any order, one given twice (identical duplicates are kept once).
    files.reverse();
    files.push(files[0].clone());
    let merged = dir.join("merged.jsonl");
    assert_eq!(merge_files(&files, &merged).expect("merges"), 12);
    assert_eq!(std::fs::read_to_string(&merged).expect("read"), whole);
    let _ = std::fs::remove_dir_all(dir);
}

/// The sealed lines of TWO_AXES (12 runs) as run by the fake simulator.
fn two_axes_lines(dir: &Path) -> Vec<String> {
    let text = run_to_file(&spec(TWO_AXES), &dir.join("whole.jsonl"), 2);
    text.lines().map(|l| format!("{l}\n")).collect()
}

#[test]
fn merge_names_conflicting_and_missing_runs() {
    let dir = scratch("merge-errors");
    let lines = two_axes_lines(&dir);
    let file = |name: &str, picks: &[usize]| {
        (
            name.to_string(),
            picks.iter().map(|&i| lines[i].as_str()).collect::<String>(),
        )
    };
    let evens = file("a.jsonl", &[0, 2, 4, 6, 8, 10]);
    let odds = file("b.jsonl", &[1, 3, 5, 7, 9, 11]);
    assert_eq!(
        merge_lines(&[evens.clone(), odds.clone()]).expect("merges"),
        lines.concat()
    );
    // A shard that lost its last two lines: named, with the missing runs.
    let cut = file("b.jsonl", &[1, 3, 5, 7]);
    let err = merge_lines(&[evens.clone(), cut])
        .expect_err("incomplete")
        .to_string();
    assert!(
        err.contains("2 of the 12 runs of sweep")
            && err.contains("are missing: 9, 11;")
            && err.contains("a.jsonl 6 runs, b.jsonl 4 runs")
            && err.contains("b.jsonl looks cut short"),
        "{err}"
    );
    // A shard file absent altogether.
    let err = merge_lines(std::slice::from_ref(&evens))
        .expect_err("half")
        .to_string();
    assert!(
        err.contains("6 of the 12 runs") && err.contains("1, 3, 5, 7, 9, 11"),
        "{err}"
    );
    // A line whose report had one digit changed.
    let mut damaged = odds.clone();
    let at = damaged.1.find("\"events\":").expect("events") + 9;
    let digit = damaged.1.as_bytes()[at];
    let replacement = if digit == b'1' { "2" } else { "1" };
    damaged.1.replace_range(at..=at, replacement);
    let err = merge_lines(&[evens.clone(), damaged])
        .expect_err("damaged")
        .to_string();
    assert!(err.contains("b.jsonl:1: checksum mismatch"), "{err}");
    // A half-written last line.
    let mut half = odds.clone();
    half.1.truncate(half.1.len() - 40);
    let err = merge_lines(&[evens.clone(), half])
        .expect_err("half line")
        .to_string();
    assert!(err.contains("b.jsonl ends in a half-written line"), "{err}");
    // Identical duplicates are kept once.
    assert_eq!(
        merge_lines(&[evens.clone(), odds.clone(), evens.clone()])
            .expect("dedupes")
            .lines()
            .count(),
        12
    );
    // Lines that are not sealed records (an older format, or anything else).
    let old = (
        "old.jsonl".to_string(),
        "{\"index\":0,\"seed\":1}\n".to_string(),
    );
    let err = merge_lines(&[old]).expect_err("unsealed").to_string();
    assert!(
        err.contains("old.jsonl:1: not a sealed sweep record"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn merge_refuses_a_shard_of_another_sweep() {
    let dir = scratch("merge-foreign");
    let mine = spec(TWO_AXES);
    let other = spec(&TWO_AXES.replace("seeds: 2", "seeds: [5, 7]"));
    assert_ne!(mine.fingerprint(), other.fingerprint());
    let shard = |spec: &SweepSpec, k: usize, name: &str| {
        let out = dir.join(name);
        let sharded = SweepOptions {
            shard: Some(Shard::parse(&format!("{k}/2")).expect("shard")),
            ..options(&out, 1)
        };
        run_sweep(spec, &sharded, &fake_run).expect("runs");
        out
    };
    let first = shard(&mine, 1, "mine-1.jsonl");
    let foreign = shard(&other, 2, "other-2.jsonl");
    let err = merge_files(&[&first, &foreign], &dir.join("m.jsonl"))
        .expect_err("mixed")
        .to_string();
    assert!(
        err.contains("other-2.jsonl:1 is a record of sweep")
            && err.contains(&other.fingerprint())
            && err.contains("mine-1.jsonl holds sweep")
            && err.contains(&mine.fingerprint()),
        "{err}"
    );
    assert!(!dir.join("m.jsonl").exists(), "nothing written");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn resume_runs_again_from_a_line_whose_checksum_fails() {
    let dir = scratch("resume-damaged");
    let spec = spec(TWO_AXES);
    let full = run_to_file(&spec, &dir.join("full.jsonl"), 2);
    let out = dir.join("out.jsonl");
    // Line 6's report with one digit changed.
    let mut lines: Vec<String> = full.lines().map(|l| format!("{l}\n")).collect();
    let at = lines[5].find("\"heights_committed\":").expect("field") + 20;
    let digit = lines[5].as_bytes()[at];
    lines[5].replace_range(at..=at, if digit == b'4' { "5" } else { "4" });
    std::fs::write(&out, lines.concat()).expect("write");
    let resume = SweepOptions {
        existing: Existing::Resume,
        ..options(&out, 2)
    };
    let summary = run_sweep(&spec, &resume, &fake_run).expect("resumes");
    assert_eq!((summary.resumed, summary.ran), (5, 7));
    assert!(
        summary
            .notes
            .iter()
            .any(|n| n.contains("out.jsonl:6: checksum mismatch")),
        "{:?}",
        summary.notes
    );
    assert_eq!(std::fs::read_to_string(&out).expect("read"), full);
    // Damage on the first line of a file that still names this sweep: run again from 0.
    let mut lines: Vec<String> = full.lines().map(|l| format!("{l}\n")).collect();
    let at = lines[0].find("\"seed\":").expect("seed") + 7;
    lines[0].replace_range(at..=at, "9");
    std::fs::write(&out, lines.concat()).expect("write");
    let summary = run_sweep(&spec, &resume, &fake_run).expect("resumes");
    assert_eq!((summary.resumed, summary.ran), (0, 12));
    assert_eq!(std::fs::read_to_string(&out).expect("read"), full);
    // A file in another format is not ours to truncate: refused, kept.
    std::fs::write(&out, "{\"index\":0}\nprecious\n").expect("write");
    let err = run_sweep(&spec, &resume, &fake_run).expect_err("not ours");
    assert!(
        err.to_string().contains("not a sealed sweep record"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "{\"index\":0}\nprecious\n"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_locked_output_is_refused_by_a_second_sweep() {
    let dir = scratch("locked");
    let spec = spec(TWO_AXES);
    let out = dir.join("out.jsonl");
    let partial = run_to_file(&spec, &out, 1);
    std::fs::write(
        &out,
        partial
            .lines()
            .take(3)
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .expect("write");
    // Another sweep holds the lock (as a concurrent `sweep --resume` would).
    let holder = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&out)
        .expect("open");
    holder.lock().expect("lock");
    let resume = SweepOptions {
        existing: Existing::Resume,
        ..options(&out, 1)
    };
    let err = run_sweep(&spec, &resume, &fake_run).expect_err("locked");
    assert!(matches!(err, SweepError::Locked(_)), "{err}");
    assert!(
        err.to_string()
            .contains("being written by another ccperf sweep"),
        "{err}"
    );
    let force = SweepOptions {
        existing: Existing::Overwrite,
        ..options(&out, 1)
    };
    assert!(matches!(
        run_sweep(&spec, &force, &fake_run),
        Err(SweepError::Locked(_))
    ));
    assert_eq!(
        std::fs::read_to_string(&out).expect("read").lines().count(),
        3
    );
    drop(holder);
    let summary = run_sweep(&spec, &resume, &fake_run).expect("resumes once free");
    assert_eq!((summary.resumed, summary.ran), (3, 9));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_sweep_files_are_refused_naming_the_problem() {
    let unknown = error_of(&TWO_AXES.replace("grid:", "grids:"));
    assert!(unknown.contains("unknown field `grids`"), "{unknown}");

    let bad_path = error_of(&TWO_AXES.replace("block_interval:", "block_intervall:"));
    assert!(
        bad_path.contains("grid key `parameters.block_intervall` value `0s`")
            && bad_path.contains("block_intervall"),
        "{bad_path}"
    );

    let bad_value = error_of(&TWO_AXES.replace("[250ms, 500ms, 1s]", "[250ms, fast]"));
    assert!(
        bad_value.contains("grid key `parameters.timeout_propose` value `fast`"),
        "{bad_value}"
    );

    let empty = error_of(&TWO_AXES.replace("[0s, 1s]", "[]"));
    assert!(
        empty.contains("grid key `parameters.block_interval` has an empty list"),
        "{empty}"
    );

    let not_a_map = error_of(&TWO_AXES.replace(
        "parameters.block_interval: [0s, 1s]",
        "parameters.timeout_propose.x: [1]",
    ));
    assert!(
        not_a_map.contains("`parameters.timeout_propose` is `3s`"),
        "{not_a_map}"
    );

    let no_seeds = error_of(&TWO_AXES.replace("seeds: 2", "seeds: 0"));
    assert!(no_seeds.contains("seeds must be at least 1"), "{no_seeds}");
}

#[test]
fn a_value_that_starts_a_missing_section_says_so() {
    let text = TWO_AXES
        .replace(
            "  byzantine: { count: 1, behavior: silent, validators: [3] }\n",
            "",
        )
        .replace(
            "parameters.block_interval: [0s, 1s]",
            "byzantine.ratio: [0.25]",
        );
    let err = error_of(&text);
    assert!(
        err.contains("grid key `byzantine.ratio` value `0.25`")
            && err.contains("behavior")
            && err.contains("no `byzantine` section"),
        "{err}"
    );
}

#[test]
fn shard_specs_are_checked() {
    assert_eq!(
        Shard::parse("2/3").expect("valid"),
        Shard { index: 1, count: 3 }
    );
    for bad in ["0/3", "4/3", "a/b", "1/0", "3"] {
        let err = Shard::parse(bad).expect_err(bad).to_string();
        assert!(err.contains(&format!("bad shard `{bad}`")), "{err}");
    }
}

#[test]
fn shards_come_from_slurm_or_indexed_jobs_and_flags_win() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let shard = |count, vars| Shard::from_env(count, env(vars)).map(|s| s.map(|(s, _)| s));
    let slurm_one_based = &[
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
    ];
    assert_eq!(
        shard(None, slurm_one_based).expect("ok"),
        Some(Shard { index: 2, count: 3 })
    );
    let slurm_zero_based = &[
        ("SLURM_ARRAY_TASK_ID", "0"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
    ];
    assert_eq!(
        shard(None, slurm_zero_based).expect("ok"),
        Some(Shard { index: 0, count: 3 })
    );
    let past_the_end = &[
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
    ];
    assert!(shard(None, past_the_end).is_err());
    let indexed_job = &[("JOB_COMPLETION_INDEX", "1"), ("CCPERF_SHARDS", "4")];
    assert_eq!(
        shard(None, indexed_job).expect("ok"),
        Some(Shard { index: 1, count: 4 })
    );
    assert_eq!(
        shard(Some(2), indexed_job).expect("ok"),
        Some(Shard { index: 1, count: 2 }),
        "--shard-count overrides CCPERF_SHARDS"
    );
    let no_count = &[("JOB_COMPLETION_INDEX", "1")];
    let err = shard(None, no_count)
        .expect_err("needs a count")
        .to_string();
    assert!(err.contains("--shard-count"), "{err}");
    assert_eq!(shard(None, &[]).expect("ok"), None);
    assert!(
        shard(Some(3), &[]).is_err(),
        "--shard-count without an index"
    );
}

#[test]
fn the_example_sweeps_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let two = SweepSpec::from_file(&root.join("sweep_two_params.yaml")).expect("valid");
    assert_eq!((two.point_count(), two.seeds.clone()), (16, vec![1]));
    assert_eq!(two.points().expect("valid points").len(), 16);
    let timeouts = SweepSpec::from_file(&root.join("sweep_timeouts.yaml")).expect("valid");
    assert_eq!(timeouts.point_count(), 5);
    assert_eq!(timeouts.seeds, vec![11, 12, 13]);
}

#[test]
fn cli_exits_2_on_a_bad_sweep_file_or_shard_before_running() {
    let dir = scratch("cli");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, TWO_AXES.replace("[0s, 1s]", "[0s, soon]")).expect("write");
    let good = dir.join("good.yaml");
    std::fs::write(&good, TWO_AXES).expect("write");
    let ccperf = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ccperf"))
            .args(args)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .output()
            .expect("ccperf runs")
    };
    let out = ccperf(&["sweep", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("grid key `parameters.block_interval` value `soon`"),
        "{stderr}"
    );

    let out = ccperf(&["sweep", good.to_str().expect("utf-8"), "--shard", "4/3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad shard `4/3`"));

    let out = ccperf(&["sweep", good.to_str().expect("utf-8"), "--resume"]);
    assert_eq!(out.status.code(), Some(2), "--resume needs --out");

    let a = dir.join("a.jsonl");
    let lines = two_axes_lines(&dir);
    std::fs::write(&a, lines[..10].concat()).expect("write");
    let merged = dir.join("m.jsonl");
    let out = ccperf(&[
        "merge",
        a.to_str().expect("utf-8"),
        "--out",
        merged.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 of the 12 runs")
            && stderr.contains("10-11")
            && stderr.contains("a.jsonl"),
        "{stderr}"
    );
    assert!(!merged.exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn real_sweep_is_byte_identical_with_one_and_two_threads() {
    let dir = scratch("real");
    let spec = SweepSpec::from_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweep_two_params.yaml"),
    )
    .expect("valid");
    let simulate: &Runner = &consensus_performance::bench::simulate;
    let run = |name: &str, jobs| {
        let out = dir.join(name);
        run_sweep(&spec, &options(&out, jobs), simulate).expect("sweep runs");
        std::fs::read_to_string(out).expect("output")
    };
    let one = run("one.jsonl", 1);
    assert_eq!(one.lines().count(), 16);
    assert_eq!(one, run("two.jsonl", 2));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn cli_sweep_writes_in_order_and_refuses_to_overwrite() {
    use consensus_performance::cli::sweep::{SweepArgs, sweep_with};
    let dir = scratch("cli-run");
    let file = dir.join("two.yaml");
    std::fs::write(&file, TWO_AXES).expect("write");
    let out = dir.join("out.jsonl");
    let args = |resume: bool| SweepArgs {
        sweep: file.clone(),
        out: Some(out.clone()),
        jobs: Some(2),
        shard: None,
        shard_count: None,
        resume,
        force: false,
    };
    let slurm_second_of_two = |name: &str| match name {
        "SLURM_ARRAY_TASK_ID" => Some("1".to_string()),
        "SLURM_ARRAY_TASK_COUNT" => Some("2".to_string()),
        _ => None,
    };
    assert_eq!(sweep_with(&args(false), &fake_run, slurm_second_of_two), 0);
    let text = std::fs::read_to_string(&out).expect("read");
    let indices: Vec<usize> = text
        .lines()
        .map(|l| SweepRecord::from_line(l).expect("record").index)
        .collect();
    assert_eq!(indices, [1, 3, 5, 7, 9, 11], "shard 2/2 from Slurm");
    assert_eq!(sweep_with(&args(false), &fake_run, |_| None), 2, "exists");
    assert_eq!(sweep_with(&args(true), &fake_run, slurm_second_of_two), 0);
    assert_eq!(std::fs::read_to_string(&out).expect("read"), text);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn two_concurrent_resumes_leave_each_run_once() {
    let dir = scratch("concurrent");
    let base = dir.join("short.yaml");
    std::fs::write(
        &base,
        "name: short\nduration: 3s\nvalidators: { count: 4 }\nnetwork: { gossip: direct }\ncosts: none\n",
    )
    .expect("write");
    let sweep = dir.join("sweep.yaml");
    std::fs::write(
        &sweep,
        format!(
            "base: {}\ngrid: {{ parameters.timeout_propose: [1s, 2s, 3s, 4s] }}\nseeds: 4\n",
            base.display()
        ),
    )
    .expect("write");
    let out = dir.join("out.jsonl");
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_ccperf"))
            .args(["sweep", sweep.to_str().expect("utf-8"), "--out"])
            .arg(&out)
            .args(["--resume", "--jobs", "1"])
            .env("CI", "true")
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("ccperf starts")
    };
    let (a, b) = (start(), start());
    for child in [a, b] {
        let output = child.wait_with_output().expect("ran");
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            Some(0) => {}
            Some(2) => assert!(
                stderr.contains("being written by another ccperf sweep"),
                "{stderr}"
            ),
            other => panic!("exit {other:?}: {stderr}"),
        }
    }
    let text = std::fs::read_to_string(&out).expect("read");
    let indices: Vec<usize> = text
        .lines()
        .map(|l| SweepRecord::from_line(l).expect("sealed record").index)
        .collect();
    assert_eq!(
        indices,
        (0..16).collect::<Vec<_>>(),
        "each run once, in order"
    );
    let _ = std::fs::remove_dir_all(dir);
}
