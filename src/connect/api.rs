//! The two traits a connector type implements, and what flows through them.
//!
//! A connector is plain blocking code on its own thread: the worker
//! ([`super::worker`]) owns the client side (consumer group, producer,
//! offsets, dead letters, restarts), so a [`Sink`] only writes rows and a
//! [`Source`] only reads them. Both are deliberately narrow so file,
//! SQLite and PostgreSQL connectors plug in the same way.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::client::ConsumerRecord;

/// A topic partition as sinks see it.
pub type TopicPartition = (Arc<str>, i32);

/// A record-level failure: this record cannot be written, the rest of the
/// batch can. The worker applies `[errors]` to it (fail the task, skip,
/// or dead-letter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError(pub String);

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A sink's refusal to write a batch because another worker wrote its
/// partitions since this task last looked: retrying the batch cannot
/// help, the task restarts and seeks again.
#[derive(Debug)]
pub struct Fenced(pub String);

impl std::fmt::Display for Fenced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fenced {}

/// What a sink calls for a record it cannot write. `Ok` means "go on
/// without it" (it was skipped or dead-lettered, durably, before this
/// returns); `Err` means the task fails: the sink must then write nothing
/// of the batch (roll back) and return the error.
pub trait Rejects {
    fn reject(&mut self, record: &ConsumerRecord, why: &RecordError) -> anyhow::Result<()>;
}

/// Writes records read from topics to another system.
///
/// Offsets: a sink that stores its own progress beside its data (in the
/// same transaction) returns it from [`stored_offsets`](Sink::stored_offsets);
/// the worker seeks there on start and after every rebalance, which makes
/// the sink exactly-once. A sink that returns nothing there resumes at the
/// consumer group's commits (at least once). Either way the worker commits
/// the group only after [`put`](Sink::put) returned.
pub trait Sink: Send {
    /// Where each of `partitions` resumes, for those the sink knows.
    fn stored_offsets(
        &mut self,
        partitions: &[TopicPartition],
    ) -> anyhow::Result<HashMap<TopicPartition, i64>>;

    /// Writes `batch` durably before returning, together with each
    /// partition's [`OffsetRange::next`] if the sink stores offsets. An
    /// `Err` fails the task; nothing of the batch is committed.
    fn put(
        &mut self,
        batch: &[ConsumerRecord],
        ranges: &[OffsetRange],
        rejects: &mut dyn Rejects,
    ) -> anyhow::Result<()>;
}

/// What one batch covers of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetRange {
    pub partition: TopicPartition,
    /// Where this task believes the sink's stored offset stands before the
    /// batch: the stored offset it resumed at, or the previous batch's
    /// `next`; `None` when nothing was stored at assignment. A sink that
    /// stores offsets must refuse (`Err`) a batch when its stored offset
    /// is not this: another worker wrote the partition meanwhile (a
    /// rebalance moved it, or this task stalled past its session), and
    /// writing would duplicate. The task then restarts and seeks again.
    pub start: Option<i64>,
    /// The offset after the batch's last record of the partition.
    pub next: i64,
}

/// A record a source read, with the position to resume after it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub key: Option<Vec<u8>>,
    /// `None` is a tombstone (a deleted row).
    pub value: Option<Vec<u8>>,
    /// Milliseconds since the epoch; `None` means now.
    pub timestamp: Option<i64>,
    /// Which independent stream of the source this came from (a table, a
    /// file): offsets are kept per source partition.
    pub source_partition: String,
    /// Where to resume that source partition after this record (any JSON
    /// the source understands in [`Source::start`]).
    pub source_offset: serde_json::Value,
}

/// Reads records from another system into a topic.
///
/// At least once: the worker produces a polled batch (acks=all,
/// idempotent), waits for every acknowledgement, then stores the last
/// `source_offset` of each source partition in the offsets topic. After a
/// crash the source resumes from the last stored offsets and may read
/// the last batch again.
pub trait Source: Send {
    /// Called once per task start with the stored offsets (source
    /// partition → last stored `source_offset`); set up and seek here.
    fn start(&mut self, offsets: &HashMap<String, serde_json::Value>) -> anyhow::Result<()>;

    /// The next records after the ones returned before, or none yet. The
    /// worker calls it again only once everything it returned before is
    /// acknowledged and its offsets are stored (so a source may then
    /// forget it, e.g. prune a change table).
    fn poll(&mut self) -> anyhow::Result<Vec<SourceRecord>>;

    /// How long the worker waits after an empty poll.
    fn poll_interval(&self) -> Duration {
        Duration::from_millis(1000)
    }
}
