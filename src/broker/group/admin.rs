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
