//! Group administration over Kafka's protocol: DeleteGroups and
//! OffsetDelete (`kafka-consumer-groups --delete` and `--delete-offsets`),
//! onto the same coordinator calls the native adapter makes.
use std::sync::Arc;

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::*;

use super::request::Ctx;
use super::Reply;
use crate::broker::group::GroupError;
use crate::broker::replication::coordinator;
use crate::broker::state::Broker;
use crate::proto::consumer_protocol::Subscription;

pub async fn delete_groups(broker: &Arc<Broker>, ctx: &Ctx, req: DeleteGroupsRequest) -> Reply {
    // Groups other coordinators own are answered NOT_COORDINATOR, each in
    // its place; the rest are deleted together.
    let checks: Vec<Option<i16>> = req
        .groups_names
        .iter()
        .map(|g| {
            coordinator::check(broker, &g.0)
                .err()
                .map(|e| e.code().code())
        })
        .collect();
    let mine: Vec<String> = req
        .groups_names
        .iter()
        .zip(&checks)
        .filter(|(_, c)| c.is_none())
        .map(|(g, _)| g.0.to_string())
        .collect();
    let groups = broker.groups.clone();
    let ctx = ctx.clone();
    Reply::Later(Box::pin(async move {
        let mut deleted = groups.delete_groups(mine).await.into_iter();
        let results = req
            .groups_names
            .into_iter()
            .zip(checks)
            .map(|(group_id, check)| {
                let code = match check {
                    Some(c) => c,
                    None => match deleted.next() {
                        Some((_, Ok(()))) => 0,
                        Some((_, Err(e))) => e.kafka_code(),
                        None => GroupError::CoordinatorNotAvailable.kafka_code(),
                    },
                };
                DeletableGroupResult::default()
                    .with_group_id(group_id)
                    .with_error_code(code)
            })
            .collect();
        ctx.frame(&DeleteGroupsResponse::default().with_results(results))
    }))
}

/// The topics a consumer-protocol member subscribes to.
fn subscribed_topics(metadata: &[u8]) -> Option<Vec<String>> {
    Subscription::decode(metadata).ok().map(|s| s.topics)
}

pub async fn offset_delete(broker: &Arc<Broker>, ctx: &Ctx, req: OffsetDeleteRequest) -> Reply {
    if let Err(e) = coordinator::check(broker, &req.group_id.0) {
        return ctx.respond(&OffsetDeleteResponse::default().with_error_code(e.code().code()));
    }
    let known = |topic: &str, p: i32| broker.partition_exists(topic, p);
    // Partitions that do not exist are answered in place, as Kafka does.
    let mut asked: Vec<(String, i32)> = Vec::new();
    for t in &req.topics {
        for p in &t.partitions {
            if known(&t.name.0, p.partition_index) {
                asked.push((t.name.0.to_string(), p.partition_index));
            }
        }
    }
    let groups = broker.groups.clone();
    let ctx = ctx.clone();
    Reply::Later(Box::pin(async move {
        let result = groups
            .delete_offsets(&req.group_id.0, asked, &subscribed_topics)
            .await;
        let results = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(peer = %ctx.peer, error = %e, "offset delete refused");
                return ctx.frame(&OffsetDeleteResponse::default().with_error_code(e.kafka_code()));
            }
        };
        let code_of = |topic: &str, p: i32| -> i16 {
            results
                .iter()
                .find(|((t, q), _)| t == topic && *q == p)
                .map_or(UNKNOWN_TOPIC_OR_PARTITION, |(_, r)| {
                    r.as_ref().err().map_or(0, GroupError::kafka_code)
                })
        };
        let topics = req
            .topics
            .into_iter()
            .map(|t| {
                let partitions = t
                    .partitions
                    .iter()
                    .map(|p| {
                        OffsetDeleteResponsePartition::default()
                            .with_partition_index(p.partition_index)
                            .with_error_code(code_of(&t.name.0, p.partition_index))
                    })
                    .collect();
                OffsetDeleteResponseTopic::default()
                    .with_name(t.name)
                    .with_partitions(partitions)
            })
            .collect();
        ctx.frame(&OffsetDeleteResponse::default().with_topics(topics))
    }))
}

const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
