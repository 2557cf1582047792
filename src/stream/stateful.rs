//! A topology as the stream runner's processor: one per task, with the
//! task's state file under the state directory, and optional steps before
//! the topology (the `--jq`/`--filter` expressions, a child process).
//!
//! Inputs at or below the offset saved with the state are dropped before
//! any step runs (they are in the state already: the crash came between
//! saving the state and committing the offsets). The state is saved in
//! [`Processor::delivered`], after the outputs are acknowledged and before
//! the commit, so every saved state's outputs are out.
use std::path::PathBuf;

use bytes::Bytes;

use super::dead_letter::{HEADER_OFFSET, HEADER_PARTITION, HEADER_TOPIC};
use super::topology::{Task, TaskState, Topology};
use super::{Failure, Processor, Record};
use crate::record::Header;

/// The store of the highest origin offset counted per origin partition
/// (a stage reading a repartition topic).
const ORIGINS_STORE: &str = "origins";

pub struct TopologyProcessor {
    topology: Topology,
    /// `<state-dir>/<group>`; `None` keeps the state in memory only.
    dir: Option<PathBuf>,
    before: Option<Box<dyn Processor>>,
    task: Option<(Option<PathBuf>, Task)>,
    rejected: Vec<(usize, Failure)>,
    dirty: bool,
    /// Skip records whose origin (headers set by [`OriginTagger`]) the
    /// state already holds: stage one's replays after a crash.
    by_origin: bool,
}

/// A record's origin from its headers: (topic and partition, offset).
fn origin(r: &Record) -> Option<(Vec<u8>, i64)> {
    let get = |name: &str| {
        r.headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| h.value.as_deref())
    };
    let offset = std::str::from_utf8(get(HEADER_OFFSET)?)
        .ok()?
        .parse()
        .ok()?;
    let mut key = get(HEADER_TOPIC)?.to_vec();
    key.push(0);
    key.extend_from_slice(get(HEADER_PARTITION)?);
    Some((key, offset))
}

impl TopologyProcessor {
    pub fn new(
        topology: Topology,
        dir: Option<PathBuf>,
        before: Option<Box<dyn Processor>>,
    ) -> TopologyProcessor {
        TopologyProcessor {
            topology,
            dir,
            before,
            task: None,
            rejected: Vec::new(),
            dirty: false,
            by_origin: false,
        }
    }

    /// Deduplicates by origin (for the counting stage of a repartition).
    pub fn by_origin(mut self) -> TopologyProcessor {
        self.by_origin = true;
        self
    }

    /// Whether `r`'s origin is new to the state; records it if so.
    fn new_origin(state: &mut TaskState, r: &Record) -> bool {
        let Some((key, offset)) = origin(r) else {
            return true;
        };
        let mut seen = state.typed::<i64>(ORIGINS_STORE);
        if seen.get(&key).is_some_and(|o| offset <= o) {
            return false;
        }
        seen.put(&key, &offset);
        true
    }

    /// The task, its state loaded from its file on first use.
    fn task(&mut self, first: &Record) -> Result<&mut Task, Failure> {
        if self.task.is_none() {
            let path = match (&self.dir, &first.source) {
                (Some(dir), Some(s)) => {
                    Some(dir.join(format!("{}-{}.state", s.topic, s.partition)))
                }
                _ => None,
            };
            let state = match &path {
                Some(p) => TaskState::load(p).map_err(|e| Failure {
                    error: format!("{e:#}"),
                    ..Failure::default()
                })?,
                None => TaskState::new(),
            };
            if let (Some(p), Some(s)) = (&path, &first.source) {
                tracing::info!(
                    topic = %s.topic,
                    partition = s.partition,
                    offset = state.offset,
                    bytes = state.size_bytes(),
                    file = %p.display(),
                    "task state restored"
                );
            }
            self.task = Some((path, Task::new(&self.topology, state)));
        }
        match &mut self.task {
            Some((_, t)) => Ok(t),
            None => Err(Failure::default()),
        }
    }
}

impl Processor for TopologyProcessor {
    fn process(&mut self, batch: &[Record]) -> Result<Vec<Record>, Failure> {
        self.rejected.clear();
        let Some(first) = batch.first() else {
            return Ok(Vec::new());
        };
        let done = self.task(first)?.state.offset;
        let offset = |r: &Record| r.source.as_ref().map_or(i64::MAX, |s| s.offset);
        // Indices into `batch` of the records the state does not hold yet.
        let mut fresh: Vec<usize> = (0..batch.len())
            .filter(|&i| offset(&batch[i]) > done)
            .collect();
        if self.by_origin {
            let task = self.task(first)?;
            fresh.retain(|&i| Self::new_origin(&mut task.state, &batch[i]));
        }
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        let last = batch.iter().map(offset).filter(|o| *o != i64::MAX).max();
        let inputs: Vec<Record>;
        let (records, rejected) = match &mut self.before {
            Some(before) => {
                inputs = fresh.iter().map(|&i| batch[i].clone()).collect();
                let out = before.process(&inputs)?;
                let rejected: Vec<(usize, Failure)> = before
                    .take_rejected()
                    .into_iter()
                    .filter_map(|(i, f)| fresh.get(i).map(|&orig| (orig, f)))
                    .collect();
                (out, rejected)
            }
            None => (
                fresh.iter().map(|&i| batch[i].clone()).collect(),
                Vec::new(),
            ),
        };
        self.rejected = rejected;
        let mut outputs = Vec::new();
        let task = self.task(first)?;
        for r in records {
            task.apply(r, &mut outputs);
        }
        if let Some(o) = last {
            task.state.offset = task.state.offset.max(o);
        }
        self.dirty = true;
        Ok(outputs)
    }

    fn take_rejected(&mut self) -> Vec<(usize, Failure)> {
        std::mem::take(&mut self.rejected)
    }

    fn delivered(&mut self) -> anyhow::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        if let Some((Some(path), task)) = &self.task {
            task.state.save(path)?;
        }
        self.dirty = false;
        Ok(())
    }

    fn idle(&mut self, now_ms: i64) -> Vec<Record> {
        let mut out = Vec::new();
        if let Some((_, task)) = &mut self.task {
            task.advance_to(now_ms, &mut out);
            if !out.is_empty() {
                self.dirty = true;
            }
        }
        out
    }
}

/// Adds the origin headers (topic, partition, offset of the input record)
/// to every output of `inner`, so a stage after a repartition topic can
/// tell a replayed record from a new one.
pub struct OriginTagger {
    pub inner: Box<dyn Processor>,
}

impl Processor for OriginTagger {
    fn process(&mut self, batch: &[Record]) -> Result<Vec<Record>, Failure> {
        let mut out = self.inner.process(batch)?;
        for r in &mut out {
            let Some(s) = &r.source else { continue };
            let tags = [
                (HEADER_TOPIC, s.topic.to_string()),
                (HEADER_PARTITION, s.partition.to_string()),
                (HEADER_OFFSET, s.offset.to_string()),
            ];
            r.headers.retain(|h| !tags.iter().any(|(k, _)| h.key == *k));
            r.headers.extend(tags.into_iter().map(|(k, v)| Header {
                key: k.to_string(),
                value: Some(Bytes::from(v)),
            }));
        }
        Ok(out)
    }

    fn take_rejected(&mut self) -> Vec<(usize, Failure)> {
        self.inner.take_rejected()
    }
}
