//! DeleteOffsets (native API 30): `strom groups delete-offsets`, Kafka's
//! OffsetDelete on the native protocol, onto the same coordinator call.
use std::net::SocketAddr;
use std::sync::Arc;

use super::{frame, Reply};
use crate::broker::group::GroupError;
use crate::broker::replication::coordinator;
use crate::broker::state::Broker;
use crate::proto::consumer_protocol::Subscription;
use crate::proto::messages::groups::{
    DeleteOffsetsRequest, DeleteOffsetsResponse, PartitionStatus,
};
use crate::proto::messages::Status;
use crate::proto::ErrorCode;

fn status(e: &GroupError) -> Status {
    Status::error(ErrorCode::from_code(e.kafka_code()), e.to_string())
}

fn subscribed_topics(metadata: &[u8]) -> Option<Vec<String>> {
    Subscription::decode(metadata).ok().map(|s| s.topics)
}

pub async fn handle(
    broker: &Arc<Broker>,
    cid: i32,
    req: DeleteOffsetsRequest,
    _peer: SocketAddr,
) -> Reply {
    if let Err(e) = coordinator::check(broker, &req.group_id) {
        return Reply::Now(frame(
            cid,
            &DeleteOffsetsResponse {
                status: e.status(),
                partitions: Vec::new(),
            },
        ));
    }
    let (known, unknown): (Vec<_>, Vec<_>) = req
        .partitions
        .into_iter()
        .partition(|p| broker.partition_exists(&p.topic, p.partition));
    let unknown: Vec<PartitionStatus> = unknown
        .into_iter()
        .map(|p| PartitionStatus {
            status: Status::error(
                ErrorCode::UnknownTopicOrPartition,
                format!("topic '{}' has no partition {}", p.topic, p.partition),
            ),
            topic: p.topic,
            partition: p.partition,
        })
        .collect();
    let asked = known.into_iter().map(|p| (p.topic, p.partition)).collect();
    let groups = broker.groups.clone();
    Reply::Later(Box::pin(async move {
        let resp = match groups
            .delete_offsets(&req.group_id, asked, &subscribed_topics)
            .await
        {
            Ok(results) => DeleteOffsetsResponse {
                status: Status::ok(),
                partitions: results
                    .into_iter()
                    .map(|((topic, partition), r)| PartitionStatus {
                        topic,
                        partition,
                        status: r.as_ref().err().map_or_else(Status::ok, status),
                    })
                    .chain(unknown)
                    .collect(),
            },
            Err(e) => DeleteOffsetsResponse {
                status: status(&e),
                partitions: Vec::new(),
            },
        };
        Reply::Now(frame(cid, &resp))
    }))
}
