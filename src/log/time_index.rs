//! Sparse timestamp → offset index (`.timeindex`).
//!
//! Entry: timestamp i64 BE + relative offset u32 BE. An entry (T, O) says
//! the largest timestamp among batches up to O's batch is T, first reached
//! by the batch starting at O; timestamps strictly increase, so every batch
//! before O's has a max timestamp < T.

use std::path::Path;

use super::mmap_index::{be_i64, be_u32, MmapIndex};
use super::LogError;

pub(crate) const TIME_ENTRY: usize = 12;

#[derive(Debug)]
pub(crate) struct TimeIndex {
    base: i64,
    inner: MmapIndex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimestampOffset {
    pub timestamp: i64,
    pub offset: i64,
}

fn decode(base: i64, e: &[u8]) -> TimestampOffset {
    TimestampOffset {
        timestamp: be_i64(e, 0),
        offset: base + i64::from(be_u32(e, 8)),
    }
}

impl TimeIndex {
    pub fn create(path: &Path, base: i64, max_bytes: u64) -> Result<Self, LogError> {
        Ok(TimeIndex {
            base,
            inner: MmapIndex::create(path, TIME_ENTRY, max_bytes)?,
        })
    }

    pub fn open_trimmed(path: &Path, base: i64) -> Result<Option<Self>, LogError> {
        Ok(MmapIndex::open_trimmed(path, TIME_ENTRY)?.map(|inner| TimeIndex { base, inner }))
    }

    /// Entries strictly increasing in both fields and below `next_offset`.
    pub fn is_sane(&self, next_offset: i64) -> bool {
        let mut prev: Option<TimestampOffset> = None;
        for i in 0..self.inner.len() {
            let Some(e) = self.inner.entry(i).map(|e| decode(self.base, e)) else {
                return false;
            };
            if e.offset >= next_offset {
                return false;
            }
            if let Some(p) = prev {
                if e.timestamp <= p.timestamp || e.offset < p.offset {
                    return false;
                }
            }
            prev = Some(e);
        }
        true
    }

    pub fn last(&self) -> Option<TimestampOffset> {
        self.inner
            .len()
            .checked_sub(1)
            .and_then(|i| self.inner.entry(i))
            .map(|e| decode(self.base, e))
    }

    /// Adds (timestamp, offset) if it raises the maximum. Returns false only
    /// when an entry was due but did not fit (index full / offset overflow).
    pub fn maybe_append(&mut self, timestamp: i64, offset: i64) -> bool {
        if self.last().is_some_and(|l| l.timestamp >= timestamp) {
            return true;
        }
        let Ok(rel) = u32::try_from(offset - self.base) else {
            return false;
        };
        let mut e = [0u8; TIME_ENTRY];
        e[..8].copy_from_slice(&timestamp.to_be_bytes());
        e[8..].copy_from_slice(&rel.to_be_bytes());
        self.inner.push(&e)
    }

    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    /// Offset to start scanning from for the first batch whose max
    /// timestamp is >= `timestamp`: the greatest entry with a smaller
    /// timestamp (all earlier batches are below it), else segment start.
    pub fn lookup(&self, timestamp: i64) -> i64 {
        let base = self.base;
        self.inner
            .last_where(|e| decode(base, e).timestamp < timestamp)
            .and_then(|i| self.inner.entry(i))
            .map_or(base, |e| decode(base, e).offset)
    }

    /// Drops entries for offsets >= `offset`.
    pub fn truncate_to_offset(&mut self, offset: i64) {
        let base = self.base;
        let keep = self
            .inner
            .last_where(|e| decode(base, e).offset < offset)
            .map_or(0, |i| i + 1);
        self.inner.truncate_entries(keep);
    }

    pub fn clear(&mut self) {
        self.inner.truncate_entries(0);
    }

    pub fn make_appendable(&mut self, max_bytes: u64) -> Result<(), LogError> {
        self.inner.make_appendable(max_bytes)
    }

    pub fn trim(&mut self) -> Result<(), LogError> {
        self.inner.trim()
    }

    pub fn flush(&self) -> Result<(), LogError> {
        self.inner.flush()
    }

    pub fn path(&self) -> &Path {
        self.inner.path()
    }
}
