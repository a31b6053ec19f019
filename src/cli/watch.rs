//! `ccperf watch`: the performance monitor on a running CometBFT node.
//!
//! Parses the flags, binds `--listen`, connects (a node that cannot be reached exits 2 with
//! the URL and the error), then prints a line per height: a live view on a terminal, plain
//! lines otherwise, one JSON object per height with `--json`. Problems go to stderr and the
//! watch goes on.

use super::EXIT_BAD_INPUT;
use crate::config::settings::Settings;
use crate::export::http;
use crate::export::prometheus::OPENMETRICS_CONTENT_TYPE;
use crate::live::http::check_url;
use crate::live::watch::lock;
use crate::live::{Event, HeightReport, WatchConfig, WatchExposition, Watcher};
use crate::monitor::AnomalySeverity;
use std::cell::Cell;
use std::fmt::Write as _;
use std::io::ErrorKind;
use std::io::{IsTerminal, Write as _};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Arguments of `ccperf watch`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).multiple(true).args(["rpc", "metrics"])))]
pub struct WatchArgs {
    /// The node's RPC, e.g. http://127.0.0.1:26657 (heights, rounds, signatures, peers).
    #[arg(long, value_name = "URL")]
    pub rpc: Option<String>,
    /// The node's Prometheus endpoint, e.g. http://127.0.0.1:26660/metrics (step times,
    /// mempool, peers, traffic; heights too when there is no --rpc).
    #[arg(long, value_name = "URL")]
    pub metrics: Option<String>,
    /// Serve the watch's own metrics for Prometheus at ADDR (`/metrics`; port 0 picks one and
    /// the first line on stderr says which).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Stop after this many seconds (default: watch until interrupted).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub exit_after: Option<f64>,
    /// One JSON object per height on stdout.
    #[arg(long)]
    pub json: bool,
    /// Time between polls of the node (default: `performance.sampling_interval` from the
    /// settings, 1s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub poll_interval: Option<Duration>,
    /// Longest wait for one response.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Largest response read, in bytes (a full 21 MB block is about 29 MB of JSON).
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_response_bytes: u64,
    /// Alert while the mean block interval over the alert window is above this.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub alert_block_interval: Duration,
    /// Alert while throughput over the alert window is below this many tx/s.
    #[arg(long, value_name = "TPS", value_parser = parse_rate)]
    pub alert_throughput: Option<f64>,
    /// Heights the alerts average over.
    #[arg(long, value_name = "HEIGHTS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub alert_window: u64,
    /// Do not subscribe to NewBlock on the RPC's WebSocket (ws://HOST/websocket); poll only.
    #[arg(long)]
    pub no_websocket: bool,
    /// Settings file (default: ./ccperf.toml when there is one): `performance.window_size`,
    /// `sampling_interval` and `alerts_enabled`, `optimization.auto_tune` and `aggressiveness`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
}

/// Run `ccperf watch`; returns the exit code: 0 when `--exit-after` ends it, 2 on bad input
/// or a node that cannot be reached at start.
pub fn watch(args: &WatchArgs) -> i32 {
    watch_with_settings(args, &Settings::default())
}

/// [`watch`] with these settings (see [`WatchArgs::config`]).
pub fn watch_with_settings(args: &WatchArgs, settings: &Settings) -> i32 {
    let urls = (|| {
        let rpc = args
            .rpc
            .as_deref()
            .map(|u| check_url("--rpc", u))
            .transpose()?;
        let metrics = args
            .metrics
            .as_deref()
            .map(|u| check_url("--metrics", u))
            .transpose()?;
        Ok::<_, String>((rpc, metrics))
    })();
    let (rpc, metrics) = match urls {
        Ok(urls) => urls,
        Err(e) => return super::bad_input(&e),
    };
    if args.max_response_bytes < 1024 {
        return super::bad_input(&format!(
            "--max-response-bytes {}: must be at least 1024",
            args.max_response_bytes
        ));
    }
    let config = watch_config(args, settings, rpc, metrics);
    let started = Instant::now();
    let exposition = Arc::new(Mutex::new(WatchExposition::new()));
    if let Some(listen) = &args.listen {
        let server = match http::Server::bind(listen, http::Limits::default()) {
            Ok(server) => server,
            Err(e) => {
                note(&format!("error: cannot listen on {listen}: {e}"));
                return EXIT_BAD_INPUT;
            }
        };
        let address = server
            .local_addr()
            .map_or_else(|_| listen.clone(), |a| a.to_string());
        note(&format!("listening on http://{address}/metrics"));
        let served = Arc::clone(&exposition);
        let handler: Arc<http::Handler> = Arc::new(move |request| answer(request, &served));
        std::thread::spawn(move || server.run(&handler));
    }
    let (mut watcher, about) = match Watcher::connect(config, Arc::clone(&exposition)) {
        Ok(connected) => connected,
        Err(e) => {
            note(&format!("error: cannot follow the node: {e}"));
            return EXIT_BAD_INPUT;
        }
    };
    note(&format!("watching {about}"));
    let deadline = args
        .exit_after
        .and_then(|s| started.checked_add(Duration::from_secs_f64(s)));
    let exit = Rc::new(Cell::new(None));
    let mut view = View::new(args.json, std::io::stdout().is_terminal(), Rc::clone(&exit));
    watcher.run(deadline, &|| exit.get().is_some(), &mut |event| {
        view.show(event)
    });
    view.finish();
    exit.get().unwrap_or(0)
}

