//! What `strom connect offsets NAME [--reset]` asks a worker: a source's
//! stored source offsets, a sink's positions (the group's commits and the
//! sink's own stored offsets, which win for the SQL sinks), and a reset.
//!
//! Like Kafka Connect, a reset needs the connector stopped (here: paused),
//! so no task writes offsets meanwhile; the task reads them afresh when it
//! is resumed.
use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::offsets::OffsetStore;
use super::registry::Role;
use super::sink_task::group_config;
use super::worker::Connector;
use crate::client::blocking::BlockingClient;
use crate::client::GroupAdmin;

/// The worker's connectors and a connection of the control side's own.
pub struct OffsetsAdmin {
    client: BlockingClient,
    store: OffsetStore,
    connectors: BTreeMap<String, Connector>,
}

impl OffsetsAdmin {
    pub fn new(
        client: BlockingClient,
        offsets_topic: String,
        connectors: &[Connector],
    ) -> OffsetsAdmin {
        OffsetsAdmin {
            client,
            store: OffsetStore::new(offsets_topic),
            connectors: connectors
                .iter()
                .map(|c| (c.config.name.clone(), c.clone()))
                .collect(),
        }
    }

    /// `{"connector", "type", "role", "offsets": [...]}`: a source's rows
    /// are `{"source_partition", "offset"}`; a sink's are `{"topic",
    /// "partition", "committed", "stored"}` (null where none is).
    pub fn describe(&self, name: &str) -> anyhow::Result<Value> {
        let c = self.get(name)?;
        let (role, rows) = match &c.role {
            Role::Source(_) => ("source", self.source_rows(name)?),
            Role::Sink(factory) => {
                let client = self.client.client();
                let mut partitions = Vec::new();
                for t in &c.config.topics {
                    let info = self.client.run(client.topic(t, false))?;
                    partitions.extend((0..info.partition_count()).map(|p| (t.clone(), p)));
                }
                let group = group_config(&c.config)?.group_id;
                let committed: BTreeMap<(String, i32), i64> = self
                    .client
                    .run(
                        GroupAdmin::new(client.clone())
                            .committed_offsets(&group, Some(&partitions)),
                    )?
                    .into_iter()
                    .map(|(t, p, o)| ((t, p), o))
                    .collect();
                let tps: Vec<_> = partitions
                    .iter()
                    .map(|(t, p)| (std::sync::Arc::<str>::from(t.as_str()), *p))
                    .collect();
                let stored = factory()?.stored_offsets(&tps)?;
                let rows = tps
                    .iter()
                    .map(|tp| {
                        json!({
                            "topic": &*tp.0,
                            "partition": tp.1,
                            "committed": committed.get(&(tp.0.to_string(), tp.1)),
                            "stored": stored.get(tp),
                        })
                    })
                    .collect();
                ("sink", rows)
            }
        };
        Ok(json!({"connector": name, "type": c.config.kind, "role": role, "offsets": rows}))
    }

    /// Forgets a paused source's stored offsets: on resume it starts from
    /// the beginning of every source partition.
    pub fn reset(&self, name: &str) -> anyhow::Result<Value> {
        let c = self.get(name)?;
        if let Role::Sink(_) = c.role {
            anyhow::bail!(
                "{name} is a sink: its position is its consumer group connect-{name} \
                 (and, for the SQL sinks, the strom_offsets table in its database); \
                 reset only sources here"
            );
        }
        let before = self.source_rows(name)?;
        let forget: Vec<String> = before
            .iter()
            .filter_map(|r| r["source_partition"].as_str().map(String::from))
            .collect();
        self.store.forget(&self.client, name, &forget)?;
        Ok(
            json!({"connector": name, "type": c.config.kind, "role": "source", "offsets": [], "reset": before}),
        )
    }

    fn get(&self, name: &str) -> anyhow::Result<&Connector> {
        self.connectors
            .get(name)
            .ok_or_else(|| anyhow::anyhow!("no connector {name:?} in this worker"))
    }

    fn source_rows(&self, name: &str) -> anyhow::Result<Vec<Value>> {
        let stored: BTreeMap<String, Value> =
            self.store.read(&self.client, name)?.into_iter().collect();
        Ok(stored
            .into_iter()
            .map(|(p, o)| json!({"source_partition": p, "offset": o}))
            .collect())
    }

    /// Closes the control side's offsets producer.
    pub fn close(&self) {
        self.store.close(&self.client);
    }
}
