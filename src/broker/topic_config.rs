//! Per-topic configuration: Kafka's topic config keys (the table in
//! `topic_config_keys.rs`), validated, with broker defaults for whatever a
//! topic does not set, and the typed values the broker acts on.
use std::collections::BTreeMap;
use std::str::FromStr;

use super::config::TopicDefaults;
use super::error::BrokerError;
pub use super::topic_config_keys::*;
use super::topics::MAX_TOPIC_NAME_LEN;
use crate::log::{CompactionConfig, FlushPolicy, LogConfig, TimestampPolicy};
use crate::record::Compression;

/// `compression.type`: keep the producer's codec, or store this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicCompression {
    Producer,
    Uncompressed,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl TopicCompression {
    /// The codec batches are stored in; `None` keeps the producer's.
    pub fn codec(self) -> Option<Compression> {
        match self {
            TopicCompression::Producer => None,
            TopicCompression::Uncompressed => Some(Compression::None),
            TopicCompression::Gzip => Some(Compression::Gzip),
            TopicCompression::Snappy => Some(Compression::Snappy),
            TopicCompression::Lz4 => Some(Compression::Lz4),
            TopicCompression::Zstd => Some(Compression::Zstd),
        }
    }

    fn parse(s: &str) -> Option<TopicCompression> {
        Some(match s {
            "producer" => TopicCompression::Producer,
            "uncompressed" => TopicCompression::Uncompressed,
            "gzip" => TopicCompression::Gzip,
            "snappy" => TopicCompression::Snappy,
            "lz4" => TopicCompression::Lz4,
            "zstd" => TopicCompression::Zstd,
            _ => return None,
        })
    }
}

/// The effective configuration of one topic.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicConfig {
    /// Only what the topic sets itself; persisted and shown as non-default.
    pub overrides: BTreeMap<String, String>,
    pub retention_ms: i64,
    pub retention_bytes: i64,
    pub segment_bytes: u64,
    pub segment_ms: i64,
    pub max_message_bytes: u32,
    pub min_insync_replicas: i32,
    pub flush_policy: FlushPolicy,
    pub index_interval_bytes: u32,
    pub compression: TopicCompression,
    pub timestamps: TimestampPolicy,
    /// `cleanup.policy` has `delete`: retention deletes old segments.
    pub delete: bool,
    /// `cleanup.policy` has `compact`: the cleaner keeps the newest
    /// record per key, with these settings.
    pub compact: bool,
    pub compaction: CompactionConfig,
    /// The dynamic broker defaults this topic inherits (keys it does not
    /// override), shown with their broker source.
    pub inherited: BTreeMap<String, String>,
}

/// One described key: its effective value, whether that is a default (not
/// set on the topic), and its spec.
#[derive(Debug, Clone)]
pub struct ConfigEntry {
    pub key: String,
    pub value: String,
    pub is_default: bool,
    /// A default that comes from a dynamic broker config.
    pub inherited: bool,
    pub spec: &'static Spec,
}

fn parse_num<T: FromStr>(key: &str, value: &str) -> Result<T, BrokerError> {
    value
        .trim()
        .parse()
        .map_err(|_| BrokerError::InvalidConfig(format!("{key}={value}: not a valid number")))
}

impl TopicConfig {
    pub fn new(
        overrides: BTreeMap<String, String>,
        defaults: &TopicDefaults,
    ) -> Result<TopicConfig, BrokerError> {
        let mut cfg = TopicConfig {
            overrides: BTreeMap::new(),
            retention_ms: defaults.retention_ms,
            retention_bytes: defaults.retention_bytes,
            segment_bytes: defaults.segment_bytes,
            segment_ms: defaults.segment_ms,
            max_message_bytes: defaults.max_message_bytes,
            min_insync_replicas: defaults.min_insync_replicas,
            flush_policy: defaults.flush_policy,
            index_interval_bytes: LogConfig::default().index_interval_bytes,
            compression: TopicCompression::Producer,
            timestamps: TimestampPolicy::default(),
            delete: true,
            compact: false,
            compaction: CompactionConfig::default(),
            inherited: BTreeMap::new(),
        };
        // Dynamic broker defaults were validated when they were set; one
        // that no longer applies (a hand-edited file) is skipped rather
        // than making every topic unopenable.
        for (k, v) in &defaults.dynamic {
            if overrides.contains_key(k) {
                continue;
            }
            match cfg.apply(k, v) {
                Ok(()) => {
                    cfg.inherited.insert(k.clone(), v.trim().to_string());
                }
                Err(e) => tracing::warn!(key = %k, error = %e, "ignoring a dynamic broker default"),
            }
        }
        for (k, v) in &overrides {
            cfg.apply(k, v)?;
        }
        cfg.overrides = overrides;
        Ok(cfg)
    }

