//! Consumer-group administration: find a group's coordinator, list,
//! describe and delete groups, read and (for tools) write committed offsets.
//!
//! Admin requests never block on the broker, so they share the client's
//! default-lane connection to the coordinator; the group consumer keeps
//! its own connections (see `group.rs`).
use std::collections::BTreeSet;
use std::sync::Arc;

use super::connection::{Connection, ConnectionConfig};
use super::error::{ClientError, Result};
use super::metadata::{parse_bootstrap, Client, Lane};
use crate::proto::consumer_protocol::{Assignment, CONSUMER_PROTOCOL_TYPE};
use crate::proto::messages::groups::{
    DeleteGroupsRequest, DeleteGroupsResponse, DeleteOffsetsRequest, DeleteOffsetsResponse,
    DescribeGroupsRequest, DescribeGroupsResponse, FindCoordinatorRequestV1,
    FindCoordinatorResponse, ListGroupsRequest, ListGroupsResponse, OffsetCommitPartition,
    OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse,
    TopicPartition, KEY_TYPE_GROUP,
};
use crate::proto::messages::Status;
use crate::proto::{ApiKey, ErrorCode};

/// The broker that coordinates a group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Coordinator {
    pub node_id: i32,
    pub host: String,
    pub port: i32,
}

impl Coordinator {
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// One row of ListGroups.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupSummary {
    pub group: String,
    pub protocol_type: String,
    pub state: String,
}

/// One member of a described group; `assignment` is decoded from the
/// consumer protocol bytes (empty for other protocol types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMemberInfo {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub assignment: Vec<(String, i32)>,
}

/// A described group. `state` is Kafka's state name; `Dead` means the
/// group does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    pub group: String,
    pub state: String,
    pub protocol_type: String,
    /// The assignment strategy, known only while the group is Stable.
    pub protocol: String,
    pub coordinator: Coordinator,
    pub members: Vec<GroupMemberInfo>,
}

impl GroupInfo {
    pub fn exists(&self) -> bool {
        self.state != "Dead"
    }
}

/// A committed offset of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommittedOffset<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
}

pub(crate) fn check(status: &Status) -> Result<()> {
    if status.is_ok() {
        Ok(())
    } else {
        Err(ClientError::broker(
            status.error_code(),
            status.message.as_deref(),
        ))
    }
}

/// Asks the bootstrap broker which broker coordinates `group`.
pub async fn find_coordinator(client: &Client, group: &str) -> Result<Coordinator> {
    find_coordinator_of(client, group, KEY_TYPE_GROUP).await
}

/// The coordinator of a group ([`KEY_TYPE_GROUP`]) or of a transactional
/// id ([`KEY_TYPE_TRANSACTION`]).
pub async fn find_coordinator_of(client: &Client, key: &str, key_type: i8) -> Result<Coordinator> {
    let req = FindCoordinatorRequestV1 {
        key: key.to_string(),
        key_type,
    };
    let conn = client.bootstrap_connection().await?;
    let resp: FindCoordinatorResponse = match conn
        .call(ApiKey::FindCoordinator, &req, client.request_timeout())
        .await
    {
        // The broker may have restarted since the socket was opened.
        Err(ClientError::Disconnected { .. }) => {
            client
                .bootstrap_connection()
                .await?
                .call(ApiKey::FindCoordinator, &req, client.request_timeout())
                .await?
        }
        other => other?,
    };
    check(&resp.status)?;
    Ok(Coordinator {
        node_id: resp.node_id,
        host: resp.host,
        port: resp.port,
    })
}

/// A new connection of its own to the coordinator. Group members need
/// dedicated sockets: JoinGroup and SyncGroup block until the whole group
/// arrives, and responses come back in request order, so nothing else may
/// queue behind them (heartbeats least of all).
pub async fn connect_coordinator(client: &Client, c: &Coordinator) -> Result<Arc<Connection>> {
    let config = ConnectionConfig {
        connect_timeout: client.config().connect_timeout,
        max_frame_bytes: client.config().max_frame_bytes,
        internal_writer: client.config().internal_writer,
    };
    match Connection::connect(&c.addr(), &config).await {
        Ok(conn) => Ok(conn),
        // With one broker the bootstrap address is known to reach it even
        // when the advertised one is not routable from here.
        Err(e) if client.brokers().len() <= 1 => {
            let mut last = e;
            for addr in parse_bootstrap(&client.config().bootstrap)? {
                match Connection::connect(&addr, &config).await {
                    Ok(conn) => return Ok(conn),
                    Err(e) => last = e,
                }
            }
            Err(last)
        }
        Err(e) => Err(e),
    }
}

