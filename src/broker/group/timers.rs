//! Timer tasks of the coordinator: delayed-join completion, the sync
//! deadline and per-member session expiry. Each task holds only a weak
//! reference to the coordinator and re-checks a nonce under the lock when it
//! fires, so a stale timer does nothing; its handle aborts it when dropped,
//! so removing a member or group stops its timers (no leaked tasks).
//! Only `tokio::time` is used so a simulator can drive the clock.
use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::env::Env;

/// Aborts its task when dropped.
pub(super) struct TimerHandle(AbortHandle);

impl Drop for TimerHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Env {
    /// Fires the group's join phase identified by `nonce` after `after`.
    pub(super) fn spawn_join_timer(
        &self,
        group_id: &str,
        incarnation: u64,
        nonce: u64,
        after: Duration,
    ) -> TimerHandle {
        let me = self.me.clone();
        let group_id = group_id.to_string();
        let task = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let Some(coord) = me.upgrade() else { return };
            let mut groups = coord.lock_groups();
            if let Some(g) = groups.get_mut(&group_id) {
                if g.incarnation == incarnation {
                    g.on_join_timer(&coord.env, nonce);
                }
            }
        });
        TimerHandle(task.abort_handle())
    }

    /// Removes members that have not sent SyncGroup for `generation` once the
    /// rebalance timeout has passed.
    pub(super) fn spawn_sync_timer(
        &self,
        group_id: &str,
        incarnation: u64,
        generation: i32,
        after: Duration,
    ) -> TimerHandle {
        let me = self.me.clone();
        let group_id = group_id.to_string();
        let task = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let Some(coord) = me.upgrade() else { return };
            let mut groups = coord.lock_groups();
            if let Some(g) = groups.get_mut(&group_id) {
                if g.incarnation == incarnation {
                    g.on_sync_timer(&coord.env, generation);
                }
            }
        });
        TimerHandle(task.abort_handle())
    }

    /// Watches one member's (or pending member's) session: wakes at the
    /// deadline and asks the group for the next one, until the member is
    /// gone or expired.
    pub(super) fn spawn_session_timer(
        &self,
        group_id: &str,
        incarnation: u64,
        member_id: &str,
        nonce: u64,
        first_deadline: Instant,
    ) -> TimerHandle {
        let me = self.me.clone();
        let group_id = group_id.to_string();
        let member_id = member_id.to_string();
        let task = tokio::spawn(async move {
            let mut deadline = first_deadline;
            loop {
                tokio::time::sleep_until(deadline).await;
                // Scoped so neither the coordinator nor the lock is held while sleeping.
                let next = {
                    let Some(coord) = me.upgrade() else { return };
                    let mut groups = coord.lock_groups();
                    match groups.get_mut(&group_id) {
                        Some(g) if g.incarnation == incarnation => {
                            g.on_session_check(&coord.env, &member_id, nonce)
                        }
                        _ => None,
                    }
                };
                match next {
                    Some(d) => deadline = d,
                    None => return,
                }
            }
        });
        TimerHandle(task.abort_handle())
    }
}
