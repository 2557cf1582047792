//! Consumer group APIs, onto the coordinator the native protocol shares
//! (so a Kafka client's group and offsets show in `strom groups`). Joins,
//! syncs and commits wait for the rest of the group or the store, so they
//! answer Later.
//!
//! In a cluster each group request first asks [`coordinator::check`], as
//! the native adapter does: a group this broker does not coordinate gets
//! NOT_COORDINATOR (or COORDINATOR_LOAD_IN_PROGRESS while its partition is
//! being loaded) in the place the API version carries errors for it.
use std::collections::HashMap;
use std::sync::Arc;

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use super::request::{str, Ctx};
use super::Reply;
use crate::broker::group::{self, CommittedOffset, GroupError};
use crate::broker::replication::coordinator;
use crate::broker::state::Broker;
use crate::proto::ErrorCode;

const KEY_TYPE_GROUP: i8 = 0;
const KEY_TYPE_TRANSACTION: i8 = 1;

fn opt(s: Option<StrBytes>) -> Option<String> {
    s.map(|s| s.to_string())
}

/// Kafka's error code when this broker cannot serve `group` (see
/// [`coordinator::check`]).
fn refusal(broker: &Broker, ctx: &Ctx, group: &str) -> Option<i16> {
    refused(ctx, coordinator::check(broker, group))
}

/// [`refusal`] for the membership APIs (an empty group id is invalid).
fn member_refusal(broker: &Broker, ctx: &Ctx, group: &str) -> Option<i16> {
    refused(ctx, coordinator::check_member(broker, group))
}

fn refused(ctx: &Ctx, check: Result<(), coordinator::CoordinatorError>) -> Option<i16> {
    let e = check.err()?;
    tracing::debug!(peer = %ctx.peer, api = ?ctx.api, error = %e, "group request refused");
    Some(e.code().code())
}

pub async fn find_coordinator(
    broker: &Arc<Broker>,
    ctx: &Ctx,
    req: FindCoordinatorRequest,
) -> Reply {
    // One node coordinates every group and every transactional id; in a
    // cluster a group's coordinator is the leader of its
    // __consumer_offsets partition, a transactional id's the leader of its
    // __transaction_state partition.
    let (node, host, port) = (
        broker.config.node_id,
        &broker.advertised.0,
        broker.advertised.1,
    );
    let locate = |key_type: i8, key: &str| -> Result<(i32, String, i32), (i16, Option<String>)> {
        let found = if key_type == KEY_TYPE_TRANSACTION {
            coordinator::find_transaction(broker, key)
        } else {
            coordinator::find(broker, key)
        };
        match found {
            None => Ok((node, host.clone(), port)),
            Some(Ok(found)) => Ok(found),
            Some(Err(e)) => Err((e.code().code(), Some(e.to_string()))),
        }
    };
    let answer = |key_type: i8| -> (i16, Option<String>) {
        if key_type == KEY_TYPE_GROUP || key_type == KEY_TYPE_TRANSACTION {
            (0, None)
        } else {
            (
                ErrorCode::CoordinatorNotAvailable.code(),
                Some(format!("coordinator type {key_type} is not supported")),
            )
        }
    };
    let mut resp = FindCoordinatorResponse::default();
    if ctx.version >= 4 {
        // v4+ batches the keys (KIP-699); the top-level fields stay unset.
        resp.error_message = None;
        resp.coordinators = req
            .coordinator_keys
            .into_iter()
            .map(|key| {
                let (mut code, mut message) = answer(req.key_type);
                let mut at = None;
                if code == 0 {
                    match locate(req.key_type, &key) {
                        Ok(found) => at = Some(found),
                        Err((c, m)) => (code, message) = (c, m),
                    }
                }
                let mut c = Coordinator::default().with_key(key).with_error_code(code);
                c.error_message = message.map(str);
                // Kafka's "no node" on error: id -1, empty host, port -1.
                let (n, h, p) = at.unwrap_or((-1, String::new(), -1));
                c.node_id = BrokerId(n);
                c.host = str(h);
                c.port = p;
                c
            })
            .collect();
    } else {
        let (mut code, mut message) = answer(req.key_type);
        let mut at = None;
        if code == 0 {
            match locate(req.key_type, &req.key) {
                Ok(found) => at = Some(found),
                Err((c, m)) => (code, message) = (c, m),
            }
        }
        resp.error_code = code;
        resp.error_message = message.map(str);
        let (n, h, p) = at.unwrap_or((-1, String::new(), -1));
        resp.node_id = BrokerId(n);
        resp.host = str(h);
        resp.port = p;
    }
    ctx.respond(&resp)
}

