//! Writing an output file without clobbering what is not ours: readers never see a
//! half-written file, and nothing but a regular file is ever replaced.

use std::fs::{File, OpenOptions};
use std::io::{Error, ErrorKind, Write};
use std::path::{Path, PathBuf};

/// Write `bytes` to `path`. A new path or a regular file is written to a temporary file beside
/// it and renamed over it (keeping the old file's permissions), so a reader sees the old
/// content or the new, never half; a symlink is followed to its target, which is written the
/// same way (the link stays); a FIFO or a character device (`/dev/stdout`, `/dev/null`) is
/// written through in place; anything else (a directory, a socket, a block device, a dangling
/// link) is refused. Every failure, the last write or sync included, is an error.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return replace(path, bytes, None),
        Err(e) => return Err(e),
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path).map_err(|e| {
            Error::new(
                e.kind(),
                format!("it is a symlink whose target cannot be reached ({e}): refusing to replace the link"),
            )
        })?,
        Ok(_) => path.to_path_buf(),
    };
    let meta = match std::fs::metadata(&target) {
        Err(e) if e.kind() == ErrorKind::NotFound => return replace(&target, bytes, None),
        other => other?,
    };
    let kind = kind_of(&meta);
    match kind {
        Kind::Regular => replace(&target, bytes, Some(meta.permissions())),
        Kind::Stream => {
            let mut file = OpenOptions::new().write(true).open(&target)?;
            file.write_all(bytes)?;
            file.flush()
        }
        Kind::Other(what) => Err(Error::other(format!(
            "it is {what}, not a regular file: refusing to replace it"
        ))),
    }
}

/// What an existing path is, for writing.
enum Kind {
    /// A regular file: replaced atomically.
    Regular,
    /// A FIFO or character device: written through.
    Stream,
    /// Anything else, named for the message.
    Other(&'static str),
}

#[cfg(unix)]
fn kind_of(meta: &std::fs::Metadata) -> Kind {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        Kind::Regular
    } else if t.is_fifo() || t.is_char_device() {
        Kind::Stream
    } else if t.is_dir() {
        Kind::Other("a directory")
    } else if t.is_block_device() {
        Kind::Other("a block device")
    } else if t.is_socket() {
        Kind::Other("a socket")
    } else {
        Kind::Other("a special file")
    }
}

#[cfg(not(unix))]
fn kind_of(meta: &std::fs::Metadata) -> Kind {
    if meta.is_file() {
        Kind::Regular
    } else if meta.is_dir() {
        Kind::Other("a directory")
    } else {
        Kind::Other("a special file")
    }
}

/// Write a temporary file beside `path`, sync it, rename it over `path`.
fn replace(
    path: &Path,
    bytes: &[u8],
    permissions: Option<std::fs::Permissions>,
) -> std::io::Result<()> {
    let (tmp, mut file) = temporary_beside(path)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| match permissions {
            Some(p) => file.set_permissions(p),
            None => Ok(()),
        })
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A new file `.NAME.PID.N.tmp` in `path`'s folder (never an existing one).
fn temporary_beside(path: &Path) -> std::io::Result<(PathBuf, File)> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::other("the path names no file"))?;
    let mut last = None;
    for n in 0..100 {
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::other("no free temporary name")))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn scratch(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ccperf-file-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        dir
    }

    #[test]
    fn regular_files_are_replaced_and_links_kept() -> std::io::Result<()> {
        let dir = scratch("regular");
        let file = dir.join("a.prom");
        write_atomically(&file, b"one")?;
        write_atomically(&file, b"two")?;
        assert_eq!(std::fs::read(&file)?, b"two");
        let link = dir.join("link.prom");
        std::os::unix::fs::symlink(&file, &link)?;
        write_atomically(&link, b"three")?;
        assert!(std::fs::symlink_metadata(&link)?.file_type().is_symlink());
        assert_eq!(std::fs::read(&file)?, b"three");
        let entries = std::fs::read_dir(&dir)?.count();
        assert_eq!(entries, 2, "no temporary file left behind");
        let _ = std::fs::remove_dir_all(dir);
        Ok(())
    }

    #[test]
    fn devices_are_written_through_or_refused() -> std::io::Result<()> {
        write_atomically(Path::new("/dev/null"), b"gone")?;
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata("/dev/null")?.file_type().is_char_device());
        let full = write_atomically(Path::new("/dev/full"), b"x");
        assert!(full.is_err(), "a full device is a failed write");
        let dir = scratch("dir");
        let refused = write_atomically(&dir, b"x").expect_err("a directory");
        assert!(refused.to_string().contains("a directory"), "{refused}");
        let dangling = dir.join("dangling");
        std::os::unix::fs::symlink(dir.join("missing/x"), &dangling)?;
        assert!(write_atomically(&dangling, b"x").is_err());
        let _ = std::fs::remove_dir_all(dir);
        Ok(())
    }
}
