//! Fetch: read whole stored batches from the page cache straight into the
//! response frame (no decoding, no re-encoding); long-poll until
//! `min_bytes` are there or `max_wait_ms` passed.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, BytesMut};

use super::Reply;
use crate::broker::state::Broker;
use crate::proto::frame::ResponseHeader;
use crate::proto::messages::fetch::*;
use crate::proto::messages::Status;
use crate::proto::Wire;

/// Longest a fetch may wait, whatever the client asks.
const MAX_WAIT: Duration = Duration::from_secs(30);

pub async fn handle(broker: &Arc<Broker>, cid: i32, req: FetchRequest, _peer: SocketAddr) -> Reply {
    // Subscribe before the first read so an append in between is not missed.
    let mut appended = broker.topics.subscribe_appends();
    appended.borrow_and_update();
    let (out, bytes, failed) = read_all(broker, cid, &req);
    let min = req.min_bytes.max(0) as usize;
    if bytes >= min.max(1) || req.max_wait_ms <= 0 || failed {
        return Reply::Now(out);
    }
    let broker = broker.clone();
    Reply::Later(Box::pin(async move {
        let wait = Duration::from_millis(req.max_wait_ms as u64).min(MAX_WAIT);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                changed = appended.changed() => {
                    if changed.is_err() { break; }
                    let (out, bytes, failed) = read_all(&broker, cid, &req);
                    if bytes >= min.max(1) || failed {
                        return out;
                    }
                }
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        read_all(&broker, cid, &req).0
    }))
}

/// Encodes the whole response, reading records directly into it. Returns
/// the frame, the record bytes it holds and whether any partition failed.
fn read_all(broker: &Broker, cid: i32, req: &FetchRequest) -> (BytesMut, usize, bool) {
    let mut out = BytesMut::with_capacity(1024);
    let start = ResponseHeader {
        correlation_id: cid,
    }
    .begin(&mut out);
    Status::ok().encode(&mut out);
    let mut budget = if req.max_bytes <= 0 {
        usize::MAX
    } else {
        req.max_bytes as usize
    };
    let mut total = 0usize;
    let mut failed = false;
    out.put_u32(req.topics.len() as u32);
    for topic in &req.topics {
        topic.name.encode(&mut out);
        out.put_u32(topic.partitions.len() as u32);
        for p in &topic.partitions {
            p.partition.encode(&mut out);
            let part = broker.topics.partition(&topic.name, p.partition);
            let limit = (p.max_bytes.max(0) as usize).min(budget);
            // Once the budget is spent, later partitions get nothing this
            // time (but a first batch is always whole, Kafka's rule).
            let result = part.and_then(|part| {
                let status_at = out.len();
                Status::ok().encode(&mut out);
                let meta_at = out.len();
                out.put_i64(0);
                out.put_i64(0);
                let len_at = out.len();
                out.put_u32(0);
                let read = if limit == 0 && total > 0 {
                    let (start_off, hw, _) = part.offsets();
                    Ok(crate::broker::partition::FetchedData {
                        high_watermark: hw,
                        log_start_offset: start_off,
                        bytes_read: 0,
                    })
                } else {
                    part.read_into(p.fetch_offset, limit.max(1), &mut out)
                };
                match read {
                    Ok(data) => {
                        out[meta_at..meta_at + 8]
                            .copy_from_slice(&data.high_watermark.to_be_bytes());
                        out[meta_at + 8..meta_at + 16]
                            .copy_from_slice(&data.log_start_offset.to_be_bytes());
                        out[len_at..len_at + 4]
                            .copy_from_slice(&(data.bytes_read as u32).to_be_bytes());
                        Ok(data.bytes_read)
                    }
                    Err(e) => {
                        out.truncate(status_at);
                        Err(e)
                    }
                }
            });
            match result {
                Ok(n) => {
                    total += n;
                    budget = budget.saturating_sub(n);
                }
                Err(e) => {
                    failed = true;
                    let (hw, start_off) = broker
                        .topics
                        .partition(&topic.name, p.partition)
                        .map(|part| {
                            let (s, hw, _) = part.offsets();
                            (hw, s)
                        })
                        .unwrap_or((-1, -1));
                    e.status().encode(&mut out);
                    out.put_i64(hw);
                    out.put_i64(start_off);
                    out.put_u32(0);
                }
            }
        }
    }
    ResponseHeader::finish(&mut out, start);
    (out, total, failed)
}
