//! Source offsets, kept in a topic (`strom-connect-offsets` unless the
//! worker is told otherwise) so a worker can move hosts without losing its
//! place.
//!
//! One record per stored position: key = the JSON array
//! `["<connector>", "<source partition>"]`, value = the source's offset as
//! JSON; the last record of a key wins (a null value forgets it). The
//! topic is an ordinary one, created by the first worker that needs it,
//! with one partition and no retention, the way Kafka Connect keeps its
//! `offset.storage.topic`: internal (`__`) topics are written only by the
//! broker, and connectors are clients. See docs/connect.md.
use std::collections::HashMap;
use std::time::Duration;

use crate::client::blocking::BlockingClient;
use crate::client::{
    Admin, ClientError, Consumer, ConsumerConfig, NewTopic, Producer, ProducerRecord, StartOffset,
};
use crate::proto::ErrorCode;

/// The default offsets topic.
pub const DEFAULT_OFFSETS_TOPIC: &str = "strom-connect-offsets";

pub struct OffsetStore {
    topic: String,
}

fn key(connector: &str, partition: &str) -> Vec<u8> {
    serde_json::to_vec(&(connector, partition)).unwrap_or_default()
}

impl OffsetStore {
    pub fn new(topic: String) -> OffsetStore {
        OffsetStore { topic }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Creates the topic unless it exists.
    pub fn ensure_topic(&self, client: &BlockingClient) -> anyhow::Result<()> {
        match client.run(client.client().topic(&self.topic, false)) {
            Ok(_) => return Ok(()),
            Err(ClientError::UnknownTopic(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let admin = Admin::new(client.client().clone());
        let created = client.run(admin.create_topic(
            NewTopic {
                name: self.topic.clone(),
                partitions: Some(1),
                replication_factor: None,
                configs: vec![("retention.ms".into(), "-1".into())],
            },
            false,
        ));
        match created {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some(ErrorCode::TopicAlreadyExists) => Ok(()),
            Err(e) => {
                Err(anyhow::Error::new(e)
                    .context(format!("creating the offsets topic {}", self.topic)))
            }
        }
    }

    /// The last stored offset of every source partition of `connector`.
    pub fn read(
        &self,
        client: &BlockingClient,
        connector: &str,
    ) -> anyhow::Result<HashMap<String, serde_json::Value>> {
        self.ensure_topic(client)?;
        let mut consumer = Consumer::new(
            client.client().clone(),
            ConsumerConfig {
                max_wait: Duration::from_millis(100),
                ..ConsumerConfig::default()
            },
        );
        client.run(consumer.assign(&self.topic, None, StartOffset::Earliest))?;
        let mut out = HashMap::new();
        while !consumer.at_end() {
            for r in client.run(consumer.poll())? {
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

    /// Stores `offsets` (source partition → offset) and waits until the
    /// broker acknowledged them.
    pub async fn write(
        &self,
        producer: &Producer,
        connector: &str,
        offsets: &HashMap<String, serde_json::Value>,
    ) -> anyhow::Result<()> {
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
        Ok(())
    }
}
