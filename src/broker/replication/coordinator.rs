//! Group coordination in a cluster: a group's coordinator is the leader of
//! its `__consumer_offsets` partition. Leadership changes load or unload
//! that partition's groups; requests for groups led elsewhere are answered
//! NOT_COORDINATOR so clients look the coordinator up again.
use std::sync::Arc;

use super::manager::{LeadershipListener, ReplicaManager};
use crate::broker::group::{partition_for_group, GroupCoordinator};
use crate::broker::state::{Broker, OFFSETS_TOPIC};
use crate::cluster::metadata::NO_LEADER;
use crate::proto::messages::Status;
use crate::proto::ErrorCode;

/// Loads a partition's groups when this broker starts leading it, and
/// forgets them when it stops.
pub fn leadership_listener(groups: Arc<GroupCoordinator>) -> LeadershipListener {
    Box::new(move |topic, partition, leads| {
        if topic != OFFSETS_TOPIC {
            return;
        }
        if leads {
            let groups = groups.clone();
            tokio::spawn(async move {
                if let Err(e) = groups.load_partition(partition).await {
                    tracing::warn!(partition, error = %e, "cannot load groups of offsets partition");
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

/// Ok when this broker coordinates `group_id` (always, on a single node).
pub fn check(broker: &Broker, group_id: &str) -> Result<(), Status> {
    if ReplicaManager::for_topics(&broker.topics).is_none() {
        return Ok(());
    }
    let p = offsets_partition(broker, group_id);
    match broker.topics.partition(OFFSETS_TOPIC, p) {
        Ok(part) if part.role().is_leader() => Ok(()),
        _ => Err(Status::error(
            ErrorCode::NotCoordinator,
            format!(
                "broker {} is not the coordinator of group '{group_id}' \
                 (it does not lead {OFFSETS_TOPIC}-{p}); find the coordinator again",
                broker.config.node_id
            ),
        )),
    }
}

/// (node id, host, port) of the group's coordinator in a cluster; `None`
/// on a single node (which coordinates everything).
pub fn find(broker: &Broker, group_id: &str) -> Option<Result<(i32, String, i32), Status>> {
    let mgr = ReplicaManager::for_topics(&broker.topics)?;
    let md = mgr.metadata();
    let p = offsets_partition(broker, group_id);
    let found = md
        .partition(OFFSETS_TOPIC, p)
        .filter(|a| a.leader != NO_LEADER)
        .and_then(|a| md.brokers.get(&a.leader))
        .filter(|b| !b.fenced)
        .map(|b| (b.node_id, b.host.clone(), b.port));
    Some(found.ok_or_else(|| {
        Status::error(
            ErrorCode::CoordinatorNotAvailable,
            format!("{OFFSETS_TOPIC}-{p} has no leader right now; retry shortly"),
        )
    }))
}
