//! Produce: append each partition's batches; with acks=all on a topic whose
//! flush policy is every-append, answer only after the fdatasync.
use std::net::SocketAddr;
use std::sync::Arc;

use super::dispatch::ConnectionKind;
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
    kind: ConnectionKind,
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
    let mut waits: Vec<(Arc<Partition>, i64, usize, usize, i32)> = Vec::new();
    for (ti, topic) in req.topics.into_iter().enumerate() {
        let mut out = ProduceTopicResponse {
            name: topic.name.clone(),
            partitions: Vec::with_capacity(topic.partitions.len()),
        };
        for (pi, p) in topic.partitions.into_iter().enumerate() {
            let mut records = p.records;
            let min_isr = broker
                .topics
                .get(&topic.name)
                .map(|t| t.config().min_insync_replicas)
                .unwrap_or(1);
            let result = match BrokerError::refuse_internal_write(&topic.name, kind.internal_writer)
                .and_then(|()| broker.topics.partition(&topic.name, p.partition))
                .and_then(|part| {
                    // Transactional batches only inside the producer's
                    // open transaction; no client-written markers.
                    crate::broker::transactional::check_batches(broker, &part, &records)?;
                    Ok(part)
                }) {
                Ok(part) => {
                    let allowed = if req.acks == ACKS_ALL {
                        part.check_min_isr(min_isr)
                    } else {
                        Ok(())
                    };
                    match allowed {
                        Ok(()) => part
                            .append_when_ready(&mut records)
                            .await
                            .map(|info| (part, info)),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            out.partitions.push(match result {
                Ok((part, info)) => {
                    if req.acks == ACKS_ALL
                        && (part.flush_policy() == FlushPolicy::EveryAppend
                            || part.is_replicated())
                    {
                        waits.push((part.clone(), info.last_offset + 1, ti, pi, min_isr));
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
    let timeout = std::time::Duration::from_millis(req.timeout_ms.max(1) as u64);
    Reply::Later(Box::pin(async move {
        for (part, offset, ti, pi, min_isr) in waits {
            let mut result = Ok(());
            if part.flush_policy() == FlushPolicy::EveryAppend {
                result = part.wait_durable(offset).await;
                if let Err(e) = &result {
                    tracing::error!(topic = %part.topic, partition = part.index, error = %e, "fdatasync failed");
                }
            }
            if result.is_ok() && part.is_replicated() {
                // Every in-sync replica must have it (durably, under the
                // every-append policy: followers sync before fetching on).
                result = part.wait_replicated(offset, timeout, min_isr).await;
            }
            if let Err(e) = result {
                let slot = &mut resp.topics[ti].partitions[pi];
                slot.status = e.status();
                slot.base_offset = -1;
            }
        }
        Reply::Now(frame(cid, &resp))
    }))
}
