//! Private files: the data folder is 0700 and every file the service creates in it (database,
//! WAL, shared memory, blobs, key file) 0600, so other users of the machine read none of it.
//!
//! The process's file-creation mask is set to 077 at start ([`restrict_umask`]), which covers
//! files created by libraries (SQLite's WAL and `-shm`, the object store's files); the data
//! folder and the database file are also created with explicit modes.

use std::path::Path;

use anyhow::Context;

/// Files and folders created from now on are readable by their owner only.
pub fn restrict_umask() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates `dir` (and its parents) if needed; a folder created here is 0700.
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Creates an empty file with mode 0600 unless it exists (SQLite gives its WAL and `-shm`
/// the database file's mode).
pub fn private_file(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn created_private_and_existing_ones_left_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/data");
        private_dir(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join("feedbackd.db");
        private_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        std::fs::write(&db, b"kept").unwrap();
        private_file(&db).unwrap();
        assert_eq!(std::fs::read(&db).unwrap(), b"kept");
    }
}
