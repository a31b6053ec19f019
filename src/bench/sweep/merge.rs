//! Joining shard outputs back into the unsharded order: only sealed records of one sweep, and
//! only when every run of it is there.

use super::SweepError;
use super::record::{Lines, SweepRecord, read_file_lines, read_lines};
use std::collections::BTreeMap;
use std::path::Path;

/// Join JSONL shard outputs `(name, text)` into one, sorted by run index. See
/// [`merge_files`] for what is refused.
pub fn merge_lines(inputs: &[(String, String)]) -> Result<String, SweepError> {
    let read = inputs
        .iter()
        .map(|(name, text)| {
            read_lines(text.as_bytes())
                .map(|lines| (name.clone(), lines))
                .map_err(|e| SweepError::Merge(format!("{name}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    merge_read(&read)
}

/// The sweep the first record belongs to: fingerprint, run count, and the file it came from.
struct Sweep<'a> {
    fingerprint: &'a str,
    runs: usize,
    file: &'a str,
}

fn merge_read(inputs: &[(String, Lines)]) -> Result<String, SweepError> {
    let merge_error = |message: String| SweepError::Merge(message);
    let mut records: Vec<(usize, SweepRecord)> = Vec::new();
    for (file_no, (name, lines)) in inputs.iter().enumerate() {
        if lines.torn {
            return Err(merge_error(format!(
                "{name} ends in a half-written line: finish that shard with --resume first"
            )));
        }
        for (line_no, line) in lines.complete.iter().enumerate() {
            let record = SweepRecord::from_line(line)
                .map_err(|e| merge_error(format!("{name}:{}: {e}", line_no + 1)))?;
            records.push((file_no, record));
        }
    }
    let Some((first_file, first)) = records.first() else {
        return Err(merge_error("no records in the inputs".to_string()));
    };
    let sweep = Sweep {
        fingerprint: &first.sweep,
        runs: first.runs,
        file: &inputs[*first_file].0,
    };
    let mut by_index: BTreeMap<usize, (usize, &str)> = BTreeMap::new();
    let mut line_of = vec![0usize; inputs.len()];
    for (file_no, record) in &records {
        let name = &inputs[*file_no].0;
        let line_no = line_of[*file_no];
        let line = inputs[*file_no].1.complete[line_no].as_str();
        line_of[*file_no] += 1;
        let at = format!("{name}:{}", line_no + 1);
        if record.sweep != sweep.fingerprint || record.runs != sweep.runs {
            return Err(merge_error(format!(
                "{at} is a record of sweep {} ({} runs) but {} holds sweep {} ({} runs): \
                 shards of different sweeps (or ccperf versions) cannot be merged",
                record.sweep, record.runs, sweep.file, sweep.fingerprint, sweep.runs
            )));
        }
        if record.index >= sweep.runs {
            return Err(merge_error(format!(
                "{at} holds run {} of a sweep of {} runs",
                record.index, sweep.runs
            )));
        }
        match by_index.get(&record.index) {
            Some((_, seen)) if *seen == line => {}
            Some((first, _)) => {
                return Err(merge_error(format!(
                    "run {} differs between {} and {name}: they come from different sweeps or \
                     versions",
                    record.index, inputs[*first].0
                )));
            }
            None => {
                by_index.insert(record.index, (*file_no, line));
            }
        }
    }
    let missing: Vec<usize> = (0..sweep.runs)
        .filter(|i| !by_index.contains_key(i))
        .collect();
    if !missing.is_empty() {
        return Err(merge_error(missing_runs(
            &sweep, &missing, inputs, &by_index,
        )));
    }
    let mut merged = String::new();
    for (_, line) in by_index.values() {
        merged.push_str(line);
        merged.push('\n');
    }
    Ok(merged)
}

/// Which runs are missing, what each input holds, and which input the missing runs most likely
/// fell off (the one whose runs follow the same stride: a shard cut short).
fn missing_runs(
    sweep: &Sweep,
    missing: &[usize],
    inputs: &[(String, Lines)],
    by_index: &BTreeMap<usize, (usize, &str)>,
) -> String {
    let mut held: Vec<Vec<usize>> = vec![Vec::new(); inputs.len()];
    for (&index, &(file_no, _)) in by_index {
        held[file_no].push(index);
    }
    let holdings: Vec<String> = inputs
        .iter()
        .zip(&held)
        .map(|((name, _), runs)| format!("{name} {} runs", runs.len()))
        .collect();
    let suspects: Vec<&str> = inputs
        .iter()
        .zip(&held)
        .filter(|(_, runs)| {
            stride(runs).is_some_and(|(step, residue)| {
                missing
                    .iter()
                    .any(|m| m % step == residue && runs.last().is_some_and(|last| m > last))
            })
        })
        .map(|((name, _), _)| name.as_str())
        .collect();
    let hint = if suspects.is_empty() {
        "is a shard file absent or cut short?".to_string()
    } else {
        format!(
            "{} looks cut short (its runs stop before them): finish it with `ccperf sweep … \
             --resume`, or add the shard that is absent",
            suspects.join(", ")
        )
    };
    format!(
        "{} of the {} runs of sweep {} are missing: {}; the inputs hold {} ({}): {hint}",
        missing.len(),
        sweep.runs,
        sweep.fingerprint,
        ranges(missing),
        sweep.runs - missing.len(),
        holdings.join(", ")
    )
}

/// The common step of sorted `runs` and their residue modulo it, when there are two or more.
fn stride(runs: &[usize]) -> Option<(usize, usize)> {
    let step = runs
        .windows(2)
        .map(|w| w[1] - w[0])
        .reduce(gcd)
        .filter(|&s| s > 0)?;
    Some((step, runs[0] % step))
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `0-3, 7, 11`, the first 20 ranges, then how many more runs.
fn ranges(sorted: &[usize]) -> String {
    let mut parts: Vec<(usize, usize)> = Vec::new();
    for &i in sorted {
        match parts.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => parts.push((i, i)),
        }
    }
    let shown: Vec<String> = parts
        .iter()
        .take(20)
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    let rest: usize = parts.iter().skip(20).map(|(a, b)| b - a + 1).sum();
    if rest == 0 {
        shown.join(", ")
    } else {
        format!("{} and {rest} more", shown.join(", "))
    }
}

/// Merge shard files into `out`; returns the number of runs written. Refused (naming the file
/// and line): a half-written last line, a line that is not a sealed record or whose checksum
/// fails, records of different sweeps, differing duplicates of a run; and an incomplete set,
/// naming the missing runs. Identical duplicates are kept once. `out` is replaced atomically.
pub fn merge_files(inputs: &[impl AsRef<Path>], out: &Path) -> Result<usize, SweepError> {
    let read = inputs
        .iter()
        .map(|p| {
            let name = p.as_ref().display().to_string();
            read_file_lines(p.as_ref())
                .map(|lines| (name.clone(), lines))
                .map_err(|e| SweepError::Io {
                    path: name,
                    message: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let merged = merge_read(&read)?;
    crate::export::file::write_atomically(out, merged.as_bytes()).map_err(|e| SweepError::Io {
        path: out.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(merged.lines().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_listed_as_ranges() {
        assert_eq!(ranges(&[0, 1, 2, 3, 7, 11, 12]), "0-3, 7, 11-12");
        let many: Vec<usize> = (0..100).step_by(2).collect();
        assert!(ranges(&many).ends_with("and 30 more"), "{}", ranges(&many));
    }

    #[test]
    fn a_shard_has_the_stride_of_its_runs() {
        assert_eq!(stride(&[1, 4, 7, 10]), Some((3, 1)));
        assert_eq!(stride(&[0, 1, 2]), Some((1, 0)));
        assert_eq!(stride(&[5]), None);
    }
}
