//! Requests from this node to other controllers (forwarded writes,
//! heartbeats, read-index, bootstrap probes), with connection reuse and a
//! deadline on every call.
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use tokio::net::TcpStream;

use super::raft::types::NodeId;
use super::raft::wire::{self, Request, Response};

pub struct Peers {
    addrs: BTreeMap<NodeId, String>,
    /// Connections not in use; a call takes one out and puts it back only
    /// if the exchange succeeded, so a broken stream is never reused.
    idle: Mutex<HashMap<NodeId, TcpStream>>,
}

impl Peers {
    pub fn new(addrs: BTreeMap<NodeId, String>) -> Peers {
        Peers {
            addrs,
            idle: Mutex::new(HashMap::new()),
        }
    }

    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.addrs.keys().copied()
    }

    pub async fn call(
        &self,
        target: NodeId,
        req: &Request,
        timeout: Duration,
    ) -> std::io::Result<Response> {
        let addr = self.addrs.get(&target).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("node {target} is not a voter"),
            )
        })?;
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&target);
        let exchange = async {
            let mut conn = match idle {
                Some(c) => c,
                None => wire::connect(addr).await?,
            };
            let resp = wire::call(&mut conn, req).await?;
            Ok::<_, std::io::Error>((conn, resp))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok((conn, resp))) => {
                self.idle
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(target, conn);
                Ok(resp)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("controller {target} at {addr} did not answer within {timeout:?}"),
            )),
        }
    }
}
