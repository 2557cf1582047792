//! The admin and metadata operations that differ between a single node and
//! a cluster: in a cluster they go through the metadata quorum and read the
//! committed `ClusterMetadata`; alone they use the local topic manager as
//! before. Protocol handlers (native and Kafka) call these.
use std::collections::BTreeMap;
use std::time::Duration;

use super::error::BrokerError;
use super::partition::SINGLE_NODE_EPOCH;
use super::state::Broker;
use super::topic_config::{
    check_name_collision, merge_overrides, validate_topic_name, TopicConfig,
};
use super::topics::MAX_PARTITIONS;
use crate::cluster::command::{RejectKind, Rejection};
use crate::cluster::metadata::ClusterMetadata;
use crate::cluster::{ClusterError, MetadataCommand};

#[derive(Debug, Clone)]
pub struct PartitionView {
    pub partition: i32,
    pub leader: i32,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

#[derive(Debug, Clone)]
pub struct TopicView {
    pub name: String,
    pub internal: bool,
    pub partitions: Vec<PartitionView>,
}

/// A broker as metadata responses list it.
#[derive(Debug, Clone)]
pub struct BrokerView {
    pub node_id: i32,
    pub host: String,
    pub port: i32,
}

fn cluster_topic(md: &ClusterMetadata, name: &str) -> Option<TopicView> {
    let t = md.topics.get(name)?;
    Some(TopicView {
        name: t.name.clone(),
        internal: t.internal,
        partitions: t
            .partitions
            .iter()
            .enumerate()
            .map(|(i, p)| PartitionView {
                partition: i as i32,
                leader: p.leader,
                leader_epoch: p.leader_epoch,
                replicas: p.replicas.clone(),
                isr: p.isr.clone(),
            })
            .collect(),
    })
}

impl Broker {
    /// Live brokers with their client addresses, and the controller id.
    pub fn brokers_view(&self) -> (Vec<BrokerView>, i32) {
        let me = BrokerView {
            node_id: self.config.node_id,
            host: self.advertised.0.clone(),
            port: self.advertised.1,
        };
        let Some(c) = &self.cluster else {
            return (vec![me], self.config.node_id);
        };
        let md = c.metadata();
        let mut brokers: Vec<BrokerView> = md
            .live_brokers()
            .map(|b| BrokerView {
                node_id: b.node_id,
                host: b.host.clone(),
                port: b.port,
            })
            .collect();
        // Before this broker's registration commits, clients still need a
        // way back to it.
        if !brokers.iter().any(|b| b.node_id == me.node_id) {
            brokers.push(me);
        }
        (brokers, c.controller_id().unwrap_or(-1))
    }

    /// Whether `topic` has a partition `partition` (in a cluster, in the
    /// committed metadata). Commits and offset deletions for partitions that
    /// do not exist are refused with UNKNOWN_TOPIC_OR_PARTITION, as in Kafka.
    pub fn partition_exists(&self, topic: &str, partition: i32) -> bool {
        self.topic_view(topic)
            .is_some_and(|v| (0..v.partitions.len() as i32).contains(&partition))
    }

    /// One topic's partitions with leaders, replicas and ISRs.
    pub fn topic_view(&self, name: &str) -> Option<TopicView> {
        if let Some(c) = &self.cluster {
            return cluster_topic(&c.metadata(), name);
        }
        let t = self.topics.get(name)?;
        let node = self.config.node_id;
        Some(TopicView {
            name: t.name.to_string(),
            internal: t.internal,
            partitions: (0..t.partition_count())
                .map(|p| PartitionView {
                    partition: p,
                    leader: node,
                    leader_epoch: SINGLE_NODE_EPOCH,
                    replicas: vec![node],
                    isr: vec![node],
                })
                .collect(),
        })
    }

    /// A topic's effective config: in a cluster from the committed
    /// metadata, so brokers without a replica of the topic can answer too.
    pub fn topic_config(&self, name: &str) -> Option<TopicConfig> {
        if let Some(c) = &self.cluster {
            let md = c.metadata();
            let t = md.topics.get(name)?;
            return TopicConfig::new(t.configs.clone(), &self.topics.defaults())
                .ok()
                .or_else(|| self.topics.get(name).map(|t| t.config()));
        }
        self.topics.get(name).map(|t| t.config())
    }

    /// Before answering clients with leaders and ISRs: in a cluster, waits
    /// (a few seconds at most) until this broker has caught up with the
    /// quorum once since it started. A restarted broker first replays its
    /// own, possibly old, copy of the metadata log.
    pub async fn settle_metadata(&self) {
        if let Some(c) = &self.cluster {
            c.wait_first_catch_up(std::time::Duration::from_secs(5))
                .await;
        }
    }

