//! Live rates for the console: bytes and records in and out per topic and
//! for this broker, from the same per-partition counters `/metrics`
//! reports, pushed once a second as server-sent events (`/api/events`).
//! `/api/rates` answers the totals once.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::broker::metrics::counters::PartitionCounters;
use crate::broker::state::Broker;

const TICK: Duration = Duration::from_secs(1);
/// An event stream ends after this; the browser's EventSource reconnects.
const MAX_STREAM: Duration = Duration::from_secs(600);

/// [bytes in, records in, bytes out, records out].
type Totals = [u64; 4];

fn totals(broker: &Broker) -> BTreeMap<String, Totals> {
    let mut out = BTreeMap::new();
    for t in broker.topics.list() {
        let sum = out.entry(t.name.to_string()).or_insert([0u64; 4]);
        for p in t.partitions() {
            let c = &p.counters;
            sum[0] += PartitionCounters::get(&c.bytes_in);
            sum[1] += PartitionCounters::get(&c.records_in);
            sum[2] += PartitionCounters::get(&c.bytes_out);
            sum[3] += PartitionCounters::get(&c.records_out);
        }
    }
    out
}

fn as_json(t: &Totals) -> Value {
    json!({ "bytes_in": t[0], "records_in": t[1], "bytes_out": t[2], "records_out": t[3] })
}

/// The counters' totals per topic and for the broker.
pub(crate) fn snapshot(broker: &Broker) -> Value {
    let per_topic = totals(broker);
    let mut all = [0u64; 4];
    for t in per_topic.values() {
        for i in 0..4 {
            all[i] += t[i];
        }
    }
    json!({
        "node_id": broker.config.node_id,
        "broker": as_json(&all),
        "topics": per_topic.iter().map(|(k, v)| (k.clone(), as_json(v))).collect::<serde_json::Map<_, _>>(),
    })
}

/// Per-second rates between two readings.
fn rates(prev: &BTreeMap<String, Totals>, now: &BTreeMap<String, Totals>, secs: f64) -> Value {
    let mut all = [0f64; 4];
    let mut topics = serde_json::Map::new();
    for (name, t) in now {
        let p = prev.get(name).copied().unwrap_or(*t);
        let r: Vec<f64> = (0..4)
            .map(|i| t[i].saturating_sub(p[i]) as f64 / secs)
            .collect();
        for i in 0..4 {
            all[i] += r[i];
        }
        topics.insert(
            name.clone(),
            json!({ "bytes_in": r[0], "records_in": r[1], "bytes_out": r[2], "records_out": r[3] }),
        );
    }
    json!({
        "broker": { "bytes_in": all[0], "records_in": all[1], "bytes_out": all[2], "records_out": all[3] },
        "topics": topics,
    })
}

/// One event per tick until the client goes away (or [`MAX_STREAM`]).
pub(crate) async fn stream(mut socket: TcpStream, broker: Arc<Broker>) -> std::io::Result<()> {
    socket
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\
              Connection: close\r\n\r\nretry: 2000\n\n",
        )
        .await?;
    let started = Instant::now();
    let mut prev = totals(&broker);
    let mut at = Instant::now();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    while started.elapsed() < MAX_STREAM {
        tick.tick().await;
        let now = totals(&broker);
        let secs = at.elapsed().as_secs_f64().max(0.001);
        let mut event = rates(&prev, &now, secs);
        event["time_ms"] = json!(crate::broker::server::now_ms());
        event["node_id"] = json!(broker.config.node_id);
        prev = now;
        at = Instant::now();
        let line = format!("event: rates\ndata: {event}\n\n");
        socket.write_all(line.as_bytes()).await?;
    }
    socket.shutdown().await
}
