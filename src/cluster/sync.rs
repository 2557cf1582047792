//! Keeps this broker's local topics (the `TopicManager` and its partition
//! logs) in step with the committed cluster metadata: creates topics that
//! have a replica here, grows partition counts, applies config changes,
//! and deletes topics the quorum deleted.
//!
//! Deleting is only done once this node has caught up with the quorum
//! (`ClusterHandle::wait_caught_up`): right after a restart the local view
//! can be an old prefix of the log, and a topic missing from it may well
//! still exist.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::broker::error::BrokerError;
use crate::broker::state::Broker;
use crate::broker::topics::TopicManager;
use crate::cluster::metadata::{ClusterMetadata, TopicAssignment};

pub async fn run(broker: Arc<Broker>) {
    let Some(cluster) = broker.cluster.clone() else {
        return;
    };
    let mut rx = cluster.subscribe();
    let catch_up = {
        let cluster = cluster.clone();
        async move { cluster.wait_caught_up().await }
    };
    tokio::pin!(catch_up);
    let mut caught_up = false;
    // Failed steps (e.g. a full disk) are retried even without news.
    let mut retry = tokio::time::interval(Duration::from_secs(5));
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let md = rx.borrow_and_update().clone();
        reconcile(&broker, cluster.node_id(), &md, caught_up).await;
        tokio::select! {
            r = rx.changed() => if r.is_err() { return },
            _ = &mut catch_up, if !caught_up => {
                caught_up = true;
                cluster.mark_caught_up();
                tracing::info!("metadata caught up with the quorum");
            }
            _ = retry.tick() => {}
        }
    }
}

async fn reconcile(broker: &Arc<Broker>, node: i32, md: &ClusterMetadata, may_delete: bool) {
    broker.apply_cluster_broker_configs(&md.broker_configs);
    for t in md.topics.values() {
        if !t.partitions.iter().any(|p| p.replicas.contains(&node)) {
            continue;
        }
        let topics = broker.topics.clone();
        let t = t.clone();
        let name = t.name.clone();
        let r = tokio::task::spawn_blocking(move || ensure(&topics, &t)).await;
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(topic = %name, error = %e, "cannot apply topic metadata locally")
            }
            Err(e) => tracing::warn!(topic = %name, error = %e, "topic sync task failed"),
        }
    }
    if !may_delete {
        return;
    }
    for local in broker.topics.list() {
        if local.internal || md.topics.contains_key(&*local.name) {
            continue;
        }
        match broker.delete_topic(&local.name).await {
            Ok(()) => tracing::info!(topic = %local.name, "deleted topic removed from the cluster"),
            Err(e) => {
                tracing::warn!(topic = %local.name, error = %e, "cannot delete topic locally")
            }
        }
    }
}

/// Makes the local topic match `t`: exists, has its partition count (all
/// partitions are opened locally, whatever their replicas), and its configs.
fn ensure(topics: &TopicManager, t: &TopicAssignment) -> Result<(), BrokerError> {
    let count = t.partitions.len() as i32;
    let Some(local) = topics.get(&t.name) else {
        let rf = t.partitions.first().map(|p| p.replicas.len()).unwrap_or(1) as i16;
        return match topics.create(&t.name, count, rf, t.configs.clone(), t.internal) {
            // The local manager may only know single-node topics (RF 1);
            // the replication factor that matters is the cluster's.
            Err(BrokerError::InvalidReplicationFactor(_)) => topics
                .create(&t.name, count, 1, t.configs.clone(), t.internal)
                .map(|_| ()),
            other => other.map(|_| ()),
        };
    };
    let overrides = local.config().overrides;
    let grow = local.partition_count() < count;
    if grow || overrides != t.configs {
        let delete: Vec<String> = overrides
            .keys()
            .filter(|k| !t.configs.contains_key(*k))
            .cloned()
            .collect();
        let set: BTreeMap<String, String> = t.configs.clone();
        topics.apply_committed(&t.name, if grow { count } else { -1 }, set, delete)?;
    }
    Ok(())
}
