//! The transaction coordinator's calls to other brokers (inter-broker
//! only, like ReplicaFetch): in a cluster a transaction's partitions and
//! its groups are led by whichever brokers the metadata says, so the
//! coordinator asks their leaders to let the producer write (37
//! AllowTxnWrites, KIP-890's verification), to end the transaction with a
//! marker (36 WriteTxnMarkers, Kafka's API of that name), and the group
//! coordinator to commit the transaction's offsets (38 CommitTxnOffsets).
use super::groups::{PartitionStatus, TopicPartition};
use super::Status;
use crate::wire_struct;

wire_struct! {
    /// Lets producer (`producer_id`, `producer_epoch`) write transactional
    /// batches to these partitions until a marker ends its transaction
    /// there. Asked of each partition's leader once the partitions joined
    /// the transaction, before AddPartitionsToTxn is answered.
    pub struct AllowTxnWritesRequest {
        pub producer_id: i64,
        pub producer_epoch: i16,
        pub partitions: Vec<TopicPartition>,
    }
}

wire_struct! {
    pub struct AllowTxnWritesResponse {
        pub status: Status,
        pub partitions: Vec<PartitionStatus>,
    }
}

wire_struct! {
    /// Ends the producer's transaction on these partitions with a commit or
    /// an abort marker. Answered per partition once the marker is durable
    /// on the leader and in its in-sync replicas.
    pub struct WriteTxnMarkersRequest {
        pub producer_id: i64,
        pub producer_epoch: i16,
        /// true: commit; false: abort.
        pub commit: bool,
        /// How long to wait for the in-sync replicas.
        pub timeout_ms: i32,
        pub partitions: Vec<TopicPartition>,
    }
}

wire_struct! {
    pub struct WriteTxnMarkersResponse {
        pub status: Status,
        pub partitions: Vec<PartitionStatus>,
    }
}

wire_struct! {
    /// One offset a committed transaction sets.
    pub struct TxnOffset {
        pub topic: String,
        pub partition: i32,
        pub offset: i64,
        pub leader_epoch: i32,
        pub metadata: Option<String>,
    }
}

wire_struct! {
    /// Commits a committed transaction's offsets for one group; asked of the
    /// group's coordinator.
    pub struct CommitTxnOffsetsRequest {
        pub group_id: String,
        pub offsets: Vec<TxnOffset>,
    }
}

wire_struct! {
    pub struct CommitTxnOffsetsResponse {
        pub status: Status,
    }
}
