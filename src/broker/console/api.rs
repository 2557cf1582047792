//! `/api/cluster`: the brokers, the controller, and partitions whose ISR
//! is smaller than their replica set.
use serde_json::json;

use super::Answer;
use crate::broker::state::Broker;

pub(crate) fn cluster(broker: &Broker) -> Answer {
    let (brokers, controller) = broker.brokers_view();
    let mut under = Vec::new();
    let mut offline = Vec::new();
    let mut partitions = 0usize;
    for t in broker.topic_views() {
        for p in &t.partitions {
            partitions += 1;
            if p.isr.len() < p.replicas.len() {
                under.push(json!({ "topic": t.name, "partition": p.partition, "replicas": p.replicas, "isr": p.isr }));
            }
            if p.leader < 0 {
                offline.push(json!({ "topic": t.name, "partition": p.partition }));
            }
        }
    }
    let live: Vec<i32> = brokers.iter().map(|b| b.node_id).collect();
    let brokers: Vec<_> = brokers
        .iter()
        .map(|b| {
            json!({
                "id": b.node_id,
                "address": format!("{}:{}", b.host, b.port),
                "controller": b.node_id == controller,
                "health": "ok",
                "this": b.node_id == broker.config.node_id,
            })
        })
        .collect();
    Answer::ok(json!({
        "node_id": broker.config.node_id,
        "version": env!("CARGO_PKG_VERSION"),
        "clustered": broker.cluster.is_some(),
        "controller": controller,
        "brokers": brokers,
        "live_brokers": live,
        "partitions": partitions,
        "under_replicated": under,
        "offline": offline,
    }))
}
