//! The transaction coordinator (KIP-98): one state machine per
//! transactional id, each change persisted to `__transaction_state`
//! before it takes effect in memory or is answered.
//!
//! A transaction ends in two steps, as in Kafka: the decision
//! (PrepareCommit/PrepareAbort) is persisted first and from then on is
//! final; then the markers go to every partition of the transaction, a
//! commit's offsets go to the group coordinator, and Complete* is
//! persisted. If the second step fails (a partition unavailable) or the
//! broker dies in between, it is redone until it succeeds: by the
//! periodic check ([`TransactionCoordinator::tick`]) and by
//! [`TransactionCoordinator::load`] after a restart. Writing a marker or
//! committing the same offsets twice changes nothing a reader sees.
//!
//! Calls for one transactional id are serialised by its own async lock,
//! held across the persisting await; different ids run in parallel.
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use super::codec::{decode_key, decode_value, encode_key, encode_value};
use super::env::TxnEnv;
use super::types::{PendingOffset, TxnError, TxnListing, TxnMetadata, TxnState};
use crate::broker::group::partition_for_group;
use crate::record::Marker;

#[derive(Debug, Clone)]
pub struct TxnConfig {
    /// Partitions of `__transaction_state`.
    pub partitions: i32,
    /// `transaction.max.timeout.ms`: the longest timeout a producer may ask.
    pub max_timeout_ms: i32,
}

/// Kafka's `transaction.max.timeout.ms` default: 15 minutes.
pub const DEFAULT_MAX_TIMEOUT_MS: i32 = 900_000;

type Slot = Arc<tokio::sync::Mutex<Option<TxnMetadata>>>;

/// Where a partition of `__transaction_state` stands on this broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Load {
    /// Being replayed under this ticket (a leadership gain).
    Loading(u64),
    /// Its transactions are in memory and served.
    Loaded,
}

/// A leadership gain of one partition, to load it (see
/// [`TransactionCoordinator::begin_load`]).
#[derive(Debug, Clone, Copy)]
pub struct LoadTicket {
    pub partition: i32,
    id: u64,
}

#[derive(Default)]
struct Loads {
    partitions: HashMap<i32, Load>,
    last_ticket: u64,
}

pub struct TransactionCoordinator {
    config: TxnConfig,
    env: Arc<dyn TxnEnv>,
    txns: Mutex<HashMap<String, Slot>>,
    /// The partitions of `__transaction_state` served here: all of them on
    /// a single node, those this broker leads in a cluster.
    loads: Mutex<Loads>,
    /// Producer id → its current epoch, of the ids served here: a
    /// transactional batch refused for want of a transaction is told
    /// apart from one of a fenced (older) instance.
    epochs: Mutex<HashMap<i64, i16>>,
}

fn check_producer(
    meta: &Option<TxnMetadata>,
    id: &str,
    producer_id: i64,
    epoch: i16,
) -> Result<(), TxnError> {
    let Some(m) = meta else {
        return Err(TxnError::ProducerIdMapping {
            id: id.to_string(),
            given: producer_id,
        });
    };
    if m.producer_id != producer_id {
        return Err(TxnError::ProducerIdMapping {
            id: id.to_string(),
            given: producer_id,
        });
    }
    if m.producer_epoch != epoch {
        return Err(TxnError::Fenced {
            id: id.to_string(),
            given: epoch,
            current: m.producer_epoch,
        });
    }
    Ok(())
}

impl TransactionCoordinator {
    pub fn new(config: TxnConfig, env: Arc<dyn TxnEnv>) -> Arc<Self> {
        Arc::new(TransactionCoordinator {
            config,
            env,
            txns: Mutex::new(HashMap::new()),
            loads: Mutex::new(Loads::default()),
            epochs: Mutex::new(HashMap::new()),
        })
    }

    fn lock_loads(&self) -> std::sync::MutexGuard<'_, Loads> {
        self.loads.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ok when this broker serves `id`'s partition of `__transaction_state`
    /// and has it loaded; the error tells the client to look again or wait.
    fn serving(&self, id: &str) -> Result<(), TxnError> {
        let partition = self.partition_for(id);
        match self.lock_loads().partitions.get(&partition) {
            Some(Load::Loaded) => Ok(()),
            Some(Load::Loading(_)) => Err(TxnError::LoadInProgress {
                id: id.to_string(),
                partition,
            }),
            None => Err(TxnError::NotCoordinator {
                id: id.to_string(),
                partition,
            }),
        }
    }

