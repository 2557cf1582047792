//! The Streams API, as a client: read input topics as a consumer-group
//! member, run each polled batch through a processor (any Unix program in
//! `exec`), write the results to the output topic with the idempotent
//! producer (acks=all), and commit the input offsets only afterwards.
//!
//! One input partition is one task: a polled batch is split by partition
//! and every partition's records go through their own child process,
//! concurrently. Consumer groups spread the partitions, and so the tasks,
//! over processes.
//!
//! At least once, exactly: an input offset is committed only when every
//! output derived from it and from every record before it is acknowledged
//! (the runner waits for all acknowledgements of a batch before it commits
//! and before it polls again, so a rebalance inside `poll` only ever commits
//! acknowledged work). Duplicates after a crash are possible, loss is not.
//!
//! Layering: `cli → commands → stream → client`; nothing here reaches into
//! the broker.
pub mod dead_letter;
pub mod dry_run;
pub mod exec;
pub mod exec_line;
pub mod format;
pub mod jq;
pub mod runner;
pub mod stateful;
pub mod topology;

pub use dead_letter::{Failure, OnError};
pub use dry_run::DryRun;
pub use exec::{ExecConfig, ExecProcessor};
pub use exec_line::LineProcessor;
pub use format::Format;
pub use jq::JqProcessor;
pub use runner::{run, RunStats, StreamConfig};

use std::sync::Arc;

use bytes::Bytes;

use crate::record::Header;

/// Where an input record was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
}

/// A record flowing through a topology.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<Header>,
    /// Milliseconds since the epoch; `None` means "now" when produced.
    pub timestamp: Option<i64>,
    /// The output partition; `None` lets the partitioner choose by key.
    pub partition: Option<i32>,
    /// Set on input records (and kept by a failure for the dead letter).
    pub source: Option<Source>,
}

/// Maps one task's batch of records to output records. A failure fails
/// the whole batch (the runner then applies `--on-error` to its records).
pub trait Processor: Send {
    fn process(&mut self, batch: &[Record]) -> Result<Vec<Record>, Failure>;

    /// After a successful `process`: the records of that batch (by index)
    /// that failed on their own and made no output; `--on-error` applies
    /// to each alone. A child processor fails whole batches instead.
    fn take_rejected(&mut self) -> Vec<(usize, Failure)> {
        Vec::new()
    }

    /// Every output of the batches processed so far is acknowledged, and
    /// their offsets are about to be committed: a stateful processor saves
    /// its state (with the input offset it reflects) now. An error stops
    /// the stream before the commit.
    fn delivered(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    /// The task saw no record for a while: outputs due by wall-clock time
    /// `now_ms` (the `--idle-flush-ms` fallback of windowed `final` emit).
    fn idle(&mut self, _now_ms: i64) -> Vec<Record> {
        Vec::new()
    }
}
