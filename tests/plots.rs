//! The sweep page's plots: points in the sweep file's order, and error bars with the 95 %
//! interval (Student's t) over the seeds of a grid point, where a point has several seeds.

mod support;

use consensus_performance::export::html::{self, SweepRecord};
use serde_json::json;

fn record(index: usize, point: usize, seed: u64, key: &str, value: &str, tps: f64) -> SweepRecord {
    let mut report = support::report(seed, tps, 2.0, true);
    report.heights.clear();
    SweepRecord {
        index,
        point,
        seed,
        values: [(key.to_string(), json!(value))].into_iter().collect(),
        report,
    }
}

/// Timeouts 1s, 2s, 3s with `seeds` seeds each: throughput 100·(point+1) + 10·(seed − 1) − 10,
/// so a point's seeds spread by 10 tx/s around its mean.
fn sweep(seeds: u64) -> Vec<SweepRecord> {
    let mut records = Vec::new();
    for (p, t) in ["1s", "2s", "3s"].iter().enumerate() {
        for seed in 0..seeds {
            let tps =
                100.0 * (p as f64 + 1.0) + 10.0 * seed as f64 - 10.0 * (seeds - 1) as f64 / 2.0;
            let i = records.len();
            records.push(record(i, p, seed, "parameters.timeout_propose", t, tps));
        }
    }
    records
}

fn chart<'a>(page: &'a str, title: &str) -> &'a str {
    let at = page
        .find(&format!(">{title}</text>"))
        .expect("chart present");
    let start = page[..at].rfind("<svg").expect("svg start");
    let end = at + page[at..].find("</svg>").expect("svg end");
    &page[start..end]
}

