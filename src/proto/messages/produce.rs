//! Produce (api 0). Records travel as RecordBatch v2 bytes, exactly as they
//! are stored. With acks=0 the broker sends no response.
use bytes::BytesMut;

use super::Status;
use crate::wire_struct;

pub const ACKS_NONE: i16 = 0;
pub const ACKS_LEADER: i16 = 1;
pub const ACKS_ALL: i16 = -1;

wire_struct! {
    pub struct ProduceRequest {
        /// 0, 1 or -1 (all in-sync replicas, durable per the topic's flush policy).
        pub acks: i16,
        pub timeout_ms: i32,
        pub topics: Vec<ProduceTopic>,
    }
}

wire_struct! {
    pub struct ProduceTopic {
        pub name: String,
        pub partitions: Vec<ProducePartition>,
    }
}

wire_struct! {
    pub struct ProducePartition {
        pub partition: i32,
        /// One or more concatenated record batches.
        pub records: BytesMut,
    }
}

wire_struct! {
    pub struct ProduceResponse {
        pub status: Status,
        pub topics: Vec<ProduceTopicResponse>,
    }
}

wire_struct! {
    pub struct ProduceTopicResponse {
        pub name: String,
        pub partitions: Vec<ProducePartitionResponse>,
    }
}

wire_struct! {
    pub struct ProducePartitionResponse {
        pub partition: i32,
        pub status: Status,
        /// Offset given to the first record, or -1 on error.
        pub base_offset: i64,
        pub log_start_offset: i64,
    }
}
