//! Group APIs: translate native messages to coordinator calls and back.
//! Joins and syncs wait for the rest of the group, so they answer Later.
use std::net::SocketAddr;
use std::sync::Arc;

use super::{frame, Reply};
use crate::broker::group::{self, GroupError};
use crate::broker::replication::coordinator;
use crate::broker::state::Broker;
use crate::proto::messages::groups::*;
use crate::proto::messages::Status;
use crate::proto::ErrorCode;

fn group_status(e: &GroupError) -> Status {
    Status::error(ErrorCode::from_code(e.kafka_code()), e.to_string())
}

fn result_status(r: &Result<(), GroupError>) -> Status {
    match r {
        Ok(()) => Status::ok(),
        Err(e) => group_status(e),
    }
}

pub async fn find_coordinator(
    broker: &Arc<Broker>,
    cid: i32,
    req: FindCoordinatorRequestV1,
    _peer: SocketAddr,
) -> Reply {
    // In a cluster: the leader of the group's __consumer_offsets
    // partition, or of the transactional id's __transaction_state one.
    let found = match req.key_type {
        KEY_TYPE_GROUP => coordinator::find(broker, &req.key),
        KEY_TYPE_TRANSACTION => coordinator::find_transaction(broker, &req.key),
        other => {
            return Reply::Now(frame(
                cid,
                &FindCoordinatorResponse {
                    status: Status::error(
                        ErrorCode::InvalidRequest,
                        format!("coordinator key type {other} is not 0 (group) or 1 (transaction)"),
                    ),
                    node_id: -1,
                    host: String::new(),
                    port: -1,
                },
            ))
        }
    };
    if let Some(found) = found {
        let resp = match found {
            Ok((node_id, host, port)) => FindCoordinatorResponse {
                status: Status::ok(),
                node_id,
                host,
                port,
            },
            Err(e) => FindCoordinatorResponse {
                status: e.status(),
                node_id: -1,
                host: String::new(),
                port: -1,
            },
        };
        return Reply::Now(frame(cid, &resp));
    }
    // A single node coordinates every group and transactional id.
    Reply::Now(frame(
        cid,
        &FindCoordinatorResponse {
            status: Status::ok(),
            node_id: broker.config.node_id,
            host: broker.advertised.0.clone(),
            port: broker.advertised.1,
        },
    ))
}

pub async fn join_group(
    broker: &Arc<Broker>,
    cid: i32,
    req: JoinGroupRequest,
    peer: SocketAddr,
) -> Reply {
    if let Err(status) = coordinator::check_member(broker, &req.group_id).map_err(|e| e.status()) {
        return Reply::Now(frame(
            cid,
            &JoinGroupResponse {
                status,
                ..Default::default()
            },
        ));
    }
    let groups = broker.groups.clone();
    Reply::Later(Box::pin(async move {
        let join = group::JoinGroup {
            group_id: req.group_id,
            member_id: req.member_id,
            group_instance_id: req.group_instance_id,
            client_id: req.client_id,
            client_host: peer.ip().to_string(),
            session_timeout_ms: req.session_timeout_ms,
            rebalance_timeout_ms: req.rebalance_timeout_ms,
            protocol_type: req.protocol_type,
            protocols: req
                .protocols
                .into_iter()
                .map(|p| (p.name, p.metadata))
                .collect(),
            require_known_member_id: false,
        };
        let resp = match groups.join_group(join).await {
            Ok(r) => JoinGroupResponse {
                status: Status::ok(),
                generation_id: r.generation_id,
                protocol_name: r.protocol_name,
                leader: r.leader_id,
                member_id: r.member_id,
                members: r
                    .members
                    .into_iter()
                    .map(|m| JoinGroupMember {
                        member_id: m.member_id,
                        group_instance_id: m.group_instance_id,
                        metadata: m.metadata,
                    })
                    .collect(),
            },
            Err(e) => JoinGroupResponse {
                status: group_status(&e),
                generation_id: -1,
                member_id: match &e {
                    GroupError::MemberIdRequired(id) => id.clone(),
                    _ => String::new(),
                },
                ..Default::default()
            },
        };
        Reply::Now(frame(cid, &resp))
    }))
}

