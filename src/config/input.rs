//! Reading input files with bounds: a size cap (so `/dev/zero` or a runaway generator is refused
//! instead of read forever) and a nesting cap checked before any parser sees the text (parsing
//! time grows with nesting depth). Both are independent of the YAML parser in use.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// Largest scenario, sweep or settings file read: 1 MiB. A hand-written file is a few KB; an
/// explicit edge list for 1000 validators with 10 links each is about 120 KB.
pub const MAX_INPUT_BYTES: u64 = 1 << 20;

/// Deepest nesting of mappings, sequences and flow collections a scenario or sweep file may
/// have. The scenario format needs 6 (the document, `network`, `partitions`, a partition,
/// `groups`, a group).
pub const MAX_NESTING: usize = 32;

/// Why an input file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The operating system refused (missing file, a directory, no permission, …).
    Io(std::io::Error),
    /// The file holds more than `limit` bytes (or is a device that never ends).
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The bytes are not UTF-8 text.
    NotText {
        /// Offset of the first invalid byte.
        offset: usize,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::TooLarge { limit } => write!(
                f,
                "larger than {} (the most an input file may hold; a device like /dev/zero never \
                 ends)",
                show_bytes(*limit)
            ),
            ReadError::NotText { offset } => {
                write!(f, "not UTF-8 text (invalid byte at offset {offset})")
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// `1 MiB`, `16 MiB`, or bytes.
fn show_bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// Read the UTF-8 text of `path`, at most `limit` bytes. A regular file larger than that is
/// refused before reading; anything else (a pipe, a device) is read up to the limit only.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if meta.is_dir() {
        return Err(ReadError::Io(std::io::Error::other(
            "it is a directory, not a file",
        )));
    }
    if meta.is_file() && meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotText {
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Where a text nests deeper than allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooDeep {
    /// 1-based line where the depth was first exceeded.
    pub line: usize,
    /// The cap that was exceeded.
    pub limit: usize,
}

impl fmt::Display for TooDeep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "nested deeper than {} levels of mappings, lists or brackets (a scenario needs 6)",
            self.limit
        )
    }
}

/// Refuse YAML `text` nested deeper than `limit`, without parsing it: block nesting is counted
/// from indentation and `- ` markers, flow nesting from `[`/`{` outside quotes and comments.
/// The count can only over-estimate a little (a block scalar's own indentation), never miss.
pub fn check_nesting(text: &str, limit: usize) -> Result<(), TooDeep> {
    // Columns of the open block nodes, innermost last.
    let mut open: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (number, line) in text.lines().enumerate() {
        let too_deep = TooDeep {
            line: number + 1,
            limit,
        };
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let mut column = indent;
        let mut content = rest;
        if flow == 0 {
            while open.last().is_some_and(|&c| c >= column) {
                open.pop();
            }
            open.push(column);
            // `- - x`: each sequence marker opens one more level.
            while let Some(after) = content.strip_prefix('-') {
                if !(after.is_empty() || after.starts_with(' ')) {
                    break;
                }
                let spaces = after.len() - after.trim_start_matches(' ').len();
                column += 1 + spaces;
                content = &after[spaces..];
                open.push(column);
            }
            if open.len() > limit {
                return Err(too_deep);
            }
        }
        flow = scan_flow(content, flow, open.len(), limit).map_err(|()| too_deep)?;
    }
    Ok(())
}

/// Track `[`/`{` nesting through one line's `content`, starting at depth `flow` inside `block`
/// block levels; returns the depth at the end of the line, or `Err` past `limit` in all.
fn scan_flow(content: &str, mut flow: usize, block: usize, limit: usize) -> Result<usize, ()> {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut chars = content.chars().peekable();
    // In block context a bracket opens a collection only where a value starts.
    let mut value_starts = true;
    while let Some(c) = chars.next() {
        match quote {
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => {
                if q == '\'' && chars.peek() == Some(&'\'') {
                    chars.next(); // '' is an escaped quote
                } else {
                    quote = None;
                }
            }
            Some(_) => {}
            None => match c {
                '#' if previous == ' ' || previous == '\t' => break,
                '"' | '\'' if value_starts => quote = Some(c),
                '[' | '{' if value_starts || flow > 0 => {
                    flow += 1;
                    if block + flow > limit {
                        return Err(());
                    }
                    previous = c;
                    value_starts = true;
                    continue;
                }
                ']' | '}' if flow > 0 => flow -= 1,
                _ => {}
            },
        }
        if quote.is_none() && !c.is_whitespace() {
            value_starts = matches!(c, ':' | '-' | '?' | ',');
        }
        previous = c;
    }
    Ok(flow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_nests_a_few_levels() {
        let text = "duration: 60s\nvalidators:\n  count: 4\nnetwork:\n  partitions:\n    - at: 1s\n      groups: [[0, 1], [2, 3]]\n";
        assert_eq!(check_nesting(text, 6), Ok(()));
        assert_eq!(check_nesting(text, 5), Err(TooDeep { line: 7, limit: 5 }));
    }

    #[test]
    fn deep_block_mappings_and_sequences_are_counted() {
        let mut text = String::new();
        for depth in 0..40 {
            text.push_str(&" ".repeat(depth));
            text.push_str("a:\n");
        }
        assert_eq!(
            check_nesting(&text, MAX_NESTING),
            Err(TooDeep {
                line: MAX_NESTING + 1,
                limit: MAX_NESTING
            })
        );
        let dashes = "- ".repeat(40) + "x\n";
        assert!(check_nesting(&dashes, MAX_NESTING).is_err());
        assert_eq!(check_nesting(&"- x\n".repeat(1000), MAX_NESTING), Ok(()));
    }

    #[test]
    fn flow_brackets_count_but_not_in_quotes_comments_or_words() {
        let deep = format!("a: {}1{}\n", "[".repeat(40), "]".repeat(40));
        assert!(check_nesting(&deep, MAX_NESTING).is_err());
        let spread = format!("a: {}\n1{}\n", "{b: ".repeat(40), "}".repeat(40));
        assert!(check_nesting(&spread, MAX_NESTING).is_err());
        let quoted = format!("a: \"{}\"\nb: '{}'\n", "[".repeat(40), "{".repeat(40));
        assert_eq!(check_nesting(&quoted, MAX_NESTING), Ok(()));
        let comment = format!("a: 1 # {}\n", "[".repeat(40));
        assert_eq!(check_nesting(&comment, MAX_NESTING), Ok(()));
        let word = format!("a: x{}\n", "[".repeat(40));
        assert_eq!(check_nesting(&word, MAX_NESTING), Ok(()));
    }

    #[test]
    fn devices_and_large_files_are_refused_by_size() {
        let zero = read_text(Path::new("/dev/zero"), 1024);
        assert!(matches!(zero, Err(ReadError::TooLarge { limit: 1024 })));
        let dir = std::env::temp_dir().join(format!("ccperf-input-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let big = dir.join("big.yaml");
        let _ = std::fs::write(&big, "x".repeat(2048));
        assert!(matches!(
            read_text(&big, 1024),
            Err(ReadError::TooLarge { limit: 1024 })
        ));
        assert_eq!(read_text(&big, 2048).map(|t| t.len()).ok(), Some(2048));
        assert!(matches!(read_text(&dir, 1024), Err(ReadError::Io(_))));
        let _ = std::fs::write(&big, [b'a', 0xff]);
        assert!(matches!(
            read_text(&big, 1024),
            Err(ReadError::NotText { offset: 1 })
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
