//! A file beside the SQLite database through which the processes sharing it say "something your
//! caches depend on changed": each such commit appends a byte, and a reader compares the file's
//! length and change time with what it saw last (`auth_cache`, `dir_cache`).
//!
//! The reader keeps the file open and asks the open file (`fstat`), not the path: a call on the
//! hot path then costs no path walk. So the file is never replaced, only grown and, past
//! [`LIMIT`], cut back to one byte; the change time tells a cut-back file from the earlier one of
//! the same length (a wrap takes thousands of commits, far longer than the clock's tick). A
//! file someone deletes by hand is no longer seen; the caches' ten-second age limit bounds what
//! that leaves behind.

use std::fs::File;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::PathBuf;
use std::sync::OnceLock;

/// Past this length the file is cut back to one byte.
pub const LIMIT: u64 = 4096;

/// One stamp file: `<database><suffix>`.
#[derive(Debug)]
pub struct StampFile {
    path: PathBuf,
    /// The file, once it exists.
    held: OnceLock<File>,
}

impl StampFile {
    /// The stamp file `<db_file><suffix>` (`-auth`, `-dir`).
    pub fn beside(db_file: &std::path::Path, suffix: &str) -> StampFile {
        let mut name = db_file.as_os_str().to_owned();
        name.push(suffix);
        StampFile {
            path: PathBuf::from(name),
            held: OnceLock::new(),
        }
    }

    /// The file's change time (nanoseconds) and length now, creating the file empty on the first
    /// read: `(0, 0)` only while it neither exists nor can be created; `None` when it cannot be
    /// read, since then it vouches for nothing.
    pub fn read(&self) -> Option<(u64, u64)> {
        let file = match self.held.get() {
            Some(f) => f,
            // Created (empty) by the first reader, not left to the first writer: while the file
            // did not exist, every read was a failed `open`, a path walk and a system call on
            // every API call until something changed. An empty file's stamp is its creation;
            // any later bump changes it. Where the file cannot be created (a read-only data
            // folder), it is opened as it is, and while it does not exist nothing was ever
            // written to vouch for.
            None => match std::fs::OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&self.path)
                .or_else(|_| File::open(&self.path))
            {
                Ok(f) => self.held.get_or_init(|| f),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some((0, 0)),
                Err(_) => return None,
            },
        };
        let m = file.metadata().ok()?;
        let ctime = u64::try_from(m.ctime())
            .ok()?
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::try_from(m.ctime_nsec()).ok()?);
        Some((ctime, m.len()))
    }

    /// Moves the stamp on: appends a byte, or past [`LIMIT`] cuts the file back to one byte.
    pub fn bump(&self) -> std::io::Result<()> {
        use std::io::Write as _;
        let full = std::fs::metadata(&self.path).is_ok_and(|m| m.len() >= LIMIT);
        std::fs::OpenOptions::new()
            .create(true)
            .append(!full)
            .write(true)
            .truncate(full)
            .mode(0o600)
            .open(&self.path)?
            .write_all(b".")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_bump_is_seen_by_a_reader_holding_the_file_even_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("bizmail.db");
        let reader = StampFile::beside(&db, "-auth");
        let writer = StampFile::beside(&db, "-auth");
        // The first read creates the file, empty.
        let mut last = reader.read().unwrap();
        assert_eq!(last.1, 0);
        assert!(dir.path().join("bizmail.db-auth").exists());
        for _ in 0..(LIMIT + 3) {
            writer.bump().unwrap();
            let now = reader.read().unwrap();
            assert_ne!(now, last);
            last = now;
        }
        assert_eq!(last.1, 3, "cut back to one byte, then grown");
        let mode = std::fs::metadata(dir.path().join("bizmail.db-auth"))
            .unwrap()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
