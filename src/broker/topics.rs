//! The topic manager: which topics exist, their configs and partitions.
//!
//! Layout under the data dir:
//! - `meta/topics/<name>.json`: partition count, replication factor and the
//!   config overrides, written atomically (temp file, fsync, rename).
//! - `data/<name>-<partition>/`: one partition log each.
//!
//! A topic exists exactly when its meta file does, so a crash half-way
//! through a create or delete leaves either the old or the new state.
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::config::TopicDefaults;
use super::error::BrokerError;
use super::partition::Partition;
use super::replication::producers::DEFAULT_PRODUCER_ID_EXPIRATION;
use super::topic_config::{merge_overrides, validate_topic_name, TopicConfig};

pub const MAX_PARTITIONS: i32 = 100_000;

/// The longest file name Linux file systems take (`NAME_MAX`).
const NAME_MAX: usize = 255;

/// Decimal digits of a non-negative number.
const fn digits(mut n: i32) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// The longest topic name the on-disk layout can hold: partition
/// directories are `<topic>-<partition>` (the longest suffix is `-99999`),
/// meta files `<topic>.json` and their temp files `<topic>.tmp`. 249, as
/// in Kafka, whose partition directories are named the same way.
pub const MAX_TOPIC_NAME_LEN: usize = {
    let partition_suffix = 1 + digits(MAX_PARTITIONS - 1);
    let meta_suffix = ".json".len();
    let longest = if partition_suffix > meta_suffix {
        partition_suffix
    } else {
        meta_suffix
    };
    NAME_MAX - longest
};

pub struct Topic {
    pub name: Arc<str>,
    pub internal: bool,
    pub replication_factor: i16,
    config: RwLock<TopicConfig>,
    partitions: RwLock<Vec<Arc<Partition>>>,
}

impl Topic {
    pub fn config(&self) -> TopicConfig {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
    pub fn partitions(&self) -> Vec<Arc<Partition>> {
        self.partitions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
    pub fn partition_count(&self) -> i32 {
        self.partitions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .len() as i32
    }
    pub fn partition(&self, index: i32) -> Option<Arc<Partition>> {
        let parts = self.partitions.read().unwrap_or_else(|p| p.into_inner());
        usize::try_from(index)
            .ok()
            .and_then(|i| parts.get(i).cloned())
    }
}

#[derive(Serialize, Deserialize)]
struct TopicMeta {
    name: String,
    partitions: i32,
    replication_factor: i16,
    #[serde(default)]
    internal: bool,
    configs: BTreeMap<String, String>,
}

pub struct TopicManager {
    data_dir: PathBuf,
    /// Swapped as a whole when the dynamic broker defaults change.
    defaults: RwLock<TopicDefaults>,
    topics: RwLock<HashMap<String, Arc<Topic>>>,
    appended: watch::Sender<u64>,
    /// Bumped when partitions appear (create, grow), so the replica manager
    /// gives them their role at once instead of at its next tick.
    opened: watch::Sender<u64>,
    /// Serialises create/delete/alter so two admins cannot race on the files.
    admin: std::sync::Mutex<()>,
    /// Idle idempotent producers are forgotten after this long (Kafka's
    /// `producer.id.expiration.ms`), at each retention check.
    producer_id_expiration: RwLock<Duration>,
    /// fdatasync latency over every partition (for the metrics).
    fsync: crate::broker::metrics::FsyncHistogram,
}

impl TopicManager {
    /// Opens every topic found under the data dir, recovering each log.
    pub fn open(data_dir: &Path, defaults: TopicDefaults) -> Result<TopicManager, BrokerError> {
        fs::create_dir_all(data_dir.join("meta/topics"))?;
        fs::create_dir_all(data_dir.join("data"))?;
        let (appended, _) = watch::channel(0u64);
        let mgr = TopicManager {
            data_dir: data_dir.to_path_buf(),
            defaults: RwLock::new(defaults),
            topics: RwLock::new(HashMap::new()),
            appended,
            opened: watch::channel(0u64).0,
            admin: std::sync::Mutex::new(()),
            producer_id_expiration: RwLock::new(DEFAULT_PRODUCER_ID_EXPIRATION),
            fsync: Default::default(),
        };
        for entry in fs::read_dir(mgr.meta_dir())? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let raw = fs::read(&path)?;
            let meta: TopicMeta = serde_json::from_slice(&raw).map_err(|e| {
                BrokerError::Io(std::io::Error::other(format!(
                    "corrupt topic metadata {}: {e}",
                    path.display()
                )))
            })?;
            let topic = mgr.open_topic(meta)?;
            mgr.write_topics().insert(topic.name.to_string(), topic);
        }
        mgr.remove_orphan_partitions()?;
        Ok(mgr)
    }

    /// Removes partition directories no topic owns: what a crash in the
    /// middle of a create, a grow or a delete left (a topic exists exactly
    /// when its meta file does, and owns partitions below its count).
    fn remove_orphan_partitions(&self) -> Result<(), BrokerError> {
        for entry in fs::read_dir(self.data_dir.join("data"))? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let owned = name
                .rsplit_once('-')
                .and_then(|(topic, p)| Some((self.get(topic)?, p.parse::<i32>().ok()?)))
                .is_some_and(|(topic, p)| p >= 0 && p < topic.partition_count());
            if owned {
                continue;
            }
            let path = entry.path();
            tracing::info!(dir = %path.display(), "removing partition directory no topic owns");
            let removed = if entry.file_type()?.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            if let Err(e) = removed {
                tracing::warn!(dir = %path.display(), error = %e, "could not remove orphan partition directory");
            }
        }
        Ok(())
    }

