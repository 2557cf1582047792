//! The leader's side of a partition: becoming leader, followers' fetches
//! (their progress moves the high watermark), acks=all waits, and the ISR
//! changes to propose when followers fall behind or catch up.
use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::state::{LeaderState, Progress, Role};
use crate::broker::error::BrokerError;
use crate::broker::partition::{Partition, SINGLE_NODE_EPOCH};
use crate::cluster::metadata::PartitionAssignment;
use crate::log::LogError;
use crate::proto::messages::replication::NO_EPOCH;

/// What a follower's fetch learns besides records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderView {
    pub high_watermark: i64,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    /// Set when the follower's log diverges from the leader's:
    /// (epoch, end offset of that epoch on the leader).
    pub diverging: Option<(i32, i64)>,
    /// See `PartitionLog::tombstone_horizon`; the follower's cleaner uses
    /// the leader's.
    pub tombstone_horizon: i64,
}

/// An ISR change the leader wants the controller to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsrChange {
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    pub new_isr: Vec<i32>,
}

impl Partition {
    pub(crate) fn not_leader(&self, role: &Role) -> BrokerError {
        let who = match role {
            Role::Follower { leader, .. } => format!("broker {leader} leads it"),
            _ => "it has no leader right now".to_string(),
        };
        BrokerError::NotLeader(format!(
            "this broker does not lead {}-{} ({who}); refresh metadata and retry",
            self.topic, self.index
        ))
    }

    /// Produce/consume requests are served by the leader only.
    pub fn ensure_leader(&self) -> Result<(), BrokerError> {
        let role = self.replica.role();
        if role.is_leader() {
            Ok(())
        } else {
            Err(self.not_leader(&role))
        }
    }

    /// Whether acks=all must wait for followers (false on a single node,
    /// where the high watermark is the log end).
    pub fn is_replicated(&self) -> bool {
        !matches!(&*self.replica.role(), Role::Standalone)
    }

    /// The partition's current role (for describe and tests).
    pub fn role(&self) -> Role {
        self.replica.role().clone()
    }

    /// acks=all is refused up front when the ISR is smaller than
    /// `min.insync.replicas`: the write could not become committed.
    pub fn check_min_isr(&self, min_insync: i32) -> Result<(), BrokerError> {
        let role = self.replica.role();
        let isr = match &*role {
            // A single node is its partitions' only in-sync replica.
            Role::Standalone => 1,
            Role::Leader(l) => l.isr_len(),
            other => return Err(self.not_leader(other)),
        };
        if (isr as i64) < i64::from(min_insync) {
            return Err(BrokerError::NotEnoughReplicas(format!(
                "{}-{} has {isr} in-sync replica(s), fewer than min.insync.replicas={min_insync}; \
                 acks=all writes are refused until replicas catch up",
                self.topic, self.index
            )));
        }
        Ok(())
    }

    /// Takes leadership at the assignment's epoch, or applies a new ISR
    /// at the same epoch. Returns true when leadership is new.
    pub fn become_leader(&self, node_id: i32, a: &PartitionAssignment) -> bool {
        let now = Instant::now();
        let mut role = self.replica.role();
        if let Role::Leader(l) = &mut *role {
            if l.epoch == a.leader_epoch {
                if l.partition_epoch != a.partition_epoch || l.isr != a.isr {
                    self.counters.isr_changed(&l.isr, &a.isr);
                    l.partition_epoch = a.partition_epoch;
                    l.isr = a.isr.clone();
                    l.pending_isr = None;
                    l.replicas = a.replicas.clone();
                    for r in &a.replicas {
                        if *r != node_id {
                            l.followers.entry(*r).or_insert_with(|| Progress::new(now));
                        }
                    }
                    l.followers.retain(|r, _| a.replicas.contains(r));
                    let horizon = l.tombstone_horizon();
                    self.log().set_tombstone_horizon(horizon);
                    drop(role);
                    self.advance_hw();
                }
                return false;
            }
        }
        // Leaves a previous term of this broker took are stale: the
        // coordinator tells the new leader again.
        self.forget_txn_writes();
        let mut log = self.log();
        let leo = log.log_end_offset();
        let followers: HashMap<i32, Progress> = a
            .replicas
            .iter()
            .filter(|r| **r != node_id)
            .map(|r| (*r, Progress::new(now)))
            .collect();
        let state = LeaderState {
            node_id,
            epoch: a.leader_epoch,
            partition_epoch: a.partition_epoch,
            replicas: a.replicas.clone(),
            isr: a.isr.clone(),
            pending_isr: None,
            followers,
            epoch_start_offset: leo,
        };
        let hw = state.high_watermark(leo);
        if hw > log.high_watermark() {
            log.set_high_watermark(hw);
        }
        log.set_tombstone_horizon(state.tombstone_horizon());
        // Retries from idempotent producers may cross the failover: the
        // table is rebuilt from the log tail before the first append.
        let mut producers = self.replica.producers();
        producers.clear();
        super::tail::rebuild_producers(&log, &mut producers);
        drop(producers);
        drop(log);
        *role = Role::Leader(state);
        drop(role);
        self.counters
            .leader_elections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.replica.notify();
        tracing::info!(topic = %self.topic, partition = self.index, epoch = a.leader_epoch, isr = ?a.isr, "became leader");
        true
    }

