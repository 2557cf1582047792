//! Rebuilding state from `__consumer_offsets` when this broker becomes the
//! coordinator of its partitions (at startup, or after a leadership move).
//!
//! In a cluster a partition is only served once its groups are loaded:
//! until then requests for its groups get COORDINATOR_LOAD_IN_PROGRESS
//! (an empty group or no committed offsets would otherwise make members
//! start over). Each leadership gain takes a [`LoadTicket`]; a replay
//! that finishes after leadership moved on is thrown away.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::MutexGuard;
use std::time::Duration;

use tokio::time::Instant;

use super::codec::{GroupMetadataValue, OffsetValue, RecordKey};
use super::env::Env;
use super::group::Group;
use super::member::Member;
use super::store::StoreRecord;
use super::{GroupCoordinator, GroupError, GroupState};

type OffsetMap = BTreeMap<(String, i32), OffsetValue>;

/// Where each `__consumer_offsets` partition's groups stand on this broker.
#[derive(Debug, Default)]
pub(super) struct Loads {
    last_ticket: u64,
    partitions: HashMap<i32, Load>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Load {
    /// Replaying the log for the leadership gain that took this ticket.
    Loading(u64),
    Loaded,
}

/// Taken when this broker starts leading an offsets partition; the replay
/// it starts takes effect only while no later gain or loss happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadTicket {
    pub partition: i32,
    id: u64,
}

impl GroupCoordinator {
    fn lock_loads(&self) -> MutexGuard<'_, Loads> {
        // Only plain map updates happen under this lock, so a poisoned
        // lock still holds consistent state.
        self.loads.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replays every partition of `__consumer_offsets`. Call before serving
    /// requests: groups found in the log replace those in memory.
    pub async fn load(&self) -> Result<(), GroupError> {
        for partition in 0..self.env.partitions() {
            self.load_partition(partition).await?;
        }
        Ok(())
    }

    /// Replays one partition now and marks it loaded (startup, before
    /// requests are served).
    pub async fn load_partition(&self, partition: i32) -> Result<(), GroupError> {
        let records = self.env.store.replay(partition)?;
        let mut loads = self.lock_loads();
        self.install(partition, records);
        loads.partitions.insert(partition, Load::Loaded);
        Ok(())
    }

    /// Marks `partition` as loading for a new leadership; its groups are
    /// not served until [`Self::finish_load`] with this ticket completes.
    pub fn begin_load(&self, partition: i32) -> LoadTicket {
        let mut loads = self.lock_loads();
        loads.last_ticket += 1;
        let id = loads.last_ticket;
        loads.partitions.insert(partition, Load::Loading(id));
        LoadTicket { partition, id }
    }

    /// Replays the ticket's partition (the log reads run on a blocking
    /// thread, not the async runtime) and installs its groups. Returns
    /// false, changing nothing, when leadership changed since the ticket.
    pub async fn finish_load(&self, ticket: LoadTicket) -> Result<bool, GroupError> {
        if !self.is_current(ticket) {
            return Ok(false);
        }
        let store = self.env.store.clone();
        let partition = ticket.partition;
        let records = tokio::task::spawn_blocking(move || store.replay(partition))
            .await
            .map_err(|e| {
                GroupError::UnknownServerError(format!(
                    "replaying partition {partition} of __consumer_offsets failed: {e}"
                ))
            })??;
        let mut loads = self.lock_loads();
        if loads.partitions.get(&partition) != Some(&Load::Loading(ticket.id)) {
            return Ok(false);
        }
        self.install(partition, records);
        loads.partitions.insert(partition, Load::Loaded);
        Ok(true)
    }

    /// Whether `ticket` is still the latest leadership gain of its partition.
    pub fn is_current(&self, ticket: LoadTicket) -> bool {
        self.lock_loads().partitions.get(&ticket.partition) == Some(&Load::Loading(ticket.id))
    }

    /// Whether `partition`'s groups are in memory and may be served.
    pub fn is_loaded(&self, partition: i32) -> bool {
        self.lock_loads().partitions.get(&partition) == Some(&Load::Loaded)
    }

    /// Forgets the groups of a partition this broker no longer leads. Their
    /// waiting members are answered "coordinator not available" and retry
    /// against the new coordinator; a load still running is discarded.
    pub fn unload_partition(&self, partition: i32) {
        let mut loads = self.lock_loads();
        loads.partitions.remove(&partition);
        self.lock_groups().retain(|_, g| g.partition != partition);
    }

