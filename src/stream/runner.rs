//! The stream loop: poll a batch as a group member, split it into tasks
//! (one per input partition), run every task's processor concurrently,
//! produce the outputs (and dead letters), wait until all are acknowledged,
//! then commit, then poll again.
//!
//! Because nothing is polled before the previous batch is acknowledged and
//! committed, the group consumer's "handed out" positions are always
//! acknowledged work: a commit, or the commit before a rebalance, can
//! never cover an unacknowledged output. Auto-commit is off, so a failed
//! batch is never committed by `close`.
use std::collections::HashMap;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::dead_letter::dead_letter;
use super::{OnError, Processor, Record, Source};
use crate::client::blocking::{BlockingClient, StopSignal};
use crate::client::producer::TrySendError;
use crate::client::{
    Acks, ClientError, ConsumerConfig, ConsumerRecord, DeliveryFuture, GroupConfig, GroupConsumer,
    Producer, ProducerConfig, ProducerRecord,
};

pub type ProcessorFactory = Arc<dyn Fn() -> Box<dyn Processor> + Send + Sync>;

pub struct StreamConfig {
    pub inputs: Vec<String>,
    pub output: String,
    pub group: GroupConfig,
    pub batch_max: usize,
    pub linger: Duration,
    pub on_error: OnError,
    /// A task that saw no record this long gets [`Processor::idle`] calls.
    pub idle_flush: Option<Duration>,
    /// Makes one processor per task (input partition).
    pub processor: ProcessorFactory,
    /// `--guarantee exactly-once`: the producer's transactional id. Each
    /// batch's outputs, dead letters and input offsets then commit in one
    /// transaction, and the inputs are read read_committed.
    pub transactional_id: Option<String>,
}

/// How long an exactly-once stream's transaction may stay open before the
/// broker aborts it: a crashed instance's open transaction holds its
/// output partitions' last stable offset back for at most this long.
pub const EXACTLY_ONCE_TXN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Clone, Copy)]
pub struct RunStats {
    pub input: u64,
    pub output: u64,
    pub skipped: u64,
    pub dead_lettered: u64,
}

type Tp = (Arc<str>, i32);

fn to_record(r: ConsumerRecord) -> Record {
    Record {
        key: r.key,
        value: r.value,
        headers: r.headers,
        timestamp: Some(r.timestamp),
        partition: None,
        source: Some(Source {
            topic: r.topic,
            partition: r.partition,
            offset: r.offset,
        }),
    }
}

