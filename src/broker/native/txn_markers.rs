//! The transaction coordinator's inter-broker calls (native APIs 36–38):
//! another broker's coordinator asks this one, as leader of a partition
//! or coordinator of a group, to write a marker, to let a producer write,
//! or to commit a transaction's offsets. The steps are the ones the
//! coordinator takes for what it leads itself (`txn::partition_ops`).
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::{frame, Reply};
use crate::broker::group::OffsetCommit;
use crate::broker::replication::coordinator;
use crate::broker::state::Broker;
use crate::broker::txn::partition_ops::{self, MARKER_REPLICATION_TIMEOUT};
use crate::proto::messages::groups::PartitionStatus;
use crate::proto::messages::txn_markers::*;
use crate::proto::messages::Status;
use crate::proto::ErrorCode;
use crate::record::Marker;

pub async fn write_markers(
    broker: &Arc<Broker>,
    cid: i32,
    req: WriteTxnMarkersRequest,
    peer: SocketAddr,
) -> Reply {
    let marker = if req.commit {
        Marker::Commit
    } else {
        Marker::Abort
    };
    // Bounded: the caller gives up after its own timeout anyway.
    let timeout = Duration::from_millis(req.timeout_ms.clamp(1, 30_000) as u64)
        .min(MARKER_REPLICATION_TIMEOUT * 2);
    let mut partitions = Vec::with_capacity(req.partitions.len());
    for tp in req.partitions {
        let status = match partition_ops::write_marker(
            &broker.topics,
            &tp.topic,
            tp.partition,
            req.producer_id,
            req.producer_epoch,
            marker,
            timeout,
        )
        .await
        {
            Ok(()) => Status::ok(),
            Err(e) => {
                tracing::debug!(%peer, topic = %tp.topic, partition = tp.partition, error = %e, "transaction marker refused");
                e.status()
            }
        };
        partitions.push(PartitionStatus {
            topic: tp.topic,
            partition: tp.partition,
            status,
        });
    }
    Reply::Now(frame(
        cid,
        &WriteTxnMarkersResponse {
            status: Status::ok(),
            partitions,
        },
    ))
}

pub async fn allow_writes(
    broker: &Arc<Broker>,
    cid: i32,
    req: AllowTxnWritesRequest,
    _peer: SocketAddr,
) -> Reply {
    let partitions = req
        .partitions
        .into_iter()
        .map(|tp| {
            let status = match partition_ops::allow_writes(
                &broker.topics,
                &tp.topic,
                tp.partition,
                req.producer_id,
                req.producer_epoch,
            ) {
                Ok(()) => Status::ok(),
                Err(e) => e.status(),
            };
            PartitionStatus {
                topic: tp.topic,
                partition: tp.partition,
                status,
            }
        })
        .collect();
    Reply::Now(frame(
        cid,
        &AllowTxnWritesResponse {
            status: Status::ok(),
            partitions,
        },
    ))
}

pub async fn commit_offsets(
    broker: &Arc<Broker>,
    cid: i32,
    req: CommitTxnOffsetsRequest,
    _peer: SocketAddr,
) -> Reply {
    let status = if let Err(e) = coordinator::check(broker, &req.group_id) {
        e.status()
    } else {
        let commits = req
            .offsets
            .into_iter()
            .map(|o| OffsetCommit {
                topic: o.topic,
                partition: o.partition,
                offset: o.offset,
                leader_epoch: o.leader_epoch,
                metadata: o.metadata,
            })
            .collect();
        match partition_ops::commit_offsets(&broker.groups, &req.group_id, commits).await {
            Ok(()) => Status::ok(),
            Err(e) => Status::error(ErrorCode::CoordinatorNotAvailable, e),
        }
    };
    Reply::Now(frame(cid, &CommitTxnOffsetsResponse { status }))
}
