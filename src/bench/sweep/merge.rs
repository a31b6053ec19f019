//! Joining shard outputs back into the unsharded order.

use super::SweepError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct LineIndex {
    index: usize,
}

/// Join JSONL shard outputs `(name, text)` into one, sorted by run index: identical duplicates
/// are kept once; differing duplicates, gaps in `0..=max`, half-written lines and lines that are
/// not records are errors naming the file and index.
pub fn merge_lines(inputs: &[(String, String)]) -> Result<String, SweepError> {
    let mut by_index: BTreeMap<usize, (&str, &str)> = BTreeMap::new();
    for (name, text) in inputs {
        if !text.is_empty() && !text.ends_with('\n') {
            return Err(SweepError::Merge(format!(
                "{name} ends in a half-written line: finish that shard with --resume first"
            )));
        }
        for (line_no, line) in text.lines().enumerate() {
            let LineIndex { index } = serde_json::from_str(line).map_err(|e| {
                SweepError::Merge(format!("{name}:{}: not a sweep record ({e})", line_no + 1))
            })?;
            match by_index.get(&index) {
                Some((_, seen)) if *seen == line => {}
                Some((first, _)) => {
                    return Err(SweepError::Merge(format!(
                        "run {index} differs between {first} and {name}: they come from \
                         different sweeps or versions"
                    )));
                }
                None => {
                    by_index.insert(index, (name.as_str(), line));
                }
            }
        }
    }
    if by_index.is_empty() {
        return Err(SweepError::Merge("no records in the inputs".to_string()));
    }
    if let Some(missing) = (0..).zip(by_index.keys()).find(|(i, k)| i != *k) {
        return Err(SweepError::Merge(format!(
            "run {} is missing: is a shard file absent or unfinished?",
            missing.0
        )));
    }
    let mut merged = String::new();
    for (_, line) in by_index.values() {
        merged.push_str(line);
        merged.push('\n');
    }
    Ok(merged)
}

/// Merge shard files into `out`; returns the number of runs written.
pub fn merge_files(inputs: &[impl AsRef<Path>], out: &Path) -> Result<usize, SweepError> {
    let texts = inputs
        .iter()
        .map(|p| {
            let name = p.as_ref().display().to_string();
            std::fs::read_to_string(p)
                .map(|text| (name.clone(), text))
                .map_err(|e| SweepError::Io {
                    path: name,
                    message: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let merged = merge_lines(&texts)?;
    std::fs::write(out, &merged).map_err(|e| SweepError::Io {
        path: out.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(merged.lines().count())
}
