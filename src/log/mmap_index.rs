//! A file of fixed-size entries, memory-mapped for lookups.
//!
//! Like Kafka, the file of the active segment is preallocated (sparse) to
//! its maximum size so appends are plain memory stores, and trimmed to the
//! used length when the segment stops being active or the log closes.
//! The used length is therefore only trustworthy after a clean close;
//! recovery rebuilds indexes of segments it cannot trust.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use memmap2::MmapMut;

use super::LogError;

/// The file is not kept open: a mapping outlives its descriptor, and
/// closing it leaves a partition with two open files instead of four (see
/// `broker::limits`). Resizes and flushes, at segment rolls and closes,
/// open it again.
#[derive(Debug)]
pub(crate) struct MmapIndex {
    path: PathBuf,
    mmap: Option<MmapMut>,
    entry_size: usize,
    entries: usize,
    /// Entries the current mapping can hold.
    capacity: usize,
}

fn map(file: &File, len: u64) -> Result<Option<MmapMut>, LogError> {
    if len == 0 {
        return Ok(None);
    }
    // SAFETY: the file belongs to a partition directory this process holds
    // the exclusive `.lock` on, and only this struct resizes it (always
    // after dropping the mapping), so the mapping never outlives its bytes.
    let m = unsafe { MmapMut::map_mut(file)? };
    Ok(Some(m))
}

impl MmapIndex {
    /// Creates (or empties) the index file and preallocates `max_bytes`.
    pub fn create(path: &Path, entry_size: usize, max_bytes: u64) -> Result<Self, LogError> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        let mut idx = MmapIndex {
            path: path.to_owned(),
            mmap: None,
            entry_size,
            entries: 0,
            capacity: 0,
        };
        idx.resize(max_bytes)?;
        Ok(idx)
    }

    /// Opens an index trimmed by a clean close: every byte is an entry.
    /// Returns `None` if the file is missing or its length is not a whole
    /// number of entries (the caller then rebuilds it).
    pub fn open_trimmed(path: &Path, entry_size: usize) -> Result<Option<Self>, LogError> {
        let file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let len = file.metadata()?.len();
        if len % entry_size as u64 != 0 {
            return Ok(None);
        }
        let entries = (len / entry_size as u64) as usize;
        let mmap = map(&file, len)?;
        Ok(Some(MmapIndex {
            path: path.to_owned(),
            mmap,
            entry_size,
            entries,
            capacity: entries,
        }))
    }

    fn resize(&mut self, bytes: u64) -> Result<(), LogError> {
        // Unmap first: a mapping must not cover bytes the file no longer has.
        self.mmap = None;
        let bytes = bytes - bytes % self.entry_size as u64;
        let file = self.open()?;
        file.set_len(bytes)?;
        self.mmap = map(&file, bytes)?;
        self.capacity = (bytes / self.entry_size as u64) as usize;
        self.entries = self.entries.min(self.capacity);
        Ok(())
    }

    /// Grows the file back to `max_bytes` so the segment can take appends.
    pub fn make_appendable(&mut self, max_bytes: u64) -> Result<(), LogError> {
        if (self.capacity * self.entry_size) as u64 >= max_bytes {
            return Ok(());
        }
        self.resize(max_bytes)
    }

    /// Shrinks the file to the entries in use.
    pub fn trim(&mut self) -> Result<(), LogError> {
        self.resize((self.entries * self.entry_size) as u64)
    }

    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_full(&self) -> bool {
        self.entries >= self.capacity
    }

    pub fn entry(&self, i: usize) -> Option<&[u8]> {
        if i >= self.entries {
            return None;
        }
        let start = i * self.entry_size;
        self.mmap
            .as_ref()
            .and_then(|m| m.get(start..start + self.entry_size))
    }

    /// Appends one entry; returns false (and writes nothing) when full.
    pub fn push(&mut self, entry: &[u8]) -> bool {
        if self.is_full() || entry.len() != self.entry_size {
            return false;
        }
        let start = self.entries * self.entry_size;
        match self
            .mmap
            .as_mut()
            .and_then(|m| m.get_mut(start..start + entry.len()))
        {
            Some(slot) => {
                slot.copy_from_slice(entry);
                self.entries += 1;
                true
            }
            None => false,
        }
    }

    /// Keeps only the first `n` entries.
    pub fn truncate_entries(&mut self, n: usize) {
        self.entries = self.entries.min(n);
    }

    /// Largest index `i` with `pred(entry(i))` true, for a predicate that
    /// is true on a prefix of the entries (binary search).
    pub fn last_where(&self, pred: impl Fn(&[u8]) -> bool) -> Option<usize> {
        let (mut lo, mut hi) = (0usize, self.entries);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.entry(mid) {
                Some(e) if pred(e) => lo = mid + 1,
                _ => hi = mid,
            }
        }
        lo.checked_sub(1)
    }

    /// msync, so a trimmed index is durable before a clean-shutdown marker.
    pub fn flush(&self) -> Result<(), LogError> {
        if let Some(m) = &self.mmap {
            m.flush()?;
        }
        // The length too (a trim changed it), not just the mapped bytes.
        self.open()?.sync_all()?;
        Ok(())
    }

    fn open(&self) -> Result<File, LogError> {
        Ok(OpenOptions::new().read(true).write(true).open(&self.path)?)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

pub(crate) fn be_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_be_bytes(a)
}

pub(crate) fn be_i64(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    i64::from_be_bytes(a)
}
