//! A consumer of explicitly assigned partitions.
//!
//! Fetch-ahead: as soon as a fetch response arrives its positions are
//! advanced from the batch headers alone and the next fetch is sent, before
//! the caller sees (and decodes) the records, so the broker is working on
//! the next response while the caller processes this one.
//!
//! Assignment is dynamic (`assign`, `seek`, `unassign`) so a group
//! coordinator can drive it. A fetch in flight for a partition that has
//! since been sought or unassigned is discarded for that partition.
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;

use super::admin::{list_offsets, OffsetSpec};
use super::backoff::jittered;
use super::connection::{Connection, ResponseFuture};
use super::error::{ClientError, Result};
use super::isolation::{AbortFilter, IsolationLevel};
use super::metadata::{Client, Lane};
use crate::proto::messages::fetch::{
    AbortedTransaction, FetchPartition, FetchRequestV1, FetchResponseV1, FetchTopic,
};
use crate::proto::{ApiKey, ErrorCode};
use crate::record::{batches, BatchHeader, Header, RecordIter};

/// Where to start reading a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOffset {
    Earliest,
    Latest,
    Offset(i64),
    /// N records before the end (clamped to the start of the log).
    FromEnd(i64),
    /// First record at or after this timestamp (ms); the end if none.
    Timestamp(i64),
}

#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub max_wait: Duration,
    pub min_bytes: i32,
    pub fetch_max_bytes: i32,
    pub partition_max_bytes: i32,
    /// `retry.backoff.ms`: the first wait after a fetch failed because a
    /// broker was unreachable, restarting or no longer the leader; doubles
    /// (with jitter) per failure up to `retry_backoff_max`. The consumer
    /// keeps its positions and retries, as Kafka's does, however long the
    /// outage lasts.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms`.
    pub retry_backoff_max: Duration,
    /// `isolation.level`: read_committed stops at the last stable offset
    /// and drops aborted transactions.
    pub isolation: IsolationLevel,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            max_wait: Duration::from_millis(500),
            min_bytes: 1,
            // Measured on loopback: 2–4 MiB responses read fastest; larger
            // ones cost more in fresh-buffer page faults than they save.
            fetch_max_bytes: 32 * 1024 * 1024,
            partition_max_bytes: 4 * 1024 * 1024,
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1000),
            isolation: IsolationLevel::ReadUncommitted,
        }
    }
}

/// A decoded record and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<Header>,
}

/// Undecoded batches of one partition, for callers that only count.
#[derive(Debug, Clone)]
pub struct FetchedPartition {
    pub topic: Arc<str>,
    pub partition: i32,
    /// The position this data was fetched from; records before it (in the
    /// first batch) are not the caller's.
    pub fetch_offset: i64,
    pub high_watermark: i64,
    /// Whole record batches.
    pub records: Bytes,
    /// Under read_committed, the aborted transactions the batches overlap:
    /// their batches are not the caller's (empty under read_uncommitted).
    pub aborted: Vec<AbortedTransaction>,
}

impl FetchedPartition {
    /// Records at or after `fetch_offset`, counted from batch headers alone.
    pub fn record_count(&self) -> u64 {
        let mut n = 0u64;
        let mut filter = AbortFilter::new(&self.aborted);
        for b in batches(&self.records) {
            let Ok(b) = b else { break };
            let Ok(h) = BatchHeader::parse(b) else { break };
            if !filter.keep(&h, b) || h.next_offset() <= self.fetch_offset {
                continue;
            }
            if h.base_offset >= self.fetch_offset {
                n += h.records_count.max(0) as u64;
            } else {
                // Offsets inside a batch are contiguous unless compacted;
                // that case over-counts nothing that matters for progress.
                n += (h.last_offset() - self.fetch_offset + 1).max(0) as u64;
            }
        }
        n
    }

