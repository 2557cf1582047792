//! Fetch: the stored batches pass through untouched; long-poll until
//! `min_bytes` are there or `max_wait_ms` passed. No fetch sessions
//! (KIP-227): session id 0 in the answer tells the client to keep sending
//! full requests.
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::ProducerId;
use kafka_protocol::messages::{FetchRequest, FetchResponse};

use super::request::Ctx;
use super::Reply;
use crate::broker::metrics::FetchTally;
use crate::broker::state::Broker;

/// Longest a fetch may wait, whatever the client asks.
const MAX_WAIT: Duration = Duration::from_secs(30);
const FETCH_SESSION_ID_NOT_FOUND: i16 = 70;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: FetchRequest) -> Reply {
    if req.session_id != 0 {
        // We never hand out a session id, so the client's one is not ours.
        let mut resp = FetchResponse::default();
        resp.error_code = FETCH_SESSION_ID_NOT_FOUND;
        return ctx.respond(&resp);
    }
    // Subscribe before the first read so an append in between is not missed.
    let mut appended = broker.topics.subscribe_appends();
    appended.borrow_and_update();
    let first = read_all(broker, &req);
    let min = usize::try_from(req.min_bytes).unwrap_or(0).max(1);
    if first.bytes >= min || req.max_wait_ms <= 0 || first.failed {
        first.tally.sent();
        return ctx.respond(&first.resp);
    }
    let broker = broker.clone();
    let ctx = ctx.clone();
    Reply::Later(Box::pin(async move {
        let wait = Duration::from_millis(req.max_wait_ms as u64).min(MAX_WAIT);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                changed = appended.changed() => {
                    if changed.is_err() { break; }
                    let again = read_all(&broker, &req);
                    if again.bytes >= min || again.failed {
                        again.tally.sent();
                        return ctx.frame(&again.resp);
                    }
                }
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        let last = read_all(&broker, &req);
        last.tally.sent();
        ctx.frame(&last.resp)
    }))
}

/// Reads every requested partition within the partition and response
/// limits.
fn read_all(broker: &Broker, req: &FetchRequest) -> Read {
    let mut budget = usize::try_from(req.max_bytes)
        .ok()
        .filter(|&b| b > 0)
        .unwrap_or(usize::MAX);
    let mut total = 0usize;
    let mut failed = false;
    let mut tally = FetchTally::default();
    let mut resp = FetchResponse::default();
    // 1: read_committed (only up to the last stable offset, with the
    // aborted transactions); 0: read_uncommitted.
    let read_committed = req.isolation_level == 1;
    for topic in &req.topics {
        let mut out = FetchableTopicResponse::default()
            .with_topic(topic.topic.clone())
            .with_topic_id(topic.topic_id);
        for p in &topic.partitions {
            let mut data = PartitionData::default().with_partition_index(p.partition);
            let limit = usize::try_from(p.partition_max_bytes)
                .unwrap_or(0)
                .min(budget);
            let read = broker
                .topics
                .partition(&topic.topic.0, p.partition)
                .and_then(|part| {
                    part.ensure_leader()?;
                    part.check_leader_epoch(p.current_leader_epoch)?;
                    let mut records = BytesMut::new();
                    if limit == 0 && total > 0 {
                        // Response budget spent: later partitions get
                        // nothing this time (the first batch of the
                        // response is always whole, Kafka's rule).
                        let (start, hw, _) = part.offsets();
                        let lso = part.last_stable_offset();
                        return Ok((hw, lso, start, records, None));
                    }
                    let r = part.read_isolated(
                        p.fetch_offset,
                        limit.max(1),
                        read_committed,
                        &mut records,
                    )?;
                    tally.add(part, r.data.bytes_read, p.fetch_offset, r.data.next_offset);
                    Ok((
                        r.data.high_watermark,
                        r.last_stable_offset,
                        r.data.log_start_offset,
                        records,
                        r.aborted,
                    ))
                });
            match read {
                Ok((hw, lso, start, records, aborted)) => {
                    total += records.len();
                    budget = budget.saturating_sub(records.len());
                    data.high_watermark = hw;
                    data.last_stable_offset = lso;
                    data.log_start_offset = start;
                    data.aborted_transactions = aborted.map(|list| {
                        list.into_iter()
                            .map(|a| {
                                AbortedTransaction::default()
                                    .with_producer_id(ProducerId(a.producer_id))
                                    .with_first_offset(a.first_offset)
                            })
                            .collect()
                    });
                    data.records = Some(records.freeze());
                }
                Err(e) => {
                    failed = true;
                    tracing::debug!(topic = %topic.topic.0, partition = p.partition, offset = p.fetch_offset, error = %e, "fetch refused");
                    data.error_code = e.code().code();
                    // The offsets let a client reset after
                    // OFFSET_OUT_OF_RANGE without another round trip.
                    let (start, hw) = broker
                        .topics
                        .partition(&topic.topic.0, p.partition)
                        .map(|part| {
                            let (s, hw, _) = part.offsets();
                            (s, hw)
                        })
                        .unwrap_or((-1, -1));
                    data.high_watermark = hw;
                    data.last_stable_offset = hw;
                    data.log_start_offset = start;
                }
            }
            out.partitions.push(data);
        }
        resp.responses.push(out);
    }
    Read {
        resp,
        bytes: total,
        failed,
        tally,
    }
}

/// One read of every requested partition.
struct Read {
    resp: FetchResponse,
    /// Record bytes in the response.
    bytes: usize,
    /// Whether any partition failed (answered at once, like Kafka does).
    failed: bool,
    /// What the response carries, counted when it is sent.
    tally: FetchTally,
}
