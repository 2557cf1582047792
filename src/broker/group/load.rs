//! Rebuilding state from `__consumer_offsets` when this broker becomes the
//! coordinator of its partitions (at startup, or after a leadership move).
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use super::codec::{GroupMetadataValue, OffsetValue, RecordKey};
use super::env::Env;
use super::group::Group;
use super::member::Member;
use super::{GroupCoordinator, GroupError, GroupState};

type OffsetMap = BTreeMap<(String, i32), OffsetValue>;

impl GroupCoordinator {
    /// Replays every partition of `__consumer_offsets`. Call before serving
    /// requests: groups found in the log replace those in memory.
    pub async fn load(&self) -> Result<(), GroupError> {
        for partition in 0..self.env.partitions() {
            self.load_partition(partition).await?;
        }
        Ok(())
    }

    /// Replays one partition: the last record of each key wins, tombstones
    /// delete. Records that do not decode are skipped with a warning rather
    /// than making the whole partition unusable.
    pub async fn load_partition(&self, partition: i32) -> Result<(), GroupError> {
        let records = self.env.store.replay(partition)?;
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
        for id in ids {
            let offs = offsets.remove(&id).unwrap_or_default();
            let meta = metas.remove(&id).flatten();
            if offs.is_empty() && meta.is_none() {
                continue; // Deleted group.
            }
            let group = Group::restore(&self.env, &id, meta, offs);
            groups.insert(id, group);
        }
        Ok(())
    }

    /// Forgets the groups of a partition this broker no longer leads. Their
    /// waiting members are answered "coordinator not available" and retry
    /// against the new coordinator.
    pub fn unload_partition(&self, partition: i32) {
        self.lock_groups().retain(|_, g| g.partition != partition);
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
