//! The partition log: an ordered set of segments in one directory.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::checkpoint::{
    read_i64, sync_dir, write_i64, CLEAN_SHUTDOWN_FILE, LOCK_FILE, LOG_START_FILE,
    RECOVERY_POINT_FILE, TMP_SUFFIX,
};
use super::epoch_cache::EpochCache;
use super::recovery::recover_segment;
use super::retention::{segments_to_delete, SegmentInfo};
use super::segment::Segment;
use super::{LogConfig, LogError};
use crate::record::{
    batches, inflate_limit_for, stamp, validate_batch, validate_batch_inflated, BatchHeader,
};

/// Recovery accepts batches up to this size even if `max_batch_bytes` is
/// lower now (it may have been lowered after they were written).
pub(super) const RECOVERY_MAX_BATCH: u64 = 64 << 20;

/// Result of a successful append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    pub base_offset: i64,
    pub last_offset: i64,
    pub max_timestamp: i64,
    pub record_count: i64,
    pub bytes: usize,
}

/// A byte range of whole batches in a segment file, ready for
/// pread/sendfile without decoding.
#[derive(Debug, Clone)]
pub struct FileSlice {
    pub file: Arc<File>,
    pub position: u64,
    pub len: usize,
}

/// What a read returns: slices in offset order plus the log's bounds.
#[derive(Debug, Clone)]
pub struct ReadResult {
    pub slices: Vec<FileSlice>,
    pub log_start_offset: i64,
    pub high_watermark: i64,
    pub log_end_offset: i64,
    /// The offset after the last batch in `slices` (the fetch offset when
    /// nothing was read): with the fetch offset, how many offsets a fetch
    /// delivered, for the broker's records-out counters.
    pub next_offset: i64,
}

