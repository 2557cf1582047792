//! Offset commits and fetches. A commit is acknowledged only after its
//! records were appended to `__consumer_offsets`, and the cached offsets
//! change only then, in log order (see `Env::write`).
use std::collections::HashMap;

use bytes::Bytes;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::codec::{OffsetValue, RecordKey};
use super::coordinator::Groups;
use super::env::Env;
use super::group::Group;
use super::{CommittedOffset, GroupCoordinator, GroupError, GroupState, OffsetCommit};

/// Per-partition outcome of a commit: (topic, partition, result).
pub type CommitResults = Vec<(String, i32, Result<(), GroupError>)>;

impl Group {
    /// Kafka's commit admission: a simple (generation < 0) commit only into
    /// a group without members; otherwise the member must belong to the
    /// current generation, and not while the generation is being formed.
    fn check_commit(&mut self, generation: i32, member_id: &str) -> Result<(), GroupError> {
        if self.state == GroupState::Dead {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        if self.is_fenced(member_id, None) {
            return Err(GroupError::FencedInstanceId);
        }
        if generation < 0 && self.state == GroupState::Empty {
            return Ok(());
        }
        let current = self.generation;
        let state = self.state;
        let Some(m) = self.members.get_mut(member_id) else {
            return Err(GroupError::UnknownMemberId);
        };
        if generation != current {
            return Err(GroupError::IllegalGeneration { given: generation });
        }
        match state {
            // Kafka accepts commits while PreparingRebalance: members commit
            // what they processed before rejoining (eager revocation).
            GroupState::Stable | GroupState::PreparingRebalance => {
                m.last_heartbeat = Instant::now();
                Ok(())
            }
            _ => Err(GroupError::RebalanceInProgress),
        }
    }
}

impl GroupCoordinator {
    /// OffsetCommit. `generation_id` -1 is a simple/admin commit, allowed
    /// only when the group has no members. Returns once the records are
    /// durably stored; per-partition errors (metadata too large, store
    /// failure) are in the list, group-level ones are the `Err`.
    pub async fn commit_offsets(
        &self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        offsets: Vec<OffsetCommit>,
    ) -> Result<CommitResults, GroupError> {
        self.commit(group_id, Some((generation_id, member_id)), offsets)
            .await
    }

    /// The offsets a transaction sent with TxnOffsetCommit, once the
    /// transaction commits (the transaction coordinator's call). They were
    /// admitted when sent, so no member or generation is checked now: the
    /// group may have rebalanced since, the offsets stand.
    pub async fn commit_transaction_offsets(
        &self,
        group_id: &str,
        offsets: Vec<OffsetCommit>,
    ) -> Result<CommitResults, GroupError> {
        self.commit(group_id, None, offsets).await
    }

    /// A commit, admitted as `member` (generation, member id) says, or
    /// unchecked without one.
    async fn commit(
        &self,
        group_id: &str,
        member: Option<(i32, &str)>,
        offsets: Vec<OffsetCommit>,
    ) -> Result<CommitResults, GroupError> {
        let generation_id = member.map_or(-1, |(g, _)| g);
        let max = self.env.config.max_metadata_size;
        let mut results: Vec<(String, i32, Option<GroupError>)> = Vec::with_capacity(offsets.len());
        let rx = {
            let mut groups = self.lock_groups();
            let group = match groups.get_mut(group_id) {
                Some(g) => g,
                // A group that does not exist may only get a simple commit;
                // a generation means a member of a group that is gone.
                None if generation_id < 0 => groups
                    .entry(group_id.to_string())
                    .or_insert_with(|| Group::new(&self.env, group_id)),
                None => {
                    return Err(GroupError::IllegalGeneration {
                        given: generation_id,
                    })
                }
            };
            if let Some((generation, member_id)) = member {
                group.check_commit(generation, member_id)?;
            }
            let now_ms = self.env.wall_clock_ms();
            let mut records = Vec::new();
            let mut values = Vec::new();
            for c in offsets {
                let metadata = c.metadata.unwrap_or_default();
                if metadata.len() > max {
                    let err = GroupError::OffsetMetadataTooLarge {
                        size: metadata.len(),
                        max,
                    };
                    results.push((c.topic, c.partition, Some(err)));
                    continue;
                }
                let key = RecordKey::Offset {
                    group: group_id.to_string(),
                    topic: c.topic.clone(),
                    partition: c.partition,
                };
                let value = OffsetValue {
                    offset: c.offset,
                    leader_epoch: c.leader_epoch,
                    metadata,
                    commit_timestamp: now_ms,
                };
                records.push((key.encode(), Some(value.encode())));
                values.push(((c.topic.clone(), c.partition), value));
                results.push((c.topic, c.partition, None));
            }
            if records.is_empty() {
                None
            } else {
                let (tx, rx) = oneshot::channel();
                let gid = group_id.to_string();
                self.env.write(
                    group.partition,
                    records,
                    Box::new(move |env, groups, result| {
                        if result.is_ok() {
                            apply_offsets(env, groups, &gid, values);
                        }
                        let _ = tx.send(result);
                    }),
                );
                Some(rx)
            }
        };
        let stored: Result<(), GroupError> = match rx {
            None => Ok(()),
            Some(rx) => match rx.await {
                Ok(r) => r.map_err(GroupError::from),
                Err(_) => Err(GroupError::CoordinatorNotAvailable),
            },
        };
        Ok(results
            .into_iter()
            .map(|(topic, partition, err)| {
                let r = match err {
                    Some(e) => Err(e),
                    None => stored.clone(),
                };
                (topic, partition, r)
            })
            .collect())
    }