    /// Every topic, sorted by name.
    pub fn topic_views(&self) -> Vec<TopicView> {
        if let Some(c) = &self.cluster {
            let md = c.metadata();
            return md
                .topics
                .keys()
                .filter_map(|n| cluster_topic(&md, n))
                .collect();
        }
        self.topics
            .list()
            .iter()
            .filter_map(|t| self.topic_view(&t.name))
            .collect()
    }

    /// Creates a topic (or with `validate_only` checks it could be):
    /// resolved partitions, replication factor and resulting config.
    pub async fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<(i32, i16, TopicConfig), BrokerError> {
        BrokerError::refuse_internal(name, "create internal topic")?;
        self.create_topic_as(
            name,
            partitions,
            replication_factor,
            configs,
            validate_only,
            false,
        )
        .await
    }

    /// Creates one of the internal topics an internal writer may create
    /// (`proto::internal_topic::INTERNAL_WRITER_TOPICS`), marked internal
    /// and, like `__consumer_offsets`, on min(3, live brokers) replicas.
    pub async fn create_internal_topic(
        &self,
        name: &str,
        partitions: i32,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<(), BrokerError> {
        if !crate::proto::internal_topic::internal_writer_may_write(name) {
            return BrokerError::refuse_internal(name, "create internal topic");
        }
        let rf = match &self.cluster {
            Some(c) => c.metadata().live_brokers().count().clamp(1, 3) as i16,
            None => -1,
        };
        self.create_topic_as(name, partitions, rf, configs, validate_only, true)
            .await
            .map(|_| ())
    }

    async fn create_topic_as(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        configs: BTreeMap<String, String>,
        validate_only: bool,
        internal: bool,
    ) -> Result<(i32, i16, TopicConfig), BrokerError> {
        let Some(c) = &self.cluster else {
            let (p, rf) =
                self.topics
                    .validate_create(name, partitions, replication_factor, &configs)?;
            check_name_collision(name, self.topics.list().iter().map(|t| &*t.name))?;
            TopicConfig::new(configs.clone(), &self.topics.defaults())?
                .check_replication_factor(rf)?;
            self.check_partition_caps(name, p, p, rf)?;
            let config = if validate_only {
                TopicConfig::new(configs, &self.topics.defaults())?
            } else {
                // Thousands of partitions take seconds of file system work:
                // off the runtime, so other requests are answered meanwhile.
                let topics = self.topics.clone();
                let name = name.to_string();
                tokio::task::spawn_blocking(move || topics.create(&name, p, rf, configs, internal))
                    .await
                    .map_err(|e| BrokerError::Io(std::io::Error::other(e)))??
                    .config()
            };
            return Ok((p, rf, config));
        };
        validate_topic_name(name)?;
        let defaults = self.topics.defaults();
        let p = if partitions == -1 {
            defaults.partitions
        } else {
            partitions
        };
        if !(1..=MAX_PARTITIONS).contains(&p) {
            return Err(BrokerError::InvalidPartitions(p));
        }
        let rf = if replication_factor == -1 {
            defaults.replication_factor
        } else {
            replication_factor
        };
        let config = TopicConfig::new(configs.clone(), &defaults)?;
        let md = c.metadata();
        if md.topics.contains_key(name) {
            return Err(BrokerError::TopicExists(name.to_string()));
        }
        check_name_collision(name, md.topics.keys().map(String::as_str))?;
        let live = md.live_brokers().count();
        if rf < 1 || rf as usize > live {
            return Err(ClusterError::Rejected(Rejection::new(
                RejectKind::InvalidReplicationFactor,
                format!("replication factor {rf} is not possible with {live} live broker(s)"),
            ))
            .into());
        }
        config.check_replication_factor(rf)?;
        self.check_partition_caps(name, p, p, rf)?;
        if validate_only {
            return Ok((p, rf, config));
        }
        c.propose(MetadataCommand::CreateTopic {
            name: name.to_string(),
            partitions: p,
            replication_factor: rf,
            configs,
            internal,
        })
        .await?;
        self.await_local(|md| md.topics.contains_key(name)).await;
        Ok((p, rf, config))
    }

    /// Deletes a topic (through the quorum in a cluster; each broker's sync
    /// then removes its local copy and committed offsets).
    pub async fn remove_topic(&self, name: &str) -> Result<(), BrokerError> {
        let Some(c) = &self.cluster else {
            return self.delete_topic(name).await;
        };
        c.propose(MetadataCommand::DeleteTopic {
            name: name.to_string(),
        })
        .await?;
        self.await_local(|md| !md.topics.contains_key(name)).await;
        Ok(())
    }

    /// Grows partitions (`-1` keeps the count) and/or changes configs.
    pub async fn alter_topic(
        &self,
        name: &str,
        partitions: i32,
        set: BTreeMap<String, String>,
        delete: Vec<String>,
        validate_only: bool,
    ) -> Result<(), BrokerError> {
        let Some(c) = &self.cluster else {
            let topic = self
                .topics
                .get(name)
                .ok_or_else(|| BrokerError::UnknownTopicOrPartition(name.to_string()))?;
            BrokerError::refuse_internal(name, "alter internal topic")?;
            let overrides = merge_overrides(&topic.config().overrides, set.clone(), &delete)?;
            TopicConfig::new(overrides, &self.topics.defaults())?
                .check_replication_factor(topic.replication_factor)?;
            let current = topic.partition_count();
            if partitions > current {
                self.check_partition_caps(name, partitions, partitions - current, 1)?;
            }
            let topics = self.topics.clone();
            let name = name.to_string();
            return tokio::task::spawn_blocking(move || {
                topics.alter(&name, partitions, set, delete, validate_only)
            })
            .await
            .map_err(|e| BrokerError::Io(std::io::Error::other(e)))?;
        };
        let md = c.metadata();
        let Some(t) = md.topics.get(name) else {
            return Err(BrokerError::UnknownTopicOrPartition(name.to_string()));
        };
        BrokerError::refuse_internal(name, "alter internal topic")?;
        let current = t.partitions.len() as i32;
        if partitions != -1 && (partitions < current || partitions > MAX_PARTITIONS) {
            return Err(BrokerError::InvalidPartitionChange(format!(
                "topic '{name}' has {current} partitions; the count can only grow (up to {MAX_PARTITIONS})"
            )));
        }
        let rf = t.partitions.first().map_or(1, |p| p.replicas.len()) as i16;
        if partitions > current {
            self.check_partition_caps(name, partitions, partitions - current, rf)?;
        }
        let overrides = merge_overrides(&t.configs, set.clone(), &delete)?;
        TopicConfig::new(overrides, &self.topics.defaults())?.check_replication_factor(rf)?;
        if validate_only {
            return Ok(());
        }
        c.propose(MetadataCommand::AlterTopic {
            name: name.to_string(),
            partitions: (partitions != -1).then_some(partitions),
            set_configs: set,
            delete_configs: delete,
        })
        .await?;
        let want = partitions;
        self.await_local(|md| {
            md.topics
                .get(name)
                .is_some_and(|t| want == -1 || t.partitions.len() as i32 >= want)
        })
        .await;
        Ok(())
    }

    /// Refuses, before anything is created, a topic of `total` partitions
    /// (`added` of them new, `rf` replicas each) beyond this broker's caps:
    /// partitions per topic, and partitions a broker holds (each keeps
    /// files open; in a cluster the busiest broker's count, with the new
    /// replicas spread over the live brokers).
    fn check_partition_caps(
        &self,
        name: &str,
        total: i32,
        added: i32,
        rf: i16,
    ) -> Result<(), BrokerError> {
        let per_topic = self.config.max_partitions_per_topic;
        if total > per_topic {
            return Err(BrokerError::PolicyViolation(format!(
                "topic '{name}' would have {total} partitions, more than \
                 --max-partitions-per-topic={per_topic} (a `strom serve` flag) allows"
            )));
        }
        let (held, brokers) = match &self.cluster {
            None => (
                self.topics
                    .list()
                    .iter()
                    .map(|t| t.partition_count() as usize)
                    .sum::<usize>(),
                1,
            ),
            Some(c) => {
                let md = c.metadata();
                let mut per_broker: std::collections::HashMap<i32, usize> = Default::default();
                for p in md.topics.values().flat_map(|t| &t.partitions) {
                    for r in &p.replicas {
                        *per_broker.entry(*r).or_default() += 1;
                    }
                }
                (
                    per_broker.values().max().copied().unwrap_or(0),
                    md.live_brokers().count().max(1),
                )
            }
        };
        let new = (added.max(0) as usize * rf.max(1) as usize).div_ceil(brokers);
        let max = self.config.max_partitions;
        if held + new > max {
            return Err(BrokerError::PolicyViolation(format!(
                "{added} new partition(s) for '{name}' would make {} on a broker that holds {held}, \
                 more than --max-partitions={max} ({}); raise the open-file limit (ulimit -n) \
                 or --max-partitions, or create fewer",
                held + new,
                self.config.max_partitions_origin
            )));
        }
        Ok(())
    }

    /// Auto-creates a topic with the defaults; `true` when it exists after.
    pub async fn auto_create_topic(&self, name: &str) -> bool {
        match self
            .create_topic(name, -1, -1, BTreeMap::new(), false)
            .await
        {
            Ok(_) | Err(BrokerError::TopicExists(_)) => true,
            Err(e) => {
                tracing::debug!(topic = name, error = %e, "auto-create failed");
                self.topic_view(name).is_some()
            }
        }
    }

    /// Read-your-writes on this broker: a committed change may reach this
    /// node's state machine a moment after the leader's. Bounded; the
    /// change is committed either way.
    pub(crate) async fn await_local(&self, done: impl Fn(&ClusterMetadata) -> bool) {
        let Some(c) = &self.cluster else { return };
        let mut rx = c.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(2), rx.wait_for(|m| done(m))).await;
    }
}
