//! Metadata: this broker (as advertised), and each topic's partitions with
//! this node as leader, replica and ISR. Topics are auto-created when both
//! the request and the broker config allow it, as in the native handler.
use std::sync::Arc;

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};

use super::request::{str, Ctx};
use super::Reply;
use crate::broker::error::BrokerError;
use crate::broker::partition::SINGLE_NODE_EPOCH;
use crate::broker::state::Broker;
use crate::broker::topic_config::validate_topic_name;
use crate::broker::topics::Topic;

pub const CLUSTER_ID: &str = "strom";
const UNKNOWN_TOPIC_ID: i16 = 100;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: MetadataRequest) -> Reply {
    let auto_create = req.allow_auto_topic_creation && broker.config.auto_create_topics;
    let topics = match req.topics {
        // v0 has no null: an empty list means every topic.
        Some(ts) if ctx.version == 0 && ts.is_empty() => None,
        other => other,
    };
    if broker.cluster.is_some() {
        return clustered(broker, ctx, topics, auto_create).await;
    }
    let topics: Vec<MetadataResponseTopic> = match topics {
        None => broker
            .topics
            .list()
            .iter()
            .map(|t| describe(broker, t))
            .collect(),
        Some(requested) => requested
            .into_iter()
            .map(|t| match t.name {
                Some(name) => by_name(broker, &name.0, auto_create),
                // Lookups by topic id (v10+): strom topics have none.
                None => MetadataResponseTopic::default()
                    .with_error_code(UNKNOWN_TOPIC_ID)
                    .with_name(None)
                    .with_topic_id(t.topic_id),
            })
            .collect(),
    };
    let node = broker.config.node_id;
    let mut resp = MetadataResponse::default();
    resp.brokers = vec![MetadataResponseBroker::default()
        .with_node_id(BrokerId(node))
        .with_host(str(broker.advertised.0.clone()))
        .with_port(broker.advertised.1)];
    resp.cluster_id = Some(str(CLUSTER_ID));
    resp.controller_id = BrokerId(node);
    resp.topics = topics;
    ctx.respond(&resp)
}

fn by_name(broker: &Broker, name: &str, auto_create: bool) -> MetadataResponseTopic {
    let found = broker.topics.get(name).or_else(|| {
        if !auto_create {
            return None;
        }
        match broker
            .topics
            .create(name, -1, -1, Default::default(), false)
        {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::debug!(topic = name, error = %e, "auto-create failed");
                // Lost a race with another creator: use theirs.
                broker.topics.get(name)
            }
        }
    });
    match found {
        Some(t) => describe(broker, &t),
        None => {
            let err = validate_topic_name(name)
                .err()
                .unwrap_or_else(|| BrokerError::UnknownTopicOrPartition(name.to_string()));
            MetadataResponseTopic::default()
                .with_error_code(err.code().code())
                .with_name(Some(TopicName(str(name))))
        }
    }
}

fn describe(broker: &Broker, t: &Topic) -> MetadataResponseTopic {
    let node = BrokerId(broker.config.node_id);
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(str(t.name.to_string()))))
        .with_is_internal(t.internal)
        .with_partitions(
            (0..t.partition_count())
                .map(|p| {
                    MetadataResponsePartition::default()
                        .with_partition_index(p)
                        .with_leader_id(node)
                        .with_leader_epoch(SINGLE_NODE_EPOCH)
                        .with_replica_nodes(vec![node])
                        .with_isr_nodes(vec![node])
                })
                .collect(),
        )
}

/// Metadata from the committed cluster state: every live broker, real
/// leaders, replicas, ISRs and leader epochs.
async fn clustered(
    broker: &Arc<Broker>,
    ctx: &Ctx,
    topics: Option<Vec<kafka_protocol::messages::metadata_request::MetadataRequestTopic>>,
    auto_create: bool,
) -> Reply {
    broker.settle_metadata().await;
    use crate::broker::cluster_view::TopicView;
    fn to_wire(t: TopicView) -> MetadataResponseTopic {
        MetadataResponseTopic::default()
            .with_name(Some(TopicName(str(t.name))))
            .with_is_internal(t.internal)
            .with_partitions(
                t.partitions
                    .into_iter()
                    .map(|p| {
                        MetadataResponsePartition::default()
                            .with_partition_index(p.partition)
                            .with_leader_id(BrokerId(p.leader))
                            .with_leader_epoch(p.leader_epoch)
                            .with_replica_nodes(p.replicas.into_iter().map(BrokerId).collect())
                            .with_isr_nodes(p.isr.into_iter().map(BrokerId).collect())
                    })
                    .collect(),
            )
    }
    let topics: Vec<MetadataResponseTopic> = match topics {
        None => broker.topic_views().into_iter().map(to_wire).collect(),
        Some(requested) => {
            let mut out = Vec::with_capacity(requested.len());
            for t in requested {
                let Some(name) = t.name else {
                    out.push(
                        MetadataResponseTopic::default()
                            .with_error_code(UNKNOWN_TOPIC_ID)
                            .with_name(None)
                            .with_topic_id(t.topic_id),
                    );
                    continue;
                };
                let mut found = broker.topic_view(&name.0);
                if found.is_none() && auto_create && broker.auto_create_topic(&name.0).await {
                    found = broker.topic_view(&name.0);
                }
                out.push(match found {
                    Some(v) => to_wire(v),
                    None => {
                        let err = validate_topic_name(&name.0).err().unwrap_or_else(|| {
                            BrokerError::UnknownTopicOrPartition(name.0.to_string())
                        });
                        MetadataResponseTopic::default()
                            .with_error_code(err.code().code())
                            .with_name(Some(name))
                    }
                });
            }
            out
        }
    };
    let (brokers, controller_id) = broker.brokers_view();
    let mut resp = MetadataResponse::default();
    resp.brokers = brokers
        .into_iter()
        .map(|b| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(b.node_id))
                .with_host(str(b.host))
                .with_port(b.port)
        })
        .collect();
    resp.cluster_id = Some(str(CLUSTER_ID));
    resp.controller_id = BrokerId(controller_id);
    resp.topics = topics;
    ctx.respond(&resp)
}
