//! The writes the metadata quorum accepts, and what each returns to its
//! proposer. These are the Raft log entries: every voter applies them in
//! the same order, so applying must be deterministic (see `apply`).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::metadata::PartitionAssignment;
use crate::proto::ErrorCode;

/// One metadata change. New variants may be added at the end; existing ones
/// keep their shape because they are stored in the Raft log on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetadataCommand {
    /// A broker (re)started: bumps its epoch, records its client address
    /// and unfences it (leaderless partitions whose ISR has it get it back
    /// as leader).
    RegisterBroker {
        node_id: i32,
        host: String,
        port: i32,
    },
    /// The controller saw no heartbeat within the session timeout.
    FenceBroker {
        node_id: i32,
    },
    /// A fenced broker heartbeats again.
    UnfenceBroker {
        node_id: i32,
    },
    /// The controller picks the replicas (round-robin over live brokers).
    CreateTopic {
        name: String,
        partitions: i32,
        replication_factor: i16,
        configs: BTreeMap<String, String>,
        internal: bool,
    },
    DeleteTopic {
        name: String,
    },
    /// Grows the partition count (`partitions: None` keeps it) and/or
    /// changes config overrides.
    AlterTopic {
        name: String,
        partitions: Option<i32>,
        set_configs: BTreeMap<String, String>,
        delete_configs: Vec<String>,
    },
    /// A partition leader shrinks or expands its ISR. Refused unless
    /// `leader`, `leader_epoch` and `partition_epoch` match the current
    /// state (a stale leader cannot overwrite a newer decision).
    AlterIsr {
        topic: String,
        partition: i32,
        leader: i32,
        leader_epoch: i32,
        partition_epoch: i32,
        new_isr: Vec<i32>,
    },
    /// Gives every leaderless partition (or one led by a fenced broker) a
    /// live leader from its ISR, if it has one. Never elects outside the ISR.
    ElectLeaders,
    /// Reserves `count` producer ids; the result is the first.
    AllocateProducerIds {
        count: i64,
    },
    /// A broker is stopping on purpose (SIGTERM): like `FenceBroker`, but
    /// proposed by the broker itself before it closes, so its partitions
    /// get new leaders at once instead of after the session timeout. It
    /// stays fenced until it registers again (heartbeats do not unfence
    /// it). Refused unless `broker_epoch` is its current registration, so
    /// a late copy from a previous process life cannot fence the next one.
    ControlledShutdown {
        node_id: i32,
        broker_epoch: i64,
    },
    /// Moves leadership of the listed partitions back to their preferred
    /// replica (the first), where that replica is live, in the ISR and
    /// not the leader already (Kafka's preferred leader election); the
    /// others are left as they are. After failovers and restarts this
    /// spreads leadership over the brokers again.
    ElectPreferredLeaders {
        partitions: Vec<(String, i32)>,
    },
    /// Kafka's unclean election (ElectLeaders with type UNCLEAN, asked for
    /// by an operator): each listed partition without a live leader gets
    /// one from its live ISR if it can, and otherwise from any live
    /// replica, whose log then becomes the partition's (records only the
    /// lost replicas had are gone). Partitions with a live leader are left
    /// as they are.
    ElectUncleanLeaders {
        partitions: Vec<(String, i32)>,
    },
    /// Changes the dynamic broker configs of one scope ("" for the cluster
    /// default, a node id for one broker): `delete` removed, then `set`
    /// added; `replace` first drops everything (AlterConfigs). Keys and
    /// values were validated by the broker that proposed it.
    AlterBrokerConfigs {
        scope: String,
        set: BTreeMap<String, String>,
        delete: Vec<String>,
        replace: bool,
    },
}

/// What an election did to one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElectionOutcome {
    /// A new leader was elected.
    Elected,
    /// The partition already had the leader asked for.
    NotNeeded,
    /// No replica could lead (not live, or not in the ISR for a preferred
    /// election).
    NotAvailable,
    UnknownPartition,
}

/// What an accepted command returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandResult {
    Done,
    /// `AllocateProducerIds`: ids `first .. first + count` are yours.
    ProducerIds {
        first: i64,
    },
    /// `AlterIsr`: the partition as it is now (new `partition_epoch`).
    Partition(PartitionAssignment),
    /// `ElectPreferredLeaders`, `ElectUncleanLeaders`: each partition asked
    /// for, in order, with what happened to it.
    Elections(Vec<(String, i32, ElectionOutcome)>),
}

/// Why the state machine refused a command. Deterministic: every voter
/// refuses the same command the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub kind: RejectKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RejectKind {
    TopicExists,
    UnknownTopicOrPartition,
    InvalidPartitions,
    InvalidReplicationFactor,
    InvalidTopic,
    InvalidRequest,
    /// AlterIsr with a stale leader, leader epoch or partition epoch.
    StaleEpoch,
    UnknownBroker,
}

impl RejectKind {
    /// strom's error code table has no FENCED_LEADER_EPOCH or
    /// INVALID_UPDATE_VERSION yet, so a stale AlterIsr reports
    /// NOT_LEADER_OR_FOLLOWER: the sender is not the leader it thinks it is.
    pub fn code(self) -> ErrorCode {
        match self {
            RejectKind::TopicExists => ErrorCode::TopicAlreadyExists,
            RejectKind::UnknownTopicOrPartition => ErrorCode::UnknownTopicOrPartition,
            RejectKind::InvalidPartitions => ErrorCode::InvalidPartitions,
            RejectKind::InvalidReplicationFactor => ErrorCode::InvalidReplicationFactor,
            RejectKind::InvalidTopic => ErrorCode::InvalidTopicException,
            RejectKind::InvalidRequest | RejectKind::UnknownBroker => ErrorCode::InvalidRequest,
            RejectKind::StaleEpoch => ErrorCode::NotLeaderOrFollower,
        }
    }
}

impl Rejection {
    pub fn new(kind: RejectKind, message: impl Into<String>) -> Self {
        Rejection {
            kind,
            message: message.into(),
        }
    }
}

/// The Raft response type: what `apply` produced for one log entry.
pub type ApplyResult = Result<CommandResult, Rejection>;
