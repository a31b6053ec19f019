//! `ccperf report`: the HTML page and its SVG plots, for a run report and for sweep results,
//! and the errors for bad input (through the binary).

use consensus_performance::check::Violation;
use consensus_performance::export::html::{self, SweepRecord};
use consensus_performance::report::{
    HeightRecord, Quantiles, Resources, Rounds, RunReport, Safety, Summary,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A run of `heights` heights, one per second; every fifth height needed a second round.
fn run_report(heights: u64) -> RunReport {
    let records: Vec<HeightRecord> = (1..=heights)
        .map(|h| {
            let round = u32::from(h % 5 == 0) + u32::from(h == 7) * 2;
            HeightRecord {
                height: h,
                round,
                proposer: (h % 4) as u16,
                commit_time_s: h as f64,
                txs: 100 + (h % 3) as u32 * 10,
                round_duration_s: 0.3 + f64::from(round) * 3.5,
                proposal_time_s: 0.1,
                voting_time_s: 0.2,
                commit_cost_s: 0.0,
                ..Default::default()
            }
        })
        .collect();
    RunReport {
        scenario: "baseline".to_string(),
        seed: 7,
        trace_hash: "0123456789abcdef".to_string(),
        duration_s: heights as f64,
        validators: 4,
        byzantine: vec![3],
        byzantine_behavior: Some("silent".to_string()),
        observer: 0,
        heights_committed: heights,
        transactions_committed: heights * 110,
        transactions_dropped: 0,
        throughput_tps: 110.0,
        latency_distribution: Vec::new(),
        latency_s: Quantiles {
            p50: 0.45,
            p90: 0.8,
            p95: 0.95,
            p99: 1.6,
            max: 4.2,
            ..Default::default()
        },
        round_duration_s: Summary {
            mean: 1.1,
            p50: 0.3,
            p99: 7.3,
            max: 7.3,
        },
        block_interval_s: Summary {
            mean: 1.0,
            p50: 1.0,
            p99: 1.0,
            max: 1.0,
        },
        rounds: Rounds { mean: 1.3, max: 3 },
        resources: Resources {
            cpu_percent: 12.5,
            memory_mb: 512,
            network_bytes_in: 1_234_567,
            network_bytes_out: 2_345_678,
            disk_io_bytes: 98_765,
        },
        safety: Safety {
            agreement: true,
            validity: true,
            violations: Vec::new(),
        },
        events: 123_456,
        monitor: Default::default(),
        targets: Vec::new(),
        wall_time_s: 0.25,
        heights: records,
    }
}

/// Every `<svg>…</svg>` element of a page.
fn svgs(page: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("<svg") {
        let Some(len) = rest[start..].find("</svg>") else {
            break;
        };
        found.push(&rest[start..start + len + "</svg>".len()]);
        rest = &rest[start + len..];
    }
    found
}

/// The SVG titled `title`.
fn chart<'a>(page: &'a str, title: &str) -> &'a str {
    let needle = format!("aria-label=\"{title}\"");
    svgs(page)
        .into_iter()
        .find(|s| s.contains(&needle))
        .unwrap_or_else(|| panic!("no chart titled {title:?}"))
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// A tiny well-formedness checker: every tag closes in order (HTML void elements excepted),
/// attribute quotes balance, and every `&` starts an entity.
fn check_well_formed(doc: &str) -> Result<(), String> {
    const VOID: [&str; 6] = ["meta", "link", "br", "hr", "img", "input"];
    let mut open: Vec<String> = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        if after.starts_with("!DOCTYPE") || after.starts_with("!--") {
            let end = after.find('>').ok_or("unterminated declaration")?;
            rest = &after[end + 1..];
            continue;
        }
        let end = after.find('>').ok_or("unterminated tag")?;
        let tag = &after[..end];
        if !tag.matches('"').count().is_multiple_of(2) {
            return Err(format!("unbalanced quotes in <{tag}>"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(top) if top == name.trim() => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else {
            let name: String = tag
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/')
                .collect();
            if name.is_empty() {
                return Err(format!("bad tag <{tag}>"));
            }
            if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
                open.push(name);
            }
        }
        rest = &after[end + 1..];
    }
    if !open.is_empty() {
        return Err(format!("unclosed: {open:?}"));
    }
    for (i, _) in doc.match_indices('&') {
        let entity: String = doc[i + 1..]
            .chars()
            .take_while(|c| *c != ';')
            .take(10)
            .collect();
        let ok = !entity.is_empty()
            && doc[i + 1 + entity.len()..].starts_with(';')
            && (entity.chars().all(|c| c.is_ascii_alphabetic())
                || entity
                    .strip_prefix('#')
                    .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit())));
        if !ok {
            return Err(format!("bare & at byte {i}"));
        }
    }
    Ok(())
}

