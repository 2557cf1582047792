//! The classic rebalance protocol on one group: JoinGroup, SyncGroup,
//! Heartbeat, LeaveGroup, and what happens when their timers fire. The
//! transitions follow Kafka's GroupCoordinator:
//!
//! ```text
//! Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance
//!   ▲                    ▲   │ (no member rejoined)                │ leader's sync stored
//!   └────────────────────┼───┘                                     ▼
//!                        └──── member joins/leaves/expires ─── Stable
//! ```
use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::env::Env;
use super::group::{Group, JoinPhase};
use super::member::{Member, PendingMember};
use super::{GroupError, GroupState, JoinGroup, JoinResult};

/// What the caller waits for, if the answer is not ready yet.
pub(super) enum Reply<T> {
    Now(T),
    Wait(oneshot::Receiver<Result<T, GroupError>>),
}

impl Group {
    pub fn join(&mut self, env: &Env, req: JoinGroup) -> Result<Reply<JoinResult>, GroupError> {
        if self.state == GroupState::Dead {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        if !self.supports_protocols(&req.protocol_type, &req.protocols) {
            return Err(GroupError::InconsistentGroupProtocol);
        }
        let reply = if req.member_id.is_empty() {
            self.join_new_member(env, req)?
        } else {
            self.join_known_member(env, req)?
        };
        // A join may have been the last one the rebalance waited for.
        self.maybe_complete_join(env);
        Ok(reply)
    }

    fn join_new_member(
        &mut self,
        env: &Env,
        req: JoinGroup,
    ) -> Result<Reply<JoinResult>, GroupError> {
        if let Some(instance) = req.group_instance_id.clone() {
            if let Some(old_id) = self.static_members.get(&instance).cloned() {
                return Ok(self.replace_static_member(env, &old_id, req));
            }
            self.check_size(env)?;
            let id = env.new_member_id(&instance);
            return Ok(self.add_member_and_rebalance(env, id, req));
        }
        self.check_size(env)?;
        let id = env.new_member_id(&req.client_id);
        if req.require_known_member_id {
            // KIP-394: hand out the id first, so a client that retries after
            // a lost response does not leave a ghost member behind.
            let nonce = env.next_nonce();
            let deadline = Instant::now() + session_timeout(&req);
            let watcher = env.spawn_session_timer(&self.id, self.incarnation, &id, nonce, deadline);
            self.pending.insert(
                id.clone(),
                PendingMember {
                    nonce,
                    _watcher: watcher,
                },
            );
            return Err(GroupError::MemberIdRequired(id));
        }
        Ok(self.add_member_and_rebalance(env, id, req))
    }

    fn check_size(&self, env: &Env) -> Result<(), GroupError> {
        let max = env.config.max_group_size;
        if self.members.len() + self.pending.len() >= max {
            return Err(GroupError::GroupMaxSizeReached(max));
        }
        Ok(())
    }

    fn join_known_member(
        &mut self,
        env: &Env,
        req: JoinGroup,
    ) -> Result<Reply<JoinResult>, GroupError> {
        let id = req.member_id.clone();
        if self.pending.remove(&id).is_some() {
            return Ok(self.add_member_and_rebalance(env, id, req));
        }
        if self.is_fenced(&id, req.group_instance_id.as_deref()) {
            return Err(GroupError::FencedInstanceId);
        }
        let Some(member) = self.members.get_mut(&id) else {
            return Err(GroupError::UnknownMemberId);
        };
        member.last_heartbeat = Instant::now();
        let unchanged = member.protocols == req.protocols;
        match self.state {
            GroupState::PreparingRebalance => Ok(self.update_member_and_rebalance(env, req)),
            GroupState::CompletingRebalance if unchanged => {
                // A retried JoinGroup (lost response): answer with the
                // generation that was already formed.
                Ok(Reply::Now(self.join_result_for(&id)))
            }
            GroupState::Stable if unchanged && !self.is_leader(&id) => {
                Ok(Reply::Now(self.join_result_for(&id)))
            }
            // The leader rejoining forces a rebalance: that is how it asks for
            // a new assignment when topic metadata changed.
            GroupState::CompletingRebalance | GroupState::Stable => {
                Ok(self.update_member_and_rebalance(env, req))
            }
            GroupState::Empty | GroupState::Dead => Err(GroupError::UnknownMemberId),
        }
    }

    fn add_member_and_rebalance(
        &mut self,
        env: &Env,
        id: String,
        req: JoinGroup,
    ) -> Reply<JoinResult> {
        let (tx, rx) = oneshot::channel();
        let member = Member {
            id,
            instance_id: req.group_instance_id,
            client_id: req.client_id,
            client_host: req.client_host,
            session_timeout: Duration::from_millis(req.session_timeout_ms.max(0) as u64),
            rebalance_timeout: rebalance_timeout(req.session_timeout_ms, req.rebalance_timeout_ms),
            protocol_type: req.protocol_type,
            protocols: req.protocols,
            assignment: Bytes::new(),
            join_tx: Some(tx),
            sync_tx: None,
            last_heartbeat: Instant::now(),
            join_seq: env.next_nonce(),
            nonce: env.next_nonce(),
            watcher: None,
        };
        if self.state == GroupState::PreparingRebalance && self.generation == 0 {
            self.new_member_added = true;
        }
        self.add_member(env, member);
        self.maybe_prepare_rebalance(env);
        Reply::Wait(rx)
    }

    fn update_member_and_rebalance(&mut self, env: &Env, req: JoinGroup) -> Reply<JoinResult> {
        let (tx, rx) = oneshot::channel();
        if let Some(m) = self.members.get_mut(&req.member_id) {
            // A second JoinGroup replaces the first; its caller is told to retry.
            m.fail_join(GroupError::RebalanceInProgress);
            m.protocols = req.protocols;
            m.session_timeout = Duration::from_millis(req.session_timeout_ms.max(0) as u64);
            m.rebalance_timeout =
                rebalance_timeout(req.session_timeout_ms, req.rebalance_timeout_ms);
            m.join_tx = Some(tx);
        }
        self.maybe_prepare_rebalance(env);
        Reply::Wait(rx)
    }

    /// A static member came back (new process, same group.instance.id): it
    /// takes over the old member's place under a new id, and the old id is
    /// fenced. In a Stable group this needs no rebalance unless the chosen
    /// protocol would change (KIP-345).
    fn replace_static_member(
        &mut self,
        env: &Env,
        old_id: &str,
        req: JoinGroup,
    ) -> Reply<JoinResult> {
        let Some(mut member) = self.members.remove(old_id) else {
            return self.add_member_and_rebalance(env, env.new_member_id(&req.client_id), req);
        };
        let instance = req.group_instance_id.clone().unwrap_or_default();
        let new_id = env.new_member_id(&instance);
        member.fail_join(GroupError::FencedInstanceId);
        member.fail_sync(GroupError::FencedInstanceId);
        member.id = new_id.clone();
        member.client_id = req.client_id;
        member.client_host = req.client_host;
        member.protocols = req.protocols;
        member.session_timeout = Duration::from_millis(req.session_timeout_ms.max(0) as u64);
        member.rebalance_timeout =
            rebalance_timeout(req.session_timeout_ms, req.rebalance_timeout_ms);
        member.last_heartbeat = Instant::now();
        member.nonce = env.next_nonce();
        member.watcher = Some(self.session_timer_for(env, &member));
        self.fenced.retain(|_, i| *i != instance);
        self.fenced.insert(old_id.to_string(), instance.clone());
        self.static_members.insert(instance, new_id.clone());
        if self.is_leader(old_id) {
            self.leader = Some(new_id.clone());
        }
        if self.pending_sync.remove(old_id) {
            self.pending_sync.insert(new_id.clone());
        }
        self.members.insert(new_id.clone(), member);

        if self.state == GroupState::Stable && self.select_protocol() == self.protocol {
            self.persist_metadata(env);
            return Reply::Now(self.join_result_for(&new_id));
        }
        let (tx, rx) = oneshot::channel();
        if let Some(m) = self.members.get_mut(&new_id) {
            m.join_tx = Some(tx);
        }
        if self.state == GroupState::CompletingRebalance {
            // The leader may already be assigning to the old id; start over.
            self.prepare_rebalance(env);
        } else {
            self.maybe_prepare_rebalance(env);
        }
        Reply::Wait(rx)
    }

    pub fn maybe_prepare_rebalance(&mut self, env: &Env) {
        if matches!(
            self.state,
            GroupState::Stable | GroupState::CompletingRebalance | GroupState::Empty
        ) {
            self.prepare_rebalance(env);
        }
    }

    /// Starts a join phase. A new (Empty) group first waits the initial
    /// rebalance delay so several members land in its first generation.
    pub fn prepare_rebalance(&mut self, env: &Env) {
        if self.state == GroupState::CompletingRebalance {
            // The generation being formed is abandoned: nobody gets its assignment.
            for m in self.members.values_mut() {
                m.assignment = Bytes::new();
                m.fail_sync(GroupError::RebalanceInProgress);
            }
        }
        self.sync_timer = None;
        self.pending_sync.clear();
        let timeout = self.rebalance_timeout();
        let (after, initial_remaining) = if self.state == GroupState::Empty {
            let delay = env.config.initial_rebalance_delay;
            (delay, Some(timeout.saturating_sub(delay)))
        } else {
            (timeout, None)
        };
        self.start_join_phase(env, after, initial_remaining);
        self.transition(env, GroupState::PreparingRebalance);
        // Like Kafka's tryCompleteElseWatch: if nobody needs to rejoin (the
        // only member triggered it, or no member is left) finish right away.
        self.maybe_complete_join(env);
    }

    fn start_join_phase(
        &mut self,
        env: &Env,
        after: Duration,
        initial_remaining: Option<Duration>,
    ) {
        let nonce = env.next_nonce();
        let timer = env.spawn_join_timer(&self.id, self.incarnation, nonce, after);
        self.join = Some(JoinPhase {
            nonce,
            initial_remaining,
            _timer: timer,
        });
    }

    fn all_members_joined(&self) -> bool {
        self.pending.is_empty() && self.members.values().all(|m| m.join_tx.is_some())
    }

    /// Completes the join phase early once everyone has rejoined (never
    /// during the initial delay, which always runs to its end).
    pub fn maybe_complete_join(&mut self, env: &Env) {
        let in_initial_delay = self
            .join
            .as_ref()
            .is_some_and(|j| j.initial_remaining.is_some());
        if self.state == GroupState::PreparingRebalance
            && !in_initial_delay
            && self.all_members_joined()
        {
            self.complete_join(env);
        }
    }

    pub fn on_join_timer(&mut self, env: &Env, nonce: u64) {
        let Some(phase) = &self.join else { return };
        if phase.nonce != nonce || self.state != GroupState::PreparingRebalance {
            return;
        }
        if let Some(remaining) = phase.initial_remaining {
            if self.new_member_added && !remaining.is_zero() {
                // Someone joined during the delay: wait once more, within the
                // rebalance timeout.
                self.new_member_added = false;
                let delay = env.config.initial_rebalance_delay.min(remaining);
                self.start_join_phase(env, delay, Some(remaining - delay));
                return;
            }
        }
        self.complete_join(env);
    }

    /// Ends the join phase: members that did not rejoin are removed, the
    /// generation is bumped, and every waiting member gets its answer.
    fn complete_join(&mut self, env: &Env) {
        self.join = None;
        self.new_member_added = false;
        let missing: Vec<String> = self
            .members
            .values()
            .filter(|m| m.join_tx.is_none())
            .map(|m| m.id.clone())
            .collect();
        for id in missing {
            if let Some(mut m) = self.remove_member(&id) {
                m.fail_sync(GroupError::UnknownMemberId);
            }
        }
        self.generation = self.generation.wrapping_add(1);
        if self.members.is_empty() {
            self.protocol = None;
            self.leader = None;
            self.transition(env, GroupState::Empty);
            self.persist_metadata(env);
            return;
        }
        let Some(protocol) = self.select_protocol() else {
            // Cannot happen: every join checked for a common protocol. Fail
            // safe by emptying the group rather than forming a broken one.
            let ids: Vec<String> = self.members.keys().cloned().collect();
            for id in ids {
                if let Some(mut m) = self.remove_member(&id) {
                    m.fail_join(GroupError::InconsistentGroupProtocol);
                }
            }
            self.protocol = None;
            self.transition(env, GroupState::Empty);
            return;
        };
        self.protocol = Some(protocol);
        self.transition(env, GroupState::CompletingRebalance);
        let now = Instant::now();
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in &ids {
            let result = self.join_result_for(id);
            if let Some(m) = self.members.get_mut(id) {
                if let Some(tx) = m.join_tx.take() {
                    let _ = tx.send(Ok(result));
                }
                m.last_heartbeat = now;
            }
        }
        self.pending_sync = ids.into_iter().collect();
        let timeout = self.rebalance_timeout();
        self.sync_timer =
            Some(env.spawn_sync_timer(&self.id, self.incarnation, self.generation, timeout));
    }

    pub fn on_sync_timer(&mut self, env: &Env, generation: i32) {
        if self.generation != generation
            || !matches!(
                self.state,
                GroupState::CompletingRebalance | GroupState::Stable
            )
            || self.pending_sync.is_empty()
        {
            return;
        }
        let late: Vec<String> = self.pending_sync.drain().collect();
        for id in late {
            if let Some(mut m) = self.remove_member(&id) {
                m.fail_join(GroupError::UnknownMemberId);
                m.fail_sync(GroupError::UnknownMemberId);
            }
        }
        self.prepare_rebalance(env);
    }

    /// Called by a member's session timer. Returns the next deadline, or
    /// `None` when the timer should stop.
    pub fn on_session_check(&mut self, env: &Env, member_id: &str, nonce: u64) -> Option<Instant> {
        let now = Instant::now();
        if let Some(m) = self.members.get(member_id) {
            if m.nonce != nonce {
                return None;
            }
            if m.is_waiting() {
                return Some(now + m.session_timeout);
            }
            let deadline = m.last_heartbeat + m.session_timeout;
            if deadline > now {
                return Some(deadline);
            }
            tracing::info!(group = %self.id, member = member_id, "member session expired");
            self.remove_member_and_update(env, member_id);
            return None;
        }
        if self
            .pending
            .get(member_id)
            .is_some_and(|p| p.nonce == nonce)
        {
            self.pending.remove(member_id);
            self.maybe_complete_join(env);
        }
        None
    }

    /// Removes a member (leave or expiry) and moves the group on: a stable
    /// group rebalances, a rebalancing one may now be complete.
    pub fn remove_member_and_update(&mut self, env: &Env, member_id: &str) {
        if let Some(mut m) = self.remove_member(member_id) {
            m.fail_join(GroupError::UnknownMemberId);
            m.fail_sync(GroupError::UnknownMemberId);
        }
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.maybe_prepare_rebalance(env)
            }
            GroupState::PreparingRebalance => self.maybe_complete_join(env),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    pub fn sync(
        &mut self,
        env: &Env,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        assignments: Vec<(String, Bytes)>,
    ) -> Result<Reply<Bytes>, GroupError> {
        if self.state == GroupState::Dead {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        if self.is_fenced(member_id, instance_id) {
            return Err(GroupError::FencedInstanceId);
        }
        if !self.members.contains_key(member_id) {
            return Err(GroupError::UnknownMemberId);
        }
        if generation != self.generation {
            return Err(GroupError::IllegalGeneration { given: generation });
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => Err(GroupError::UnknownMemberId),
            GroupState::PreparingRebalance => Err(GroupError::RebalanceInProgress),
            GroupState::Stable => {
                self.mark_synced(member_id);
                let m = self
                    .members
                    .get_mut(member_id)
                    .ok_or(GroupError::UnknownMemberId)?;
                m.last_heartbeat = Instant::now();
                Ok(Reply::Now(m.assignment.clone()))
            }
            GroupState::CompletingRebalance => {
                let (tx, rx) = oneshot::channel();
                if let Some(m) = self.members.get_mut(member_id) {
                    m.fail_sync(GroupError::RebalanceInProgress);
                    m.sync_tx = Some(tx);
                    m.last_heartbeat = Instant::now();
                }
                self.mark_synced(member_id);
                if self.is_leader(member_id) {
                    self.store_assignments(env, assignments);
                }
                Ok(Reply::Wait(rx))
            }
        }
    }

    fn mark_synced(&mut self, member_id: &str) {
        self.pending_sync.remove(member_id);
        if self.pending_sync.is_empty() {
            self.sync_timer = None;
        }
    }

    /// Persists the leader's assignment with the group metadata; once
    /// stored, every member gets its part and the group is Stable.
    fn store_assignments(&mut self, env: &Env, assignments: Vec<(String, Bytes)>) {
        let assignments: HashMap<String, Bytes> = assignments
            .into_iter()
            .filter(|(id, _)| self.members.contains_key(id))
            .collect();
        let value = self.metadata_value(Some(&assignments));
        let record = self.metadata_record(&value);
        let (group_id, incarnation, generation) =
            (self.id.clone(), self.incarnation, self.generation);
        env.write(
            self.partition,
            vec![record],
            Box::new(move |env, groups, result| {
                let Some(g) = groups.get_mut(&group_id) else {
                    return;
                };
                if g.incarnation != incarnation
                    || g.generation != generation
                    || g.state != GroupState::CompletingRebalance
                {
                    return; // A newer rebalance already superseded this one.
                }
                match result {
                    Ok(()) => g.apply_assignments(env, assignments),
                    Err(e) => {
                        let err = GroupError::from(e);
                        for m in g.members.values_mut() {
                            m.assignment = Bytes::new();
                            m.fail_sync(err.clone());
                        }
                        g.prepare_rebalance(env);
                    }
                }
            }),
        );
    }

    fn apply_assignments(&mut self, env: &Env, mut assignments: HashMap<String, Bytes>) {
        let now = Instant::now();
        for m in self.members.values_mut() {
            // Members the leader left out get an empty assignment, as in Kafka.
            m.assignment = assignments.remove(&m.id).unwrap_or_default();
            if let Some(tx) = m.sync_tx.take() {
                let _ = tx.send(Ok(m.assignment.clone()));
                m.last_heartbeat = now;
            }
        }
        self.transition(env, GroupState::Stable);
    }

    pub fn heartbeat(&mut self, generation: i32, member_id: &str) -> Result<(), GroupError> {
        if self.state == GroupState::Dead {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        if self.is_fenced(member_id, None) {
            return Err(GroupError::FencedInstanceId);
        }
        let current = self.generation;
        let state = self.state;
        let Some(m) = self.members.get_mut(member_id) else {
            return Err(GroupError::UnknownMemberId);
        };
        if generation != current {
            return Err(GroupError::IllegalGeneration { given: generation });
        }
        match state {
            GroupState::Empty | GroupState::Dead => Err(GroupError::UnknownMemberId),
            GroupState::CompletingRebalance | GroupState::Stable => {
                m.last_heartbeat = Instant::now();
                Ok(())
            }
            GroupState::PreparingRebalance => {
                m.last_heartbeat = Instant::now();
                Err(GroupError::RebalanceInProgress)
            }
        }
    }

    pub fn leave(&mut self, env: &Env, member_id: &str) -> Result<(), GroupError> {
        if self.pending.remove(member_id).is_some() {
            self.maybe_complete_join(env);
            return Ok(());
        }
        if self.fenced.contains_key(member_id) {
            return Err(GroupError::FencedInstanceId);
        }
        if !self.members.contains_key(member_id) {
            return Err(GroupError::UnknownMemberId);
        }
        self.remove_member_and_update(env, member_id);
        Ok(())
    }
}

fn session_timeout(req: &JoinGroup) -> Duration {
    Duration::from_millis(req.session_timeout_ms.max(0) as u64)
}

/// JoinGroup v0 has no rebalance timeout; it is the session timeout then.
fn rebalance_timeout(session_ms: i32, rebalance_ms: i32) -> Duration {
    let ms = if rebalance_ms > 0 {
        rebalance_ms
    } else {
        session_ms
    };
    Duration::from_millis(ms.max(0) as u64)
}
