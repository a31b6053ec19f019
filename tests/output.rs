//! What the commands print and write when the output fails: a closed pipe ends quietly, a full
//! device is a message and exit 2 (never a panic), and `--prometheus` never replaces a symlink
//! or a special file.

#![cfg(unix)]
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ccperf");

/// A short scenario, so each command finishes in well under a second.
const SHORT: &str = "name: short\nduration: 5s\nvalidators: { count: 4 }\nnetwork: { gossip: direct }\ncosts: none\n";

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-output-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Waits for `child` at most 60 s (killing it then), returning its output.
fn bounded(child: std::process::Child, what: &str) -> Output {
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(output) => output.expect("ccperf ran"),
        Err(_) => {
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("{what} did not finish within 60 s");
        }
    }
}

/// Runs ccperf with stdout on /dev/full.
fn to_full_device(args: &[&str]) -> Output {
    let full = OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let child = Command::new(BIN)
        .args(args)
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .spawn()
        .expect("ccperf starts");
    bounded(child, &format!("{args:?} > /dev/full"))
}

/// Runs ccperf with stdout a pipe whose reader is closed before it writes.
fn to_closed_pipe(args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ccperf starts");
    drop(child.stdout.take());
    bounded(child, &format!("{args:?} | (closed)"))
}

fn ccperf(args: &[&str]) -> Output {
    let child = Command::new(BIN)
        .args(args)
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ccperf starts");
    bounded(child, &format!("{args:?}"))
}

/// Every command that prints, on a short input.
fn printing_commands(dir: &std::path::Path) -> Vec<Vec<String>> {
    let scenario = dir.join("short.yaml");
    std::fs::write(&scenario, SHORT).expect("write");
    let sweep = dir.join("sweep.yaml");
    std::fs::write(
        &sweep,
        format!(
            "base: {}\ngrid: {{ validators.count: [4, 5] }}\n",
            scenario.display()
        ),
    )
    .expect("write");
    let s = scenario.display().to_string();
    [
        vec!["run", &s],
        vec!["run", &s, "--json"],
        vec!["validate", &s],
        vec!["scenarios"],
        vec!["regions"],
        vec!["config"],
        vec!["sweep", &sweep.display().to_string()],
        vec!["bench", &s, "--seeds", "1"],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(String::from).collect())
    .collect()
}

#[test]
fn a_full_stdout_is_an_error_message_and_exit_2_for_every_command() {
    let dir = scratch("full");
    for args in printing_commands(&dir) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = to_full_device(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("error: cannot write to standard output: No space left on device"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_closed_stdout_ends_quietly_for_every_command() {
    let dir = scratch("closed");
    for args in printing_commands(&dir) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = to_closed_pipe(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_report_that_cannot_be_printed_still_writes_its_textfile() {
    let dir = scratch("still");
    let scenario = dir.join("short.yaml");
    std::fs::write(&scenario, SHORT).expect("write");
    let prom = dir.join("m.prom");
    let out = to_full_device(&[
        "run",
        scenario.to_str().expect("utf-8"),
        "--prometheus",
        prom.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let text = std::fs::read_to_string(&prom).expect("the textfile was written");
    assert!(text.contains("cometbft_consensus_height"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn prometheus_never_replaces_a_symlink_or_a_special_file() {
    let dir = scratch("prom");
    let scenario = dir.join("short.yaml");
    std::fs::write(&scenario, SHORT).expect("write");
    let scenario = scenario.to_str().expect("utf-8").to_string();
    let run = |target: &PathBuf| {
        ccperf(&[
            "run",
            &scenario,
            "--prometheus",
            target.to_str().expect("utf-8"),
        ])
    };

    // A symlink to a regular file: the link stays, its target gets the metrics.
    let real = dir.join("real.prom");
    std::fs::write(&real, "old").expect("write");
    let link = dir.join("link.prom");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    assert_eq!(run(&link).status.code(), Some(0));
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&real)
            .expect("read")
            .contains("cometbft_consensus_height")
    );

    // A symlink to /dev/full: the write fails (exit 2) and the device is still a device.
    let full_link = dir.join("full.prom");
    std::os::unix::fs::symlink("/dev/full", &full_link).expect("symlink");
    let out = run(&full_link);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(
        std::fs::symlink_metadata(&full_link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::metadata("/dev/full")
            .expect("dev")
            .file_type()
            .is_char_device()
    );

    // /dev/null directly: written through, still a device.
    assert_eq!(run(&PathBuf::from("/dev/null")).status.code(), Some(0));
    assert!(
        std::fs::metadata("/dev/null")
            .expect("dev")
            .file_type()
            .is_char_device()
    );

    // A FIFO: written through to its reader, still a FIFO.
    let fifo = dir.join("fifo.prom");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        File::open(&reader_path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map(|_| text)
    });
    assert_eq!(run(&fifo).status.code(), Some(0));
    let received = reader.join().expect("reader").expect("read the fifo");
    assert!(received.contains("cometbft_consensus_height"), "{received}");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .expect("fifo")
            .file_type()
            .is_fifo()
    );

    // A directory or a dangling link: refused, exit 2, left as it was.
    let folder = dir.join("folder.prom");
    std::fs::create_dir(&folder).expect("mkdir");
    let out = run(&folder);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a directory"));
    assert!(folder.is_dir());
    let dangling = dir.join("dangling.prom");
    std::os::unix::fs::symlink(dir.join("no/such/file"), &dangling).expect("symlink");
    assert_eq!(run(&dangling).status.code(), Some(2));
    assert!(
        std::fs::symlink_metadata(&dangling)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    let _ = std::fs::remove_dir_all(dir);
}