    /// Whether `id`'s partition is loaded here (FindCoordinator's answer
    /// on a cluster comes from the metadata; this is the coordinator's own).
    pub fn serves(&self, id: &str) -> bool {
        self.serving(id).is_ok()
    }

    /// Sets a transaction's metadata in memory (after it was persisted).
    fn store(&self, slot: &mut Option<TxnMetadata>, m: TxnMetadata) {
        self.note_epoch(&m);
        *slot = Some(m);
    }

    fn note_epoch(&self, m: &TxnMetadata) {
        let mut epochs = self.epochs.lock().unwrap_or_else(|p| p.into_inner());
        epochs.insert(m.producer_id, m.producer_epoch);
    }

    /// The current epoch of a producer id whose transactional id is served
    /// here, if it is.
    pub fn current_epoch(&self, producer_id: i64) -> Option<i16> {
        let epochs = self.epochs.lock().unwrap_or_else(|p| p.into_inner());
        epochs.get(&producer_id).copied()
    }

    pub fn config(&self) -> &TxnConfig {
        &self.config
    }

    fn slot(&self, id: &str) -> Slot {
        let mut txns = self.txns.lock().unwrap_or_else(|p| p.into_inner());
        txns.entry(id.to_string()).or_default().clone()
    }

    fn existing(&self, id: &str) -> Option<Slot> {
        let txns = self.txns.lock().unwrap_or_else(|p| p.into_inner());
        txns.get(id).cloned()
    }

    /// The partition of `__transaction_state` that holds `id`.
    pub fn partition_for(&self, id: &str) -> i32 {
        partition_for_group(id, self.config.partitions)
    }

    async fn persist(&self, m: &TxnMetadata) -> Result<(), TxnError> {
        self.env
            .persist(
                self.partition_for(&m.transactional_id),
                encode_key(&m.transactional_id),
                encode_value(m),
            )
            .await
            .map_err(TxnError::Unavailable)
    }

    /// Rebuilds every transaction from `__transaction_state` (a single
    /// node, before serving), then finishes those whose decision was
    /// persisted but whose markers may not all be written. Ongoing ones
    /// are aborted by [`tick`](Self::tick) when their timeout passes.
    pub async fn load(&self) -> Result<usize, String> {
        let mut n = 0;
        for p in 0..self.config.partitions {
            let records = self.env.replay(p)?;
            n += self.install(p, records);
            self.lock_loads().partitions.insert(p, Load::Loaded);
        }
        self.reopen_all(None).await;
        self.tick().await;
        Ok(n)
    }

    /// This broker now leads `partition` (a cluster): it is marked loading
    /// before this returns, so no request is served from it before
    /// [`finish_load`](Self::finish_load) replayed it.
    pub fn begin_load(&self, partition: i32) -> LoadTicket {
        let mut loads = self.lock_loads();
        loads.last_ticket += 1;
        let id = loads.last_ticket;
        loads.partitions.insert(partition, Load::Loading(id));
        LoadTicket { partition, id }
    }

    /// Whether `ticket` is still the latest leadership gain of its partition.
    pub fn is_current(&self, ticket: LoadTicket) -> bool {
        self.lock_loads().partitions.get(&ticket.partition) == Some(&Load::Loading(ticket.id))
    }

    /// Replays the ticket's partition (off the runtime), installs its
    /// transactions and serves them; then tells the leaders of open
    /// transactions' partitions again and finishes decided ones, as after
    /// a restart. Returns false, changing nothing, when leadership changed
    /// since the ticket.
    pub async fn finish_load(&self, ticket: LoadTicket) -> Result<bool, String> {
        if !self.is_current(ticket) {
            return Ok(false);
        }
        let env = self.env.clone();
        let partition = ticket.partition;
        let records = tokio::task::spawn_blocking(move || env.replay(partition))
            .await
            .map_err(|e| format!("replaying __transaction_state-{partition} failed: {e}"))??;
        {
            let mut loads = self.lock_loads();
            if loads.partitions.get(&partition) != Some(&Load::Loading(ticket.id)) {
                return Ok(false);
            }
            let n = self.install(partition, records);
            loads.partitions.insert(partition, Load::Loaded);
            if n > 0 {
                tracing::info!(partition, transactional_ids = n, "loaded transaction state");
            }
        }
        self.reopen_all(Some(partition)).await;
        self.tick().await;
        Ok(true)
    }

