//! `ccperf serve` (a paced simulation scraped over HTTP) and `ccperf run --prometheus` (the
//! node_exporter textfile), through the binary. Every child process is killed on every path
//! and every wait is bounded, so a broken server fails the test instead of hanging it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ccperf");

/// A child process killed when dropped (test failure included).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ccperf serve <args>` (with `--exit-after 30` as a backstop) and returns it with the
/// address it printed first on stderr.
fn serve(args: &[&str]) -> Result<(Running, SocketAddr), String> {
    let child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .args(["--exit-after", "30"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let mut running = Running(child);
    let stderr = running.0.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Keep draining: the server may write more, and a closed pipe is not what we test.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "no address on stderr within 10 s".to_string())?;
    let address = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .ok_or_else(|| format!("first stderr line is not the address: {line:?}"))?
        .parse()
        .map_err(|e| format!("{line:?}: {e}"))?;
    Ok((running, address))
}

/// One HTTP/1.0 GET: (status code, content type, body).
fn get(address: SocketAddr, path: &str) -> Result<(u16, String, String), String> {
    let timeout = Duration::from_secs(5);
    let mut stream =
        TcpStream::connect_timeout(&address, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no header end in {response:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line in {head:?}"))?;
    let content_type = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.trim().to_string())
        .unwrap_or_default();
    Ok((status, content_type, body.to_string()))
}

/// Parses Prometheus text exposition: every line is a `# HELP`/`# TYPE` comment or a sample
/// `name{labels} value` of a declared family. Returns the samples labelled only with their
/// `chain_id` by name.
fn parse_exposition(text: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut families = Vec::new();
    let mut plain = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or(line)?;
            if !["gauge", "counter", "histogram", "summary"].contains(&kind) {
                return Err(format!("unknown type: {line}"));
            }
            families.push(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').ok_or(line)?;
        let value: f64 = value.parse().map_err(|_| format!("bad value: {line}"))?;
        let name = series.split('{').next().unwrap_or(series);
        let valid = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        let declared = families.iter().any(|f| {
            name == f
                || ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| name.strip_suffix(s) == Some(f.as_str()))
        });
        if name.is_empty() || !valid || !declared {
            return Err(format!("sample of no declared family: {line}"));
        }
        let labels = series.strip_prefix(name).unwrap_or_default();
        if !labels.starts_with("{chain_id=\"") {
            return Err(format!("no chain_id label first: {line}"));
        }
        if labels.matches('=').count() == 1 {
            plain.insert(name.to_string(), value);
        }
    }
    Ok(plain)
}

fn metric(samples: &BTreeMap<String, f64>, name: &str) -> Result<f64, String> {
    samples.get(name).copied().ok_or(format!("no {name}"))
}

#[test]
fn served_metrics_parse_and_the_height_grows_between_scrapes() -> Result<(), String> {
    let (_server, address) = serve(&["baseline", "--listen", "127.0.0.1:0", "--speed", "50"])?;
    let (status, content_type, body) = get(address, "/metrics")?;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let first = metric(&parse_exposition(&body)?, "cometbft_consensus_height")?;
    assert_eq!(
        metric(&parse_exposition(&body)?, "cometbft_consensus_validators")?,
        4.0
    );
    // At 50 x real time, 0.5 s of wall time is 25 s of a 60 s run: about 20 heights.
    std::thread::sleep(Duration::from_millis(500));
    let (_, _, body) = get(address, "/metrics")?;
    let second = parse_exposition(&body)?;
    let height = metric(&second, "cometbft_consensus_height")?;
    assert!(height > first, "height {first} then {height}");
    assert!(metric(&second, "cometbft_consensus_total_txs")? > 0.0);
    let latest = metric(&second, "cometbft_consensus_latest_block_height")?;
    assert_eq!(latest + 1.0, height);
    assert_eq!(
        metric(&second, "cometbft_consensus_block_interval_seconds_count")?,
        latest
    );
    Ok(())
}

#[test]
fn served_index_names_the_run_and_unknown_paths_are_404() -> Result<(), String> {
    let (_server, address) = serve(&["baseline", "--listen", "127.0.0.1:0", "--seed", "9"])?;
    let (status, _, body) = get(address, "/")?;
    assert_eq!(status, 200);
    assert!(body.contains("baseline"), "{body}");
    assert!(body.contains("seed 9"), "{body}");
    assert!(body.contains("/metrics"), "{body}");
    let (status, _, _) = get(address, "/nope")?;
    assert_eq!(status, 404);
    Ok(())
}

#[test]
fn a_finished_run_keeps_serving_its_final_metrics() -> Result<(), String> {
    // 60 s of virtual time at 1000 x is over in 60 ms of wall time.
    let (_server, address) = serve(&["baseline", "--listen", "127.0.0.1:0", "--speed", "1000"])?;
    let started = Instant::now();
    let mut body = String::new();
    while started.elapsed() < Duration::from_secs(10) {
        let (_, _, index) = get(address, "/")?;
        if index.contains("run finished") {
            body = get(address, "/metrics")?.2;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let run = run_json(&["run", "baseline"])?;
    let samples = parse_exposition(&body)?;
    assert_eq!(
        metric(&samples, "cometbft_consensus_latest_block_height")?,
        run["heights_committed"]
            .as_f64()
            .ok_or("heights_committed")?
    );
    Ok(())
}

#[test]
fn serve_refuses_a_bad_address_and_a_bad_speed() {
    let out = run_bounded(&["serve", "baseline", "--listen", "127.0.0.1:notaport"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("127.0.0.1:notaport"), "{stderr}");
    for speed in ["0", "-2", "inf", "1e308"] {
        let out = run_bounded(&["serve", "baseline", "--speed", speed]);
        assert_eq!(out.status.code(), Some(2), "--speed {speed}");
    }
}

#[test]
fn exit_after_stops_the_server() {
    let started = Instant::now();
    let out = run_bounded(&[
        "serve",
        "baseline",
        "--listen",
        "127.0.0.1:0",
        "--exit-after",
        "0.3",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn run_textfile_holds_the_runs_numbers() -> Result<(), String> {
    let path = temp_path("run.prom");
    let run = run_json(&[
        "run",
        "baseline",
        "--json",
        "--heights",
        "--prometheus",
        path.to_str().ok_or("path")?,
    ])?;
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let samples = parse_exposition(&text)?;
    let heights = run["heights"].as_array().ok_or("heights")?;
    let last = heights.last().ok_or("no heights")?;
    let total: f64 = heights.iter().filter_map(|h| h["txs"].as_f64()).sum();
    let number = |key: &str| run[key].as_f64().ok_or(format!("no {key}"));
    assert_eq!(
        metric(&samples, "cometbft_consensus_latest_block_height")?,
        number("heights_committed")?
    );
    assert_eq!(
        metric(&samples, "cometbft_consensus_height")?,
        number("heights_committed")? + 1.0
    );
    assert_eq!(
        metric(&samples, "cometbft_consensus_rounds")?,
        last["round"].as_f64().ok_or("round")?
    );
    assert_eq!(
        metric(&samples, "cometbft_consensus_num_txs")?,
        last["txs"].as_f64().ok_or("txs")?
    );
    assert_eq!(metric(&samples, "cometbft_consensus_total_txs")?, total);
    assert_eq!(metric(&samples, "cometbft_consensus_validators")?, 4.0);
    assert_eq!(
        metric(&samples, "cometbft_consensus_round_duration_seconds_count")?,
        heights.len() as f64
    );
    // The exposition format and JSON print floats differently: equal to the last bits.
    let (exposed, reported) = (
        metric(&samples, "ccperf_throughput_tps")?,
        number("throughput_tps")?,
    );
    assert!(
        (exposed - reported).abs() <= 1e-12 * reported.abs(),
        "{exposed} vs {reported}"
    );
    for step in ["NewHeight", "Propose", "Prevote", "Precommit", "Commit"] {
        let count = format!(
            "cometbft_consensus_step_duration_seconds_count{{chain_id=\"baseline\",step=\"{step}\"}} {}\n",
            heights.len()
        );
        assert!(text.contains(&count), "{step} in {text}");
    }
    assert!(!text.contains("voting"));
    assert!(text.contains("# TYPE ccperf_anomalies_total counter\n"));
    assert!(!text.contains("# EOF"));
    Ok(())
}

#[test]
fn run_textfile_is_byte_identical_for_the_same_seed() -> Result<(), String> {
    let read = |name: &str| -> Result<String, String> {
        let path = temp_path(name);
        let out = run_bounded(&[
            "run",
            "byzantine_fault",
            "--seed",
            "5",
            "--prometheus",
            path.to_str().ok_or("path")?,
        ]);
        assert_eq!(out.status.code(), Some(0));
        std::fs::read_to_string(&path).map_err(|e| e.to_string())
    };
    let first = read("same-a.prom")?;
    assert_eq!(first, read("same-b.prom")?);
    assert!(
        first.contains(
            "\ncometbft_consensus_byzantine_validators{chain_id=\"byzantine_fault\"} 3\n"
        )
    );
    Ok(())
}

#[test]
fn run_textfile_counts_the_alerts_firing_at_the_end() -> Result<(), String> {
    let scenario = temp_path("alerting.yaml");
    std::fs::write(
        &scenario,
        "name: alerting\nduration: 30s\nvalidators:\n  count: 4\nload:\n  transaction_rate: 100\n\
         targets:\n  target_throughput: 1000.0\n",
    )
    .map_err(|e| e.to_string())?;
    let path = temp_path("alerting.prom");
    let out = run_bounded(&[
        "run",
        scenario.to_str().ok_or("path")?,
        "--prometheus",
        path.to_str().ok_or("path")?,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    assert!(
        text.contains("\nccperf_alerts_active{chain_id=\"alerting\",severity=\"critical\"} 1\n"),
        "{text}"
    );
    Ok(())
}

#[test]
fn run_textfile_in_a_missing_directory_exits_2_after_the_report() {
    let out = run_bounded(&["run", "baseline", "--prometheus", "/no/such/dir/x.prom"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stdout.contains("heights"),
        "the report is printed: {stdout}"
    );
    assert!(stderr.contains("/no/such/dir/x.prom"), "{stderr}");
}

/// Runs ccperf with `args` and returns its JSON report (with `--json` added if missing).
fn run_json(args: &[&str]) -> Result<serde_json::Value, String> {
    let mut args = args.to_vec();
    if !args.contains(&"--json") {
        args.push("--json");
    }
    let out = run_bounded(&args);
    if out.status.code() != Some(0) {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}

/// Runs ccperf to completion, killing it after 30 s.
fn run_bounded(args: &[&str]) -> Output {
    let child = Command::new(BIN)
        .args(args)
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ccperf starts");
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(output) => output.expect("ccperf ran"),
        Err(_) => {
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("ccperf {args:?} did not finish within 30 s");
        }
    }
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-serve-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir.join(name)
}

/// Sends `request` raw on a fresh connection and reads the whole answer (the server closes).
fn raw(address: SocketAddr, request: &str) -> Result<String, String> {
    let timeout = Duration::from_secs(5);
    let mut stream =
        TcpStream::connect_timeout(&address, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// Reads one response off a keep-alive connection: (status, body), by its Content-Length.
fn read_response(reader: &mut BufReader<TcpStream>) -> Result<(u16, String), String> {
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .map_err(|e| format!("status: {e}"))?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().map_err(|_| format!("{line:?}"))?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|e| e.to_string())?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[test]
fn an_oversized_content_length_is_refused_and_serving_goes_on() -> Result<(), String> {
    let (mut server, address) = serve(&["baseline", "--listen", "127.0.0.1:0"])?;
    let answer = raw(
        address,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
    )?;
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(answer.contains("Connection: close"), "{answer}");
    let chunked = raw(
        address,
        "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n",
    )?;
    assert!(chunked.starts_with("HTTP/1.1 413 "), "{chunked}");
    let huge_head = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    let refused = raw(address, &huge_head)?;
    assert!(refused.starts_with("HTTP/1.1 431 "), "{refused}");
    assert_eq!(
        server.0.try_wait().map_err(|e| e.to_string())?,
        None,
        "serve is still running"
    );
    let (status, _, body) = get(address, "/metrics")?;
    assert_eq!(status, 200);
    assert!(body.contains("cometbft_consensus_height"), "{body}");
    Ok(())
}

#[test]
fn keep_alive_answers_many_requests_on_one_connection() -> Result<(), String> {
    let (_server, address) = serve(&["baseline", "--listen", "127.0.0.1:0", "--speed", "20"])?;
    let stream =
        TcpStream::connect_timeout(&address, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    for i in 0..20 {
        let path = if i % 2 == 0 { "/metrics" } else { "/" };
        write!(writer, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").map_err(|e| e.to_string())?;
        let (status, body) = read_response(&mut reader)?;
        assert_eq!(status, 200, "request {i}");
        assert!(
            body.contains(if i % 2 == 0 {
                "cometbft_consensus_height"
            } else {
                "seed"
            }),
            "request {i}: {body}"
        );
    }
    // Two requests in one write (pipelined) get two answers in order.
    write!(
        writer,
        "GET /nope HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    assert_eq!(read_response(&mut reader)?.0, 404);
    assert_eq!(read_response(&mut reader)?.0, 200);
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).map_err(|e| e.to_string())?;
    assert!(rest.is_empty(), "closed after `Connection: close`");
    Ok(())
}

/// Threads of process `pid`, from /proc (Linux).
fn threads_of(pid: u32) -> Option<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

#[test]
fn idle_connections_are_capped_and_closed() -> Result<(), String> {
    let (server, address) = serve(&[
        "baseline",
        "--listen",
        "127.0.0.1:0",
        "--max-connections",
        "8",
        "--keep-alive",
        "0.5",
    ])?;
    // main, pacing and accepting threads; a connection thread may not have ended yet.
    let baseline = 4;
    let mut idle = Vec::new();
    for _ in 0..40 {
        let stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        idle.push(stream);
    }
    // The connections past the cap are answered 503 and closed at once; the first 8 are held
    // until they idle out. Every one of the 40 ends: read_to_end returns within the timeout.
    let mut busy = 0;
    for stream in &mut idle {
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .map_err(|e| format!("an idle connection was not closed: {e}"))?;
        if answer.starts_with("HTTP/1.1 503 ") {
            busy += 1;
        } else {
            assert_eq!(answer, "", "an idle connection is closed without an answer");
        }
    }
    assert!(
        busy >= 32,
        "{busy} of 40 connections refused beyond the cap of 8"
    );
    if let Some(peak) = threads_of(server.0.id()) {
        assert!(
            peak <= baseline + 8,
            "{peak} threads with 40 connections open"
        );
    }
    // The cap frees up as connections close: new requests are served.
    let started = Instant::now();
    let status = loop {
        let (status, _, _) = get(address, "/metrics")?;
        if status == 200 || started.elapsed() > Duration::from_secs(10) {
            break status;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, 200);
    if let Some(after) = threads_of(server.0.id()) {
        assert!(
            after <= baseline,
            "{after} threads after the idle connections closed"
        );
    }
    Ok(())
}

/// Serves `scenario` at 1000 x real time with `--config config` until the run has finished,
/// and returns its final exposition.
fn serve_to_the_end(scenario: &str, config: &str) -> Result<String, String> {
    let (_server, address) = serve(&[
        scenario,
        "--listen",
        "127.0.0.1:0",
        "--speed",
        "1000",
        "--config",
        config,
    ])?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let (_, _, index) = get(address, "/")?;
        if index.contains("run finished") {
            return Ok(get(address, "/metrics")?.2);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("{scenario} did not finish within 20 s"))
}

/// The `ccperf_alerts_active` samples of an exposition, by severity.
fn alerts_active(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter_map(|line| line.strip_prefix("ccperf_alerts_active{"))
        .filter_map(|rest| {
            let (labels, value) = rest.rsplit_once("} ")?;
            let severity = labels.split("severity=\"").nth(1)?.split('"').next()?;
            Some((severity.to_string(), value.parse().ok()?))
        })
        .collect()
}

#[test]
fn serve_publishes_firing_alerts_only_when_alerts_enabled() -> Result<(), String> {
    // 100 tx/s against a 1000 tx/s target: the throughput alert fires at every height after
    // the warm-up, so it is firing when the 30 s run ends.
    let scenario = temp_path("serve-alerting.yaml");
    std::fs::write(
        &scenario,
        "name: serve_alerting\nduration: 30s\nvalidators:\n  count: 4\nload:\n  \
         transaction_rate: 100\ntargets:\n  target_throughput: 1000.0\n",
    )
    .map_err(|e| e.to_string())?;
    let scenario = scenario.to_str().ok_or("path")?;
    let on = temp_path("alerts-on.toml");
    let off = temp_path("alerts-off.toml");
    std::fs::write(&on, "[performance]\nalerts_enabled = true\n").map_err(|e| e.to_string())?;
    std::fs::write(&off, "[performance]\nalerts_enabled = false\n").map_err(|e| e.to_string())?;

    let text_on = serve_to_the_end(scenario, on.to_str().ok_or("path")?)?;
    let text_off = serve_to_the_end(scenario, off.to_str().ok_or("path")?)?;
    let (enabled, disabled) = (alerts_active(&text_on), alerts_active(&text_off));
    for alerts in [&enabled, &disabled] {
        assert_eq!(
            alerts.keys().map(String::as_str).collect::<Vec<_>>(),
            ["critical", "high", "low", "medium"],
            "one gauge per severity"
        );
    }
    let firing: f64 = enabled.values().sum();
    assert!(firing >= 1.0, "alerts_enabled = true: {enabled:?}");
    assert_eq!(
        disabled.values().sum::<f64>(),
        0.0,
        "alerts_enabled = false: {disabled:?}"
    );
    // The same run either way: only the alert gauges differ.
    let rest = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| !line.starts_with("ccperf_alerts_active{"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(rest(&text_on), rest(&text_off));
    Ok(())
}

/// Transactions per second of the latest `window` heights of a `ccperf run --json` report:
/// their transactions over the time from the commit before them (or the start) to the last.
fn throughput_of_latest(report: &serde_json::Value, window: usize) -> Result<f64, String> {
    let heights = report["heights"].as_array().ok_or("no heights")?;
    let field = |i: usize, key: &str| -> Result<f64, String> {
        heights[i][key]
            .as_f64()
            .ok_or(format!("heights[{i}].{key}"))
    };
    let first = heights.len().saturating_sub(window);
    let since_s = match first {
        0 => 0.0,
        i => field(i - 1, "commit_time_s")?,
    };
    let last_s = field(heights.len() - 1, "commit_time_s")?;
    let txs = (first..heights.len())
        .map(|i| field(i, "txs"))
        .sum::<Result<f64, String>>()?;
    Ok(txs / (last_s - since_s))
}

#[test]
fn serve_throughput_covers_the_window_size_latest_heights() -> Result<(), String> {
    let report = run_json(&["run", "baseline", "--heights"])?;
    let heights = report["heights"].as_array().ok_or("no heights")?.len();
    assert!(heights > 20, "{heights} heights");
    // `window_size` 5 and 20 cover the latest 5 and 20 heights; the default (1000 heights)
    // covers the whole run: every transaction over the time to the last commit.
    for (setting, window) in [(Some(5), 5), (Some(20), 20), (None, heights)] {
        let config = temp_path(&format!("window-{window}.toml"));
        let body = setting.map_or(String::new(), |w| format!("window_size = {w}\n"));
        std::fs::write(&config, format!("[performance]\n{body}")).map_err(|e| e.to_string())?;
        let text = serve_to_the_end("baseline", config.to_str().ok_or("path")?)?;
        let served = metric(&parse_exposition(&text)?, "ccperf_throughput_tps")?;
        let expected = throughput_of_latest(&report, window)?;
        assert!(
            (served - expected).abs() <= 1e-9 * expected,
            "window_size {setting:?}: served {served}, the last {window} heights give {expected}"
        );
    }
    let whole = throughput_of_latest(&report, heights)?;
    let last_5 = throughput_of_latest(&report, 5)?;
    assert!(
        (whole - last_5).abs() > 1e-6 * whole,
        "the windows must differ for the test to mean anything: {whole} vs {last_5}"
    );
    Ok(())
}
