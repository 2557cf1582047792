//! Rebuilds idempotent producers' recent sequences from the end of the log
//! when a broker becomes leader: a producer retrying across a failover must
//! find its batches remembered on the new leader too.
//!
//! Becoming leader happens on the async runtime with the partition's locks
//! held, so only the cheap part runs there: locating the tail's batches
//! (an index lookup and a few header reads). Reading their headers, up to
//! 50,000 offsets' worth, runs on a blocking thread. Until its table
//! arrives the producer table refuses appends (`ProducerTable::check`), so
//! nothing is appended as leader before the table is rebuilt.
use std::os::unix::fs::FileExt;

use tokio::time::Instant;

use super::producers::{ProducerTable, RebuildSender};
use crate::log::{FileSlice, PartitionLog};
use crate::record::{BatchHeader, BATCH_HEADER_LEN};

/// How far back (in offsets) the scan starts. Retries happen within
/// seconds of the original send, so the recent tail is enough.
const TAIL_OFFSETS: i64 = 50_000;

/// Starts rebuilding `table` from the log's tail. Called by a partition
/// that becomes leader, with its log locked and its table just cleared.
pub fn rebuild_producers(log: &PartitionLog, table: &mut ProducerTable) {
    let end = log.log_end_offset();
    let from = (end - TAIL_OFFSETS).max(log.log_start_offset());
    if from >= end {
        return;
    }
    // Whole batches from `from` to the end, as file ranges. The files are
    // shared handles, so they stay readable after the lock is released
    // (even if retention deletes a segment); appends wait for the rebuild
    // and a leader never truncates, so the ranges keep their contents.
    let slices = match log.read_bounded(from, usize::MAX / 2, end) {
        Ok(r) => r.slices,
        Err(e) => {
            tracing::warn!(error = %e, "cannot locate the log tail to rebuild idempotent producers");
            return;
        }
    };
    let sender = table.begin_rebuild();
    let now = Instant::now();
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn_blocking(move || scan(slices, from, now, sender));
        }
        // Outside a runtime (nothing to keep responsive): read right here.
        Err(_) => scan(slices, from, now, sender),
    }
}

/// Records the header of every batch in `slices` that reaches `from`, and
/// hands the table over. A read or parse error stops the scan: what was
/// found so far is kept (it only makes fewer retries recognisable).
fn scan(slices: Vec<FileSlice>, from: i64, now: Instant, sender: RebuildSender) {
    let mut table = ProducerTable::default();
    let mut header = [0u8; BATCH_HEADER_LEN];
    'slices: for slice in &slices {
        let end = slice.position + slice.len as u64;
        let mut pos = slice.position;
        while pos + BATCH_HEADER_LEN as u64 <= end {
            if let Err(e) = slice.file.read_exact_at(&mut header, pos) {
                tracing::warn!(error = %e, "reading the log tail to rebuild idempotent producers failed");
                break 'slices;
            }
            let Ok(h) = BatchHeader::parse(&header) else {
                break 'slices;
            };
            let len = h.total_len() as u64;
            if len < BATCH_HEADER_LEN as u64 {
                break 'slices;
            }
            if h.last_offset() >= from {
                table.record_header(&h, now);
            }
            pos += len;
        }
    }
    sender.send(table);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::error::BrokerError;
    use crate::log::LogConfig;
    use crate::record::BatchBuilder;

    fn batch(producer: Option<(i64, i32)>, n: usize) -> bytes::BytesMut {
        let mut b = BatchBuilder::new(1);
        if let Some((pid, seq)) = producer {
            b.set_producer(pid, 0, seq);
        }
        for _ in 0..n {
            b.push(1, None, Some(b"v"), &[]).unwrap();
        }
        b.finish()
    }

    fn log_with_producers() -> (tempfile::TempDir, PartitionLog) {
        let dir = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).unwrap();
        log.append(&mut batch(Some((5, 0)), 2), 0).unwrap(); // offsets 0-1
        log.append(&mut batch(None, 3), 0).unwrap(); // 2-4
        log.append(&mut batch(Some((5, 2)), 1), 0).unwrap(); // 5
        log.append(&mut batch(Some((6, 0)), 1), 0).unwrap(); // 6
        (dir, log)
    }

    #[tokio::test]
    async fn rebuild_runs_off_the_runtime_and_appends_wait_for_it() {
        let (_dir, log) = log_with_producers();
        let mut table = ProducerTable::default();
        rebuild_producers(&log, &mut table);
        let mut done = table.rebuild_signal().expect("a rebuild is pending");
        done.wait_for(|d| *d).await.unwrap();
        let dup = table.check(&batch(Some((5, 2)), 1)).unwrap().unwrap();
        assert_eq!((dup.base_offset, dup.last_offset), (5, 5));
        let dup = table.check(&batch(Some((6, 0)), 1)).unwrap().unwrap();
        assert_eq!(dup.base_offset, 6);
        // The sequence carries on from the log.
        assert!(matches!(
            table.check(&batch(Some((5, 9)), 1)).unwrap_err(),
            BrokerError::OutOfOrderSequence(_)
        ));
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn without_a_runtime_the_rebuild_is_done_in_place() {
        let (_dir, log) = log_with_producers();
        let mut table = ProducerTable::default();
        rebuild_producers(&log, &mut table);
        let dup = table.check(&batch(Some((5, 0)), 2)).unwrap().unwrap();
        assert_eq!((dup.base_offset, dup.last_offset), (0, 1));
    }

    #[test]
    fn an_empty_log_needs_no_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let log = PartitionLog::open(dir.path(), LogConfig::default()).unwrap();
        let mut table = ProducerTable::default();
        rebuild_producers(&log, &mut table);
        assert!(table.rebuild_signal().is_none());
        assert!(table.check(&batch(Some((1, 3)), 1)).unwrap().is_none());
    }
}
