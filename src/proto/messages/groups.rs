//! Consumer-group APIs (10–19). They mirror Kafka's classic group protocol;
//! protocol metadata and assignments are Kafka's ConsumerProtocol bytes, so
//! native and Kafka clients can describe each other's groups.
use bytes::Bytes;

use super::Status;
use crate::wire_struct;

wire_struct! {
    /// Version 0: a group's coordinator.
    pub struct FindCoordinatorRequest {
        pub group_id: String,
    }
}

/// [`FindCoordinatorRequestV1::key_type`] of a consumer group.
pub const KEY_TYPE_GROUP: i8 = 0;
/// [`FindCoordinatorRequestV1::key_type`] of a transactional id.
pub const KEY_TYPE_TRANSACTION: i8 = 1;

wire_struct! {
    /// Version 1: the coordinator of a group or of a transactional id.
    pub struct FindCoordinatorRequestV1 {
        /// The group id or the transactional id.
        pub key: String,
        /// [`KEY_TYPE_GROUP`] or [`KEY_TYPE_TRANSACTION`], as in Kafka.
        pub key_type: i8,
    }
}

impl From<FindCoordinatorRequest> for FindCoordinatorRequestV1 {
    fn from(r: FindCoordinatorRequest) -> FindCoordinatorRequestV1 {
        FindCoordinatorRequestV1 {
            key: r.group_id,
            key_type: KEY_TYPE_GROUP,
        }
    }
}

wire_struct! {
    pub struct FindCoordinatorResponse {
        pub status: Status,
        pub node_id: i32,
        pub host: String,
        pub port: i32,
    }
}

wire_struct! {
    pub struct GroupProtocol {
        pub name: String,
        pub metadata: Bytes,
    }
}

wire_struct! {
    pub struct JoinGroupRequest {
        pub group_id: String,
        pub session_timeout_ms: i32,
        pub rebalance_timeout_ms: i32,
        /// Empty on the first join; the broker assigns one.
        pub member_id: String,
        pub group_instance_id: Option<String>,
        pub client_id: String,
        pub protocol_type: String,
        pub protocols: Vec<GroupProtocol>,
    }
}

wire_struct! {
    pub struct JoinGroupMember {
        pub member_id: String,
        pub group_instance_id: Option<String>,
        pub metadata: Bytes,
    }
}

wire_struct! {
    pub struct JoinGroupResponse {
        pub status: Status,
        pub generation_id: i32,
        pub protocol_name: String,
        pub leader: String,
        pub member_id: String,
        /// Filled only for the leader, which computes the assignment.
        pub members: Vec<JoinGroupMember>,
    }
}

wire_struct! {
    pub struct SyncGroupAssignment {
        pub member_id: String,
        pub assignment: Bytes,
    }
}

wire_struct! {
    pub struct SyncGroupRequest {
        pub group_id: String,
        pub generation_id: i32,
        pub member_id: String,
        pub group_instance_id: Option<String>,
        /// Only the leader sends assignments.
        pub assignments: Vec<SyncGroupAssignment>,
    }
}

wire_struct! {
    pub struct SyncGroupResponse {
        pub status: Status,
        pub assignment: Bytes,
    }
}

wire_struct! {
    pub struct HeartbeatRequest {
        pub group_id: String,
        pub generation_id: i32,
        pub member_id: String,
    }
}

wire_struct! {
    pub struct HeartbeatResponse {
        pub status: Status,
    }
}

wire_struct! {
    pub struct LeaveGroupRequest {
        pub group_id: String,
        pub member_ids: Vec<String>,
    }
}

wire_struct! {
    pub struct LeaveGroupResponse {
        pub status: Status,
        pub members: Vec<MemberStatus>,
    }
}

wire_struct! {
    pub struct MemberStatus {
        pub member_id: String,
        pub status: Status,
    }
}

wire_struct! {
    pub struct OffsetCommitRequest {
        pub group_id: String,
        /// -1 with an empty member id commits for a group with no members (admin).
        pub generation_id: i32,
        pub member_id: String,
        pub offsets: Vec<OffsetCommitPartition>,
    }
}

wire_struct! {
    pub struct OffsetCommitPartition {
        pub topic: String,
        pub partition: i32,
        pub offset: i64,
        pub metadata: Option<String>,
    }
}

wire_struct! {
    pub struct OffsetCommitResponse {
        pub status: Status,
        pub partitions: Vec<PartitionStatus>,
    }
}

wire_struct! {
    pub struct PartitionStatus {
        pub topic: String,
        pub partition: i32,
        pub status: Status,
    }
}

wire_struct! {
    pub struct TopicPartition {
        pub topic: String,
        pub partition: i32,
    }
}

wire_struct! {
    pub struct OffsetFetchRequest {
        pub group_id: String,
        /// Null fetches every partition the group has committed.
        pub partitions: Option<Vec<TopicPartition>>,
    }
}

wire_struct! {
    pub struct OffsetFetchResponse {
        pub status: Status,
        pub offsets: Vec<CommittedOffset>,
    }
}

wire_struct! {
    pub struct CommittedOffset {
        pub topic: String,
        pub partition: i32,
        /// -1 when the group has committed nothing for the partition.
        pub offset: i64,
        pub metadata: Option<String>,
    }
}

wire_struct! {
    pub struct ListGroupsRequest {}
}

wire_struct! {
    pub struct ListGroupsResponse {
        pub status: Status,
        pub groups: Vec<GroupListing>,
    }
}

wire_struct! {
    pub struct GroupListing {
        pub group_id: String,
        pub protocol_type: String,
        pub state: String,
    }
}

wire_struct! {
    pub struct DescribeGroupsRequest {
        pub group_ids: Vec<String>,
    }
}

wire_struct! {
    pub struct DescribeGroupsResponse {
        pub status: Status,
        pub groups: Vec<GroupDescription>,
    }
}

wire_struct! {
    pub struct GroupDescription {
        pub status: Status,
        pub group_id: String,
        pub state: String,
        pub protocol_type: String,
        pub protocol: String,
        pub members: Vec<MemberDescription>,
    }
}

wire_struct! {
    pub struct MemberDescription {
        pub member_id: String,
        pub group_instance_id: Option<String>,
        pub client_id: String,
        pub client_host: String,
        pub metadata: Bytes,
        pub assignment: Bytes,
    }
}

wire_struct! {
    pub struct DeleteGroupsRequest {
        pub group_ids: Vec<String>,
    }
}

wire_struct! {
    pub struct DeleteGroupsResponse {
        pub status: Status,
        pub groups: Vec<GroupStatus>,
    }
}

wire_struct! {
    pub struct GroupStatus {
        pub group_id: String,
        pub status: Status,
    }
}

wire_struct! {
    pub struct DeleteOffsetsRequest {
        pub group_id: String,
        pub partitions: Vec<TopicPartition>,
    }
}

wire_struct! {
    pub struct DeleteOffsetsResponse {
        pub status: Status,
        pub partitions: Vec<PartitionStatus>,
    }
}
