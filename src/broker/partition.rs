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
use crate::log::{
    AbortedTxn, AppendInfo, FileSlice, FlushPolicy, LogConfig, LogError, PartitionLog, TxnLogState,
};
use crate::record::Marker;

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
    /// Open and aborted transactions (`log::transactions`); locked after
    /// the log, and changed only with the log locked, so the last stable
    /// offset moves with the appends.
    txns: Mutex<TxnLogState>,
    /// Traffic and replication events, for the metrics.
    pub(crate) counters: PartitionCounters,
    fsync: FsyncHistogram,
}

/// A fetch under an isolation level (`read_committed` stops at the last
/// stable offset and lists the aborted transactions it overlaps).
pub struct IsolatedRead {
    pub data: FetchedData,
    pub last_stable_offset: i64,
    /// `Some` only for read_committed.
    pub aborted: Option<Vec<AbortedTxn>>,
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
        let mut log = PartitionLog::open(dir, config)?;
        let replica = ReplicaState::for_dir(dir);
        if !matches!(
            *replica.role(),
            crate::broker::replication::state::Role::Standalone
        ) {
            // A replica keeps every tombstone until its leader says how
            // far the others have got (see `tombstone_horizon`).
            log.set_tombstone_horizon(-1);
        }
        replica.load_producers(&log);
        let txns = TxnLogState::open(dir, &log)?;
        Ok(Partition {
            topic,
            index,
            log: Mutex::new(log),
            sync_lock: tokio::sync::Mutex::new(()),
            last_flush_ms: AtomicI64::new(0),
            appended,
            replica,
            txns: Mutex::new(txns),
            counters: PartitionCounters::default(),
            fsync,
        })
    }

    fn txns(&self) -> MutexGuard<'_, TxnLogState> {
        self.txns.lock().unwrap_or_else(|p| p.into_inner())
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
        self.write(batches, None)
    }

    /// Writes the marker that ends producer `producer_id`'s transaction
    /// here (the transaction coordinator's call), fencing the producer's
    /// older epochs on this partition.
    pub fn append_marker(
        &self,
        producer_id: i64,
        producer_epoch: i16,
        marker: Marker,
        coordinator_epoch: i32,
    ) -> Result<AppendInfo, BrokerError> {
        let mut batch = crate::record::marker_batch(
            producer_id,
            producer_epoch,
            marker,
            coordinator_epoch,
            super::server::now_ms(),
        );
        self.write(&mut batch, Some((producer_id, producer_epoch)))
    }

    /// The write itself, as leader: producer checks (or, for a marker,
    /// the fencing of older epochs), the log, transactions, the high
    /// watermark.
    fn write(
        &self,
        batches: &mut BytesMut,
        marker_of: Option<(i64, i16)>,
    ) -> Result<AppendInfo, BrokerError> {
        let info = {
            // Role first, then the log: a leader change cannot slip in
            // between the epoch check and the write.
            let role = self.replica.role();
            let Some(epoch) = role.append_epoch() else {
                return Err(self.not_leader(&role));
            };
            let mut producers = self.replica.producers();
            match marker_of {
                Some((pid, epoch)) => producers.fence(pid, epoch, tokio::time::Instant::now()),
                None => {
                    if let Some(original) = producers.check(batches)? {
                        return Ok(original);
                    }
                }
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
            if let Err(e) = self.txns().observe(batches) {
                // Memory is up to date; the file is rebuilt on recovery.
                tracing::warn!(topic = %self.topic, partition = self.index, error = %e, "could not write the aborted-transaction index");
            }
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
        Ok(FetchedData {
            high_watermark: result.high_watermark,
            log_start_offset: result.log_start_offset,
            bytes_read: copy_slices(&result.slices, out)?,
            next_offset: result.next_offset,
        })
    }

    /// [`read_into`](Self::read_into) under an isolation level: with
    /// `read_committed`, only up to the last stable offset, with the
    /// aborted transactions the returned range overlaps.
    pub fn read_isolated(
        &self,
        offset: i64,
        max_bytes: usize,
        read_committed: bool,
        out: &mut BytesMut,
    ) -> Result<IsolatedRead, BrokerError> {
        let (slices, mut read) = self.read_slices_isolated(offset, max_bytes, read_committed)?;
        read.data.bytes_read = copy_slices(&slices, out)?;
        Ok(read)
    }

    /// [`read_slices`](Self::read_slices) under an isolation level (see
    /// [`read_isolated`](Self::read_isolated)), for a zero-copy send.
    pub fn read_slices_isolated(
        &self,
        offset: i64,
        max_bytes: usize,
        read_committed: bool,
    ) -> Result<(Vec<FileSlice>, IsolatedRead), BrokerError> {
        let log = self.log();
        let lso = self.txns().last_stable_offset(log.high_watermark());
        let upper = if read_committed {
            lso
        } else {
            log.high_watermark()
        };
        let result = log.read_bounded(offset, max_bytes, upper)?;
        let aborted = read_committed.then(|| self.txns().aborted_overlapping(offset, upper));
        drop(log);
        let bytes_read = result.slices.iter().map(|s| s.len).sum();
        Ok((
            result.slices,
            IsolatedRead {
                data: FetchedData {
                    high_watermark: result.high_watermark,
                    log_start_offset: result.log_start_offset,
                    bytes_read,
                    next_offset: result.next_offset,
                },
                last_stable_offset: lso,
                aborted,
            },
        ))
    }

    /// The last stable offset (the high watermark when no transaction is
    /// open here).
    pub fn last_stable_offset(&self) -> i64 {
        let log = self.log();
        self.txns().last_stable_offset(log.high_watermark())
    }

    /// (producer id, first offset) of the transactions open here.
    pub fn open_transactions(&self) -> Vec<(i64, i64)> {
        self.txns().ongoing()
    }

    /// The transaction coordinator lets (`producer_id`, `epoch`) write
    /// transactional batches here (the partition joined its transaction);
    /// only a leader (or a single node) takes it.
    pub fn allow_txn_writes(&self, producer_id: i64, epoch: i16) -> Result<(), BrokerError> {
        let role = self.replica.role();
        if role.append_epoch().is_none() {
            return Err(self.not_leader(&role));
        }
        // Under the role lock: a role change cannot slip in and leave a
        // stale leave behind (it forgets them under the same lock).
        self.txns().allow(producer_id, epoch);
        Ok(())
    }

    /// Whether a transactional batch of (`producer_id`, `epoch`) may be
    /// appended here now (see `TxnLogState::may_write`).
    pub fn txn_write_allowed(&self, producer_id: i64, epoch: i16) -> bool {
        self.txns().may_write(producer_id, epoch)
    }

    /// After retention or DeleteRecords moved the log start: forgets the
    /// transactions' state below it (see `TxnLogState::trim_below`).
    /// Called with the log locked.
    pub(crate) fn trim_txns(&self, log: &PartitionLog) {
        if let Err(e) = self.txns().trim_below(log.log_start_offset()) {
            tracing::warn!(topic = %self.topic, partition = self.index, error = %e, "could not rewrite the aborted-transaction index");
        }
    }

    /// Forgets the coordinator's leaves (a role change; see `allow_txn_writes`).
    pub(crate) fn forget_txn_writes(&self) {
        self.txns().forget_allowed();
    }

    /// Takes in batches a follower appended (offsets are the leader's), so
    /// a follower promoted mid-transaction knows the open transactions and
    /// the last stable offset. Called with the log locked.
    pub(crate) fn observe_replicated(&self, batches: &[u8]) {
        if let Err(e) = self.txns().observe(batches) {
            tracing::warn!(topic = %self.topic, partition = self.index, error = %e, "could not write the aborted-transaction index");
        }
    }

    /// Rebuilds the transactions from the log after it was truncated (the
    /// truncated batches may have opened or ended some). Called with the
    /// log locked.
    pub(crate) fn rebuild_txns(&self, log: &PartitionLog) -> Result<(), BrokerError> {
        let state = TxnLogState::open(log.dir(), log)?;
        *self.txns() = state;
        Ok(())
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
        self.trim_txns(&log);
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

/// Appends the bytes of `slices` to `out` (read straight from the page
/// cache); returns how many.
fn copy_slices(slices: &[FileSlice], out: &mut BytesMut) -> Result<usize, BrokerError> {
    let total: usize = slices.iter().map(|s| s.len).sum();
    out.reserve(total);
    for slice in slices {
        let at = out.len();
        out.put_bytes(0, slice.len);
        slice
            .file
            .read_exact_at(&mut out[at..at + slice.len], slice.position)?;
    }
    Ok(total)
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

    fn txn_batch(pid: i64, epoch: i16, seq: i32, n: usize) -> BytesMut {
        let mut b = batch(pid, seq, n);
        b[51..53].copy_from_slice(&epoch.to_be_bytes());
        b[21..23].copy_from_slice(&0x10i16.to_be_bytes());
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        b
    }

    /// An open transaction holds the last stable offset back across a
    /// restart; its abort marker fences the old epoch and lists it as
    /// aborted for read_committed.
    #[test]
    fn open_transactions_survive_a_restart_and_markers_fence() {
        let dir = tempfile::tempdir().unwrap();
        let pid = (1i64 << 60) + 7;
        {
            let p = open(dir.path());
            p.append(&mut batch(pid + 1, 0, 2)).unwrap(); // 0-1, not transactional
            p.append(&mut txn_batch(pid, 0, 0, 3)).unwrap(); // 2-4
            assert_eq!(p.last_stable_offset(), 2);
        }
        let p = open(dir.path());
        assert_eq!(p.open_transactions(), vec![(pid, 2)]);
        let mut out = BytesMut::new();
        let r = p.read_isolated(0, 1 << 20, true, &mut out).unwrap();
        assert_eq!((r.last_stable_offset, r.data.high_watermark), (2, 5));
        assert_eq!(
            crate::record::batches(&out).count(),
            1,
            "only the plain batch"
        );
        p.append_marker(pid, 1, Marker::Abort, 0).unwrap(); // 5
        assert_eq!(p.last_stable_offset(), 6);
        assert!(matches!(
            p.append(&mut txn_batch(pid, 0, 3, 1)).unwrap_err(),
            BrokerError::InvalidProducerEpoch(_)
        ));
        let mut out = BytesMut::new();
        let r = p.read_isolated(0, 1 << 20, true, &mut out).unwrap();
        let aborted = r.aborted.unwrap();
        assert_eq!(aborted.len(), 1);
        assert_eq!((aborted[0].first_offset, aborted[0].last_offset), (2, 5));
        let mut out = BytesMut::new();
        assert!(p
            .read_isolated(0, 1 << 20, false, &mut out)
            .unwrap()
            .aborted
            .is_none());
    }
}