impl ReadResult {
    /// Total bytes across slices.
    pub fn len(&self) -> usize {
        self.slices.iter().map(|s| s.len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.slices.is_empty()
    }
}

/// The page size `release_cache` rounds down to (the smallest Linux uses;
/// a larger real page only means a partial page is kept).
const PAGE_SIZE: u64 = 4096;

/// Files to fdatasync to make everything up to `offset` durable. Holds
/// its own handles, so `sync` runs without the log's lock (group commit).
#[derive(Debug, Clone)]
pub struct FlushTarget {
    files: Vec<Arc<File>>,
    offset: i64,
    /// Whole pages of the active segment that `sync` makes clean (the
    /// partial last page stays: the next append writes into it).
    clean_pages: u64,
    /// The log's truncation count when this was taken: a sync that
    /// started before a truncation proves nothing about what was appended
    /// after it (see [`PartitionLog::mark_durable`]).
    pub(super) truncations: u64,
}

impl FlushTarget {
    /// fdatasyncs the files; afterwards pass `self` to
    /// [`PartitionLog::mark_durable`]. Returns the offset it covers
    /// (exclusive: all offsets below it).
    pub fn sync(&self) -> Result<i64, LogError> {
        for f in &self.files {
            f.sync_data()?;
        }
        Ok(self.offset)
    }

    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// After [`sync`](Self::sync): drops the active segment's synced pages
    /// from the page cache. For a replica nobody reads (a follower): its
    /// cold copy then does not take page cache from the leaders' hot data,
    /// and the kernel reuses the freed pages for the next writes instead
    /// of taking fresh ones (on a VM, a page never touched before costs a
    /// host fault: this halves the CPU of a follower's write path here).
    /// Advisory: an error only means the pages stay cached.
    pub fn release_cache(&self) {
        use std::os::fd::AsRawFd;
        if let Some(f) = self.files.last() {
            if self.clean_pages > 0 {
                // SAFETY: a plain syscall on an fd this struct keeps open.
                unsafe {
                    libc::posix_fadvise(
                        f.as_raw_fd(),
                        0,
                        self.clean_pages as libc::off_t,
                        libc::POSIX_FADV_DONTNEED,
                    );
                }
            }
        }
    }
}

/// A partition's log. See `docs/storage.md` for the on-disk format.
#[derive(Debug)]
pub struct PartitionLog {
    pub(super) dir: PathBuf,
    pub(super) config: LogConfig,
    /// Held (flock) for the lifetime of the handle; released on drop.
    _lock: File,
    /// Keyed by base offset; never empty; the last one is active.
    pub(super) segments: BTreeMap<i64, Segment>,
    pub(super) log_start: i64,
    pub(super) high_watermark: i64,
    durable: i64,
    /// Bumped by every truncation; see `FlushTarget::truncations`.
    pub(super) truncations: u64,
    epochs: EpochCache,
    /// The cleaner removes an expired tombstone only below this offset
    /// (`i64::MAX`: no limit, a single node). In a cluster it is the
    /// smallest log end offset over every replica of the partition, so a
    /// tombstone stays until every replica has it, however long one was
    /// away: a replica that never saw it would bring the deleted key back.
    pub(super) tombstone_horizon: i64,
}

fn lock_dir(dir: &Path) -> Result<File, LogError> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK_FILE))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(TryLockError::WouldBlock) => Err(LogError::Locked(dir.to_owned())),
        Err(TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Base offsets of `.log` files; removes leftovers (temp files, indexes
/// without a log) from interrupted operations.
fn scan_dir(dir: &Path) -> Result<Vec<i64>, LogError> {
    let mut logs = Vec::new();
    let mut indexes = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(TMP_SUFFIX) {
            std::fs::remove_file(entry.path())?;
            continue;
        }
        let Some((stem, ext)) = name.split_once('.') else {
            continue;
        };
        if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(base) = stem.parse::<i64>() else {
            continue;
        };
        match ext {
            "log" => logs.push(base),
            "index" | "timeindex" => indexes.push((base, entry.path())),
            _ => {}
        }
    }
    logs.sort_unstable();
    for (base, path) in indexes {
        if logs.binary_search(&base).is_err() {
            std::fs::remove_file(path)?;
        }
    }
    Ok(logs)
}

impl PartitionLog {
    /// Opens (creating if needed) the log in `dir`: takes the directory
    /// lock, then recovers. After an unclean shutdown every segment at or
    /// after the recovery point is scanned and cut at the first bad batch.
    pub fn open(dir: &Path, config: LogConfig) -> Result<Self, LogError> {
        // A directory made just now has nothing to recover and nothing to
        // make durable but its new segment's entries: no epoch file, no
        // fdatasync of an empty log (creating thousands of partitions is
        // fsync-bound). Its own entry in the parent is the caller's to sync.
        let fresh = !dir.exists();
        std::fs::create_dir_all(dir)?;
        let lock = lock_dir(dir)?;
        let clean_marker = dir.join(CLEAN_SHUTDOWN_FILE);
        let clean = clean_marker.exists();
        if clean {
            // Must be gone durably before we write anything, or a later
            // crash would be mistaken for a clean shutdown.
            std::fs::remove_file(&clean_marker)?;
            sync_dir(dir)?;
        }
        super::cleaner_swap::complete_swaps(dir)?;
        let bases = scan_dir(dir)?;
        let recovery_point = if clean {
            i64::MAX
        } else {
            read_i64(dir, RECOVERY_POINT_FILE).unwrap_or(0)
        };
        let mut epochs = EpochCache::load(dir);
        let mut segments = BTreeMap::new();
        let mut expected: Option<i64> = None;
        let mut cut = false;
        let last_base = bases.last().copied();
        for &base in &bases {
            if cut || expected.is_some_and(|e| e != base) {
                // Everything after a damaged or discontinuous point goes:
                // serving it would leave a hole in the offsets.
                tracing::warn!(dir = %dir.display(), base, "deleting segment after damaged log point");
                Segment::open_for_recovery(dir, base)?.delete()?;
                cut = true;
                continue;
            }
            let is_last = Some(base) == last_base;
            let trusted = clean || (base < recovery_point && !is_last);
            let seg = if trusted {
                Segment::open_trusted(dir, base)?
            } else {
                None
            };
            let seg = match seg {
                Some(s) => s,
                None => {
                    let mut s = Segment::open_for_recovery(dir, base)?;
                    let r =
                        recover_segment(&mut s, config.index_interval_bytes, RECOVERY_MAX_BATCH)?;
                    for (e, o) in r.epochs {
                        epochs.assign(e, o);
                    }
                    if r.truncated_bytes > 0 {
                        cut = true;
                    }
                    if !is_last {
                        s.seal()?;
                    }
                    s
                }
            };
            expected = Some(seg.next_offset);
            segments.insert(base, seg);
        }
        let start_ckpt = read_i64(dir, LOG_START_FILE).unwrap_or(0);
        if segments.is_empty() {
            let base = start_ckpt.max(0);
            segments.insert(base, Segment::create(dir, base)?);
            sync_dir(dir)?;
        }
        let mut log = PartitionLog {
            dir: dir.to_owned(),
            config,
            _lock: lock,
            segments,
            log_start: 0,
            high_watermark: 0,
            durable: 0,
            truncations: 0,
            epochs,
            tombstone_horizon: i64::MAX,
        };
        let leo = log.log_end_offset();
        let first_base = log.segments.keys().next().copied().unwrap_or(leo);
        log.log_start = start_ckpt.max(first_base).min(leo);
        if start_ckpt > log.log_start {
            // The checkpoint names a start beyond the log end: a restart
            // at a later offset (`truncate_fully_and_start_at`) stopped
            // before its new segment existed, or power loss took the tail.
            // Records appended from here on must not hide below it.
            write_i64(dir, LOG_START_FILE, log.log_start, true)?;
        }
        log.active_mut().make_active()?;
        // No epoch for offsets that are gone, at either end (a restart cut
        // short between its checkpoints leaves the old history behind).
        let mut epochs_changed = log.epochs.truncate_from(leo);
        epochs_changed |= log.epochs.truncate_before(log.log_start);
        if epochs_changed || (!clean && !fresh) {
            log.epochs.save(dir)?;
        }
        // Whatever recovery kept may only be in the page cache; make it
        // durable once so `durable_offset` is truthful from the start.
        if !fresh {
            log.active().log.sync_data()?;
        }
        log.durable = leo;
        log.high_watermark = leo;
        Ok(log)
    }

    pub(super) fn active(&self) -> &Segment {
        // Invariant: `segments` is never empty.
        match self.segments.last_key_value() {
            Some((_, s)) => s,
            None => unreachable!("partition log always has an active segment"),
        }
    }

    fn active_mut(&mut self) -> &mut Segment {
        match self.segments.last_entry() {
            Some(e) => e.into_mut(),
            None => unreachable!("partition log always has an active segment"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn log_start_offset(&self) -> i64 {
        self.log_start
    }

    pub fn log_end_offset(&self) -> i64 {
        self.active().next_offset
    }

    pub fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    /// See the field: where expired tombstones may be removed below.
    pub fn tombstone_horizon(&self) -> i64 {
        self.tombstone_horizon
    }

    pub fn set_tombstone_horizon(&mut self, offset: i64) {
        self.tombstone_horizon = offset;
    }

    /// Sets the high watermark, clamped to `[log_start, log_end]`.
    /// It is not persisted: `open` starts with hw = log end offset.
    pub fn set_high_watermark(&mut self, hw: i64) {
        self.high_watermark = hw.clamp(self.log_start, self.log_end_offset());
    }

    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// Replaces the config; applies to subsequent appends/rolls/retention.
    pub fn set_config(&mut self, config: LogConfig) {
        self.config = config;
    }

    pub fn size_bytes(&self) -> u64 {
        self.segments.values().map(|s| s.size).sum()
    }

    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Splits and validates every batch; nothing is written on error.
    /// A leader (`inflate`) also walks the records of compressed batches,
    /// inflated within a multiple of the batch size limit, so a producer's
    /// corrupt or bomb batch is refused before it is stored; a follower
    /// copies what its leader already checked.
    fn validate_all(&self, buf: &[u8], inflate: bool) -> Result<Vec<BatchHeader>, LogError> {
        let max = self.config.max_batch_bytes as usize;
        let limit = inflate_limit_for(max);
        let mut headers = Vec::new();
        for b in batches(buf) {
            let b = b?;
            if b.len() > max {
                return Err(LogError::BatchTooLarge { size: b.len(), max });
            }
            headers.push(if inflate {
                validate_batch_inflated(b, limit)?
            } else {
                validate_batch(b)?
            });
        }
        if headers.is_empty() {
            return Err(LogError::EmptyAppend);
        }
        Ok(headers)
    }

    /// Leader append: validates every batch, assigns offsets from the log
    /// end offset, stamps `leader_epoch`, and writes all batches with one
    /// write. Returns once the bytes are in the OS (survive kill -9);
    /// durability against power loss is the caller's `FlushTarget` job.
    pub fn append(&mut self, buf: &mut [u8], leader_epoch: i32) -> Result<AppendInfo, LogError> {
        let mut headers = self.validate_all(buf, true)?;
        let base = self.log_end_offset();
        let mut next = base;
        let mut pos = 0usize;
        for h in &mut headers {
            let len = h.total_len();
            stamp(&mut buf[pos..pos + len], next, leader_epoch);
            h.base_offset = next;
            h.partition_leader_epoch = leader_epoch;
            next = h.next_offset();
            pos += len;
        }
        if self.epochs.assign(leader_epoch, base) {
            self.epochs.save(&self.dir)?;
        }
        self.write(buf, &headers)
    }

    /// Replica append: batches keep their offsets and epochs, and must
    /// continue the log exactly.
    pub fn append_as_follower(&mut self, buf: &mut [u8]) -> Result<AppendInfo, LogError> {
        let headers = self.validate_all(buf, false)?;
        let mut expected = self.log_end_offset();
        for h in &headers {
            // A compacted leader log has gaps between batches.
            if h.base_offset < expected {
                return Err(LogError::NonContiguous {
                    expected,
                    actual: h.base_offset,
                });
            }
            expected = h.next_offset();
        }
        let mut changed = false;
        for h in &headers {
            changed |= self.epochs.assign(h.partition_leader_epoch, h.base_offset);
        }
        if changed {
            self.epochs.save(&self.dir)?;
        }
        self.write(buf, &headers)
    }

    fn write(&mut self, buf: &[u8], headers: &[BatchHeader]) -> Result<AppendInfo, LogError> {
        let (Some(first), Some(last)) = (headers.first(), headers.last()) else {
            return Err(LogError::EmptyAppend);
        };
        let active = self.active();
        let len = buf.len() as u64;
        let full = !active.is_empty() && active.size + len > self.config.segment_bytes;
        if full || !active.can_fit(len, last.next_offset()) {
            self.roll()?;
        }
        let interval = self.config.index_interval_bytes;
        let limit = self.config.segment_bytes;
        let active = self.active_mut();
        active.reserve(active.size + len, limit);
        active.append(buf, headers, interval)?;
        Ok(AppendInfo {
            base_offset: first.base_offset,
            last_offset: last.last_offset(),
            max_timestamp: headers.iter().map(|h| h.max_timestamp).max().unwrap_or(-1),
            record_count: headers.iter().map(|h| i64::from(h.records_count)).sum(),
            bytes: buf.len(),
        })
    }

    /// Seals the active segment (fsync + trimmed indexes) and starts a new
    /// one at the log end offset. Syncing here keeps every non-active
    /// segment durable, so `FlushTarget` only ever covers the active one.
    fn roll(&mut self) -> Result<(), LogError> {
        if self.active().is_empty() {
            return Ok(());
        }
        let leo = self.log_end_offset();
        self.active_mut().seal()?;
        let seg = Segment::create(&self.dir, leo)?;
        self.segments.insert(leo, seg);
        sync_dir(&self.dir)?;
        self.durable = self.durable.max(leo);
        // Not fsync'ed: a stale recovery point only means more scanning.
        write_i64(&self.dir, RECOVERY_POINT_FILE, leo, false)?;
        Ok(())
    }

    /// Time-based roll: when the active segment's first batch is older
    /// than `segment_ms`.
    /// With compaction, also when it is older than `max.compaction.lag.ms`
    /// (only closed segments are cleaned).
    pub fn maybe_roll(&mut self, now_ms: i64) -> Result<(), LogError> {
        let max_age = match self.config.compaction {
            Some(c) => self.config.segment_ms.min(c.max_lag_ms),
            None => self.config.segment_ms,
        };
        let due = self
            .active()
            .first_timestamp
            .is_some_and(|t| now_ms.saturating_sub(t) >= max_age);
        if due {
            self.roll()?;
        }
        Ok(())
    }

    /// Forces a roll (tests, admin tools). No-op on an empty segment.
    pub fn force_roll(&mut self) -> Result<(), LogError> {
        self.roll()
    }

    /// Reads whole batches from the one containing `offset`, up to
    /// `max_bytes` (at least one batch if any exists; Kafka semantics),
    /// bounded by the log end offset.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<ReadResult, LogError> {
        self.read_bounded(offset, max_bytes, self.log_end_offset())
    }

    /// Like [`read`](Self::read) but never returns batches with offsets at
    /// or above the high watermark (what consumers may see).
    pub fn read_committed(&self, offset: i64, max_bytes: usize) -> Result<ReadResult, LogError> {
        self.read_bounded(offset, max_bytes, self.high_watermark)
    }

    /// Read with an explicit exclusive upper offset bound: only batches
    /// whose last offset is below `upper_bound` are returned.
    pub fn read_bounded(
        &self,
        offset: i64,
        max_bytes: usize,
        upper_bound: i64,
    ) -> Result<ReadResult, LogError> {
        let leo = self.log_end_offset();
        if offset < self.log_start || offset > leo {
            return Err(LogError::OffsetOutOfRange {
                requested: offset,
                start: self.log_start,
                end: leo,
            });
        }
        let mut result = ReadResult {
            slices: Vec::new(),
            log_start_offset: self.log_start,
            high_watermark: self.high_watermark,
            log_end_offset: leo,
            next_offset: offset,
        };
        let upper = upper_bound.min(leo);
        if offset >= upper {
            return Ok(result);
        }
        let mut budget = max_bytes as u64;
        let mut first = true;
        for (_, seg) in self
            .segments
            .range(..=offset)
            .next_back()
            .into_iter()
            .chain(self.segments.range(offset + 1..))
        {
            if seg.base >= upper || (!first && budget == 0) {
                break;
            }
            let start = if first {
                match seg.find_batch(offset)? {
                    Some((p, _)) => p,
                    None => continue,
                }
            } else {
                0
            };
            let end = seg.read_end(start, budget, upper, first)?;
            if end > start {
                let len = end - start;
                result.slices.push(FileSlice {
                    file: seg.log.clone(),
                    position: start,
                    len: len as usize,
                });
                budget = budget.saturating_sub(len);
                first = false;
                result.next_offset = if end < seg.size {
                    seg.read_header(end)?.base_offset
                } else {
                    seg.next_offset
                };
            } else if !first {
                break;
            }
            if end < seg.size {
                break;
            }
        }
        Ok(result)
    }

    /// Kafka ListOffsets by timestamp: the first record at or after the
    /// log start with timestamp >= `ts`, as (offset, timestamp).
    pub fn offset_for_timestamp(&self, ts: i64) -> Result<Option<(i64, i64)>, LogError> {
        for seg in self.segments.values() {
            if seg.next_offset <= self.log_start {
                continue;
            }
            if let Some(found) = seg.find_by_timestamp(ts, self.log_start)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Removes every batch whose offsets reach `offset` or beyond. A point
    /// inside a batch removes that whole batch, so the new log end offset
    /// may be below `offset`. A point below the log start empties the log
    /// and restarts it at `offset`.
    pub fn truncate_to(&mut self, offset: i64) -> Result<(), LogError> {
        if offset >= self.log_end_offset() {
            return Ok(());
        }
        let first_base = self.segments.keys().next().copied().unwrap_or(0);
        if offset < self.log_start || offset <= first_base {
            return self.truncate_fully_and_start_at(offset.max(0));
        }
        // Drop whole segments above the point, newest first.
        while let Some((&base, _)) = self.segments.last_key_value() {
            if base <= offset || self.segments.len() == 1 {
                break;
            }
            if let Some((_, seg)) = self.segments.pop_last() {
                seg.delete()?;
            }
        }
        let seg = self.active_mut();
        let (pos, next) = match seg.find_batch(offset)? {
            Some((p, h)) => (p, h.base_offset),
            None => (seg.size, seg.next_offset),
        };
        seg.truncate_to(pos, next)?;
        seg.make_active()?;
        seg.log.sync_data()?;
        self.after_truncate()
    }

    /// Empties the log and restarts it at `offset`, which may lie beyond
    /// the log end: Kafka's `truncateFullyAndStartAt`, for a follower
    /// whose log ends below the leader's log start. Afterwards log start =
    /// log end = high watermark = durable offset = `offset`, and no leader
    /// epoch is known (none of the old ones has records any more).
    ///
    /// Crash safety: `open` after a crash at any step finds the old log
    /// (at most without its oldest segments, as after retention) or an
    /// empty one, never a log claiming records it does not have:
    /// 1. the log-start checkpoint says `offset` (fsync'ed): `open` now
    ///    treats every old record as below the start, clamping the start
    ///    to the log end when `offset` lies beyond it;
    /// 2. the epoch checkpoint is emptied (fsync'ed; `open` also drops
    ///    epochs below the start, so a crash between 1 and 2 is covered);
    /// 3. the old segments but the last are unlinked oldest first, so a
    ///    crash leaves a contiguous suffix; the directory is fsync'ed;
    /// 4. the new segment is created before the last old one goes, so
    ///    `segments` is never empty even when a step fails. A crash in
    ///    between leaves two segments that do not continue each other, and
    ///    `open` deletes the second: either way no record is kept above
    ///    the start. The directory is fsync'ed again.
    pub fn truncate_fully_and_start_at(&mut self, offset: i64) -> Result<(), LogError> {
        if offset < 0 {
            return Err(LogError::OffsetOutOfRange {
                requested: offset,
                start: self.log_start,
                end: self.log_end_offset(),
            });
        }
        self.truncations += 1;
        let result = self.restart_at(offset);
        if result.is_err() {
            // Whatever is left in memory keeps valid bounds.
            let leo = self.log_end_offset();
            let first = self.segments.keys().next().copied().unwrap_or(leo);
            self.log_start = self.log_start.max(first).min(leo);
            self.high_watermark = self.high_watermark.clamp(self.log_start, leo);
            self.durable = self.durable.min(leo);
        }
        result
    }

    /// The steps of `truncate_fully_and_start_at`, in crash-safe order.
    fn restart_at(&mut self, offset: i64) -> Result<(), LogError> {
        write_i64(&self.dir, LOG_START_FILE, offset, true)?;
        self.epochs.clear();
        self.epochs.save(&self.dir)?;
        while self.segments.len() > 1 {
            if let Some((_, seg)) = self.segments.pop_first() {
                seg.delete()?;
            }
        }
        sync_dir(&self.dir)?;
        let old_base = self.active().base;
        if old_base == offset {
            // The new segment would have the old one's file names: empty
            // it in place instead.
            let seg = self.active_mut();
            seg.truncate_to(0, offset)?;
            seg.make_active()?;
            seg.log.sync_data()?;
        } else {
            let seg = Segment::create(&self.dir, offset)?;
            self.segments.insert(offset, seg);
            if let Some(old) = self.segments.remove(&old_base) {
                old.delete()?;
            }
        }
        sync_dir(&self.dir)?;
        self.log_start = offset;
        self.high_watermark = offset;
        self.durable = offset;
        // Not fsync'ed: the last segment is always scanned anyway.
        write_i64(&self.dir, RECOVERY_POINT_FILE, offset, false)?;
        Ok(())
    }

    fn after_truncate(&mut self) -> Result<(), LogError> {
        self.truncations += 1;
        let leo = self.log_end_offset();
        self.high_watermark = self.high_watermark.min(leo);
        self.durable = self.durable.min(leo);
        if self.log_start > leo {
            self.log_start = leo;
            write_i64(&self.dir, LOG_START_FILE, leo, true)?;
        }
        write_i64(&self.dir, RECOVERY_POINT_FILE, self.active().base, false)?;
        if self.epochs.truncate_from(leo) {
            self.epochs.save(&self.dir)?;
        }
        Ok(())
    }

    /// Moves the log start offset to `offset` (Kafka DeleteRecords) and
    /// deletes segments entirely below it. Persisted before returning.
    pub fn delete_records_before(&mut self, offset: i64) -> Result<(), LogError> {
        let leo = self.log_end_offset();
        if offset > leo || offset < 0 {
            return Err(LogError::OffsetOutOfRange {
                requested: offset,
                start: self.log_start,
                end: leo,
            });
        }
        if offset <= self.log_start {
            return Ok(());
        }
        self.log_start = offset;
        write_i64(&self.dir, LOG_START_FILE, offset, true)?;
        if offset == leo {
            // Everything is below the start: roll so the old active
            // segment can go too.
            self.roll()?;
        }
        while self.segments.len() > 1 {
            let Some((_, first)) = self.segments.first_key_value() else {
                break;
            };
            if first.next_offset > offset {
                break;
            }
            if let Some((_, seg)) = self.segments.pop_first() {
                seg.delete()?;
            }
        }
        if self.epochs.truncate_before(self.log_start) {
            self.epochs.save(&self.dir)?;
        }
        Ok(())
    }

    /// Deletes whole non-active segments past `retention_ms` (by their
    /// newest timestamp) or beyond `retention_bytes`. Returns the count.
    pub fn apply_retention(&mut self, now_ms: i64) -> Result<usize, LogError> {
        let infos: Vec<SegmentInfo> = self
            .segments
            .values()
            .map(|s| SegmentInfo {
                size: s.size,
                max_timestamp: s.max_timestamp,
            })
            .collect();
        let n = segments_to_delete(
            &infos,
            now_ms,
            self.config.retention_ms,
            self.config.retention_bytes,
        );
        // Only segments wholly below the high watermark (as Kafka): a
        // replicated record not yet committed must stay until followers
        // have it, or a leader change could lose it from every replica.
        let bases: Vec<i64> = self.segments.keys().copied().collect();
        let committed = bases
            .windows(2)
            .take_while(|w| w[1] <= self.high_watermark)
            .count();
        let n = n.min(committed);
        for _ in 0..n {
            if let Some((_, seg)) = self.segments.pop_first() {
                seg.delete()?;
            }
        }
        if n > 0 {
            let first = self.segments.keys().next().copied().unwrap_or(0);
            if first > self.log_start {
                self.log_start = first;
                write_i64(&self.dir, LOG_START_FILE, first, false)?;
            }
            self.high_watermark = self.high_watermark.max(self.log_start);
            if self.epochs.truncate_before(self.log_start) {
                self.epochs.save(&self.dir)?;
            }
        }
        Ok(n)
    }

    /// What to fdatasync to make the log durable up to its end offset, or
    /// `None` if it already is. Only the active segment can be un-synced
    /// (rolls sync the segment they seal).
    pub fn flush_target(&self) -> Option<FlushTarget> {
        let leo = self.log_end_offset();
        if self.durable >= leo {
            return None;
        }
        let active = self.active();
        Some(FlushTarget {
            files: vec![active.log.clone()],
            offset: leo,
            clean_pages: active.size & !(PAGE_SIZE - 1),
            truncations: self.truncations,
        })
    }

    /// Records that `target.sync()` succeeded. Syncs run outside the
    /// log's lock, so the log may have been truncated and appended to
    /// again meanwhile: then the offsets the target covered hold other
    /// records now, which that sync may have missed, and nothing is
    /// marked.
    pub fn mark_durable(&mut self, target: &FlushTarget) {
        if target.truncations == self.truncations {
            self.durable = self.durable.max(target.offset.min(self.log_end_offset()));
        }
    }

    /// All offsets below this are fsync'ed.
    pub fn durable_offset(&self) -> i64 {
        self.durable
    }

    /// Syncs now (interval policy, shutdown, tests).
    pub fn flush(&mut self) -> Result<(), LogError> {
        if let Some(t) = self.flush_target() {
            t.sync()?;
            self.mark_durable(&t);
        }
        Ok(())
    }

    /// KIP-101: largest epoch <= `epoch` and where it ends.
    pub fn end_offset_for_epoch(&self, epoch: i32) -> Option<(i32, i64)> {
        self.epochs.end_offset_for(epoch, self.log_end_offset())
    }

    /// Leader epoch of the batch holding `offset`, if known.
    pub fn epoch_for_offset(&self, offset: i64) -> Option<i32> {
        self.epochs.epoch_for_offset(offset)
    }

    pub fn latest_epoch(&self) -> Option<i32> {
        self.epochs.latest()
    }

    /// Flushes, trims indexes, writes the clean-shutdown marker, unlocks.
    pub fn close(mut self) -> Result<(), LogError> {
        self.active_mut().seal()?;
        self.durable = self.log_end_offset();
        let dir = self.dir.clone();
        write_i64(&dir, RECOVERY_POINT_FILE, self.log_end_offset(), true)?;
        write_i64(&dir, CLEAN_SHUTDOWN_FILE, 1, true)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::BatchBuilder;

    fn config() -> LogConfig {
        LogConfig {
            segment_bytes: 1024,
            index_interval_bytes: 256,
            retention_ms: None,
            ..LogConfig::default()
        }
    }

    fn batch(records: usize) -> Vec<u8> {
        let mut b = BatchBuilder::new(1);
        for i in 0..records {
            b.push(1, None, Some(format!("value {i:0>100}").as_bytes()), &[])
                .unwrap();
        }
        b.finish().to_vec()
    }

    /// A batch as a leader would send it: offsets from `base`, `epoch`.
    fn stamped(base: i64, records: usize, epoch: i32) -> Vec<u8> {
        let mut b = batch(records);
        stamp(&mut b, base, epoch);
        b
    }

    /// A log of 40 records in several segments, written at epochs 1 and 3.
    fn filled(dir: &Path) -> PartitionLog {
        let mut log = PartitionLog::open(dir, config()).unwrap();
        for i in 0..20 {
            log.append(&mut batch(2), if i < 10 { 1 } else { 3 })
                .unwrap();
        }
        assert!(log.segment_count() > 3, "{}", log.segment_count());
        assert_eq!(log.log_end_offset(), 40);
        log
    }

    fn log_files(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".log"))
            .collect();
        v.sort();
        v
    }

    fn assert_empty_at(log: &PartitionLog, offset: i64) {
        assert_eq!(log.log_start_offset(), offset);
        assert_eq!(log.log_end_offset(), offset);
        assert_eq!(log.high_watermark(), offset);
        assert_eq!(log.durable_offset(), offset);
        assert!(log.read(offset, 1 << 20).unwrap().is_empty());
        assert!(matches!(
            log.read(offset - 1, 1 << 20),
            Err(LogError::OffsetOutOfRange { .. })
        ));
    }

    #[test]
    fn segments_reserve_blocks_ahead_and_free_them_when_sealed() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_bytes: 64 << 20,
            ..LogConfig::default()
        };
        let mut log = PartitionLog::open(tmp.path(), config.clone()).unwrap();
        log.append(&mut batch(2), 1).unwrap();
        let path = tmp.path().join(crate::log::segment::file_name(0, "log"));
        let meta = std::fs::metadata(&path).unwrap();
        let written = meta.len();
        assert!(written > 0 && written < 4096, "{written}");
        // Blocks are there ahead of the writes; the length is the data's.
        assert!(meta.blocks() * 512 >= 1 << 20, "{} blocks", meta.blocks());
        log.close().unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), written);
        assert!(meta.blocks() * 512 < 64 << 10, "{} blocks", meta.blocks());
        // And the log reads back as it was.
        let log = PartitionLog::open(tmp.path(), config).unwrap();
        assert_eq!(log.log_end_offset(), 2);
        assert!(!log.read(0, 1 << 20).unwrap().is_empty());
    }

    #[test]
    fn a_sync_taken_before_a_truncation_marks_nothing_durable() {
        let tmp = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(tmp.path(), LogConfig::default()).unwrap();
        for _ in 0..4 {
            log.append(&mut batch(2), 1).unwrap();
        }
        let stale = log.flush_target().unwrap();
        assert_eq!(stale.offset(), 8);
        // A follower cuts its log and refills the same offsets while the
        // sync of the old records is still running.
        log.truncate_to(4).unwrap();
        log.append(&mut batch(2), 2).unwrap();
        log.append(&mut batch(2), 2).unwrap();
        assert_eq!(log.log_end_offset(), 8);
        stale.sync().unwrap();
        log.mark_durable(&stale);
        assert!(log.durable_offset() <= 4, "{}", log.durable_offset());
        let fresh = log.flush_target().unwrap();
        fresh.sync().unwrap();
        log.mark_durable(&fresh);
        assert_eq!(log.durable_offset(), 8);
    }

    #[test]
    fn start_at_beyond_the_end_then_follow_and_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut log = filled(dir);
        log.truncate_fully_and_start_at(1000).unwrap();
        assert_empty_at(&log, 1000);
        assert_eq!(log.segment_count(), 1);
        assert_eq!(log.latest_epoch(), None);
        assert_eq!(log.end_offset_for_epoch(3), None);
        assert_eq!(log_files(dir), vec![format!("{:020}.log", 1000)]);
        // It continues as a follower from there, learning epochs anew.
        log.append_as_follower(&mut stamped(1000, 3, 5)).unwrap();
        log.append_as_follower(&mut stamped(1003, 2, 6)).unwrap();
        log.flush().unwrap();
        assert_eq!(log.log_end_offset(), 1005);
        assert_eq!(log.end_offset_for_epoch(5), Some((5, 1003)));
        assert_eq!(log.end_offset_for_epoch(3), None);
        let expected = log.read(1000, 1 << 20).unwrap().len();
        // Unclean reopen (drop without close), then a clean one.
        drop(log);
        for clean in [false, true] {
            let log = PartitionLog::open(dir, config()).unwrap();
            assert_eq!(log.log_start_offset(), 1000, "clean={clean}");
            assert_eq!(log.log_end_offset(), 1005);
            assert_eq!(log.read(1000, 1 << 20).unwrap().len(), expected);
            assert_eq!(log.end_offset_for_epoch(5), Some((5, 1003)));
            assert_eq!(log.end_offset_for_epoch(4), None);
            if clean {
                break;
            }
            log.close().unwrap();
        }
    }

    #[test]
    fn start_at_the_active_segment_base_and_below() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut log = PartitionLog::open(dir, config()).unwrap();
        log.append(&mut batch(2), 1).unwrap();
        // Same base as the only segment: emptied in place.
        log.truncate_fully_and_start_at(0).unwrap();
        assert_empty_at(&log, 0);
        assert_eq!(log.latest_epoch(), None);
        log.append(&mut batch(2), 2).unwrap();
        assert_eq!(log.log_end_offset(), 2);
        drop(log);
        let mut log = PartitionLog::open(dir, config()).unwrap();
        assert_eq!(log.log_end_offset(), 2);
        assert_eq!(log.latest_epoch(), Some(2));
        assert!(matches!(
            log.truncate_fully_and_start_at(-1),
            Err(LogError::OffsetOutOfRange { .. })
        ));
        drop(log);

        // Below the first segment (a diverged follower restarting lower).
        let tmp = tempfile::tempdir().unwrap();
        let mut log = filled(tmp.path());
        log.truncate_fully_and_start_at(1000).unwrap();
        log.append_as_follower(&mut stamped(1000, 2, 7)).unwrap();
        log.truncate_fully_and_start_at(500).unwrap();
        assert_empty_at(&log, 500);
        drop(log);
        let log = PartitionLog::open(tmp.path(), config()).unwrap();
        assert_eq!(log.log_start_offset(), 500);
        assert_eq!(log.log_end_offset(), 500);
        assert_eq!(log.latest_epoch(), None);
    }

    /// What `open` makes of a directory where the restart stopped after
    /// each of its steps (kill -9 or power loss with the fsyncs done).
    #[test]
    fn reopen_after_a_restart_cut_short() {
        type Cut = fn(&Path, &[String]);
        // (what, how, where the reopened log starts: the old end or the
        // new start).
        let cuts: [(&str, Cut, i64); 4] = [
            // Step 1 only: the start checkpoint is past the log end.
            (
                "start checkpoint",
                |dir, _| {
                    write_i64(dir, LOG_START_FILE, 1000, true).unwrap();
                },
                40,
            ),
            // Steps 1-2 and part of 3: the oldest segments are gone.
            (
                "some segments deleted",
                |dir, logs| {
                    write_i64(dir, LOG_START_FILE, 1000, true).unwrap();
                    EpochCache::default().save(dir).unwrap();
                    for name in &logs[..2] {
                        std::fs::remove_file(dir.join(name)).unwrap();
                    }
                },
                40,
            ),
            // Step 4 half done: the new segment next to the last old one.
            (
                "new segment beside the old",
                |dir, logs| {
                    write_i64(dir, LOG_START_FILE, 1000, true).unwrap();
                    EpochCache::default().save(dir).unwrap();
                    for name in &logs[..logs.len() - 1] {
                        std::fs::remove_file(dir.join(name)).unwrap();
                    }
                    drop(Segment::create(dir, 1000).unwrap());
                },
                40,
            ),
            // Every old segment gone, the new one not created yet.
            (
                "no segment at all",
                |dir, logs| {
                    write_i64(dir, LOG_START_FILE, 1000, true).unwrap();
                    EpochCache::default().save(dir).unwrap();
                    for name in logs {
                        std::fs::remove_file(dir.join(name)).unwrap();
                    }
                },
                1000,
            ),
        ];
        for (what, cut, expected) in cuts {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            drop(filled(dir));
            cut(dir, &log_files(dir));
            let mut log = PartitionLog::open(dir, config()).unwrap();
            // Empty wherever it restarts: nothing below its start is
            // served, and its end never runs past what it has.
            let (start, end) = (log.log_start_offset(), log.log_end_offset());
            assert_eq!((start, end), (expected, expected), "{what}");
            assert!(log.read(start, 1 << 20).unwrap().is_empty(), "{what}");
            // At most the epoch in effect at the end is remembered.
            assert!(log.end_offset_for_epoch(1).is_none(), "{what}");
            // The follower's next reset finishes the job, and records
            // appended after it are readable after another reopen.
            log.truncate_fully_and_start_at(1000).unwrap();
            assert_eq!(log_files(dir), vec![format!("{:020}.log", 1000)], "{what}");
            log.append_as_follower(&mut stamped(1000, 2, 7)).unwrap();
            drop(log);
            let log = PartitionLog::open(dir, config()).unwrap();
            assert_eq!(log.log_start_offset(), 1000, "{what}");
            assert_eq!(log.log_end_offset(), 1002, "{what}");
            assert_eq!(log.latest_epoch(), Some(7), "{what}");
        }
    }

    /// A start checkpoint past the end is rewritten on open, so records
    /// appended later from the old end do not vanish below a stale start.
    #[test]
    fn stale_start_checkpoint_does_not_hide_later_records() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        drop(filled(dir));
        write_i64(dir, LOG_START_FILE, 1000, true).unwrap();
        let mut log = PartitionLog::open(dir, config()).unwrap();
        assert_eq!(log.log_start_offset(), 40);
        log.append_as_follower(&mut stamped(40, 2, 4)).unwrap();
        drop(log);
        let log = PartitionLog::open(dir, config()).unwrap();
        assert_eq!(log.log_start_offset(), 40);
        assert_eq!(log.log_end_offset(), 42);
    }

    #[test]
    fn retention_keeps_segments_above_the_high_watermark() {
        let tmp = tempfile::tempdir().unwrap();
        let mut log = filled(tmp.path());
        log.append(&mut batch(2), 4).unwrap();
        assert!(log.segment_count() > 2, "the fixture has several segments");
        log.set_high_watermark(0);
        log.set_config(LogConfig {
            retention_bytes: Some(1),
            ..config()
        });
        assert_eq!(log.apply_retention(0).unwrap(), 0, "nothing is committed");
        let leo = log.log_end_offset();
        log.set_high_watermark(leo);
        assert!(log.apply_retention(0).unwrap() > 0, "all committed now");
    }

    #[test]
    fn retention_forgets_epochs_below_the_start() {
        let tmp = tempfile::tempdir().unwrap();
        let mut log = filled(tmp.path());
        log.append(&mut batch(2), 4).unwrap();
        // Retention only removes committed segments.
        let leo = log.log_end_offset();
        log.set_high_watermark(leo);
        log.set_config(LogConfig {
            retention_bytes: Some(1),
            ..config()
        });
        assert!(log.apply_retention(0).unwrap() > 0);
        assert!(log.log_start_offset() > 20);
        assert_eq!(log.end_offset_for_epoch(1), None);
        assert_eq!(log.end_offset_for_epoch(3), Some((3, 40)));
        assert_eq!(log.latest_epoch(), Some(4));
    }
}
