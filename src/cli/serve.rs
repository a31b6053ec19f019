//! `ccperf serve`: a simulation paced against the wall clock, its metrics served over HTTP
//! for Prometheus to scrape, as a CometBFT node serves its own.
//!
//! Two threads: one steps the simulation whenever the wall clock (scaled by `--speed`) has
//! reached the next event's virtual time and records each newly committed height in a shared
//! exporter; the other answers `GET /metrics` by encoding that exporter. The simulation itself
//! never reads the wall clock: pacing only decides when to call [`Simulation::step`], so a
//! served run commits exactly the heights `ccperf run` reports for the same seed.

use super::{EXIT_BAD_INPUT, bad_input, load};
use crate::config::Scenario;
use crate::config::settings::Settings;
use crate::export::PrometheusExporter;
use crate::export::http;
use crate::monitor::Anomaly;
use crate::report::HeightRecord;
use crate::sim::{SimTime, Simulation};
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The content type of the classic Prometheus text format served on `/metrics`.
pub const TEXT_FORMAT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Longest the pacing thread sleeps at once, so a changed speed of events shows promptly.
const MAX_SLEEP: Duration = Duration::from_millis(50);

/// Arguments of `ccperf serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Scenario file (YAML) or built-in name (see `ccperf scenarios`).
    pub scenario: String,
    /// Address to serve on; port 0 picks a free port (the bound address is printed first on
    /// stderr). CometBFT serves its metrics on port 26660.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:26660")]
    pub listen: String,
    /// Virtual seconds per wall-clock second (1 = real time; from 0.001 to 1000000).
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Master seed (default: the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// When the run reaches its end, start it again with the next seed (default: keep
    /// serving the final metrics).
    #[arg(long = "loop")]
    pub repeat: bool,
    /// Stop after this many wall-clock seconds (for scripts and tests; default: run until
    /// interrupted).
    #[arg(long, value_name = "SECONDS", value_parser = parse_exit_after)]
    pub exit_after: Option<f64>,
    /// Connections served at once (more are answered 503 and closed), 1 to 4096.
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub max_connections: u16,
    /// Seconds a keep-alive connection may wait for its next request before it is closed
    /// (0.1 to 3600).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_keep_alive)]
    pub keep_alive: f64,
    /// The `chain_id` label of the metrics (default: the scenario's name).
    #[arg(long, value_name = "ID")]
    pub chain_id: Option<String>,
    /// Settings file (default: ./ccperf.toml when there is one): `performance.alerts_enabled`
    /// false serves no firing alerts; `performance.window_size` is the number of latest heights
    /// `ccperf_throughput_tps` covers.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
}

impl ServeArgs {
    /// The HTTP server's bounds from the flags.
    fn limits(&self) -> http::Limits {
        http::Limits {
            max_connections: usize::from(self.max_connections),
            idle_timeout: Duration::from_secs_f64(self.keep_alive),
        }
    }
}

/// Run `ccperf serve` until interrupted (or `--exit-after`); returns the exit code: 0 when
/// `--exit-after` ends it, 2 on bad input (scenario, address).
pub fn serve(args: &ServeArgs) -> i32 {
    serve_with_settings(args, &Settings::default())
}