pub async fn sync_group(
    broker: &Arc<Broker>,
    cid: i32,
    req: SyncGroupRequest,
    _peer: SocketAddr,
) -> Reply {
    if let Err(status) = coordinator::check_member(broker, &req.group_id).map_err(|e| e.status()) {
        return Reply::Now(frame(
            cid,
            &SyncGroupResponse {
                status,
                ..Default::default()
            },
        ));
    }
    let groups = broker.groups.clone();
    Reply::Later(Box::pin(async move {
        let assignments = req
            .assignments
            .into_iter()
            .map(|a| (a.member_id, a.assignment))
            .collect();
        let resp = match groups
            .sync_group(
                &req.group_id,
                req.generation_id,
                &req.member_id,
                req.group_instance_id.as_deref(),
                assignments,
            )
            .await
        {
            Ok(assignment) => SyncGroupResponse {
                status: Status::ok(),
                assignment,
            },
            Err(e) => SyncGroupResponse {
                status: group_status(&e),
                assignment: Default::default(),
            },
        };
        Reply::Now(frame(cid, &resp))
    }))
}

pub async fn heartbeat(
    broker: &Arc<Broker>,
    cid: i32,
    req: HeartbeatRequest,
    _peer: SocketAddr,
) -> Reply {
    if let Err(status) = coordinator::check_member(broker, &req.group_id).map_err(|e| e.status()) {
        return Reply::Now(frame(cid, &HeartbeatResponse { status }));
    }
    let r = broker
        .groups
        .heartbeat(&req.group_id, req.generation_id, &req.member_id)
        .await;
    Reply::Now(frame(
        cid,
        &HeartbeatResponse {
            status: result_status(&r),
        },
    ))
}

pub async fn leave_group(
    broker: &Arc<Broker>,
    cid: i32,
    req: LeaveGroupRequest,
    _peer: SocketAddr,
) -> Reply {
    if let Err(status) = coordinator::check_member(broker, &req.group_id).map_err(|e| e.status()) {
        return Reply::Now(frame(
            cid,
            &LeaveGroupResponse {
                status,
                ..Default::default()
            },
        ));
    }
    let resp = match broker
        .groups
        .leave_group(&req.group_id, req.member_ids)
        .await
    {
        Ok(members) => LeaveGroupResponse {
            status: Status::ok(),
            members: members
                .into_iter()
                .map(|(member_id, r)| MemberStatus {
                    member_id,
                    status: result_status(&r),
                })
                .collect(),
        },
        Err(e) => LeaveGroupResponse {
            status: group_status(&e),
            members: vec![],
        },
    };
    Reply::Now(frame(cid, &resp))
}

pub async fn offset_commit(
    broker: &Arc<Broker>,
    cid: i32,
    req: OffsetCommitRequest,
    _peer: SocketAddr,
) -> Reply {
    if let Err(status) = coordinator::check(broker, &req.group_id).map_err(|e| e.status()) {
        return Reply::Now(frame(
            cid,
            &OffsetCommitResponse {
                status,
                ..Default::default()
            },
        ));
    }
    // As in Kafka, a commit for a topic or partition that does not exist is
    // answered UNKNOWN_TOPIC_OR_PARTITION (and not stored).
    let (known, unknown): (Vec<_>, Vec<_>) = req
        .offsets
        .into_iter()
        .partition(|o| broker.partition_exists(&o.topic, o.partition));
    let unknown: Vec<PartitionStatus> = unknown
        .into_iter()
        .map(|o| PartitionStatus {
            status: Status::error(
                ErrorCode::UnknownTopicOrPartition,
                format!("topic '{}' has no partition {}", o.topic, o.partition),
            ),
            topic: o.topic,
            partition: o.partition,
        })
        .collect();
    let groups = broker.groups.clone();
    Reply::Later(Box::pin(async move {
        let offsets = known
            .into_iter()
            .map(|o| group::OffsetCommit {
                topic: o.topic,
                partition: o.partition,
                offset: o.offset,
                leader_epoch: -1,
                metadata: o.metadata,
            })
            .collect();
        let resp = match groups
            .commit_offsets(&req.group_id, req.generation_id, &req.member_id, offsets)
            .await
        {
            Ok(parts) => OffsetCommitResponse {
                status: Status::ok(),
                partitions: parts
                    .into_iter()
                    .map(|(topic, partition, r)| PartitionStatus {
                        topic,
                        partition,
                        status: result_status(&r),
                    })
                    .chain(unknown)
                    .collect(),
            },
            Err(e) => OffsetCommitResponse {
                status: group_status(&e),
                partitions: vec![],
            },
        };
        Reply::Now(frame(cid, &resp))
    }))
}