/// Group administration on top of a [`Client`].
#[derive(Clone)]
pub struct GroupAdmin {
    client: Client,
}

impl GroupAdmin {
    pub fn new(client: Client) -> GroupAdmin {
        GroupAdmin { client }
    }

    async fn coordinator(&self, group: &str) -> Result<(Coordinator, Arc<Connection>)> {
        let c = find_coordinator(&self.client, group).await?;
        // Straight to the address FindCoordinator gave: the client may not
        // have fetched metadata yet, and without it a node id would map to
        // the bootstrap broker, which in a cluster is often not the
        // coordinator (it answers NOT_COORDINATOR).
        let conn = connect_coordinator(&self.client, &c).await?;
        Ok((c, conn))
    }

    /// Every group of every broker, sorted by name.
    pub async fn list_groups(&self) -> Result<Vec<GroupSummary>> {
        // An empty topic list asks for brokers only.
        let md = self.client.fetch_metadata(Some(Vec::new()), false).await?;
        let mut nodes: Vec<i32> = md.brokers.iter().map(|b| b.node_id).collect();
        if nodes.is_empty() {
            nodes.push(-1);
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for node in nodes {
            let conn = if node < 0 {
                self.client.bootstrap_connection().await?
            } else {
                self.client.connection(node, Lane::Default).await?
            };
            let resp: ListGroupsResponse = conn
                .call(
                    ApiKey::ListGroups,
                    &ListGroupsRequest {},
                    self.client.request_timeout(),
                )
                .await?;
            check(&resp.status)?;
            for g in resp.groups {
                if seen.insert(g.group_id.clone()) {
                    out.push(GroupSummary {
                        group: g.group_id,
                        protocol_type: g.protocol_type,
                        state: g.state,
                    });
                }
            }
        }
        out.sort_by(|a, b| a.group.cmp(&b.group));
        Ok(out)
    }

    /// Describes one group; an unknown group comes back with state `Dead`.
    pub async fn describe_group(&self, group: &str) -> Result<GroupInfo> {
        let (coordinator, conn) = self.coordinator(group).await?;
        let req = DescribeGroupsRequest {
            group_ids: vec![group.to_string()],
        };
        let resp: DescribeGroupsResponse = conn
            .call(ApiKey::DescribeGroups, &req, self.client.request_timeout())
            .await?;
        check(&resp.status)?;
        let g = resp
            .groups
            .into_iter()
            .find(|g| g.group_id == group)
            .ok_or_else(|| {
                ClientError::broker(
                    ErrorCode::UnknownServerError,
                    Some("the broker did not describe the requested group"),
                )
            })?;
        check(&g.status)?;
        let consumer = g.protocol_type == CONSUMER_PROTOCOL_TYPE;
        let members = g
            .members
            .into_iter()
            .map(|m| {
                // Another protocol's (or a broken client's) bytes just
                // show no partitions; describing must not fail on them.
                let assignment = if consumer {
                    Assignment::decode(&m.assignment)
                        .map(|a| {
                            a.partitions
                                .into_iter()
                                .flat_map(|tp| {
                                    let topic = tp.topic;
                                    tp.partitions.into_iter().map(move |p| (topic.clone(), p))
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                GroupMemberInfo {
                    member_id: m.member_id,
                    group_instance_id: m.group_instance_id,
                    client_id: m.client_id,
                    client_host: m.client_host,
                    assignment,
                }
            })
            .collect();
        Ok(GroupInfo {
            group: g.group_id,
            state: g.state,
            protocol_type: g.protocol_type,
            protocol: g.protocol,
            coordinator,
            members,
        })
    }

    /// The group's committed offsets (`None`: every partition it has
    /// committed); partitions without a commit are left out.
    pub async fn committed_offsets(
        &self,
        group: &str,
        partitions: Option<&[(String, i32)]>,
    ) -> Result<Vec<(String, i32, i64)>> {
        let (_, conn) = self.coordinator(group).await?;
        fetch_offsets(&conn, &self.client, group, partitions).await
    }

    /// Commits offsets as a tool (generation -1, no member id); the broker
    /// accepts this only while the group has no members.
    pub async fn commit_offsets(&self, group: &str, offsets: &[CommittedOffset<'_>]) -> Result<()> {
        let (_, conn) = self.coordinator(group).await?;
        let req = OffsetCommitRequest {
            group_id: group.to_string(),
            generation_id: -1,
            member_id: String::new(),
            offsets: offsets
                .iter()
                .map(|o| OffsetCommitPartition {
                    topic: o.topic.to_string(),
                    partition: o.partition,
                    offset: o.offset,
                    metadata: Some(String::new()),
                })
                .collect(),
        };
        let resp: OffsetCommitResponse = conn
            .call(ApiKey::OffsetCommit, &req, self.client.request_timeout())
            .await?;
        check(&resp.status)?;
        for p in &resp.partitions {
            check(&p.status)?;
        }
        Ok(())
    }

    /// Deletes an empty group and its offsets.
    pub async fn delete_group(&self, group: &str) -> Result<()> {
        let (_, conn) = self.coordinator(group).await?;
        let req = DeleteGroupsRequest {
            group_ids: vec![group.to_string()],
        };
        let resp: DeleteGroupsResponse = conn
            .call(ApiKey::DeleteGroups, &req, self.client.request_timeout())
            .await?;
        check(&resp.status)?;
        for g in &resp.groups {
            check(&g.status)?;
        }
        Ok(())
    }
}

impl GroupAdmin {
    /// Deletes a group's committed offsets of `partitions` (Kafka's
    /// OffsetDelete). `Err` when the group as a whole is refused (unknown,
    /// or it has members of another protocol); otherwise one result per
    /// partition: a partition whose topic the active members subscribe to
    /// keeps its offset and carries GROUP_SUBSCRIBED_TO_TOPIC.
    pub async fn delete_offsets(
        &self,
        group: &str,
        partitions: &[(String, i32)],
    ) -> Result<Vec<(String, i32, Result<()>)>> {
        let (_, conn) = self.coordinator(group).await?;
        let req = DeleteOffsetsRequest {
            group_id: group.to_string(),
            partitions: partitions
                .iter()
                .map(|(topic, partition)| TopicPartition {
                    topic: topic.clone(),
                    partition: *partition,
                })
                .collect(),
        };
        let resp: DeleteOffsetsResponse = conn
            .call(ApiKey::DeleteOffsets, &req, self.client.request_timeout())
            .await?;
        check(&resp.status)?;
        Ok(resp
            .partitions
            .into_iter()
            .map(|p| (p.topic, p.partition, check(&p.status)))
            .collect())
    }
}

/// OffsetFetch on a given connection; offsets of -1 (nothing committed)
/// are left out.
pub(crate) async fn fetch_offsets(
    conn: &Connection,
    client: &Client,
    group: &str,
    partitions: Option<&[(String, i32)]>,
) -> Result<Vec<(String, i32, i64)>> {
    let req = OffsetFetchRequest {
        group_id: group.to_string(),
        partitions: partitions.map(|ps| {
            ps.iter()
                .map(|(topic, partition)| TopicPartition {
                    topic: topic.clone(),
                    partition: *partition,
                })
                .collect()
        }),
    };
    let resp: OffsetFetchResponse = conn
        .call(ApiKey::OffsetFetch, &req, client.request_timeout())
        .await?;
    check(&resp.status)?;
    let mut out: Vec<(String, i32, i64)> = resp
        .offsets
        .into_iter()
        .filter(|o| o.offset >= 0)
        .map(|o| (o.topic, o.partition, o.offset))
        .collect();
    out.sort();
    Ok(out)
}
