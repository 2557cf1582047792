//! Plain values exchanged with the coordinator. The protocol adapters build
//! these from their wire types, so nothing here knows about any wire format.
use bytes::Bytes;

use super::GroupState;

/// A JoinGroup request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroup {
    pub group_id: String,
    /// Empty for a member joining for the first time.
    pub member_id: String,
    /// Set for static members (KIP-345).
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    /// JoinGroup v0 has none: pass the session timeout (a value <= 0 is
    /// treated that way too).
    pub rebalance_timeout_ms: i32,
    /// "consumer" for consumers; every member must use the same one.
    pub protocol_type: String,
    /// (protocol name, metadata) in the member's order of preference.
    pub protocols: Vec<(String, Bytes)>,
    /// JoinGroup v4+: a new member first gets `MemberIdRequired(id)`.
    pub require_known_member_id: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinResult {
    pub generation_id: i32,
    pub protocol_type: String,
    pub protocol_name: String,
    pub leader_id: String,
    pub member_id: String,
    /// Every member with its metadata for the chosen protocol; only the
    /// leader gets them (it computes the assignment), others get none.
    pub members: Vec<JoinedMember>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub metadata: Bytes,
}

/// One partition of an OffsetCommit request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommit {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// -1 when unknown.
    pub leader_epoch: i32,
    pub metadata: Option<String>,
}

/// One partition of an OffsetFetch answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub topic: String,
    pub partition: i32,
    /// -1 when the group has committed nothing for this partition.
    pub offset: i64,
    /// -1 when unknown.
    pub leader_epoch: i32,
    /// Empty when none was given (Kafka stores a null metadata as "").
    pub metadata: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    pub group_id: String,
    /// Empty for groups that only store offsets.
    pub protocol_type: String,
    pub state: GroupState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    pub group_id: String,
    pub state: GroupState,
    pub protocol_type: String,
    /// Empty unless the group is Stable (like Kafka).
    pub protocol: String,
    pub members: Vec<MemberDescription>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    /// The member's metadata for the chosen protocol; empty unless Stable.
    pub metadata: Bytes,
    /// Empty unless Stable.
    pub assignment: Bytes,
}