fn sweep_record(
    index: usize,
    point: usize,
    seed: u64,
    values: &[(&str, serde_json::Value)],
    tps: f64,
    safe: bool,
) -> SweepRecord {
    let mut report = run_report(3);
    report.heights.clear();
    report.seed = seed;
    report.throughput_tps = tps;
    report.safety.agreement = safe;
    SweepRecord {
        index,
        point,
        seed,
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        report,
    }
}

/// 3 timeouts × 2 batch sizes × 2 seeds; the timeouts are listed out of order on purpose.
fn two_key_sweep() -> Vec<SweepRecord> {
    let timeouts = ["2s", "500ms", "1s"];
    let batches = [100, 10];
    let mut records = Vec::new();
    let mut index = 0;
    for (t, timeout) in timeouts.iter().enumerate() {
        for (b, batch) in batches.iter().enumerate() {
            let point = t * batches.len() + b;
            for seed in [1u64, 2] {
                let tps = 100.0 * (t as f64 + 1.0) + 10.0 * b as f64 + seed as f64;
                let safe = !(point == 4 && seed == 2);
                records.push(sweep_record(
                    index,
                    point,
                    seed,
                    &[
                        ("parameters.timeout_propose", json!(timeout)),
                        ("parameters.batch_size", json!(batch)),
                    ],
                    tps,
                    safe,
                ));
                index += 1;
            }
        }
    }
    records
}