    fn apply(&mut self, key: &str, value: &str) -> Result<(), BrokerError> {
        let Some(spec) = find(key) else {
            return Err(BrokerError::InvalidConfig(format!(
                "unknown topic config '{key}' (known: {})",
                known_keys()
            )));
        };
        validate(spec, value)?;
        let v = value.trim();
        match key {
            RETENTION_MS => self.retention_ms = parse_num(key, v)?,
            RETENTION_BYTES => self.retention_bytes = parse_num(key, v)?,
            SEGMENT_BYTES => self.segment_bytes = parse_num(key, v)?,
            SEGMENT_MS => self.segment_ms = parse_num(key, v)?,
            MAX_MESSAGE_BYTES => self.max_message_bytes = parse_num(key, v)?,
            MIN_INSYNC_REPLICAS => self.min_insync_replicas = parse_num(key, v)?,
            INDEX_INTERVAL_BYTES => self.index_interval_bytes = parse_num(key, v)?,
            MESSAGE_TIMESTAMP_TYPE => self.timestamps.log_append_time = v == "LogAppendTime",
            MESSAGE_TIMESTAMP_BEFORE_MAX_MS => self.timestamps.before_max_ms = parse_num(key, v)?,
            MESSAGE_TIMESTAMP_AFTER_MAX_MS => self.timestamps.after_max_ms = parse_num(key, v)?,
            COMPRESSION_TYPE => {
                self.compression = TopicCompression::parse(v).unwrap_or(TopicCompression::Producer)
            }
            CLEANUP_POLICY => {
                let has = |want: &str| v.split(',').any(|p| p.trim() == want);
                self.delete = has("delete");
                self.compact = has("compact");
            }
            DELETE_RETENTION_MS => self.compaction.delete_retention_ms = parse_num(key, v)?,
            MIN_COMPACTION_LAG_MS => self.compaction.min_lag_ms = parse_num(key, v)?,
            MAX_COMPACTION_LAG_MS => self.compaction.max_lag_ms = parse_num(key, v)?,
            MIN_CLEANABLE_DIRTY_RATIO => {
                let ratio: f64 = parse_num(key, v)?;
                self.compaction.min_dirty_ratio_ppm = (ratio.clamp(0.0, 1.0) * 1e6).round() as u32;
            }
            REMOTE_STORAGE_ENABLE if v == "true" => {
                return Err(BrokerError::InvalidConfig(format!(
                    "{key}={value}: tiered storage is not available in strom"
                )));
            }
            FLUSH_POLICY => {
                self.flush_policy = v.parse().map_err(|_| {
                    BrokerError::InvalidConfig(format!(
                        "{key}={value}: must be every-append, interval:<ms> or os"
                    ))
                })?;
            }
            // Accepted and described, without effect (docs/kafka-compatibility.md).
            _ => {}
        }
        Ok(())
    }

    /// The effective value of one key: the topic's override, else the
    /// broker-wide default for keys `strom serve` sets, else Kafka's.
    fn value_of(&self, spec: &Spec) -> String {
        if let Some(v) = self
            .overrides
            .get(spec.name)
            .or(self.inherited.get(spec.name))
        {
            return v.trim().to_string();
        }
        match spec.name {
            RETENTION_MS => self.retention_ms.to_string(),
            RETENTION_BYTES => self.retention_bytes.to_string(),
            SEGMENT_BYTES => self.segment_bytes.to_string(),
            SEGMENT_MS => self.segment_ms.to_string(),
            MAX_MESSAGE_BYTES => self.max_message_bytes.to_string(),
            MIN_INSYNC_REPLICAS => self.min_insync_replicas.to_string(),
            FLUSH_POLICY => self.flush_policy.to_string(),
            _ => spec.default.to_string(),
        }
    }

    /// Every key with its effective value, in name order.
    pub fn described(&self) -> Vec<ConfigEntry> {
        SPECS
            .iter()
            .map(|spec| ConfigEntry {
                key: spec.name.to_string(),
                value: self.value_of(spec),
                is_default: !self.overrides.contains_key(spec.name),
                inherited: self.inherited.contains_key(spec.name),
                spec,
            })
            .collect()
    }

