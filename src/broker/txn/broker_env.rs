//! [`TxnEnv`] over the broker: `__transaction_state` through the same
//! log-backed store as `__consumer_offsets`, markers and leaves through
//! the partitions, offsets through the group coordinator. In a cluster
//! each of those may be led by another broker: the call goes to that
//! leader over the inter-broker APIs (`proto::messages::txn_markers`).
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::env::{BoxFuture, TxnEnv};
use super::partition_ops::{self, MARKER_REPLICATION_TIMEOUT};
use super::types::PendingOffset;
use crate::broker::group::{partition_for_group, GroupCoordinator, GroupStore, OffsetCommit};
use crate::broker::group_store::LogGroupStore;
use crate::broker::replication::peer::PeerPool;
use crate::broker::replication::ReplicaManager;
use crate::broker::topics::TopicManager;
use crate::cluster::metadata::NO_LEADER;
use crate::proto::internal_topic::TRANSACTION_STATE_TOPIC;
use crate::proto::messages::groups::TopicPartition;
use crate::proto::messages::txn_markers::*;
use crate::proto::{ApiKey, OFFSETS_TOPIC};
use crate::record::Marker;

/// Longest an inter-broker call of the coordinator waits for its answer
/// (a marker waits up to [`MARKER_REPLICATION_TIMEOUT`] on the far side).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub struct BrokerTxnEnv {
    node_id: i32,
    topics: Arc<TopicManager>,
    groups: Arc<GroupCoordinator>,
    store: LogGroupStore,
    peers: Arc<PeerPool>,
}

/// Who leads a partition, as the cluster metadata says.
enum Leader {
    /// This broker (or a single node).
    Here,
    /// Another broker, at this address.
    At(i32, String),
    /// The partition no longer exists.
    Gone,
    /// Nobody right now (an election is under way).
    Nobody,
}

impl BrokerTxnEnv {
    pub fn new(
        node_id: i32,
        topics: Arc<TopicManager>,
        groups: Arc<GroupCoordinator>,
        peers: Arc<PeerPool>,
    ) -> Self {
        BrokerTxnEnv {
            node_id,
            store: LogGroupStore::for_topic(topics.clone(), TRANSACTION_STATE_TOPIC),
            topics,
            groups,
            peers,
        }
    }

    fn leader_of(&self, topic: &str, partition: i32) -> Leader {
        let Some(mgr) = ReplicaManager::for_topics(&self.topics) else {
            return if self.topics.partition(topic, partition).is_ok() {
                Leader::Here
            } else {
                Leader::Gone
            };
        };
        let md = mgr.metadata();
        let Some(a) = md.partition(topic, partition) else {
            return Leader::Gone;
        };
        if a.leader == NO_LEADER {
            return Leader::Nobody;
        }
        if a.leader == self.node_id {
            return Leader::Here;
        }
        match md.brokers.get(&a.leader).filter(|b| !b.fenced) {
            Some(b) => Leader::At(b.node_id, format!("{}:{}", b.host, b.port)),
            None => Leader::Nobody,
        }
    }

    /// The partitions grouped by where their leader is: (here, per remote
    /// leader, and errors for those that have none), keeping each one's
    /// index in `partitions`.
    fn by_leader(&self, partitions: &[(String, i32)]) -> Routed {
        let mut r = Routed::default();
        for (i, (t, p)) in partitions.iter().enumerate() {
            match self.leader_of(t, *p) {
                Leader::Here => r.here.push(i),
                Leader::At(node, addr) => r.remote.entry((node, addr)).or_default().push(i),
                Leader::Gone => r.gone.push(i),
                Leader::Nobody => r.leaderless.push(i),
            }
        }
        r
    }
}

#[derive(Default)]
struct Routed {
    here: Vec<usize>,
    remote: BTreeMap<(i32, String), Vec<usize>>,
    gone: Vec<usize>,
    leaderless: Vec<usize>,
}

