//! The controller protocol: length-prefixed JSON frames over TCP, one
//! request then one response at a time per connection.
//!
//! Frame: `[u32 big-endian body length][JSON body]`. The length is checked
//! against `MAX_FRAME` before anything is allocated.
use openraft::error::{InstallSnapshotError, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::types::{NodeId, TypeConfig};
use crate::cluster::command::{ApplyResult, MetadataCommand};
use crate::cluster::error::JoinRefused;

/// Snapshot chunks are at most openraft's `snapshot_max_chunk_size` (set
/// to 1 MiB); JSON encodes bytes as numbers, so allow some slack.
pub const MAX_FRAME: usize = 16 << 20;

#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<NodeId>),
    InstallSnapshot(InstallSnapshotRequest<TypeConfig>),
    /// A metadata write forwarded by a broker that is not the leader.
    Propose(MetadataCommand),
    /// A broker is alive (sent every 500 ms to the leader).
    Heartbeat {
        node_id: i32,
    },
    /// The leader's commit index, confirmed by a quorum: a node that has
    /// applied up to it has seen every write acknowledged before the call.
    ReadIndex,
    /// Whether this node's Raft state is initialized (bootstrap probe).
    Status,
    /// A broker that is not a voter asks to be a learner of the quorum,
    /// reachable at `addr` (its controller listener). A voter that is not
    /// the leader forwards it once (`forwarded` then set, so it is never
    /// forwarded again) to the leader it knows.
    Join {
        node_id: i32,
        addr: String,
        forwarded: bool,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    AppendEntries(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    Vote(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    InstallSnapshot(
        Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>,
    ),
    Propose(Result<ApplyResult, NotApplied>),
    Heartbeat(Result<HeartbeatReply, NotApplied>),
    ReadIndex(Result<u64, NotApplied>),
    Status {
        initialized: bool,
    },
    Join(Result<JoinReply, JoinError>),
}

/// Why a forwarded request was not handled by this node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum NotApplied {
    /// Ask `leader` instead (if known).
    NotLeader { leader: Option<NodeId> },
    /// The outcome of the write is unknown (e.g. it timed out).
    Failed(String),
}

/// What the leader did about a `Join`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinReply {
    /// The broker is now a learner (the membership change committed).
    Added,
    /// It already was a learner at that address: nothing was written, so
    /// a restart costs no membership change.
    AlreadyLearner,
    /// It was a learner at another address; the membership now has the
    /// new one, and the leader replicates there.
    AddressUpdated,
}

/// Why a `Join` did not make the broker a learner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinError {
    /// Ask `leader` instead (if known).
    NotLeader { leader: Option<NodeId> },
    /// Worth retrying: no majority, a membership change in flight, the
    /// previous life of this broker still heartbeating, ...
    Failed(String),
    /// Retrying cannot help.
    Refused(JoinRefused),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HeartbeatReply {
    Ok,
    /// The controller has no registration for this broker: register again.
    Unregistered,
}

pub async fn write_frame<T: Serialize>(s: &mut TcpStream, msg: &T) -> std::io::Result<()> {
    let body = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
    if body.len() > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "controller frame of {} bytes exceeds {MAX_FRAME}",
                body.len()
            ),
        ));
    }
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    s.write_all(&frame).await
}

pub async fn read_frame<T: DeserializeOwned>(s: &mut TcpStream) -> std::io::Result<T> {
    let len = s.read_u32().await? as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("controller frame of {len} bytes exceeds {MAX_FRAME}"),
        ));
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await?;
    serde_json::from_slice(&body)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// One request/response exchange on an open connection.
pub async fn call(s: &mut TcpStream, req: &Request) -> std::io::Result<Response> {
    write_frame(s, req).await?;
    read_frame(s).await
}

pub async fn connect(addr: &str) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    Ok(s)
}
