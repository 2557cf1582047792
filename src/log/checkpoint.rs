//! Small metadata files in the partition directory, replaced atomically
//! (write temp, optionally fsync, rename) so a crash leaves old or new.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use super::LogError;

/// Holds the first offset still readable (`delete_records_before`).
pub(crate) const LOG_START_FILE: &str = "log-start-offset";
/// Offset below which every segment was fsync'ed and sealed; recovery only
/// scans segments at or after it.
pub(crate) const RECOVERY_POINT_FILE: &str = "recovery-point";
/// Present only between a clean `close` and the next `open`.
pub(crate) const CLEAN_SHUTDOWN_FILE: &str = ".clean-shutdown";
pub(crate) const LEADER_EPOCH_FILE: &str = "leader-epoch-checkpoint";
pub(crate) const LOCK_FILE: &str = ".lock";
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// fsync a directory so creations, renames and unlinks in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Atomically replaces `dir/name` with `contents`. With `durable`, the
/// new content survives power loss once this returns.
pub(crate) fn write_atomic(
    dir: &Path,
    name: &str,
    contents: &[u8],
    durable: bool,
) -> Result<(), LogError> {
    let tmp = dir.join(format!("{name}{TMP_SUFFIX}"));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    f.write_all(contents)?;
    if durable {
        f.sync_data()?;
    }
    drop(f);
    std::fs::rename(&tmp, dir.join(name))?;
    if durable {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Reads a file holding one decimal i64; `None` if missing or unreadable
/// (a lost checkpoint only makes recovery more conservative).
pub(crate) fn read_i64(dir: &Path, name: &str) -> Option<i64> {
    std::fs::read_to_string(dir.join(name))
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub(crate) fn write_i64(dir: &Path, name: &str, v: i64, durable: bool) -> Result<(), LogError> {
    write_atomic(dir, name, format!("{v}\n").as_bytes(), durable)
}