    /// Forgets the transactions of a partition this broker no longer leads
    /// (their clients find the new coordinator); a load still running is
    /// discarded.
    pub fn unload_partition(&self, partition: i32) {
        self.lock_loads().partitions.remove(&partition);
        let parts = self.config.partitions;
        let mut txns = self.txns.lock().unwrap_or_else(|p| p.into_inner());
        let mut epochs = self.epochs.lock().unwrap_or_else(|p| p.into_inner());
        txns.retain(|id, slot| {
            let keep = partition_for_group(id, parts) != partition;
            if !keep {
                if let Some(Some(m)) = slot.try_lock().ok().map(|g| g.clone()) {
                    epochs.remove(&m.producer_id);
                }
            }
            keep
        });
    }

    /// Replaces what memory holds of `partition`'s ids with its records:
    /// the last record of each id wins. Returns how many ids it holds.
    fn install(&self, partition: i32, records: Vec<(bytes::Bytes, Option<bytes::Bytes>)>) -> usize {
        let mut found: HashMap<String, TxnMetadata> = HashMap::new();
        for (key, value) in records {
            let Ok(id) = decode_key(&key) else {
                tracing::warn!(partition, "skipping an unreadable __transaction_state key");
                continue;
            };
            match value {
                None => {
                    found.remove(&id);
                }
                Some(v) => match decode_value(&id, &v) {
                    Ok(m) => {
                        found.insert(id, m);
                    }
                    Err(e) => {
                        tracing::warn!(transactional_id = %id, error = %e, "skipping a record")
                    }
                },
            }
        }
        let n = found.len();
        let parts = self.config.partitions;
        let mut txns = self.txns.lock().unwrap_or_else(|p| p.into_inner());
        txns.retain(|id, _| partition_for_group(id, parts) != partition);
        for (id, m) in found {
            self.env.observe_producer_id(m.producer_id);
            self.note_epoch(&m);
            txns.insert(id, Arc::new(tokio::sync::Mutex::new(Some(m))));
        }
        n
    }

    /// After a load: the partitions of every open transaction (of one
    /// `__transaction_state` partition, or all) are told again that its
    /// producer may write there, since their leaders forget that on a
    /// restart or a leadership change. Best effort: a partition that does
    /// not take it refuses the producer's first write, which aborts.
    async fn reopen_all(&self, partition: Option<i32>) {
        let slots: Vec<(String, Slot)> = {
            let txns = self.txns.lock().unwrap_or_else(|p| p.into_inner());
            txns.iter()
                .filter(|(id, _)| partition.is_none_or(|p| self.partition_for(id) == p))
                .map(|(id, s)| (id.clone(), s.clone()))
                .collect()
        };
        for (id, slot) in slots {
            let guard = slot.lock().await;
            let Some(m) = guard.as_ref().filter(|m| m.state == TxnState::Ongoing) else {
                continue;
            };
            let wanted: Vec<(String, i32)> = m.partitions.iter().cloned().collect();
            let results = self
                .env
                .allow_writes(wanted.clone(), m.producer_id, m.producer_epoch)
                .await;
            for ((t, p), r) in wanted.iter().zip(results) {
                if let Err(e) = r {
                    tracing::debug!(transactional_id = %id, topic = %t, partition = p, error = %e, "could not tell a partition of an open transaction");
                }
            }
        }
    }

