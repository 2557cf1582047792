//! A batching, pipelining producer.
//!
//! `send` encodes the record straight into the open batch of its partition
//! under one mutex: no allocation, channel message or timer per record. A
//! background sender task ships batches that are full, have lingered long
//! enough, or are being flushed, several requests in flight, and reports
//! delivery once per batch (to the [`DeliveryFuture`]s of its records and to
//! an optional per-batch callback).
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::Notify;

use super::backoff::jittered;
use super::connection::ResponseFuture;
use super::error::{ClientError, Result};
use super::metadata::{Client, Lane, TopicInfo};
use super::partitioner::{partition_for_key, StickyChooser};
use crate::proto::messages::produce::{ProduceResponse, ACKS_ALL, ACKS_LEADER, ACKS_NONE};
use crate::proto::{ApiKey, Wire};
use crate::record::batch::BATCH_HEADER_LEN;
use crate::record::builder::record_size_estimate;
use crate::record::{recompress, BatchBuilder, Compression};

/// How many replicas must have a batch before it counts as delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// Fire and forget: delivered once written to the socket.
    None,
    Leader,
    All,
}

impl Acks {
    pub fn wire(self) -> i16 {
        match self {
            Acks::None => ACKS_NONE,
            Acks::Leader => ACKS_LEADER,
            Acks::All => ACKS_ALL,
        }
    }
}

impl std::str::FromStr for Acks {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Acks, String> {
        match s {
            "0" => Ok(Acks::None),
            "1" => Ok(Acks::Leader),
            "all" | "-1" => Ok(Acks::All),
            other => Err(format!("invalid acks {other:?}: use 0, 1 or all")),
        }
    }
}

