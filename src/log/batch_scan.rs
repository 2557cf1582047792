//! Walks the batch headers of file ranges a read returned (`FileSlice`s),
//! for the scans that rebuild state from a log: idempotent producers
//! (`broker::replication::tail`) and open and aborted transactions
//! (`transactions`).
use std::os::unix::fs::FileExt;

use super::FileSlice;
use crate::record::{BatchHeader, BATCH_HEADER_LEN};

/// Where one batch lies: its header and its place in a slice's file.
pub struct ScannedBatch<'a> {
    pub header: BatchHeader,
    pub slice: &'a FileSlice,
    pub position: u64,
}

impl ScannedBatch<'_> {
    /// The whole batch, read from its file (for the few batches whose
    /// records a scan needs, such as transaction markers); `None` when it
    /// is larger than `max` or cannot be read.
    pub fn read(&self, max: usize) -> Option<Vec<u8>> {
        let len = self.header.total_len();
        if len > max {
            return None;
        }
        let mut buf = vec![0u8; len];
        self.slice
            .file
            .read_exact_at(&mut buf, self.position)
            .ok()?;
        Some(buf)
    }
}

/// Calls `f` with every batch in `slices`, in order. A read error or a
/// header that does not parse stops the walk (what was seen is kept: the
/// log's recovery already cut damaged tails, so this is a race with
/// retention at worst). `what` names the scan in the warning.
pub fn for_each_batch(slices: &[FileSlice], what: &str, mut f: impl FnMut(&ScannedBatch<'_>)) {
    let mut header = [0u8; BATCH_HEADER_LEN];
    for slice in slices {
        let end = slice.position + slice.len as u64;
        let mut pos = slice.position;
        while pos + BATCH_HEADER_LEN as u64 <= end {
            if let Err(e) = slice.file.read_exact_at(&mut header, pos) {
                tracing::warn!(error = %e, scan = what, "reading the log failed");
                return;
            }
            let Ok(h) = BatchHeader::parse(&header) else {
                return;
            };
            let len = h.total_len() as u64;
            if len < BATCH_HEADER_LEN as u64 {
                return;
            }
            f(&ScannedBatch {
                header: h,
                slice,
                position: pos,
            });
            pos += len;
        }
    }
}