    /// InitProducerId with a transactional id: a new producer id for a new
    /// id; otherwise the epoch is bumped, which fences every older
    /// producer instance, and a transaction left open by one is aborted.
    /// `expected` is the (id, epoch) a producer that already has one sends
    /// (KIP-360) to bump its own epoch.
    pub async fn init_producer_id(
        &self,
        id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
    ) -> Result<(i64, i16), TxnError> {
        self.serving(id)?;
        if timeout_ms <= 0 || timeout_ms > self.config.max_timeout_ms {
            return Err(TxnError::InvalidTimeout {
                given: timeout_ms,
                max: self.config.max_timeout_ms,
            });
        }
        let slot = self.slot(id);
        let mut guard = slot.lock().await;
        let now = self.env.now_ms();
        let Some(current) = guard.clone() else {
            let producer_id = self
                .env
                .new_producer_id()
                .await
                .map_err(TxnError::Unavailable)?;
            let m = TxnMetadata {
                transactional_id: id.to_string(),
                producer_id,
                producer_epoch: 0,
                timeout_ms,
                state: TxnState::Empty,
                partitions: BTreeSet::new(),
                groups: BTreeSet::new(),
                offsets: Vec::new(),
                start_ms: -1,
                last_update_ms: now,
            };
            self.persist(&m).await?;
            self.store(&mut guard, m);
            return Ok((producer_id, 0));
        };
        if let Some((pid, epoch)) = expected.filter(|&(pid, _)| pid >= 0) {
            let retried = pid == current.producer_id
                && epoch.checked_add(1) == Some(current.producer_epoch)
                && current.state != TxnState::Ongoing;
            if retried {
                // The answer to the bump was lost: it is this epoch.
                return Ok((current.producer_id, current.producer_epoch));
            }
            if pid != current.producer_id || epoch != current.producer_epoch {
                return Err(TxnError::Fenced {
                    id: id.to_string(),
                    given: epoch,
                    current: current.producer_epoch,
                });
            }
        }
        let mut m = current;
        if m.state.is_prepared() {
            m = self
                .complete(m)
                .await
                .map_err(|_| TxnError::Concurrent(id.to_string()))?;
            self.store(&mut guard, m.clone());
        }
        if m.state == TxnState::Ongoing {
            m = self.abort_bumped(m).await?;
            self.store(&mut guard, m.clone());
        } else if m.producer_epoch >= i16::MAX - 1 {
            // Epochs ran out: a new producer id starts over at 0.
            m.producer_id = self
                .env
                .new_producer_id()
                .await
                .map_err(TxnError::Unavailable)?;
            m.producer_epoch = 0;
        } else {
            m.producer_epoch += 1;
        }
        m.timeout_ms = timeout_ms;
        m.last_update_ms = now;
        self.persist(&m).await?;
        let out = (m.producer_id, m.producer_epoch);
        self.store(&mut guard, m);
        Ok(out)
    }

    /// Aborts `m`'s open transaction under the next epoch (a new producer
    /// instance or a timeout): the markers carry that epoch, so the old
    /// instance is fenced on every partition it wrote.
    async fn abort_bumped(&self, mut m: TxnMetadata) -> Result<TxnMetadata, TxnError> {
        if m.producer_epoch >= i16::MAX - 1 {
            m.producer_id = self
                .env
                .new_producer_id()
                .await
                .map_err(TxnError::Unavailable)?;
            m.producer_epoch = 0;
        } else {
            m.producer_epoch += 1;
        }
        m.state = TxnState::PrepareAbort;
        m.last_update_ms = self.env.now_ms();
        self.persist(&m).await?;
        // Decided: if the markers fail now, `tick` finishes the abort.
        match self.complete(m.clone()).await {
            Ok(done) => Ok(done),
            Err(_) => Ok(m),
        }
    }

    /// Writes the markers (and a commit's offsets) of a prepared
    /// transaction, then persists Complete*. On failure the metadata stays
    /// prepared for the next try.
    async fn complete(&self, m: TxnMetadata) -> Result<TxnMetadata, TxnError> {
        let (marker, done) = match m.state {
            TxnState::PrepareCommit => (Marker::Commit, TxnState::CompleteCommit),
            TxnState::PrepareAbort => (Marker::Abort, TxnState::CompleteAbort),
            _ => return Ok(m),
        };
        if !m.partitions.is_empty() {
            let partitions = m.partitions.iter().cloned().collect();
            self.env
                .write_markers(partitions, m.producer_id, m.producer_epoch, marker)
                .await
                .map_err(|e| {
                    tracing::warn!(transactional_id = %m.transactional_id, error = %e, "writing transaction markers failed; will retry");
                    TxnError::Unavailable(e)
                })?;
        }
        if marker == Marker::Commit {
            let mut per_group: HashMap<&str, Vec<PendingOffset>> = HashMap::new();
            for o in &m.offsets {
                per_group.entry(&o.group).or_default().push(o.clone());
            }
            for (group, offsets) in per_group {
                self.env
                    .commit_offsets(group, offsets)
                    .await
                    .map_err(TxnError::Unavailable)?;
            }
        }
        let mut next = m;
        next.state = done;
        next.partitions.clear();
        next.groups.clear();
        next.offsets.clear();
        next.start_ms = -1;
        next.last_update_ms = self.env.now_ms();
        self.persist(&next).await?;
        Ok(next)
    }

    /// Opens the transaction if none is open (from Empty or Complete*).
    fn begin(m: &mut TxnMetadata, now: i64) -> Result<(), TxnError> {
        match m.state {
            TxnState::Ongoing => Ok(()),
            TxnState::PrepareCommit | TxnState::PrepareAbort => {
                Err(TxnError::Concurrent(m.transactional_id.clone()))
            }
            _ => {
                m.state = TxnState::Ongoing;
                m.partitions.clear();
                m.groups.clear();
                m.offsets.clear();
                m.start_ms = now;
                Ok(())
            }
        }
    }

