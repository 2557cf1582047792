//! The durable Raft log and vote, under `data_dir/raft/`.
//!
//! - `log/<first index, 20 digits>.seg`: segments of records
//!   `[len u32 LE][crc32c u32 LE][entry as JSON]`, a new segment every
//!   `SEGMENT_ENTRIES` entries so purging deletes whole files;
//! - `vote.json`, `purged.json` (replaced atomically and fsync'ed) and
//!   `committed.json` (a hint for faster restarts, not fsync'ed).
//!
//! Appends are fdatasync'ed before openraft is told they are flushed. The
//! entries after the last snapshot are also kept in memory (the snapshot
//! policy bounds them), so reads never touch the disk.
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{OptionalSend, RaftLogReader};

use super::files;
use super::types::{Entry, LogId, StorageError, StorageIOError, TypeConfig, Vote};

/// Entries per segment file.
const SEGMENT_ENTRIES: u64 = 1024;
/// A record larger than this is corruption (the length is checked before
/// anything is allocated).
const MAX_RECORD: usize = 64 << 20;
const HEADER: usize = 8;

#[derive(Clone)]
pub struct LogStore {
    inner: Arc<Mutex<LogInner>>,
}

struct LogInner {
    raft_dir: PathBuf,
    log_dir: PathBuf,
    entries: BTreeMap<u64, Entry>,
    /// Where each in-memory entry's record starts: (segment first index, byte offset).
    positions: BTreeMap<u64, (u64, u64)>,
    /// Segment first index → number of records written to it.
    segments: BTreeMap<u64, u64>,
    /// Open for append: the last segment.
    current: Option<(u64, File)>,
    last_purged: Option<LogId>,
    vote: Option<Vote>,
    committed: Option<LogId>,
}

fn io_err(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{first:020}.seg"))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<Option<T>> {
    match files::read_opt(path)? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| io_err(format!("{}: {e}", path.display()))),
    }
}

fn encode(entry: &Entry) -> std::io::Result<Vec<u8>> {
    let body = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    let mut rec = Vec::with_capacity(HEADER + body.len());
    rec.extend_from_slice(&(body.len() as u32).to_le_bytes());
    rec.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    rec.extend_from_slice(&body);
    Ok(rec)
}

/// Decodes the records of one segment: (offset, entry) for every whole,
/// checksummed record, and the offset where valid data ends.
fn decode_segment(buf: &[u8]) -> (Vec<(u64, Entry)>, usize) {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while buf.len() - pos >= HEADER {
        let len = u32::from_le_bytes([buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]]) as usize;
        let crc = u32::from_le_bytes([buf[pos + 4], buf[pos + 5], buf[pos + 6], buf[pos + 7]]);
        if len > MAX_RECORD || buf.len() - pos - HEADER < len {
            break;
        }
        let body = &buf[pos + HEADER..pos + HEADER + len];
        if crc32c::crc32c(body) != crc {
            break;
        }
        match serde_json::from_slice::<Entry>(body) {
            Ok(e) => out.push((pos as u64, e)),
            Err(_) => break,
        }
        pos += HEADER + len;
    }
    (out, pos)
}

