//! DeleteRecords (api 24): move partitions' log start offsets forward, as
//! kafka-delete-records does. Sent to each partition's leader.
use super::Status;
use crate::wire_struct;

/// The partition's high watermark: delete every record written so far.
pub const TO_HIGH_WATERMARK: i64 = -1;

wire_struct! {
    pub struct DeleteRecordsRequest {
        pub topic: String,
        pub partitions: Vec<DeleteRecordsPartition>,
    }
}

wire_struct! {
    pub struct DeleteRecordsPartition {
        pub partition: i32,
        /// Records below this offset go; [`TO_HIGH_WATERMARK`] for all.
        pub offset: i64,
    }
}

wire_struct! {
    pub struct DeleteRecordsResponse {
        pub status: Status,
        pub partitions: Vec<DeleteRecordsPartitionResult>,
    }
}

wire_struct! {
    pub struct DeleteRecordsPartitionResult {
        pub partition: i32,
        pub status: Status,
        /// The new log start offset (-1 on error).
        pub low_watermark: i64,
    }
}
