//! One sink connector's task: a member of consumer group `connect-<name>`
//! that hands every polled batch to its [`Sink`], then commits.
//!
//! Order per batch: the sink writes the batch durably (with its offsets,
//! if it keeps them); only then is the group committed. Dead letters are
//! acknowledged before the sink's write returns. On a new generation the
//! task asks the sink for its stored offsets and seeks there, so a sink
//! that stores offsets with its data is exactly-once whatever the group
//! committed.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::api::{Fenced, OffsetRange, RecordError, Rejects, Sink, TopicPartition};
use super::config::{ConnectorConfig, Tolerance};
use super::registry::SinkFactory;
use crate::client::backoff::jittered;
use crate::client::blocking::{BlockingClient, Runtime, StopSignal};
use crate::client::dead_letter::{add_headers, Origin};
use crate::client::jq::Envelope;
use crate::client::{
    Acks, ClientError, ConsumerConfig, ConsumerRecord, GroupConfig, GroupConsumer, OffsetReset,
    Producer, ProducerConfig, ProducerRecord,
};

/// Header on a connector's dead letters naming the connector.
pub const HEADER_CONNECTOR: &str = "strom.connector";

/// A record broke `tolerance = "none"`: the task fails, and retrying the
/// batch would only fail again.
#[derive(Debug)]
pub struct ToleranceExceeded(pub String);

impl std::fmt::Display for ToleranceExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ToleranceExceeded {}

/// The group settings of a sink: `connect-<name>`, from the earliest
/// offset, no auto-commit, then the file's `[consumer]` properties.
pub fn group_config(cfg: &ConnectorConfig) -> anyhow::Result<GroupConfig> {
    let mut group = GroupConfig::new(format!("connect-{}", cfg.name));
    group.client_id = format!("strom-connect-{}", cfg.name);
    group.auto_offset_reset = OffsetReset::Earliest;
    for (k, v) in &cfg.consumer {
        group.set(k, v).map_err(anyhow::Error::msg)?;
    }
    // The task commits itself, only after the sink's write is durable.
    group.enable_auto_commit = false;
    group.validate().map_err(anyhow::Error::msg)?;
    Ok(group)
}

pub fn run(
    client: &BlockingClient,
    cfg: &ConnectorConfig,
    factory: &SinkFactory,
    stop: &StopSignal,
) -> anyhow::Result<()> {
    let rt = client.runtime().clone();
    let mut sink = factory()?;
    let group = group_config(cfg)?;
    if !wait_for_topics(client, cfg, stop)? {
        return Ok(());
    }
    let mut consumer = GroupConsumer::new(
        client.client().clone(),
        group,
        ConsumerConfig::default(),
        cfg.topics.clone(),
    );
    let producer = cfg.errors.dlq.as_ref().map(|_| {
        let _guard = rt.handle().enter();
        Producer::new(
            client.client().clone(),
            ProducerConfig {
                acks: Acks::All,
                idempotence: true,
                ..ProducerConfig::default()
            },
        )
    });
    let result = run_loop(
        &rt,
        cfg,
        sink.as_mut(),
        &mut consumer,
        producer.as_ref(),
        stop,
    );
    if result.is_ok() {
        // Everything the sink wrote was committed after its batch; this
        // catches a commit that failed then.
        if let Err(e) = rt.block_on(consumer.commit()) {
            tracing::warn!(connector = %cfg.name, error = %e, "final commit failed; the sink's stored offsets still say where to resume");
        }
    }
    if let Some(p) = &producer {
        rt.block_on(p.close());
    }
    let closed = rt.block_on(consumer.close());
    result?;
    closed?;
    Ok(())
}

