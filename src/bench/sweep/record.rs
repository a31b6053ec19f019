//! One line of a sweep's JSONL output, sealed: every record names its sweep (a fingerprint of
//! the sweep's definition and the crate version) and its run count, and ends in a checksum of
//! the rest of the line, so resume and merge can tell a foreign, mixed or damaged file from a
//! good one.
//!
//! ```text
//! {"sweep":"9f…","runs":16,"index":3,"point":1,"seed":6,"values":{…},"report":{…},"checksum":"5c…"}
//! ```

use crate::report::RunReport;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;

/// Longest record line read back (a report is a few KB; a damaged file without newlines is
/// refused instead of read whole).
pub const MAX_RECORD_BYTES: u64 = 16 << 20;

/// One run of a sweep: one line of its JSONL output.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRecord {
    /// Fingerprint of the sweep (see [`super::SweepSpec::fingerprint`]), the same on every
    /// shard.
    pub sweep: String,
    /// Runs in the whole sweep (all shards).
    pub runs: usize,
    /// Run index: `point * seeds + seed position`.
    pub index: usize,
    /// Point index.
    pub point: usize,
    /// Seed.
    pub seed: u64,
    /// The point's grid values, in axis order.
    pub values: Vec<(String, serde_json::Value)>,
    /// The report, without per-height records and with `wall_time_s` 0 (so bytes repeat).
    pub report: RunReport,
}

/// Why a line is not a good record.
#[derive(Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The line ends without the checksum field: not written by this version, or torn.
    NoChecksum,
    /// The checksum does not match the rest of the line: it was changed or damaged.
    Mismatch,
    /// The line (checksum correct) is not the JSON of a record.
    Malformed(String),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::NoChecksum => f.write_str(
                "not a sealed sweep record (no checksum at its end: written by an older ccperf, \
                 by something else, or cut short)",
            ),
            RecordError::Mismatch => f.write_str(
                "checksum mismatch: the line was changed or damaged after it was written",
            ),
            RecordError::Malformed(e) => write!(f, "not a sweep record ({e})"),
        }
    }
}

impl std::error::Error for RecordError {}

/// `,"checksum":"` + 16 hex digits + `"}`.
const SEAL_PREFIX: &str = ",\"checksum\":\"";
const SEAL_LEN: usize = SEAL_PREFIX.len() + 16 + 2;

impl SweepRecord {
    /// The JSONL line, newline included:
    /// `{"sweep","runs","index","point","seed","values","report","checksum"}`.
    pub fn to_line(&self) -> String {
        let body = serde_json::to_string(&LineOut {
            sweep: &self.sweep,
            runs: self.runs,
            index: self.index,
            point: self.point,
            seed: self.seed,
            values: OrderedValues(&self.values),
            report: &self.report,
        });
        // Numbers, strings and plain structs always serialise.
        let body = body.unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        let checksum = fnv1a(body.as_bytes());
        let open = &body[..body.len() - 1];
        format!("{open}{SEAL_PREFIX}{checksum:016x}\"}}\n")
    }

    /// Read a line written by [`SweepRecord::to_line`] (newline optional), checking its
    /// checksum first. Values come back sorted by key.
    pub fn from_line(line: &str) -> Result<SweepRecord, RecordError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let body = unseal(line)?;
        let parsed: LineIn =
            serde_json::from_str(&body).map_err(|e| RecordError::Malformed(e.to_string()))?;
        Ok(SweepRecord {
            sweep: parsed.sweep,
            runs: parsed.runs,
            index: parsed.index,
            point: parsed.point,
            seed: parsed.seed,
            values: parsed.values.into_iter().collect(),
            report: parsed.report,
        })
    }
}

/// The line without its checksum field, if the checksum matches.
fn unseal(line: &str) -> Result<String, RecordError> {
    if line.len() < SEAL_LEN || !line.is_char_boundary(line.len() - SEAL_LEN) {
        return Err(RecordError::NoChecksum);
    }
    let (open, seal) = line.split_at(line.len() - SEAL_LEN);
    let digits = seal
        .strip_prefix(SEAL_PREFIX)
        .and_then(|rest| rest.strip_suffix("\"}"))
        .ok_or(RecordError::NoChecksum)?;
    let written = u64::from_str_radix(digits, 16).map_err(|_| RecordError::NoChecksum)?;
    let body = format!("{open}}}");
    if fnv1a(body.as_bytes()) != written {
        return Err(RecordError::Mismatch);
    }
    Ok(body)
}

/// 64-bit FNV-1a: any change of one byte changes it (each step is a bijection of the state),
/// which is what a checksum against damage and hand edits needs; it is no defence against
/// someone who recomputes it.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[derive(Serialize)]
struct LineOut<'a> {
    sweep: &'a str,
    runs: usize,
    index: usize,
    point: usize,
    seed: u64,
    values: OrderedValues<'a>,
    report: &'a RunReport,
}

#[derive(Deserialize)]
struct LineIn {
    sweep: String,
    runs: usize,
    index: usize,
    point: usize,
    seed: u64,
    values: BTreeMap<String, serde_json::Value>,
    report: RunReport,
}

