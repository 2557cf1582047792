//! ElectLeaders (api 31): kafka-leader-election. Any broker answers; the
//! election goes through the metadata quorum.
use super::Status;
use crate::wire_struct;

/// `election_type` values, Kafka's.
pub const ELECTION_PREFERRED: i8 = 0;
pub const ELECTION_UNCLEAN: i8 = 1;

wire_struct! {
    pub struct ElectLeadersRequest {
        pub election_type: i8,
        /// None: every partition of every topic (then partitions that need
        /// no election are left out of the answer).
        pub partitions: Option<Vec<ElectionPartition>>,
    }
}

wire_struct! {
    pub struct ElectionPartition {
        pub topic: String,
        pub partition: i32,
    }
}

wire_struct! {
    pub struct ElectLeadersResponse {
        pub status: Status,
        pub partitions: Vec<ElectionResult>,
    }
}

wire_struct! {
    pub struct ElectionResult {
        pub topic: String,
        pub partition: i32,
        /// OK: elected; ELECTION_NOT_NEEDED: it had that leader already.
        pub status: Status,
    }
}
