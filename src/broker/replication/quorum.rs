//! The production control plane: ISR changes and producer-id blocks go
//! through the metadata quorum (`ClusterHandle::propose`).
use std::sync::Arc;

use super::control::{AlterIsr, BoxFuture, ControlPlane};
use crate::cluster::{ClusterHandle, CommandResult, MetadataCommand};

impl ControlPlane for ClusterHandle {
    fn alter_isr(&self, req: AlterIsr) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let cmd = MetadataCommand::AlterIsr {
                topic: req.topic,
                partition: req.partition,
                leader: req.leader,
                leader_epoch: req.leader_epoch,
                partition_epoch: req.partition_epoch,
                new_isr: req.new_isr,
            };
            match self.propose(cmd).await {
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        })
    }

    fn allocate_producer_ids(&self, count: i64) -> BoxFuture<'_, Result<i64, String>> {
        Box::pin(async move {
            match self
                .propose(MetadataCommand::AllocateProducerIds { count })
                .await
            {
                Ok(CommandResult::ProducerIds { first }) => Ok(first),
                Ok(other) => Err(format!(
                    "unexpected answer to AllocateProducerIds: {other:?}"
                )),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}

/// Starts replication for a clustered broker.
pub fn start(
    broker: &crate::broker::state::Broker,
    cluster: Arc<ClusterHandle>,
    config: super::ReplicationConfig,
) -> Arc<super::ReplicaManager> {
    let metadata = cluster.subscribe();
    super::ReplicaManager::start(
        cluster.node_id(),
        &broker.config.data_dir,
        broker.topics.clone(),
        cluster,
        metadata,
        config,
        vec![
            super::coordinator::leadership_listener(broker.groups.clone()),
            super::coordinator::transaction_leadership_listener(broker.txns.clone()),
        ],
    )
}
