//! Fetch (api 1). The broker answers when `min_bytes` are available or
//! `max_wait_ms` has passed. Records are the stored batch bytes, whole
//! batches only; the first batch is returned even when larger than the limit
//! so a consumer can always make progress.
use bytes::Bytes;

use super::Status;
use crate::wire_struct;

wire_struct! {
    pub struct FetchRequest {
        pub max_wait_ms: i32,
        pub min_bytes: i32,
        pub max_bytes: i32,
        pub topics: Vec<FetchTopic>,
    }
}

wire_struct! {
    pub struct FetchTopic {
        pub name: String,
        pub partitions: Vec<FetchPartition>,
    }
}

wire_struct! {
    pub struct FetchPartition {
        pub partition: i32,
        pub fetch_offset: i64,
        pub max_bytes: i32,
    }
}

wire_struct! {
    pub struct FetchResponse {
        pub status: Status,
        pub topics: Vec<FetchTopicResponse>,
    }
}

wire_struct! {
    pub struct FetchTopicResponse {
        pub name: String,
        pub partitions: Vec<FetchPartitionResponse>,
    }
}

wire_struct! {
    pub struct FetchPartitionResponse {
        pub partition: i32,
        pub status: Status,
        pub high_watermark: i64,
        pub log_start_offset: i64,
        /// Concatenated record batches; may start before `fetch_offset`
        /// (the batch that contains it), so clients skip earlier records.
        pub records: Bytes,
    }
}

// Version 1 adds the isolation level (transactions): the request ends with
// `isolation_level`, and each partition of the answer carries the last
// stable offset and, under read_committed, the aborted transactions its
// records overlap. Version 0 stays as it was, for older clients.

/// `isolation_level` 0: every record below the high watermark.
pub const READ_UNCOMMITTED: i8 = 0;
/// `isolation_level` 1: only below the last stable offset; the answer
/// lists the aborted transactions so the client can drop their batches.
pub const READ_COMMITTED: i8 = 1;

wire_struct! {
    pub struct FetchRequestV1 {
        pub max_wait_ms: i32,
        pub min_bytes: i32,
        pub max_bytes: i32,
        pub topics: Vec<FetchTopic>,
        pub isolation_level: i8,
    }
}

impl From<FetchRequest> for FetchRequestV1 {
    fn from(r: FetchRequest) -> FetchRequestV1 {
        FetchRequestV1 {
            max_wait_ms: r.max_wait_ms,
            min_bytes: r.min_bytes,
            max_bytes: r.max_bytes,
            topics: r.topics,
            isolation_level: READ_UNCOMMITTED,
        }
    }
}

wire_struct! {
    pub struct FetchResponseV1 {
        pub status: Status,
        pub topics: Vec<FetchTopicResponseV1>,
    }
}

wire_struct! {
    pub struct FetchTopicResponseV1 {
        pub name: String,
        pub partitions: Vec<FetchPartitionResponseV1>,
    }
}

wire_struct! {
    /// A transaction that was aborted, from its producer's first batch on.
    pub struct AbortedTransaction {
        pub producer_id: i64,
        pub first_offset: i64,
    }
}

wire_struct! {
    pub struct FetchPartitionResponseV1 {
        pub partition: i32,
        pub status: Status,
        pub high_watermark: i64,
        pub last_stable_offset: i64,
        pub log_start_offset: i64,
        /// Null under read_uncommitted.
        pub aborted_transactions: Option<Vec<AbortedTransaction>>,
        pub records: Bytes,
    }
}
