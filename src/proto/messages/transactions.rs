//! Transactions (KIP-98) in the native protocol: InitProducerId version 1
//! (with a transactional id), AddPartitionsToTxn (25), EndTxn (26),
//! AddOffsetsToTxn (39), TxnOffsetCommit (40) and the admin
//! ListTransactions (27) and DescribeTransactions (28). The broker's
//! transaction coordinator answers them; see `docs/transactions.md`.
use super::groups::{PartitionStatus, TopicPartition};
use super::replication::InitProducerIdRequest;
use super::txn_markers::TxnOffset;
use super::Status;
use crate::wire_struct;

wire_struct! {
    /// InitProducerId (22) version 1. Version 0 is the first two fields.
    /// A null or empty `transactional_id` asks for an idempotent producer
    /// id; otherwise the coordinator bumps the id's epoch (fencing every
    /// older instance) and aborts a transaction an older one left open.
    pub struct InitProducerIdRequestV1 {
        pub producer_id: i64,
        pub producer_epoch: i16,
        pub transactional_id: Option<String>,
        /// Longest a transaction may stay open before the broker aborts it.
        pub transaction_timeout_ms: i32,
    }
}

impl From<InitProducerIdRequest> for InitProducerIdRequestV1 {
    fn from(r: InitProducerIdRequest) -> InitProducerIdRequestV1 {
        InitProducerIdRequestV1 {
            producer_id: r.producer_id,
            producer_epoch: r.producer_epoch,
            transactional_id: None,
            transaction_timeout_ms: -1,
        }
    }
}

wire_struct! {
    /// Before a transactional batch goes to a partition, the partition
    /// joins the open transaction (which it opens, if none is).
    pub struct AddPartitionsToTxnRequest {
        pub transactional_id: String,
        pub producer_id: i64,
        pub producer_epoch: i16,
        pub partitions: Vec<TopicPartition>,
    }
}

wire_struct! {
    /// One status per partition asked for; the top status is an error only
    /// when the request as a whole could not be served.
    pub struct AddPartitionsToTxnResponse {
        pub status: Status,
        pub partitions: Vec<PartitionStatus>,
    }
}

wire_struct! {
    pub struct EndTxnRequest {
        pub transactional_id: String,
        pub producer_id: i64,
        pub producer_epoch: i16,
        /// true commits, false aborts.
        pub commit: bool,
    }
}

wire_struct! {
    pub struct EndTxnResponse {
        pub status: Status,
    }
}

wire_struct! {
    /// Empty filters match everything.
    pub struct ListTransactionsRequest {
        pub state_filters: Vec<String>,
        pub producer_id_filters: Vec<i64>,
    }
}

wire_struct! {
    pub struct ListTransactionsResponse {
        pub status: Status,
        pub transactions: Vec<TransactionListing>,
    }
}

wire_struct! {
    pub struct TransactionListing {
        pub transactional_id: String,
        pub producer_id: i64,
        pub state: String,
    }
}

wire_struct! {
    pub struct DescribeTransactionsRequest {
        pub transactional_ids: Vec<String>,
    }
}

wire_struct! {
    pub struct DescribeTransactionsResponse {
        pub status: Status,
        pub transactions: Vec<TransactionDescription>,
    }
}

wire_struct! {
    pub struct TransactionDescription {
        pub status: Status,
        pub transactional_id: String,
        pub state: String,
        pub producer_id: i64,
        pub producer_epoch: i16,
        pub timeout_ms: i32,
        /// Wall-clock ms the open transaction began; -1 when none is open.
        pub start_time_ms: i64,
        pub partitions: Vec<TopicPartition>,
    }
}

wire_struct! {
    /// DescribeProducers (api 35), asked of a partition's leader: the
    /// producers it remembers (kafka-transactions describe-producers).
    pub struct DescribeProducersRequest {
        pub topic: String,
        pub partition: i32,
    }
}

wire_struct! {
    pub struct DescribeProducersResponse {
        pub status: Status,
        pub producers: Vec<ActiveProducerState>,
    }
}

wire_struct! {
    pub struct ActiveProducerState {
        pub producer_id: i64,
        pub producer_epoch: i16,
        pub last_sequence: i32,
        pub last_timestamp: i64,
        /// First offset of its open transaction on the partition; -1: none.
        pub current_txn_start_offset: i64,
    }
}

wire_struct! {
    /// The group's offsets will be committed with the open transaction
    /// (which it opens, if none is). Asked of the transaction coordinator.
    pub struct AddOffsetsToTxnRequest {
        pub transactional_id: String,
        pub producer_id: i64,
        pub producer_epoch: i16,
        pub group_id: String,
    }
}

wire_struct! {
    pub struct AddOffsetsToTxnResponse {
        pub status: Status,
    }
}

wire_struct! {
    /// Offsets held with the open transaction: the group sees them once it
    /// commits, never if it aborts (consume-transform-produce). Asked of
    /// the transaction coordinator, after AddOffsetsToTxn for the group.
    pub struct TxnOffsetCommitRequest {
        pub transactional_id: String,
        pub producer_id: i64,
        pub producer_epoch: i16,
        pub group_id: String,
        pub offsets: Vec<TxnOffset>,
    }
}

wire_struct! {
    pub struct TxnOffsetCommitResponse {
        pub status: Status,
    }
}