/// [`serve`] with these settings: `performance.alerts_enabled` false leaves the alert
/// metrics empty; `performance.window_size` heights (the latest) make the served throughput.
pub fn serve_with_settings(args: &ServeArgs, settings: &Settings) -> i32 {
    let scenario = match load(&args.scenario) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    let seed = args.seed.unwrap_or(scenario.seed);
    let first = match Simulation::new(&scenario, seed) {
        Ok(simulation) => simulation,
        Err(e) => return bad_input(&e),
    };
    let server = match http::Server::bind(&args.listen, args.limits()) {
        Ok(server) => server,
        Err(e) => {
            note(&format!("error: cannot listen on {}: {e}", args.listen));
            return EXIT_BAD_INPUT;
        }
    };
    let address = server
        .local_addr()
        .map_or_else(|_| args.listen.clone(), |a| a.to_string());
    note(&format!("listening on http://{address}/metrics"));
    note(&format!(
        "serving {} (seed {seed}) at {} x real time{}",
        scenario.name,
        args.speed,
        if args.repeat { ", looping" } else { "" }
    ));
    let chain_id = args
        .chain_id
        .clone()
        .unwrap_or_else(|| scenario.name.clone());
    let live = Arc::new(Mutex::new(Live::new(&first, seed, &chain_id)));
    let pacing = Pacing {
        scenario,
        chain_id,
        speed: args.speed,
        repeat: args.repeat,
        alerts: settings.performance.alerts_enabled,
        window: settings.performance.window_size,
        live: Arc::clone(&live),
    };
    std::thread::spawn(move || pacing.run(first, seed));
    let about = format!("{} at {} x real time", args.scenario, args.speed);
    let handler: Arc<http::Handler> = Arc::new(move |request| answer(request, &live, &about));
    match args.exit_after {
        None => {
            server.run(&handler);
            0
        }
        Some(seconds) => {
            std::thread::spawn(move || server.run(&handler));
            std::thread::sleep(Duration::from_secs_f64(seconds));
            0
        }
    }
}

/// What the HTTP thread serves: the current run's metrics and how far it is.
struct Live {
    exporter: PrometheusExporter,
    seed: u64,
    virtual_s: f64,
    heights: usize,
    finished: bool,
}

impl Live {
    /// Fresh metrics for a run about to start.
    fn new(simulation: &Simulation, seed: u64, chain_id: &str) -> Self {
        let exporter = PrometheusExporter::new(chain_id);
        let report = simulation.report();
        exporter.set_validators(simulation.voting_powers(), &report.byzantine);
        exporter.set_peers(simulation.peers(report.observer));
        Live {
            exporter,
            seed,
            virtual_s: 0.0,
            heights: 0,
            finished: false,
        }
    }
}

/// The simulation thread: runs, paced, and publishes into `live`.
struct Pacing {
    scenario: Scenario,
    chain_id: String,
    speed: f64,
    repeat: bool,
    /// Publish the monitor's firing alerts (`performance.alerts_enabled`).
    alerts: bool,
    /// Heights the served throughput covers, the latest (`performance.window_size`).
    window: usize,
    live: Arc<Mutex<Live>>,
}

impl Pacing {
    /// Run `simulation` (master seed `seed`) paced, then the next seeds when looping.
    fn run(self, mut simulation: Simulation, mut seed: u64) {
        loop {
            self.run_one(&mut simulation);
            lock(&self.live).finished = true;
            if !self.repeat {
                return;
            }
            seed = seed.wrapping_add(1);
            simulation = match Simulation::new(&self.scenario, seed) {
                Ok(next) => next,
                Err(e) => {
                    note(&format!("error: seed {seed}: {e}"));
                    return;
                }
            };
            *lock(&self.live) = Live::new(&simulation, seed, &self.chain_id);
        }
    }

    /// Step events as their virtual time comes due on the scaled wall clock.
    fn run_one(&self, simulation: &mut Simulation) {
        let started = Instant::now();
        let mut published = 0;
        simulation.start();
        while let Some(next) = simulation.next_event_time() {
            let wait = self.due(next).saturating_sub(started.elapsed());
            if !wait.is_zero() {
                lock(&self.live).virtual_s = simulation.now().as_secs_f64();
                std::thread::sleep(wait.min(MAX_SLEEP));
                continue;
            }
            if !simulation.step() {
                break;
            }
            if simulation.committed().len() > published {
                let live = &mut lock(&self.live);
                publish(simulation, published, self.alerts, self.window, live);
                published = simulation.committed().len();
            }
        }
        lock(&self.live).virtual_s = simulation.now().as_secs_f64();
    }

    /// Wall time since the start at which virtual time `t` is due.
    fn due(&self, t: SimTime) -> Duration {
        Duration::try_from_secs_f64(t.as_secs_f64() / self.speed).unwrap_or(Duration::MAX)
    }
}