/// Grid values as a JSON object in axis order (serde_json's own map would sort them).
struct OrderedValues<'a>(&'a [(String, serde_json::Value)]);

impl Serialize for OrderedValues<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The lines of a JSONL file as read back: every complete line (newline dropped) and whether
/// a half-written last line followed them.
#[derive(Debug, Default)]
pub struct Lines {
    /// The complete lines, in order.
    pub complete: Vec<String>,
    /// Bytes of the complete lines, newlines included: where a half-written line starts.
    pub complete_bytes: u64,
    /// A last line without its newline was there.
    pub torn: bool,
}

/// Why a JSONL file could not be read.
#[derive(Debug)]
pub enum LinesError {
    /// The operating system refused.
    Io(std::io::Error),
    /// A line is longer than [`MAX_RECORD_BYTES`] (1-based line number).
    TooLong(usize),
    /// A line is not UTF-8 (1-based line number).
    NotText(usize),
}

impl fmt::Display for LinesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinesError::Io(e) => write!(f, "{e}"),
            LinesError::TooLong(line) => write!(
                f,
                "line {line} is longer than {} MiB: not a sweep record",
                MAX_RECORD_BYTES >> 20
            ),
            LinesError::NotText(line) => write!(f, "line {line} is not UTF-8 text"),
        }
    }
}

/// Read `reader` as JSONL, line by line, each line bounded by [`MAX_RECORD_BYTES`].
pub fn read_lines(reader: impl Read) -> Result<Lines, LinesError> {
    let mut reader = std::io::BufReader::new(reader);
    let mut lines = Lines::default();
    loop {
        let mut bytes = Vec::new();
        let read = (&mut reader)
            .take(MAX_RECORD_BYTES + 1)
            .read_until(b'\n', &mut bytes)
            .map_err(LinesError::Io)?;
        let number = lines.complete.len() + 1;
        if read == 0 {
            return Ok(lines);
        }
        if bytes.last() != Some(&b'\n') {
            if bytes.len() as u64 > MAX_RECORD_BYTES {
                return Err(LinesError::TooLong(number));
            }
            lines.torn = true;
            return Ok(lines);
        }
        lines.complete_bytes += bytes.len() as u64;
        bytes.pop();
        let text = String::from_utf8(bytes).map_err(|_| LinesError::NotText(number))?;
        lines.complete.push(text);
    }
}

/// [`read_lines`] of the file at `path`.
pub fn read_file_lines(path: &Path) -> Result<Lines, LinesError> {
    read_lines(std::fs::File::open(path).map_err(LinesError::Io)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> SweepRecord {
        let scenario = crate::config::parse_scenario(
            "duration: 1s\nvalidators: { count: 4 }\ncosts: none\n",
            "tiny.yaml",
        )
        .expect("valid");
        SweepRecord {
            sweep: "00112233aabbccdd".into(),
            runs: 4,
            index: 2,
            point: 1,
            seed: 7,
            values: vec![
                ("z.key".into(), serde_json::json!("1s")),
                ("a.key".into(), serde_json::json!(3)),
            ],
            report: crate::sim::run(&scenario, 1).expect("runs"),
        }
    }

    #[test]
    fn a_line_reads_back_and_keeps_the_grid_order() {
        let line = record().to_line();
        assert!(line.starts_with(
            r#"{"sweep":"00112233aabbccdd","runs":4,"index":2,"point":1,"seed":7,"values":{"z.key":"1s","a.key":3},"report":{"#
        ), "{line}");
        assert!(line.ends_with("\"}\n"));
        let back = SweepRecord::from_line(&line).expect("reads back");
        assert_eq!(
            (back.index, back.runs, back.sweep.as_str()),
            (2, 4, "00112233aabbccdd")
        );
        assert_eq!(back.values.len(), 2);
    }

    #[test]
    fn any_changed_byte_fails_the_checksum() {
        let line = record().to_line();
        let body_end = line.len() - 1 - SEAL_LEN;
        for at in (0..body_end).step_by(7) {
            let mut bytes = line.clone().into_bytes();
            bytes[at] = if bytes[at] == b'1' { b'2' } else { b'1' };
            let Ok(changed) = String::from_utf8(bytes) else {
                continue;
            };
            assert_eq!(
                SweepRecord::from_line(&changed).err(),
                Some(RecordError::Mismatch),
                "byte {at} changed"
            );
        }
        let old_format = r#"{"index":0,"point":0,"seed":1,"values":{},"report":{}}"#;
        assert_eq!(
            SweepRecord::from_line(old_format).err(),
            Some(RecordError::NoChecksum)
        );
        let torn = &line[..line.len() / 2];
        assert_eq!(
            SweepRecord::from_line(torn).err(),
            Some(RecordError::NoChecksum)
        );
    }

    #[test]
    fn lines_are_read_with_a_torn_tail_and_a_length_cap() {
        let lines = read_lines(&b"a\nbb\nccc"[..]).expect("reads");
        assert_eq!(lines.complete, ["a", "bb"]);
        assert_eq!((lines.complete_bytes, lines.torn), (5, true));
        let zeros = std::fs::File::open("/dev/zero").expect("/dev/zero");
        assert!(matches!(read_lines(zeros), Err(LinesError::TooLong(1))));
    }
}
