//! The broker's shared state: one per process, handed to every connection.
use std::fs::File;
use std::sync::Arc;

use super::config::BrokerConfig;
use super::error::BrokerError;
use super::group::{GroupConfig, GroupCoordinator};
use super::group_store::LogGroupStore;
use super::topics::TopicManager;
use super::txn::broker_env::BrokerTxnEnv;
use super::txn::{TransactionCoordinator, TxnConfig};
use crate::proto::internal_topic::TRANSACTION_STATE_TOPIC;

pub use crate::proto::OFFSETS_TOPIC;

pub struct Broker {
    pub config: BrokerConfig,
    pub topics: Arc<TopicManager>,
    pub groups: Arc<GroupCoordinator>,
    /// The transaction coordinator (single node; see `txn`).
    pub txns: Arc<TransactionCoordinator>,
    /// host and port put in metadata; set once the listener is bound.
    pub advertised: (String, i32),
    /// The metadata quorum, when `--voters` is set; `None` runs a single
    /// node exactly as before (see `cluster_view`).
    pub cluster: Option<Arc<crate::cluster::ClusterHandle>>,
    /// When the broker finished opening (for uptime).
    pub started: tokio::time::Instant,
    /// Request, wait and connection metrics; `None` with metrics off.
    pub metrics: Option<Arc<super::metrics::BrokerMetrics>>,
    /// One change of the single node's dynamic broker configs at a time
    /// (read, merge, write of its file).
    pub broker_configs_lock: tokio::sync::Mutex<()>,
    /// Connections to the other brokers for the coordinators' calls.
    pub peers: Arc<super::replication::peer::PeerPool>,
    /// Held for the life of the process so a second broker cannot open the
    /// same data dir.
    _dir_lock: File,
}

impl Broker {
    /// Opens the data dir, recovers every log and rebuilds group state.
    pub async fn open(
        config: BrokerConfig,
        advertised: (String, i32),
    ) -> Result<Arc<Broker>, BrokerError> {
        std::fs::create_dir_all(&config.data_dir)?;
        let lock = File::create(config.data_dir.join(".broker.lock"))?;
        if lock.try_lock().is_err() {
            return Err(BrokerError::Io(std::io::Error::other(format!(
                "data dir {} is in use by another strom process",
                config.data_dir.display()
            ))));
        }
        // Started before the logs are opened so the controller answers the
        // other voters as early as possible.
        let cluster = if config.voters.is_empty() {
            None
        } else {
            let cc =
                crate::cluster::handle::ClusterConfig::from_broker(&config, advertised.clone());
            Some(
                crate::cluster::ClusterHandle::start(cc, &config.data_dir)
                    .await
                    .map_err(|e| BrokerError::Io(std::io::Error::other(e.to_string())))?,
            )
        };
        // The dynamic broker configs last seen (a cluster's are applied
        // again from the metadata once it has caught up).
        let defaults = super::dynamic_configs::with_stored(
            &config.data_dir,
            config.node_id,
            config.defaults.clone(),
        )?;
        let topics = Arc::new(TopicManager::open(&config.data_dir, defaults)?);
        topics.set_producer_id_expiration(config.producer_id_expiration);
        // Only a group's newest commit per partition matters: compacted, so
        // commits no longer grow without bound. A data dir from before
        // compaction gets the policy on its next start.
        let compacted = || {
            let mut cfg = std::collections::BTreeMap::new();
            cfg.insert("cleanup.policy".to_string(), "compact".to_string());
            cfg
        };
        if let Some(t) = topics.get(OFFSETS_TOPIC) {
            if !t.config().overrides.contains_key("cleanup.policy") {
                tracing::info!(topic = OFFSETS_TOPIC, "upgrading to cleanup.policy=compact");
                topics.set_internal_config(OFFSETS_TOPIC, compacted())?;
            }
        } else {
            // Offsets must outlive any retention: they are the group's memory.
            let mut cfg = compacted();
            cfg.insert("retention.ms".to_string(), "-1".to_string());
            cfg.insert("segment.bytes".to_string(), (64u64 << 20).to_string());
            cfg.insert("flush.policy".to_string(), "every-append".to_string());
            topics.create(OFFSETS_TOPIC, config.offsets_partitions, 1, cfg, true)?;
        }
        let store = Arc::new(LogGroupStore::new(topics.clone()));
        let group_config = GroupConfig {
            offsets_partitions: topics
                .get(OFFSETS_TOPIC)
                .map(|t| t.partition_count())
                .unwrap_or(config.offsets_partitions),
            initial_rebalance_delay: config.group_initial_rebalance_delay,
            min_session_timeout_ms: config.group_min_session_timeout_ms,
            max_session_timeout_ms: config.group_max_session_timeout_ms,
            ..GroupConfig::default()
        };
        let groups = GroupCoordinator::new(group_config, store);
        // In a cluster the local log may be behind the partition's leader:
        // groups are loaded per partition when this broker comes to lead it
        // (`replication::coordinator::leadership_listener`), never from here.
        if cluster.is_none() {
            groups.load().await.map_err(|e| {
                BrokerError::Io(std::io::Error::other(format!("loading groups: {e}")))
            })?;
        }
        let peers = Arc::new(super::replication::peer::PeerPool::default());
        let txns = open_transactions(&config, &topics, &groups, &peers, cluster.is_none()).await?;
        let metrics = config
            .metrics_listen
            .as_ref()
            .map(|_| Arc::new(super::metrics::BrokerMetrics::new(topics.fsync_histogram())));
        Ok(Arc::new(Broker {
            metrics,
            broker_configs_lock: tokio::sync::Mutex::new(()),
            peers,
            config,
            topics,
            groups,
            txns,
            advertised,
            cluster,
            started: tokio::time::Instant::now(),
            _dir_lock: lock,
        }))
    }

