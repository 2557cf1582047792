//! Rebuilds idempotent producers' recent sequences from the end of the log
//! when a broker becomes leader, and when a single broker opens its logs
//! after a restart: a producer retrying across a failover or a crash must
//! find its batches remembered (a batch written just before a SIGKILL,
//! whose answer never left, is retried after the restart and must not be
//! written again).
//!
//! A broker opening its logs reads the tail in place (`load_producers`):
//! nothing is served before the logs are open.
//! Becoming leader happens on the async runtime with the partition's locks
//! held, so only the cheap part runs there: locating the tail's batches
//! (an index lookup and a few header reads). Reading their headers, up to
//! 50,000 offsets' worth, runs on a blocking thread. Until its table
//! arrives the producer table refuses appends (`ProducerTable::check`), so
//! nothing is appended as leader before the table is rebuilt.
use tokio::time::Instant;

use super::producers::ProducerTable;
use crate::log::{for_each_batch, FileSlice, PartitionLog};

/// How far back (in offsets) the scan starts. Retries happen within
/// seconds of the original send, so the recent tail is enough.
const TAIL_OFFSETS: i64 = 50_000;

/// The whole batches from `TAIL_OFFSETS` before the log end to the end, as
/// file ranges, and the offset the scan starts at; `None` for an empty log.
fn tail(log: &PartitionLog) -> Option<(Vec<FileSlice>, i64)> {
    let end = log.log_end_offset();
    let from = (end - TAIL_OFFSETS).max(log.log_start_offset());
    if from >= end {
        return None;
    }
    // The files are shared handles, so they stay readable after the lock
    // is released (even if retention deletes a segment); appends wait for
    // the rebuild and a leader never truncates, so the ranges keep their
    // contents.
    match log.read_bounded(from, usize::MAX / 2, end) {
        Ok(r) => Some((r.slices, from)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot locate the log tail to rebuild idempotent producers");
            None
        }
    }
}

/// Starts rebuilding `table` from the log's tail. Called by a partition
/// that becomes leader, with its log locked and its table just cleared.
pub fn rebuild_producers(log: &PartitionLog, table: &mut ProducerTable) {
    let Some((slices, from)) = tail(log) else {
        return;
    };
    let sender = table.begin_rebuild();
    let now = Instant::now();
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn_blocking(move || sender.send(scan(&slices, from, now)));
        }
        // Outside a runtime (nothing to keep responsive): read right here.
        Err(_) => sender.send(scan(&slices, from, now)),
    }
}

/// The producer table of a log being opened (a broker starting up after a
/// restart or a crash), read right here: nothing is served from the log
/// before it is open. Producer ids found are reserved
/// (`broker::producer_ids`), so no new producer is given one of them.
pub fn load_producers(log: &PartitionLog) -> ProducerTable {
    let Some((slices, from)) = tail(log) else {
        return ProducerTable::default();
    };
    let table = scan(&slices, from, Instant::now());
    if let Some(id) = table.max_producer_id() {
        crate::broker::producer_ids::observe(id);
    }
    table
}

/// Records the header of every batch in `slices` that reaches `from`. A
/// read or parse error stops the scan: what was found so far is kept (it
/// only makes fewer retries recognisable).
fn scan(slices: &[FileSlice], from: i64, now: Instant) -> ProducerTable {
    let mut table = ProducerTable::default();
    for_each_batch(slices, "idempotent producers", |b| {
        if b.header.last_offset() >= from {
            table.record_header(&b.header, now);
        }
    });
    table
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
    fn opening_a_log_loads_its_producers_in_place() {
        let (_dir, log) = log_with_producers();
        let mut table = load_producers(&log);
        assert_eq!(table.max_producer_id(), Some(6));
        let dup = table.check(&batch(Some((5, 2)), 1)).unwrap().unwrap();
        assert_eq!(dup.base_offset, 5);
        assert!(table.check(&batch(Some((5, 3)), 1)).unwrap().is_none());
        assert!(load_producers(
            &PartitionLog::open(tempfile::tempdir().unwrap().path(), LogConfig::default()).unwrap()
        )
        .is_empty());
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
