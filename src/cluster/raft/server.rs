//! The controller listener: serves Raft RPCs from the leader and
//! candidates, and forwarded writes, heartbeats, read-index requests and
//! learners' joins from brokers.
//! Each connection answers its requests one at a time, in order.
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ClientWriteError, RaftError};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::wire::{self, NotApplied, Request, Response};
use crate::cluster::handle::ClusterHandle;

pub async fn serve(listener: TcpListener, handle: Arc<ClusterHandle>) {
    let mut backoff = Duration::from_millis(10);
    // Connections live in this set, so stopping this task (the handle's
    // `shutdown`) closes them too, and peers reconnect to whatever listens
    // next instead of talking to a Raft node that has stopped.
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        match accepted {
            Ok((socket, peer)) => {
                backoff = Duration::from_millis(10);
                let _ = socket.set_nodelay(true);
                let handle = handle.clone();
                connections.spawn(async move {
                    if let Err(e) = connection(socket, handle).await {
                        tracing::debug!(%peer, error = %e, "controller connection closed");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "controller accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

async fn connection(mut socket: TcpStream, handle: Arc<ClusterHandle>) -> std::io::Result<()> {
    loop {
        let req: Request = match wire::read_frame(&mut socket).await {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        let resp = dispatch(&handle, req).await;
        wire::write_frame(&mut socket, &resp).await?;
    }
}

async fn dispatch(handle: &Arc<ClusterHandle>, req: Request) -> Response {
    let raft = &handle.raft;
    match req {
        Request::AppendEntries(r) => Response::AppendEntries(raft.append_entries(r).await),
        Request::Vote(r) => Response::Vote(raft.vote(r).await),
        Request::InstallSnapshot(r) => Response::InstallSnapshot(raft.install_snapshot(r).await),
        Request::Propose(cmd) => {
            let timeout = handle.config.propose_timeout;
            Response::Propose(match tokio::time::timeout(timeout, raft.client_write(cmd)).await {
                Ok(Ok(resp)) => Ok(resp.data),
                Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => {
                    Err(NotApplied::NotLeader {
                        leader: f.leader_id,
                    })
                }
                Ok(Err(e)) => Err(NotApplied::Failed(e.to_string())),
                Err(_) => Err(NotApplied::Failed(format!(
                    "the controller could not commit the change within {} ms (has it lost its majority?)",
                    timeout.as_millis()
                ))),
            })
        }
        Request::Heartbeat { node_id } => Response::Heartbeat(handle.on_heartbeat(node_id)),
        Request::ReadIndex => Response::ReadIndex(match raft.ensure_linearizable().await {
            Ok(id) => Ok(id.map(|i| i.index).unwrap_or(0)),
            Err(e) => Err(NotApplied::NotLeader {
                leader: e.forward_to_leader().and_then(|f| f.leader_id),
            }),
        }),
        Request::Status => Response::Status {
            initialized: raft.is_initialized().await.unwrap_or(false),
        },
        Request::Join {
            node_id,
            addr,
            forwarded,
        } => {
            Response::Join(crate::cluster::learner::on_join(handle, node_id, addr, forwarded).await)
        }
    }
}