/// A JoinGroup answer carrying only an error, shaped for version `v`.
fn join_error(v: i16, code: i16, member_id: StrBytes) -> JoinGroupResponse {
    let mut resp = JoinGroupResponse::default();
    resp.error_code = code;
    resp.generation_id = -1;
    // Nullable only from v7.
    resp.protocol_name = if v >= 7 { None } else { Some(StrBytes::new()) };
    resp.member_id = member_id;
    resp
}

pub async fn join(broker: &Arc<Broker>, ctx: &Ctx, req: JoinGroupRequest) -> Reply {
    let v = ctx.version;
    if let Some(code) = member_refusal(broker, ctx, &req.group_id.0) {
        // Kafka echoes the member id, so a known member keeps it.
        return ctx.respond(&join_error(v, code, req.member_id));
    }
    let groups = broker.groups.clone();
    let ctx = ctx.clone();
    Reply::Later(Box::pin(async move {
        let join = group::JoinGroup {
            group_id: req.group_id.0.to_string(),
            member_id: req.member_id.to_string(),
            group_instance_id: opt(req.group_instance_id),
            client_id: ctx.client_id.clone(),
            client_host: ctx.peer.ip().to_string(),
            session_timeout_ms: req.session_timeout_ms,
            // Absent in v0, where the crate leaves -1: the coordinator
            // then uses the session timeout, as Kafka does.
            rebalance_timeout_ms: req.rebalance_timeout_ms,
            protocol_type: req.protocol_type.to_string(),
            protocols: req
                .protocols
                .into_iter()
                .map(|p| (p.name.to_string(), p.metadata))
                .collect(),
            // KIP-394: from v4 a new member first learns its id.
            require_known_member_id: v >= 4,
        };
        let resp = match groups.join_group(join).await {
            Ok(r) => {
                let mut resp = JoinGroupResponse::default();
                resp.generation_id = r.generation_id;
                if v >= 7 {
                    resp.protocol_type = Some(str(r.protocol_type));
                }
                resp.protocol_name = Some(str(r.protocol_name));
                resp.leader = str(r.leader_id);
                resp.member_id = str(r.member_id);
                resp.members = r
                    .members
                    .into_iter()
                    .map(|m| {
                        JoinGroupResponseMember::default()
                            .with_member_id(str(m.member_id))
                            .with_group_instance_id(m.group_instance_id.map(str))
                            .with_metadata(m.metadata)
                    })
                    .collect();
                resp
            }
            Err(e) => {
                tracing::debug!(peer = %ctx.peer, error = %e, "join group refused");
                let member_id = match &e {
                    GroupError::MemberIdRequired(id) => str(id.clone()),
                    _ => StrBytes::new(),
                };
                join_error(v, e.kafka_code(), member_id)
            }
        };
        ctx.frame(&resp)
    }))
}

pub async fn sync(broker: &Arc<Broker>, ctx: &Ctx, req: SyncGroupRequest) -> Reply {
    if let Some(code) = member_refusal(broker, ctx, &req.group_id.0) {
        let mut resp = SyncGroupResponse::default();
        resp.error_code = code;
        return ctx.respond(&resp);
    }
    let groups = broker.groups.clone();
    let ctx = ctx.clone();
    Reply::Later(Box::pin(async move {
        let assignments = req
            .assignments
            .into_iter()
            .map(|a| (a.member_id.to_string(), a.assignment))
            .collect();
        let mut resp = SyncGroupResponse::default();
        let result = groups
            .sync_group(
                &req.group_id.0,
                req.generation_id,
                &req.member_id,
                req.group_instance_id.as_deref(),
                assignments,
            )
            .await;
        match result {
            Ok(assignment) => {
                resp.assignment = assignment;
                if ctx.version >= 5 {
                    // The group's protocol is what the member joined with;
                    // echoing it lets the client check (KIP-559).
                    resp.protocol_type = req.protocol_type;
                    resp.protocol_name = req.protocol_name;
                }
            }
            Err(e) => {
                tracing::debug!(peer = %ctx.peer, error = %e, "sync group refused");
                resp.error_code = e.kafka_code();
            }
        }
        ctx.frame(&resp)
    }))
}

