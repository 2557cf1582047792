//! The broker side of liveness: register once per process life (which
//! bumps the broker epoch), then heartbeat the controller leader every
//! `heartbeat_interval`; register again if the controller forgot us.
use std::sync::Arc;
use std::time::Duration;

use super::command::MetadataCommand;
use super::handle::ClusterHandle;
use super::raft::wire::HeartbeatReply;

async fn register(handle: &ClusterHandle) {
    let (host, port) = handle.config.advertised.clone();
    let cmd = MetadataCommand::RegisterBroker {
        node_id: handle.node_id(),
        host,
        port,
    };
    loop {
        match handle.propose(cmd.clone()).await {
            Ok(_) => {
                tracing::info!(node_id = handle.node_id(), "broker registered");
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e, "broker registration failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

pub async fn run(handle: Arc<ClusterHandle>) {
    register(&handle).await;
    let mut tick = tokio::time::interval(handle.config.heartbeat_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A new controller leader only gives brokers it has not heard from a
    // short grace (see `liveness`): tell it at once that we are alive.
    let mut metrics = handle.raft.metrics();
    let mut leader = metrics.borrow_and_update().current_leader;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            changed = metrics.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = metrics.borrow_and_update().current_leader;
                if now == leader || now.is_none() {
                    continue;
                }
                leader = now;
            }
        }
        if let Some(HeartbeatReply::Unregistered) = handle.heartbeat().await {
            register(&handle).await;
        }
    }
}