#[test]
fn run_page_has_one_plot_per_view_with_the_right_bars_and_points() {
    let report = run_report(30);
    let page = html::render_run(&report);
    assert_eq!(svgs(&page).len(), 5);
    let latency = chart(&page, "Transaction latency percentiles");
    assert_eq!(count(latency, r#"class="bar""#), 5);
    assert!(latency.contains(">latency (s)</text>"), "unit on the axis");
    for p in ["p50", "p90", "p95", "p99", "max"] {
        assert!(latency.contains(&format!(">{p}</text>")));
    }
    // Rounds 1, 2 and 3 occur (height 7 took three rounds): three bars, counts 23, 6, 1.
    let rounds = chart(&page, "Rounds per height");
    assert_eq!(count(rounds, r#"class="bar""#), 3);
    assert!(rounds.contains("<title>1: 23</title>"));
    assert!(rounds.contains("<title>2: 6</title>"));
    assert!(rounds.contains("<title>3: 1</title>"));
    // One point per height; 7 needed more than one round.
    let over_time = chart(&page, "Round duration over time");
    assert_eq!(count(over_time, r#"class="point""#), 30);
    assert_eq!(count(over_time, "<title>needed more than one round:"), 7);
    assert!(over_time.contains(">decided in round 0</text>"), "legend");
    // 30 heights → 20 time buckets, and the overall mean drawn as a reference.
    let throughput = chart(&page, "Throughput over time");
    assert_eq!(count(throughput, r#"class="bar""#), 20);
    assert!(throughput.contains(">overall 110 tx/s</text>"));
    // The histogram counts every height once.
    let histogram = chart(&page, "Distribution of height durations");
    let counted: f64 = histogram
        .split("<title>")
        .skip(2)
        .filter_map(|t| {
            t.split("</title>")
                .next()?
                .rsplit(": ")
                .next()?
                .parse::<f64>()
                .ok()
        })
        .sum();
    assert_eq!(counted, 30.0);
    assert!(page.contains("0123456789abcdef"));
    assert!(page.contains("1.23 MB"));
}

#[test]
fn run_without_heights_keeps_the_latency_plot_and_says_to_rerun_with_heights() {
    let mut report = run_report(10);
    report.heights.clear();
    let page = html::render_run(&report);
    assert_eq!(svgs(&page).len(), 1);
    assert_eq!(
        count(
            chart(&page, "Transaction latency percentiles"),
            r#"class="bar""#
        ),
        5
    );
    assert!(page.contains("--json --heights"));
}

#[test]
fn a_runaway_round_does_not_make_millions_of_bars() {
    let mut report = run_report(5);
    report.heights[2].round = u32::MAX;
    let page = html::render_run(&report);
    let rounds = chart(&page, "Rounds per height");
    assert_eq!(count(rounds, r#"class="bar""#), 3);
    assert!(rounds.contains("<title>4294967296: 1</title>"));
}

#[test]
fn violations_are_listed_in_the_header() {
    let mut report = run_report(5);
    report.safety.agreement = false;
    report.safety.violations.push(Violation {
        invariant: "agreement".to_string(),
        height: 4,
        description: "validators 0 and 1 decided different blocks".to_string(),
        culprits: vec![2, 3],
    });
    let page = html::render_run(&report);
    assert!(page.contains("VIOLATED"));
    assert!(page.contains("<strong>agreement</strong> at height 4: validators 0 and 1 decided different blocks (culprits 2, 3)"));
}

#[test]
fn sweep_with_two_keys_has_a_heatmap_of_rows_times_columns_per_metric() {
    let page = html::render_sweep(&two_key_sweep());
    // 4 metrics × 2 keys line charts + 4 heatmaps.
    assert_eq!(svgs(&page).len(), 12);
    let heatmaps: Vec<&str> = svgs(&page)
        .into_iter()
        .filter(|s| s.contains(r#"class="cell""#))
        .collect();
    assert_eq!(heatmaps.len(), 4);
    for h in &heatmaps {
        assert_eq!(count(h, r#"class="cell""#), 6);
        assert_eq!(count(h, r#"class="cell-value""#), 6);
    }
    // Columns are the first key by name (batch_size: 100, 10); rows the timeouts in the sweep
    // file's order (2s, 500ms, 1s), not sorted by size.
    let throughput = chart(&page, "Throughput (tx/s)");
    let order: Vec<usize> = ["2s", "500ms", "1s"]
        .iter()
        .map(|t| {
            throughput
                .find(&format!(">{t}</text>"))
                .unwrap_or(usize::MAX)
        })
        .collect();
    assert!(order.iter().all(|o| *o != usize::MAX));
    assert!(
        order[0] < order[1] && order[1] < order[2],
        "rows in sweep order: {order:?}"
    );
    // Point 1: timeout 2s, batch 10, seeds 1 and 2 → mean 111.5, written with 3 digits.
    assert!(
        throughput
            .contains("parameters.batch_size = 10, parameters.timeout_propose = 2s: 112</title>")
    );
    // Line chart: one line per value of the other key, with a legend.
    let lines = chart(&page, "Throughput vs parameters.timeout_propose");
    assert_eq!(count(lines, r#"class="point""#), 6);
    assert!(
        lines.contains(">batch_size</text>"),
        "legend titled by the other key"
    );
    let x_labels: Vec<usize> = ["2s", "500ms", "1s"]
        .iter()
        .map(|t| lines.find(&format!(">{t}</text>")).unwrap_or(usize::MAX))
        .collect();
    assert!(
        x_labels[0] < x_labels[1] && x_labels[1] < x_labels[2] && x_labels[2] != usize::MAX,
        "the x axis keeps the sweep file's order: {x_labels:?}"
    );
}

#[test]
fn sweep_table_has_every_point_and_names_the_seeds_that_broke_safety() {
    let page = html::render_sweep(&two_key_sweep());
    let table = page.split("All points").nth(1).unwrap_or_default();
    assert_eq!(count(table, "<tr><td class=\"num\">"), 6);
    assert_eq!(count(table, "VIOLATED"), 1);
    assert!(table.contains("(seed 2)"));
    assert!(page.contains("in 1 of 12 runs"));
}

#[test]
fn sweep_with_one_key_plots_each_metric_against_it() {
    let records: Vec<SweepRecord> = [("1s", 50.0), ("3s", 40.0)]
        .iter()
        .enumerate()
        .map(|(i, (t, tps))| {
            sweep_record(
                i,
                i,
                9,
                &[("parameters.block_interval", json!(t))],
                *tps,
                true,
            )
        })
        .collect();
    let page = html::render_sweep(&records);
    assert_eq!(svgs(&page).len(), 4);
    let lines = chart(&page, "Throughput vs parameters.block_interval");
    assert_eq!(count(lines, r#"class="point""#), 2);
    assert!(lines.contains("= 3s: 40</title>"));
}

#[test]
fn pages_are_well_formed_escaped_and_deterministic() {
    let mut report = run_report(40);
    report.scenario = "<script>alert('x') & co</script>".to_string();
    let page = html::render_run(&report);
    check_well_formed(&page).unwrap_or_else(|e| panic!("run page: {e}"));
    assert!(!page.contains("<script>"));
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;) &amp; co"));
    assert_eq!(page, html::render_run(&report));
    let sweep = html::render_sweep(&two_key_sweep());
    check_well_formed(&sweep).unwrap_or_else(|e| panic!("sweep page: {e}"));
    for svg in svgs(&sweep) {
        check_well_formed(svg).unwrap_or_else(|e| panic!("svg: {e}"));
    }
    assert!(
        check_well_formed("<svg><g></svg>").is_err(),
        "the checker catches a bad nesting"
    );
}

// --- through the binary --------------------------------------------------------------------

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccperf-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn ccperf_report(input: &Path, out: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ccperf"))
        .arg("report")
        .arg(input)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("cannot start ccperf: {e}"));
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_inputs_exit_with_code_2_and_say_what_is_wrong() {
    let dir = scratch("bad");
    let out = dir.join("out");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path
    };
    let good = serde_json::to_string(&sweep_record(0, 0, 1, &[("a", json!(1))], 5.0, true))
        .unwrap_or_default();
    let cases: Vec<(PathBuf, &str)> = vec![
        (dir.join("missing.json"), "does not exist"),
        (write("empty.json", "\n  \n"), "is empty"),
        (write("scenario.yaml", "name: x\n"), "not JSON"),
        (write("broken.json", "{\"scenario\": "), "not JSON"),
        (
            write(
                "sweep.jsonl",
                &format!("{good}\n{good}\n{{\"index\": 2}}\n"),
            ),
            "line 3 is not a sweep record",
        ),
        (write("other.json", "{\"hello\": 1}"), "unknown format"),
    ];
    for (input, expected) in cases {
        let (code, stderr) = ccperf_report(&input, &out);
        assert_eq!(code, 2, "{}: {stderr}", input.display());
        assert!(stderr.contains(expected), "{}: {stderr}", input.display());
    }
    assert!(!out.exists(), "nothing written for bad input");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_writes_index_html_and_refuses_an_out_that_is_a_file() {
    let dir = scratch("good");
    // A pretty-printed run report (several lines) is recognised by content, not extension.
    let input = dir.join("run.txt");
    let pretty = serde_json::to_string_pretty(&run_report(12)).unwrap_or_default();
    std::fs::write(&input, pretty).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("nested").join("site");
    let (code, stderr) = ccperf_report(&input, &out);
    assert_eq!(code, 0, "{stderr}");
    let page = std::fs::read_to_string(out.join("index.html")).unwrap_or_default();
    assert_eq!(svgs(&page).len(), 5);

    let sweep = dir.join("results.jsonl");
    let lines: Vec<String> = two_key_sweep()
        .iter()
        .map(|r| serde_json::to_string(r).unwrap_or_default())
        .collect();
    std::fs::write(&sweep, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    let (code, stderr) = ccperf_report(&sweep, &out);
    assert_eq!(code, 0, "{stderr}");
    let page = std::fs::read_to_string(out.join("index.html")).unwrap_or_default();
    assert!(page.contains("Sweep report"));

    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap_or_else(|e| panic!("{e}"));
    let (code, stderr) = ccperf_report(&input, &file);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a directory"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_latency_distribution_gets_a_bar_per_bucket_from_the_first_to_the_last_used() {
    use consensus_performance::report::LatencyBucket;
    let mut report = run_report(10);
    let counts = [0, 0, 5, 0, 40, 12, 0, 0];
    report.latency_distribution = counts
        .iter()
        .enumerate()
        .map(|(i, &count)| LatencyBucket {
            le_s: 0.25 * f64::from(1u32 << i),
            count,
        })
        .collect();
    let page = html::render_run(&report);
    assert_eq!(svgs(&page).len(), 6);
    let chart = chart(&page, "Transaction latency distribution");
    // Buckets 2 to 5: 1 s, 2 s (empty), 4 s and 8 s.
    assert_eq!(count(chart, r#"class="bar""#), 4);
    assert!(
        chart.contains(">1 s<") && chart.contains(">8 s<"),
        "{chart}"
    );
    assert!(
        !chart.contains(">250 ms<"),
        "leading empty buckets are left out"
    );
}
