//! DeleteRecords: moves partitions' log start offsets forward; the same
//! domain call as the Kafka-protocol handler (`Partition::delete_records_before`).
use std::net::SocketAddr;
use std::sync::Arc;

use super::{frame, Reply};
use crate::broker::error::BrokerError;
use crate::broker::state::Broker;
use crate::proto::messages::delete_records::*;
use crate::proto::messages::Status;

pub async fn handle(
    broker: &Arc<Broker>,
    cid: i32,
    req: DeleteRecordsRequest,
    _peer: SocketAddr,
) -> Reply {
    let partitions = req
        .partitions
        .iter()
        .map(|p| {
            let result =
                BrokerError::refuse_internal(&req.topic, "delete records of internal topic")
                    .and_then(|()| broker.topics.partition(&req.topic, p.partition))
                    .and_then(|part| part.delete_records_before(p.offset));
            match result {
                Ok(low_watermark) => DeleteRecordsPartitionResult {
                    partition: p.partition,
                    status: Status::ok(),
                    low_watermark,
                },
                Err(e) => DeleteRecordsPartitionResult {
                    partition: p.partition,
                    status: e.status(),
                    low_watermark: -1,
                },
            }
        })
        .collect();
    Reply::Now(frame(
        cid,
        &DeleteRecordsResponse {
            status: Status::ok(),
            partitions,
        },
    ))
}
