//! Broker-level configs that change at run time (Kafka's dynamic broker
//! configs, `kafka-configs --entity-type brokers`): the broker-wide
//! defaults of topic configs, under Kafka's broker names
//! (`log.retention.ms` is the default of `retention.ms`). A value is set
//! for the whole cluster (Kafka's `--entity-default`, resource name "") or
//! for one broker (its node id), the broker's own value winning; a topic's
//! override wins over both, and `strom serve` flags and Kafka's defaults
//! come last.
//!
//! Here: the key table, validation and the merge. Where the values live is
//! the caller's business (a file in the data dir on a single node, the
//! metadata quorum in a cluster).
use std::collections::BTreeMap;

use super::error::BrokerError;
use super::topic_config_keys as keys;

/// Which values a request reads or changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigScope {
    /// Every broker of the cluster (Kafka's resource name "").
    ClusterDefault,
    /// One broker, by node id.
    Broker(i32),
}

impl ConfigScope {
    /// Kafka's resource name: "" or a node id.
    pub fn parse(resource_name: &str) -> Result<ConfigScope, BrokerError> {
        let name = resource_name.trim();
        if name.is_empty() {
            return Ok(ConfigScope::ClusterDefault);
        }
        name.parse().map(ConfigScope::Broker).map_err(|_| {
            BrokerError::InvalidRequest(format!(
                "broker resource name {resource_name:?} is neither \"\" (the cluster default) nor a node id"
            ))
        })
    }

    /// The key under which this scope's values are stored.
    pub fn storage_key(self) -> String {
        match self {
            ConfigScope::ClusterDefault => String::new(),
            ConfigScope::Broker(id) => id.to_string(),
        }
    }
}

/// One dynamic broker key and the topic config it is the default of.
#[derive(Debug, Clone, Copy)]
pub struct BrokerKey {
    pub name: &'static str,
    pub topic_key: &'static str,
}

const fn k(name: &'static str, topic_key: &'static str) -> BrokerKey {
    BrokerKey { name, topic_key }
}

/// Kafka's broker names for the topic defaults, each dynamic in Kafka too
/// (cluster-wide), and `flush.policy`, strom's own.
pub const DYNAMIC_KEYS: &[BrokerKey] = &[
    k("compression.type", keys::COMPRESSION_TYPE),
    k("log.cleaner.delete.retention.ms", keys::DELETE_RETENTION_MS),
    k(
        "log.cleaner.max.compaction.lag.ms",
        keys::MAX_COMPACTION_LAG_MS,
    ),
    k(
        "log.cleaner.min.cleanable.ratio",
        keys::MIN_CLEANABLE_DIRTY_RATIO,
    ),
    k(
        "log.cleaner.min.compaction.lag.ms",
        keys::MIN_COMPACTION_LAG_MS,
    ),
    k("log.cleanup.policy", keys::CLEANUP_POLICY),
    k("log.flush.policy", keys::FLUSH_POLICY),
    k("log.index.interval.bytes", keys::INDEX_INTERVAL_BYTES),
    k(
        "log.message.timestamp.after.max.ms",
        keys::MESSAGE_TIMESTAMP_AFTER_MAX_MS,
    ),
    k(
        "log.message.timestamp.before.max.ms",
        keys::MESSAGE_TIMESTAMP_BEFORE_MAX_MS,
    ),
    k("log.message.timestamp.type", keys::MESSAGE_TIMESTAMP_TYPE),
    k("log.retention.bytes", keys::RETENTION_BYTES),
    k("log.retention.ms", keys::RETENTION_MS),
    k("log.roll.ms", keys::SEGMENT_MS),
    k("log.segment.bytes", keys::SEGMENT_BYTES),
    k("message.max.bytes", keys::MAX_MESSAGE_BYTES),
    k("min.insync.replicas", keys::MIN_INSYNC_REPLICAS),
    k(
        "unclean.leader.election.enable",
        "unclean.leader.election.enable",
    ),
];

pub fn find(name: &str) -> Option<&'static BrokerKey> {
    DYNAMIC_KEYS.iter().find(|k| k.name == name)
}

fn known() -> String {
    DYNAMIC_KEYS
        .iter()
        .map(|k| k.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The broker key whose default `topic_key` is.
pub fn for_topic_key(topic_key: &str) -> Option<&'static BrokerKey> {
    DYNAMIC_KEYS.iter().find(|k| k.topic_key == topic_key)
}

/// Checks one `name=value` for a broker scope: a known dynamic key, with a
/// value its topic config accepts.
pub fn validate(name: &str, value: &str) -> Result<&'static BrokerKey, BrokerError> {
    let Some(key) = find(name) else {
        return Err(BrokerError::InvalidConfig(format!(
            "'{name}' is not a broker config that can change at run time (dynamic: {})",
            known()
        )));
    };
    let spec = keys::find(key.topic_key).ok_or_else(|| {
        BrokerError::InvalidConfig(format!("'{name}' has no topic config {}", key.topic_key))
    })?;
    keys::validate(spec, value)
        .map_err(|e| BrokerError::InvalidConfig(format!("{name}={value}: {e}")))?;
    Ok(key)
}

