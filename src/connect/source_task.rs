//! One source connector's task: poll the [`Source`], produce what it read
//! (acks=all, idempotent), wait for every acknowledgement, then store the
//! last offset of each source partition. At least once: after a crash the
//! source resumes at the last stored offsets.
use std::collections::HashMap;

use super::config::ConnectorConfig;
use super::offsets::OffsetStore;
use super::registry::SourceFactory;
use super::sink_task::{ToleranceExceeded, HEADER_CONNECTOR};
use super::transform::source_envelope;
use super::{SourceRecord, Tolerance};
use crate::client::blocking::{BlockingClient, StopSignal};
use crate::client::dead_letter::add_headers;
use crate::client::{Acks, Producer, ProducerConfig, ProducerRecord};
use crate::record::Header;
use bytes::Bytes;

/// A record about to be produced.
struct Outgoing {
    topic: String,
    partition: Option<i32>,
    key: Option<Bytes>,
    value: Option<Bytes>,
    headers: Vec<Header>,
    timestamp: Option<i64>,
}

pub fn run(
    client: &BlockingClient,
    cfg: &ConnectorConfig,
    factory: &SourceFactory,
    offsets: &OffsetStore,
    stop: &StopSignal,
) -> anyhow::Result<()> {
    let rt = client.runtime().clone();
    let mut source = factory()?;
    let stored = offsets.read(client, &cfg.name)?;
    source.start(&stored)?;
    tracing::info!(connector = %cfg.name, resume_at = ?stored, "source started");
    let producer = {
        let _guard = rt.handle().enter();
        Producer::new(
            client.client().clone(),
            ProducerConfig {
                acks: Acks::All,
                idempotence: true,
                ..ProducerConfig::default()
            },
        )
    };
    let topic = &cfg.topics[0];
    let result = (|| -> anyhow::Result<()> {
        while !stop.is_set() {
            let records = source.poll()?;
            if records.is_empty() {
                let wait = source.poll_interval();
                rt.block_on(async {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.wait() => {}
                    }
                });
                continue;
            }
            let mut last: HashMap<String, serde_json::Value> = HashMap::new();
            let outgoing = prepare(cfg, topic, &records)?;
            rt.block_on(async {
                let mut pending = Vec::with_capacity(outgoing.len());
                for o in &outgoing {
                    let headers: Vec<(&str, Option<&[u8]>)> = o
                        .headers
                        .iter()
                        .map(|h| (h.key.as_str(), h.value.as_deref()))
                        .collect();
                    let rec = ProducerRecord {
                        topic: &o.topic,
                        partition: o.partition,
                        key: o.key.as_deref(),
                        value: o.value.as_deref(),
                        headers: &headers,
                        timestamp: o.timestamp,
                    };
                    pending.push(producer.send(&rec).await?);
                }
                producer.flush().await;
                for p in pending {
                    p.wait().await.map_err(|e| {
                        anyhow::Error::new(e)
                            .context("a record was not delivered; its offset was not stored")
                    })?;
                }
                anyhow::Ok(())
            })?;
            for r in records {
                last.insert(r.source_partition, r.source_offset);
            }
            offsets.write(client, &cfg.name, &last)?;
        }
        Ok(())
    })();
    rt.block_on(producer.close());
    result
}

/// What a polled batch produces: each record through `transform` and
/// `route` (when set); one they fail on goes through `[errors]`: the
/// task fails, or it is skipped, or it goes as read to the dead-letter
/// topic with headers saying why.
fn prepare(
    cfg: &ConnectorConfig,
    topic: &str,
    records: &[SourceRecord],
) -> anyhow::Result<Vec<Outgoing>> {
    let mut out = Vec::with_capacity(records.len());
    let mut routed = Vec::new();
    for r in records {
        let key = r.key.clone().map(Bytes::from);
        let value = r.value.clone().map(Bytes::from);
        if cfg.transforms.is_empty() {
            out.push(Outgoing {
                topic: topic.to_string(),
                partition: None,
                key,
                value,
                headers: Vec::new(),
                timestamp: r.timestamp,
            });
            continue;
        }
        let env = source_envelope(topic, r.timestamp, key.as_ref(), value.as_ref());
        routed.clear();
        match cfg.transforms.apply(&env, &mut routed) {
            Ok(()) => out.extend(routed.drain(..).map(|o| Outgoing {
                topic: o.topic.unwrap_or_else(|| topic.to_string()),
                partition: o.record.partition,
                key: o.record.key,
                value: o.record.value,
                headers: o.record.headers,
                timestamp: o.record.timestamp,
            })),
            Err(why) => {
                let at = format!("source partition {:?}", r.source_partition);
                match (cfg.errors.tolerance, &cfg.errors.dlq) {
                    (Tolerance::None, _) => {
                        return Err(ToleranceExceeded(format!(
                            "record of {at}: {why} (errors.tolerance = \"none\"; nothing of the batch was produced)"
                        ))
                        .into())
                    }
                    (Tolerance::All, Some(dlq)) => {
                        tracing::warn!(connector = %cfg.name, "record of {at} dead-lettered to {dlq}: {why}");
                        let mut headers = Vec::new();
                        let extra = [
                            (HEADER_CONNECTOR, cfg.name.as_bytes().to_vec()),
                            (HEADER_SOURCE_PARTITION, r.source_partition.as_bytes().to_vec()),
                        ];
                        add_headers(&mut headers, &why, &extra, None);
                        out.push(Outgoing {
                            topic: dlq.clone(),
                            partition: None,
                            key,
                            value,
                            headers,
                            timestamp: r.timestamp,
                        });
                    }
                    (Tolerance::All, None) => {
                        tracing::warn!(connector = %cfg.name, "record of {at} skipped: {why}");
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Header on a source's dead letters naming the source partition (a
/// table, a file) the record was read from.
pub const HEADER_SOURCE_PARTITION: &str = "strom.connect.source.partition";