    /// The value of every key, and whether it is the broker default.
    pub fn entries(&self) -> Vec<(String, String, bool)> {
        self.described()
            .into_iter()
            .map(|e| (e.key, e.value, e.is_default))
            .collect()
    }

    pub fn log_config(&self) -> LogConfig {
        LogConfig {
            segment_bytes: self.segment_bytes,
            segment_ms: self.segment_ms,
            // Without `delete` in cleanup.policy nothing is deleted by age or size.
            retention_ms: (self.delete && self.retention_ms >= 0).then_some(self.retention_ms),
            retention_bytes: (self.delete && self.retention_bytes >= 0)
                .then_some(self.retention_bytes as u64),
            max_batch_bytes: self.max_message_bytes,
            flush: self.flush_policy,
            index_interval_bytes: self.index_interval_bytes,
            timestamps: self.timestamps,
            compression: self.compression.codec(),
            compaction: self.compact.then_some(self.compaction),
        }
    }
}

/// `current` overrides with `delete` removed, then `set` added. Deleting a
/// key that is no topic config is an error, as in Kafka: a typo in
/// `--delete-config` must not look like it worked.
pub fn merge_overrides(
    current: &BTreeMap<String, String>,
    set: BTreeMap<String, String>,
    delete: &[String],
) -> Result<BTreeMap<String, String>, BrokerError> {
    let mut merged = current.clone();
    for key in delete {
        if find(key).is_none() {
            return Err(BrokerError::InvalidConfig(format!(
                "cannot delete unknown topic config '{key}' (known: {})",
                known_keys()
            )));
        }
        merged.remove(key);
    }
    merged.extend(set);
    Ok(merged)
}

impl TopicConfig {
    /// `min.insync.replicas` above the replication factor would refuse
    /// every acks=all write forever, so a create or alter that asks for it
    /// is refused instead.
    pub fn check_replication_factor(&self, replication_factor: i16) -> Result<(), BrokerError> {
        if self.min_insync_replicas > i32::from(replication_factor) {
            return Err(BrokerError::InvalidConfig(format!(
                "min.insync.replicas={} is more than the replication factor {replication_factor}: \
                 every acks=all write would be refused with NOT_ENOUGH_REPLICAS; lower \
                 min.insync.replicas to at most {replication_factor} or use more replicas",
                self.min_insync_replicas
            )));
        }
        Ok(())
    }
}

/// One change of an IncrementalAlterConfigs request, in domain terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOp {
    Set(String, String),
    /// Back to the default.
    Delete(String),
    /// Add an item to a list value (e.g. `cleanup.policy`), if missing.
    Append(String, String),
    /// Remove an item from a list value.
    Subtract(String, String),
}

impl ConfigOp {
    fn key(&self) -> &str {
        match self {
            ConfigOp::Set(k, _)
            | ConfigOp::Delete(k)
            | ConfigOp::Append(k, _)
            | ConfigOp::Subtract(k, _) => k,
        }
    }
}

/// The overrides to set and keys to delete that `ops` mean for a topic whose
/// config is `current`; validated as a whole by the alter that applies them.
pub fn plan_changes(
    current: &TopicConfig,
    ops: &[ConfigOp],
) -> Result<(BTreeMap<String, String>, Vec<String>), BrokerError> {
    let mut set = BTreeMap::new();
    let mut delete = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for op in ops {
        let key = op.key();
        if !seen.insert(key.to_string()) {
            return Err(BrokerError::InvalidRequest(format!(
                "'{key}' is changed twice in one request"
            )));
        }
        let Some(spec) = find(key) else {
            return Err(BrokerError::InvalidConfig(format!(
                "unknown topic config '{key}' (known: {})",
                known_keys()
            )));
        };
        let list_op = |value: &str, append: bool| -> Result<String, BrokerError> {
            if spec.kind != Kind::List {
                return Err(BrokerError::InvalidConfig(format!(
                    "'{key}' is not a list; APPEND and SUBTRACT apply to list configs only"
                )));
            }
            let effective = current.value_of(spec);
            let mut items: Vec<String> = effective
                .split(',')
                .map(|i| i.trim().to_string())
                .filter(|i| !i.is_empty())
                .collect();
            for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                if append {
                    if !items.iter().any(|i| i == v) {
                        items.push(v.to_string());
                    }
                } else {
                    items.retain(|i| i != v);
                }
            }
            Ok(items.join(","))
        };
        match op {
            ConfigOp::Set(_, v) => {
                set.insert(key.to_string(), v.clone());
            }
            ConfigOp::Delete(_) => delete.push(key.to_string()),
            ConfigOp::Append(_, v) => {
                set.insert(key.to_string(), list_op(v, true)?);
            }
            ConfigOp::Subtract(_, v) => {
                let left = list_op(v, false)?;
                if left.is_empty() {
                    delete.push(key.to_string());
                } else {
                    set.insert(key.to_string(), left);
                }
            }
        }
    }
    Ok((set, delete))
}

