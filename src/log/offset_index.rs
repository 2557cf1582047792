//! Sparse offset → file position index (`.index`).
//!
//! Entry: relative offset u32 BE (offset - segment base) + position u32 BE
//! of the batch start in the `.log` file. Both strictly increase.

use std::path::Path;

use super::mmap_index::{be_u32, MmapIndex};
use super::LogError;

pub(crate) const OFFSET_ENTRY: usize = 8;

#[derive(Debug)]
pub(crate) struct OffsetIndex {
    base: i64,
    inner: MmapIndex,
}

/// One index entry in absolute terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffsetPosition {
    pub offset: i64,
    pub position: u64,
}

fn decode(base: i64, e: &[u8]) -> OffsetPosition {
    OffsetPosition {
        offset: base + i64::from(be_u32(e, 0)),
        position: u64::from(be_u32(e, 4)),
    }
}

impl OffsetIndex {
    pub fn create(path: &Path, base: i64, max_bytes: u64) -> Result<Self, LogError> {
        Ok(OffsetIndex {
            base,
            inner: MmapIndex::create(path, OFFSET_ENTRY, max_bytes)?,
        })
    }

    pub fn open_trimmed(path: &Path, base: i64) -> Result<Option<Self>, LogError> {
        Ok(MmapIndex::open_trimmed(path, OFFSET_ENTRY)?.map(|inner| OffsetIndex { base, inner }))
    }

    /// Cheap consistency check (Kafka's `sanityCheck`): entries strictly
    /// increasing and pointing inside a log of `log_size` bytes.
    pub fn is_sane(&self, log_size: u64) -> bool {
        let mut prev: Option<OffsetPosition> = None;
        for i in 0..self.inner.len() {
            let Some(e) = self.inner.entry(i).map(|e| decode(self.base, e)) else {
                return false;
            };
            if e.position >= log_size {
                return false;
            }
            if let Some(p) = prev {
                if e.offset <= p.offset || e.position <= p.position {
                    return false;
                }
            }
            prev = Some(e);
        }
        true
    }

    /// Adds an entry; false if the index is full or the values do not fit
    /// (the caller then rolls the segment).
    pub fn append(&mut self, offset: i64, position: u64) -> bool {
        let (Ok(rel), Ok(pos)) = (u32::try_from(offset - self.base), u32::try_from(position))
        else {
            return false;
        };
        let mut e = [0u8; OFFSET_ENTRY];
        e[..4].copy_from_slice(&rel.to_be_bytes());
        e[4..].copy_from_slice(&pos.to_be_bytes());
        self.inner.push(&e)
    }

    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    /// Greatest entry with offset <= `offset`, or the segment start.
    pub fn lookup(&self, offset: i64) -> OffsetPosition {
        let base = self.base;
        self.inner
            .last_where(|e| decode(base, e).offset <= offset)
            .and_then(|i| self.inner.entry(i))
            .map_or(
                OffsetPosition {
                    offset: base,
                    position: 0,
                },
                |e| decode(base, e),
            )
    }

    /// Greatest entry with position <= `position`, or the segment start.
    pub fn lookup_position(&self, position: u64) -> OffsetPosition {
        let base = self.base;
        self.inner
            .last_where(|e| decode(base, e).position <= position)
            .and_then(|i| self.inner.entry(i))
            .map_or(
                OffsetPosition {
                    offset: base,
                    position: 0,
                },
                |e| decode(base, e),
            )
    }

    pub fn last(&self) -> Option<OffsetPosition> {
        self.inner
            .len()
            .checked_sub(1)
            .and_then(|i| self.inner.entry(i))
            .map(|e| decode(self.base, e))
    }

    /// Drops entries pointing at or beyond `position`.
    pub fn truncate_to_position(&mut self, position: u64) {
        let base = self.base;
        let keep = self
            .inner
            .last_where(|e| decode(base, e).position < position)
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
