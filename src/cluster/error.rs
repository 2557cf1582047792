//! Why a proposal to the metadata quorum did not produce a result.
use super::command::Rejection;
use crate::proto::ErrorCode;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    /// The state machine applied the command and refused it.
    #[error("{}", .0.message)]
    Rejected(Rejection),
    /// No controller leader answered in time: typically a majority of the
    /// voters is down or partitioned away.
    #[error("metadata quorum unavailable: {0}")]
    Unavailable(String),
    /// The command was sent but its outcome is unknown (it may still commit).
    #[error("metadata quorum did not confirm the change within {0} ms; it may or may not have been applied")]
    Timeout(u64),
    #[error("metadata quorum is shutting down")]
    ShuttingDown,
}

impl ClusterError {
    /// strom has no NOT_CONTROLLER code; REQUEST_TIMED_OUT (retriable) with
    /// the message above is what a client sees when the quorum is lost.
    pub fn code(&self) -> ErrorCode {
        match self {
            ClusterError::Rejected(r) => r.kind.code(),
            ClusterError::Unavailable(_) | ClusterError::Timeout(_) => ErrorCode::RequestTimedOut,
            ClusterError::ShuttingDown => ErrorCode::NotLeaderOrFollower,
        }
    }
}

/// Why a broker's controlled shutdown did not hand its partitions over;
/// the broker then stops anyway and the controller fences it when its
/// session times out, as after a crash.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ControlledShutdownError {
    /// The metadata has no registration of this broker at all, so the
    /// quorum knows of nothing it leads.
    #[error("broker {0} is not registered with the metadata quorum")]
    NotRegistered(i32),
    #[error("the controller did not accept the controlled shutdown: {0}")]
    Proposal(#[from] ClusterError),
    /// Covers a quorum without a majority too: the proposal keeps
    /// retrying until this bound.
    #[error("no handover within {0} ms (is a majority of the voters up?)")]
    TimedOut(u64),
}

/// Why the controller leader refused to take a broker that is not a voter
/// in as a learner. Retrying cannot fix these (they are configuration
/// mistakes), so the broker stops with a usage error (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub enum JoinRefused {
    /// Raft ids are the broker ids, and they are never negative.
    #[error("node id {node_id} is negative; node ids are 0 or more")]
    InvalidId { node_id: i32 },
    /// The quorum has a voter with this id: this broker's `--voters`
    /// differs from the others', or its `--node-id` is another node's.
    #[error(
        "node id {node_id} is a voter of the metadata quorum but not in this broker's --voters; \
         give this broker an id of its own, and every broker the same --voters"
    )]
    IdIsVoter { node_id: i32 },
    /// Another member already has this controller address: Raft messages
    /// for it would reach this broker instead.
    #[error("controller address {addr} is already node {owner}'s in the metadata quorum")]
    AddressTaken { addr: String, owner: i32 },
}
