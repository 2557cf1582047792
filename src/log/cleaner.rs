//! Log compaction (`cleanup.policy=compact`): keeps the newest record of
//! every key in the closed, committed segments of a log.
//!
//! Three steps, so that the log's lock is held only briefly:
//! 1. [`PartitionLog::cleaning_task`] (under the lock) picks the segments
//!    and says whether cleaning is due (dirty ratio, compaction lags);
//! 2. [`CleanTask::run`] (no lock) maps every key to its newest offset and
//!    writes each segment again without the records older ones of their
//!    key, as `<base>.log.cleaned`, fsync'ed;
//! 3. [`PartitionLog::install_cleaned`] (under the lock) swaps them in (see
//!    `cleaner_swap.rs` for the crash-safe order).
//!
//! Offsets never change: rewritten batches keep their base offset and
//! offset range, so readers see gaps. A batch that loses every record is
//! dropped, unless it is its segment's last (segments keep their offset
//! range, so the log stays contiguous segment to segment) or its producer's
//! last in the cleaned range (its id, epoch and sequence stay for
//! idempotent-producer state, as in Kafka); those stay as empty batches.
//! Transactional and control batches are copied as they are and their
//! records never count as a key's newest: an aborted write must not hide
//! the committed one before it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::checkpoint::{read_i64, write_i64};
use super::partition_log::PartitionLog;
use super::recovery::WindowReader;
use super::segment::file_name;
use super::{CompactionConfig, LogError};
use crate::record::batch::batch_len;
use crate::record::compact::{empty_batch, filter_batch, for_each_record, Filtered};
use crate::record::{inflate_limit_for, BatchHeader};

/// First offset the cleaner has not compacted yet (Kafka's
/// cleaner-offset-checkpoint, one per partition directory).
pub(super) const CLEANER_CHECKPOINT_FILE: &str = "cleaner-offset-checkpoint";
pub(super) const CLEANED_EXT: &str = "log.cleaned";
pub(super) const SWAP_EXT: &str = "log.swap";

/// Most memory the key map of one pass may take (Kafka's
/// `log.cleaner.dedupe.buffer.size` is 128 MiB too): a log with more keys
/// is cleaned in several passes, oldest segments first.
const MAX_MAP_BYTES: usize = 128 << 20;
/// What one map entry costs beyond its key bytes (hash table slot, Vec).
const MAP_ENTRY_OVERHEAD: usize = 64;
/// Largest batch the cleaner reads (as recovery).
const MAX_READ_BATCH: usize = 64 << 20;

/// The broker-wide cleaner I/O cap (bytes read plus written per second);
/// `None` is unthrottled. One per cleaning pass, shared by its partitions.
#[derive(Debug)]
pub struct CleanerThrottle {
    bytes_per_sec: Option<u64>,
    started: Instant,
    bytes: u64,
    /// Set by the broker when it shuts down: the pass stops at the next
    /// batch and its unfinished output is thrown away.
    cancel: Option<Arc<AtomicBool>>,
}

/// Longest single sleep, so a cancel is seen soon.
const SLEEP_SLICE: Duration = Duration::from_millis(100);

impl CleanerThrottle {
    pub fn new(bytes_per_sec: Option<u64>) -> Self {
        CleanerThrottle {
            bytes_per_sec: bytes_per_sec.filter(|&b| b > 0),
            started: Instant::now(),
            bytes: 0,
            cancel: None,
        }
    }

    pub fn with_cancel(mut self, cancel: Arc<AtomicBool>) -> Self {
        self.cancel = Some(cancel);
        self
    }

    fn check_cancel(&self) -> Result<(), LogError> {
        match &self.cancel {
            Some(c) if c.load(Ordering::Relaxed) => Err(LogError::Io(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "log cleaning cancelled",
            ))),
            _ => Ok(()),
        }
    }

    /// Counts `n` bytes of I/O and sleeps while the pass is ahead of the
    /// cap. Runs on a blocking thread, never on the broker's runtime.
    fn account(&mut self, n: u64) -> Result<(), LogError> {
        self.bytes += n;
        if let Some(rate) = self.bytes_per_sec {
            let due = Duration::from_secs_f64(self.bytes as f64 / rate as f64);
            loop {
                self.check_cancel()?;
                let elapsed = self.started.elapsed();
                if due <= elapsed {
                    break;
                }
                std::thread::sleep((due - elapsed).min(SLEEP_SLICE));
            }
        }
        self.check_cancel()
    }

    /// Bytes counted so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// One closed segment as the task found it.
