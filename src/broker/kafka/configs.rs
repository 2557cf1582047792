//! Topic configs over Kafka's APIs: DescribeConfigs, AlterConfigs (the
//! whole override set replaced) and IncrementalAlterConfigs (per-key SET,
//! DELETE, APPEND, SUBTRACT). Broker resources ("" for the cluster
//! default, a node id for one broker) hold the dynamic broker configs
//! (`broker_config`): the broker-wide defaults of topic configs, under
//! Kafka's broker names. Broker loggers are described empty.
use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use super::request::{msg, str, Ctx};
use super::Reply;
use crate::broker::broker_config::{self, ConfigScope, Source};
use crate::broker::dynamic_configs::DescribedBrokerConfig;
use crate::broker::error::BrokerError;
use crate::broker::state::Broker;
use crate::broker::topic_config::{plan_changes, ConfigOp};

const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;
const RESOURCE_BROKER_LOGGER: i8 = 8;
/// ConfigSource values of DescribeConfigs v1+.
pub const SOURCE_TOPIC: i8 = 1;
const SOURCE_DYNAMIC_BROKER: i8 = 2;
const SOURCE_DYNAMIC_DEFAULT_BROKER: i8 = 3;
const SOURCE_STATIC_BROKER: i8 = 4;
pub const SOURCE_DEFAULT: i8 = 5;
/// IncrementalAlterConfigs operations.
const OP_SET: i8 = 0;
const OP_DELETE: i8 = 1;
const OP_APPEND: i8 = 2;
const OP_SUBTRACT: i8 = 3;

pub fn source(is_default: bool) -> i8 {
    if is_default {
        SOURCE_DEFAULT
    } else {
        SOURCE_TOPIC
    }
}

fn err(e: &BrokerError) -> (i16, Option<StrBytes>) {
    (e.code().code(), msg(e))
}

pub async fn describe(broker: &Arc<Broker>, ctx: &Ctx, req: DescribeConfigsRequest) -> Reply {
    let mut resp = DescribeConfigsResponse::default();
    for res in req.resources {
        let mut r = DescribeConfigsResult::default()
            .with_resource_type(res.resource_type)
            .with_resource_name(res.resource_name.clone());
        r.error_message = None;
        match res.resource_type {
            RESOURCE_TOPIC => match broker.topic_config(&res.resource_name) {
                Some(config) => {
                    let wanted = res.configuration_keys.as_ref();
                    r.configs = config
                        .described()
                        .into_iter()
                        .filter(|e| wanted.is_none_or(|w| w.iter().any(|k| k.as_str() == e.key)))
                        .map(|e| {
                            let src = if e.inherited {
                                SOURCE_DYNAMIC_DEFAULT_BROKER
                            } else {
                                source(e.is_default)
                            };
                            let mut c = DescribeConfigsResourceResult::default()
                                .with_name(str(e.key.clone()))
                                .with_value(Some(str(e.value.clone())))
                                .with_config_source(src);
                            if ctx.version >= 3 {
                                c.config_type = e.spec.kind as i8;
                                c.documentation = None;
                            }
                            if req.include_synonyms {
                                c.synonyms = vec![DescribeConfigsSynonym::default()
                                    .with_name(str(e.key))
                                    .with_value(Some(str(e.value)))
                                    .with_source(src)];
                            }
                            c
                        })
                        .collect();
                }
                None => {
                    (r.error_code, r.error_message) = err(&BrokerError::UnknownTopicOrPartition(
                        res.resource_name.to_string(),
                    ));
                }
            },
            RESOURCE_BROKER => {
                let described = ConfigScope::parse(&res.resource_name)
                    .and_then(|scope| broker.describe_broker_configs(scope));
                match described {
                    Ok(entries) => {
                        let wanted = res.configuration_keys.as_ref();
                        r.configs = entries
                            .into_iter()
                            .filter(|e| {
                                wanted.is_none_or(|w| w.iter().any(|k| k.as_str() == e.name))
                            })
                            .map(|e| describe_broker_entry(ctx, &e, req.include_synonyms))
                            .collect();
                    }
                    Err(e) => (r.error_code, r.error_message) = err(&e),
                }
            }
            // Loggers are not configurable; an empty list lets admin tools
            // that look carry on.
            RESOURCE_BROKER_LOGGER => {}
            other => {
                r.error_code = super::topics::INVALID_REQUEST;
                r.error_message = Some(str(format!("resource type {other} is not supported")));
            }
        }
        resp.results.push(r);
    }
    ctx.respond(&resp)
}

fn describe_broker_entry(
    ctx: &Ctx,
    e: &DescribedBrokerConfig,
    synonyms: bool,
) -> DescribeConfigsResourceResult {
    let src = match e.source {
        Source::Broker => SOURCE_DYNAMIC_BROKER,
        Source::ClusterDefault => SOURCE_DYNAMIC_DEFAULT_BROKER,
        Source::Static => SOURCE_STATIC_BROKER,
        Source::Default => SOURCE_DEFAULT,
    };
    let mut c = DescribeConfigsResourceResult::default()
        .with_name(str(e.name.to_string()))
        .with_value(Some(str(e.value.clone())))
        .with_config_source(src)
        .with_read_only(false);
    if ctx.version >= 3 {
        c.config_type = broker_config::find(e.name)
            .and_then(|k| crate::broker::topic_config_keys::find(k.topic_key))
            .map_or(0, |spec| spec.kind as i8);
        c.documentation = None;
    }
    if synonyms {
        c.synonyms = vec![DescribeConfigsSynonym::default()
            .with_name(str(e.name.to_string()))
            .with_value(Some(str(e.value.clone())))
            .with_source(src)];
    }
    c
}

