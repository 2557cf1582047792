//! Coordinator settings, named after Kafka's broker configs.
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// Partitions of `__consumer_offsets` (offsets.topic.num.partitions).
    /// It decides which partition, and so which broker, owns a group: it must
    /// never change once groups exist.
    pub offsets_partitions: i32,
    /// group.min.session.timeout.ms
    pub min_session_timeout_ms: i32,
    /// group.max.session.timeout.ms
    pub max_session_timeout_ms: i32,
    /// group.initial.rebalance.delay.ms: how long a new (Empty) group waits
    /// for more members before its first generation.
    pub initial_rebalance_delay: Duration,
    /// offset.metadata.max.bytes
    pub max_metadata_size: usize,
    /// group.max.size
    pub max_group_size: usize,
    /// Seed for generated member ids; `None` picks a random one. A fixed seed
    /// makes ids reproducible under a deterministic simulator.
    pub member_id_seed: Option<u64>,
    /// Wall clock in Unix milliseconds, stamped on persisted commits. A
    /// function pointer so a simulator can substitute its own clock.
    pub wall_clock_ms: fn() -> i64,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            offsets_partitions: 8,
            min_session_timeout_ms: 6_000,
            max_session_timeout_ms: 1_800_000,
            initial_rebalance_delay: Duration::from_secs(3),
            max_metadata_size: 4096,
            max_group_size: usize::MAX,
            member_id_seed: None,
            wall_clock_ms: system_clock_ms,
        }
    }
}

/// Milliseconds since the Unix epoch; 0 if the system clock is before it.
pub fn system_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