/// Runs until `stop` fires (Ok) or a batch fails with `--on-error fail`,
/// an output cannot be delivered, or the group fails (Err).
pub fn run(
    client: &BlockingClient,
    config: StreamConfig,
    stop: &StopSignal,
) -> anyhow::Result<RunStats> {
    let rt = client.runtime().clone();
    let mut group = config.group.clone();
    group.enable_auto_commit = false;
    let exactly_once = config.transactional_id.is_some();
    let consumer_config = ConsumerConfig {
        max_wait: config
            .linger
            .clamp(Duration::from_millis(10), Duration::from_millis(500)),
        // Exactly once end to end: never a record of an aborted (or still
        // open) transaction upstream.
        isolation: if exactly_once {
            crate::client::IsolationLevel::ReadCommitted
        } else {
            crate::client::IsolationLevel::ReadUncommitted
        },
        ..ConsumerConfig::default()
    };
    let mut consumer = GroupConsumer::new(
        client.client().clone(),
        group,
        consumer_config,
        config.inputs.clone(),
    );
    let producer = {
        let _guard = rt.handle().enter();
        Producer::new(
            client.client().clone(),
            ProducerConfig {
                acks: Acks::All,
                idempotence: true,
                transactional_id: config.transactional_id.clone(),
                transaction_timeout: EXACTLY_ONCE_TXN_TIMEOUT,
                ..ProducerConfig::default()
            },
        )
    };
    rt.block_on(producer.wait_ready());
    let mut tasks: HashMap<Tp, Box<dyn Processor>> = HashMap::new();
    let mut stats = RunStats::default();
    let mut last_seen: HashMap<Tp, Instant> = HashMap::new();
    let result = (|| -> anyhow::Result<()> {
        loop {
            let first = rt.block_on(async {
                tokio::select! {
                    r = consumer.poll(config.batch_max) => r.map(Some),
                    _ = stop.wait() => Ok(None),
                }
            })?;
            let Some(mut batch) = first else {
                return Ok(());
            };
            let started = Instant::now();
            while !batch.is_empty()
                && batch.len() < config.batch_max
                && started.elapsed() < config.linger
                && !stop.is_set()
            {
                // Bounded by the consumer's max_wait; never abandoned, so
                // no fetched record is lost to a cancelled poll.
                let more = rt.block_on(consumer.poll(config.batch_max - batch.len()))?;
                if more.is_empty() {
                    break;
                }
                batch.extend(more);
            }
            let assignment = consumer.assignment();
            tasks.retain(|tp, _| assignment.contains(tp));
            last_seen.retain(|tp, _| assignment.contains(tp));
            if let Some(idle) = config.idle_flush {
                flush_idle(
                    &rt,
                    &producer,
                    &config.output,
                    &mut tasks,
                    &last_seen,
                    idle,
                    &mut stats,
                )?;
            }
            if batch.is_empty() {
                continue;
            }
            let now = Instant::now();
            for r in &batch {
                last_seen.insert((r.topic.clone(), r.partition), now);
            }
            stats.input += batch.len() as u64;
            let mut groups: HashMap<Tp, Vec<Record>> = HashMap::new();
            for r in batch {
                groups
                    .entry((r.topic.clone(), r.partition))
                    .or_default()
                    .push(to_record(r));
            }
            for tp in groups.keys() {
                tasks
                    .entry(tp.clone())
                    .or_insert_with(|| (config.processor)());
            }
            let results = run_tasks(&mut tasks, groups);
            let mut pending: Vec<DeliveryFuture> = Vec::new();
            if stop.is_set() && results.iter().any(|(_, r, _)| r.is_err()) {
                // Shutting down (the child may have had our Ctrl-C):
                // commit nothing of this batch; the partitions' next owner
                // reads it again.
                tracing::warn!("a batch failed while stopping; it was not committed");
                return Ok(());
            }
            for (inputs, result, rejected) in results {
                match result {
                    Ok(outputs) => {
                        stats.output += outputs.len() as u64;
                        for r in &outputs {
                            pending.push(send(&rt, &producer, &config.output, r)?);
                        }
                        for (i, f) in rejected {
                            let Some(r) = inputs.get(i) else { continue };
                            match &config.on_error {
                                OnError::Fail => {
                                    anyhow::bail!(
                                        "processing failed{}: {f}; nothing of this batch was committed",
                                        at(r)
                                    );
                                }
                                OnError::Skip => {
                                    tracing::warn!(error = %f, "a record failed{}; skipping it", at(r));
                                    stats.skipped += 1;
                                }
                                OnError::DeadLetter(topic) => {
                                    tracing::warn!(error = %f, %topic, "a record failed{}; writing it to the dead-letter topic", at(r));
                                    stats.dead_lettered += 1;
                                    pending.push(send(&rt, &producer, topic, &dead_letter(r, &f))?);
                                }
                            }
                        }
                    }
                    Err(f) => {
                        match &config.on_error {
                            OnError::Fail => {
                                let at = inputs.first().and_then(|r| r.source.clone());
                                let at = at.map_or_else(String::new, |s| {
                                    format!(
                                        " (batch from {}:{} offset {})",
                                        s.topic, s.partition, s.offset
                                    )
                                });
                                anyhow::bail!("processing failed{at}: {f}; nothing of this batch was committed");
                            }
                            OnError::Skip => {
                                tracing::warn!(error = %f, records = inputs.len(), "batch failed; skipping its records");
                                stats.skipped += inputs.len() as u64;
                            }
                            OnError::DeadLetter(topic) => {
                                tracing::warn!(error = %f, records = inputs.len(), %topic, "batch failed; writing its records to the dead-letter topic");
                                stats.dead_lettered += inputs.len() as u64;
                                for r in &inputs {
                                    pending.push(send(&rt, &producer, topic, &dead_letter(r, &f))?);
                                }
                            }
                        }
                    }
                }
            }
            await_delivery(&rt, &producer, &pending)?;
            for p in tasks.values_mut() {
                p.delivered()?;
            }
            if exactly_once {
                // The outputs are in the open transaction; the inputs'
                // offsets join it, and both become visible together.
                let offsets: Vec<(String, i32, i64)> = consumer
                    .positions()
                    .into_iter()
                    .map(|(t, p, o)| (t.to_string(), p, o))
                    .collect();
                let group_id = consumer.config().group_id.clone();
                let committed = rt.block_on(async {
                    producer
                        .send_offsets_to_transaction(&group_id, &offsets)
                        .await?;
                    producer.commit_transaction().await
                });
                if let Err(e) = committed {
                    // Nothing of the batch is visible and its offsets are
                    // not committed: the partitions' next owner (or this
                    // stream, restarted) processes it again, once.
                    let _ = rt.block_on(producer.abort_transaction());
                    return Err(anyhow::Error::new(e)
                        .context("the batch's transaction did not commit; it was aborted"));
                }
                continue;
            }
            if let Err(e) = rt.block_on(consumer.commit()) {
                // The group moved on (a rebalance): the partitions' next
                // owners re-read from the last commit (duplicates, no loss).
                tracing::warn!(error = %e, "commit failed; the batch may be processed again");
            }
        }
    })();
    rt.block_on(producer.close());
    let closed = rt.block_on(consumer.close());
    result?;
    closed?;
    Ok(stats)
}

