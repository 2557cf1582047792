//! ListOffsets: earliest, latest, or by timestamp.
use std::net::SocketAddr;
use std::sync::Arc;

use super::{frame, Reply};
use crate::broker::error::BrokerError;
use crate::broker::state::Broker;
use crate::proto::messages::list_offsets::*;
use crate::proto::messages::Status;

pub async fn handle(
    broker: &Arc<Broker>,
    cid: i32,
    req: ListOffsetsRequest,
    _peer: SocketAddr,
) -> Reply {
    let topics = req
        .topics
        .into_iter()
        .map(|t| ListOffsetsTopicResponse {
            partitions: t
                .partitions
                .iter()
                .map(
                    |p| match lookup(broker, &t.name, p.partition, p.timestamp) {
                        Ok((timestamp, offset)) => ListOffsetsPartitionResponse {
                            partition: p.partition,
                            status: Status::ok(),
                            timestamp,
                            offset,
                        },
                        Err(e) => ListOffsetsPartitionResponse {
                            partition: p.partition,
                            status: e.status(),
                            timestamp: -1,
                            offset: -1,
                        },
                    },
                )
                .collect(),
            name: t.name,
        })
        .collect();
    Reply::Now(frame(
        cid,
        &ListOffsetsResponse {
            status: Status::ok(),
            topics,
        },
    ))
}

/// Resolves one (topic, partition, timestamp) to (timestamp, offset).
pub fn lookup(
    broker: &Broker,
    topic: &str,
    partition: i32,
    timestamp: i64,
) -> Result<(i64, i64), BrokerError> {
    let part = broker.topics.partition(topic, partition)?;
    part.ensure_leader()?;
    let (start, hw, _) = part.offsets();
    Ok(match timestamp {
        EARLIEST => (-1, start),
        LATEST => (-1, hw),
        ts => match part.log().offset_for_timestamp(ts)? {
            Some((offset, found_ts)) => (found_ts, offset),
            None => (-1, -1),
        },
    })
}
