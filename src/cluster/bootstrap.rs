//! First start of a cluster: the voter with the lowest id initializes Raft
//! with every voter, the others wait to hear from it. Idempotent: a node
//! whose log already holds a membership (any restart) does nothing, and
//! the lowest voter also asks the others first, so a wiped lowest voter
//! does not start a second, conflicting cluster while they are reachable.
use std::sync::Arc;
use std::time::Duration;

use super::handle::ClusterHandle;
use super::raft::types::raft_id;
use super::raft::wire::{Request, Response};

pub async fn run(handle: Arc<ClusterHandle>) {
    let me = raft_id(handle.node_id());
    let lowest = handle.voters().keys().next().copied();
    if lowest != Some(me) {
        return;
    }
    match handle.raft.is_initialized().await {
        Ok(false) => {}
        _ => return,
    }
    for id in handle.peers.ids().filter(|&id| id != me) {
        if let Ok(Response::Status { initialized: true }) = handle
            .peers
            .call(id, &Request::Status, Duration::from_millis(500))
            .await
        {
            tracing::info!(voter = id, "cluster already initialized; joining it");
            return;
        }
    }
    match handle.raft.initialize(handle.voters()).await {
        Ok(()) => {
            tracing::info!(voters = ?handle.voters().keys().collect::<Vec<_>>(), "initialized metadata quorum")
        }
        Err(e) => tracing::info!(error = %e, "metadata quorum not initialized here"),
    }
}
