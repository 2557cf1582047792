//! One source connector's task: poll the [`Source`], produce what it read
//! (acks=all, idempotent), wait for every acknowledgement, then store the
//! last offset of each source partition. At least once: after a crash the
//! source resumes at the last stored offsets.
use std::collections::HashMap;

use super::config::ConnectorConfig;
use super::offsets::OffsetStore;
use super::registry::SourceFactory;
use crate::client::blocking::{BlockingClient, StopSignal};
use crate::client::{Acks, Producer, ProducerConfig, ProducerRecord};

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
            rt.block_on(async {
                let mut pending = Vec::with_capacity(records.len());
                for r in &records {
                    let rec = ProducerRecord {
                        topic,
                        partition: None,
                        key: r.key.as_deref(),
                        value: r.value.as_deref(),
                        headers: &[],
                        timestamp: r.timestamp,
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
