//! Native handlers for replication: ReplicaFetch (records go out with
//! sendfile, like consumer fetches, but up to the log end offset rather
//! than the high watermark) and OffsetForLeaderEpoch.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BufMut;

use super::leader::LeaderView;
use crate::broker::error::BrokerError;
use crate::broker::native::{frame, PartsFrame, Reply};
use crate::broker::state::Broker;
use crate::log::{FileSlice, LogError};
use crate::proto::messages::replication::*;
use crate::proto::messages::Status;
use crate::proto::Wire;

/// Longest a replica fetch waits for new records.
const MAX_WAIT: Duration = Duration::from_secs(10);

type Views = Vec<Vec<Result<LeaderView, BrokerError>>>;

pub async fn replica_fetch(
    broker: &Arc<Broker>,
    cid: i32,
    req: ReplicaFetchRequest,
    _peer: SocketAddr,
) -> Reply {
    let mut appended = broker.topics.subscribe_appends();
    appended.borrow_and_update();
    // Progress is recorded once per request, when it arrives: the fetch
    // offset is what the follower has (durably).
    let views: Views = req
        .topics
        .iter()
        .map(|t| {
            t.partitions
                .iter()
                .map(|p| {
                    broker
                        .topics
                        .partition(&t.name, p.partition)
                        .and_then(|part| {
                            part.on_replica_fetch(
                                req.replica_id,
                                p.current_leader_epoch,
                                p.fetch_offset,
                                p.last_fetched_epoch,
                            )
                        })
                })
                .collect()
        })
        .collect();
    let (reply, bytes) = read_all(broker, cid, &req, &views);
    let answer_now = views.iter().flatten().any(|v| match v {
        Err(_) => true,
        Ok(v) => v.diverging.is_some(),
    });
    if bytes > 0 || req.max_wait_ms <= 0 || answer_now {
        return reply;
    }
    let broker = broker.clone();
    Reply::Later(Box::pin(async move {
        let wait = Duration::from_millis(req.max_wait_ms as u64).min(MAX_WAIT);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                changed = appended.changed() => {
                    if changed.is_err() { break; }
                    let (reply, bytes) = read_all(&broker, cid, &req, &views);
                    if bytes > 0 {
                        return reply;
                    }
                }
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        read_all(&broker, cid, &req, &views).0
    }))
}

fn read_all(broker: &Broker, cid: i32, req: &ReplicaFetchRequest, views: &Views) -> (Reply, usize) {
    let mut out = PartsFrame::begin(cid);
    let mut budget = if req.max_bytes <= 0 {
        usize::MAX
    } else {
        req.max_bytes as usize
    };
    let mut total = 0usize;
    out.buf().put_u32(req.topics.len() as u32);
    for (ti, topic) in req.topics.iter().enumerate() {
        topic.name.encode(out.buf());
        out.buf().put_u32(topic.partitions.len() as u32);
        for (pi, p) in topic.partitions.iter().enumerate() {
            p.partition.encode(out.buf());
            let view = views.get(ti).and_then(|v| v.get(pi));
            let read: Result<(LeaderView, Vec<FileSlice>), BrokerError> = match view {
                Some(Ok(v)) => {
                    let limit = (p.max_bytes.max(0) as usize).min(budget);
                    broker
                        .topics
                        .partition(&topic.name, p.partition)
                        .and_then(|part| {
                            let log = part.log();
                            let mut v = *v;
                            v.high_watermark = log.high_watermark();
                            v.log_start_offset = log.log_start_offset();
                            if v.diverging.is_some() || (limit == 0 && total > 0) {
                                return Ok((v, Vec::new()));
                            }
                            let r = log.read(p.fetch_offset, limit.max(1))?;
                            Ok((v, r.slices))
                        })
                }
                Some(Err(e)) => Err(clone_err(e)),
                None => Err(BrokerError::NotLeader("missing partition".into())),
            };
            match read {
                Ok((v, slices)) => {
                    let len: usize = slices.iter().map(|s| s.len).sum();
                    Status::ok().encode(out.buf());
                    out.buf().put_i64(v.high_watermark);
                    out.buf().put_i64(v.log_start_offset);
                    let (de, dend) = v.diverging.unwrap_or((NO_EPOCH, -1));
                    out.buf().put_i32(de);
                    out.buf().put_i64(dend);
                    out.buf().put_i64(v.tombstone_horizon);
                    out.buf().put_u32(len as u32);
                    out.files(slices);
                    total += len;
                    budget = budget.saturating_sub(len);
                }
                Err(e) => {
                    // Out of range: the follower needs our log start to
                    // restart its log there.
                    let log_start = match &e {
                        BrokerError::Log(LogError::OffsetOutOfRange { start, .. }) => *start,
                        _ => -1,
                    };
                    e.status().encode(out.buf());
                    out.buf().put_i64(-1);
                    out.buf().put_i64(log_start);
                    out.buf().put_i32(NO_EPOCH);
                    out.buf().put_i64(-1);
                    out.buf().put_i64(-1);
                    out.buf().put_u32(0);
                }
            }
        }
    }
    (out.finish(), total)
}

/// Errors are not Clone (they may hold I/O errors); keep code and message.
fn clone_err(e: &BrokerError) -> BrokerError {
    match e {
        BrokerError::FencedLeaderEpoch(m) => BrokerError::FencedLeaderEpoch(m.clone()),
        BrokerError::UnknownLeaderEpoch(m) => BrokerError::UnknownLeaderEpoch(m.clone()),
        BrokerError::UnknownTopicOrPartition(m) => BrokerError::UnknownTopicOrPartition(m.clone()),
        BrokerError::Log(LogError::OffsetOutOfRange {
            requested,
            start,
            end,
        }) => BrokerError::Log(LogError::OffsetOutOfRange {
            requested: *requested,
            start: *start,
            end: *end,
        }),
        other => BrokerError::NotLeader(other.to_string()),
    }
}

pub async fn offset_for_leader_epoch(
    broker: &Arc<Broker>,
    cid: i32,
    req: OffsetForLeaderEpochRequest,
    _peer: SocketAddr,
) -> Reply {
    let topics = req
        .topics
        .iter()
        .map(|t| EpochTopicResponse {
            name: t.name.clone(),
            partitions: t
                .partitions
                .iter()
                .map(|p| {
                    let found = broker
                        .topics
                        .partition(&t.name, p.partition)
                        .and_then(|part| part.epoch_end(p.current_leader_epoch, p.leader_epoch));
                    match found {
                        Ok((leader_epoch, end_offset)) => EpochPartitionResponse {
                            partition: p.partition,
                            status: Status::ok(),
                            leader_epoch,
                            end_offset,
                        },
                        Err(e) => EpochPartitionResponse {
                            partition: p.partition,
                            status: e.status(),
                            leader_epoch: NO_EPOCH,
                            end_offset: -1,
                        },
                    }
                })
                .collect(),
        })
        .collect();
    Reply::Now(frame(
        cid,
        &OffsetForLeaderEpochResponse {
            status: Status::ok(),
            topics,
        },
    ))
}
