//! Crash recovery of one segment: walk every batch, check length, magic,
//! CRC, record structure and rising offsets, rebuild both indexes, and
//! cut the file at the first batch that fails.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::segment::Segment;
use super::LogError;
use crate::record::batch::batch_len;
use crate::record::validate_batch;

/// Read-ahead window so recovery does large sequential reads instead of
/// two small preads per batch.
const WINDOW: usize = 1 << 20;

/// Large sequential reads of a segment (recovery and the cleaner).
pub(super) struct WindowReader<'a> {
    file: &'a File,
    size: u64,
    buf: Vec<u8>,
    start: u64,
}

impl<'a> WindowReader<'a> {
    pub(super) fn new(file: &'a File, size: u64) -> Self {
        WindowReader {
            file,
            size,
            buf: Vec::new(),
            start: 0,
        }
    }

    /// `len` bytes at `pos`, or `None` if the file ends first.
    pub(super) fn get(&mut self, pos: u64, len: usize) -> Result<Option<&[u8]>, LogError> {
        let Some(end) = pos.checked_add(len as u64).filter(|&e| e <= self.size) else {
            return Ok(None);
        };
        let have = pos >= self.start && end <= self.start + self.buf.len() as u64;
        if !have {
            let n = (self.size - pos).min(len.max(WINDOW) as u64) as usize;
            self.buf.resize(n, 0);
            self.file.read_exact_at(&mut self.buf, pos)?;
            self.start = pos;
        }
        let off = (pos - self.start) as usize;
        Ok(self.buf.get(off..off + len))
    }
}

/// What recovery found in one segment.
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    /// Bytes cut off the end of the file.
    pub truncated_bytes: u64,
    /// (epoch, start offset) of every leader-epoch change seen, in order.
    pub epochs: Vec<(i32, i64)>,
}

/// Rebuilds `seg` from its log file, truncating at the first invalid
/// batch. `max_batch` bounds the length field so a corrupt length cannot
/// make us allocate absurd buffers; callers pass a generous bound because
/// `max_batch_bytes` may have been lowered after older batches were written.
pub(crate) fn recover_segment(
    seg: &mut Segment,
    index_interval: u32,
    max_batch: u64,
) -> Result<Recovered, LogError> {
    seg.reset_for_scan();
    let file = seg.log.clone();
    let file_size = file.metadata()?.len();
    let mut reader = WindowReader::new(&file, file_size);
    let mut out = Recovered::default();
    let mut pos = 0u64;
    let mut expected = seg.base;
    let mut last_epoch: Option<i32> = None;
    while let Some(prefix) = reader.get(pos, 12)? {
        let len = match batch_len(prefix) {
            Ok(n) if (n as u64) <= max_batch => n,
            _ => break,
        };
        let Some(batch) = reader.get(pos, len)? else {
            break;
        };
        let Ok(h) = validate_batch(batch) else {
            break;
        };
        // Offsets only rise; compaction leaves gaps between batches.
        if h.base_offset < expected {
            break;
        }
        if last_epoch.is_none_or(|e| h.partition_leader_epoch > e) {
            out.epochs.push((h.partition_leader_epoch, h.base_offset));
            last_epoch = Some(h.partition_leader_epoch);
        }
        expected = h.next_offset();
        seg.track_batch(&h, pos, index_interval);
        pos += len as u64;
    }
    seg.set_size(pos)?;
    out.truncated_bytes = file_size - pos;
    if out.truncated_bytes > 0 {
        tracing::warn!(
            segment = %seg.log_path().display(),
            valid_bytes = pos,
            truncated_bytes = out.truncated_bytes,
            "truncated invalid tail of log segment during recovery"
        );
    }
    Ok(out)
}
