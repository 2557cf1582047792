//! One member of a group, and members that were handed an id but have not
//! joined with it yet (JoinGroup v4+ `MEMBER_ID_REQUIRED`).
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::timers::TimerHandle;
use super::{GroupError, JoinResult};

pub(super) type JoinReply = oneshot::Sender<Result<JoinResult, GroupError>>;
pub(super) type SyncReply = oneshot::Sender<Result<Bytes, GroupError>>;

pub(super) struct Member {
    pub id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    pub protocol_type: String,
    /// (name, metadata) in the member's order of preference.
    pub protocols: Vec<(String, Bytes)>,
    pub assignment: Bytes,
    /// Set while the member waits in JoinGroup for the rebalance to finish.
    pub join_tx: Option<JoinReply>,
    /// Set while the member waits in SyncGroup for the leader's assignment.
    pub sync_tx: Option<SyncReply>,
    pub last_heartbeat: Instant,
    /// Order of joining: the longest-standing member becomes leader when
    /// the leader goes away.
    pub join_seq: u64,
    /// Identifies this incarnation of the member to its session timer, so a
    /// timer of a replaced or removed member does nothing.
    pub nonce: u64,
    /// The session-timeout watcher; dropping it stops the timer.
    pub watcher: Option<TimerHandle>,
}

impl Member {
    pub fn metadata_for(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(name, _)| name == protocol)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }

    pub fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|(name, _)| name == protocol)
    }

    /// A member blocked in JoinGroup or SyncGroup cannot heartbeat, so its
    /// session does not run out while it waits.
    pub fn is_waiting(&self) -> bool {
        self.join_tx.is_some() || self.sync_tx.is_some()
    }

    /// Answers a waiting JoinGroup, if any, with an error.
    pub fn fail_join(&mut self, err: GroupError) {
        if let Some(tx) = self.join_tx.take() {
            // The caller may have gone away (connection closed); nothing to do then.
            let _ = tx.send(Err(err));
        }
    }

    /// Answers a waiting SyncGroup, if any, with an error.
    pub fn fail_sync(&mut self, err: GroupError) {
        if let Some(tx) = self.sync_tx.take() {
            let _ = tx.send(Err(err));
        }
    }
}

pub(super) struct PendingMember {
    pub nonce: u64,
    /// Expires the id if the member does not rejoin within its session timeout.
    pub _watcher: TimerHandle,
}
