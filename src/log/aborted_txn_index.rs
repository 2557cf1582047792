//! The aborted-transaction index of one partition (Kafka's `.txnindex`,
//! kept per partition here): one entry per aborted transaction that wrote
//! to the partition, `(producer id, first offset, last offset)` where the
//! last offset is the abort marker's. A read_committed fetch hands the
//! entries overlapping what it returns to the client, which drops those
//! producers' batches in that range.
//!
//! File `aborted-transactions.index`: fixed 24-byte big-endian entries in
//! marker order. Appends are plain writes: the file is rebuilt from the
//! log during recovery (`transactions::TxnLogState::open`), so a torn or
//! stale tail costs nothing but that scan. The file's existence also marks
//! a partition that has seen transactional batches, the only ones whose
//! logs are scanned on open.
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::LogError;

pub const ABORTED_INDEX_FILE: &str = "aborted-transactions.index";
const ENTRY_LEN: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortedTxn {
    pub producer_id: i64,
    pub first_offset: i64,
    /// The offset of the abort marker.
    pub last_offset: i64,
}

#[derive(Debug)]
pub struct AbortedTxnIndex {
    path: PathBuf,
    file: Option<File>,
    /// Sorted by `last_offset` (markers are appended in offset order).
    entries: Vec<AbortedTxn>,
}

impl AbortedTxnIndex {
    /// Whether `dir` holds an index, i.e. its log has seen transactions.
    pub fn exists(dir: &Path) -> bool {
        dir.join(ABORTED_INDEX_FILE).exists()
    }

    /// An index with no file yet: the file is created by the first
    /// [`create`](Self::create) or [`push`](Self::push).
    pub fn empty(dir: &Path) -> AbortedTxnIndex {
        AbortedTxnIndex {
            path: dir.join(ABORTED_INDEX_FILE),
            file: None,
            entries: Vec::new(),
        }
    }

    /// Loads the entries in `dir`'s file (a torn last entry is dropped).
    pub fn load(dir: &Path) -> Result<AbortedTxnIndex, LogError> {
        let mut idx = AbortedTxnIndex::empty(dir);
        let mut buf = Vec::new();
        match File::open(&idx.path) {
            Ok(mut f) => {
                f.read_to_end(&mut buf)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(idx),
            Err(e) => return Err(e.into()),
        }
        for chunk in buf.chunks_exact(ENTRY_LEN) {
            let n = |at: usize| {
                let mut a = [0u8; 8];
                a.copy_from_slice(&chunk[at..at + 8]);
                i64::from_be_bytes(a)
            };
            idx.entries.push(AbortedTxn {
                producer_id: n(0),
                first_offset: n(8),
                last_offset: n(16),
            });
        }
        Ok(idx)
    }

    /// Makes sure the file exists (marks the partition as transactional).
    pub fn create(&mut self) -> Result<(), LogError> {
        self.handle()?;
        Ok(())
    }

    fn handle(&mut self) -> Result<&mut File, LogError> {
        if self.file.is_none() {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            self.file = Some(f);
        }
        match self.file.as_mut() {
            Some(f) => Ok(f),
            None => unreachable!("opened just above"),
        }
    }

    /// Adds an entry: in memory at once (reads must see it even if the
    /// write fails; recovery rebuilds the file), then to the file.
    pub fn push(&mut self, e: AbortedTxn) -> Result<(), LogError> {
        self.entries.push(e);
        let mut buf = [0u8; ENTRY_LEN];
        buf[0..8].copy_from_slice(&e.producer_id.to_be_bytes());
        buf[8..16].copy_from_slice(&e.first_offset.to_be_bytes());
        buf[16..24].copy_from_slice(&e.last_offset.to_be_bytes());
        self.handle()?.write_all(&buf)?;
        Ok(())
    }

    /// Rewrites the file with exactly `entries` (after recovery found the
    /// file disagreeing with the log).
    pub fn replace(&mut self, entries: Vec<AbortedTxn>) -> Result<(), LogError> {
        let tmp = self.path.with_extension("index.tmp");
        let mut buf = Vec::with_capacity(entries.len() * ENTRY_LEN);
        for e in &entries {
            buf.extend_from_slice(&e.producer_id.to_be_bytes());
            buf.extend_from_slice(&e.first_offset.to_be_bytes());
            buf.extend_from_slice(&e.last_offset.to_be_bytes());
        }
        std::fs::write(&tmp, &buf)?;
        std::fs::rename(&tmp, &self.path)?;
        self.file = None;
        self.entries = entries;
        Ok(())
    }

    pub fn entries(&self) -> &[AbortedTxn] {
        &self.entries
    }

    /// The aborted transactions a read of `[from, upto)` must be told
    /// about: those whose marker is at or after `from` and whose data
    /// starts before `upto`.
    pub fn overlapping(&self, from: i64, upto: i64) -> Vec<AbortedTxn> {
        let start = self.entries.partition_point(|e| e.last_offset < from);
        self.entries[start..]
            .iter()
            .filter(|e| e.first_offset < upto)
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(pid: i64, first: i64, last: i64) -> AbortedTxn {
        AbortedTxn {
            producer_id: pid,
            first_offset: first,
            last_offset: last,
        }
    }

    #[test]
    fn entries_persist_and_overlap_queries_select_by_range() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!AbortedTxnIndex::exists(dir.path()));
        let mut idx = AbortedTxnIndex::empty(dir.path());
        idx.create().unwrap();
        assert!(AbortedTxnIndex::exists(dir.path()));
        idx.push(e(1, 0, 5)).unwrap();
        idx.push(e(2, 3, 9)).unwrap();
        idx.push(e(1, 10, 12)).unwrap();
        let idx = AbortedTxnIndex::load(dir.path()).unwrap();
        assert_eq!(idx.entries().len(), 3);
        assert_eq!(idx.overlapping(6, 100), vec![e(2, 3, 9), e(1, 10, 12)]);
        assert_eq!(idx.overlapping(0, 3), vec![e(1, 0, 5)]);
        assert!(idx.overlapping(13, 100).is_empty());
        // A torn last entry is dropped.
        let path = dir.path().join(ABORTED_INDEX_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 5);
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(
            AbortedTxnIndex::load(dir.path()).unwrap().entries().len(),
            2
        );
    }
}