/// Flushes the producer and checks that every one of `pending` is
/// acknowledged.
fn await_delivery(
    rt: &crate::client::blocking::Runtime,
    producer: &Producer,
    pending: &[DeliveryFuture],
) -> anyhow::Result<()> {
    rt.block_on(producer.flush());
    for p in pending {
        match p.try_result() {
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                return Err(anyhow::Error::new(e)
                    .context("an output was not delivered; the batch was not committed"))
            }
            None => anyhow::bail!("an output was not acknowledged; the batch was not committed"),
        }
    }
    Ok(())
}

/// Gives every task quiet for `idle` its wall-clock outputs, produces
/// them and, once acknowledged, lets the task save its state.
fn flush_idle(
    rt: &crate::client::blocking::Runtime,
    producer: &Producer,
    output: &str,
    tasks: &mut HashMap<Tp, Box<dyn Processor>>,
    last_seen: &HashMap<Tp, Instant>,
    idle: Duration,
    stats: &mut RunStats,
) -> anyhow::Result<()> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let mut pending = Vec::new();
    let mut flushed = Vec::new();
    for (tp, p) in tasks.iter_mut() {
        if last_seen.get(tp).is_some_and(|t| t.elapsed() < idle) {
            continue;
        }
        let outputs = p.idle(now_ms);
        if outputs.is_empty() {
            continue;
        }
        stats.output += outputs.len() as u64;
        for r in &outputs {
            pending.push(send(rt, producer, output, r)?);
        }
        flushed.push(tp.clone());
    }
    if flushed.is_empty() {
        return Ok(());
    }
    await_delivery(rt, producer, &pending)?;
    for tp in flushed {
        if let Some(p) = tasks.get_mut(&tp) {
            p.delivered()?;
        }
    }
    Ok(())
}

/// ` at TOPIC:PARTITION offset N` for an input record, or nothing.
fn at(r: &Record) -> String {
    r.source.as_ref().map_or_else(String::new, |s| {
        format!(" at {}:{} offset {}", s.topic, s.partition, s.offset)
    })
}

/// A task's inputs, its outputs or failure, and the records it rejected.
type TaskResult = (
    Vec<Record>,
    Result<Vec<Record>, super::Failure>,
    Vec<(usize, super::Failure)>,
);

/// Runs every task's batch on its own thread, all at once.
fn run_tasks(
    tasks: &mut HashMap<Tp, Box<dyn Processor>>,
    mut groups: HashMap<Tp, Vec<Record>>,
) -> Vec<TaskResult> {
    thread::scope(|s| {
        let mut handles = Vec::new();
        for (tp, p) in tasks.iter_mut() {
            let Some(inputs) = groups.remove(tp) else {
                continue;
            };
            handles.push(s.spawn(move || {
                let r = p.process(&inputs);
                let rejected = if r.is_ok() {
                    p.take_rejected()
                } else {
                    Vec::new()
                };
                (inputs, r, rejected)
            }));
        }
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    (
                        Vec::new(),
                        Err(super::Failure {
                            error: "the processor panicked".into(),
                            ..Default::default()
                        }),
                        Vec::new(),
                    )
                })
            })
            .collect()
    })
}

fn send(
    rt: &crate::client::blocking::Runtime,
    producer: &Producer,
    topic: &str,
    r: &Record,
) -> Result<DeliveryFuture, ClientError> {
    let headers: Vec<(&str, Option<&[u8]>)> = r
        .headers
        .iter()
        .map(|h| (h.key.as_str(), h.value.as_deref()))
        .collect();
    let rec = ProducerRecord {
        topic,
        partition: r.partition,
        key: r.key.as_deref(),
        value: r.value.as_deref(),
        headers: &headers,
        timestamp: r.timestamp,
    };
    loop {
        match producer.try_send(&rec) {
            Ok(f) => return Ok(f),
            Err(TrySendError::NeedMetadata) => rt.block_on(producer.prepare_topic(topic))?,
            Err(TrySendError::Full) => producer.wait_for_space_blocking(),
            Err(TrySendError::Failed(e)) => return Err(e),
        }
    }
}
