//! Partition replication, the data plane of a cluster (see
//! `docs/replication.md`). Each partition is leader or follower at the
//! leader epoch the cluster metadata gives it; followers fetch from their
//! leader ([`fetcher`]), the leader tracks their progress and advances the
//! high watermark over the in-sync replicas ([`leader`]), and asks the
//! controller ([`control::ControlPlane`]) to shrink or grow the ISR.
//! On a single node every partition stays [`state::Role::Standalone`] and
//! nothing here runs.
pub mod control;
pub mod coordinator;
mod fetcher;
mod follower;
pub mod handlers;
pub mod leader;
pub mod manager;
pub(crate) mod peer;
pub mod producers;
pub mod quorum;
pub mod state;
mod tail;

use std::time::Duration;

pub use control::{AlterIsr, ControlPlane, LocalControlPlane};
pub use manager::ReplicaManager;
pub use state::{ReplicaState, Role};

/// Kafka's `replica.lag.time.max.ms` default.
pub const DEFAULT_REPLICA_LAG_TIME_MAX: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct ReplicationConfig {
    /// A follower not caught up for this long leaves the ISR.
    pub replica_lag_time_max: Duration,
    /// How long a follower's fetch waits on the leader for new records.
    pub fetch_max_wait: Duration,
    pub fetch_max_bytes: i32,
    pub partition_max_bytes: i32,
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        ReplicationConfig {
            replica_lag_time_max: DEFAULT_REPLICA_LAG_TIME_MAX,
            fetch_max_wait: Duration::from_millis(500),
            fetch_max_bytes: 16 << 20,
            partition_max_bytes: 4 << 20,
        }
    }
}

#[cfg(test)]
mod tests;
