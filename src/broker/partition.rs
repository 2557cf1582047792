//! One partition as the broker sees it: the log behind a short-held mutex,
//! plus group commit for durable acks and a wake-up for long-poll fetches.
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{BufMut, BytesMut};
use tokio::sync::watch;

use super::error::BrokerError;
use super::metrics::{FsyncHistogram, PartitionCounters};
use super::replication::ReplicaState;
use crate::log::{AppendInfo, FileSlice, FlushPolicy, LogConfig, LogError, PartitionLog};

/// The leader epoch stamped into batches. A single node never changes
/// leader; the cluster will hand in real epochs.
pub const SINGLE_NODE_EPOCH: i32 = 0;

/// Longest a produce waits for a new leader's idempotent producer state
/// (see [`Partition::append_when_ready`]) before it is refused.
pub const PRODUCER_REBUILD_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Partition {
    pub topic: Arc<str>,
    pub index: i32,
    log: Mutex<PartitionLog>,
    /// Serialises fdatasync calls: while one runs, later appends queue here
    /// and the next sync covers all of them (group commit).
    sync_lock: tokio::sync::Mutex<()>,
    /// Wall-clock ms of the last interval flush.
    last_flush_ms: AtomicI64,
    /// Bumped on every append so waiting fetches re-check.
    appended: watch::Sender<u64>,
    /// Leader or follower, followers' progress, idempotent producers
    /// (see `broker::replication`). Standalone on a single node.
    pub(crate) replica: ReplicaState,
    /// Traffic and replication events, for the metrics.
    pub(crate) counters: PartitionCounters,
    fsync: FsyncHistogram,
}

/// What a fetch of one partition found.
pub struct FetchedData {
    pub high_watermark: i64,
    pub log_start_offset: i64,
    pub bytes_read: usize,
    /// The offset after the last batch read (see `ReadResult::next_offset`).
    pub next_offset: i64,
}

impl Partition {
    pub fn open(
        topic: Arc<str>,
        index: i32,
        dir: &Path,
        config: LogConfig,
        appended: watch::Sender<u64>,
        fsync: FsyncHistogram,
    ) -> Result<Partition, BrokerError> {
        let log = PartitionLog::open(dir, config)?;
        let replica = ReplicaState::for_dir(dir);
        replica.load_producers(&log);
        Ok(Partition {
            topic,
            index,
            log: Mutex::new(log),
            sync_lock: tokio::sync::Mutex::new(()),
            last_flush_ms: AtomicI64::new(0),
            appended,
            replica,
            counters: PartitionCounters::default(),
            fsync,
        })
    }

    /// The log, recovering from a poisoned lock: the log's own invariants
    /// hold between calls, so a panic elsewhere must not wedge the partition.
    pub fn log(&self) -> MutexGuard<'_, PartitionLog> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends one or more record batches. With `durable`, returns only
    /// once the bytes are fdatasync'ed (when the topic's policy asks for it).
    /// The write itself happens before the first await, so requests read in
    /// order from one connection are appended in that order.
    pub fn append(&self, batches: &mut BytesMut) -> Result<AppendInfo, BrokerError> {
        // The topic's timestamp rules, before the producer-state checks as
        // in Kafka: a refused batch never counts as a sequence.
        let (policy, codec, max_batch) = {
            let log = self.log();
            let c = log.config();
            (c.timestamps, c.compression, c.max_batch_bytes)
        };
        super::timestamps::apply(policy, batches, super::server::now_ms())?;
        super::recompress::apply(codec, batches, max_batch)?;
        let info = {
            // Role first, then the log: a leader change cannot slip in
            // between the epoch check and the write.
            let role = self.replica.role();
            let Some(epoch) = role.append_epoch() else {
                return Err(self.not_leader(&role));
            };
            let mut producers = self.replica.producers();
            if let Some(original) = producers.check(batches)? {
                return Ok(original);
            }
            let mut log = self.log();
            let info = log.append(batches, epoch).map_err(|e| match e {
                LogError::BatchTooLarge { size, max } => BrokerError::MessageTooLarge {
                    topic: self.topic.to_string(),
                    size,
                    max,
                },
                other => other.into(),
            })?;
            producers.record(batches, tokio::time::Instant::now());
            self.counters.produced(info.bytes, info.record_count);
            // Single node: the in-sync replica set is this broker, so the
            // high watermark is the log end; a leader waits for its ISR.
            let leo = log.log_end_offset();
            if let Some(hw) = role.high_watermark(leo) {
                if hw > log.high_watermark() {
                    log.set_high_watermark(hw);
                }
            }
            info
        };
        self.notify_appended();
        Ok(info)
    }

