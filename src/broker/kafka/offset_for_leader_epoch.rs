//! OffsetForLeaderEpoch for clients (KIP-320): a consumer that saw a new
//! leader epoch in Metadata asks where its last consumed epoch ends on the
//! new leader; an answer below its position means the log was truncated
//! under it (an unclean election, or a leader failover that lost unreplicated
//! records), and it resets instead of silently skipping. The lookup is the
//! one followers use (`Partition::epoch_end`), so clients and replicas see
//! the same epoch history.
use std::sync::Arc;

use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};

use super::request::Ctx;
use super::Reply;
use crate::broker::state::Broker;

/// Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET.
const UNDEFINED_EPOCH: i32 = -1;
const UNDEFINED_OFFSET: i64 = -1;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: OffsetForLeaderEpochRequest) -> Reply {
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let found = broker
                        .topics
                        .partition(&t.topic.0, p.partition)
                        .and_then(|part| part.epoch_end(p.current_leader_epoch, p.leader_epoch));
                    let answer = EpochEndOffset::default().with_partition(p.partition);
                    match found {
                        Ok((epoch, end)) => answer.with_leader_epoch(epoch).with_end_offset(end),
                        Err(e) => {
                            tracing::debug!(peer = %ctx.peer, topic = %t.topic.0, partition = p.partition, error = %e, "offset for leader epoch refused");
                            answer
                                .with_error_code(e.code().code())
                                .with_leader_epoch(UNDEFINED_EPOCH)
                                .with_end_offset(UNDEFINED_OFFSET)
                        }
                    }
                })
                .collect();
            OffsetForLeaderTopicResult::default()
                .with_topic(t.topic)
                .with_partitions(partitions)
        })
        .collect();
    ctx.respond(&OffsetForLeaderEpochResponse::default().with_topics(topics))
}