/// The watch's configuration from its flags, with the settings' defaults where a flag was not
/// given.
fn watch_config(
    args: &WatchArgs,
    settings: &Settings,
    rpc: Option<String>,
    metrics: Option<String>,
) -> WatchConfig {
    WatchConfig {
        rpc,
        metrics,
        poll_interval: args
            .poll_interval
            .unwrap_or(settings.performance.sampling_interval),
        timeout: args.timeout,
        max_response_bytes: args.max_response_bytes,
        alert_block_interval: args.alert_block_interval,
        alert_throughput: args.alert_throughput,
        alert_window: usize::try_from(args.alert_window).unwrap_or(5),
        websocket: !args.no_websocket,
        window_size: settings.performance.window_size,
        alerts: settings.performance.alerts_enabled,
        suggestions: settings.optimization.auto_tune,
        aggressiveness: settings.optimization.aggressiveness,
    }
}

/// Renders events: a line per height (JSON with `--json`), notes on stderr, and on a
/// terminal a status line that is rewritten while waiting.
struct View {
    json: bool,
    terminal: bool,
    /// A status line is on screen (terminal only).
    status_shown: bool,
    status_at: Option<Instant>,
    /// Set when stdout fails: 0 when its reader went away, 2 for any other failure.
    exit: Rc<Cell<Option<i32>>>,
}

impl View {
    fn new(json: bool, terminal: bool, exit: Rc<Cell<Option<i32>>>) -> Self {
        View {
            json,
            terminal: terminal && !json,
            status_shown: false,
            status_at: None,
            exit,
        }
    }

    fn show(&mut self, event: Event<'_>) {
        match event {
            Event::Height(report) => {
                let text = if self.json {
                    match serde_json::to_string(report) {
                        Ok(line) => format!("{line}\n"),
                        Err(e) => {
                            note(&format!("warning: height {}: {e}", report.height));
                            return;
                        }
                    }
                } else {
                    render(report, self.terminal)
                };
                self.print(&text);
            }
            Event::Note(message) => {
                self.clear_status();
                note(&message);
            }
            Event::Waiting {
                next_height,
                since_last,
            } => {
                if !self.terminal
                    || self
                        .status_at
                        .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
                {
                    return;
                }
                self.status_at = Some(Instant::now());
                let mut out = std::io::stdout();
                let _ = write!(
                    out,
                    "\r\x1b[2K  waiting for height {next_height}: {:.1} s since the last one",
                    since_last.as_secs_f64()
                );
                let _ = out.flush();
                self.status_shown = true;
            }
        }
    }

    /// Prints a height; a reader that went away (`| head`) ends the watch quietly, any
    /// other failure (`> /dev/full`) with a message and exit code 2.
    fn print(&mut self, text: &str) {
        self.clear_status();
        let mut out = std::io::stdout();
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            if e.kind() == ErrorKind::BrokenPipe {
                self.exit.set(Some(0));
            } else {
                note(&format!("error: cannot write to standard output: {e}"));
                self.exit.set(Some(EXIT_BAD_INPUT));
            }
        }
    }

    fn clear_status(&mut self) {
        if self.status_shown {
            let _ = write!(std::io::stdout(), "\r\x1b[2K");
            self.status_shown = false;
        }
    }

    fn finish(&mut self) {
        self.clear_status();
        let _ = std::io::stdout().flush();
    }
}

