//! DescribeBrokerConfigs (native API 32) and AlterBrokerConfigs (33), onto
//! [`Broker::describe_broker_configs`] and [`Broker::alter_broker_configs`]
//! as the Kafka handler's BROKER resources.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use super::{frame, Reply};
use crate::broker::broker_config::{ConfigScope, Source};
use crate::broker::state::Broker;
use crate::proto::messages::broker_configs::*;
use crate::proto::messages::Status;

fn scope(broker_id: i32) -> ConfigScope {
    if broker_id == CLUSTER_DEFAULT {
        ConfigScope::ClusterDefault
    } else {
        ConfigScope::Broker(broker_id)
    }
}

fn source_code(source: Source) -> i8 {
    match source {
        Source::Broker => SOURCE_BROKER,
        Source::ClusterDefault => SOURCE_CLUSTER_DEFAULT,
        Source::Static => SOURCE_STATIC,
        Source::Default => SOURCE_DEFAULT,
    }
}

pub async fn describe(
    broker: &Arc<Broker>,
    cid: i32,
    req: DescribeBrokerConfigsRequest,
    _peer: SocketAddr,
) -> Reply {
    let resp = match broker.describe_broker_configs(scope(req.broker_id)) {
        Ok(entries) => DescribeBrokerConfigsResponse {
            status: Status::ok(),
            configs: entries
                .into_iter()
                .map(|e| BrokerConfigValue {
                    name: e.name.to_string(),
                    value: e.value,
                    source: source_code(e.source),
                })
                .collect(),
        },
        Err(e) => DescribeBrokerConfigsResponse {
            status: e.status(),
            configs: Vec::new(),
        },
    };
    Reply::Now(frame(cid, &resp))
}

pub async fn alter(
    broker: &Arc<Broker>,
    cid: i32,
    req: AlterBrokerConfigsRequest,
    _peer: SocketAddr,
) -> Reply {
    let broker = broker.clone();
    Reply::Later(Box::pin(async move {
        let set: BTreeMap<String, String> = req
            .set_configs
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect();
        let status = match broker
            .alter_broker_configs(
                scope(req.broker_id),
                set,
                req.delete_configs,
                false,
                req.validate_only,
            )
            .await
        {
            Ok(()) => Status::ok(),
            Err(e) => e.status(),
        };
        Reply::Now(frame(cid, &AlterBrokerConfigsResponse { status }))
    }))
}
