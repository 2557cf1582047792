//! What the transaction coordinator asks of a partition or a group that
//! this broker leads: the same steps whether the coordinator runs here
//! (`broker_env`) or on another broker (the inter-broker APIs in
//! `native::txn_markers`).
use std::time::Duration;

use crate::broker::error::BrokerError;
use crate::broker::group::{GroupCoordinator, OffsetCommit};
use crate::broker::topics::TopicManager;
use crate::proto::OFFSETS_TOPIC;
use crate::record::Marker;

/// How long a marker waits for the in-sync replicas before it counts as
/// failed (the coordinator writes it again later).
pub const MARKER_REPLICATION_TIMEOUT: Duration = Duration::from_secs(5);

/// Writes the marker to a partition led here and waits until it is
/// durable here and in the in-sync replicas: the coordinator forgets the
/// partition once it stored Complete*, so a marker lost in a failover
/// would leave the transaction open there for good. A partition deleted
/// since counts as done.
pub async fn write_marker(
    topics: &TopicManager,
    topic: &str,
    partition: i32,
    producer_id: i64,
    producer_epoch: i16,
    marker: Marker,
    timeout: Duration,
) -> Result<(), BrokerError> {
    let part = match topics.partition(topic, partition) {
        Ok(p) => p,
        Err(BrokerError::UnknownTopicOrPartition(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let info = part.append_marker(producer_id, producer_epoch, marker, 0)?;
    let end = info.last_offset + 1;
    part.wait_durable(end).await?;
    if part.is_replicated() {
        let min_insync = topics
            .get(topic)
            .map(|t| t.config().min_insync_replicas)
            .unwrap_or(1);
        part.wait_replicated(end, timeout, min_insync).await?;
    }
    Ok(())
}

/// Lets the producer write transactional batches to a partition led here.
pub fn allow_writes(
    topics: &TopicManager,
    topic: &str,
    partition: i32,
    producer_id: i64,
    producer_epoch: i16,
) -> Result<(), BrokerError> {
    topics
        .partition(topic, partition)?
        .allow_txn_writes(producer_id, producer_epoch)
}

/// Commits a committed transaction's offsets for a group coordinated here
/// (in a cluster, `coordinated_here` is checked by the caller).
pub async fn commit_offsets(
    groups: &GroupCoordinator,
    group: &str,
    offsets: Vec<OffsetCommit>,
) -> Result<(), String> {
    let results = groups
        .commit_transaction_offsets(group, offsets)
        .await
        .map_err(|e| e.to_string())?;
    for (topic, partition, r) in results {
        if let Err(e) = r {
            return Err(format!("committing {group} {topic}-{partition}: {e}"));
        }
    }
    Ok(())
}

/// Whether this broker leads `partition` of `__consumer_offsets` and has
/// its groups loaded (a single node always does).
pub fn coordinates_offsets_partition(
    topics: &TopicManager,
    groups: &GroupCoordinator,
    partition: i32,
) -> bool {
    match topics.partition(OFFSETS_TOPIC, partition) {
        Ok(part) if !part.is_replicated() => true,
        Ok(part) => part.role().is_leader() && groups.is_loaded(partition),
        Err(_) => false,
    }
}