/// Record the heights committed since the first `published` ones, with what the monitor
/// found at them (and the firing alerts when `alerts`); the throughput is that of the latest
/// `window` heights.
fn publish(
    simulation: &Simulation,
    published: usize,
    alerts: bool,
    window: usize,
    live: &mut Live,
) {
    let records = simulation.committed();
    let new = records.get(published..).unwrap_or_default();
    let Some(first_new) = new.first().map(|r| r.height) else {
        return;
    };
    let exporter = &live.exporter;
    let mut previous_commit_s = published
        .checked_sub(1)
        .and_then(|i| records.get(i))
        .map_or(0.0, |r| r.commit_time_s);
    for record in new {
        exporter.observe_height(record, previous_commit_s);
        previous_commit_s = record.commit_time_s;
    }
    let anomalies: Vec<Anomaly> = simulation
        .monitor()
        .anomaly_history()
        .filter(|a| a.round >= first_new)
        .cloned()
        .collect();
    exporter.record_anomalies(&anomalies);
    if alerts {
        exporter.set_alerts(simulation.firing_alerts());
    }
    if let Some(tps) = throughput_of_latest(records, window) {
        exporter.set_throughput(tps);
    }
    if let Some(latest) = simulation.monitor().latest() {
        exporter.set_latency(latest.latency_percentiles);
    }
    let (count, sum_s) = simulation.latency_totals();
    exporter.set_latency_totals(count, sum_s);
    live.virtual_s = simulation.now().as_secs_f64();
    live.heights = records.len();
}

/// Transactions per second of the latest `window` committed heights: their transactions over
/// the time from the commit before them (the run's start when they are all the heights) to the
/// last commit; `None` before a height has committed after time zero.
fn throughput_of_latest(records: &[HeightRecord], window: usize) -> Option<f64> {
    let first = records.len().saturating_sub(window.max(1));
    let since_s = first
        .checked_sub(1)
        .and_then(|i| records.get(i))
        .map_or(0.0, |r| r.commit_time_s);
    let span_s = records.last()?.commit_time_s - since_s;
    let txs: u64 = records
        .get(first..)
        .unwrap_or_default()
        .iter()
        .map(|r| u64::from(r.txs))
        .sum();
    (span_s > 0.0).then(|| txs as f64 / span_s)
}

/// Answer one HTTP request: `/metrics`, `/`, or 404.
fn answer(request: &http::Request, live: &Mutex<Live>, about: &str) -> http::Response {
    match request.path.as_str() {
        "/metrics" => http::Response {
            status: 200,
            content_type: TEXT_FORMAT_CONTENT_TYPE,
            body: lock(live).exporter.encode_text_format(),
        },
        "/" => http::Response::text(200, index(&lock(live), about)),
        _ => http::Response::text(404, "not found: the metrics are at /metrics\n"),
    }
}

/// The plain-text page at `/`.
fn index(live: &Live, about: &str) -> String {
    let mut page = String::new();
    let _ = writeln!(page, "ccperf serve: {about}");
    let _ = writeln!(
        page,
        "seed {}, virtual time {:.1} s, {} heights committed{}",
        live.seed,
        live.virtual_s,
        live.heights,
        if live.finished { " (run finished)" } else { "" }
    );
    let _ = writeln!(page, "\nGET /metrics  Prometheus text format (0.0.4)");
    page
}

/// Writes a line to stderr; a closed stderr must not stop the server (`eprintln!` panics).
fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The lock, even if a thread panicked while holding it (the metrics stay usable).
fn lock(live: &Mutex<Live>) -> MutexGuard<'_, Live> {
    live.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Slowest and fastest `--speed`: a thousandth of real time, a million times real time (a
/// minute of virtual time in 60 µs: faster is `ccperf run`).
const SPEEDS: std::ops::RangeInclusive<f64> = 0.001..=1_000_000.0;

/// `--speed`: a number in [`SPEEDS`].
fn parse_speed(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if SPEEDS.contains(&x) => Ok(x),
        _ => Err(format!(
            "`{text}` is not a speed: use a number of virtual seconds per wall-clock second \
             from {} to {}, like 1 or 50",
            SPEEDS.start(),
            SPEEDS.end()
        )),
    }
}

