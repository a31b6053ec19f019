//! What commands print, without panicking (`println!` panics when stdout fails): a reader that
//! went away (`| head -1`) ends the output quietly; any other failure (`> /dev/full`) is a
//! message on stderr and exit code 2.

use super::EXIT_BAD_INPUT;
use std::io::{ErrorKind, Write};

/// Write `text` to stdout and flush it. Returns the exit code this adds: 0 when written or
/// when the reader closed the pipe, 2 (with a message on stderr) on any other failure.
pub fn print(text: &str) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => 0,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => 0,
        Err(e) => {
            note(&format!("error: cannot write to standard output: {e}"));
            EXIT_BAD_INPUT
        }
    }
}

/// A line on stderr; a closed or full stderr is ignored (`eprintln!` would panic).
pub fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The exit code of two outcomes: the worse one (2 over 1 over 0).
pub fn worst(a: i32, b: i32) -> i32 {
    a.max(b)
}
