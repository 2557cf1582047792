//! Per-topic configuration: the keys Kafka users expect, validated, with
//! broker defaults for whatever a topic does not set.
use std::collections::BTreeMap;
use std::str::FromStr;

use super::config::TopicDefaults;
use super::error::BrokerError;
use crate::log::{FlushPolicy, LogConfig};

pub const RETENTION_MS: &str = "retention.ms";
pub const RETENTION_BYTES: &str = "retention.bytes";
pub const SEGMENT_BYTES: &str = "segment.bytes";
pub const SEGMENT_MS: &str = "segment.ms";
pub const MAX_MESSAGE_BYTES: &str = "max.message.bytes";
pub const CLEANUP_POLICY: &str = "cleanup.policy";
pub const MIN_INSYNC_REPLICAS: &str = "min.insync.replicas";
pub const FLUSH_POLICY: &str = "flush.policy";

/// Every key a topic accepts, in the order `describe` prints them.
pub const KEYS: &[&str] = &[
    CLEANUP_POLICY,
    FLUSH_POLICY,
    MAX_MESSAGE_BYTES,
    MIN_INSYNC_REPLICAS,
    RETENTION_BYTES,
    RETENTION_MS,
    SEGMENT_BYTES,
    SEGMENT_MS,
];

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
}

fn parse_num<T: FromStr>(key: &str, value: &str) -> Result<T, BrokerError> {
    value
        .trim()
        .parse()
        .map_err(|_| BrokerError::InvalidConfig(format!("{key}={value}: not a valid number")))
}

fn check(ok: bool, key: &str, value: &str, rule: &str) -> Result<(), BrokerError> {
    if ok {
        Ok(())
    } else {
        Err(BrokerError::InvalidConfig(format!("{key}={value}: {rule}")))
    }
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
        };
        for (k, v) in &overrides {
            cfg.apply(k, v)?;
        }
        cfg.overrides = overrides;
        Ok(cfg)
    }

    fn apply(&mut self, key: &str, value: &str) -> Result<(), BrokerError> {
        match key {
            RETENTION_MS => {
                let v: i64 = parse_num(key, value)?;
                check(v == -1 || v > 0, key, value, "must be -1 (forever) or > 0")?;
                self.retention_ms = v;
            }
            RETENTION_BYTES => {
                let v: i64 = parse_num(key, value)?;
                check(v == -1 || v > 0, key, value, "must be -1 (no limit) or > 0")?;
                self.retention_bytes = v;
            }
            SEGMENT_BYTES => {
                let v: u64 = parse_num(key, value)?;
                check(
                    (1024..=(1 << 31)).contains(&v),
                    key,
                    value,
                    "must be between 1024 and 2147483648",
                )?;
                self.segment_bytes = v;
            }
            SEGMENT_MS => {
                let v: i64 = parse_num(key, value)?;
                check(v >= 1, key, value, "must be at least 1")?;
                self.segment_ms = v;
            }
            MAX_MESSAGE_BYTES => {
                let v: u32 = parse_num(key, value)?;
                check(v >= 64, key, value, "must be at least 64")?;
                self.max_message_bytes = v;
            }
            MIN_INSYNC_REPLICAS => {
                let v: i32 = parse_num(key, value)?;
                check(v >= 1, key, value, "must be at least 1")?;
                self.min_insync_replicas = v;
            }
            CLEANUP_POLICY => match value.trim() {
                "delete" => {}
                "compact" | "compact,delete" | "delete,compact" => {
                    return Err(BrokerError::InvalidConfig(format!(
                        "{key}={value}: log compaction is not supported yet; use cleanup.policy=delete"
                    )))
                }
                _ => check(false, key, value, "must be 'delete'")?,
            },
            FLUSH_POLICY => {
                self.flush_policy = value.trim().parse().map_err(|_| {
                    BrokerError::InvalidConfig(format!(
                        "{key}={value}: must be every-append, interval:<ms> or os"
                    ))
                })?;
            }
            other => {
                return Err(BrokerError::InvalidConfig(format!(
                    "unknown topic config '{other}' (known: {})",
                    KEYS.join(", ")
                )))
            }
        }
        Ok(())
    }

    /// The value of every key, and whether it is the broker default.
    pub fn entries(&self) -> Vec<(String, String, bool)> {
        KEYS.iter()
            .map(|k| {
                let value = match *k {
                    RETENTION_MS => self.retention_ms.to_string(),
                    RETENTION_BYTES => self.retention_bytes.to_string(),
                    SEGMENT_BYTES => self.segment_bytes.to_string(),
                    SEGMENT_MS => self.segment_ms.to_string(),
                    MAX_MESSAGE_BYTES => self.max_message_bytes.to_string(),
                    MIN_INSYNC_REPLICAS => self.min_insync_replicas.to_string(),
                    FLUSH_POLICY => self.flush_policy.to_string(),
                    _ => "delete".to_string(),
                };
                (k.to_string(), value, !self.overrides.contains_key(*k))
            })
            .collect()
    }

    pub fn log_config(&self) -> LogConfig {
        LogConfig {
            segment_bytes: self.segment_bytes,
            segment_ms: self.segment_ms,
            retention_ms: (self.retention_ms >= 0).then_some(self.retention_ms),
            retention_bytes: (self.retention_bytes >= 0).then_some(self.retention_bytes as u64),
            max_batch_bytes: self.max_message_bytes,
            flush: self.flush_policy,
            ..LogConfig::default()
        }
    }
}

/// Kafka's rule for topic names: `[a-zA-Z0-9._-]{1,249}`, and not `.` or `..`.
pub fn validate_topic_name(name: &str) -> Result<(), BrokerError> {
    let reason = if name.is_empty() {
        Some("the name is empty")
    } else if name.len() > 249 {
        Some("the name is longer than 249 characters")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_topic_name("orders.v1_x-2").is_ok());
        for bad in ["", ".", "..", "a b", "ü", &"x".repeat(250)] {
            assert!(validate_topic_name(bad).is_err(), "{bad:?}");
        }
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
