//! [`TxnEnv`] over the broker: `__transaction_state` through the same
//! log-backed store as `__consumer_offsets`, markers through the
//! partitions, offsets through the group coordinator.
use std::sync::Arc;

use bytes::Bytes;

use super::env::{BoxFuture, TxnEnv};
use super::types::PendingOffset;
use crate::broker::error::BrokerError;
use crate::broker::group::{GroupCoordinator, GroupStore, OffsetCommit};
use crate::broker::group_store::LogGroupStore;
use crate::broker::topics::TopicManager;
use crate::proto::internal_topic::TRANSACTION_STATE_TOPIC;
use crate::record::Marker;

pub struct BrokerTxnEnv {
    topics: Arc<TopicManager>,
    groups: Arc<GroupCoordinator>,
    store: LogGroupStore,
}

impl BrokerTxnEnv {
    pub fn new(topics: Arc<TopicManager>, groups: Arc<GroupCoordinator>) -> Self {
        BrokerTxnEnv {
            store: LogGroupStore::for_topic(topics.clone(), TRANSACTION_STATE_TOPIC),
            topics,
            groups,
        }
    }
}

impl TxnEnv for BrokerTxnEnv {
    fn persist(
        &self,
        partition: i32,
        key: Bytes,
        value: Bytes,
    ) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.store
                .append(partition, vec![(key, Some(value))])
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn replay(&self, partition: i32) -> Result<Vec<(Bytes, Option<Bytes>)>, String> {
        self.store.replay(partition).map_err(|e| e.to_string())
    }

    fn new_producer_id(&self) -> BoxFuture<'_, Result<i64, String>> {
        Box::pin(async move {
            match crate::broker::replication::ReplicaManager::for_topics(&self.topics) {
                Some(mgr) => mgr.next_producer_id().await,
                None => Ok(crate::broker::producer_ids::next()),
            }
        })
    }

    fn observe_producer_id(&self, id: i64) {
        crate::broker::producer_ids::observe(id);
    }

    fn partition_exists(&self, topic: &str, partition: i32) -> bool {
        self.topics.partition(topic, partition).is_ok()
    }

    fn write_marker<'a>(
        &'a self,
        topic: &'a str,
        partition: i32,
        producer_id: i64,
        producer_epoch: i16,
        marker: Marker,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let part = match self.topics.partition(topic, partition) {
                Ok(p) => p,
                // Deleted since: nothing is left to mark.
                Err(BrokerError::UnknownTopicOrPartition(_)) => return Ok(()),
                Err(e) => return Err(e.to_string()),
            };
            let info = part
                .append_marker(producer_id, producer_epoch, marker, 0)
                .map_err(|e| e.to_string())?;
            // A decided transaction's markers must survive a crash: the
            // coordinator forgets the partitions once Complete* is stored.
            part.wait_durable(info.last_offset + 1)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn commit_offsets<'a>(
        &'a self,
        group: &'a str,
        offsets: Vec<PendingOffset>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let commits = offsets
                .into_iter()
                .map(|o| OffsetCommit {
                    topic: o.topic,
                    partition: o.partition,
                    offset: o.offset,
                    leader_epoch: o.leader_epoch,
                    metadata: o.metadata,
                })
                .collect();
            let results = self
                .groups
                .commit_transaction_offsets(group, commits)
                .await
                .map_err(|e| e.to_string())?;
            for (topic, partition, r) in results {
                if let Err(e) = r {
                    return Err(format!("committing {group} {topic}-{partition}: {e}"));
                }
            }
            Ok(())
        })
    }

    fn now_ms(&self) -> i64 {
        crate::broker::server::now_ms()
    }
}