    /// OffsetFetch. `None` asks for every partition the group committed;
    /// a partition without a commit answers offset -1.
    pub async fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<Vec<(String, i32)>>,
    ) -> Result<Vec<CommittedOffset>, GroupError> {
        let groups = self.lock_groups();
        let group = groups.get(group_id);
        let committed = |topic: String, partition: i32| match group
            .and_then(|g| g.offsets.get(&(topic.clone(), partition)))
        {
            Some(v) => CommittedOffset {
                topic,
                partition,
                offset: v.offset,
                leader_epoch: v.leader_epoch,
                metadata: v.metadata.clone(),
            },
            None => CommittedOffset {
                topic,
                partition,
                offset: -1,
                leader_epoch: -1,
                metadata: String::new(),
            },
        };
        Ok(match partitions {
            Some(list) => list.into_iter().map(|(t, p)| committed(t, p)).collect(),
            None => group
                .map(|g| g.offsets.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .map(|(t, p)| committed(t, p))
                .collect(),
        })
    }

    /// Drops every group's offsets for a deleted topic (tombstones in the
    /// log). Empty groups left with no offsets are removed, as Kafka does.
    /// Returns how many offsets were removed.
    pub async fn delete_offsets_for_topic(&self, topic: &str) -> Result<usize, GroupError> {
        let mut waits = Vec::new();
        let mut removed = 0;
        {
            let mut groups = self.lock_groups();
            let mut per_partition: HashMap<i32, (Vec<Bytes>, Vec<String>)> = HashMap::new();
            for g in groups.values_mut() {
                let keys: Vec<(String, i32)> = g
                    .offsets
                    .keys()
                    .filter(|(t, _)| t == topic)
                    .cloned()
                    .collect();
                if keys.is_empty() {
                    continue;
                }
                removed += keys.len();
                let entry = per_partition.entry(g.partition).or_default();
                for (t, p) in keys {
                    g.offsets.remove(&(t.clone(), p));
                    let key = RecordKey::Offset {
                        group: g.id.clone(),
                        topic: t,
                        partition: p,
                    };
                    entry.0.push(key.encode());
                }
                entry.1.push(g.id.clone());
            }
            for (partition, (keys, group_ids)) in per_partition {
                let mut records: Vec<(Bytes, Option<Bytes>)> =
                    keys.iter().map(|k| (k.clone(), None)).collect();
                let mut gone = Vec::new();
                for id in &group_ids {
                    if groups.get(id).is_some_and(|g| {
                        g.state == GroupState::Empty && g.members.is_empty() && g.offsets.is_empty()
                    }) {
                        records.push((
                            RecordKey::GroupMetadata { group: id.clone() }.encode(),
                            None,
                        ));
                        gone.push(id.clone());
                    }
                }
                for id in &gone {
                    groups.remove(id);
                }
                let topic = topic.to_string();
                let (tx, rx) = oneshot::channel();
                self.env.write(
                    partition,
                    records,
                    Box::new(move |_, groups, result| {
                        // Commits queued before the tombstones may have put
                        // some back into the cache: the log says they are gone.
                        for id in &group_ids {
                            if let Some(g) = groups.get_mut(id) {
                                g.offsets.retain(|(t, _), _| *t != topic);
                            }
                        }
                        let _ = tx.send(result);
                    }),
                );
                waits.push(rx);
            }
        }
        for rx in waits {
            match rx.await {
                Ok(r) => r.map_err(GroupError::from)?,
                Err(_) => return Err(GroupError::CoordinatorNotAvailable),
            }
        }
        Ok(removed)
    }
}

/// Applies stored commits to the cache, recreating the group if it was
/// deleted after the commit was queued (the log has the commit after the
/// deletion's tombstones, so a reload would have it too).
fn apply_offsets(
    env: &Env,
    groups: &mut Groups,
    group_id: &str,
    values: Vec<((String, i32), OffsetValue)>,
) {
    let group = groups
        .entry(group_id.to_string())
        .or_insert_with(|| Group::new(env, group_id));
    for (key, value) in values {
        group.offsets.insert(key, value);
    }
}
