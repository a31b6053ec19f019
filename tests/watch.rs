//! `ccperf watch` through the binary: against a fake CometBFT node that serves RPC responses
//! in CometBFT's JSON shapes (loopback, scripted, bounded), and against `ccperf serve`. Every
//! child process is killed on every path and every wait is bounded.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime};

const BIN: &str = env!("CARGO_BIN_EXE_ccperf");

// ---- a fake CometBFT node -----------------------------------------------------------------

/// Something wrong the fake node does to every request while it is set.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// Answers only after this long.
    Hang(Duration),
    /// Answers with a body of this many bytes.
    Oversize(usize),
    /// Answers with truncated JSON.
    Malformed,
}

/// One step of the fake node's script, run in order by its producer thread.
#[derive(Clone, Copy, Debug)]
enum Action {
    /// Commit the next height, decided in `round`, with `absent` validators missing from its commit.
    Block {
        round: u32,
        absent: usize,
    },
    /// Commit this many heights at once.
    Burst(u64),
    Wait(Duration),
    Fault(Option<Fault>),
    CatchingUp(bool),
    /// Close the listener for this long, then listen on the same port again.
    Restart(Duration),
    /// Start a fresh chain at height 1 (a node reset to genesis).
    Reset,
}

#[derive(Clone, Debug)]
struct FakeBlock {
    time: SystemTime,
    txs: u64,
    round: u32,
    absent: usize,
}

#[derive(Default)]
struct Chain {
    /// Answers the WebSocket `subscribe` at /websocket (otherwise 404, like an RPC without it).
    websocket: bool,
    blocks: Vec<FakeBlock>,
    catching_up: bool,
    fault: Option<Fault>,
    down: bool,
}

impl Chain {
    fn commit(&mut self, round: u32, absent: usize) {
        let height = self.blocks.len() as u64 + 1;
        self.blocks.push(FakeBlock {
            time: SystemTime::now(),
            txs: height % 4 + 1,
            round,
            absent,
        });
    }
}

/// The fake node: serves until dropped.
struct FakeNode {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

const VALIDATORS: usize = 4;

impl FakeNode {
    /// Starts with height 1 committed and runs `script` after `delay`.
    fn start(delay: Duration, script: Vec<Action>) -> FakeNode {
        FakeNode::start_with(false, delay, script)
    }

    /// [`FakeNode::start`], with or without the WebSocket.
    fn start_with(websocket: bool, delay: Duration, script: Vec<Action>) -> FakeNode {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let address = listener.local_addr().expect("address");
        let chain = Arc::new(Mutex::new(Chain {
            websocket,
            ..Chain::default()
        }));
        chain.lock().unwrap().commit(0, 0);
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (chain, stop) = (Arc::clone(&chain), Arc::clone(&stop));
            std::thread::spawn(move || serve_fake(listener, address, chain, stop));
        }
        {
            let (chain, stop) = (Arc::clone(&chain), Arc::clone(&stop));
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                for action in script {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    match action {
                        Action::Block { round, absent } => {
                            chain.lock().unwrap().commit(round, absent)
                        }
                        Action::Burst(n) => {
                            let mut chain = chain.lock().unwrap();
                            for _ in 0..n {
                                chain.commit(0, 0);
                            }
                        }
                        Action::Wait(d) => std::thread::sleep(d),
                        Action::Fault(f) => chain.lock().unwrap().fault = f,
                        Action::CatchingUp(c) => chain.lock().unwrap().catching_up = c,
                        Action::Reset => {
                            let mut chain = chain.lock().unwrap();
                            chain.blocks.clear();
                            chain.commit(0, 0);
                        }
                        Action::Restart(d) => {
                            chain.lock().unwrap().down = true;
                            std::thread::sleep(d);
                            chain.lock().unwrap().down = false;
                        }
                    }
                }
            });
        }
        FakeNode { address, stop }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

/// `n` heights `every` apart.
fn blocks(n: usize, every: Duration) -> Vec<Action> {
    (0..n)
        .flat_map(|_| {
            [
                Action::Block {
                    round: 0,
                    absent: 0,
                },
                Action::Wait(every),
            ]
        })
        .collect()
}

