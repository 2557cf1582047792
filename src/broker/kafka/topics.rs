//! Topic administration: CreateTopics, DeleteTopics, CreatePartitions.
use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::*;

use super::configs::source;
use super::request::{msg, str, Ctx};
use super::Reply;
use crate::broker::error::BrokerError;
use crate::broker::state::Broker;
use crate::broker::topic_config::TopicConfig;

const INVALID_REPLICA_ASSIGNMENT: i16 = 39;
pub const INVALID_REQUEST: i16 = 42;
const UNKNOWN_TOPIC_ID: i16 = 100;

pub async fn create(broker: &Arc<Broker>, ctx: &Ctx, req: CreateTopicsRequest) -> Reply {
    let mut resp = CreateTopicsResponse::default();
    for t in req.topics {
        let mut r = CreatableTopicResult::default().with_name(t.name.clone());
        r.error_message = None;
        match create_one(broker, &t, req.validate_only).await {
            Ok((partitions, rf, config)) => {
                r.num_partitions = partitions;
                r.replication_factor = rf;
                r.configs = Some(
                    config
                        .entries()
                        .into_iter()
                        .map(|(key, value, is_default)| {
                            CreatableTopicConfigs::default()
                                .with_name(str(key))
                                .with_value(Some(str(value)))
                                .with_config_source(source(is_default))
                        })
                        .collect(),
                );
            }
            Err((code, message)) => {
                tracing::debug!(topic = %t.name.0, code, %message, "create topic refused");
                r.error_code = code;
                r.error_message = Some(str(message));
            }
        }
        resp.topics.push(r);
    }
    ctx.respond(&resp)
}

/// Creates (or with `validate_only` checks) one topic: (partitions,
/// replication factor, resulting config) or (error code, message).
async fn create_one(
    broker: &Broker,
    t: &CreatableTopic,
    validate_only: bool,
) -> Result<(i32, i16, TopicConfig), (i16, String)> {
    let name = t.name.0.as_str();
    let mut configs = BTreeMap::new();
    for c in &t.configs {
        // A null value asks for the default, which is what leaving it out does.
        let Some(value) = &c.value else { continue };
        if configs
            .insert(c.name.to_string(), value.to_string())
            .is_some()
        {
            return Err(broker_err(BrokerError::InvalidConfig(format!(
                "'{}' given twice",
                c.name
            ))));
        }
    }
    let (mut partitions, mut rf) = (t.num_partitions, t.replication_factor);
    if !t.assignments.is_empty() {
        if partitions != -1 || rf != -1 {
            return Err((
                INVALID_REQUEST,
                "give either a replica assignment or partitions and replication factor".into(),
            ));
        }
        let node = broker.config.node_id;
        let mut indexes: Vec<i32> = t.assignments.iter().map(|a| a.partition_index).collect();
        indexes.sort_unstable();
        let dense = indexes.iter().enumerate().all(|(i, &p)| p == i as i32);
        let local = t
            .assignments
            .iter()
            .all(|a| a.broker_ids.len() == 1 && a.broker_ids[0].0 == node);
        if !dense || !local {
            return Err((
                INVALID_REPLICA_ASSIGNMENT,
                format!("this is a single node: every partition 0..n must be assigned to broker {node} alone"),
            ));
        }
        partitions = i32::try_from(indexes.len()).unwrap_or(i32::MAX);
        rf = 1;
    }
    broker
        .create_topic(name, partitions, rf, configs, validate_only)
        .await
        .map_err(broker_err)
}

fn broker_err(e: BrokerError) -> (i16, String) {
    (e.code().code(), e.to_string())
}

pub async fn delete(broker: &Arc<Broker>, ctx: &Ctx, req: DeleteTopicsRequest) -> Reply {
    let mut resp = DeleteTopicsResponse::default();
    // v0-5 name topics in `topic_names`, v6 in `topics` (by name or id).
    let named = req
        .topic_names
        .into_iter()
        .map(|n| (Some(n), Default::default()));
    let v6 = req.topics.into_iter().map(|t| (t.name, t.topic_id));
    for (name, id) in named.chain(v6) {
        let mut r = DeletableTopicResult::default().with_topic_id(id);
        match &name {
            Some(n) => {
                if let Err(e) = broker.remove_topic(&n.0).await {
                    tracing::debug!(topic = %n.0, error = %e, "delete topic refused");
                    r.error_code = e.code().code();
                    if ctx.version >= 5 {
                        r.error_message = msg(&e);
                    }
                }
            }
            None => r.error_code = UNKNOWN_TOPIC_ID,
        }
        r.name = name;
        resp.responses.push(r);
    }
    ctx.respond(&resp)
}

/// CreatePartitions: grows each topic to `count` partitions (never
/// shrinks), through the metadata quorum in a cluster. Kafka refuses an
/// unchanged count too.
pub async fn create_partitions(
    broker: &Arc<Broker>,
    ctx: &Ctx,
    req: CreatePartitionsRequest,
) -> Reply {
    let mut resp = CreatePartitionsResponse::default();
    for t in req.topics {
        let mut r = create_partitions_response::CreatePartitionsTopicResult::default()
            .with_name(t.name.clone());
        r.error_message = None;
        if let Err((code, message)) = grow_one(
            broker,
            &t.name.0,
            t.count,
            t.assignments.as_deref(),
            req.validate_only,
        )
        .await
        {
            tracing::debug!(topic = %t.name.0, code, %message, "create partitions refused");
            r.error_code = code;
            r.error_message = Some(str(message));
        }
        resp.results.push(r);
    }
    ctx.respond(&resp)
}

async fn grow_one(
    broker: &Broker,
    name: &str,
    count: i32,
    assignments: Option<&[create_partitions_request::CreatePartitionsAssignment]>,
    validate_only: bool,
) -> Result<(), (i16, String)> {
    let view = broker
        .topic_view(name)
        .ok_or_else(|| broker_err(BrokerError::UnknownTopicOrPartition(name.to_string())))?;
    let current = view.partitions.len() as i32;
    if count <= current {
        let why = if count == current {
            format!("topic '{name}' already has {current} partitions")
        } else {
            format!("topic '{name}' has {current} partitions, more than the requested {count}; the count can only grow")
        };
        return Err(broker_err(BrokerError::InvalidPartitionChange(why)));
    }
    if let Some(assignments) = assignments.filter(|a| !a.is_empty()) {
        let node = broker.config.node_id;
        let local = broker.cluster.is_none()
            && assignments
                .iter()
                .all(|a| a.broker_ids.len() == 1 && a.broker_ids[0].0 == node);
        if assignments.len() as i32 != count - current || !local {
            return Err((
                INVALID_REPLICA_ASSIGNMENT,
                if broker.cluster.is_some() {
                    "manual replica assignment is not supported; leave it out and the controller places the new partitions".into()
                } else {
                    format!("this is a single node: give one assignment per new partition, each broker {node} alone")
                },
            ));
        }
    }
    broker
        .alter_topic(name, count, BTreeMap::new(), Vec::new(), validate_only)
        .await
        .map_err(broker_err)
}
