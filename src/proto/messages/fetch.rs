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
