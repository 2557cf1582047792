//! Rebuilds idempotent producers' recent sequences from the end of the log
//! when a broker becomes leader: a producer retrying across a failover must
//! find its batches remembered on the new leader too.
use std::os::unix::fs::FileExt;

use super::producers::ProducerTable;
use crate::log::PartitionLog;
use crate::record::{batches, BatchHeader};

/// How far back (in offsets) the scan starts. Retries happen within
/// seconds of the original send, so the recent tail is enough.
const TAIL_OFFSETS: i64 = 50_000;
const READ_CHUNK: usize = 4 << 20;

pub fn rebuild_producers(log: &PartitionLog, table: &mut ProducerTable) {
    let end = log.log_end_offset();
    let mut offset = (end - TAIL_OFFSETS).max(log.log_start_offset());
    while offset < end {
        let Ok(read) = log.read(offset, READ_CHUNK) else {
            return;
        };
        if read.slices.is_empty() {
            return;
        }
        let mut next = offset;
        for slice in &read.slices {
            let mut buf = vec![0u8; slice.len];
            if slice.file.read_exact_at(&mut buf, slice.position).is_err() {
                return;
            }
            for b in batches(&buf) {
                let Ok(b) = b else { return };
                let Ok(h) = BatchHeader::parse(b) else {
                    return;
                };
                if h.last_offset() >= offset {
                    table.record_header(&h);
                }
                next = next.max(h.next_offset());
            }
        }
        if next <= offset {
            return;
        }
        offset = next;
    }
}
