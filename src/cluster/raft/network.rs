//! openraft's view of the other members, voters and learners alike: one
//! TCP connection per target (at the controller address the membership
//! holds for it), opened on first use and re-opened after any failure.
//! AppendEntries and InstallSnapshot travel the same way to a learner as
//! to a voter.
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::BasicNode;
use tokio::net::TcpStream;

use super::types::{NodeId, TypeConfig};
use super::wire::{self, Request, Response};

type RpcErr<E = openraft::error::Infallible> = RPCError<NodeId, BasicNode, RaftError<NodeId, E>>;

/// Hands openraft a `Peer` per replication target (voter or learner).
pub struct Network;

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Peer {
        Peer {
            target,
            addr: node.addr.clone(),
            conn: None,
        }
    }
}

pub struct Peer {
    target: NodeId,
    addr: String,
    conn: Option<TcpStream>,
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "controller RPC timed out")
}

impl Peer {
    /// Sends one request; any failure drops the connection so the next call
    /// reconnects. An unreachable peer makes openraft back off.
    async fn rpc<E: std::error::Error>(
        &mut self,
        req: Request,
        option: &RPCOption,
    ) -> Result<Response, RpcErr<E>> {
        let ttl = option.hard_ttl();
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => match tokio::time::timeout(ttl, wire::connect(&self.addr)).await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => return Err(RPCError::Unreachable(Unreachable::new(&e))),
                Err(_) => return Err(RPCError::Unreachable(Unreachable::new(&timed_out()))),
            },
        };
        match tokio::time::timeout(ttl, wire::call(&mut conn, &req)).await {
            Ok(Ok(resp)) => {
                self.conn = Some(conn);
                Ok(resp)
            }
            Ok(Err(e)) => Err(RPCError::Network(NetworkError::new(&e))),
            Err(_) => Err(RPCError::Network(NetworkError::new(&timed_out()))),
        }
    }

    fn unexpected<E: std::error::Error>(&self) -> RpcErr<E> {
        let e = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "voter {} answered with the wrong response type",
                self.target
            ),
        );
        RPCError::Network(NetworkError::new(&e))
    }

    fn remote<E: std::error::Error>(&self, e: RaftError<NodeId, E>) -> RpcErr<E> {
        RPCError::RemoteError(RemoteError::new(self.target, e))
    }
}

impl RaftNetwork<TypeConfig> for Peer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RpcErr> {
        match self.rpc(Request::AppendEntries(rpc), &option).await? {
            Response::AppendEntries(Ok(r)) => Ok(r),
            Response::AppendEntries(Err(e)) => Err(self.remote(e)),
            _ => Err(self.unexpected()),
        }
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RpcErr<InstallSnapshotError>> {
        match self.rpc(Request::InstallSnapshot(rpc), &option).await? {
            Response::InstallSnapshot(Ok(r)) => Ok(r),
            Response::InstallSnapshot(Err(e)) => Err(self.remote(e)),
            _ => Err(self.unexpected()),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RpcErr> {
        match self.rpc(Request::Vote(rpc), &option).await? {
            Response::Vote(Ok(r)) => Ok(r),
            Response::Vote(Err(e)) => Err(self.remote(e)),
            _ => Err(self.unexpected()),
        }
    }
}
