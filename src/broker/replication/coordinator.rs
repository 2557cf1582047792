//! Group coordination in a cluster: a group's coordinator is the leader of
//! its `__consumer_offsets` partition. Leadership changes load or unload
//! that partition's groups; requests for groups led elsewhere are answered
//! NOT_COORDINATOR so clients look the coordinator up again. Both protocol
//! adapters (native and Kafka) ask [`check`] and [`find`], so they answer
//! the same way.
use std::sync::Arc;
use std::time::Duration;

use super::manager::{LeadershipListener, ReplicaManager};
use crate::broker::group::{partition_for_group, GroupCoordinator};
use crate::broker::state::{Broker, OFFSETS_TOPIC};
use crate::broker::txn::TransactionCoordinator;
use crate::cluster::metadata::NO_LEADER;
use crate::proto::internal_topic::TRANSACTION_STATE_TOPIC;
use crate::proto::messages::Status;
use crate::proto::ErrorCode;

/// Why this broker cannot serve a group's request. Every variant but
/// `InvalidGroupId` is retriable: the client finds the coordinator again
/// (or waits) and retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoordinatorError {
    #[error(
        "broker {node_id} is not the coordinator of group '{group}' (it does not lead \
         {OFFSETS_TOPIC}-{partition}); find the coordinator again"
    )]
    NotCoordinator {
        node_id: i32,
        group: String,
        partition: i32,
    },
    #[error(
        "group '{group}' is still being loaded from {OFFSETS_TOPIC}-{partition} after a \
         leadership change; retry shortly"
    )]
    LoadInProgress { group: String, partition: i32 },
    #[error("{topic}-{partition} has no leader right now; retry shortly")]
    NotAvailable { topic: &'static str, partition: i32 },
    /// A membership request (join, sync, heartbeat, leave) without a group
    /// id: wrong on every broker, so it is not sent elsewhere.
    #[error("the group id must not be empty")]
    InvalidGroupId,
}

impl CoordinatorError {
    /// The error code both protocols carry (Kafka's numbers).
    pub fn code(&self) -> ErrorCode {
        match self {
            CoordinatorError::NotCoordinator { .. } => ErrorCode::NotCoordinator,
            CoordinatorError::LoadInProgress { .. } => ErrorCode::CoordinatorLoadInProgress,
            CoordinatorError::NotAvailable { .. } => ErrorCode::CoordinatorNotAvailable,
            CoordinatorError::InvalidGroupId => ErrorCode::InvalidGroupId,
        }
    }

    /// The native protocol's status for this error.
    pub fn status(&self) -> Status {
        Status::error(self.code(), self.to_string())
    }
}

/// Longest wait between attempts to load a partition's groups after a
/// failed replay (the first retry comes after 100 ms).
const LOAD_RETRY_MAX: Duration = Duration::from_secs(5);

/// Loads a partition's groups when this broker starts leading it, and
/// forgets them when it stops.
pub fn leadership_listener(groups: Arc<GroupCoordinator>) -> LeadershipListener {
    Box::new(move |topic, partition, leads| {
        if topic != OFFSETS_TOPIC {
            return;
        }
        if leads {
            // Marked loading before this returns, so no request is served
            // from the partition's groups before they are replayed.
            let ticket = groups.begin_load(partition);
            let groups = groups.clone();
            tokio::spawn(async move {
                let mut delay = Duration::from_millis(100);
                loop {
                    match groups.finish_load(ticket).await {
                        Ok(_) => return,
                        Err(e) => {
                            tracing::warn!(partition, error = %e, "cannot load groups of offsets partition; retrying");
                        }
                    }
                    // Serving the partition without its groups would make
                    // consumers lose their committed offsets: keep trying
                    // for as long as this broker still leads it.
                    tokio::time::sleep(delay).await;
                    if !groups.is_current(ticket) {
                        return;
                    }
                    delay = (delay * 2).min(LOAD_RETRY_MAX);
                }
            });
        } else {
            groups.unload_partition(partition);
        }
    })
}