/// Called once per batch when its fate is known.
pub type DeliveryCallback = Arc<dyn Fn(&BatchReport<'_>) + Send + Sync>;

#[derive(Clone)]
pub struct ProducerConfig {
    pub acks: Acks,
    /// How long a non-full batch waits for more records.
    pub linger: Duration,
    /// Target encoded size of one batch.
    pub batch_size: usize,
    /// Produce requests awaiting a response at once.
    pub max_in_flight: usize,
    /// Extra attempts for a batch that failed with a retriable error
    /// (Kafka's default: practically unbounded, so `delivery_timeout` is
    /// what limits retries).
    pub retries: u32,
    /// First wait before a retry; doubles per attempt up to
    /// `retry_backoff_max`, so retries span a leader failover.
    pub retry_backoff: Duration,
    pub retry_backoff_max: Duration,
    /// Idempotent delivery (with acks=all): the broker drops retried
    /// duplicates and refuses gaps, so retries never duplicate or reorder.
    /// The producer id is asked for (InitProducerId) until
    /// `delivery_timeout`; records that cannot get one fail instead of
    /// going out without idempotence.
    pub idempotence: bool,
    pub request_timeout: Duration,
    /// Upper bound on the time from `send` until a record is acknowledged
    /// or failed, retries and waiting behind its partition's earlier
    /// batches included (Kafka's `delivery.timeout.ms`). Without it, a
    /// partition whose every batch fails (a full disk) would make each
    /// queued batch spend its whole retry budget in turn.
    pub delivery_timeout: Duration,
    /// Bytes of sealed, unacknowledged batches before `send` has to wait.
    pub buffer_memory: usize,
    /// Upper bound of one Produce request; must stay under the broker's
    /// frame limit.
    pub max_request_size: usize,
    /// Ask the broker to create unknown topics (if it allows that).
    pub auto_create_topics: bool,
    /// Codec of every batch (Kafka's `compression.type`). A batch fills
    /// to `batch_size` of uncompressed records, then is compressed once.
    pub compression: Compression,
    pub on_delivery: Option<DeliveryCallback>,
    /// Kafka's `transactional.id`: records go out in transactions (see
    /// [`Producer::commit_transaction`]); implies idempotence and acks=all.
    /// A second producer with the same id fences this one.
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms`: the broker aborts a transaction open
    /// longer than this.
    pub transaction_timeout: Duration,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            acks: Acks::All,
            linger: Duration::from_millis(5),
            batch_size: 256 * 1024,
            max_in_flight: 5,
            retries: i32::MAX as u32,
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_secs(1),
            idempotence: true,
            request_timeout: Duration::from_secs(30),
            // Kafka's default.
            delivery_timeout: Duration::from_secs(120),
            buffer_memory: 32 * 1024 * 1024,
            max_request_size: 16 * 1024 * 1024,
            auto_create_topics: true,
            compression: Compression::None,
            on_delivery: None,
            transactional_id: None,
            // Kafka's default.
            transaction_timeout: Duration::from_secs(60),
        }
    }
}

impl std::fmt::Debug for ProducerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProducerConfig")
            .field("acks", &self.acks)
            .field("linger", &self.linger)
            .field("batch_size", &self.batch_size)
            .field("max_in_flight", &self.max_in_flight)
            .field("retries", &self.retries)
            .field("compression", &self.compression)
            .field("transactional_id", &self.transactional_id)
            .finish_non_exhaustive()
    }
}

/// A record to send; borrowed because `send` copies it into a batch at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProducerRecord<'a> {
    pub topic: &'a str,
    pub partition: Option<i32>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: &'a [(&'a str, Option<&'a [u8]>)],
    /// Milliseconds since the epoch; `None` means now.
    pub timestamp: Option<i64>,
}

/// What happened to one batch.
#[derive(Debug)]
pub struct BatchReport<'a> {
    pub topic: &'a str,
    pub partition: i32,
    /// Offset of the first record; -1 with acks=0 or on error.
    pub base_offset: i64,
    pub records: usize,
    pub bytes: usize,
    /// From the batch's first record to the broker's answer.
    pub latency: Duration,
    pub error: Option<&'a ClientError>,
}

/// Where a delivered record ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    pub topic: Arc<str>,
    pub partition: i32,
    /// -1 with acks=0.
    pub offset: i64,
}

struct BatchOutcome {
    topic: Arc<str>,
    partition: i32,
    result: OnceLock<std::result::Result<i64, ClientError>>,
    done: Notify,
}

/// Resolves when the record's batch is acknowledged or has failed.
/// Dropping it does not cancel anything.
pub struct DeliveryFuture {
    outcome: Arc<BatchOutcome>,
    index: u32,
}

impl DeliveryFuture {
    fn metadata(&self, r: &std::result::Result<i64, ClientError>) -> Result<RecordMetadata> {
        match r {
            Ok(base) => Ok(RecordMetadata {
                topic: self.outcome.topic.clone(),
                partition: self.outcome.partition,
                offset: if *base < 0 {
                    -1
                } else {
                    base + i64::from(self.index)
                },
            }),
            Err(e) => Err(e.clone()),
        }
    }

    /// The result if already known.
    pub fn try_result(&self) -> Option<Result<RecordMetadata>> {
        self.outcome.result.get().map(|r| self.metadata(r))
    }

    pub async fn wait(self) -> Result<RecordMetadata> {
        loop {
            let notified = self.outcome.done.notified();
            tokio::pin!(notified);
            // Registered before checking, so a completion in between is seen.
            notified.as_mut().enable();
            if let Some(r) = self.outcome.result.get() {
                return self.metadata(r);
            }
            notified.await;
        }
    }
}

/// Why a non-blocking send could not go ahead.
#[derive(Debug)]
pub enum TrySendError {
    /// The topic's partitions are not known yet: call
    /// [`Producer::prepare_topic`] and try again.
    NeedMetadata,
    /// Too many bytes are waiting for acknowledgement: wait for space.
    Full,
    Failed(ClientError),
}

struct OpenBatch {
    builder: BatchBuilder,
    created: Instant,
    outcome: Arc<BatchOutcome>,
}

#[derive(Default)]
struct Slot {
    open: Option<OpenBatch>,
    /// The last batch here filled up: start the next one at full size.
    hot: bool,
    /// Sequence number of the next idempotent batch of this partition.
    next_seq: i32,
    /// Idempotent batches of this partition in flight.
    in_flight: usize,
    /// The leader acknowledged a batch of this partition under the current
    /// producer id, and none has failed since. Until then at most one batch
    /// of the partition is in flight: a leader that knows nothing of this
    /// producer accepts any sequence (Kafka's rule, for producers whose
    /// state retention removed), so a later batch that reached it while an
    /// earlier one was refused (NOT_LEADER just before the leader took
    /// over) would be written ahead of it, and the earlier one could then
    /// never be written.
    confirmed: bool,
}

struct TopicAcc {
    name: Arc<str>,
    info: Arc<TopicInfo>,
    slots: Vec<Slot>,
    sticky: Option<i32>,
}

struct Batch {
    topic: Arc<str>,
    partition: i32,
    records: Bytes,
    count: usize,
    created: Instant,
    outcome: Arc<BatchOutcome>,
    attempts: u32,
    not_before: Option<Instant>,
    /// Seal order: retries go back in this order, so a partition's batches
    /// are always (re)sent in sequence.
    order: u64,
    /// Carries a producer id and sequence.
    idempotent: bool,
    /// The producer id it carries (-1 without idempotence).
    producer_id: i64,
    /// Counted in its slot's `in_flight` until its answer is handled.
    in_flight: bool,
    /// Why the last attempt failed, for the timeout message: "timed out"
    /// alone would hide e.g. NOT_ENOUGH_REPLICAS.
    last_error: Option<String>,
}

#[derive(Default)]
struct Acc {
    topics: HashMap<String, TopicAcc>,
    ready: VecDeque<Batch>,
    /// Bytes of sealed batches not yet acknowledged.
    buffered: usize,
    /// Batches (open, ready or in flight) not yet completed.
    outstanding: usize,
    flushing: usize,
    closed: bool,
    /// Idempotent producer id and epoch, once the broker gave them.
    producer: Option<(i64, i16)>,
    /// An idempotent batch failed for good: its sequence numbers are a gap
    /// the broker will never fill, so every later batch of its partition
    /// would be refused. The sender takes a new producer id (sequences
    /// start again at 0) before sealing more.
    renew_identity: bool,
    /// No usable producer id yet (at the start, or while a new one is
    /// being asked for): batches stay open until one arrives, since a
    /// batch's producer id and sequence are fixed when it is sealed.
    identity_pending: bool,
    /// After asking for a producer id failed: not asked again before this.
    identity_retry_at: Option<Instant>,
    sealed: u64,
    /// Produce requests awaiting an answer, per broker. The limit is per
    /// connection, as Kafka's max.in.flight.requests.per.connection: a
    /// global cap would starve throughput as the cluster grows, because
    /// acks=all latency is per leader.
    in_flight: HashMap<i32, usize>,
    /// Partitions added to the open transaction (AddPartitionsToTxn).
    txn_partitions: std::collections::HashSet<(Arc<str>, i32)>,
    /// Why the open transaction cannot commit: a batch of it failed.
    txn_error: Option<ClientError>,
    /// A group's offsets were sent with the open transaction
    /// ([`Producer::send_offsets_to_transaction`]): it must be ended at the
    /// coordinator even when no record was sent in it.
    txn_offsets: bool,
    /// The producer was fenced: nothing it sends can succeed any more.
    fatal: Option<ClientError>,
}

impl Acc {
    /// Batches must not be sealed now: they would carry no producer id or
    /// one with a sequence gap.
    fn identity_blocked(&self) -> bool {
        self.identity_pending || self.renew_identity
    }

    /// A batch's answer is in (`ok`: acknowledged): its partition has one
    /// batch fewer in flight, and learns whether the leader knows this
    /// producer's sequence.
    fn landed(&mut self, batch: &Batch, ok: bool) {
        if !batch.in_flight {
            return;
        }
        let current = self.producer.map(|p| p.0) == Some(batch.producer_id);
        let Some(slot) = self
            .topics
            .get_mut(&*batch.topic)
            .and_then(|t| t.slots.get_mut(batch.partition as usize))
        else {
            return;
        };
        slot.in_flight = slot.in_flight.saturating_sub(1);
        if current {
            slot.confirmed = ok;
        }
    }
}

struct Inner {
    client: Client,
    config: ProducerConfig,
    acc: Mutex<Acc>,
    /// Wakes the sender (notify_one keeps a permit, so no wake-up is lost).
    wake: Notify,
    /// Signalled whenever batches complete: space and idleness waiters.
    progress: Notify,
    progress_cv: Condvar,
    sticky: Mutex<StickyChooser>,
    /// Set once the producer id is settled (given, or idempotence off).
    identity: tokio::sync::watch::Sender<bool>,
    /// NOT_ENOUGH_REPLICAS was reported once (not once per batch).
    warned_min_isr: std::sync::atomic::AtomicBool,
}

/// The producer handle; cheap to clone.
#[derive(Clone)]
pub struct Producer {
    inner: Arc<Inner>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Acc> {
        // Plain data; a panicking sender thread must not wedge the producer.
        self.acc.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Producer {
    /// Starts the background sender; must be called inside a tokio runtime.
    pub fn new(client: Client, mut config: ProducerConfig) -> Producer {
        if config.transactional_id.is_some() {
            // Kafka's rule: transactions need idempotent, acks=all sends.
            config.idempotence = true;
            config.acks = Acks::All;
        }
        let acc = Acc {
            identity_pending: config.idempotence && config.acks == Acks::All,
            ..Acc::default()
        };
        let inner = Arc::new(Inner {
            client,
            config,
            acc: Mutex::new(acc),
            wake: Notify::new(),
            progress: Notify::new(),
            progress_cv: Condvar::new(),
            sticky: Mutex::new(StickyChooser::new()),
            identity: tokio::sync::watch::channel(false).0,
            warned_min_isr: std::sync::atomic::AtomicBool::new(false),
        });
        tokio::spawn(run_sender(inner.clone()));
        Producer { inner }
    }

    pub fn config(&self) -> &ProducerConfig {
        &self.inner.config
    }

    /// Waits until asking for the producer id is settled (given, or
    /// failed); batches wait for it anyway.
    pub async fn wait_ready(&self) {
        let mut rx = self.inner.identity.subscribe();
        let _ = rx.wait_for(|ready| *ready).await;
    }

    /// The idempotent producer id, if the broker gave one.
    pub fn producer_id(&self) -> Option<i64> {
        self.inner.lock().producer.map(|p| p.0)
    }

    /// Looks the topic up (creating it if allowed) so `try_send` can place
    /// records for it.
    pub async fn prepare_topic(&self, topic: &str) -> Result<()> {
        let info = self
            .inner
            .client
            .topic(topic, self.inner.config.auto_create_topics)
            .await?;
        let mut acc = self.inner.lock();
        acc.topics
            .entry(topic.to_string())
            .or_insert_with(|| TopicAcc {
                name: Arc::from(topic),
                slots: (0..info.partitions.len())
                    .map(|_| Slot::default())
                    .collect(),
                info,
                sticky: None,
            });
        Ok(())
    }

    /// Appends a record to its partition's batch without blocking.
    pub fn try_send(
        &self,
        rec: &ProducerRecord<'_>,
    ) -> std::result::Result<DeliveryFuture, TrySendError> {
        let cfg = &self.inner.config;
        // Checked before any lock: a record that no request can carry would
        // otherwise fail only at the broker, as a refused frame.
        let size = record_size_estimate(rec.key, rec.value, rec.headers) + BATCH_HEADER_LEN;
        if size > cfg.max_request_size {
            return Err(TrySendError::Failed(ClientError::RecordTooLarge {
                size,
                max: cfg.max_request_size,
            }));
        }
        let mut acc = self.inner.lock();
        if acc.closed {
            return Err(TrySendError::Failed(ClientError::Closed));
        }
        if let Some(e) = &acc.fatal {
            return Err(TrySendError::Failed(e.clone()));
        }
        if acc.buffered >= cfg.buffer_memory {
            return Err(TrySendError::Full);
        }
        let blocked = acc.identity_blocked();
        let acc = &mut *acc;
        let Some(t) = acc.topics.get_mut(rec.topic) else {
            return Err(TrySendError::NeedMetadata);
        };
        let count = t.slots.len() as i32;
        let keyed = rec.partition.is_some() || rec.key.is_some();
        let mut partition = match (rec.partition, rec.key) {
            (Some(p), _) => {
                if p < 0 || p >= count {
                    return Err(TrySendError::Failed(ClientError::UnknownPartition {
                        topic: rec.topic.to_string(),
                        partition: p,
                    }));
                }
                p
            }
            (None, Some(k)) => partition_for_key(k, count),
            (None, None) => match t.sticky {
                Some(p) => p,
                None => {
                    let p = self.next_sticky(count, None);
                    t.sticky = Some(p);
                    p
                }
            },
        };
        let timestamp = rec.timestamp.unwrap_or_else(now_ms);
        let mut wake = false;

        let estimate = {
            let slot = &t.slots[partition as usize];
            slot.open.as_ref().map(|ob| {
                ob.builder
                    .record_size_estimate(rec.key, rec.value, rec.headers)
            })
        };
        if let Some(est) = estimate {
            let slot = &mut t.slots[partition as usize];
            let full = slot.open.as_ref().is_some_and(|ob| {
                !ob.builder.is_empty() && ob.builder.size_bytes() + est > cfg.batch_size
            });
            if full && blocked {
                // Sealed now it would go without its producer id: wait.
                return Err(TrySendError::Full);
            }
            if full {
                if let Some(ob) = slot.open.take() {
                    slot.hot = true;
                    let batch = seal(
                        &t.name,
                        partition,
                        ob,
                        slot,
                        acc.producer,
                        &mut acc.sealed,
                        SealAs::of(cfg),
                    );
                    acc.buffered += batch.records.len();
                    acc.ready.push_back(batch);
                    wake = true;
                }
                if !keyed {
                    // Sticky partitioning: move on once a batch is complete.
                    partition = self.next_sticky(count, Some(partition));
                    t.sticky = Some(partition);
                }
            }
        }

        let slot = &mut t.slots[partition as usize];
        if slot.open.is_none() {
            let est = 64
                + rec.key.map_or(0, <[u8]>::len)
                + rec.value.map_or(0, <[u8]>::len)
                + rec
                    .headers
                    .iter()
                    .map(|(k, v)| 16 + k.len() + v.map_or(0, <[u8]>::len))
                    .sum::<usize>();
            let cap = if slot.hot {
                cfg.batch_size.max(est + 128)
            } else {
                cfg.batch_size.min(16 * 1024).max(est + 128)
            };
            slot.open = Some(OpenBatch {
                builder: BatchBuilder::with_capacity(timestamp, cap),
                created: Instant::now(),
                outcome: Arc::new(BatchOutcome {
                    topic: t.name.clone(),
                    partition,
                    result: OnceLock::new(),
                    done: Notify::new(),
                }),
            });
            acc.outstanding += 1;
            wake = true;
        }
        let Some(ob) = slot.open.as_mut() else {
            return Err(TrySendError::Failed(ClientError::Closed));
        };
        let index = ob.builder.len() as u32;
        if let Err(e) = ob.builder.push(timestamp, rec.key, rec.value, rec.headers) {
            return Err(TrySendError::Failed(e.into()));
        }
        let fut = DeliveryFuture {
            outcome: ob.outcome.clone(),
            index,
        };
        if wake {
            self.inner.wake.notify_one();
        }
        Ok(fut)
    }

    fn next_sticky(&self, count: i32, previous: Option<i32>) -> i32 {
        self.inner
            .sticky
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next(count, previous)
    }

    /// Sends a record, waiting for metadata or buffer space as needed.
    pub async fn send(&self, rec: &ProducerRecord<'_>) -> Result<DeliveryFuture> {
        loop {
            match self.try_send(rec) {
                Ok(f) => return Ok(f),
                Err(TrySendError::NeedMetadata) => self.prepare_topic(rec.topic).await?,
                Err(TrySendError::Full) => self.wait_for_space().await,
                Err(TrySendError::Failed(e)) => return Err(e),
            }
        }
    }

    fn has_space(&self) -> bool {
        let acc = self.inner.lock();
        acc.closed || (acc.buffered < self.inner.config.buffer_memory && !acc.identity_blocked())
    }

    /// Waits until `try_send` would not report `Full`.
    pub async fn wait_for_space(&self) {
        loop {
            let n = self.inner.progress.notified();
            tokio::pin!(n);
            n.as_mut().enable();
            if self.has_space() {
                return;
            }
            n.await;
        }
    }

    /// Like [`Producer::wait_for_space`] for a thread outside the runtime.
    pub fn wait_for_space_blocking(&self) {
        let mut acc = self.inner.lock();
        while !acc.closed
            && (acc.buffered >= self.inner.config.buffer_memory || acc.identity_blocked())
        {
            acc = match self
                .inner
                .progress_cv
                .wait_timeout(acc, Duration::from_millis(50))
            {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Sends everything buffered now and waits until all of it is
    /// acknowledged or failed.
    pub async fn flush(&self) {
        self.inner.lock().flushing += 1;
        self.inner.wake.notify_one();
        loop {
            let n = self.inner.progress.notified();
            tokio::pin!(n);
            n.as_mut().enable();
            if self.inner.lock().outstanding == 0 {
                break;
            }
            n.await;
        }
        let mut acc = self.inner.lock();
        acc.flushing = acc.flushing.saturating_sub(1);
    }

    /// Flushes, then stops the sender; later sends fail with `Closed`.
    pub async fn close(&self) {
        self.flush().await;
        self.inner.lock().closed = true;
        self.inner.wake.notify_one();
    }

    /// Delivers every record sent since the last commit or abort, then
    /// commits them as one transaction: read_committed consumers see all
    /// of them or none. When a record of it failed, nothing is committed
    /// and the error is returned: abort then. Nothing may be sent while
    /// this runs. Without records since the last end, nothing is asked.
    pub async fn commit_transaction(&self) -> Result<()> {
        self.end_transaction(true).await
    }

    /// Ends the transaction without committing: its records are never
    /// seen by read_committed consumers. After a failed transaction this
    /// also takes a new producer epoch, so sends can go on.
    pub async fn abort_transaction(&self) -> Result<()> {
        self.end_transaction(false).await
    }

    async fn end_transaction(&self, commit: bool) -> Result<()> {
        let cfg = &self.inner.config;
        let Some(tid) = cfg.transactional_id.clone() else {
            return Err(ClientError::broker(
                crate::proto::ErrorCode::InvalidTxnState,
                Some("not a transactional producer (no transactional id)"),
            ));
        };
        self.flush().await;
        let (who, partitions) = {
            let mut acc = self.inner.lock();
            if let Some(e) = &acc.fatal {
                return Err(e.clone());
            }
            if let (true, Some(e)) = (commit, &acc.txn_error) {
                return Err(e.clone());
            }
            let partitions = acc.txn_partitions.len();
            let opened = partitions > 0 || acc.txn_offsets;
            let Some((producer_id, epoch)) = acc.producer.filter(|_| opened) else {
                // Nothing reached the coordinator: no transaction is open
                // there. Sequences handed to failed batches are a gap, so
                // a failure still needs the new epoch.
                if acc.txn_error.take().is_some() {
                    acc.renew_identity = true;
                }
                return Ok(());
            };
            let who = super::transaction::TxnProducer {
                transactional_id: tid,
                producer_id,
                epoch,
            };
            (who, partitions)
        };
        let retry = super::transaction::Retry {
            deadline: Instant::now() + cfg.delivery_timeout,
            backoff: cfg.retry_backoff,
            backoff_max: cfg.retry_backoff_max,
        };
        let ended = super::transaction::end_txn(&self.inner.client, &who, commit, retry).await;
        let mut acc = self.inner.lock();
        match ended {
            Ok(()) => {
                tracing::debug!(commit, partitions, "transaction ended");
                acc.txn_partitions.clear();
                acc.txn_offsets = false;
                if acc.txn_error.take().is_some() {
                    acc.renew_identity = true;
                }
                drop(acc);
                self.inner.wake.notify_one();
                Ok(())
            }
            Err(e) => {
                if e.is_fenced() && acc.fatal.is_none() {
                    acc.fatal = Some(e.clone());
                }
                Err(e)
            }
        }
    }

    /// Consume-transform-produce: `group`'s offsets (topic, partition,
    /// next offset to read) are committed with the open transaction, so
    /// the group sees them when it commits and never when it aborts
    /// (Kafka's `sendOffsetsToTransaction`). Opens the transaction at the
    /// coordinator if nothing was sent in it yet.
    pub async fn send_offsets_to_transaction(
        &self,
        group: &str,
        offsets: &[(String, i32, i64)],
    ) -> Result<()> {
        let cfg = &self.inner.config;
        let who = {
            let acc = self.inner.lock();
            if let Some(e) = acc.fatal.as_ref().or(acc.txn_error.as_ref()) {
                return Err(e.clone());
            }
            let (Some(tid), Some((producer_id, epoch))) =
                (cfg.transactional_id.clone(), acc.producer)
            else {
                return Err(ClientError::broker(
                    crate::proto::ErrorCode::InvalidTxnState,
                    Some("not a transactional producer with a producer id"),
                ));
            };
            super::transaction::TxnProducer {
                transactional_id: tid,
                producer_id,
                epoch,
            }
        };
        let retry = super::transaction::Retry {
            deadline: Instant::now() + cfg.delivery_timeout,
            backoff: cfg.retry_backoff,
            backoff_max: cfg.retry_backoff_max,
        };
        let result = async {
            super::transaction::add_offsets(&self.inner.client, &who, group, retry).await?;
            self.inner.lock().txn_offsets = true;
            super::transaction::commit_offsets(&self.inner.client, &who, group, offsets, retry)
                .await
        }
        .await;
        if let Err(e) = &result {
            let mut acc = self.inner.lock();
            if e.is_fenced() && acc.fatal.is_none() {
                acc.fatal = Some(e.clone());
            }
        }
        result
    }

    /// Batches not yet acknowledged (open, queued or in flight).
    pub fn outstanding_batches(&self) -> usize {
        self.inner.lock().outstanding
    }
}

/// How a batch is sealed: its codec, and whether it belongs to a
/// transaction (only with a producer id).
#[derive(Clone, Copy)]
struct SealAs {
    codec: Compression,
    transactional: bool,
}

impl SealAs {
    fn of(cfg: &ProducerConfig) -> SealAs {
        SealAs {
            codec: cfg.compression,
            transactional: cfg.transactional_id.is_some(),
        }
    }
}

fn seal(
    topic: &Arc<str>,
    partition: i32,
    mut ob: OpenBatch,
    slot: &mut Slot,
    producer: Option<(i64, i16)>,
    sealed: &mut u64,
    SealAs {
        codec,
        transactional,
    }: SealAs,
) -> Batch {
    let count = ob.builder.len();
    ob.builder
        .set_transactional(transactional && producer.is_some());
    if let Some((id, epoch)) = producer {
        // Sequences are per partition, in seal order (= send order).
        ob.builder.set_producer(id, epoch, slot.next_seq);
        let next = i64::from(slot.next_seq) + count as i64;
        slot.next_seq = (next % (i64::from(i32::MAX) + 1)) as i32;
    }
    *sealed += 1;
    let plain = ob.builder.finish().freeze();
    let records = match codec {
        Compression::None => plain,
        // Compressing plain records can only fail on sizes the builder
        // already refused; the plain batch is as valid, so it goes instead.
        _ => match recompress(&plain, codec, usize::MAX) {
            Ok(packed) => packed.into(),
            Err(e) => {
                tracing::warn!("sending a batch uncompressed: {e}");
                plain
            }
        },
    };
    Batch {
        topic: topic.clone(),
        partition,
        count,
        records,
        created: ob.created,
        outcome: ob.outcome,
        attempts: 0,
        not_before: None,
        order: *sealed,
        idempotent: producer.is_some(),
        producer_id: producer.map_or(-1, |p| p.0),
        in_flight: false,
        last_error: None,
    }
}

enum Collected {
    Send {
        node: i32,
        batches: Vec<Batch>,
    },
    /// These topics need fresh metadata before their batches can be routed.
    Refresh(Vec<String>),
    Wait(Option<Instant>),
    Done,
}

impl Inner {
    /// Seals expired (or flushed) open batches and takes the ready batches
    /// for one leader node, up to the request size limit.
    fn collect(&self, now: Instant) -> Collected {
        let cfg = &self.config;
        let mut acc = self.lock();
        let acc = &mut *acc;
        let drain_all = acc.flushing > 0 || acc.closed;
        let mut next: Option<Instant> = None;
        let may_seal = !acc.identity_blocked();
        for t in acc.topics.values_mut().filter(|_| may_seal) {
            for (p, slot) in t.slots.iter_mut().enumerate() {
                let Some(ob) = &slot.open else { continue };
                let due = ob.created + cfg.linger;
                if drain_all || due <= now {
                    if let Some(ob) = slot.open.take() {
                        slot.hot = false;
                        if t.sticky == Some(p as i32) {
                            t.sticky = None;
                        }
                        let b = seal(
                            &t.name,
                            p as i32,
                            ob,
                            slot,
                            acc.producer,
                            &mut acc.sealed,
                            SealAs::of(cfg),
                        );
                        acc.buffered += b.records.len();
                        acc.ready.push_back(b);
                    }
                } else {
                    next = Some(next.map_or(due, |n: Instant| n.min(due)));
                }
            }
        }
        if let Some(at) = acc.identity_retry_at.filter(|_| !may_seal) {
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        if acc.ready.is_empty() {
            if acc.closed && acc.outstanding == 0 {
                return Collected::Done;
            }
            return Collected::Wait(next);
        }

        let leader_of = |b: &Batch| -> Option<i32> {
            let info = self.client.cached_topic(&b.topic)?;
            let p = info.partition(b.partition)?;
            (p.leader >= 0).then_some(p.leader)
        };
        let mut node = None;
        let mut refresh: Vec<String> = Vec::new();
        let mut taken = Vec::new();
        let mut size = 0usize;
        let mut keep = VecDeque::with_capacity(acc.ready.len());
        // Partitions whose earlier batch waits (retry backoff) or is
        // already in this request: later batches must not overtake it.
        let mut held: Vec<(Arc<str>, i32)> = Vec::new();
        while let Some(b) = acc.ready.pop_front() {
            if b.idempotent
                && held
                    .iter()
                    .any(|(t, p)| *p == b.partition && **t == *b.topic)
            {
                keep.push_back(b);
                continue;
            }
            if let Some(t) = b.not_before {
                if t > now {
                    next = Some(next.map_or(t, |n| n.min(t)));
                    held.push((b.topic.clone(), b.partition));
                    keep.push_back(b);
                    continue;
                }
            }
            if b.idempotent {
                held.push((b.topic.clone(), b.partition));
                let probing = acc
                    .topics
                    .get(&*b.topic)
                    .and_then(|t| t.slots.get(b.partition as usize))
                    .is_some_and(|s| !s.confirmed && s.in_flight > 0);
                if probing {
                    keep.push_back(b);
                    continue;
                }
            }
            let Some(leader) = leader_of(&b) else {
                if !refresh.iter().any(|r| **r == *b.topic) {
                    refresh.push(b.topic.to_string());
                }
                keep.push_back(b);
                continue;
            };
            let fits = taken.is_empty() || size + b.records.len() <= cfg.max_request_size;
            let free = acc.in_flight.get(&leader).copied().unwrap_or(0) < cfg.max_in_flight.max(1);
            if fits && free && node.is_none_or(|n| n == leader) {
                node = Some(leader);
                size += b.records.len();
                taken.push(b);
            } else {
                keep.push_back(b);
            }
        }
        acc.ready = keep;
        match node {
            Some(node) if !taken.is_empty() => {
                *acc.in_flight.entry(node).or_default() += 1;
                for b in taken.iter_mut().filter(|b| b.idempotent) {
                    b.in_flight = true;
                    if let Some(slot) = acc
                        .topics
                        .get_mut(&*b.topic)
                        .and_then(|t| t.slots.get_mut(b.partition as usize))
                    {
                        slot.in_flight += 1;
                    }
                }
                Collected::Send {
                    node,
                    batches: taken,
                }
            }
            _ if !refresh.is_empty() => Collected::Refresh(refresh),
            _ => Collected::Wait(next),
        }
    }

    /// Fails the queued (not in-flight) batches whose delivery timeout has
    /// passed; returns the earliest deadline of those that remain.
    fn expire(&self, now: Instant) -> Option<Instant> {
        let timeout = self.config.delivery_timeout;
        let expired: Vec<Batch> = {
            let mut acc = self.lock();
            let (old, keep): (VecDeque<Batch>, VecDeque<Batch>) = acc
                .ready
                .drain(..)
                .partition(|b| b.created + timeout <= now);
            acc.ready = keep;
            old.into_iter().collect()
        };
        if !expired.is_empty() {
            tracing::debug!(batches = expired.len(), "batches expired before delivery");
            for b in expired {
                // Waited behind earlier batches of its partition that kept
                // failing, or for a leader, for the whole delivery timeout.
                let last = b
                    .last_error
                    .as_deref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default();
                let e = ClientError::Timeout {
                    what: format!(
                        "delivery to {}-{} (delivery.timeout.ms, after {} attempts{last})",
                        b.topic, b.partition, b.attempts
                    ),
                    after: timeout,
                };
                self.complete(b, Err(e));
            }
            self.signal_progress();
        }
        self.lock().ready.iter().map(|b| b.created + timeout).min()
    }

    /// Records a batch's fate and tells everyone who waits on it.
    fn complete(&self, batch: Batch, result: std::result::Result<i64, ClientError>) {
        if let Some(cb) = &self.config.on_delivery {
            let (base, err) = match &result {
                Ok(b) => (*b, None),
                Err(e) => (-1, Some(e)),
            };
            cb(&BatchReport {
                topic: &batch.topic,
                partition: batch.partition,
                base_offset: base,
                records: batch.count,
                bytes: batch.records.len(),
                latency: batch.created.elapsed(),
                error: err,
            });
        }
        let failed = result.is_err();
        let txn_failure = match &result {
            Err(e) if self.config.transactional_id.is_some() => Some(e.clone()),
            _ => None,
        };
        let _ = batch.outcome.result.set(result);
        batch.outcome.done.notify_waiters();
        {
            let mut acc = self.lock();
            acc.landed(&batch, !failed);
            let current = acc.producer.map(|p| p.0) == Some(batch.producer_id);
            if let Some(e) = txn_failure {
                // The transaction cannot commit; its abort renews the
                // identity (see `Producer::abort_transaction`). A fenced
                // producer stops for good: asking for a new epoch would
                // fence the newer instance in turn.
                if e.is_fenced() && acc.fatal.is_none() {
                    acc.fatal = Some(e.clone());
                }
                acc.txn_error.get_or_insert(e);
            } else if failed && batch.idempotent && current {
                acc.renew_identity = true;
            }
            acc.outstanding = acc.outstanding.saturating_sub(1);
            acc.buffered = acc.buffered.saturating_sub(batch.records.len());
        }
    }

    /// A request to `node` is over: it may take another one.
    fn request_done(&self, node: i32) {
        {
            let mut acc = self.lock();
            if let Some(n) = acc.in_flight.get_mut(&node) {
                *n = n.saturating_sub(1);
            }
        }
        self.signal_progress();
    }

    fn signal_progress(&self) {
        self.progress.notify_waiters();
        self.progress_cv.notify_all();
        self.wake.notify_one();
    }

    /// Fails a batch or puts it back for another attempt.
    fn retry_or_fail(&self, mut batch: Batch, err: ClientError) {
        if self.retriable(&batch, &err)
            && batch.attempts < self.config.retries
            && batch.created.elapsed() < self.config.delivery_timeout
            && !self.lock().closed
        {
            tracing::debug!(topic = %batch.topic, partition = batch.partition, error = %err, "retrying batch");
            if err.code() == Some(crate::proto::ErrorCode::NotEnoughReplicas)
                && !self
                    .warned_min_isr
                    .swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                // Unlike a leader change this does not heal by itself: say
                // so now rather than only after the delivery timeout.
                tracing::warn!(
                    "{err}; retrying until delivery.timeout.ms ({} ms)",
                    self.config.delivery_timeout.as_millis()
                );
            }
            batch.last_error = Some(err.to_string());
            self.client.invalidate(&batch.topic);
            let backoff = self
                .config
                .retry_backoff
                .saturating_mul(1u32 << batch.attempts.min(16))
                .min(self.config.retry_backoff_max.max(self.config.retry_backoff));
            batch.attempts += 1;
            batch.not_before = Some(Instant::now() + backoff);
            let mut acc = self.lock();
            acc.landed(&batch, false);
            batch.in_flight = false;
            // Back in seal order, so batches of a partition keep their order.
            let at = acc
                .ready
                .iter()
                .position(|b| b.order > batch.order)
                .unwrap_or(acc.ready.len());
            acc.ready.insert(at, batch);
        } else {
            self.complete(batch, Err(err));
        }
    }

    fn retriable(&self, batch: &Batch, err: &ClientError) -> bool {
        match err {
            // A dead leader: another is elected, or it comes back (a
            // restart). Either way within the delivery timeout, or never.
            ClientError::Unreachable { .. } => true,
            // An earlier batch of the partition is being retried; this one
            // goes again after it.
            ClientError::Broker { code, .. }
                if *code == crate::proto::ErrorCode::OutOfOrderSequenceNumber =>
            {
                // Unless that earlier batch failed for good (or the id was
                // renewed since): then the gap is permanent.
                let acc = self.lock();
                batch.idempotent
                    && !acc.renew_identity
                    && acc.producer.map(|p| p.0) == Some(batch.producer_id)
            }
            e => e.is_retriable(),
        }
    }

    /// Fresh partition info after a refresh (partition counts can grow).
    fn update_topic(&self, info: Arc<TopicInfo>) {
        let mut acc = self.lock();
        if let Some(t) = acc.topics.get_mut(&info.name) {
            while t.slots.len() < info.partitions.len() {
                t.slots.push(Slot::default());
            }
            t.info = info;
        }
    }
}

/// Writes a ProduceRequest whose batches are shared `Bytes`, so a retry can
/// resend them without keeping a second copy. Field order is
/// `messages::produce`'s (checked by a test against its encoder).
fn encode_produce(buf: &mut BytesMut, acks: i16, timeout_ms: i32, batches: &[Batch]) {
    acks.encode(buf);
    timeout_ms.encode(buf);
    // Group by topic, preserving first-seen order.
    let mut topics: Vec<(&str, Vec<&Batch>)> = Vec::new();
    for b in batches {
        match topics.iter_mut().find(|(t, _)| *t == &*b.topic) {
            Some((_, v)) => v.push(b),
            None => topics.push((&b.topic, vec![b])),
        }
    }
    buf.put_u32(topics.len() as u32);
    for (name, parts) in topics {
        name.to_string().encode(buf);
        buf.put_u32(parts.len() as u32);
        for b in parts {
            b.partition.encode(buf);
            b.records.encode(buf);
        }
    }
}

/// Asks for a producer id while one is needed: at the start (acks=all
/// with idempotence only, as in Kafka) and after an idempotent batch
/// failed for good (a fresh id, every partition's sequence from 0; Kafka
/// bumps the epoch instead, KIP-360, to the same effect here: batches
/// sealed under the old id that meet the gap fail instead of retrying
/// forever). Without an id nothing is sealed; when none can be had within
/// the delivery timeout the records waiting for it fail, and the next
/// records ask again. Never a silent fallback to non-idempotent sends.
async fn settle_identity(inner: &Inner) {
    {
        let mut acc = inner.lock();
        // After a failure, ask again only once it is time and records
        // wait for an id.
        let due = match acc.identity_retry_at {
            None => true,
            Some(at) => {
                at <= Instant::now()
                    && acc
                        .topics
                        .values()
                        .any(|t| t.slots.iter().any(|s| s.open.is_some()))
            }
        };
        if !acc.identity_blocked() || !due {
            return;
        }
        acc.identity_pending = true;
    }
    match request_identity(inner).await {
        Ok(id) => {
            let mut acc = inner.lock();
            acc.producer = Some(id);
            acc.identity_pending = false;
            acc.identity_retry_at = None;
            acc.renew_identity = false;
            for t in acc.topics.values_mut() {
                for slot in &mut t.slots {
                    slot.next_seq = 0;
                    slot.confirmed = false;
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "no idempotent producer id; failing the records waiting for one");
            inner.lock().identity_retry_at = Some(Instant::now() + inner.config.retry_backoff_max);
            fail_open_batches(inner, e);
        }
    }
    inner.identity.send_replace(true);
    inner.signal_progress();
}

/// Fails the records of every batch not sealed yet.
fn fail_open_batches(inner: &Inner, err: ClientError) {
    let open: Vec<Batch> = {
        let mut acc = inner.lock();
        let acc = &mut *acc;
        let mut open = Vec::new();
        for t in acc.topics.values_mut() {
            for (p, slot) in t.slots.iter_mut().enumerate() {
                if let Some(ob) = slot.open.take() {
                    if t.sticky == Some(p as i32) {
                        t.sticky = None;
                    }
                    // Sealed without an id, only to be failed: never sent.
                    // (and so not worth compressing).
                    open.push(seal(
                        &t.name,
                        p as i32,
                        ob,
                        slot,
                        None,
                        &mut acc.sealed,
                        SealAs {
                            codec: Compression::None,
                            transactional: false,
                        },
                    ));
                }
            }
        }
        open
    };
    for b in open {
        inner.complete(b, Err(err.clone()));
    }
}

/// InitProducerId, retried with backoff (a restarting broker, a moving
/// controller) until the delivery timeout.
async fn request_identity(inner: &Inner) -> Result<(i64, i16)> {
    use crate::proto::messages::replication::InitProducerIdResponse;
    use crate::proto::messages::transactions::InitProducerIdRequestV1;
    // With a transactional id the coordinator bumps the id's epoch, which
    // fences older instances and aborts a transaction one left open.
    let req = InitProducerIdRequestV1 {
        producer_id: -1,
        producer_epoch: -1,
        transactional_id: inner.config.transactional_id.clone(),
        transaction_timeout_ms: inner
            .config
            .transaction_timeout
            .as_millis()
            .min(i32::MAX as u128) as i32,
    };
    let what = if inner.config.transactional_id.is_some() {
        "transactional"
    } else {
        "idempotent"
    };
    let cfg = &inner.config;
    let deadline = Instant::now() + cfg.delivery_timeout;
    let mut attempt = 0u32;
    loop {
        // A transactional id goes to its coordinator; an idempotent
        // producer's id comes from any broker.
        let conn = match &inner.config.transactional_id {
            Some(id) => super::transaction::coordinator_connection(&inner.client, id).await,
            None => inner.client.bootstrap_connection().await,
        };
        let resp = match conn {
            Ok(conn) => {
                conn.call::<_, InitProducerIdResponse>(
                    ApiKey::InitProducerId,
                    &req,
                    inner.client.request_timeout(),
                )
                .await
            }
            Err(e) => Err(e),
        };
        let err = match resp {
            Ok(r) if r.status.is_ok() && r.producer_id >= 0 => {
                return Ok((r.producer_id, r.producer_epoch))
            }
            Ok(r) => ClientError::broker(r.status.error_code(), r.status.message.as_deref()),
            Err(e) => e,
        };
        let retriable = err.is_retriable() || matches!(err, ClientError::Unreachable { .. });
        if !retriable {
            return Err(ClientError::Broker {
                code: err
                    .code()
                    .unwrap_or(crate::proto::ErrorCode::UnknownServerError),
                message: format!("no {what} producer id: {err}"),
            });
        }
        let wait = jittered(cfg.retry_backoff, cfg.retry_backoff_max, attempt);
        if Instant::now() + wait >= deadline || inner.lock().closed {
            return Err(ClientError::Timeout {
                what: format!("getting a {what} producer id (last error: {err})"),
                after: cfg.delivery_timeout,
            });
        }
        tracing::debug!(error = %err, "producer id not available yet");
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

async fn run_sender(inner: Arc<Inner>) {
    loop {
        let (node, batches) = loop {
            // Before sealing anything without an id or under a broken one.
            settle_identity(&inner).await;
            let expiry = inner.expire(Instant::now());
            match inner.collect(Instant::now()) {
                Collected::Send { node, batches } => break (node, batches),
                Collected::Done => return,
                Collected::Refresh(topics) => {
                    for t in topics {
                        match inner
                            .client
                            .refresh_topic(&t, inner.config.auto_create_topics)
                            .await
                        {
                            Ok(info) => inner.update_topic(info),
                            Err(e) => fail_topic(&inner, &t, e),
                        }
                    }
                }
                Collected::Wait(deadline) => {
                    let deadline = match (deadline, expiry) {
                        (Some(d), Some(e)) => Some(d.min(e)),
                        (d, e) => d.or(e),
                    };
                    let sleep = async {
                        match deadline {
                            Some(d) => tokio::time::sleep_until(d.into()).await,
                            None => std::future::pending::<()>().await,
                        }
                    };
                    tokio::select! {
                        _ = inner.wake.notified() => {}
                        _ = sleep => {}
                    }
                }
            }
        };
        if inner.config.transactional_id.is_some() {
            if let Err(e) = join_transaction(&inner, &batches).await {
                for b in batches {
                    inner.complete(b, Err(e.clone()));
                }
                inner.request_done(node);
                continue;
            }
        }
        send_request(&inner, node, batches).await;
    }
}

/// Adds the partitions of `batches` that are not in the open transaction
/// yet to it (the broker refuses transactional batches for others). Fails
/// at once when the transaction has failed already: it can only abort.
async fn join_transaction(inner: &Inner, batches: &[Batch]) -> Result<()> {
    let (who, mut new) = {
        let acc = inner.lock();
        if let Some(e) = acc.fatal.as_ref().or(acc.txn_error.as_ref()) {
            return Err(e.clone());
        }
        let Some((producer_id, epoch)) = acc.producer else {
            return Err(ClientError::Closed);
        };
        let new: Vec<(Arc<str>, i32)> = batches
            .iter()
            .map(|b| (b.topic.clone(), b.partition))
            .filter(|k| !acc.txn_partitions.contains(k))
            .collect();
        let who = super::transaction::TxnProducer {
            transactional_id: inner.config.transactional_id.clone().unwrap_or_default(),
            producer_id,
            epoch,
        };
        (who, new)
    };
    new.sort();
    new.dedup();
    if new.is_empty() {
        return Ok(());
    }
    let cfg = &inner.config;
    let retry = super::transaction::Retry {
        deadline: Instant::now() + cfg.delivery_timeout,
        backoff: cfg.retry_backoff,
        backoff_max: cfg.retry_backoff_max,
    };
    super::transaction::add_partitions(&inner.client, &who, &new, retry).await?;
    inner.lock().txn_partitions.extend(new);
    Ok(())
}

/// Fails (or retries) every queued batch of a topic whose metadata could
/// not be fetched.
fn fail_topic(inner: &Inner, topic: &str, err: ClientError) {
    let failed: Vec<Batch> = {
        let mut acc = inner.lock();
        let (mine, rest): (VecDeque<Batch>, VecDeque<Batch>) =
            acc.ready.drain(..).partition(|b| &*b.topic == topic);
        acc.ready = rest;
        mine.into_iter().collect()
    };
    for b in failed {
        inner.retry_or_fail(b, err.clone());
    }
    inner.signal_progress();
}

/// Sends one request to `node` (whose in-flight count `collect` raised)
/// and lowers the count again once it is answered or failed.
async fn send_request(inner: &Arc<Inner>, node: i32, batches: Vec<Batch>) {
    let cfg = &inner.config;
    let conn = match inner.client.connection(node, Lane::Default).await {
        Ok(c) => c,
        Err(e) => {
            for b in batches {
                inner.retry_or_fail(b, e.clone());
            }
            inner.request_done(node);
            return;
        }
    };
    let size: usize = batches.iter().map(|b| b.records.len() + 16).sum::<usize>() + 64;
    let timeout_ms = cfg.request_timeout.as_millis().min(i32::MAX as u128) as i32;
    let acks = cfg.acks.wire();
    let fut = conn.send_with(ApiKey::Produce, cfg.acks != Acks::None, size, |buf| {
        encode_produce(buf, acks, timeout_ms, &batches)
    });
    let inner = inner.clone();
    tokio::spawn(async move {
        handle_response(&inner, conn, batches, fut).await;
        inner.request_done(node);
    });
}

async fn handle_response(
    inner: &Inner,
    conn: Arc<super::connection::Connection>,
    batches: Vec<Batch>,
    fut: ResponseFuture,
) {
    let timeout = inner.config.request_timeout;
    let body = match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => {
            for b in batches {
                inner.retry_or_fail(b, e.clone());
            }
            return;
        }
        Err(_) => {
            let e = ClientError::Timeout {
                what: format!("produce request to {}", conn.addr()),
                after: timeout,
            };
            for b in batches {
                inner.retry_or_fail(b, e.clone());
            }
            return;
        }
    };
    if inner.config.acks == Acks::None {
        for b in batches {
            inner.complete(b, Ok(-1));
        }
        return;
    }
    let resp: ProduceResponse = match conn.decode(body) {
        Ok(r) => r,
        Err(e) => {
            for b in batches {
                inner.complete(b, Err(e.clone()));
            }
            return;
        }
    };
    if !resp.status.is_ok() {
        let e = ClientError::broker(resp.status.error_code(), resp.status.message.as_deref());
        for b in batches {
            inner.retry_or_fail(b, e.clone());
        }
        return;
    }
    let mut results: HashMap<
        (&str, i32),
        &crate::proto::messages::produce::ProducePartitionResponse,
    > = HashMap::new();
    for t in &resp.topics {
        for p in &t.partitions {
            results.insert((t.name.as_str(), p.partition), p);
        }
    }
    for b in batches {
        match results.get(&(&*b.topic, b.partition)) {
            Some(p) if p.status.is_ok() => {
                let base = p.base_offset;
                inner.complete(b, Ok(base));
            }
            // A retry of batches the leader has had for a while (their
            // offsets forgotten): delivered, not written again.
            Some(p)
                if b.idempotent
                    && p.status.error_code()
                        == crate::proto::ErrorCode::DuplicateSequenceNumber =>
            {
                inner.complete(b, Ok(-1));
            }
            Some(p) => {
                let e = ClientError::broker(p.status.error_code(), p.status.message.as_deref());
                inner.retry_or_fail(b, e);
            }
            None => {
                let e = ClientError::broker(
                    crate::proto::ErrorCode::UnknownServerError,
                    Some("broker did not answer for this partition"),
                );
                inner.complete(b, Err(e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::codec::to_bytes;
    use crate::proto::messages::produce::{ProducePartition, ProduceRequest, ProduceTopic};

    fn batch(topic: &str, partition: i32, data: &[u8]) -> Batch {
        Batch {
            topic: Arc::from(topic),
            partition,
            records: Bytes::copy_from_slice(data),
            count: 1,
            created: Instant::now(),
            outcome: Arc::new(BatchOutcome {
                topic: Arc::from(topic),
                partition,
                result: OnceLock::new(),
                done: Notify::new(),
            }),
            attempts: 0,
            not_before: None,
            order: 0,
            idempotent: false,
            producer_id: -1,
            in_flight: false,
            last_error: None,
        }
    }

    #[test]
    fn hand_encoded_produce_matches_the_wire_struct() {
        let batches = vec![
            batch("a", 0, b"xyz"),
            batch("b", 2, b"q"),
            batch("a", 1, b""),
        ];
        let mut mine = BytesMut::new();
        encode_produce(&mut mine, -1, 3000, &batches);
        let want = ProduceRequest {
            acks: -1,
            timeout_ms: 3000,
            topics: vec![
                ProduceTopic {
                    name: "a".into(),
                    partitions: vec![
                        ProducePartition {
                            partition: 0,
                            records: BytesMut::from(&b"xyz"[..]),
                        },
                        ProducePartition {
                            partition: 1,
                            records: BytesMut::new(),
                        },
                    ],
                },
                ProduceTopic {
                    name: "b".into(),
                    partitions: vec![ProducePartition {
                        partition: 2,
                        records: BytesMut::from(&b"q"[..]),
                    }],
                },
            ],
        };
        assert_eq!(mine, to_bytes(&want));
    }

    #[test]
    fn acks_parse() {
        assert_eq!("all".parse::<Acks>().unwrap(), Acks::All);
        assert_eq!("-1".parse::<Acks>().unwrap(), Acks::All);
        assert_eq!("0".parse::<Acks>().unwrap().wire(), 0);
        assert!("2".parse::<Acks>().is_err());
    }
}
