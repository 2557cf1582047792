//! Per-partition log configuration.

use std::fmt;
use std::str::FromStr;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// When appended data is fdatasync'ed. The log itself never syncs inside
/// `append` (every append is `write()`n before it returns, so it survives
/// kill -9 under all policies); the broker uses this to decide when to run
/// a [`FlushTarget`](super::FlushTarget) and when acks=all may be answered.
///
/// Text form (`FromStr`/`Display`): `every-append`, `interval:<ms>`, `os`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlushPolicy {
    /// fdatasync (group-committed) before acknowledging each produce.
    EveryAppend,
    /// fdatasync at most every `ms` milliseconds.
    Interval { ms: u64 },
    /// Leave write-back to the OS page cache (Kafka's default).
    #[default]
    Os,
}

impl fmt::Display for FlushPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlushPolicy::EveryAppend => f.write_str("every-append"),
            FlushPolicy::Interval { ms } => write!(f, "interval:{ms}"),
            FlushPolicy::Os => f.write_str("os"),
        }
    }
}

/// Error for an unparseable flush policy string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid flush policy {0:?}: expected every-append, interval:<ms> or os")]
pub struct ParseFlushPolicyError(pub String);

impl FromStr for FlushPolicy {
    type Err = ParseFlushPolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseFlushPolicyError(s.to_owned());
        match s.trim() {
            "every-append" => Ok(FlushPolicy::EveryAppend),
            "os" => Ok(FlushPolicy::Os),
            other => {
                let ms = other.strip_prefix("interval:").ok_or_else(err)?;
                let ms = ms.trim().parse::<u64>().map_err(|_| err())?;
                Ok(FlushPolicy::Interval { ms })
            }
        }
    }
}

/// Tunables of one partition log (Kafka names in brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// Roll the active segment once it would exceed this size [segment.bytes].
    pub segment_bytes: u64,
    /// Roll a segment this old, by its first batch's timestamp [segment.ms].
    pub segment_ms: i64,
    /// Delete segments whose newest timestamp is older [retention.ms].
    pub retention_ms: Option<i64>,
    /// Delete old segments while the log is larger [retention.bytes].
    pub retention_bytes: Option<u64>,
    /// Bytes between offset-index entries [index.interval.bytes].
    pub index_interval_bytes: u32,
    /// Largest accepted batch [max.message.bytes].
    pub max_batch_bytes: u32,
    pub flush: FlushPolicy,
    /// How a leader treats the timestamps of appended batches.
    pub timestamps: TimestampPolicy,
    /// The codec a leader stores producers' batches in; `None` keeps each
    /// batch's own [compression.type=producer]. Applied by the broker
    /// before it appends, like the timestamp rules.
    pub compression: Option<crate::record::Compression>,
    /// `cleanup.policy` has `compact`: the cleaner keeps the newest record
    /// per key in closed segments (see `cleaner.rs`).
    pub compaction: Option<CompactionConfig>,
}

/// Kafka's compaction settings of one topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionConfig {
    /// Clean once dirty bytes / cleanable bytes reach this, in millionths
    /// [min.cleanable.dirty.ratio].
    pub min_dirty_ratio_ppm: u32,
    /// A record stays uncompacted at least this long [min.compaction.lag.ms].
    pub min_lag_ms: i64,
    /// A dirty record is compacted within about this long, whatever the
    /// dirty ratio [max.compaction.lag.ms].
    pub max_lag_ms: i64,
    /// A tombstone stays readable this long after its segment closed
    /// [delete.retention.ms].
    pub delete_retention_ms: i64,
}

impl Default for CompactionConfig {
    /// Kafka's defaults.
    fn default() -> Self {
        CompactionConfig {
            min_dirty_ratio_ppm: 500_000,
            min_lag_ms: 0,
            max_lag_ms: i64::MAX,
            delete_retention_ms: DAY_MS,
        }
    }
}

/// The timestamp rules of a leader's appends [message.timestamp.type,
/// message.timestamp.before.max.ms, message.timestamp.after.max.ms].
/// Applied by the broker before it appends (it knows the time); the log
/// keeps them with the rest of the partition's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampPolicy {
    /// LogAppendTime: the broker stamps the append time into each batch.
    pub log_append_time: bool,
    /// CreateTime: refuse records older than this many ms before now.
    pub before_max_ms: i64,
    /// CreateTime: refuse records more than this many ms after now.
    pub after_max_ms: i64,
}

impl Default for TimestampPolicy {
    /// Kafka 4.0's defaults: CreateTime, any age, at most an hour ahead.
    fn default() -> Self {
        TimestampPolicy {
            log_append_time: false,
            before_max_ms: i64::MAX,
            after_max_ms: 3_600_000,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_ms: 7 * DAY_MS,
            retention_ms: Some(7 * DAY_MS),
            retention_bytes: None,
            index_interval_bytes: 4096,
            max_batch_bytes: 1 << 20,
            flush: FlushPolicy::Os,
            timestamps: TimestampPolicy::default(),
            compression: None,
            compaction: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_policy_text_roundtrip() {
        for p in [
            FlushPolicy::EveryAppend,
            FlushPolicy::Os,
            FlushPolicy::Interval { ms: 250 },
        ] {
            assert_eq!(p.to_string().parse::<FlushPolicy>(), Ok(p));
        }
        assert!("interval:".parse::<FlushPolicy>().is_err());
        assert!("sometimes".parse::<FlushPolicy>().is_err());
    }
}
