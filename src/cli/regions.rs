//! `ccperf regions [REGION]`: the cloud regions of the embedded latency matrix, or one region's
//! round-trip times to all of them.

use crate::net::regions::{self, RegionMatrix};
use std::fmt::Write as _;

/// Arguments of `ccperf regions`.
#[derive(Debug, clap::Args)]
pub struct RegionsArgs {
    /// Show this region's round-trip time to every region, nearest first.
    pub region: Option<String>,
}

/// Print the regions (or one region's row); exit 2 for an unknown region.
pub fn regions(args: &RegionsArgs) -> i32 {
    let m = regions::matrix();
    match &args.region {
        None => super::output::print(&render_all(m)),
        Some(name) => match m.index(name) {
            Some(i) => super::output::print(&render_row(m, i)),
            None => super::bad_input(&format!(
                "unknown region `{name}`; the known regions are {}",
                m.known()
            )),
        },
    }
}

/// One line per region: its same-region RTT, its nearest and its farthest other region.
pub fn render_all(m: &RegionMatrix) -> String {
    let names = m.names();
    let mut out = format!(
        "{:<16} {:>10}   {:<26} {:<26}\n",
        "region", "same (ms)", "nearest other (ms)", "farthest (ms)"
    );
    for (i, name) in names.iter().enumerate() {
        let others = || (0..names.len()).filter(move |&j| j != i);
        let by_rtt = |a: &usize, b: &usize| m.rtt_ms(i, *a).total_cmp(&m.rtt_ms(i, *b));
        let (Some(near), Some(far)) = (others().min_by(by_rtt), others().max_by(by_rtt)) else {
            continue;
        };
        let _ = writeln!(
            out,
            "{name:<16} {:>10.1}   {:<18}{:>8.1} {:<18}{:>8.1}",
            m.rtt_ms(i, i),
            names[near],
            m.rtt_ms(i, near),
            names[far],
            m.rtt_ms(i, far),
        );
    }
    let _ = writeln!(
        out,
        "{} regions; median round-trip times in milliseconds (one hop takes half).\n\
         Source: {}.\n\
         `ccperf regions REGION` shows one region's round-trip time to every region.",
        names.len(),
        regions::SOURCE
    );
    out
}

/// Region `i`'s round-trip time and one-way hop latency to every region, nearest first.
pub fn render_row(m: &RegionMatrix, i: usize) -> String {
    let names = m.names();
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|a, b| m.rtt_ms(i, *a).total_cmp(&m.rtt_ms(i, *b)).then(a.cmp(b)));
    let mut out = format!(
        "{:<16} {:>10} {:>14}\n",
        format!("from {}", names[i]),
        "RTT (ms)",
        "one way (ms)"
    );
    for j in order {
        let _ = writeln!(
            out,
            "{:<16} {:>10.1} {:>14.1}",
            names[j],
            m.rtt_ms(i, j),
            m.rtt_ms(i, j) / 2.0
        );
    }
    let _ = writeln!(out, "Source: {}.", regions::SOURCE);
    out
}