    /// Opens partitions `range` of a topic, creating their directories; all
    /// or nothing: on the first failure the ones opened are closed and every
    /// directory of the range is removed again.
    fn open_partitions(
        &self,
        name: &Arc<str>,
        range: std::ops::Range<i32>,
        config: &TopicConfig,
    ) -> Result<Vec<Arc<Partition>>, BrokerError> {
        let mut opened = Vec::with_capacity(range.len());
        for p in range.clone() {
            match Partition::open(
                name.clone(),
                p,
                &self.partition_dir(name, p),
                config.log_config(),
                self.appended.clone(),
                self.fsync.clone(),
            ) {
                Ok(part) => opened.push(Arc::new(part)),
                Err(e) => {
                    drop(opened);
                    self.remove_partition_dirs(name, range);
                    return Err(BrokerError::Io(std::io::Error::other(format!(
                        "cannot create partition {name}-{p}: {e}; nothing was created"
                    ))));
                }
            }
        }
        // The new directories' entries, once for all of them.
        if let Err(e) = fs::File::open(self.data_dir.join("data")).and_then(|d| d.sync_all()) {
            drop(opened);
            self.remove_partition_dirs(name, range);
            return Err(e.into());
        }
        Ok(opened)
    }

    fn remove_partition_dirs(&self, name: &str, range: std::ops::Range<i32>) {
        for p in range {
            let dir = self.partition_dir(name, p);
            match fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    tracing::warn!(dir = %dir.display(), error = %e, "could not remove partition dir")
                }
                _ => {}
            }
        }
    }

    fn meta_dir(&self) -> PathBuf {
        self.data_dir.join("meta/topics")
    }

    fn partition_dir(&self, topic: &str, p: i32) -> PathBuf {
        self.data_dir.join("data").join(format!("{topic}-{p}"))
    }

    fn write_topics(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Topic>>> {
        self.topics.write().unwrap_or_else(|p| p.into_inner())
    }

    /// fdatasync latency of every partition, for the metrics registry.
    pub fn fsync_histogram(&self) -> crate::broker::metrics::FsyncHistogram {
        self.fsync.clone()
    }

    /// A receiver that changes whenever any partition is appended to.
    pub fn subscribe_appends(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }

    /// A receiver that changes whenever partitions are added locally.
    pub fn subscribe_opened(&self) -> watch::Receiver<u64> {
        self.opened.subscribe()
    }

    fn notify_opened(&self) {
        self.opened.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn defaults(&self) -> TopicDefaults {
        self.defaults
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The dynamic broker defaults in effect (topic key → value).
    pub fn dynamic_defaults(&self) -> BTreeMap<String, String> {
        self.defaults
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .dynamic
            .clone()
    }

    /// Makes `dynamic` the broker defaults of every topic key it names,
    /// and reconfigures every topic that does not override them, at once:
    /// retention, segment sizes, limits and the cleaner see the new values
    /// from their next step. Refused, with nothing changed, if any topic's
    /// overrides would not be valid beside the new defaults.
    pub fn set_dynamic_defaults(
        &self,
        dynamic: BTreeMap<String, String>,
    ) -> Result<(), BrokerError> {
        let _admin = self.admin.lock().unwrap_or_else(|p| p.into_inner());
        let mut candidate = self.defaults();
        if candidate.dynamic == dynamic {
            return Ok(());
        }
        candidate.dynamic = dynamic;
        let mut planned = Vec::new();
        for topic in self.list() {
            let config = TopicConfig::new(topic.config().overrides, &candidate).map_err(|e| {
                BrokerError::InvalidConfig(format!(
                    "topic '{}' would not be valid: {e}",
                    topic.name
                ))
            })?;
            planned.push((topic, config));
        }
        *self.defaults.write().unwrap_or_else(|p| p.into_inner()) = candidate;
        for (topic, config) in planned {
            for p in topic.partitions() {
                p.log().set_config(config.log_config());
            }
            *topic.config.write().unwrap_or_else(|p| p.into_inner()) = config;
        }
        Ok(())
    }

    fn open_topic(&self, meta: TopicMeta) -> Result<Arc<Topic>, BrokerError> {
        let config = TopicConfig::new(meta.configs, &self.defaults())?;
        let name: Arc<str> = Arc::from(meta.name.as_str());
        let mut partitions = Vec::with_capacity(meta.partitions as usize);
        for p in 0..meta.partitions {
            partitions.push(Arc::new(Partition::open(
                name.clone(),
                p,
                &self.partition_dir(&name, p),
                config.log_config(),
                self.appended.clone(),
                self.fsync.clone(),
            )?));
        }
        Ok(Arc::new(Topic {
            name,
            internal: meta.internal,
            replication_factor: meta.replication_factor,
            config: RwLock::new(config),
            partitions: RwLock::new(partitions),
        }))
    }

    fn write_meta(&self, meta: &TopicMeta) -> Result<(), BrokerError> {
        let path = self.meta_dir().join(format!("{}.json", meta.name));
        // `<topic>.tmp`, not `<topic>.json.tmp`: see MAX_TOPIC_NAME_LEN.
        let tmp = self.meta_dir().join(format!("{}.tmp", meta.name));
        let body = serde_json::to_vec_pretty(meta)
            .map_err(|e| BrokerError::Io(std::io::Error::other(e)))?;
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&body)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        fs::File::open(self.meta_dir())?.sync_all()?;
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    pub fn partition(&self, topic: &str, partition: i32) -> Result<Arc<Partition>, BrokerError> {
        self.get(topic)
            .and_then(|t| t.partition(partition))
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(format!("{topic}-{partition}")))
    }

    /// Every topic, sorted by name.
    pub fn list(&self) -> Vec<Arc<Topic>> {
        let mut v: Vec<_> = self
            .topics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Checks everything a create would check, without creating.
    pub fn validate_create(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        configs: &BTreeMap<String, String>,
    ) -> Result<(i32, i16), BrokerError> {
        validate_topic_name(name)?;
        let partitions = if partitions == -1 {
            self.defaults().partitions
        } else {
            partitions
        };
        if !(1..=MAX_PARTITIONS).contains(&partitions) {
            return Err(BrokerError::InvalidPartitions(partitions));
        }
        let rf = if replication_factor == -1 {
            self.defaults().replication_factor
        } else {
            replication_factor
        };
        if rf != 1 {
            return Err(BrokerError::InvalidReplicationFactor(rf));
        }
        TopicConfig::new(configs.clone(), &self.defaults())?;
        if self.get(name).is_some() {
            return Err(BrokerError::TopicExists(name.to_string()));
        }
        Ok((partitions, rf))
    }

    pub fn create(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        configs: BTreeMap<String, String>,
        internal: bool,
    ) -> Result<Arc<Topic>, BrokerError> {
        let _admin = self.admin.lock().unwrap_or_else(|p| p.into_inner());
        let (partitions, rf) =
            self.validate_create(name, partitions, replication_factor, &configs)?;
        let meta = TopicMeta {
            name: name.to_string(),
            partitions,
            replication_factor: rf,
            internal,
            configs,
        };
        // Stale data dirs from an interrupted delete must not leak into the
        // new topic.
        for p in 0..partitions {
            let dir = self.partition_dir(name, p);
            if dir.is_dir() {
                fs::remove_dir_all(&dir)?;
            } else if dir.exists() {
                fs::remove_file(&dir)?;
            }
        }
        let config = TopicConfig::new(meta.configs.clone(), &self.defaults())?;
        let topic_name: Arc<str> = Arc::from(name);
        let opened = self.open_partitions(&topic_name, 0..partitions, &config)?;
        if let Err(e) = self.write_meta(&meta) {
            drop(opened);
            self.remove_partition_dirs(name, 0..partitions);
            return Err(e);
        }
        let topic = Arc::new(Topic {
            name: topic_name,
            internal,
            replication_factor: rf,
            config: RwLock::new(config),
            partitions: RwLock::new(opened),
        });
        self.write_topics().insert(name.to_string(), topic.clone());
        self.notify_opened();
        tracing::info!(topic = name, partitions, "created topic");
        Ok(topic)
    }

    pub fn delete(&self, name: &str) -> Result<(), BrokerError> {
        let _admin = self.admin.lock().unwrap_or_else(|p| p.into_inner());
        let topic = self
            .get(name)
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(name.to_string()))?;
        BrokerError::refuse_internal(name, "delete internal topic")?;
        fs::remove_file(self.meta_dir().join(format!("{name}.json")))?;
        self.write_topics().remove(name);
        // Requests in flight may still hold the partitions; their files stay
        // readable until they finish, and the directories go now.
        for p in 0..topic.partition_count() {
            let dir = self.partition_dir(name, p);
            if let Err(e) = fs::remove_dir_all(&dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "could not remove partition dir");
            }
        }
        tracing::info!(topic = name, "deleted topic");
        Ok(())
    }

    /// Grows the partition count and/or changes config overrides.
    pub fn alter(
        &self,
        name: &str,
        new_partitions: i32,
        set: BTreeMap<String, String>,
        delete: Vec<String>,
        validate_only: bool,
    ) -> Result<(), BrokerError> {
        BrokerError::refuse_internal(name, "alter internal topic")?;
        self.alter_any(name, new_partitions, set, delete, validate_only)
    }

    /// Sets config overrides the broker itself wants on a topic, internal
    /// ones included (an upgrade making `__consumer_offsets` compacted).
    pub fn set_internal_config(
        &self,
        name: &str,
        set: BTreeMap<String, String>,
    ) -> Result<(), BrokerError> {
        self.alter_any(name, -1, set, Vec::new(), false)
    }

    /// Applies a change the cluster's metadata quorum has committed, to
    /// any topic, internal ones included: clients were checked when the
    /// change was proposed, and refusing here would leave this broker
    /// disagreeing with the cluster for good.
    pub fn apply_committed(
        &self,
        name: &str,
        new_partitions: i32,
        set: BTreeMap<String, String>,
        delete: Vec<String>,
    ) -> Result<(), BrokerError> {
        self.alter_any(name, new_partitions, set, delete, false)
    }

    fn alter_any(
        &self,
        name: &str,
        new_partitions: i32,
        set: BTreeMap<String, String>,
        delete: Vec<String>,
        validate_only: bool,
    ) -> Result<(), BrokerError> {
        let _admin = self.admin.lock().unwrap_or_else(|p| p.into_inner());
        let topic = self
            .get(name)
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(name.to_string()))?;
        let current = topic.partition_count();
        if new_partitions != -1 {
            if new_partitions < current {
                return Err(BrokerError::InvalidPartitionChange(format!(
                    "topic '{name}' has {current} partitions; the count can only grow"
                )));
            }
            if new_partitions > MAX_PARTITIONS {
                return Err(BrokerError::InvalidPartitions(new_partitions));
            }
        }
        let overrides = merge_overrides(&topic.config().overrides, set, &delete)?;
        let config = TopicConfig::new(overrides.clone(), &self.defaults())?;
        if validate_only {
            return Ok(());
        }
        let target = if new_partitions == -1 {
            current
        } else {
            new_partitions
        };
        let added = self.open_partitions(&topic.name, current..target, &config)?;
        if let Err(e) = self.write_meta(&TopicMeta {
            name: name.to_string(),
            partitions: target,
            replication_factor: topic.replication_factor,
            internal: topic.internal,
            configs: overrides,
        }) {
            drop(added);
            self.remove_partition_dirs(name, current..target);
            return Err(e);
        }
        for p in topic.partitions() {
            p.log().set_config(config.log_config());
        }
        topic
            .partitions
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .extend(added);
        *topic.config.write().unwrap_or_else(|p| p.into_inner()) = config;
        if target > current {
            self.notify_opened();
        }
        Ok(())
    }

    /// How long an idle idempotent producer is remembered.
    pub fn set_producer_id_expiration(&self, expiration: Duration) {
        *self
            .producer_id_expiration
            .write()
            .unwrap_or_else(|p| p.into_inner()) = expiration;
    }

    /// Deletes expired segments and rolls old ones on every partition, and
    /// forgets idempotent producers idle past `producer.id.expiration.ms`.
    pub fn enforce_retention(&self, now_ms: i64) {
        let expiration = *self
            .producer_id_expiration
            .read()
            .unwrap_or_else(|p| p.into_inner());
        // Idle time is measured on tokio's clock, not the wall clock.
        let now = tokio::time::Instant::now();
        for topic in self.list() {
            for p in topic.partitions() {
                let expired = p.replica.producers().expire(now, expiration);
                if expired > 0 {
                    tracing::debug!(topic = %topic.name, partition = p.index, producers = expired, "forgot idle idempotent producers");
                }
                let mut log = p.log();
                if let Err(e) = log.maybe_roll(now_ms) {
                    tracing::warn!(topic = %topic.name, partition = p.index, error = %e, "segment roll failed");
                }
                match log.apply_retention(now_ms) {
                    Ok(0) => {}
                    Ok(n) => {
                        p.trim_txns(&log);
                        tracing::info!(topic = %topic.name, partition = p.index, segments = n, "retention deleted segments")
                    }
                    Err(e) => {
                        tracing::warn!(topic = %topic.name, partition = p.index, error = %e, "retention failed")
                    }
                }
            }
        }
    }

    /// fdatasyncs partitions whose interval flush is due.
    pub fn flush_due(&self, now_ms: i64) {
        for topic in self.list() {
            for p in topic.partitions() {
                if let Err(e) = p.flush_if_due(now_ms) {
                    tracing::error!(topic = %topic.name, partition = p.index, error = %e, "interval flush failed");
                }
            }
        }
    }

    /// fdatasyncs every partition (clean shutdown).
    pub fn flush_all(&self) {
        for topic in self.list() {
            for p in topic.partitions() {
                if let Err(e) = p.log().flush() {
                    tracing::error!(topic = %topic.name, partition = p.index, error = %e, "flush failed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::BatchBuilder;

    #[tokio::test(start_paused = true)]
    async fn retention_checks_forget_idle_producers() {
        let dir = tempfile::tempdir().unwrap();
        let mgr = TopicManager::open(dir.path(), TopicDefaults::default()).unwrap();
        mgr.set_producer_id_expiration(Duration::from_secs(10));
        mgr.create("t", 1, 1, BTreeMap::new(), false).unwrap();
        let part = mgr.partition("t", 0).unwrap();
        let mut b = BatchBuilder::new(1);
        b.set_producer(7, 0, 0);
        b.push(1, None, Some(b"v"), &[]).unwrap();
        part.append(&mut b.finish()).unwrap();
        let now_ms = crate::broker::server::now_ms();
        mgr.enforce_retention(now_ms);
        assert_eq!(part.replica.producers().len(), 1);
        tokio::time::advance(Duration::from_secs(9)).await;
        mgr.enforce_retention(now_ms);
        assert_eq!(part.replica.producers().len(), 1, "idle 9 s of 10");
        tokio::time::advance(Duration::from_secs(1)).await;
        mgr.enforce_retention(now_ms);
        assert!(part.replica.producers().is_empty(), "idle 10 s");
    }
}
