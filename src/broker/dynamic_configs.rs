//! Dynamic broker configs on this broker: where the values live (a file in
//! the data dir on a single node; the metadata quorum in a cluster, with
//! the file as this broker's copy for its next start), describing them
//! with their sources, and changing them. Both protocols' handlers call
//! these; the rules are in `broker_config`.
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::broker_config::{self as bc, ConfigScope, Source, Stored};
use super::config::TopicDefaults;
use super::error::BrokerError;
use super::state::Broker;
use super::topic_config::TopicConfig;
use crate::cluster::MetadataCommand;

/// One described dynamic broker key.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribedBrokerConfig {
    pub name: &'static str,
    pub value: String,
    pub source: Source,
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("meta/broker-configs.json")
}

/// The stored values; none before the first change.
pub fn load(data_dir: &Path) -> Result<Stored, BrokerError> {
    let p = path(data_dir);
    let body = match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Stored::new()),
        Err(e) => return Err(e.into()),
    };
    serde_json::from_slice(&body).map_err(|e| {
        BrokerError::InvalidConfig(format!(
            "{} is not a valid broker config file: {e}",
            p.display()
        ))
    })
}

/// Writes `stored` atomically and durably (temp file, fsync, rename).
fn save(data_dir: &Path, stored: &Stored) -> Result<(), BrokerError> {
    let p = path(data_dir);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = p.with_extension("tmp");
    let body =
        serde_json::to_vec_pretty(stored).map_err(|e| BrokerError::Io(std::io::Error::other(e)))?;
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&body)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &p)?;
    if let Some(dir) = p.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The topic defaults `defaults` with this broker's stored dynamic values,
/// for opening the topics at start-up.
pub fn with_stored(
    data_dir: &Path,
    node_id: i32,
    mut defaults: TopicDefaults,
) -> Result<TopicDefaults, BrokerError> {
    defaults.dynamic = bc::topic_defaults(&load(data_dir)?, node_id);
    Ok(defaults)
}

impl Broker {
    fn stored_broker_configs(&self) -> Result<Stored, BrokerError> {
        match &self.cluster {
            Some(c) => Ok(c.metadata().broker_configs.clone()),
            None => load(&self.config.data_dir),
        }
    }

    /// A single node has one broker: its own id (or the cluster default).
    fn check_scope(&self, scope: ConfigScope) -> Result<(), BrokerError> {
        match scope {
            ConfigScope::Broker(id) if self.cluster.is_none() && id != self.config.node_id => {
                Err(BrokerError::InvalidRequest(format!(
                    "there is no broker {id}: this single node is broker {}",
                    self.config.node_id
                )))
            }
            ConfigScope::Broker(id) => match &self.cluster {
                Some(c) if !c.metadata().brokers.contains_key(&id) => Err(
                    BrokerError::InvalidRequest(format!("broker {id} is not in the cluster")),
                ),
                _ => Ok(()),
            },
            ConfigScope::ClusterDefault => Ok(()),
        }
    }