    /// Replaces the partition's groups with what its records say: the last
    /// record of each key wins, tombstones delete. Records that do not
    /// decode are skipped with a warning rather than making the whole
    /// partition unusable.
    fn install(&self, partition: i32, records: Vec<StoreRecord>) {
        let mut offsets: HashMap<String, OffsetMap> = HashMap::new();
        let mut metas: HashMap<String, Option<GroupMetadataValue>> = HashMap::new();
        for (key, value) in records {
            let key = match RecordKey::decode(&key) {
                Ok(k) => k,
                Err(e) => {
                    tracing::warn!(partition, error = %e, "skipping undecodable __consumer_offsets key");
                    continue;
                }
            };
            match key {
                RecordKey::Offset {
                    group,
                    topic,
                    partition: p,
                } => match value.as_deref().map(OffsetValue::decode) {
                    None => {
                        if let Some(m) = offsets.get_mut(&group) {
                            m.remove(&(topic, p));
                        }
                    }
                    Some(Ok(v)) => {
                        offsets.entry(group).or_default().insert((topic, p), v);
                    }
                    Some(Err(e)) => {
                        tracing::warn!(group = %group, error = %e, "skipping undecodable offset commit");
                    }
                },
                RecordKey::GroupMetadata { group } => {
                    match value.as_deref().map(GroupMetadataValue::decode) {
                        None => {
                            metas.insert(group, None);
                        }
                        Some(Ok(v)) => {
                            metas.insert(group, Some(v));
                        }
                        Some(Err(e)) => {
                            tracing::warn!(group = %group, error = %e, "skipping undecodable group metadata");
                        }
                    }
                }
            }
        }
        let ids: BTreeSet<String> = offsets.keys().chain(metas.keys()).cloned().collect();
        let mut groups = self.lock_groups();
        // What was in memory for this partition (a stale earlier load, or
        // groups created before it) is replaced by the log's view.
        groups.retain(|_, g| g.partition != partition);
        for id in ids {
            let offs = offsets.remove(&id).unwrap_or_default();
            let meta = metas.remove(&id).flatten();
            if offs.is_empty() && meta.is_none() {
                continue; // Deleted group.
            }
            let group = Group::restore(&self.env, &id, meta, offs);
            groups.insert(id, group);
        }
    }
}

impl Group {
    /// A group as persisted: with members it resumes Stable (sessions
    /// restart now, so live members keep heartbeating seamlessly), without
    /// them it is Empty but keeps its generation.
    fn restore(env: &Env, id: &str, meta: Option<GroupMetadataValue>, offsets: OffsetMap) -> Group {
        let mut g = Group::new(env, id);
        g.offsets = offsets;
        let Some(meta) = meta else { return g };
        g.generation = meta.generation;
        if !meta.protocol_type.is_empty() {
            g.protocol_type = Some(meta.protocol_type.clone());
        }
        if let (Some(protocol), false) = (meta.protocol.clone(), meta.members.is_empty()) {
            g.protocol = Some(protocol.clone());
            g.leader = meta.leader.clone();
            let now = Instant::now();
            for mv in meta.members {
                let member = Member {
                    id: mv.member_id,
                    instance_id: mv.group_instance_id,
                    client_id: mv.client_id,
                    client_host: mv.client_host,
                    session_timeout: Duration::from_millis(mv.session_timeout_ms.max(0) as u64),
                    rebalance_timeout: Duration::from_millis(mv.rebalance_timeout_ms.max(0) as u64),
                    protocol_type: meta.protocol_type.clone(),
                    protocols: vec![(protocol.clone(), mv.subscription)],
                    assignment: mv.assignment,
                    join_tx: None,
                    sync_tx: None,
                    last_heartbeat: now,
                    join_seq: env.next_nonce(),
                    nonce: env.next_nonce(),
                    watcher: None,
                };
                g.add_member(env, member);
            }
            if g.leader.as_ref().is_none_or(|l| !g.members.contains_key(l)) {
                g.leader = g.members_by_join_order().first().map(|m| m.id.clone());
            }
            g.state = GroupState::Stable;
        }
        g
    }
}