#[test]
fn several_seeds_give_each_point_an_error_bar_of_its_95_percent_interval() {
    let page = html::render_sweep(&sweep(3));
    let throughput = chart(&page, "Throughput vs parameters.timeout_propose");
    assert_eq!(throughput.matches(r#"class="error-bar""#).count(), 3);
    // Seeds 90, 100, 110: s = 10, t(0.975, 2) = 4.303, half-width 4.303 · 10 / √3 = 24.84.
    assert!(
        throughput.contains("<title>95 % interval: 75.2 to 125</title>"),
        "{throughput}"
    );
    assert!(throughput.contains("<title>95 % interval: 175 to 225</title>"));
    assert!(throughput.contains("<title>95 % interval: 275 to 325</title>"));
    // Every bar lies inside the chart: the y axis was fitted to the bars' ends too.
    for bar in throughput.split(r#"class="error-bar""#).skip(1) {
        for attr in [" y1=\"", " y2=\""] {
            let y: f64 = bar
                .split(attr)
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap()
                .parse()
                .unwrap();
            assert!((20.0..300.0).contains(&y), "{y} in {bar}");
        }
    }
    assert!(page.contains("Bars: the 95 % interval over the seeds (Student&#39;s t)."));
    // Identical seeds (p99 is 2 s in every run) have a zero-width interval, still drawn.
    let latency = chart(
        &page,
        "p99 transaction latency vs parameters.timeout_propose",
    );
    assert_eq!(latency.matches(r#"class="error-bar""#).count(), 3);
    assert!(latency.contains("<title>95 % interval: 2 to 2</title>"));
}

#[test]
fn one_seed_per_point_draws_no_error_bars() {
    let page = html::render_sweep(&sweep(1));
    assert_eq!(page.matches(r#"class="error-bar""#).count(), 0);
    assert!(!page.contains("Bars: the 95 %"));
}

#[test]
fn two_keys_give_an_error_bar_per_line_and_value() {
    // 2 batch sizes × 3 timeouts × 2 seeds.
    let mut records = Vec::new();
    for (p, (t, b)) in [
        ("1s", 10),
        ("1s", 100),
        ("2s", 10),
        ("2s", 100),
        ("3s", 10),
        ("3s", 100),
    ]
    .into_iter()
    .enumerate()
    {
        for seed in [0u64, 1] {
            let mut r = record(
                records.len(),
                p,
                seed,
                "parameters.timeout_propose",
                t,
                100.0 + seed as f64 * 20.0,
            );
            r.values
                .insert("parameters.batch_size".to_string(), json!(b));
            records.push(r);
        }
    }
    let page = html::render_sweep(&records);
    let throughput = chart(&page, "Throughput vs parameters.timeout_propose");
    assert_eq!(throughput.matches(r#"class="error-bar""#).count(), 6);
    // 100 and 120: s = 14.14, t(0.975, 1) = 12.706, half-width 12.706 · 14.14 / √2 = 127.06.
    assert!(
        throughput.contains("<title>95 % interval: -17.1 to 237</title>"),
        "{throughput}"
    );
}

#[test]
fn height_durations_are_counted_in_logarithmic_bins_with_round_labels() {
    let mut report = support::report(0, 100.0, 2.0, true);
    let durations = [0.3, 0.31, 0.45, 0.9, 1.2, 5.4, 5.4, 61.0];
    report.heights = durations
        .iter()
        .enumerate()
        .map(|(i, d)| consensus_performance::report::HeightRecord {
            height: i as u64 + 1,
            commit_time_s: i as f64,
            round_duration_s: *d,
            ..Default::default()
        })
        .collect();
    let page = html::render_run(&report);
    let histogram = chart(&page, "Distribution of height durations");
    // Edges 1, 1.5, 2, 3, 5, 7 × 10ⁿ from the bin of 0.3 s to the bin of 61 s: 0.3–0.5 up to 50–70.
    let bars: Vec<&str> = histogram
        .split(r#"<rect class="bar""#)
        .skip(1)
        .filter_map(|b| b.split("<title>").nth(1)?.split("</title>").next())
        .collect();
    assert_eq!(bars.len(), 14, "{bars:?}");
    assert_eq!(
        bars[..5],
        [
            "0.3–0.5: 3",
            "0.5–0.7: 0",
            "0.7–1: 1",
            "1–1.5: 1",
            "1.5–2: 0"
        ]
    );
    assert_eq!(bars[7], "5–7: 2");
    assert_eq!(bars[13], "50–70: 1");
    assert!(!histogram.contains("0000000"), "labels are round");
}

/// The `<title>` texts of a chart's point markers, in drawing (left to right) order.
fn point_tips(chart: &str) -> Vec<&str> {
    chart
        .split(r#"class="point""#)
        .skip(1)
        .filter_map(|p| p.split("<title>").nth(1)?.split("</title>").next())
        .collect()
}

#[test]
fn sweep_charts_and_table_keep_the_order_of_the_sweep_file() {
    // A sweep file listing `timeout_propose: [500ms, 100ms, 300ms]`: points 0, 1, 2 in that
    // order, throughput 100, 200, 300.
    let records: Vec<SweepRecord> = ["500ms", "100ms", "300ms"]
        .iter()
        .enumerate()
        .map(|(p, t)| {
            let tps = 100.0 * (p as f64 + 1.0);
            record(p, p, 0, "parameters.timeout_propose", t, tps)
        })
        .collect();
    let page = html::render_sweep(&records);
    let throughput = chart(&page, "Throughput vs parameters.timeout_propose");
    assert_eq!(
        point_tips(throughput),
        [
            "Throughput, parameters.timeout_propose = 500ms: 100",
            "Throughput, parameters.timeout_propose = 100ms: 200",
            "Throughput, parameters.timeout_propose = 300ms: 300",
        ]
    );
    // The x axis labels, left to right, are the file's values.
    let labels: Vec<usize> = ["500ms", "100ms", "300ms"]
        .iter()
        .map(|v| throughput.find(&format!(">{v}</text>")).expect("label"))
        .collect();
    assert!(labels[0] < labels[1] && labels[1] < labels[2], "{labels:?}");
    // The summary lists the values, and the table its rows, in the same order.
    assert!(page.contains("<td>500ms, 100ms, 300ms</td>"), "summary");
    let table = &page[page.find("<h2>All points</h2>").expect("table")..];
    let rows: Vec<usize> = ["<td>500ms</td>", "<td>100ms</td>", "<td>300ms</td>"]
        .iter()
        .map(|cell| table.find(cell).expect("row"))
        .collect();
    assert!(rows[0] < rows[1] && rows[1] < rows[2], "{rows:?}");
}
