//! Source offsets, kept in the internal topic `__strom_connect_offsets`
//! (unless the worker is given another) so a worker can move hosts
//! without losing its place.
//!
//! One record per stored position: key = the JSON array
//! `["<connector>", "<source partition>"]`, value = the source's offset as
//! JSON; the last record of a key wins (a null value forgets it).
//!
//! The broker refuses client writes to `__` topics. The store therefore
//! talks to the brokers over connections of its own, marked as strom's
//! connect runtime (`ClientConfig::internal_writer`, the native preamble's
//! internal-writer flag), which may write and create the internal topics
//! `proto::internal_topic::INTERNAL_WRITER_TOPICS` lists and nothing else.
//! Connectors' own records never go through these connections.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::client::blocking::BlockingClient;
use crate::client::{
    Acks, Admin, Client, ClientError, Consumer, ConsumerConfig, NewTopic, Producer, ProducerConfig,
    ProducerRecord, StartOffset,
};
use crate::proto::ErrorCode;

/// The default offsets topic.
pub const DEFAULT_OFFSETS_TOPIC: &str = crate::proto::internal_topic::CONNECT_OFFSETS_TOPIC;

/// The store's own client and producer, made on first use.
struct Opened {
    client: Client,
    producer: Producer,
}

pub struct OffsetStore {
    topic: String,
    opened: Mutex<Option<Arc<Opened>>>,
}

fn key(connector: &str, partition: &str) -> Vec<u8> {
    serde_json::to_vec(&(connector, partition)).unwrap_or_default()
}

impl OffsetStore {
    pub fn new(topic: String) -> OffsetStore {
        OffsetStore {
            topic,
            opened: Mutex::new(None),
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Connects (as an internal writer) and creates the topic unless it
    /// exists; once per worker, or again after a failure.
    fn open(&self, base: &BlockingClient) -> anyhow::Result<Arc<Opened>> {
        let mut slot = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(o) = slot.as_ref() {
            return Ok(o.clone());
        }
        let config = crate::client::ClientConfig {
            internal_writer: true,
            ..base.client().config().clone()
        };
        let client = base.run(Client::connect(config))?;
        match base.run(client.topic(&self.topic, false)) {
            Ok(_) => {}
            Err(ClientError::UnknownTopic(_)) => {
                let created = base.run(Admin::new(client.clone()).create_topic(
                    NewTopic {
                        name: self.topic.clone(),
                        partitions: Some(1),
                        replication_factor: None,
                        // Only each partition's newest offset matters: compacted,
                        // never deleted by age.
                        configs: vec![
                            ("retention.ms".into(), "-1".into()),
                            ("cleanup.policy".into(), "compact".into()),
                        ],
                    },
                    false,
                ));
                match created {
                    Ok(()) => {}
                    Err(e) if e.code() == Some(ErrorCode::TopicAlreadyExists) => {}
                    Err(e) => {
                        return Err(anyhow::Error::new(e)
                            .context(format!("creating the offsets topic {}", self.topic)))
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
        let producer = {
            let _guard = base.runtime().handle().enter();
            Producer::new(
                client.clone(),
                ProducerConfig {
                    acks: Acks::All,
                    idempotence: true,
                    ..ProducerConfig::default()
                },
            )
        };
        let opened = Arc::new(Opened { client, producer });
        *slot = Some(opened.clone());
        Ok(opened)
    }

    /// The last stored offset of every source partition of `connector`.
    pub fn read(
        &self,
        base: &BlockingClient,
        connector: &str,
    ) -> anyhow::Result<HashMap<String, serde_json::Value>> {
        let opened = self.open(base)?;
        let mut consumer = Consumer::new(
            opened.client.clone(),
            ConsumerConfig {
                max_wait: Duration::from_millis(100),
                ..ConsumerConfig::default()
            },
        );
        base.run(consumer.assign(&self.topic, None, StartOffset::Earliest))?;
        let mut out = HashMap::new();
        while !consumer.at_end() {
            for r in base.run(consumer.poll())? {
                let Some(k) = r.key.as_deref() else { continue };
                let Ok((c, p)) = serde_json::from_slice::<(String, String)>(k) else {
                    continue;
                };
                if c != connector {
                    continue;
                }
                match r
                    .value
                    .as_deref()
                    .map(serde_json::from_slice::<serde_json::Value>)
                {
                    Some(Ok(v)) => {
                        out.insert(p, v);
                    }
                    Some(Err(_)) => {
                        tracing::warn!(topic = %self.topic, offset = r.offset, "unreadable source offset; ignored")
                    }
                    None => {
                        out.remove(&p);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Stores `offsets` (source partition → offset) and returns once the
    /// brokers acknowledged them.
    pub fn write(
        &self,
        base: &BlockingClient,
        connector: &str,
        offsets: &HashMap<String, serde_json::Value>,
    ) -> anyhow::Result<()> {
        let opened = self.open(base)?;
        let producer = &opened.producer;
        base.run(async {
            let mut pending = Vec::with_capacity(offsets.len());
            for (p, o) in offsets {
                let k = key(connector, p);
                let v = serde_json::to_vec(o)?;
                let rec = ProducerRecord {
                    topic: &self.topic,
                    key: Some(&k),
                    value: Some(&v),
                    ..ProducerRecord::default()
                };
                pending.push(producer.send(&rec).await?);
            }
            producer.flush().await;
            for p in pending {
                p.wait()
                    .await
                    .map_err(|e| anyhow::Error::new(e).context("storing source offsets"))?;
            }
            anyhow::Ok(())
        })
    }

    /// Forgets the stored offsets of `partitions` of `connector` (a null
    /// value per key), once the brokers acknowledged it.
    pub fn forget(
        &self,
        base: &BlockingClient,
        connector: &str,
        partitions: &[String],
    ) -> anyhow::Result<()> {
        let opened = self.open(base)?;
        let producer = &opened.producer;
        base.run(async {
            let mut pending = Vec::with_capacity(partitions.len());
            for p in partitions {
                let k = key(connector, p);
                let rec = ProducerRecord {
                    topic: &self.topic,
                    key: Some(&k),
                    value: None,
                    ..ProducerRecord::default()
                };
                pending.push(producer.send(&rec).await?);
            }
            producer.flush().await;
            for p in pending {
                p.wait()
                    .await
                    .map_err(|e| anyhow::Error::new(e).context("forgetting source offsets"))?;
            }
            anyhow::Ok(())
        })
    }

    /// Sends what is buffered and stops the store's producer.
    pub fn close(&self, base: &BlockingClient) {
        let opened = self.opened.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(o) = opened {
            base.run(o.producer.close());
        }
    }
}