/// The line (and the lines under it) for one height.
pub fn render(report: &HeightReport, terminal: bool) -> String {
    let mut s = String::new();
    let _ = write!(s, "height {:>8}", report.height);
    if report.heights > 1 {
        let _ = write!(s, " (+{})", report.heights - 1);
    }
    if let Some(time) = &report.time {
        // HH:MM:SS.mmm of the header time.
        let clock = time.get(11..23).unwrap_or(time);
        let _ = write!(s, "  {clock}");
    }
    match report.interval_s {
        Some(interval) => {
            let _ = write!(s, "  +{interval:.3}s");
        }
        None => s.push_str("  +   ?  "),
    }
    if let Some(round) = report.round {
        let mark = if round > 0 && terminal { "!" } else { "" };
        let _ = write!(s, "  round {round}{mark}");
    }
    if let Some(txs) = report.txs {
        let _ = write!(s, "  txs {txs:>4}");
    }
    if let Some(c) = report.last_commit {
        let _ = write!(s, "  absent {}/{}", c.absent, c.total);
        if c.nil > 0 {
            let _ = write!(s, " nil {}", c.nil);
        }
    }
    if let Some(proposer) = &report.proposer {
        let short: String = proposer.chars().take(8).collect();
        let _ = write!(s, "  proposer {short}");
    }
    if let Some(peers) = report.peers {
        let _ = write!(s, "  peers {peers}");
    }
    if let Some(mempool) = report.mempool_size {
        let _ = write!(s, "  mempool {mempool}");
    }
    if let Some(tps) = report.throughput_tps {
        let _ = write!(s, "  {tps:.1} tx/s");
    }
    s.push('\n');
    for anomaly in &report.anomalies {
        let _ = writeln!(
            s,
            "  anomaly {} ({}): {}",
            anomaly.kind, anomaly.severity, anomaly.description
        );
    }
    for alert in &report.alerts_fired {
        let tag = if terminal && alert.severity >= AnomalySeverity::High {
            "\x1b[1mALERT\x1b[0m"
        } else {
            "ALERT"
        };
        let _ = writeln!(s, "  {tag} {}", alert.message);
    }
    for name in &report.alerts_cleared {
        let _ = writeln!(s, "  alert cleared: {name}");
    }
    if let Some(trend) = &report.trend {
        let _ = writeln!(
            s,
            "  trend over the last {} heights: block interval {:+.4} s per minute, throughput {:+.2} tx/s per minute",
            trend.samples,
            trend.round_duration_slope * 60.0,
            trend.throughput_slope * 60.0
        );
    }
    for suggestion in &report.suggestions {
        let _ = writeln!(
            s,
            "  suggest {} {} -> {} ({}, priority {:.2}, confidence {:.2}): {}",
            suggestion.parameter,
            suggestion.current_value,
            suggestion.suggested_value,
            suggestion.strategy,
            suggestion.priority,
            suggestion.confidence,
            suggestion.reason
        );
    }
    s
}

/// Answers one HTTP request for the watch's metrics.
fn answer(request: &http::Request, exposition: &Mutex<WatchExposition>) -> http::Response {
    match request.path.as_str() {
        "/metrics" => http::Response {
            status: 200,
            content_type: OPENMETRICS_CONTENT_TYPE,
            body: lock(exposition).encode(),
        },
        "/" => http::Response::text(200, "ccperf watch\n\nGET /metrics  OpenMetrics text\n"),
        _ => http::Response::text(404, "not found: the metrics are at /metrics\n"),
    }
}

/// Writes a line to stderr; a closed stderr must not stop the watch (`eprintln!` panics).
fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A duration flag: `500ms`, `2s`, `1m`; positive.
fn parse_duration(text: &str) -> Result<Duration, String> {
    match crate::config::duration::parse(text) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(format!("`{text}`: must be longer than zero")),
        Err(e) => Err(e),
    }
}

/// `--exit-after`: non-negative seconds, at most a year.
fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (0.0..=366.0 * 86_400.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 0 to 31622400"
        )),
    }
}

/// `--alert-throughput`: a positive, finite rate.
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("`{text}` is not a positive number of tx/s")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_interval_defaults_to_the_sampling_interval() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            watch: WatchArgs,
        }
        let parse = |extra: &[&str]| {
            let mut args = vec!["watch", "--rpc", "http://127.0.0.1:26657"];
            args.extend(extra);
            Cli::try_parse_from(args).map(|c| c.watch).unwrap()
        };
        let mut settings = Settings::default();
        settings.performance.sampling_interval = Duration::from_millis(250);
        settings.performance.window_size = 42;
        let config = watch_config(&parse(&[]), &settings, None, None);
        assert_eq!(config.poll_interval, Duration::from_millis(250));
        assert_eq!(config.window_size, 42);
        let config = watch_config(&parse(&["--poll-interval", "2s"]), &settings, None, None);
        assert_eq!(config.poll_interval, Duration::from_secs(2));
        let config = watch_config(&parse(&[]), &Settings::default(), None, None);
        assert_eq!(config.poll_interval, Duration::from_secs(1));
    }
    use crate::live::watch::Signatures;

    #[test]
    fn a_height_line_says_what_the_block_showed() {
        let report = HeightReport {
            height: 1042,
            heights: 1,
            time: Some("2024-06-11T14:07:57.125195170Z".into()),
            interval_s: Some(1.0034),
            round: Some(1),
            txs: Some(3),
            proposer: Some("3A4F5B6C7D8E".into()),
            last_commit: Some(Signatures {
                height: 1041,
                signed: 2,
                nil: 1,
                absent: 1,
                total: 4,
            }),
            peers: Some(7),
            throughput_tps: Some(2.5),
            ..HeightReport::default()
        };
        assert_eq!(
            render(&report, false),
            "height     1042  14:07:57.125  +1.003s  round 1  txs    3  absent 1/4 nil 1  \
             proposer 3A4F5B6C  peers 7  2.5 tx/s\n"
        );
    }

    #[test]
    fn durations_must_be_positive() {
        assert_eq!(parse_duration("50ms"), Ok(Duration::from_millis(50)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_rate("0").is_err());
    }
}