    /// Deletes a topic and the offsets groups committed for it, so a topic
    /// created later under the same name starts without stale positions.
    pub async fn delete_topic(&self, name: &str) -> Result<(), BrokerError> {
        self.topics.delete(name)?;
        if let Err(e) = self.groups.delete_offsets_for_topic(name).await {
            tracing::warn!(topic = name, error = %e, "could not remove committed offsets of deleted topic");
        }
        Ok(())
    }

    /// Flushes every log; called once on shutdown after connections drained.
    pub fn close(&self) {
        self.topics.flush_all();
    }
}

/// The transaction coordinator: on a single node `__transaction_state` is
/// created and replayed (prepared transactions are finished) here; in a
/// cluster the controller creates it replicated and each partition is
/// loaded when this broker comes to lead it
/// (`replication::coordinator::transaction_leadership_listener`). Either
/// way, expired transactions are checked every
/// `transaction_abort_check_interval`.
async fn open_transactions(
    config: &BrokerConfig,
    topics: &Arc<TopicManager>,
    groups: &Arc<GroupCoordinator>,
    peers: &Arc<super::replication::peer::PeerPool>,
    single_node: bool,
) -> Result<Arc<TransactionCoordinator>, BrokerError> {
    if single_node && topics.get(TRANSACTION_STATE_TOPIC).is_none() {
        // Like the offsets: a decided transaction must outlive retention,
        // and only an id's newest state matters.
        let mut cfg = std::collections::BTreeMap::new();
        cfg.insert("cleanup.policy".to_string(), "compact".to_string());
        cfg.insert("retention.ms".to_string(), "-1".to_string());
        cfg.insert("segment.bytes".to_string(), (64u64 << 20).to_string());
        cfg.insert("flush.policy".to_string(), "every-append".to_string());
        topics.create(
            TRANSACTION_STATE_TOPIC,
            config.transaction_state_partitions,
            1,
            cfg,
            true,
        )?;
    }
    let partitions = topics
        .get(TRANSACTION_STATE_TOPIC)
        .map(|t| t.partition_count())
        .unwrap_or(config.transaction_state_partitions);
    let txns = TransactionCoordinator::new(
        TxnConfig {
            partitions,
            max_timeout_ms: config.transaction_max_timeout_ms,
        },
        Arc::new(BrokerTxnEnv::new(
            config.node_id,
            topics.clone(),
            groups.clone(),
            peers.clone(),
        )),
    );
    if single_node {
        let n = txns.load().await.map_err(|e| {
            BrokerError::Io(std::io::Error::other(format!("loading transactions: {e}")))
        })?;
        if n > 0 {
            tracing::info!(transactional_ids = n, "loaded transaction state");
        }
    }
    {
        let weak = Arc::downgrade(&txns);
        let every = config.transaction_abort_check_interval;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // The broker is gone (tests open several per process).
                let Some(txns) = weak.upgrade() else { break };
                txns.tick().await;
            }
        });
    }
    Ok(txns)
}
