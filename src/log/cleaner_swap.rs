//! Swapping cleaned segments in, crash-safe at every step.
//!
//! The cleaner writes each rewritten segment as `<base>.log.cleaned` and
//! fsyncs it. Then, under the log's lock:
//! 1. each `.cleaned` is renamed to `<base>.log.swap`, oldest first, with
//!    the directory fsync'ed after each: a `.swap` file is a committed
//!    rewrite. Oldest first because a newer segment may have lost a
//!    tombstone whose key's older records are removed in an older one: a
//!    crash must never leave the newer one cleaned and the older one not;
//! 2. each `.swap` replaces its `.log` by rename (the old file stays
//!    readable to fetches already holding it), and its indexes are rebuilt.
//!
//! On open, [`complete_swaps`] finishes the job: a `.cleaned` file was never
//! committed and is deleted (the original is intact); a `.swap` file was,
//! and replaces its `.log` (whose indexes are dropped so recovery rebuilds
//! them). Either way every record the log had is still there or was
//! superseded by a newer record of its key that is.

use std::path::Path;

use super::checkpoint::sync_dir;
use super::cleaner::{cleaner_path, CLEANED_EXT, SWAP_EXT};
use super::partition_log::{PartitionLog, RECOVERY_MAX_BATCH};
use super::recovery::recover_segment;
use super::segment::{file_name, Segment};
use super::LogError;

fn remove_if_exists(path: &Path) -> Result<(), LogError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// Base offset of a `<20 digits>.<ext>` file name with that extension.
fn base_of(name: &str, ext: &str) -> Option<i64> {
    let (stem, e) = name.split_once('.')?;
    if e != ext || stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// Finishes or undoes a swap cut short (see the module comment). Runs
/// before the segments are opened.
pub(super) fn complete_swaps(dir: &Path) -> Result<(), LogError> {
    let mut changed = false;
    let mut swaps = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if base_of(name, CLEANED_EXT).is_some() {
            std::fs::remove_file(entry.path())?;
            changed = true;
        } else if let Some(base) = base_of(name, SWAP_EXT) {
            swaps.push(base);
        }
    }
    swaps.sort_unstable();
    for base in swaps {
        tracing::info!(dir = %dir.display(), base, "completing an interrupted compaction swap");
        drop_indexes(dir, base)?;
        std::fs::rename(
            cleaner_path(dir, base, SWAP_EXT),
            dir.join(file_name(base, "log")),
        )?;
        changed = true;
    }
    if changed {
        sync_dir(dir)?;
    }
    Ok(())
}

fn drop_indexes(dir: &Path, base: i64) -> Result<(), LogError> {
    remove_if_exists(&dir.join(file_name(base, "index")))?;
    remove_if_exists(&dir.join(file_name(base, "timeindex")))
}

/// Deletes the cleaner's output for `base` (a rewrite not installed).
pub(super) fn discard(dir: &Path, base: i64) -> Result<(), LogError> {
    remove_if_exists(&cleaner_path(dir, base, CLEANED_EXT))
}

/// Opens `<base>.log` as it is now, rebuilding its indexes.
fn reopen(log: &PartitionLog, base: i64) -> Result<Segment, LogError> {
    let mut seg = Segment::open_for_recovery(&log.dir, base)?;
    recover_segment(
        &mut seg,
        log.config.index_interval_bytes,
        RECOVERY_MAX_BATCH,
    )?;
    seg.seal()?;
    Ok(seg)
}

/// Installs the `.cleaned` files of `bases` (closed segments of `log`,
/// ascending). Returns how many were swapped in.
pub(super) fn swap_in(log: &mut PartitionLog, bases: &[i64]) -> Result<usize, LogError> {
    if bases.is_empty() {
        return Ok(0);
    }
    let dir = log.dir.clone();
    for &base in bases {
        std::fs::rename(
            cleaner_path(&dir, base, CLEANED_EXT),
            cleaner_path(&dir, base, SWAP_EXT),
        )?;
        sync_dir(&dir)?;
    }
    for &base in bases {
        // The old segment's index maps go before its files are replaced;
        // fetches already holding its log file keep reading that.
        drop(log.segments.remove(&base));
        let swapped = drop_indexes(&dir, base).and_then(|()| {
            std::fs::rename(
                cleaner_path(&dir, base, SWAP_EXT),
                dir.join(file_name(base, "log")),
            )
            .map_err(LogError::from)
        });
        // Whatever `<base>.log` holds now (old or new) is a valid segment.
        let seg = reopen(log, base)?;
        log.segments.insert(base, seg);
        swapped?;
    }
    sync_dir(&dir)?;
    Ok(bases.len())
}