    /// Decodes the records at or after `fetch_offset`.
    pub fn decode(&self, out: &mut Vec<ConsumerRecord>) -> Result<()> {
        let mut pos = 0usize;
        let mut filter = AbortFilter::new(&self.aborted);
        for b in batches(&self.records) {
            let b = b?;
            let range = pos..pos + b.len();
            pos += b.len();
            let h = BatchHeader::parse(b)?;
            if !filter.keep(&h, b) || h.next_offset() <= self.fetch_offset {
                continue;
            }
            for r in RecordIter::new(self.records.slice(range))? {
                let r = r?;
                if r.offset < self.fetch_offset {
                    continue;
                }
                out.push(ConsumerRecord {
                    topic: self.topic.clone(),
                    partition: self.partition,
                    offset: r.offset,
                    timestamp: r.timestamp,
                    key: r.key,
                    value: r.value,
                    headers: r.headers,
                });
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Assignment {
    topic: Arc<str>,
    partition: i32,
    position: i64,
    /// -1 until known; the last stable offset under read_committed (the
    /// end such a consumer can reach).
    high_watermark: i64,
    leader: i32,
}

struct InFlight {
    node: i32,
    conn: Arc<Connection>,
    fut: ResponseFuture,
    /// (topic, partition) → offset the fetch asked for.
    requested: HashMap<(Arc<str>, i32), i64>,
}

pub struct Consumer {
    client: Client,
    config: ConsumerConfig,
    assigned: Vec<Assignment>,
    in_flight: VecDeque<InFlight>,
    /// Since when, and how many times in a row, fetching failed with an
    /// error worth waiting out (None while fetching works).
    failing: Option<(Instant, u32)>,
}

/// A failure of a running consumer that retrying can cure: a broker gone,
/// restarting or no longer leading. A topic a restarted broker does not
/// know yet (it answers before it has caught up with the cluster's
/// metadata) counts too, for a request timeout.
fn is_transient(e: &ClientError) -> bool {
    e.is_retriable()
        || matches!(
            e,
            ClientError::Unreachable { .. }
                | ClientError::UnknownTopic(_)
                | ClientError::UnknownPartition { .. }
        )
}

impl Consumer {
    pub fn new(client: Client, config: ConsumerConfig) -> Consumer {
        Consumer {
            client,
            config,
            assigned: Vec::new(),
            in_flight: VecDeque::new(),
            failing: None,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Partitions of a topic (all when `partitions` is None), each starting
    /// at `start`. Unknown topics and partitions are errors.
    pub async fn assign(
        &mut self,
        topic: &str,
        partitions: Option<&[i32]>,
        start: StartOffset,
    ) -> Result<()> {
        let info = self.client.topic(topic, false).await?;
        let wanted: Vec<i32> = match partitions {
            Some(ps) => {
                for &p in ps {
                    if info.partition(p).is_none() {
                        return Err(ClientError::UnknownPartition {
                            topic: topic.to_string(),
                            partition: p,
                        });
                    }
                }
                ps.to_vec()
            }
            None => info.partitions.iter().map(|p| p.partition).collect(),
        };
        let offsets = self.resolve(topic, &wanted, start).await?;
        let topic: Arc<str> = Arc::from(topic);
        for (p, (position, hwm)) in wanted.into_iter().zip(offsets) {
            let leader = self.client.leader(&topic, p).await?;
            self.assigned
                .retain(|a| !(a.topic == topic && a.partition == p));
            self.assigned.push(Assignment {
                topic: topic.clone(),
                partition: p,
                position,
                high_watermark: hwm,
                leader,
            });
        }
        Ok(())
    }

    /// Assigns one partition at a known offset (e.g. a committed one).
    pub async fn assign_at(&mut self, topic: &str, partition: i32, offset: i64) -> Result<()> {
        self.assign(topic, Some(&[partition]), StartOffset::Offset(offset))
            .await
    }

    /// Moves an assigned partition; data in flight for it is dropped.
    pub async fn seek(&mut self, topic: &str, partition: i32, start: StartOffset) -> Result<()> {
        let (pos, hwm) = self
            .resolve(topic, &[partition], start)
            .await?
            .pop()
            .ok_or_else(|| ClientError::UnknownPartition {
                topic: topic.to_string(),
                partition,
            })?;
        match self
            .assigned
            .iter_mut()
            .find(|a| &*a.topic == topic && a.partition == partition)
        {
            Some(a) => {
                a.position = pos;
                a.high_watermark = hwm;
                Ok(())
            }
            None => Err(ClientError::UnknownPartition {
                topic: topic.to_string(),
                partition,
            }),
        }
    }

    pub fn unassign(&mut self, topic: &str, partition: i32) {
        self.assigned
            .retain(|a| !(&*a.topic == topic && a.partition == partition));
    }

    pub fn unassign_all(&mut self) {
        self.assigned.clear();
        self.in_flight.clear();
    }

    /// (topic, partition, next offset to read) for every assigned partition.
    pub fn assignment(&self) -> Vec<(Arc<str>, i32, i64)> {
        self.assigned
            .iter()
            .map(|a| (a.topic.clone(), a.partition, a.position))
            .collect()
    }

    pub fn position(&self, topic: &str, partition: i32) -> Option<i64> {
        self.assigned
            .iter()
            .find(|a| &*a.topic == topic && a.partition == partition)
            .map(|a| a.position)
    }

    /// True when every assigned partition has been read up to its high
    /// watermark as last reported by the broker.
    pub fn at_end(&self) -> bool {
        self.assigned
            .iter()
            .all(|a| a.high_watermark >= 0 && a.position >= a.high_watermark)
    }

    /// Start offsets (and the current end) for partitions of a topic.
    async fn resolve(
        &self,
        topic: &str,
        partitions: &[i32],
        start: StartOffset,
    ) -> Result<Vec<(i64, i64)>> {
        let latest = list_offsets(&self.client, topic, partitions, OffsetSpec::Latest).await?;
        let latest: HashMap<i32, i64> = latest
            .into_iter()
            .map(|p| (p.partition, p.offset))
            .collect();
        let earliest = match start {
            StartOffset::Earliest | StartOffset::FromEnd(_) | StartOffset::Offset(_) => {
                list_offsets(&self.client, topic, partitions, OffsetSpec::Earliest)
                    .await?
                    .into_iter()
                    .map(|p| (p.partition, p.offset))
                    .collect()
            }
            _ => HashMap::new(),
        };
        let by_time: HashMap<i32, i64> = match start {
            StartOffset::Timestamp(ts) => {
                list_offsets(&self.client, topic, partitions, OffsetSpec::Timestamp(ts))
                    .await?
                    .into_iter()
                    .map(|p| (p.partition, p.offset))
                    .collect()
            }
            _ => HashMap::new(),
        };
        let mut out = Vec::with_capacity(partitions.len());
        for p in partitions {
            let end = latest.get(p).copied().unwrap_or(-1);
            let begin = earliest.get(p).copied().unwrap_or(0);
            let pos = match start {
                StartOffset::Earliest => begin,
                StartOffset::Latest => end,
                // Out-of-range offsets are clamped rather than failed: the
                // caller asked for "from here", the log says where here is.
                StartOffset::Offset(o) => o.clamp(begin, end.max(begin)),
                StartOffset::FromEnd(n) => (end - n).max(begin),
                StartOffset::Timestamp(_) => match by_time.get(p) {
                    Some(&o) if o >= 0 => o,
                    _ => end,
                },
            };
            out.push((pos, end));
        }
        Ok(out)
    }

    /// Sends a fetch to every node that has assigned partitions and no
    /// fetch in flight.
    async fn fill_in_flight(&mut self) -> Result<()> {
        let mut nodes: Vec<i32> = self.assigned.iter().map(|a| a.leader).collect();
        nodes.sort_unstable();
        nodes.dedup();
        for node in nodes {
            if self.in_flight.iter().any(|f| f.node == node) {
                continue;
            }
            self.send_fetch(node).await?;
        }
        Ok(())
    }

    async fn send_fetch(&mut self, node: i32) -> Result<()> {
        let mut topics: Vec<FetchTopic> = Vec::new();
        let mut requested = HashMap::new();
        for a in self.assigned.iter().filter(|a| a.leader == node) {
            let part = FetchPartition {
                partition: a.partition,
                fetch_offset: a.position,
                max_bytes: self.config.partition_max_bytes,
            };
            requested.insert((a.topic.clone(), a.partition), a.position);
            match topics.iter_mut().find(|t| *t.name == *a.topic) {
                Some(t) => t.partitions.push(part),
                None => topics.push(FetchTopic {
                    name: a.topic.to_string(),
                    partitions: vec![part],
                }),
            }
        }
        if topics.is_empty() {
            return Ok(());
        }
        let req = FetchRequestV1 {
            max_wait_ms: self.config.max_wait.as_millis().min(i32::MAX as u128) as i32,
            min_bytes: self.config.min_bytes,
            max_bytes: self.config.fetch_max_bytes,
            topics,
            isolation_level: self.config.isolation.wire(),
        };
        let conn = self.client.connection(node, Lane::Fetch).await?;
        let fut = conn.send(ApiKey::Fetch, &req);
        self.in_flight.push_back(InFlight {
            node,
            conn,
            fut,
            requested,
        });
        Ok(())
    }

    /// Waits for the next fetch response and returns its undecoded data.
    /// May return an empty list (nothing arrived within `max_wait`, or the
    /// fetch failed in a way worth retrying: the positions stay, and the
    /// next call tries again after a backoff, on fresh metadata).
    pub async fn poll_raw(&mut self) -> Result<Vec<FetchedPartition>> {
        match self.fetch_once().await {
            Ok(out) => {
                if let Some((since, _)) = self.failing.take() {
                    tracing::info!("fetching again after {} ms", since.elapsed().as_millis());
                }
                Ok(out)
            }
            Err(e) if is_transient(&e) => {
                let (since, failures) = *self.failing.get_or_insert_with(|| (Instant::now(), 0));
                let unknown = matches!(
                    e,
                    ClientError::UnknownTopic(_) | ClientError::UnknownPartition { .. }
                );
                // A topic that stays unknown was deleted.
                if unknown && since.elapsed() >= self.client.request_timeout() {
                    return Err(e);
                }
                if failures == 0 {
                    tracing::debug!(error = %e, "fetch failed; retrying from the same positions");
                }
                self.failing = Some((since, failures + 1));
                self.in_flight.clear();
                let wait = jittered(
                    self.config.retry_backoff,
                    self.config.retry_backoff_max,
                    failures,
                );
                tokio::time::sleep(wait).await;
                self.refresh_leaders().await;
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }

    async fn fetch_once(&mut self) -> Result<Vec<FetchedPartition>> {
        self.fill_in_flight().await?;
        let Some(f) = self.in_flight.pop_front() else {
            // Nothing assigned: behave like an empty long poll.
            tokio::time::sleep(self.config.max_wait).await;
            return Ok(Vec::new());
        };
        let timeout = self.config.max_wait + self.client.request_timeout();
        let body = match tokio::time::timeout(timeout, f.fut).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(ClientError::Timeout {
                    what: format!("fetch from {}", f.conn.addr()),
                    after: timeout,
                })
            }
        };
        let resp: FetchResponseV1 = f.conn.decode(body)?;
        if !resp.status.is_ok() {
            return Err(ClientError::broker(
                resp.status.error_code(),
                resp.status.message.as_deref(),
            ));
        }
        let mut out = Vec::new();
        let mut reset: Vec<(Arc<str>, i32)> = Vec::new();
        let mut stale = false;
        for t in resp.topics {
            for p in t.partitions {
                let Some(a) = self
                    .assigned
                    .iter_mut()
                    .find(|a| *a.topic == *t.name && a.partition == p.partition)
                else {
                    continue;
                };
                let asked = f.requested.get(&(a.topic.clone(), a.partition)).copied();
                if asked != Some(a.position) {
                    continue; // sought or reassigned since the fetch left
                }
                match p.status.error_code() {
                    ErrorCode::None => {}
                    ErrorCode::OffsetOutOfRange => {
                        reset.push((a.topic.clone(), a.partition));
                        continue;
                    }
                    code if code.is_retriable() => {
                        stale = true;
                        continue;
                    }
                    code => {
                        return Err(ClientError::broker(code, p.status.message.as_deref()));
                    }
                }
                a.high_watermark = match self.config.isolation {
                    IsolationLevel::ReadCommitted => p.last_stable_offset,
                    IsolationLevel::ReadUncommitted => p.high_watermark,
                };
                let fetch_offset = a.position;
                for b in batches(&p.records) {
                    let Ok(b) = b else { break };
                    let Ok(h) = BatchHeader::parse(b) else { break };
                    a.position = a.position.max(h.next_offset());
                }
                if !p.records.is_empty() {
                    out.push(FetchedPartition {
                        topic: a.topic.clone(),
                        partition: a.partition,
                        fetch_offset,
                        high_watermark: p.high_watermark,
                        records: p.records,
                        aborted: p.aborted_transactions.unwrap_or_default(),
                    });
                }
            }
        }
        // Positions moved past what `out` holds: from here on nothing may
        // fail the call, or those records would be lost. What fails is
        // tried again by the next poll.
        for (topic, partition) in reset {
            tracing::warn!(%topic, partition, "offset out of range, resetting to the nearest valid offset");
            let pos = self.position(&topic, partition).unwrap_or(0);
            if let Err(e) = self.seek(&topic, partition, StartOffset::Offset(pos)).await {
                tracing::debug!(error = %e, "reset failed; the next fetch asks again");
            }
        }
        if stale {
            self.refresh_leaders().await;
        }
        // Fetch-ahead: the next request leaves before the caller decodes.
        if self.assigned.iter().any(|a| a.leader == f.node) {
            if let Err(e) = self.send_fetch(f.node).await {
                tracing::debug!(error = %e, "fetch-ahead failed; the next poll retries");
            }
        }
        Ok(out)
    }

    /// Waits for the next fetch response and decodes it.
    pub async fn poll(&mut self) -> Result<Vec<ConsumerRecord>> {
        let raw = self.poll_raw().await?;
        let mut out = Vec::new();
        for p in &raw {
            p.decode(&mut out)?;
        }
        Ok(out)
    }

    /// Re-reads leaders after a not-leader style error.
    async fn refresh_leaders(&mut self) {
        let mut topics: Vec<Arc<str>> = self.assigned.iter().map(|a| a.topic.clone()).collect();
        topics.sort();
        topics.dedup();
        for t in topics {
            if self.client.refresh_topic(&t, false).await.is_err() {
                // Broker unreachable for a moment; the next poll retries.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            for a in self.assigned.iter_mut().filter(|a| a.topic == t) {
                if let Ok(l) = self.client.leader(&t, a.partition).await {
                    a.leader = l;
                }
            }
        }
        self.in_flight.clear();
    }
}