pub async fn heartbeat(broker: &Arc<Broker>, ctx: &Ctx, req: HeartbeatRequest) -> Reply {
    let mut resp = HeartbeatResponse::default();
    resp.error_code = match member_refusal(broker, ctx, &req.group_id.0) {
        Some(c) => c,
        None => code(
            &broker
                .groups
                .heartbeat(&req.group_id.0, req.generation_id, &req.member_id)
                .await,
        ),
    };
    ctx.respond(&resp)
}

pub async fn leave(broker: &Arc<Broker>, ctx: &Ctx, req: LeaveGroupRequest) -> Reply {
    if let Some(code) = member_refusal(broker, ctx, &req.group_id.0) {
        // Every version has a top-level error code; like Kafka, a refused
        // batch lists no members.
        let mut resp = LeaveGroupResponse::default();
        resp.error_code = code;
        return ctx.respond(&resp);
    }
    // v0-2 name one member; v3+ a batch (KIP-345).
    let batch = ctx.version >= 3;
    let members: Vec<(String, Option<StrBytes>)> = if batch {
        req.members
            .into_iter()
            .map(|m| (m.member_id.to_string(), m.group_instance_id))
            .collect()
    } else {
        vec![(req.member_id.to_string(), None)]
    };
    let instances: Vec<Option<StrBytes>> = members.iter().map(|m| m.1.clone()).collect();
    let ids = members.into_iter().map(|m| m.0).collect();
    let mut resp = LeaveGroupResponse::default();
    match broker.groups.leave_group(&req.group_id.0, ids).await {
        Ok(results) => {
            if batch {
                resp.members = results
                    .into_iter()
                    .zip(instances)
                    .map(|((member_id, r), instance)| {
                        MemberResponse::default()
                            .with_member_id(str(member_id))
                            .with_group_instance_id(instance)
                            .with_error_code(code(&r))
                    })
                    .collect();
            } else if let Some((_, r)) = results.first() {
                resp.error_code = code(r);
            }
        }
        Err(e) => resp.error_code = e.kafka_code(),
    }
    ctx.respond(&resp)
}

const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

pub async fn offset_commit(broker: &Arc<Broker>, ctx: &Ctx, req: OffsetCommitRequest) -> Reply {
    if let Some(c) = refusal(broker, ctx, &req.group_id.0) {
        // OffsetCommit has no top-level error code in any version: every
        // partition of the request carries it.
        return ctx.respond(&commit_response(req.topics, &Err(c)));
    }
    // As in Kafka, a commit for a topic or partition that does not exist
    // is answered UNKNOWN_TOPIC_OR_PARTITION (and not stored).
    let known = |topic: &str, p: i32| broker.partition_exists(topic, p);
    let unknown: Vec<(String, i32)> = req
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .filter(|p| !known(&t.name.0, p.partition_index))
                .map(|p| (t.name.0.to_string(), p.partition_index))
        })
        .collect();
    let groups = broker.groups.clone();
    let ctx = ctx.clone();
    Reply::Later(Box::pin(async move {
        let offsets = req
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .filter(|p| !unknown.contains(&(t.name.0.to_string(), p.partition_index)))
                    .map(|p| group::OffsetCommit {
                        topic: t.name.0.to_string(),
                        partition: p.partition_index,
                        offset: p.committed_offset,
                        leader_epoch: p.committed_leader_epoch,
                        metadata: opt(p.committed_metadata.clone()),
                    })
            })
            .collect();
        let result = groups
            .commit_offsets(
                &req.group_id.0,
                req.generation_id_or_member_epoch,
                &req.member_id,
                offsets,
            )
            .await;
        let codes: Result<HashMap<(String, i32), i16>, i16> = match result {
            Ok(list) => Ok(list
                .into_iter()
                .map(|(t, p, r)| ((t, p), code(&r)))
                .chain(unknown.into_iter().map(|k| (k, UNKNOWN_TOPIC_OR_PARTITION)))
                .collect()),
            Err(e) => {
                tracing::debug!(peer = %ctx.peer, error = %e, "offset commit refused");
                Err(e.kafka_code())
            }
        };
        ctx.frame(&commit_response(req.topics, &codes))
    }))
}