/// Kafka's rule for topic names: `[a-zA-Z0-9._-]{1,249}`, and not `.` or
/// `..`; the length is what strom's on-disk layout can hold
/// ([`MAX_TOPIC_NAME_LEN`]).
pub fn validate_topic_name(name: &str) -> Result<(), BrokerError> {
    let too_long;
    let reason = if name.is_empty() {
        Some("the name is empty")
    } else if name.len() > MAX_TOPIC_NAME_LEN {
        too_long = format!(
            "the name is {} characters, longer than {MAX_TOPIC_NAME_LEN} (its partition \
             directories are named <topic>-<partition>, at most 255 bytes)",
            name.len()
        );
        Some(too_long.as_str())
    } else if name == "." || name == ".." {
        Some("'.' and '..' are not allowed")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        Some("only ASCII letters, digits, '.', '_' and '-' are allowed")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(r) => Err(BrokerError::InvalidTopic {
            name: name.chars().take(300).collect(),
            reason: r.into(),
        }),
    }
}

/// Kafka refuses a topic whose name differs from an existing one only in
/// '.' versus '_' (both become '_' in metric names), with the same wording.
pub fn check_name_collision<'a>(
    name: &str,
    existing: impl IntoIterator<Item = &'a str>,
) -> Result<(), BrokerError> {
    let unify = |n: &str| n.replace('.', "_");
    let key = unify(name);
    match existing
        .into_iter()
        .find(|other| *other != name && unify(other) == key)
    {
        Some(other) => Err(BrokerError::InvalidTopic {
            name: name.to_string(),
            reason: format!(
                "collides with existing topic '{other}' (topic names that differ only in '.' \
                 and '_' are not allowed, as in Kafka)"
            ),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_topic_name("orders.v1_x-2").is_ok());
        for bad in ["", ".", "..", "a b", "ü", &"x".repeat(250)] {
            assert!(validate_topic_name(bad).is_err(), "{bad:?}");
        }
        // Kafka's limit, which strom's layout also holds.
        assert_eq!(MAX_TOPIC_NAME_LEN, 249);
        assert!(validate_topic_name(&"x".repeat(249)).is_ok());
    }

    #[test]
    fn names_that_differ_in_dot_and_underscore_collide() {
        assert!(check_name_collision("a.b", ["a_b"]).is_err());
        assert!(check_name_collision("a_b", ["x", "a.b"]).is_err());
        assert!(check_name_collision("a.b", ["a.b", "ab", "a-b"]).is_ok());
    }

    #[test]
    fn every_kafka_key_is_known_and_described() {
        let c = TopicConfig::new(BTreeMap::new(), &TopicDefaults::default()).unwrap();
        let described = c.described();
        for key in [
            "compression.type",
            "message.timestamp.type",
            "message.timestamp.before.max.ms",
            "message.timestamp.after.max.ms",
            "segment.jitter.ms",
            "segment.index.bytes",
            "unclean.leader.election.enable",
            "min.cleanable.dirty.ratio",
            "follower.replication.throttled.replicas",
            "local.retention.ms",
            "remote.storage.enable",
            "message.downconversion.enable",
        ] {
            let e = described.iter().find(|e| e.key == key).expect(key);
            assert!(e.is_default, "{key}");
        }
        let get = |k: &str| described.iter().find(|e| e.key == k).unwrap().value.clone();
        assert_eq!(get("compression.type"), "producer");
        assert_eq!(get("message.timestamp.type"), "CreateTime");
        assert_eq!(get("max.message.bytes"), "1048588");
    }

    #[test]
    fn honoured_keys_reach_the_log_config() {
        let mut o = BTreeMap::new();
        o.insert(
            MESSAGE_TIMESTAMP_TYPE.to_string(),
            "LogAppendTime".to_string(),
        );
        o.insert(MESSAGE_TIMESTAMP_AFTER_MAX_MS.to_string(), "10".to_string());
        o.insert(INDEX_INTERVAL_BYTES.to_string(), "100".to_string());
        o.insert(COMPRESSION_TYPE.to_string(), "zstd".to_string());
        let c = TopicConfig::new(o, &TopicDefaults::default()).unwrap();
        let l = c.log_config();
        assert!(l.timestamps.log_append_time);
        assert_eq!(l.timestamps.after_max_ms, 10);
        assert_eq!(l.index_interval_bytes, 100);
        assert_eq!(c.compression, TopicCompression::Zstd);
        for (k, v) in [
            ("remote.storage.enable", "true"),
            ("cleanup.policy", "shred"),
            ("min.cleanable.dirty.ratio", "1.5"),
            ("compression.type", "none"),
        ] {
            let mut o = BTreeMap::new();
            o.insert(k.to_string(), v.to_string());
            assert!(
                TopicConfig::new(o, &TopicDefaults::default()).is_err(),
                "{k}={v}"
            );
        }
    }

    #[test]
    fn compaction_keys_reach_the_log_config() {
        let d = TopicDefaults::default();
        let plain = TopicConfig::new(BTreeMap::new(), &d).unwrap().log_config();
        assert_eq!(plain.compaction, None);
        assert!(plain.retention_ms.is_some());
        let mut o = BTreeMap::new();
        o.insert(CLEANUP_POLICY.to_string(), "compact".to_string());
        o.insert(MIN_CLEANABLE_DIRTY_RATIO.to_string(), "0.25".to_string());
        o.insert(MIN_COMPACTION_LAG_MS.to_string(), "10".to_string());
        o.insert(MAX_COMPACTION_LAG_MS.to_string(), "20".to_string());
        o.insert(DELETE_RETENTION_MS.to_string(), "30".to_string());
        let l = TopicConfig::new(o.clone(), &d).unwrap().log_config();
        let expected = CompactionConfig {
            min_dirty_ratio_ppm: 250_000,
            min_lag_ms: 10,
            max_lag_ms: 20,
            delete_retention_ms: 30,
        };
        assert_eq!(l.compaction, Some(expected));
        // compact alone never deletes by age or size; compact,delete does.
        assert_eq!((l.retention_ms, l.retention_bytes), (None, None));
        o.insert(CLEANUP_POLICY.to_string(), "compact,delete".to_string());
        let l = TopicConfig::new(o, &d).unwrap().log_config();
        assert_eq!(l.compaction, Some(expected));
        assert!(l.retention_ms.is_some());
    }

    #[test]
    fn incremental_ops() {
        let c = TopicConfig::new(BTreeMap::new(), &TopicDefaults::default()).unwrap();
        let (set, delete) = plan_changes(
            &c,
            &[
                ConfigOp::Set("retention.ms".into(), "5".into()),
                ConfigOp::Delete("segment.ms".into()),
                ConfigOp::Append("leader.replication.throttled.replicas".into(), "0:1".into()),
            ],
        )
        .unwrap();
        assert_eq!(set["retention.ms"], "5");
        assert_eq!(set["leader.replication.throttled.replicas"], "0:1");
        assert_eq!(delete, vec!["segment.ms".to_string()]);
        assert!(plan_changes(&c, &[ConfigOp::Append("retention.ms".into(), "1".into())]).is_err());
        assert!(plan_changes(&c, &[ConfigOp::Set("nope".into(), "1".into())]).is_err());
        let twice = [
            ConfigOp::Set("retention.ms".into(), "1".into()),
            ConfigOp::Delete("retention.ms".into()),
        ];
        assert!(plan_changes(&c, &twice).is_err());
        let (_, delete) = plan_changes(
            &c,
            &[ConfigOp::Subtract("cleanup.policy".into(), "delete".into())],
        )
        .unwrap();
        assert_eq!(delete, vec!["cleanup.policy".to_string()]);
    }

    #[test]
    fn overrides_and_bad_values() {
        let d = TopicDefaults::default();
        let mut o = BTreeMap::new();
        o.insert(RETENTION_MS.to_string(), "1000".to_string());
        let c = TopicConfig::new(o, &d).unwrap();
        assert_eq!(c.retention_ms, 1000);
        let mut bad = BTreeMap::new();
        bad.insert("retention.ms".into(), "soon".into());
        assert!(TopicConfig::new(bad, &d).is_err());
        let mut unknown = BTreeMap::new();
        unknown.insert("nope".into(), "1".into());
        assert!(TopicConfig::new(unknown, &d).is_err());
    }
}