    /// [`append`](Self::append) for clients' produce requests: right after
    /// this broker became leader, while it still rebuilds its idempotent
    /// producers' state off the runtime (`replication::tail`), the append
    /// waits for that (up to [`PRODUCER_REBUILD_WAIT`]) instead of being
    /// refused. Awaited before the handler's first other await, so appends
    /// from one connection keep their order.
    pub async fn append_when_ready(
        &self,
        batches: &mut BytesMut,
    ) -> Result<AppendInfo, BrokerError> {
        let refused = match self.append(batches) {
            Err(e @ BrokerError::NotLeader(_)) => e,
            other => return other,
        };
        let Some(mut rebuilt) = self.replica.producers().rebuild_signal() else {
            return Err(refused);
        };
        // Done, or abandoned (the sender is gone): either way the next
        // append settles it. One more try only: if that is refused too, the
        // cause is another (the role changed), and the client retries.
        let wait = rebuilt.wait_for(|done| *done);
        if tokio::time::timeout(PRODUCER_REBUILD_WAIT, wait)
            .await
            .is_err()
        {
            return Err(refused);
        }
        self.append(batches)
    }

    /// Wakes long-poll fetches (new records or a higher high watermark).
    pub(crate) fn notify_appended(&self) {
        self.appended.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn flush_policy(&self) -> FlushPolicy {
        self.log().config().flush
    }

    /// Waits until everything below `offset` is on stable storage.
    pub async fn wait_durable(&self, offset: i64) -> Result<(), BrokerError> {
        self.sync_up_to(offset, false).await
    }

    /// [`wait_durable`](Self::wait_durable) for a follower's copy: the
    /// synced pages then leave the page cache (see
    /// `FlushTarget::release_cache`), as nobody reads them unless this
    /// broker becomes leader.
    pub async fn wait_durable_uncached(&self, offset: i64) -> Result<(), BrokerError> {
        self.sync_up_to(offset, true).await
    }

    async fn sync_up_to(&self, offset: i64, release: bool) -> Result<(), BrokerError> {
        let _turn = self.sync_lock.lock().await;
        let target = {
            let log = self.log();
            if log.durable_offset() >= offset {
                return Ok(());
            }
            log.flush_target()
        };
        let Some(target) = target else {
            return Ok(());
        };
        let fsync = self.fsync.clone();
        let target = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            target.sync()?;
            fsync.observe(started.elapsed());
            if release {
                target.release_cache();
            }
            Ok::<_, crate::log::LogError>(target)
        })
        .await
        .map_err(|e| BrokerError::Io(std::io::Error::other(e.to_string())))??;
        self.log().mark_durable(&target);
        Ok(())
    }

    /// Finds whole batches from `offset` (up to the high watermark) as file
    /// ranges, for a zero-copy send.
    pub fn read_slices(
        &self,
        offset: i64,
        max_bytes: usize,
    ) -> Result<(Vec<FileSlice>, FetchedData), BrokerError> {
        let result = self.log().read_committed(offset, max_bytes)?;
        let bytes_read = result.slices.iter().map(|s| s.len).sum();
        Ok((
            result.slices,
            FetchedData {
                high_watermark: result.high_watermark,
                log_start_offset: result.log_start_offset,
                bytes_read,
                next_offset: result.next_offset,
            },
        ))
    }

    /// Reads whole batches from `offset` (up to the high watermark) and
    /// appends them to `out`, reading straight from the page cache.
    pub fn read_into(
        &self,
        offset: i64,
        max_bytes: usize,
        out: &mut BytesMut,
    ) -> Result<FetchedData, BrokerError> {
        let result = self.log().read_committed(offset, max_bytes)?;
        let total: usize = result.slices.iter().map(|s| s.len).sum();
        out.reserve(total);
        let start = out.len();
        for slice in &result.slices {
            let at = out.len();
            out.put_bytes(0, slice.len);
            slice
                .file
                .read_exact_at(&mut out[at..at + slice.len], slice.position)?;
        }
        Ok(FetchedData {
            high_watermark: result.high_watermark,
            log_start_offset: result.log_start_offset,
            bytes_read: out.len() - start,
            next_offset: result.next_offset,
        })
    }

    /// Under `interval:<ms>`, fdatasyncs when the interval has passed.
    pub fn flush_if_due(&self, now_ms: i64) -> Result<(), BrokerError> {
        let FlushPolicy::Interval { ms } = self.flush_policy() else {
            return Ok(());
        };
        let last = self.last_flush_ms.load(Ordering::Relaxed);
        if now_ms - last < ms as i64 {
            return Ok(());
        }
        self.last_flush_ms.store(now_ms, Ordering::Relaxed);
        let target = self.log().flush_target();
        if let Some(target) = target {
            let started = std::time::Instant::now();
            target.sync()?;
            self.fsync.observe(started.elapsed());
            self.log().mark_durable(&target);
        }
        Ok(())
    }

    /// Kafka's DeleteRecords on the leader: moves the log start offset to
    /// `before` (`-1`: the high watermark), which may not pass the high
    /// watermark. Followers follow the leader's log start as they fetch.
    /// Returns the new log start offset (the "low watermark").
    pub fn delete_records_before(&self, before: i64) -> Result<i64, BrokerError> {
        let role = self.replica.role();
        if role.append_epoch().is_none() {
            return Err(self.not_leader(&role));
        }
        let mut log = self.log();
        let hw = log.high_watermark();
        let target = if before == -1 { hw } else { before };
        if target < 0 || target > hw {
            return Err(crate::log::LogError::OffsetOutOfRange {
                requested: target,
                start: log.log_start_offset(),
                end: hw,
            }
            .into());
        }
        log.delete_records_before(target)?;
        Ok(log.log_start_offset())
    }

    pub fn offsets(&self) -> (i64, i64, i64) {
        let log = self.log();
        (
            log.log_start_offset(),
            log.high_watermark(),
            log.log_end_offset(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::BatchBuilder;

    fn open(dir: &Path) -> Partition {
        let (tx, _) = watch::channel(0);
        Partition::open(
            "t".into(),
            0,
            dir,
            LogConfig::default(),
            tx,
            Default::default(),
        )
        .unwrap()
    }

    fn batch(pid: i64, seq: i32, n: usize) -> BytesMut {
        let mut b = BatchBuilder::new(1);
        b.set_producer(pid, 0, seq);
        for _ in 0..n {
            b.push(1, None, Some(b"v"), &[]).unwrap();
        }
        b.finish()
    }

    /// The reported bug: after a restart (a SIGKILL leaves what was written
    /// in the page cache) the producer table started empty, so a retry of
    /// a batch written just before the crash was written a second time.
    #[test]
    fn a_restarted_partition_recognises_retries_of_batches_written_before() {
        let dir = tempfile::tempdir().unwrap();
        // Far above any clock-seeded id, so the reservation is visible.
        let pid = 1i64 << 60;
        {
            let p = open(dir.path());
            for i in 0..8 {
                p.append(&mut batch(pid, i * 2, 2)).unwrap();
            }
            assert_eq!(p.offsets().2, 16);
        } // no flush, no clean shutdown: as after a kill
        let p = open(dir.path());
        let again = p.append(&mut batch(pid, 14, 2)).unwrap();
        assert_eq!((again.base_offset, again.last_offset), (14, 15));
        assert!(matches!(
            p.append(&mut batch(pid, 2, 2)).unwrap_err(),
            BrokerError::DuplicateSequence(_)
        ));
        assert!(matches!(
            p.append(&mut batch(pid, 20, 1)).unwrap_err(),
            BrokerError::OutOfOrderSequence(_)
        ));
        assert_eq!(p.offsets().2, 16, "nothing written twice");
        assert_eq!(p.append(&mut batch(pid, 16, 1)).unwrap().base_offset, 16);
        // A new producer never gets the id of one found in the log.
        assert!(crate::broker::producer_ids::next() > pid);
    }
}