fn offsets_partition(broker: &Broker, group_id: &str) -> i32 {
    let count = broker
        .topics
        .get(OFFSETS_TOPIC)
        .map(|t| t.partition_count())
        .unwrap_or(broker.config.offsets_partitions);
    partition_for_group(group_id, count)
}

/// Ok when this broker coordinates `group_id` and has its state loaded
/// (always, on a single node, which loads every group before serving).
pub fn check(broker: &Broker, group_id: &str) -> Result<(), CoordinatorError> {
    if ReplicaManager::for_topics(&broker.topics).is_none() {
        return Ok(());
    }
    let p = offsets_partition(broker, group_id);
    match broker.topics.partition(OFFSETS_TOPIC, p) {
        Ok(part) if part.role().is_leader() => {
            if broker.groups.is_loaded(p) {
                Ok(())
            } else {
                Err(CoordinatorError::LoadInProgress {
                    group: group_id.to_string(),
                    partition: p,
                })
            }
        }
        _ => Err(CoordinatorError::NotCoordinator {
            node_id: broker.config.node_id,
            group: group_id.to_string(),
            partition: p,
        }),
    }
}

/// [`check`] for the membership APIs, which (unlike the offset and admin
/// APIs, which accept "" as Kafka does for old clients) need a group id:
/// an empty one is refused as INVALID_GROUP_ID on every broker, not sent
/// to whichever broker "" hashes to.
pub fn check_member(broker: &Broker, group_id: &str) -> Result<(), CoordinatorError> {
    if group_id.is_empty() {
        return Err(CoordinatorError::InvalidGroupId);
    }
    check(broker, group_id)
}

/// (node id, host, port) of the group's coordinator in a cluster; `None`
/// on a single node (which coordinates everything).
pub fn find(
    broker: &Broker,
    group_id: &str,
) -> Option<Result<(i32, String, i32), CoordinatorError>> {
    locate(broker, OFFSETS_TOPIC, offsets_partition(broker, group_id))
}

/// (node id, host, port) of a transactional id's coordinator in a
/// cluster: the leader of its `__transaction_state` partition. `None` on
/// a single node.
pub fn find_transaction(
    broker: &Broker,
    transactional_id: &str,
) -> Option<Result<(i32, String, i32), CoordinatorError>> {
    let p = broker.txns.partition_for(transactional_id);
    locate(broker, TRANSACTION_STATE_TOPIC, p)
}

/// The live leader of an internal topic's partition, from the metadata.
fn locate(
    broker: &Broker,
    topic: &'static str,
    p: i32,
) -> Option<Result<(i32, String, i32), CoordinatorError>> {
    let mgr = ReplicaManager::for_topics(&broker.topics)?;
    let md = mgr.metadata();
    let found = md
        .partition(topic, p)
        .filter(|a| a.leader != NO_LEADER)
        .and_then(|a| md.brokers.get(&a.leader))
        .filter(|b| !b.fenced)
        .map(|b| (b.node_id, b.host.clone(), b.port));
    Some(found.ok_or(CoordinatorError::NotAvailable {
        topic,
        partition: p,
    }))
}

/// Loads a partition of `__transaction_state` when this broker starts
/// leading it and forgets it when it stops, as [`leadership_listener`]
/// does for groups.
pub fn transaction_leadership_listener(txns: Arc<TransactionCoordinator>) -> LeadershipListener {
    Box::new(move |topic, partition, leads| {
        if topic != TRANSACTION_STATE_TOPIC {
            return;
        }
        if !leads {
            txns.unload_partition(partition);
            return;
        }
        let ticket = txns.begin_load(partition);
        let txns = txns.clone();
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(100);
            loop {
                match txns.finish_load(ticket).await {
                    Ok(_) => return,
                    Err(e) => {
                        tracing::warn!(partition, error = %e, "cannot load transactions of a __transaction_state partition; retrying");
                    }
                }
                tokio::time::sleep(delay).await;
                if !txns.is_current(ticket) {
                    return;
                }
                delay = (delay * 2).min(LOAD_RETRY_MAX);
            }
        });
    })
}
