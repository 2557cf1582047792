//! The broker's shared state: one per process, handed to every connection.
use std::fs::File;
use std::sync::Arc;

use super::config::BrokerConfig;
use super::error::BrokerError;
use super::group::{GroupConfig, GroupCoordinator};
use super::group_store::LogGroupStore;
use super::topics::TopicManager;

pub use crate::proto::OFFSETS_TOPIC;

pub struct Broker {
    pub config: BrokerConfig,
    pub topics: Arc<TopicManager>,
    pub groups: Arc<GroupCoordinator>,
    /// host and port put in metadata; set once the listener is bound.
    pub advertised: (String, i32),
    /// The metadata quorum, when `--voters` is set; `None` runs a single
    /// node exactly as before (see `cluster_view`).
    pub cluster: Option<Arc<crate::cluster::ClusterHandle>>,
    /// When the broker finished opening (for uptime).
    pub started: tokio::time::Instant,
    /// Request, wait and connection metrics; `None` with metrics off.
    pub metrics: Option<Arc<super::metrics::BrokerMetrics>>,
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
        let topics = Arc::new(TopicManager::open(
            &config.data_dir,
            config.defaults.clone(),
        )?);
        topics.set_producer_id_expiration(config.producer_id_expiration);
        if topics.get(OFFSETS_TOPIC).is_none() {
            // Offsets must outlive any retention: they are the group's memory.
            let mut cfg = std::collections::BTreeMap::new();
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
        let metrics = config
            .metrics_listen
            .as_ref()
            .map(|_| Arc::new(super::metrics::BrokerMetrics::new(topics.fsync_histogram())));
        Ok(Arc::new(Broker {
            metrics,
            config,
            topics,
            groups,
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
