//! The openraft type configuration of the metadata quorum: log entries are
//! `MetadataCommand`s, responses are `ApplyResult`s, nodes are the voters
//! and learners with their controller address.
use std::io::Cursor;

use crate::cluster::command::{ApplyResult, MetadataCommand};

openraft::declare_raft_types!(
    /// The metadata quorum's Raft types.
    pub TypeConfig:
        D = MetadataCommand,
        R = ApplyResult,
        NodeId = u64,
        Node = openraft::BasicNode,
        SnapshotData = Cursor<Vec<u8>>,
);

pub type NodeId = u64;
pub type Raft = openraft::Raft<TypeConfig>;
pub type Entry = openraft::Entry<TypeConfig>;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type StorageError = openraft::StorageError<NodeId>;
pub type StorageIOError = openraft::StorageIOError<NodeId>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, openraft::BasicNode>;
pub type StoredMembership = openraft::StoredMembership<NodeId, openraft::BasicNode>;

/// Broker ids are `i32` on the wire (Kafka); Raft ids are `u64`. Voter ids
/// are checked to be non-negative when parsed, a learner's by `serve` and
/// again by the leader when it joins, so this never wraps.
pub fn raft_id(node_id: i32) -> NodeId {
    node_id.max(0) as u64
}

pub fn broker_id(id: NodeId) -> i32 {
    i32::try_from(id).unwrap_or(i32::MAX)
}
