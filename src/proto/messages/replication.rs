//! Replication between brokers (apis 20–22): followers fetch from leaders
//! (`ReplicaFetch`), find where their log diverges from the leader's after
//! a leader change (`OffsetForLeaderEpoch`, KIP-101), and idempotent
//! producers get an id (`InitProducerId`). See `docs/replication.md`.
use bytes::BytesMut;

use super::Status;
use crate::wire_struct;

/// "No epoch": sent when a follower has none, answered when the leader
/// knows none at or below the one asked for.
pub const NO_EPOCH: i32 = -1;

wire_struct! {
    pub struct ReplicaFetchRequest {
        /// The follower's node id: the leader tracks its progress.
        pub replica_id: i32,
        pub max_wait_ms: i32,
        pub min_bytes: i32,
        pub max_bytes: i32,
        pub topics: Vec<ReplicaFetchTopic>,
    }
}

wire_struct! {
    pub struct ReplicaFetchTopic {
        pub name: String,
        pub partitions: Vec<ReplicaFetchPartition>,
    }
}

wire_struct! {
    pub struct ReplicaFetchPartition {
        pub partition: i32,
        /// The epoch the follower believes the leader has; a mismatch is
        /// refused so neither side acts on stale metadata.
        pub current_leader_epoch: i32,
        /// The follower's log end offset; everything below it is on the
        /// follower (durably, under the every-append flush policy).
        pub fetch_offset: i64,
        /// Epoch of the follower's last batch, to detect divergence.
        pub last_fetched_epoch: i32,
        pub max_bytes: i32,
    }
}

wire_struct! {
    pub struct ReplicaFetchResponse {
        pub status: Status,
        pub topics: Vec<ReplicaFetchTopicResponse>,
    }
}

wire_struct! {
    pub struct ReplicaFetchTopicResponse {
        pub name: String,
        pub partitions: Vec<ReplicaFetchPartitionResponse>,
    }
}

wire_struct! {
    pub struct ReplicaFetchPartitionResponse {
        pub partition: i32,
        pub status: Status,
        pub high_watermark: i64,
        pub log_start_offset: i64,
        /// When not `NO_EPOCH`: the follower's log diverges; it truncates
        /// to `min(diverging_end_offset, its own end of that epoch)`.
        pub diverging_epoch: i32,
        pub diverging_end_offset: i64,
        /// Where the follower's cleaner may remove expired tombstones
        /// below: the smallest log end offset over all the partition's
        /// replicas, as the leader knows them (`i64::MAX`: no limit).
        pub tombstone_horizon: i64,
        /// Whole stored batches from `fetch_offset`, bounded by the leader's
        /// log end offset (not the high watermark).
        pub records: BytesMut,
    }
}

wire_struct! {
    pub struct OffsetForLeaderEpochRequest {
        pub replica_id: i32,
        pub topics: Vec<EpochTopic>,
    }
}

wire_struct! {
    pub struct EpochTopic {
        pub name: String,
        pub partitions: Vec<EpochPartition>,
    }
}

wire_struct! {
    pub struct EpochPartition {
        pub partition: i32,
        pub current_leader_epoch: i32,
        /// The follower's latest epoch.
        pub leader_epoch: i32,
    }
}

wire_struct! {
    pub struct OffsetForLeaderEpochResponse {
        pub status: Status,
        pub topics: Vec<EpochTopicResponse>,
    }
}

wire_struct! {
    pub struct EpochTopicResponse {
        pub name: String,
        pub partitions: Vec<EpochPartitionResponse>,
    }
}

wire_struct! {
    pub struct EpochPartitionResponse {
        pub partition: i32,
        pub status: Status,
        /// The largest epoch at or below the one asked for, and the offset
        /// where it ends on the leader (`NO_EPOCH`, -1 when none).
        pub leader_epoch: i32,
        pub end_offset: i64,
    }
}

wire_struct! {
    pub struct InitProducerIdRequest {
        /// -1 for a new producer.
        pub producer_id: i64,
        pub producer_epoch: i16,
    }
}

wire_struct! {
    pub struct InitProducerIdResponse {
        pub status: Status,
        pub producer_id: i64,
        pub producer_epoch: i16,
    }
}