/// One scope's values after `set` and `delete` (AlterConfigs replaces:
/// `replace` drops what `set` does not name). Deleting an unknown key is
/// an error, as for topics.
pub fn merge(
    current: &BTreeMap<String, String>,
    set: &BTreeMap<String, String>,
    delete: &[String],
    replace: bool,
) -> Result<BTreeMap<String, String>, BrokerError> {
    let mut out = if replace {
        BTreeMap::new()
    } else {
        current.clone()
    };
    for name in delete {
        if find(name).is_none() {
            return Err(BrokerError::InvalidConfig(format!(
                "cannot delete '{name}': not a dynamic broker config (dynamic: {})",
                known()
            )));
        }
        out.remove(name);
    }
    for (name, value) in set {
        validate(name, value)?;
        out.insert(name.clone(), value.trim().to_string());
    }
    Ok(out)
}

/// Where a broker key's effective value comes from (Kafka's ConfigSource).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Set for this broker (DYNAMIC_BROKER_CONFIG).
    Broker,
    /// Set for the cluster (DYNAMIC_DEFAULT_BROKER_CONFIG).
    ClusterDefault,
    /// A `strom serve` flag (STATIC_BROKER_CONFIG).
    Static,
    /// Kafka's default (DEFAULT_CONFIG).
    Default,
}

/// Every scope's values: "" for the cluster default, node ids for brokers.
pub type Stored = BTreeMap<String, BTreeMap<String, String>>;

/// This broker's dynamic values as topic config defaults (topic key →
/// value), the broker's own over the cluster's; with each key's source.
pub fn effective(stored: &Stored, node_id: i32) -> BTreeMap<&'static str, (String, Source)> {
    let mut out = BTreeMap::new();
    let layers = [
        (ConfigScope::ClusterDefault, Source::ClusterDefault),
        (ConfigScope::Broker(node_id), Source::Broker),
    ];
    for (scope, source) in layers {
        for (name, value) in stored.get(&scope.storage_key()).into_iter().flatten() {
            if let Some(key) = find(name) {
                out.insert(key.topic_key, (value.clone(), source));
            }
        }
    }
    out
}

/// [`effective`] as the map `TopicDefaults::dynamic` holds.
pub fn topic_defaults(stored: &Stored, node_id: i32) -> BTreeMap<String, String> {
    effective(stored, node_id)
        .into_iter()
        .map(|(k, (v, _))| (k.to_string(), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_dynamic_key_names_a_topic_config() {
        for key in DYNAMIC_KEYS {
            assert!(keys::find(key.topic_key).is_some(), "{}", key.name);
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_key() {
        let e = validate("log.dirs", "/x").unwrap_err().to_string();
        assert!(e.contains("log.retention.ms"), "{e}");
        let e = validate("log.retention.ms", "soon")
            .unwrap_err()
            .to_string();
        assert!(e.contains("log.retention.ms=soon"), "{e}");
        assert!(validate("log.cleanup.policy", "compact,delete").is_ok());
        let e = merge(&BTreeMap::new(), &BTreeMap::new(), &["nope".into()], false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope"), "{e}");
    }

    #[test]
    fn the_brokers_value_wins_over_the_clusters() {
        let mut stored = Stored::new();
        stored.insert(
            String::new(),
            map(&[("log.retention.ms", "1000"), ("log.segment.bytes", "2048")]),
        );
        stored.insert("2".into(), map(&[("log.retention.ms", "5000")]));
        let one = effective(&stored, 1);
        assert_eq!(one["retention.ms"], ("1000".into(), Source::ClusterDefault));
        let two = effective(&stored, 2);
        assert_eq!(two["retention.ms"], ("5000".into(), Source::Broker));
        assert_eq!(
            two["segment.bytes"],
            ("2048".into(), Source::ClusterDefault)
        );
        assert_eq!(topic_defaults(&stored, 2)["retention.ms"], "5000");
    }

    #[test]
    fn alter_configs_replaces_and_incremental_merges() {
        let current = map(&[("log.retention.ms", "1000")]);
        let set = map(&[("log.segment.bytes", "4096")]);
        let replaced = merge(&current, &set, &[], true).unwrap();
        assert_eq!(replaced, set);
        let merged = merge(&current, &set, &[], false).unwrap();
        assert_eq!(merged.len(), 2);
        let deleted = merge(
            &merged,
            &BTreeMap::new(),
            &["log.retention.ms".into()],
            false,
        )
        .unwrap();
        assert_eq!(deleted, set);
    }
}
