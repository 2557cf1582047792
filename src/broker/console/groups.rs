//! `/api/groups`: consumer groups with members, assignments and lag per
//! partition, and reset-offsets in the CLI's two steps (a dry run that
//! shows the plan, then execute). Groups are those this broker
//! coordinates (every group on a single node).
use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::Answer;
use crate::broker::group::{GroupError, GroupState, OffsetCommit};
use crate::broker::state::Broker;
use crate::proto::consumer_protocol::Assignment;

/// The high watermark of the replica held here.
fn end_offset(broker: &Broker, topic: &str, partition: i32) -> Option<i64> {
    let p = broker.topics.partition(topic, partition).ok()?;
    Some(p.offsets().1)
}

fn group_error(e: GroupError) -> Answer {
    Answer::bad(e.to_string())
}

/// (topic, partition, committed, end, lag) of one committed partition;
/// end and lag are None where this broker holds no replica.
type PartitionLag = (String, i32, i64, Option<i64>, Option<i64>);

fn lags(broker: &Broker, group: &str) -> Vec<PartitionLag> {
    let mut out: Vec<_> = broker
        .groups
        .committed_offsets()
        .into_iter()
        .filter(|(g, ..)| g == group)
        .map(|(_, topic, partition, offset)| {
            let end = end_offset(broker, &topic, partition);
            let lag = end.map(|e| (e - offset).max(0));
            (topic, partition, offset, end, lag)
        })
        .collect();
    out.sort();
    out
}

pub(crate) fn list(broker: &Broker) -> Answer {
    let groups: Vec<Value> = broker
        .groups
        .list_groups()
        .into_iter()
        .map(|g| {
            let members = broker
                .groups
                .describe_group(&g.group_id)
                .map(|d| d.members.len())
                .unwrap_or(0);
            let lag: i64 = lags(broker, &g.group_id).iter().filter_map(|l| l.4).sum();
            json!({
                "group_id": g.group_id,
                "state": g.state.to_string(),
                "protocol_type": g.protocol_type,
                "members": members,
                "lag": lag,
            })
        })
        .collect();
    Answer::ok(Value::Array(groups))
}

pub(crate) async fn describe(broker: &Broker, group: &str) -> Answer {
    let d = match broker.groups.describe_group(group) {
        Ok(d) => d,
        Err(e) => return group_error(e),
    };
    if d.state == GroupState::Dead && lags(broker, group).is_empty() {
        return Answer::error("404 Not Found", format!("no group {group}"));
    }
    let members: Vec<Value> = d
        .members
        .iter()
        .map(|m| {
            let assigned: Vec<Value> = Assignment::decode(&m.assignment)
                .map(|a| {
                    a.partitions
                        .into_iter()
                        .map(|tp| json!({ "topic": tp.topic, "partitions": tp.partitions }))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "member_id": m.member_id,
                "group_instance_id": m.group_instance_id,
                "client_id": m.client_id,
                "client_host": m.client_host,
                "assignment": assigned,
            })
        })
        .collect();
    let offsets: Vec<Value> = lags(broker, group)
        .into_iter()
        .map(|(topic, partition, committed, end, lag)| {
            json!({ "topic": topic, "partition": partition, "committed": committed, "log_end_offset": end, "lag": lag })
        })
        .collect();
    Answer::ok(json!({
        "group_id": d.group_id,
        "state": d.state.to_string(),
        "protocol_type": d.protocol_type,
        "protocol": d.protocol,
        "members": members,
        "offsets": offsets,
    }))
}

/// `{"topic", "to": "earliest"|"latest"|"offset", "offset"?, "execute"?}`:
/// the new offset of each partition of `topic`; only with `execute: true`
/// are they committed, and only into a group without members (as
/// `groups reset-offsets`).
pub(crate) async fn reset_offsets(broker: &Broker, group: &str, body: Value) -> Answer {
    let Some(topic) = body.get("topic").and_then(Value::as_str) else {
        return Answer::bad("topic (a string) is required");
    };
    let to = body.get("to").and_then(Value::as_str).unwrap_or("");
    let execute = body
        .get("execute")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let Some(view) = broker.topic_view(topic) else {
        return Answer::error("404 Not Found", format!("unknown topic {topic}"));
    };
    let current: BTreeMap<i32, i64> = lags(broker, group)
        .into_iter()
        .filter(|l| l.0 == topic)
        .map(|l| (l.1, l.2))
        .collect();
    let mut plan = Vec::new();
    for p in &view.partitions {
        let Ok(part) = broker.topics.partition(topic, p.partition) else {
            return Answer::error(
                "409 Conflict",
                format!("this broker holds no replica of {topic}-{}", p.partition),
            );
        };
        let (start, hw, _) = part.offsets();
        let target = match to {
            "earliest" => start,
            "latest" => hw,
            "offset" => match body.get("offset").and_then(Value::as_i64) {
                Some(o) => o.clamp(start, hw),
                None => return Answer::bad("to: offset needs offset (an integer)"),
            },
            other => {
                return Answer::bad(format!(
                    "to must be earliest, latest or offset, not {other:?}"
                ))
            }
        };
        plan.push((p.partition, current.get(&p.partition).copied(), target));
    }
    let planned: Vec<Value> = plan
        .iter()
        .map(|(p, cur, new)| json!({ "partition": p, "current": cur, "new": new }))
        .collect();
    if !execute {
        return Answer::ok(
            json!({ "group_id": group, "topic": topic, "executed": false, "plan": planned,
            "note": "dry run: nothing was changed; send execute: true to commit" }),
        );
    }
    let commits = plan
        .iter()
        .map(|&(partition, _, offset)| OffsetCommit {
            topic: topic.to_string(),
            partition,
            offset,
            leader_epoch: -1,
            metadata: None,
        })
        .collect();
    match broker.groups.commit_offsets(group, -1, "", commits).await {
        Ok(results) => {
            if let Some((t, p, Err(e))) = results.into_iter().find(|r| r.2.is_err()) {
                return Answer::error("409 Conflict", format!("{t}-{p}: {e}"));
            }
            Answer::ok(
                json!({ "group_id": group, "topic": topic, "executed": true, "plan": planned }),
            )
        }
        Err(GroupError::UnknownMemberId) | Err(GroupError::RebalanceInProgress) => Answer::error(
            "409 Conflict",
            format!("group {group} has active members: stop its consumers first"),
        ),
        Err(e) => Answer::error("409 Conflict", e.to_string()),
    }
}
