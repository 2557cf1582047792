//! Admin views and operations: list, describe and delete groups.
use bytes::Bytes;
use tokio::sync::oneshot;

use super::codec::RecordKey;
use super::{
    GroupCoordinator, GroupDescription, GroupError, GroupListing, GroupState, MemberDescription,
};

impl GroupCoordinator {
    /// Every group this coordinator knows (including groups that only hold
    /// offsets), sorted by id.
    pub fn list_groups(&self) -> Vec<GroupListing> {
        let groups = self.lock_groups();
        let mut out: Vec<GroupListing> = groups
            .values()
            .filter(|g| g.state != GroupState::Dead)
            .map(|g| GroupListing {
                group_id: g.id.clone(),
                protocol_type: g.protocol_type.clone().unwrap_or_default(),
                state: g.state,
            })
            .collect();
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        out
    }

    /// Every committed offset as (group, topic, partition, offset), for
    /// the lag metrics.
    pub fn committed_offsets(&self) -> Vec<(String, String, i32, i64)> {
        let groups = self.lock_groups();
        let mut out = Vec::new();
        for g in groups.values().filter(|g| g.state != GroupState::Dead) {
            for ((topic, partition), v) in &g.offsets {
                out.push((g.id.clone(), topic.clone(), *partition, v.offset));
            }
        }
        out
    }

    /// DescribeGroups for one group. An unknown group is described as Dead
    /// with no members, like Kafka. Member metadata, assignments and the
    /// protocol are shown only when Stable (otherwise they are in flux).
    pub fn describe_group(&self, group_id: &str) -> Result<GroupDescription, GroupError> {
        let groups = self.lock_groups();
        let Some(g) = groups.get(group_id) else {
            return Ok(GroupDescription {
                group_id: group_id.to_string(),
                state: GroupState::Dead,
                protocol_type: String::new(),
                protocol: String::new(),
                members: Vec::new(),
            });
        };
        let stable = g.state == GroupState::Stable;
        let protocol = if stable {
            g.protocol.clone().unwrap_or_default()
        } else {
            String::new()
        };
        let members = g
            .members
            .values()
            .map(|m| MemberDescription {
                member_id: m.id.clone(),
                group_instance_id: m.instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: if stable {
                    m.metadata_for(&protocol)
                } else {
                    Bytes::new()
                },
                assignment: if stable {
                    m.assignment.clone()
                } else {
                    Bytes::new()
                },
            })
            .collect();
        Ok(GroupDescription {
            group_id: g.id.clone(),
            state: g.state,
            protocol_type: g.protocol_type.clone().unwrap_or_default(),
            protocol,
            members,
        })
    }

    /// DeleteGroups: only Empty groups can go; their offsets and metadata
    /// are tombstoned in `__consumer_offsets`.
    pub async fn delete_groups(
        &self,
        group_ids: Vec<String>,
    ) -> Vec<(String, Result<(), GroupError>)> {
        let mut pending: Vec<(String, Result<oneshot::Receiver<_>, GroupError>)> = Vec::new();
        {
            let mut groups = self.lock_groups();
            for id in group_ids {
                let outcome = match groups.get(&id).map(|g| g.state) {
                    None | Some(GroupState::Dead) => Err(GroupError::GroupIdNotFound),
                    Some(GroupState::Empty) => Ok(()),
                    Some(_) => Err(GroupError::NonEmptyGroup),
                };
                let rx = outcome.and_then(|()| {
                    // Checked just above; Dead until dropped so nothing else uses it.
                    let mut g = groups.remove(&id).ok_or(GroupError::GroupIdNotFound)?;
                    g.state = GroupState::Dead;
                    let mut records: Vec<(Bytes, Option<Bytes>)> = g
                        .offsets
                        .keys()
                        .map(|(topic, partition)| {
                            let key = RecordKey::Offset {
                                group: id.clone(),
                                topic: topic.clone(),
                                partition: *partition,
                            };
                            (key.encode(), None)
                        })
                        .collect();
                    records.push((
                        RecordKey::GroupMetadata { group: id.clone() }.encode(),
                        None,
                    ));
                    let keys: Vec<(String, i32)> = g.offsets.keys().cloned().collect();
                    let gid = id.clone();
                    let (tx, rx) = oneshot::channel();
                    self.env.write(
                        g.partition,
                        records,
                        Box::new(move |_, groups, result| {
                            // A simple commit queued before the deletion may
                            // have recreated the group: the tombstones win.
                            if let Some(g) = groups.get_mut(&gid) {
                                for k in &keys {
                                    g.offsets.remove(k);
                                }
                                if g.is_blank() {
                                    groups.remove(&gid);
                                }
                            }
                            let _ = tx.send(result);
                        }),
                    );
                    Ok(rx)
                });
                pending.push((id, rx));
            }
        }
        let mut out = Vec::with_capacity(pending.len());
        for (id, rx) in pending {
            let result = match rx {
                Err(e) => Err(e),
                Ok(rx) => match rx.await {
                    Ok(r) => r.map_err(GroupError::from),
                    Err(_) => Err(GroupError::CoordinatorNotAvailable),
                },
            };
            out.push((id, result));
        }
        out
    }
}

