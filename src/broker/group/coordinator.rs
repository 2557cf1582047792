//! The coordinator's public face for group membership: validates requests,
//! finds (or creates) the group under one lock, and waits outside the lock
//! for answers that depend on other members or on the store.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use super::env::Env;
use super::group::Group;
use super::load::Loads;
use super::rebalance::Reply;
use super::{GroupConfig, GroupError, GroupStore, JoinGroup, JoinResult};

pub(super) type Groups = HashMap<String, Group>;

/// Coordinates the consumer groups whose `__consumer_offsets` partitions
/// this broker leads. Share it as `Arc<GroupCoordinator>`.
pub struct GroupCoordinator {
    pub(super) env: Env,
    /// Every group, under one lock: group operations are short and never
    /// await while holding it.
    groups: Mutex<Groups>,
    /// Which `__consumer_offsets` partitions are loaded or being loaded
    /// (see `load.rs`). Locked before `groups` when both are needed.
    pub(super) loads: Mutex<Loads>,
}

impl GroupCoordinator {
    pub fn new(config: GroupConfig, store: Arc<dyn GroupStore>) -> Arc<Self> {
        Arc::new_cyclic(|me| GroupCoordinator {
            env: Env::new(me.clone(), config, store),
            groups: Mutex::new(HashMap::new()),
            loads: Mutex::new(Loads::default()),
        })
    }

    pub fn config(&self) -> &GroupConfig {
        &self.env.config
    }

    pub(super) fn lock_groups(&self) -> MutexGuard<'_, Groups> {
        // Group operations keep the state consistent at every step they can
        // panic in (there are no such steps by design), so a poisoned lock
        // is still usable rather than taking every group down.
        self.groups.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// JoinGroup. Waits until the rebalance completes (all known members
    /// rejoined, or the rebalance timeout passed).
    pub async fn join_group(&self, req: JoinGroup) -> Result<JoinResult, GroupError> {
        validate_group_id(&req.group_id)?;
        let cfg = &self.env.config;
        if req.session_timeout_ms < cfg.min_session_timeout_ms
            || req.session_timeout_ms > cfg.max_session_timeout_ms
        {
            return Err(GroupError::InvalidSessionTimeout {
                given: req.session_timeout_ms,
                min: cfg.min_session_timeout_ms,
                max: cfg.max_session_timeout_ms,
            });
        }
        let reply = {
            let mut groups = self.lock_groups();
            let group_id = req.group_id.clone();
            let created = !groups.contains_key(&group_id);
            if created && !req.member_id.is_empty() {
                return Err(GroupError::UnknownMemberId);
            }
            let group = groups
                .entry(group_id.clone())
                .or_insert_with(|| Group::new(&self.env, &group_id));
            let reply = group.join(&self.env, req);
            if reply.is_err() && group.is_blank() {
                // Do not keep a group that only a failed join created.
                groups.remove(&group_id);
            }
            reply?
        };
        wait(reply).await
    }

    /// SyncGroup. The leader sends the assignments; everyone waits until they
    /// are stored, then gets their own.
    pub async fn sync_group(
        &self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        group_instance_id: Option<&str>,
        assignments: Vec<(String, Bytes)>,
    ) -> Result<Bytes, GroupError> {
        validate_group_id(group_id)?;
        let reply = {
            let mut groups = self.lock_groups();
            let group = groups
                .get_mut(group_id)
                .ok_or(GroupError::UnknownMemberId)?;
            group.sync(
                &self.env,
                generation_id,
                member_id,
                group_instance_id,
                assignments,
            )?
        };
        wait(reply).await
    }

    /// Heartbeat. `RebalanceInProgress` tells the member to rejoin.
    pub async fn heartbeat(
        &self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
    ) -> Result<(), GroupError> {
        validate_group_id(group_id)?;
        let mut groups = self.lock_groups();
        let group = groups
            .get_mut(group_id)
            .ok_or(GroupError::UnknownMemberId)?;
        group.heartbeat(generation_id, member_id)
    }

    /// LeaveGroup for one or more members; each gets its own result.
    pub async fn leave_group(
        &self,
        group_id: &str,
        member_ids: Vec<String>,
    ) -> Result<Vec<(String, Result<(), GroupError>)>, GroupError> {
        validate_group_id(group_id)?;
        let mut groups = self.lock_groups();
        let Some(group) = groups.get_mut(group_id) else {
            return Ok(member_ids
                .into_iter()
                .map(|id| (id, Err(GroupError::UnknownMemberId)))
                .collect());
        };
        if group.state == super::GroupState::Dead {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        Ok(member_ids
            .into_iter()
            .map(|id| {
                let result = group.leave(&self.env, &id);
                (id, result)
            })
            .collect())
    }
}

/// Membership APIs need a non-empty group id (offset and admin APIs accept
/// "" like Kafka does, for old clients).
pub(super) fn validate_group_id(group_id: &str) -> Result<(), GroupError> {
    if group_id.is_empty() {
        return Err(GroupError::InvalidGroupId);
    }
    Ok(())
}

pub(super) async fn wait<T>(reply: Reply<T>) -> Result<T, GroupError> {
    match reply {
        Reply::Now(v) => Ok(v),
        // A dropped sender means the group went away under the member (the
        // coordinator shut down or moved): the client should find the
        // coordinator again.
        Reply::Wait(rx) => rx.await.unwrap_or(Err(GroupError::CoordinatorNotAvailable)),
    }
}