impl LogStore {
    /// Opens (or creates) the log under `raft_dir`, dropping a torn record
    /// at the end of the last segment (a crash mid-append, never
    /// acknowledged). Damage anywhere else is refused.
    pub fn open(raft_dir: &Path) -> std::io::Result<LogStore> {
        let log_dir = raft_dir.join("log");
        fs::create_dir_all(&log_dir)?;
        let last_purged: Option<LogId> = read_json(&raft_dir.join("purged.json"))?;
        let vote: Option<Vote> = read_json(&raft_dir.join("vote.json"))?;
        let committed: Option<LogId> = read_json(&raft_dir.join("committed.json"))?;
        let mut firsts = Vec::new();
        for entry in fs::read_dir(&log_dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if let Some(first) = name
                .strip_suffix(".seg")
                .and_then(|n| n.parse::<u64>().ok())
            {
                firsts.push(first);
            }
        }
        firsts.sort_unstable();
        let mut inner = LogInner {
            raft_dir: raft_dir.to_path_buf(),
            log_dir: log_dir.clone(),
            entries: BTreeMap::new(),
            positions: BTreeMap::new(),
            segments: BTreeMap::new(),
            current: None,
            last_purged,
            vote,
            committed,
        };
        let purged_index = last_purged.map(|l| l.index);
        for (i, &first) in firsts.iter().enumerate() {
            let path = segment_path(&log_dir, first);
            let buf = fs::read(&path)?;
            let (records, valid) = decode_segment(&buf);
            let is_last = i + 1 == firsts.len();
            if valid < buf.len() {
                if !is_last {
                    return Err(io_err(format!(
                        "raft log segment {} is corrupt at byte {valid}",
                        path.display()
                    )));
                }
                tracing::warn!(segment = %path.display(), at = valid, "dropping torn raft log tail");
                let f = OpenOptions::new().write(true).open(&path)?;
                f.set_len(valid as u64)?;
                f.sync_all()?;
            }
            for (k, (offset, entry)) in records.iter().enumerate() {
                let index = entry.log_id.index;
                if index != first + k as u64 {
                    return Err(io_err(format!(
                        "raft log segment {} holds index {index} where {} was expected",
                        path.display(),
                        first + k as u64
                    )));
                }
                if purged_index.is_some_and(|p| index <= p) {
                    continue;
                }
                if let Some((&prev, _)) = inner.entries.last_key_value() {
                    if prev + 1 != index {
                        return Err(io_err(format!("raft log has a gap after index {prev}")));
                    }
                }
                inner.positions.insert(index, (first, *offset));
                inner.entries.insert(index, entry.clone());
            }
            inner.segments.insert(first, records.len() as u64);
        }
        if let Some((&first, _)) = inner.segments.last_key_value() {
            let f = OpenOptions::new()
                .append(true)
                .open(segment_path(&log_dir, first))?;
            inner.current = Some((first, f));
        }
        Ok(LogStore {
            inner: Arc::new(Mutex::new(inner)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl LogInner {
    fn last_log_id(&self) -> Option<LogId> {
        self.entries
            .last_key_value()
            .map(|(_, e)| e.log_id)
            .or(self.last_purged)
    }

    fn append(&mut self, entries: Vec<Entry>) -> std::io::Result<()> {
        let mut touched: Vec<u64> = Vec::new();
        for entry in entries {
            let index = entry.log_id.index;
            let roll = match &self.current {
                None => true,
                Some((first, _)) => {
                    self.segments.get(first).copied().unwrap_or(0) >= SEGMENT_ENTRIES
                }
            };
            if roll {
                if let Some((first, f)) = self.current.take() {
                    if touched.contains(&first) {
                        f.sync_data()?;
                    }
                }
                let path = segment_path(&self.log_dir, index);
                let f = OpenOptions::new().create(true).append(true).open(&path)?;
                f.set_len(0)?;
                files::sync_dir(&path)?;
                self.segments.insert(index, 0);
                self.current = Some((index, f));
            }
            let Some((first, f)) = self.current.as_mut() else {
                return Err(std::io::Error::other("no open raft log segment"));
            };
            let offset = f.metadata()?.len();
            f.write_all(&encode(&entry)?)?;
            let first = *first;
            if !touched.contains(&first) {
                touched.push(first);
            }
            *self.segments.entry(first).or_insert(0) += 1;
            self.positions.insert(index, (first, offset));
            self.entries.insert(index, entry);
        }
        if let Some((_, f)) = &self.current {
            f.sync_data()?;
        }
        Ok(())
    }

    /// Removes entries at and after `index`.
    fn truncate(&mut self, index: u64) -> std::io::Result<()> {
        let cut = self.positions.get(&index).copied();
        self.current = None;
        let later: Vec<u64> = self.segments.range(index..).map(|(f, _)| *f).collect();
        for first in later {
            fs::remove_file(segment_path(&self.log_dir, first))?;
            self.segments.remove(&first);
        }
        if let Some((seg, offset)) = cut {
            if seg != index {
                let f = OpenOptions::new()
                    .write(true)
                    .open(segment_path(&self.log_dir, seg))?;
                f.set_len(offset)?;
                f.sync_all()?;
                let kept = index - seg;
                self.segments.insert(seg, kept);
            }
        }
        files::sync_dir(&segment_path(&self.log_dir, 0))?;
        self.entries.split_off(&index);
        self.positions.split_off(&index);
        if let Some((&first, _)) = self.segments.last_key_value() {
            let f = OpenOptions::new()
                .append(true)
                .open(segment_path(&self.log_dir, first))?;
            self.current = Some((first, f));
        }
        Ok(())
    }

    /// Forgets entries up to and including `log_id` (they are in a snapshot).
    fn purge(&mut self, log_id: LogId) -> std::io::Result<()> {
        let body = serde_json::to_vec(&log_id).map_err(std::io::Error::other)?;
        files::replace(&self.raft_dir.join("purged.json"), &body, true)?;
        self.last_purged = Some(log_id);
        let keep = self.entries.split_off(&(log_id.index + 1));
        self.entries = keep;
        let keep = self.positions.split_off(&(log_id.index + 1));
        self.positions = keep;
        // A segment goes when every entry in it is purged.
        let whole: Vec<u64> = self
            .segments
            .iter()
            .filter(|(first, count)| **count > 0 && *first + *count - 1 <= log_id.index)
            .map(|(f, _)| *f)
            .collect();
        for first in whole {
            if self.current.as_ref().is_some_and(|(c, _)| *c == first) {
                self.current = None;
            }
            fs::remove_file(segment_path(&self.log_dir, first))?;
            self.segments.remove(&first);
        }
        Ok(())
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + std::fmt::Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(self
            .lock()
            .entries
            .range(range)
            .map(|(_, e)| e.clone())
            .collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let inner = self.lock();
        Ok(LogState {
            last_purged_log_id: inner.last_purged,
            last_log_id: inner.last_log_id(),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let mut inner = self.lock();
        let body = serde_json::to_vec(vote).map_err(|e| StorageIOError::write_vote(&e))?;
        files::replace(&inner.raft_dir.join("vote.json"), &body, true)
            .map_err(|e| StorageIOError::write_vote(&e))?;
        inner.vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        Ok(self.lock().vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        let mut inner = self.lock();
        // Not fsync'ed: losing it only means re-learning the commit point
        // from the leader after a restart.
        let body = serde_json::to_vec(&committed).map_err(|e| StorageIOError::write(&e))?;
        files::replace(&inner.raft_dir.join("committed.json"), &body, false)
            .map_err(|e| StorageIOError::write(&e))?;
        inner.committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.lock().committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        // The write and its fdatasync run off the async runtime: a slow
        // disk must not stall the broker's other tasks (or Raft's own
        // heartbeats). openraft awaits each append before the next, so
        // order is kept.
        let store = self.clone();
        let result = tokio::task::spawn_blocking(move || store.lock().append(entries))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        match result {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                let se = StorageIOError::write_logs(&e);
                callback.log_io_completed(Err(e));
                Err(se.into())
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.lock()
            .truncate(log_id.index)
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.lock()
            .purge(log_id)
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }
}
