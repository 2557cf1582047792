//! Produce: append each partition's batches; with acks=all on a topic whose
//! flush policy is every-append, answer only after the fdatasync.
use std::net::SocketAddr;
use std::sync::Arc;

use super::{frame, Reply};
use crate::broker::error::BrokerError;
use crate::broker::partition::Partition;
use crate::broker::state::Broker;
use crate::log::FlushPolicy;
use crate::proto::messages::produce::*;
use crate::proto::messages::Status;

pub async fn handle(
    broker: &Arc<Broker>,
    cid: i32,
    req: ProduceRequest,
    _peer: SocketAddr,
) -> Reply {
    if ![ACKS_NONE, ACKS_LEADER, ACKS_ALL].contains(&req.acks) {
        return Reply::Now(frame(
            cid,
            &ProduceResponse {
                status: BrokerError::InvalidAcks(req.acks).status(),
                topics: vec![],
            },
        ));
    }
    let mut resp = ProduceResponse {
        status: Status::ok(),
        topics: Vec::with_capacity(req.topics.len()),
    };
    // Partitions whose answer must wait for an fdatasync: (partition,
    // offset that must be durable, where its answer sits in `resp`).
    let mut waits: Vec<(Arc<Partition>, i64, usize, usize)> = Vec::new();
    for (ti, topic) in req.topics.into_iter().enumerate() {
        let mut out = ProduceTopicResponse {
            name: topic.name.clone(),
            partitions: Vec::with_capacity(topic.partitions.len()),
        };
        for (pi, p) in topic.partitions.into_iter().enumerate() {
            let mut records = p.records;
            let result = broker
                .topics
                .partition(&topic.name, p.partition)
                .and_then(|part| part.append(&mut records).map(|info| (part, info)));
            out.partitions.push(match result {
                Ok((part, info)) => {
                    if req.acks == ACKS_ALL && part.flush_policy() == FlushPolicy::EveryAppend {
                        waits.push((part.clone(), info.last_offset + 1, ti, pi));
                    }
                    ProducePartitionResponse {
                        partition: p.partition,
                        status: Status::ok(),
                        base_offset: info.base_offset,
                        log_start_offset: part.offsets().0,
                    }
                }
                Err(e) => {
                    tracing::debug!(topic = %topic.name, partition = p.partition, error = %e, "produce refused");
                    ProducePartitionResponse {
                        partition: p.partition,
                        status: e.status(),
                        base_offset: -1,
                        log_start_offset: -1,
                    }
                }
            });
        }
        resp.topics.push(out);
    }
    if req.acks == ACKS_NONE {
        return Reply::None;
    }
    if waits.is_empty() {
        return Reply::Now(frame(cid, &resp));
    }
    Reply::Later(Box::pin(async move {
        for (part, offset, ti, pi) in waits {
            if let Err(e) = part.wait_durable(offset).await {
                tracing::error!(topic = %part.topic, partition = part.index, error = %e, "fdatasync failed");
                let slot = &mut resp.topics[ti].partitions[pi];
                slot.status = e.status();
                slot.base_offset = -1;
            }
        }
        Reply::Now(frame(cid, &resp))
    }))
}
