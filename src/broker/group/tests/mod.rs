//! Coordinator tests. They run on paused tokio time: timers fire as soon as
//! every task is idle, so timeouts are fast and deterministic.
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::task::JoinHandle;

use super::*;

mod admin;
mod membership;
mod offsets;
mod persistence;
mod timeouts;

pub(super) const SESSION_MS: i32 = 10_000;
pub(super) const REBALANCE_MS: i32 = 30_000;

pub(super) fn config() -> GroupConfig {
    GroupConfig {
        member_id_seed: Some(7),
        wall_clock_ms: || 1_700_000_000_000,
        ..GroupConfig::default()
    }
}

pub(super) fn setup() -> (Arc<GroupCoordinator>, Arc<MemoryGroupStore>) {
    let store = Arc::new(MemoryGroupStore::new());
    (GroupCoordinator::new(config(), store.clone()), store)
}

pub(super) fn join_req(group: &str, member_id: &str, protocols: &[&str]) -> JoinGroup {
    JoinGroup {
        group_id: group.to_string(),
        member_id: member_id.to_string(),
        group_instance_id: None,
        client_id: "client".to_string(),
        client_host: "/127.0.0.1".to_string(),
        session_timeout_ms: SESSION_MS,
        rebalance_timeout_ms: REBALANCE_MS,
        protocol_type: "consumer".to_string(),
        protocols: protocols
            .iter()
            .map(|p| (p.to_string(), Bytes::from(format!("meta-{p}"))))
            .collect(),
        require_known_member_id: false,
    }
}

pub(super) fn spawn_join(
    c: &Arc<GroupCoordinator>,
    req: JoinGroup,
) -> JoinHandle<Result<JoinResult, GroupError>> {
    let c = c.clone();
    tokio::spawn(async move { c.join_group(req).await })
}

pub(super) fn spawn_sync(
    c: &Arc<GroupCoordinator>,
    group: &str,
    generation: i32,
    member: &str,
    assignments: Vec<(String, Bytes)>,
) -> JoinHandle<Result<Bytes, GroupError>> {
    let c = c.clone();
    let (group, member) = (group.to_string(), member.to_string());
    tokio::spawn(async move {
        c.sync_group(&group, generation, &member, None, assignments)
            .await
    })
}

pub(super) fn state_of(c: &GroupCoordinator, group: &str) -> GroupState {
    c.describe_group(group)
        .map(|d| d.state)
        .unwrap_or(GroupState::Dead)
}

/// Lets spawned tasks run without moving the clock much.
pub(super) async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// Forms a Stable group with the given number of members joining together;
/// returns (generation, member ids with the leader first).
pub(super) async fn stable_group(
    c: &Arc<GroupCoordinator>,
    group: &str,
    n: usize,
) -> (i32, Vec<String>) {
    let joins: Vec<_> = (0..n)
        .map(|_| spawn_join(c, join_req(group, "", &["range"])))
        .collect();
    let mut results = Vec::new();
    for j in joins {
        results.push(j.await.unwrap().unwrap());
    }
    let generation = results[0].generation_id;
    let leader = results[0].leader_id.clone();
    let mut ids: Vec<String> = results.iter().map(|r| r.member_id.clone()).collect();
    ids.sort_by_key(|id| *id != leader);
    let assignments: Vec<(String, Bytes)> = ids
        .iter()
        .map(|id| (id.clone(), Bytes::from(format!("assign-{id}"))))
        .collect();
    let followers: Vec<_> = ids[1..]
        .iter()
        .map(|id| spawn_sync(c, group, generation, id, vec![]))
        .collect();
    let leader_sync = c
        .sync_group(group, generation, &leader, None, assignments)
        .await;
    assert!(leader_sync.is_ok());
    for f in followers {
        f.await.unwrap().unwrap();
    }
    assert_eq!(state_of(c, group), GroupState::Stable);
    (generation, ids)
}