/// A broker resource's changes: SET and DELETE (a list key's APPEND and
/// SUBTRACT are for topics only).
async fn alter_broker(
    broker: &Broker,
    name: &str,
    ops: Result<Vec<ConfigOp>, BrokerError>,
    replace: bool,
    validate_only: bool,
) -> Result<(), BrokerError> {
    let scope = ConfigScope::parse(name)?;
    let mut set = BTreeMap::new();
    let mut delete = Vec::new();
    for op in ops? {
        match op {
            ConfigOp::Set(k, v) => {
                set.insert(k, v);
            }
            ConfigOp::Delete(k) => delete.push(k),
            ConfigOp::Append(k, _) | ConfigOp::Subtract(k, _) => {
                return Err(BrokerError::InvalidRequest(format!(
                    "'{k}': APPEND and SUBTRACT are not supported for broker configs; use SET"
                )))
            }
        }
    }
    broker
        .alter_broker_configs(scope, set, delete, replace, validate_only)
        .await
}

/// Applies one resource's changes (`replace`: AlterConfigs semantics).
async fn alter_resource(
    broker: &Broker,
    resource_type: i8,
    name: &str,
    ops: Result<Vec<ConfigOp>, BrokerError>,
    replace: bool,
    validate_only: bool,
) -> Result<(), BrokerError> {
    match resource_type {
        RESOURCE_TOPIC => {}
        RESOURCE_BROKER => return alter_broker(broker, name, ops, replace, validate_only).await,
        RESOURCE_BROKER_LOGGER => {
            return Err(BrokerError::InvalidRequest(
                "broker loggers cannot be changed at run time: use RUST_LOG".into(),
            ))
        }
        other => {
            return Err(BrokerError::InvalidRequest(format!(
                "resource type {other} is not supported"
            )))
        }
    }
    let ops = ops?;
    let current = broker
        .topic_config(name)
        .ok_or_else(|| BrokerError::UnknownTopicOrPartition(name.to_string()))?;
    let (set, mut delete) = plan_changes(&current, &ops)?;
    if replace {
        // AlterConfigs: whatever the request does not name goes back to
        // its default.
        delete.extend(
            current
                .overrides
                .keys()
                .filter(|k| !set.contains_key(*k))
                .cloned(),
        );
    }
    broker
        .alter_topic(name, -1, set, delete, validate_only)
        .await
}

pub async fn alter(broker: &Arc<Broker>, ctx: &Ctx, req: AlterConfigsRequest) -> Reply {
    let mut resp = AlterConfigsResponse::default();
    for res in req.resources {
        // A null value in the legacy API means "unset".
        let ops = Ok(res
            .configs
            .iter()
            .filter_map(|c| {
                c.value
                    .as_ref()
                    .map(|v| ConfigOp::Set(c.name.to_string(), v.to_string()))
            })
            .collect());
        let result = alter_resource(
            broker,
            res.resource_type,
            &res.resource_name,
            ops,
            true,
            req.validate_only,
        )
        .await;
        let mut r = alter_configs_response::AlterConfigsResourceResponse::default()
            .with_resource_type(res.resource_type)
            .with_resource_name(res.resource_name);
        r.error_message = None;
        if let Err(e) = result {
            tracing::debug!(error = %e, "alter configs refused");
            (r.error_code, r.error_message) = err(&e);
        }
        resp.responses.push(r);
    }
    ctx.respond(&resp)
}

fn incremental_ops(
    configs: &[incremental_alter_configs_request::AlterableConfig],
) -> Result<Vec<ConfigOp>, BrokerError> {
    configs
        .iter()
        .map(|c| {
            let key = c.name.to_string();
            let value = || {
                c.value.as_ref().map(|v| v.to_string()).ok_or_else(|| {
                    BrokerError::InvalidRequest(format!("'{key}': a null value needs DELETE"))
                })
            };
            Ok(match c.config_operation {
                OP_SET => ConfigOp::Set(key.clone(), value()?),
                OP_DELETE => ConfigOp::Delete(key),
                OP_APPEND => ConfigOp::Append(key.clone(), value()?),
                OP_SUBTRACT => ConfigOp::Subtract(key.clone(), value()?),
                other => {
                    return Err(BrokerError::InvalidRequest(format!(
                        "'{key}': unknown config operation {other}"
                    )))
                }
            })
        })
        .collect()
}

pub async fn incremental_alter(
    broker: &Arc<Broker>,
    ctx: &Ctx,
    req: IncrementalAlterConfigsRequest,
) -> Reply {
    let mut resp = IncrementalAlterConfigsResponse::default();
    for res in req.resources {
        let ops = incremental_ops(&res.configs);
        let result = alter_resource(
            broker,
            res.resource_type,
            &res.resource_name,
            ops,
            false,
            req.validate_only,
        )
        .await;
        let mut r = incremental_alter_configs_response::AlterConfigsResourceResponse::default()
            .with_resource_type(res.resource_type)
            .with_resource_name(res.resource_name);
        r.error_message = None;
        if let Err(e) = result {
            tracing::debug!(error = %e, "incremental alter configs refused");
            (r.error_code, r.error_message) = err(&e);
        }
        resp.responses.push(r);
    }
    ctx.respond(&resp)
}