    /// AddPartitionsToTxn: per partition Ok, or why not. Nothing is added
    /// when any partition is unknown (the others: NotAttempted), as Kafka.
    pub async fn add_partitions(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: Vec<(String, i32)>,
    ) -> Result<Vec<((String, i32), Result<(), TxnError>)>, TxnError> {
        self.serving(id)?;
        let slot = self.slot(id);
        let mut guard = slot.lock().await;
        check_producer(&guard, id, producer_id, epoch)?;
        let unknown: Vec<bool> = partitions
            .iter()
            .map(|(t, p)| !self.env.partition_exists(t, *p))
            .collect();
        if unknown.iter().any(|u| *u) {
            return Ok(partitions
                .into_iter()
                .zip(unknown)
                .map(|((t, p), u)| {
                    let r = if u {
                        Err(TxnError::UnknownPartition(t.clone(), p))
                    } else {
                        Err(TxnError::NotAttempted)
                    };
                    ((t, p), r)
                })
                .collect());
        }
        let Some(mut m) = guard.clone() else {
            return Err(TxnError::NotFound(id.to_string()));
        };
        let now = self.env.now_ms();
        Self::begin(&mut m, now)?;
        let before = m.partitions.len();
        m.partitions.extend(partitions.iter().cloned());
        let (producer_id, epoch) = (m.producer_id, m.producer_epoch);
        if m.partitions.len() != before || guard.as_ref().map(|g| g.state) != Some(m.state) {
            m.last_update_ms = now;
            // Persisted first: from here on the transaction's end writes a
            // marker to each, whether or not the producer wrote there.
            self.persist(&m).await?;
            self.store(&mut guard, m);
        }
        // Every time, not only for new ones: a retry after a leader that
        // did not take it must reach the new leader.
        let allowed = self
            .env
            .allow_writes(partitions.clone(), producer_id, epoch)
            .await;
        Ok(partitions
            .into_iter()
            .zip(allowed)
            .map(|(p, r)| {
                let r = r.map_err(|e| {
                    TxnError::Unavailable(format!(
                        "{}-{} did not take the transaction: {e}",
                        p.0, p.1
                    ))
                });
                (p, r)
            })
            .collect())
    }

    /// AddOffsetsToTxn: the group's offsets will be committed with the
    /// transaction. (Kafka adds the group's `__consumer_offsets` partition
    /// to the transaction; strom keeps the offsets here until the commit.)
    pub async fn add_offsets(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        group: &str,
    ) -> Result<(), TxnError> {
        if group.is_empty() {
            return Err(TxnError::InvalidRequest("empty group id".into()));
        }
        self.serving(id)?;
        let slot = self.slot(id);
        let mut guard = slot.lock().await;
        check_producer(&guard, id, producer_id, epoch)?;
        let Some(mut m) = guard.clone() else {
            return Err(TxnError::NotFound(id.to_string()));
        };
        let now = self.env.now_ms();
        Self::begin(&mut m, now)?;
        if m.groups.insert(group.to_string()) || guard.as_ref().map(|g| g.state) != Some(m.state) {
            m.last_update_ms = now;
            self.persist(&m).await?;
            self.store(&mut guard, m);
        }
        Ok(())
    }

    /// TxnOffsetCommit: offsets held with the open transaction, committed
    /// to the group when it commits, dropped when it aborts.
    pub async fn txn_offset_commit(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        group: &str,
        offsets: Vec<PendingOffset>,
    ) -> Result<(), TxnError> {
        self.serving(id)?;
        let Some(slot) = self.existing(id) else {
            return Err(TxnError::ProducerIdMapping {
                id: id.to_string(),
                given: producer_id,
            });
        };
        let mut guard = slot.lock().await;
        check_producer(&guard, id, producer_id, epoch)?;
        let Some(mut m) = guard.clone() else {
            return Err(TxnError::NotFound(id.to_string()));
        };
        if m.state != TxnState::Ongoing || !m.groups.contains(group) {
            return Err(TxnError::InvalidState(format!(
                "group {group} was not added to the transaction of {id} (AddOffsetsToTxn first)"
            )));
        }
        for o in offsets {
            m.offsets.retain(|x| {
                !(x.group == o.group && x.topic == o.topic && x.partition == o.partition)
            });
            m.offsets.push(o);
        }
        m.last_update_ms = self.env.now_ms();
        self.persist(&m).await?;
        self.store(&mut guard, m);
        Ok(())
    }