    /// Every dynamic key's value for `scope`, with where it comes from.
    /// Values no scope sets are this broker's `strom serve` flags or
    /// Kafka's defaults.
    pub fn describe_broker_configs(
        &self,
        scope: ConfigScope,
    ) -> Result<Vec<DescribedBrokerConfig>, BrokerError> {
        self.check_scope(scope)?;
        let stored = self.stored_broker_configs()?;
        let dynamic = match scope {
            ConfigScope::ClusterDefault => stored
                .get("")
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| {
                    bc::find(k).map(|key| (key.topic_key, (v.clone(), Source::ClusterDefault)))
                })
                .collect(),
            ConfigScope::Broker(id) => bc::effective(&stored, id),
        };
        let mut statics = self.topics.defaults();
        statics.dynamic = BTreeMap::new();
        let value_of = |defaults: &TopicDefaults| -> BTreeMap<String, String> {
            TopicConfig::new(BTreeMap::new(), defaults)
                .map(|c| {
                    c.described()
                        .into_iter()
                        .map(|e| (e.key, e.value))
                        .collect()
                })
                .unwrap_or_default()
        };
        let flags = value_of(&statics);
        let kafka = value_of(&TopicDefaults::default());
        Ok(bc::DYNAMIC_KEYS
            .iter()
            .map(|key| {
                let (value, source) = match dynamic.get(key.topic_key) {
                    Some((v, s)) => (v.clone(), *s),
                    None => {
                        let v = flags.get(key.topic_key).cloned().unwrap_or_default();
                        let s = if kafka.get(key.topic_key) == Some(&v) {
                            Source::Default
                        } else {
                            Source::Static
                        };
                        (v, s)
                    }
                };
                DescribedBrokerConfig {
                    name: key.name,
                    value,
                    source,
                }
            })
            .collect())
    }

    /// Changes `scope`'s dynamic values (`replace`: AlterConfigs, the set
    /// named is the whole set). Takes effect on every topic that does not
    /// override the keys, at once, and survives restarts.
    pub async fn alter_broker_configs(
        &self,
        scope: ConfigScope,
        set: BTreeMap<String, String>,
        delete: Vec<String>,
        replace: bool,
        validate_only: bool,
    ) -> Result<(), BrokerError> {
        self.check_scope(scope)?;
        let key = scope.storage_key();
        let stored = self.stored_broker_configs()?;
        let empty = BTreeMap::new();
        let values = bc::merge(stored.get(&key).unwrap_or(&empty), &set, &delete, replace)?;
        let mut next = stored.clone();
        if values.is_empty() {
            next.remove(&key);
        } else {
            next.insert(key.clone(), values.clone());
        }
        let node = self.config.node_id;
        // Every topic must stay valid beside the new defaults.
        let mut candidate = self.topics.defaults();
        candidate.dynamic = bc::topic_defaults(&next, node);
        for topic in self.topics.list() {
            TopicConfig::new(topic.config().overrides, &candidate).map_err(|e| {
                BrokerError::InvalidConfig(format!(
                    "topic '{}' would not be valid: {e}",
                    topic.name
                ))
            })?;
        }
        if validate_only {
            return Ok(());
        }
        let Some(c) = &self.cluster else {
            let _one_at_a_time = self.broker_configs_lock.lock().await;
            self.topics.set_dynamic_defaults(candidate.dynamic)?;
            if let Err(e) = save(&self.config.data_dir, &next) {
                let _ = self
                    .topics
                    .set_dynamic_defaults(bc::topic_defaults(&stored, node));
                return Err(e);
            }
            tracing::info!(scope = %key, configs = ?values, "dynamic broker configs changed");
            return Ok(());
        };
        c.propose(MetadataCommand::AlterBrokerConfigs {
            scope: key.clone(),
            set: set
                .into_iter()
                .map(|(k, v)| (k, v.trim().to_string()))
                .collect(),
            delete,
            replace,
        })
        .await?;
        self.await_local(|md| md.broker_configs.get(&key).cloned().unwrap_or_default() == values)
            .await;
        self.apply_cluster_broker_configs(&c.metadata().broker_configs);
        Ok(())
    }

    /// Makes the committed cluster values this broker's (from the metadata
    /// sync), and keeps a copy in the data dir for the next start.
    pub fn apply_cluster_broker_configs(&self, stored: &Stored) {
        let dynamic = bc::topic_defaults(stored, self.config.node_id);
        if dynamic == self.topics.dynamic_defaults() {
            return;
        }
        match self.topics.set_dynamic_defaults(dynamic) {
            Ok(()) => tracing::info!("dynamic broker configs applied from the cluster"),
            Err(e) => {
                tracing::warn!(error = %e, "cannot apply the cluster's dynamic broker configs")
            }
        }
        if let Err(e) = save(&self.config.data_dir, stored) {
            tracing::warn!(error = %e, "cannot keep a copy of the dynamic broker configs");
        }
    }
}