/// The OffsetCommit answer in the request's shape, each partition with its
/// own code (`Err`: the same code for all).
fn commit_response(
    topics: Vec<offset_commit_request::OffsetCommitRequestTopic>,
    codes: &Result<HashMap<(String, i32), i16>, i16>,
) -> OffsetCommitResponse {
    let mut resp = OffsetCommitResponse::default();
    resp.topics = topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let c = match codes {
                        Ok(map) => map
                            .get(&(t.name.0.to_string(), p.partition_index))
                            .copied()
                            .unwrap_or(0),
                        Err(c) => *c,
                    };
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(c)
                })
                .collect();
            OffsetCommitResponseTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    resp
}

pub async fn offset_fetch(broker: &Arc<Broker>, ctx: &Ctx, req: OffsetFetchRequest) -> Reply {
    let v = ctx.version;
    let mut resp = OffsetFetchResponse::default();
    if v >= 8 {
        // v8+ asks for several groups at once (KIP-709).
        for g in req.groups {
            let wanted = g.topics.map(|ts| {
                ts.into_iter()
                    .flat_map(|t| {
                        let name = t.name.0.to_string();
                        t.partition_indexes
                            .into_iter()
                            .map(move |p| (name.clone(), p))
                    })
                    .collect()
            });
            let mut out = OffsetFetchResponseGroup::default().with_group_id(g.group_id.clone());
            if let Some(c) = refusal(broker, ctx, &g.group_id.0) {
                out.error_code = c;
                resp.groups.push(out);
                continue;
            }
            match broker.groups.fetch_offsets(&g.group_id.0, wanted).await {
                Ok(offsets) => {
                    out.topics = by_topic(offsets)
                        .into_iter()
                        .map(|(name, parts)| {
                            OffsetFetchResponseTopics::default()
                                .with_name(TopicName(str(name)))
                                .with_partitions(
                                    parts
                                        .into_iter()
                                        .map(|o| {
                                            OffsetFetchResponsePartitions::default()
                                                .with_partition_index(o.partition)
                                                .with_committed_offset(o.offset)
                                                .with_committed_leader_epoch(o.leader_epoch)
                                                .with_metadata(Some(str(o.metadata)))
                                        })
                                        .collect(),
                                )
                        })
                        .collect();
                }
                Err(e) => out.error_code = e.kafka_code(),
            }
            resp.groups.push(out);
        }
        return ctx.respond(&resp);
    }
    let wanted = req.topics.map(|ts| {
        ts.into_iter()
            .flat_map(|t| {
                let name = t.name.0.to_string();
                t.partition_indexes
                    .into_iter()
                    .map(move |p| (name.clone(), p))
            })
            .collect::<Vec<_>>()
    });
    let asked = wanted.clone();
    let result = match refusal(broker, ctx, &req.group_id.0) {
        Some(c) => Err(c),
        None => broker
            .groups
            .fetch_offsets(&req.group_id.0, wanted)
            .await
            .map_err(|e| e.kafka_code()),
    };
    match result {
        Ok(offsets) => {
            resp.topics = by_topic(offsets)
                .into_iter()
                .map(|(name, parts)| {
                    OffsetFetchResponseTopic::default()
                        .with_name(TopicName(str(name)))
                        .with_partitions(
                            parts
                                .into_iter()
                                .map(|o| {
                                    let mut p = OffsetFetchResponsePartition::default()
                                        .with_partition_index(o.partition)
                                        .with_committed_offset(o.offset)
                                        .with_metadata(Some(str(o.metadata)));
                                    // The leader epoch field exists from v5.
                                    if v >= 5 {
                                        p.committed_leader_epoch = o.leader_epoch;
                                    }
                                    p
                                })
                                .collect(),
                        )
                })
                .collect();
        }
        Err(c) if v >= 2 => resp.error_code = c,
        Err(c) => {
            // v1 has no top-level error: put it on every partition asked.
            let offsets = asked
                .unwrap_or_default()
                .into_iter()
                .map(|(topic, partition)| CommittedOffset {
                    topic,
                    partition,
                    offset: -1,
                    leader_epoch: -1,
                    metadata: String::new(),
                })
                .collect();
            resp.topics = by_topic(offsets)
                .into_iter()
                .map(|(name, parts)| {
                    OffsetFetchResponseTopic::default()
                        .with_name(TopicName(str(name)))
                        .with_partitions(
                            parts
                                .into_iter()
                                .map(|o| {
                                    OffsetFetchResponsePartition::default()
                                        .with_partition_index(o.partition)
                                        .with_committed_offset(-1)
                                        .with_metadata(Some(StrBytes::new()))
                                        .with_error_code(c)
                                })
                                .collect(),
                        )
                })
                .collect();
        }
    }
    ctx.respond(&resp)
}

