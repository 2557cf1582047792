//! Topic administration: create, delete, describe configs, alter.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use super::dispatch::ConnectionKind;
use super::{frame, Reply};
use crate::broker::error::BrokerError;
use crate::broker::state::Broker;
use crate::proto::messages::topics::*;
use crate::proto::messages::Status;

fn config_map(entries: Vec<ConfigEntry>) -> Result<BTreeMap<String, String>, BrokerError> {
    let mut map = BTreeMap::new();
    for e in entries {
        if map.insert(e.key.clone(), e.value).is_some() {
            return Err(BrokerError::InvalidConfig(format!(
                "'{}' given twice",
                e.key
            )));
        }
    }
    Ok(map)
}

fn status_of(r: Result<(), BrokerError>) -> Status {
    match r {
        Ok(()) => Status::ok(),
        Err(e) => e.status(),
    }
}

pub async fn create_topics(
    broker: &Arc<Broker>,
    cid: i32,
    req: CreateTopicsRequest,
    _peer: SocketAddr,
    kind: ConnectionKind,
) -> Reply {
    let mut topics = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        let result = match config_map(t.configs) {
            Ok(configs)
                if kind.internal_writer
                    && crate::proto::internal_topic::internal_writer_may_write(&t.name) =>
            {
                broker
                    .create_internal_topic(&t.name, t.partitions, configs, req.validate_only)
                    .await
            }
            Ok(configs) => broker
                .create_topic(
                    &t.name,
                    t.partitions,
                    t.replication_factor,
                    configs,
                    req.validate_only,
                )
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        topics.push(TopicStatus {
            name: t.name,
            status: status_of(result),
        });
    }
    Reply::Now(frame(
        cid,
        &CreateTopicsResponse {
            status: Status::ok(),
            topics,
        },
    ))
}

pub async fn delete_topics(
    broker: &Arc<Broker>,
    cid: i32,
    req: DeleteTopicsRequest,
    _peer: SocketAddr,
) -> Reply {
    let mut topics = Vec::with_capacity(req.names.len());
    for name in req.names {
        let status = status_of(broker.remove_topic(&name).await);
        topics.push(TopicStatus { name, status });
    }
    Reply::Now(frame(
        cid,
        &DeleteTopicsResponse {
            status: Status::ok(),
            topics,
        },
    ))
}

pub async fn describe_configs(
    broker: &Arc<Broker>,
    cid: i32,
    req: DescribeConfigsRequest,
    _peer: SocketAddr,
) -> Reply {
    let topics = req
        .names
        .into_iter()
        .map(|name| match broker.topic_config(&name) {
            Some(config) => TopicConfigs {
                name,
                status: Status::ok(),
                configs: config
                    .entries()
                    .into_iter()
                    .map(|(key, value, is_default)| ConfigValue {
                        key,
                        value,
                        is_default,
                    })
                    .collect(),
            },
            None => TopicConfigs {
                status: BrokerError::UnknownTopicOrPartition(name.clone()).status(),
                name,
                configs: vec![],
            },
        })
        .collect();
    Reply::Now(frame(
        cid,
        &DescribeConfigsResponse {
            status: Status::ok(),
            topics,
        },
    ))
}

pub async fn alter_topic(
    broker: &Arc<Broker>,
    cid: i32,
    req: AlterTopicRequest,
    _peer: SocketAddr,
) -> Reply {
    let result = match config_map(req.set_configs) {
        Ok(set) => {
            broker
                .alter_topic(
                    &req.name,
                    req.partitions,
                    set,
                    req.delete_configs,
                    req.validate_only,
                )
                .await
        }
        Err(e) => Err(e),
    };
    Reply::Now(frame(
        cid,
        &AlterTopicResponse {
            status: status_of(result),
        },
    ))
}
