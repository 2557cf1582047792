//! One partition's replication role and, while it leads, its followers'
//! progress: the high watermark is the smallest log end offset over the
//! in-sync replicas (the leader's own included).
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::watch;
use tokio::time::Instant;

use super::producers::ProducerTable;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// No cluster: leads at epoch 0 and is the whole ISR.
    Standalone,
    Leader(LeaderState),
    Follower {
        leader: i32,
        epoch: i32,
    },
    /// A replica without a (reachable) leader, or not a replica here.
    Offline {
        epoch: i32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderState {
    pub node_id: i32,
    pub epoch: i32,
    pub partition_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    /// An ISR change sent to the controller and not yet applied. While it
    /// is in flight the high watermark counts the union of both sets, so
    /// it never moves past what a replica of either set lacks.
    pub pending_isr: Option<Vec<i32>>,
    pub followers: HashMap<i32, Progress>,
    /// First offset of this epoch: a follower joins the ISR only once it
    /// has everything up to here (it then shares this leader's history).
    pub epoch_start_offset: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The follower's log end offset, from its last fetch (-1: unknown).
    pub leo: i64,
    /// Last time the follower had everything the leader had (Kafka's
    /// lastCaughtUpTime): the ISR shrinks when this is too old.
    pub last_caught_up: Instant,
    last_fetch_leader_leo: i64,
    last_fetch_at: Instant,
}

impl Progress {
    pub fn new(now: Instant) -> Progress {
        Progress {
            leo: -1,
            last_caught_up: now,
            last_fetch_leader_leo: -1,
            last_fetch_at: now,
        }
    }

    /// Records a fetch at `fetch_offset` while the leader's end is
    /// `leader_leo`. A follower is caught up when it asks for the leader's
    /// end, or for at least what the leader had at its previous fetch.
    pub fn on_fetch(&mut self, fetch_offset: i64, leader_leo: i64, now: Instant) {
        self.leo = fetch_offset;
        if fetch_offset >= leader_leo {
            self.last_caught_up = now;
        } else if fetch_offset >= self.last_fetch_leader_leo {
            self.last_caught_up = self.last_caught_up.max(self.last_fetch_at);
        }
        self.last_fetch_leader_leo = leader_leo;
        self.last_fetch_at = now;
    }
}

impl LeaderState {
    /// Replicas the high watermark waits for.
    pub fn hw_set(&self) -> Vec<i32> {
        let mut set = self.isr.clone();
        if let Some(p) = &self.pending_isr {
            for r in p {
                if !set.contains(r) {
                    set.push(*r);
                }
            }
        }
        set
    }

    /// The smallest log end offset over the ISR, with `own_leo` for the
    /// leader itself. Unknown followers hold it at -1 (no progress).
    pub fn high_watermark(&self, own_leo: i64) -> i64 {
        self.hw_set()
            .iter()
            .filter(|r| **r != self.node_id)
            .map(|r| self.followers.get(r).map(|p| p.leo).unwrap_or(-1))
            .fold(own_leo, i64::min)
    }

    /// Where expired tombstones may be removed below: the smallest log end
    /// offset over every replica, in the ISR or not (a replica this leader
    /// has not heard from counts as having nothing, so a long-absent one
    /// still gets every tombstone when it returns). `i64::MAX` when this
    /// leader is the only replica.
    pub fn tombstone_horizon(&self) -> i64 {
        self.replicas
            .iter()
            .filter(|r| **r != self.node_id)
            .map(|r| self.followers.get(r).map(|p| p.leo).unwrap_or(-1))
            .fold(i64::MAX, i64::min)
    }

    /// Count of in-sync replicas as the controller knows them.
    pub fn isr_len(&self) -> usize {
        self.isr.len()
    }
}

impl Role {
    /// The epoch to stamp into appended batches, when this broker may
    /// append as leader.
    pub fn append_epoch(&self) -> Option<i32> {
        match self {
            Role::Standalone => Some(crate::broker::partition::SINGLE_NODE_EPOCH),
            Role::Leader(l) => Some(l.epoch),
            _ => None,
        }
    }

    /// High watermark after the leader's log grew to `own_leo`.
    pub fn high_watermark(&self, own_leo: i64) -> Option<i64> {
        match self {
            Role::Standalone => Some(own_leo),
            Role::Leader(l) => Some(l.high_watermark(own_leo)),
            _ => None,
        }
    }

    pub fn is_leader(&self) -> bool {
        matches!(self, Role::Standalone | Role::Leader(_))
    }

    pub fn epoch(&self) -> i32 {
        match self {
            Role::Standalone => crate::broker::partition::SINGLE_NODE_EPOCH,
            Role::Leader(l) => l.epoch,
            Role::Follower { epoch, .. } | Role::Offline { epoch } => *epoch,
        }
    }
}

/// Held by each partition.
pub struct ReplicaState {
    role: Mutex<Role>,
    /// Idempotent producers' recent sequences (leader only).
    producers: Mutex<ProducerTable>,
    /// Bumped whenever the high watermark advances or the role changes, so
    /// acks=all produces waiting for replication re-check.
    changed: watch::Sender<u64>,
}

impl Default for ReplicaState {
    fn default() -> Self {
        ReplicaState::with_role(Role::Standalone)
    }
}

/// Data dirs of brokers that run in a cluster: partitions opened under
/// them start offline, never standalone, so nothing is acknowledged before
/// the metadata says who leads (a standalone partition would count itself
/// as the whole ISR).
static CLUSTERED_DIRS: Mutex<Vec<std::path::PathBuf>> = Mutex::new(Vec::new());

pub fn mark_clustered(data_dir: &std::path::Path) {
    let mut dirs = CLUSTERED_DIRS.lock().unwrap_or_else(|p| p.into_inner());
    if !dirs.iter().any(|d| d == data_dir) {
        dirs.push(data_dir.to_path_buf());
    }
}

impl ReplicaState {
    fn with_role(role: Role) -> ReplicaState {
        ReplicaState {
            role: Mutex::new(role),
            producers: Mutex::new(ProducerTable::default()),
            changed: watch::channel(0).0,
        }
    }

    /// The initial state of a partition whose log lives in `dir`.
    pub fn for_dir(dir: &std::path::Path) -> ReplicaState {
        let dirs = CLUSTERED_DIRS.lock().unwrap_or_else(|p| p.into_inner());
        if dirs.iter().any(|d| dir.starts_with(d)) {
            ReplicaState::with_role(Role::Offline { epoch: -1 })
        } else {
            ReplicaState::default()
        }
    }

    pub fn role(&self) -> MutexGuard<'_, Role> {
        self.role.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn producers(&self) -> MutexGuard<'_, ProducerTable> {
        self.producers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A standalone partition opening its log (a restart, maybe after a
    /// crash) loads its idempotent producers from the log's tail, as a new
    /// leader does: the retries of batches written just before the broker
    /// went down must be recognised. In a cluster the partition starts
    /// offline and loads them when it comes to lead.
    pub fn load_producers(&self, log: &crate::log::PartitionLog) {
        if matches!(*self.role(), Role::Standalone) {
            *self.producers() = super::tail::load_producers(log);
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    pub fn notify(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leader(isr: Vec<i32>) -> LeaderState {
        LeaderState {
            node_id: 1,
            epoch: 3,
            partition_epoch: 0,
            replicas: vec![1, 2, 3],
            isr,
            pending_isr: None,
            followers: HashMap::new(),
            epoch_start_offset: 0,
        }
    }

    #[tokio::test]
    async fn tombstone_horizon_waits_for_every_replica_in_the_isr_or_not() {
        let now = Instant::now();
        let mut l = leader(vec![1, 2]);
        assert_eq!(
            l.tombstone_horizon(),
            -1,
            "unheard-of replicas have nothing"
        );
        for (r, leo) in [(2, 40), (3, 12)] {
            let mut p = Progress::new(now);
            p.on_fetch(leo, 40, now);
            l.followers.insert(r, p);
        }
        // 3 is out of the ISR (it was away): it still holds the horizon.
        assert_eq!(l.high_watermark(40), 40);
        assert_eq!(l.tombstone_horizon(), 12);
        l.replicas = vec![1];
        assert_eq!(
            l.tombstone_horizon(),
            i64::MAX,
            "a lone leader has no limit"
        );
    }

    #[tokio::test]
    async fn hw_is_min_over_isr() {
        let now = Instant::now();
        let mut l = leader(vec![1, 2, 3]);
        assert_eq!(l.high_watermark(10), -1, "unknown followers hold the hw");
        for (r, leo) in [(2, 7), (3, 9)] {
            let mut p = Progress::new(now);
            p.on_fetch(leo, 10, now);
            l.followers.insert(r, p);
        }
        assert_eq!(l.high_watermark(10), 7);
        l.isr = vec![1, 3];
        assert_eq!(l.high_watermark(10), 9);
        l.pending_isr = Some(vec![1, 2, 3]);
        assert_eq!(l.high_watermark(10), 7, "pending expansion counts");
    }

    #[tokio::test(start_paused = true)]
    async fn caught_up_time_follows_kafka_rule() {
        let t0 = Instant::now();
        let mut p = Progress::new(t0);
        p.on_fetch(5, 10, t0);
        assert_eq!(p.last_caught_up, t0);
        tokio::time::advance(std::time::Duration::from_secs(1)).await;
        let t1 = Instant::now();
        // Asked for everything the leader had at the previous fetch.
        p.on_fetch(10, 12, t1);
        assert_eq!(p.last_caught_up, t0);
        tokio::time::advance(std::time::Duration::from_secs(1)).await;
        let t2 = Instant::now();
        p.on_fetch(12, 12, t2);
        assert_eq!(p.last_caught_up, t2);
    }
}