/// Waits until every topic exists (the group would assign nothing of a
/// missing one until the next rebalance); false if stopped first.
fn wait_for_topics(
    client: &BlockingClient,
    cfg: &ConnectorConfig,
    stop: &StopSignal,
) -> anyhow::Result<bool> {
    let mut warned = false;
    for t in &cfg.topics {
        loop {
            client.client().invalidate(t);
            match client.run(client.client().topic(t, false)) {
                Ok(_) => break,
                Err(ClientError::UnknownTopic(_)) => {
                    if !warned {
                        tracing::warn!(connector = %cfg.name, topic = %t, "waiting for the topic to exist");
                        warned = true;
                    }
                }
                Err(e) => return Err(e.into()),
            }
            let stopped = client.runtime().block_on(async {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => false,
                    _ = stop.wait() => true,
                }
            });
            if stopped {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn run_loop(
    rt: &Arc<Runtime>,
    cfg: &ConnectorConfig,
    sink: &mut dyn Sink,
    consumer: &mut GroupConsumer,
    producer: Option<&Producer>,
    stop: &StopSignal,
) -> anyhow::Result<()> {
    let mut generation = None;
    // Per assigned partition: the sink's stored offset as this task knows it.
    let mut stored_at: HashMap<TopicPartition, Option<i64>> = HashMap::new();
    loop {
        let polled = rt.block_on(async {
            tokio::select! {
                r = consumer.poll(cfg.batch_max) => r.map(Some),
                _ = stop.wait() => Ok(None),
            }
        })?;
        let Some(mut batch) = polled else {
            return Ok(());
        };
        if consumer.generation() != generation {
            generation = consumer.generation();
            let assigned = consumer.assignment();
            let stored = sink.stored_offsets(&assigned)?;
            for ((topic, partition), offset) in &stored {
                rt.block_on(consumer.seek(topic, *partition, *offset))?;
            }
            // What was fetched for them came from the group's commit.
            batch.retain(|r| !stored.contains_key(&(r.topic.clone(), r.partition)));
            stored_at = assigned
                .iter()
                .map(|tp| (tp.clone(), stored.get(tp).copied()))
                .collect();
            tracing::info!(connector = %cfg.name, partitions = ?assigned, resume_at = ?stored, "assigned");
        }
        if batch.is_empty() {
            continue;
        }
        let mut next: HashMap<TopicPartition, i64> = HashMap::new();
        for r in &batch {
            let e = next.entry((r.topic.clone(), r.partition)).or_insert(0);
            *e = (*e).max(r.offset + 1);
        }
        let mut ranges: Vec<OffsetRange> = next
            .into_iter()
            .map(|(tp, next)| OffsetRange {
                start: stored_at.get(&tp).copied().flatten(),
                partition: tp,
                next,
            })
            .collect();
        ranges.sort_by(|a, b| a.partition.cmp(&b.partition));
        // The ranges above cover what was read, so a record the transform
        // drops still moves the stored offsets on.
        if !cfg.transforms.is_empty() {
            batch = transform_batch(rt, cfg, &batch, producer)?;
        }
        put_with_retries(rt, cfg, sink, &batch, &ranges, producer)?;
        for r in &ranges {
            stored_at.insert(r.partition.clone(), Some(r.next));
        }
        if let Err(e) = rt.block_on(consumer.commit()) {
            // The sink's write is durable; a sink with stored offsets
            // resumes there, any other re-reads from the last commit.
            tracing::warn!(connector = %cfg.name, error = %e, "commit failed after a durable write");
        }
    }
}

fn put_with_retries(
    rt: &Arc<Runtime>,
    cfg: &ConnectorConfig,
    sink: &mut dyn Sink,
    batch: &[ConsumerRecord],
    ranges: &[OffsetRange],
    producer: Option<&Producer>,
) -> anyhow::Result<()> {
    let mut attempt = 0;
    loop {
        let mut rejects = Policy { rt, cfg, producer };
        match sink.put(batch, ranges, &mut rejects) {
            Ok(()) => return Ok(()),
            Err(e)
                if e.downcast_ref::<ToleranceExceeded>().is_some()
                    || e.downcast_ref::<Fenced>().is_some() =>
            {
                return Err(e)
            }
            Err(e) if attempt < cfg.errors.retries => {
                let wait = jittered(Duration::from_millis(100), Duration::from_secs(5), attempt);
                attempt += 1;
                tracing::warn!(connector = %cfg.name, error = %format!("{e:#}"), attempt, "writing a batch failed; retrying");
                std::thread::sleep(wait);
            }
            Err(e) => {
                return Err(e.context(format!("writing a batch failed {} times", attempt + 1)))
            }
        }
    }
}

/// `transform` on every record of a batch. A record it fails on goes
/// through `[errors]` (failing the task, skipped, or dead-lettered as it
/// was read) before the sink sees the rest.
fn transform_batch(
    rt: &Arc<Runtime>,
    cfg: &ConnectorConfig,
    batch: &[ConsumerRecord],
    producer: Option<&Producer>,
) -> anyhow::Result<Vec<ConsumerRecord>> {
    let mut rejects = Policy { rt, cfg, producer };
    let mut out = Vec::with_capacity(batch.len());
    let mut routed = Vec::new();
    for r in batch {
        let env = Envelope::from(r);
        routed.clear();
        if let Err(e) = cfg.transforms.apply(&env, &mut routed) {
            rejects.reject(r, &RecordError(e))?;
            continue;
        }
        // The partition and offset stay those read: they are what the
        // sink stores and resumes from.
        out.extend(routed.drain(..).map(|o| ConsumerRecord {
            topic: r.topic.clone(),
            partition: r.partition,
            offset: r.offset,
            timestamp: o.record.timestamp.unwrap_or(r.timestamp),
            key: o.record.key,
            value: o.record.value,
            headers: o.record.headers,
        }));
    }
    Ok(out)
}

/// `[errors]` applied to one rejected record.
struct Policy<'a> {
    rt: &'a Arc<Runtime>,
    cfg: &'a ConnectorConfig,
    producer: Option<&'a Producer>,
}

impl Rejects for Policy<'_> {
    fn reject(&mut self, r: &ConsumerRecord, why: &RecordError) -> anyhow::Result<()> {
        let at = format!("{}:{} offset {}", r.topic, r.partition, r.offset);
        match (
            self.cfg.errors.tolerance,
            &self.cfg.errors.dlq,
            self.producer,
        ) {
            (Tolerance::None, _, _) => Err(ToleranceExceeded(format!(
                "record {at}: {why} (errors.tolerance = \"none\"; nothing of the batch was written)"
            ))
            .into()),
            (Tolerance::All, Some(dlq), Some(producer)) => {
                let mut headers = r.headers.clone();
                let origin = Origin {
                    topic: &r.topic,
                    partition: r.partition,
                    offset: r.offset,
                };
                let extra = [(HEADER_CONNECTOR, self.cfg.name.as_bytes().to_vec())];
                add_headers(&mut headers, &why.0, &extra, Some(origin));
                let headers: Vec<(&str, Option<&[u8]>)> = headers
                    .iter()
                    .map(|h| (h.key.as_str(), h.value.as_deref()))
                    .collect();
                let rec = ProducerRecord {
                    topic: dlq,
                    partition: None,
                    key: r.key.as_deref(),
                    value: r.value.as_deref(),
                    headers: &headers,
                    timestamp: Some(r.timestamp),
                };
                // Acknowledged before the sink commits the batch without it.
                self.rt
                    .block_on(async { producer.send(&rec).await?.wait().await })
                    .map_err(|e| anyhow::anyhow!("dead-lettering record {at} to {dlq}: {e}"))?;
                tracing::warn!(connector = %self.cfg.name, "record {at} dead-lettered to {dlq}: {why}");
                Ok(())
            }
            (Tolerance::All, _, _) => {
                tracing::warn!(connector = %self.cfg.name, "record {at} skipped: {why}");
                Ok(())
            }
        }
    }
}