/// `--exit-after`: a non-negative, finite number of seconds (at most a year).
fn parse_exit_after(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (0.0..=366.0 * 86_400.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 0 to 31622400"
        )),
    }
}

/// `--keep-alive`: 0.1 to 3600 seconds.
fn parse_keep_alive(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if (0.1..=3600.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 0.1 to 3600"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_must_be_positive_and_finite() {
        assert_eq!(parse_speed("50"), Ok(50.0));
        assert_eq!(parse_speed("0.5"), Ok(0.5));
        assert_eq!(parse_speed("1000000"), Ok(1e6));
        for bad in [
            "0", "-1", "inf", "NaN", "fast", "", "1e308", "1000001", "0.0001",
        ] {
            assert!(parse_speed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exit_after_takes_seconds() {
        assert_eq!(parse_exit_after("2.5"), Ok(2.5));
        assert_eq!(parse_exit_after("0"), Ok(0.0));
        assert!(parse_exit_after("-1").is_err());
        assert!(parse_exit_after("1e30").is_err());
    }

    #[test]
    fn a_paced_run_publishes_the_same_heights_as_an_unpaced_one() -> Result<(), String> {
        let scenario = load("baseline").map_err(|e| e.to_string())?;
        let simulation = Simulation::new(&scenario, 3).map_err(|e| e.to_string())?;
        let live = Arc::new(Mutex::new(Live::new(&simulation, 3, "baseline")));
        let pacing = Pacing {
            scenario: scenario.clone(),
            chain_id: "baseline".to_string(),
            speed: 1e6,
            repeat: false,
            alerts: true,
            window: 1000,
            live: Arc::clone(&live),
        };
        pacing.run(simulation, 3);
        let report = crate::sim::run(&scenario, 3).map_err(|e| e.to_string())?;
        let live = lock(&live);
        assert!(live.finished);
        assert_eq!(live.heights as u64, report.heights_committed);
        let text = live.exporter.encode_text_format();
        let chain = "chain_id=\"baseline\"";
        let height = format!(
            "\ncometbft_consensus_latest_block_height{{{chain}}} {}\n",
            report.heights_committed
        );
        assert!(text.contains(&height), "{text}");
        let total: u64 = report.heights.iter().map(|h| u64::from(h.txs)).sum();
        let total_txs = format!("\ncometbft_consensus_total_txs{{{chain}}} {total}\n");
        assert!(text.contains(&total_txs));
        Ok(())
    }

    fn height(commit_time_s: f64, txs: u32) -> HeightRecord {
        HeightRecord {
            commit_time_s,
            txs,
            ..HeightRecord::default()
        }
    }

    #[test]
    fn the_served_throughput_covers_the_latest_window_of_heights() {
        // Commits at 1, 2, 4 and 5 s with 10, 20, 30 and 40 transactions.
        let records = [
            height(1.0, 10),
            height(2.0, 20),
            height(4.0, 30),
            height(5.0, 40),
        ];
        assert_eq!(throughput_of_latest(&records, 1), Some(40.0)); // 40 tx from 4 s to 5 s
        assert_eq!(throughput_of_latest(&records, 2), Some(70.0 / 3.0)); // 2 s to 5 s
        assert_eq!(throughput_of_latest(&records, 4), Some(20.0)); // 100 tx since the start
        assert_eq!(throughput_of_latest(&records, 1000), Some(20.0));
        assert_eq!(throughput_of_latest(&records, 0), Some(40.0)); // at least one height
        assert_eq!(throughput_of_latest(&[], 5), None);
        assert_eq!(throughput_of_latest(&[height(0.0, 3)], 5), None);
    }
}
