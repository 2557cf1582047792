//! DescribeProducers (KIP-664): the idempotent producers a partition's
//! leader remembers, with epoch, last sequence and last timestamp, as
//! `kafka-transactions describe-producers` and admin clients show them.
use std::sync::Arc;

use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse, ProducerId};

use super::request::{str, Ctx};
use super::Reply;
use crate::broker::state::Broker;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: DescribeProducersRequest) -> Reply {
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partition_indexes
                .iter()
                .map(|&index| describe(broker, &t.name.0, index))
                .collect();
            TopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    ctx.respond(&DescribeProducersResponse::default().with_topics(topics))
}

fn describe(broker: &Broker, topic: &str, index: i32) -> PartitionResponse {
    let resp = PartitionResponse::default().with_partition_index(index);
    match broker.partition_producers(topic, index) {
        Err(e) => resp
            .with_error_code(e.code().code())
            .with_error_message(Some(str(e.to_string()))),
        Ok(producers) => resp.with_active_producers(
            producers
                .into_iter()
                .map(|p| {
                    ProducerState::default()
                        .with_producer_id(ProducerId(p.producer_id))
                        .with_producer_epoch(i32::from(p.epoch))
                        .with_last_sequence(p.last_sequence)
                        .with_last_timestamp(p.last_timestamp)
                        .with_coordinator_epoch(-1)
                        .with_current_txn_start_offset(p.current_txn_start_offset)
                })
                .collect(),
        ),
    }
}