    /// Gives up any role: followers of nothing, leaders no more.
    pub fn become_offline(&self, epoch: i32) {
        let mut role = self.replica.role();
        if matches!(&*role, Role::Offline { epoch: e } if *e == epoch) {
            return;
        }
        *role = Role::Offline { epoch };
        drop(role);
        self.replica.notify();
    }

    /// A follower fetch: checks the epoch, spots divergence, records the
    /// follower's progress and moves the high watermark.
    pub fn on_replica_fetch(
        &self,
        replica: i32,
        current_leader_epoch: i32,
        fetch_offset: i64,
        last_fetched_epoch: i32,
    ) -> Result<LeaderView, BrokerError> {
        let now = Instant::now();
        let mut role = self.replica.role();
        let l = match &mut *role {
            Role::Leader(l) => l,
            other => return Err(self.not_leader(other)),
        };
        if current_leader_epoch < l.epoch {
            return Err(BrokerError::FencedLeaderEpoch(format!(
                "{}-{}: fetch at leader epoch {current_leader_epoch}, current is {}",
                self.topic, self.index, l.epoch
            )));
        }
        if current_leader_epoch > l.epoch {
            return Err(BrokerError::UnknownLeaderEpoch(format!(
                "{}-{}: fetch at leader epoch {current_leader_epoch}, this leader is at {}",
                self.topic, self.index, l.epoch
            )));
        }
        if !l.replicas.contains(&replica) {
            return Err(BrokerError::NotLeader(format!(
                "broker {replica} is not a replica of {}-{}",
                self.topic, self.index
            )));
        }
        let mut log = self.log();
        let leo = log.log_end_offset();
        let mut view = LeaderView {
            high_watermark: log.high_watermark(),
            log_start_offset: log.log_start_offset(),
            log_end_offset: leo,
            diverging: None,
            tombstone_horizon: log.tombstone_horizon(),
        };
        if fetch_offset > leo {
            view.diverging = Some((log.latest_epoch().unwrap_or(0), leo));
            return Ok(view);
        }
        if fetch_offset < view.log_start_offset {
            // Retention or DeleteRecords removed what this follower needs
            // next. The answer carries our log start: the follower restarts
            // its log there (Kafka's truncateFullyAndStartAt). Its progress
            // is not recorded: it has nothing we still have.
            return Err(BrokerError::Log(LogError::OffsetOutOfRange {
                requested: fetch_offset,
                start: view.log_start_offset,
                end: leo,
            }));
        }
        if last_fetched_epoch != NO_EPOCH && fetch_offset > view.log_start_offset {
            match log.end_offset_for_epoch(last_fetched_epoch) {
                Some((e, end)) if e == last_fetched_epoch && end >= fetch_offset => {}
                Some((e, end)) => {
                    view.diverging = Some((e, end));
                    return Ok(view);
                }
                None => {
                    view.diverging = Some((0, view.log_start_offset));
                    return Ok(view);
                }
            }
        }
        l.followers
            .entry(replica)
            .or_insert_with(|| Progress::new(now))
            .on_fetch(fetch_offset, leo, now);
        let horizon = l.tombstone_horizon();
        log.set_tombstone_horizon(horizon);
        view.tombstone_horizon = horizon;
        let hw = l.high_watermark(leo);
        let advanced = hw > log.high_watermark();
        if advanced {
            log.set_high_watermark(hw);
            view.high_watermark = log.high_watermark();
        }
        drop(log);
        drop(role);
        if advanced {
            self.replica.notify();
            self.notify_appended();
        }
        Ok(view)
    }

    /// OffsetForLeaderEpoch on the leader: the largest epoch at or below
    /// `epoch` and where it ends here.
    pub fn epoch_end(
        &self,
        current_leader_epoch: i32,
        epoch: i32,
    ) -> Result<(i32, i64), BrokerError> {
        self.check_leader_epoch(current_leader_epoch)?;
        Ok(self
            .log()
            .end_offset_for_epoch(epoch)
            .unwrap_or((NO_EPOCH, -1)))
    }