/// What a group's members subscribe to, read from one member's metadata of
/// the group's protocol: `None` when it cannot be read (then every topic
/// counts as subscribed, the safe answer). Supplied by the adapter because
/// the subscription's encoding belongs to the consumer protocol, not to the
/// coordinator.
pub type SubscribedTopics = dyn Fn(&[u8]) -> Option<Vec<String>> + Send + Sync;

impl GroupCoordinator {
    /// OffsetDelete: removes the committed offsets of `partitions` from
    /// `group_id`, Kafka's rules: an Empty group loses any of them; a
    /// consumer group with members keeps the partitions of topics its
    /// members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC per partition); any
    /// other group with members is refused whole (NON_EMPTY_GROUP).
    ///
    /// `Err` is the whole group's error; `Ok` holds one result per
    /// partition asked, in order. A partition without an offset is deleted
    /// trivially (Ok), as in Kafka.
    pub async fn delete_offsets(
        &self,
        group_id: &str,
        partitions: Vec<(String, i32)>,
        subscribed: &SubscribedTopics,
    ) -> Result<Vec<((String, i32), Result<(), GroupError>)>, GroupError> {
        let rx = {
            let mut groups = self.lock_groups();
            let g = match groups.get_mut(group_id) {
                Some(g) if g.state != GroupState::Dead => g,
                _ => return Err(GroupError::GroupIdNotFound),
            };
            // Topics that stay: None = the group is empty, nothing stays.
            let kept: Option<std::collections::HashSet<String>> = if g.members.is_empty() {
                None
            } else if g.protocol_type.as_deref() != Some("consumer") {
                return Err(GroupError::NonEmptyGroup);
            } else {
                let protocol = g.protocol.clone().unwrap_or_default();
                let mut topics = std::collections::HashSet::new();
                for m in g.members.values() {
                    match subscribed(&m.metadata_for(&protocol)) {
                        Some(t) => topics.extend(t),
                        // Unreadable: keep every asked topic.
                        None => topics.extend(partitions.iter().map(|(t, _)| t.clone())),
                    }
                }
                Some(topics)
            };
            let mut results = Vec::with_capacity(partitions.len());
            let mut gone: Vec<(String, i32)> = Vec::new();
            for tp in partitions {
                if kept.as_ref().is_some_and(|k| k.contains(&tp.0)) {
                    let err = GroupError::GroupSubscribedToTopic(tp.0.clone());
                    results.push((tp, Err(err)));
                    continue;
                }
                if g.offsets.contains_key(&tp) && !gone.contains(&tp) {
                    gone.push(tp.clone());
                }
                results.push((tp, Ok(())));
            }
            if gone.is_empty() {
                return Ok(results);
            }
            let records = gone
                .iter()
                .map(|(topic, partition)| {
                    let key = RecordKey::Offset {
                        group: group_id.to_string(),
                        topic: topic.clone(),
                        partition: *partition,
                    };
                    (key.encode(), None)
                })
                .collect();
            let gid = group_id.to_string();
            let (tx, rx) = oneshot::channel();
            self.env.write(
                g.partition,
                records,
                Box::new(move |_, groups, result| {
                    // Applied once durable, so a fetch never shows an offset
                    // as deleted that a restart would bring back.
                    if result.is_ok() {
                        if let Some(g) = groups.get_mut(&gid) {
                            for k in &gone {
                                g.offsets.remove(k);
                            }
                            if g.is_blank() {
                                groups.remove(&gid);
                            }
                        }
                    }
                    let _ = tx.send((results, result));
                }),
            );
            rx
        };
        match rx.await {
            Ok((results, Ok(_))) => Ok(results),
            Ok((_, Err(e))) => Err(GroupError::from(e)),
            Err(_) => Err(GroupError::CoordinatorNotAvailable),
        }
    }
}