fn topic_partitions(all: &[(String, i32)], which: &[usize]) -> Vec<TopicPartition> {
    which
        .iter()
        .map(|&i| TopicPartition {
            topic: all[i].0.clone(),
            partition: all[i].1,
        })
        .collect()
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
            match ReplicaManager::for_topics(&self.topics) {
                Some(mgr) => mgr.next_producer_id().await,
                None => Ok(crate::broker::producer_ids::next()),
            }
        })
    }

    fn observe_producer_id(&self, id: i64) {
        crate::broker::producer_ids::observe(id);
    }

    fn partition_exists(&self, topic: &str, partition: i32) -> bool {
        match ReplicaManager::for_topics(&self.topics) {
            Some(mgr) => mgr.metadata().partition(topic, partition).is_some(),
            None => self.topics.partition(topic, partition).is_ok(),
        }
    }

    fn write_markers(
        &self,
        partitions: Vec<(String, i32)>,
        producer_id: i64,
        producer_epoch: i16,
        marker: Marker,
    ) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let routed = self.by_leader(&partitions);
            if let Some(&i) = routed.leaderless.first() {
                let (t, p) = &partitions[i];
                return Err(format!("{t}-{p} has no leader right now"));
            }
            for &i in &routed.here {
                let (t, p) = &partitions[i];
                partition_ops::write_marker(
                    &self.topics,
                    t,
                    *p,
                    producer_id,
                    producer_epoch,
                    marker,
                    MARKER_REPLICATION_TIMEOUT,
                )
                .await
                .map_err(|e| format!("{t}-{p}: {e}"))?;
            }
            for ((node, addr), which) in &routed.remote {
                let req = WriteTxnMarkersRequest {
                    producer_id,
                    producer_epoch,
                    commit: marker == Marker::Commit,
                    timeout_ms: MARKER_REPLICATION_TIMEOUT.as_millis() as i32,
                    partitions: topic_partitions(&partitions, which),
                };
                let resp: WriteTxnMarkersResponse = self
                    .peers
                    .call(addr, ApiKey::WriteTxnMarkers, &req, CALL_TIMEOUT)
                    .await
                    .map_err(|e| format!("WriteTxnMarkers to broker {node} at {addr}: {e}"))?;
                resp.status
                    .check()
                    .map_err(|e| format!("broker {node}: {e}"))?;
                for s in resp.partitions {
                    s.status.check().map_err(|e| {
                        format!("{}-{} on broker {node}: {e}", s.topic, s.partition)
                    })?;
                }
            }
            Ok(())
        })
    }

    fn allow_writes(
        &self,
        partitions: Vec<(String, i32)>,
        producer_id: i64,
        producer_epoch: i16,
    ) -> BoxFuture<'_, Vec<Result<(), String>>> {
        Box::pin(async move {
            let routed = self.by_leader(&partitions);
            let mut out: Vec<Result<(), String>> = vec![Ok(()); partitions.len()];
            for &i in &routed.leaderless {
                out[i] = Err("no leader right now".into());
            }
            for &i in &routed.gone {
                out[i] = Err("no such partition".into());
            }
            for &i in &routed.here {
                let (t, p) = &partitions[i];
                out[i] =
                    partition_ops::allow_writes(&self.topics, t, *p, producer_id, producer_epoch)
                        .map_err(|e| e.to_string());
            }
            for ((node, addr), which) in &routed.remote {
                let req = AllowTxnWritesRequest {
                    producer_id,
                    producer_epoch,
                    partitions: topic_partitions(&partitions, which),
                };
                let resp: Result<AllowTxnWritesResponse, String> = self
                    .peers
                    .call(addr, ApiKey::AllowTxnWrites, &req, CALL_TIMEOUT)
                    .await
                    .map_err(|e| format!("AllowTxnWrites to broker {node} at {addr}: {e}"))
                    .and_then(|r: AllowTxnWritesResponse| {
                        r.status
                            .check()
                            .map(|()| r)
                            .map_err(|e| format!("broker {node}: {e}"))
                    });
                match resp {
                    Err(e) => {
                        for &i in which {
                            out[i] = Err(e.clone());
                        }
                    }
                    Ok(resp) => {
                        for &i in which {
                            let (t, p) = &partitions[i];
                            let answer = resp
                                .partitions
                                .iter()
                                .find(|s| &s.topic == t && s.partition == *p);
                            out[i] = match answer {
                                Some(s) => s.status.check(),
                                None => Err(format!("broker {node} did not answer for it")),
                            };
                        }
                    }
                }
            }
            out
        })
    }

    fn commit_offsets<'a>(
        &'a self,
        group: &'a str,
        offsets: Vec<PendingOffset>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let count = self
                .topics
                .get(OFFSETS_TOPIC)
                .map(|t| t.partition_count())
                .unwrap_or(1);
            let p = partition_for_group(group, count);
            match self.leader_of(OFFSETS_TOPIC, p) {
                Leader::Here => {
                    if !partition_ops::coordinates_offsets_partition(&self.topics, &self.groups, p)
                    {
                        return Err(format!(
                            "group {group}: {OFFSETS_TOPIC}-{p} is still being loaded here"
                        ));
                    }
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
                    partition_ops::commit_offsets(&self.groups, group, commits).await
                }
                Leader::At(node, addr) => {
                    let req = CommitTxnOffsetsRequest {
                        group_id: group.to_string(),
                        offsets: offsets
                            .into_iter()
                            .map(|o| TxnOffset {
                                topic: o.topic,
                                partition: o.partition,
                                offset: o.offset,
                                leader_epoch: o.leader_epoch,
                                metadata: o.metadata,
                            })
                            .collect(),
                    };
                    let resp: CommitTxnOffsetsResponse = self
                        .peers
                        .call(&addr, ApiKey::CommitTxnOffsets, &req, CALL_TIMEOUT)
                        .await
                        .map_err(|e| format!("CommitTxnOffsets to broker {node} at {addr}: {e}"))?;
                    resp.status
                        .check()
                        .map_err(|e| format!("group {group} on broker {node}: {e}"))
                }
                Leader::Gone | Leader::Nobody => Err(format!(
                    "group {group}: {OFFSETS_TOPIC}-{p} has no leader right now"
                )),
            }
        })
    }

    fn now_ms(&self) -> i64 {
        crate::broker::server::now_ms()
    }
}