/// Groups offsets by topic, keeping the order topics first appear in.
fn by_topic(offsets: Vec<CommittedOffset>) -> Vec<(String, Vec<CommittedOffset>)> {
    let mut out: Vec<(String, Vec<CommittedOffset>)> = Vec::new();
    for o in offsets {
        match out.iter_mut().find(|(t, _)| *t == o.topic) {
            Some((_, v)) => v.push(o),
            None => out.push((o.topic.clone(), vec![o])),
        }
    }
    out
}

pub async fn describe(broker: &Arc<Broker>, ctx: &Ctx, req: DescribeGroupsRequest) -> Reply {
    let mut resp = DescribeGroupsResponse::default();
    for id in req.groups {
        let mut out = DescribedGroup::default().with_group_id(id.clone());
        if let Some(c) = refusal(broker, ctx, &id.0) {
            out.error_code = c;
            resp.groups.push(out);
            continue;
        }
        match broker.groups.describe_group(&id.0) {
            Ok(g) => {
                out.group_state = str(g.state.as_str());
                out.protocol_type = str(g.protocol_type);
                out.protocol_data = str(g.protocol);
                out.members = g
                    .members
                    .into_iter()
                    .map(|m| {
                        let mut d = DescribedGroupMember::default()
                            .with_member_id(str(m.member_id))
                            .with_client_id(str(m.client_id))
                            .with_client_host(str(m.client_host))
                            .with_member_metadata(m.metadata)
                            .with_member_assignment(m.assignment);
                        if ctx.version >= 4 {
                            d.group_instance_id = m.group_instance_id.map(str);
                        }
                        d
                    })
                    .collect();
            }
            Err(e) => out.error_code = e.kafka_code(),
        }
        resp.groups.push(out);
    }
    ctx.respond(&resp)
}

pub async fn list(broker: &Arc<Broker>, ctx: &Ctx, req: ListGroupsRequest) -> Reply {
    let states: Vec<String> = req.states_filter.iter().map(|s| s.to_lowercase()).collect();
    let mut resp = ListGroupsResponse::default();
    resp.groups = broker
        .groups
        .list_groups()
        .into_iter()
        .filter(|g| states.is_empty() || states.contains(&g.state.as_str().to_lowercase()))
        // In a cluster every broker lists the groups it coordinates (admin
        // clients ask each broker); others' groups are left out.
        .filter(|g| coordinator::check(broker, &g.group_id).is_ok())
        .map(|g| {
            let mut l = ListedGroup::default()
                .with_group_id(GroupId(str(g.group_id)))
                .with_protocol_type(str(g.protocol_type));
            // The state column exists from v4 (KIP-518).
            if ctx.version >= 4 {
                l.group_state = str(g.state.as_str());
            }
            l
        })
        .collect();
    ctx.respond(&resp)
}

fn code(r: &Result<(), GroupError>) -> i16 {
    match r {
        Ok(()) => 0,
        Err(e) => e.kafka_code(),
    }
}
