//! What only the controller leader does, checked every 250 ms: fence
//! brokers that missed their session, create `__consumer_offsets` and
//! `__transaction_state` once enough brokers are registered, and (every leader imbalance check
//! interval) hand leadership back to preferred replicas.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::command::MetadataCommand;
use super::handle::ClusterHandle;

pub use crate::proto::internal_topic::TRANSACTION_STATE_TOPIC;
pub use crate::proto::OFFSETS_TOPIC;

/// Kafka's `leader.imbalance.per.broker.percentage` default: a broker
/// leading fewer than 90% of the partitions it prefers gets them back.
pub const LEADER_IMBALANCE_PERCENT: u32 = 10;

pub async fn run(handle: Arc<ClusterHandle>) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Counted from when this node became leader, as Kafka's controller
    // schedules its first check one interval after it takes over.
    let mut next_rebalance: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        if !handle.is_leader() {
            next_rebalance = None;
            continue;
        }
        handle
            .liveness
            .begin_term(handle.raft.metrics().borrow().current_term);
        let md = handle.metadata();
        // Brokers heartbeat a new leader at once; three missed intervals
        // are a dead broker, not one still looking for the new leader.
        let grace = handle.config.heartbeat_interval * 3;
        for node_id in handle
            .liveness
            .expired(&md, handle.config.session_timeout, grace)
        {
            tracing::warn!(node_id, "broker missed its session; fencing it");
            if let Err(e) = handle
                .propose(MetadataCommand::FenceBroker { node_id })
                .await
            {
                tracing::warn!(node_id, error = %e, "could not fence broker");
            }
        }
        if !md.topics.contains_key(TRANSACTION_STATE_TOPIC) {
            create_internal_topic(
                &handle,
                &md,
                TRANSACTION_STATE_TOPIC,
                handle.config.transaction_state_partitions,
            )
            .await;
        }
        match md.topics.get(OFFSETS_TOPIC) {
            None => {
                create_internal_topic(
                    &handle,
                    &md,
                    OFFSETS_TOPIC,
                    handle.config.offsets_partitions,
                )
                .await
            }
            Some(t) if !t.configs.contains_key("cleanup.policy") => {
                compact_offsets_topic(&handle).await
            }
            Some(_) => {}
        }
        if let Some(every) = handle.config.leader_imbalance_check_interval {
            let now = tokio::time::Instant::now();
            let due = *next_rebalance.get_or_insert(now + every);
            if now >= due {
                next_rebalance = Some(now + every);
                rebalance_leaders(&handle, &md).await;
            }
        }
    }
}

/// Kafka's automatic leader rebalance: after failovers and restarts the
/// surviving brokers lead everything; this moves each partition back to
/// its preferred replica once that one is in the ISR again.
async fn rebalance_leaders(handle: &ClusterHandle, md: &super::metadata::ClusterMetadata) {
    let partitions = md.leader_imbalance(LEADER_IMBALANCE_PERCENT);
    if partitions.is_empty() {
        return;
    }
    tracing::info!(
        count = partitions.len(),
        "moving leadership back to preferred replicas"
    );
    if let Err(e) = handle
        .propose(MetadataCommand::ElectPreferredLeaders { partitions })
        .await
    {
        tracing::warn!(error = %e, "preferred leader election failed");
    }
}

/// An internal topic (`__consumer_offsets`, `__transaction_state`): RF =
/// min(3, voters); waits until that many brokers are live so the topic
/// gets its full replication factor.
async fn create_internal_topic(
    handle: &ClusterHandle,
    md: &super::metadata::ClusterMetadata,
    name: &str,
    partitions: i32,
) {
    let rf = handle.config.voters.len().min(3) as i16;
    if md.live_brokers().count() < rf as usize {
        return;
    }
    // Offsets and transaction states must outlive any retention: they are
    // the groups' and the producers' memory. Only the newest record per
    // key matters: compacted.
    let configs = BTreeMap::from([
        ("cleanup.policy".to_string(), "compact".to_string()),
        ("retention.ms".to_string(), "-1".to_string()),
        ("segment.bytes".to_string(), (64u64 << 20).to_string()),
        ("flush.policy".to_string(), "every-append".to_string()),
    ]);
    let cmd = MetadataCommand::CreateTopic {
        name: name.into(),
        partitions,
        replication_factor: rf,
        configs,
        internal: true,
    };
    if let Err(e) = handle.propose(cmd).await {
        tracing::debug!(topic = name, error = %e, "could not create the internal topic yet");
    }
}

/// A cluster created before compaction existed has an offsets topic
/// without `cleanup.policy=compact`: give it the policy, once, so commits
/// stop growing without bound there too.
async fn compact_offsets_topic(handle: &ClusterHandle) {
    let cmd = MetadataCommand::AlterTopic {
        name: OFFSETS_TOPIC.into(),
        partitions: None,
        set_configs: BTreeMap::from([("cleanup.policy".to_string(), "compact".to_string())]),
        delete_configs: Vec::new(),
    };
    match handle.propose(cmd).await {
        Ok(_) => tracing::info!(topic = OFFSETS_TOPIC, "upgraded to cleanup.policy=compact"),
        Err(e) => tracing::debug!(error = %e, "could not make the offsets topic compacted yet"),
    }
}
