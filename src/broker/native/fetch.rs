//! Fetch: stored batches go out as they are, sent from the page cache with
//! sendfile (no decoding, no re-encoding, no copy through user space);
//! long-poll until `min_bytes` are there or `max_wait_ms` passed. Version
//! 1 adds the isolation level: read_committed stops at the last stable
//! offset and lists the aborted transactions in what it returns.
use std::sync::Arc;
use std::time::Duration;

use bytes::BufMut;

use super::{PartsFrame, Reply};
use crate::broker::metrics::FetchTally;
use crate::broker::partition::{FetchedData, IsolatedRead};
use crate::broker::state::Broker;
use crate::proto::messages::fetch::*;
use crate::proto::messages::Status;
use crate::proto::Wire;

/// Longest a fetch may wait, whatever the client asks.
const MAX_WAIT: Duration = Duration::from_secs(30);

pub async fn handle(broker: &Arc<Broker>, cid: i32, req: FetchRequestV1, version: u16) -> Reply {
    // Subscribe before the first read so an append in between is not missed.
    let mut appended = broker.topics.subscribe_appends();
    appended.borrow_and_update();
    let first = read_all(broker, cid, &req, version);
    let min = (req.min_bytes.max(0) as usize).max(1);
    if first.bytes >= min || req.max_wait_ms <= 0 || first.failed {
        return first.send();
    }
    let broker = broker.clone();
    Reply::Later(Box::pin(async move {
        let wait = Duration::from_millis(req.max_wait_ms as u64).min(MAX_WAIT);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                changed = appended.changed() => {
                    if changed.is_err() { break; }
                    let again = read_all(&broker, cid, &req, version);
                    if again.bytes >= min || again.failed {
                        return again.send();
                    }
                }
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        read_all(&broker, cid, &req, version).send()
    }))
}

struct Fetched {
    reply: Reply,
    /// Record bytes in the response.
    bytes: usize,
    /// Whether any partition answered with an error.
    failed: bool,
    /// What the response carries, counted when it is sent.
    tally: FetchTally,
}

impl Fetched {
    /// This read is the one answered.
    fn send(self) -> Reply {
        self.tally.sent();
        self.reply
    }
}

/// Builds the response frame: encoded fields interleaved with file ranges.
fn read_all(broker: &Broker, cid: i32, req: &FetchRequestV1, version: u16) -> Fetched {
    let read_committed = req.isolation_level == READ_COMMITTED;
    let mut out = PartsFrame::begin(cid);
    let mut budget = if req.max_bytes <= 0 {
        usize::MAX
    } else {
        req.max_bytes as usize
    };
    let mut total = 0usize;
    let mut failed = false;
    let mut tally = FetchTally::default();
    out.buf().put_u32(req.topics.len() as u32);
    for topic in &req.topics {
        topic.name.encode(out.buf());
        out.buf().put_u32(topic.partitions.len() as u32);
        for p in &topic.partitions {
            p.partition.encode(out.buf());
            let limit = (p.max_bytes.max(0) as usize).min(budget);
            let read = broker
                .topics
                .partition(&topic.name, p.partition)
                .and_then(|part| {
                    // Consumers read from the leader only.
                    part.ensure_leader()?;
                    if limit == 0 && total > 0 {
                        // Budget spent: report positions, send no records
                        // (the first batch overall is always sent whole).
                        let (log_start_offset, high_watermark, _) = part.offsets();
                        Ok::<_, crate::broker::error::BrokerError>((
                            Vec::new(),
                            IsolatedRead {
                                data: FetchedData {
                                    high_watermark,
                                    log_start_offset,
                                    bytes_read: 0,
                                    next_offset: p.fetch_offset,
                                },
                                last_stable_offset: part.last_stable_offset(),
                                // Nothing returned, so nothing overlapped.
                                aborted: read_committed.then(Vec::new),
                            },
                        ))
                    } else {
                        part.read_slices_isolated(p.fetch_offset, limit.max(1), read_committed)
                    }
                    .map(|read| (part, read))
                });
            match read {
                Ok((part, (slices, read))) => {
                    let data = &read.data;
                    tally.add(part, data.bytes_read, p.fetch_offset, data.next_offset);
                    Status::ok().encode(out.buf());
                    out.buf().put_i64(data.high_watermark);
                    if version >= 1 {
                        out.buf().put_i64(read.last_stable_offset);
                    }
                    out.buf().put_i64(data.log_start_offset);
                    if version >= 1 {
                        let aborted: Option<Vec<AbortedTransaction>> = read.aborted.map(|list| {
                            list.into_iter()
                                .map(|a| AbortedTransaction {
                                    producer_id: a.producer_id,
                                    first_offset: a.first_offset,
                                })
                                .collect()
                        });
                        aborted.encode(out.buf());
                    }
                    out.buf().put_u32(data.bytes_read as u32);
                    out.files(slices);
                    total += data.bytes_read;
                    budget = budget.saturating_sub(data.bytes_read);
                }
                Err(e) => {
                    failed = true;
                    let (start_off, hw) = broker
                        .topics
                        .partition(&topic.name, p.partition)
                        .map(|part| {
                            let (s, hw, _) = part.offsets();
                            (s, hw)
                        })
                        .unwrap_or((-1, -1));
                    e.status().encode(out.buf());
                    out.buf().put_i64(hw);
                    if version >= 1 {
                        out.buf().put_i64(hw);
                    }
                    out.buf().put_i64(start_off);
                    if version >= 1 {
                        None::<Vec<AbortedTransaction>>.encode(out.buf());
                    }
                    out.buf().put_u32(0);
                }
            }
        }
    }
    Fetched {
        reply: out.finish(),
        bytes: total,
        failed,
        tally,
    }
}