/// Accepts connections until stopped; while `down`, the port is closed (connections refused).
fn serve_fake(
    listener: TcpListener,
    address: SocketAddr,
    chain: Arc<Mutex<Chain>>,
    stop: Arc<AtomicBool>,
) {
    let mut listener = Some(listener);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        let down = chain.lock().unwrap().down;
        match (&listener, down) {
            (Some(_), true) => listener = None,
            (None, false) => listener = TcpListener::bind(address).ok(),
            _ => {}
        }
        let Some(l) = &listener else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        l.set_nonblocking(true).unwrap();
        match l.accept() {
            Ok((stream, _)) => {
                let chain = Arc::clone(&chain);
                std::thread::spawn(move || answer_fake(stream, &chain));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn answer_fake(mut stream: TcpStream, chain: &Mutex<Chain>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut start = [0u8; 16];
    let peeked = stream.peek(&mut start).unwrap_or(0);
    if start[..peeked].starts_with(b"GET /websocket") && chain.lock().unwrap().websocket {
        return stream_new_blocks(stream, chain);
    }
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let (fault, body) = {
        let chain = chain.lock().unwrap();
        (chain.fault, respond(&chain, &target))
    };
    let (status, body) = match fault {
        Some(Fault::Hang(d)) => {
            std::thread::sleep(d);
            body
        }
        Some(Fault::Oversize(n)) => (
            200,
            format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":-1,\"result\":\"{}\"}}",
                "x".repeat(n)
            ),
        ),
        Some(Fault::Malformed) => (
            200,
            "{\"jsonrpc\":\"2.0\",\"id\":-1,\"result\":{\"node_info\":".to_string(),
        ),
        None => body,
    };
    let reason = if status == 200 {
        "OK"
    } else {
        "Internal Server Error"
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The WebSocket side: answers `subscribe` and sends a `NewBlock` event per new height, until
/// the node goes down or 20 s have passed.
fn stream_new_blocks(stream: TcpStream, chain: &Mutex<Chain>) {
    let Ok(mut socket) = tungstenite::accept(stream) else {
        return;
    };
    let Ok(request) = socket.read() else { return };
    let request: Value = serde_json::from_str(request.to_text().unwrap_or("")).unwrap_or_default();
    assert_eq!(request["method"], "subscribe", "{request}");
    assert_eq!(request["params"]["query"], "tm.event='NewBlock'");
    let reply = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}";
    if socket.send(tungstenite::Message::text(reply)).is_err() {
        return;
    }
    let mut sent = chain.lock().unwrap().blocks.len();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let (latest, down) = {
            let chain = chain.lock().unwrap();
            (chain.blocks.len(), chain.down)
        };
        if down {
            return;
        }
        while sent < latest {
            sent += 1;
            let event = format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{{\"query\":\"tm.event='NewBlock'\",\"data\":{{\"type\":\"tendermint/event/NewBlock\",\"value\":{{\"block\":{{\"header\":{{\"chain_id\":\"fake-chain\",\"height\":\"{sent}\"}},\"data\":{{\"txs\":[]}}}},\"result_finalize_block\":{{}}}}}},\"events\":{{\"tm.event\":[\"NewBlock\"]}}}}}}"
            );
            if socket.send(tungstenite::Message::text(event)).is_err() {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn address(i: usize) -> String {
    format!("{:040X}", i + 1)
}

/// The JSON-RPC answer to `target`, as CometBFT 0.38 shapes it.
fn respond(chain: &Chain, target: &str) -> (u16, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let height_arg = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("height="))
        .and_then(|h| h.parse::<u64>().ok());
    let latest = chain.blocks.len() as u64;
    let ok = |result: String| {
        (
            200,
            format!("{{\"jsonrpc\":\"2.0\",\"id\":-1,\"result\":{result}}}"),
        )
    };
    let height = height_arg.unwrap_or(latest);
    if height > latest || height == 0 {
        return (
            500,
            format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":-1,\"error\":{{\"code\":-32603,\"message\":\"Internal error\",\"data\":\"height {height} must be less than or equal to the current blockchain height {latest}\"}}}}"
            ),
        );
    }
    let block = &chain.blocks[height as usize - 1];
    let commit = |h: u64| {
        let b = &chain.blocks[h as usize - 1];
        let signatures: Vec<String> = (0..VALIDATORS)
            .map(|i| {
                if i >= VALIDATORS - b.absent {
                    "{\"block_id_flag\":1,\"validator_address\":\"\",\"timestamp\":\"0001-01-01T00:00:00Z\",\"signature\":null}".to_string()
                } else {
                    format!(
                        "{{\"block_id_flag\":2,\"validator_address\":\"{}\",\"timestamp\":\"{}\",\"signature\":\"c2lnbmF0dXJl\"}}",
                        address(i),
                        rfc3339(b.time + Duration::from_millis(i as u64))
                    )
                }
            })
            .collect();
        format!(
            "{{\"height\":\"{h}\",\"round\":{},\"block_id\":{{\"hash\":\"AB{h:06}\",\"parts\":{{\"total\":1,\"hash\":\"CD\"}}}},\"signatures\":[{}]}}",
            b.round,
            signatures.join(",")
        )
    };
    let header = format!(
        "{{\"version\":{{\"block\":\"11\",\"app\":\"1\"}},\"chain_id\":\"fake-chain\",\"height\":\"{height}\",\"time\":\"{}\",\"last_block_id\":{{\"hash\":\"\",\"parts\":{{\"total\":0,\"hash\":\"\"}}}},\"validators_hash\":\"VALSET1\",\"proposer_address\":\"{}\"}}",
        rfc3339(block.time),
        address(height as usize % VALIDATORS)
    );
    match path {
        "/status" => ok(format!(
            "{{\"node_info\":{{\"protocol_version\":{{\"p2p\":\"8\",\"block\":\"11\",\"app\":\"1\"}},\"id\":\"b77488f9\",\"listen_addr\":\"tcp://0.0.0.0:26656\",\"network\":\"fake-chain\",\"version\":\"0.38.12\",\"channels\":\"40202122233038606100\",\"moniker\":\"fake-node\",\"other\":{{\"tx_index\":\"on\",\"rpc_address\":\"tcp://0.0.0.0:26657\"}}}},\"sync_info\":{{\"latest_block_hash\":\"AB\",\"latest_app_hash\":\"CD\",\"latest_block_height\":\"{latest}\",\"latest_block_time\":\"{}\",\"earliest_block_height\":\"1\",\"catching_up\":{}}},\"validator_info\":{{\"address\":\"{}\",\"voting_power\":\"10\"}}}}",
            rfc3339(chain.blocks[latest as usize - 1].time),
            chain.catching_up,
            address(0)
        )),
        "/block" => {
            let txs: Vec<String> = (0..block.txs).map(|i| format!("\"dHgt{i}\"")).collect();
            let txs = if txs.is_empty() {
                "null".to_string()
            } else {
                format!("[{}]", txs.join(","))
            };
            let last_commit = if height > 1 {
                commit(height - 1)
            } else {
                "{\"height\":\"0\",\"round\":0,\"block_id\":{},\"signatures\":[]}".to_string()
            };
            ok(format!(
                "{{\"block_id\":{{\"hash\":\"AB{height:06}\"}},\"block\":{{\"header\":{header},\"data\":{{\"txs\":{txs}}},\"evidence\":{{\"evidence\":[]}},\"last_commit\":{last_commit}}}}}"
            ))
        }
        "/commit" => ok(format!(
            "{{\"signed_header\":{{\"header\":{header},\"commit\":{}}},\"canonical\":{}}}",
            commit(height),
            height < latest
        )),
        "/validators" => {
            let validators: Vec<String> = (0..VALIDATORS)
                .map(|i| format!("{{\"address\":\"{}\",\"pub_key\":{{\"type\":\"tendermint/PubKeyEd25519\",\"value\":\"AAAA\"}},\"voting_power\":\"10\",\"proposer_priority\":\"0\"}}", address(i)))
                .collect();
            ok(format!(
                "{{\"block_height\":\"{height}\",\"validators\":[{}],\"count\":\"{VALIDATORS}\",\"total\":\"{VALIDATORS}\"}}",
                validators.join(",")
            ))
        }
        "/net_info" => ok(
            "{\"listening\":true,\"listeners\":[\"Listener(@)\"],\"n_peers\":\"3\",\"peers\":[]}"
                .to_string(),
        ),
        _ => (404, "404 page not found".to_string()),
    }
}

// ---- running ccperf -------------------------------------------------------------------------

/// A child process killed when dropped (test failure included).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Finished {
    /// The JSON lines of stdout.
    fn heights(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// Runs `ccperf watch <args>` to its end (killed 15 s after `--exit-after` at the latest).
fn watch(args: &[&str]) -> Finished {
    let child = Command::new(BIN)
        .arg("watch")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ccperf watch");
    finish(Running(child), Duration::from_secs(20))
}

fn finish(mut running: Running, limit: Duration) -> Finished {
    let drain = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            let _ = tx.send(text);
        });
        rx
    };
    let empty = || Box::new(std::io::empty()) as Box<dyn Read + Send>;
    let stdout = drain(running.0.stdout.take().map_or_else(empty, |p| Box::new(p)));
    let stderr = drain(running.0.stderr.take().map_or_else(empty, |p| Box::new(p)));
    let deadline = Instant::now() + limit;
    let code = loop {
        match running.0.try_wait() {
            Ok(Some(status)) => break status.code(),
            _ if Instant::now() >= deadline => break None,
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    drop(running);
    Finished {
        code,
        stdout: stdout
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default(),
        stderr: stderr
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default(),
    }
}

fn field_u64(v: &Value, path: &[&str]) -> Option<u64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_u64()
}

const MS100: Duration = Duration::from_millis(100);

// ---- against the fake node ---------------------------------------------------------------

#[test]
fn heights_advance_with_rounds_and_missing_signatures() {
    let mut script = blocks(4, MS100);
    script.extend([
        Action::Block {
            round: 1,
            absent: 0,
        }, // height 6 needed round 1
        Action::Wait(MS100),
        Action::Block {
            round: 0,
            absent: 0,
        },
        Action::Wait(MS100),
        Action::Block {
            round: 0,
            absent: 1,
        }, // height 8's commit misses one signature
        Action::Wait(MS100),
    ]);
    script.extend(blocks(4, MS100));
    let node = FakeNode::start(Duration::from_millis(300), script);
    let run = watch(&[
        "--rpc",
        &node.url(),
        "--json",
        "--poll-interval",
        "50ms",
        "--exit-after",
        "2.2",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("watching fake-node (chain fake-chain, CometBFT 0.38.12)"),
        "{}",
        run.stderr
    );
    let lines = run.heights();
    let heights: Vec<u64> = lines
        .iter()
        .filter_map(|l| field_u64(l, &["height"]))
        .collect();
    assert_eq!(heights, (1..=12).collect::<Vec<_>>(), "{}", run.stdout);
    let at = |h: u64| &lines[h as usize - 1];
    assert_eq!(field_u64(at(6), &["round"]), Some(1));
    let multi: Vec<u64> = lines
        .iter()
        .filter(|l| field_u64(l, &["round"]) > Some(0))
        .filter_map(|l| field_u64(l, &["height"]))
        .collect();
    assert_eq!(multi, vec![6], "exactly one height needed round 1");
    assert_eq!(field_u64(at(9), &["last_commit", "absent"]), Some(1));
    assert_eq!(field_u64(at(9), &["last_commit", "height"]), Some(8));
    assert_eq!(field_u64(at(9), &["last_commit", "total"]), Some(4));
    assert_eq!(field_u64(at(10), &["last_commit", "absent"]), Some(0));
    assert_eq!(field_u64(at(5), &["txs"]), Some(5 % 4 + 1));
    assert_eq!(field_u64(at(5), &["peers"]), Some(3));
    assert_eq!(field_u64(at(5), &["validators"]), Some(4));
    let interval = at(5)["interval_s"].as_f64().unwrap();
    assert!((0.09..0.5).contains(&interval), "interval {interval}");
    assert!(
        at(1)["interval_s"].is_null(),
        "the first height has no interval"
    );
}

#[test]
fn a_stall_of_several_block_times_raises_a_high_round_duration_anomaly_and_an_alert() {
    let mut script = blocks(8, MS100);
    script.push(Action::Wait(Duration::from_millis(600))); // 7 block times without a block
    script.extend(blocks(3, MS100));
    let node = FakeNode::start(Duration::from_millis(300), script);
    let run = watch(&[
        "--rpc",
        &node.url(),
        "--json",
        "--poll-interval",
        "50ms",
        "--exit-after",
        "2.6",
        "--alert-block-interval",
        "300ms",
        "--alert-window",
        "1",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines = run.heights();
    let stalled = lines
        .iter()
        .find(|l| field_u64(l, &["height"]) == Some(10))
        .unwrap_or_else(|| panic!("height 10 in {}", run.stdout));
    let interval = stalled["interval_s"].as_f64().unwrap();
    assert!(interval >= 0.65, "the stalled height's interval {interval}");
    let anomaly = stalled["anomalies"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["kind"] == "high_round_duration"))
        .unwrap_or_else(|| panic!("no high_round_duration at height 10: {stalled}"));
    assert!(
        ["high", "critical"].contains(&anomaly["severity"].as_str().unwrap()),
        "{anomaly}"
    );
    assert!(anomaly["value"].as_f64().unwrap() >= 0.65);
    assert!(
        (0.15..0.4).contains(&anomaly["threshold"].as_f64().unwrap()),
        "{anomaly}"
    );
    let fired = &stalled["alerts_fired"];
    assert_eq!(fired[0]["name"], "round_duration", "{stalled}");
    // Before the stall nothing is even twice the median (a loaded machine may delay a block
    // by a few tens of milliseconds, a low-severity anomaly at most).
    let before: usize = lines
        .iter()
        .filter(|l| field_u64(l, &["height"]) < Some(10))
        .flat_map(|l| l["anomalies"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["severity"] == "high" || a["severity"] == "critical")
        .count();
    assert_eq!(
        before, 0,
        "no high anomaly before the stall: {}",
        run.stdout
    );
    let cleared = lines
        .iter()
        .find(|l| field_u64(l, &["height"]) == Some(11))
        .map(|l| l["alerts_cleared"].clone());
    assert_eq!(cleared, Some(serde_json::json!(["round_duration"])));
}

#[test]
fn heights_needing_a_second_round_bring_the_engine_s_timeout_suggestion() {
    let every = Duration::from_millis(50);
    let script: Vec<Action> = (0..32)
        .flat_map(|i| {
            [
                Action::Block {
                    round: u32::from(i % 4 == 3),
                    absent: 0,
                },
                Action::Wait(every),
            ]
        })
        .collect();
    let node = FakeNode::start(Duration::from_millis(300), script);
    let run = watch(&[
        "--rpc",
        &node.url(),
        "--json",
        "--poll-interval",
        "20ms",
        "--exit-after",
        "2.6",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines = run.heights();
    let suggested = lines
        .iter()
        .find(|l| l["suggestions"].as_array().is_some_and(|s| !s.is_empty()))
        .unwrap_or_else(|| panic!("no suggestion in {}", run.stdout));
    // Suggestions start after 20 judged heights (heights 2..=21), every 10.
    assert_eq!(field_u64(suggested, &["height"]), Some(21), "{suggested}");
    let propose = suggested["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["parameter"] == "timeout_propose")
        .unwrap_or_else(|| panic!("no timeout_propose suggestion: {suggested}"));
    assert_eq!(propose["current_value"], "3s");
    assert_eq!(
        field_u64(suggested, &["trend", "samples"]),
        Some(20),
        "the trend of the judged heights"
    );
    let reason = propose["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("25 % of heights needed more than one round"),
        "{reason}"
    );
}

#[test]
fn the_new_block_subscription_makes_a_slow_poll_prompt() {
    let every = Duration::from_millis(150);
    let node = FakeNode::start_with(true, Duration::from_millis(300), blocks(8, every));
    let run = watch(&[
        "--rpc",
        &node.url(),
        "--json",
        "--poll-interval",
        "10s",
        "--exit-after",
        "2.2",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "subscribed to NewBlock at ws://{}/websocket",
            node.address
        )),
        "{}",
        run.stderr
    );
    // Polling every 10 s alone would have seen height 1 only within 2.2 s.
    let heights: Vec<u64> = run
        .heights()
        .iter()
        .filter_map(|l| field_u64(l, &["height"]))
        .collect();
    assert_eq!(heights, (1..=9).collect::<Vec<_>>(), "{}", run.stderr);
    assert!(
        !run.stderr.contains("between two polls"),
        "each block was fetched as it landed:\n{}",
        run.stderr
    );
}

#[test]
fn a_restart_of_the_node_is_survived() {
    let mut script = blocks(5, MS100);
    script.push(Action::Restart(Duration::from_millis(600)));
    script.extend(blocks(5, MS100));
    let node = FakeNode::start(Duration::from_millis(300), script);
    let url = node.url();
    let run = watch(&[
        "--rpc",
        &url,
        "--json",
        "--poll-interval",
        "50ms",
        "--timeout",
        "500ms",
        "--exit-after",
        "2.6",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("warning: {url}/status: cannot connect")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("answers again (rpc) after"),
        "{}",
        run.stderr
    );
    let heights: Vec<u64> = run
        .heights()
        .iter()
        .filter_map(|l| field_u64(l, &["height"]))
        .collect();
    assert_eq!(
        heights,
        (1..=11).collect::<Vec<_>>(),
        "every height, before and after the restart"
    );
}

#[test]
fn a_node_reset_to_a_fresh_chain_is_followed_from_its_new_height() {
    let mut script = blocks(5, MS100);
    script.push(Action::Reset);
    script.push(Action::Wait(MS100));
    script.extend(blocks(4, MS100));
    let node = FakeNode::start(Duration::from_millis(300), script);
    let run = watch(&[
        "--rpc",
        &node.url(),
        "--json",
        "--poll-interval",
        "50ms",
        "--exit-after",
        "2.2",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the node's latest height went back from 6 to 1"),
        "{}",
        run.stderr
    );
    let lines = run.heights();
    let heights: Vec<u64> = lines
        .iter()
        .filter_map(|l| field_u64(l, &["height"]))
        .collect();
    assert_eq!(heights, [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5], "{}", run.stderr);
    // The first height of the new chain is not judged against the old one.
    assert!(lines[6]["interval_s"].is_null(), "{}", lines[6]);
    assert!(lines[7]["interval_s"].as_f64().is_some());
}

#[test]
fn every_failure_mode_gets_its_message_and_the_watch_goes_on() {
    let pause = Duration::from_millis(300);
    let mut script = blocks(3, MS100);
    for fault in [
        Some(Fault::Malformed),
        Some(Fault::Hang(Duration::from_millis(700))),
        Some(Fault::Oversize(100_000)),
    ] {
        script.push(Action::Fault(fault));
        script.push(Action::Wait(pause));
        script.push(Action::Fault(None));
        script.extend(blocks(2, MS100));
    }
    script.push(Action::CatchingUp(true));
    script.extend(blocks(3, MS100));
    script.push(Action::CatchingUp(false));
    script.extend(blocks(2, MS100));
    script.push(Action::Burst(3)); // three heights between two polls
    script.extend(blocks(2, MS100));
    let node = FakeNode::start(Duration::from_millis(300), script);
    let url = node.url();
    let run = watch(&[
        "--rpc",
        &url,
        "--json",
        "--poll-interval",
        "50ms",
        "--timeout",
        "250ms",
        "--max-response-bytes",
        "65536",
        "--exit-after",
        "5",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let err = &run.stderr;
    assert!(
        err.contains(&format!("warning: {url}/")),
        "messages name the URL:\n{err}"
    );
    for expected in [
        ": malformed response: EOF while parsing".to_string(),
        ": no complete answer within 250ms (--timeout)".to_string(),
        ": the response is larger than the 65536-byte limit".to_string(),
        "the node is catching up (catching_up: true".to_string(),
        "the node has caught up at height".to_string(),
        "were committed between two polls: fetching each".to_string(),
        "answers again (rpc)".to_string(),
    ] {
        assert!(
            err.contains(&expected),
            "{expected:?} not in stderr:\n{err}"
        );
    }
    let lines = run.heights();
    let heights: Vec<u64> = lines
        .iter()
        .filter_map(|l| field_u64(l, &["height"]))
        .collect();
    let last = *heights.last().unwrap();
    assert_eq!(
        last,
        1 + 3 + 3 * 2 + 3 + 2 + 3 + 2,
        "followed to the end: {heights:?}\n{err}"
    );
    let unique: BTreeSet<u64> = heights.iter().copied().collect();
    assert_eq!(unique.len(), heights.len(), "no height twice");
    // The burst's three heights were each fetched.
    for h in last - 4..=last {
        assert!(unique.contains(&h), "height {h} missing: {heights:?}");
    }
}

#[test]
fn a_node_unreachable_at_start_exits_2_naming_the_url() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let run = watch(&["--rpc", &url, "--exit-after", "5"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains(&format!(
            "error: cannot follow the node: {url}/status: cannot connect"
        )),
        "{}",
        run.stderr
    );
    let run = watch(&["--exit-after", "1"]);
    assert_eq!(run.code, Some(2), "neither --rpc nor --metrics");
    let run = watch(&["--rpc", "https://node.example:443", "--exit-after", "1"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("https is not supported"),
        "{}",
        run.stderr
    );
}

// ---- against ccperf serve, and the dashboard ------------------------------------------------

/// Starts `ccperf <args>` and returns it with the address it printed first on stderr.
fn listening(args: &[&str]) -> (Running, SocketAddr, mpsc::Receiver<String>) {
    let child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut running = Running(child);
    let stderr = running.0.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("an address on stderr");
    let address = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("not an address: {line:?}"))
        .parse()
        .unwrap();
    let (tx, stdout_rx) = mpsc::channel();
    let mut stdout = running.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    (running, address, stdout_rx)
}

fn get_metrics(address: SocketAddr) -> String {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{head}"
    );
    body.to_string()
}

/// Every sample name in an exposition (`_bucket`, `_sum`, `_count`, `_total` included).
fn exported_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_string)
        .collect()
}

/// The `cometbft_*` and `ccperf_*` metric names a PromQL expression reads.
fn queried_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        let word = &tail[..end];
        let preceded_by_word = rest[..start].ends_with(|c: char| c.is_ascii_alphanumeric());
        if !preceded_by_word && (word.starts_with("cometbft_") || word.starts_with("ccperf_")) {
            names.push(word.to_string());
        }
        rest = &tail[end..];
    }
    names
}

fn dashboard_exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr", Value::String(expr)) => out.push(expr.clone()),
                    _ => dashboard_exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| dashboard_exprs(v, out)),
        _ => {}
    }
}

#[test]
fn watch_follows_ccperf_serve_and_the_dashboard_and_rules_query_only_exported_metrics() {
    let (_serve, serve_address, _) = listening(&[
        "serve",
        "baseline",
        "--speed",
        "20",
        "--listen",
        "127.0.0.1:0",
        "--exit-after",
        "20",
    ]);
    let metrics_url = format!("http://{serve_address}/metrics");
    let (watch, watch_address, watch_stdout) = listening(&[
        "watch",
        "--metrics",
        &metrics_url,
        "--listen",
        "127.0.0.1:0",
        "--json",
        "--poll-interval",
        "50ms",
        "--exit-after",
        "2.5",
    ]);
    std::thread::sleep(Duration::from_millis(1800));
    let watch_text = get_metrics(watch_address);
    let serve_text = get_metrics(serve_address);
    let finished = finish(watch, Duration::from_secs(10));
    assert_eq!(finished.code, Some(0));
    let stdout = watch_stdout.recv_timeout(Duration::from_secs(5)).unwrap();
    let heights: Vec<u64> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|l| field_u64(&l, &["height"]))
        .collect();
    assert!(heights.len() >= 5, "heights advance: {heights:?}");
    assert!(heights.windows(2).all(|w| w[0] < w[1]), "{heights:?}");
    // Every series carries its chain's `chain_id` label.
    assert!(
        watch_text.contains("\nccperf_watch_consensus_height{chain_id="),
        "{watch_text}"
    );
    let watched: u64 = watch_text
        .lines()
        .find_map(|l| l.strip_prefix("ccperf_watch_consensus_height{"))
        .and_then(|l| l.rsplit_once(' '))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap();
    assert!(
        watched >= heights[0],
        "the watch exports the height it follows"
    );

    // The node's step times reach the watch's own step histogram (per height, by step).
    let propose_steps: f64 = watch_text
        .lines()
        .filter(|l| l.starts_with("ccperf_watch_consensus_step_duration_seconds_count{"))
        .filter(|l| l.to_ascii_lowercase().contains("step=\"propose\""))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum();
    assert!(
        propose_steps >= 2.0,
        "propose step times observed: {watch_text}"
    );
    let exported: BTreeSet<String> = exported_names(&serve_text)
        .union(&exported_names(&watch_text))
        .cloned()
        .collect();
    let dashboard: Value = serde_json::from_str(include_str!("../dashboards/ccperf.json"))
        .expect("the dashboard parses");
    let mut exprs = Vec::new();
    dashboard_exprs(&dashboard, &mut exprs);
    assert!(exprs.len() >= 12, "{} queries", exprs.len());
    let rules: serde_norway::Value =
        serde_norway::from_str(include_str!("../dashboards/alerts.yml")).expect("the rules parse");
    let rule_exprs: Vec<String> = rules["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_sequence().unwrap().iter())
        .map(|r| r["expr"].as_str().unwrap().to_string())
        .collect();
    assert!(rule_exprs.len() >= 8, "{} rules", rule_exprs.len());
    for expr in exprs.iter().chain(&rule_exprs) {
        let names = queried_names(expr);
        assert!(
            !names.is_empty(),
            "{expr:?} queries no ccperf or cometbft metric"
        );
        for name in names {
            assert!(
                exported.contains(&name),
                "{name} (in {expr:?}) is exported by neither serve nor watch"
            );
        }
    }
}

#[test]
fn promtool_accepts_the_alert_rules() {
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/dashboards/alerts.yml");
    match Command::new("promtool")
        .args(["check", "rules", rules])
        .output()
    {
        Ok(output) => assert!(
            output.status.success(),
            "promtool check rules:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(e) => eprintln!("skipped: promtool is not installed ({e}); apt-get install prometheus"),
    }
}

// ---- settings (ccperf.toml) ----------------------------------------------------------------

/// A settings file with `toml` in a fresh directory; its path.
fn settings_file(name: &str, toml: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ccperf-watch-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml).expect("settings file");
    path.display().to_string()
}

/// 32 heights 50 ms apart, every fourth needing a second round (the suggestion script).
fn second_rounds() -> Vec<Action> {
    (0..32)
        .flat_map(|i| {
            [
                Action::Block {
                    round: u32::from(i % 4 == 3),
                    absent: 0,
                },
                Action::Wait(Duration::from_millis(50)),
            ]
        })
        .collect()
}

/// The watch of `second_rounds` with `--config config`: its first height with suggestions.
fn first_suggestion(config: &str) -> (Finished, Option<Value>) {
    let node = FakeNode::start(Duration::from_millis(300), second_rounds());
    let run = watch(&[
        "--rpc",
        &node.url(),
        "--json",
        "--poll-interval",
        "20ms",
        "--exit-after",
        "2.6",
        "--config",
        config,
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let first = run
        .heights()
        .into_iter()
        .find(|l| l["suggestions"].as_array().is_some_and(|s| !s.is_empty()));
    (run, first)
}

fn propose_suggestion(line: &Value) -> String {
    line["suggestions"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["parameter"] == "timeout_propose"))
        .and_then(|s| s["suggested_value"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn window_size_bounds_the_monitor_and_aggressiveness_sizes_the_suggestions() {
    let small = settings_file(
        "small-window",
        "[performance]\nwindow_size = 5\n[optimization]\naggressiveness = 1.0\n",
    );
    let cautious = settings_file("cautious", "[optimization]\naggressiveness = 0.1\n");
    let (run, bold) = first_suggestion(&small);
    let bold = bold.unwrap_or_else(|| panic!("no suggestion in {}", run.stdout));
    assert_eq!(field_u64(&bold, &["height"]), Some(21));
    // The monitor keeps 5 heights, so the trend is fitted to 5 (20 with the default 1000).
    assert_eq!(field_u64(&bold, &["trend", "samples"]), Some(5), "{bold}");
    let (run, cautious) = first_suggestion(&cautious);
    let cautious = cautious.unwrap_or_else(|| panic!("no suggestion in {}", run.stdout));
    assert_eq!(field_u64(&cautious, &["trend", "samples"]), Some(20));
    let (bold, cautious) = (propose_suggestion(&bold), propose_suggestion(&cautious));
    assert!(!bold.is_empty() && !cautious.is_empty());
    assert_ne!(
        bold, cautious,
        "aggressiveness 1.0 and 0.1 suggest the same step"
    );
}

#[test]
fn auto_tune_off_means_no_suggestions() {
    let off = settings_file("no-tune", "[optimization]\nauto_tune = false\n");
    let (run, first) = first_suggestion(&off);
    assert!(first.is_none(), "{}", run.stdout);
    // The trend still comes every 10 heights after 20.
    assert!(
        run.heights()
            .iter()
            .any(|l| field_u64(l, &["trend", "samples"]) == Some(20)),
        "{}",
        run.stdout
    );
}

#[test]
fn alerts_enabled_off_means_no_alerts_but_the_anomaly_stays() {
    let off = settings_file("no-alerts", "[performance]\nalerts_enabled = false\n");
    let mut script = blocks(8, MS100);
    script.push(Action::Wait(Duration::from_millis(600)));
    script.extend(blocks(3, MS100));
    let node = FakeNode::start(Duration::from_millis(300), script);
    let run = watch(&[
        "--rpc",
        &node.url(),
        "--json",
        "--poll-interval",
        "50ms",
        "--exit-after",
        "2.6",
        "--alert-block-interval",
        "300ms",
        "--alert-window",
        "1",
        "--config",
        &off,
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines = run.heights();
    let stalled = lines
        .iter()
        .find(|l| field_u64(l, &["height"]) == Some(10))
        .unwrap_or_else(|| panic!("height 10 in {}", run.stdout));
    assert!(
        stalled["anomalies"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["kind"] == "high_round_duration")),
        "{stalled}"
    );
    let alerts: usize = lines
        .iter()
        .map(|l| l["alerts_fired"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(alerts, 0, "{}", run.stdout);
}