#[derive(Debug)]
struct Source {
    base: i64,
    file: Arc<File>,
    size: u64,
    next_offset: i64,
    /// Last write (ms since the epoch): tombstones in it expire after
    /// `delete.retention.ms` from then.
    modified_ms: i64,
}

/// Work for [`CleanTask::run`]: owns everything it reads, needs no lock.
#[derive(Debug)]
pub struct CleanTask {
    dir: PathBuf,
    sources: Vec<Source>,
    config: CompactionConfig,
    inflate_limit: usize,
    now_ms: i64,
    truncations: u64,
    /// Expired tombstones at or past this offset stay (see
    /// `PartitionLog::tombstone_horizon`).
    tombstone_horizon: i64,
}

/// One rewritten segment, fsync'ed as `<base>.log.cleaned`.
#[derive(Debug)]
struct Cleaned {
    base: i64,
    source: Arc<File>,
    source_size: u64,
}

/// What [`CleanTask::run`] did, for [`PartitionLog::install_cleaned`].
#[derive(Debug)]
pub struct CleanOutcome {
    dir: PathBuf,
    cleaned: Vec<Cleaned>,
    truncations: u64,
    /// The cleaned range ends here (next cleaner checkpoint).
    end_offset: i64,
    /// A rewrite was thrown away (its segment changed meanwhile): the
    /// checkpoint stays, so the range is cleaned again.
    any_stale: bool,
    pub bytes_read: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

impl CleanOutcome {
    /// Every rewrite was swapped in or thrown away.
    pub fn is_installed(&self) -> bool {
        self.cleaned.is_empty()
    }
}

fn modified_ms(file: &File) -> Result<i64, LogError> {
    let t = file.metadata()?.modified()?;
    Ok(t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}

impl PartitionLog {
    /// The next cleaning pass if one is due: only closed segments wholly
    /// below the high watermark (a record not yet on every in-sync replica
    /// may still be truncated away) whose newest record is older than
    /// `min.compaction.lag.ms`. Due when the dirty part (past the cleaner
    /// checkpoint) is at least `min.cleanable.dirty.ratio` of them, or its
    /// oldest record is older than `max.compaction.lag.ms`.
    pub fn cleaning_task(&self, now_ms: i64) -> Result<Option<CleanTask>, LogError> {
        let Some(config) = self.config.compaction else {
            return Ok(None);
        };
        let active = self.active().base;
        let first_dirty = read_i64(&self.dir, CLEANER_CHECKPOINT_FILE).unwrap_or(0);
        let mut sources = Vec::new();
        let (mut total, mut dirty) = (0u64, 0u64);
        let mut oldest_dirty: Option<i64> = None;
        for seg in self.segments.values() {
            let closed = seg.base < active && seg.next_offset <= self.high_watermark;
            let old_enough = seg.max_timestamp <= now_ms.saturating_sub(config.min_lag_ms);
            if !closed || !old_enough {
                break;
            }
            if seg.is_empty() {
                continue;
            }
            total += seg.size;
            if seg.next_offset > first_dirty {
                dirty += seg.size;
                oldest_dirty = oldest_dirty.or(seg.first_timestamp);
            }
            sources.push(Source {
                base: seg.base,
                file: seg.log.clone(),
                size: seg.size,
                next_offset: seg.next_offset,
                modified_ms: modified_ms(&seg.log)?,
            });
        }
        if dirty == 0 {
            return Ok(None);
        }
        let ratio_due = dirty as f64 / total as f64 >= f64::from(config.min_dirty_ratio_ppm) / 1e6;
        let lag_due = oldest_dirty.is_some_and(|t| now_ms.saturating_sub(t) >= config.max_lag_ms);
        if !ratio_due && !lag_due {
            return Ok(None);
        }
        Ok(Some(CleanTask {
            dir: self.dir.clone(),
            sources,
            config,
            inflate_limit: inflate_limit_for(self.config.max_batch_bytes as usize),
            now_ms,
            truncations: self.truncations,
            tombstone_horizon: self.tombstone_horizon,
        }))
    }

    /// Swaps in what [`CleanTask::run`] wrote, for each segment still as
    /// the task saw it (retention or a truncation may have changed the log
    /// meanwhile; those rewrites are thrown away). Returns how many
    /// segments were replaced.
    pub fn install_cleaned(&mut self, mut outcome: CleanOutcome) -> Result<usize, LogError> {
        self.install_cleaned_part(&mut outcome, usize::MAX)
    }

    /// Like [`PartitionLog::install_cleaned`], for at most `max_segments`
    /// of the outcome's oldest rewrites; call again (taking the log's lock
    /// anew each time) until [`CleanOutcome::is_installed`]. Each swap
    /// costs directory fsyncs, and appends and fetches wait on the lock
    /// meanwhile: installing a big pass in parts bounds that wait. Oldest
    /// first, so every state between two parts is one a crash could leave
    /// (older segments cleaned, newer not), which is safe.
    pub fn install_cleaned_part(
        &mut self,
        outcome: &mut CleanOutcome,
        max_segments: usize,
    ) -> Result<usize, LogError> {
        let take = outcome.cleaned.len().min(max_segments);
        let part: Vec<Cleaned> = outcome.cleaned.drain(..take).collect();
        let still_there = |c: &Cleaned| {
            self.segments
                .get(&c.base)
                .is_some_and(|s| Arc::ptr_eq(&s.log, &c.source) && s.size == c.source_size)
        };
        let (keep, stale): (Vec<Cleaned>, Vec<Cleaned>) = if outcome.truncations == self.truncations
        {
            part.into_iter().partition(still_there)
        } else {
            (Vec::new(), part)
        };
        for c in &stale {
            super::cleaner_swap::discard(&outcome.dir, c.base)?;
        }
        outcome.any_stale |= !stale.is_empty();
        let bases: Vec<i64> = keep.iter().map(|c| c.base).collect();
        let n = super::cleaner_swap::swap_in(self, &bases)?;
        if outcome.is_installed() && !outcome.any_stale {
            write_i64(
                &self.dir,
                CLEANER_CHECKPOINT_FILE,
                outcome.end_offset,
                false,
            )?;
        }
        Ok(n)
    }
}

/// The last offset of every key in the sources, and the base offset of
/// every producer's last batch. Stops after the segment that fills the
/// map's budget, dropping the later sources from the task.
struct KeyMap {
    newest: HashMap<Vec<u8>, i64>,
    producers_last: HashMap<i64, i64>,
}

/// Calls `f(header, batch bytes)` for every batch of `source`.
fn each_batch(
    source: &Source,
    throttle: &mut CleanerThrottle,
    mut f: impl FnMut(&BatchHeader, &[u8]) -> Result<(), LogError>,
) -> Result<(), LogError> {
    let mut reader = WindowReader::new(&source.file, source.size);
    let mut pos = 0u64;
    while pos < source.size {
        let corrupt = |reason: &str| LogError::Corrupt {
            path: PathBuf::from(file_name(source.base, "log")),
            reason: format!("{reason} at {pos}"),
        };
        let prefix = reader
            .get(pos, 12)?
            .ok_or_else(|| corrupt("truncated batch"))?;
        let len = batch_len(prefix)?;
        if len > MAX_READ_BATCH {
            return Err(corrupt("oversized batch"));
        }
        let batch = reader
            .get(pos, len)?
            .ok_or_else(|| corrupt("truncated batch"))?;
        let h = BatchHeader::parse(batch)?;
        f(&h, batch)?;
        throttle.account(len as u64)?;
        pos += len as u64;
    }
    Ok(())
}

/// Batches whose records take part in compaction.
fn compactable(h: &BatchHeader) -> bool {
    !h.is_control() && !h.is_transactional()
}

impl CleanTask {
    fn build_map(&mut self, throttle: &mut CleanerThrottle) -> Result<KeyMap, LogError> {
        let mut map = KeyMap {
            newest: HashMap::new(),
            producers_last: HashMap::new(),
        };
        let mut bytes = 0usize;
        let limit = self.inflate_limit;
        for (i, source) in self.sources.iter().enumerate() {
            each_batch(source, throttle, |h, batch| {
                if h.producer_id >= 0 {
                    map.producers_last.insert(h.producer_id, h.base_offset);
                }
                if !compactable(h) {
                    return Ok(());
                }
                for_each_record(batch, limit, |r| {
                    if let Some(k) = r.key {
                        match map.newest.get_mut(k) {
                            Some(o) => *o = r.offset,
                            None => {
                                bytes += k.len() + MAP_ENTRY_OVERHEAD;
                                map.newest.insert(k.to_vec(), r.offset);
                            }
                        }
                    }
                })?;
                Ok(())
            })?;
            if bytes >= MAX_MAP_BYTES && i + 1 < self.sources.len() {
                self.sources.truncate(i + 1);
                break;
            }
        }
        Ok(map)
    }

    /// Rewrites the segments (see the module comment). Takes no lock: the
    /// log may change meanwhile, `install_cleaned` checks for that.
    pub fn run(mut self, throttle: &mut CleanerThrottle) -> Result<CleanOutcome, LogError> {
        let map = self.build_map(throttle)?;
        let mut outcome = CleanOutcome {
            dir: self.dir.clone(),
            cleaned: Vec::new(),
            any_stale: false,
            truncations: self.truncations,
            end_offset: self.sources.last().map_or(0, |s| s.next_offset),
            bytes_read: throttle.bytes(),
            bytes_before: 0,
            bytes_after: 0,
        };
        for source in &self.sources {
            let written = self.clean_one(source, &map, throttle)?;
            outcome.bytes_before += source.size;
            outcome.bytes_after += written.unwrap_or(source.size);
            if written.is_some() {
                outcome.cleaned.push(Cleaned {
                    base: source.base,
                    source: source.file.clone(),
                    source_size: source.size,
                });
            }
        }
        outcome.bytes_read = throttle.bytes();
        Ok(outcome)
    }

    /// Writes `source` without its superseded records as `.cleaned`; `None`
    /// (and no file) when nothing in it goes.
    fn clean_one(
        &self,
        source: &Source,
        map: &KeyMap,
        throttle: &mut CleanerThrottle,
    ) -> Result<Option<u64>, LogError> {
        let path = self.dir.join(file_name(source.base, CLEANED_EXT));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let tombstones_expire =
            source.modified_ms <= self.now_ms.saturating_sub(self.config.delete_retention_ms);
        let limit = self.inflate_limit;
        let mut written = 0u64;
        let mut changed = false;
        let result = each_batch(source, throttle, |h, batch| {
            let last_of_segment = h.next_offset() == source.next_offset;
            let producer_last = h.producer_id >= 0
                && map.producers_last.get(&h.producer_id) == Some(&h.base_offset);
            let filtered = if compactable(h) {
                filter_batch(batch, limit, |r| match r.key {
                    None => true,
                    Some(k) => {
                        map.newest.get(k) == Some(&r.offset)
                            && !(r.tombstone
                                && tombstones_expire
                                && r.offset < self.tombstone_horizon)
                    }
                })?
            } else {
                Filtered::All
            };
            let bytes = match filtered {
                Filtered::All => batch.to_vec(),
                Filtered::Some(v) => v,
                Filtered::Nothing if last_of_segment || producer_last => empty_batch(batch)?,
                Filtered::Nothing => Vec::new(),
            };
            changed |= bytes.len() != batch.len();
            out.write_all(&bytes)?;
            written += bytes.len() as u64;
            Ok(())
        });
        let finish = result.and_then(|()| {
            let file = out.into_inner().map_err(|e| e.into_error())?;
            if changed {
                // Tombstone expiry counts from the source's last write, so
                // the rewrite keeps that time.
                let mtime = UNIX_EPOCH + Duration::from_millis(source.modified_ms.max(0) as u64);
                file.set_modified(mtime.max(SystemTime::UNIX_EPOCH))?;
                file.sync_data()?;
            }
            Ok(())
        });
        let finish = finish.and_then(|()| throttle.account(written));
        if let Err(e) = finish {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        if !changed {
            std::fs::remove_file(&path)?;
            return Ok(None);
        }
        Ok(Some(written))
    }
}

#[cfg(test)]
#[path = "cleaner_tests.rs"]
mod tests;

/// Path of a cleaner file of segment `base`.
pub(super) fn cleaner_path(dir: &Path, base: i64, ext: &str) -> PathBuf {
    dir.join(file_name(base, ext))
}
