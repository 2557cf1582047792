//! ElectLeaders (KIP-183, KIP-460): `kafka-leader-election` and admin
//! clients' `electLeaders`, onto [`Broker::elect_leaders`].
use std::sync::Arc;

use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse, TopicName};

use super::request::{str, Ctx};
use super::Reply;
use crate::broker::elect_leaders::{outcome_status, ElectionType};
use crate::broker::state::Broker;
use crate::proto::ErrorCode;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: ElectLeadersRequest) -> Reply {
    // v0 has no election type: always preferred.
    let kind = match (ctx.version, req.election_type) {
        (0, _) | (_, 0) => ElectionType::Preferred,
        (_, 1) => ElectionType::Unclean,
        (_, other) => {
            let mut resp = ElectLeadersResponse::default();
            resp.error_code = ErrorCode::InvalidRequest.code();
            tracing::debug!(peer = %ctx.peer, election_type = other, "unknown election type");
            return ctx.respond(&resp);
        }
    };
    let partitions = req.topic_partitions.map(|ts| {
        ts.into_iter()
            .flat_map(|t| {
                let name = t.topic.0.to_string();
                t.partitions.into_iter().map(move |p| (name.clone(), p))
            })
            .collect::<Vec<_>>()
    });
    let broker = broker.clone();
    let ctx = ctx.clone();
    Reply::Later(Box::pin(async move {
        let mut resp = ElectLeadersResponse::default();
        match broker.elect_leaders(kind, partitions).await {
            Err(e) => resp.error_code = e.code().code(),
            Ok(results) => {
                let mut by_topic: Vec<ReplicaElectionResult> = Vec::new();
                for (topic, partition, outcome) in results {
                    let (code, message) = outcome_status(kind, &topic, partition, outcome);
                    let r = PartitionResult::default()
                        .with_partition_id(partition)
                        .with_error_code(code.code())
                        .with_error_message(message.map(str));
                    match by_topic.iter_mut().find(|t| *t.topic.0 == *topic) {
                        Some(t) => t.partition_result.push(r),
                        None => by_topic.push(
                            ReplicaElectionResult::default()
                                .with_topic(TopicName(str(topic)))
                                .with_partition_result(vec![r]),
                        ),
                    }
                }
                resp.replica_election_results = by_topic;
            }
        }
        ctx.frame(&resp)
    }))
}
