//! Kafka's topic config keys as a table: name, type, Kafka's default and
//! validation rule, and whether strom honours the key or only accepts it.
//! `topic_config.rs` turns the honoured ones into typed fields; every key
//! here can be set, described and deleted like in Kafka.
use super::error::BrokerError;

/// Kafka's ConfigType (DescribeConfigs v3+ `config_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Boolean = 1,
    String = 2,
    Int = 3,
    Long = 5,
    Double = 6,
    List = 7,
}

/// How a value is checked, with Kafka's bounds.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// A whole number at least this (and for `Int` kinds within i32).
    AtLeast(i64),
    /// A whole number in `lo..=hi`.
    Between(i64, i64),
    /// A number in `0.0..=1.0`.
    Ratio,
    /// `true` or `false`.
    Bool,
    /// One of these (Kafka compares case-insensitively for none of them).
    OneOf(&'static [&'static str]),
    /// A comma list of `delete` / `compact`.
    CleanupPolicy,
    /// Kafka's throttled-replica list: empty, `*`, or `partition:broker,...`.
    ThrottledReplicas,
    /// Checked by `topic_config.rs` itself (strom-specific syntax).
    Custom,
}

/// One topic config key.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    pub rule: Rule,
    /// Kafka's default, shown when neither the topic nor the broker sets it.
    pub default: &'static str,
    /// `false`: accepted, stored and described, but without effect (see
    /// docs/kafka-compatibility.md for why each one is).
    pub honoured: bool,
}

const LONG_MAX: &str = "9223372036854775807";

pub const CLEANUP_POLICY: &str = "cleanup.policy";
pub const COMPRESSION_TYPE: &str = "compression.type";
pub const DELETE_RETENTION_MS: &str = "delete.retention.ms";
pub const MAX_COMPACTION_LAG_MS: &str = "max.compaction.lag.ms";
pub const MIN_CLEANABLE_DIRTY_RATIO: &str = "min.cleanable.dirty.ratio";
pub const MIN_COMPACTION_LAG_MS: &str = "min.compaction.lag.ms";
pub const FLUSH_POLICY: &str = "flush.policy";
pub const INDEX_INTERVAL_BYTES: &str = "index.interval.bytes";
pub const MAX_MESSAGE_BYTES: &str = "max.message.bytes";
pub const MESSAGE_TIMESTAMP_AFTER_MAX_MS: &str = "message.timestamp.after.max.ms";
pub const MESSAGE_TIMESTAMP_BEFORE_MAX_MS: &str = "message.timestamp.before.max.ms";
pub const MESSAGE_TIMESTAMP_TYPE: &str = "message.timestamp.type";
pub const MIN_INSYNC_REPLICAS: &str = "min.insync.replicas";
pub const REMOTE_STORAGE_ENABLE: &str = "remote.storage.enable";
pub const RETENTION_BYTES: &str = "retention.bytes";
pub const RETENTION_MS: &str = "retention.ms";
pub const SEGMENT_BYTES: &str = "segment.bytes";
pub const SEGMENT_MS: &str = "segment.ms";