pub async fn offset_fetch(
    broker: &Arc<Broker>,
    cid: i32,
    req: OffsetFetchRequest,
    _peer: SocketAddr,
) -> Reply {
    if let Err(status) = coordinator::check(broker, &req.group_id).map_err(|e| e.status()) {
        return Reply::Now(frame(
            cid,
            &OffsetFetchResponse {
                status,
                ..Default::default()
            },
        ));
    }
    let parts = req
        .partitions
        .map(|ps| ps.into_iter().map(|p| (p.topic, p.partition)).collect());
    let resp = match broker.groups.fetch_offsets(&req.group_id, parts).await {
        Ok(offsets) => OffsetFetchResponse {
            status: Status::ok(),
            offsets: offsets
                .into_iter()
                .map(|o| CommittedOffset {
                    topic: o.topic,
                    partition: o.partition,
                    offset: o.offset,
                    metadata: Some(o.metadata),
                })
                .collect(),
        },
        Err(e) => OffsetFetchResponse {
            status: group_status(&e),
            offsets: vec![],
        },
    };
    Reply::Now(frame(cid, &resp))
}

pub async fn list_groups(
    broker: &Arc<Broker>,
    cid: i32,
    _req: ListGroupsRequest,
    _peer: SocketAddr,
) -> Reply {
    // In a cluster every broker answers for the groups it coordinates
    // (clients ask them all); groups of partitions it does not lead or has
    // not loaded yet are left out.
    let groups = broker
        .groups
        .list_groups()
        .into_iter()
        .filter(|g| coordinator::check(broker, &g.group_id).is_ok())
        .map(|g| GroupListing {
            group_id: g.group_id,
            protocol_type: g.protocol_type,
            state: g.state.as_str().to_string(),
        })
        .collect();
    Reply::Now(frame(
        cid,
        &ListGroupsResponse {
            status: Status::ok(),
            groups,
        },
    ))
}

pub async fn describe_groups(
    broker: &Arc<Broker>,
    cid: i32,
    req: DescribeGroupsRequest,
    _peer: SocketAddr,
) -> Reply {
    let mut groups = Vec::with_capacity(req.group_ids.len());
    for id in req.group_ids {
        if let Err(e) = coordinator::check(broker, &id) {
            groups.push(GroupDescription {
                status: e.status(),
                group_id: id,
                ..Default::default()
            });
            continue;
        }
        groups.push(match broker.groups.describe_group(&id) {
            Ok(g) => GroupDescription {
                status: Status::ok(),
                group_id: g.group_id,
                state: g.state.as_str().to_string(),
                protocol_type: g.protocol_type,
                protocol: g.protocol,
                members: g
                    .members
                    .into_iter()
                    .map(|m| MemberDescription {
                        member_id: m.member_id,
                        group_instance_id: m.group_instance_id,
                        client_id: m.client_id,
                        client_host: m.client_host,
                        metadata: m.metadata,
                        assignment: m.assignment,
                    })
                    .collect(),
            },
            Err(e) => GroupDescription {
                status: group_status(&e),
                group_id: id,
                ..Default::default()
            },
        });
    }
    Reply::Now(frame(
        cid,
        &DescribeGroupsResponse {
            status: Status::ok(),
            groups,
        },
    ))
}

pub async fn delete_groups(
    broker: &Arc<Broker>,
    cid: i32,
    req: DeleteGroupsRequest,
    _peer: SocketAddr,
) -> Reply {
    // Each group is deleted by its own coordinator: the others are
    // answered NOT_COORDINATOR, in the order asked.
    let checks: Vec<Result<(), Status>> = req
        .group_ids
        .iter()
        .map(|id| coordinator::check(broker, id).map_err(|e| e.status()))
        .collect();
    let mine = req
        .group_ids
        .iter()
        .zip(&checks)
        .filter(|(_, c)| c.is_ok())
        .map(|(id, _)| id.clone())
        .collect();
    // One result per group handed in, in the same order.
    let mut deleted = broker.groups.delete_groups(mine).await.into_iter();
    let groups = req
        .group_ids
        .into_iter()
        .zip(checks)
        .map(|(group_id, check)| {
            let status = match check {
                Err(status) => status,
                Ok(()) => match deleted.next() {
                    Some((_, r)) => result_status(&r),
                    None => Status::error(
                        ErrorCode::UnknownServerError,
                        "the coordinator did not answer for this group",
                    ),
                },
            };
            GroupStatus { group_id, status }
        })
        .collect();
    Reply::Now(frame(
        cid,
        &DeleteGroupsResponse {
            status: Status::ok(),
            groups,
        },
    ))
}
