//! The cluster metadata every broker applies from the committed Raft log:
//! brokers and their liveness, topics, partition assignments, leaders,
//! in-sync replicas, leader epochs and topic configs.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// No leader (every replica is offline or fenced).
pub const NO_LEADER: i32 = -1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterMetadata {
    /// Raft log index this state reflects (for snapshots and staleness checks).
    pub applied_index: u64,
    pub brokers: BTreeMap<i32, BrokerRegistration>,
    pub topics: BTreeMap<String, TopicAssignment>,
    /// Next id handed out to an idempotent producer.
    pub next_producer_id: i64,
    /// Dynamic broker configs by scope: "" for every broker (Kafka's
    /// cluster default), a node id for one. Defaulted so snapshots written
    /// before this field still load.
    #[serde(default)]
    pub broker_configs: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerRegistration {
    pub node_id: i32,
    /// Where clients connect (the advertised listener).
    pub host: String,
    pub port: i32,
    /// A fenced broker missed its heartbeats: it leads nothing and is out
    /// of every ISR until it registers again.
    pub fenced: bool,
    /// Bumped on each registration so a restarted broker is told apart
    /// from its previous life.
    pub epoch: i64,
    /// Set by `ControlledShutdown`: the broker is leaving on purpose and
    /// only a new registration (a restart) brings it back, not a heartbeat.
    /// Defaulted so snapshots written before this field still load.
    #[serde(default)]
    pub in_controlled_shutdown: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicAssignment {
    pub name: String,
    pub internal: bool,
    /// Config overrides (the topic config keys of `broker::topic_config`).
    pub configs: BTreeMap<String, String>,
    pub partitions: Vec<PartitionAssignment>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionAssignment {
    /// Preferred order; the first is the preferred leader.
    pub replicas: Vec<i32>,
    pub leader: i32,
    /// Bumped on every leader change; stamped into every batch the leader
    /// appends, and used by followers to find where they diverge (KIP-101).
    pub leader_epoch: i32,
    pub isr: Vec<i32>,
    /// Bumped on every ISR or leader change, so a stale AlterIsr from an
    /// old leader is refused.
    pub partition_epoch: i32,
}

impl ClusterMetadata {
    pub fn partition(&self, topic: &str, partition: i32) -> Option<&PartitionAssignment> {
        let t = self.topics.get(topic)?;
        usize::try_from(partition)
            .ok()
            .and_then(|p| t.partitions.get(p))
    }

    pub fn live_brokers(&self) -> impl Iterator<Item = &BrokerRegistration> {
        self.brokers.values().filter(|b| !b.fenced)
    }

    /// Partitions to hand back to their preferred replica, as Kafka's
    /// automatic leader rebalance picks them: for each broker, the share
    /// of the partitions it prefers to lead that another broker leads; if
    /// that share is above `max_imbalance_percent`, every such partition
    /// whose preferred replica could lead now (live, in the ISR).
    pub fn leader_imbalance(&self, max_imbalance_percent: u32) -> Vec<(String, i32)> {
        let mut preferred: BTreeMap<i32, (usize, Vec<(String, i32)>)> = BTreeMap::new();
        for t in self.topics.values() {
            for (i, p) in t.partitions.iter().enumerate() {
                let Some(&first) = p.replicas.first() else {
                    continue;
                };
                let e = preferred.entry(first).or_default();
                e.0 += 1;
                if p.leader != first {
                    e.1.push((t.name.clone(), i as i32));
                }
            }
        }
        let mut out = Vec::new();
        for (broker, (total, elsewhere)) in preferred {
            let live = self.brokers.get(&broker).is_some_and(|b| !b.fenced);
            // Integer form of elsewhere / total > percent / 100.
            if !live || elsewhere.len() * 100 <= total * max_imbalance_percent as usize {
                continue;
            }
            out.extend(elsewhere.into_iter().filter(|(t, i)| {
                self.partition(t, *i)
                    .is_some_and(|p| p.isr.contains(&broker))
            }));
        }
        out
    }
}
