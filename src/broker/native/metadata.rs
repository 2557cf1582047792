//! Metadata: this broker, and every topic's partitions and leaders.
use std::net::SocketAddr;
use std::sync::Arc;

use super::{frame, Reply};
use crate::broker::state::Broker;
use crate::broker::topics::Topic;
use crate::proto::messages::metadata::*;
use crate::proto::messages::Status;

pub async fn handle(
    broker: &Arc<Broker>,
    cid: i32,
    req: MetadataRequest,
    _peer: SocketAddr,
) -> Reply {
    if broker.cluster.is_some() {
        return clustered(broker, cid, req).await;
    }
    let topics = match req.topics {
        None => broker
            .topics
            .list()
            .iter()
            .map(|t| describe(broker, t))
            .collect(),
        Some(names) => names
            .iter()
            .map(|name| {
                let found = broker.topics.get(name).or_else(|| {
                    if req.allow_auto_create && broker.config.auto_create_topics {
                        auto_create(broker, name)
                    } else {
                        None
                    }
                });
                match found {
                    Some(t) => describe(broker, &t),
                    None => TopicMetadata {
                        status: match crate::broker::topic_config::validate_topic_name(name) {
                            Err(e) => e.status(),
                            Ok(()) => crate::broker::error::BrokerError::UnknownTopicOrPartition(
                                name.clone(),
                            )
                            .status(),
                        },
                        name: name.clone(),
                        internal: false,
                        partitions: vec![],
                    },
                }
            })
            .collect(),
    };
    Reply::Now(frame(
        cid,
        &MetadataResponse {
            status: Status::ok(),
            brokers: vec![BrokerInfo {
                node_id: broker.config.node_id,
                host: broker.advertised.0.clone(),
                port: broker.advertised.1,
            }],
            controller_id: broker.config.node_id,
            topics,
        },
    ))
}

fn auto_create(broker: &Broker, name: &str) -> Option<Arc<Topic>> {
    match broker
        .topics
        .create(name, -1, -1, Default::default(), false)
    {
        Ok(t) => Some(t),
        // Lost a race with another creator: use theirs.
        Err(_) => broker.topics.get(name),
    }
}

pub fn describe(broker: &Broker, t: &Topic) -> TopicMetadata {
    let node = broker.config.node_id;
    TopicMetadata {
        status: Status::ok(),
        name: t.name.to_string(),
        internal: t.internal,
        partitions: (0..t.partition_count())
            .map(|p| PartitionMetadata {
                status: Status::ok(),
                partition: p,
                leader: node,
                leader_epoch: crate::broker::partition::SINGLE_NODE_EPOCH,
                replicas: vec![node],
                isr: vec![node],
            })
            .collect(),
    }
}

/// Metadata from the committed cluster state: every live broker, real
/// leaders, replicas, ISRs and leader epochs.
async fn clustered(broker: &Arc<Broker>, cid: i32, req: MetadataRequest) -> Reply {
    broker.settle_metadata().await;
    use crate::broker::cluster_view::TopicView;
    fn to_wire(t: TopicView) -> TopicMetadata {
        TopicMetadata {
            status: Status::ok(),
            name: t.name,
            internal: t.internal,
            partitions: t
                .partitions
                .into_iter()
                .map(|p| PartitionMetadata {
                    status: Status::ok(),
                    partition: p.partition,
                    leader: p.leader,
                    leader_epoch: p.leader_epoch,
                    replicas: p.replicas,
                    isr: p.isr,
                })
                .collect(),
        }
    }
    let topics = match req.topics {
        None => broker.topic_views().into_iter().map(to_wire).collect(),
        Some(names) => {
            let mut out = Vec::with_capacity(names.len());
            for name in names {
                let mut found = broker.topic_view(&name);
                if found.is_none()
                    && req.allow_auto_create
                    && broker.config.auto_create_topics
                    && broker.auto_create_topic(&name).await
                {
                    found = broker.topic_view(&name);
                }
                out.push(match found {
                    Some(t) => to_wire(t),
                    None => TopicMetadata {
                        status: match crate::broker::topic_config::validate_topic_name(&name) {
                            Err(e) => e.status(),
                            Ok(()) => crate::broker::error::BrokerError::UnknownTopicOrPartition(
                                name.clone(),
                            )
                            .status(),
                        },
                        name,
                        internal: false,
                        partitions: vec![],
                    },
                });
            }
            out
        }
    };
    let (brokers, controller_id) = broker.brokers_view();
    Reply::Now(frame(
        cid,
        &MetadataResponse {
            status: Status::ok(),
            brokers: brokers
                .into_iter()
                .map(|b| BrokerInfo {
                    node_id: b.node_id,
                    host: b.host,
                    port: b.port,
                })
                .collect(),
            controller_id,
            topics,
        },
    ))
}