/// The codecs `compression.type` names (Kafka's spelling).
pub const COMPRESSION_TYPES: &[&str] =
    &["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];

const fn spec(name: &'static str, kind: Kind, rule: Rule, default: &'static str) -> Spec {
    Spec {
        name,
        kind,
        rule,
        default,
        honoured: true,
    }
}

const fn inert(name: &'static str, kind: Kind, rule: Rule, default: &'static str) -> Spec {
    Spec {
        name,
        kind,
        rule,
        default,
        honoured: false,
    }
}

/// Every key a topic accepts, sorted by name (the order `describe` prints).
/// Defaults of keys with a broker-wide default (`strom serve` flags) come
/// from `TopicDefaults` instead of the `default` column.
pub const SPECS: &[Spec] = &[
    spec(CLEANUP_POLICY, Kind::List, Rule::CleanupPolicy, "delete"),
    // The level keys (KIP-390) only matter once the broker recompresses.
    inert(
        "compression.gzip.level",
        Kind::Int,
        Rule::Between(-1, 9),
        "-1",
    ),
    inert(
        "compression.lz4.level",
        Kind::Int,
        Rule::Between(1, 17),
        "9",
    ),
    spec(
        COMPRESSION_TYPE,
        Kind::String,
        Rule::OneOf(COMPRESSION_TYPES),
        "producer",
    ),
    inert(
        "compression.zstd.level",
        Kind::Int,
        Rule::Between(-131072, 22),
        "3",
    ),
    spec(
        DELETE_RETENTION_MS,
        Kind::Long,
        Rule::AtLeast(0),
        "86400000",
    ),
    inert(
        "file.delete.delay.ms",
        Kind::Long,
        Rule::AtLeast(0),
        "60000",
    ),
    inert("flush.messages", Kind::Long, Rule::AtLeast(1), LONG_MAX),
    inert("flush.ms", Kind::Long, Rule::AtLeast(0), LONG_MAX),
    spec(FLUSH_POLICY, Kind::String, Rule::Custom, "every-append"),
    inert(
        "follower.replication.throttled.replicas",
        Kind::List,
        Rule::ThrottledReplicas,
        "",
    ),
    spec(INDEX_INTERVAL_BYTES, Kind::Int, Rule::AtLeast(0), "4096"),
    inert(
        "leader.replication.throttled.replicas",
        Kind::List,
        Rule::ThrottledReplicas,
        "",
    ),
    inert("local.retention.bytes", Kind::Long, Rule::AtLeast(-2), "-2"),
    inert("local.retention.ms", Kind::Long, Rule::AtLeast(-2), "-2"),
    spec(
        MAX_COMPACTION_LAG_MS,
        Kind::Long,
        Rule::AtLeast(1),
        LONG_MAX,
    ),
    spec(MAX_MESSAGE_BYTES, Kind::Int, Rule::AtLeast(64), "1048588"),
    inert(
        "message.downconversion.enable",
        Kind::Boolean,
        Rule::Bool,
        "true",
    ),
    // Kafka 4.0's default (KIP-1030): at most an hour in the future.
    spec(
        MESSAGE_TIMESTAMP_AFTER_MAX_MS,
        Kind::Long,
        Rule::AtLeast(0),
        "3600000",
    ),
    spec(
        MESSAGE_TIMESTAMP_BEFORE_MAX_MS,
        Kind::Long,
        Rule::AtLeast(0),
        LONG_MAX,
    ),
    spec(
        MESSAGE_TIMESTAMP_TYPE,
        Kind::String,
        Rule::OneOf(&["CreateTime", "LogAppendTime"]),
        "CreateTime",
    ),
    spec(MIN_CLEANABLE_DIRTY_RATIO, Kind::Double, Rule::Ratio, "0.5"),
    spec(MIN_COMPACTION_LAG_MS, Kind::Long, Rule::AtLeast(0), "0"),
    spec(MIN_INSYNC_REPLICAS, Kind::Int, Rule::AtLeast(1), "1"),
    inert("preallocate", Kind::Boolean, Rule::Bool, "false"),
    spec(REMOTE_STORAGE_ENABLE, Kind::Boolean, Rule::Bool, "false"),
    spec(RETENTION_BYTES, Kind::Long, Rule::AtLeast(-1), "-1"),
    spec(RETENTION_MS, Kind::Long, Rule::AtLeast(-1), "604800000"),
    spec(
        SEGMENT_BYTES,
        Kind::Int,
        Rule::Between(1024, i32::MAX as i64),
        "1073741824",
    ),
    inert(
        "segment.index.bytes",
        Kind::Int,
        Rule::AtLeast(4),
        "10485760",
    ),
    inert("segment.jitter.ms", Kind::Long, Rule::AtLeast(0), "0"),
    spec(SEGMENT_MS, Kind::Long, Rule::AtLeast(1), "604800000"),
    inert(
        "unclean.leader.election.enable",
        Kind::Boolean,
        Rule::Bool,
        "false",
    ),
];

/// The spec of `key`, if it is a topic config.
pub fn find(key: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == key)
}

