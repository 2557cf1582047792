//! `/api/topics`: list, describe (partitions with leader, replicas, ISR,
//! log start and end and size where this broker holds a replica, and every
//! config), create, delete and edit configs, through the same broker calls
//! as both protocols' admin requests.
use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::Answer;
use crate::broker::error::BrokerError;
use crate::broker::http::Head;
use crate::broker::state::Broker;
use crate::proto::ErrorCode;

/// A broker refusal as an HTTP answer, with its message.
pub(crate) fn refused(e: BrokerError) -> Answer {
    let status = match e.code() {
        ErrorCode::UnknownTopicOrPartition => "404 Not Found",
        ErrorCode::TopicAlreadyExists => "409 Conflict",
        ErrorCode::UnknownServerError | ErrorCode::KafkaStorageError => "500 Internal Server Error",
        ErrorCode::NotLeaderOrFollower
        | ErrorCode::RequestTimedOut
        | ErrorCode::LeaderNotAvailable => "503 Service Unavailable",
        _ => "400 Bad Request",
    };
    Answer::error(status, e.to_string())
}

/// (log start, high watermark, log end, size) of the replica held here.
fn local_offsets(broker: &Broker, topic: &str, partition: i32) -> Option<(i64, i64, i64, u64)> {
    let p = broker.topics.partition(topic, partition).ok()?;
    let (start, hw, end) = p.offsets();
    let size = p.log().size_bytes();
    Some((start, hw, end, size))
}

pub(crate) fn list(broker: &Broker) -> Answer {
    let mut out = Vec::new();
    for t in broker.topic_views() {
        let (mut size, mut records, mut under) = (0u64, 0i64, 0usize);
        for p in &t.partitions {
            if let Some((start, hw, _, s)) = local_offsets(broker, &t.name, p.partition) {
                size += s;
                records += (hw - start).max(0);
            }
            if p.isr.len() < p.replicas.len() {
                under += 1;
            }
        }
        out.push(json!({
            "name": t.name,
            "internal": t.internal,
            "partitions": t.partitions.len(),
            "replication_factor": t.partitions.first().map_or(0, |p| p.replicas.len()),
            "under_replicated": under,
            "size_bytes": size,
            "records": records,
        }));
    }
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Answer::ok(Value::Array(out))
}

pub(crate) fn describe(broker: &Broker, name: &str) -> Answer {
    let Some(t) = broker.topic_view(name) else {
        return refused(BrokerError::UnknownTopicOrPartition(name.to_string()));
    };
    let partitions: Vec<Value> = t
        .partitions
        .iter()
        .map(|p| {
            let local = local_offsets(broker, name, p.partition);
            json!({
                "partition": p.partition,
                "leader": p.leader,
                "leader_epoch": p.leader_epoch,
                "replicas": p.replicas,
                "isr": p.isr,
                "log_start_offset": local.map(|l| l.0),
                "high_watermark": local.map(|l| l.1),
                "log_end_offset": local.map(|l| l.2),
                "size_bytes": local.map(|l| l.3),
            })
        })
        .collect();
    let configs: Vec<Value> = broker
        .topic_config(name)
        .map(|c| {
            c.entries()
                .into_iter()
                .map(|(key, value, is_default)| json!({ "key": key, "value": value, "default": is_default }))
                .collect()
        })
        .unwrap_or_default();
    Answer::ok(json!({
        "name": t.name,
        "internal": t.internal,
        "partitions": partitions,
        "configs": configs,
    }))
}

fn string_map(v: &Value, field: &str) -> Result<BTreeMap<String, String>, Answer> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                Value::Bool(b) => Ok((k.clone(), b.to_string())),
                _ => Err(Answer::bad(format!(
                    "{field}.{k} must be a string or number"
                ))),
            })
            .collect(),
        Some(_) => Err(Answer::bad(format!(
            "{field} must be an object of KEY: VALUE"
        ))),
    }
}

/// `{"name", "partitions"?, "replication_factor"?, "configs"?: {K: V}}`.
pub(crate) async fn create(broker: &Broker, body: Value) -> Answer {
    let Some(name) = body.get("name").and_then(Value::as_str) else {
        return Answer::bad("name (a string) is required");
    };
    let int = |field: &str| -> Result<i64, Answer> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(-1),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| Answer::bad(format!("{field} must be an integer"))),
        }
    };
    let partitions = match int("partitions").map(i32::try_from) {
        Ok(Ok(n)) => n,
        Ok(Err(_)) => return Answer::bad("partitions is out of range"),
        Err(a) => return a,
    };
    let rf = match int("replication_factor").map(i16::try_from) {
        Ok(Ok(n)) => n,
        Ok(Err(_)) => return Answer::bad("replication_factor is out of range"),
        Err(a) => return a,
    };
    let configs = match string_map(&body, "configs") {
        Ok(c) => c,
        Err(a) => return a,
    };
    match broker
        .create_topic(name, partitions, rf, configs, false)
        .await
    {
        Ok((partitions, rf, _)) => Answer {
            status: "201 Created",
            body: json!({ "name": name, "partitions": partitions, "replication_factor": rf }),
        },
        Err(e) => refused(e),
    }
}

/// Deleting needs `?confirm=NAME`, so a stray request cannot drop a topic.
pub(crate) async fn delete(broker: &Broker, name: &str, head: &Head) -> Answer {
    if head.query("confirm") != Some(name) {
        return Answer::bad(format!(
            "deleting needs confirm={name} in the query (the topic's name again)"
        ));
    }
    match broker.remove_topic(name).await {
        Ok(()) => Answer::ok(json!({ "deleted": name })),
        Err(e) => refused(e),
    }
}

/// `{"set": {K: V}, "delete": [K]}`.
pub(crate) async fn alter_configs(broker: &Broker, name: &str, body: Value) -> Answer {
    let set = match string_map(&body, "set") {
        Ok(s) => s,
        Err(a) => return a,
    };
    let delete: Vec<String> = match body.get("delete") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => match a.iter().map(|k| k.as_str().map(str::to_string)).collect() {
            Some(v) => v,
            None => return Answer::bad("delete must be an array of config names"),
        },
        Some(_) => return Answer::bad("delete must be an array of config names"),
    };
    if set.is_empty() && delete.is_empty() {
        return Answer::bad("nothing to change: give set and/or delete");
    }
    match broker.alter_topic(name, -1, set, delete, false).await {
        Ok(()) => describe(broker, name),
        Err(e) => refused(e),
    }
}
