//! ListOffsets (api 2): earliest (-2), latest (-1) or the first offset whose
//! timestamp is at or after a given time.
use super::Status;
use crate::wire_struct;

pub const EARLIEST: i64 = -2;
pub const LATEST: i64 = -1;

wire_struct! {
    pub struct ListOffsetsRequest {
        pub topics: Vec<ListOffsetsTopic>,
    }
}

wire_struct! {
    pub struct ListOffsetsTopic {
        pub name: String,
        pub partitions: Vec<ListOffsetsPartition>,
    }
}

wire_struct! {
    pub struct ListOffsetsPartition {
        pub partition: i32,
        /// -2 earliest, -1 latest, otherwise a timestamp in ms.
        pub timestamp: i64,
    }
}

wire_struct! {
    pub struct ListOffsetsResponse {
        pub status: Status,
        pub topics: Vec<ListOffsetsTopicResponse>,
    }
}

wire_struct! {
    pub struct ListOffsetsTopicResponse {
        pub name: String,
        pub partitions: Vec<ListOffsetsPartitionResponse>,
    }
}

wire_struct! {
    pub struct ListOffsetsPartitionResponse {
        pub partition: i32,
        pub status: Status,
        /// Timestamp of the found record, -1 for earliest/latest.
        pub timestamp: i64,
        /// The offset, or -1 when no record is at or after the timestamp.
        pub offset: i64,
    }
}