    /// KIP-320's fencing of a request made at `current_leader_epoch`: it
    /// must be this leader's epoch, so that a client (or follower) that
    /// missed a leader change learns of it (FENCED_LEADER_EPOCH: refresh
    /// metadata) instead of reading a log it has not validated; one ahead
    /// of this broker gets UNKNOWN_LEADER_EPOCH (this broker is behind).
    /// A request without an epoch (-1) is not checked, as in Kafka.
    pub fn check_leader_epoch(&self, current_leader_epoch: i32) -> Result<(), BrokerError> {
        let role = self.replica.role();
        match &*role {
            r if r.is_leader() && current_leader_epoch == NO_EPOCH => Ok(()),
            Role::Standalone if current_leader_epoch == SINGLE_NODE_EPOCH => Ok(()),
            Role::Standalone => Err(BrokerError::UnknownLeaderEpoch(format!(
                "{}-{}: asked at leader epoch {current_leader_epoch}, this single node is at {SINGLE_NODE_EPOCH}",
                self.topic, self.index
            ))),
            Role::Leader(l) if l.epoch == current_leader_epoch => Ok(()),
            Role::Leader(l) if current_leader_epoch < l.epoch => {
                Err(BrokerError::FencedLeaderEpoch(format!(
                    "{}-{}: asked at leader epoch {current_leader_epoch}, current is {}",
                    self.topic, self.index, l.epoch
                )))
            }
            Role::Leader(l) => Err(BrokerError::UnknownLeaderEpoch(format!(
                "{}-{}: asked at leader epoch {current_leader_epoch}, this leader is at {}",
                self.topic, self.index, l.epoch
            ))),
            other => Err(self.not_leader(other)),
        }
    }

    /// Recomputes the high watermark after an ISR change.
    fn advance_hw(&self) {
        let role = self.replica.role();
        let mut log = self.log();
        let Some(hw) = role.high_watermark(log.log_end_offset()) else {
            return;
        };
        if hw > log.high_watermark() {
            log.set_high_watermark(hw);
            drop(log);
            drop(role);
            self.replica.notify();
            self.notify_appended();
        }
    }

    /// Waits until every in-sync replica has everything below `offset`
    /// (the high watermark reached it), while this broker still leads at
    /// the epoch it appended in.
    /// If the ISR shrank below `min_insync` meanwhile, the write is on too
    /// few replicas to be promised: NOT_ENOUGH_REPLICAS_AFTER_APPEND (an
    /// idempotent retry is answered once the ISR has grown back).
    pub async fn wait_replicated(
        &self,
        offset: i64,
        timeout: Duration,
        min_insync: i32,
    ) -> Result<(), BrokerError> {
        let deadline = Instant::now() + timeout;
        let mut changed = self.replica.subscribe();
        let epoch = self.replica.role().epoch();
        loop {
            changed.borrow_and_update();
            {
                let role = self.replica.role();
                if !role.is_leader() || role.epoch() != epoch {
                    return Err(self.not_leader(&role));
                }
                if self.log().high_watermark() >= offset {
                    let isr = match &*role {
                        Role::Leader(l) => l.isr_len(),
                        _ => 1,
                    };
                    if !matches!(&*role, Role::Standalone) && (isr as i64) < i64::from(min_insync) {
                        return Err(BrokerError::NotEnoughReplicasAfterAppend(format!(
                            "{}-{}: written, but the ISR shrank to {isr}, below min.insync.replicas={min_insync}",
                            self.topic, self.index
                        )));
                    }
                    return Ok(());
                }
            }
            tokio::select! {
                r = changed.changed() => if r.is_err() {
                    return Err(BrokerError::ShuttingDown);
                },
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(BrokerError::TimedOut(format!(
                        "{}-{}: in-sync replicas did not confirm the write within {} ms",
                        self.topic, self.index, timeout.as_millis()
                    )));
                }
            }
        }
    }

    /// The ISR change this leader should propose now, if any: drop
    /// followers not caught up within `lag_max`, add those that reached
    /// the high watermark (and this epoch's start).
    pub fn isr_change(&self, lag_max: Duration) -> Option<IsrChange> {
        let now = Instant::now();
        let role = self.replica.role();
        let Role::Leader(l) = &*role else {
            return None;
        };
        if l.pending_isr.is_some() {
            return None;
        }
        let hw = self.log().high_watermark();
        let mut new_isr: Vec<i32> = l
            .isr
            .iter()
            .copied()
            .filter(|r| {
                *r == l.node_id
                    || l.followers
                        .get(r)
                        .is_some_and(|p| now.duration_since(p.last_caught_up) <= lag_max)
            })
            .collect();
        for r in &l.replicas {
            if new_isr.contains(r) || *r == l.node_id {
                continue;
            }
            if let Some(p) = l.followers.get(r) {
                let fresh = now.duration_since(p.last_caught_up) <= lag_max;
                if fresh && p.leo >= hw && p.leo >= l.epoch_start_offset {
                    new_isr.push(*r);
                }
            }
        }
        if !new_isr.contains(&l.node_id) {
            new_isr.insert(0, l.node_id);
        }
        let mut a = new_isr.clone();
        let mut b = l.isr.clone();
        a.sort_unstable();
        b.sort_unstable();
        (a != b).then_some(IsrChange {
            leader_epoch: l.epoch,
            partition_epoch: l.partition_epoch,
            new_isr,
        })
    }

    /// Marks an ISR change as sent; cleared when the controller's answer
    /// arrives in the metadata (or the proposal fails).
    pub fn set_pending_isr(&self, pending: Option<Vec<i32>>) {
        if let Role::Leader(l) = &mut *self.replica.role() {
            l.pending_isr = pending;
        }
    }
}