    /// EndTxn. Answered once the decision is durable; the markers are
    /// written before the answer too, unless a partition is unavailable
    /// (then `tick` finishes them).
    pub async fn end_txn(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        commit: bool,
    ) -> Result<(), TxnError> {
        self.serving(id)?;
        let Some(slot) = self.existing(id) else {
            return Err(TxnError::ProducerIdMapping {
                id: id.to_string(),
                given: producer_id,
            });
        };
        let mut guard = slot.lock().await;
        check_producer(&guard, id, producer_id, epoch)?;
        let Some(mut m) = guard.clone() else {
            return Err(TxnError::NotFound(id.to_string()));
        };
        let wrong = |what: &str| {
            Err(TxnError::InvalidState(format!(
                "cannot {} the transaction of {id}: it is {what}",
                if commit { "commit" } else { "abort" }
            )))
        };
        match (m.state, commit) {
            (TxnState::Ongoing, _) => {}
            // A retry of an EndTxn whose answer was lost.
            (TxnState::CompleteCommit, true) | (TxnState::CompleteAbort, false) => return Ok(()),
            (TxnState::PrepareCommit, true) | (TxnState::PrepareAbort, false) => {
                return Err(TxnError::Concurrent(id.to_string()))
            }
            (s, _) => return wrong(s.name()),
        }
        m.state = if commit {
            TxnState::PrepareCommit
        } else {
            TxnState::PrepareAbort
        };
        m.last_update_ms = self.env.now_ms();
        self.persist(&m).await?;
        self.store(&mut guard, m.clone());
        if let Ok(done) = self.complete(m).await {
            self.store(&mut guard, done);
        }
        Ok(())
    }

    /// The periodic check: aborts transactions open longer than their
    /// timeout (bumping the epoch, so the producer is fenced) and retries
    /// completions that failed. Returns how many transactions it aborted.
    pub async fn tick(&self) -> usize {
        let slots: Vec<Slot> = {
            let txns = self.txns.lock().unwrap_or_else(|p| p.into_inner());
            txns.values().cloned().collect()
        };
        let now = self.env.now_ms();
        let mut aborted = 0;
        for slot in slots {
            // A transaction busy in a call is not idle: skip it this time.
            let Ok(mut guard) = slot.try_lock() else {
                continue;
            };
            let Some(m) = guard.clone() else { continue };
            if m.state.is_prepared() {
                if let Ok(done) = self.complete(m).await {
                    self.store(&mut guard, done);
                }
            } else if m.state == TxnState::Ongoing
                && now.saturating_sub(m.start_ms) > i64::from(m.timeout_ms)
            {
                tracing::info!(transactional_id = %m.transactional_id, timeout_ms = m.timeout_ms, "aborting a transaction open past its timeout");
                match self.abort_bumped(m).await {
                    Ok(m) => {
                        self.store(&mut guard, m);
                        aborted += 1;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not abort an expired transaction")
                    }
                }
            }
        }
        aborted
    }

    /// ListTransactions: every transactional id, filtered by state and
    /// producer id when the filters are not empty.
    pub fn list(&self, states: &[TxnState], producer_ids: &[i64]) -> Vec<TxnListing> {
        let slots: Vec<Slot> = {
            let txns = self.txns.lock().unwrap_or_else(|p| p.into_inner());
            txns.values().cloned().collect()
        };
        let mut out = Vec::new();
        for slot in slots {
            // A transaction in a call right now shows its last state.
            let m = match slot.try_lock() {
                Ok(g) => g.clone(),
                Err(_) => continue,
            };
            let Some(m) = m else { continue };
            if (!states.is_empty() && !states.contains(&m.state))
                || (!producer_ids.is_empty() && !producer_ids.contains(&m.producer_id))
            {
                continue;
            }
            out.push(TxnListing {
                transactional_id: m.transactional_id,
                producer_id: m.producer_id,
                state: m.state,
            });
        }
        out.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
        out
    }

    /// DescribeTransactions of one id.
    pub async fn describe(&self, id: &str) -> Result<TxnMetadata, TxnError> {
        self.serving(id)?;
        let Some(slot) = self.existing(id) else {
            return Err(TxnError::NotFound(id.to_string()));
        };
        let guard = slot.lock().await;
        guard
            .clone()
            .ok_or_else(|| TxnError::NotFound(id.to_string()))
    }
}