/// Every key name, comma separated, for "unknown key" errors.
pub fn known_keys() -> String {
    SPECS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

fn invalid(key: &str, value: &str, rule: &str) -> BrokerError {
    BrokerError::InvalidConfig(format!("{key}={value}: {rule}"))
}

/// Checks `value` against `spec`'s type and rule (Kafka's messages, roughly).
pub fn validate(spec: &Spec, value: &str) -> Result<(), BrokerError> {
    let key = spec.name;
    let v = value.trim();
    let whole = |lo: i64, hi: i64, rule: &str| -> Result<(), BrokerError> {
        let n: i64 = v
            .parse()
            .map_err(|_| invalid(key, value, "not a valid number"))?;
        let hi = if spec.kind == Kind::Int {
            hi.min(i32::MAX as i64)
        } else {
            hi
        };
        if n < lo || n > hi {
            return Err(invalid(key, value, rule));
        }
        Ok(())
    };
    match spec.rule {
        Rule::AtLeast(lo) => whole(lo, i64::MAX, &format!("must be at least {lo}")),
        Rule::Between(lo, hi) => whole(lo, hi, &format!("must be between {lo} and {hi}")),
        Rule::Ratio => match v.parse::<f64>() {
            Ok(x) if (0.0..=1.0).contains(&x) => Ok(()),
            _ => Err(invalid(key, value, "must be a number between 0 and 1")),
        },
        Rule::Bool => match v {
            "true" | "false" => Ok(()),
            _ => Err(invalid(key, value, "must be true or false")),
        },
        Rule::OneOf(allowed) => {
            if allowed.contains(&v) {
                Ok(())
            } else {
                Err(invalid(
                    key,
                    value,
                    &format!("must be one of {}", allowed.join(", ")),
                ))
            }
        }
        Rule::CleanupPolicy => {
            let items: Vec<&str> = v.split(',').map(str::trim).collect();
            if v.is_empty() || items.iter().any(|i| !matches!(*i, "delete" | "compact")) {
                return Err(invalid(key, value, "must be delete, compact or both"));
            }
            Ok(())
        }
        Rule::ThrottledReplicas => {
            if v.is_empty() || v == "*" {
                return Ok(());
            }
            let ok = v.split(',').all(|item| {
                let mut parts = item.trim().split(':');
                matches!(
                    (parts.next(), parts.next(), parts.next()),
                    (Some(p), Some(b), None) if p.trim().parse::<u32>().is_ok() && b.trim().parse::<u32>().is_ok()
                )
            });
            if ok {
                Ok(())
            } else {
                Err(invalid(
                    key,
                    value,
                    "must be empty, * or a list of partition:broker",
                ))
            }
        }
        Rule::Custom => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        let names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn defaults_pass_their_own_rules() {
        for s in SPECS {
            if s.name == CLEANUP_POLICY || matches!(s.rule, Rule::Custom) {
                continue;
            }
            validate(s, s.default).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        }
    }

    #[test]
    fn rules() {
        let ok = |k: &str, v: &str| validate(find(k).unwrap(), v).is_ok();
        assert!(ok("min.cleanable.dirty.ratio", "0.25"));
        assert!(!ok("min.cleanable.dirty.ratio", "1.5"));
        assert!(ok("preallocate", "true"));
        assert!(!ok("preallocate", "yes"));
        assert!(ok("leader.replication.throttled.replicas", "0:1, 1:2"));
        assert!(ok("leader.replication.throttled.replicas", "*"));
        assert!(!ok("leader.replication.throttled.replicas", "0-1"));
        assert!(!ok("segment.index.bytes", "3"));
        assert!(!ok("index.interval.bytes", "4294967296"));
        assert!(ok("compression.type", "zstd"));
        assert!(!ok("compression.type", "brotli"));
        assert!(!ok("message.timestamp.type", "createtime"));
        assert!(ok("local.retention.ms", "-2"));
        assert!(!ok("local.retention.ms", "-3"));
    }
}
