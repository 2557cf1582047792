//! One fetcher per leader broker: fetches every partition this broker
//! follows from that leader in one long-poll request, appends the batches
//! unchanged, fdatasyncs them (every-append policy) and only then asks for
//! more, so the next fetch offset tells the leader what is durable here.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};

use super::peer::Peer;
use super::ReplicationConfig;
use crate::broker::partition::Partition;
use crate::cluster::metadata::ClusterMetadata;
use crate::log::FlushPolicy;
use crate::proto::messages::replication::*;
use crate::proto::{ApiKey, ErrorCode};

pub(crate) type Key = (Arc<str>, i32);

#[derive(Clone)]
pub(crate) struct Target {
    pub part: Arc<Partition>,
    pub epoch: i32,
    /// Find the divergence point (OffsetForLeaderEpoch) before fetching.
    pub truncate_first: bool,
}

pub(crate) type Targets = Arc<Mutex<HashMap<Key, Target>>>;

pub(crate) fn lock(t: &Targets) -> std::sync::MutexGuard<'_, HashMap<Key, Target>> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) async fn run(
    node_id: i32,
    leader: i32,
    targets: Targets,
    changed: Arc<Notify>,
    metadata: watch::Receiver<Arc<ClusterMetadata>>,
    config: ReplicationConfig,
) {
    let mut peer: Option<Peer> = None;
    let mut backoff = Duration::from_millis(50);
    loop {
        // Registered before the snapshot: a partition added after it cuts
        // the long poll short (see `fetch`).
        let notified = changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let snapshot: Vec<(Key, Target)> = lock(&targets)
            .iter()
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect();
        if snapshot.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        if peer.is_none() {
            let addr = {
                let md = metadata.borrow();
                md.brokers
                    .get(&leader)
                    .map(|b| format!("{}:{}", b.host, b.port))
            };
            let Some(addr) = addr else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            match Peer::connect(&addr, Duration::from_secs(2)).await {
                Ok(p) => peer = Some(p),
                Err(e) => {
                    tracing::debug!(leader, %addr, error = %e, "cannot reach leader");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            }
        }
        let Some(conn) = peer.as_mut() else { continue };
        match round(node_id, conn, &snapshot, &targets, &config, notified).await {
            Ok(true) => backoff = Duration::from_millis(50),
            Ok(false) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                // The unanswered long poll stays on that connection: start
                // a new one and fetch the new set of partitions at once.
                peer = None;
            }
            Err(e) => {
                tracing::debug!(leader, error = %e, "replica fetch failed; reconnecting");
                peer = None;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// One truncation check and one fetch. Ok(false): nothing could be done
/// (errors from the leader), back off briefly.
async fn round(
    node_id: i32,
    conn: &mut Peer,
    snapshot: &[(Key, Target)],
    targets: &Targets,
    config: &ReplicationConfig,
    changed: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
) -> std::io::Result<bool> {
    let truncating: Vec<&(Key, Target)> =
        snapshot.iter().filter(|(_, t)| t.truncate_first).collect();
    let mut progress = true;
    if !truncating.is_empty() {
        progress &= truncate(node_id, conn, &truncating, targets).await?;
    }
    // Taken again after truncating: partitions that just found their
    // divergence point (a new one has none) fetch in this round, not after
    // a long poll of the others.
    let fresh: Vec<(Key, Target)> = if truncating.is_empty() {
        Vec::new()
    } else {
        lock(targets)
            .iter()
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect()
    };
    let current = if truncating.is_empty() {
        snapshot
    } else {
        &fresh[..]
    };
    let fetching: Vec<&(Key, Target)> = current.iter().filter(|(_, t)| !t.truncate_first).collect();
    if !fetching.is_empty() {
        progress &= fetch(node_id, conn, &fetching, targets, config, changed).await?;
    }
    Ok(progress)
}

fn clear_truncate(targets: &Targets, key: &Key, epoch: i32) {
    if let Some(t) = lock(targets).get_mut(key) {
        if t.epoch == epoch {
            t.truncate_first = false;
        }
    }
}

fn set_truncate(targets: &Targets, key: &Key, epoch: i32) {
    if let Some(t) = lock(targets).get_mut(key) {
        if t.epoch == epoch {
            t.truncate_first = true;
        }
    }
}

/// KIP-101: ask the leader where our latest epoch ends on its log and cut
/// ours there (or at our own end of that epoch, if smaller).
async fn truncate(
    node_id: i32,
    conn: &mut Peer,
    list: &[&(Key, Target)],
    targets: &Targets,
) -> std::io::Result<bool> {
    let mut by_topic: BTreeMap<Arc<str>, Vec<EpochPartition>> = BTreeMap::new();
    for ((topic, p), t) in list.iter().map(|x| (&x.0, &x.1)) {
        match t.part.fetch_position().1 {
            None => clear_truncate(targets, &(topic.clone(), *p), t.epoch),
            Some(latest) => by_topic
                .entry(topic.clone())
                .or_default()
                .push(EpochPartition {
                    partition: *p,
                    current_leader_epoch: t.epoch,
                    leader_epoch: latest,
                }),
        }
    }
    if by_topic.is_empty() {
        return Ok(true);
    }
    let req = OffsetForLeaderEpochRequest {
        replica_id: node_id,
        topics: by_topic
            .into_iter()
            .map(|(name, partitions)| EpochTopic {
                name: name.to_string(),
                partitions,
            })
            .collect(),
    };
    let resp: OffsetForLeaderEpochResponse = conn
        .call(ApiKey::OffsetForLeaderEpoch, &req, Duration::from_secs(10))
        .await?;
    let mut ok = true;
    for t in resp.topics {
        let topic: Arc<str> = Arc::from(t.name.as_str());
        for p in t.partitions {
            let key = (topic.clone(), p.partition);
            let Some(target) = lock(targets).get(&key).cloned() else {
                continue;
            };
            if !p.status.is_ok() {
                ok = false;
                tracing::debug!(topic = %topic, partition = p.partition, status = %p.status, "epoch lookup refused");
                continue;
            }
            let point = target.part.divergence_point(p.leader_epoch, p.end_offset);
            match target.part.follower_truncate(target.epoch, point) {
                Ok(()) => clear_truncate(targets, &key, target.epoch),
                Err(e) => {
                    ok = false;
                    tracing::warn!(topic = %topic, partition = p.partition, error = %e, "truncation failed");
                }
            }
        }
    }
    Ok(ok)
}

/// OFFSET_OUT_OF_RANGE with our log end below the leader's log start:
/// what we miss is gone on the leader (retention), so our log restarts
/// empty at its start (Kafka's truncateFullyAndStartAt). A fetch offset
/// past the leader's end is divergence instead, handled by truncation.
/// Returns true when the log was restarted.
fn reset_below_leader_start(
    topic: &str,
    p: &ReplicaFetchPartitionResponse,
    target: &Target,
) -> bool {
    let (leo, _) = target.part.fetch_position();
    if p.log_start_offset < 0 || leo >= p.log_start_offset {
        return false;
    }
    match target
        .part
        .follower_reset_to(target.epoch, p.log_start_offset)
    {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!(topic = %topic, partition = p.partition, error = %e, "cannot restart the log at the leader's log start");
            false
        }
    }
}

async fn fetch(
    node_id: i32,
    conn: &mut Peer,
    list: &[&(Key, Target)],
    targets: &Targets,
    config: &ReplicationConfig,
    changed: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
) -> std::io::Result<bool> {
    let mut by_topic: BTreeMap<Arc<str>, Vec<ReplicaFetchPartition>> = BTreeMap::new();
    for ((topic, p), t) in list.iter().map(|x| (&x.0, &x.1)) {
        let (leo, latest) = t.part.fetch_position();
        by_topic
            .entry(topic.clone())
            .or_default()
            .push(ReplicaFetchPartition {
                partition: *p,
                current_leader_epoch: t.epoch,
                fetch_offset: leo,
                last_fetched_epoch: latest.unwrap_or(NO_EPOCH),
                max_bytes: config.partition_max_bytes,
            });
    }
    let req = ReplicaFetchRequest {
        replica_id: node_id,
        max_wait_ms: config.fetch_max_wait.as_millis() as i32,
        min_bytes: 1,
        max_bytes: config.fetch_max_bytes,
        topics: by_topic
            .into_iter()
            .map(|(name, partitions)| ReplicaFetchTopic {
                name: name.to_string(),
                partitions,
            })
            .collect(),
    };
    // A long poll that no data ends would hold a newly followed partition
    // back for up to fetch_max_wait (its first acks=all produce with it);
    // being told of new targets ends the wait. Nothing is appended yet at
    // this point, so dropping the call loses nothing.
    let call = conn.call(
        ApiKey::ReplicaFetch,
        &req,
        config.fetch_max_wait + Duration::from_secs(10),
    );
    let resp: ReplicaFetchResponse = tokio::select! {
        r = call => r?,
        _ = changed => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "followed partitions changed",
            ))
        }
    };
    if !resp.status.is_ok() {
        tracing::debug!(status = %resp.status, "replica fetch refused");
        return Ok(false);
    }
    let mut ok = true;
    let mut appended: Vec<(Target, i64, i64)> = Vec::new();
    for t in resp.topics {
        let topic: Arc<str> = Arc::from(t.name.as_str());
        for mut p in t.partitions {
            let key = (topic.clone(), p.partition);
            let Some(target) = lock(targets).get(&key).cloned() else {
                continue;
            };
            if !p.status.is_ok() {
                if p.status.error_code() == ErrorCode::OffsetOutOfRange
                    && reset_below_leader_start(&topic, &p, &target)
                {
                    // Fetches again at once, from the leader's log start.
                    continue;
                }
                ok = false;
                match p.status.error_code() {
                    ErrorCode::OffsetOutOfRange => {
                        tracing::warn!(topic = %topic, partition = p.partition, status = %p.status, "fetch offset out of range on leader")
                    }
                    _ => {
                        tracing::debug!(topic = %topic, partition = p.partition, status = %p.status, "replica fetch refused")
                    }
                }
                continue;
            }
            if p.diverging_epoch != NO_EPOCH {
                let point = target
                    .part
                    .divergence_point(p.diverging_epoch, p.diverging_end_offset);
                if let Err(e) = target.part.follower_truncate(target.epoch, point) {
                    tracing::warn!(topic = %topic, partition = p.partition, error = %e, "truncation failed");
                }
                continue;
            }
            target
                .part
                .follower_set_tombstone_horizon(p.tombstone_horizon);
            if !p.records.is_empty() {
                match target.part.follower_append(target.epoch, &mut p.records) {
                    Ok(info) => {
                        appended.push((target.clone(), info.last_offset + 1, p.high_watermark))
                    }
                    Err(e) => {
                        tracing::warn!(topic = %topic, partition = p.partition, error = %e, "follower append failed; re-checking divergence");
                        set_truncate(targets, &key, target.epoch);
                    }
                }
            } else {
                target.part.follower_set_hw(p.high_watermark);
            }
        }
    }
    // Durable before the next fetch reports these offsets to the leader;
    // the partitions' fdatasyncs run side by side.
    let mut syncs = tokio::task::JoinSet::new();
    for (target, end, hw) in appended {
        syncs.spawn(async move {
            if target.part.flush_policy() == FlushPolicy::EveryAppend {
                target.part.wait_durable_uncached(end).await.map_err(|e| {
                    tracing::error!(topic = %target.part.topic, partition = target.part.index, error = %e, "follower fdatasync failed");
                    std::io::Error::other(e.to_string())
                })?;
            }
            target.part.follower_set_hw(hw);
            Ok::<(), std::io::Error>(())
        });
    }
    while let Some(r) = syncs.join_next().await {
        r.map_err(|e| std::io::Error::other(e.to_string()))??;
    }
    Ok(ok)
}
